//! Processing exactly once: claiming due events with a lease, and running each in one
//! transaction that applies it to the billing tables, runs the application's handler and
//! marks it done, committed only while the lease is still ours.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use payswitch_core::Clock;
use sqlx::Row;

use crate::billing::apply::apply_event;
use crate::config::StoreConfig;
use crate::db::Db;
use crate::error::StoreError;
use crate::handler::{EventContext, EventHandler};
use crate::inbox::decode;
use crate::millis::{duration_millis, to_millis};

/// What one round of processing did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessReport {
    /// Events claimed.
    pub claimed: usize,
    /// Events applied, handled and marked done.
    pub done: usize,
    /// Events that failed and wait for a retry.
    pub retried: usize,
    /// Events parked as failed (out of attempts, or unreadable).
    pub parked: usize,
    /// Events whose lease ran out before they were done: another instance has them now,
    /// and nothing of this attempt was committed.
    pub lost: usize,
}

impl ProcessReport {
    /// Adds another round's counts.
    pub fn add(&mut self, other: ProcessReport) {
        self.claimed += other.claimed;
        self.done += other.done;
        self.retried += other.retried;
        self.parked += other.parked;
        self.lost += other.lost;
    }
}

/// A claimed event.
struct Claimed {
    gateway: String,
    event_id: String,
    attempts: u32,
    json: String,
}

/// How one attempt ended.
enum Ended {
    Done,
    Retried,
    Parked,
    Lost,
}

/// The longest error message kept in the inbox.
const MAX_ERROR_LEN: usize = 2_000;

/// Claims up to `limit` due events for `owner`: pending events whose time has come, and
/// processing events whose lease ran out (their instance died). The lease's end is kept in
/// `next_attempt_at`, so one index serves both. On PostgreSQL, rows another instance is
/// claiming are skipped, not waited for.
async fn claim(
    db: &Db,
    owner: &str,
    now: i64,
    lease_until: i64,
    limit: u32,
) -> Result<Vec<Claimed>, StoreError> {
    let rows = sqlx::query(&format!(
        "UPDATE payswitch_webhook_events SET status = 'processing', lease_owner = $1, \
         next_attempt_at = $2, attempts = attempts + 1 \
         WHERE (gateway, event_id) IN (SELECT gateway, event_id FROM payswitch_webhook_events \
         WHERE status IN ('pending', 'processing') AND next_attempt_at <= $3 \
         ORDER BY next_attempt_at LIMIT $4{}) \
         RETURNING gateway, event_id, attempts, event_json",
        db.backend.skip_locked()
    ))
    .bind(owner)
    .bind(lease_until)
    .bind(now)
    .bind(i64::from(limit.max(1)))
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Claimed {
                gateway: row.try_get("gateway")?,
                event_id: row.try_get("event_id")?,
                attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
                json: row.try_get("event_json")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(StoreError::from)
}

/// Claims the due events and processes each; returns what happened.
pub(crate) async fn process_due(
    db: &Db,
    config: &StoreConfig,
    clock: &dyn Clock,
    handler: &dyn EventHandler,
    owner: &str,
) -> Result<ProcessReport, StoreError> {
    let now = to_millis(clock.now());
    let lease_until = now.saturating_add(duration_millis(config.lease));
    let claimed = claim(db, owner, now, lease_until, config.batch_size).await?;
    let mut report = ProcessReport {
        claimed: claimed.len(),
        ..ProcessReport::default()
    };
    for event in claimed {
        match process_one(db, config, clock, handler, owner, &event).await? {
            Ended::Done => report.done += 1,
            Ended::Retried => report.retried += 1,
            Ended::Parked => report.parked += 1,
            Ended::Lost => report.lost += 1,
        }
    }
    Ok(report)
}

/// One attempt at one event.
async fn process_one(
    db: &Db,
    config: &StoreConfig,
    clock: &dyn Clock,
    handler: &dyn EventHandler,
    owner: &str,
    claimed: &Claimed,
) -> Result<Ended, StoreError> {
    // Attempts count claims; a failure parks at the limit, so a claim past it means every
    // earlier attempt died holding the lease (a crash, or a handler that hangs the process).
    if claimed.attempts > config.retry.max_attempts.max(1) {
        let message = "every attempt's lease ran out: the instances processing it died or hung";
        return fail(db, config, clock, owner, claimed, message, true).await;
    }
    let event = match decode(&claimed.gateway, &claimed.event_id, &claimed.json) {
        Ok(event) => event,
        Err(error) => {
            return fail(db, config, clock, owner, claimed, &error.to_string(), true).await
        }
    };
    let now = to_millis(clock.now());
    let mut transaction = db.pool.begin().await?;
    // The mark comes first: it proves the lease is still ours and, on PostgreSQL, locks the
    // row, so no other instance can claim the event until this transaction ends.
    let marked = sqlx::query(
        "UPDATE payswitch_webhook_events SET status = 'done', processed_at = $4, \
         lease_owner = NULL, last_error = NULL \
         WHERE gateway = $1 AND event_id = $2 AND lease_owner = $3 AND status = 'processing'",
    )
    .bind(&claimed.gateway)
    .bind(&claimed.event_id)
    .bind(owner)
    .bind(now)
    .execute(&mut *transaction)
    .await?
    .rows_affected();
    if marked == 0 {
        transaction.rollback().await?;
        return Ok(Ended::Lost);
    }
    let applied = match apply_event(&mut transaction, &event, now).await {
        Ok(applied) => applied,
        Err(error) => {
            let _ = transaction.rollback().await;
            let message = format!("applying to the billing tables: {error}");
            return fail(db, config, clock, owner, claimed, &message, false).await;
        }
    };
    let context = EventContext {
        applied,
        attempt: claimed.attempts,
    };
    let handled = tokio::time::timeout(
        config.lease,
        AssertUnwindSafe(handler.handle(&event, &context, &mut transaction)).catch_unwind(),
    )
    .await;
    let failure = match handled {
        Ok(Ok(Ok(()))) => match transaction.commit().await {
            Ok(()) => return Ok(Ended::Done),
            Err(error) => format!("commit: {error}"),
        },
        Ok(Ok(Err(error))) => {
            let _ = transaction.rollback().await;
            format!("handler: {error}")
        }
        Ok(Err(_panic)) => {
            let _ = transaction.rollback().await;
            "handler panicked".to_owned()
        }
        Err(_elapsed) => {
            let _ = transaction.rollback().await;
            format!("handler ran past the lease ({:?})", config.lease)
        }
    };
    fail(db, config, clock, owner, claimed, &failure, false).await
}

/// Records a failed attempt: due again after the backoff, or parked as failed when the
/// attempts are spent (or `park` says retrying cannot help). Only while the lease is ours.
async fn fail(
    db: &Db,
    config: &StoreConfig,
    clock: &dyn Clock,
    owner: &str,
    claimed: &Claimed,
    message: &str,
    park: bool,
) -> Result<Ended, StoreError> {
    let park = park || config.retry.exhausted(claimed.attempts);
    let now = to_millis(clock.now());
    let next = now.saturating_add(duration_millis(config.retry.delay(claimed.attempts)));
    let mut message = message.to_owned();
    if message.len() > MAX_ERROR_LEN {
        let mut cut = MAX_ERROR_LEN;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
    }
    let changed = sqlx::query(
        "UPDATE payswitch_webhook_events SET status = $4, next_attempt_at = $5, \
         lease_owner = NULL, last_error = $6 \
         WHERE gateway = $1 AND event_id = $2 AND lease_owner = $3 AND status = 'processing'",
    )
    .bind(&claimed.gateway)
    .bind(&claimed.event_id)
    .bind(owner)
    .bind(if park { "failed" } else { "pending" })
    .bind(next)
    .bind(&message)
    .execute(&db.pool)
    .await?
    .rows_affected();
    tracing::warn!(
        gateway = %claimed.gateway,
        event_id = %claimed.event_id,
        attempt = claimed.attempts,
        parked = park,
        error = %message,
        "payswitch-store: processing an event failed"
    );
    Ok(match (changed, park) {
        (0, _) => Ended::Lost,
        (_, true) => Ended::Parked,
        (_, false) => Ended::Retried,
    })
}
