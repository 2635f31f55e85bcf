//! Stripe customers and the billing portal in the sandbox over HTTP: create, update (with
//! `previous_attributes`), list by email, search with Stripe's query language, portal
//! sessions and the hosted portal page that cancels and resumes subscriptions.

mod common;

use common::billing::*;
use common::*;
use serde_json::Value;

#[tokio::test]
async fn customers_are_created_updated_listed_and_searched() {
    let sandbox = billing_sandbox(None).await;
    let jenny = stripe_post(
        &sandbox,
        "/v1/customers",
        "email=jenny%40example.com&name=Jenny+Rosen&metadata[plan]=pro&metadata[team]=red",
    )
    .await;
    assert_eq!(jenny.status, 200, "{}", jenny.json);
    let jenny_id = jenny.json["id"].as_str().unwrap().to_owned();
    assert!(jenny_id.starts_with("cus_"));
    assert_eq!(jenny.json["object"], "customer");
    assert_eq!(jenny.json["email"], "jenny@example.com");
    assert_eq!(jenny.json["name"], "Jenny Rosen");
    assert_eq!(jenny.json["metadata"]["plan"], "pro");
    assert_eq!(jenny.json["livemode"], false);
    let sam = stripe_post(
        &sandbox,
        "/v1/customers",
        "email=sam%40example.com&metadata[plan]=free",
    )
    .await;
    let sam_id = sam.json["id"].as_str().unwrap().to_owned();
    let created = events(&sandbox).await;
    assert_eq!(types(&created), ["customer.created", "customer.created"]);
    assert_eq!(created[0]["data"]["object"]["id"], jenny_id.as_str());

    let retrieved = stripe_get(&sandbox, &format!("/v1/customers/{jenny_id}")).await;
    assert_eq!(retrieved.json, jenny.json);
    let updated = stripe_post(
        &sandbox,
        &format!("/v1/customers/{jenny_id}"),
        "name=Jenny+R.&metadata[team]=&metadata[tier]=gold",
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.json);
    assert_eq!(updated.json["name"], "Jenny R.");
    assert_eq!(updated.json["email"], "jenny@example.com");
    assert_eq!(
        updated.json["metadata"],
        serde_json::json!({ "plan": "pro", "tier": "gold" })
    );
    let update_event = events(&sandbox).await.pop().unwrap();
    assert_eq!(update_event["type"], "customer.updated");
    assert_eq!(
        update_event["data"]["previous_attributes"],
        serde_json::json!({
            "name": "Jenny Rosen",
            "metadata": { "team": "red", "tier": null },
        })
    );
    // An update that changes nothing emits nothing.
    let count = events(&sandbox).await.len();
    stripe_post(
        &sandbox,
        &format!("/v1/customers/{jenny_id}"),
        "name=Jenny+R.",
    )
    .await;
    assert_eq!(events(&sandbox).await.len(), count);

    let by_email = stripe_get(&sandbox, "/v1/customers?email=sam%40example.com")
        .await
        .json;
    assert_eq!(by_email["data"].as_array().unwrap().len(), 1);
    assert_eq!(by_email["data"][0]["id"], sam_id.as_str());
    let case = stripe_get(&sandbox, "/v1/customers?email=SAM%40example.com")
        .await
        .json;
    assert_eq!(
        case["data"].as_array().unwrap().len(),
        0,
        "the list filter is case-sensitive"
    );
    let page = stripe_get(&sandbox, "/v1/customers?limit=1").await.json;
    assert_eq!(page["data"][0]["id"], sam_id.as_str());
    assert_eq!(page["has_more"], true);

    let search = |query: &str| {
        let path = format!("/v1/customers/search?query={}", urlencode(query));
        let sandbox = &sandbox;
        async move { stripe_get(sandbox, &path).await }
    };
    let found = search("email:'jenny@example.com'").await;
    assert_eq!(found.status, 200, "{}", found.json);
    assert_eq!(found.json["object"], "search_result");
    assert_eq!(found.json["url"], "/v1/customers/search");
    assert_eq!(found.json["has_more"], false);
    assert_eq!(found.json["next_page"], Value::Null);
    assert_eq!(found.json["data"][0]["id"], jenny_id.as_str());
    let ids = |reply: &Reply| -> Vec<String> {
        reply.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|customer| customer["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&search("metadata['plan']:'free'").await),
        [sam_id.as_str()]
    );
    assert_eq!(
        ids(&search("metadata['plan']:'pro' AND email:'jenny@example.com'").await),
        [jenny_id.as_str()]
    );
    assert!(ids(&search("metadata['plan']:'pro' AND email:'sam@example.com'").await).is_empty());
    assert_eq!(
        ids(&search("metadata[\"plan\"]:\"pro\" OR metadata['plan']:'free'").await),
        [sam_id.as_str(), jenny_id.as_str()]
    );
    assert_eq!(
        ids(&search("-metadata['plan']:'pro'").await),
        [sam_id.as_str()]
    );
    assert_eq!(
        ids(&search("email~'example.com' name:'jenny r.'").await),
        [jenny_id.as_str()]
    );
    let paged = search("email~'example.com'").await;
    assert_eq!(paged.json["data"].as_array().unwrap().len(), 2);
    let first_page = stripe_get(
        &sandbox,
        &format!(
            "/v1/customers/search?limit=1&query={}",
            urlencode("email~'example.com'")
        ),
    )
    .await
    .json;
    assert_eq!(first_page["has_more"], true);
    let next = first_page["next_page"].as_str().unwrap();
    let second_page = stripe_get(
        &sandbox,
        &format!(
            "/v1/customers/search?limit=1&page={next}&query={}",
            urlencode("email~'example.com'")
        ),
    )
    .await
    .json;
    assert_eq!(second_page["data"][0]["id"], jenny_id.as_str());
    assert_eq!(second_page["has_more"], false);

    for bad in [
        "email:'open",
        "email:'a' AND name:'b' OR phone:'c'",
        "status:'active'",
        "email~'ab'",
        "metadata[plan]:'pro'",
    ] {
        let reply = search(bad).await;
        assert_error(&reply, 400, "invalid_request_error", None, Some("query"));
    }
    let missing = stripe_get(&sandbox, "/v1/customers/search").await;
    assert_error(
        &missing,
        400,
        "invalid_request_error",
        Some("parameter_missing"),
        Some("query"),
    );
    let unknown = stripe_get(&sandbox, "/v1/customers/cus_nope").await;
    assert_error(
        &unknown,
        404,
        "invalid_request_error",
        Some("resource_missing"),
        Some("customer"),
    );
    let bad_email = stripe_post(&sandbox, "/v1/customers", "email=not-an-email").await;
    assert_error(
        &bad_email,
        400,
        "invalid_request_error",
        Some("email_invalid"),
        Some("email"),
    );
    let unemulated = stripe_post(&sandbox, "/v1/customers", "tax_exempt=exempt").await;
    assert_error(
        &unemulated,
        400,
        "invalid_request_error",
        None,
        Some("tax_exempt"),
    );
    let unknown_param = stripe_post(&sandbox, "/v1/customers", "nickname=x").await;
    assert_error(
        &unknown_param,
        400,
        "invalid_request_error",
        Some("parameter_unknown"),
        Some("nickname"),
    );
}

/// Sends the portal page's form as a browser on the sandbox's own page would.
async fn portal_post(url: &str, origin: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client()
        .post(url)
        .header("origin", origin)
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_billing_portal_lists_subscriptions_and_cancels_and_resumes_them() {
    let sandbox = billing_sandbox(None).await;
    let session = subscribe(&sandbox, "", "portal@shop.test").await;
    let customer = session["customer"].as_str().unwrap();
    let id = session["subscription"].as_str().unwrap();
    let created = stripe_post(
        &sandbox,
        "/v1/billing_portal/sessions",
        &format!(
            "customer={customer}&return_url=https%3A%2F%2Fshop.test%2Faccount%3Fa%3D1%26b%3D2"
        ),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.json);
    let portal = &created.json;
    let portal_id = portal["id"].as_str().unwrap();
    assert!(portal_id.starts_with("bps_"));
    assert_eq!(portal["object"], "billing_portal.session");
    assert_eq!(portal["customer"], customer);
    assert_eq!(portal["return_url"], "https://shop.test/account?a=1&b=2");
    assert_eq!(portal["livemode"], false);
    assert!(portal["created"].as_i64().is_some());
    let url = portal["url"].as_str().unwrap();
    assert_eq!(url, format!("{}/portal/{portal_id}", sandbox.base_url()));

    let page = client().get(url).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("<tr id=\"{id}\">")));
    assert!(html.contains("Stripe sandbox"));
    assert!(html.contains("Pro × 1"));
    assert!(html.contains("$20.00"));
    assert!(html.contains("<span id=\"email\">portal@shop.test</span>"));
    assert!(html.contains("Renews "));
    assert!(html.contains(&format!("id=\"cancel-{id}\"")));
    assert!(!html.contains(&format!("id=\"resume-{id}\"")));
    assert!(html.contains("<a id=\"return\" href=\"https://shop.test/account?a=1&amp;b=2\">"));

    let origin = sandbox.base_url().to_owned();
    let before = events(&sandbox).await.len();
    let canceled = portal_post(url, &origin, &[("action", "cancel"), ("subscription", id)]).await;
    assert_eq!(canceled.status().as_u16(), 200);
    let html = canceled.text().await.unwrap();
    assert!(
        html.contains("will be canceled at the end of the period"),
        "{html}"
    );
    assert!(html.contains(&format!("id=\"resume-{id}\"")));
    assert!(html.contains("Cancels "));
    let sub = subscription(&sandbox, id).await;
    assert_eq!(sub["cancel_at_period_end"], true);
    let update = &events_after(&sandbox, before).await;
    assert_eq!(types(update), ["customer.subscription.updated"]);
    assert_eq!(
        update[0]["request"]["id"],
        Value::Null,
        "the customer acted, not the API"
    );
    assert_eq!(
        update[0]["data"]["previous_attributes"]["cancel_at_period_end"],
        false
    );
    let again = portal_post(url, &origin, &[("action", "cancel"), ("subscription", id)]).await;
    assert_eq!(again.status().as_u16(), 409);

    let resumed = portal_post(url, &origin, &[("action", "resume"), ("subscription", id)]).await;
    assert_eq!(resumed.status().as_u16(), 200);
    assert_eq!(
        subscription(&sandbox, id).await["cancel_at_period_end"],
        false
    );

    // Another site may not post the form; another customer's subscription is not offered.
    let forged = portal_post(
        url,
        "https://evil.test",
        &[("action", "cancel"), ("subscription", id)],
    )
    .await;
    assert_eq!(forged.status().as_u16(), 403);
    assert_eq!(
        subscription(&sandbox, id).await["cancel_at_period_end"],
        false
    );
    let other = subscribe(&sandbox, "", "other@shop.test").await;
    let other_id = other["subscription"].as_str().unwrap();
    let refused = portal_post(
        url,
        &origin,
        &[("action", "cancel"), ("subscription", other_id)],
    )
    .await;
    assert_eq!(refused.status().as_u16(), 409);
    assert!(refused.text().await.unwrap().contains("role=\"alert\""));
    assert_eq!(
        subscription(&sandbox, other_id).await["cancel_at_period_end"],
        false
    );

    let missing = client()
        .get(format!("{}/portal/bps_nope", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    // Portal sessions are short-lived.
    sandbox.advance_clock(std::time::Duration::from_secs(60 * 60));
    let expired = client().get(url).send().await.unwrap();
    assert_eq!(expired.status().as_u16(), 410);

    let unknown = stripe_post(&sandbox, "/v1/billing_portal/sessions", "customer=cus_nope").await;
    assert_error(
        &unknown,
        404,
        "invalid_request_error",
        Some("resource_missing"),
        Some("customer"),
    );
    assert_eq!(
        unknown.json["error"]["message"],
        "No such customer: 'cus_nope'"
    );
    let no_customer = stripe_post(&sandbox, "/v1/billing_portal/sessions", "").await;
    assert_error(
        &no_customer,
        400,
        "invalid_request_error",
        Some("parameter_missing"),
        Some("customer"),
    );
    let bad_url = stripe_post(
        &sandbox,
        "/v1/billing_portal/sessions",
        &format!("customer={customer}&return_url=javascript%3Aalert(1)"),
    )
    .await;
    assert_error(
        &bad_url,
        400,
        "invalid_request_error",
        Some("url_invalid"),
        Some("return_url"),
    );
}
