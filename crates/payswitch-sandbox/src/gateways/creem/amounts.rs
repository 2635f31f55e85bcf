//! What a Creem order charges: price × units, minus the discount, with tax on top
//! (`exclusive` products) or included (`inclusive`); and what a mid-period plan or seat change
//! charges (proration). All integer cents, rounded half up.

use crate::gateways::creem::objects::{Discount, DiscountValue, Product};

/// The amounts of an order, as `OrderEntity` carries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OrderAmounts {
    /// Price × units, before discount and tax.
    pub(crate) amount: i64,
    pub(crate) discount_amount: i64,
    /// Amount after the discount.
    pub(crate) sub_total: i64,
    /// Tax charged on top (`exclusive`) or contained in `sub_total` (`inclusive`).
    pub(crate) tax_amount: i64,
    /// What the customer pays: `sub_total + tax_amount` when exclusive, `sub_total` when
    /// inclusive.
    pub(crate) amount_paid: i64,
}

/// Rounds `numerator / denominator` half up, for non-negative operands.
fn divide_rounding(numerator: i128, denominator: i128) -> i64 {
    if denominator <= 0 {
        return 0;
    }
    i64::try_from((numerator * 2 + denominator) / (denominator * 2)).unwrap_or(i64::MAX)
}

/// Decides what `units` of `product` cost with an optional discount.
pub(crate) fn order_amounts(
    product: &Product,
    units: i64,
    discount: Option<&Discount>,
) -> OrderAmounts {
    discounted_amounts(product, product.price.saturating_mul(units), discount)
}

/// Decides what a charge of `amount` cents (before discount and tax) costs with an optional
/// discount, taxed as `product` is: a subscription's renewal of all its items.
pub(crate) fn discounted_amounts(
    product: &Product,
    amount: i64,
    discount: Option<&Discount>,
) -> OrderAmounts {
    let discount_amount = match discount.map(|discount| &discount.value) {
        Some(DiscountValue::Percentage(percent)) => {
            divide_rounding(i128::from(amount) * i128::from(*percent), 100)
        }
        Some(DiscountValue::Fixed { amount: off, .. }) => *off,
        None => 0,
    }
    .clamp(0, amount.max(0));
    taxed(product, amount, discount_amount)
}

/// The amounts of a charge of `amount` cents of `product` (a proration, which carries no
/// discount): the product's tax mode and rate apply as on an order.
pub(crate) fn charge_amounts(product: &Product, amount: i64) -> OrderAmounts {
    taxed(product, amount.max(0), 0)
}

/// Applies `product`'s tax to `amount` less `discount_amount`.
fn taxed(product: &Product, amount: i64, discount_amount: i64) -> OrderAmounts {
    let sub_total = amount - discount_amount;
    let rate = i128::from(product.tax_rate_bps.unwrap_or(0));
    let (tax_amount, amount_paid) = if product.tax_mode == "exclusive" {
        let tax = divide_rounding(i128::from(sub_total) * rate, 10_000);
        (tax, sub_total.saturating_add(tax))
    } else {
        let tax = divide_rounding(i128::from(sub_total) * rate, 10_000 + rate);
        (tax, sub_total)
    };
    OrderAmounts {
        amount,
        discount_amount,
        sub_total,
        tax_amount,
        amount_paid,
    }
}

/// Decides what a mid-period change costs: the difference between the new and the old price
/// of one period, for the share of the period still to run. Positive is owed by the customer,
/// negative is unused time. Half-cent results round away from zero; a period of no length
/// prorates nothing.
pub(crate) fn prorated_difference(
    old_period_price: i64,
    new_period_price: i64,
    remaining_seconds: i64,
    period_seconds: i64,
) -> i64 {
    if period_seconds <= 0 {
        return 0;
    }
    let remaining = i128::from(remaining_seconds.clamp(0, period_seconds));
    let difference = i128::from(new_period_price) - i128::from(old_period_price);
    let magnitude = divide_rounding(difference.abs() * remaining, i128::from(period_seconds));
    if difference < 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// Decides whether a subscription's discount applies to the charge for period `period_index`
/// (0 = the first paid period) of a plan billed every `months_per_period` months: `once` only
/// to the first, `forever` to all, `repeating` while fewer than `duration_in_months` months
/// have been billed.
pub(crate) fn discount_applies(
    discount: &Discount,
    period_index: u32,
    months_per_period: u32,
) -> bool {
    match discount.duration.as_str() {
        "forever" => true,
        "repeating" => {
            let billed_months = i64::from(period_index) * i64::from(months_per_period);
            discount
                .duration_in_months
                .is_some_and(|months| billed_months < months)
        }
        _ => period_index == 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(price: i64, tax_mode: &str, rate: Option<u32>) -> Product {
        Product {
            id: "prod_1".into(),
            name: "p".into(),
            description: "p".into(),
            price,
            currency: "EUR".into(),
            billing_type: "onetime".into(),
            billing_period: "once".into(),
            tax_mode: tax_mode.into(),
            tax_category: "saas".into(),
            tax_rate_bps: rate,
            default_success_url: None,
            image_url: None,
            trial_period_days: None,
            price_id: "pprice_1".into(),
            created: 0,
        }
    }

    fn discount(value: DiscountValue) -> Discount {
        Discount {
            id: "dis_1".into(),
            name: "d".into(),
            code: "D".into(),
            value,
            duration: "once".into(),
            duration_in_months: None,
            applies_to_products: vec!["prod_1".into()],
            created: 0,
        }
    }

    #[test]
    fn exclusive_tax_goes_on_top_after_the_discount() {
        // Creem's own dispute sample: amount 1100, tax 231 (21 %), paid 1331.
        let sample = order_amounts(&product(1100, "exclusive", Some(2100)), 1, None);
        assert_eq!((sample.tax_amount, sample.amount_paid), (231, 1331));
        let ten_off = discount(DiscountValue::Percentage(10));
        let amounts = order_amounts(&product(1000, "exclusive", Some(2100)), 2, Some(&ten_off));
        assert_eq!(
            amounts,
            OrderAmounts {
                amount: 2000,
                discount_amount: 200,
                sub_total: 1800,
                tax_amount: 378,
                amount_paid: 2178,
            }
        );
    }

    #[test]
    fn inclusive_tax_is_contained_and_fixed_discounts_cap_at_the_amount() {
        let amounts = order_amounts(&product(1210, "inclusive", Some(2100)), 1, None);
        assert_eq!((amounts.tax_amount, amounts.amount_paid), (210, 1210));
        let big = discount(DiscountValue::Fixed {
            amount: 5000,
            currency: "EUR".into(),
        });
        let amounts = order_amounts(&product(1000, "inclusive", None), 1, Some(&big));
        assert_eq!((amounts.discount_amount, amounts.amount_paid), (1000, 0));
    }

    #[test]
    fn proration_charges_the_remaining_share_of_the_difference() {
        // Creem's example: $10 to $30 halfway through the month is about $10 now.
        assert_eq!(prorated_difference(1000, 3000, 15, 30), 1000);
        assert_eq!(prorated_difference(3000, 1000, 15, 30), -1000);
        // 1 cent × 1/3 rounds to 0; 2 cents × 1/4 (0.5) rounds away from zero.
        assert_eq!(prorated_difference(0, 1, 1, 3), 0);
        assert_eq!(prorated_difference(0, 2, 1, 4), 1);
        assert_eq!(prorated_difference(2, 0, 1, 4), -1);
        assert_eq!(prorated_difference(1000, 3000, 40, 30), 2000);
        assert_eq!(prorated_difference(1000, 3000, -5, 30), 0);
        assert_eq!(prorated_difference(1000, 3000, 10, 0), 0);
        assert_eq!(
            prorated_difference(i64::MIN, i64::MAX, 1, 1),
            i64::MAX,
            "saturates instead of overflowing"
        );
        let taxed = charge_amounts(&product(100, "exclusive", Some(2100)), 1000);
        assert_eq!((taxed.tax_amount, taxed.amount_paid), (210, 1210));
    }

    #[test]
    fn discount_durations() {
        let mut ten_off = discount(DiscountValue::Percentage(10));
        assert!(discount_applies(&ten_off, 0, 1));
        assert!(!discount_applies(&ten_off, 1, 1));
        ten_off.duration = "forever".into();
        assert!(discount_applies(&ten_off, 40, 12));
        ten_off.duration = "repeating".into();
        ten_off.duration_in_months = Some(3);
        assert!(discount_applies(&ten_off, 2, 1));
        assert!(!discount_applies(&ten_off, 3, 1));
        assert!(discount_applies(&ten_off, 0, 12));
        assert!(!discount_applies(&ten_off, 1, 12));
    }
}
