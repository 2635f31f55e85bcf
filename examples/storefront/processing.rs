//! The background task that processes the store's inbox: the store's [`Worker`] running the
//! storefront's handler ([`FulfilOrders`]), then the settling of subscription events of the
//! same time that disagree ([`crate::versions`]), which needs the gateway and so runs outside
//! the worker's transactions.
//!
//! The webhook route answers as soon as the store has recorded an event, then wakes this task
//! ([`Wake`]), so an event is usually processed within milliseconds; the task also looks for
//! due events every poll interval (retries after a failure, and events other instances
//! received, when several share a database).

use std::sync::Arc;
use std::time::Duration;

use payswitch::store::{Store, StoreError, Worker};
use payswitch::CheckoutProvider;
use tokio::sync::Notify;

use crate::fulfil::FulfilOrders;
use crate::orders::now_millis;
use crate::versions;

/// Wakes the processing task: an event was just recorded.
#[derive(Debug, Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    /// Asks for a round now (a wake while a round runs starts another after it).
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// What a round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Events the worker processed (done).
    pub processed: usize,
    /// Subscriptions retrieved and recorded to settle a tie.
    pub settled: usize,
}

/// The inbox's processing: the worker, and what settles ties.
pub struct Processing {
    store: Store,
    worker: Worker,
    gateway: Arc<dyn CheckoutProvider>,
    wake: Wake,
    settle_retry: Duration,
}

impl std::fmt::Debug for Processing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Processing")
            .field("worker", &self.worker)
            .finish_non_exhaustive()
    }
}

impl Processing {
    /// Processing of `store`'s inbox; ties are settled by retrieving from `gateway`.
    pub fn new(store: Store, gateway: Arc<dyn CheckoutProvider>) -> Self {
        Self {
            worker: Worker::new(store.clone(), FulfilOrders),
            store,
            gateway,
            wake: Wake::default(),
            settle_retry: Duration::from_secs(5),
        }
    }

    /// Sets how long a failed settling waits before it is tried again (5 s by default; the
    /// tests retry at the next round).
    #[cfg(test)]
    pub fn settle_retry(mut self, wait: Duration) -> Self {
        self.settle_retry = wait;
        self
    }

    /// The handle that wakes this task.
    pub fn waker(&self) -> Wake {
        self.wake.clone()
    }

    /// Processes every due event, settles the ties that found, and processes what settling
    /// recorded.
    pub async fn round(&self) -> Result<Round, StoreError> {
        let mut round = Round {
            processed: self.worker.run_until_idle().await?.done,
            settled: 0,
        };
        round.settled = self.settle_due().await?;
        if round.settled > 0 {
            round.processed += self.worker.run_until_idle().await?.done;
        }
        Ok(round)
    }

    /// Runs rounds until the process ends: on every wake, and every poll interval. A failed
    /// round (the database down) is logged and tried again at the next one.
    pub async fn run(self) {
        let poll = self.store.config().poll_interval;
        loop {
            if let Err(error) = self.round().await {
                tracing::warn!(%error, "processing the webhook inbox failed; trying again");
            }
            tokio::select! {
                () = self.wake.0.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Retrieves each subscription marked to be settled and records it as a settle event;
    /// returns how many were recorded.
    async fn settle_due(&self) -> Result<usize, StoreError> {
        let now = now_millis();
        let mut recorded = 0;
        for due in versions::due(&self.store, now).await? {
            let retrieved = self
                .gateway
                .retrieve_subscription(&due.subscription_id)
                .await;
            match retrieved {
                Ok(subscription) if subscription.provider.name() == due.gateway => {
                    // A retrieved object is the gateway's word as much as a signed webhook is
                    // (it came over the authenticated API), so it goes into the inbox the
                    // same way the store's own reconcile records what it fetches.
                    let event = versions::settle_event(subscription, &due, now);
                    self.store.record(&event).await?;
                    versions::recorded(&self.store, &due).await?;
                    recorded += 1;
                }
                Ok(_) => {
                    tracing::warn!(subscription = %due.subscription_id, gateway = %due.gateway, "the subscription was found on another gateway; not settled");
                    versions::recorded(&self.store, &due).await?;
                }
                Err(error) => {
                    tracing::warn!(subscription = %due.subscription_id, %error, "could not retrieve a subscription to settle a tie; trying again later");
                    let wait = i64::try_from(self.settle_retry.as_millis()).unwrap_or(i64::MAX);
                    versions::postpone(&self.store, &due, now.saturating_add(wait)).await?;
                }
            }
        }
        Ok(recorded)
    }
}
