//! Base URLs, key prefixes and the checks run on a [`CreemConfig`] before a provider is built.

use payswitch_core::{CreemConfig, PaymentError, Secret};

/// The API base for live keys (`creem_…`, `creem_live_…`).
pub const LIVE_API_BASE: &str = "https://api.creem.io";

/// The API base for test-mode keys (`creem_test_…`); test and live data are fully separate.
pub const TEST_API_BASE: &str = "https://test-api.creem.io";

/// The prefix that marks a test-mode API key.
pub const TEST_KEY_PREFIX: &str = "creem_test_";

/// The `User-Agent` sent with every request.
pub const USER_AGENT: &str = concat!(
    "payswitch-creem/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/payswitch/payswitch)"
);

/// Chooses the API base a key belongs to: [`TEST_API_BASE`] for keys starting with
/// [`TEST_KEY_PREFIX`], [`LIVE_API_BASE`] for every other key.
///
/// ```
/// use payswitch_core::Secret;
/// use payswitch_creem::{api_base_for_key, TEST_API_BASE};
/// assert_eq!(api_base_for_key(&Secret::new("creem_test_abc")), TEST_API_BASE);
/// ```
pub fn api_base_for_key(api_key: &Secret) -> &'static str {
    // Creem's own CLI decides the same way; a live key sent to the test API is refused anyway.
    if api_key.expose().starts_with(TEST_KEY_PREFIX) {
        TEST_API_BASE
    } else {
        LIVE_API_BASE
    }
}

/// The base URL to use, without a trailing slash: `api_base` when configured, else the one the
/// key's prefix selects. Also refuses keys that are empty or cannot go in an HTTP header.
pub(crate) fn resolve_api_base(creem: &CreemConfig) -> Result<String, PaymentError> {
    let key = creem.api_key.expose();
    if key.trim().is_empty() {
        return Err(PaymentError::config(
            "creem.api_key (CREEM_API_KEY) is empty",
        ));
    }
    if !key.bytes().all(|byte| byte.is_ascii_graphic()) {
        // Never quote the key: it would end up in a log.
        return Err(PaymentError::config(
            "creem.api_key (CREEM_API_KEY) contains spaces or characters an HTTP header cannot carry",
        ));
    }
    if creem.webhook_secrets.iter().any(Secret::is_empty) {
        return Err(PaymentError::config(
            "creem.webhook_secrets (CREEM_WEBHOOK_SECRET) holds an empty secret",
        ));
    }
    let base = match &creem.api_base {
        Some(base) => base.trim(),
        None => api_base_for_key(&creem.api_key),
    };
    let parsed = url::Url::parse(base).map_err(|error| {
        PaymentError::config(format!(
            "creem.api_base (CREEM_API_BASE) {base:?} is not a URL: {error}"
        ))
    })?;
    let usable = matches!(parsed.scheme(), "http" | "https")
        && parsed.host().is_some()
        && parsed.query().is_none()
        && parsed.fragment().is_none();
    if !usable {
        return Err(PaymentError::config(format!(
            "creem.api_base (CREEM_API_BASE) {base:?} must be an http(s) URL with a host and no query"
        )));
    }
    Ok(base.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_prefix_selects_the_base() {
        assert_eq!(
            api_base_for_key(&Secret::new("creem_test_1")),
            TEST_API_BASE
        );
        assert_eq!(
            api_base_for_key(&Secret::new("creem_live_1")),
            LIVE_API_BASE
        );
        assert_eq!(api_base_for_key(&Secret::new("creem_1")), LIVE_API_BASE);
    }

    #[test]
    fn an_explicit_base_wins_and_loses_its_trailing_slash() {
        let config = CreemConfig::new("creem_live_1").with_api_base("http://127.0.0.1:9/");
        assert_eq!(resolve_api_base(&config).unwrap(), "http://127.0.0.1:9");
    }

    #[test]
    fn bad_settings_are_refused_without_quoting_the_key() {
        let spaced = CreemConfig::new("creem_test_ secret");
        let error = resolve_api_base(&spaced).unwrap_err().to_string();
        assert!(!error.contains("secret"), "{error}");
        assert!(resolve_api_base(&CreemConfig::new(" ")).is_err());
        let no_host = CreemConfig::new("creem_test_1").with_api_base("file:///tmp");
        assert!(resolve_api_base(&no_host).is_err());
        let empty_secret = CreemConfig::new("creem_test_1").with_webhook_secret("");
        assert!(resolve_api_base(&empty_secret).is_err());
    }
}
