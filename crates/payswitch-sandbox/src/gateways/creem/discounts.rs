//! Creem discounts: `POST /v1/discounts` (`CreateDiscountRequestEntity`),
//! `GET /v1/discounts?discount_id=` or `?discount_code=`, rendering as `DiscountEntity`,
//! seeding, and resolving a checkout's `discount_code`.

use serde_json::{json, Map, Value};

use crate::error::SandboxError;
use crate::gateways::creem::error::Failure;
use crate::gateways::creem::objects::{iso, Discount, DiscountValue};
use crate::gateways::creem::validate::Checker;
use crate::seed::DiscountSeed;
use crate::state::{new_id, random_token, State};

/// `POST /v1/discounts`.
pub(crate) fn create(state: &mut State, body: &Map<String, Value>) -> Result<Value, Failure> {
    let discount = parse_discount(state, body)?;
    let rendered = render_discount(&discount);
    state.creem.discounts.insert(discount.id.clone(), discount);
    Ok(rendered)
}

/// `GET /v1/discounts?discount_id=` or `?discount_code=`.
pub(crate) fn retrieve(
    state: &State,
    id: Option<String>,
    code: Option<String>,
) -> Result<Value, Failure> {
    let found = match (id, code) {
        (Some(id), _) => state.creem.discounts.get(&id),
        (None, Some(code)) => find_by_code(state, &code),
        (None, None) => {
            return Err(Failure::bad_request(vec![
                "discount_id or discount_code must be given".to_owned(),
            ]))
        }
    };
    found
        .map(render_discount)
        .ok_or_else(|| Failure::not_found("Discount not found"))
}

/// Finds a discount by the code a customer enters, in any case.
fn find_by_code<'a>(state: &'a State, code: &str) -> Option<&'a Discount> {
    state
        .creem
        .discounts
        .values()
        .find(|discount| discount.code.eq_ignore_ascii_case(code))
}

/// Resolves a checkout's `discount_code` for `product_id`.
///
/// # Errors
/// 400 with Creem's error body for an unknown code or one that does not apply to the
/// product. Creem's OAS lists 400 and 404 for checkout creation without saying which a bad
/// code gets; the sandbox answers 400, a bad input parameter.
pub(crate) fn resolve_code(
    state: &State,
    code: &str,
    product_id: &str,
    currency: &str,
) -> Result<Discount, Failure> {
    let discount = find_by_code(state, code)
        .ok_or_else(|| Failure::bad_request(vec![format!("Discount code {code} not found")]))?;
    if !discount
        .applies_to_products
        .iter()
        .any(|product| product == product_id)
    {
        return Err(Failure::bad_request(vec![format!(
            "Discount code {code} does not apply to product {product_id}"
        )]));
    }
    if let DiscountValue::Fixed {
        currency: discount_currency,
        ..
    } = &discount.value
    {
        if !discount_currency.eq_ignore_ascii_case(currency) {
            return Err(Failure::bad_request(vec![format!(
                "Discount code {code} is in {discount_currency}, the product in {currency}"
            )]));
        }
    }
    Ok(discount.clone())
}

/// Validates a `CreateDiscountRequestEntity`, collecting every message as Creem does.
fn parse_discount(state: &State, body: &Map<String, Value>) -> Result<Discount, Failure> {
    let mut check = Checker::new(body);
    let name = check.string("name", true);
    let code = check.string("code", false);
    let kind = check.one_of("type", true, &["percentage", "fixed"]);
    let percentage = check.integer("percentage", false);
    let amount = check.integer("amount", false);
    let currency = check.one_of("currency", false, &["EUR", "USD"]);
    let duration = check.one_of("duration", true, &["forever", "once", "repeating"]);
    let months = check.integer("duration_in_months", false);
    let products = string_list(&mut check, body, "applies_to_products");
    let value = match kind {
        Some("percentage") => match percentage {
            Some(percent) if (1..=100).contains(&percent) => {
                Some(DiscountValue::Percentage(percent))
            }
            _ => {
                check
                    .messages
                    .push("percentage must be a number from 1 to 100".to_owned());
                None
            }
        },
        Some(_) => match (amount, currency) {
            (Some(amount), Some(currency)) if amount > 0 => Some(DiscountValue::Fixed {
                amount,
                currency: currency.to_owned(),
            }),
            _ => {
                check.messages.push(
                    "amount must be a positive number and currency is required for fixed \
                     discounts"
                        .to_owned(),
                );
                None
            }
        },
        None => None,
    };
    if duration == Some("repeating") && months.is_none_or(|months| months < 1) {
        check
            .messages
            .push("duration_in_months is required for repeating discounts".to_owned());
    }
    let code = code.map_or_else(|| random_token(8).to_ascii_uppercase(), str::to_owned);
    if find_by_code(state, &code).is_some() {
        check
            .messages
            .push(format!("A discount with code {code} already exists"));
    }
    check.finish()?;
    let (Some(name), Some(value), Some(duration), Some(products)) =
        (name, value, duration, products)
    else {
        return Err(Failure::bad_request(vec!["invalid discount".to_owned()]));
    };
    Ok(Discount {
        id: new_id("dis_"),
        name: name.to_owned(),
        code,
        value,
        duration: duration.to_owned(),
        duration_in_months: months.filter(|_| duration == "repeating"),
        applies_to_products: products,
        created: state.now(),
    })
}

/// Reads a required array of strings.
fn string_list(
    check: &mut Checker<'_>,
    body: &Map<String, Value>,
    field: &str,
) -> Option<Vec<String>> {
    let strings = match body.get(field) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<String>>>(),
        _ => None,
    };
    if strings.is_none() {
        check
            .messages
            .push(format!("{field} must be an array of strings"));
    }
    strings
}

/// Renders a discount as Creem's `DiscountEntity`. Fields that do not apply are left out, not
/// `null` (`currency` of a percentage, `percentage` of a fixed amount, `duration_in_months`
/// unless repeating, the unset `expiry_date` and `max_redemptions`): none is nullable in
/// Creem's OAS, and the official TypeScript SDK rejects `null` there.
pub(crate) fn render_discount(discount: &Discount) -> Value {
    let (kind, amount) = match &discount.value {
        DiscountValue::Percentage(percent) => ("percentage", *percent),
        DiscountValue::Fixed { amount, .. } => ("fixed", *amount),
    };
    let mut value = json!({
        "id": discount.id,
        "mode": "test",
        "object": "discount",
        "status": "active",
        "name": discount.name,
        "code": discount.code,
        "type": kind,
        "amount": amount,
        "duration": discount.duration,
        "applies_to_products": discount.applies_to_products,
        "redeem_count": 0,
        "created_at": iso(discount.created),
    });
    let Some(object) = value.as_object_mut() else {
        return value;
    };
    match &discount.value {
        DiscountValue::Percentage(percent) => {
            object.insert("percentage".into(), json!(percent));
        }
        DiscountValue::Fixed { currency, .. } => {
            object.insert("currency".into(), json!(currency));
        }
    }
    if let Some(months) = discount.duration_in_months {
        object.insert("duration_in_months".into(), json!(months));
    }
    value
}

/// Validates a discount seed with the rules of `POST /v1/discounts` and stores it.
pub(crate) fn insert_seed(state: &mut State, seed: &DiscountSeed) -> Result<String, SandboxError> {
    let mut body = Map::new();
    body.insert("name".into(), json!(seed.name));
    body.insert("code".into(), json!(seed.code));
    body.insert("type".into(), json!(seed.discount_type));
    if let Some(percentage) = seed.percentage {
        body.insert("percentage".into(), json!(percentage));
    }
    if let Some(amount) = seed.amount {
        body.insert("amount".into(), json!(amount));
    }
    if let Some(currency) = &seed.currency {
        body.insert("currency".into(), json!(currency));
    }
    body.insert("duration".into(), json!(seed.duration));
    body.insert(
        "applies_to_products".into(),
        json!(seed.applies_to_products),
    );
    let mut discount = parse_discount(state, &body).map_err(|failure| {
        SandboxError::Config(format!(
            "discount {}: {}",
            seed.code,
            failure.messages().join("; ")
        ))
    })?;
    if let Some(id) = &seed.id {
        discount.id = id.clone();
    }
    let id = discount.id.clone();
    state.creem.discounts.insert(id.clone(), discount);
    Ok(id)
}
