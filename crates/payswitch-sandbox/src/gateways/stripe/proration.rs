//! Proration arithmetic, in integers: the share of a period's amount for the seconds left.
//!
//! Stripe prorates by the second and rounds each proration line to the nearest minor unit;
//! a credit for unused time is the negative of the same share of the old amount.

/// Returns `amount` × `remaining` / `period`, rounded to the nearest minor unit (halves away
/// from zero). `remaining` is clamped to `0..=period`; an empty period prorates to 0.
pub(crate) fn prorate(amount: i64, remaining: i64, period: i64) -> i64 {
    if period <= 0 {
        return 0;
    }
    let remaining = i128::from(remaining.clamp(0, period));
    let period = i128::from(period);
    let scaled = i128::from(amount) * remaining;
    let half = period / 2;
    let rounded = if scaled >= 0 {
        (scaled + half) / period
    } else {
        (scaled - half) / period
    };
    // |rounded| <= |amount|, so it always fits back.
    i64::try_from(rounded).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_round_to_the_nearest_unit() {
        // Half a 30-day month of $10.00.
        assert_eq!(prorate(1000, 15 * 86_400, 30 * 86_400), 500);
        // A third: 333.33 -> 333; two thirds: 666.67 -> 667.
        assert_eq!(prorate(1000, 10, 30), 333);
        assert_eq!(prorate(1000, 20, 30), 667);
        // Halves go away from zero, credits too.
        assert_eq!(prorate(1, 1, 2), 1);
        assert_eq!(prorate(-1, 1, 2), -1);
        assert_eq!(prorate(-1000, 20, 30), -667);
        // Clamped and degenerate inputs.
        assert_eq!(prorate(1000, -5, 30), 0);
        assert_eq!(prorate(1000, 45, 30), 1000);
        assert_eq!(prorate(1000, 10, 0), 0);
        assert_eq!(prorate(i64::MAX, i64::MAX, i64::MAX), i64::MAX);
        assert_eq!(prorate(i64::MIN, 1, 1), i64::MIN);
    }
}
