//! Parses every Stripe object the sandbox returns with async-stripe's types.
//!
//! Drives a flow against the sandbox at `PAYSWITCH_SANDBOX_URL` over plain HTTP (payment,
//! subscription and setup checkouts, a declined PaymentIntent, a refund, a coupon, a preview),
//! then parses each response twice: with miniserde, as async-stripe's client does, and with
//! serde (its `deserialize` feature). Prints one line per object and exits non-zero if any
//! object does not parse.

use std::io::{Read, Write};
use std::net::TcpStream;

use stripe_shared::{
    ApiErrors, Charge, CheckoutSession, CheckoutSessionItem, Coupon, Customer, Event, Invoice,
    InvoiceLineItem, PaymentIntent, Price, Refund, SetupIntent, Subscription, SubscriptionItem,
};

/// The sandbox's address and key.
struct Sandbox {
    host: String,
    key: String,
}

impl Sandbox {
    /// Sends one HTTP/1.1 request and returns the status and body.
    fn request(&self, method: &str, path: &str, form: &str, json: bool) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.host).expect("connect to the sandbox");
        let content_type = if json {
            "application/json"
        } else {
            "application/x-www-form-urlencoded"
        };
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            self.host,
            self.key,
            form.len()
        );
        stream.write_all(request.as_bytes()).expect("send");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("receive");
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .expect("a status");
        let chunked = head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        let body = if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        };
        (status, body)
    }

    fn get(&self, path: &str) -> String {
        let (status, body) = self.request("GET", path, "", false);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    fn post(&self, path: &str, form: &str) -> String {
        let (status, body) = self.request("POST", path, form, false);
        assert_eq!(status, 200, "POST {path} {form}: {body}");
        body
    }

    fn pay(&self, session: &str) {
        let (status, body) = self.request(
            "POST",
            &format!("/__sandbox/checkouts/{session}/pay"),
            "{}",
            true,
        );
        assert_eq!(status, 200, "pay {session}: {body}");
    }
}

/// Decodes a chunked body.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

fn field(json: &str, name: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(json).expect("JSON");
    value[name].as_str().unwrap_or_default().to_owned()
}

/// Counts what parsed and what did not.
#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
}

impl Tally {
    /// Parses `json` as `T` with miniserde (async-stripe's client) and serde.
    fn parse<T>(&mut self, what: &str, json: &str)
    where
        T: miniserde::Deserialize + serde::de::DeserializeOwned,
    {
        let mini = miniserde::json::from_str::<T>(json).map(|_| ());
        let serde = serde_json::from_str::<T>(json)
            .map(|_| ())
            .map_err(|e| e.to_string());
        match (mini, serde) {
            (Ok(()), Ok(())) => {
                self.passed += 1;
                println!("ok   {what}");
            }
            (mini, serde) => {
                self.failed += 1;
                println!("FAIL {what}: miniserde {mini:?}, serde {serde:?}\n     {json}");
            }
        }
    }

    /// Parses each item of a list body as `T`.
    fn parse_list<T>(&mut self, what: &str, json: &str)
    where
        T: miniserde::Deserialize + serde::de::DeserializeOwned,
    {
        let list: serde_json::Value = serde_json::from_str(json).expect("JSON");
        for (index, item) in list["data"].as_array().into_iter().flatten().enumerate() {
            self.parse::<T>(&format!("{what}[{index}]"), &item.to_string());
        }
    }
}

fn main() {
    let url = std::env::var("PAYSWITCH_SANDBOX_URL").unwrap_or("http://127.0.0.1:12111".into());
    let sandbox = Sandbox {
        host: url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned(),
        key: std::env::var("PAYSWITCH_STRIPE_SECRET_KEY").unwrap_or("sk_test_sandbox".into()),
    };
    let mut tally = Tally::default();
    let success = "success_url=https%3A%2F%2Fshop.test%2Fok";

    let price = sandbox.post(
        "/v1/prices",
        "currency=usd&unit_amount=2000&recurring[interval]=month&product_data[name]=Pro",
    );
    tally.parse::<Price>("price", &price);
    let price_id = field(&price, "id");
    let coupon = sandbox.post("/v1/coupons", "percent_off=10&duration=forever");
    tally.parse::<Coupon>("coupon", &coupon);
    let customer = sandbox.post("/v1/customers", "email=rs%40shop.test&name=Rust");
    tally.parse::<Customer>("customer", &customer);
    let customer_id = field(&customer, "id");

    // Payment mode: a price_data line item, paid, then partly refunded.
    let session = sandbox.post(
        "/v1/checkout/sessions",
        &format!(
            "mode=payment&{success}&line_items[0][price_data][currency]=usd\
             &line_items[0][price_data][unit_amount]=1500\
             &line_items[0][price_data][product_data][name]=Mug&line_items[0][quantity]=2"
        ),
    );
    tally.parse::<CheckoutSession>("checkout.session (open)", &session);
    let session_id = field(&session, "id");
    let items = sandbox.get(&format!("/v1/checkout/sessions/{session_id}/line_items"));
    tally.parse_list::<CheckoutSessionItem>("item", &items);
    sandbox.pay(&session_id);
    let paid = sandbox.get(&format!(
        "/v1/checkout/sessions/{session_id}?expand[0]=line_items&expand[1]=payment_intent"
    ));
    tally.parse::<CheckoutSession>("checkout.session (paid, expanded)", &paid);
    let intent_id = field(
        &sandbox.get(&format!("/v1/checkout/sessions/{session_id}")),
        "payment_intent",
    );
    let intent = sandbox.get(&format!("/v1/payment_intents/{intent_id}"));
    tally.parse::<PaymentIntent>("payment_intent", &intent);
    let charge = sandbox.get(&format!("/v1/charges/{}", field(&intent, "latest_charge")));
    tally.parse::<Charge>("charge", &charge);
    let refund = sandbox.post(
        "/v1/refunds",
        &format!("payment_intent={intent_id}&amount=500"),
    );
    tally.parse::<Refund>("refund", &refund);

    // A declined PaymentIntent: the 402 error body and the intent it carries.
    let declining = sandbox.post("/v1/payment_intents", "amount=1000&currency=usd");
    let declining_id = field(&declining, "id");
    let (status, declined) = sandbox.request(
        "POST",
        &format!("/v1/payment_intents/{declining_id}/confirm"),
        "payment_method=pm_card_chargeDeclined",
        false,
    );
    assert_eq!(status, 402, "{declined}");
    let error: serde_json::Value = serde_json::from_str(&declined).expect("JSON");
    tally.parse::<ApiErrors>("error (402)", &error["error"].to_string());
    tally.parse::<PaymentIntent>(
        "payment_intent (declined)",
        &sandbox.get(&format!("/v1/payment_intents/{declining_id}")),
    );

    // Subscription mode: the subscription, its items, its invoices and a preview.
    let subscribe = sandbox.post(
        "/v1/checkout/sessions",
        &format!(
            "mode=subscription&{success}&customer={customer_id}\
             &line_items[0][price]={price_id}&line_items[0][quantity]=1\
             &discounts[0][coupon]={}",
            field(&coupon, "id")
        ),
    );
    let subscribe_id = field(&subscribe, "id");
    sandbox.pay(&subscribe_id);
    let subscribed = sandbox.get(&format!("/v1/checkout/sessions/{subscribe_id}"));
    tally.parse::<CheckoutSession>("checkout.session (subscription)", &subscribed);
    let subscription_id = field(&subscribed, "subscription");
    let subscription = sandbox.get(&format!("/v1/subscriptions/{subscription_id}"));
    tally.parse::<Subscription>("subscription", &subscription);
    let items: serde_json::Value = serde_json::from_str(&subscription).expect("JSON");
    tally.parse::<SubscriptionItem>("subscription_item", &items["items"]["data"][0].to_string());
    let invoice = sandbox.get(&format!("/v1/invoices/{}", field(&subscribed, "invoice")));
    tally.parse::<Invoice>("invoice", &invoice);
    let lines: serde_json::Value = serde_json::from_str(&invoice).expect("JSON");
    tally.parse::<InvoiceLineItem>("line_item", &lines["lines"]["data"][0].to_string());
    let preview = sandbox.post(
        "/v1/invoices/create_preview",
        &format!("subscription={subscription_id}"),
    );
    tally.parse::<Invoice>("invoice (preview)", &preview);
    let canceled = sandbox.request(
        "DELETE",
        &format!("/v1/subscriptions/{subscription_id}"),
        "",
        false,
    );
    tally.parse::<Subscription>("subscription (canceled)", &canceled.1);

    // Setup mode: the SetupIntent.
    let setup = sandbox.post(
        "/v1/checkout/sessions",
        &format!("mode=setup&currency=usd&{success}&customer={customer_id}"),
    );
    let setup_id = field(&setup, "id");
    sandbox.pay(&setup_id);
    let done = sandbox.get(&format!("/v1/checkout/sessions/{setup_id}"));
    tally.parse::<CheckoutSession>("checkout.session (setup)", &done);
    let setup_intent = sandbox.get(&format!(
        "/v1/setup_intents/{}",
        field(&done, "setup_intent")
    ));
    tally.parse::<SetupIntent>("setup_intent", &setup_intent);

    // Every event the flow emitted, envelope and object.
    let events = sandbox.get("/v1/events?limit=100");
    tally.parse_list::<Event>("event", &events);

    println!(
        "async-stripe 1.0.0-rc.10: {} passed, {} failed",
        tally.passed, tally.failed
    );
    std::process::exit(i32::from(tally.failed > 0));
}
