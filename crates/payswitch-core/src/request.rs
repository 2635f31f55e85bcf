//! The normalized checkout request and its local validation.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::PaymentError;
use crate::money::{Currency, Money};

/// Metadata limits shared by the gateways (Stripe's, the strictest).
pub const METADATA_MAX_KEYS: usize = 50;
/// The longest metadata key, in characters.
pub const METADATA_MAX_KEY_CHARS: usize = 40;
/// The longest metadata value, in characters.
pub const METADATA_MAX_VALUE_CHARS: usize = 500;
/// The most line items one checkout may have.
pub const MAX_LINE_ITEMS: usize = 100;
/// The longest `reference`, in characters (Stripe's `client_reference_id` limit).
pub const MAX_REFERENCE_CHARS: usize = 200;
/// The longest idempotency key, in characters.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// What the checkout is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutMode {
    /// A one-time purchase.
    #[default]
    Payment,
    /// Starts a subscription; every custom-priced item needs a recurring interval.
    Subscription,
    /// Saves a payment method for later without charging.
    Setup,
}

/// How the customer sees the checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UiMode {
    /// A page hosted by the gateway; the result carries its `url`.
    #[default]
    Hosted,
    /// A form embedded in the application's page; the result carries a `client_secret`, and
    /// `success_url` is used as the gateway's return URL.
    Embedded,
}

/// How often a recurring price bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    /// Daily.
    Day,
    /// Weekly.
    Week,
    /// Monthly.
    Month,
    /// Yearly.
    Year,
}

/// A recurring billing period: every `interval_count` `interval`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Recurring {
    /// The unit of the period.
    pub interval: Interval,
    /// How many units make one period (at least 1; at most one year in all).
    pub interval_count: u32,
}

impl Recurring {
    /// Bills every single `interval`.
    pub fn every(interval: Interval) -> Self {
        Self {
            interval,
            interval_count: 1,
        }
    }
}

/// A product priced by the application for this checkout only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomProduct {
    /// The name the customer sees.
    pub name: String,
    /// An optional description.
    pub description: Option<String>,
    /// The price of one unit, decided on the server.
    pub unit_amount: Money,
    /// Set for subscription items.
    pub recurring: Option<Recurring>,
}

/// What a line item sells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Product {
    /// A logical SKU that the configuration's catalog maps to each gateway's own id.
    Sku(String),
    /// A gateway-native id (a Stripe price id, a Creem product id) used as is.
    Native(String),
    /// A custom-priced product.
    Custom(CustomProduct),
}

/// One line of the checkout: a product and a quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    /// What is sold.
    pub product: Product,
    /// How many (at least 1).
    pub quantity: u32,
}

impl LineItem {
    /// A catalog product by logical SKU, resolved per gateway from the configuration.
    pub fn sku(sku: impl Into<String>, quantity: u32) -> Self {
        Self {
            product: Product::Sku(sku.into()),
            quantity,
        }
    }

    /// A gateway-native product or price id, sent as is.
    pub fn native(id: impl Into<String>, quantity: u32) -> Self {
        Self {
            product: Product::Native(id.into()),
            quantity,
        }
    }

    /// A custom-priced item.
    pub fn custom(name: impl Into<String>, unit_amount: Money, quantity: u32) -> Self {
        Self {
            product: Product::Custom(CustomProduct {
                name: name.into(),
                description: None,
                unit_amount,
                recurring: None,
            }),
            quantity,
        }
    }

    /// Sets the description of a custom-priced item (no effect on catalog items).
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        if let Product::Custom(custom) = &mut self.product {
            custom.description = Some(description.into());
        }
        self
    }

    /// Makes a custom-priced item recurring (no effect on catalog items).
    pub fn with_recurring(mut self, recurring: Recurring) -> Self {
        if let Product::Custom(custom) = &mut self.product {
            custom.recurring = Some(recurring);
        }
        self
    }

    /// The custom product, when the item is custom-priced.
    pub fn custom_product(&self) -> Option<&CustomProduct> {
        match &self.product {
            Product::Custom(custom) => Some(custom),
            Product::Sku(_) | Product::Native(_) => None,
        }
    }
}

/// Everything a gateway needs to open a checkout, independent of the gateway.
///
/// Build it with [`CheckoutRequest::builder`], which validates. Adapters validate again
/// with [`CheckoutRequest::validate`] before any network call.
///
/// ```
/// use payswitch_core::{CheckoutRequest, Currency, LineItem, Money};
/// let request = CheckoutRequest::builder()
///     .line_item(LineItem::custom("T-shirt", Money::new(2000, Currency::USD), 2))
///     .success_url("https://shop.example/done?session_id={CHECKOUT_SESSION_ID}")
///     .reference("order-42")
///     .metadata("plan", "one-time")
///     .build()
///     .unwrap();
/// assert_eq!(request.total().unwrap(), Some(Money::new(4000, Currency::USD)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CheckoutRequest {
    /// Payment, subscription or setup.
    pub mode: CheckoutMode,
    /// Hosted page or embedded form.
    pub ui_mode: UiMode,
    /// What is sold. Empty only in setup mode.
    pub line_items: Vec<LineItem>,
    /// Where the gateway sends the customer after paying. A literal
    /// `{CHECKOUT_SESSION_ID}` is kept intact for gateways that substitute it.
    pub success_url: String,
    /// Where the customer goes on cancel, where the gateway supports it.
    pub cancel_url: Option<String>,
    /// The customer's email, to prefill.
    pub customer_email: Option<String>,
    /// An existing gateway customer id.
    pub customer_id: Option<String>,
    /// The application's own order id (Stripe `client_reference_id`, Creem `request_id`).
    pub reference: Option<String>,
    /// String key/value pairs stored with the checkout and echoed in webhooks.
    pub metadata: BTreeMap<String, String>,
    /// A discount code as the customer types it (`SUMMER25`): portable, resolved by each
    /// adapter (Creem takes it as is; Stripe looks up the active promotion code with that
    /// code). An unknown or inactive code is refused before any checkout exists.
    pub discount_code: Option<String>,
    /// A gateway-native discount id, sent as is (a Stripe promotion code `promo_…`): not
    /// portable; gateways without such ids refuse it with `Unsupported`.
    pub discount_id: Option<String>,
    /// Lets the customer type a discount code on the checkout page.
    pub allow_discount_codes: bool,
    /// The checkout page's language, e.g. `fr` or `en-GB`.
    pub locale: Option<String>,
    /// How long the checkout stays open (gateways bound it; Stripe: 30 min to 24 h).
    pub expires_in: Option<Duration>,
    /// The currency, needed in setup mode where no line item carries one.
    pub currency: Option<Currency>,
    /// The idempotency key for the create call; adapters derive one when absent.
    pub idempotency_key: Option<String>,
}

impl CheckoutRequest {
    /// Starts a builder for a one-time payment checkout.
    pub fn builder() -> CheckoutRequestBuilder {
        CheckoutRequestBuilder::default()
    }

    /// The total of the line items, when every item is custom-priced (catalog prices live
    /// at the gateway). Fails on mixed currencies or overflow.
    pub fn total(&self) -> Result<Option<Money>, PaymentError> {
        let mut total: Option<Money> = None;
        for (index, item) in self.line_items.iter().enumerate() {
            let Some(custom) = item.custom_product() else {
                return Ok(None);
            };
            let field = || format!("line_items[{index}].unit_amount");
            let line = custom
                .unit_amount
                .checked_mul(item.quantity)
                .map_err(|error| PaymentError::invalid(field(), error.to_string()))?;
            total = Some(match total {
                None => line,
                Some(sum) => sum
                    .checked_add(line)
                    .map_err(|error| PaymentError::invalid(field(), error.to_string()))?,
            });
        }
        Ok(total)
    }

    /// Checks every rule that needs no gateway: items, quantities, amounts, currencies,
    /// URLs, metadata limits and mode/item consistency. The error names the field.
    pub fn validate(&self) -> Result<(), PaymentError> {
        self.validate_items()?;
        self.total()?;
        check_url("success_url", &self.success_url)?;
        if let Some(url) = &self.cancel_url {
            check_url("cancel_url", url)?;
        }
        if let Some(email) = &self.customer_email {
            check_email("customer_email", email)?;
        }
        non_blank("customer_id", self.customer_id.as_deref())?;
        non_blank("discount_code", self.discount_code.as_deref())?;
        non_blank("discount_id", self.discount_id.as_deref())?;
        if self.discount_code.is_some() && self.discount_id.is_some() {
            return Err(PaymentError::invalid(
                "discount_id",
                "give a discount code or a discount id, not both",
            ));
        }
        non_blank("locale", self.locale.as_deref())?;
        non_blank("reference", self.reference.as_deref())?;
        max_chars("reference", self.reference.as_deref(), MAX_REFERENCE_CHARS)?;
        non_blank("idempotency_key", self.idempotency_key.as_deref())?;
        max_chars(
            "idempotency_key",
            self.idempotency_key.as_deref(),
            MAX_IDEMPOTENCY_KEY_CHARS,
        )?;
        if self.expires_in == Some(Duration::ZERO) {
            return Err(PaymentError::invalid(
                "expires_in",
                "must be longer than zero",
            ));
        }
        validate_metadata(&self.metadata)
    }

    fn validate_items(&self) -> Result<(), PaymentError> {
        match self.mode {
            CheckoutMode::Setup if !self.line_items.is_empty() => {
                return Err(PaymentError::invalid(
                    "line_items",
                    "setup mode saves a payment method and takes no line items",
                ));
            }
            CheckoutMode::Setup => return Ok(()),
            CheckoutMode::Payment | CheckoutMode::Subscription if self.line_items.is_empty() => {
                return Err(PaymentError::invalid(
                    "line_items",
                    "at least one line item is required",
                ));
            }
            CheckoutMode::Payment | CheckoutMode::Subscription => {}
        }
        if self.line_items.len() > MAX_LINE_ITEMS {
            return Err(PaymentError::invalid(
                "line_items",
                format!("at most {MAX_LINE_ITEMS} line items are allowed"),
            ));
        }
        let mut currency: Option<Currency> = None;
        for (index, item) in self.line_items.iter().enumerate() {
            let field = |name: &str| format!("line_items[{index}].{name}");
            if item.quantity == 0 {
                return Err(PaymentError::invalid(
                    field("quantity"),
                    "must be at least 1",
                ));
            }
            match &item.product {
                Product::Sku(id) | Product::Native(id) => {
                    if id.trim().is_empty() {
                        return Err(PaymentError::invalid(field("product"), "must not be empty"));
                    }
                }
                Product::Custom(custom) => {
                    if custom.name.trim().is_empty() {
                        return Err(PaymentError::invalid(field("name"), "must not be empty"));
                    }
                    if custom.unit_amount.is_negative() {
                        return Err(PaymentError::invalid(
                            field("unit_amount"),
                            "must not be negative",
                        ));
                    }
                    let item_currency = custom.unit_amount.currency();
                    match currency {
                        Some(first) if first != item_currency => {
                            return Err(PaymentError::invalid(
                                field("unit_amount"),
                                format!("currency {item_currency} differs from {first} on an earlier item"),
                            ));
                        }
                        _ => currency = Some(item_currency),
                    }
                    validate_recurring(self.mode, custom.recurring, &field("recurring"))?;
                }
            }
        }
        self.validate_subscription_has_a_recurring_item()
    }

    /// Subscription mode needs at least one recurring item; one-time items may sit beside it
    /// (a set-up fee), as Stripe allows. A catalog product may be recurring at the gateway,
    /// which checks it there.
    fn validate_subscription_has_a_recurring_item(&self) -> Result<(), PaymentError> {
        if self.mode != CheckoutMode::Subscription {
            return Ok(());
        }
        let may_recur = self.line_items.iter().any(|item| match &item.product {
            Product::Sku(_) | Product::Native(_) => true,
            Product::Custom(custom) => custom.recurring.is_some(),
        });
        if may_recur {
            return Ok(());
        }
        Err(PaymentError::invalid(
            "line_items[0].recurring",
            "subscription mode needs at least one recurring item",
        ))
    }
}

fn validate_recurring(
    mode: CheckoutMode,
    recurring: Option<Recurring>,
    field: &str,
) -> Result<(), PaymentError> {
    match (mode, recurring) {
        (CheckoutMode::Payment, Some(_)) => Err(PaymentError::invalid(
            field,
            "a recurring item needs subscription mode",
        )),
        (_, Some(recurring)) => {
            // Stripe's limit: "a maximum of three years interval allowed (3 years, 36 months,
            // or 156 weeks)"; days follow the same three years.
            let limit = match recurring.interval {
                Interval::Day => 1095,
                Interval::Week => 156,
                Interval::Month => 36,
                Interval::Year => 3,
            };
            if recurring.interval_count == 0 || recurring.interval_count > limit {
                return Err(PaymentError::invalid(
                    field,
                    format!("interval_count must be between 1 and {limit} (three years at most)"),
                ));
            }
            Ok(())
        }
        (_, None) => Ok(()),
    }
}

pub(crate) fn check_url(field: &str, value: &str) -> Result<(), PaymentError> {
    let parsed = url::Url::parse(value)
        .map_err(|error| PaymentError::invalid(field, format!("not an absolute URL: {error}")))?;
    match parsed.scheme() {
        "http" | "https" if parsed.host().is_some() => Ok(()),
        _ => Err(PaymentError::invalid(
            field,
            "must be an http or https URL with a host",
        )),
    }
}

pub(crate) fn check_email(field: &str, email: &str) -> Result<(), PaymentError> {
    let valid = email.len() <= 512
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        });
    if valid {
        Ok(())
    } else {
        Err(PaymentError::invalid(field, "not an email address"))
    }
}

fn non_blank(field: &str, value: Option<&str>) -> Result<(), PaymentError> {
    match value {
        Some(value) if value.trim().is_empty() => {
            Err(PaymentError::invalid(field, "must not be empty when set"))
        }
        _ => Ok(()),
    }
}

fn max_chars(field: &str, value: Option<&str>, limit: usize) -> Result<(), PaymentError> {
    match value {
        Some(value) if value.chars().count() > limit => Err(PaymentError::invalid(
            field,
            format!("must be at most {limit} characters"),
        )),
        _ => Ok(()),
    }
}

/// Checks metadata against the gateways' limits (at most 50 keys, keys of 1 to 40 characters
/// without square brackets, values of at most 500 characters); the error names the key.
/// [`CheckoutRequest::validate`] applies it; adapters use it for their own metadata-bearing
/// requests.
pub fn validate_metadata(metadata: &BTreeMap<String, String>) -> Result<(), PaymentError> {
    if metadata.len() > METADATA_MAX_KEYS {
        return Err(PaymentError::invalid(
            "metadata",
            format!(
                "at most {METADATA_MAX_KEYS} keys are allowed, got {}",
                metadata.len()
            ),
        ));
    }
    for (key, value) in metadata {
        let field = format!("metadata[{key}]");
        if key.is_empty() {
            return Err(PaymentError::invalid("metadata", "keys must not be empty"));
        }
        if key.chars().count() > METADATA_MAX_KEY_CHARS {
            return Err(PaymentError::invalid(
                field,
                format!("keys must be at most {METADATA_MAX_KEY_CHARS} characters"),
            ));
        }
        // Stripe's form encoding nests on brackets, so a bracket in a key would change its meaning.
        if key.contains(['[', ']']) {
            return Err(PaymentError::invalid(
                field,
                "keys must not contain square brackets",
            ));
        }
        if value.chars().count() > METADATA_MAX_VALUE_CHARS {
            return Err(PaymentError::invalid(
                field,
                format!("values must be at most {METADATA_MAX_VALUE_CHARS} characters"),
            ));
        }
    }
    Ok(())
}

/// Builds a [`CheckoutRequest`]; [`build`](Self::build) validates it.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct CheckoutRequestBuilder {
    request: CheckoutRequest,
}

impl CheckoutRequestBuilder {
    /// Sets the mode (payment by default).
    pub fn mode(mut self, mode: CheckoutMode) -> Self {
        self.request.mode = mode;
        self
    }

    /// Sets hosted or embedded checkout (hosted by default).
    pub fn ui_mode(mut self, ui_mode: UiMode) -> Self {
        self.request.ui_mode = ui_mode;
        self
    }

    /// Adds a line item.
    pub fn line_item(mut self, item: LineItem) -> Self {
        self.request.line_items.push(item);
        self
    }

    /// Adds several line items.
    pub fn line_items(mut self, items: impl IntoIterator<Item = LineItem>) -> Self {
        self.request.line_items.extend(items);
        self
    }

    /// Sets where the customer lands after paying.
    pub fn success_url(mut self, url: impl Into<String>) -> Self {
        self.request.success_url = url.into();
        self
    }

    /// Sets where the customer lands on cancel.
    pub fn cancel_url(mut self, url: impl Into<String>) -> Self {
        self.request.cancel_url = Some(url.into());
        self
    }

    /// Prefills the customer's email.
    pub fn customer_email(mut self, email: impl Into<String>) -> Self {
        self.request.customer_email = Some(email.into());
        self
    }

    /// Uses an existing gateway customer.
    pub fn customer_id(mut self, id: impl Into<String>) -> Self {
        self.request.customer_id = Some(id.into());
        self
    }

    /// Sets the application's own order id.
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.request.reference = Some(reference.into());
        self
    }

    /// Adds one metadata pair.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.request.metadata.insert(key.into(), value.into());
        self
    }

    /// Applies a discount code as the customer would type it (portable).
    pub fn discount_code(mut self, code: impl Into<String>) -> Self {
        self.request.discount_code = Some(code.into());
        self
    }

    /// Applies a gateway-native discount id (a Stripe `promo_…`), sent as is.
    pub fn discount_id(mut self, id: impl Into<String>) -> Self {
        self.request.discount_id = Some(id.into());
        self
    }

    /// Lets the customer enter discount codes on the page.
    pub fn allow_discount_codes(mut self, allow: bool) -> Self {
        self.request.allow_discount_codes = allow;
        self
    }

    /// Sets the page language.
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.request.locale = Some(locale.into());
        self
    }

    /// Sets how long the checkout stays open.
    pub fn expires_in(mut self, duration: Duration) -> Self {
        self.request.expires_in = Some(duration);
        self
    }

    /// Sets the currency (needed in setup mode).
    pub fn currency(mut self, currency: Currency) -> Self {
        self.request.currency = Some(currency);
        self
    }

    /// Sets the idempotency key of the create call.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.request.idempotency_key = Some(key.into());
        self
    }

    /// Validates and returns the request.
    pub fn build(self) -> Result<CheckoutRequest, PaymentError> {
        self.request.validate()?;
        Ok(self.request)
    }
}
