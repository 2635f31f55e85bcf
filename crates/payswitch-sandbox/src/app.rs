//! [`App`]: what every connection, handler and background task of one running sandbox shares.

use std::sync::{Mutex, MutexGuard};

use tokio::sync::watch;

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
}

impl App {
    /// Locks the state; a panic elsewhere must not wedge the sandbox, so a
    /// poisoned lock is taken over rather than propagated.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
