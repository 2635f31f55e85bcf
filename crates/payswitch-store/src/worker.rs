//! [`Worker`]: the loop each application instance runs to process the inbox.

use std::future::Future;
use std::sync::Arc;

use crate::error::StoreError;
use crate::handler::EventHandler;
use crate::processing::ProcessReport;
use crate::store::Store;

/// Processes the inbox: claims due events, applies each and runs the handler, marks it
/// done; retries failures with backoff; parks what runs out of attempts. Run one or more on
/// every instance: claims never overlap.
#[derive(Clone)]
pub struct Worker {
    store: Store,
    handler: Arc<dyn EventHandler>,
    owner: String,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker on `store` running `handler`, with a fresh random owner id.
    pub fn new(store: Store, handler: impl EventHandler + 'static) -> Self {
        Self {
            store,
            handler: Arc::new(handler),
            owner: format!("worker-{}", uuid::Uuid::new_v4()),
        }
    }

    /// Uses `owner` as the lease owner id (it must be unique among live workers; a restarted
    /// worker should take a new one).
    pub fn with_owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = owner.into();
        self
    }

    /// The lease owner id.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// One claim and what it took.
    pub async fn run_once(&self) -> Result<ProcessReport, StoreError> {
        self.store
            .process_due(self.handler.as_ref(), &self.owner)
            .await
    }

    /// Claims and processes until nothing is due (events waiting for a later retry stay
    /// waiting). For tests, commands and a drain before shutdown.
    pub async fn run_until_idle(&self) -> Result<ProcessReport, StoreError> {
        let mut total = ProcessReport::default();
        loop {
            let report = self.run_once().await?;
            total.add(report);
            if report.claimed == 0 {
                return Ok(total);
            }
        }
    }

    /// Processes until `shutdown` completes, waiting the configured poll interval whenever
    /// nothing is due. Database errors are logged and retried after the poll interval, so a
    /// database restart does not stop the worker. A shutdown waits for the event in hand.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        let poll = self.store.config().poll_interval;
        tokio::pin!(shutdown);
        loop {
            let idle = match self.run_once().await {
                Ok(report) => report.claimed == 0,
                Err(error) => {
                    tracing::warn!(owner = %self.owner, %error, "payswitch-store: worker round failed");
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(poll) => {}
                }
            } else if futures::FutureExt::now_or_never(&mut shutdown).is_some() {
                return;
            }
        }
    }
}
