//! The storefront example's account page over HTTP, on Stripe and on Creem (the same tests;
//! only `--provider` differs): a customer subscribes and pays on the sandbox, then cancels at
//! the period end, resumes, changes plan and opens the billing portal from the account page;
//! an admin refunds a one-time order. Each step is checked on the page, in the storefront's
//! JSON, and at the gateway itself, read with a provider built from the storefront's own
//! configuration, so the page is shown to say what the gateway holds.

mod storefront_support;

use payswitch::{CheckoutProvider, PaymentError, RefundRequest, RefundTarget, Subscription};
use serde_json::Value;
use storefront_support::{payment_status, plan_id, Storefront};

/// Subscribes to `sku` and pays on the sandbox, then comes back to the success page; returns
/// the order id and the gateway's subscription id.
async fn subscribe(shop: &Storefront, sku: &str) -> (String, String) {
    let (order_id, checkout_id) = shop.open_checkout(sku).await;
    let redirect = shop.pay(&checkout_id).await;
    let (status, page) = shop.get_url(&redirect).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(payment_status(&page), "paid", "{page}");
    // The success page of a subscription links its account page.
    assert!(
        page.contains(&format!(
            "<a id=\"account-link\" href=\"/account/{order_id}\">Manage your subscription</a>"
        )),
        "{page}"
    );
    let account = shop
        .wait_for_account(&order_id, "named its subscription", |account| {
            account["subscription"]["id"].is_string()
        })
        .await;
    let subscription_id = account["subscription"]["id"].as_str().unwrap_or_default();
    assert_eq!(account["order"]["subscription_id"], subscription_id);
    (order_id, subscription_id.to_owned())
}

/// Posts an account action and checks the 303 back to the account page.
async fn act(shop: &Storefront, order_id: &str, action: &str, form: &str, done: &str) {
    let (status, location, body) = shop
        .post_form(&format!("/account/{order_id}/{action}"), form)
        .await;
    assert_eq!(status, 303, "{action}: {body}\n{}", shop.logs());
    assert_eq!(
        location.as_deref(),
        Some(format!("/account/{order_id}?done={done}").as_str()),
        "{action}"
    );
}

/// The plan of the gateway's subscription, by the gateway's own id (a Stripe price, a Creem
/// product).
fn plan_of(provider: &str, subscription: &Subscription) -> Option<String> {
    let item = subscription.items.first()?;
    match provider {
        "stripe" => item.price_id.clone(),
        _ => item.product_id.clone(),
    }
}

fn action_names(account: &Value) -> Vec<String> {
    account["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|action| {
            let name = action["action"].as_str().unwrap_or_default();
            match action["sku"].as_str() {
                Some(sku) => format!("{name}:{sku}"),
                None => name.to_owned(),
            }
        })
        .collect()
}

/// Cancel at the period end, resume, change plan: each on the page and at the gateway, and
/// the webhooks' record catches up.
async fn cancel_resume_and_change_plan(provider: &'static str) {
    let shop = Storefront::start(provider);
    let gateway = shop.gateway();
    let (order_id, subscription_id) = subscribe(&shop, "pro_monthly").await;

    let (status, page) = shop.get(&format!("/account/{order_id}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("data-sku=\"pro_monthly\""), "{page}");
    assert!(
        page.contains("data-status=\"active\" data-cancel-scheduled=\"false\""),
        "{page}"
    );
    for button in [
        ">Cancel at period end</button>",
        ">Change plan to Team monthly</button>",
        ">Manage billing</button>",
    ] {
        assert!(page.contains(button), "{button}: {page}");
    }
    assert!(!page.contains(">Resume</button>"), "{page}");
    let account = shop.account(&order_id).await;
    assert_eq!(
        action_names(&account),
        [
            "cancel_at_period_end",
            "change_plan:team_monthly",
            "manage_billing",
            "refund"
        ],
        "{account}"
    );
    let held = gateway
        .retrieve_subscription(&subscription_id)
        .await
        .expect("retrieved");
    assert_eq!(
        plan_of(provider, &held),
        Some(plan_id(provider, "pro_monthly"))
    );
    assert!(!held.is_cancel_scheduled());

    // Cancel at the period end.
    act(&shop, &order_id, "cancel", "", "cancel_scheduled").await;
    let held = gateway
        .retrieve_subscription(&subscription_id)
        .await
        .expect("retrieved");
    assert!(held.is_cancel_scheduled(), "{held:?}");
    assert!(!held.status.is_ended(), "{held:?}");
    let (status, page) = shop
        .get(&format!("/account/{order_id}?done=cancel_scheduled"))
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"account-notice\""), "{page}");
    assert!(page.contains("data-cancel-scheduled=\"true\""), "{page}");
    let ends = held
        .cancel_at
        .or(held.current_period_end)
        .expect("when it ends");
    assert!(
        page.contains(&format!("Cancels on {}.", ends.date())),
        "{ends}: {page}"
    );
    assert!(page.contains(">Resume</button>"), "{page}");
    assert!(!page.contains(">Cancel at period end</button>"), "{page}");
    shop.wait_for_account(
        &order_id,
        "recorded the scheduled cancellation",
        |account| account["webhook_subscription"]["cancel_scheduled"] == true,
    )
    .await;

    // Resume.
    act(&shop, &order_id, "resume", "", "resumed").await;
    let held = gateway
        .retrieve_subscription(&subscription_id)
        .await
        .expect("retrieved");
    assert!(!held.is_cancel_scheduled(), "{held:?}");
    let account = shop.account(&order_id).await;
    assert_eq!(account["subscription"]["status"], "active", "{account}");
    assert_eq!(
        account["subscription"]["cancel_scheduled"], false,
        "{account}"
    );
    shop.wait_for_account(&order_id, "recorded the resumption", |account| {
        account["webhook_subscription"]["cancel_scheduled"] == false
    })
    .await;

    // Change plan to Team monthly, prorated.
    act(
        &shop,
        &order_id,
        "change-plan",
        "sku=team_monthly",
        "plan_changed",
    )
    .await;
    let held = gateway
        .retrieve_subscription(&subscription_id)
        .await
        .expect("retrieved");
    assert_eq!(
        plan_of(provider, &held),
        Some(plan_id(provider, "team_monthly")),
        "{held:?}"
    );
    let (_, page) = shop.get(&format!("/account/{order_id}")).await;
    assert!(page.contains("data-sku=\"team_monthly\""), "{page}");
    assert!(
        page.contains("Team monthly (29.00 USD per month)"),
        "{page}"
    );
    assert!(
        page.contains(">Change plan to Pro monthly</button>"),
        "{page}"
    );
    let account = shop
        .wait_for_account(&order_id, "recorded the plan change", |account| {
            account["webhook_subscription"]["plan"] == "team_monthly"
        })
        .await;
    assert_eq!(account["order"]["times_marked_paid"], 1, "{account}");

    // A change the state does not allow is shown, not obeyed: resuming an active subscription.
    let (status, _, page) = shop
        .post_form(&format!("/account/{order_id}/resume"), "")
        .await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("id=\"account-error\""), "{page}");
    assert!(page.contains("data-status=\"active\""), "{page}");
}

/// Manage billing: a portal session for the order's customer, 303 to the gateway's portal.
async fn manage_billing_opens_the_portal(provider: &'static str) {
    let shop = Storefront::start(provider);
    let (order_id, _) = subscribe(&shop, "pro_monthly").await;
    let (status, location, body) = shop
        .post_form(&format!("/account/{order_id}/portal"), "")
        .await;
    assert_eq!(status, 303, "{body}\n{}", shop.logs());
    let location = location.expect("Location");
    assert!(
        location.starts_with(&format!("{}/", shop.sandbox_url)),
        "{location}"
    );
    // The portal URL signs the customer in: the storefront never logs it.
    assert!(!shop.logs().contains(&location), "{}", shop.logs());
    let (status, portal) = shop.get_url(&location).await;
    assert_eq!(status, 200, "{portal}");
}

/// An admin refunds a paid one-time order: the page lists the refund, the webhooks' record
/// says it succeeded, and the gateway refuses to refund the payment again.
async fn admin_refunds_a_one_time_order(provider: &'static str) {
    let shop = Storefront::start(provider);
    let gateway = shop.gateway();
    let (order_id, checkout_id) = shop.open_checkout("pro_licence").await;
    let redirect = shop.pay(&checkout_id).await;
    let (status, page) = shop.get_url(&redirect).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(payment_status(&page), "paid", "{page}");
    assert!(
        page.contains(&format!(
            "<form method=\"post\" action=\"/account/{order_id}/refund\">"
        )),
        "{page}"
    );

    act(&shop, &order_id, "refund", "", "refunded").await;
    let account = shop
        .wait_for_account(&order_id, "recorded a succeeded refund", |account| {
            // From the refund's webhook, in the store (the gateway's answer shows until then).
            account["refunds"].as_array().is_some_and(|refunds| {
                refunds
                    .iter()
                    .any(|refund| refund["status"] == "succeeded" && refund["source"] == "webhook")
            })
        })
        .await;
    assert_eq!(
        account["refunds"].as_array().map(Vec::len),
        Some(1),
        "{account}"
    );
    assert!(
        !action_names(&account).contains(&"refund".to_owned()),
        "{account}"
    );
    let (status, page) = shop
        .get(&format!("/account/{order_id}?done=refunded"))
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("<li data-status=\"succeeded\">49.00 USD: succeeded</li>"),
        "{page}"
    );
    assert!(
        !page.contains("/refund\""),
        "no second Refund button: {page}"
    );

    // At the gateway the payment is refunded: another full refund is refused.
    let again = gateway
        .create_refund(&RefundRequest::full(RefundTarget::Checkout(checkout_id)))
        .await;
    assert!(
        matches!(again, Err(PaymentError::InvalidState { .. })),
        "{again:?}"
    );
}

/// The JSON and page of an order the storefront does not have, and of an unpaid one.
async fn unknown_and_unpaid_orders(provider: &'static str) {
    let shop = Storefront::start(provider);
    for path in ["/account/order-nope", "/account/order-nope.json"] {
        let (status, _) = shop.get(path).await;
        assert_eq!(status, 404, "{path}");
    }
    let (order_id, _) = shop.open_checkout("pro_monthly").await;
    let account = shop.account(&order_id).await;
    assert_eq!(account["order"]["status"], "pending");
    assert_eq!(account["subscription"], Value::Null);
    assert_eq!(account["actions"], serde_json::json!([]));
    let (status, _, page) = shop
        .post_form(&format!("/account/{order_id}/cancel"), "")
        .await;
    assert_eq!(status, 409, "{page}");
}

macro_rules! on_each_gateway {
    ($($case:ident),* $(,)?) => {
        #[cfg(feature = "stripe")]
        mod stripe {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case("stripe").await;
                }
            )*
        }
        #[cfg(feature = "creem")]
        mod creem {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case("creem").await;
                }
            )*
        }
    };
}

on_each_gateway!(
    cancel_resume_and_change_plan,
    manage_billing_opens_the_portal,
    admin_refunds_a_one_time_order,
    unknown_and_unpaid_orders,
);
