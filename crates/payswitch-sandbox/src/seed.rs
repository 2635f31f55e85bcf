//! Catalog seeds, data only: Creem's [`ProductSeed`] and [`DiscountSeed`], Stripe's
//! [`PriceSeed`], [`CouponSeed`] and [`PromotionCodeSeed`], and the catalog file that holds
//! them. The gateways validate and insert them.

use serde::Deserialize;

use crate::error::SandboxError;

/// A Creem product to put in the catalog at start or through the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProductSeed {
    /// Fixed id (e.g. `prod_basic`); a random `prod_...` when `None`.
    #[serde(default)]
    pub id: Option<String>,
    /// Product name shown on the pay page.
    pub name: String,
    /// Description; defaults to the name.
    #[serde(default)]
    pub description: Option<String>,
    /// Price in cents: 0 or at least 100, as Creem requires.
    pub price: i64,
    /// `USD` or `EUR`.
    pub currency: String,
    /// `onetime` or `recurring`.
    #[serde(default = "onetime")]
    pub billing_type: String,
    /// For recurring products: `every-month`, `every-three-months`,
    /// `every-six-months` or `every-year`.
    #[serde(default)]
    pub billing_period: Option<String>,
    /// Where to send the customer after payment when a checkout has no
    /// `success_url`.
    #[serde(default)]
    pub default_success_url: Option<String>,
    /// `inclusive` (the default, as Creem's) or `exclusive`: whether the price includes tax.
    #[serde(default)]
    pub tax_mode: Option<String>,
    /// Sandbox-only: the tax rate charged on this product, in basis points (2100 = 21 %).
    /// Real Creem picks the rate from the buyer's country; the sandbox uses this fixed rate so
    /// tests can see orders whose `amount_paid` differs from the price. `None` (the default)
    /// charges no tax.
    #[serde(default)]
    pub tax_rate_bps: Option<u32>,
    /// Length in days of the free trial new subscriptions to this (recurring) product start
    /// with: they are `trialing` until it ends. `None` (the default) has no trial.
    #[serde(default)]
    pub trial_period_days: Option<u32>,
}

fn onetime() -> String {
    "onetime".to_owned()
}

impl ProductSeed {
    /// A one-time product.
    pub fn one_time(name: &str, price: i64, currency: &str) -> Self {
        Self {
            id: None,
            name: name.to_owned(),
            description: None,
            price,
            currency: currency.to_owned(),
            billing_type: onetime(),
            billing_period: None,
            default_success_url: None,
            tax_mode: None,
            tax_rate_bps: None,
            trial_period_days: None,
        }
    }

    /// A recurring product billed every `billing_period` (e.g. `every-month`).
    pub fn recurring(name: &str, price: i64, currency: &str, billing_period: &str) -> Self {
        Self {
            billing_type: "recurring".to_owned(),
            billing_period: Some(billing_period.to_owned()),
            ..Self::one_time(name, price, currency)
        }
    }

    /// Gives the product a fixed id, so tests and examples can refer to it.
    pub fn with_id(mut self, id: &str) -> Self {
        self.id = Some(id.to_owned());
        self
    }

    /// Reads the Creem products of a catalog file: a JSON array of seeds
    /// (`[{"id": "prod_pro", "name": "Pro", "price": 2500, "currency": "USD"}]`),
    /// or an object `{"products": [...], "prices": [...]}` that also holds
    /// Stripe prices (read those with [`PriceSeed::from_json_file`]).
    ///
    /// # Errors
    /// [`SandboxError::Config`] when the file cannot be read or parsed.
    pub fn from_json_file(path: impl AsRef<std::path::Path>) -> Result<Vec<Self>, SandboxError> {
        Ok(read_catalog(path.as_ref())?.products)
    }

    /// Sets the product's default success URL.
    pub fn with_default_success_url(mut self, url: &str) -> Self {
        self.default_success_url = Some(url.to_owned());
        self
    }

    /// Gives new subscriptions to this recurring product a free trial of `days` days.
    pub fn with_trial_days(mut self, days: u32) -> Self {
        self.trial_period_days = Some(days);
        self
    }

    /// Charges tax at `rate_bps` basis points, on top of the price (`exclusive`) or included
    /// in it (`inclusive`).
    pub fn with_tax(mut self, tax_mode: &str, rate_bps: u32) -> Self {
        self.tax_mode = Some(tax_mode.to_owned());
        self.tax_rate_bps = Some(rate_bps);
        self
    }
}

/// A Stripe coupon to put in the catalog, so sessions can use `discounts[0][coupon]` and
/// promotion codes can refer to it.
///
/// ```
/// use payswitch_sandbox::{CouponSeed, PromotionCodeSeed};
///
/// let coupon = CouponSeed::percent_off("SUMMER25", 25);
/// let code = PromotionCodeSeed::new("promo_summer", "SUMMER25", "SUMMER25");
/// # let _ = (coupon, code);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CouponSeed {
    /// The coupon's id (Stripe lets the merchant choose it).
    pub id: String,
    /// Name shown to customers.
    #[serde(default)]
    pub name: Option<String>,
    /// Whole percent off (1 to 100); set this or `amount_off`.
    #[serde(default)]
    pub percent_off: Option<u32>,
    /// Fixed amount off in `currency`'s minor units; set this or `percent_off`.
    #[serde(default)]
    pub amount_off: Option<i64>,
    /// Currency of `amount_off`.
    #[serde(default)]
    pub currency: Option<String>,
    /// `once` (the default), `repeating` or `forever`.
    #[serde(default = "once")]
    pub duration: String,
    /// Months a `repeating` coupon lasts.
    #[serde(default)]
    pub duration_in_months: Option<u32>,
}

fn once() -> String {
    "once".to_owned()
}

impl CouponSeed {
    /// A coupon taking `percent` percent off, once.
    pub fn percent_off(id: &str, percent: u32) -> Self {
        Self {
            id: id.to_owned(),
            name: None,
            percent_off: Some(percent),
            amount_off: None,
            currency: None,
            duration: once(),
            duration_in_months: None,
        }
    }

    /// A coupon taking `amount` minor units of `currency` off, once.
    pub fn amount_off(id: &str, amount: i64, currency: &str) -> Self {
        Self {
            percent_off: None,
            amount_off: Some(amount),
            currency: Some(currency.to_owned()),
            ..Self::percent_off(id, 0)
        }
    }

    /// Sets the coupon's duration: `once`, `forever`, or `repeating` with `months`.
    pub fn with_duration(mut self, duration: &str, months: Option<u32>) -> Self {
        self.duration = duration.to_owned();
        self.duration_in_months = months;
        self
    }
}

/// A Stripe promotion code: the customer-facing `code` of a coupon.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionCodeSeed {
    /// Fixed id, must start with `promo_`.
    pub id: String,
    /// What the customer types, e.g. `SUMMER25`.
    pub code: String,
    /// The coupon's id.
    pub coupon: String,
    /// Whether the code can be redeemed (default true).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl PromotionCodeSeed {
    /// An active promotion code `code` for `coupon`, with the id `id` (`promo_…`).
    pub fn new(id: &str, code: &str, coupon: &str) -> Self {
        Self {
            id: id.to_owned(),
            code: code.to_owned(),
            coupon: coupon.to_owned(),
            active: true,
        }
    }

    /// Makes the code inactive: it stays listed but cannot be redeemed.
    pub fn inactive(mut self) -> Self {
        self.active = false;
        self
    }
}

/// A Creem discount, redeemed with `discount_code` on a checkout.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscountSeed {
    /// Fixed id (`dis_…`); a random one when `None`.
    #[serde(default)]
    pub id: Option<String>,
    /// Name of the discount.
    pub name: String,
    /// The code customers enter, e.g. `LAUNCH10`.
    pub code: String,
    /// `percentage` or `fixed`.
    #[serde(rename = "type")]
    pub discount_type: String,
    /// Whole percent off, for `percentage`.
    #[serde(default)]
    pub percentage: Option<u32>,
    /// Amount off in cents, for `fixed`.
    #[serde(default)]
    pub amount: Option<i64>,
    /// Currency of `amount`, for `fixed`.
    #[serde(default)]
    pub currency: Option<String>,
    /// `once` (the default), `repeating` or `forever`.
    #[serde(default = "once")]
    pub duration: String,
    /// Product ids the discount applies to.
    pub applies_to_products: Vec<String>,
}

impl DiscountSeed {
    /// A `percentage` discount with code `code` for the given products.
    pub fn percentage(code: &str, percent: u32, products: &[&str]) -> Self {
        Self {
            id: None,
            name: code.to_owned(),
            code: code.to_owned(),
            discount_type: "percentage".to_owned(),
            percentage: Some(percent),
            amount: None,
            currency: None,
            duration: once(),
            applies_to_products: products
                .iter()
                .map(|product| (*product).to_owned())
                .collect(),
        }
    }

    /// A `fixed` discount of `amount` cents of `currency` with code `code`.
    pub fn fixed(code: &str, amount: i64, currency: &str, products: &[&str]) -> Self {
        Self {
            discount_type: "fixed".to_owned(),
            percentage: None,
            amount: Some(amount),
            currency: Some(currency.to_owned()),
            ..Self::percentage(code, 0, products)
        }
    }
}

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
    pub fn from_json_file(path: impl AsRef<std::path::Path>) -> Result<Vec<Self>, SandboxError> {
        Ok(read_catalog(path.as_ref())?.prices)
    }
}

/// The object form of a catalog file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CatalogFile {
    #[serde(default)]
    pub(crate) products: Vec<ProductSeed>,
    #[serde(default)]
    pub(crate) prices: Vec<PriceSeed>,
    #[serde(default)]
    pub(crate) coupons: Vec<CouponSeed>,
    #[serde(default)]
    pub(crate) promotion_codes: Vec<PromotionCodeSeed>,
    #[serde(default)]
    pub(crate) discounts: Vec<DiscountSeed>,
}

/// Reads a catalog file in either form: a bare array of Creem product
/// seeds (the original format, still accepted) or a `CatalogFile` object.
pub(crate) fn read_catalog(path: &std::path::Path) -> Result<CatalogFile, SandboxError> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        SandboxError::Config(format!("cannot read {}: {error}", path.display()))
    })?;
    let invalid = |error: serde_json::Error| {
        SandboxError::Config(format!(
            "{} is neither a JSON array of products nor an object {{\"products\", \"prices\"}}: \
             {error}",
            path.display()
        ))
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(invalid)?;
    if value.is_array() {
        Ok(CatalogFile {
            products: serde_json::from_value(value).map_err(invalid)?,
            ..CatalogFile::default()
        })
    } else {
        serde_json::from_value(value).map_err(invalid)
    }
}
