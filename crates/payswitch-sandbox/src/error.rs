//! [`SandboxError`]: what starting the sandbox or an admin operation can fail with.

/// Errors from starting the sandbox or from its admin operations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The listener could not be bound.
    #[error("could not bind the sandbox listener: {0}")]
    Bind(#[source] std::io::Error),
    /// No Stripe session or Creem checkout has this id.
    #[error("no checkout session or checkout with id {0}")]
    NotFound(String),
    /// The session exists but is complete or expired.
    #[error("checkout {id} cannot be changed: {reason}")]
    NotPayable {
        /// The session or checkout id.
        id: String,
        /// Why, e.g. "this checkout session is already paid".
        reason: String,
    },
    /// The card was declined; the session stays open.
    #[error("card declined ({code}): {message}")]
    Declined {
        /// Decline code such as `generic_decline` or `incorrect_number`.
        code: String,
        /// Message shown to the customer.
        message: String,
    },
    /// A product seed failed Creem's product validation.
    #[error("invalid product: {0}")]
    InvalidProduct(String),
    /// A price seed failed Stripe's price validation (or reused an id).
    #[error("invalid price: {0}")]
    InvalidPrice(String),
    /// A webhook endpoint URL is not an absolute http(s) URL.
    #[error("invalid webhook endpoint URL: {0}")]
    InvalidUrl(String),
    /// A fault cannot be injected as given (a `Delay` past the cap).
    #[error("invalid fault: {0}")]
    InvalidFault(String),
    /// Delivery modes cannot be applied as given (a wait past the cap, an unreadable mode).
    #[error("invalid delivery mode: {0}")]
    InvalidDeliveryMode(String),
    /// No emitted webhook event with this id is kept (never emitted, or older than the
    /// newest `log_capacity` events).
    #[error("no webhook event with id {0}")]
    EventNotFound(String),
    /// A configuration file could not be read or parsed.
    #[error("invalid sandbox configuration: {0}")]
    Config(String),
}
