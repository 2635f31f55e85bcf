//! What a Creem order charges: price × units, minus the discount, with tax on top
//! (`exclusive` products) or included (`inclusive`). All integer cents, rounded half up.

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
    let amount = product.price.saturating_mul(units);
    let discount_amount = match discount.map(|discount| &discount.value) {
        Some(DiscountValue::Percentage(percent)) => {
            divide_rounding(i128::from(amount) * i128::from(*percent), 100)
        }
        Some(DiscountValue::Fixed { amount: off, .. }) => *off,
        None => 0,
    }
    .clamp(0, amount.max(0));
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
}
