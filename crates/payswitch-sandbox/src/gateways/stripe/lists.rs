//! Stripe's list endpoints: `limit`, the `starting_after` / `ending_before` cursors and the
//! `{object: "list", data, has_more, url}` body every list answers with.

use serde_json::{json, Value};

use crate::gateways::stripe::error::Failure;
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::params::{integer, text};

/// Reads `limit` (1..=100, default 10) for list endpoints.
pub(crate) fn limit(params: &Params) -> Result<usize, Failure> {
    let limit = integer(params, "limit", "")?.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(Failure::invalid(
            None,
            Some("limit"),
            "This value must be between 1 and 100 (inclusive).".to_owned(),
        ));
    }
    Ok(usize::try_from(limit).unwrap_or(10))
}

/// Applies `starting_after` / `ending_before` and `limit` to ids in list order, returning
/// the page and whether more follow. `object` names the cursor's kind in the error for an
/// unknown cursor.
pub(crate) fn paginate(
    ids: &[String],
    params: &Params,
    object: &str,
) -> Result<(Vec<String>, bool), Failure> {
    let limit = limit(params)?;
    let find = |param: &str, cursor: &str| {
        ids.iter().position(|id| id == cursor).ok_or_else(|| {
            Failure::invalid(
                Some("resource_missing"),
                Some(param),
                format!("No such {object}: '{cursor}'"),
            )
        })
    };
    if let Some(cursor) = text(params, "starting_after", "")? {
        let start = find("starting_after", cursor)? + 1;
        let rest = ids.get(start..).unwrap_or(&[]);
        let page: Vec<String> = rest.iter().take(limit).cloned().collect();
        return Ok((page, rest.len() > limit));
    }
    if let Some(cursor) = text(params, "ending_before", "")? {
        let end = find("ending_before", cursor)?;
        let before = ids.get(..end).unwrap_or(&[]);
        let skip = before.len().saturating_sub(limit);
        let page: Vec<String> = before.iter().skip(skip).cloned().collect();
        return Ok((page, skip > 0));
    }
    let page: Vec<String> = ids.iter().take(limit).cloned().collect();
    Ok((page, ids.len() > limit))
}

/// Builds the body of a list answer.
pub(crate) fn list_body(data: Vec<Value>, has_more: bool, url: &str) -> Value {
    json!({ "object": "list", "data": data, "has_more": has_more, "url": url })
}

/// Reads `expand[]` entries of a list (`data.customer`) as the expansions of each item.
pub(crate) fn item_expansions(expand: &[String]) -> Vec<String> {
    expand
        .iter()
        .filter_map(|field| field.strip_prefix("data.").map(str::to_owned))
        .collect()
}
