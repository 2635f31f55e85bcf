//! Creem checkouts: `POST /v1/checkouts` and `GET /v1/checkouts?checkout_id=`, rendering as
//! `CheckoutEntity` with the order, customer and subscription a payment creates, whether one
//! can still be paid, and expiry. Paying one is in `payments.rs`.

use serde_json::{json, Map, Value};

use crate::app::App;
use crate::checkout::{payable, plausible_email, CheckoutStatus, NotPayable, PageView};
use crate::error::SandboxError;
use crate::gateways::creem::amounts::{order_amounts, OrderAmounts};
use crate::gateways::creem::customers::render_customer_id;
use crate::gateways::creem::discounts::resolve_code;
use crate::gateways::creem::error::Failure;
use crate::gateways::creem::objects::{iso, Checkout, Payment};
use crate::gateways::creem::products::render_product;
use crate::gateways::creem::subscriptions::render_subscription_id;
use crate::gateways::creem::validate::Checker;
use crate::state::{new_id, State};

/// How long a Creem checkout stays payable.
const CHECKOUT_LIFETIME: i64 = 24 * 60 * 60;

/// The fields of a valid `CreateCheckoutRequestEntity`.
struct NewCheckout<'a> {
    product_id: &'a str,
    discount_code: Option<&'a str>,
    request_id: Option<&'a str>,
    units: Option<i64>,
    success_url: Option<&'a str>,
    customer_id: Option<&'a str>,
    customer_email: Option<&'a str>,
    metadata: Option<Value>,
}

/// `POST /v1/checkouts`.
pub(crate) fn create_checkout(
    app: &App,
    state: &mut State,
    body: &Map<String, Value>,
) -> Result<Value, Failure> {
    let request = parse_new_checkout(body)?;
    let product = state
        .creem
        .products
        .get(request.product_id)
        .ok_or_else(|| Failure::not_found("Product not found"))?;
    let discount_id = match request.discount_code {
        Some(code) => Some(resolve_code(state, code, &product.id, &product.currency)?.id),
        None => None,
    };
    if let Some(customer_id) = request.customer_id {
        if !state.creem.customers.contains_key(customer_id) {
            return Err(Failure::not_found("Customer not found"));
        }
    }
    let now = state.now();
    let checkout = Checkout {
        id: new_id("ch_"),
        product_id: request.product_id.to_owned(),
        units: request.units.unwrap_or(1),
        request_id: request.request_id.map(str::to_owned),
        status: CheckoutStatus::Open,
        success_url: request.success_url.map(str::to_owned),
        metadata: request.metadata,
        customer_email: request.customer_email.map(str::to_owned),
        customer_id: request.customer_id.map(str::to_owned),
        expires_at: now + CHECKOUT_LIFETIME,
        payment: None,
        discount_id,
    };
    let rendered = render_checkout(app, state, &checkout, false);
    state.counts.creem_checkouts += 1;
    state.note_expiry(checkout.expires_at);
    state.creem.checkouts.insert(checkout.id.clone(), checkout);
    Ok(rendered)
}

/// Validates a create request, collecting every message as Creem does.
fn parse_new_checkout(body: &Map<String, Value>) -> Result<NewCheckout<'_>, Failure> {
    let mut check = Checker::new(body);
    let product_id = check.string("product_id", true);
    let request_id = check.string("request_id", false);
    let discount_code = check.string("discount_code", false);
    let units = check.integer("units", false);
    if units.is_some_and(|units| units < 1) {
        check
            .messages
            .push("units must not be less than 1".to_owned());
    }
    // Keeps price × units far from i64 overflow on the page and in orders.
    if units.is_some_and(|units| units > 1_000_000) {
        check
            .messages
            .push("units must not be greater than 1000000".to_owned());
    }
    let success_url = check.url("success_url");
    let (customer_id, customer_email) = check_customer(&mut check, body);
    for field in ["custom_fields", "custom_field"] {
        match body.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::Array(fields)) if fields.len() <= 3 => {}
            Some(Value::Array(_)) => check
                .messages
                .push(format!("{field} must contain no more than 3 elements")),
            Some(_) => check.messages.push(format!("{field} must be an array")),
        }
    }
    let metadata = match body.get("metadata") {
        None | Some(Value::Null) => None,
        Some(value @ Value::Object(_)) => Some(value.clone()),
        Some(_) => {
            check.messages.push("metadata must be an object".to_owned());
            None
        }
    };
    check.finish()?;
    let Some(product_id) = product_id else {
        return Err(Failure::bad_request(vec![
            "product_id must be a string".to_owned()
        ]));
    };
    Ok(NewCheckout {
        product_id,
        discount_code,
        request_id,
        units,
        success_url,
        customer_id,
        customer_email,
        metadata,
    })
}

/// Checks the optional `customer` object (`id` or `email`, not both); its messages are
/// prefixed with `customer.`.
fn check_customer<'a>(
    check: &mut Checker<'a>,
    body: &'a Map<String, Value>,
) -> (Option<&'a str>, Option<&'a str>) {
    match body.get("customer") {
        None | Some(Value::Null) => (None, None),
        Some(Value::Object(customer)) => {
            let mut inner = Checker::new(customer);
            let customer_id = inner.string("id", false);
            let customer_email = inner.string("email", false);
            if customer_email.is_some_and(|email| !plausible_email(email)) {
                inner.messages.push("email must be an email".to_owned());
            }
            if customer_id.is_some() && customer_email.is_some() {
                inner
                    .messages
                    .push("You may specify only one of these parameters: id or email".to_owned());
            }
            check.messages.extend(
                inner
                    .messages
                    .into_iter()
                    .map(|message| format!("customer.{message}")),
            );
            (customer_id, customer_email)
        }
        Some(_) => {
            check.messages.push("customer must be an object".to_owned());
            (None, None)
        }
    }
}

/// `GET /v1/checkouts?checkout_id=`.
pub(crate) fn retrieve(app: &App, state: &State, id: Option<String>) -> Result<Value, Failure> {
    let id =
        id.ok_or_else(|| Failure::bad_request(vec!["checkout_id must be a string".to_owned()]))?;
    let checkout = state
        .creem
        .checkouts
        .get(&id)
        .ok_or_else(|| Failure::not_found("Checkout not found"))?;
    Ok(render_checkout(app, state, checkout, true))
}

/// Returns what a checkout charges (price × units, discount, tax) and its currency.
pub(crate) fn checkout_amounts(
    state: &State,
    checkout: &Checkout,
) -> Option<(OrderAmounts, String)> {
    let product = state.creem.products.get(&checkout.product_id)?;
    let discount = checkout
        .discount_id
        .as_ref()
        .and_then(|id| state.creem.discounts.get(id));
    Some((
        order_amounts(product, checkout.units, discount),
        product.currency.clone(),
    ))
}

/// Renders a checkout as Creem's `CheckoutEntity`; `expand` inlines the
/// product, customer, order and subscription objects.
pub(crate) fn render_checkout(
    app: &App,
    state: &State,
    checkout: &Checkout,
    expand: bool,
) -> Value {
    let status = match checkout.status {
        CheckoutStatus::Open => "pending",
        CheckoutStatus::Complete => "completed",
        CheckoutStatus::Expired => "expired",
    };
    let mut value = json!({
        "id": checkout.id,
        "mode": "test",
        "object": "checkout",
        "status": status,
        "product": checkout.product_id,
        "units": checkout.units,
        "custom_fields": [],
        "checkout_url": format!("{}/pay/{}", app.base_url, checkout.id),
        "success_url": checkout.success_url,
    });
    let Some(object) = value.as_object_mut() else {
        return value;
    };
    if let Some(request_id) = &checkout.request_id {
        object.insert("request_id".into(), json!(request_id));
    }
    if let Some(metadata) = &checkout.metadata {
        object.insert("metadata".into(), metadata.clone());
    }
    let product = state.creem.products.get(&checkout.product_id);
    if expand {
        if let Some(product) = product {
            object.insert("product".into(), render_product(product));
        }
    }
    if let (Some(payment), Some((amounts, currency))) =
        (&checkout.payment, checkout_amounts(state, checkout))
    {
        object.insert(
            "order".into(),
            render_order(state, checkout, payment, &amounts, &currency),
        );
        let customer = if expand {
            render_customer_id(state, &payment.customer_id)
        } else {
            json!(payment.customer_id)
        };
        object.insert("customer".into(), customer);
        if let Some(subscription_id) = &payment.subscription_id {
            // Creem's samples show the checkout's subscription with its product and customer
            // as ids.
            let subscription = if expand {
                render_subscription_id(state, subscription_id, false)
            } else {
                json!(subscription_id)
            };
            object.insert("subscription".into(), subscription);
        }
    }
    value
}

/// Renders the paid `OrderEntity` of a checkout, with the amounts its transaction charged
/// (those of the checkout when the transaction was forgotten).
pub(crate) fn render_order(
    state: &State,
    checkout: &Checkout,
    payment: &Payment,
    amounts: &OrderAmounts,
    currency: &str,
) -> Value {
    let recurring = payment.subscription_id.is_some();
    let charged = state
        .creem
        .transactions
        .get(&payment.transaction_id)
        .map_or(*amounts, |transaction| OrderAmounts {
            amount: transaction.amount,
            discount_amount: transaction.discount_amount,
            sub_total: transaction.amount - transaction.discount_amount,
            tax_amount: transaction.tax_amount,
            amount_paid: transaction.amount_paid,
        });
    json!({
        "id": payment.order_id,
        "mode": "test",
        "object": "order",
        "customer": payment.customer_id,
        "product": checkout.product_id,
        "transaction": payment.transaction_id,
        "discount": checkout.discount_id,
        "amount": charged.amount,
        "sub_total": charged.sub_total,
        "tax_amount": charged.tax_amount,
        "discount_amount": charged.discount_amount,
        "amount_due": charged.amount_paid,
        "amount_paid": charged.amount_paid,
        "currency": currency,
        "status": "paid",
        "type": if recurring { "recurring" } else { "onetime" },
        "created_at": iso(payment.paid_at),
        "updated_at": iso(payment.paid_at),
    })
}

/// Expires pending checkouts past their lifetime. Creem sends no webhook
/// for this.
pub(crate) fn expire_due(state: &mut State) {
    let now = state.now();
    for checkout in state.creem.checkouts.values_mut() {
        if checkout.status == CheckoutStatus::Open && checkout.expires_at <= now {
            checkout.status = CheckoutStatus::Expired;
        }
    }
}

/// Expires one pending checkout (admin operation).
pub(crate) fn expire(state: &mut State, id: &str) -> Result<(), SandboxError> {
    let checkout = state
        .creem
        .checkouts
        .get_mut(id)
        .ok_or_else(|| SandboxError::NotFound(id.to_owned()))?;
    if checkout.status != CheckoutStatus::Open {
        return Err(SandboxError::NotPayable {
            id: id.to_owned(),
            reason: "only pending checkouts can be expired".to_owned(),
        });
    }
    checkout.status = CheckoutStatus::Expired;
    Ok(())
}

/// Decides whether a checkout can still be paid: the one place Creem answers it.
pub(crate) fn payability(checkout: &Checkout, now: i64) -> Result<(), NotPayable> {
    payable(checkout.status, checkout.expires_at, now)
}

/// Returns whether the checkout `id` can still be paid, `None` when there is no such checkout.
pub(crate) fn check_payable(state: &State, id: &str) -> Option<Result<(), NotPayable>> {
    let now = state.now();
    state
        .creem
        .checkouts
        .get(id)
        .map(|checkout| payability(checkout, now))
}

/// Returns what the hosted page shows for the checkout `id`.
pub(crate) fn page_view(state: &State, id: &str) -> Option<PageView> {
    let checkout = state.creem.checkouts.get(id)?;
    let product = state.creem.products.get(&checkout.product_id)?;
    let (amounts, currency) = checkout_amounts(state, checkout)?;
    let mut adjustments = Vec::new();
    if amounts.discount_amount > 0 {
        adjustments.push(("Discount".to_owned(), -amounts.discount_amount));
    }
    // Inclusive tax is already in the price, so only exclusive tax is a line of its own.
    if amounts.tax_amount > 0 && product.tax_mode == "exclusive" {
        adjustments.push(("Tax".to_owned(), amounts.tax_amount));
    }
    Some(PageView {
        id: id.to_owned(),
        gateway_label: "Creem",
        items: vec![(product.name.clone(), checkout.units, product.price)],
        currency,
        // Creem takes EUR and USD only, both in cents.
        exponent: 2,
        adjustments,
        total: amounts.amount_paid,
        status: checkout.status,
        email: checkout.customer_email.clone(),
        cancel_url: None,
    })
}
