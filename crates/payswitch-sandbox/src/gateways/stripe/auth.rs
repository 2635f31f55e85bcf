//! Stripe's authentication: the API key from `Authorization` (Bearer, or Basic with the key as
//! the user name), checked against the sandbox's secret and publishable keys.

use base64::Engine;
use http::{HeaderMap, StatusCode};
use serde_json::Map;

use crate::access::constant_time_eq;
use crate::app::App;
use crate::gateways::stripe::error::{ApiError, Failure};

/// Which key authenticated the call.
pub(crate) enum Caller {
    Secret,
    Publishable,
}

/// Reads the API key from `Authorization: Bearer <key>` or Basic with the
/// key as the user name.
fn presented_key(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, credentials) = value.split_once(' ')?;
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(credentials.to_owned());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let user = text.split_once(':').map_or(text.as_str(), |(user, _)| user);
        return Some(user.to_owned());
    }
    None
}

pub(crate) fn authenticate(app: &App, headers: &HeaderMap) -> Result<Caller, Failure> {
    let unauthorized = |message: String| Failure {
        status: StatusCode::UNAUTHORIZED,
        error: ApiError {
            kind: "invalid_request_error",
            code: None,
            param: None,
            message,
        },
        extra: Map::new(),
    };
    let Some(key) = presented_key(headers).filter(|key| !key.is_empty()) else {
        return Err(unauthorized(
            "You did not provide an API key. You need to provide your API key in the \
             Authorization header, using Bearer auth (e.g. 'Authorization: Bearer \
             YOUR_SECRET_KEY')."
                .to_owned(),
        ));
    };
    if constant_time_eq(key.as_bytes(), app.config.stripe_secret_key.as_bytes()) {
        Ok(Caller::Secret)
    } else if constant_time_eq(key.as_bytes(), app.config.stripe_publishable_key.as_bytes()) {
        Ok(Caller::Publishable)
    } else {
        Err(unauthorized(format!(
            "Invalid API Key provided: {}",
            mask_key(&key)
        )))
    }
}

/// Masks a key as Stripe does in its 401 message: prefix and last four.
fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 12 {
        return "*".repeat(chars.len());
    }
    let head: String = chars.iter().take(8).collect();
    let tail: String = chars.iter().skip(chars.len() - 4).collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 12))
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn reads_bearer_and_basic_keys() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            HeaderValue::from_static("Bearer sk_test_x"),
        );
        assert_eq!(presented_key(&headers).as_deref(), Some("sk_test_x"));
        // base64("sk_test_x:")
        headers.insert(
            "authorization",
            HeaderValue::from_static("Basic c2tfdGVzdF94Og=="),
        );
        assert_eq!(presented_key(&headers).as_deref(), Some("sk_test_x"));
        headers.insert("authorization", HeaderValue::from_static("Basic !!!"));
        assert_eq!(presented_key(&headers), None);
    }

    #[test]
    fn masks_keys() {
        assert_eq!(mask_key("sk_test_wrongkey1234"), "sk_test_********1234");
        assert_eq!(mask_key("short"), "*****");
    }
}
