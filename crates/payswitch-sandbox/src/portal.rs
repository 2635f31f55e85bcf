//! The hosted customer portal: `GET /portal/{token}` lists the customer's subscriptions,
//! `POST /portal/{token}` cancels or resumes one of them. Plain, accessible HTML with no
//! external assets, like the pay page; the token in the path is the customer's only
//! credential, so the page is never cached, framed or sent on as a referrer.

use std::sync::Arc;

use axum::response::Response;
use http::{Method, StatusCode};

use crate::app::App;
use crate::billing::{PortalAction, PortalRefusal, PortalView};
use crate::pages::{escape_html, layout};
use crate::respond::{self, html, insert_header};
use crate::{gateways, money};

/// Renders the portal page of `token`, with an optional `("notice" | "error", text)` message
/// and, when the link has one, a link back to `return_url`.
fn render(
    token: &str,
    view: &PortalView,
    message: Option<(&str, &str)>,
    return_url: Option<&str>,
) -> String {
    let message_html = match message {
        Some(("error", text)) => format!(
            "<p class=\"error\" role=\"alert\" id=\"error\">{}</p>\n",
            escape_html(text)
        ),
        Some((_, text)) => format!(
            "<p class=\"notice\" role=\"status\" id=\"notice\">{}</p>\n",
            escape_html(text)
        ),
        None => String::new(),
    };
    let mut rows = String::new();
    for subscription in &view.subscriptions {
        let id = escape_html(&subscription.id);
        let mut forms = String::new();
        for action in &subscription.actions {
            let (value, label) = match action {
                PortalAction::Cancel => ("cancel", "Cancel subscription"),
                PortalAction::Resume => ("resume", "Resume subscription"),
            };
            forms.push_str(&format!(
                "<form method=\"post\" action=\"/portal/{token}\">\
                 <input type=\"hidden\" name=\"subscription\" value=\"{id}\">\
                 <button id=\"{value}-{id}\" type=\"submit\" name=\"action\" value=\"{value}\">{label}</button>\
                 </form>",
                token = escape_html(token),
            ));
        }
        let next = subscription
            .next_date
            .as_ref()
            .map(|(label, date)| format!("{label} {}", escape_html(date)))
            .unwrap_or_default();
        rows.push_str(&format!(
            "<tr id=\"{id}\"><td>{name}<br><code>{id}</code></td>\
             <td class=\"status\" data-status=\"{status}\">{status}</td>\
             <td class=\"amount\">{amount}</td><td>{next}</td><td>{forms}</td></tr>\n",
            name = escape_html(&subscription.name),
            status = escape_html(&subscription.status),
            amount = escape_html(&money::format_amount(
                subscription.amount,
                &subscription.currency,
                subscription.exponent
            )),
        ));
    }
    let table = if view.subscriptions.is_empty() {
        "<p id=\"empty\">No subscriptions.</p>".to_owned()
    } else {
        format!(
            "<table>\n<caption>Subscriptions</caption>\n\
             <thead><tr><th scope=\"col\">Plan</th><th scope=\"col\">Status</th>\
             <th scope=\"col\" class=\"amount\">Per period</th><th scope=\"col\">Next</th>\
             <th scope=\"col\">Manage</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>"
        )
    };
    let back = return_url
        .map(|url| {
            format!(
                "\n<p><a id=\"return\" href=\"{}\">Return</a></p>",
                escape_html(url)
            )
        })
        .unwrap_or_default();
    let main = format!(
        "<h1>Billing portal</h1>\n<p>{label} sandbox &middot; <span id=\"email\">{email}</span></p>\n\
         {message_html}{table}{back}",
        label = view.gateway_label,
        email = escape_html(&view.email),
    );
    layout("Billing portal", &main)
}

/// A page saying why the portal cannot be shown.
fn refusal_page(refusal: &PortalRefusal) -> Response {
    let (status, text) = match refusal {
        PortalRefusal::UnknownLink => (
            StatusCode::NOT_FOUND,
            "No portal link with this token exists in the sandbox.",
        ),
        PortalRefusal::Expired => (StatusCode::GONE, "This portal link has expired."),
        PortalRefusal::NotAllowed(reason) => (StatusCode::CONFLICT, reason.as_str()),
    };
    page(
        status,
        layout(
            "Billing portal",
            &format!(
                "<h1>Billing portal</h1>\n<p class=\"error\" role=\"alert\" id=\"error\">{}</p>",
                escape_html(text)
            ),
        ),
    )
}

/// An HTML response with the headers that keep the link's token private.
fn page(status: StatusCode, body: String) -> Response {
    let mut response = html(status, body);
    insert_header(&mut response, "referrer-policy", "no-referrer");
    insert_header(&mut response, "x-frame-options", "DENY");
    response
}

/// Handles `GET /portal/{token}` and `POST /portal/{token}`.
pub(crate) fn handle(app: &Arc<App>, method: &Method, path: &str, body: &[u8]) -> Response {
    let Some(token) = path
        .strip_prefix("/portal/")
        .filter(|token| !token.is_empty() && !token.contains('/'))
    else {
        return refusal_page(&PortalRefusal::UnknownLink);
    };
    match *method {
        Method::GET | Method::HEAD => {
            let state = app.lock();
            match gateways::portal_view(&state, token) {
                Ok(view) => {
                    let back = gateways::portal_return_url(&state, token);
                    page(StatusCode::OK, render(token, &view, None, back.as_deref()))
                }
                Err(refusal) => refusal_page(&refusal),
            }
        }
        Method::POST => submit(app, token, body),
        _ => respond::plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
    }
}

/// Applies the form's `action` to its `subscription` and shows the page again with the outcome.
fn submit(app: &Arc<App>, token: &str, body: &[u8]) -> Response {
    let mut action = None;
    let mut subscription = String::new();
    for (key, value) in form_urlencoded::parse(body) {
        match key.as_ref() {
            "action" => action = PortalAction::parse(&value),
            "subscription" => subscription = value.into_owned(),
            _ => {}
        }
    }
    let mut state = app.lock();
    let outcome = match action {
        Some(action) => gateways::portal_act(&mut state, token, &subscription, action),
        None => Err(PortalRefusal::NotAllowed(
            "Choose cancel or resume.".to_owned(),
        )),
    };
    let view = match gateways::portal_view(&state, token) {
        Ok(view) => view,
        Err(refusal) => return refusal_page(&refusal),
    };
    let back = gateways::portal_return_url(&state, token);
    match outcome {
        Ok(notice) => page(
            StatusCode::OK,
            render(token, &view, Some(("notice", &notice)), back.as_deref()),
        ),
        Err(PortalRefusal::NotAllowed(reason)) => page(
            StatusCode::CONFLICT,
            render(token, &view, Some(("error", &reason)), back.as_deref()),
        ),
        Err(refusal) => refusal_page(&refusal),
    }
}
