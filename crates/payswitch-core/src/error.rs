//! The one error type every payswitch operation returns.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use crate::kind::ProviderKind;

/// A boxed error kept as the cause of a transport or decoding failure.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Shorthand for `Result<T, PaymentError>`.
pub type Result<T, E = PaymentError> = std::result::Result<T, E>;

/// What the gateway said when it refused or failed a request.
///
/// Kept on every error that came from a gateway's answer, so logs and support tickets can
/// quote the HTTP status, the gateway's own error code and its request id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GatewayDetails {
    /// The gateway that answered.
    pub provider: ProviderKind,
    /// The HTTP status of the final attempt.
    pub status: u16,
    /// The gateway's machine-readable error code (Stripe `code`, Creem `error`).
    pub code: Option<String>,
    /// The gateway's human-readable message.
    pub message: String,
    /// The gateway's request id (Stripe `Request-Id`, Creem `trace_id`).
    pub request_id: Option<String>,
    /// How many attempts were made in all, retries included.
    pub attempts: u32,
    /// The gateway's error category (Stripe `type`, e.g. `card_error`).
    pub error_type: Option<String>,
    /// The request parameter the gateway blamed (Stripe `param`).
    pub param: Option<String>,
    /// Where the gateway documents this error (Stripe `doc_url`).
    pub doc_url: Option<String>,
    /// The card issuer's reason for a decline (Stripe `decline_code`, e.g.
    /// `insufficient_funds`).
    pub decline_code: Option<String>,
}

impl GatewayDetails {
    /// Describes a gateway answer; `attempts` starts at 1.
    pub fn new(provider: ProviderKind, status: u16, message: impl Into<String>) -> Self {
        Self {
            provider,
            status,
            code: None,
            message: message.into(),
            request_id: None,
            attempts: 1,
            error_type: None,
            param: None,
            doc_url: None,
            decline_code: None,
        }
    }

    /// Sets the gateway's error category.
    pub fn with_error_type(mut self, error_type: Option<String>) -> Self {
        self.error_type = error_type;
        self
    }

    /// Sets the parameter the gateway blamed.
    pub fn with_param(mut self, param: Option<String>) -> Self {
        self.param = param;
        self
    }

    /// Sets where the gateway documents the error.
    pub fn with_doc_url(mut self, doc_url: Option<String>) -> Self {
        self.doc_url = doc_url;
        self
    }

    /// Sets the card issuer's decline reason.
    pub fn with_decline_code(mut self, decline_code: Option<String>) -> Self {
        self.decline_code = decline_code;
        self
    }

    /// Sets the gateway's error code.
    pub fn with_code(mut self, code: Option<String>) -> Self {
        self.code = code;
        self
    }

    /// Sets the gateway's request id.
    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }

    /// Sets how many attempts were made.
    pub fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }
}

impl fmt::Display for GatewayDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.describe(f, true)
    }
}

impl GatewayDetails {
    /// Writes the details, with the gateway's message or without it (when the error's own
    /// text already says it, so it is said once).
    fn describe(&self, f: &mut fmt::Formatter<'_>, with_message: bool) -> fmt::Result {
        write!(f, "{} answered HTTP {}", self.provider, self.status)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        if with_message && !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request {id}]")?;
        }
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        Ok(())
    }
}

/// Why a webhook or redirect signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature is absent; the text names where it was expected (a header, or a
    /// redirect's query parameter).
    #[error("no {0}")]
    Missing(Cow<'static, str>),
    /// The signature (a header, or a redirect's parameter) could not be parsed; the text
    /// says what is wrong.
    #[error("malformed: {0}")]
    Malformed(String),
    /// No configured secret produced the signature: the payload was tampered with or the
    /// wrong secret is configured.
    #[error("no signature matches the payload")]
    Mismatch,
    /// The signed timestamp is older than the tolerance allows (a possible replay).
    #[error("the signed timestamp is {age_secs}s old, more than the {tolerance_secs}s tolerance")]
    Expired {
        /// How old the timestamp is, in seconds.
        age_secs: i64,
        /// The tolerance in force, in seconds.
        tolerance_secs: u64,
    },
    /// No webhook secret is configured, so nothing can be verified.
    #[error("no webhook secret is configured")]
    NoSecret,
    /// The webhook body is larger than any gateway sends
    /// ([`MAX_WEBHOOK_BODY_BYTES`](crate::webhook::MAX_WEBHOOK_BODY_BYTES)); refused before
    /// any work is done on it.
    #[error("the webhook body has {size} bytes, more than the {limit}-byte limit")]
    BodyTooLarge {
        /// The body's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

/// Everything that can go wrong taking a payment, in one enum with meaning-based variants.
///
/// Errors caught locally (before any network call) carry no [`GatewayDetails`]; errors that
/// come from a gateway's answer keep them, with the HTTP status, the gateway's code and its
/// request id. No variant ever holds an API key, webhook secret or client secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PaymentError {
    /// The request is invalid: caught locally before any network call (`gateway` is `None`)
    /// or refused by the gateway.
    #[error("invalid request: {field}: {message}{}", gateway_suffix_after(.message, .gateway))]
    InvalidRequest {
        /// The request field at fault (a dotted path such as `line_items[0].quantity`).
        field: String,
        /// What is wrong with it.
        message: String,
        /// The gateway's answer, when the gateway refused it.
        gateway: Option<Box<GatewayDetails>>,
    },
    /// The total is below the gateway's minimum charge for the currency.
    #[error("amount too small: {message}{}", gateway_suffix_after(.message, .gateway))]
    AmountTooSmall {
        /// What the gateway (or the local check) said.
        message: String,
        /// The gateway's answer, when the gateway refused it.
        gateway: Option<Box<GatewayDetails>>,
    },
    /// The customer's payment method was declined (Stripe's 402 `card_error`). Not retryable
    /// as is: the customer must use another payment method.
    #[error("payment declined: {message}{}", gateway_suffix_after(.message, .gateway))]
    Declined {
        /// What the gateway said.
        message: String,
        /// The issuer's reason, when the gateway gave one (`insufficient_funds`, …).
        decline_code: Option<String>,
        /// The gateway's answer.
        gateway: Option<Box<GatewayDetails>>,
    },
    /// The API key is missing, wrong or revoked.
    #[error("authentication failed{}", gateway_suffix(.gateway))]
    Authentication {
        /// The gateway's answer.
        gateway: Option<Box<GatewayDetails>>,
    },
    /// The API key is valid but lacks permission for the operation.
    #[error("permission denied{}", gateway_suffix(.gateway))]
    PermissionDenied {
        /// The gateway's answer.
        gateway: Option<Box<GatewayDetails>>,
    },
    /// No checkout (or other object) has the given id.
    #[error("not found: {id}{}", gateway_suffix(.gateway))]
    NotFound {
        /// The id that was looked up.
        id: String,
        /// The gateway's answer.
        gateway: Option<Box<GatewayDetails>>,
    },
    /// The gateway is rate limiting this account.
    #[error("rate limited{}{}", retry_after_suffix(.retry_after), gateway_suffix(.gateway))]
    RateLimited {
        /// How long the gateway asked to wait, when it said.
        retry_after: Option<Duration>,
        /// The gateway's answer.
        gateway: Option<Box<GatewayDetails>>,
    },
    /// An idempotency key was reused with different parameters, or is in use concurrently.
    #[error("idempotency conflict: {message}{}", gateway_suffix_after(.message, .gateway))]
    IdempotencyConflict {
        /// What the gateway said.
        message: String,
        /// The gateway's answer.
        gateway: Option<Box<GatewayDetails>>,
    },
    /// The gateway cannot do this (an operation, or a request feature it cannot express).
    #[error("{provider} does not support {operation}")]
    Unsupported {
        /// The gateway.
        provider: ProviderKind,
        /// The operation or request feature, e.g. `expire_checkout` or `custom-priced line items`.
        operation: Cow<'static, str>,
    },
    /// A webhook or redirect signature was missing, malformed, wrong or stale.
    #[error("signature rejected: {0}")]
    Signature(#[from] SignatureError),
    /// The gateway failed in a way no other variant describes (typically a 5xx).
    #[error("{0}")]
    Provider(Box<GatewayDetails>),
    /// The gateway could not be reached at all (no connection was made), so it received
    /// nothing and created nothing. Retryable; a router may fail over to another gateway.
    #[error("gateway unreachable after {attempts} attempt(s): {message}")]
    Unreachable {
        /// What failed.
        message: String,
        /// How many attempts were made.
        attempts: u32,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// The request could not be sent or its answer could not be read. The gateway may have
    /// received it: for a create, a checkout may exist.
    #[error("transport error after {attempts} attempt(s): {message}")]
    Transport {
        /// What failed.
        message: String,
        /// How many attempts were made.
        attempts: u32,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// The gateway did not answer in time.
    #[error("timed out after {attempts} attempt(s)")]
    Timeout {
        /// How many attempts were made.
        attempts: u32,
    },
    /// The gateway's answer (or a webhook body) could not be decoded.
    #[error("could not decode {what}: {message}")]
    Decode {
        /// What was being decoded, e.g. `checkout.session` or `webhook body`.
        what: Cow<'static, str>,
        /// Why it failed.
        message: String,
    },
    /// The configuration is missing something or contradicts itself.
    #[error("configuration error: {0}")]
    Config(String),
    /// A checkout for this order already completed, so no new payable checkout was opened
    /// (creating again for a paid order must never let the customer pay twice).
    #[error("the checkout {checkout_id} for this order is already complete")]
    AlreadyCompleted {
        /// The completed checkout.
        checkout_id: String,
        /// The order reference it carries.
        reference: Option<String>,
    },
    /// A success redirect names a checkout that does not belong to the order the application
    /// expected (a customer swapped the checkout id in the URL): do not fulfil.
    #[error("checkout {checkout_id} does not belong to order {expected_reference:?}")]
    WrongCheckout {
        /// The checkout the redirect named.
        checkout_id: String,
        /// The order reference the application expected.
        expected_reference: String,
        /// The reference the checkout actually carries, if any.
        found_reference: Option<String>,
    },
    /// The object is not in a state that allows the operation: canceling a canceled
    /// subscription, resuming one with nothing to resume, refunding a payment that is already
    /// fully refunded. Nothing changed; retrieve the object to see its state.
    #[error("invalid state: {message}{}", gateway_suffix_after(.message, .gateway))]
    InvalidState {
        /// What the gateway (or the local check) said.
        message: String,
        /// The gateway's answer, when the gateway refused it.
        gateway: Option<Box<GatewayDetails>>,
    },
}

/// The gateway's details after an error's own message, without the gateway's message when the
/// error's message already holds it.
fn gateway_suffix_after(message: &str, gateway: &Option<Box<GatewayDetails>>) -> String {
    struct Without<'a>(&'a GatewayDetails, bool);
    impl fmt::Display for Without<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.describe(f, self.1)
        }
    }
    match gateway {
        Some(details) => {
            let repeated =
                !details.message.is_empty() && message.contains(details.message.as_str());
            format!(" ({})", Without(details, !repeated))
        }
        None => String::new(),
    }
}

fn gateway_suffix(gateway: &Option<Box<GatewayDetails>>) -> String {
    match gateway {
        Some(details) => format!(" ({details})"),
        None => String::new(),
    }
}

fn retry_after_suffix(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(wait) => format!(", retry after {}s", wait.as_secs()),
        None => String::new(),
    }
}

impl PaymentError {
    /// Builds an `InvalidRequest` caught locally.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidRequest {
            field: field.into(),
            message: message.into(),
            gateway: None,
        }
    }

    /// Builds an `Unsupported` error.
    pub fn unsupported(provider: ProviderKind, operation: impl Into<Cow<'static, str>>) -> Self {
        Self::Unsupported {
            provider,
            operation: operation.into(),
        }
    }

    /// Builds a `Decode` error.
    pub fn decode(what: impl Into<Cow<'static, str>>, message: impl fmt::Display) -> Self {
        Self::Decode {
            what: what.into(),
            message: message.to_string(),
        }
    }

    /// Builds a `Config` error.
    pub fn config(message: impl Into<String>) -> Self {
        Self::Config(message.into())
    }

    /// Says whether trying the same request again later may succeed.
    ///
    /// True for transport failures, timeouts, rate limiting and gateway 5xx/409 answers.
    /// This is not the same as "safe to repeat": a create that failed with a 500 or a timeout
    /// may have created a checkout at a gateway without idempotency keys (Creem). The adapters
    /// already retried what was safe before returning; repeating a create yourself is safe
    /// with Stripe under the same `idempotency_key`, and leaves at most an unused open
    /// checkout (never a charge) elsewhere.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. }
            | Self::Unreachable { .. }
            | Self::Timeout { .. }
            | Self::RateLimited { .. } => true,
            Self::Provider(details) => details.status >= 500 || details.status == 409,
            Self::IdempotencyConflict { gateway, .. } => {
                // 409 means the same key is still being processed; a mismatch (400) is final.
                gateway
                    .as_ref()
                    .is_some_and(|details| details.status == 409)
            }
            Self::InvalidRequest { .. }
            | Self::AmountTooSmall { .. }
            | Self::Declined { .. }
            | Self::Authentication { .. }
            | Self::PermissionDenied { .. }
            | Self::NotFound { .. }
            | Self::Unsupported { .. }
            | Self::Signature(_)
            | Self::Decode { .. }
            | Self::Config(_)
            | Self::AlreadyCompleted { .. }
            | Self::WrongCheckout { .. }
            | Self::InvalidState { .. } => false,
        }
    }

    /// Says whether this failure proves the gateway created nothing, so the same request may
    /// go to another gateway without risking two payable checkouts: the gateway was never
    /// reached (`Unreachable`) or refused before processing (`RateLimited`).
    ///
    /// Timeouts, transport failures after sending, 5xx answers and idempotency conflicts are
    /// ambiguous — the gateway may have created a checkout — and return `false`.
    pub fn proves_nothing_created(&self) -> bool {
        matches!(self, Self::Unreachable { .. } | Self::RateLimited { .. })
    }

    /// The gateway's answer, when the error came from one.
    pub fn gateway(&self) -> Option<&GatewayDetails> {
        match self {
            Self::InvalidRequest { gateway, .. }
            | Self::AmountTooSmall { gateway, .. }
            | Self::Declined { gateway, .. }
            | Self::Authentication { gateway }
            | Self::PermissionDenied { gateway }
            | Self::NotFound { gateway, .. }
            | Self::RateLimited { gateway, .. }
            | Self::IdempotencyConflict { gateway, .. }
            | Self::InvalidState { gateway, .. } => gateway.as_deref(),
            Self::Provider(details) => Some(details),
            Self::Unsupported { .. }
            | Self::Signature(_)
            | Self::Transport { .. }
            | Self::Unreachable { .. }
            | Self::Timeout { .. }
            | Self::Decode { .. }
            | Self::Config(_)
            | Self::AlreadyCompleted { .. }
            | Self::WrongCheckout { .. } => None,
        }
    }

    /// The gateway's request id, when the error came from a gateway answer that had one.
    pub fn request_id(&self) -> Option<&str> {
        self.gateway()?.request_id.as_deref()
    }

    /// The HTTP status of the gateway's answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.gateway().map(|details| details.status)
    }

    /// How many attempts were made before this error was returned, when any request was sent.
    pub fn attempts(&self) -> Option<u32> {
        match self {
            Self::Transport { attempts, .. }
            | Self::Unreachable { attempts, .. }
            | Self::Timeout { attempts } => Some(*attempts),
            other => other.gateway().map(|details| details.attempts),
        }
    }

    /// Says whether the error was caught locally, before any request left the process.
    pub fn is_local(&self) -> bool {
        self.attempts().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_includes_gateway_details() {
        let details = GatewayDetails::new(
            ProviderKind::new("acme"),
            400,
            "Amount must be at least $0.50",
        )
        .with_code(Some("amount_too_small".into()))
        .with_request_id(Some("req_123".into()))
        .with_attempts(1);
        let error = PaymentError::AmountTooSmall {
            message: details.message.clone(),
            gateway: Some(Box::new(details)),
        };
        // The gateway's message is said once.
        assert_eq!(
            error.to_string(),
            "amount too small: Amount must be at least $0.50 (acme answered HTTP 400 \
             (amount_too_small) [request req_123])"
        );
        assert_eq!(error.request_id(), Some("req_123"));
        assert_eq!(error.status(), Some(400));
        assert!(!error.is_retryable());
        assert!(!error.is_local());
    }

    #[test]
    fn display_keeps_a_gateway_message_the_error_does_not_already_say() {
        let details = GatewayDetails::new(ProviderKind::new("acme"), 404, "No such customer");
        let missing = PaymentError::NotFound {
            id: "cus_1".into(),
            gateway: Some(Box::new(details.clone())),
        };
        assert_eq!(
            missing.to_string(),
            "not found: cus_1 (acme answered HTTP 404: No such customer)"
        );
        let local_words = PaymentError::InvalidRequest {
            field: "amount".into(),
            message: "too much".into(),
            gateway: Some(Box::new(details)),
        };
        assert!(local_words.to_string().ends_with(": No such customer)"));
        let tampered = PaymentError::from(SignatureError::Missing(
            "signature parameter in the redirect".into(),
        ));
        assert_eq!(
            tampered.to_string(),
            "signature rejected: no signature parameter in the redirect"
        );
    }

    #[test]
    fn retryable_classification() {
        let server = PaymentError::Provider(Box::new(GatewayDetails::new(
            ProviderKind::new("acme"),
            503,
            "unavailable",
        )));
        assert!(server.is_retryable());
        assert!(PaymentError::Timeout { attempts: 3 }.is_retryable());
        assert!(PaymentError::RateLimited {
            retry_after: Some(Duration::from_secs(2)),
            gateway: None
        }
        .is_retryable());
        assert!(!PaymentError::invalid("line_items", "empty").is_retryable());
        assert!(PaymentError::invalid("line_items", "empty").is_local());
        assert!(!PaymentError::Signature(SignatureError::Mismatch).is_retryable());
        let in_use = PaymentError::IdempotencyConflict {
            message: "in use".into(),
            gateway: Some(Box::new(GatewayDetails::new(
                ProviderKind::new("acme"),
                409,
                "in use",
            ))),
        };
        assert!(in_use.is_retryable());
        let mismatch = PaymentError::IdempotencyConflict {
            message: "mismatch".into(),
            gateway: Some(Box::new(GatewayDetails::new(
                ProviderKind::new("acme"),
                400,
                "mismatch",
            ))),
        };
        assert!(!mismatch.is_retryable());
    }

    #[test]
    fn attempts_are_reported() {
        let error = PaymentError::Transport {
            message: "connection reset".into(),
            attempts: 3,
            source: None,
        };
        assert_eq!(error.attempts(), Some(3));
        assert_eq!(
            error.to_string(),
            "transport error after 3 attempt(s): connection reset"
        );
    }
}
