//! The storefront's HTML: plain, accessible pages with no external assets. Every value that
//! is not a literal of this file goes through [`escape`].

use std::fmt::Write as _;

use crate::catalog::{Billing, Offer};
use crate::orders::Order;

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
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

fn layout(title: &str, gateway: &str, main: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · Acme Pro</title>\n\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;\
         padding:0 1rem;line-height:1.5}}section{{border:1px solid #ccc;border-radius:.5rem;\
         padding:1rem;margin:1rem 0}}button{{font-size:1rem;padding:.5rem 1rem}}\
         .price{{font-weight:bold}}</style>\n</head>\n<body>\n\
         <header><p><a href=\"/\">Acme Pro</a></p></header>\n<main>\n{main}</main>\n\
         <footer><p>Payments by {gateway}.</p></footer>\n</body>\n</html>\n",
        title = escape(title),
        gateway = escape(gateway),
    )
}

fn price_label(offer: &Offer) -> String {
    match offer.billing {
        Billing::OneTime => offer.price.to_string(),
        Billing::Monthly => format!("{} per month", offer.price),
    }
}

/// The product page: one section and one form per offer. The form sends only the SKU.
pub fn product_page(offers: &[Offer], gateway: &str) -> String {
    let mut main = String::from("<h1>Acme Pro</h1>\n");
    for offer in offers {
        let _ = write!(
            main,
            "<section aria-labelledby=\"offer-{sku}\">\n<h2 id=\"offer-{sku}\">{name}</h2>\n\
             <p>{description}</p>\n<p class=\"price\">{price}</p>\n\
             <form method=\"post\" action=\"/checkout\">\n\
             <input type=\"hidden\" name=\"sku\" value=\"{sku}\">\n\
             <button type=\"submit\">{action}</button>\n</form>\n</section>\n",
            sku = escape(offer.sku),
            name = escape(offer.name),
            description = escape(offer.description),
            price = escape(&price_label(offer)),
            action = escape(&offer.action()),
        );
    }
    layout("Pricing", gateway, &main)
}

/// What the success page can say.
#[derive(Debug)]
pub enum ReturnState<'a> {
    /// The gateway confirmed the payment of this order.
    Paid(&'a Order),
    /// The checkout is for this order but not paid (yet).
    Pending(&'a Order),
    /// Nothing could be confirmed; the reason is shown.
    NotConfirmed(&'a str),
}

fn order_details(order: &Order) -> String {
    format!(
        "<dl>\n<dt>Order</dt><dd id=\"order-id\">{id}</dd>\n<dt>Product</dt><dd>{product}</dd>\n\
         <dt>Price</dt><dd>{price}</dd>\n</dl>\n",
        id = escape(&order.id),
        product = escape(&order.product),
        price = escape(&order.price.to_string()),
    )
}

/// The page the gateway sends the customer back to.
pub fn return_page(state: ReturnState<'_>, gateway: &str) -> String {
    let (title, main) = match state {
        ReturnState::Paid(order) => (
            "Payment received",
            format!(
                "<h1>Thank you</h1>\n<p id=\"payment-status\" data-status=\"paid\" role=\"status\">\
                 Your order is paid.</p>\n{}",
                order_details(order)
            ),
        ),
        ReturnState::Pending(order) => (
            "Payment pending",
            format!(
                "<h1>Payment pending</h1>\n<p id=\"payment-status\" data-status=\"pending\" \
                 role=\"status\">We have not received your payment yet. This page does not \
                 update by itself; reload it in a moment.</p>\n{}",
                order_details(order)
            ),
        ),
        ReturnState::NotConfirmed(reason) => (
            "Payment not confirmed",
            format!(
                "<h1>Payment not confirmed</h1>\n<p id=\"payment-status\" \
                 data-status=\"not_confirmed\" role=\"status\">We could not confirm a payment: \
                 {}.</p>\n<p><a href=\"/\">Back to the products</a></p>\n",
                escape(reason)
            ),
        ),
    };
    layout(title, gateway, &main)
}

/// A short error page.
pub fn error_page(title: &str, message: &str, gateway: &str) -> String {
    let main = format!(
        "<h1>{}</h1>\n<p role=\"alert\">{}</p>\n<p><a href=\"/\">Back to the products</a></p>\n",
        escape(title),
        escape(message)
    );
    layout(title, gateway, &main)
}
