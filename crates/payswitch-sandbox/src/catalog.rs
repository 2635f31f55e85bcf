//! The catalog's lifetime: the configured seeds go into a fresh state at start and again on
//! reset; products and prices can be added at runtime.

use std::sync::Arc;

use crate::app::App;
use crate::error::SandboxError;
use crate::gateways;
use crate::seed::{PriceSeed, ProductSeed};
use crate::state::State;
use crate::webhooks::modes::DeliverySettings;

/// Adds a Creem product to the catalog.
pub(crate) fn add_product(app: &Arc<App>, seed: &ProductSeed) -> Result<String, SandboxError> {
    let mut state = app.lock();
    gateways::add_product_seed(&mut state, seed)
}

/// Adds a Stripe price (and its product) to the catalog.
pub(crate) fn add_price(app: &Arc<App>, seed: &PriceSeed) -> Result<String, SandboxError> {
    let mut state = app.lock();
    gateways::add_price_seed(&mut state, seed)
}

/// Seeds the configured products, prices, endpoints and delivery modes into a fresh state.
pub(crate) fn seed(app: &Arc<App>) -> Result<(), SandboxError> {
    let mut state = app.lock();
    state.endpoints = app.config.endpoints.clone();
    state.delivery_modes = configured_delivery_modes(app)?;
    insert_seeds(app, &mut state)
}

/// The delivery modes the builder configured.
fn configured_delivery_modes(app: &App) -> Result<DeliverySettings, SandboxError> {
    DeliverySettings::configured(
        &app.config.delivery_modes,
        &app.config.endpoint_delivery_modes,
    )
}

/// Inserts every configured seed, in dependency order (coupons before their codes).
fn insert_seeds(app: &App, state: &mut State) -> Result<(), SandboxError> {
    for seed in &app.config.products {
        gateways::add_product_seed(state, seed)?;
    }
    for seed in &app.config.prices {
        gateways::add_price_seed(state, seed)?;
    }
    for seed in &app.config.coupons {
        gateways::add_coupon_seed(state, seed)?;
    }
    for seed in &app.config.promotion_codes {
        gateways::add_promotion_code_seed(state, seed)?;
    }
    for seed in &app.config.discounts {
        gateways::add_discount_seed(state, seed)?;
    }
    Ok(())
}

/// Clears everything but the endpoints, then re-seeds the products, prices and the builder's
/// delivery modes (modes set later are forgotten, as faults are).
pub(crate) fn reset(app: &Arc<App>) {
    let mut state = app.lock();
    let endpoints = std::mem::take(&mut state.endpoints);
    *state = State::default();
    state.endpoints = endpoints;
    // Checked at start, so this cannot fail now.
    state.delivery_modes = configured_delivery_modes(app).unwrap_or_default();
    // Seeds were validated at start, so this cannot fail now.
    let _ = insert_seeds(app, &mut state);
}
