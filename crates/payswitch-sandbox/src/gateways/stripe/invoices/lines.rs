//! Invoice lines and the descriptions Stripe prints on them: a subscription item's period
//! (`1 × Pro (at $20.00 / month)`), a trial (`Trial period for Pro`), a one-time item, the two
//! lines of a proration (`Unused time on Pro after 5 Mar 2026`, credited, and `Remaining time
//! on Team after 5 Mar 2026`, charged), and a coupon spread over the lines.

use crate::gateways::stripe::calendar::format_day;
use crate::gateways::stripe::currencies;
use crate::gateways::stripe::objects::{Coupon, InvoiceLine, ItemPrice, Recurring};
use crate::gateways::stripe::proration::prorate;
use crate::gateways::stripe::sessions::discounts::discount_amount;
use crate::state::new_id;

/// `month`, or `every 3 months` for a count above one, as in `(at $20.00 / month)`.
pub(crate) fn per_interval(recurring: &Recurring) -> String {
    if recurring.interval_count == 1 {
        recurring.interval.clone()
    } else {
        format!("every {} {}s", recurring.interval_count, recurring.interval)
    }
}

/// `Pro`, or `2 × Pro` for more than one.
fn quantity_and_name(quantity: i64, name: &str) -> String {
    if quantity == 1 {
        name.to_owned()
    } else {
        format!("{quantity} × {name}")
    }
}

/// A subscription item to bill: which subscription and item, its price and quantity.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Billed<'a> {
    pub(crate) subscription: &'a str,
    pub(crate) item: &'a str,
    pub(crate) price: &'a ItemPrice,
    pub(crate) quantity: i64,
}

fn line(
    billed: Billed<'_>,
    amount: i64,
    description: String,
    period: (i64, i64),
    proration: bool,
) -> InvoiceLine {
    InvoiceLine {
        id: new_id("il_"),
        amount,
        currency: billed.price.currency.clone(),
        description,
        quantity: billed.quantity,
        price: billed.price.clone(),
        period_start: period.0,
        period_end: period.1,
        proration,
        subscription: Some(billed.subscription.to_owned()),
        subscription_item: Some(billed.item.to_owned()),
        invoice_item: proration.then(|| new_id("ii_")),
        discount_amount: 0,
    }
}

/// The line billing one period of an item in advance.
pub(crate) fn period_line(billed: Billed<'_>, start: i64, end: i64) -> InvoiceLine {
    let price = billed.price;
    let description = match &price.recurring {
        Some(recurring) => format!(
            "{} × {} (at {} / {})",
            billed.quantity,
            price.product_name,
            currencies::format(price.unit_amount, &price.currency),
            per_interval(recurring)
        ),
        None => quantity_and_name(billed.quantity, &price.product_name),
    };
    let amount = price.unit_amount.saturating_mul(billed.quantity);
    line(billed, amount, description, (start, end), false)
}

/// The free line of a trial period.
pub(crate) fn trial_line(billed: Billed<'_>, start: i64, end: i64) -> InvoiceLine {
    let description = format!("Trial period for {}", billed.price.product_name);
    line(billed, 0, description, (start, end), false)
}

/// The line of a one-time price billed with a subscription's first invoice (a setup fee).
pub(crate) fn one_time_line(
    subscription: &str,
    price: &ItemPrice,
    quantity: i64,
    at: i64,
) -> InvoiceLine {
    InvoiceLine {
        id: new_id("il_"),
        amount: price.unit_amount.saturating_mul(quantity),
        currency: price.currency.clone(),
        description: quantity_and_name(quantity, &price.product_name),
        quantity,
        price: price.clone(),
        period_start: at,
        period_end: at,
        proration: false,
        subscription: Some(subscription.to_owned()),
        subscription_item: None,
        invoice_item: Some(new_id("ii_")),
        discount_amount: 0,
    }
}

/// The credit for the unused rest of a period on the old price and quantity.
pub(crate) fn unused_time_line(billed: Billed<'_>, from: i64, period: (i64, i64)) -> InvoiceLine {
    let full = billed.price.unit_amount.saturating_mul(billed.quantity);
    let amount = -prorate(full, period.1 - from, period.1 - period.0);
    let description = format!(
        "Unused time on {} after {}",
        quantity_and_name(billed.quantity, &billed.price.product_name),
        format_day(from)
    );
    line(billed, amount, description, (from, period.1), true)
}

/// The charge for the rest of a period on the new price and quantity.
pub(crate) fn remaining_time_line(
    billed: Billed<'_>,
    from: i64,
    period: (i64, i64),
) -> InvoiceLine {
    let full = billed.price.unit_amount.saturating_mul(billed.quantity);
    let amount = prorate(full, period.1 - from, period.1 - period.0);
    let description = format!(
        "Remaining time on {} after {}",
        quantity_and_name(billed.quantity, &billed.price.product_name),
        format_day(from)
    );
    line(billed, amount, description, (from, period.1), true)
}

/// Applies a coupon to the lines that are not prorations (Stripe's prorations already carry
/// the discount of the period they correct): the coupon's amount on their sum, spread in
/// proportion and rounded down, with what rounding left given to the first lines with room.
pub(crate) fn apply_discount(lines: &mut [InvoiceLine], coupon: &Coupon, currency: &str) {
    let eligible = |line: &InvoiceLine| !line.proration && line.amount > 0;
    let base = lines
        .iter()
        .filter(|line| eligible(line))
        .fold(0i64, |sum, line| sum.saturating_add(line.amount));
    if base <= 0 {
        return;
    }
    let discount = discount_amount(coupon, base, Some(currency), "discounts").unwrap_or(0);
    if discount <= 0 {
        return;
    }
    let mut given = 0i64;
    for line in lines.iter_mut().filter(|line| eligible(line)) {
        let share = i128::from(line.amount) * i128::from(discount) / i128::from(base);
        line.discount_amount = i64::try_from(share).unwrap_or(0);
        given = given.saturating_add(line.discount_amount);
    }
    let mut left = discount.saturating_sub(given);
    for line in lines.iter_mut().filter(|line| eligible(line)) {
        if left <= 0 {
            break;
        }
        let extra = (line.amount - line.discount_amount).min(left);
        line.discount_amount += extra;
        left -= extra;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::gateways::stripe::objects::CouponValue;

    /// 2026-03-05T00:00:00Z.
    const MAR_5: i64 = 1_772_668_800;
    const DAY: i64 = 86_400;

    fn price(unit_amount: i64) -> ItemPrice {
        ItemPrice {
            id: "price_pro".into(),
            product_id: "prod_pro".into(),
            product_name: "Pro".into(),
            currency: "usd".into(),
            unit_amount,
            recurring: Some(Recurring {
                interval: "month".into(),
                interval_count: 1,
            }),
            created: 0,
        }
    }

    fn billed(price: &ItemPrice, quantity: i64) -> Billed<'_> {
        Billed {
            subscription: "sub_1",
            item: "si_1",
            price,
            quantity,
        }
    }

    #[test]
    fn lines_read_as_stripe_prints_them() {
        let pro = price(2000);
        let period = period_line(billed(&pro, 2), MAR_5, MAR_5 + 30 * DAY);
        assert_eq!(period.description, "2 × Pro (at $20.00 / month)");
        assert_eq!(period.amount, 4000);
        assert!(!period.proration);
        let mut quarterly = price(6000);
        quarterly.recurring = Some(Recurring {
            interval: "month".into(),
            interval_count: 3,
        });
        assert_eq!(
            period_line(billed(&quarterly, 1), 0, 1).description,
            "1 × Pro (at $60.00 / every 3 months)"
        );
        assert_eq!(
            trial_line(billed(&pro, 1), 0, 1).description,
            "Trial period for Pro"
        );
    }

    #[test]
    fn prorations_credit_and_charge_the_rest_of_the_period() {
        let pro = price(3000);
        let period = (MAR_5 - 10 * DAY, MAR_5 + 20 * DAY);
        let unused = unused_time_line(billed(&pro, 1), MAR_5, period);
        assert_eq!(unused.amount, -2000);
        assert_eq!(unused.description, "Unused time on Pro after 5 Mar 2026");
        assert_eq!((unused.period_start, unused.period_end), (MAR_5, period.1));
        assert!(unused.proration && unused.invoice_item.is_some());
        let team = ItemPrice {
            product_name: "Team".into(),
            ..price(6000)
        };
        let remaining = remaining_time_line(billed(&team, 2), MAR_5, period);
        assert_eq!(remaining.amount, 8000);
        assert_eq!(
            remaining.description,
            "Remaining time on 2 × Team after 5 Mar 2026"
        );
    }

    #[test]
    fn discounts_spread_over_the_regular_lines() {
        let coupon = Coupon {
            id: "TEN".into(),
            name: None,
            value: CouponValue::PercentOff(1000),
            duration: "forever".into(),
            duration_in_months: None,
            metadata: BTreeMap::new(),
            created: 0,
        };
        let pro = price(1001);
        let mut lines = vec![
            period_line(billed(&pro, 1), 0, 1),
            period_line(billed(&pro, 2), 0, 1),
            unused_time_line(billed(&pro, 1), 5, (0, 10)),
        ];
        apply_discount(&mut lines, &coupon, "usd");
        // 10 % of 3003 is 300.3 -> 300: 100 and 200.
        assert_eq!(
            lines
                .iter()
                .map(|line| line.discount_amount)
                .collect::<Vec<_>>(),
            [100, 200, 0]
        );
    }
}
