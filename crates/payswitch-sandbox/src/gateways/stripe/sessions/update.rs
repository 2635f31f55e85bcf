//! `POST /v1/checkout/sessions/{id}`: Stripe's session update. The sandbox emulates
//! `metadata` (merged as Stripe merges it); the other documented fields are refused as not
//! emulated.

use http::StatusCode;

use crate::app::App;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::params::{
    apply_metadata, check_expand, expand_list, reject_unsupported,
};
use crate::gateways::stripe::sessions::read::{render, EXPANDABLE};
use crate::state::State;

/// Update parameters the sandbox emulates.
const UPDATE_PARAMS: &[&str] = &["expand", "metadata"];
/// Documented update parameters it does not: refused by name.
const UNEMULATED_UPDATE_PARAMS: &[&str] =
    &["collected_information", "line_items", "shipping_options"];

/// `POST /v1/checkout/sessions/{id}`: merges `metadata` into the session and answers it.
pub(crate) fn update(app: &App, state: &mut State, id: &str, params: &Params) -> Outcome {
    reject_unsupported(
        params,
        UPDATE_PARAMS,
        UNEMULATED_UPDATE_PARAMS,
        "",
        "Checkout Session updates",
    )?;
    let expand = expand_list(params)?;
    check_expand(&expand, EXPANDABLE)?;
    let session = state
        .stripe
        .sessions
        .get(id)
        .ok_or_else(|| Failure::not_found("checkout.session", "session", id))?;
    // Checked on a copy first, so a refused update changes nothing.
    let mut metadata = session.metadata.clone();
    apply_metadata(params, "", &mut metadata)?;
    if let Some(stored) = state.stripe.sessions.get_mut(id) {
        stored.metadata = metadata;
    }
    let session = state
        .stripe
        .sessions
        .get(id)
        .ok_or_else(|| Failure::not_found("checkout.session", "session", id))?;
    Ok((StatusCode::OK, render(app, state, session, &expand)))
}
