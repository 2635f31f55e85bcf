//! One API request as the server hands it to a gateway: method, path, query, headers, body.

use http::{HeaderMap, Method};

/// A gateway API request, borrowed from the server's copy.
pub(crate) struct GatewayRequest<'a> {
    pub(crate) method: &'a Method,
    /// Path without the query string.
    pub(crate) path: &'a str,
    /// Raw query string, empty when there was none.
    pub(crate) query: &'a str,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}
