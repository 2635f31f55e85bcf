//! Registering webhook endpoints: the URL check shared by the builder, the handle and the
//! admin API.

use std::sync::Arc;

use crate::app::App;
use crate::error::SandboxError;
use crate::state::Gateway;

/// Most webhook endpoints registered at once; more are refused, so the admin API cannot grow
/// the list (and the deliveries of every event) without bound.
pub const MAX_ENDPOINTS: usize = 100;

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
    let mut state = app.lock();
    if state.endpoints.len() >= MAX_ENDPOINTS {
        return Err(SandboxError::InvalidUrl(format!(
            "{url}: at most {MAX_ENDPOINTS} webhook endpoints can be registered"
        )));
    }
    state.endpoints.push((gateway, url.to_owned()));
    Ok(())
}

/// Removes a gateway's webhook endpoint; says whether it was registered.
pub(crate) fn remove_endpoint(app: &Arc<App>, gateway: Gateway, url: &str) -> bool {
    let mut state = app.lock();
    let before = state.endpoints.len();
    state
        .endpoints
        .retain(|(registered, registered_url)| !(*registered == gateway && registered_url == url));
    state.endpoints.len() != before
}

/// Makes `url` the gateway's only webhook endpoint, replacing whatever was registered for it:
/// an application that learns its own port after the sandbox started points the sandbox at
/// itself with one call.
pub(crate) fn set_endpoint(
    app: &Arc<App>,
    gateway: Gateway,
    url: &str,
) -> Result<(), SandboxError> {
    check_endpoint_url(url)?;
    let mut state = app.lock();
    state
        .endpoints
        .retain(|(registered, _)| *registered != gateway);
    state.endpoints.push((gateway, url.to_owned()));
    Ok(())
}
