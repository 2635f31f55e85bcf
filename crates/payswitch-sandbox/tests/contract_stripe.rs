//! The Stripe contract: every response body and every delivered event of realistic flows
//! (checkout in payment, subscription and setup mode, declined cards, refunds, customers,
//! subscriptions and their lifecycle, the portal, invoice previews, errors) is validated
//! against the component schema of its `object` type in Stripe's published OpenAPI spec
//! (`contract/stripe-schemas.json`, API 2026-01-28.clover, cut by `contract/cut_stripe_spec.py`).
//!
//! Three checks per object, each reported with its path:
//! - the schema: types, enums, required fields, `null` only where the spec says nullable;
//! - no field the schema does not document (objects are closed), except the few Stripe's own
//!   example objects carry beyond the public spec (`subscription_item.plan`);
//! - completeness: the fields Stripe's own example of the object (fixtures3) carries are there.
//!
//! Each flow runs twice: at the spec's version (exact) and at the sandbox's default version,
//! with the documented response changes between the two applied to the schemas
//! ([`version_overlay`]).

mod common;
#[path = "contract/openapi.rs"]
mod openapi;

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use payswitch_sandbox::{
    CouponSeed, PriceSeed, PromotionCodeSeed, Sandbox, SandboxHandle, WebhookInbox,
    DEFAULT_STRIPE_API_VERSION,
};
use serde_json::{json, Map, Value};

use common::{client, urlencode, Reply};
use openapi::SchemaSet;

/// The cut of Stripe's spec: `info`, `fixture_fields` and `schemas`.
const SPEC: &str = include_str!("contract/stripe-schemas.json");

/// The version the spec describes.
const SPEC_VERSION: &str = "2026-01-28.clover";

/// The object types a response or event may carry, by their `object` value (a deleted
/// customer is `deleted_customer`).
const OBJECT_TYPES: &[&str] = &[
    "billing_portal.session",
    "charge",
    "checkout.session",
    "coupon",
    "customer",
    "deleted_customer",
    "discount",
    "error",
    "event",
    "invoice",
    "item",
    "line_item",
    "payment_intent",
    "payment_method",
    "price",
    "product",
    "promotion_code",
    "refund",
    "setup_intent",
    "subscription",
    "subscription_item",
];

/// Stripe's documented response changes after the spec's version, applied to the spec's
/// schemas for a later version. Each entry: from which version, which schema and property,
/// and the property's schema from then on (OpenAPI form).
fn version_overlay() -> Vec<(&'static str, &'static str, &'static str, Value)> {
    vec![(
        // 2026-03-25.dahlia renamed the UI modes (changelog "updates-available-checkout-
        // session-ui-modes"): hosted→hosted_page, embedded→embedded_page, custom→elements,
        // and added form.
        "2026-03-25",
        "checkout.session",
        "ui_mode",
        json!({
            "enum": ["elements", "embedded_page", "form", "hosted_page"],
            "nullable": true,
            "type": "string",
        }),
    )]
}

/// The spec's schemas and Stripe's fixture fields, compiled once per API version.
struct Contract {
    schemas: SchemaSet,
    fixture_fields: BTreeMap<String, Vec<String>>,
}

fn spec() -> &'static Value {
    static SPEC_VALUE: OnceLock<Value> = OnceLock::new();
    SPEC_VALUE.get_or_init(|| serde_json::from_str(SPEC).expect("stripe-schemas.json parses"))
}

impl Contract {
    fn for_version(version: &str) -> &'static Contract {
        static AT_SPEC: OnceLock<Contract> = OnceLock::new();
        static AT_DEFAULT: OnceLock<Contract> = OnceLock::new();
        if version == SPEC_VERSION {
            AT_SPEC.get_or_init(|| Contract::build(SPEC_VERSION))
        } else {
            assert_eq!(version, DEFAULT_STRIPE_API_VERSION);
            AT_DEFAULT.get_or_init(|| Contract::build(DEFAULT_STRIPE_API_VERSION))
        }
    }

    fn build(version: &str) -> Contract {
        let spec = spec();
        assert_eq!(spec["info"]["api_version"], SPEC_VERSION);
        let mut components: Map<String, Value> = spec["schemas"]
            .as_object()
            .expect("schemas is an object")
            .clone();
        // Fields Stripe's example objects carry that the public spec leaves out (its SDK spec
        // keeps them: `subscription_item.plan`, which async-stripe requires) are allowed, not
        // checked.
        for (schema, fields) in spec["fixture_extra_fields"]
            .as_object()
            .expect("fixture_extra_fields is an object")
        {
            for field in fields.as_array().into_iter().flatten() {
                if let Some(field) = field.as_str() {
                    components[schema]["properties"][field] = json!({});
                }
            }
        }
        for (since, schema, property, replacement) in version_overlay() {
            if version.get(..10).unwrap_or(version) >= since {
                components[schema]["properties"][property] = replacement;
            }
        }
        let fixture_fields = spec["fixture_fields"]
            .as_object()
            .expect("fixture_fields is an object")
            .iter()
            .map(|(name, fields)| {
                let fields = fields
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                (name.clone(), fields)
            })
            .collect();
        Contract {
            schemas: SchemaSet::new(&components, OBJECT_TYPES, true),
            fixture_fields,
        }
    }
}

/// Collects the violations of one flow, each prefixed with where it was seen.
struct Checker {
    contract: &'static Contract,
    violations: Vec<String>,
    checked: usize,
}

impl Checker {
    fn new(version: &str) -> Self {
        Self {
            contract: Contract::for_version(version),
            violations: Vec::new(),
            checked: 0,
        }
    }

    /// Checks a response: an error body against `error`, anything else by its `object`.
    fn response(&mut self, label: &str, reply: &Reply) {
        if reply.status >= 400 {
            self.object_as(label, "error", &reply.json);
            // The objects an error carries (a declined PaymentIntent and its method).
            if let Some(error) = reply.json.get("error") {
                self.nested(label, "/error", error);
            }
        } else {
            self.value(label, &reply.json);
        }
    }

    /// Checks a value by its `object` field: a list's items each, an object against its
    /// schema.
    fn value(&mut self, label: &str, value: &Value) {
        match value.get("object").and_then(Value::as_str) {
            Some("list") | Some("search_result") => self.list(label, value),
            Some(kind) => {
                let schema = schema_name(kind, value);
                self.object_as(label, &schema, value);
                self.nested(label, "", value);
            }
            None => self
                .violations
                .push(format!("{label}: no `object` field in {value}")),
        }
    }

    /// A list envelope (`object`, `data`, `has_more`, `url`) and each of its items.
    fn list(&mut self, label: &str, value: &Value) {
        let Some(envelope) = value.as_object() else {
            return;
        };
        let search = envelope.get("object") == Some(&json!("search_result"));
        let mut expected = vec!["data", "has_more", "object", "url"];
        if search {
            expected.extend(["next_page"]);
        }
        for field in &expected {
            if !envelope.contains_key(*field) {
                self.violations
                    .push(format!("{label}: list without `{field}`"));
            }
        }
        for field in envelope.keys() {
            let allowed = expected.contains(&field.as_str()) || (search && field == "total_count");
            if !allowed {
                self.violations
                    .push(format!("{label}: list with undocumented `{field}`"));
            }
        }
        for (index, item) in envelope
            .get("data")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            self.value(&format!("{label} data[{index}]"), item);
        }
    }

    /// Validates `value` against the schema `schema` and checks Stripe's fixture fields.
    fn object_as(&mut self, label: &str, schema: &str, value: &Value) {
        self.checked += 1;
        if !self.contract.schemas.knows(schema) {
            self.violations
                .push(format!("{label}: no schema for object type {schema}"));
            return;
        }
        for violation in self.contract.schemas.violations(schema, value) {
            self.violations
                .push(format!("{label} ({schema}) {violation}"));
        }
        if let (Some(fields), Some(object)) =
            (self.contract.fixture_fields.get(schema), value.as_object())
        {
            for field in fields {
                if !object.contains_key(field) && !conditional(schema, field, object) {
                    self.violations.push(format!(
                        "{label} ({schema}) /: `{field}` is missing (Stripe sends it)"
                    ));
                }
            }
        }
    }

    /// Checks, on their own, the objects nested in `value` (expanded fields, embedded
    /// objects, an event's `data.object`): the parent's schema only says "none of the
    /// `anyOf` branches matched", this says which field is wrong.
    fn nested(&mut self, label: &str, path: &str, value: &Value) {
        let children: Vec<(String, &Value)> = match value {
            Value::Object(map) => map
                .iter()
                .map(|(key, child)| (format!("{path}/{key}"), child))
                .collect(),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(index, child)| (format!("{path}/{index}"), child))
                .collect(),
            _ => return,
        };
        for (child_path, child) in children {
            match child.get("object").and_then(Value::as_str) {
                Some("list") | Some("search_result") | None => {
                    self.nested(label, &child_path, child);
                }
                Some(kind) => {
                    let schema = schema_name(kind, child);
                    if self.contract.schemas.knows(&schema) {
                        self.object_as(&format!("{label} at {child_path}"), &schema, child);
                    }
                    self.nested(label, &child_path, child);
                }
            }
        }
    }

    /// Fails the test with every violation found.
    fn finish(self, flow: &str, version: &str) {
        assert!(self.checked > 0, "{flow} ({version}) checked nothing");
        assert!(
            self.violations.is_empty(),
            "{flow} at {version}: {} schema violations in {} objects:\n{}",
            self.violations.len(),
            self.checked,
            self.violations.join("\n")
        );
        println!("{flow} at {version}: {} objects conform", self.checked);
    }
}

/// Fields of Stripe's example objects that Stripe itself sends only in some states.
fn conditional(schema: &str, field: &str, object: &Map<String, Value>) -> bool {
    match (schema, field) {
        // `client_secret` is for embedded sessions, `url` for hosted ones, each the other's
        // absent twin; Stripe omits the one that does not apply.
        ("checkout.session", "client_secret") => object.contains_key("url"),
        ("checkout.session", "url") => object.contains_key("client_secret"),
        // A PaymentMethod carries the hash of its own type only (`card`, `sepa_debit`).
        ("payment_method", "card") => object.get("type").and_then(Value::as_str) != Some("card"),
        _ => false,
    }
}

/// The schema of an object: its `object` value, except deleted objects.
fn schema_name(kind: &str, value: &Value) -> String {
    if value.get("deleted") == Some(&json!(true)) {
        format!("deleted_{kind}")
    } else {
        kind.to_owned()
    }
}

/// A running sandbox with a webhook inbox, the flow's checker and HTTP helpers that check
/// every response.
struct Flow {
    name: &'static str,
    version: &'static str,
    sandbox: SandboxHandle,
    inbox: WebhookInbox,
    checker: Checker,
}

impl Flow {
    async fn start(name: &'static str, version: &'static str) -> Flow {
        let inbox = WebhookInbox::start().await.expect("inbox starts");
        let sandbox = Sandbox::builder()
            .stripe_api_version(version)
            .stripe_webhook_endpoint(inbox.url())
            .price(
                PriceSeed::recurring("Pro", 2000, "usd", "month")
                    .with_id("price_pro")
                    .with_product_id("prod_pro"),
            )
            .price(
                PriceSeed::recurring("Team", 5000, "usd", "month")
                    .with_id("price_team")
                    .with_product_id("prod_team"),
            )
            .price(PriceSeed::one_time("Setup", 1000, "usd").with_id("price_setup"))
            .coupon(CouponSeed::percent_off("TEN", 10).with_duration("forever", None))
            .coupon(CouponSeed::amount_off("FIVE", 500, "usd"))
            .promotion_code(PromotionCodeSeed::new("promo_welcome", "WELCOME", "TEN"))
            .start()
            .await
            .expect("sandbox starts");
        Flow {
            name,
            version,
            sandbox,
            inbox,
            checker: Checker::new(version),
        }
    }

    async fn send(&mut self, method: reqwest::Method, path: &str, body: &str) -> Reply {
        let url = format!("{}{path}", self.sandbox.stripe_api_base());
        let mut request = client()
            .request(method.clone(), url)
            .bearer_auth(self.sandbox.stripe_secret_key());
        if method == reqwest::Method::POST {
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.to_owned());
        }
        let response = request.send().await.expect("request");
        let reply = common::reply(response).await;
        self.checker.response(&format!("{method} {path}"), &reply);
        reply
    }

    /// Records an unexpected status as a violation, so one wrong answer does not hide the
    /// rest of the flow's.
    fn expect_status(&mut self, what: &str, reply: &Reply, status: u16) {
        if reply.status != status {
            self.checker.violations.push(format!(
                "{what}: answered {} instead of {status}: {}",
                reply.status, reply.json
            ));
        }
    }

    /// POSTs and expects `status`.
    async fn post(&mut self, path: &str, body: &str, status: u16) -> Value {
        let reply = self.send(reqwest::Method::POST, path, body).await;
        self.expect_status(&format!("POST {path} {body}"), &reply, status);
        reply.json
    }

    /// GETs and expects 200.
    async fn get(&mut self, path: &str) -> Value {
        self.get_status(path, 200).await
    }

    /// GETs and expects `status`.
    async fn get_status(&mut self, path: &str, status: u16) -> Value {
        let reply = self.send(reqwest::Method::GET, path, "").await;
        self.expect_status(&format!("GET {path}"), &reply, status);
        reply.json
    }

    async fn delete(&mut self, path: &str) -> Value {
        let reply = self.send(reqwest::Method::DELETE, path, "").await;
        self.expect_status(&format!("DELETE {path}"), &reply, 200);
        reply.json
    }

    /// Pays a session as the customer would (`card`: a declining test card, or the default).
    fn pay(&mut self, id: &str, card: Option<&str>, email: &str) {
        if let Err(error) = self.sandbox.pay_with_email(id, card, email) {
            self.checker
                .violations
                .push(format!("paying {id:?} failed: {error}"));
        }
    }

    /// Notes a failed expectation about the flow itself.
    fn expect(&mut self, holds: bool, what: &str) {
        if !holds {
            self.checker
                .violations
                .push(format!("expectation failed: {what}"));
        }
    }

    /// Checks the event log and every delivered event (the envelope and its `data.object`),
    /// then fails on any violation.
    async fn finish(mut self) {
        let mut logged = Vec::new();
        let mut path = "/v1/events?limit=100".to_owned();
        loop {
            let page = self.get(&path).await;
            let data = page["data"].as_array().cloned().unwrap_or_default();
            let last = data
                .last()
                .and_then(|event| event["id"].as_str())
                .map(str::to_owned);
            logged.extend(data);
            match (page["has_more"].as_bool(), last) {
                (Some(true), Some(last)) => {
                    path = format!("/v1/events?limit=100&starting_after={last}");
                }
                _ => break,
            }
        }
        let delivered = self
            .inbox
            .wait_for(logged.len(), Duration::from_secs(20))
            .await;
        assert!(
            delivered.len() >= logged.len(),
            "{}: {} events logged, {} delivered",
            self.name,
            logged.len(),
            delivered.len()
        );
        for webhook in &delivered {
            let event = webhook.json().expect("a webhook body is JSON");
            let label = format!(
                "delivered {} {}",
                event["type"].as_str().unwrap_or("?"),
                event["id"].as_str().unwrap_or("?")
            );
            self.checker.value(&label, &event);
        }
        self.checker.finish(self.name, self.version);
    }
}

/// The `id` of an object, or an empty string (a wrong answer is already recorded; the flow
/// goes on to find the rest).
fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap_or_default().to_owned()
}

/// A string field of an object, or an empty string.
fn text_of(value: &Value, field: &str) -> String {
    value[field].as_str().unwrap_or_default().to_owned()
}

/// Each flow at the spec's version and at the sandbox's default.
const VERSIONS: [&str; 2] = [SPEC_VERSION, DEFAULT_STRIPE_API_VERSION];

fn success_url() -> String {
    urlencode("https://shop.test/success?session_id={CHECKOUT_SESSION_ID}")
}

/// The `ui_mode` of an embedded session at `version`.
fn embedded_mode(version: &str) -> &'static str {
    if version >= "2026-03-25" {
        "embedded_page"
    } else {
        "embedded"
    }
}

#[tokio::test]
async fn checkout_in_payment_mode_with_refunds_conforms() {
    for version in VERSIONS {
        let mut flow = Flow::start("checkout payment", version).await;
        let body = format!(
            "mode=payment&success_url={}&cancel_url=https%3A%2F%2Fshop.test%2Fcancel\
             &line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=2000\
             &line_items[0][price_data][product_data][name]=T-shirt&line_items[0][quantity]=2\
             &line_items[1][price]=price_setup&line_items[1][quantity]=1\
             &metadata[order_id]=ord_42&client_reference_id=user_7\
             &customer_email=shopper%40shop.test&locale=en\
             &payment_intent_data[metadata][order_id]=ord_42\
             &payment_intent_data[description]=Order+42&expand[0]=line_items",
            success_url()
        );
        let session = flow.post("/v1/checkout/sessions", &body, 200).await;
        let id = id_of(&session);
        flow.get(&format!("/v1/checkout/sessions/{id}")).await;
        flow.get(&format!("/v1/checkout/sessions/{id}/line_items?limit=1"))
            .await;
        flow.post(
            &format!("/v1/checkout/sessions/{id}"),
            "metadata[step]=cart",
            200,
        )
        .await;
        flow.pay(&id, None, "shopper@shop.test");
        let paid = flow
            .get(&format!(
                "/v1/checkout/sessions/{id}?expand[0]=line_items&expand[1]=payment_intent"
            ))
            .await;
        let intent = id_of(&paid["payment_intent"]);
        flow.expect(
            paid["payment_intent"]["metadata"]["order_id"] == "ord_42",
            "payment_intent_data[metadata] reaches the PaymentIntent",
        );
        flow.expect(
            paid["payment_intent"]["description"] == "Order 42",
            "payment_intent_data[description] reaches the PaymentIntent",
        );
        let intent_json = flow.get(&format!("/v1/payment_intents/{intent}")).await;
        let charge = text_of(&intent_json, "latest_charge");
        flow.get(&format!("/v1/charges/{charge}")).await;
        flow.get("/v1/checkout/sessions?limit=3").await;
        flow.get(&format!("/v1/checkout/sessions?payment_intent={intent}"))
            .await;

        let refund = flow
            .post(
                "/v1/refunds",
                &format!("payment_intent={intent}&amount=500&reason=requested_by_customer"),
                200,
            )
            .await;
        let refund_id = id_of(&refund);
        flow.get(&format!("/v1/refunds/{refund_id}")).await;
        flow.post("/v1/refunds", &format!("charge={charge}"), 200)
            .await;
        flow.get(&format!("/v1/refunds?payment_intent={intent}"))
            .await;
        flow.get(&format!("/v1/charges/{charge}")).await;

        // An embedded session, a discounted one, one with promotion codes, an expired one.
        let embedded = format!(
            "mode=payment&ui_mode={}&return_url={}&redirect_on_completion=if_required\
             &line_items[0][price]=price_setup&line_items[0][quantity]=3&submit_type=book",
            embedded_mode(version),
            success_url()
        );
        let embedded = flow.post("/v1/checkout/sessions", &embedded, 200).await;
        flow.get(&format!("/v1/checkout/sessions/{}", id_of(&embedded)))
            .await;
        let discounted = format!(
            "mode=payment&success_url={}&line_items[0][price]=price_setup\
             &line_items[0][quantity]=2&discounts[0][coupon]=FIVE",
            success_url()
        );
        let discounted = flow.post("/v1/checkout/sessions", &discounted, 200).await;
        let discounted_id = id_of(&discounted);
        flow.pay(&discounted_id, None, "shopper@shop.test");
        flow.get(&format!(
            "/v1/checkout/sessions/{discounted_id}?expand[0]=line_items"
        ))
        .await;
        let promo = format!(
            "mode=payment&success_url={}&line_items[0][price]=price_setup\
             &line_items[0][quantity]=1&allow_promotion_codes=true",
            success_url()
        );
        let promo = flow.post("/v1/checkout/sessions", &promo, 200).await;
        let promo_id = id_of(&promo);
        flow.post(&format!("/v1/checkout/sessions/{promo_id}/expire"), "", 200)
            .await;
        flow.get("/v1/checkout/sessions?status=expired").await;
        let creating = format!(
            "mode=payment&success_url={}&line_items[0][price]=price_setup\
             &line_items[0][quantity]=1&customer_creation=always&billing_address_collection=auto\
             &automatic_tax[enabled]=false&payment_intent_data[receipt_email]=r%40shop.test",
            success_url()
        );
        let creating = flow.post("/v1/checkout/sessions", &creating, 200).await;
        let creating_id = id_of(&creating);
        flow.pay(&creating_id, None, "new@shop.test");
        let created = flow
            .get(&format!("/v1/checkout/sessions/{creating_id}"))
            .await;
        flow.expect(
            text_of(&created, "customer").starts_with("cus_"),
            "customer_creation=always creates a customer",
        );
        flow.post(
            &format!("/v1/checkout/sessions/{creating_id}"),
            "shipping_options[0][shipping_rate]=shr_1",
            400,
        )
        .await;
        flow.finish().await;
    }
}

#[tokio::test]
async fn declined_cards_and_payment_intents_conform() {
    for version in VERSIONS {
        let mut flow = Flow::start("declined card", version).await;
        let create = "amount=2000&currency=usd&automatic_payment_methods[enabled]=true\
                      &metadata[order_id]=ord_9&description=Order+9&receipt_email=a%40shop.test";
        let intent = flow.post("/v1/payment_intents", create, 200).await;
        let id = id_of(&intent);
        let declined = flow
            .post(
                &format!("/v1/payment_intents/{id}/confirm"),
                "payment_method=pm_card_chargeDeclined",
                402,
            )
            .await;
        flow.expect(
            declined["error"]["type"] == "card_error",
            "a decline is a card_error",
        );
        flow.get(&format!("/v1/payment_intents/{id}")).await;
        flow.post(
            &format!("/v1/payment_intents/{id}/confirm"),
            "payment_method=pm_card_chargeDeclinedInsufficientFunds",
            402,
        )
        .await;
        flow.post(
            &format!("/v1/payment_intents/{id}/confirm"),
            "payment_method=pm_card_visa",
            200,
        )
        .await;
        flow.post(
            "/v1/payment_intents",
            "amount=1500&currency=eur&confirm=true&payment_method=pm_card_visa\
             &capture_method=manual",
            200,
        )
        .await;
        let manual = flow
            .post(
                "/v1/payment_intents",
                "amount=1500&currency=usd&payment_method=pm_card_visa&capture_method=manual",
                200,
            )
            .await;
        let manual_id = id_of(&manual);
        flow.post(
            &format!("/v1/payment_intents/{manual_id}"),
            "metadata[note]=gift&description=Gift",
            200,
        )
        .await;
        flow.post(&format!("/v1/payment_intents/{manual_id}/confirm"), "", 200)
            .await;
        flow.post(&format!("/v1/payment_intents/{manual_id}/capture"), "", 200)
            .await;
        let abandoned = flow
            .post("/v1/payment_intents", "amount=900&currency=usd", 200)
            .await;
        flow.post(
            &format!("/v1/payment_intents/{}/cancel", id_of(&abandoned)),
            "cancellation_reason=abandoned",
            200,
        )
        .await;
        flow.get("/v1/payment_intents?limit=3").await;

        // A declined card on the hosted page leaves the session open.
        let body = format!(
            "mode=payment&success_url={}&line_items[0][price]=price_setup&line_items[0][quantity]=1",
            success_url()
        );
        let session = flow.post("/v1/checkout/sessions", &body, 200).await;
        let session_id = id_of(&session);
        flow.sandbox.decline(&session_id).unwrap();
        flow.get(&format!("/v1/checkout/sessions/{session_id}"))
            .await;
        flow.finish().await;
    }
}

#[tokio::test]
async fn catalog_customers_and_subscriptions_conform() {
    for version in VERSIONS {
        let mut flow = Flow::start("subscriptions", version).await;
        let price = flow
            .post(
                "/v1/prices",
                "currency=usd&unit_amount=900&recurring[interval]=month\
                 &product_data[name]=Starter&nickname=starter&metadata[tier]=1",
                200,
            )
            .await;
        let price_id = id_of(&price);
        flow.get(&format!("/v1/prices/{price_id}")).await;
        flow.get(&format!("/v1/prices/{price_id}?expand[0]=product"))
            .await;
        flow.post(
            "/v1/prices",
            "currency=eur&unit_amount=1200&product=prod_pro",
            200,
        )
        .await;
        flow.post(
            "/v1/coupons",
            "percent_off=25&duration=repeating&duration_in_months=3&name=Spring",
            200,
        )
        .await;
        flow.get("/v1/coupons/FIVE").await;
        flow.get("/v1/coupons?limit=2").await;
        flow.post("/v1/coupons/FIVE", "name=Five+off&metadata[a]=b", 200)
            .await;
        flow.get("/v1/prices?limit=3&expand[0]=data.product").await;
        flow.get("/v1/prices?type=recurring&active=true").await;
        flow.post(
            &format!("/v1/prices/{price_id}"),
            "nickname=starter-monthly&metadata[tier]=2&tax_behavior=exclusive",
            200,
        )
        .await;
        let promotion = if version >= "2025-09-30" {
            "promotion[type]=coupon&promotion[coupon]=FIVE&code=FIVEOFF"
        } else {
            "coupon=FIVE&code=FIVEOFF"
        };
        let code = flow.post("/v1/promotion_codes", promotion, 200).await;
        flow.get(&format!("/v1/promotion_codes/{}", id_of(&code)))
            .await;
        flow.get("/v1/promotion_codes?code=welcome").await;
        flow.post(
            &format!("/v1/promotion_codes/{}", id_of(&code)),
            "active=false&metadata[campaign]=spring",
            200,
        )
        .await;

        let customer = flow
            .post(
                "/v1/customers",
                "email=buyer%40shop.test&name=Buyer&phone=%2B15555550100\
                 &description=VIP&metadata[crm]=42",
                200,
            )
            .await;
        let customer_id = id_of(&customer);
        flow.get(&format!("/v1/customers/{customer_id}")).await;
        flow.post(
            &format!("/v1/customers/{customer_id}"),
            "name=Buyer+Two&metadata[crm]=",
            200,
        )
        .await;
        flow.get("/v1/customers?limit=5").await;
        flow.get(&format!(
            "/v1/customers/search?query={}",
            urlencode("email:'buyer@shop.test'")
        ))
        .await;

        let body = format!(
            "mode=subscription&success_url={}&customer={customer_id}\
             &line_items[0][price]=price_pro&line_items[0][quantity]=1\
             &line_items[1][price]=price_setup&line_items[1][quantity]=1\
             &discounts[0][promotion_code]=promo_welcome\
             &subscription_data[metadata][plan]=pro&subscription_data[description]=Pro+plan",
            success_url()
        );
        let session = flow.post("/v1/checkout/sessions", &body, 200).await;
        let session_id = id_of(&session);
        flow.pay(&session_id, None, "buyer@shop.test");
        let paid = flow
            .get(&format!("/v1/checkout/sessions/{session_id}"))
            .await;
        let subscription = text_of(&paid, "subscription");
        let invoice = text_of(&paid, "invoice");
        let sub = flow.get(&format!("/v1/subscriptions/{subscription}")).await;
        let item = id_of(&sub["items"]["data"][0]);
        flow.get("/v1/subscriptions?limit=5").await;
        flow.get(&format!("/v1/invoices/{invoice}")).await;
        flow.get(&format!("/v1/invoices?customer={customer_id}"))
            .await;
        let path = format!("/v1/subscriptions/{subscription}");
        flow.post(
            "/v1/invoices/create_preview",
            &format!(
                "subscription={subscription}&subscription_details[items][0][id]={item}\
                 &subscription_details[items][0][price]=price_team"
            ),
            200,
        )
        .await;
        flow.post(
            &path,
            &format!("items[0][id]={item}&items[0][quantity]=2&proration_behavior=always_invoice"),
            200,
        )
        .await;
        flow.post(&path, "cancel_at_period_end=true", 200).await;
        flow.post(&path, "cancel_at_period_end=false", 200).await;
        flow.post(&path, "pause_collection[behavior]=void", 200)
            .await;
        flow.post(&path, "pause_collection=", 200).await;
        flow.post(&path, "metadata[seats]=2", 200).await;
        flow.post(
            "/v1/billing_portal/sessions",
            &format!("customer={customer_id}&return_url=https%3A%2F%2Fshop.test%2Faccount"),
            200,
        )
        .await;
        flow.get(&format!("/v1/invoices?subscription={subscription}"))
            .await;

        // A subscription priced inline (price_data) and one the customer creates on the way.
        let inline = format!(
            "mode=subscription&success_url={}\
             &line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=700\
             &line_items[0][price_data][product_data][name]=Add-on\
             &line_items[0][price_data][recurring][interval]=month&line_items[0][quantity]=3",
            success_url()
        );
        let inline = flow.post("/v1/checkout/sessions", &inline, 200).await;
        let inline_id = id_of(&inline);
        flow.get(&format!("/v1/checkout/sessions/{inline_id}/line_items"))
            .await;
        flow.pay(&inline_id, None, "inline@shop.test");
        let inline_done = flow
            .get(&format!("/v1/checkout/sessions/{inline_id}"))
            .await;
        flow.get(&format!(
            "/v1/subscriptions/{}",
            text_of(&inline_done, "subscription")
        ))
        .await;
        flow.get(&format!(
            "/v1/invoices/{}",
            text_of(&inline_done, "invoice")
        ))
        .await;

        // A trial, a renewal a month later, then a cancellation.
        let trial = format!(
            "mode=subscription&success_url={}&line_items[0][price]=price_team\
             &line_items[0][quantity]=1&subscription_data[trial_period_days]=7",
            success_url()
        );
        let trial = flow.post("/v1/checkout/sessions", &trial, 200).await;
        let trial_id = id_of(&trial);
        flow.pay(&trial_id, None, "trial@shop.test");
        let trial_session = flow.get(&format!("/v1/checkout/sessions/{trial_id}")).await;
        let trial_sub = text_of(&trial_session, "subscription");
        flow.sandbox
            .advance_clock(Duration::from_secs(40 * 24 * 60 * 60));
        flow.get(&format!("/v1/subscriptions/{trial_sub}")).await;
        flow.get(&format!("/v1/invoices?subscription={trial_sub}"))
            .await;
        flow.delete(&format!("/v1/subscriptions/{trial_sub}")).await;
        flow.get("/v1/subscriptions?status=all").await;
        flow.finish().await;
    }
}

#[tokio::test]
async fn checkout_in_setup_mode_conforms() {
    for version in VERSIONS {
        let mut flow = Flow::start("checkout setup", version).await;
        let customer = flow
            .post("/v1/customers", "email=saver%40shop.test", 200)
            .await;
        let body = format!(
            "mode=setup&currency=usd&success_url={}&customer={}&metadata[purpose]=card_on_file\
             &setup_intent_data[metadata][purpose]=card_on_file&setup_intent_data[description]=Card",
            success_url(),
            id_of(&customer)
        );
        let session = flow.post("/v1/checkout/sessions", &body, 200).await;
        let id = id_of(&session);
        flow.pay(&id, None, "shopper@shop.test");
        let done = flow.get(&format!("/v1/checkout/sessions/{id}")).await;
        flow.expect(
            done["payment_status"] == "no_payment_required",
            "a setup session needs no payment",
        );
        let setup_intent = text_of(&done, "setup_intent");
        flow.expect(
            !setup_intent.is_empty(),
            "a completed setup session has a SetupIntent",
        );
        flow.get(&format!("/v1/setup_intents/{setup_intent}")).await;
        flow.get(&format!(
            "/v1/checkout/sessions/{id}?expand[0]=setup_intent"
        ))
        .await;
        flow.finish().await;
    }
}

/// The payment sequences and dunning: a hosted-page decline then a paid retry
/// (`charge.failed`, `payment_intent.payment_failed` with `last_payment_error`), SEPA debits
/// that settle on the clock (`charge.pending`, `payment_intent.processing`,
/// `checkout.session.async_payment_*`), PaymentMethods attached by test token, a renewal
/// declined, retried and paid with a replaced card (`invoice.payment_failed`, `past_due`,
/// `POST /v1/invoices/{id}/pay`).
#[tokio::test]
async fn payment_sequences_and_dunning_conform() {
    for version in VERSIONS {
        let mut flow = Flow::start("sequences and dunning", version).await;
        let euro_session = |amount: u32| {
            format!(
                "mode=payment&success_url={}&line_items[0][price_data][currency]=eur\
                 &line_items[0][price_data][unit_amount]={amount}\
                 &line_items[0][price_data][product_data][name]=Mug&line_items[0][quantity]=1",
                success_url()
            )
        };
        let declined = flow
            .post("/v1/checkout/sessions", &euro_session(1500), 200)
            .await;
        let declined_id = id_of(&declined);
        flow.expect(
            flow.sandbox
                .pay(&declined_id, Some("4000000000009995"))
                .is_err(),
            "a declined card leaves the session open",
        );
        flow.pay(&declined_id, None, "buyer@shop.test");
        let paid = flow
            .get(&format!(
                "/v1/checkout/sessions/{declined_id}?expand[0]=payment_intent"
            ))
            .await;
        let intent = paid["payment_intent"]["id"].as_str().unwrap_or_default();
        let retrieved = flow.get(&format!("/v1/payment_intents/{intent}")).await;
        flow.get(&format!(
            "/v1/charges/{}",
            text_of(&retrieved, "latest_charge")
        ))
        .await;

        let debited = flow
            .post("/v1/checkout/sessions", &euro_session(2500), 200)
            .await;
        flow.pay(
            &id_of(&debited),
            Some("DE89370400440532013000"),
            "sepa@shop.test",
        );
        let bounced = flow
            .post("/v1/checkout/sessions", &euro_session(3500), 200)
            .await;
        flow.pay(
            &id_of(&bounced),
            Some("DE62370400440532013001"),
            "sepa@shop.test",
        );
        flow.sandbox.advance_clock(Duration::from_secs(60));
        flow.get(&format!("/v1/checkout/sessions/{}", id_of(&bounced)))
            .await;

        let subscribe = format!(
            "mode=subscription&success_url={}&line_items[0][price]=price_pro\
             &line_items[0][quantity]=1",
            success_url()
        );
        let session = flow.post("/v1/checkout/sessions", &subscribe, 200).await;
        let session_id = id_of(&session);
        flow.pay(&session_id, None, "renew@shop.test");
        let done = flow
            .get(&format!("/v1/checkout/sessions/{session_id}"))
            .await;
        let subscription = text_of(&done, "subscription");
        let customer = text_of(&done, "customer");
        let failing = flow
            .post(
                "/v1/payment_methods/pm_card_chargeCustomerFail/attach",
                &format!("customer={customer}"),
                200,
            )
            .await;
        flow.get(&format!("/v1/payment_methods/{}", id_of(&failing)))
            .await;
        flow.post(
            &format!("/v1/subscriptions/{subscription}"),
            &format!("default_payment_method={}", id_of(&failing)),
            200,
        )
        .await;
        flow.sandbox
            .advance_clock(Duration::from_secs(32 * 24 * 60 * 60));
        let past_due = flow.get(&format!("/v1/subscriptions/{subscription}")).await;
        flow.expect(
            past_due["status"] == "past_due",
            "a declined renewal leaves the subscription past_due",
        );
        let latest = text_of(&past_due, "latest_invoice");
        flow.post(&format!("/v1/invoices/{latest}/pay"), "", 402)
            .await;
        let visa = flow
            .post(
                "/v1/payment_methods/pm_card_visa/attach",
                &format!("customer={customer}"),
                200,
            )
            .await;
        flow.post(
            &format!("/v1/invoices/{latest}/pay"),
            &format!("payment_method={}", id_of(&visa)),
            200,
        )
        .await;
        flow.get(&format!("/v1/subscriptions/{subscription}")).await;
        flow.finish().await;
    }
}

#[tokio::test]
async fn errors_conform() {
    for version in VERSIONS {
        let mut flow = Flow::start("errors", version).await;
        flow.post("/v1/checkout/sessions", "", 400).await;
        flow.post(
            "/v1/checkout/sessions",
            "mode=payment&success_url=https%3A%2F%2Fshop.test&line_items[0][price]=price_nope\
             &line_items[0][quantity]=1",
            400,
        )
        .await;
        flow.post("/v1/checkout/sessions", "mode=payment&bogus=1", 400)
            .await;
        flow.post(
            "/v1/checkout/sessions",
            "mode=payment&automatic_tax[enabled]=true",
            400,
        )
        .await;
        flow.post(
            "/v1/checkout/sessions",
            "mode=payment&success_url=https%3A%2F%2Fshop.test&line_items[0][price]=price_setup\
             &line_items[0][quantity]=1&discounts[0][coupon]=NOPE",
            400,
        )
        .await;
        flow.post(
            "/v1/prices",
            "currency=xyz&unit_amount=100&product=prod_pro",
            400,
        )
        .await;
        flow.post("/v1/payment_intents", "amount=100&currency=xyz", 400)
            .await;
        flow.post("/v1/coupons", "id=TEN&percent_off=5", 400).await;
        flow.get_status("/v1/checkout/sessions/cs_test_nope", 404)
            .await;
        flow.get_status("/v1/payment_intents/pi_nope", 404).await;
        flow.get_status("/v1/customers/cus_nope", 404).await;
        flow.get_status("/v1/subscriptions/sub_nope", 404).await;
        flow.get_status("/v1/nothing_here", 404).await;

        // A wrong key and a reused idempotency key with other parameters.
        let unauthorized = client()
            .get(format!("{}/v1/coupons/TEN", flow.sandbox.stripe_api_base()))
            .bearer_auth("sk_test_wrong")
            .send()
            .await
            .unwrap();
        let unauthorized = common::reply(unauthorized).await;
        flow.expect(
            unauthorized.status == 401,
            "a wrong key is refused with 401",
        );
        flow.checker.response("GET with a wrong key", &unauthorized);
        for body in ["percent_off=5", "percent_off=6"] {
            let response = client()
                .post(format!("{}/v1/coupons", flow.sandbox.stripe_api_base()))
                .bearer_auth(flow.sandbox.stripe_secret_key())
                .header("idempotency-key", "contract-key")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            let reply = common::reply(response).await;
            flow.checker
                .response("POST /v1/coupons (idempotent)", &reply);
        }
        flow.finish().await;
    }
}
