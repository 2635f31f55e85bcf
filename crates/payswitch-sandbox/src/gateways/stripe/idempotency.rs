//! Stripe's idempotent requests (docs.stripe.com/api/idempotent_requests): a key's first result
//! is saved once the endpoint has started executing (successes, card declines and 500s, not
//! validation failures), replayed for 24 hours to requests with the same parameters, refused
//! with `idempotency_error` for different parameters and with 409 `idempotency_key_in_use`
//! while the first request is still executing.

use axum::response::Response;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Map, Value};

use crate::app::App;
use crate::gateways::stripe::auth::authenticate;
use crate::gateways::stripe::error::{error_response, failure_body, ApiError, Failure, Outcome};
use crate::gateways::stripe::objects::{IdempotencyStore, SavedResponse};
use crate::state::State;

/// How long a saved result is replayed: Stripe prunes keys "after they're at least 24 hours
/// old"; the sandbox forgets them exactly then, on its own clock.
pub(crate) const KEY_LIFETIME_SECONDS: i64 = 24 * 60 * 60;

/// Most saved results kept; the oldest go first past this, so a long-running sandbox stays
/// bounded.
pub(crate) const MAX_SAVED_KEYS: usize = 10_000;

/// Longest key Stripe accepts.
const MAX_KEY_CHARS: usize = 255;

/// Reads the `Idempotency-Key` of a POST; Stripe ignores keys on GET and DELETE.
pub(crate) fn request_key(method: &Method, headers: &HeaderMap) -> Option<String> {
    if *method != Method::POST {
        return None;
    }
    headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Refuses an `Idempotency-Key` longer than Stripe allows.
pub(crate) fn check_key(key: Option<&str>) -> Result<(), Failure> {
    match key {
        Some(key) if key.chars().count() > MAX_KEY_CHARS => Err(Failure::invalid(
            None,
            Some("Idempotency-Key"),
            "Idempotency-Key must be at most 255 characters long.".to_owned(),
        )),
        _ => Ok(()),
    }
}

/// Marks an authenticated request's key as executing. `Ok(None)` when there is nothing to
/// mark; `Err` with Stripe's 409 when the key's first request is still executing.
pub(crate) fn claim(
    app: &App,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Option<String>, Box<Response>> {
    let Some(key) = request_key(method, headers) else {
        return Ok(None);
    };
    // Unauthenticated and over-long keys are refused by the handler before any key is used.
    if authenticate(app, headers).is_err() || check_key(Some(&key)).is_err() {
        return Ok(None);
    }
    let mut state = app.lock();
    if !state.stripe.idempotency.in_flight.insert(key.clone()) {
        return Err(Box::new(error_response(
            StatusCode::CONFLICT,
            &key_in_use(&key),
        )));
    }
    Ok(Some(key))
}

/// Ends a claim made by [`claim`].
pub(crate) fn release(state: &mut State, key: &str) {
    state.stripe.idempotency.in_flight.remove(key);
}

/// Stripe's answer to a second request while the key's first one executes. The code is in
/// Stripe's SDK error-code enum; the message is the sandbox's own wording.
fn key_in_use(key: &str) -> ApiError {
    ApiError {
        kind: "idempotency_error",
        code: Some("idempotency_key_in_use"),
        param: None,
        message: format!(
            "There is currently another in-progress request using this Idempotency-Key \
             ('{key}'). Please try again later."
        ),
    }
}

/// The answer to a call that may have come from the idempotency store.
pub(crate) struct Replay {
    /// HTTP status of the answer, replayed or fresh.
    pub(crate) status: StatusCode,
    /// JSON body of the answer (an error body for failures).
    pub(crate) body: Value,
    /// The request id of the first call when this one was replayed.
    pub(crate) original_request: Option<String>,
}

/// Whether a result is saved under its key: once the endpoint started executing. Successes,
/// card declines (402) and server errors are; validation failures (other 4xx) never started.
pub(crate) fn is_saved(status: StatusCode) -> bool {
    status.is_success() || status == StatusCode::PAYMENT_REQUIRED || status.is_server_error()
}

/// Runs `run` unless `key` holds a live saved result: then replays it, or refuses the call
/// when its `fingerprint` (method, path, parameters) differs from the first one.
pub(crate) fn replay_or_run(
    state: &mut State,
    key: Option<&str>,
    fingerprint: &str,
    request_id: &str,
    run: impl FnOnce(&mut State) -> Outcome,
) -> Result<Replay, Failure> {
    let Some(key) = key else {
        let (status, body) = answer(run(state));
        return Ok(Replay {
            status,
            body,
            original_request: None,
        });
    };
    let now = state.now();
    prune(&mut state.stripe.idempotency, now);
    if let Some(saved) = state.stripe.idempotency.saved.get(key) {
        if saved.fingerprint != fingerprint {
            return Err(mismatch(key));
        }
        return Ok(Replay {
            status: StatusCode::from_u16(saved.status).unwrap_or(StatusCode::OK),
            body: saved.body.clone(),
            original_request: Some(saved.request_id.clone()),
        });
    }
    let (status, body) = answer(run(state));
    if is_saved(status) {
        save(
            &mut state.stripe.idempotency,
            key,
            SavedResponse {
                fingerprint: fingerprint.to_owned(),
                status: status.as_u16(),
                body: body.clone(),
                request_id: request_id.to_owned(),
                saved_at: now,
            },
        );
    }
    Ok(Replay {
        status,
        body,
        original_request: None,
    })
}

/// The HTTP status and body of an outcome.
fn answer(outcome: Outcome) -> (StatusCode, Value) {
    match outcome {
        Ok(answer) => answer,
        Err(failure) => (failure.status, failure_body(&failure)),
    }
}

fn mismatch(key: &str) -> Failure {
    Failure {
        status: StatusCode::BAD_REQUEST,
        error: ApiError {
            kind: "idempotency_error",
            code: None,
            param: None,
            message: format!(
                "Keys for idempotent requests can only be used with the same parameters they \
                 were first used with. Try using a key other than '{key}' if you meant to \
                 execute a different request."
            ),
        },
        extra: Map::new(),
    }
}

/// Saves a result, dropping the oldest ones past [`MAX_SAVED_KEYS`].
fn save(store: &mut IdempotencyStore, key: &str, saved: SavedResponse) {
    store.saved.insert(key.to_owned(), saved);
    store.order.push_back(key.to_owned());
    while store.saved.len() > MAX_SAVED_KEYS {
        let Some(oldest) = store.order.pop_front() else {
            break;
        };
        store.saved.remove(&oldest);
    }
}

/// Forgets results saved 24 hours or more before `now`.
pub(crate) fn prune(store: &mut IdempotencyStore, now: i64) {
    while let Some(oldest) = store.order.front() {
        let expired = store
            .saved
            .get(oldest)
            .is_none_or(|saved| now - saved.saved_at >= KEY_LIFETIME_SECONDS);
        if !expired {
            break;
        }
        if let Some(oldest) = store.order.pop_front() {
            store.saved.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(at: i64) -> SavedResponse {
        SavedResponse {
            fingerprint: "f".into(),
            status: 200,
            body: Value::Null,
            request_id: "req_1".into(),
            saved_at: at,
        }
    }

    #[test]
    fn saves_what_started_executing() {
        assert!(is_saved(StatusCode::OK));
        assert!(is_saved(StatusCode::PAYMENT_REQUIRED));
        assert!(is_saved(StatusCode::INTERNAL_SERVER_ERROR));
        assert!(!is_saved(StatusCode::BAD_REQUEST));
        assert!(!is_saved(StatusCode::NOT_FOUND));
    }

    #[test]
    fn keys_expire_after_a_day_and_the_store_is_bounded() {
        let mut store = IdempotencyStore::default();
        save(&mut store, "a", saved(0));
        save(&mut store, "b", saved(10));
        prune(&mut store, KEY_LIFETIME_SECONDS - 1);
        assert!(store.saved.contains_key("a"));
        prune(&mut store, KEY_LIFETIME_SECONDS);
        assert!(!store.saved.contains_key("a"));
        assert!(store.saved.contains_key("b"));
        for index in 0..=MAX_SAVED_KEYS {
            save(&mut store, &format!("k{index}"), saved(20));
        }
        assert_eq!(store.saved.len(), MAX_SAVED_KEYS);
        assert!(!store.saved.contains_key("b"));
    }
}
