//! HTTP plumbing every gateway crate needs: `Retry-After`, scrubbing a secret from gateway
//! text, and (feature `http-client`) the shared `reqwest` client builder.

use std::time::Duration;

use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;

/// Reads a `Retry-After` value: delay seconds, or an HTTP date (RFC 9110 §10.2.3) measured
/// from `now`. A date in the past is a zero wait; anything else unreadable is `None`.
///
/// ```
/// use std::time::Duration;
/// use payswitch_core::adapter::http::parse_retry_after;
/// let now = time::OffsetDateTime::from_unix_timestamp(784_111_777).unwrap();
/// assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
/// assert_eq!(
///     parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
///     Some(Duration::from_secs(10))
/// );
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = OffsetDateTime::parse(value, &Rfc2822).ok()?;
    Some(Duration::try_from(at - now).unwrap_or(Duration::ZERO))
}

/// Checks a configured API base URL and returns it without a trailing slash: an `http` or
/// `https` URL with a host, and no credentials, query or fragment. The message names `field`
/// and never quotes the URL, which may carry a password.
///
/// ```
/// use payswitch_core::adapter::http::check_api_base;
/// assert_eq!(check_api_base("x.api_base", "http://127.0.0.1:9/").unwrap(), "http://127.0.0.1:9");
/// assert!(check_api_base("x.api_base", "https://user:pw@api.example").is_err());
/// assert!(check_api_base("x.api_base", "file:///tmp").is_err());
/// ```
pub fn check_api_base(field: &str, base: &str) -> Result<String, crate::error::PaymentError> {
    let base = base.trim();
    let parsed = url::Url::parse(base).map_err(|error| {
        crate::error::PaymentError::config(format!("{field} is not a URL: {error}"))
    })?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(crate::error::PaymentError::config(format!(
            "{field} carries credentials; put the API key in its own setting"
        )));
    }
    let usable = matches!(parsed.scheme(), "http" | "https")
        && parsed.host().is_some()
        && parsed.query().is_none()
        && parsed.fragment().is_none();
    if !usable {
        return Err(crate::error::PaymentError::config(format!(
            "{field} must be an http(s) URL with a host and no query or fragment"
        )));
    }
    Ok(base.trim_end_matches('/').to_owned())
}

/// Replaces every occurrence of `secret` in gateway-written `text` with `[redacted]`, should
/// a gateway ever echo a key back in an error message.
///
/// ```
/// use payswitch_core::adapter::http::scrub;
/// assert_eq!(scrub("bad key sk_1 given".into(), "sk_1"), "bad key [redacted] given");
/// assert_eq!(scrub("fine".into(), ""), "fine");
/// ```
pub fn scrub(text: String, secret: &str) -> String {
    if secret.is_empty() || !text.contains(secret) {
        return text;
    }
    text.replace(secret, "[redacted]")
}

/// Builds the one `reqwest` client a gateway crate uses: its `User-Agent` and the shared
/// timeouts of [`HttpConfig`](crate::HttpConfig).
#[cfg(feature = "http-client")]
pub fn http_client(
    http: &crate::config::HttpConfig,
    user_agent: &str,
) -> Result<reqwest::Client, crate::error::PaymentError> {
    reqwest::Client::builder()
        .user_agent(user_agent)
        .timeout(http.timeout)
        .connect_timeout(http.connect_timeout)
        .build()
        .map_err(|error| {
            crate::error::PaymentError::config(format!("cannot build the HTTP client: {error}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_dates_wait_zero() {
        let now = OffsetDateTime::from_unix_timestamp(784_111_777).unwrap();
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:27 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after(" 3 ", now), Some(Duration::from_secs(3)));
    }
}
