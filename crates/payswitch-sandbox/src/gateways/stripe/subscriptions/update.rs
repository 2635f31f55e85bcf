//! `POST /v1/subscriptions/{id}`: cancellation at period end or at a time, item changes with
//! their prorations (`create_prorations` records them for the next invoice, `always_invoice`
//! invoices and collects them now, `none` skips them), `pause_collection`, metadata and
//! description; one `customer.subscription.updated` with `previous_attributes` per change.

use std::collections::BTreeMap;

use http::StatusCode;

use crate::app::App;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::events::{emit_update_event, previous_attributes};
use crate::gateways::stripe::form::{FormValue, Params};
use crate::gateways::stripe::invoices::issue::{issue, new_invoice_id, Collection, Draft};
use crate::gateways::stripe::objects::{
    InvoiceLine, PauseCollection, Subscription, SubscriptionStatus,
};
use crate::gateways::stripe::params::{
    apply_metadata, boolean, check_expand, expand_list, integer, object, one_of, reject_unknown,
    reject_unsupported, text, text_update, CallContext,
};
use crate::gateways::stripe::payment_methods::check_attached;
use crate::gateways::stripe::subscriptions::changes::{
    check_proration_date, parse_items, plan, proration_behavior, ItemChange, ProrationBehavior,
};
use crate::gateways::stripe::subscriptions::render::{render, EXPANSIONS};
use crate::gateways::stripe::subscriptions::{discount_at, find, schedule};
use crate::state::State;

/// Update parameters the sandbox implements. `payment_behavior` and `off_session` are read
/// and have no effect.
const UPDATE_PARAMS: &[&str] = &[
    "billing_cycle_anchor",
    "cancel_at",
    "cancel_at_period_end",
    "cancellation_details",
    "default_payment_method",
    "description",
    "expand",
    "items",
    "metadata",
    "off_session",
    "pause_collection",
    "payment_behavior",
    "proration_behavior",
    "proration_date",
];
/// Documented update parameters the sandbox does not emulate; refused by name.
const UNEMULATED_UPDATE_PARAMS: &[&str] = &[
    "add_invoice_items",
    "application_fee_percent",
    "automatic_tax",
    "billing_thresholds",
    "collection_method",
    "days_until_due",
    "default_source",
    "default_tax_rates",
    "discounts",
    "invoice_settings",
    "on_behalf_of",
    "payment_settings",
    "pending_invoice_item_interval",
    "transfer_data",
    "trial_end",
    "trial_from_plan",
    "trial_settings",
];
/// What a canceled subscription may still change.
const CANCELED_PARAMS: &[&str] = &["cancellation_details", "expand", "metadata"];

/// A cancellation request: scheduled at the period end, at a time, or withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cancellation {
    AtPeriodEnd,
    At(i64),
    Withdrawn,
}

/// The changes of one update, read and checked.
#[derive(Debug, Clone, Default)]
pub(crate) struct Update {
    pub(crate) cancellation: Option<Cancellation>,
    pub(crate) items: Vec<ItemChange>,
    pub(crate) proration: Option<ProrationBehavior>,
    pub(crate) proration_date: Option<i64>,
    /// `Some(None)` unsets `pause_collection`.
    pub(crate) pause_collection: Option<Option<PauseCollection>>,
    /// The metadata after the update, when it changes.
    pub(crate) metadata: Option<BTreeMap<String, String>>,
    pub(crate) description: Option<Option<String>>,
    pub(crate) cancellation_feedback: Option<Option<String>>,
    pub(crate) cancellation_comment: Option<Option<String>>,
    /// `Some(None)` unsets `default_payment_method`.
    pub(crate) default_payment_method: Option<Option<String>>,
}

/// `POST /v1/subscriptions/{id}`.
pub(crate) fn update(
    app: &App,
    state: &mut State,
    id: &str,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    reject_unsupported(
        params,
        UPDATE_PARAMS,
        UNEMULATED_UPDATE_PARAMS,
        "",
        "subscriptions",
    )?;
    let subscription = find(state, id, "subscription")?;
    if subscription.status == SubscriptionStatus::Canceled
        && params
            .keys()
            .any(|key| !CANCELED_PARAMS.contains(&key.as_str()))
    {
        return Err(Failure::invalid(
            None,
            None,
            "A canceled subscription can only update its cancellation_details and metadata."
                .to_owned(),
        ));
    }
    let expand = expand_list(params)?;
    check_expand(&expand, EXPANSIONS)?;
    let update = read_update(state, params, id)?;
    apply(app, state, id, update, Some(context))?;
    let subscription = find(state, id, "subscription")?;
    Ok((StatusCode::OK, render(state, subscription, &expand)))
}

/// Reads and checks every parameter of an update before anything changes.
fn read_update(state: &State, params: &Params, id: &str) -> Result<Update, Failure> {
    let subscription = find(state, id, "subscription")?;
    let now = state.now();
    one_of(
        params,
        "payment_behavior",
        "",
        &[
            "allow_incomplete",
            "default_incomplete",
            "error_if_incomplete",
            "pending_if_incomplete",
        ],
    )?;
    boolean(params, "off_session", "")?;
    if let Some(anchor) = text(params, "billing_cycle_anchor", "")? {
        if anchor != "unchanged" {
            return Err(Failure::invalid(
                None,
                Some("billing_cycle_anchor"),
                "The payswitch sandbox does not emulate `billing_cycle_anchor=now` on \
                 subscription updates; only `unchanged` is accepted."
                    .to_owned(),
            ));
        }
    }
    let mut update = Update {
        cancellation: read_cancellation(params, subscription, now)?,
        items: parse_items(state, params, "", subscription)?,
        proration: params
            .contains_key("proration_behavior")
            .then(|| proration_behavior(params, ""))
            .transpose()?,
        proration_date: integer(params, "proration_date", "")?,
        pause_collection: read_pause_collection(params)?,
        description: text_update(params, "description", "")?
            .map(|description| description.map(str::to_owned)),
        default_payment_method: text_update(params, "default_payment_method", "")?
            .map(|method| method.map(str::to_owned)),
        ..Update::default()
    };
    if let Some(Some(method)) = &update.default_payment_method {
        check_attached(
            state,
            method,
            &subscription.customer,
            "default_payment_method",
        )?;
    }
    if let Some(at) = update.proration_date {
        check_proration_date(subscription, at, "proration_date")?;
    }
    if params.contains_key("metadata") {
        let mut metadata = subscription.metadata.clone();
        apply_metadata(params, "", &mut metadata)?;
        update.metadata = Some(metadata);
    }
    if let Some(details) = object(params, "cancellation_details", "")? {
        reject_unknown(details, &["comment", "feedback"], "cancellation_details")?;
        update.cancellation_comment = text_update(details, "comment", "cancellation_details")?
            .map(|comment| comment.map(str::to_owned));
        if details.contains_key("feedback") {
            update.cancellation_feedback = Some(
                one_of(
                    details,
                    "feedback",
                    "cancellation_details",
                    &[
                        "customer_service",
                        "low_quality",
                        "missing_features",
                        "other",
                        "switched_service",
                        "too_complex",
                        "too_expensive",
                        "unused",
                    ],
                )?
                .map(str::to_owned),
            );
        }
    }
    Ok(update)
}

/// Reads `cancel_at_period_end` and `cancel_at` (a time, `min_period_end`,
/// `max_period_end`, or empty to withdraw), which exclude each other.
fn read_cancellation(
    params: &Params,
    subscription: &Subscription,
    now: i64,
) -> Result<Option<Cancellation>, Failure> {
    let at_period_end = boolean(params, "cancel_at_period_end", "")?;
    let cancel_at = match params.get("cancel_at") {
        None => None,
        Some(FormValue::Text(value)) if value.is_empty() => Some(Cancellation::Withdrawn),
        Some(_) => {
            let ends = subscription
                .items
                .iter()
                .map(|item| item.current_period_end);
            let at = match text(params, "cancel_at", "")? {
                Some("min_period_end") => ends.min(),
                Some("max_period_end") => ends.max(),
                _ => integer(params, "cancel_at", "")?,
            };
            match at {
                Some(at) if at > now => Some(Cancellation::At(at)),
                // The rule is Stripe's; the wording is the sandbox's.
                _ => {
                    return Err(Failure::invalid(
                        None,
                        Some("cancel_at"),
                        "cancel_at must be a time in the future.".to_owned(),
                    ))
                }
            }
        }
    };
    match (at_period_end, cancel_at) {
        (Some(_), Some(_)) => Err(Failure::invalid(
            Some("parameters_exclusive"),
            Some("cancel_at"),
            "You may only specify one of these parameters: cancel_at, cancel_at_period_end."
                .to_owned(),
        )),
        (Some(true), None) => Ok(Some(Cancellation::AtPeriodEnd)),
        (Some(false), None) => Ok(Some(Cancellation::Withdrawn)),
        (None, cancel_at) => Ok(cancel_at),
    }
}

/// Reads `pause_collection[behavior|resumes_at]`, or `pause_collection=` to unset it.
fn read_pause_collection(params: &Params) -> Result<Option<Option<PauseCollection>>, Failure> {
    match params.get("pause_collection") {
        None => Ok(None),
        Some(FormValue::Text(value)) if value.is_empty() => Ok(Some(None)),
        Some(_) => {
            let pause = object(params, "pause_collection", "")?.ok_or_else(|| {
                Failure::invalid(
                    None,
                    Some("pause_collection"),
                    "Invalid object: pause_collection must be a hash.".to_owned(),
                )
            })?;
            reject_unknown(pause, &["behavior", "resumes_at"], "pause_collection")?;
            let behavior = one_of(
                pause,
                "behavior",
                "pause_collection",
                &["keep_as_draft", "mark_uncollectible", "void"],
            )?
            .ok_or_else(|| Failure::missing("pause_collection[behavior]"))?;
            Ok(Some(Some(PauseCollection {
                behavior: behavior.to_owned(),
                resumes_at: integer(pause, "resumes_at", "pause_collection")?,
            })))
        }
    }
}

/// Schedules or withdraws a cancellation, as Stripe records it: `cancel_at` (the period end
/// for `cancel_at_period_end`), `canceled_at` the time of the request, and
/// `cancellation_details.reason`.
pub(crate) fn apply_cancellation(
    subscription: &mut Subscription,
    cancellation: Cancellation,
    now: i64,
) {
    match cancellation {
        Cancellation::AtPeriodEnd => {
            subscription.cancel_at_period_end = true;
            subscription.cancel_at = subscription
                .items
                .iter()
                .map(|item| item.current_period_end)
                .min();
            subscription.canceled_at = Some(now);
            subscription.cancellation_reason = Some("cancellation_requested".to_owned());
        }
        Cancellation::At(at) => {
            subscription.cancel_at_period_end = false;
            subscription.cancel_at = Some(at);
            subscription.canceled_at = Some(now);
            subscription.cancellation_reason = Some("cancellation_requested".to_owned());
        }
        Cancellation::Withdrawn => {
            subscription.cancel_at_period_end = false;
            subscription.cancel_at = None;
            subscription.canceled_at = None;
            subscription.cancellation_reason = None;
        }
    }
}

/// Applies a checked update: the new items and their prorations, cancellation, pause and the
/// plain fields; emits `customer.subscription.updated` when something changed, then issues
/// the invoice the change bills now, if any.
pub(crate) fn apply(
    app: &App,
    state: &mut State,
    id: &str,
    update: Update,
    context: Option<&CallContext<'_>>,
) -> Result<(), Failure> {
    let now = state.now();
    let before = find(state, id, "subscription")?.clone();
    let mut after = before.clone();
    let behavior = update
        .proration
        .unwrap_or(ProrationBehavior::CreateProrations);
    let mut billed_now: Vec<InvoiceLine> = Vec::new();
    if !update.items.is_empty() {
        let at = update.proration_date.unwrap_or(now);
        let planned = plan(&before, &update.items, behavior, at)?;
        after.items = planned.items;
        if let Some(anchor) = planned.anchor {
            after.billing_cycle_anchor = anchor;
        }
        let immediate =
            behavior == ProrationBehavior::AlwaysInvoice || !planned.new_periods.is_empty();
        if immediate {
            billed_now.append(&mut after.pending);
            billed_now.extend(planned.prorations);
            billed_now.extend(planned.new_periods);
        } else {
            after.pending.extend(planned.prorations);
        }
    }
    if let Some(cancellation) = update.cancellation {
        apply_cancellation(&mut after, cancellation, now);
    }
    if let Some(pause) = update.pause_collection {
        after.pause_collection = pause;
    }
    if let Some(metadata) = update.metadata {
        after.metadata = metadata;
    }
    if let Some(description) = update.description {
        after.description = description;
    }
    if let Some(method) = update.default_payment_method {
        after.default_payment_method = method;
    }
    if let Some(feedback) = update.cancellation_feedback {
        after.cancellation_feedback = feedback;
    }
    if let Some(comment) = update.cancellation_comment {
        after.cancellation_comment = comment;
    }
    let invoice_id = (!billed_now.is_empty()).then(new_invoice_id);
    if invoice_id.is_some() {
        after.latest_invoice = invoice_id.clone();
    }
    let old = render(state, &before, &[]);
    let new = render(state, &after, &[]);
    let draft = invoice_id.as_ref().map(|_| Draft {
        customer: after.customer.clone(),
        subscription: Some(id.to_owned()),
        billing_reason: "subscription_update",
        currency: after.currency.clone(),
        lines: billed_now,
        discount: discount_at(state, &after, now),
        period_start: now,
        period_end: now,
    });
    let collection = Collection::for_pause(
        after
            .pause_collection
            .as_ref()
            .map(|pause| pause.behavior.as_str()),
    );
    state.stripe.subscriptions.insert(id.to_owned(), after);
    let changed = previous_attributes(&old, &new);
    if changed.as_object().is_some_and(|fields| !fields.is_empty()) {
        emit_update_event(
            app,
            state,
            "customer.subscription.updated",
            new,
            changed,
            context,
        );
    }
    if let (Some(invoice_id), Some(draft)) = (invoice_id, draft) {
        issue(app, state, invoice_id, draft, collection, context);
    }
    schedule(state, id);
    Ok(())
}
