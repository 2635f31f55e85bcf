//! Conversions between payswitch's model and Stripe's wire types, with exhaustive matches:
//! checkouts, line items, PaymentIntents and event kinds here; subscriptions, refunds,
//! customers, portal sessions and previews in [`billing`].

pub(crate) mod billing;

use std::collections::BTreeMap;

use payswitch_core::request::{CheckoutMode, Interval, Product, UiMode, METADATA_MAX_KEYS};
use payswitch_core::{
    Catalog, CheckoutRequest, CheckoutResult, CheckoutStatus, Currency, PaymentError,
    PaymentStatus, RawJson, Recurring, WebhookEventKind,
};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::config::{KIND, SUBSCRIPTION_REFERENCE_KEY};
use crate::currency::{from_wire, to_wire};
use crate::limits::{self, check_minimum_charge, MAX_EXPIRES_IN, MIN_EXPIRES_IN};
use crate::line_items::CheckoutLineItem;
use crate::payment_intent::{PaymentIntent, PaymentIntentRequest, PaymentIntentStatus};
use crate::wire::{
    self, BillingReason, CreatePaymentIntentParams, CreateSessionParams, DiscountParams, EventType,
    InvoiceObject, LineItemParams, PreviousSubscription, PriceDataParams, RecurringInterval,
    RecurringParams, Session, SessionMode, SessionPaymentStatus, SessionStatus, SubscriptionObject,
    SubscriptionStatus,
};

/// The create parameters for a request, and the request fields Stripe will not receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionPlan {
    pub(crate) params: CreateSessionParams,
    pub(crate) ignored: Vec<String>,
}

/// The provider's settings a checkout's parameters depend on.
#[derive(Debug, Clone)]
pub(crate) struct SessionSettings {
    /// `ui_mode` for embedded checkouts in the pinned `Stripe-Version`'s spelling.
    pub(crate) embedded_ui_mode: &'static str,
    /// The account's settlement currency, when configured (see `limits::check_minimum_charge`).
    pub(crate) settlement_currency: Option<Currency>,
}

/// The first `Stripe-Version` that spells the embedded `ui_mode` `embedded_page`
/// (`2026-03-25.dahlia` renamed `hosted`/`embedded` to `hosted_page`/`embedded_page`).
const UI_MODE_RENAMED_IN: &str = "2026-03-25";

/// `ui_mode` for embedded checkouts in `api_version`'s spelling. Versions are
/// `YYYY-MM-DD.name`, so their date prefixes order as text.
pub(crate) fn embedded_ui_mode(api_version: &str) -> &'static str {
    if api_version.get(..10).unwrap_or(api_version) >= UI_MODE_RENAMED_IN {
        "embedded_page"
    } else {
        "embedded"
    }
}

/// Checks everything Stripe would refuse that can be known locally, then maps the request.
///
/// `discounts` carries only a `discount_id`; a `discount_code` is resolved to an id by a
/// request to Stripe, which the provider makes before sending these parameters.
pub(crate) fn session_params(
    request: &CheckoutRequest,
    catalog: &Catalog,
    now: OffsetDateTime,
    settings: &SessionSettings,
) -> Result<SessionPlan, PaymentError> {
    check_request(request, settings.settlement_currency)?;
    let mut ignored = Vec::new();
    let line_items = request
        .line_items
        .iter()
        .enumerate()
        .map(|(index, item)| line_item_params(index, &item.product, item.quantity, catalog))
        .collect::<Result<Vec<_>, _>>()?;
    let urls = ui_urls(request, settings.embedded_ui_mode, &mut ignored);
    let customer_email = match (&request.customer_id, &request.customer_email) {
        (Some(_), Some(_)) => {
            ignored.push("customer_email".to_owned());
            None
        }
        (None, email) => email.clone(),
        (Some(_), None) => None,
    };
    let currency = match (request.mode, request.currency) {
        (CheckoutMode::Setup, currency) => currency.map(|currency| currency.lowercase()),
        (CheckoutMode::Payment | CheckoutMode::Subscription, Some(_)) => {
            // Line items carry the currency in these modes.
            ignored.push("currency".to_owned());
            None
        }
        (CheckoutMode::Payment | CheckoutMode::Subscription, None) => None,
    };
    let params = CreateSessionParams {
        mode: Some(match request.mode {
            CheckoutMode::Payment => SessionMode::Payment,
            CheckoutMode::Subscription => SessionMode::Subscription,
            CheckoutMode::Setup => SessionMode::Setup,
        }),
        ui_mode: urls.ui_mode,
        line_items,
        success_url: urls.success_url,
        cancel_url: urls.cancel_url,
        return_url: urls.return_url,
        customer: request.customer_id.clone(),
        customer_email,
        client_reference_id: request.reference.clone(),
        metadata: request.metadata.clone(),
        discounts: request
            .discount_id
            .iter()
            .map(|id| DiscountParams {
                promotion_code: id.clone(),
            })
            .collect(),
        allow_promotion_codes: request.allow_discount_codes.then_some(true),
        locale: request.locale.clone(),
        expires_at: request
            .expires_in
            .map(|expires_in| limits::expires_at(now.unix_timestamp(), expires_in)),
        currency,
        subscription_metadata: subscription_metadata(request),
    };
    Ok(SessionPlan { params, ignored })
}

/// What the subscription a subscription-mode checkout creates carries: the request's
/// metadata, plus its reference under [`SUBSCRIPTION_REFERENCE_KEY`] (subscriptions have no
/// `client_reference_id`). Nothing in the other modes, which create no subscription.
fn subscription_metadata(request: &CheckoutRequest) -> BTreeMap<String, String> {
    match request.mode {
        CheckoutMode::Subscription => {
            let mut metadata = request.metadata.clone();
            if let Some(reference) = &request.reference {
                metadata.insert(SUBSCRIPTION_REFERENCE_KEY.to_owned(), reference.clone());
            }
            metadata
        }
        CheckoutMode::Payment | CheckoutMode::Setup => BTreeMap::new(),
    }
}

/// Refuses a subscription-mode request whose metadata sets the reference key itself, or
/// leaves no room for it under Stripe's 50-key limit.
fn check_subscription_metadata(request: &CheckoutRequest) -> Result<(), PaymentError> {
    if request.metadata.contains_key(SUBSCRIPTION_REFERENCE_KEY) {
        return Err(PaymentError::invalid(
            format!("metadata[{SUBSCRIPTION_REFERENCE_KEY}]"),
            "is set from reference on the subscription a Stripe checkout creates",
        ));
    }
    if request.reference.is_some() && request.metadata.len() >= METADATA_MAX_KEYS {
        return Err(PaymentError::invalid(
            "metadata",
            format!(
                "a subscription checkout with a reference copies it into the subscription's metadata, so at most {} keys are allowed",
                METADATA_MAX_KEYS - 1
            ),
        ));
    }
    Ok(())
}

/// Refuses, before any request, what Stripe would refuse: an invalid request, a discount
/// together with customer entry, an `expires_in` out of range, setup mode without a
/// currency, a total below the settlement currency's minimum charge.
fn check_request(
    request: &CheckoutRequest,
    settlement_currency: Option<Currency>,
) -> Result<(), PaymentError> {
    request.validate()?;
    let discount_field = match (&request.discount_code, &request.discount_id) {
        (Some(_), _) => Some("discount_code"),
        (None, Some(_)) => Some("discount_id"),
        (None, None) => None,
    };
    if let Some(field) = discount_field.filter(|_| request.allow_discount_codes) {
        return Err(PaymentError::invalid(
            field,
            "Stripe cannot apply a discount and let the customer enter one in the same checkout; choose one",
        ));
    }
    if request
        .expires_in
        .is_some_and(|duration| !(MIN_EXPIRES_IN..=MAX_EXPIRES_IN).contains(&duration))
    {
        return Err(PaymentError::invalid(
            "expires_in",
            "Stripe accepts 30 minutes to 24 hours",
        ));
    }
    match request.mode {
        CheckoutMode::Payment => {
            if let Some(total) = request.total()? {
                check_minimum_charge(total, settlement_currency)?;
            }
        }
        CheckoutMode::Subscription => check_subscription_metadata(request)?,
        // Checkout's dynamic payment methods need the currency in setup mode (and endive has
        // no `payment_method_types` to do without it).
        CheckoutMode::Setup if request.currency.is_none() => {
            return Err(PaymentError::invalid(
                "currency",
                "Stripe requires a currency in setup mode",
            ));
        }
        CheckoutMode::Setup => {}
    }
    Ok(())
}

/// Where Stripe sends the customer, by UI mode.
struct UiUrls {
    ui_mode: Option<&'static str>,
    success_url: Option<String>,
    cancel_url: Option<String>,
    return_url: Option<String>,
}

/// Hosted checkouts get `success_url` and `cancel_url`; embedded ones get `return_url` and
/// list a `cancel_url` as ignored.
fn ui_urls(
    request: &CheckoutRequest,
    embedded_ui_mode: &'static str,
    ignored: &mut Vec<String>,
) -> UiUrls {
    match request.ui_mode {
        UiMode::Hosted => UiUrls {
            ui_mode: None,
            success_url: Some(request.success_url.clone()),
            cancel_url: request.cancel_url.clone(),
            return_url: None,
        },
        UiMode::Embedded => {
            if request.cancel_url.is_some() {
                ignored.push("cancel_url".to_owned());
            }
            UiUrls {
                ui_mode: Some(embedded_ui_mode),
                success_url: None,
                cancel_url: None,
                return_url: Some(request.success_url.clone()),
            }
        }
    }
}

fn line_item_params(
    index: usize,
    product: &Product,
    quantity: u32,
    catalog: &Catalog,
) -> Result<LineItemParams, PaymentError> {
    let (price, price_data) = match product {
        Product::Sku(sku) => (Some(catalog.require(index, sku, KIND)?.to_owned()), None),
        Product::Native(price) => (Some(price.clone()), None),
        Product::Custom(custom) => (
            None,
            Some(PriceDataParams {
                currency: custom.unit_amount.currency().lowercase(),
                unit_amount: to_wire(
                    custom.unit_amount,
                    &format!("line_items[{index}].unit_amount"),
                )?,
                product_name: custom.name.clone(),
                product_description: custom.description.clone(),
                recurring: custom.recurring.map(recurring_params),
            }),
        ),
    };
    Ok(LineItemParams {
        price,
        price_data,
        quantity,
    })
}

fn recurring_params(recurring: Recurring) -> RecurringParams {
    RecurringParams {
        interval: match recurring.interval {
            Interval::Day => RecurringInterval::Day,
            Interval::Week => RecurringInterval::Week,
            Interval::Month => RecurringInterval::Month,
            Interval::Year => RecurringInterval::Year,
        },
        interval_count: recurring.interval_count,
    }
}

/// Normalizes a checkout session. Unknown statuses fall to the state that never fulfils.
pub(crate) fn checkout_result(session: Session, raw: RawJson) -> CheckoutResult {
    let status = match &session.status {
        Some(SessionStatus::Open) => CheckoutStatus::Open,
        Some(SessionStatus::Complete) => CheckoutStatus::Complete,
        Some(SessionStatus::Expired) => CheckoutStatus::Expired,
        Some(SessionStatus::Unknown(other)) => {
            tracing::warn!(
                status = ?other.as_str(),
                "unknown checkout.session status; treated as open"
            );
            CheckoutStatus::Open
        }
        None => CheckoutStatus::Open,
    };
    let payment_status = match &session.payment_status {
        Some(SessionPaymentStatus::Paid) => PaymentStatus::Paid,
        Some(SessionPaymentStatus::Unpaid) => PaymentStatus::Unpaid,
        Some(SessionPaymentStatus::NoPaymentRequired) => PaymentStatus::NoPaymentRequired,
        Some(SessionPaymentStatus::Unknown(other)) => {
            tracing::warn!(
                payment_status = ?other.as_str(),
                "unknown checkout.session payment_status; treated as unpaid"
            );
            PaymentStatus::Unpaid
        }
        None => PaymentStatus::Unpaid,
    };
    let mut result = CheckoutResult::new(session.id, KIND, status, payment_status);
    result.url = session.url;
    result.client_secret = session.client_secret;
    result.mode = match session.mode {
        Some(SessionMode::Payment) => Some(CheckoutMode::Payment),
        Some(SessionMode::Subscription) => Some(CheckoutMode::Subscription),
        Some(SessionMode::Setup) => Some(CheckoutMode::Setup),
        Some(SessionMode::Unknown(_)) | None => None,
    };
    result.amount_total = match (session.amount_total, session.currency.as_deref()) {
        (Some(amount), Some(code)) => Currency::new(code)
            .ok()
            .and_then(|currency| from_wire(amount, currency, "checkout.session").ok()),
        (Some(_), None) | (None, _) => None,
    };
    result.customer_email = session
        .customer_details
        .and_then(|details| details.email)
        .or(session.customer_email);
    result.customer_id = session.customer.map(|customer| customer.id().to_owned());
    result.reference = session.client_reference_id;
    result.metadata = session.metadata.unwrap_or_default();
    result.payment_id = session.payment_intent.map(|intent| intent.id().to_owned());
    result.subscription_id = session
        .subscription
        .map(|subscription| subscription.id().to_owned());
    result.created_at = session.created.and_then(unix_time);
    result.expires_at = session.expires_at.and_then(unix_time);
    result.raw = raw;
    result
}

/// Normalizes a line item.
pub(crate) fn line_item(
    item: wire::Item,
    raw: serde_json::Value,
) -> Result<CheckoutLineItem, PaymentError> {
    let currency = Currency::new(&item.currency).map_err(|_| unknown_currency("line item"))?;
    let money = |amount: i64| from_wire(amount, currency, "line item");
    let price = item.price;
    Ok(CheckoutLineItem {
        id: item.id,
        description: item.description,
        quantity: item.quantity,
        price_id: price.as_ref().map(|price| price.id.clone()),
        product_id: price
            .as_ref()
            .and_then(|price| price.product.as_ref())
            .map(|product| product.id().to_owned()),
        unit_amount: price
            .as_ref()
            .and_then(|price| price.unit_amount)
            .map(money)
            .transpose()?,
        recurring: price
            .as_ref()
            .and_then(|price| price.recurring.as_ref())
            .and_then(recurring),
        amount_subtotal: money(item.amount_subtotal)?,
        amount_discount: money(item.amount_discount)?,
        amount_tax: money(item.amount_tax)?,
        amount_total: money(item.amount_total)?,
        raw,
    })
}

fn recurring(recurring: &wire::PriceRecurring) -> Option<Recurring> {
    let interval = match &recurring.interval {
        RecurringInterval::Day => Interval::Day,
        RecurringInterval::Week => Interval::Week,
        RecurringInterval::Month => Interval::Month,
        RecurringInterval::Year => Interval::Year,
        RecurringInterval::Unknown(_) => return None,
    };
    let interval_count = u32::try_from(recurring.interval_count.unwrap_or(1)).ok()?;
    Some(Recurring {
        interval,
        interval_count,
    })
}

/// Maps a PaymentIntent request to its create parameters.
pub(crate) fn payment_intent_params(
    request: &PaymentIntentRequest,
) -> Result<CreatePaymentIntentParams, PaymentError> {
    Ok(CreatePaymentIntentParams {
        amount: to_wire(request.amount, "amount")?,
        currency: request.amount.currency().lowercase(),
        customer: request.customer_id.clone(),
        description: request.description.clone(),
        receipt_email: request.receipt_email.clone(),
        metadata: request.metadata.clone(),
    })
}

/// Normalizes a PaymentIntent; its `client_secret` is required (Stripe returns it to
/// secret-key callers).
pub(crate) fn payment_intent(
    intent: wire::PaymentIntent,
    raw: serde_json::Value,
) -> Result<PaymentIntent, PaymentError> {
    let currency =
        Currency::new(&intent.currency).map_err(|_| unknown_currency("payment_intent"))?;
    let client_secret = intent
        .client_secret
        .ok_or_else(|| PaymentError::decode("payment_intent", "client_secret is missing"))?;
    let status = match intent.status {
        wire::PaymentIntentStatus::RequiresPaymentMethod => {
            PaymentIntentStatus::RequiresPaymentMethod
        }
        wire::PaymentIntentStatus::RequiresConfirmation => {
            PaymentIntentStatus::RequiresConfirmation
        }
        wire::PaymentIntentStatus::RequiresAction => PaymentIntentStatus::RequiresAction,
        wire::PaymentIntentStatus::Processing => PaymentIntentStatus::Processing,
        wire::PaymentIntentStatus::RequiresCapture => PaymentIntentStatus::RequiresCapture,
        wire::PaymentIntentStatus::Canceled => PaymentIntentStatus::Canceled,
        wire::PaymentIntentStatus::Succeeded => PaymentIntentStatus::Succeeded,
        wire::PaymentIntentStatus::Unknown(other) => PaymentIntentStatus::Other(other),
    };
    Ok(PaymentIntent {
        id: intent.id,
        amount: from_wire(intent.amount, currency, "payment_intent")?,
        status,
        client_secret,
        customer_id: intent.customer.map(|customer| customer.id().to_owned()),
        metadata: intent.metadata.unwrap_or_default(),
        created_at: intent.created.and_then(unix_time),
        livemode: intent.livemode,
        raw: without_client_secret(raw),
    })
}

/// Normalizes an event type from `data` (the event's `data`: `object` and, on updates,
/// `previous_attributes`). Invoices tell a subscription's first payment from a renewal;
/// subscription updates look at the status and at a newly scheduled cancellation.
pub(crate) fn event_kind(event_type: &EventType, data: &serde_json::Value) -> WebhookEventKind {
    let other = || WebhookEventKind::Other(event_type.as_str().to_owned());
    let object = &data["object"];
    match event_type {
        EventType::CheckoutSessionCompleted => WebhookEventKind::CheckoutCompleted,
        EventType::CheckoutSessionAsyncPaymentSucceeded => WebhookEventKind::AsyncPaymentSucceeded,
        EventType::CheckoutSessionAsyncPaymentFailed => WebhookEventKind::AsyncPaymentFailed,
        EventType::CheckoutSessionExpired => WebhookEventKind::CheckoutExpired,
        EventType::PaymentIntentSucceeded => WebhookEventKind::PaymentSucceeded,
        EventType::PaymentIntentPaymentFailed => WebhookEventKind::PaymentFailed,
        EventType::ChargeRefunded
        | EventType::RefundCreated
        | EventType::RefundUpdated
        | EventType::RefundFailed => WebhookEventKind::Refunded,
        EventType::ChargeDisputeCreated => WebhookEventKind::Disputed,
        EventType::InvoicePaid | EventType::InvoicePaymentSucceeded => invoice_paid_kind(object),
        EventType::InvoicePaymentFailed => WebhookEventKind::SubscriptionPaymentFailed,
        EventType::CustomerSubscriptionDeleted => WebhookEventKind::SubscriptionCanceled,
        EventType::CustomerSubscriptionUpdated if cancel_newly_scheduled(data) => {
            WebhookEventKind::SubscriptionCancelScheduled
        }
        EventType::CustomerSubscriptionCreated
        | EventType::CustomerSubscriptionUpdated
        | EventType::CustomerSubscriptionResumed => {
            let status = SubscriptionObject::deserialize(object)
                .ok()
                .and_then(|subscription| subscription.status);
            match status {
                Some(SubscriptionStatus::Active) => WebhookEventKind::SubscriptionActive,
                Some(SubscriptionStatus::Trialing) => WebhookEventKind::SubscriptionTrialing,
                Some(SubscriptionStatus::Canceled | SubscriptionStatus::IncompleteExpired) => {
                    WebhookEventKind::SubscriptionCanceled
                }
                Some(SubscriptionStatus::PastDue | SubscriptionStatus::Unpaid) => {
                    WebhookEventKind::SubscriptionPastDue
                }
                Some(SubscriptionStatus::Paused) => WebhookEventKind::SubscriptionPaused,
                Some(SubscriptionStatus::Incomplete | SubscriptionStatus::Unknown(_)) | None => {
                    other()
                }
            }
        }
        EventType::CustomerSubscriptionPaused => WebhookEventKind::SubscriptionPaused,
        EventType::CustomerSubscriptionPendingUpdateApplied => {
            WebhookEventKind::SubscriptionUpdated
        }
        EventType::CustomerSubscriptionTrialWillEnd
        | EventType::CustomerSubscriptionPendingUpdateExpired
        | EventType::Unknown(_) => other(),
    }
}

/// A paid invoice: the first one of a subscription starts it, any other renews it.
fn invoice_paid_kind(object: &serde_json::Value) -> WebhookEventKind {
    let reason = InvoiceObject::deserialize(object)
        .ok()
        .and_then(|invoice| invoice.billing_reason);
    match reason {
        Some(BillingReason::SubscriptionCreate) => WebhookEventKind::SubscriptionStarted,
        Some(
            BillingReason::SubscriptionCycle
            | BillingReason::SubscriptionUpdate
            | BillingReason::SubscriptionThreshold
            | BillingReason::Subscription
            | BillingReason::Manual
            | BillingReason::Upcoming
            | BillingReason::QuoteAccept
            | BillingReason::AutomaticPendingInvoiceItemInvoice
            | BillingReason::Unknown(_),
        )
        | None => WebhookEventKind::SubscriptionRenewed,
    }
}

/// Says whether a `customer.subscription.updated` newly set `cancel_at_period_end`: true now,
/// false in `previous_attributes` (a change of anything else keeps it out).
fn cancel_newly_scheduled(data: &serde_json::Value) -> bool {
    let now = SubscriptionObject::deserialize(&data["object"])
        .ok()
        .and_then(|subscription| subscription.cancel_at_period_end);
    let before = PreviousSubscription::deserialize(&data["previous_attributes"])
        .ok()
        .and_then(|previous| previous.cancel_at_period_end);
    now == Some(true) && before == Some(false)
}

/// Says whether the event's object is a checkout session.
pub(crate) fn carries_checkout(event_type: &EventType) -> bool {
    match event_type {
        EventType::CheckoutSessionCompleted
        | EventType::CheckoutSessionAsyncPaymentSucceeded
        | EventType::CheckoutSessionAsyncPaymentFailed
        | EventType::CheckoutSessionExpired => true,
        EventType::PaymentIntentSucceeded
        | EventType::PaymentIntentPaymentFailed
        | EventType::ChargeRefunded
        | EventType::RefundCreated
        | EventType::RefundUpdated
        | EventType::RefundFailed
        | EventType::ChargeDisputeCreated
        | EventType::CustomerSubscriptionCreated
        | EventType::CustomerSubscriptionUpdated
        | EventType::CustomerSubscriptionResumed
        | EventType::CustomerSubscriptionDeleted
        | EventType::CustomerSubscriptionPaused
        | EventType::CustomerSubscriptionTrialWillEnd
        | EventType::CustomerSubscriptionPendingUpdateApplied
        | EventType::CustomerSubscriptionPendingUpdateExpired
        | EventType::InvoicePaid
        | EventType::InvoicePaymentSucceeded
        | EventType::InvoicePaymentFailed => false,
        EventType::Unknown(name) => name.starts_with("checkout.session."),
    }
}

/// The `Decode` error for a currency payswitch does not know.
pub(crate) fn unknown_currency(what: &'static str) -> PaymentError {
    PaymentError::decode(what, "currency is not an ISO 4217 code payswitch knows")
}

/// Unix seconds to a UTC time, when in range.
pub(crate) fn unix_time(seconds: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(seconds).ok()
}

/// The keys whose string values are replaced by `[redacted]` in `raw`, at any depth:
/// `client_secret` (sessions, PaymentIntents, SetupIntents, possibly expanded inside another
/// object) and `secret` (ephemeral keys, webhook endpoints).
const REDACTED_KEYS: [&str; 2] = ["client_secret", "secret"];

/// Replaces every `client_secret` (and `secret`) string in a raw object, at any depth of
/// objects and arrays, so printing or serializing `raw` can never leak it.
pub(crate) fn without_client_secret(mut raw: serde_json::Value) -> serde_json::Value {
    redact(&mut raw);
    raw
}

/// Walks `value` in place. serde_json refuses documents nested deeper than 128 levels, so
/// the recursion is bounded.
fn redact(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(object) => {
            for (key, item) in object.iter_mut() {
                if item.is_string() && REDACTED_KEYS.contains(&key.as_str()) {
                    *item = serde_json::Value::String("[redacted]".to_owned());
                } else {
                    redact(item);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact),
        serde_json::Value::Null
        | serde_json::Value::Bool(_)
        | serde_json::Value::Number(_)
        | serde_json::Value::String(_) => {}
    }
}
