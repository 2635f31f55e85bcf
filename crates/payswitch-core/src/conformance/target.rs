//! What a conformance case runs against: the [`Target`] (provider, customer, fixtures).

use async_trait::async_trait;
use http::HeaderMap;

use crate::capability::Capabilities;
use crate::error::PaymentError;
use crate::money::Money;
use crate::provider::CheckoutProvider;
use crate::request::{CheckoutRequest, CheckoutRequestBuilder, LineItem};
use crate::result::CheckoutResult;

/// What a customer's payment produced: the webhook the gateway delivered and the query
/// string the browser carried back to the success URL.
#[derive(Debug, Clone)]
pub struct Payment {
    /// The webhook's headers.
    pub headers: HeaderMap,
    /// The webhook's raw body.
    pub body: Vec<u8>,
    /// The success redirect's query string, without `?`.
    pub return_query: String,
}

/// What a conformance case returns: `Err` for a gateway error it did not expect (a broken
/// expectation panics with its reason).
pub(crate) type CaseResult = Result<(), PaymentError>;

/// A webhook as the gateway delivered it.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// The request headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Vec<u8>,
}

/// Plays the customer on a gateway: pays checkouts and reports what the gateway holds.
#[async_trait]
pub trait Customer: Send + Sync {
    /// Pays an open checkout with a card that succeeds, and returns the `checkout completed`
    /// webhook the gateway delivered plus the success redirect.
    async fn pay(&self, checkout: &CheckoutResult) -> Result<Payment, PaymentError>;

    /// How many checkouts the gateway has created so far (to prove refusals send nothing).
    async fn checkouts_created(&self) -> usize;

    /// Every webhook the gateway has delivered so far, oldest first.
    async fn webhooks(&self) -> Vec<Webhook>;
}

/// What the gateway under test can sell.
#[derive(Debug, Clone)]
pub struct Fixtures {
    /// A one-time line item the gateway accepts (a custom item, or a catalog SKU).
    pub one_time_item: LineItem,
    /// What one unit of `one_time_item` costs.
    pub one_time_price: Money,
    /// A success URL to use.
    pub success_url: String,
    /// A checkout id in the gateway's own format that the gateway never issued.
    pub unknown_checkout_id: String,
    /// A recurring line item (a monthly plan), for the subscription cases; `None` when the
    /// gateway sells no subscriptions.
    pub subscription_item: Option<LineItem>,
    /// Another recurring plan in the same currency and interval, for plan changes.
    pub other_plan: Option<crate::request::Product>,
    /// A subscription id in the gateway's own format that the gateway never issued.
    pub unknown_subscription_id: String,
}

/// Everything a case needs.
pub struct Target {
    /// The provider under test.
    pub provider: Box<dyn CheckoutProvider>,
    /// The customer on its gateway.
    pub customer: Box<dyn Customer>,
    /// What it can sell.
    pub fixtures: Fixtures,
    /// Keeps servers (a sandbox, a webhook receiver) alive for the case's duration.
    pub guard: Box<dyn std::any::Any + Send>,
}

impl Target {
    pub(crate) fn request(&self) -> CheckoutRequestBuilder {
        CheckoutRequest::builder()
            .line_item(self.fixtures.one_time_item.clone())
            .success_url(self.fixtures.success_url.clone())
    }

    pub(crate) fn capabilities(&self) -> Capabilities {
        self.provider.capabilities()
    }
}
