//! Random and hostile input never makes the sandbox answer 5xx, drop a
//! connection or stop serving.

mod common;

use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ALPHABET: &[u8] = b"ab01[]%5BD&=+ _.-{}\xc3\xa9\"<>";

fn random_text(rng: &mut StdRng, max: usize) -> String {
    let length = rng.random_range(0..max);
    let bytes: Vec<u8> = (0..length)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())])
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn random_requests_never_fail_the_server() {
    let sandbox = sandbox().await;
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let stripe_paths = [
        "/v1/checkout/sessions",
        "/v1/payment_intents",
        "/v1/checkout/sessions/cs_test_x/expire",
        "/v1/payment_intents/pi_x/confirm",
    ];
    let prefixes = [
        "mode=payment&",
        "line_items[0][",
        "metadata[",
        "expand[",
        "amount=",
        "",
    ];
    for round in 0..300 {
        let body = format!(
            "{}{}",
            prefixes[round % prefixes.len()],
            random_text(&mut rng, 80)
        );
        let path = stripe_paths[round % stripe_paths.len()];
        let reply = stripe_post(&sandbox, path, &body).await;
        assert!(
            reply.status < 500,
            "{path} {body:?} -> {} {}",
            reply.status,
            reply.json
        );
        let query = random_text(&mut rng, 40);
        let reply = stripe_get(
            &sandbox,
            &format!("/v1/checkout/sessions?{}", urlencode(&query)),
        )
        .await;
        assert!(reply.status < 500, "GET ?{query:?} -> {}", reply.status);

        let json_body = random_text(&mut rng, 60);
        let response = client()
            .post(format!("{}/v1/checkouts", sandbox.base_url()))
            .header("x-api-key", sandbox.creem_api_key())
            .body(json_body.clone())
            .send()
            .await
            .expect("answered");
        assert!(response.status().as_u16() < 500, "creem {json_body:?}");
        let response = client()
            .post(sandbox.pay_url(&random_text(&mut rng, 12)))
            .body(random_text(&mut rng, 40))
            .send()
            .await
            .expect("answered");
        assert!(response.status().as_u16() < 500);
    }
    let typed = [
        serde_json::json!({ "product_id": 1, "units": -5, "customer": "x" }),
        serde_json::json!({ "product_id": "prod_onetime", "units": 9_223_372_036_854_775_807i64 }),
        serde_json::json!({ "product_id": "prod_onetime", "units": 1.5, "metadata": null, "customer": { "email": 3 } }),
        serde_json::json!([1, 2, 3]),
    ];
    for body in typed {
        let reply = creem_post(&sandbox, "/v1/checkouts", &body).await;
        assert!(reply.status < 500, "{body} -> {}", reply.json);
    }
    assert_eq!(
        stripe_get(&sandbox, "/v1/checkout/sessions").await.status,
        200
    );
}
