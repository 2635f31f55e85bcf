//! The catalog's lifetime: the configured seeds go into a fresh state at start and again on
//! reset; products and prices can be added at runtime.

use std::sync::Arc;

use crate::app::App;
use crate::error::SandboxError;
use crate::gateways;
use crate::seed::{PriceSeed, ProductSeed};
use crate::state::State;

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

/// Seeds the configured products, prices and endpoints into a fresh state.
pub(crate) fn seed(app: &Arc<App>) -> Result<(), SandboxError> {
    let mut state = app.lock();
    state.endpoints = app.config.endpoints.clone();
    for seed in &app.config.products {
        gateways::add_product_seed(&mut state, seed)?;
    }
    for seed in &app.config.prices {
        gateways::add_price_seed(&mut state, seed)?;
    }
    Ok(())
}

/// Clears everything but the endpoints, then re-seeds the products and prices.
pub(crate) fn reset(app: &Arc<App>) {
    let mut state = app.lock();
    let endpoints = std::mem::take(&mut state.endpoints);
    *state = State::default();
    state.endpoints = endpoints;
    for seed in &app.config.products {
        // Seeds were validated at start, so this cannot fail now.
        let _ = gateways::add_product_seed(&mut state, seed);
    }
    for seed in &app.config.prices {
        let _ = gateways::add_price_seed(&mut state, seed);
    }
}
