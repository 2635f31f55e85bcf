//! Registering webhook endpoints: the URL check shared by the builder, the handle and the
//! admin API.

use std::sync::Arc;

use crate::app::App;
use crate::error::SandboxError;
use crate::state::Gateway;

/// Checks a webhook endpoint URL is absolute http(s).
pub(crate) fn check_endpoint_url(url: &str) -> Result<(), SandboxError> {
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(()),
        _ => Err(SandboxError::InvalidUrl(url.to_owned())),
    }
}

/// Registers a webhook endpoint.
pub(crate) fn add_endpoint(
    app: &Arc<App>,
    gateway: Gateway,
    url: &str,
) -> Result<(), SandboxError> {
    check_endpoint_url(url)?;
    app.lock().endpoints.push((gateway, url.to_owned()));
    Ok(())
}
