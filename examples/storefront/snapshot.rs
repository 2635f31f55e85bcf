//! `/orders.json`: what an operator (or a test) sees of the shop — every order, the store's
//! record of each order's subscription, and the store's inbox in numbers.

use payswitch::store::{EventStatus, StoreError};
use payswitch::ProviderKind;
use serde::Serialize;

use crate::catalog::PlanIds;
use crate::orders::{Order, Orders};
use crate::records::StoredSubscription;
use crate::versions::SETTLE_EVENT_TYPE;

/// Every order and what the store holds.
#[derive(Debug, Serialize)]
pub struct Snapshot {
    /// The gateway (or the migration) this storefront runs on.
    pub gateway: String,
    /// Every order, oldest first.
    pub orders: Vec<Order>,
    /// The store's record of each order's subscription (the latest webhook's state).
    pub subscriptions: Vec<StoredSubscription>,
    /// Every webhook event the store's worker has processed, by arrival; each appears once.
    pub processed_event_ids: Vec<String>,
    /// Deliveries the store recognised as repeats of an event it already held.
    pub duplicate_deliveries: u64,
    /// Events received and not processed yet (waiting for the worker, or for a retry).
    pub pending_events: u64,
    /// Events the worker gave up on (parked; the store can replay them).
    pub failed_events: u64,
    /// Ties settled by asking the gateway (`crate::versions`): recorded and processed like
    /// events, but no gateway sent them, so they are not among `processed_event_ids`.
    pub settled_ties: u64,
}

/// How many inbox rows the snapshot reads: this is a demo's operator view, not a report.
const SNAPSHOT_EVENTS: u32 = 10_000;

/// Everything, for tests and operators.
pub async fn snapshot(
    orders: &Orders,
    plans: &PlanIds,
    gateway: &str,
) -> Result<Snapshot, StoreError> {
    let store = orders.store();
    let orders = orders.list().await?;
    let mut subscriptions = Vec::new();
    for order in &orders {
        let (Some(kind), Some(id)) = (
            ProviderKind::from_name(&order.gateway),
            order.subscription_id.as_deref(),
        ) else {
            continue;
        };
        if let Some(record) = store.subscription(kind, id).await? {
            subscriptions.push(StoredSubscription::new(&record, plans));
        }
    }
    let mut snapshot = Snapshot {
        gateway: gateway.to_owned(),
        orders,
        subscriptions,
        processed_event_ids: Vec::new(),
        duplicate_deliveries: 0,
        pending_events: 0,
        failed_events: 0,
        settled_ties: 0,
    };
    for event in store.events(None, SNAPSHOT_EVENTS).await? {
        snapshot.duplicate_deliveries += event.deliveries.saturating_sub(1);
        match event.status {
            EventStatus::Done if event.event_type == SETTLE_EVENT_TYPE => {
                snapshot.settled_ties += 1
            }
            EventStatus::Done => snapshot.processed_event_ids.push(event.event_id),
            EventStatus::Failed => snapshot.failed_events += 1,
            // Pending, processing, and statuses a later store adds: not done yet.
            _ => snapshot.pending_events += 1,
        }
    }
    Ok(snapshot)
}
