//! Entry points for the fuzz targets in `fuzz/`: hidden, unstable, not part of the API.

use payswitch_core::{PaymentError, Secret};

use crate::error::ErrorAnswer;

/// Maps a Stripe error answer as the client does after a non-2xx response.
pub fn map_error(
    status: u16,
    request_id: Option<String>,
    body: &[u8],
    secret_key: &str,
) -> PaymentError {
    crate::error::map_error(ErrorAnswer {
        status,
        request_id,
        retry_after: None,
        body,
        attempts: 1,
        subject: "cs_fuzz",
        secret_key: &Secret::new(secret_key),
    })
}
