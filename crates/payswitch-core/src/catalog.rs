//! [`Catalog`]: logical SKUs mapped to each gateway's own product or price id.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::PaymentError;
use crate::kind::ProviderKind;

/// Logical SKUs mapped to each gateway's own product or price id.
///
/// In TOML: `[catalog.pro_monthly]` with one key per gateway name, e.g. `stripe = "price_…"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Catalog {
    entries: BTreeMap<String, BTreeMap<String, String>>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `sku` to `id` on `provider`.
    pub fn insert(
        &mut self,
        sku: impl Into<String>,
        provider: ProviderKind,
        id: impl Into<String>,
    ) {
        self.entries
            .entry(sku.into())
            .or_default()
            .insert(provider.name().to_owned(), id.into());
    }

    /// Adds a mapping, builder style.
    pub fn with(
        mut self,
        sku: impl Into<String>,
        provider: ProviderKind,
        id: impl Into<String>,
    ) -> Self {
        self.insert(sku, provider, id);
        self
    }

    /// The gateway id of `sku` on `provider`, if mapped.
    pub fn resolve(&self, sku: &str, provider: ProviderKind) -> Option<&str> {
        self.entries
            .get(sku)?
            .get(provider.name())
            .map(String::as_str)
    }

    /// The gateway id of line item `index`'s `sku`, or an `InvalidRequest` naming the item.
    pub fn require(
        &self,
        index: usize,
        sku: &str,
        provider: ProviderKind,
    ) -> Result<&str, PaymentError> {
        self.resolve(sku, provider).ok_or_else(|| {
            let message = if self.entries.contains_key(sku) {
                format!("SKU {sku:?} has no {provider} id in the catalog")
            } else {
                format!("SKU {sku:?} is not in the catalog")
            };
            PaymentError::invalid(format!("line_items[{index}].product"), message)
        })
    }

    /// The SKUs in the catalog.
    pub fn skus(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }
}

impl Catalog {
    /// The gateway names the catalog maps SKUs to, once each, in order.
    pub fn gateway_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .entries
            .values()
            .flat_map(|ids| ids.keys().map(String::as_str))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The SKU and gateway name of every mapping, for messages about unknown gateways.
    pub fn mappings(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().flat_map(|(sku, ids)| {
            ids.keys()
                .map(move |gateway| (sku.as_str(), gateway.as_str()))
        })
    }
}
