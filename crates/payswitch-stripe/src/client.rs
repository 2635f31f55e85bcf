//! The HTTP client: authentication, Stripe's headers, idempotency keys and retries.

use std::fmt;

use bytes::Bytes;
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use payswitch_core::retry::{with_retries, AttemptError};
use payswitch_core::{HttpConfig, PaymentError, RetryConfig, Secret};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use tracing::Instrument;

use crate::error::{map_error, parse_retry_after, ErrorAnswer};

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
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
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
    ) -> Result<Self, PaymentError> {
        let parsed = url::Url::parse(api_base).map_err(|error| {
            PaymentError::config(format!(
                "stripe.api_base {api_base:?} is not a URL: {error}"
            ))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
            return Err(PaymentError::config(format!(
                "stripe.api_base {api_base:?} must be an http(s) URL without a query"
            )));
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", secret_key.expose()))
            .map_err(|_| {
            PaymentError::config("stripe.secret_key holds characters a header cannot carry")
        })?;
        authorization.set_sensitive(true);
        let api_version = HeaderValue::from_str(api_version).map_err(|_| {
            PaymentError::config("stripe.api_version holds characters a header cannot carry")
        })?;
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(http.timeout)
            .connect_timeout(http.connect_timeout)
            .build()
            .map_err(|error| {
                PaymentError::config(format!("cannot build the HTTP client: {error}"))
            })?;
        let base = api_base.trim_end_matches('/').to_owned();
        let endpoints = PARSED_ENDPOINTS
            .iter()
            .map(|path| url::Url::parse(&format!("{base}{path}")))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| {
                PaymentError::config(format!(
                    "stripe.api_base {api_base:?} does not form endpoint URLs: {error}"
                ))
            })?;
        Ok(Self {
            http: client,
            base,
            endpoints,
            api_version,
            authorization,
            secret_key: secret_key.clone(),
            retry,
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
        .await
    }

    /// Sends a form POST under `idempotency_key`; every retry sends the same bytes and key.
    pub(crate) async fn post(
        &self,
        path: &str,
        body: Bytes,
        idempotency_key: &str,
        subject: &str,
    ) -> Result<serde_json::Value, PaymentError> {
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

    async fn send(&self, call: &Call<'_>) -> Result<serde_json::Value, PaymentError> {
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

    async fn attempt(
        &self,
        call: &Call<'_>,
        attempt: u32,
        span: tracing::Span,
    ) -> Result<serde_json::Value, AttemptError> {
        let url = match call.query {
            Some(query) if !query.is_empty() => {
                reqwest::Url::parse(&format!("{}{}?{query}", self.base, call.path))
            }
            Some(_) | None => match PARSED_ENDPOINTS.iter().position(|path| *path == call.path) {
                Some(index) => Ok(self.endpoints[index].clone()),
                None => reqwest::Url::parse(&format!("{}{}", self.base, call.path)),
            },
        }
        .map_err(|error| {
            AttemptError::Stop(PaymentError::Transport {
                message: format!("could not build the request: {error}"),
                attempts: attempt,
                source: Some(Box::new(error)),
            })
        })?;
        let request = match call.method {
            Method::Get => self.http.get(url),
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
        }
        .header(AUTHORIZATION, self.authorization.clone())
        .header("Stripe-Version", self.api_version.clone());

        let response = request
            .send()
            .await
            .map_err(|error| transport_failure(error, attempt))?;
        let status = response.status().as_u16();
        let headers = response.headers();
        let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
        // Kept as the header value (a shared view of the read buffer), copied only on errors.
        let request_id = headers.get("request-id").cloned();
        let should_retry = header("stripe-should-retry").and_then(|value| match value.trim() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        });
        let retry_after = parse_retry_after(header("retry-after"));
        span.record("status", status);
        if let Some(id) = request_id.as_ref().and_then(|id| id.to_str().ok()) {
            span.record("request_id", id);
        }
        let body = response
            .bytes()
            .await
            .map_err(|error| transport_failure(error, attempt))?;
        tracing::debug!(status, "stripe answered");

        if (200..300).contains(&status) {
            return serde_json::from_slice(&body).map_err(|error| {
                AttemptError::Stop(PaymentError::decode("Stripe response", error))
            });
        }
        let error = map_error(ErrorAnswer {
            status,
            request_id: request_id
                .as_ref()
                .and_then(|id| id.to_str().ok())
                .map(str::to_owned),
            retry_after,
            body: &body,
            attempts: attempt,
            subject: call.subject,
            secret_key: self.secret_key.expose(),
        });
        // Stripe's SDK policy: the header wins; else 409, 429 and 5xx are retried (the key
        // makes a POST safe to repeat); other 4xx never are.
        let retry = should_retry.unwrap_or(status == 409 || status == 429 || status >= 500);
        if retry {
            Err(AttemptError::Retry { error, retry_after })
        } else {
            Err(AttemptError::Stop(error))
        }
    }
}

/// A request that got no (complete) answer: retried, since the key makes repeats safe.
fn transport_failure(error: reqwest::Error, attempt: u32) -> AttemptError {
    tracing::debug!(error = %error, "stripe request failed without an answer");
    if error.is_builder() {
        return AttemptError::Stop(PaymentError::Transport {
            message: "could not build the request".to_owned(),
            attempts: attempt,
            source: Some(Box::new(error)),
        });
    }
    let failure = if error.is_timeout() {
        PaymentError::Timeout { attempts: attempt }
    } else {
        PaymentError::Transport {
            message: if error.is_connect() {
                "could not connect to Stripe".to_owned()
            } else {
                "the connection to Stripe failed before a full answer".to_owned()
            },
            attempts: attempt,
            source: Some(Box::new(error)),
        }
    };
    AttemptError::Retry {
        error: failure,
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_cannot_escape() {
        assert_eq!(path_segment("cs_test_a1"), "cs_test_a1");
        assert_eq!(path_segment("../x?y=1"), "..%2Fx%3Fy%3D1");
    }

    fn test_client(base: &str) -> StripeClient {
        StripeClient::new(
            &Secret::new("sk_test_hidden"),
            base,
            "2026-10-28.endive",
            &HttpConfig::default(),
            RetryConfig::immediate(0),
        )
        .unwrap()
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
            Ok(value) => panic!("expected a failure, got {value}"),
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
                assert_eq!(retry_after, Some(std::time::Duration::from_secs(7)));
                assert!(matches!(error, PaymentError::RateLimited { .. }));
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
    }

    #[test]
    fn debug_hides_the_key() {
        let client = test_client("http://127.0.0.1:1");
        let debug = format!("{client:?}");
        assert!(!debug.contains("sk_test_hidden"), "{debug}");
    }
}
