//! Property tests of the router: sticky, monotonic rollout buckets, and webhook and redirect
//! decisions that never depend on the order of the gateways.

use std::collections::BTreeMap;
use std::sync::Arc;

use payswitch::memory::MemoryProvider;
use payswitch::{
    CheckoutProvider, CheckoutRequest, Currency, LineItem, Money, RolloutKey, RouteRule, Router,
    RouterConfig,
};
use proptest::prelude::*;

fn rollout(percent: u8) -> RouterConfig {
    RouterConfig {
        default: "a".into(),
        failover: vec![],
        rules: vec![RouteRule {
            gateway: "b".into(),
            currencies: None,
            countries: None,
            metadata: None,
            percent: Some(percent),
            key: Some(RolloutKey::Customer),
        }],
        ..Default::default()
    }
}

fn two_gateways() -> BTreeMap<String, Arc<dyn CheckoutProvider>> {
    let mut gateways: BTreeMap<String, Arc<dyn CheckoutProvider>> = BTreeMap::new();
    gateways.insert("a".into(), Arc::new(MemoryProvider::new()));
    gateways.insert("b".into(), Arc::new(MemoryProvider::new()));
    gateways
}

fn request(customer: &str) -> CheckoutRequest {
    CheckoutRequest::builder()
        .line_item(LineItem::custom("Plan", Money::new(1000, Currency::USD), 1))
        .success_url("https://shop.example/done")
        .customer_id(customer)
        .build()
        .unwrap()
}

proptest! {
    #[test]
    fn a_rollout_is_sticky_and_grows_monotonically(customer in "[a-z0-9_]{1,24}", low in 0u8..=100, high in 0u8..=100) {
        let (low, high) = (low.min(high), low.max(high));
        let small = Router::new(rollout(low), two_gateways()).unwrap();
        let large = Router::new(rollout(high), two_gateways()).unwrap();
        let request = request(&customer);
        let chosen = small.route(&request).to_owned();
        prop_assert_eq!(small.route(&request), chosen.as_str(), "sticky");
        if chosen == "b" {
            prop_assert_eq!(large.route(&request), "b", "a customer in a {}% rollout stays in at {}%", low, high);
        }
        if low == 0 {
            prop_assert_eq!(chosen.as_str(), "a");
        }
        if high == 100 {
            prop_assert_eq!(large.route(&request), "b");
        }
    }
}

/// Routers over the same gateways, listed in every order the configuration allows.
fn routers_in_every_order(gateways: &[(String, MemoryProvider)]) -> Vec<Router> {
    let names: Vec<String> = gateways.iter().map(|(name, _)| name.clone()).collect();
    let mut orders = Vec::new();
    for start in 0..names.len() {
        let mut order = names.clone();
        order.rotate_left(start);
        orders.push(order.clone());
        order.reverse();
        orders.push(order);
    }
    orders
        .into_iter()
        .map(|order| {
            let config = RouterConfig {
                default: order[0].clone(),
                failover: order[1..].to_vec(),
                rules: vec![],
                ..Default::default()
            };
            let map: BTreeMap<String, Arc<dyn CheckoutProvider>> = gateways
                .iter()
                .map(|(name, gateway)| {
                    (
                        name.clone(),
                        Arc::new(gateway.clone()) as Arc<dyn CheckoutProvider>,
                    )
                })
                .collect();
            Router::new(config, map).unwrap()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn webhook_and_redirect_decisions_do_not_depend_on_order(count in 2usize..5, payer in 0usize..5, tamper in any::<bool>()) {
        let gateways: Vec<(String, MemoryProvider)> = (0..count)
            .map(|index| (format!("gw{index}"), MemoryProvider::new()))
            .collect();
        let payer = payer % count;
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let checkout = runtime
            .block_on(gateways[payer].1.create_checkout(&request("cus_1")))
            .unwrap();
        let delivery = gateways[payer].1.pay(&checkout.id).unwrap();
        let mut body = delivery.body.clone();
        if tamper {
            let last = body.len() - 2;
            body[last] ^= 1;
        }
        let query = gateways[payer].1.return_query(&checkout.id).unwrap();
        let outcomes: Vec<(String, String)> = routers_in_every_order(&gateways)
            .iter()
            .map(|router| {
                let webhook = match router.verify_webhook(&delivery.headers, &body) {
                    Ok(event) => format!("ok {}", event.id),
                    Err(error) => format!("err {error}"),
                };
                let redirect = match router.verify_return(&query) {
                    Ok(params) => format!("ok {} {}", params.checkout_id, params.verified),
                    Err(error) => format!("err {error}"),
                };
                (webhook, redirect)
            })
            .collect();
        for outcome in &outcomes {
            prop_assert_eq!(outcome, &outcomes[0]);
        }
        prop_assert_eq!(outcomes[0].0.starts_with("ok"), !tamper, "{:?}", outcomes[0]);
    }
}
