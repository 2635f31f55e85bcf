//! Helpers for gateway implementations: the pieces every gateway crate needs and that would
//! otherwise be written once per gateway, slightly differently each time.
//!
//! **Audience and stability:** this module is for crates that implement
//! [`CheckoutProvider`](crate::CheckoutProvider) for a gateway, not for applications. It may
//! change in minor versions more freely than the rest of the crate.
//!
//! - [`wire`]: [`wire_enum!`](crate::wire_enum) (string enums that keep unknown values) and
//!   [`wire::Expandable`] (an id, or the expanded object).
//! - [`signature`]: HMAC-SHA256 over a payload, checked against any of several secrets in
//!   constant time.
//! - [`http`]: `Retry-After` parsing (seconds or HTTP date), scrubbing a secret out of
//!   gateway text, and (feature `http-client`) the shared `reqwest` client builder.

pub mod http;
pub mod signature;
pub mod wire;
