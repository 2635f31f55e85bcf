//! Stripe Customers: `POST /v1/customers`, retrieve, update (with the default payment method
//! its invoices are charged to), list by email, search with Stripe's query language, the
//! customer a paid subscription checkout creates, and the `customer.created` /
//! `customer.updated` events.

use base64::Engine;
use http::StatusCode;
use serde_json::{json, Value};

use crate::app::App;
use crate::checkout::plausible_email;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::events::{emit_event, emit_update_event, previous_attributes};
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::lists::{item_expansions, limit, list_body, paginate};
use crate::gateways::stripe::objects::Customer;
use crate::gateways::stripe::params::{
    apply_metadata, check_expand, expand_list, metadata, object, range, reject_unknown,
    reject_unsupported, text, text_update, CallContext,
};
use crate::gateways::stripe::payment_methods;
use crate::gateways::stripe::search_query::{self, Clause, Field, Operator};
use crate::state::{new_id, random_token, State};

/// Create parameters the sandbox implements.
const CREATE_PARAMS: &[&str] = &[
    "description",
    "email",
    "expand",
    "invoice_settings",
    "metadata",
    "name",
    "payment_method",
    "phone",
];
/// Update parameters the sandbox implements.
const UPDATE_PARAMS: &[&str] = &[
    "description",
    "email",
    "expand",
    "invoice_settings",
    "metadata",
    "name",
    "phone",
];
/// `invoice_settings` parameters the sandbox implements, and those it refuses by name.
const INVOICE_SETTINGS_PARAMS: &[&str] = &["default_payment_method"];
const UNEMULATED_INVOICE_SETTINGS_PARAMS: &[&str] =
    &["custom_fields", "footer", "rendering_options"];
/// Documented create parameters the sandbox does not emulate; refused by name.
const UNEMULATED_CREATE_PARAMS: &[&str] = &[
    "address",
    "balance",
    "business_name",
    "cash_balance",
    "individual_name",
    "invoice_prefix",
    "next_invoice_sequence",
    "preferred_locales",
    "shipping",
    "source",
    "tax",
    "tax_exempt",
    "tax_id_data",
    "test_clock",
];
/// Documented update parameters the sandbox does not emulate; refused by name.
const UNEMULATED_UPDATE_PARAMS: &[&str] = &[
    "address",
    "balance",
    "bank_account",
    "business_name",
    "card",
    "cash_balance",
    "default_alipay_account",
    "default_bank_account",
    "default_card",
    "default_source",
    "individual_name",
    "invoice_prefix",
    "next_invoice_sequence",
    "preferred_locales",
    "shipping",
    "source",
    "tax",
    "tax_exempt",
];

/// Longest values Stripe accepts (the spec's `maxLength`).
const MAX_EMAIL: usize = 512;
const MAX_NAME: usize = 256;
const MAX_PHONE: usize = 20;
const MAX_DESCRIPTION: usize = 5000;

/// Renders a customer as Stripe's `customer` JSON (fixtures shape).
pub(crate) fn render(customer: &Customer) -> Value {
    json!({
        "id": customer.id,
        "object": "customer",
        "address": null,
        "balance": 0,
        "created": customer.created,
        "currency": customer.currency,
        "customer_account": null,
        "default_source": null,
        "delinquent": false,
        "description": customer.description,
        "discount": null,
        "email": customer.email,
        "invoice_prefix": customer.invoice_prefix,
        "invoice_settings": {
            "custom_fields": null,
            "default_payment_method": customer.default_payment_method,
            "footer": null,
            "rendering_options": null,
        },
        "livemode": false,
        "metadata": customer.metadata,
        "name": customer.name,
        "next_invoice_sequence": customer.next_invoice_sequence,
        "phone": customer.phone,
        "preferred_locales": [],
        "shipping": null,
        "tax_exempt": "none",
        "test_clock": null,
    })
}

/// Stores a new customer and emits `customer.created`; returns its id.
pub(crate) fn insert(
    app: &App,
    state: &mut State,
    customer: Customer,
    context: Option<&CallContext<'_>>,
) -> String {
    let id = customer.id.clone();
    let rendered = render(&customer);
    state.stripe.customers.insert(id.clone(), customer);
    emit_event(app, state, "customer.created", rendered, context);
    id
}

/// Returns a new customer with the sandbox's generated id and invoice prefix.
pub(crate) fn new_customer(now: i64, email: Option<String>) -> Customer {
    Customer {
        id: new_id("cus_"),
        created: now,
        email,
        name: None,
        phone: None,
        description: None,
        metadata: Default::default(),
        currency: None,
        invoice_prefix: random_token(8).to_ascii_uppercase(),
        next_invoice_sequence: 1,
        default_payment_method: None,
    }
}

/// Returns the customer `id` or Stripe's 404 naming `param`.
pub(crate) fn find<'a>(state: &'a State, id: &str, param: &str) -> Result<&'a Customer, Failure> {
    state
        .stripe
        .customers
        .get(id)
        .ok_or_else(|| Failure::not_found("customer", param, id))
}

/// Reads a text field no longer than `max` characters.
fn bounded<'a>(params: &'a Params, key: &str, max: usize) -> Result<Option<&'a str>, Failure> {
    let value = text(params, key, "")?;
    if value.is_some_and(|value| value.chars().count() > max) {
        return Err(Failure::invalid(
            None,
            Some(key),
            format!("Invalid {key}: must be at most {max} characters."),
        ));
    }
    Ok(value)
}

/// Reads `email`, refusing one that is not an address.
fn email(params: &Params) -> Result<Option<&str>, Failure> {
    let email = bounded(params, "email", MAX_EMAIL)?;
    if let Some(email) = email.filter(|email| !plausible_email(email)) {
        return Err(Failure::invalid(
            Some("email_invalid"),
            Some("email"),
            format!("Invalid email address: {email}"),
        ));
    }
    Ok(email)
}

/// `POST /v1/customers`.
pub(crate) fn create(
    app: &App,
    state: &mut State,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    reject_unsupported(
        params,
        CREATE_PARAMS,
        UNEMULATED_CREATE_PARAMS,
        "",
        "customers",
    )?;
    let email = email(params)?.map(str::to_owned);
    let name = bounded(params, "name", MAX_NAME)?.map(str::to_owned);
    let phone = bounded(params, "phone", MAX_PHONE)?.map(str::to_owned);
    let description = bounded(params, "description", MAX_DESCRIPTION)?.map(str::to_owned);
    let metadata = metadata(params, "")?;
    let method = text(params, "payment_method", "")?;
    if let Some(method) = method {
        check_attachable(state, method)?;
    }
    let default_method = default_payment_method(params)?.flatten();
    if let Some(default) = default_method {
        // Only the method attached by this very request can be the new customer's default.
        if Some(default) != method {
            return Err(not_attached(default));
        }
    }
    check_expand(&expand_list(params)?, &[])?;
    let mut customer = new_customer(state.now(), email);
    customer.name = name;
    customer.phone = phone;
    customer.description = description;
    customer.metadata = metadata;
    let id = customer.id.clone();
    let attached = match method {
        Some(method) => {
            // Attach to a customer stored without events, then announce the customer first.
            state.stripe.customers.insert(id.clone(), customer.clone());
            let attached = attach_quietly(state, method, &id)?;
            if default_method.is_some() {
                customer.default_payment_method = Some(attached.clone());
            }
            Some(attached)
        }
        None => None,
    };
    let rendered = render(&customer);
    insert(app, state, customer, Some(context));
    if let Some(attached) = attached {
        if let Some(method) = state.stripe.payment_methods.get(&attached) {
            let method = payment_methods::render(method);
            emit_event(app, state, "payment_method.attached", method, Some(context));
        }
    }
    Ok((StatusCode::OK, rendered))
}

/// Reads `invoice_settings[default_payment_method]`: `None` when absent, `Some(None)` when
/// sent empty (unset).
fn default_payment_method(params: &Params) -> Result<Option<Option<&str>>, Failure> {
    let Some(settings) = object(params, "invoice_settings", "")? else {
        return Ok(None);
    };
    reject_unsupported(
        settings,
        INVOICE_SETTINGS_PARAMS,
        UNEMULATED_INVOICE_SETTINGS_PARAMS,
        "invoice_settings",
        "customers",
    )?;
    text_update(settings, "default_payment_method", "invoice_settings")
}

/// Stripe's 400 for a default payment method the customer does not have.
fn not_attached(id: &str) -> Failure {
    Failure::invalid(
        Some("resource_missing"),
        Some("invoice_settings[default_payment_method]"),
        format!(
            "The customer does not have a payment method with the ID {id}. The payment method \
             must be attached to the customer."
        ),
    )
}

/// Checks `id` is a test token or an unattached PaymentMethod that Stripe lets you attach.
fn check_attachable(state: &State, id: &str) -> Result<(), Failure> {
    let instrument = match state.stripe.payment_methods.get(id) {
        Some(method) if method.customer.is_some() => {
            return Err(Failure::invalid(
                None,
                Some("payment_method"),
                "The payment method you provided has already been attached to a customer."
                    .to_owned(),
            ))
        }
        Some(method) => method.instrument,
        None => payment_methods::test_token(id).ok_or_else(|| {
            Failure::invalid(
                Some("resource_missing"),
                Some("payment_method"),
                format!("No such PaymentMethod: '{id}'"),
            )
        })?,
    };
    instrument
        .attach()
        .map_err(|decline| payment_methods::card_error(decline, Some("payment_method")))
}

/// Attaches a checked method to `customer` without an event; returns the attached id.
fn attach_quietly(state: &mut State, id: &str, customer: &str) -> Result<String, Failure> {
    let attached = match state.stripe.payment_methods.get_mut(id) {
        Some(method) => {
            method.customer = Some(customer.to_owned());
            method.id.clone()
        }
        None => {
            let instrument = payment_methods::test_token(id).ok_or_else(|| {
                Failure::invalid(
                    Some("resource_missing"),
                    Some("payment_method"),
                    format!("No such PaymentMethod: '{id}'"),
                )
            })?;
            payment_methods::insert(state, instrument, Some(customer), None)
        }
    };
    Ok(attached)
}

/// `GET /v1/customers/{id}`.
pub(crate) fn retrieve(state: &State, id: &str, params: &Params) -> Outcome {
    reject_unknown(params, &["expand"], "")?;
    check_expand(&expand_list(params)?, &[])?;
    let customer = find(state, id, "customer")?;
    Ok((StatusCode::OK, render(customer)))
}

/// `POST /v1/customers/{id}`: sets or unsets (empty value) email, name, phone, description
/// and metadata keys; emits `customer.updated` when something changed.
pub(crate) fn update(
    app: &App,
    state: &mut State,
    id: &str,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    find(state, id, "customer")?;
    reject_unsupported(
        params,
        UPDATE_PARAMS,
        UNEMULATED_UPDATE_PARAMS,
        "",
        "customers",
    )?;
    let default_method = default_payment_method(params)?;
    if let Some(Some(method)) = default_method {
        let attached = state
            .stripe
            .payment_methods
            .get(method)
            .is_some_and(|stored| stored.customer.as_deref() == Some(id));
        if !attached {
            return Err(not_attached(method));
        }
    }
    let email_given = params.contains_key("email");
    let email = email(params)?.map(str::to_owned);
    let name = text_update(params, "name", "")?;
    bounded(params, "name", MAX_NAME)?;
    let phone = text_update(params, "phone", "")?;
    bounded(params, "phone", MAX_PHONE)?;
    let description = text_update(params, "description", "")?;
    bounded(params, "description", MAX_DESCRIPTION)?;
    check_expand(&expand_list(params)?, &[])?;
    let Some(customer) = state.stripe.customers.get(id) else {
        return Err(Failure::not_found("customer", "customer", id));
    };
    let mut updated = customer.clone();
    if email_given {
        updated.email = email;
    }
    if let Some(name) = name {
        updated.name = name.map(str::to_owned);
    }
    if let Some(phone) = phone {
        updated.phone = phone.map(str::to_owned);
    }
    if let Some(description) = description {
        updated.description = description.map(str::to_owned);
    }
    apply_metadata(params, "", &mut updated.metadata)?;
    if let Some(method) = default_method {
        updated.default_payment_method = method.map(str::to_owned);
    }
    let before = render(customer);
    let after = render(&updated);
    state.stripe.customers.insert(id.to_owned(), updated);
    let changed = previous_attributes(&before, &after);
    if changed.as_object().is_some_and(|fields| !fields.is_empty()) {
        emit_update_event(
            app,
            state,
            "customer.updated",
            after.clone(),
            changed,
            Some(context),
        );
    }
    Ok((StatusCode::OK, after))
}

/// `GET /v1/customers`: newest first; `email` is an exact, case-sensitive filter.
pub(crate) fn list(state: &State, params: &Params) -> Outcome {
    reject_unknown(
        params,
        &[
            "created",
            "email",
            "ending_before",
            "expand",
            "limit",
            "starting_after",
            "test_clock",
        ],
        "",
    )?;
    let email = text(params, "email", "")?;
    let created = range(params, "created")?;
    check_expand(&item_expansions(&expand_list(params)?), &[])?;
    let ids: Vec<String> = state
        .stripe
        .customers
        .newest_first()
        .filter(|customer| {
            email.is_none_or(|wanted| customer.email.as_deref() == Some(wanted))
                && created.admits(customer.created)
        })
        .map(|customer| customer.id.clone())
        .collect();
    let (page, has_more) = paginate(&ids, params, "customer")?;
    let data = page
        .iter()
        .filter_map(|id| state.stripe.customers.get(id))
        .map(render)
        .collect();
    Ok((StatusCode::OK, list_body(data, has_more, "/v1/customers")))
}

/// `GET /v1/customers/search`: Stripe's query language over `email`, `name`, `phone`
/// (exact `:` ignoring case, or substring `~` of at least 3 characters), `metadata['key']`
/// (exact) and `created` (numeric comparators); newest first, paged with `page`.
pub(crate) fn search(state: &State, params: &Params) -> Outcome {
    reject_unknown(params, &["expand", "limit", "page", "query"], "")?;
    let text_query = text(params, "query", "")?.ok_or_else(|| Failure::missing("query"))?;
    let query = search_query::parse(text_query).map_err(invalid_query)?;
    for clause in &query.clauses {
        check_clause(clause)?;
    }
    let limit = limit(params)?;
    let expand = expand_list(params)?;
    check_expand(&expand, &["total_count"])?;
    let matching: Vec<&Customer> = state
        .stripe
        .customers
        .newest_first()
        .filter(|customer| query.matches(|clause| clause_matches(clause, customer)))
        .collect();
    let start = match text(params, "page", "")? {
        None => 0,
        Some(page) => {
            let after = decode_page(page)?;
            matching
                .iter()
                .position(|customer| customer.id == after)
                .map_or(matching.len(), |position| position + 1)
        }
    };
    let rest = matching.get(start..).unwrap_or(&[]);
    let page: Vec<&Customer> = rest.iter().take(limit).copied().collect();
    let has_more = rest.len() > limit;
    let next_page = has_more
        .then(|| page.last().map(|customer| encode_page(&customer.id)))
        .flatten();
    let mut body = json!({
        "object": "search_result",
        "data": page.into_iter().map(render).collect::<Vec<_>>(),
        "has_more": has_more,
        "next_page": next_page,
        "url": "/v1/customers/search",
    });
    if expand.iter().any(|field| field == "total_count") {
        if let Some(object) = body.as_object_mut() {
            object.insert("total_count".into(), json!(matching.len()));
        }
    }
    Ok((StatusCode::OK, body))
}

/// Stripe's 400 for a query it cannot use. The rule is Stripe's; the wording is the
/// sandbox's.
fn invalid_query(reason: String) -> Failure {
    Failure::invalid(
        None,
        Some("query"),
        format!("Invalid search query: {reason} See https://stripe.com/docs/search#search-query-language."),
    )
}

/// Refuses a clause on a field customers do not have, or with an operator the field's type
/// does not support.
fn check_clause(clause: &Clause) -> Result<(), Failure> {
    let symbol = clause.operator.symbol();
    match &clause.field {
        Field::Metadata(_) if clause.operator == Operator::Exact => Ok(()),
        Field::Metadata(key) => Err(invalid_query(format!(
            "`metadata['{key}']` supports only `:`, not `{symbol}`."
        ))),
        Field::Named(name) => match name.as_str() {
            "email" | "name" | "phone" => match clause.operator {
                Operator::Exact => Ok(()),
                Operator::Substring if clause.value.chars().count() >= 3 => Ok(()),
                Operator::Substring => Err(invalid_query(format!(
                    "Substring matching (`~`) needs at least 3 characters, `{name}~` got {}.",
                    clause.value.chars().count()
                ))),
                Operator::Greater
                | Operator::GreaterOrEqual
                | Operator::Less
                | Operator::LessOrEqual
                | Operator::Equal => Err(invalid_query(format!(
                    "`{name}` is a string field and supports `:` and `~`, not `{symbol}`."
                ))),
            },
            "created" => match (clause.operator, clause.value.parse::<i64>()) {
                (Operator::Substring, _) => Err(invalid_query(
                    "`created` is a numeric field and supports `:`, `=`, `>`, `>=`, `<` and \
                     `<=`, not `~`."
                        .to_owned(),
                )),
                (_, Ok(_)) => Ok(()),
                (_, Err(_)) => Err(invalid_query(format!(
                    "`created` compares with a number, not `{}`.",
                    clause.value
                ))),
            },
            _ => Err(invalid_query(format!(
                "Field `{name}` is an unsupported search field for resource `customers`: use \
                 created, email, metadata, name or phone."
            ))),
        },
    }
}

/// Whether a customer passes a checked clause, before negation.
fn clause_matches(clause: &Clause, customer: &Customer) -> bool {
    let text_field = |value: Option<&String>| {
        let Some(value) = value else {
            return false;
        };
        let value = value.to_lowercase();
        let wanted = clause.value.to_lowercase();
        match clause.operator {
            Operator::Substring => value.contains(&wanted),
            _ => value == wanted,
        }
    };
    match &clause.field {
        Field::Metadata(key) => customer.metadata.get(key) == Some(&clause.value),
        Field::Named(name) => match name.as_str() {
            "email" => text_field(customer.email.as_ref()),
            "name" => text_field(customer.name.as_ref()),
            "phone" => text_field(customer.phone.as_ref()),
            "created" => {
                let Ok(bound) = clause.value.parse::<i64>() else {
                    return false;
                };
                match clause.operator {
                    Operator::Greater => customer.created > bound,
                    Operator::GreaterOrEqual => customer.created >= bound,
                    Operator::Less => customer.created < bound,
                    Operator::LessOrEqual => customer.created <= bound,
                    Operator::Exact | Operator::Equal | Operator::Substring => {
                        customer.created == bound
                    }
                }
            }
            _ => false,
        },
    }
}

/// The opaque `next_page` cursor: the last id of a page.
fn encode_page(id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode_page(page: &str) -> Result<String, Failure> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(page)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            Failure::invalid(
                None,
                Some("page"),
                format!("Invalid page: '{page}' is not a page cursor this search returned."),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer() -> Customer {
        let mut customer = new_customer(1_700_000_000, Some("Jenny@Example.com".to_owned()));
        customer.name = Some("Jenny Rosen".to_owned());
        customer
            .metadata
            .insert("plan".to_owned(), "pro".to_owned());
        customer
    }

    fn passes(query: &str) -> bool {
        let query = search_query::parse(query).expect("parses");
        for clause in &query.clauses {
            check_clause(clause).expect("valid clause");
        }
        query.matches(|clause| clause_matches(clause, &customer()))
    }

    #[test]
    fn clauses_match_customers() {
        assert!(passes("email:'jenny@example.com'"));
        assert!(!passes("email:'jenny@example.org'"));
        assert!(passes("name~'ROS' AND metadata['plan']:'pro'"));
        assert!(!passes("metadata['plan']:'PRO'"));
        assert!(passes("-metadata['tier']:'gold'"));
        assert!(passes("created>=1700000000 created<1700000001"));
        assert!(!passes("created>1700000000"));
        assert!(passes("phone:'1' OR email:'jenny@example.com'"));
        assert!(!passes("phone:'1'"));
    }

    #[test]
    fn unusable_clauses_are_refused() {
        for bad in [
            "status:'active'",
            "email>'a'",
            "email~'ab'",
            "created~'17'",
            "created>'soon'",
            "metadata['plan']~'pro'",
        ] {
            let query = search_query::parse(bad).expect("parses");
            let error = check_clause(&query.clauses[0]).expect_err(bad);
            assert_eq!(error.error.param.as_deref(), Some("query"));
        }
    }

    #[test]
    fn page_cursors_round_trip() {
        assert_eq!(
            decode_page(&encode_page("cus_1")).ok().as_deref(),
            Some("cus_1")
        );
        assert!(decode_page("!!!").is_err());
    }
}
