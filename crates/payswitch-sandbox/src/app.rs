//! [`App`]: what every connection, handler and background task of one running sandbox shares.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{watch, Semaphore};

use crate::config::Config;
use crate::state::State;

/// Shared by every connection: configuration, state and the webhook client.
pub(crate) struct App {
    pub(crate) config: Config,
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub(crate) base_url: String,
    pub(crate) state: Mutex<State>,
    pub(crate) http: reqwest::Client,
    pub(crate) shutdown: watch::Receiver<bool>,
    /// The runtime the sandbox was started on: handle methods may be called
    /// from outside it, and webhook tasks must still be spawned there.
    pub(crate) runtime: tokio::runtime::Handle,
    /// One permit per webhook delivery task alive (attempts and backoff waits), so a burst of
    /// events or a dead endpoint cannot pile up tasks without bound.
    pub(crate) deliveries_in_flight: Arc<Semaphore>,
}

/// Most webhook delivery tasks alive at once; an event for an endpoint beyond it is recorded
/// as a failed delivery instead of queued.
pub(crate) const MAX_PENDING_DELIVERIES: usize = 1000;

impl App {
    /// Locks the state; a panic elsewhere must not wedge the sandbox, so a
    /// poisoned lock is taken over rather than propagated.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
