//! The hosted pay page over HTTP: amounts by currency exponent, HTML
//! escaping, pay / decline / cancel flows and finished sessions.

mod common;

use common::*;
use serde_json::json;

async fn session_with(
    sandbox: &payswitch_sandbox::SandboxHandle,
    currency: &str,
    amount: i64,
    name: &str,
) -> String {
    let body = format!(
        "mode=payment&success_url=https%3A%2F%2Fshop.test%2Fok%3Fid%3D%7BCHECKOUT_SESSION_ID%7D&cancel_url=https%3A%2F%2Fshop.test%2Fcancel\
         &line_items[0][price_data][currency]={currency}&line_items[0][price_data][unit_amount]={amount}\
         &line_items[0][price_data][product_data][name]={}&line_items[0][quantity]=3",
        urlencode(name)
    );
    let reply = stripe_post(sandbox, "/v1/checkout/sessions", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    reply.json["id"].as_str().unwrap().to_owned()
}

async fn page(sandbox: &payswitch_sandbox::SandboxHandle, id: &str) -> (u16, String) {
    let response = client().get(sandbox.pay_url(id)).send().await.unwrap();
    let status = response.status().as_u16();
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    (status, response.text().await.unwrap())
}

async fn submit(
    sandbox: &payswitch_sandbox::SandboxHandle,
    id: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client()
        .post(sandbox.pay_url(id))
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn renders_amounts_by_currency_exponent() {
    let sandbox = sandbox().await;
    for (currency, amount, line, total) in [
        ("usd", 123456, "$3,703.68", "$3,703.68"),
        ("jpy", 500, "¥1,500", "¥1,500"),
        ("kwd", 1500, "KWD 4.500", "KWD 4.500"),
    ] {
        let id = session_with(&sandbox, currency, amount, "Widget").await;
        let (status, html) = page(&sandbox, &id).await;
        assert_eq!(status, 200);
        assert!(
            html.contains(&format!("<td class=\"amount\">{line}</td>")),
            "{html}"
        );
        assert!(
            html.contains(&format!("<td class=\"amount\" id=\"total\">{total}</td>")),
            "{html}"
        );
        assert!(html.contains(&format!("Pay {total}")));
        assert!(html.contains("<label for=\"email\">Email</label>"));
        assert!(html.contains("<label for=\"card\">Card number</label>"));
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "no external assets"
        );
    }
    let (_, html) = page(
        &sandbox,
        &session_with(&sandbox, "usd", 2000, "Widget").await,
    )
    .await;
    assert!(html.contains("<td>3</td>"));
}

#[tokio::test]
async fn escapes_html_in_names() {
    let sandbox = sandbox().await;
    let id = session_with(
        &sandbox,
        "usd",
        2000,
        "<script>alert('x')</script> & \"co\"",
    )
    .await;
    let (_, html) = page(&sandbox, &id).await;
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;"));
}

#[tokio::test]
async fn decline_cancel_then_pay() {
    let sandbox = sandbox().await;
    let id = session_with(&sandbox, "usd", 2000, "Widget").await;
    let declined = submit(
        &sandbox,
        &id,
        &[
            ("email", "a@shop.test"),
            ("card", "4000 0000 0000 0002"),
            ("action", "pay"),
        ],
    )
    .await;
    assert_eq!(declined.status().as_u16(), 402);
    let html = declined.text().await.unwrap();
    assert!(html.contains("role=\"alert\""));
    assert!(html.contains("Your card was declined."));
    assert!(html.contains("value=\"a@shop.test\""), "the email is kept");
    assert_eq!(
        stripe_get(&sandbox, &format!("/v1/checkout/sessions/{id}"))
            .await
            .json["status"],
        "open"
    );

    let bad_email = submit(
        &sandbox,
        &id,
        &[
            ("email", "nope"),
            ("card", "4242424242424242"),
            ("action", "pay"),
        ],
    )
    .await;
    assert_eq!(bad_email.status().as_u16(), 400);

    let cancelled = submit(&sandbox, &id, &[("action", "cancel")]).await;
    assert_eq!(cancelled.status().as_u16(), 303);
    assert_eq!(cancelled.headers()["location"], "https://shop.test/cancel");
    assert_eq!(
        stripe_get(&sandbox, &format!("/v1/checkout/sessions/{id}"))
            .await
            .json["status"],
        "open"
    );

    let paid = submit(
        &sandbox,
        &id,
        &[
            ("email", "a@shop.test"),
            ("card", "4242 4242 4242 4242"),
            ("action", "pay"),
        ],
    )
    .await;
    assert_eq!(paid.status().as_u16(), 303);
    assert_eq!(
        paid.headers()["location"].to_str().unwrap(),
        format!("https://shop.test/ok?id={id}")
    );
    let session = stripe_get(&sandbox, &format!("/v1/checkout/sessions/{id}"))
        .await
        .json;
    assert_eq!(session["status"], "complete");
    assert_eq!(session["customer_details"]["email"], "a@shop.test");

    let (status, html) = page(&sandbox, &id).await;
    assert_eq!(status, 200);
    assert!(html.contains("payment received"));
    assert!(!html.contains("<form"));
    let again = submit(
        &sandbox,
        &id,
        &[
            ("email", "a@shop.test"),
            ("card", "4242424242424242"),
            ("action", "pay"),
        ],
    )
    .await;
    assert_eq!(again.status().as_u16(), 200);
    assert_eq!(sandbox.counts().stripe_payment_intents, 1);
}

#[tokio::test]
async fn creem_page_pays_with_a_signed_redirect() {
    let sandbox = sandbox().await;
    let created = creem_post(&sandbox, "/v1/checkouts", &json!({ "product_id": "prod_monthly", "units": 2, "success_url": "https://shop.test/creem" })).await;
    let id = created.json["id"].as_str().unwrap();
    let (status, html) = page(&sandbox, id).await;
    assert_eq!(status, 200);
    assert!(html.contains("Team plan"));
    assert!(html.contains("€198.00"));
    let cancelled = submit(&sandbox, id, &[("action", "cancel")]).await;
    assert_eq!(cancelled.status().as_u16(), 200);
    assert!(cancelled
        .text()
        .await
        .unwrap()
        .contains("Payment cancelled"));
    let paid = submit(
        &sandbox,
        id,
        &[
            ("email", "b@shop.test"),
            ("card", "4242424242424242"),
            ("action", "pay"),
        ],
    )
    .await;
    assert_eq!(paid.status().as_u16(), 303);
    let location = paid.headers()["location"].to_str().unwrap().to_owned();
    let (expected, given) = creem_redirect_signature(&location, sandbox.creem_api_key());
    assert_eq!(given, Some(expected));
    assert_eq!(
        creem_get(&sandbox, &format!("/v1/checkouts?checkout_id={id}"))
            .await
            .json["customer"]["email"],
        "b@shop.test"
    );
}

#[tokio::test]
async fn missing_and_expired_pages() {
    let sandbox = sandbox().await;
    let response = client()
        .get(sandbox.pay_url("cs_test_missing"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let id = session_with(&sandbox, "usd", 2000, "Widget").await;
    sandbox.expire(&id).unwrap();
    let (status, html) = page(&sandbox, &id).await;
    assert_eq!(status, 410);
    assert!(html.contains("expired"));
    let paid = submit(
        &sandbox,
        &id,
        &[
            ("email", "a@shop.test"),
            ("card", "4242424242424242"),
            ("action", "pay"),
        ],
    )
    .await;
    assert_eq!(paid.status().as_u16(), 410);
}
