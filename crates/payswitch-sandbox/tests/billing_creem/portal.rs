//! The hosted customer portal over HTTP: `POST /v1/customers/billing`, the page, its cancel and
//! resume buttons, and its refusals (other customers, other origins, unknown and expired links).

use std::time::Duration;

use payswitch_sandbox::WebhookInbox;
use serde_json::json;

use crate::common::*;
use crate::support::*;

/// GETs or POSTs a portal page like a browser on the sandbox's own origin.
async fn portal(
    url: &str,
    form: Option<&str>,
    origin: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    let request = match form {
        Some(form) => client()
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", origin)
            .body(form.to_owned()),
        None => client().get(url),
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

#[tokio::test]
async fn the_customer_portal_lists_and_cancels_and_resumes_subscriptions() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = billing_sandbox(&inbox).await;
    let first = subscribe(&sandbox, "prod_basic", "portal@shop.test").await;
    let second = subscribe(&sandbox, "prod_pro", "portal@shop.test").await;
    let stranger = subscribe(&sandbox, "prod_pro", "stranger@shop.test").await;
    let customer = creem_get(&sandbox, "/v1/customers?email=portal%40shop.test")
        .await
        .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_creem_error(
        &creem_post(
            &sandbox,
            "/v1/customers/billing",
            &json!({ "customer_id": "cust_nope" }),
        )
        .await,
        404,
        "Customer not found",
    );
    let link = creem_post(
        &sandbox,
        "/v1/customers/billing",
        &json!({ "customer_id": customer }),
    )
    .await;
    assert_eq!(link.status, 200, "{}", link.json);
    let url = link.json["customer_portal_link"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        url.starts_with(&format!("{}/portal/", sandbox.base_url())),
        "{url}"
    );
    let origin = sandbox.base_url().to_owned();

    let (status, headers, html) = portal(&url, None, &origin).await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(html.contains("portal@shop.test"));
    assert!(html.contains(&first) && html.contains(&second));
    assert!(!html.contains(&stranger), "only the link's customer");
    assert!(html.contains(&format!("id=\"cancel-{first}\"")));
    assert!(!html.contains(&format!("id=\"resume-{first}\"")));
    assert!(html.contains("$10.00") && html.contains("$30.00"));

    // Cancel from the portal: at once, as Creem's portal does.
    let (status, _, html) = portal(
        &url,
        Some(&format!("action=cancel&subscription={first}")),
        &origin,
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(&format!("Subscription {first} canceled.")));
    assert!(html.contains("data-status=\"canceled\""));
    let canceled = creem_get(
        &sandbox,
        &format!("/v1/subscriptions?subscription_id={first}"),
    )
    .await
    .json;
    assert_eq!(canceled["status"], "canceled");

    // A scheduled cancellation made through the API is undone from the portal.
    creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{second}/cancel"),
        &json!({ "mode": "scheduled" }),
    )
    .await;
    let (_, _, html) = portal(&url, None, &origin).await;
    assert!(html.contains(&format!("id=\"resume-{second}\"")));
    let (status, _, html) = portal(
        &url,
        Some(&format!("action=resume&subscription={second}")),
        &origin,
    )
    .await;
    assert_eq!(status, 200, "{html}");
    let resumed = creem_get(
        &sandbox,
        &format!("/v1/subscriptions?subscription_id={second}"),
    )
    .await
    .json;
    assert_eq!(resumed["status"], "active");

    // Refusals: a canceled subscription, someone else's, another origin, an unknown link.
    let (status, _, html) = portal(
        &url,
        Some(&format!("action=cancel&subscription={first}")),
        &origin,
    )
    .await;
    assert_eq!(status, 409);
    assert!(html.contains("Cannot cancel a subscription with status canceled"));
    let (status, _, _) = portal(
        &url,
        Some(&format!("action=cancel&subscription={stranger}")),
        &origin,
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        creem_get(
            &sandbox,
            &format!("/v1/subscriptions?subscription_id={stranger}")
        )
        .await
        .json["status"],
        "active"
    );
    let (status, _, _) = portal(
        &url,
        Some(&format!("action=cancel&subscription={second}")),
        "http://evil.test",
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, _) = portal(
        &format!("{}/portal/nope", sandbox.base_url()),
        None,
        &origin,
    )
    .await;
    assert_eq!(status, 404);

    let events = sent_events(&sandbox, &inbox, 12).await;
    assert_eq!(
        types(&events)[9..],
        [
            "subscription.canceled",
            "subscription.scheduled_cancel",
            "subscription.update"
        ]
    );

    sandbox.advance_clock(Duration::from_secs(DAY + 60));
    let (status, _, html) = portal(&url, None, &origin).await;
    assert_eq!(status, 410);
    assert!(html.contains("expired"));
}
