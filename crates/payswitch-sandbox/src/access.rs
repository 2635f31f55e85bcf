//! Who may talk to the sandbox: the `Host`, `Origin`, content-type and admin-token rules that
//! keep web pages (CSRF, DNS rebinding) away from a server that holds keys and can send
//! webhooks anywhere, and the constant-time comparison every key check uses. Pure functions,
//! decided here and applied by the server.

use http::{HeaderMap, Method, StatusCode};

/// The header that carries the admin token on `/__sandbox/*`.
pub(crate) const ADMIN_TOKEN_HEADER: &str = "x-sandbox-admin-token";

/// Which kind of route a request is for; the rules differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// `/__sandbox` and `/__sandbox/*`.
    Admin,
    /// `/`, `/pay/{id}` and `/portal/{token}`.
    Page,
    /// Everything else: the gateways' wire APIs.
    Gateway,
}

impl Route {
    /// Classifies a request path.
    pub(crate) fn of(path: &str) -> Route {
        if path == "/__sandbox" || path.starts_with("/__sandbox/") {
            Route::Admin
        } else if path == "/" || path.starts_with("/pay/") || path.starts_with("/portal/") {
            Route::Page
        } else {
            Route::Gateway
        }
    }
}

/// Why a request is refused, with the status it is answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) message: &'static str,
}

/// What a request brings that the rules look at.
pub(crate) struct Presented<'a> {
    pub(crate) method: &'a Method,
    pub(crate) route: Route,
    /// The authority of an absolute-form request target (`POST http://host/ HTTP/1.1`).
    pub(crate) target_authority: Option<&'a str>,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body_is_empty: bool,
}

/// Decides whether a request may be served; `admin_token` is the configured one, if any.
///
/// # Errors
/// The refusal: 421 for a foreign host, 403 for a foreign origin or a missing or wrong admin
/// token, 415 for an admin POST whose body is not declared as JSON.
pub(crate) fn check(request: &Presented<'_>, admin_token: Option<&str>) -> Result<(), Refusal> {
    let host = header(request.headers, http::header::HOST);
    // A rebound DNS name reaches 127.0.0.1 with its own name in `Host`: refuse every route.
    let host_ok =
        host.is_some_and(is_loopback_host) && request.target_authority.is_none_or(is_loopback_host);
    if !host_ok {
        return Err(Refusal {
            status: StatusCode::MISDIRECTED_REQUEST,
            message: "the sandbox answers only Host 127.0.0.1, localhost or [::1]",
        });
    }
    let guarded = match request.route {
        Route::Admin => true,
        Route::Page => *request.method == Method::POST,
        Route::Gateway => false,
    };
    if !guarded {
        return Ok(());
    }
    // Browsers send `Origin` on cross-origin requests and on every POST; non-browser
    // clients send none. Only the sandbox's own origin (its own pay page) may come through.
    if let Some(origin) = request.headers.get(http::header::ORIGIN) {
        let same = origin
            .to_str()
            .ok()
            .zip(host)
            .is_some_and(|(origin, host)| is_same_origin(origin, host));
        if !same {
            return Err(Refusal {
                status: StatusCode::FORBIDDEN,
                message:
                    "cross-origin requests to the sandbox's admin API and pay form are refused",
            });
        }
    }
    if request.route != Route::Admin {
        return Ok(());
    }
    if let Some(expected) = admin_token {
        let given = request
            .headers
            .get(ADMIN_TOKEN_HEADER)
            .map(http::HeaderValue::as_bytes);
        if !given.is_some_and(|given| constant_time_eq(given, expected.as_bytes())) {
            return Err(Refusal {
                status: StatusCode::FORBIDDEN,
                message: "this sandbox requires its admin token in x-sandbox-admin-token",
            });
        }
    }
    // A web page can POST `text/plain` (or a typeless blob) cross-site without a CORS
    // preflight; `application/json` always needs one, which the sandbox never grants.
    if *request.method != Method::GET
        && *request.method != Method::HEAD
        && !request.body_is_empty
        && !header(request.headers, http::header::CONTENT_TYPE).is_some_and(is_json)
    {
        return Err(Refusal {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            message: "admin requests with a body must send content-type: application/json",
        });
    }
    Ok(())
}

/// Returns whether the admin token was configured and presented correctly.
pub(crate) fn has_admin_token(headers: &HeaderMap, admin_token: Option<&str>) -> bool {
    match (admin_token, headers.get(ADMIN_TOKEN_HEADER)) {
        (Some(expected), Some(given)) => constant_time_eq(given.as_bytes(), expected.as_bytes()),
        _ => false,
    }
}

fn header(headers: &HeaderMap, name: http::header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// `127.0.0.1`, `localhost` or `[::1]`, each with an optional port.
fn is_loopback_host(authority: &str) -> bool {
    let name = match authority.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((inside, after))
                if after.is_empty() || after.strip_prefix(':').is_some_and(is_port) =>
            {
                return inside == "::1";
            }
            _ => return false,
        },
        None => match authority.split_once(':') {
            Some((name, port)) if is_port(port) => name,
            Some(_) => return false,
            None => authority,
        },
    };
    name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost")
}

/// 1 to 5 digits.
fn is_port(text: &str) -> bool {
    !text.is_empty() && text.len() <= 5 && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// Whether `origin` is `http://` followed by exactly the (already loopback) `host`.
fn is_same_origin(origin: &str, host: &str) -> bool {
    origin
        .strip_prefix("http://")
        .is_some_and(|rest| rest.eq_ignore_ascii_case(host))
}

/// `application/json`, with or without parameters such as `charset`.
fn is_json(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// Compares two byte strings in time that depends only on their lengths, so a caller cannot
/// learn a key byte by byte from response timings. Hand-written (a fold of XORs) rather than a
/// new dependency; lengths are not secret (keys have well-known formats).
pub(crate) fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    let difference = left
        .iter()
        .zip(right)
        .fold(0u8, |difference, (a, b)| difference | (a ^ b));
    // `black_box` keeps the optimiser from turning the fold into an early exit.
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn decide(
        method: Method,
        path: &str,
        pairs: &[(&'static str, &'static str)],
        body_is_empty: bool,
        token: Option<&str>,
    ) -> Option<u16> {
        let headers = headers(pairs);
        check(
            &Presented {
                method: &method,
                route: Route::of(path),
                target_authority: None,
                headers: &headers,
                body_is_empty,
            },
            token,
        )
        .err()
        .map(|refusal| refusal.status.as_u16())
    }

    #[test]
    fn hosts() {
        for good in [
            "127.0.0.1",
            "127.0.0.1:12111",
            "localhost",
            "LOCALHOST:80",
            "[::1]",
            "[::1]:8080",
        ] {
            assert!(is_loopback_host(good), "{good}");
        }
        for bad in [
            "",
            "evil.test",
            "evil.test:12111",
            "127.0.0.1.evil.test",
            "127.0.0.2",
            "localhost.evil.test",
            "127.0.0.1:",
            "127.0.0.1:abc",
            "127.0.0.1:123456",
            "[::2]:80",
            "[::1]x",
            "0.0.0.0",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn the_rule_table() {
        let host = ("host", "127.0.0.1:5000");
        let json = ("content-type", "application/json");
        // (method, path, headers, body empty, token, expected refusal)
        type Row = (
            Method,
            &'static str,
            Vec<(&'static str, &'static str)>,
            bool,
            Option<&'static str>,
            Option<u16>,
        );
        let rows: Vec<Row> = vec![
            (Method::GET, "/v1/prices", vec![host], true, None, None),
            (Method::GET, "/v1/prices", vec![], true, None, Some(421)),
            (
                Method::GET,
                "/v1/prices",
                vec![("host", "rebound.evil.test:5000")],
                true,
                None,
                Some(421),
            ),
            // Gateway routes ignore Origin (browsers confirm PaymentIntents with pk keys).
            (
                Method::POST,
                "/v1/payment_intents/pi_1/confirm",
                vec![host, ("origin", "https://shop.test")],
                false,
                None,
                None,
            ),
            (Method::GET, "/__sandbox", vec![host], true, None, None),
            (
                Method::GET,
                "/__sandbox/requests",
                vec![host, ("origin", "https://evil.test")],
                true,
                None,
                Some(403),
            ),
            (
                Method::POST,
                "/__sandbox/reset",
                vec![host, ("origin", "http://127.0.0.1:5000")],
                true,
                None,
                None,
            ),
            (
                Method::POST,
                "/__sandbox/reset",
                vec![host, ("origin", "null")],
                true,
                None,
                Some(403),
            ),
            (
                Method::POST,
                "/__sandbox/webhooks",
                vec![host, ("content-type", "text/plain")],
                false,
                None,
                Some(415),
            ),
            (
                Method::POST,
                "/__sandbox/webhooks",
                vec![host],
                false,
                None,
                Some(415),
            ),
            (
                Method::POST,
                "/__sandbox/webhooks",
                vec![host, ("content-type", "application/json; charset=utf-8")],
                false,
                None,
                None,
            ),
            (
                Method::POST,
                "/__sandbox/webhooks",
                vec![host, json],
                false,
                Some("t0ken"),
                Some(403),
            ),
            (
                Method::POST,
                "/__sandbox/webhooks",
                vec![host, json, ("x-sandbox-admin-token", "wrong")],
                false,
                Some("t0ken"),
                Some(403),
            ),
            (
                Method::POST,
                "/__sandbox/webhooks",
                vec![host, json, ("x-sandbox-admin-token", "t0ken")],
                false,
                Some("t0ken"),
                None,
            ),
            // The pay form posts from its own origin; another site may not post it.
            (
                Method::POST,
                "/pay/cs_1",
                vec![host, ("origin", "http://127.0.0.1:5000")],
                false,
                None,
                None,
            ),
            (
                Method::POST,
                "/pay/cs_1",
                vec![host, ("origin", "http://127.0.0.1:5001")],
                false,
                None,
                Some(403),
            ),
            (
                Method::GET,
                "/pay/cs_1",
                vec![host, ("origin", "https://evil.test")],
                true,
                None,
                None,
            ),
            // Pages never need the admin token.
            (Method::GET, "/pay/cs_1", vec![host], true, Some("t"), None),
        ];
        for (method, path, pairs, empty, token, expected) in rows {
            assert_eq!(
                decide(method.clone(), path, &pairs, empty, token),
                expected,
                "{method} {path} {pairs:?} token={token:?}"
            );
        }
    }

    #[test]
    fn an_absolute_target_must_name_a_loopback_host() {
        let headers = headers(&[("host", "127.0.0.1:5000")]);
        let presented = |authority| Presented {
            method: &Method::GET,
            route: Route::Gateway,
            target_authority: authority,
            headers: &headers,
            body_is_empty: true,
        };
        assert!(check(&presented(Some("localhost:5000")), None).is_ok());
        assert!(check(&presented(Some("evil.test")), None).is_err());
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"sk_test_a", b"sk_test_a"));
        assert!(!constant_time_eq(b"sk_test_a", b"sk_test_b"));
        assert!(!constant_time_eq(b"sk_test_a", b"sk_test_"));
        assert!(constant_time_eq(b"", b""));
    }
}
