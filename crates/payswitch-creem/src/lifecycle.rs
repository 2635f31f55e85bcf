//! The operations after the checkout: subscriptions, refunds, customers and the customer
//! portal, each a short sequence of Creem calls. `CreemProvider` delegates to these.
//!
//! Every POST here goes through the client's one retry rule: Creem has no idempotency key,
//! so a POST is repeated only when it provably never reached Creem (no connection, or 429).
//!
//! Creem's 400 answers carry no code that tells a wrong state from a malformed request, so
//! cancel, pause and resume first read the subscription (one GET) and decide from its state
//! (`convert::billing`'s prechecks): a call that makes no sense is `InvalidState` with nothing
//! sent, one whose effect is already in place returns the subscription as it is. Refunds read
//! the transaction first for the same reason.

use bytes::Bytes;
use http::Method;
use payswitch_core::adapter::check_id;
use payswitch_core::{
    CancelAt, Catalog, Customer, CustomerLookup, CustomerRequest, PaymentError, PortalRequest,
    PortalSession, Refund, RefundRequest, RefundTarget, Subscription, SubscriptionChange,
};
use serde::Serialize;
use tracing::Instrument;

use crate::client::{
    ApiRequest, CreemClient, CHECKOUTS_PATH, CUSTOMERS_PATH, CUSTOMER_PORTAL_PATH,
    CUSTOMER_SUBSCRIPTIONS_PATH, REFUNDS_PATH, SUBSCRIPTIONS_PATH, SUBSCRIPTION_CANCEL_PATH,
    SUBSCRIPTION_PATH, SUBSCRIPTION_PAUSE_PATH, SUBSCRIPTION_RESUME_PATH,
    SUBSCRIPTION_UPGRADE_PATH, TRANSACTIONS_PATH, TRANSACTION_SEARCH_PATH,
};
use crate::config::KIND;
use crate::convert::billing::{self as convert, DecodedSubscription, PaymentSource, Precheck};
use crate::convert::decode_error;
use crate::error::RequestFields;
use crate::wire;
use crate::wire::billing as bill;

/// Subscriptions asked for per page when listing a customer's.
const SUBSCRIPTION_PAGE_SIZE: u32 = 50;

/// The most pages read when listing a customer's subscriptions (2 500 subscriptions): a bound
/// on a pagination that never ends, not a limit any real customer reaches.
const MAX_SUBSCRIPTION_PAGES: i64 = 50;

/// Transactions asked for when looking up an order's.
const ORDER_TRANSACTIONS_PAGE_SIZE: &str = "50";

/// Refuses an id that cannot be a Creem object's before anything is sent.
fn check_path_id(field: &str, id: &str) -> Result<(), PaymentError> {
    check_id(field, id)?;
    if id == "." || id == ".." {
        return Err(PaymentError::invalid(field, "is not a Creem id"));
    }
    Ok(())
}

/// A GET; `looked_up` is quoted in `NotFound`.
async fn get(
    client: &CreemClient,
    fields: RequestFields,
    path: &'static str,
    path_id: Option<&str>,
    query: &[(&str, &str)],
    looked_up: &str,
) -> Result<Bytes, PaymentError> {
    client
        .send(ApiRequest {
            method: Method::GET,
            path,
            path_id,
            query,
            body: None,
            looked_up,
            fields,
        })
        .await
}

/// A POST with a JSON body, or none.
async fn post(
    client: &CreemClient,
    fields: RequestFields,
    path: &'static str,
    path_id: Option<&str>,
    body: Option<&(impl Serialize + ?Sized)>,
    looked_up: &str,
) -> Result<Bytes, PaymentError> {
    let body = match body {
        Some(body) => Some(Bytes::from(
            serde_json::to_vec(body).map_err(|error| decode_error("creem request", error))?,
        )),
        None => None,
    };
    client
        .send(ApiRequest {
            method: Method::POST,
            path,
            path_id,
            query: &[],
            body,
            looked_up,
            fields,
        })
        .await
}

// ---------------------------------------------------------------------------------------------
// Subscriptions
// ---------------------------------------------------------------------------------------------

async fn read_subscription(
    client: &CreemClient,
    id: &str,
) -> Result<DecodedSubscription, PaymentError> {
    let answer = get(
        client,
        RequestFields::Subscription,
        SUBSCRIPTIONS_PATH,
        None,
        &[("subscription_id", id)],
        id,
    )
    .await?;
    convert::decode_subscription(&answer)
}

/// `GET /v1/subscriptions?subscription_id=`.
pub(crate) async fn retrieve_subscription(
    client: &CreemClient,
    id: &str,
) -> Result<Subscription, PaymentError> {
    check_path_id("id", id)?;
    read_subscription(client, id)
        .instrument(tracing::info_span!(
            "creem.retrieve_subscription",
            subscription_id = ?id
        ))
        .await
        .map(|decoded| decoded.subscription)
}

/// `GET /v1/customers/{id}/subscriptions`, every page (bounded), newest first.
pub(crate) async fn list_subscriptions(
    client: &CreemClient,
    customer_id: &str,
) -> Result<Vec<Subscription>, PaymentError> {
    check_path_id("customer_id", customer_id)?;
    let span = tracing::info_span!("creem.list_subscriptions", customer_id = ?customer_id);
    let page_size = SUBSCRIPTION_PAGE_SIZE.to_string();
    let mut subscriptions: Vec<Subscription> = Vec::new();
    let mut page: i64 = 1;
    loop {
        let page_number = page.to_string();
        let answer = get(
            client,
            RequestFields::Subscription,
            CUSTOMER_SUBSCRIPTIONS_PATH,
            Some(customer_id),
            &[("page_number", &page_number), ("page_size", &page_size)],
            customer_id,
        )
        .instrument(span.clone())
        .await?;
        let (found, next) = convert::decode_subscription_page(&answer)?;
        let empty = found.is_empty();
        for subscription in found {
            // Pages can shift while they are read; each subscription is kept once.
            if !subscriptions.iter().any(|seen| seen.id == subscription.id) {
                subscriptions.push(subscription);
            }
        }
        match next {
            Some(next) if next > page && !empty => {
                if page >= MAX_SUBSCRIPTION_PAGES {
                    return Err(PaymentError::decode(
                        "creem subscription list",
                        format!("the list goes on past {MAX_SUBSCRIPTION_PAGES} pages"),
                    ));
                }
                page = next;
            }
            Some(_) | None => break,
        }
    }
    // Creem documents no order; the contract is newest first (undated ones last).
    subscriptions.sort_by_key(|subscription| std::cmp::Reverse(subscription.created_at));
    Ok(subscriptions)
}

/// Reads the subscription, applies `precheck` to its Creem status, and sends the call only
/// when the precheck says so.
async fn act_on_subscription(
    client: &CreemClient,
    id: &str,
    precheck: impl FnOnce(&wire::SubscriptionStatus) -> Precheck,
    path: &'static str,
    body: Option<&bill::CancelSubscriptionRequest>,
) -> Result<Subscription, PaymentError> {
    let current = read_subscription(client, id).await?;
    match precheck(&current.status) {
        Precheck::Send => {}
        Precheck::AlreadyDone => return Ok(current.subscription),
        Precheck::Refuse(message) => {
            return Err(PaymentError::InvalidState {
                message,
                gateway: None,
            })
        }
    }
    let answer = post(
        client,
        RequestFields::Subscription,
        path,
        Some(id),
        body,
        id,
    )
    .await?;
    convert::decode_subscription(&answer).map(|decoded| decoded.subscription)
}

/// `POST /v1/subscriptions/{id}/cancel` with `mode` `scheduled` or `immediate`, after the
/// state check.
pub(crate) async fn cancel_subscription(
    client: &CreemClient,
    id: &str,
    at: CancelAt,
) -> Result<Subscription, PaymentError> {
    check_path_id("id", id)?;
    let body = convert::cancel_body(at);
    act_on_subscription(
        client,
        id,
        |status| convert::cancel_precheck(status, at),
        SUBSCRIPTION_CANCEL_PATH,
        Some(&body),
    )
    .instrument(tracing::info_span!(
        "creem.cancel_subscription",
        subscription_id = ?id,
        at = ?at
    ))
    .await
}

/// `POST /v1/subscriptions/{id}/resume` (no body), after the state check.
pub(crate) async fn resume_subscription(
    client: &CreemClient,
    id: &str,
) -> Result<Subscription, PaymentError> {
    check_path_id("id", id)?;
    act_on_subscription(
        client,
        id,
        convert::resume_precheck,
        SUBSCRIPTION_RESUME_PATH,
        None,
    )
    .instrument(tracing::info_span!(
        "creem.resume_subscription",
        subscription_id = ?id
    ))
    .await
}

/// `POST /v1/subscriptions/{id}/pause` (no body), after the state check.
pub(crate) async fn pause_subscription(
    client: &CreemClient,
    id: &str,
) -> Result<Subscription, PaymentError> {
    check_path_id("id", id)?;
    act_on_subscription(
        client,
        id,
        convert::pause_precheck,
        SUBSCRIPTION_PAUSE_PATH,
        None,
    )
    .instrument(tracing::info_span!(
        "creem.pause_subscription",
        subscription_id = ?id
    ))
    .await
}

/// `change_subscription`: a plan change is `POST /v1/subscriptions/{id}/upgrade`, a quantity
/// change `POST /v1/subscriptions/{id}` with the item's new `units`.
///
/// Both at once are two calls, because Creem documents changing the product only through
/// `upgrade` (an item's `product_id` in the update is for creating items). The plan goes
/// first, then the units of the upgraded subscription's item: the quantity asked for is then
/// the last word whatever `upgrade` does with units, and seats are charged at the new plan's
/// price. The subscription is read first, and a step already in place is skipped, so when the
/// second call fails, repeating the whole change completes it instead of upgrading twice.
pub(crate) async fn change_subscription(
    client: &CreemClient,
    catalog: &Catalog,
    id: &str,
    change: &SubscriptionChange,
) -> Result<Subscription, PaymentError> {
    change.validate()?;
    check_path_id("id", id)?;
    if let Some(item_id) = &change.item_id {
        check_id("item_id", item_id)?;
    }
    let product_id = match &change.plan {
        Some(plan) => Some(convert::plan_product_id(plan, catalog)?),
        None => None,
    };
    let behavior = convert::update_behavior(change.proration);
    let span = tracing::info_span!(
        "creem.change_subscription",
        subscription_id = ?id,
        product_id = ?product_id,
        quantity = change.quantity,
    );
    let item_id = change.item_id.as_deref();
    match (product_id, change.quantity) {
        (Some(product_id), None) => {
            if item_id.is_some() {
                // Creem's upgrade has no item selector: it is safe only on a one-item plan.
                let current = read_subscription(client, id)
                    .instrument(span.clone())
                    .await?;
                convert::select_item(&current.subscription, item_id)?;
                check_single_item(&current.subscription)?;
            }
            upgrade(client, id, product_id, behavior)
                .instrument(span)
                .await
        }
        (None, Some(quantity)) => {
            let item = match item_id {
                Some(item_id) => item_id.to_owned(),
                None => {
                    let current = read_subscription(client, id)
                        .instrument(span.clone())
                        .await?;
                    item_of(convert::select_item(&current.subscription, None)?)?
                }
            };
            set_units(client, id, &item, quantity, behavior)
                .instrument(span)
                .await
        }
        (Some(product_id), Some(quantity)) => {
            change_plan_and_quantity(client, id, item_id, product_id, quantity, behavior)
                .instrument(span)
                .await
        }
        // `validate` refused a change of nothing.
        (None, None) => Err(PaymentError::invalid(
            "plan",
            "a subscription change needs a new plan, a new quantity or both",
        )),
    }
}

async fn change_plan_and_quantity(
    client: &CreemClient,
    id: &str,
    item_id: Option<&str>,
    product_id: &str,
    quantity: u32,
    behavior: bill::UpdateBehavior,
) -> Result<Subscription, PaymentError> {
    let current = read_subscription(client, id).await?.subscription;
    let item = convert::select_item(&current, item_id)?;
    check_single_item(&current)?;
    let item_id = item_of(item)?;
    let on_plan = item.product_id.as_deref() == Some(product_id);
    let upgraded = if on_plan {
        current
    } else {
        upgrade(client, id, product_id, behavior).await?
    };
    // The upgrade may replace the item; the one to set is the same id or the only one.
    let target = match convert::select_item(&upgraded, Some(&item_id)) {
        Ok(item) => item,
        Err(_) => convert::select_item(&upgraded, None).map_err(|_| {
            PaymentError::decode(
                "creem subscription",
                "the upgraded subscription does not say which item holds the plan; the plan \
                 changed, the quantity did not",
            )
        })?,
    };
    if target.quantity == quantity {
        return Ok(upgraded);
    }
    let target = item_of(target)?;
    set_units(client, id, &target, quantity, behavior).await
}

/// Refuses a plan change on a subscription with several items: Creem's upgrade changes the
/// whole subscription, not one item.
fn check_single_item(subscription: &Subscription) -> Result<(), PaymentError> {
    match subscription.items.len() {
        0 | 1 => Ok(()),
        _ => Err(PaymentError::unsupported(
            KIND,
            "change_subscription of one item's plan on a subscription with several items",
        )),
    }
}

fn item_of(item: &payswitch_core::SubscriptionItem) -> Result<String, PaymentError> {
    item.id.clone().ok_or_else(|| {
        PaymentError::decode(
            "creem subscription item",
            "the item has no id, so its units cannot be changed",
        )
    })
}

async fn upgrade(
    client: &CreemClient,
    id: &str,
    product_id: &str,
    update_behavior: bill::UpdateBehavior,
) -> Result<Subscription, PaymentError> {
    let body = bill::UpgradeSubscriptionRequest {
        product_id,
        update_behavior,
    };
    let answer = post(
        client,
        RequestFields::SubscriptionChange,
        SUBSCRIPTION_UPGRADE_PATH,
        Some(id),
        Some(&body),
        id,
    )
    .await?;
    convert::decode_subscription(&answer).map(|decoded| decoded.subscription)
}

async fn set_units(
    client: &CreemClient,
    id: &str,
    item_id: &str,
    units: u32,
    update_behavior: bill::UpdateBehavior,
) -> Result<Subscription, PaymentError> {
    let body = bill::UpdateSubscriptionRequest {
        items: vec![bill::UpsertSubscriptionItem { id: item_id, units }],
        update_behavior,
    };
    let answer = post(
        client,
        RequestFields::SubscriptionChange,
        SUBSCRIPTION_PATH,
        Some(id),
        Some(&body),
        id,
    )
    .await?;
    convert::decode_subscription(&answer).map(|decoded| decoded.subscription)
}

// ---------------------------------------------------------------------------------------------
// Refunds
// ---------------------------------------------------------------------------------------------

/// `create_refund`: finds the transaction (through the checkout's order, or the order's
/// transactions), refuses one with nothing left to refund, then `POST /v1/refunds`
/// `{transaction_id}`, which refunds everything left of it.
///
/// Refused before any call: an `amount` (Creem refunds in full only). Not sent and listed in
/// `Refund::ignored`: `reason`, `metadata` and `idempotency_key`, which Creem's refund does not
/// take. Without an idempotency key a repeated call cannot refund twice anyway: the second
/// finds the transaction refunded and is `InvalidState`.
pub(crate) async fn create_refund(
    client: &CreemClient,
    request: &RefundRequest,
) -> Result<Refund, PaymentError> {
    request.validate()?;
    if request.amount.is_some() {
        return Err(PaymentError::unsupported(
            KIND,
            "partial refund (create_refund with an amount)",
        ));
    }
    check_path_id("target", request.target.id())?;
    let mut ignored = Vec::new();
    if request.reason.is_some() {
        ignored.push("reason".to_owned());
    }
    if !request.metadata.is_empty() {
        ignored.push("metadata".to_owned());
    }
    if request.idempotency_key.is_some() {
        ignored.push("idempotency_key".to_owned());
    }
    let span = tracing::info_span!("creem.create_refund", target = ?request.target);
    let checkout_id = match &request.target {
        RefundTarget::Checkout(id) => Some(id.as_str()),
        RefundTarget::Payment(_) => None,
    };
    let transaction = refunded_transaction(client, &request.target)
        .instrument(span.clone())
        .await?;
    convert::check_refundable(&transaction)?;
    let body = bill::CreateRefundRequest {
        transaction_id: &transaction.id,
    };
    let answer = post(
        client,
        RequestFields::Refund,
        REFUNDS_PATH,
        None,
        Some(&body),
        &transaction.id,
    )
    .instrument(span)
    .await?;
    let mut refund = convert::decode_refund_answer(
        &answer,
        convert::RefundContext {
            transaction: Some(&transaction),
            checkout_id,
        },
    )?;
    refund.ignored = ignored;
    Ok(refund)
}

/// The transaction a refund target names, as Creem holds it now.
async fn refunded_transaction(
    client: &CreemClient,
    target: &RefundTarget,
) -> Result<bill::Transaction, PaymentError> {
    let source = match target {
        RefundTarget::Checkout(id) => {
            let answer = get(
                client,
                RequestFields::Refund,
                CHECKOUTS_PATH,
                None,
                &[("checkout_id", id)],
                id,
            )
            .await?;
            convert::checkout_payment(&answer)?
        }
        RefundTarget::Payment(id) => convert::payment_source(id),
    };
    match source {
        PaymentSource::Transaction(id) => {
            let answer = get(
                client,
                RequestFields::Refund,
                TRANSACTIONS_PATH,
                None,
                &[("transaction_id", &id)],
                &id,
            )
            .await?;
            convert::decode_transaction(&answer)
        }
        PaymentSource::Order(order_id) => {
            let answer = get(
                client,
                RequestFields::Refund,
                TRANSACTION_SEARCH_PATH,
                None,
                &[
                    ("order_id", &order_id),
                    ("page_size", ORDER_TRANSACTIONS_PAGE_SIZE),
                ],
                &order_id,
            )
            .await?;
            convert::transaction_of_order(&answer, &order_id)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Customers and the portal
// ---------------------------------------------------------------------------------------------

/// `POST /v1/customers/billing` `{customer_id}` → the portal link.
pub(crate) async fn create_portal_session(
    client: &CreemClient,
    request: &PortalRequest,
) -> Result<PortalSession, PaymentError> {
    request.validate()?;
    let body = bill::CustomerPortalLinkRequest {
        customer_id: &request.customer_id,
    };
    let answer = post(
        client,
        RequestFields::Customer,
        CUSTOMER_PORTAL_PATH,
        None,
        Some(&body),
        &request.customer_id,
    )
    .instrument(tracing::info_span!(
        "creem.create_portal_session",
        customer_id = ?request.customer_id
    ))
    .await?;
    convert::decode_portal(&answer, request)
}

/// `POST /v1/customers` `{email, name, metadata}`.
pub(crate) async fn create_customer(
    client: &CreemClient,
    request: &CustomerRequest,
) -> Result<Customer, PaymentError> {
    request.validate()?;
    let metadata = request.gateway_metadata();
    let body = convert::customer_body(request, &metadata)?;
    // The email is customer data: neither the span nor a `NotFound` quotes it.
    let answer = post(
        client,
        RequestFields::Customer,
        CUSTOMERS_PATH,
        None,
        Some(&body),
        "",
    )
    .instrument(tracing::info_span!("creem.create_customer"))
    .await?;
    convert::decode_customer(&answer)
}

/// `GET /v1/customers?customer_id=`.
pub(crate) async fn retrieve_customer(
    client: &CreemClient,
    id: &str,
) -> Result<Customer, PaymentError> {
    check_id("id", id)?;
    let answer = get(
        client,
        RequestFields::Customer,
        CUSTOMERS_PATH,
        None,
        &[("customer_id", id)],
        id,
    )
    .instrument(tracing::info_span!("creem.retrieve_customer", customer_id = ?id))
    .await?;
    convert::decode_customer(&answer)
}

/// `GET /v1/customers?email=`; Creem's 404 is `Ok(None)`. Creem has no lookup by metadata,
/// so a lookup by app user id is `Unsupported` (`find_customer_by_app_user` is false).
pub(crate) async fn find_customer(
    client: &CreemClient,
    lookup: &CustomerLookup,
) -> Result<Option<Customer>, PaymentError> {
    let email = match lookup {
        CustomerLookup::Email(email) => email,
        CustomerLookup::AppUserId(_) => {
            return Err(PaymentError::unsupported(
                KIND,
                "find_customer by app user id",
            ))
        }
    };
    check_id("email", email)?;
    // The email is customer data: the span does not record it.
    let answer = get(
        client,
        RequestFields::Customer,
        CUSTOMERS_PATH,
        None,
        &[("email", email)],
        "",
    )
    .instrument(tracing::info_span!("creem.find_customer"))
    .await;
    match answer {
        Ok(answer) => convert::decode_customer(&answer).map(Some),
        Err(PaymentError::NotFound { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}
