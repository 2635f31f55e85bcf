//! Discounts of a new Checkout Session: `discounts[0][coupon]` or
//! `discounts[0][promotion_code]`, resolved against the coupon and promotion code catalog and
//! applied to the amounts (the session's `amount_total`, `total_details.amount_discount` and
//! each line item's `amount_discount`).

use crate::gateways::stripe::error::Failure;
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::objects::{AppliedDiscount, Coupon, CouponValue, LineItem};
use crate::gateways::stripe::params::{reject_unknown, text};
use crate::state::State;

/// Reads `discounts` (at most one entry, a coupon or a promotion code) and resolves it.
/// Refuses `discounts` together with `allow_promotion_codes`, as Stripe does.
pub(crate) fn parse_discounts(
    state: &State,
    params: &Params,
    allow_promotion_codes: Option<bool>,
) -> Result<Option<(AppliedDiscount, Coupon)>, Failure> {
    let Some(value) = params.get("discounts") else {
        return Ok(None);
    };
    if value.as_text() == Some("") {
        return Ok(None);
    }
    if allow_promotion_codes.is_some() {
        return Err(Failure::invalid(
            Some("parameters_exclusive"),
            Some("discounts"),
            "You may only specify one of these parameters: allow_promotion_codes, discounts."
                .to_owned(),
        ));
    }
    let list = value.as_list().ok_or_else(|| {
        Failure::invalid(
            None,
            Some("discounts"),
            "Invalid array: discounts must be an array.".to_owned(),
        )
    })?;
    if list.len() > 1 {
        return Err(Failure::invalid(
            None,
            Some("discounts"),
            "You may only specify one discount (a coupon or a promotion code).".to_owned(),
        ));
    }
    let Some((index, entry)) = list.into_iter().next() else {
        return Ok(None);
    };
    let prefix = format!("discounts[{index}]");
    let map = entry.as_map().ok_or_else(|| {
        Failure::invalid(
            None,
            Some(&prefix),
            format!("Invalid object: {prefix} must be a hash."),
        )
    })?;
    reject_unknown(map, &["coupon", "promotion_code"], &prefix)?;
    match (
        text(map, "coupon", &prefix)?,
        text(map, "promotion_code", &prefix)?,
    ) {
        (Some(_), Some(_)) => Err(Failure::invalid(
            Some("parameters_exclusive"),
            Some(&format!("{prefix}[promotion_code]")),
            "You may only specify one of these parameters: coupon, promotion_code.".to_owned(),
        )),
        (Some(coupon), None) => {
            let coupon = find_coupon(state, coupon, &format!("{prefix}[coupon]"))?;
            let applied = AppliedDiscount {
                coupon_id: coupon.id.clone(),
                promotion_code: None,
            };
            Ok(Some((applied, coupon)))
        }
        (None, Some(promotion_code)) => {
            resolve_promotion_code(state, promotion_code, &format!("{prefix}[promotion_code]"))
                .map(Some)
        }
        (None, None) => Ok(None),
    }
}

fn find_coupon(state: &State, id: &str, param: &str) -> Result<Coupon, Failure> {
    state.stripe.coupons.get(id).cloned().ok_or_else(|| {
        Failure::invalid(
            Some("resource_missing"),
            Some(param),
            format!("No such coupon: '{id}'"),
        )
    })
}

/// Resolves a promotion code id to its coupon; an inactive code cannot be redeemed.
fn resolve_promotion_code(
    state: &State,
    id: &str,
    param: &str,
) -> Result<(AppliedDiscount, Coupon), Failure> {
    let promotion_code = state.stripe.promotion_codes.get(id).ok_or_else(|| {
        Failure::invalid(
            Some("resource_missing"),
            Some(param),
            format!("No such promotion code: '{id}'"),
        )
    })?;
    if !promotion_code.active {
        // The rule is Stripe's; the wording is the sandbox's.
        return Err(Failure::invalid(
            None,
            Some(param),
            format!("This promotion code is inactive: '{id}'"),
        ));
    }
    let coupon = find_coupon(state, &promotion_code.coupon_id, param)?;
    let applied = AppliedDiscount {
        coupon_id: coupon.id.clone(),
        promotion_code: Some(id.to_owned()),
    };
    Ok((applied, coupon))
}

/// Decides how much a coupon takes off `subtotal`: a percentage rounded half up, or a fixed
/// amount in the session's currency, never more than the subtotal.
pub(crate) fn discount_amount(
    coupon: &Coupon,
    subtotal: i64,
    currency: Option<&str>,
    param: &str,
) -> Result<i64, Failure> {
    match &coupon.value {
        CouponValue::PercentOff(hundredths) => {
            let scaled = i128::from(subtotal) * i128::from(*hundredths);
            let rounded = (scaled + 5_000) / 10_000;
            Ok(i64::try_from(rounded).unwrap_or(subtotal).min(subtotal))
        }
        CouponValue::AmountOff {
            amount,
            currency: coupon_currency,
        } => {
            if currency.is_some_and(|currency| !currency.eq_ignore_ascii_case(coupon_currency)) {
                // The rule is Stripe's (an amount_off coupon only applies in its currency);
                // the wording is the sandbox's.
                return Err(Failure::invalid(
                    None,
                    Some(param),
                    format!(
                        "The coupon '{}' is in {coupon_currency}, but this Checkout Session is \
                         in {}.",
                        coupon.id,
                        currency.unwrap_or_default()
                    ),
                ));
            }
            Ok((*amount).min(subtotal))
        }
    }
}

/// Spreads `discount` over the line items in proportion to their amounts (rounded down),
/// then gives what rounding left to the first lines with room, so the shares add up exactly.
pub(crate) fn allocate(line_items: &mut [LineItem], subtotal: i64, discount: i64) {
    if subtotal <= 0 || discount <= 0 {
        return;
    }
    let mut allocated = 0;
    for item in line_items.iter_mut() {
        let amount = item.unit_amount.saturating_mul(item.quantity);
        let share = i128::from(amount) * i128::from(discount) / i128::from(subtotal);
        item.amount_discount = i64::try_from(share).unwrap_or(0);
        allocated += item.amount_discount;
    }
    let mut left = discount - allocated;
    for item in line_items.iter_mut() {
        if left <= 0 {
            break;
        }
        let room = item.unit_amount.saturating_mul(item.quantity) - item.amount_discount;
        let extra = room.min(left);
        item.amount_discount += extra;
        left -= extra;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn coupon(value: CouponValue) -> Coupon {
        Coupon {
            id: "c".into(),
            name: None,
            value,
            duration: "once".into(),
            duration_in_months: None,
            metadata: BTreeMap::new(),
            created: 0,
        }
    }

    fn item(unit_amount: i64, quantity: i64) -> LineItem {
        LineItem {
            id: "li".into(),
            price_id: "price".into(),
            product_id: "prod".into(),
            name: "x".into(),
            currency: "usd".into(),
            unit_amount,
            quantity,
            recurring: None,
            metadata: BTreeMap::new(),
            amount_discount: 0,
            price_created: 0,
        }
    }

    #[test]
    fn percentages_round_half_up_and_amounts_cap_at_the_subtotal() {
        let quarter = coupon(CouponValue::PercentOff(2500));
        assert_eq!(
            discount_amount(&quarter, 4000, Some("usd"), "d").ok(),
            Some(1000)
        );
        assert_eq!(discount_amount(&quarter, 2, Some("usd"), "d").ok(), Some(1));
        let five = coupon(CouponValue::AmountOff {
            amount: 500,
            currency: "usd".into(),
        });
        assert_eq!(
            discount_amount(&five, 300, Some("usd"), "d").ok(),
            Some(300)
        );
        assert!(discount_amount(&five, 3000, Some("eur"), "d").is_err());
    }

    #[test]
    fn shares_add_up_to_the_discount() {
        let mut items = vec![item(333, 1), item(333, 1), item(334, 1)];
        allocate(&mut items, 1000, 100);
        let shares: Vec<i64> = items.iter().map(|item| item.amount_discount).collect();
        assert_eq!(shares, [34, 33, 33]);
        let mut items = vec![item(1, 1), item(999, 1)];
        allocate(&mut items, 1000, 1000);
        assert_eq!(items[0].amount_discount + items[1].amount_discount, 1000);
    }
}
