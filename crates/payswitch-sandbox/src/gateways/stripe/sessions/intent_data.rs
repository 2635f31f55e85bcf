//! The `*_data` parameters of a new Checkout Session: what the subscription, PaymentIntent or
//! SetupIntent its completion creates will carry. Each is allowed in its own mode only.

use crate::checkout::plausible_email;
use crate::gateways::stripe::error::Failure;
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::objects::{IntentData, SubscriptionData};
use crate::gateways::stripe::params::{
    emulated_value, integer, metadata, object, one_of, reject_unknown, reject_unsupported, text,
};

/// What a refusal names: the operation.
const WHAT: &str = "Checkout Sessions";

/// `payment_intent_data` parameters: emulated, and documented but not emulated.
const PAYMENT_INTENT_DATA_PARAMS: &[&str] =
    &["capture_method", "description", "metadata", "receipt_email"];
const UNEMULATED_PAYMENT_INTENT_DATA_PARAMS: &[&str] = &[
    "application_fee_amount",
    "on_behalf_of",
    "setup_future_usage",
    "shipping",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "transfer_data",
    "transfer_group",
];

/// `setup_intent_data` parameters: emulated, and documented but not emulated.
const SETUP_INTENT_DATA_PARAMS: &[&str] = &["description", "metadata"];
const UNEMULATED_SETUP_INTENT_DATA_PARAMS: &[&str] = &["on_behalf_of"];

/// Refuses `<name>` outside `mode` (the rule is Stripe's; the wording is the sandbox's).
fn only_in(name: &str, wanted: &str, mode: &str) -> Failure {
    Failure::invalid(
        None,
        Some(name),
        format!("You can only pass `{name}` in `{wanted}` mode; this session is in `{mode}` mode."),
    )
}

/// Reads `payment_intent_data` (payment mode only): the PaymentIntent's `description`,
/// `metadata` and `receipt_email`. `capture_method` passes only as `automatic` or
/// `automatic_async`, which is what the sandbox does.
pub(crate) fn parse_payment_intent_data(
    params: &Params,
    mode: &str,
) -> Result<IntentData, Failure> {
    let prefix = "payment_intent_data";
    let Some(data) = object(params, prefix, "")? else {
        return Ok(IntentData::default());
    };
    if mode != "payment" {
        return Err(only_in(prefix, "payment", mode));
    }
    reject_unsupported(
        data,
        PAYMENT_INTENT_DATA_PARAMS,
        UNEMULATED_PAYMENT_INTENT_DATA_PARAMS,
        prefix,
        WHAT,
    )?;
    one_of(
        data,
        "capture_method",
        prefix,
        &["automatic", "automatic_async", "manual"],
    )?;
    emulated_value(
        data,
        "capture_method",
        prefix,
        &["automatic", "automatic_async"],
        WHAT,
    )?;
    let receipt_email = text(data, "receipt_email", prefix)?;
    if receipt_email.is_some_and(|email| !plausible_email(email)) {
        return Err(Failure::invalid(
            Some("email_invalid"),
            Some("payment_intent_data[receipt_email]"),
            "Invalid email address.".to_owned(),
        ));
    }
    Ok(IntentData {
        description: text(data, "description", prefix)?.map(str::to_owned),
        metadata: metadata(data, prefix)?,
        receipt_email: receipt_email.map(str::to_owned),
    })
}

/// Reads `setup_intent_data` (setup mode only): the SetupIntent's `description` and
/// `metadata`.
pub(crate) fn parse_setup_intent_data(params: &Params, mode: &str) -> Result<IntentData, Failure> {
    let prefix = "setup_intent_data";
    let Some(data) = object(params, prefix, "")? else {
        return Ok(IntentData::default());
    };
    if mode != "setup" {
        return Err(only_in(prefix, "setup", mode));
    }
    reject_unsupported(
        data,
        SETUP_INTENT_DATA_PARAMS,
        UNEMULATED_SETUP_INTENT_DATA_PARAMS,
        prefix,
        WHAT,
    )?;
    Ok(IntentData {
        description: text(data, "description", prefix)?.map(str::to_owned),
        metadata: metadata(data, prefix)?,
        receipt_email: None,
    })
}

/// Longest trial Stripe allows, in days.
const MAX_TRIAL_DAYS: i64 = 730;
/// How far ahead a `subscription_data[trial_end]` must be: at least 48 hours.
const MIN_TRIAL_END_SECONDS: i64 = 48 * 60 * 60;

/// The `subscription_data` parameters the sandbox emulates.
const SUBSCRIPTION_DATA_PARAMS: &[&str] = &[
    "description",
    "metadata",
    "trial_end",
    "trial_period_days",
    "trial_settings",
];
/// The other documented `subscription_data` parameters: refused as not emulated.
const UNEMULATED_SUBSCRIPTION_DATA_PARAMS: &[&str] = &[
    "application_fee_percent",
    "billing_cycle_anchor",
    "billing_mode",
    "default_tax_rates",
    "invoice_settings",
    "on_behalf_of",
    "proration_behavior",
    "transfer_data",
];

/// Reads `subscription_data` (subscription mode only): the trial, its end behavior, the
/// subscription's description and metadata.
pub(crate) fn parse_subscription_data(
    params: &Params,
    mode: &str,
    now: i64,
) -> Result<SubscriptionData, Failure> {
    let Some(data) = object(params, "subscription_data", "")? else {
        return Ok(SubscriptionData::default());
    };
    if mode != "subscription" {
        return Err(only_in("subscription_data", "subscription", mode));
    }
    let prefix = "subscription_data";
    reject_unsupported(
        data,
        SUBSCRIPTION_DATA_PARAMS,
        UNEMULATED_SUBSCRIPTION_DATA_PARAMS,
        prefix,
        WHAT,
    )?;
    let trial_period_days = integer(data, "trial_period_days", prefix)?;
    let trial_end = integer(data, "trial_end", prefix)?;
    if trial_period_days.is_some() && trial_end.is_some() {
        return Err(Failure::invalid(
            Some("parameters_exclusive"),
            Some("subscription_data[trial_end]"),
            "You may only specify one of these parameters: trial_end, trial_period_days."
                .to_owned(),
        ));
    }
    if let Some(days) = trial_period_days {
        if !(1..=MAX_TRIAL_DAYS).contains(&days) {
            return Err(Failure::invalid(
                None,
                Some("subscription_data[trial_period_days]"),
                format!("The trial period must be between 1 and {MAX_TRIAL_DAYS} days."),
            ));
        }
    }
    if let Some(end) = trial_end {
        if end < now + MIN_TRIAL_END_SECONDS || end > now + MAX_TRIAL_DAYS * 86_400 {
            return Err(Failure::invalid(
                None,
                Some("subscription_data[trial_end]"),
                format!(
                    "`subscription_data[trial_end]` must be at least 48 hours and at most \
                     {MAX_TRIAL_DAYS} days in the future."
                ),
            ));
        }
    }
    let missing_payment_method = match object(data, "trial_settings", prefix)? {
        Some(settings) => {
            let settings_prefix = "subscription_data[trial_settings]";
            reject_unknown(settings, &["end_behavior"], settings_prefix)?;
            let end_prefix = "subscription_data[trial_settings][end_behavior]";
            let end_behavior = object(settings, "end_behavior", settings_prefix)?
                .ok_or_else(|| Failure::missing(end_prefix))?;
            reject_unknown(end_behavior, &["missing_payment_method"], end_prefix)?;
            Some(
                one_of(
                    end_behavior,
                    "missing_payment_method",
                    end_prefix,
                    &["cancel", "create_invoice", "pause"],
                )?
                .ok_or_else(|| Failure::missing(&format!("{end_prefix}[missing_payment_method]")))?
                .to_owned(),
            )
        }
        None => None,
    };
    Ok(SubscriptionData {
        trial_end,
        trial_period_days,
        missing_payment_method,
        description: text(data, "description", prefix)?.map(str::to_owned),
        metadata: metadata(data, prefix)?,
    })
}
