//! [`PriceSeed`]: a Stripe Price (with its minimal Product) to put in the
//! sandbox's catalog at start, at runtime or through the admin API.

use serde::Deserialize;

use crate::handle::SandboxError;

/// A Stripe Price to put in the catalog, so sessions can use
/// `line_items[i][price]=price_…`.
///
/// The seed also creates the Stripe Product the price belongs to (a
/// `prod_…` with `product_name`), unless `product_id` names a product that
/// an earlier seed already created. Seeds go through Stripe's price
/// validation when they are added: a known currency, `unit_amount` from 0
/// to 99,999,999 and an interval of `day`, `week`, `month` or `year` with a
/// count of at most three years.
///
/// ```
/// use payswitch_sandbox::PriceSeed;
///
/// let monthly = PriceSeed::recurring("Pro", 2500, "usd", "month").with_id("price_pro_monthly");
/// let yearly = PriceSeed::recurring("Pro", 25000, "usd", "year").with_id("price_pro_yearly");
/// let lifetime = PriceSeed::one_time("Pro lifetime", 99000, "usd");
/// # let _ = (monthly, yearly, lifetime);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceSeed {
    /// Fixed id (e.g. `price_pro_monthly`, must start with `price_`); a
    /// random `price_…` when `None`.
    #[serde(default)]
    pub id: Option<String>,
    /// Name of the product, shown on the pay page and as the line item's
    /// description.
    pub product_name: String,
    /// Fixed product id (`prod_…`). When a product with this id exists it
    /// is reused, so several prices can share one product.
    #[serde(default)]
    pub product_id: Option<String>,
    /// Amount per unit in the currency's minor unit (cents for USD).
    pub unit_amount: i64,
    /// Three-letter ISO code, stored lowercase (`usd`).
    pub currency: String,
    /// `day`, `week`, `month` or `year` for a recurring price; `None` for
    /// a one-time price.
    #[serde(default)]
    pub interval: Option<String>,
    /// Number of intervals between charges (default 1).
    #[serde(default = "one")]
    pub interval_count: u32,
}

fn one() -> u32 {
    1
}

impl PriceSeed {
    /// A one-time price of `unit_amount` minor units for a new product
    /// named `product_name`.
    pub fn one_time(product_name: &str, unit_amount: i64, currency: &str) -> Self {
        Self {
            id: None,
            product_name: product_name.to_owned(),
            product_id: None,
            unit_amount,
            currency: currency.to_owned(),
            interval: None,
            interval_count: 1,
        }
    }

    /// A recurring price charged every `interval` (`day`, `week`, `month`
    /// or `year`; count 1, see [`PriceSeed::with_interval_count`]).
    pub fn recurring(product_name: &str, unit_amount: i64, currency: &str, interval: &str) -> Self {
        Self {
            interval: Some(interval.to_owned()),
            ..Self::one_time(product_name, unit_amount, currency)
        }
    }

    /// Gives the price a fixed id such as `price_pro_monthly`, so tests
    /// and application configs can refer to it.
    pub fn with_id(mut self, id: &str) -> Self {
        self.id = Some(id.to_owned());
        self
    }

    /// Charges every `count` intervals (e.g. 3 with `month` for quarterly).
    pub fn with_interval_count(mut self, count: u32) -> Self {
        self.interval_count = count;
        self
    }

    /// Attaches the price to a product with this fixed id, created by the
    /// first seed that names it and shared by later ones.
    pub fn with_product_id(mut self, product_id: &str) -> Self {
        self.product_id = Some(product_id.to_owned());
        self
    }

    /// Reads the Stripe prices of a catalog file.
    ///
    /// A catalog file is either a JSON array of [`ProductSeed`]s (Creem
    /// products only, so this returns no prices) or an object
    /// `{"products": [...], "prices": [...]}` whose `prices` are price
    /// seeds such as
    /// `{"id": "price_pro_monthly", "product_name": "Pro", "unit_amount": 2500, "currency": "usd", "interval": "month"}`.
    ///
    /// # Errors
    /// [`SandboxError::Config`] when the file cannot be read or parsed.
    ///
    /// [`ProductSeed`]: crate::ProductSeed
    pub fn from_json_file(path: impl AsRef<std::path::Path>) -> Result<Vec<Self>, SandboxError> {
        Ok(crate::handle::read_catalog(path.as_ref())?.prices)
    }
}
