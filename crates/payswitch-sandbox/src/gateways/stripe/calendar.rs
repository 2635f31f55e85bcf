//! Billing periods on the calendar, in UTC, and the dates Stripe prints in invoice lines.
//!
//! Periods are counted from the subscription's billing cycle anchor every time, so a clamped
//! day does not drift: monthly from 31 January ends on the last day of February, then on
//! 31 March (Stripe's documented behaviour for month-end anchors).

use time::{Date, Month, OffsetDateTime};

const DAY: i64 = 24 * 60 * 60;

/// Returns the time `periods` × `interval_count` intervals after `anchor`; `None` for an
/// unknown interval or a date outside the calendar's range.
pub(crate) fn after_intervals(
    anchor: i64,
    interval: &str,
    interval_count: i64,
    periods: i64,
) -> Option<i64> {
    let steps = interval_count.checked_mul(periods)?;
    match interval {
        "day" => anchor.checked_add(steps.checked_mul(DAY)?),
        "week" => anchor.checked_add(steps.checked_mul(7 * DAY)?),
        "month" => add_months(anchor, steps),
        "year" => add_months(anchor, steps.checked_mul(12)?),
        _ => None,
    }
}

/// Returns the first period boundary counted from `anchor` that is strictly after `after`
/// (at least one interval after the anchor).
pub(crate) fn next_boundary(
    anchor: i64,
    interval: &str,
    interval_count: i64,
    after: i64,
) -> Option<i64> {
    first_boundary_after(anchor, interval, interval_count, after).map(|(_, boundary)| boundary)
}

/// Returns the period of the cycle counted from `anchor` that contains `at`: the last
/// boundary at or before it and the first one after it. `None` before the anchor.
pub(crate) fn period_containing(
    anchor: i64,
    interval: &str,
    interval_count: i64,
    at: i64,
) -> Option<(i64, i64)> {
    if at < anchor {
        return None;
    }
    let (periods, end) = first_boundary_after(anchor, interval, interval_count, at)?;
    let start = after_intervals(anchor, interval, interval_count, periods - 1)?;
    Some((start, end))
}

/// Returns how many periods after `anchor` the first boundary strictly after `after` is, and
/// that boundary (at least one period).
fn first_boundary_after(
    anchor: i64,
    interval: &str,
    interval_count: i64,
    after: i64,
) -> Option<(i64, i64)> {
    if interval_count < 1 {
        return None;
    }
    // Estimate how many periods fit, then step: calendar months are never more than a few
    // periods off the estimate.
    let average = match interval {
        "day" => DAY,
        "week" => 7 * DAY,
        "month" => 2_629_746,
        "year" => 31_556_952,
        _ => return None,
    };
    let span = after.saturating_sub(anchor).max(0);
    let estimate = (span / average.saturating_mul(interval_count)).saturating_sub(2);
    let mut periods = estimate.max(1);
    for _ in 0..8 {
        let boundary = after_intervals(anchor, interval, interval_count, periods)?;
        if boundary > after {
            return Some((periods, boundary));
        }
        periods = periods.checked_add(1)?;
    }
    None
}

fn add_months(anchor: i64, months: i64) -> Option<i64> {
    let start = OffsetDateTime::from_unix_timestamp(anchor).ok()?;
    let index = i64::from(start.year())
        .checked_mul(12)?
        .checked_add(i64::from(u8::from(start.month())) - 1)?
        .checked_add(months)?;
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    let day = start.day().min(month.length(year));
    let date = Date::from_calendar_date(year, month, day).ok()?;
    Some(date.with_time(start.time()).assume_utc().unix_timestamp())
}

/// Formats a time as Stripe's invoice lines print dates, e.g. `5 Mar 2026`.
pub(crate) fn format_day(at: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(at) {
        Ok(moment) => {
            let month = match moment.month() {
                Month::January => "Jan",
                Month::February => "Feb",
                Month::March => "Mar",
                Month::April => "Apr",
                Month::May => "May",
                Month::June => "Jun",
                Month::July => "Jul",
                Month::August => "Aug",
                Month::September => "Sep",
                Month::October => "Oct",
                Month::November => "Nov",
                Month::December => "Dec",
            };
            format!("{} {month} {}", moment.day(), moment.year())
        }
        Err(_) => at.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-31T10:20:30Z.
    const JAN_31: i64 = 1_769_854_830;

    fn ymd(at: i64) -> (i32, u8, u8, u8) {
        let moment = OffsetDateTime::from_unix_timestamp(at).expect("in range");
        (
            moment.year(),
            u8::from(moment.month()),
            moment.day(),
            moment.hour(),
        )
    }

    #[test]
    fn months_clamp_to_the_month_end_without_drifting() {
        assert_eq!(ymd(JAN_31), (2026, 1, 31, 10));
        let ends: Vec<_> = (1..=4)
            .map(|periods| ymd(after_intervals(JAN_31, "month", 1, periods).expect("date")))
            .collect();
        assert_eq!(
            ends,
            [
                (2026, 2, 28, 10),
                (2026, 3, 31, 10),
                (2026, 4, 30, 10),
                (2026, 5, 31, 10)
            ]
        );
        // Leap years, quarters and years.
        assert_eq!(
            ymd(after_intervals(JAN_31, "month", 1, 25).expect("date")),
            (2028, 2, 29, 10)
        );
        assert_eq!(
            ymd(after_intervals(JAN_31, "month", 3, 1).expect("date")),
            (2026, 4, 30, 10)
        );
        assert_eq!(
            ymd(after_intervals(JAN_31, "year", 2, 1).expect("date")),
            (2028, 1, 31, 10)
        );
        assert_eq!(
            after_intervals(JAN_31, "week", 2, 1),
            Some(JAN_31 + 14 * DAY)
        );
        assert_eq!(after_intervals(JAN_31, "day", 1, 3), Some(JAN_31 + 3 * DAY));
        assert_eq!(after_intervals(JAN_31, "fortnight", 1, 1), None);
        assert_eq!(after_intervals(i64::MAX, "day", 1, 1), None);
        assert_eq!(after_intervals(JAN_31, "year", 1, i64::MAX), None);
    }

    #[test]
    fn the_next_boundary_is_strictly_after() {
        let feb_28 = after_intervals(JAN_31, "month", 1, 1).expect("date");
        let mar_31 = after_intervals(JAN_31, "month", 1, 2).expect("date");
        assert_eq!(next_boundary(JAN_31, "month", 1, JAN_31), Some(feb_28));
        assert_eq!(next_boundary(JAN_31, "month", 1, feb_28 - 1), Some(feb_28));
        assert_eq!(next_boundary(JAN_31, "month", 1, feb_28), Some(mar_31));
        let ten_years = after_intervals(JAN_31, "month", 1, 120).expect("date");
        assert_eq!(
            next_boundary(JAN_31, "month", 1, ten_years),
            after_intervals(JAN_31, "month", 1, 121)
        );
        assert_eq!(
            next_boundary(JAN_31, "day", 1, JAN_31 + DAY),
            Some(JAN_31 + 2 * DAY)
        );
        assert_eq!(next_boundary(JAN_31, "day", 0, JAN_31), None);
    }

    #[test]
    fn the_period_containing_a_time_is_bounded_by_the_cycle() {
        let boundary = |periods| after_intervals(JAN_31, "month", 1, periods).expect("date");
        assert_eq!(
            period_containing(JAN_31, "month", 1, JAN_31),
            Some((JAN_31, boundary(1)))
        );
        assert_eq!(
            period_containing(JAN_31, "month", 1, boundary(1)),
            Some((boundary(1), boundary(2)))
        );
        assert_eq!(
            period_containing(JAN_31, "month", 1, boundary(37) + 5),
            Some((boundary(37), boundary(38)))
        );
        assert_eq!(period_containing(JAN_31, "month", 1, JAN_31 - 1), None);
        assert_eq!(
            period_containing(JAN_31, "day", 1, JAN_31 + 1000 * DAY + 7),
            Some((JAN_31 + 1000 * DAY, JAN_31 + 1001 * DAY))
        );
    }

    #[test]
    fn days_print_as_in_stripe_lines() {
        assert_eq!(format_day(JAN_31), "31 Jan 2026");
        assert_eq!(format_day(0), "1 Jan 1970");
        assert_eq!(format_day(i64::MAX), i64::MAX.to_string());
    }
}
