//! The inbox: recording verified events once per (gateway, event id), and reading, replaying
//! and purging them.

use payswitch_core::{ProviderKind, WebhookEvent, WebhookEventKind};
use sqlx::Row;
use time::OffsetDateTime;

use crate::db::Db;
use crate::error::StoreError;
use crate::millis::{from_millis, to_millis};

/// What [`Store::receive`](crate::store::Store::receive) did with a webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Receipt {
    /// The gateway that sent it.
    pub gateway: ProviderKind,
    /// The gateway's event id.
    pub event_id: String,
    /// What happened, normalized.
    pub kind: WebhookEventKind,
    /// True when the inbox already held this event: nothing new was recorded. Acknowledge it
    /// all the same, or the gateway keeps delivering it.
    pub duplicate: bool,
}

/// Where an inbox event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventStatus {
    /// Waiting for a worker (new, or waiting for its next retry).
    Pending,
    /// Claimed by a worker whose lease has not run out.
    Processing,
    /// Applied and handled, exactly once.
    Done,
    /// Parked after its last attempt failed; replay it to try again.
    Failed,
}

impl EventStatus {
    /// The word the schema stores.
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Pending => "pending",
            EventStatus::Processing => "processing",
            EventStatus::Done => "done",
            EventStatus::Failed => "failed",
        }
    }

    fn parse(word: &str) -> Option<EventStatus> {
        match word {
            "pending" => Some(EventStatus::Pending),
            "processing" => Some(EventStatus::Processing),
            "done" => Some(EventStatus::Done),
            "failed" => Some(EventStatus::Failed),
            _ => None,
        }
    }
}

/// One inbox row, without the event body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboxEvent {
    /// The gateway's name.
    pub gateway: String,
    /// The gateway's event id.
    pub event_id: String,
    /// The gateway's own event type.
    pub event_type: String,
    /// Where it is.
    pub status: EventStatus,
    /// How many times a worker claimed it.
    pub attempts: u32,
    /// How many times the gateway delivered it.
    pub deliveries: u64,
    /// When the gateway created it.
    pub gateway_created_at: OffsetDateTime,
    /// When it was first received.
    pub received_at: OffsetDateTime,
    /// When it is due (pending), or when its lease runs out (processing).
    pub next_attempt_at: OffsetDateTime,
    /// The last failure, for pending retries and failed events.
    pub last_error: Option<String>,
    /// When it was done.
    pub processed_at: Option<OffsetDateTime>,
}

/// The stored name of a kind: its snake_case word, or `other` for a gateway type payswitch
/// does not know (whose own word is in `event_type`).
fn kind_name(kind: &WebhookEventKind) -> String {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::String(word)) => word,
        _ => "other".to_owned(),
    }
}

/// Records a verified event unless the inbox already holds it; a duplicate only counts
/// another delivery. One INSERT decides, so two instances receiving the same event at once
/// record it once.
pub(crate) async fn record(
    db: &Db,
    event: &WebhookEvent,
    now: OffsetDateTime,
) -> Result<Receipt, StoreError> {
    let json = serde_json::to_string(event).map_err(|error| StoreError::Corrupt {
        what: format!("event {}", event.id),
        message: error.to_string(),
    })?;
    let now = to_millis(now);
    let inserted = sqlx::query(
        "INSERT INTO payswitch_webhook_events (gateway, event_id, kind, event_type, event_json, \
         gateway_created_at, received_at, deliveries, status, attempts, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 'pending', 0, $7) \
         ON CONFLICT (gateway, event_id) DO NOTHING",
    )
    .bind(event.provider.name())
    .bind(&event.id)
    .bind(kind_name(&event.kind))
    .bind(&event.event_type)
    .bind(json)
    .bind(to_millis(event.created_at))
    .bind(now)
    .execute(&db.pool)
    .await?
    .rows_affected();
    let duplicate = inserted == 0;
    if duplicate {
        sqlx::query(
            "UPDATE payswitch_webhook_events SET deliveries = deliveries + 1 \
             WHERE gateway = $1 AND event_id = $2",
        )
        .bind(event.provider.name())
        .bind(&event.id)
        .execute(&db.pool)
        .await?;
    }
    Ok(Receipt {
        gateway: event.provider,
        event_id: event.id.clone(),
        kind: event.kind.clone(),
        duplicate,
    })
}

const COLUMNS: &str = "gateway, event_id, event_type, status, attempts, deliveries, \
    gateway_created_at, received_at, next_attempt_at, last_error, processed_at";

fn read_row(row: &sqlx::any::AnyRow) -> Result<InboxEvent, StoreError> {
    let gateway: String = row.try_get("gateway")?;
    let event_id: String = row.try_get("event_id")?;
    let status: String = row.try_get("status")?;
    let status = EventStatus::parse(&status).ok_or_else(|| StoreError::Corrupt {
        what: format!("event {gateway}/{event_id}"),
        message: format!("unknown status {status:?}"),
    })?;
    Ok(InboxEvent {
        event_type: row.try_get("event_type")?,
        status,
        attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
        deliveries: u64::try_from(row.try_get::<i64, _>("deliveries")?).unwrap_or(0),
        gateway_created_at: from_millis(row.try_get("gateway_created_at")?),
        received_at: from_millis(row.try_get("received_at")?),
        next_attempt_at: from_millis(row.try_get("next_attempt_at")?),
        last_error: row.try_get("last_error")?,
        processed_at: row
            .try_get::<Option<i64>, _>("processed_at")?
            .map(from_millis),
        gateway,
        event_id,
    })
}

/// Inbox rows with `status` (all when `None`), oldest first, at most `limit`.
pub(crate) async fn list(
    db: &Db,
    status: Option<EventStatus>,
    limit: u32,
) -> Result<Vec<InboxEvent>, StoreError> {
    let rows = match status {
        Some(status) => {
            sqlx::query(&format!(
                "SELECT {COLUMNS} FROM payswitch_webhook_events WHERE status = $1 \
                 ORDER BY received_at, gateway, event_id LIMIT $2"
            ))
            .bind(status.as_str())
            .bind(i64::from(limit))
            .fetch_all(&db.pool)
            .await?
        }
        None => {
            sqlx::query(&format!(
                "SELECT {COLUMNS} FROM payswitch_webhook_events \
                 ORDER BY received_at, gateway, event_id LIMIT $1"
            ))
            .bind(i64::from(limit))
            .fetch_all(&db.pool)
            .await?
        }
    };
    rows.iter().map(read_row).collect()
}

/// One inbox row.
pub(crate) async fn get(
    db: &Db,
    gateway: &str,
    event_id: &str,
) -> Result<Option<InboxEvent>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payswitch_webhook_events WHERE gateway = $1 AND event_id = $2"
    ))
    .bind(gateway)
    .bind(event_id)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(read_row).transpose()
}

/// The stored event itself.
pub(crate) async fn event(
    db: &Db,
    gateway: &str,
    event_id: &str,
) -> Result<Option<WebhookEvent>, StoreError> {
    let json: Option<String> = sqlx::query_scalar(
        "SELECT event_json FROM payswitch_webhook_events WHERE gateway = $1 AND event_id = $2",
    )
    .bind(gateway)
    .bind(event_id)
    .fetch_optional(&db.pool)
    .await?;
    json.map(|json| decode(gateway, event_id, &json))
        .transpose()
}

/// Reads a stored event back.
pub(crate) fn decode(
    gateway: &str,
    event_id: &str,
    json: &str,
) -> Result<WebhookEvent, StoreError> {
    serde_json::from_str(json).map_err(|error| StoreError::Corrupt {
        what: format!("event {gateway}/{event_id}"),
        message: error.to_string(),
    })
}

/// Makes an event due again now with fresh attempts, whatever its status, unless a worker
/// holds it right now (then it is already being processed, and a second run would race it).
/// Returns whether it was queued; `NotFound` when the inbox has no such event.
pub(crate) async fn replay(
    db: &Db,
    gateway: &str,
    event_id: &str,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let now = to_millis(now);
    let changed = sqlx::query(
        "UPDATE payswitch_webhook_events SET status = 'pending', attempts = 0, \
         next_attempt_at = $3, lease_owner = NULL, last_error = NULL \
         WHERE gateway = $1 AND event_id = $2 \
         AND NOT (status = 'processing' AND next_attempt_at > $3)",
    )
    .bind(gateway)
    .bind(event_id)
    .bind(now)
    .execute(&db.pool)
    .await?
    .rows_affected();
    if changed > 0 {
        return Ok(true);
    }
    match get(db, gateway, event_id).await? {
        Some(_) => Ok(false),
        None => Err(StoreError::NotFound {
            gateway: gateway.to_owned(),
            event_id: event_id.to_owned(),
        }),
    }
}

/// Makes every failed event due again now with fresh attempts; returns how many.
pub(crate) async fn replay_failed(db: &Db, now: OffsetDateTime) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE payswitch_webhook_events SET status = 'pending', attempts = 0, \
         next_attempt_at = $1, lease_owner = NULL WHERE status = 'failed'",
    )
    .bind(to_millis(now))
    .execute(&db.pool)
    .await?
    .rows_affected())
}

/// Deletes done events processed before `before`; returns how many. A gateway that
/// delivers one of them again afterwards (Stripe retries for three days) would have it
/// processed again, so keep them longer than the gateways' retry windows.
pub(crate) async fn purge_done(db: &Db, before: OffsetDateTime) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "DELETE FROM payswitch_webhook_events WHERE status = 'done' AND processed_at < $1",
    )
    .bind(to_millis(before))
    .execute(&db.pool)
    .await?
    .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_store_as_their_word() {
        assert_eq!(
            kind_name(&WebhookEventKind::CheckoutCompleted),
            "checkout_completed"
        );
        assert_eq!(kind_name(&WebhookEventKind::Other("x.y".into())), "other");
    }

    #[test]
    fn statuses_round_trip() {
        for status in [
            EventStatus::Pending,
            EventStatus::Processing,
            EventStatus::Done,
            EventStatus::Failed,
        ] {
            assert_eq!(EventStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(EventStatus::parse("nope"), None);
    }
}
