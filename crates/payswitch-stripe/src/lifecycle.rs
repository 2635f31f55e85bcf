//! After the checkout: subscriptions, refunds, customers and the customer portal, on
//! Stripe's Billing API. `StripeProvider`'s `CheckoutProvider` methods delegate here.
//!
//! Every POST carries an `Idempotency-Key` (the request's own for refunds, one derived from
//! the parameters for customer creates, else a random one per call) reused by the call's
//! retries, so a retried POST never acts twice. DELETE needs none: Stripe documents it as
//! idempotent. What to send is decided by small pure functions with table tests, in
//! `lifecycle/rules.rs`.

mod rules;

use std::collections::HashSet;

use bytes::Bytes;
use payswitch_core::adapter::check_id;
use payswitch_core::adapter::wire::IdOnly;
use payswitch_core::{
    CancelAt, Catalog, Currency, Customer, CustomerLookup, CustomerRequest, PaymentError,
    PortalRequest, PortalSession, RawJson, Refund, RefundRequest, RefundTarget, Subscription,
    SubscriptionChange, SubscriptionChangePreview,
};

use crate::client::{path_segment, Reply, StripeClient};
use crate::convert::billing::{
    self as convert, customer_params, is_ended, plan_price, proration_behavior, refund_terms,
};
use crate::error::decode;
use crate::form::FormWriter;
use crate::idempotency::{customer_key, random_idempotency_key};
use crate::wire::billing::{
    self as wire, CreatePortalSessionParams, CreateRefundParams, CurrencyOnly, InvoiceWithPayments,
    ItemUpdateParams, PauseBehavior, PauseCollectionParams, PreviewParams, RefundSource,
    UpdateSubscriptionParams,
};
use crate::wire::{RawList, Session, SessionMode};

use self::rules::{
    app_user_query, check_refund_currency, ended, invoice_payment_source, item_to_change,
    may_mean_ended, payment_source, resume_plan, ResumePlan,
};

/// Stripe's largest page.
const PAGE_SIZE: i64 = 100;

/// The most pages `list_subscriptions` follows (1,000 subscriptions): a cursor that keeps
/// going further is a gateway fault, not a customer.
const MAX_SUBSCRIPTION_PAGES: usize = 10;

/// How many search results `find_customer` by app user id reads: more than one means
/// duplicates (created while search had not caught up), and the oldest is chosen.
const SEARCH_LIMIT: i64 = 10;

const SUBSCRIPTIONS: &str = "/v1/subscriptions";
const CUSTOMERS: &str = "/v1/customers";

/// The lifecycle operations, borrowing the provider's client and catalog.
pub(crate) struct Lifecycle<'a> {
    pub(crate) client: &'a StripeClient,
    pub(crate) catalog: &'a Catalog,
}

fn subscription_path(id: &str) -> String {
    format!("{SUBSCRIPTIONS}/{}", path_segment(id))
}

/// Decodes a subscription Stripe answered, keeping the whole object as `raw`.
fn subscription_from(value: serde_json::Value) -> Result<Subscription, PaymentError> {
    let decoded: wire::Subscription = decode(&value, "subscription")?;
    Ok(convert::subscription(decoded, RawJson::new(value)))
}

/// Decodes a customer Stripe answered; a deleted one is `NotFound`.
fn customer_from(value: serde_json::Value) -> Result<Customer, PaymentError> {
    let decoded: wire::Customer = decode(&value, "customer")?;
    convert::customer(decoded, RawJson::new(value))
}

/// What a refund of a checkout or payment resolves to.
struct ResolvedPayment {
    source: RefundSource,
    checkout_id: Option<String>,
    subscription_id: Option<String>,
}

impl Lifecycle<'_> {
    async fn fetch_subscription(
        &self,
        id: &str,
    ) -> Result<(wire::Subscription, serde_json::Value), PaymentError> {
        let value = self.client.get(&subscription_path(id), None, id).await?;
        let decoded = decode(&value, "subscription")?;
        Ok((decoded, value))
    }

    /// `GET /v1/subscriptions/{id}`.
    pub(crate) async fn retrieve_subscription(
        &self,
        id: &str,
    ) -> Result<Subscription, PaymentError> {
        check_id("id", id)?;
        let value = self.client.get(&subscription_path(id), None, id).await?;
        subscription_from(value)
    }

    /// `GET /v1/subscriptions?customer=…&status=all&limit=100`, following `starting_after`
    /// for at most [`MAX_SUBSCRIPTION_PAGES`] pages.
    pub(crate) async fn list_subscriptions(
        &self,
        customer_id: &str,
    ) -> Result<Vec<Subscription>, PaymentError> {
        check_id("customer_id", customer_id)?;
        let mut subscriptions = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen = HashSet::new();
        for _ in 0..MAX_SUBSCRIPTION_PAGES {
            let mut query = FormWriter::with_capacity(96);
            query.text("customer", customer_id);
            query.text("status", "all");
            query.integer("limit", PAGE_SIZE);
            query.opt_text("starting_after", cursor.as_deref());
            let query = query.finish();
            let value = self
                .client
                .get(SUBSCRIPTIONS, Some(&query), "list of subscriptions")
                .await?;
            let page: RawList = decode(&value, "list of subscriptions")?;
            let last = page
                .data
                .last()
                .and_then(|last| last.get("id"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned);
            for raw in page.data {
                subscriptions.push(subscription_from(raw)?);
            }
            if !page.has_more {
                return Ok(subscriptions);
            }
            match last {
                // A cursor seen before (not moving, or cycling) would loop forever.
                Some(next) if seen.insert(next.clone()) => cursor = Some(next),
                Some(_) | None => {
                    return Err(PaymentError::decode(
                        "list of subscriptions",
                        "has_more is set but the cursor does not advance",
                    ))
                }
            }
        }
        Err(PaymentError::decode(
            "list of subscriptions",
            format!("more than {MAX_SUBSCRIPTION_PAGES} pages of {PAGE_SIZE} subscriptions"),
        ))
    }

    /// `POST /v1/subscriptions/{id}` with `cancel_at_period_end=true`, or
    /// `DELETE /v1/subscriptions/{id}`.
    pub(crate) async fn cancel_subscription(
        &self,
        id: &str,
        at: CancelAt,
    ) -> Result<Subscription, PaymentError> {
        check_id("id", id)?;
        match at {
            CancelAt::PeriodEnd => {
                let params = UpdateSubscriptionParams {
                    cancel_at_period_end: Some(true),
                    ..UpdateSubscriptionParams::default()
                };
                self.update(id, &params).await
            }
            CancelAt::Immediately => match self.client.delete(&subscription_path(id), id).await {
                Ok(value) => subscription_from(value),
                Err(error) => self.explain_refusal(id, error, true).await,
            },
        }
    }

    /// Resumes what `resume_plan` finds to resume; nothing to resume is `InvalidState`
    /// without a mutation.
    pub(crate) async fn resume_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        check_id("id", id)?;
        let (current, _) = self.fetch_subscription(id).await?;
        match resume_plan(&current) {
            ResumePlan::Ended => Err(ended(id, &current.status, None)),
            ResumePlan::NothingToResume => Err(PaymentError::InvalidState {
                message: format!(
                    "subscription {id} has nothing to resume: it is not paused and no cancellation is scheduled"
                ),
                gateway: None,
            }),
            ResumePlan::ResumeEndpoint => {
                let path = format!("{}/resume", subscription_path(id));
                match self
                    .client
                    .post(&path, Bytes::new(), &random_idempotency_key(), id)
                    .await
                {
                    Ok(value) => subscription_from(value),
                    Err(error) => self.explain_refusal(id, error, false).await,
                }
            }
            ResumePlan::Update(params) => self.update(id, &params).await,
        }
    }

    /// `POST /v1/subscriptions/{id}` with `pause_collection[behavior]=void`: the invoices
    /// of the pause are voided, so nothing is owed for it on resume.
    pub(crate) async fn pause_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        check_id("id", id)?;
        let params = UpdateSubscriptionParams {
            pause_collection: Some(PauseCollectionParams::Pause(PauseBehavior::Void)),
            ..UpdateSubscriptionParams::default()
        };
        self.update(id, &params).await
    }

    /// Checks the change and resolves its plan locally, then retrieves the subscription to
    /// find the item and refuse an ended one without a mutation.
    async fn item_update(
        &self,
        id: &str,
        change: &SubscriptionChange,
    ) -> Result<ItemUpdateParams, PaymentError> {
        change.validate()?;
        check_id("id", id)?;
        let price = plan_price(change.plan.as_ref(), self.catalog)?;
        let (current, _) = self.fetch_subscription(id).await?;
        if is_ended(&current.status) {
            return Err(ended(id, &current.status, None));
        }
        Ok(ItemUpdateParams {
            id: item_to_change(&current, change.item_id.as_deref())?,
            price,
            quantity: change.quantity,
        })
    }

    /// `POST /v1/subscriptions/{id}` with `items[0][id|price|quantity]` and
    /// `proration_behavior`.
    pub(crate) async fn change_subscription(
        &self,
        id: &str,
        change: &SubscriptionChange,
    ) -> Result<Subscription, PaymentError> {
        let item = self.item_update(id, change).await?;
        let params = UpdateSubscriptionParams {
            items: vec![item],
            proration_behavior: Some(proration_behavior(change.proration)),
            ..UpdateSubscriptionParams::default()
        };
        self.update(id, &params).await
    }

    /// `POST /v1/invoices/create_preview` with `subscription` and `subscription_details`.
    pub(crate) async fn preview_subscription_change(
        &self,
        id: &str,
        change: &SubscriptionChange,
    ) -> Result<SubscriptionChangePreview, PaymentError> {
        let item = self.item_update(id, change).await?;
        let params = PreviewParams {
            subscription: id.to_owned(),
            items: vec![item],
            proration_behavior: proration_behavior(change.proration),
        };
        let value = self
            .client
            .post(
                "/v1/invoices/create_preview",
                Bytes::from(params.encode()),
                &random_idempotency_key(),
                id,
            )
            .await?;
        let totals = decode(&value, "invoice")?;
        convert::change_preview(id, totals, RawJson::new(value))
    }

    /// Posts a subscription update under a key of its own (reused by its retries).
    async fn update(
        &self,
        id: &str,
        params: &UpdateSubscriptionParams,
    ) -> Result<Subscription, PaymentError> {
        let body = Bytes::from(params.encode());
        match self
            .client
            .post(&subscription_path(id), body, &random_idempotency_key(), id)
            .await
        {
            Ok(value) => subscription_from(value),
            Err(error) => self.explain_refusal(id, error, false).await,
        }
    }

    /// Tells a refusal of an ended subscription from any other: Stripe gives it no code of
    /// its own, so on a 400 or 404 the subscription is retrieved (one GET, on this error path
    /// only) and, when it has ended, the answer is `InvalidState` with Stripe's details.
    ///
    /// A DELETE that needed retries and then finds the subscription canceled succeeded on an
    /// earlier attempt whose answer was lost (a repeated DELETE of a canceled subscription is
    /// a 404): the canceled subscription is returned.
    async fn explain_refusal(
        &self,
        id: &str,
        error: PaymentError,
        deleting: bool,
    ) -> Result<Subscription, PaymentError> {
        if !may_mean_ended(&error) {
            return Err(error);
        }
        let Ok((current, value)) = self.fetch_subscription(id).await else {
            return Err(error);
        };
        if !is_ended(&current.status) {
            return Err(error);
        }
        if deleting && error.attempts().is_some_and(|attempts| attempts > 1) {
            return Ok(convert::subscription(current, RawJson::new(value)));
        }
        Err(ended(id, &current.status, error.gateway()))
    }

    /// `POST /v1/refunds` for the checkout's or payment's payment, under the request's key
    /// (or one random key reused by the retries).
    pub(crate) async fn create_refund(
        &self,
        request: &RefundRequest,
    ) -> Result<Refund, PaymentError> {
        request.validate()?;
        // Everything local is checked before the first request.
        let terms = refund_terms(request)?;
        let key = request
            .idempotency_key
            .clone()
            .unwrap_or_else(random_idempotency_key);
        let currency = request.amount.map(|amount| amount.currency());
        let resolved = match &request.target {
            RefundTarget::Payment(id) => {
                let source = payment_source(id)?;
                if currency.is_some() {
                    self.check_payment_currency(&source, currency).await?;
                }
                ResolvedPayment {
                    source,
                    checkout_id: None,
                    subscription_id: None,
                }
            }
            RefundTarget::Checkout(id) => self.checkout_payment(id, currency).await?,
        };
        let params = CreateRefundParams {
            source: resolved.source,
            terms,
        };
        let value = self
            .client
            .post("/v1/refunds", Bytes::from(params.encode()), &key, "refund")
            .await?;
        let decoded: wire::Refund = decode(&value, "refund")?;
        let mut refund = convert::refund(decoded, RawJson::new(value));
        refund.checkout_id = resolved.checkout_id;
        refund.subscription_id = resolved.subscription_id;
        Ok(refund)
    }

    /// Reads the payment's currency (`GET /v1/payment_intents/{id}` or
    /// `GET /v1/charges/{id}`) before a partial refund, see [`check_refund_currency`].
    async fn check_payment_currency(
        &self,
        source: &RefundSource,
        currency: Option<Currency>,
    ) -> Result<(), PaymentError> {
        let (path, id) = match source {
            RefundSource::PaymentIntent(id) => {
                (format!("/v1/payment_intents/{}", path_segment(id)), id)
            }
            RefundSource::Charge(id) => (format!("/v1/charges/{}", path_segment(id)), id),
        };
        let value = self.client.get(&path, None, id).await?;
        let payment: CurrencyOnly = decode(&value, "payment")?;
        check_refund_currency(currency, Some(&payment.currency))
    }

    /// The payment of a checkout: a payment-mode session's PaymentIntent; for a
    /// subscription-mode session, the payment of the invoice it created (`session.invoice`,
    /// retrieved with `expand[]=payments`).
    async fn checkout_payment(
        &self,
        id: &str,
        currency: Option<Currency>,
    ) -> Result<ResolvedPayment, PaymentError> {
        let path = format!("/v1/checkout/sessions/{}", path_segment(id));
        let value = self.client.get(&path, None, id).await?;
        let session: Session = decode(&value, "checkout.session")?;
        let subscription_id = session
            .subscription
            .as_ref()
            .map(|subscription| subscription.id().to_owned());
        let source =
            match &session.mode {
                Some(SessionMode::Payment) => {
                    let intent = session.payment_intent.as_ref().ok_or_else(|| {
                        PaymentError::InvalidState {
                            message: format!(
                                "checkout {id} has no payment to refund (it is not paid)"
                            ),
                            gateway: None,
                        }
                    })?;
                    check_refund_currency(currency, session.currency.as_deref())?;
                    RefundSource::PaymentIntent(intent.id().to_owned())
                }
                Some(SessionMode::Subscription) => {
                    let invoice =
                        session
                            .invoice
                            .as_ref()
                            .ok_or_else(|| PaymentError::InvalidState {
                                message: format!(
                                "checkout {id} has no invoice to refund yet (it is not complete)"
                            ),
                                gateway: None,
                            })?;
                    let invoice_path = format!("/v1/invoices/{}", path_segment(invoice.id()));
                    let value = self
                        .client
                        .get(&invoice_path, Some("expand[0]=payments"), invoice.id())
                        .await?;
                    let invoice: InvoiceWithPayments = decode(&value, "invoice")?;
                    check_refund_currency(currency, invoice.currency.as_deref())?;
                    invoice_payment_source(&invoice)?
                }
                Some(SessionMode::Setup) => {
                    return Err(PaymentError::invalid(
                        "target",
                        format!("checkout {id} is a setup-mode checkout, which takes no payment"),
                    ))
                }
                Some(SessionMode::Unknown(mode)) => {
                    return Err(PaymentError::invalid(
                        "target",
                        format!("checkout {id} has mode {mode:?}, which payswitch cannot refund"),
                    ))
                }
                None => return Err(PaymentError::decode("checkout.session", "mode is missing")),
            };
        Ok(ResolvedPayment {
            source,
            checkout_id: Some(id.to_owned()),
            subscription_id,
        })
    }

    /// `POST /v1/billing_portal/sessions` with `customer` and `return_url`.
    pub(crate) async fn create_portal_session(
        &self,
        request: &PortalRequest,
    ) -> Result<PortalSession, PaymentError> {
        request.validate()?;
        let params = CreatePortalSessionParams {
            customer: request.customer_id.clone(),
            return_url: request.return_url.clone(),
        };
        let value = self
            .client
            .post(
                "/v1/billing_portal/sessions",
                Bytes::from(params.encode()),
                &random_idempotency_key(),
                &request.customer_id,
            )
            .await?;
        let session: wire::PortalSession = decode(&value, "billing_portal.session")?;
        Ok(convert::portal_session(
            session,
            &request.customer_id,
            RawJson::new(value),
        ))
    }

    /// `POST /v1/customers` under a key derived from the parameters, so a repeated create
    /// converges on one customer. A replayed customer is retrieved (it may have changed or
    /// been deleted since); a deleted one, or a replayed failure, gets one more create under
    /// a random key.
    pub(crate) async fn create_customer(
        &self,
        request: &CustomerRequest,
    ) -> Result<Customer, PaymentError> {
        let form = customer_params(request)?.encode();
        let reply = self
            .client
            .post_reply(
                CUSTOMERS,
                Bytes::from(form.clone()),
                &customer_key(&form),
                "customer",
            )
            .await?;
        let fresh_key = match reply {
            Reply {
                value: Ok(value),
                replayed: false,
            } => return customer_from(value),
            Reply {
                value: Ok(value),
                replayed: true,
            } => {
                let id = decode::<IdOnly>(&value, "customer")?.id;
                match self.retrieve_customer(&id).await {
                    Err(PaymentError::NotFound { gateway: None, .. }) => random_idempotency_key(),
                    found => return found,
                }
            }
            // A saved failure replays for 24 hours under this key.
            Reply { value: Err(_), .. } => random_idempotency_key(),
        };
        let value = self
            .client
            .post(CUSTOMERS, Bytes::from(form), &fresh_key, "customer")
            .await?;
        customer_from(value)
    }

    /// `GET /v1/customers/{id}`; a deleted customer is `NotFound`.
    pub(crate) async fn retrieve_customer(&self, id: &str) -> Result<Customer, PaymentError> {
        check_id("id", id)?;
        let path = format!("{CUSTOMERS}/{}", path_segment(id));
        let value = self.client.get(&path, None, id).await?;
        customer_from(value)
    }

    /// By email: `GET /v1/customers?email=…&limit=1` (exact, case-sensitive, immediately
    /// consistent). By app user id: `GET /v1/customers/search` on the metadata, which is
    /// eventually consistent (a customer created in the last minute or so may be missed).
    pub(crate) async fn find_customer(
        &self,
        lookup: &CustomerLookup,
    ) -> Result<Option<Customer>, PaymentError> {
        match lookup {
            CustomerLookup::Email(email) => {
                check_id("email", email)?;
                let mut query = FormWriter::with_capacity(64);
                query.text("email", email);
                query.integer("limit", 1);
                let query = query.finish();
                let value = self
                    .client
                    .get(CUSTOMERS, Some(&query), "list of customers")
                    .await?;
                let page: RawList = decode(&value, "list of customers")?;
                page.data.into_iter().next().map(customer_from).transpose()
            }
            CustomerLookup::AppUserId(user) => {
                check_id("app_user_id", user)?;
                let mut query = FormWriter::with_capacity(96);
                query.text("query", &app_user_query(user));
                query.integer("limit", SEARCH_LIMIT);
                let query = query.finish();
                let value = self
                    .client
                    .get("/v1/customers/search", Some(&query), "customer search")
                    .await?;
                let page: RawList = decode(&value, "customer search result")?;
                let mut found = page
                    .data
                    .into_iter()
                    .map(customer_from)
                    .collect::<Result<Vec<_>, _>>()?;
                // Search matches metadata exactly; checked again, and duplicates resolved to
                // the oldest so repeated calls agree.
                found.retain(|customer| customer.app_user_id.as_deref() == Some(user.as_str()));
                found.sort_by(|a, b| {
                    (a.created_at, a.id.as_str()).cmp(&(b.created_at, b.id.as_str()))
                });
                Ok(found.into_iter().next())
            }
        }
    }
}
