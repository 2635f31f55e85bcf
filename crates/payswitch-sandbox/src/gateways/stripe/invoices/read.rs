//! `GET /v1/invoices/{id}` and `GET /v1/invoices` (newest first, filtered by `customer`,
//! `subscription` and `status`).

use http::StatusCode;
use serde_json::Value;

use crate::gateways::stripe::customers;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::invoices::render::render;
use crate::gateways::stripe::lists::{item_expansions, list_body, paginate};
use crate::gateways::stripe::objects::Invoice;
use crate::gateways::stripe::params::{
    check_expand, expand_list, one_of, range, reject_unknown, text,
};
use crate::state::State;

const EXPANSIONS: &[&str] = &["customer", "payments"];

fn render_expanded(state: &State, invoice: &Invoice, expand: &[String]) -> Value {
    let mut value = render(state, invoice, expand);
    if expand.iter().any(|field| field == "customer") {
        if let (Some(customer), Some(object)) = (
            state.stripe.customers.get(&invoice.customer),
            value.as_object_mut(),
        ) {
            object.insert("customer".into(), customers::render(customer));
        }
    }
    value
}

/// `GET /v1/invoices/{id}`.
pub(crate) fn retrieve(state: &State, id: &str, params: &Params) -> Outcome {
    reject_unknown(params, &["expand"], "")?;
    let expand = expand_list(params)?;
    check_expand(&expand, EXPANSIONS)?;
    let invoice = state
        .stripe
        .invoices
        .get(id)
        .ok_or_else(|| Failure::not_found("invoice", "invoice", id))?;
    Ok((StatusCode::OK, render_expanded(state, invoice, &expand)))
}

/// `GET /v1/invoices`.
pub(crate) fn list(state: &State, params: &Params) -> Outcome {
    reject_unknown(
        params,
        &[
            "collection_method",
            "created",
            "customer",
            "customer_account",
            "due_date",
            "ending_before",
            "expand",
            "limit",
            "starting_after",
            "status",
            "subscription",
        ],
        "",
    )?;
    let customer = text(params, "customer", "")?;
    let subscription = text(params, "subscription", "")?;
    let status = one_of(
        params,
        "status",
        "",
        &["draft", "open", "paid", "uncollectible", "void"],
    )?;
    let created = range(params, "created")?;
    let expand = item_expansions(&expand_list(params)?);
    check_expand(&expand, EXPANSIONS)?;
    let ids: Vec<String> = state
        .stripe
        .invoices
        .newest_first()
        .filter(|invoice| {
            customer.is_none_or(|wanted| invoice.customer == wanted)
                && subscription.is_none_or(|wanted| invoice.subscription.as_deref() == Some(wanted))
                && status.is_none_or(|wanted| invoice.status.as_str() == wanted)
                && created.admits(invoice.created)
        })
        .map(|invoice| invoice.id.clone())
        .collect();
    let (page, has_more) = paginate(&ids, params, "invoice")?;
    let data = page
        .iter()
        .filter_map(|id| state.stripe.invoices.get(id))
        .map(|invoice| render_expanded(state, invoice, &expand))
        .collect();
    Ok((StatusCode::OK, list_body(data, has_more, "/v1/invoices")))
}
