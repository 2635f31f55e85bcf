//! Settling subscription events of the same time that disagree.
//!
//! The store keeps each subscription as the newest event reported it, comparing the
//! gateway's event times, and at equal times it keeps the later stage of the subscription's
//! life (an `active` never undoes a `canceled` of the same second). Two changes at the same
//! stage and the same time still apply in processing order: Stripe stamps events to the
//! second, so a "cancel scheduled" and a "resumed" clicked a moment apart carry one time, and
//! if the gateway delivers them in the other order the store ends with the cancellation.
//! Neither event says which came last; the gateway does.
//!
//! So the storefront's handler remembers, per subscription, the time, the rank and the state
//! of the newest event it has seen (`subscription_versions`, in the same transaction as the
//! store's update). An event of the same time and rank that says something else marks the
//! subscription to be settled ([`observe`]); a different rank needs nothing, since the store
//! keeps the one further along. After the worker's round, outside any transaction, the
//! storefront retrieves each marked subscription from the gateway and records it as a settle
//! event of that same time ([`settle_event`]), which the worker then applies like any other: it comes
//! after both, so the store ends with what the gateway holds, and a later event still
//! supersedes it. A retrieve that fails is tried again later ([`postpone`]); meanwhile the
//! account page shows the gateway's state anyway (it retrieves on every view).
//!
//! On PostgreSQL, two instances processing two events of one subscription at the same moment
//! can both miss the tie (each sees the other's row only after it commits); the next event
//! or a reconcile settles it then, as the store's own rule does.

use payswitch::store::Store;
use payswitch::{Subscription, WebhookEvent, WebhookEventKind};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

/// The event type of a settle event (a retrieved subscription recorded in the inbox).
pub const SETTLE_EVENT_TYPE: &str = "storefront.settle";

/// How an event's subscription compares with the newest one seen for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Created later, or at the same time and further along (as the store's rank says), or
    /// the first seen: it is now the newest.
    Newer,
    /// Created at the same time, as far along, and says the same: nothing to settle (a
    /// Stripe checkout's several events of one moment).
    Same,
    /// Created at the same time, as far along, and says something else: which is current is
    /// unknown, and the store keeps whichever it processed last.
    Tied,
    /// Created earlier, or at the same time and less far along: the store ignores it too.
    Older,
}

/// A version of a subscription: its event's time (unix ms), its rank, its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version<'a> {
    /// The gateway's time of the event.
    pub at: i64,
    /// How far along its life the subscription is ([`rank`]).
    pub rank: i64,
    /// What it says ([`state_of`]).
    pub state: &'a str,
}

/// Compares an event's version of a subscription with the newest seen.
pub fn compare(incoming: Version<'_>, held: Option<Version<'_>>) -> Seen {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let Some(held) = held else {
        return Seen::Newer;
    };
    match (incoming.at.cmp(&held.at), incoming.rank.cmp(&held.rank)) {
        (Greater, _) | (Equal, Greater) => Seen::Newer,
        (Less, _) | (Equal, Less) => Seen::Older,
        (Equal, Equal) if incoming.state == held.state => Seen::Same,
        (Equal, Equal) => Seen::Tied,
    }
}

/// How far along its life a subscription is, as the store ranks snapshots of the same time
/// (`docs/store.md` §3): its stage — not started, trial, live (active, past due, paused,
/// unpaid, or a status payswitch does not know), ended — then its current period's end.
/// The store orders snapshots of different ranks whatever the delivery order; only equal
/// ranks can tie.
pub fn rank(subscription: &Subscription) -> i64 {
    use payswitch::SubscriptionStatus::{
        Active, Canceled, Expired, Incomplete, Other, PastDue, Paused, Trialing, Unpaid,
    };
    // Unix ms fit in 44 bits until the year 2527.
    const PERIOD_BITS: u32 = 44;
    let stage: i64 = match subscription.status {
        Incomplete => 0,
        Trialing => 1,
        Active | PastDue | Paused | Unpaid | Other(_) => 2,
        Canceled | Expired => 3,
        // A status added to payswitch after this example: live, like an unknown word.
        _ => 2,
    };
    let period_end = subscription
        .current_period_end
        .map(millis)
        .unwrap_or(0)
        .clamp(0, (1i64 << PERIOD_BITS) - 1);
    (stage << PERIOD_BITS) | period_end
}

/// What of a subscription two events can disagree on, as one comparable string.
pub fn state_of(subscription: &Subscription) -> String {
    #[derive(Serialize)]
    struct State<'a> {
        status: &'a payswitch::SubscriptionStatus,
        cancel_scheduled: bool,
        cancel_at: Option<i64>,
        period_end: Option<i64>,
        items: Vec<(Option<&'a str>, Option<&'a str>, u32)>,
    }
    let state = State {
        status: &subscription.status,
        cancel_scheduled: subscription.is_cancel_scheduled(),
        cancel_at: subscription.cancel_at.map(millis),
        period_end: subscription.current_period_end.map(millis),
        items: subscription
            .items
            .iter()
            .map(|item| {
                (
                    item.price_id.as_deref(),
                    item.product_id.as_deref(),
                    item.quantity,
                )
            })
            .collect(),
    };
    serde_json::to_string(&state).unwrap_or_default()
}

/// Unix milliseconds of a time.
pub fn millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Notes an event's subscription in the processing transaction and says how it compares.
/// A tie marks the subscription to be settled now; a settle event (`settled`) replaces the
/// state of its time and clears the mark.
pub async fn observe(
    connection: &mut AnyConnection,
    subscription: &Subscription,
    at: OffsetDateTime,
    settled: bool,
    now: i64,
) -> Result<Seen, sqlx::Error> {
    let gateway = subscription.provider.name();
    let at = millis(at);
    let rank = rank(subscription);
    let state = state_of(subscription);
    let held = sqlx::query(
        "SELECT event_at, event_rank, state FROM subscription_versions \
         WHERE gateway = $1 AND subscription_id = $2",
    )
    .bind(gateway)
    .bind(&subscription.id)
    .fetch_optional(&mut *connection)
    .await?;
    let held = match &held {
        Some(row) => Some((
            row.try_get::<i64, _>("event_at")?,
            row.try_get::<i64, _>("event_rank")?,
            row.try_get::<String, _>("state")?,
        )),
        None => None,
    };
    let seen = compare(
        Version {
            at,
            rank,
            state: &state,
        },
        held.as_ref().map(|(at, rank, state)| Version {
            at: *at,
            rank: *rank,
            state,
        }),
    );
    match (seen, settled) {
        // What the gateway said when asked is the state of that time.
        (Seen::Same | Seen::Tied, true) | (Seen::Newer, _) => {
            sqlx::query(
                "INSERT INTO subscription_versions (gateway, subscription_id, event_at, \
                 event_rank, state, settle_after) VALUES ($1, $2, $3, $4, $5, NULL) \
                 ON CONFLICT (gateway, subscription_id) DO UPDATE SET \
                 event_at = excluded.event_at, event_rank = excluded.event_rank, \
                 state = excluded.state, settle_after = NULL",
            )
            .bind(gateway)
            .bind(&subscription.id)
            .bind(at)
            .bind(rank)
            .bind(&state)
            .execute(&mut *connection)
            .await?;
        }
        (Seen::Tied, false) => {
            sqlx::query(
                "UPDATE subscription_versions SET settle_after = COALESCE(settle_after, $4) \
                 WHERE gateway = $1 AND subscription_id = $2 AND event_at = $3",
            )
            .bind(gateway)
            .bind(&subscription.id)
            .bind(at)
            .bind(now)
            .execute(&mut *connection)
            .await?;
        }
        (Seen::Same, false) | (Seen::Older, _) => {}
    }
    Ok(seen)
}

/// A subscription marked to be settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// The gateway's name.
    pub gateway: String,
    /// The gateway's subscription id.
    pub subscription_id: String,
    /// The time of the events that disagree, unix ms.
    pub event_at: i64,
}

/// The subscriptions whose settling is due at `now`.
pub async fn due(store: &Store, now: i64) -> Result<Vec<Due>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT gateway, subscription_id, event_at FROM subscription_versions \
         WHERE settle_after IS NOT NULL AND settle_after <= $1 ORDER BY settle_after",
    )
    .bind(now)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Due {
                gateway: row.try_get("gateway")?,
                subscription_id: row.try_get("subscription_id")?,
                event_at: row.try_get("event_at")?,
            })
        })
        .collect()
}

/// Tries a settling again at `until` (the retrieve failed), unless a newer event came.
pub async fn postpone(store: &Store, due: &Due, until: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE subscription_versions SET settle_after = $4 \
         WHERE gateway = $1 AND subscription_id = $2 AND event_at = $3 \
         AND settle_after IS NOT NULL",
    )
    .bind(&due.gateway)
    .bind(&due.subscription_id)
    .bind(due.event_at)
    .bind(until)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Clears a settling whose settle event is recorded (its processing updates the state).
pub async fn recorded(store: &Store, due: &Due) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE subscription_versions SET settle_after = NULL \
         WHERE gateway = $1 AND subscription_id = $2 AND event_at = $3",
    )
    .bind(&due.gateway)
    .bind(&due.subscription_id)
    .bind(due.event_at)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// The settle event for a subscription retrieved from the gateway: the retrieved state at the
/// time of the events it settles, with an id of its own (`settle:{subscription}:{time}:{now}`)
/// so a second tie at the same time is settled again.
pub fn settle_event(subscription: Subscription, due: &Due, now: i64) -> WebhookEvent {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(due.event_at) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let mut event = WebhookEvent::new(
        format!("settle:{}:{}:{now}", subscription.id, due.event_at),
        subscription.provider,
        WebhookEventKind::SubscriptionUpdated,
        SETTLE_EVENT_TYPE,
        at,
    );
    event.subscription = Some(subscription);
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_table() {
        let version = |at, rank, state| Version { at, rank, state };
        let held = Some(version(1_000, 5, "a"));
        let cases = [
            (version(1_000, 5, "a"), None, Seen::Newer, "nothing seen"),
            (version(2_000, 1, "b"), held, Seen::Newer, "later"),
            (
                version(1_000, 6, "b"),
                held,
                Seen::Newer,
                "same time, further along",
            ),
            (
                version(1_000, 5, "a"),
                held,
                Seen::Same,
                "same time and rank, same state",
            ),
            (
                version(1_000, 5, "b"),
                held,
                Seen::Tied,
                "same time and rank, another state",
            ),
            (
                version(1_000, 4, "b"),
                held,
                Seen::Older,
                "same time, less far along",
            ),
            (version(500, 9, "b"), held, Seen::Older, "earlier"),
        ];
        for (incoming, held, expected, case) in cases {
            assert_eq!(compare(incoming, held), expected, "{case}");
        }
    }

    #[test]
    fn an_ended_subscription_outranks_a_live_one_and_a_renewal_its_last_period() {
        use payswitch::SubscriptionStatus;
        let at = |seconds| OffsetDateTime::from_unix_timestamp(seconds).expect("a time");
        let mut live = Subscription::new(
            "sub_1",
            payswitch::ProviderKind::MEMORY,
            SubscriptionStatus::Active,
        );
        live.current_period_end = Some(at(1_700_000_000));
        let mut renewed = live.clone();
        renewed.current_period_end = Some(at(1_702_600_000));
        let mut canceled = live.clone();
        canceled.status = SubscriptionStatus::Canceled;
        assert!(rank(&renewed) > rank(&live));
        assert!(rank(&canceled) > rank(&renewed));
        let mut scheduled = live.clone();
        scheduled.cancel_at_period_end = true;
        assert_eq!(
            rank(&scheduled),
            rank(&live),
            "a cancel and a resume can tie"
        );
    }

    #[test]
    fn the_state_covers_what_a_cancel_and_a_resume_change() {
        let mut subscription = Subscription::new(
            "sub_1",
            payswitch::ProviderKind::MEMORY,
            payswitch::SubscriptionStatus::Active,
        );
        let active = state_of(&subscription);
        subscription.cancel_at_period_end = true;
        assert_ne!(state_of(&subscription), active);
    }
}
