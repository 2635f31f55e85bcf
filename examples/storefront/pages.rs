//! The storefront's HTML: plain, accessible pages with no external assets. Every value that
//! is not a literal of this file goes through [`escape`].

use std::fmt::Write as _;

use payswitch::{RefundStatus, SubscriptionStatus};
use time::{OffsetDateTime, UtcOffset};

use crate::account::{AccountView, Action, SubscriptionView};
use crate::app::account_path;
use crate::catalog::{self, Billing, Offer};
use crate::orders::{Order, OrderStatus};

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
         form{{display:inline-block;margin:0 .5rem .5rem 0}}\
         .price{{font-weight:bold}}[role=alert]{{color:#a00}}</style>\n</head>\n<body>\n\
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

/// What comes after a paid order's details: the account page of a subscription, or the
/// admin's refund of a one-time purchase (when the gateway can refund).
fn after_payment(order: &Order, can_refund: bool) -> String {
    let account = escape(&account_path(&order.id));
    if order.subscription {
        return format!(
            "<p><a id=\"account-link\" href=\"{account}\">Manage your subscription</a></p>\n"
        );
    }
    let mut html = format!("<p><a id=\"account-link\" href=\"{account}\">Order details</a></p>\n");
    if can_refund {
        html.push_str(&admin_refund_form(&order.id));
    }
    html
}

/// The admin's refund form. (The demo has no login; a real shop puts this behind staff
/// authentication.)
fn admin_refund_form(order_id: &str) -> String {
    format!(
        "<section aria-labelledby=\"admin\">\n<h2 id=\"admin\">Admin</h2>\n\
         <form method=\"post\" action=\"{}/refund\">\n\
         <button type=\"submit\">Refund</button>\n</form>\n</section>\n",
        escape(&account_path(order_id))
    )
}

/// The page the gateway sends the customer back to. `can_refund` says whether the gateway
/// can refund, for the admin's Refund button on a paid one-time order.
pub fn return_page(state: ReturnState<'_>, gateway: &str, can_refund: bool) -> String {
    let (title, main) = match state {
        ReturnState::Paid(order) => (
            "Payment received",
            format!(
                "<h1>Thank you</h1>\n<p id=\"payment-status\" data-status=\"paid\" role=\"status\">\
                 Your order is paid.</p>\n{}{}",
                order_details(order),
                after_payment(order, can_refund)
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

/// A date as the customer reads it, in UTC: `2030-02-01`.
fn date(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC).date().to_string()
}

/// An RFC 3339 time for a `data-` attribute (empty when it cannot be formatted).
fn machine_time(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A subscription status's code (for `data-status`) and its words.
fn subscription_status(status: &SubscriptionStatus) -> (&'static str, String) {
    let (code, words) = match status {
        SubscriptionStatus::Trialing => ("trialing", "In a free trial"),
        SubscriptionStatus::Active => ("active", "Active"),
        SubscriptionStatus::PastDue => ("past_due", "Payment overdue; the gateway is retrying"),
        SubscriptionStatus::Paused => ("paused", "Paused"),
        SubscriptionStatus::Canceled => ("canceled", "Canceled"),
        SubscriptionStatus::Unpaid => ("unpaid", "Unpaid"),
        SubscriptionStatus::Incomplete => ("incomplete", "Waiting for the first payment"),
        SubscriptionStatus::Expired => ("expired", "Expired"),
        SubscriptionStatus::Other(word) => return ("other", format!("Status: {word}")),
        // Non-exhaustive: a status added to payswitch after this example.
        other => return ("other", format!("Status: {other:?}")),
    };
    (code, words.to_owned())
}

fn refund_status(status: &RefundStatus) -> &'static str {
    match status {
        RefundStatus::Pending => "pending",
        RefundStatus::RequiresAction => "requires_action",
        RefundStatus::Succeeded => "succeeded",
        RefundStatus::Failed => "failed",
        RefundStatus::Canceled => "canceled",
        // `Other` and statuses added to payswitch after this example.
        _ => "other",
    }
}

fn subscription_details(subscription: &SubscriptionView) -> String {
    let plan = match subscription.offer() {
        Some(offer) => format!("{} ({})", offer.name, price_label(offer)),
        None => "A plan this shop does not sell any more".to_owned(),
    };
    let (code, words) = subscription_status(&subscription.status);
    let mut html = format!(
        "<dl>\n<dt>Plan</dt><dd id=\"subscription-plan\" data-sku=\"{sku}\">{plan}</dd>\n\
         <dt>Status</dt><dd id=\"subscription-status\" data-status=\"{code}\" \
         data-cancel-scheduled=\"{scheduled}\">{words}</dd>\n",
        sku = escape(subscription.plan.unwrap_or_default()),
        plan = escape(&plan),
        code = code,
        scheduled = subscription.cancel_scheduled,
        words = escape(&words),
    );
    if let Some(end) = subscription.current_period_end {
        let label = if subscription.cancel_scheduled || subscription.status.is_ended() {
            "Current period ends"
        } else {
            "Renews on"
        };
        let _ = writeln!(
            html,
            "<dt>{label}</dt><dd id=\"period-end\" data-at=\"{}\">{}</dd>",
            escape(&machine_time(end)),
            escape(&date(end))
        );
    }
    html.push_str("</dl>\n");
    if subscription.cancel_scheduled {
        let (at, words) = match subscription.cancel_at {
            Some(at) => (machine_time(at), format!("Cancels on {}.", date(at))),
            None => (
                String::new(),
                "Cancels at the end of the period.".to_owned(),
            ),
        };
        let _ = writeln!(
            html,
            "<p id=\"cancel-notice\" data-at=\"{}\">{} You keep access until then.</p>",
            escape(&at),
            escape(&words)
        );
    }
    html
}

fn action_form(order_id: &str, action: &Action) -> String {
    let (label, fields) = match action {
        Action::CancelAtPeriodEnd => ("Cancel at period end".to_owned(), String::new()),
        Action::Resume => ("Resume".to_owned(), String::new()),
        Action::ChangePlan { sku } => {
            let name = catalog::find(sku).map_or(*sku, |offer| offer.name);
            (
                format!("Change plan to {name}"),
                format!(
                    "<input type=\"hidden\" name=\"sku\" value=\"{}\">\n",
                    escape(sku)
                ),
            )
        }
        Action::ManageBilling => ("Manage billing".to_owned(), String::new()),
        Action::Refund => return admin_refund_form(order_id),
    };
    format!(
        "<form method=\"post\" action=\"{}/{}\">\n{fields}\
         <button type=\"submit\">{}</button>\n</form>\n",
        escape(&account_path(order_id)),
        action.path(),
        escape(&label)
    )
}

/// The account page: the order, its subscription as the gateway reports it, the actions the
/// gateway supports, the refunds, and a notice or an error.
pub fn account_page(view: &AccountView, notice: Option<&str>, gateway: &str) -> String {
    let order = &view.order;
    let title = if order.subscription {
        "Your subscription"
    } else {
        "Your order"
    };
    let mut main = format!("<h1>{}</h1>\n", escape(title));
    if let Some(notice) = notice {
        let _ = writeln!(
            main,
            "<p id=\"account-notice\" role=\"status\">{}</p>",
            escape(notice)
        );
    }
    if let Some(error) = &view.error {
        let _ = writeln!(
            main,
            "<p id=\"account-error\" role=\"alert\">{}</p>",
            escape(error)
        );
    }
    if let Some(note) = &view.note {
        let _ = writeln!(main, "<p id=\"account-note\">{}</p>", escape(note));
    }
    main.push_str(&order_details(order));
    let paid = match order.status {
        OrderStatus::Paid => "paid",
        OrderStatus::Pending => "pending",
    };
    let _ = writeln!(
        main,
        "<p id=\"order-status\" data-status=\"{paid}\">The order is {paid}.</p>"
    );
    if let Some(subscription) = &view.subscription {
        main.push_str(&subscription_details(subscription));
    } else if view.subscription_pending() {
        main.push_str(
            "<p id=\"subscription-pending\">Your subscription is being set up. Reload this page \
             in a moment.</p>\n",
        );
    }
    let (admin, customer): (Vec<&Action>, Vec<&Action>) = view
        .actions
        .iter()
        .partition(|action| matches!(action, Action::Refund));
    if !customer.is_empty() {
        main.push_str("<div id=\"account-actions\">\n");
        for action in customer {
            main.push_str(&action_form(&order.id, action));
        }
        main.push_str("</div>\n");
    }
    if !view.refunds.is_empty() {
        main.push_str("<h2>Refunds</h2>\n<ul id=\"refunds\">\n");
        for refund in &view.refunds {
            let status = refund_status(&refund.status);
            let amount = refund
                .amount
                .map_or_else(|| "the payment".to_owned(), |amount| amount.to_string());
            let _ = writeln!(
                main,
                "<li data-status=\"{status}\">{}: {status}</li>",
                escape(&amount)
            );
        }
        main.push_str("</ul>\n");
    }
    for action in admin {
        main.push_str(&action_form(&order.id, action));
    }
    main.push_str("<p><a href=\"/\">Back to the products</a></p>\n");
    layout(title, gateway, &main)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;

    fn paid(sku: &str) -> Order {
        let mut order = Order::pending(
            "order-7-1".into(),
            catalog::find(sku).expect("offer"),
            "memory",
        );
        order.status = OrderStatus::Paid;
        order
    }

    #[test]
    fn the_success_page_links_the_account_or_offers_the_refund() {
        let subscription = paid("pro_monthly");
        let page = return_page(ReturnState::Paid(&subscription), "memory", true);
        assert!(
            page.contains(
                "<a id=\"account-link\" href=\"/account/order-7-1\">Manage your subscription</a>"
            ),
            "{page}"
        );
        assert!(!page.contains("/refund"), "{page}");

        let licence = paid("pro_licence");
        let page = return_page(ReturnState::Paid(&licence), "memory", true);
        assert!(
            page.contains("href=\"/account/order-7-1\">Order details</a>"),
            "{page}"
        );
        assert!(
            page.contains("<form method=\"post\" action=\"/account/order-7-1/refund\">"),
            "{page}"
        );
        assert!(page.contains(">Refund</button>"), "{page}");
        let page = return_page(ReturnState::Paid(&licence), "memory", false);
        assert!(
            !page.contains("/refund"),
            "a gateway that cannot refund: {page}"
        );
        let page = return_page(ReturnState::Pending(&licence), "memory", true);
        assert!(!page.contains("/refund"), "{page}");
    }

    #[test]
    fn values_are_escaped() {
        let mut order = paid("pro_licence");
        order.id = "<script>\"x\"".into();
        let page = return_page(ReturnState::Paid(&order), "<b>", true);
        assert!(!page.contains("<script>"), "{page}");
        assert!(!page.contains("<b>"), "{page}");
        assert!(page.contains("&lt;script&gt;"), "{page}");
    }
}
