//! The hosted checkout page: `GET /pay/{id}` renders the items and total,
//! `POST /pay/{id}` pays (test cards) or cancels. Plain, accessible HTML
//! with no external assets.

use std::sync::Arc;

use axum::response::Response;
use http::{Method, StatusCode};

use crate::app::App;
use crate::checkout::{plausible_email, CheckoutStatus, PageView};
use crate::customer::pay;
use crate::error::SandboxError;
use crate::respond::{self, html, redirect};
use crate::{gateways, money};

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Wraps `main` in the sandbox's page: title, viewport, inline styles, no external assets.
pub(crate) fn layout(title: &str, main: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\n\
         body{{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#111}}\n\
         table{{width:100%;border-collapse:collapse}}th,td{{text-align:left;padding:.3rem 0}}\n\
         td.amount,th.amount{{text-align:right}}label{{display:block;margin-top:1rem}}\n\
         input{{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}}\n\
         button{{margin-top:1rem;margin-right:.5rem;padding:.6rem 1.2rem;font-size:1rem}}\n\
         .error{{color:#a00;font-weight:bold}}.notice{{color:#064}}\n\
         </style>\n</head>\n<body>\n<main>\n{main}\n</main>\n</body>\n</html>\n",
        title = escape_html(title),
    )
}

fn render(view: &PageView, message: Option<(&str, &str)>, email: &str) -> String {
    let mut rows = String::new();
    for (name, quantity, unit_amount) in &view.items {
        let line_total = unit_amount.saturating_mul(*quantity);
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"amount\">{}</td></tr>\n",
            escape_html(name),
            quantity,
            escape_html(&money::format_amount(
                line_total,
                &view.currency,
                view.exponent
            )),
        ));
    }
    for (label, amount) in &view.adjustments {
        rows.push_str(&format!(
            "<tr><td>{}</td><td></td><td class=\"amount\">{}</td></tr>\n",
            escape_html(label),
            escape_html(&money::format_amount(
                *amount,
                &view.currency,
                view.exponent
            )),
        ));
    }
    let total = money::format_amount(view.total, &view.currency, view.exponent);
    let message_html = match message {
        Some(("error", text)) => format!(
            "<p class=\"error\" role=\"alert\" id=\"error\">{}</p>",
            escape_html(text)
        ),
        Some((_, text)) => format!(
            "<p class=\"notice\" role=\"status\" id=\"notice\">{}</p>",
            escape_html(text)
        ),
        None => String::new(),
    };
    let body = match view.status {
        CheckoutStatus::Open => format!(
            "<form method=\"post\" action=\"/pay/{id}\">\n\
             <label for=\"email\">Email</label>\n\
             <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" required value=\"{email}\">\n\
             <label for=\"card\">Card number</label>\n\
             <input id=\"card\" name=\"card\" type=\"text\" inputmode=\"numeric\" autocomplete=\"cc-number\" \
             placeholder=\"4242 4242 4242 4242\" required>\n\
             <button id=\"pay\" type=\"submit\" name=\"action\" value=\"pay\">Pay {total}</button>\n\
             <button id=\"cancel\" type=\"submit\" name=\"action\" value=\"cancel\" formnovalidate>Cancel</button>\n\
             </form>\n\
             <p><small>Test cards: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined. \
             A SEPA test IBAN (DE89 3704 0044 0532 0130 00) debits a euro payment.</small></p>",
            id = escape_html(&view.id),
            email = escape_html(email),
            total = escape_html(&total),
        ),
        CheckoutStatus::Complete => {
            "<p class=\"notice\" role=\"status\" id=\"status\">This checkout is complete: payment received.</p>"
                .to_owned()
        }
        CheckoutStatus::Expired => {
            "<p class=\"error\" role=\"status\" id=\"status\">This checkout has expired.</p>".to_owned()
        }
    };
    let main = format!(
        "<h1>Checkout</h1>\n<p>{label} sandbox &middot; <code>{id}</code></p>\n\
         <table>\n<caption>Order summary</caption>\n\
         <thead><tr><th scope=\"col\">Item</th><th scope=\"col\">Qty</th><th scope=\"col\" class=\"amount\">Amount</th></tr></thead>\n\
         <tbody>\n{rows}</tbody>\n\
         <tfoot><tr><th scope=\"row\" colspan=\"2\">Total</th><td class=\"amount\" id=\"total\">{total}</td></tr></tfoot>\n\
         </table>\n{message_html}\n{body}",
        label = view.gateway_label,
        id = escape_html(&view.id),
        total = escape_html(&total),
    );
    layout(&format!("Pay {total}"), &main)
}

fn not_found() -> Response {
    html(
        StatusCode::NOT_FOUND,
        layout(
            "Not found",
            "<h1>Not found</h1>\n<p>No checkout with this id exists in the sandbox.</p>",
        ),
    )
}

fn page_status(view: &PageView) -> StatusCode {
    match view.status {
        CheckoutStatus::Open | CheckoutStatus::Complete => StatusCode::OK,
        CheckoutStatus::Expired => StatusCode::GONE,
    }
}

/// Handles `GET /`, `GET /pay/{id}` and `POST /pay/{id}`.
pub(crate) fn handle(
    app: &Arc<App>,
    method: &Method,
    path: &str,
    _query: &str,
    body: &[u8],
) -> Response {
    if path == "/" {
        return html(
            StatusCode::OK,
            layout(
                "payswitch sandbox",
                "<h1>payswitch sandbox</h1>\n<p>Local emulator of the Stripe and Creem checkout \
                 APIs. Hosted pages live at <code>/pay/{id}</code>; the admin API at \
                 <code>/__sandbox/</code>.</p>",
            ),
        );
    }
    let Some(id) = path
        .strip_prefix("/pay/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
    else {
        return not_found();
    };
    match *method {
        Method::GET | Method::HEAD => {
            let state = app.lock();
            match gateways::page_view(&state, id) {
                Some(view) => {
                    let email = view.email.clone().unwrap_or_default();
                    html(page_status(&view), render(&view, None, &email))
                }
                None => not_found(),
            }
        }
        Method::POST => submit(app, id, body),
        _ => respond::plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
    }
}

fn submit(app: &Arc<App>, id: &str, body: &[u8]) -> Response {
    let mut email = String::new();
    let mut card = String::new();
    let mut action = String::new();
    for (key, value) in form_urlencoded::parse(body) {
        match key.as_ref() {
            "email" => email = value.trim().to_owned(),
            "card" => card = value.into_owned(),
            "action" => action = value.into_owned(),
            _ => {}
        }
    }
    let (current, payable) = {
        let state = app.lock();
        (
            gateways::page_view(&state, id),
            gateways::check_payable(&state, id).is_ok(),
        )
    };
    let Some(current) = current else {
        return not_found();
    };
    if !payable {
        return html(page_status(&current), render(&current, None, &email));
    }
    if action == "cancel" {
        // Cancelling leaves the session open: the customer may come back.
        return match &current.cancel_url {
            Some(url) => redirect(url),
            None => html(
                StatusCode::OK,
                render(
                    &current,
                    Some((
                        "notice",
                        "Payment cancelled. You can come back and pay until the checkout expires.",
                    )),
                    &email,
                ),
            ),
        };
    }
    if !plausible_email(&email) {
        return html(
            StatusCode::BAD_REQUEST,
            render(
                &current,
                Some(("error", "Please enter a valid email address.")),
                &email,
            ),
        );
    }
    match pay(app, id, Some(&card), Some(&email)) {
        Ok(location) => redirect(&location),
        // The gateway recorded the declined attempt; the checkout stays open.
        Err(SandboxError::Declined { message, .. }) => html(
            StatusCode::PAYMENT_REQUIRED,
            render(&current, Some(("error", &message)), &email),
        ),
        Err(failure) => html(
            StatusCode::CONFLICT,
            render(&current, Some(("error", &failure.to_string())), &email),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_html("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
