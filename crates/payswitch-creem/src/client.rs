//! The HTTP side: the `x-api-key` header, JSON bodies, the retry policy and tracing.
//!
//! # Retry policy
//!
//! Creem documents no idempotency key (`request_id` is only a reference echoed back), so a
//! `POST /v1/checkouts` that reached Creem may have created a checkout even when the answer
//! was lost or was an error. A POST is therefore retried only when it cannot have been
//! processed: a connection that never opened (nothing was sent; the error is
//! `PaymentError::Unreachable`) and `429 Too Many Requests` (refused before processing).
//! A 503 is not retried for a POST: a proxy or load balancer in front of Creem answers 503
//! after an upstream timeout too, when Creem may have created the checkout. Any other 5xx,
//! a timeout or a connection dropped after sending is returned at once. GETs change nothing,
//! so they are retried on every transient failure (connection errors, timeouts, 5xx, 429).
//! `Retry-After` (seconds or an HTTP date) raises the wait, up to
//! `RetryConfig::max_retry_after`. Stripe differs: its `Idempotency-Key` makes a retried POST
//! safe, so its adapter retries POSTs far more freely.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use http::Method;
use payswitch_core::adapter::http::http_client;
use payswitch_core::retry::{with_retries, AttemptError};
use payswitch_core::{Clock, HttpConfig, PaymentError, RetryConfig, Secret};
use tracing::Instrument;

use crate::error::{map_error, retry_after, ErrorResponse, RequestFields};

/// The `User-Agent` sent with every request.
pub const USER_AGENT: &str = concat!(
    "payswitch-creem/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/payswitch/payswitch)"
);

/// The header that carries the API key.
const API_KEY_HEADER: &str = "x-api-key";

/// The checkout endpoint: `POST` creates, `GET ?checkout_id=` retrieves.
pub(crate) const CHECKOUTS_PATH: &str = "/v1/checkouts";

/// The product endpoint: `GET ?product_id=` retrieves one product.
pub(crate) const PRODUCTS_PATH: &str = "/v1/products";

/// `GET ?subscription_id=` retrieves a subscription.
pub(crate) const SUBSCRIPTIONS_PATH: &str = "/v1/subscriptions";

/// `POST` updates a subscription's items (units).
pub(crate) const SUBSCRIPTION_PATH: &str = "/v1/subscriptions/{id}";

/// `POST {mode}` cancels a subscription.
pub(crate) const SUBSCRIPTION_CANCEL_PATH: &str = "/v1/subscriptions/{id}/cancel";

/// `POST` (no body) pauses a subscription.
pub(crate) const SUBSCRIPTION_PAUSE_PATH: &str = "/v1/subscriptions/{id}/pause";

/// `POST` (no body) resumes a paused or `scheduled_cancel` subscription.
pub(crate) const SUBSCRIPTION_RESUME_PATH: &str = "/v1/subscriptions/{id}/resume";

/// `POST {product_id, update_behavior}` moves a subscription to another product.
pub(crate) const SUBSCRIPTION_UPGRADE_PATH: &str = "/v1/subscriptions/{id}/upgrade";

/// `GET ?page_number=&page_size=` lists a customer's subscriptions.
pub(crate) const CUSTOMER_SUBSCRIPTIONS_PATH: &str = "/v1/customers/{id}/subscriptions";

/// `POST` creates a customer; `GET ?customer_id=` or `?email=` retrieves one.
pub(crate) const CUSTOMERS_PATH: &str = "/v1/customers";

/// `POST {customer_id}` opens a customer-portal link.
pub(crate) const CUSTOMER_PORTAL_PATH: &str = "/v1/customers/billing";

/// `GET ?transaction_id=` retrieves a transaction.
pub(crate) const TRANSACTIONS_PATH: &str = "/v1/transactions";

/// `GET ?order_id=` searches transactions.
pub(crate) const TRANSACTION_SEARCH_PATH: &str = "/v1/transactions/search";

/// `POST {transaction_id}` refunds what is left of a transaction.
pub(crate) const REFUNDS_PATH: &str = "/v1/refunds";

/// The placeholder in a path template that [`ApiRequest::path_id`] fills.
const PATH_ID: &str = "/{id}";

/// One request, before retries.
#[derive(Debug, Clone)]
pub(crate) struct ApiRequest<'a> {
    pub(crate) method: Method,
    /// The path under the API base, e.g. `/v1/checkouts` or `/v1/subscriptions/{id}/cancel`.
    /// Spans record this template, never the filled-in id.
    pub(crate) path: &'static str,
    /// The value of `{id}` in `path`, sent as one percent-encoded path segment.
    pub(crate) path_id: Option<&'a str>,
    pub(crate) query: &'a [(&'a str, &'a str)],
    /// A JSON body (POST only).
    pub(crate) body: Option<Bytes>,
    /// The id being looked up, quoted in `NotFound`.
    pub(crate) looked_up: &'a str,
    /// Which request this is, to name the field a validation error blames.
    pub(crate) fields: RequestFields,
}

/// Sends requests to Creem with the key, the retry policy and a tracing span per attempt.
#[derive(Clone)]
pub(crate) struct CreemClient {
    http: reqwest::Client,
    api_base: String,
    /// `CHECKOUTS_PATH` under the base, parsed once: every call clones it instead of
    /// formatting and parsing the URL again.
    checkouts_url: reqwest::Url,
    api_key: Secret,
    api_key_header: HeaderValue,
    retry: RetryConfig,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for CreemClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreemClient")
            .field("api_base", &self.api_base)
            .field("api_key", &self.api_key)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl CreemClient {
    /// Builds the one `reqwest::Client` this provider uses.
    pub(crate) fn new(
        api_base: String,
        api_key: Secret,
        http: &HttpConfig,
        retry: RetryConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, PaymentError> {
        let mut api_key_header = HeaderValue::from_str(api_key.expose()).map_err(|_| {
            PaymentError::config("creem.api_key (CREEM_API_KEY) cannot be sent in an HTTP header")
        })?;
        // Marks the value so `http`'s Debug prints `Sensitive` instead of the key.
        api_key_header.set_sensitive(true);
        let http = http_client(http, USER_AGENT)?;
        let checkouts_url =
            reqwest::Url::parse(&format!("{api_base}{CHECKOUTS_PATH}")).map_err(|error| {
                PaymentError::config(format!(
                    "creem.api_base does not form the checkout URL: {error}"
                ))
            })?;
        Ok(Self {
            http,
            api_base,
            checkouts_url,
            api_key,
            api_key_header,
            retry,
            clock,
        })
    }

    /// The base URL in use.
    pub(crate) fn api_base(&self) -> &str {
        &self.api_base
    }

    /// The API key, which also salts success-redirect signatures.
    pub(crate) fn api_key(&self) -> &Secret {
        &self.api_key
    }

    /// Sends the request under the retry policy and returns the 2xx body.
    pub(crate) async fn send(&self, request: ApiRequest<'_>) -> Result<Bytes, PaymentError> {
        let url = self.url(&request)?;
        let request = &request;
        let url = &url;
        with_retries(&self.retry, |attempt| {
            let span = tracing::debug_span!(
                "creem.request",
                method = %request.method,
                path = request.path,
                attempt,
                status = tracing::field::Empty,
                trace_id = tracing::field::Empty,
            );
            self.attempt(request, url, attempt, span.clone())
                .instrument(span)
        })
        .await
    }

    /// The request's URL: the base, the path template and, in place of `{id}`, the id as one
    /// percent-encoded segment (so an id holding `/`, `?` or `#` cannot reach another endpoint).
    fn url(&self, request: &ApiRequest<'_>) -> Result<reqwest::Url, PaymentError> {
        if request.path == CHECKOUTS_PATH {
            return Ok(self.checkouts_url.clone());
        }
        let (before, after) = match (request.path.split_once(PATH_ID), request.path_id) {
            (Some((before, after)), Some(id)) => (before, Some((id, after))),
            (None, None) => (request.path, None),
            (Some(_), None) | (None, Some(_)) => {
                return Err(unbuildable("the path and its id do not match"));
            }
        };
        let mut url =
            reqwest::Url::parse(&format!("{}{before}", self.api_base)).map_err(unbuildable)?;
        if let Some((id, after)) = after {
            // `url` drops `.` and `..` segments; either would send the call elsewhere.
            if id == "." || id == ".." {
                return Err(unbuildable("the id is a dot segment"));
            }
            let mut segments = url
                .path_segments_mut()
                .map_err(|()| unbuildable("the API base cannot take a path"))?;
            segments.push(id);
            segments.extend(after.split('/').filter(|segment| !segment.is_empty()));
        }
        Ok(url)
    }

    async fn attempt(
        &self,
        request: &ApiRequest<'_>,
        url: &reqwest::Url,
        attempt: u32,
        span: tracing::Span,
    ) -> Result<Bytes, AttemptError> {
        let mut builder = self
            .http
            .request(request.method.clone(), url.clone())
            .header(API_KEY_HEADER, self.api_key_header.clone())
            .header(ACCEPT, "application/json");
        if !request.query.is_empty() {
            builder = builder.query(request.query);
        }
        if let Some(body) = &request.body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let response = match builder.send().await {
            Ok(response) => response,
            Err(error) => {
                let failure = if error.is_connect() {
                    Failure::NotConnected
                } else {
                    Failure::NoAnswer
                };
                let error = transport_error(failure, error, attempt);
                return Err(decide(&request.method, failure, error, None));
            }
        };
        let status = response.status().as_u16();
        span.record("status", status);
        let retry_after = retry_after(response.headers(), self.clock.now());
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(error) => {
                let error = transport_error(Failure::NoAnswer, error, attempt);
                return Err(decide(&request.method, Failure::NoAnswer, error, None));
            }
        };
        if (200..300).contains(&status) {
            tracing::debug!(status, "creem answered");
            return Ok(body);
        }
        let error = map_error(
            &ErrorResponse {
                status,
                body: &body,
                retry_after,
                attempts: attempt,
                looked_up: request.looked_up,
                fields: request.fields,
            },
            &self.api_key,
        );
        if let Some(trace_id) = error.request_id() {
            // Gateway text is recorded as Debug: escaped, it cannot forge a log line.
            span.record("trace_id", tracing::field::debug(trace_id));
        }
        tracing::debug!(status, "creem refused the request");
        Err(decide(
            &request.method,
            Failure::Status(status),
            error,
            retry_after,
        ))
    }
}

/// A request that could not be turned into a URL; nothing was sent.
fn unbuildable(reason: impl std::fmt::Display) -> PaymentError {
    PaymentError::Transport {
        message: format!("the request to Creem could not be built: {reason}"),
        attempts: 1,
        source: None,
    }
}

/// How an attempt failed, as far as the retry rule is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// The connection never opened, so nothing reached Creem.
    NotConnected,
    /// The request was sent, but no complete answer came back (a timeout, a dropped
    /// connection, an unreadable body): Creem may have acted on it.
    NoAnswer,
    /// Creem answered with this non-2xx status.
    Status(u16),
}

/// Whether a failed attempt is retried: the policy in the module docs, and nothing else.
fn retry_decision(method: &Method, failure: Failure) -> bool {
    // Only GETs may be repeated after Creem could have acted on the request.
    let idempotent = *method == Method::GET;
    match failure {
        Failure::NotConnected => true,
        Failure::NoAnswer => idempotent,
        // Refused before processing: safe even for a POST.
        Failure::Status(429) => true,
        // A 503 may come from a proxy after Creem processed the request.
        Failure::Status(500..=599) => idempotent,
        Failure::Status(_) => false,
    }
}

/// Wraps the error for the retry loop as [`retry_decision`] rules.
fn decide(
    method: &Method,
    failure: Failure,
    error: PaymentError,
    retry_after: Option<Duration>,
) -> AttemptError {
    if retry_decision(method, failure) {
        AttemptError::Retry { error, retry_after }
    } else {
        AttemptError::Stop(error)
    }
}

/// A failure before a complete answer: `Unreachable` when no connection was made (nothing was
/// sent), else `Timeout` when it timed out, else `Transport`.
fn transport_error(failure: Failure, error: reqwest::Error, attempts: u32) -> PaymentError {
    // The URL is dropped from reqwest's message: errors are logged, and a base may be private.
    let error = error.without_url();
    match failure {
        Failure::NotConnected => PaymentError::Unreachable {
            message: format!("could not connect to Creem: {error}"),
            attempts,
            source: Some(Box::new(error)),
        },
        Failure::NoAnswer | Failure::Status(_) if error.is_timeout() => {
            PaymentError::Timeout { attempts }
        }
        Failure::NoAnswer | Failure::Status(_) => PaymentError::Transport {
            message: format!("the request to Creem failed: {error}"),
            attempts,
            source: Some(Box::new(error)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_decision_follows_the_policy() {
        use Failure::{NoAnswer, NotConnected, Status};
        let (post, get) = (Method::POST, Method::GET);
        // (method, failure, retried?)
        let table = [
            (&post, NotConnected, true),
            (&get, NotConnected, true),
            (&post, NoAnswer, false),
            (&get, NoAnswer, true),
            (&post, Status(429), true),
            (&get, Status(429), true),
            (&post, Status(503), false),
            (&get, Status(503), true),
            (&post, Status(500), false),
            (&get, Status(500), true),
            (&post, Status(502), false),
            (&get, Status(504), true),
            (&post, Status(400), false),
            (&get, Status(401), false),
            (&get, Status(404), false),
            (&post, Status(409), false),
        ];
        for (method, failure, retried) in table {
            assert_eq!(
                retry_decision(method, failure),
                retried,
                "{method} {failure:?}"
            );
        }
    }

    #[test]
    fn debug_leaves_the_key_out() {
        let client = CreemClient::new(
            "http://127.0.0.1:9".into(),
            Secret::new("creem_test_SECRET"),
            &HttpConfig::default(),
            RetryConfig::immediate(0),
            Arc::new(payswitch_core::SystemClock),
        )
        .unwrap();
        assert!(!format!("{client:?}").contains("SECRET"));
    }
}
