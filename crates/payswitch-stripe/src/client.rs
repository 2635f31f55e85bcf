//! The HTTP side: authentication, Stripe's headers, idempotency keys, the retry policy and
//! tracing.
//!
//! # Retry policy
//!
//! Every POST carries an `Idempotency-Key` that is reused, with the same bytes, on every
//! attempt, so Stripe replays its first answer instead of acting twice: a retried POST can
//! never create a second session or charge. The policy is therefore Stripe's SDKs' one.
//! `Stripe-Should-Retry` wins when Stripe sends it; otherwise 409 (the same key still being
//! processed, or a lock), 429 and 5xx are retried and other 4xx never are. A request that got
//! no complete answer (refused or cut connection, timeout) is retried; one that could not be
//! built is not. `Retry-After` (seconds or an HTTP date) raises the wait up to
//! `RetryConfig::max_retry_after` (60 s by default, as Stripe's SDKs honour). GETs change
//! nothing and follow the same rule without a key; so do DELETEs (subscription cancels),
//! which Stripe documents as idempotent by definition.
//!
//! An answer marked `Idempotent-Replayed: true` is Stripe's saved answer to the key's first
//! request. A replayed failure (a saved 500) is never retried — every attempt under the key
//! would get it again — and is handed back as a [`Reply`] so the caller can decide (the
//! checkout create moves to a new key generation).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use payswitch_core::adapter::http::{check_api_base, http_client, parse_retry_after};
use payswitch_core::retry::{with_retries, AttemptError};
use payswitch_core::{Clock, HttpConfig, PaymentError, RetryConfig, Secret};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use time::OffsetDateTime;
use tracing::Instrument;

use crate::error::{decode_error, map_error, ErrorAnswer};

/// The `User-Agent` every request carries: payswitch-stripe and its version.
pub const USER_AGENT: &str = concat!(
    "payswitch-stripe/",
    env!("CARGO_PKG_VERSION"),
    " (payswitch; +https://github.com/payswitch/payswitch)"
);

const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// Characters kept as is in a path segment (an object id); everything else is encoded so an
/// id can never change the path or add a query.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// Encodes an object id for use as one path segment.
pub(crate) fn path_segment(id: &str) -> String {
    utf8_percent_encode(id, PATH_SEGMENT).to_string()
}

/// An HTTP method Stripe's endpoints use here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// One logical call: the same bytes and key on every attempt.
#[derive(Debug)]
struct Call<'a> {
    method: Method,
    path: &'a str,
    query: Option<&'a str>,
    body: Bytes,
    idempotency_key: Option<HeaderValue>,
    subject: &'a str,
}

/// A failed attempt, as far as the retry rule is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// The request could not be built; sending it again would fail the same way.
    Unbuildable,
    /// No complete answer: a refused or cut connection, or a timeout.
    NoAnswer,
    /// A 2xx answer that is not the expected JSON.
    Undecodable,
    /// A non-2xx answer, with its `Stripe-Should-Retry` header when it was readable, and
    /// whether Stripe replayed it from the idempotency key's saved result.
    Answer {
        status: u16,
        should_retry: Option<bool>,
        replayed: bool,
    },
}

/// A POST's answer and whether Stripe replayed it (`Idempotent-Replayed: true`): either the
/// JSON of a 2xx, or the error of a replayed failure, which is never retried.
#[derive(Debug)]
pub(crate) struct Reply {
    /// The decoded 2xx body, or the replayed failure.
    pub(crate) value: Result<serde_json::Value, PaymentError>,
    /// True when Stripe replayed a saved answer instead of acting.
    pub(crate) replayed: bool,
}

/// Whether a failed attempt is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Retry,
    Stop,
}

/// The retry rule (see the module docs): a replayed answer is final; Stripe's header wins,
/// else 409, 429 and 5xx are retried, and so is a request that got no answer.
fn retry_decision(failure: Failure) -> Decision {
    let retry = match failure {
        Failure::Unbuildable | Failure::Undecodable => false,
        Failure::NoAnswer => true,
        Failure::Answer { replayed: true, .. } => false,
        Failure::Answer {
            status,
            should_retry,
            replayed: false,
        } => should_retry.unwrap_or(status == 409 || status == 429 || status >= 500),
    };
    if retry {
        Decision::Retry
    } else {
        Decision::Stop
    }
}

/// Turns an error into the loop's verdict for `failure`.
fn conclude(failure: Failure, error: PaymentError, retry_after: Option<Duration>) -> AttemptError {
    match retry_decision(failure) {
        Decision::Retry => AttemptError::Retry { error, retry_after },
        Decision::Stop => AttemptError::Stop(error),
    }
}

/// Reads a `Retry-After` header value, when there is one.
fn retry_after(value: Option<&str>, now: OffsetDateTime) -> Option<Duration> {
    parse_retry_after(value?, now)
}

/// What is read from an answer's headers before its body.
struct AnswerHead {
    status: u16,
    /// Kept as the header value (a shared view of the read buffer), copied only on errors.
    request_id: Option<HeaderValue>,
    should_retry: Option<bool>,
    retry_after: Option<Duration>,
    /// `Idempotent-Replayed: true`.
    replayed: bool,
}

/// The endpoints whose URL is parsed once, when the client is built (the creates).
const PARSED_ENDPOINTS: [&str; 2] = ["/v1/checkout/sessions", "/v1/payment_intents"];

/// Talks to the Stripe API with one connection pool.
#[derive(Clone)]
pub(crate) struct StripeClient {
    http: reqwest::Client,
    base: String,
    /// `PARSED_ENDPOINTS` joined to the base and parsed, in the same order: a request to one
    /// of them clones the URL instead of formatting and parsing it again on every attempt.
    endpoints: Vec<url::Url>,
    api_version: HeaderValue,
    authorization: HeaderValue,
    secret_key: Secret,
    retry: RetryConfig,
    /// Measures `Retry-After` dates.
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for StripeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeClient")
            .field("base", &self.base)
            .field("api_version", &self.api_version)
            .field("secret_key", &self.secret_key)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl StripeClient {
    /// Checks the settings and builds the HTTP client once.
    pub(crate) fn new(
        secret_key: &Secret,
        api_base: &str,
        api_version: &str,
        http: &HttpConfig,
        retry: RetryConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, PaymentError> {
        let base = check_api_base("stripe.api_base", api_base)?;
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", secret_key.expose()))
            .map_err(|_| {
            PaymentError::config("stripe.secret_key holds characters a header cannot carry")
        })?;
        authorization.set_sensitive(true);
        let api_version = HeaderValue::from_str(api_version).map_err(|_| {
            PaymentError::config("stripe.api_version holds characters a header cannot carry")
        })?;
        let endpoints = PARSED_ENDPOINTS
            .iter()
            .map(|path| url::Url::parse(&format!("{base}{path}")))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| {
                PaymentError::config(format!(
                    "stripe.api_base does not form endpoint URLs: {error}"
                ))
            })?;
        Ok(Self {
            http: http_client(http, USER_AGENT)?,
            base,
            endpoints,
            api_version,
            authorization,
            secret_key: secret_key.clone(),
            retry,
            clock,
        })
    }

    /// The API base, without a trailing slash.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// The pinned `Stripe-Version`.
    pub(crate) fn api_version(&self) -> &str {
        self.api_version.to_str().unwrap_or_default()
    }

    /// The retry settings.
    pub(crate) fn retry(&self) -> &RetryConfig {
        &self.retry
    }

    /// Sends a GET (no idempotency key) and returns the decoded JSON answer.
    pub(crate) async fn get(
        &self,
        path: &str,
        query: Option<&str>,
        subject: &str,
    ) -> Result<serde_json::Value, PaymentError> {
        self.send(&Call {
            method: Method::Get,
            path,
            query,
            body: Bytes::new(),
            idempotency_key: None,
            subject,
        })
        .await?
        .value
    }

    /// Sends a DELETE without a body or key: Stripe documents DELETE as idempotent by
    /// definition (a key "has no effect"), so a retry cannot act twice.
    pub(crate) async fn delete(
        &self,
        path: &str,
        subject: &str,
    ) -> Result<serde_json::Value, PaymentError> {
        self.send(&Call {
            method: Method::Delete,
            path,
            query: None,
            body: Bytes::new(),
            idempotency_key: None,
            subject,
        })
        .await?
        .value
    }

    /// Sends a form POST under `idempotency_key`; every retry sends the same bytes and key.
    /// A replayed answer is returned like a fresh one.
    pub(crate) async fn post(
        &self,
        path: &str,
        body: Bytes,
        idempotency_key: &str,
        subject: &str,
    ) -> Result<serde_json::Value, PaymentError> {
        self.post_reply(path, body, idempotency_key, subject)
            .await?
            .value
    }

    /// Sends a form POST like [`post`](Self::post), saying whether Stripe replayed the
    /// answer; a replayed failure comes back inside the [`Reply`].
    pub(crate) async fn post_reply(
        &self,
        path: &str,
        body: Bytes,
        idempotency_key: &str,
        subject: &str,
    ) -> Result<Reply, PaymentError> {
        let key = HeaderValue::from_str(idempotency_key).map_err(|_| {
            PaymentError::invalid(
                "idempotency_key",
                "must be visible ASCII to fit in a header",
            )
        })?;
        self.send(&Call {
            method: Method::Post,
            path,
            query: None,
            body,
            idempotency_key: Some(key),
            subject,
        })
        .await
    }

    async fn send(&self, call: &Call<'_>) -> Result<Reply, PaymentError> {
        with_retries(&self.retry, |attempt| {
            let span = tracing::info_span!(
                "stripe.request",
                method = call.method.as_str(),
                path = call.path,
                attempt,
                status = tracing::field::Empty,
                request_id = tracing::field::Empty,
            );
            self.attempt(call, attempt, span.clone()).instrument(span)
        })
        .await
    }

    /// Sends `call` once and classifies the outcome with [`retry_decision`].
    async fn attempt(
        &self,
        call: &Call<'_>,
        attempt: u32,
        span: tracing::Span,
    ) -> Result<Reply, AttemptError> {
        let url = self.url(call).map_err(|error| {
            let error = PaymentError::Transport {
                message: format!("could not build the request: {error}"),
                attempts: attempt,
                source: Some(Box::new(error)),
            };
            conclude(Failure::Unbuildable, error, None)
        })?;
        let response = self
            .request(call, url)
            .send()
            .await
            .map_err(|error| transport_failure(error, attempt))?;
        let head = self.read_head(&response);
        span.record("status", head.status);
        if let Some(id) = head.request_id.as_ref().and_then(|id| id.to_str().ok()) {
            span.record("request_id", id);
        }
        let body = response
            .bytes()
            .await
            .map_err(|error| transport_failure(error, attempt))?;
        tracing::debug!(status = head.status, "stripe answered");

        let replayed = head.replayed;
        if (200..300).contains(&head.status) {
            let value = serde_json::from_slice(&body).map_err(|error| {
                let error = decode_error("Stripe response", &error);
                conclude(Failure::Undecodable, error, None)
            })?;
            return Ok(Reply {
                value: Ok(value),
                replayed,
            });
        }
        match self.failed_answer(call, head, &body, attempt) {
            AttemptError::Stop(error) if replayed => Ok(Reply {
                value: Err(error),
                replayed,
            }),
            failed => Err(failed),
        }
    }

    /// The URL of `call`: a create endpoint's pre-parsed URL, or the base, path and query.
    fn url(&self, call: &Call<'_>) -> Result<url::Url, url::ParseError> {
        match call.query {
            Some(query) if !query.is_empty() => {
                url::Url::parse(&format!("{}{}?{query}", self.base, call.path))
            }
            Some(_) | None => match PARSED_ENDPOINTS.iter().position(|path| *path == call.path) {
                Some(index) => Ok(self.endpoints[index].clone()),
                None => url::Url::parse(&format!("{}{}", self.base, call.path)),
            },
        }
    }

    /// The request for `call` with Stripe's headers; POSTs add the form type and the key.
    fn request(&self, call: &Call<'_>, url: url::Url) -> reqwest::RequestBuilder {
        let request = match call.method {
            Method::Get => self.http.get(url),
            Method::Delete => self.http.delete(url),
            Method::Post => {
                let request = self
                    .http
                    .post(url)
                    .header(CONTENT_TYPE, FORM_CONTENT_TYPE)
                    .body(call.body.clone());
                match &call.idempotency_key {
                    Some(key) => request.header("Idempotency-Key", key.clone()),
                    None => request,
                }
            }
        };
        request
            .header(AUTHORIZATION, self.authorization.clone())
            .header("Stripe-Version", self.api_version.clone())
    }

    /// Reads the status and the headers the error mapping and the retry rule need.
    fn read_head(&self, response: &reqwest::Response) -> AnswerHead {
        let headers = response.headers();
        let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
        AnswerHead {
            status: response.status().as_u16(),
            request_id: headers.get("request-id").cloned(),
            should_retry: header("stripe-should-retry").and_then(|value| match value.trim() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            }),
            retry_after: retry_after(header("retry-after"), self.clock.now()),
            replayed: header("idempotent-replayed").is_some_and(|value| value.trim() == "true"),
        }
    }

    /// Maps a non-2xx answer and decides whether it is retried.
    fn failed_answer(
        &self,
        call: &Call<'_>,
        head: AnswerHead,
        body: &[u8],
        attempt: u32,
    ) -> AttemptError {
        let error = map_error(ErrorAnswer {
            status: head.status,
            request_id: head
                .request_id
                .as_ref()
                .and_then(|id| id.to_str().ok())
                .map(str::to_owned),
            retry_after: head.retry_after,
            body,
            attempts: attempt,
            subject: call.subject,
            secret_key: &self.secret_key,
        });
        let failure = Failure::Answer {
            status: head.status,
            should_retry: head.should_retry,
            replayed: head.replayed,
        };
        conclude(failure, error, head.retry_after)
    }
}

/// A request that got no (complete) answer, or could not be built.
fn transport_failure(error: reqwest::Error, attempt: u32) -> AttemptError {
    tracing::debug!(error = ?error, "stripe request failed without an answer");
    if error.is_builder() {
        let error = PaymentError::Transport {
            message: "could not build the request".to_owned(),
            attempts: attempt,
            source: Some(Box::new(error)),
        };
        return conclude(Failure::Unbuildable, error, None);
    }
    let failure = if error.is_timeout() {
        PaymentError::Timeout { attempts: attempt }
    } else if error.is_connect() {
        // No connection, so no request reached Stripe: nothing was created.
        PaymentError::Unreachable {
            message: "could not connect to Stripe".to_owned(),
            attempts: attempt,
            source: Some(Box::new(error)),
        }
    } else {
        PaymentError::Transport {
            message: "the connection to Stripe failed before a full answer".to_owned(),
            attempts: attempt,
            source: Some(Box::new(error)),
        }
    };
    conclude(Failure::NoAnswer, failure, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_cannot_escape() {
        assert_eq!(path_segment("cs_test_a1"), "cs_test_a1");
        assert_eq!(path_segment("../x?y=1"), "..%2Fx%3Fy%3D1");
    }

    /// What the test client's clock shows: Sun, 06 Nov 1994 08:49:37 GMT.
    const NOW: i64 = 784_111_777;

    #[test]
    fn retry_decision_table() {
        let answer = |status, should_retry| Failure::Answer {
            status,
            should_retry,
            replayed: false,
        };
        let replayed = |status| Failure::Answer {
            status,
            should_retry: None,
            replayed: true,
        };
        let table = [
            (Failure::Unbuildable, Decision::Stop),
            (Failure::NoAnswer, Decision::Retry),
            (Failure::Undecodable, Decision::Stop),
            (answer(400, None), Decision::Stop),
            (answer(401, None), Decision::Stop),
            (answer(402, None), Decision::Stop),
            (answer(404, None), Decision::Stop),
            (answer(409, None), Decision::Retry),
            (answer(429, None), Decision::Retry),
            (answer(500, None), Decision::Retry),
            (answer(503, None), Decision::Retry),
            (answer(400, Some(true)), Decision::Retry),
            (answer(500, Some(false)), Decision::Stop),
            (answer(429, Some(false)), Decision::Stop),
            // A saved answer replays to every attempt under the key.
            (replayed(500), Decision::Stop),
            (replayed(402), Decision::Stop),
        ];
        for (failure, expected) in table {
            assert_eq!(retry_decision(failure), expected, "{failure:?}");
        }
    }

    #[test]
    fn reads_retry_after_seconds_or_a_date() {
        let now = OffsetDateTime::from_unix_timestamp(NOW).unwrap();
        assert_eq!(retry_after(Some("3"), now), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(Some("soon"), now), None);
        assert_eq!(retry_after(None, now), None);
        assert_eq!(
            retry_after(Some("Sun, 06 Nov 1994 08:49:47 GMT"), now),
            Some(Duration::from_secs(10))
        );
    }

    fn test_client(base: &str) -> StripeClient {
        StripeClient::new(
            &Secret::new("sk_test_hidden"),
            base,
            "2026-10-28.endive",
            &HttpConfig::default(),
            RetryConfig::immediate(0),
            Arc::new(payswitch_core::ManualClock::at_unix(NOW)),
        )
        .unwrap()
    }

    #[test]
    fn a_60_second_retry_after_is_honoured_by_the_default_backoff() {
        // The wait the retry loop computes, without sleeping it.
        let wait = RetryConfig::default().backoff(1, Some(Duration::from_secs(60)));
        assert_eq!(wait, Duration::from_secs(60));
        let capped = RetryConfig::default().backoff(1, Some(Duration::from_secs(600)));
        assert_eq!(capped, Duration::from_secs(60));
    }

    #[test]
    fn api_bases_with_credentials_or_a_query_are_refused_without_quoting_them() {
        for base in [
            "https://user:hunter2@proxy.example",
            "https://api.example/?k=hunter2",
        ] {
            let error = StripeClient::new(
                &Secret::new("sk_test_hidden"),
                base,
                "2026-10-28.endive",
                &HttpConfig::default(),
                RetryConfig::immediate(0),
                Arc::new(payswitch_core::ManualClock::at_unix(NOW)),
            )
            .unwrap_err();
            assert!(matches!(error, PaymentError::Config(_)), "{error:?}");
            assert!(!error.to_string().contains("hunter2"), "{error}");
        }
    }

    async fn one_attempt(template: wiremock::ResponseTemplate) -> AttemptError {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(template)
            .mount(&server)
            .await;
        let call = Call {
            method: Method::Get,
            path: "/v1/checkout/sessions/cs_1",
            query: None,
            body: Bytes::new(),
            idempotency_key: None,
            subject: "cs_1",
        };
        match test_client(&server.uri())
            .attempt(&call, 1, tracing::Span::none())
            .await
        {
            Ok(reply) => panic!("expected a failure, got {reply:?}"),
            Err(error) => error,
        }
    }

    #[tokio::test]
    async fn retry_after_is_passed_to_the_backoff() {
        let error =
            one_attempt(wiremock::ResponseTemplate::new(429).insert_header("Retry-After", "7"))
                .await;
        match error {
            AttemptError::Retry { retry_after, error } => {
                assert_eq!(retry_after, Some(Duration::from_secs(7)));
                assert!(matches!(error, PaymentError::RateLimited { .. }));
            }
            AttemptError::Stop(error) => panic!("not retried: {error:?}"),
        }
        let error = one_attempt(
            wiremock::ResponseTemplate::new(503)
                .insert_header("Retry-After", "Sun, 06 Nov 1994 08:49:42 GMT"),
        )
        .await;
        match error {
            AttemptError::Retry { retry_after, .. } => {
                assert_eq!(retry_after, Some(Duration::from_secs(5)));
            }
            AttemptError::Stop(error) => panic!("not retried: {error:?}"),
        }
        let error = one_attempt(
            wiremock::ResponseTemplate::new(429)
                .insert_header("Retry-After", "7")
                .insert_header("Stripe-Should-Retry", "false"),
        )
        .await;
        assert!(matches!(
            error,
            AttemptError::Stop(PaymentError::RateLimited { .. })
        ));
        let error =
            one_attempt(wiremock::ResponseTemplate::new(429).insert_header("Retry-After", "60"))
                .await;
        assert!(matches!(
            error,
            AttemptError::Retry { retry_after: Some(wait), .. } if wait == Duration::from_secs(60)
        ));
    }

    #[test]
    fn debug_hides_the_key() {
        let client = test_client("http://127.0.0.1:1");
        let debug = format!("{client:?}");
        assert!(!debug.contains("sk_test_hidden"), "{debug}");
    }
}
