//! [`WebhookInbox`]: a tiny in-process webhook receiver for tests and
//! examples. It records every delivery verbatim and answers 200, or the
//! statuses it was scripted with (to exercise retries).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use http::{Request, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// One request received by a [`WebhookInbox`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReceivedWebhook {
    /// HTTP method, normally `POST`.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Headers as (lower-case name, value) pairs.
    pub headers: Vec<(String, String)>,
    /// The raw body, exactly as received (what signatures are computed over).
    pub body: Vec<u8>,
    /// Status the inbox answered.
    pub answered: u16,
}

impl ReceivedWebhook {
    /// Returns the first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Returns the body as UTF-8 text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Parses the body as JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

#[derive(Default)]
struct Inner {
    received: Mutex<Vec<ReceivedWebhook>>,
    script: Mutex<VecDeque<u16>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An in-process webhook receiver on 127.0.0.1 with an ephemeral port.
/// Dropping it stops the server.
#[derive(Debug)]
pub struct WebhookInbox {
    url: String,
    inner: Arc<Inner>,
    shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Inner")
            .field("received", &lock(&self.received).len())
            .finish_non_exhaustive()
    }
}

impl WebhookInbox {
    /// Starts a receiver that answers 200 to everything.
    ///
    /// # Errors
    /// When 127.0.0.1 cannot be bound.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let address = listener.local_addr()?;
        let inner = Arc::new(Inner::default());
        let (shutdown, mut stopped) = watch::channel(false);
        let router = axum::Router::new()
            .fallback(receive)
            .with_state(Arc::clone(&inner));
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.changed().await;
                })
                .await;
        });
        Ok(Self {
            url: format!("http://{address}/webhooks"),
            inner,
            shutdown,
        })
    }

    /// Returns the URL to register as a webhook endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Answers the next requests with these statuses, in order, then 200
    /// again: `inbox.script_statuses([500, 500])` fails two deliveries.
    pub fn script_statuses(&self, statuses: impl IntoIterator<Item = u16>) {
        lock(&self.inner.script).extend(statuses);
    }

    /// Returns every request received so far, whatever was answered.
    pub fn received(&self) -> Vec<ReceivedWebhook> {
        lock(&self.inner.received).clone()
    }

    /// Returns the requests that were answered with a 2xx status.
    pub fn accepted(&self) -> Vec<ReceivedWebhook> {
        self.received()
            .into_iter()
            .filter(|webhook| (200..300).contains(&webhook.answered))
            .collect()
    }

    /// Waits until at least `count` requests have arrived (answered with
    /// any status) or `timeout` passes, then returns all received so far.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedWebhook> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.len() >= count || tokio::time::Instant::now() >= deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until at least `count` requests were answered 2xx or `timeout`
    /// passes, then returns the accepted ones.
    pub async fn wait_for_accepted(&self, count: usize, timeout: Duration) -> Vec<ReceivedWebhook> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let accepted = self.accepted();
            if accepted.len() >= count || tokio::time::Instant::now() >= deadline {
                return accepted;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for WebhookInbox {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

async fn receive(State(inner): State<Arc<Inner>>, request: Request<Body>) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 4 * 1024 * 1024)
        .await
        .map(|bytes| bytes.to_vec())
        .unwrap_or_default();
    let status = lock(&inner.script).pop_front().unwrap_or(200);
    lock(&inner.received).push(ReceivedWebhook {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers: crate::respond::header_pairs(&parts.headers),
        body: bytes,
        answered: status,
    });
    let mut response = Response::new(Body::from("ok"));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    response
}
