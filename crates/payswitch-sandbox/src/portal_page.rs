//! The hosted customer portal: `GET /portal/{id}` lists the customer's subscriptions with
//! their price, status and period, each with **Cancel at period end** or **Resume**;
//! `POST /portal/{id}` (`action=cancel|renew`, `subscription`) does it and redirects back
//! (303). Plain, accessible HTML with no external assets, every text escaped, like the pay
//! page; the same `Host` and `Origin` rules guard it.

use std::sync::Arc;

use axum::response::Response;
use http::{Method, StatusCode};

use crate::app::App;
use crate::gateways;
use crate::lifecycle::flush;
use crate::pages::{escape_html, layout};
use crate::portal::{PortalAction, PortalView};
use crate::respond::{self, html, redirect};

fn not_found() -> Response {
    html(
        StatusCode::NOT_FOUND,
        layout(
            "Not found",
            "<h1>Not found</h1>\n<p>No customer portal session with this id exists in the \
             sandbox.</p>",
        ),
    )
}

fn render(view: &PortalView, error: Option<&str>) -> String {
    let id = escape_html(&view.id);
    let mut subscriptions = String::new();
    for subscription in &view.subscriptions {
        let sub_id = escape_html(&subscription.id);
        let note = subscription
            .period_note
            .as_ref()
            .map(|note| format!("<p class=\"period\">{}</p>\n", escape_html(note)))
            .unwrap_or_default();
        let mut buttons = String::new();
        if subscription.can_cancel {
            buttons.push_str(&format!(
                "<button id=\"cancel-{sub_id}\" type=\"submit\" name=\"action\" \
                 value=\"cancel\">Cancel at period end</button>\n"
            ));
        }
        if subscription.can_renew {
            buttons.push_str(&format!(
                "<button id=\"renew-{sub_id}\" type=\"submit\" name=\"action\" \
                 value=\"renew\">Resume subscription</button>\n"
            ));
        }
        let form = if buttons.is_empty() {
            String::new()
        } else {
            format!(
                "<form method=\"post\" action=\"/portal/{id}\">\n\
                 <input type=\"hidden\" name=\"subscription\" value=\"{sub_id}\">\n{buttons}</form>\n"
            )
        };
        subscriptions.push_str(&format!(
            "<section class=\"subscription\" id=\"{sub_id}\" aria-labelledby=\"title-{sub_id}\">\n\
             <h3 id=\"title-{sub_id}\">{description}</h3>\n\
             <p class=\"price\">{price}</p>\n\
             <p>Status: <span class=\"status\">{status}</span></p>\n{note}{form}</section>\n",
            description = escape_html(&subscription.description),
            price = escape_html(&subscription.price),
            status = escape_html(&subscription.status),
        ));
    }
    if view.subscriptions.is_empty() {
        subscriptions.push_str("<p id=\"no-subscriptions\">You have no subscriptions.</p>\n");
    }
    let who = view
        .customer_email
        .as_ref()
        .map(|email| {
            format!(
                "<p>Signed in as <strong>{}</strong></p>\n",
                escape_html(email)
            )
        })
        .unwrap_or_default();
    let error = error
        .map(|text| {
            format!(
                "<p class=\"error\" role=\"alert\" id=\"error\">{}</p>\n",
                escape_html(text)
            )
        })
        .unwrap_or_default();
    let back = view
        .return_url
        .as_ref()
        .map(|url| {
            format!(
                "<p><a id=\"return\" href=\"{}\">Return</a></p>\n",
                escape_html(url)
            )
        })
        .unwrap_or_default();
    let main = format!(
        "<h1>Billing</h1>\n<p>{label} sandbox customer portal &middot; <code>{id}</code></p>\n\
         {who}{error}<h2>Subscriptions</h2>\n{subscriptions}{back}",
        label = view.gateway_label,
    );
    layout("Billing", &main)
}

/// Handles `GET /portal/{id}` and `POST /portal/{id}`.
pub(crate) fn handle(app: &Arc<App>, method: &Method, path: &str, body: &[u8]) -> Response {
    let Some(id) = path
        .strip_prefix("/portal/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
    else {
        return not_found();
    };
    match *method {
        Method::GET | Method::HEAD => match gateways::portal_view(&app.lock(), id) {
            Some(view) => html(StatusCode::OK, render(&view, None)),
            None => not_found(),
        },
        Method::POST => submit(app, id, body),
        _ => respond::plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
    }
}

fn submit(app: &Arc<App>, id: &str, body: &[u8]) -> Response {
    let mut action = String::new();
    let mut subscription = String::new();
    for (key, value) in form_urlencoded::parse(body) {
        match key.as_ref() {
            "action" => action = value.into_owned(),
            "subscription" => subscription = value.into_owned(),
            _ => {}
        }
    }
    let action = match action.as_str() {
        "cancel" => Some(PortalAction::CancelAtPeriodEnd(subscription)),
        "renew" => Some(PortalAction::Renew(subscription)),
        _ => None,
    };
    let outcome = {
        let mut state = app.lock();
        if gateways::portal_view(&state, id).is_none() {
            return not_found();
        }
        match &action {
            Some(action) => gateways::portal_act(app, &mut state, id, action),
            None => Err("Choose cancel or resume.".to_owned()),
        }
    };
    flush(app);
    match outcome {
        // Post/redirect/get: a reload does not repeat the action.
        Ok(()) => redirect(&format!("/portal/{id}")),
        Err(message) => match gateways::portal_view(&app.lock(), id) {
            Some(view) => html(StatusCode::CONFLICT, render(&view, Some(&message))),
            None => not_found(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::PortalSubscription;

    #[test]
    fn every_text_is_escaped() {
        let view = PortalView {
            id: "bps_1".into(),
            gateway_label: "Stripe",
            customer_email: Some("<a@b.co>".into()),
            return_url: Some("https://shop.test/?a=1&b=\"2\"".into()),
            subscriptions: vec![PortalSubscription {
                id: "sub_\"x".into(),
                description: "<script>".into(),
                price: "$1.00 / month".into(),
                status: "active".into(),
                period_note: Some("Renews <soon>".into()),
                can_cancel: true,
                can_renew: false,
            }],
        };
        let page = render(&view, Some("<b>no</b>"));
        assert!(!page.contains("<script>"));
        assert!(!page.contains("<a@b.co>"));
        assert!(!page.contains("<b>no</b>"));
        assert!(page.contains("href=\"https://shop.test/?a=1&amp;b=&quot;2&quot;\""));
        assert!(page.contains("value=\"sub_&quot;x\""));
        assert!(page.contains("Cancel at period end"));
        assert!(!page.contains("Resume subscription"));
    }
}
