//! The gateways the sandbox speaks, one folder each, and the ONLY place that branches on
//! [`Gateway`]: every `match` below is exhaustive, so a new gateway fails to compile until
//! each operation has its arm.

pub(crate) mod creem;
pub(crate) mod request;
pub(crate) mod stripe;

use std::sync::Arc;

use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use crate::app::App;
use crate::billing::{PortalAction, PortalRefusal, PortalView, RefundRecord, SubscriptionRecord};
use crate::checkout::{NotPayable, PageView};
use crate::config::Config;
use crate::error::SandboxError;
use crate::gateways::request::GatewayRequest;
use crate::instruments::{Charged, Instrument, INCORRECT_NUMBER};
use crate::seed::{CouponSeed, DiscountSeed, PriceSeed, ProductSeed, PromotionCodeSeed};
use crate::state::{CheckoutRecord, Gateway, State};

/// The gateway answering unknown paths that carry no gateway-specific credentials.
const FALLBACK: Gateway = Gateway::Stripe;

/// Tells the gateways apart: a path several gateways serve (`/v1/customers`) goes to the one
/// whose credentials the request carries; otherwise by path (the others do not overlap), then
/// by authentication style for unknown paths.
pub(crate) fn owner(path: &str, headers: &HeaderMap) -> Gateway {
    let by_shared_path = Gateway::ALL
        .into_iter()
        .find(|gateway| shares_path(*gateway, path) && recognises_auth(*gateway, headers));
    if let Some(gateway) = by_shared_path {
        return gateway;
    }
    let by_path = Gateway::ALL
        .into_iter()
        .find(|gateway| owns_path(*gateway, path));
    let by_auth = || {
        Gateway::ALL
            .into_iter()
            .find(|gateway| recognises_auth(*gateway, headers))
    };
    by_path.or_else(by_auth).unwrap_or(FALLBACK)
}

fn owns_path(gateway: Gateway, path: &str) -> bool {
    match gateway {
        Gateway::Stripe => stripe::owns_path(path),
        Gateway::Creem => creem::owns_path(path),
    }
}

/// Whether `gateway` serves `path` although another gateway's API has it too.
fn shares_path(gateway: Gateway, path: &str) -> bool {
    match gateway {
        Gateway::Stripe => false,
        Gateway::Creem => creem::shares_path(path),
    }
}

fn recognises_auth(gateway: Gateway, headers: &HeaderMap) -> bool {
    match gateway {
        // Stripe's `Authorization` header is too common to claim a request by.
        Gateway::Stripe => false,
        Gateway::Creem => creem::uses_creem_auth(headers),
    }
}

/// Every checkout of every gateway, for [`SandboxHandle::checkouts`](crate::SandboxHandle).
pub(crate) fn checkouts(state: &State) -> Vec<CheckoutRecord> {
    let mut records = Vec::new();
    for gateway in Gateway::ALL {
        match gateway {
            Gateway::Stripe => {
                records.extend(
                    state
                        .stripe
                        .sessions
                        .values()
                        .map(|session| CheckoutRecord {
                            gateway,
                            id: session.id.clone(),
                            reference: session.client_reference_id.clone(),
                            status: session.status,
                        }),
                )
            }
            Gateway::Creem => {
                records.extend(
                    state
                        .creem
                        .checkouts
                        .values()
                        .map(|checkout| CheckoutRecord {
                            gateway,
                            id: checkout.id.clone(),
                            reference: checkout.request_id.clone(),
                            status: checkout.status,
                        }),
                )
            }
        }
    }
    records.sort_by(|left, right| left.id.cmp(&right.id));
    records
}

/// Every subscription of every gateway, for [`SandboxHandle::subscriptions`](crate::SandboxHandle),
/// sorted by id.
pub(crate) fn subscriptions(state: &State) -> Vec<SubscriptionRecord> {
    let mut records = Vec::new();
    for gateway in Gateway::ALL {
        match gateway {
            Gateway::Stripe => records.extend(stripe::records::subscriptions(state)),
            Gateway::Creem => records.extend(creem::subscriptions::records(state)),
        }
    }
    records.sort_by(|left, right| left.id.cmp(&right.id));
    records
}

/// Every refund of every gateway, for [`SandboxHandle::refunds`](crate::SandboxHandle), sorted
/// by id.
pub(crate) fn refunds(state: &State) -> Vec<RefundRecord> {
    let mut records = Vec::new();
    for gateway in Gateway::ALL {
        match gateway {
            Gateway::Stripe => records.extend(stripe::records::refunds(state)),
            Gateway::Creem => records.extend(creem::refunds::records(state)),
        }
    }
    records.sort_by(|left, right| left.id.cmp(&right.id));
    records
}

/// Returns what the customer portal page of link `token` shows, whatever its gateway.
///
/// # Errors
/// Why it cannot be shown: no gateway knows the link, or it expired.
pub(crate) fn portal_view(state: &State, token: &str) -> Result<PortalView, PortalRefusal> {
    let mut refusal = PortalRefusal::UnknownLink;
    for gateway in Gateway::ALL {
        let found = match gateway {
            Gateway::Stripe => stripe::portal::view(state, token),
            Gateway::Creem => creem::portal::view(state, token),
        };
        match found {
            Ok(view) => return Ok(view),
            Err(PortalRefusal::UnknownLink) => {}
            Err(other) => refusal = other,
        }
    }
    Err(refusal)
}

/// Takes a customer portal action on a subscription of link `token`'s customer and returns the
/// notice to show.
///
/// # Errors
/// Why not: unknown or expired link, not the customer's subscription, or not possible now.
pub(crate) fn portal_act(
    state: &mut State,
    token: &str,
    subscription_id: &str,
    action: PortalAction,
) -> Result<String, PortalRefusal> {
    let mut refusal = PortalRefusal::UnknownLink;
    for gateway in Gateway::ALL {
        let done = match gateway {
            Gateway::Stripe => stripe::portal::act(state, token, subscription_id, action),
            Gateway::Creem => creem::portal::act(state, token, subscription_id, action),
        };
        match done {
            Ok(notice) => return Ok(notice),
            Err(PortalRefusal::UnknownLink) => {}
            Err(other) => refusal = other,
        }
    }
    Err(refusal)
}

/// Returns where the customer portal page of link `token` links back to, if its gateway has
/// such a link (Stripe's `return_url`).
pub(crate) fn portal_return_url(state: &State, token: &str) -> Option<String> {
    Gateway::ALL.into_iter().find_map(|gateway| match gateway {
        Gateway::Stripe => stripe::portal::return_url(state, token),
        Gateway::Creem => None,
    })
}

/// Handles one API request in the gateway's wire protocol. `fail_with` is a failure injected
/// during execution: the endpoint runs, then answers that status (Stripe saves it under the
/// request's idempotency key; Creem has no such keys).
pub(crate) fn handle(
    gateway: Gateway,
    app: &Arc<App>,
    request: &GatewayRequest<'_>,
    fail_with: Option<StatusCode>,
) -> Response {
    match gateway {
        Gateway::Stripe => stripe::handle(app, request, fail_with),
        Gateway::Creem => {
            let response = creem::handle(app, request);
            match fail_with {
                Some(status) => fault_response(gateway, status.as_u16(), None),
                None => response,
            }
        }
    }
}

/// A request the gateway counts as executing until this is dropped (Stripe: its
/// `Idempotency-Key` is in use). Dropping releases it, also when the client goes away.
pub(crate) struct InFlight {
    app: Arc<App>,
    gateway: Gateway,
    key: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.app.lock();
        match self.gateway {
            Gateway::Stripe => stripe::idempotency::release(&mut state, &self.key),
            Gateway::Creem => {}
        }
    }
}

/// Marks a request as executing before anything else happens to it (a delay included).
///
/// # Errors
/// The gateway's answer when the request may not run now (Stripe: 409
/// `idempotency_key_in_use` while the key's first request executes).
pub(crate) fn begin(
    gateway: Gateway,
    app: &Arc<App>,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Option<InFlight>, Box<Response>> {
    let key = match gateway {
        Gateway::Stripe => stripe::idempotency::claim(app, method, headers)?,
        Gateway::Creem => None,
    };
    Ok(key.map(|key| InFlight {
        app: Arc::clone(app),
        gateway,
        key,
    }))
}

/// Checks every gateway's settings before the sandbox starts.
///
/// # Errors
/// [`SandboxError::Config`] naming the setting and what is accepted.
pub(crate) fn check_settings(config: &Config) -> Result<(), SandboxError> {
    for gateway in Gateway::ALL {
        match gateway {
            Gateway::Stripe => stripe::settings::check(config)?,
            Gateway::Creem => {}
        }
    }
    Ok(())
}

/// Builds the gateway's error answer for an injected fault, with `Retry-After` when given.
pub(crate) fn fault_response(
    gateway: Gateway,
    status: u16,
    retry_after_seconds: Option<u64>,
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = format!(
        "Injected fault: the sandbox answered {} on purpose.",
        status.as_u16()
    );
    let mut response = match gateway {
        Gateway::Stripe => stripe::error::fault_response(status, message),
        Gateway::Creem => creem::error::error_with_message(status, message),
    };
    if let Some(seconds) = retry_after_seconds {
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, value);
        }
    }
    response
}

/// Builds the gateway's 413 answer for a body over `limit` bytes.
pub(crate) fn too_large_response(gateway: Gateway, limit: usize) -> Response {
    let message = format!("Request body is larger than {limit} bytes.");
    match gateway {
        Gateway::Stripe => stripe::error::too_large_response(message),
        Gateway::Creem => creem::error::error_with_message(StatusCode::PAYLOAD_TOO_LARGE, message),
    }
}

/// Builds the headers of one webhook delivery attempt, signature included.
pub(crate) fn signature_headers(app: &App, gateway: Gateway, body: &str) -> Vec<(String, String)> {
    match gateway {
        Gateway::Stripe => stripe::events::signature_headers(app, body),
        Gateway::Creem => creem::events::signature_headers(app, body),
    }
}

/// Returns how many entries each gateway store keeps, named `<gateway>.<store>`.
pub(crate) fn store_sizes(state: &State) -> Vec<(String, usize)> {
    let mut sizes = Vec::new();
    for gateway in Gateway::ALL {
        let (prefix, stores) = match gateway {
            Gateway::Stripe => ("stripe", stripe::sizes::store_sizes(state)),
            Gateway::Creem => ("creem", creem::sizes::store_sizes(state)),
        };
        sizes.extend(
            stores
                .into_iter()
                .map(|(store, size)| (format!("{prefix}.{store}"), size)),
        );
    }
    sizes
}

/// Returns the gateway's webhook retry schedule: the seconds to wait after each failed
/// attempt, as the gateway retries in production.
pub(crate) fn webhook_retry_waits(gateway: Gateway) -> &'static [u64] {
    match gateway {
        Gateway::Stripe => stripe::webhook_retries::WEBHOOK_RETRY_WAITS,
        Gateway::Creem => creem::webhook_retries::WEBHOOK_RETRY_WAITS,
    }
}

/// Expires every open session and checkout whose time has come, in every gateway, then
/// recomputes when the next one is due.
pub(crate) fn expire_due(app: &App, state: &mut State) {
    for gateway in Gateway::ALL {
        match gateway {
            // Also subscription renewals, trial ends and scheduled cancellations.
            Gateway::Stripe => stripe::clock::run_due(app, state),
            Gateway::Creem => {
                creem::checkouts::expire_due(state);
                creem::renewals::settle_due(state);
            }
        }
    }
    state.next_expiry = Gateway::ALL
        .into_iter()
        .filter_map(|gateway| match gateway {
            Gateway::Stripe => state.stripe.next_expiry(),
            Gateway::Creem => state.creem.next_expiry(),
        })
        .min();
}

/// Forgets, in every gateway, finished transactional objects older than `retention_seconds`
/// and the oldest past `cap` of each kind.
pub(crate) fn forget_old(state: &mut State, retention_seconds: i64, cap: usize) {
    let now = state.now();
    for gateway in Gateway::ALL {
        match gateway {
            Gateway::Stripe => {
                state.stripe.forget_old(now, retention_seconds, cap);
                // Expired keys go even when no keyed request comes to prune them.
                stripe::idempotency::prune(&mut state.stripe.idempotency, now);
            }
            Gateway::Creem => state.creem.forget_old(now, retention_seconds, cap),
        }
    }
}

/// Returns whether `id` is a checkout of `gateway` and, if so, whether it can still be paid.
fn payability(state: &State, gateway: Gateway, id: &str) -> Option<Result<(), NotPayable>> {
    match gateway {
        Gateway::Stripe => stripe::sessions::lifecycle::check_payable(state, id),
        Gateway::Creem => creem::checkouts::check_payable(state, id),
    }
}

/// Returns which gateway's checkout `id` is, if any.
pub(crate) fn find(state: &State, id: &str) -> Option<Gateway> {
    Gateway::ALL
        .into_iter()
        .find(|gateway| payability(state, *gateway, id).is_some())
}

/// Decides whether the checkout `id` can still be paid, whatever its gateway.
///
/// # Errors
/// [`SandboxError::NotFound`] for an unknown id, [`SandboxError::NotPayable`] otherwise.
pub(crate) fn check_payable(state: &State, id: &str) -> Result<Gateway, SandboxError> {
    let not_found = || SandboxError::NotFound(id.to_owned());
    let gateway = find(state, id).ok_or_else(not_found)?;
    match payability(state, gateway, id).ok_or_else(not_found)? {
        Ok(()) => Ok(gateway),
        Err(not_payable) => Err(SandboxError::NotPayable {
            id: id.to_owned(),
            reason: not_payable.reason().to_owned(),
        }),
    }
}

/// Pays the checkout `id` as the customer `email` with a test card or IBAN and returns the
/// redirect URL.
///
/// # Errors
/// [`SandboxError::Declined`] when the instrument is declined (Stripe records the failed
/// attempt first); [`SandboxError::NotFound`].
pub(crate) fn complete(
    app: &App,
    state: &mut State,
    gateway: Gateway,
    id: &str,
    instrument: Instrument,
    email: &str,
) -> Result<String, SandboxError> {
    match gateway {
        Gateway::Stripe => stripe::sessions::lifecycle::complete(app, state, id, instrument, email),
        Gateway::Creem => match (instrument, instrument.charge()) {
            // Creem keeps the card on file: the renewal test cards decline later charges.
            (Instrument::Card(card), Charged::Paid) => {
                creem::payments::complete(app, state, id, email, card.number)
            }
            (_, Charged::Declined(decline)) => Err(decline.into_error()),
            // The sandbox's Creem takes cards only.
            (Instrument::SepaDebit(_), _) | (_, Charged::Processing(_)) => {
                Err(INCORRECT_NUMBER.into_error())
            }
        },
    }
}

/// Expires the checkout `id` now (admin operation).
pub(crate) fn expire(app: &App, state: &mut State, id: &str) -> Result<(), SandboxError> {
    let gateway = find(state, id).ok_or_else(|| SandboxError::NotFound(id.to_owned()))?;
    match gateway {
        Gateway::Stripe => stripe::sessions::lifecycle::expire_now(app, state, id),
        Gateway::Creem => creem::checkouts::expire(state, id),
    }
}

/// Returns what the hosted page shows for the checkout `id`.
pub(crate) fn page_view(state: &State, id: &str) -> Option<PageView> {
    match find(state, id)? {
        Gateway::Stripe => stripe::sessions::read::page_view(state, id),
        Gateway::Creem => creem::checkouts::page_view(state, id),
    }
}

/// Validates a Creem product seed and adds it to the catalog.
pub(crate) fn add_product_seed(
    state: &mut State,
    seed: &ProductSeed,
) -> Result<String, SandboxError> {
    creem::products::insert_seed(state, seed)
}

/// Validates a Stripe price seed and adds it (with its product) to the catalog.
pub(crate) fn add_price_seed(state: &mut State, seed: &PriceSeed) -> Result<String, SandboxError> {
    stripe::prices::insert_seed(state, seed)
}

/// Validates a Stripe coupon seed and adds it to the catalog.
pub(crate) fn add_coupon_seed(
    state: &mut State,
    seed: &CouponSeed,
) -> Result<String, SandboxError> {
    stripe::coupons::insert_coupon_seed(state, seed)
}

/// Validates a Stripe promotion code seed and adds it to the catalog.
pub(crate) fn add_promotion_code_seed(
    state: &mut State,
    seed: &PromotionCodeSeed,
) -> Result<String, SandboxError> {
    stripe::coupons::insert_promotion_code_seed(state, seed)
}

/// Validates a Creem discount seed and adds it to the catalog.
pub(crate) fn add_discount_seed(
    state: &mut State,
    seed: &DiscountSeed,
) -> Result<String, SandboxError> {
    creem::discounts::insert_seed(state, seed)
}
