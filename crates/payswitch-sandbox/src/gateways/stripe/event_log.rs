//! `GET /v1/events` and `GET /v1/events/{id}`: the events the sandbox emitted, as sent,
//! newest first. The list shows the order events were emitted in, which concurrent webhook
//! deliveries do not keep.

use http::StatusCode;
use serde_json::Value;

use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::lists::{list_body, paginate};
use crate::gateways::stripe::params::{check_expand, expand_list, range, reject_unknown, text};
use crate::state::State;

/// Whether an event type passes a `type` filter, which may end in `*`
/// (`customer.subscription.*`).
fn type_matches(filter: &str, event_type: &str) -> bool {
    match filter.strip_suffix('*') {
        Some(prefix) => event_type.starts_with(prefix),
        None => filter == event_type,
    }
}

/// `GET /v1/events/{id}`.
pub(crate) fn retrieve(state: &State, id: &str, params: &Params) -> Outcome {
    reject_unknown(params, &["expand"], "")?;
    check_expand(&expand_list(params)?, &[])?;
    let event = state
        .stripe
        .events
        .get(id)
        .ok_or_else(|| Failure::not_found("event", "id", id))?;
    Ok((StatusCode::OK, event.clone()))
}

/// `GET /v1/events`: newest first, filtered by `type` (one type or a `*` pattern), `types[]`
/// and `created`.
pub(crate) fn list(state: &State, params: &Params) -> Outcome {
    reject_unknown(
        params,
        &[
            "created",
            "delivery_success",
            "ending_before",
            "expand",
            "limit",
            "starting_after",
            "type",
            "types",
        ],
        "",
    )?;
    let one_type = text(params, "type", "")?;
    let types: Vec<String> = match params.get("types") {
        None => Vec::new(),
        Some(value) => value
            .as_list()
            .ok_or_else(|| {
                Failure::invalid(
                    None,
                    Some("types"),
                    "Invalid array: types must be an array.".to_owned(),
                )
            })?
            .into_iter()
            .filter_map(|(_, value)| value.as_text().map(str::to_owned))
            .collect(),
    };
    if one_type.is_some() && !types.is_empty() {
        return Err(Failure::invalid(
            Some("parameters_exclusive"),
            Some("types"),
            "You may only specify one of these parameters: type, types.".to_owned(),
        ));
    }
    let created = range(params, "created")?;
    check_expand(&expand_list(params)?, &[])?;
    let passes = |event: &Value| {
        let event_type = event["type"].as_str().unwrap_or_default();
        one_type.is_none_or(|filter| type_matches(filter, event_type))
            && (types.is_empty() || types.iter().any(|wanted| wanted == event_type))
            && created.admits(event["created"].as_i64().unwrap_or_default())
    };
    let ids: Vec<String> = state
        .stripe
        .events
        .newest_first()
        .filter(|event| passes(event))
        .filter_map(|event| event["id"].as_str().map(str::to_owned))
        .collect();
    let (page, has_more) = paginate(&ids, params, "event")?;
    let data = page
        .iter()
        .filter_map(|id| state.stripe.events.get(id))
        .cloned()
        .collect();
    Ok((StatusCode::OK, list_body(data, has_more, "/v1/events")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_match_exactly_or_by_prefix() {
        assert!(type_matches("invoice.paid", "invoice.paid"));
        assert!(!type_matches("invoice.paid", "invoice.payment_succeeded"));
        assert!(type_matches(
            "customer.subscription.*",
            "customer.subscription.updated"
        ));
        assert!(!type_matches("customer.subscription.*", "customer.updated"));
    }
}
