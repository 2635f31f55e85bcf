//! Entry points for the fuzz targets in `fuzz/`: hidden, unstable, not part of the API.

use payswitch_core::{PaymentError, Secret};

use crate::error::ErrorResponse;

/// Maps a Creem error answer as the client does after a non-2xx response.
pub fn map_error(status: u16, body: &[u8], api_key: &str) -> PaymentError {
    let response = ErrorResponse {
        status,
        body,
        retry_after: None,
        attempts: 1,
        looked_up: "ch_fuzz",
        fields: crate::error::RequestFields::Checkout,
    };
    crate::error::map_error(&response, &Secret::new(api_key))
}
