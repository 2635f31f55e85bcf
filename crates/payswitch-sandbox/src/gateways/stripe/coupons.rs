//! Stripe coupons and promotion codes: `POST /v1/coupons`, `GET /v1/coupons`,
//! `GET /v1/coupons/{id}`, `POST /v1/coupons/{id}`, `POST /v1/promotion_codes`,
//! `GET /v1/promotion_codes` (filtered by `code`, `active`, `coupon`),
//! `GET /v1/promotion_codes/{id}` and `POST /v1/promotion_codes/{id}`, their seeds, and their
//! JSON.
//!
//! A promotion code is the customer-facing `code` of a coupon; sessions take either id in
//! `discounts[0]` (`sessions/discounts.rs` applies them).

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::{json, Value};

use crate::error::SandboxError;
use crate::gateways::stripe::currencies;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::form::{FormValue, Params};
use crate::gateways::stripe::lists::{list_body, paginate};
use crate::gateways::stripe::objects::{Coupon, CouponValue, PromotionCode};
use crate::gateways::stripe::params::{
    apply_metadata, boolean, check_expand, expand_list, integer, metadata, not_emulated, object,
    one_of, range, reject_unknown, text, text_update, version_at_least, CallContext,
};
use crate::seed::{CouponSeed, PromotionCodeSeed};
use crate::state::{new_id, random_token, State};

const COUPON_PARAMS: &[&str] = &[
    "amount_off",
    "currency",
    "duration",
    "duration_in_months",
    "expand",
    "id",
    "metadata",
    "name",
    "percent_off",
];
/// Documented coupon parameters the sandbox does not emulate: refused by name, so a test
/// never passes on a restriction it did not really get.
const UNEMULATED_COUPON_PARAMS: &[&str] = &[
    "applies_to",
    "currency_options",
    "max_redemptions",
    "redeem_by",
];
const PROMOTION_CODE_PARAMS: &[&str] = &["active", "code", "expand", "metadata"];
const UNEMULATED_PROMOTION_CODE_PARAMS: &[&str] = &[
    "customer",
    "customer_account",
    "expires_at",
    "max_redemptions",
    "restrictions",
];

/// The API version that moved a promotion code's coupon under `promotion`
/// (`2025-09-30.clover`).
const PROMOTION_VERSION: &str = "2025-09-30";

/// Refuses keys outside `allowed`, naming documented but unemulated ones as such.
fn reject_unsupported(
    map: &BTreeMap<String, FormValue>,
    allowed: &[&str],
    unemulated: &[&str],
    object_name: &str,
) -> Result<(), Failure> {
    if let Some(key) = map.keys().find(|key| unemulated.contains(&key.as_str())) {
        return Err(not_emulated(key, object_name));
    }
    reject_unknown(map, allowed, "")
}

/// Reads `percent_off` (e.g. `25` or `12.5`) into hundredths of a percent, without floats.
fn parse_percent(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || fraction.len() > 2 {
        return None;
    }
    if !whole
        .chars()
        .chain(fraction.chars())
        .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(fraction)
}

/// Checks a coupon's value as Stripe does: one of `percent_off` (0 < p <= 100) and
/// `amount_off` (positive, with a currency).
fn coupon_value(
    percent_off: Option<i64>,
    amount_off: Option<i64>,
    currency: Option<&str>,
) -> Result<CouponValue, Failure> {
    match (percent_off, amount_off) {
        (Some(_), Some(_)) => Err(Failure::invalid(
            Some("parameters_exclusive"),
            Some("amount_off"),
            "You may only specify one of these parameters: amount_off, percent_off.".to_owned(),
        )),
        (None, None) => Err(Failure::invalid(
            Some("parameter_missing"),
            Some("percent_off"),
            "You must pass either `percent_off` or `amount_off`.".to_owned(),
        )),
        (Some(percent), None) => {
            if !(1..=10_000).contains(&percent) {
                return Err(Failure::invalid(
                    None,
                    Some("percent_off"),
                    "Percent off must be greater than 0 and at most 100.".to_owned(),
                ));
            }
            Ok(CouponValue::PercentOff(percent))
        }
        (None, Some(amount)) => {
            let currency = currency.ok_or_else(|| Failure::missing("currency"))?;
            if !currencies::is_stripe_currency(currency) {
                return Err(Failure::invalid(
                    None,
                    Some("currency"),
                    format!("Invalid currency: {}.", currency.to_ascii_lowercase()),
                ));
            }
            if amount < 1 {
                return Err(Failure::invalid(
                    None,
                    Some("amount_off"),
                    "This value must be greater than or equal to 1.".to_owned(),
                ));
            }
            Ok(CouponValue::AmountOff {
                amount,
                currency: currency.to_ascii_lowercase(),
            })
        }
    }
}

/// Checks `duration` and `duration_in_months` (required for, and only for, `repeating`).
fn coupon_duration(duration: &str, months: Option<i64>) -> Result<Option<i64>, Failure> {
    match (duration, months) {
        ("repeating", None) => Err(Failure::missing("duration_in_months")),
        ("repeating", Some(months)) if months < 1 => Err(Failure::invalid(
            None,
            Some("duration_in_months"),
            "This value must be greater than or equal to 1.".to_owned(),
        )),
        ("repeating", Some(months)) => Ok(Some(months)),
        (_, Some(_)) => Err(Failure::invalid(
            None,
            Some("duration_in_months"),
            "You may only specify duration_in_months when duration is `repeating`.".to_owned(),
        )),
        (_, None) => Ok(None),
    }
}

/// `POST /v1/coupons`.
pub(crate) fn create_coupon(state: &mut State, params: &Params) -> Outcome {
    reject_unsupported(params, COUPON_PARAMS, UNEMULATED_COUPON_PARAMS, "coupons")?;
    let percent_off = match text(params, "percent_off", "")? {
        Some(value) => Some(parse_percent(value).ok_or_else(|| {
            Failure::invalid(
                Some("parameter_invalid_float"),
                Some("percent_off"),
                format!("Invalid decimal: {value} (the sandbox takes at most two decimal places)"),
            )
        })?),
        None => None,
    };
    let value = coupon_value(
        percent_off,
        integer(params, "amount_off", "")?,
        text(params, "currency", "")?,
    )?;
    let duration =
        one_of(params, "duration", "", &["forever", "once", "repeating"])?.unwrap_or("once");
    let months = coupon_duration(duration, integer(params, "duration_in_months", "")?)?;
    let name = text(params, "name", "")?;
    if name.is_some_and(|name| name.chars().count() > 40) {
        return Err(Failure::invalid(
            None,
            Some("name"),
            "Invalid name: must be at most 40 characters.".to_owned(),
        ));
    }
    let expand = expand_list(params)?;
    check_expand(&expand, &[])?;
    let id = match text(params, "id", "")? {
        Some(id) if state.stripe.coupons.contains_key(id) => {
            return Err(Failure::invalid(
                Some("resource_already_exists"),
                Some("id"),
                "Coupon already exists.".to_owned(),
            ))
        }
        Some(id) => id.to_owned(),
        None => random_token(8),
    };
    let coupon = Coupon {
        id: id.clone(),
        name: name.map(str::to_owned),
        value,
        duration: duration.to_owned(),
        duration_in_months: months,
        metadata: metadata(params, "")?,
        created: state.now(),
    };
    let rendered = render_coupon(&coupon);
    state.stripe.coupons.insert(id, coupon);
    Ok((StatusCode::OK, rendered))
}

/// `GET /v1/coupons/{id}`.
pub(crate) fn retrieve_coupon(state: &State, id: &str, params: &Params) -> Outcome {
    reject_unknown(params, &["expand"], "")?;
    let coupon = state
        .stripe
        .coupons
        .get(id)
        .ok_or_else(|| Failure::not_found("coupon", "coupon", id))?;
    Ok((StatusCode::OK, render_coupon(coupon)))
}

/// `GET /v1/coupons`: newest first, filtered by `created`.
pub(crate) fn list_coupons(state: &State, params: &Params) -> Outcome {
    reject_unknown(
        params,
        &[
            "created",
            "ending_before",
            "expand",
            "limit",
            "starting_after",
        ],
        "",
    )?;
    let created = range(params, "created")?;
    check_expand(&expand_list(params)?, &[])?;
    let mut matching: Vec<&Coupon> = state
        .stripe
        .coupons
        .values()
        .filter(|coupon| created.admits(coupon.created))
        .collect();
    // Newest first; ids break ties so pages are stable.
    matching.sort_unstable_by(|a, b| (b.created, &b.id).cmp(&(a.created, &a.id)));
    let ids: Vec<String> = matching.iter().map(|coupon| coupon.id.clone()).collect();
    let (page, has_more) = paginate(&ids, params, "coupon")?;
    let data: Vec<Value> = page
        .iter()
        .filter_map(|id| state.stripe.coupons.get(id))
        .map(render_coupon)
        .collect();
    Ok((StatusCode::OK, list_body(data, has_more, "/v1/coupons")))
}

/// `POST /v1/coupons/{id}`: `name` and `metadata` (what Stripe lets change on a coupon);
/// `currency_options` is refused as not emulated.
pub(crate) fn update_coupon(state: &mut State, id: &str, params: &Params) -> Outcome {
    reject_unsupported(
        params,
        &["expand", "metadata", "name"],
        &["currency_options"],
        "coupon updates",
    )?;
    check_expand(&expand_list(params)?, &[])?;
    let coupon = state
        .stripe
        .coupons
        .get(id)
        .ok_or_else(|| Failure::not_found("coupon", "coupon", id))?;
    let mut updated = coupon.clone();
    if let Some(name) = text_update(params, "name", "")? {
        if name.is_some_and(|name| name.chars().count() > 40) {
            return Err(Failure::invalid(
                None,
                Some("name"),
                "Invalid name: must be at most 40 characters.".to_owned(),
            ));
        }
        updated.name = name.map(str::to_owned);
    }
    apply_metadata(params, "", &mut updated.metadata)?;
    let rendered = render_coupon(&updated);
    state.stripe.coupons.insert(id.to_owned(), updated);
    Ok((StatusCode::OK, rendered))
}

/// `POST /v1/promotion_codes/{id}`: `active` (a code made active again must still be
/// unique among active codes) and `metadata`; `restrictions` is refused as not emulated.
pub(crate) fn update_promotion_code(
    state: &mut State,
    id: &str,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    reject_unsupported(
        params,
        &["active", "expand", "metadata"],
        &["restrictions"],
        "promotion code updates",
    )?;
    check_expand(&expand_list(params)?, &[])?;
    let promotion_code = state
        .stripe
        .promotion_codes
        .get(id)
        .ok_or_else(|| Failure::not_found("promotion code", "promotion_code", id))?;
    let mut updated = promotion_code.clone();
    if let Some(active) = boolean(params, "active", "")? {
        if active && !updated.active {
            updated.active = true;
            let others_taken = state.stripe.promotion_codes.values().any(|existing| {
                existing.id != updated.id
                    && existing.active
                    && existing.code.eq_ignore_ascii_case(&updated.code)
            });
            if others_taken {
                return Err(Failure::invalid(
                    Some("resource_already_exists"),
                    Some("active"),
                    format!(
                        "An active promotion code with code: {} already exists.",
                        updated.code
                    ),
                ));
            }
        }
        updated.active = active;
    }
    apply_metadata(params, "", &mut updated.metadata)?;
    let rendered = render_promotion_code(state, &updated, context.api_version);
    state.stripe.promotion_codes.insert(id.to_owned(), updated);
    Ok((StatusCode::OK, rendered))
}

/// Reads the coupon a new promotion code is for: `promotion[coupon]` (with
/// `promotion[type]=coupon`) from `2025-09-30.clover` on, the top-level `coupon` before.
fn promotion_coupon<'a>(params: &'a Params, context: &CallContext<'_>) -> Result<&'a str, Failure> {
    if !version_at_least(context.api_version, PROMOTION_VERSION) {
        return text(params, "coupon", "")?.ok_or_else(|| Failure::missing("coupon"));
    }
    let promotion =
        object(params, "promotion", "")?.ok_or_else(|| Failure::missing("promotion"))?;
    reject_unknown(promotion, &["coupon", "type"], "promotion")?;
    one_of(promotion, "type", "promotion", &["coupon"])?
        .ok_or_else(|| Failure::missing("promotion[type]"))?;
    text(promotion, "coupon", "promotion")?.ok_or_else(|| Failure::missing("promotion[coupon]"))
}

/// `POST /v1/promotion_codes`.
pub(crate) fn create_promotion_code(
    state: &mut State,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    let old_version = !version_at_least(context.api_version, PROMOTION_VERSION);
    let allowed: Vec<&str> = PROMOTION_CODE_PARAMS
        .iter()
        .copied()
        .chain(std::iter::once(if old_version {
            "coupon"
        } else {
            "promotion"
        }))
        .collect();
    reject_unsupported(
        params,
        &allowed,
        UNEMULATED_PROMOTION_CODE_PARAMS,
        "promotion codes",
    )?;
    let coupon_id = promotion_coupon(params, context)?;
    let coupon_param = if old_version {
        "coupon"
    } else {
        "promotion[coupon]"
    };
    if !state.stripe.coupons.contains_key(coupon_id) {
        return Err(Failure::invalid(
            Some("resource_missing"),
            Some(coupon_param),
            format!("No such coupon: '{coupon_id}'"),
        ));
    }
    let code = match text(params, "code", "")? {
        Some(code) => code.to_owned(),
        None => random_token(8).to_ascii_uppercase(),
    };
    let active = boolean(params, "active", "")?.unwrap_or(true);
    let expand = expand_list(params)?;
    check_expand(&expand, &[])?;
    let promotion_code = PromotionCode {
        id: new_id("promo_"),
        code,
        coupon_id: coupon_id.to_owned(),
        active,
        metadata: metadata(params, "")?,
        created: state.now(),
    };
    check_code(state, &promotion_code, "code").map_err(|message| {
        Failure::invalid(Some("resource_already_exists"), Some("code"), message)
    })?;
    let rendered = render_promotion_code(state, &promotion_code, context.api_version);
    store_promotion_code(state, promotion_code);
    Ok((StatusCode::OK, rendered))
}

/// Checks a code's characters, length and uniqueness among active codes (any case).
fn check_code(state: &State, candidate: &PromotionCode, param: &str) -> Result<(), String> {
    let code = &candidate.code;
    if code.is_empty() || code.len() > 500 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "Invalid {param}: {code}. Valid characters are lower case letters (a-z), upper \
             case letters (A-Z), and digits (0-9), at most 500 of them."
        ));
    }
    let taken = state.stripe.promotion_codes.values().any(|existing| {
        existing.active && candidate.active && existing.code.eq_ignore_ascii_case(code)
    });
    if taken {
        return Err(format!(
            "An active promotion code with code: {code} already exists."
        ));
    }
    Ok(())
}

fn store_promotion_code(state: &mut State, promotion_code: PromotionCode) {
    state
        .stripe
        .promotion_code_order
        .push(promotion_code.id.clone());
    state
        .stripe
        .promotion_codes
        .insert(promotion_code.id.clone(), promotion_code);
}

/// `GET /v1/promotion_codes/{id}`.
pub(crate) fn retrieve_promotion_code(
    state: &State,
    id: &str,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    reject_unknown(params, &["expand"], "")?;
    let promotion_code = state
        .stripe
        .promotion_codes
        .get(id)
        .ok_or_else(|| Failure::not_found("promotion code", "promotion_code", id))?;
    Ok((
        StatusCode::OK,
        render_promotion_code(state, promotion_code, context.api_version),
    ))
}

/// `GET /v1/promotion_codes`: newest first, filtered by `code` (any case), `active` and
/// `coupon`, in Stripe's list shape.
pub(crate) fn list_promotion_codes(
    state: &State,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    reject_unknown(
        params,
        &[
            "active",
            "code",
            "coupon",
            "created",
            "customer",
            "customer_account",
            "ending_before",
            "expand",
            "limit",
            "starting_after",
        ],
        "",
    )?;
    let code = text(params, "code", "")?;
    let active = boolean(params, "active", "")?;
    let coupon = text(params, "coupon", "")?;
    let limit = integer(params, "limit", "")?.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(Failure::invalid(
            None,
            Some("limit"),
            "This value must be between 1 and 100 (inclusive).".to_owned(),
        ));
    }
    let matching: Vec<&PromotionCode> = state
        .stripe
        .promotion_code_order
        .iter()
        .rev()
        .filter_map(|id| state.stripe.promotion_codes.get(id))
        .filter(|candidate| code.is_none_or(|code| candidate.code.eq_ignore_ascii_case(code)))
        .filter(|candidate| active.is_none_or(|active| candidate.active == active))
        .filter(|candidate| coupon.is_none_or(|coupon| candidate.coupon_id == coupon))
        .collect();
    let limit = usize::try_from(limit).unwrap_or(10);
    let data: Vec<Value> = matching
        .iter()
        .take(limit)
        .map(|found| render_promotion_code(state, found, context.api_version))
        .collect();
    Ok((
        StatusCode::OK,
        json!({
            "object": "list",
            "data": data,
            "has_more": matching.len() > limit,
            "url": "/v1/promotion_codes",
        }),
    ))
}

/// Renders `percent_off` (hundredths of a percent) as the JSON number Stripe sends.
fn render_percent(hundredths: i64) -> Value {
    let text = format!("{}.{:02}", hundredths / 100, hundredths % 100);
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Renders a coupon as Stripe's `coupon` JSON.
pub(crate) fn render_coupon(coupon: &Coupon) -> Value {
    let (percent_off, amount_off, currency) = match &coupon.value {
        CouponValue::PercentOff(hundredths) => (render_percent(*hundredths), None, None),
        CouponValue::AmountOff { amount, currency } => (Value::Null, Some(*amount), Some(currency)),
    };
    json!({
        "id": coupon.id,
        "object": "coupon",
        "amount_off": amount_off,
        "created": coupon.created,
        "currency": currency,
        "duration": coupon.duration,
        "duration_in_months": coupon.duration_in_months,
        "livemode": false,
        "max_redemptions": null,
        "metadata": coupon.metadata,
        "name": coupon.name,
        "percent_off": percent_off,
        "redeem_by": null,
        "times_redeemed": 0,
        "valid": true,
    })
}

/// Renders a promotion code: `promotion: {type, coupon}` from `2025-09-30.clover` on, the
/// whole `coupon` object before.
pub(crate) fn render_promotion_code(
    state: &State,
    promotion_code: &PromotionCode,
    api_version: &str,
) -> Value {
    let mut value = json!({
        "id": promotion_code.id,
        "object": "promotion_code",
        "active": promotion_code.active,
        "code": promotion_code.code,
        "created": promotion_code.created,
        "customer": null,
        "customer_account": null,
        "expires_at": null,
        "livemode": false,
        "max_redemptions": null,
        "metadata": promotion_code.metadata,
        "restrictions": {
            "first_time_transaction": false,
            "minimum_amount": null,
            "minimum_amount_currency": null,
        },
        "times_redeemed": 0,
    });
    if let Some(object) = value.as_object_mut() {
        if version_at_least(api_version, PROMOTION_VERSION) {
            object.insert(
                "promotion".into(),
                json!({ "type": "coupon", "coupon": promotion_code.coupon_id }),
            );
        } else {
            let coupon = state
                .stripe
                .coupons
                .get(&promotion_code.coupon_id)
                .map(render_coupon);
            object.insert("coupon".into(), json!(coupon));
        }
    }
    value
}

/// Validates a coupon seed with the rules of `POST /v1/coupons` and stores it.
pub(crate) fn insert_coupon_seed(
    state: &mut State,
    seed: &CouponSeed,
) -> Result<String, SandboxError> {
    let invalid = |failure: Failure| {
        SandboxError::Config(format!(
            "coupon {}: {}: {}",
            seed.id,
            failure.error.param.unwrap_or_default(),
            failure.error.message
        ))
    };
    if seed.id.is_empty() || state.stripe.coupons.contains_key(&seed.id) {
        return Err(SandboxError::Config(format!(
            "coupon {:?}: the id must be unique and non-empty",
            seed.id
        )));
    }
    let value = coupon_value(
        seed.percent_off.map(|percent| i64::from(percent) * 100),
        seed.amount_off,
        seed.currency.as_deref(),
    )
    .map_err(invalid)?;
    if !["forever", "once", "repeating"].contains(&seed.duration.as_str()) {
        return Err(SandboxError::Config(format!(
            "coupon {}: duration must be once, repeating or forever",
            seed.id
        )));
    }
    let months =
        coupon_duration(&seed.duration, seed.duration_in_months.map(i64::from)).map_err(invalid)?;
    let coupon = Coupon {
        id: seed.id.clone(),
        name: seed.name.clone(),
        value,
        duration: seed.duration.clone(),
        duration_in_months: months,
        metadata: BTreeMap::new(),
        created: state.now(),
    };
    state.stripe.coupons.insert(seed.id.clone(), coupon);
    Ok(seed.id.clone())
}

/// Validates a promotion code seed (its coupon must exist) and stores it.
pub(crate) fn insert_promotion_code_seed(
    state: &mut State,
    seed: &PromotionCodeSeed,
) -> Result<String, SandboxError> {
    let invalid =
        |message: String| SandboxError::Config(format!("promotion code {}: {message}", seed.id));
    if !seed.id.starts_with("promo_") || state.stripe.promotion_codes.contains_key(&seed.id) {
        return Err(invalid(
            "the id must start with promo_ and be unique".to_owned(),
        ));
    }
    if !state.stripe.coupons.contains_key(&seed.coupon) {
        return Err(invalid(format!(
            "no coupon {} (seed the coupon first)",
            seed.coupon
        )));
    }
    let promotion_code = PromotionCode {
        id: seed.id.clone(),
        code: seed.code.clone(),
        coupon_id: seed.coupon.clone(),
        active: seed.active,
        metadata: BTreeMap::new(),
        created: state.now(),
    };
    check_code(state, &promotion_code, "code").map_err(invalid)?;
    store_promotion_code(state, promotion_code);
    Ok(seed.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_parse_without_floats() {
        assert_eq!(parse_percent("25"), Some(2500));
        assert_eq!(parse_percent("12.5"), Some(1250));
        assert_eq!(parse_percent("0.01"), Some(1));
        assert_eq!(parse_percent("100.00"), Some(10_000));
        assert_eq!(parse_percent("1.234"), None);
        assert_eq!(parse_percent("-5"), None);
        assert_eq!(parse_percent(".5"), None);
        assert_eq!(render_percent(1250), json!(12.5));
    }
}
