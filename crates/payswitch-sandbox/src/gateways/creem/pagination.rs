//! Creem's page-numbered lists: the `page_number` and `page_size` query parameters and the
//! `{items, pagination}` answer with `PaginationEntity`
//! `{total_records, total_pages, current_page, next_page, prev_page}` [confirmed, OAS].

use serde_json::{json, Value};

use crate::gateways::creem::error::Failure;
use crate::gateways::creem::query::query_value;

/// Largest `page_size` the sandbox serves [inferred: Creem documents no maximum].
const MAX_PAGE_SIZE: usize = 100;

/// Which page of a list to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Page {
    /// 1-based.
    pub(crate) number: usize,
    pub(crate) size: usize,
}

/// Reads `page_number` (default 1) and `page_size` (default `default_size`: 10 for most
/// lists, 50 for customers, as the OAS declares).
///
/// # Errors
/// 400 with class-validator style messages for a value that is not a whole number from 1
/// (and at most [`MAX_PAGE_SIZE`] for the size) [inferred: the OAS types both as `number`
/// without bounds].
pub(crate) fn page_from(query: &str, default_size: usize) -> Result<Page, Failure> {
    let mut messages = Vec::new();
    let mut read = |field: &str, default: usize, max: usize| -> usize {
        let Some(text) = query_value(query, field) else {
            return default;
        };
        match text.parse::<usize>() {
            Ok(value) if (1..=max).contains(&value) => value,
            Ok(0) => {
                messages.push(format!("{field} must not be less than 1"));
                default
            }
            Ok(_) => {
                messages.push(format!("{field} must not be greater than {max}"));
                default
            }
            Err(_) => {
                messages.push(format!(
                    "{field} must be a number conforming to the specified constraints"
                ));
                default
            }
        }
    };
    let number = read("page_number", 1, usize::MAX / 2);
    let size = read("page_size", default_size, MAX_PAGE_SIZE);
    if messages.is_empty() {
        Ok(Page { number, size })
    } else {
        Err(Failure::bad_request(messages))
    }
}

/// Renders one page of `items` (already in list order) as `{items, pagination}`.
pub(crate) fn paginate(items: Vec<Value>, page: Page) -> Value {
    let total = items.len();
    let total_pages = total.div_ceil(page.size);
    let skip = page.size.saturating_mul(page.number - 1);
    let items: Vec<Value> = items.into_iter().skip(skip).take(page.size).collect();
    let next_page = (page.number < total_pages).then_some(page.number + 1);
    // [inferred] A page past the end still points back to the last page.
    let prev_page =
        (page.number > 1 && total_pages > 0).then(|| (page.number - 1).min(total_pages));
    json!({
        "items": items,
        "pagination": {
            "total_records": total,
            "total_pages": total_pages,
            "current_page": page.number,
            "next_page": next_page,
            "prev_page": prev_page,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(count: usize) -> Vec<Value> {
        (0..count).map(|number| json!(number)).collect()
    }

    #[test]
    fn pages_and_links() {
        let first = paginate(
            numbers(25),
            Page {
                number: 1,
                size: 10,
            },
        );
        assert_eq!(first["items"].as_array().map(Vec::len), Some(10));
        assert_eq!(
            first["pagination"],
            json!({"total_records": 25, "total_pages": 3, "current_page": 1, "next_page": 2, "prev_page": null})
        );
        let last = paginate(
            numbers(25),
            Page {
                number: 3,
                size: 10,
            },
        );
        assert_eq!(last["items"], json!([20, 21, 22, 23, 24]));
        assert_eq!(last["pagination"]["next_page"], Value::Null);
        assert_eq!(last["pagination"]["prev_page"], 2);
        let past = paginate(
            numbers(25),
            Page {
                number: 9,
                size: 10,
            },
        );
        assert_eq!(past["items"], json!([]));
        assert_eq!(past["pagination"]["prev_page"], 3);
        let empty = paginate(
            Vec::new(),
            Page {
                number: 1,
                size: 10,
            },
        );
        assert_eq!(
            empty["pagination"],
            json!({"total_records": 0, "total_pages": 0, "current_page": 1, "next_page": null, "prev_page": null})
        );
    }

    #[test]
    fn page_parameters() {
        assert_eq!(
            page_from("", 10).ok(),
            Some(Page {
                number: 1,
                size: 10
            })
        );
        assert_eq!(
            page_from("page_number=2&page_size=5", 50).ok(),
            Some(Page { number: 2, size: 5 })
        );
        for bad in [
            "page_number=0",
            "page_size=0",
            "page_size=101",
            "page_number=x",
            "page_size=-1",
        ] {
            let failure = page_from(bad, 10).expect_err(bad);
            assert_eq!(failure.status.as_u16(), 400, "{bad}");
        }
    }
}
