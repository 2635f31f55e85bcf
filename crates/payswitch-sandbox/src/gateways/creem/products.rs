//! Creem products: `POST /v1/products`, `GET /v1/products?product_id=`, validation, rendering
//! as `ProductEntity`, and seeding from a [`ProductSeed`].

use serde_json::{json, Map, Value};

use crate::error::SandboxError;
use crate::gateways::creem::error::Failure;
use crate::gateways::creem::objects::{iso, Product};
use crate::gateways::creem::pagination::{page_from, paginate};
use crate::gateways::creem::validate::Checker;
use crate::seed::ProductSeed;
use crate::state::{new_id, State};

/// `page_size` of the search when none is given [confirmed, OAS: default 10].
const DEFAULT_PAGE_SIZE: usize = 10;

/// `POST /v1/products`.
pub(crate) fn create(state: &mut State, body: &Map<String, Value>) -> Result<Value, Failure> {
    let product = parse_product(body, state.now())?;
    let rendered = render_product(&product);
    state.counts.creem_products += 1;
    state.creem.products.insert(product.id.clone(), product);
    Ok(rendered)
}

/// `GET /v1/products?product_id=`, and `GET /v1/products/{id}` as the official TypeScript SDK
/// (`creem` 1.13.0) calls it.
pub(crate) fn retrieve(state: &State, id: Option<String>) -> Result<Value, Failure> {
    let id =
        id.ok_or_else(|| Failure::bad_request(vec!["product_id must be a string".to_owned()]))?;
    let product = state
        .creem
        .products
        .get(&id)
        .ok_or_else(|| Failure::not_found("Product not found"))?;
    Ok(render_product(product))
}

/// `GET /v1/products/search?page_number=&page_size=`: the catalog as `ProductListEntity`,
/// newest first (ties by id) [inferred: Creem does not document the order].
pub(crate) fn search(state: &State, query: &str) -> Result<Value, Failure> {
    let page = page_from(query, DEFAULT_PAGE_SIZE)?;
    let mut products: Vec<&Product> = state.creem.products.values().collect();
    products.sort_by(|left, right| {
        right
            .created
            .cmp(&left.created)
            .then_with(|| left.id.cmp(&right.id))
    });
    Ok(paginate(
        products.into_iter().map(render_product).collect(),
        page,
    ))
}

/// Validates a `CreateProductRequestEntity` and builds the product.
pub(crate) fn parse_product(body: &Map<String, Value>, now: i64) -> Result<Product, Failure> {
    let mut check = Checker::new(body);
    let name = check.string("name", true);
    let description = check.string("description", true);
    let price = check.integer("price", true);
    if price.is_some_and(|price| price != 0 && price < 100) {
        check
            .messages
            .push("price must be 0 (free product) or at least 100".to_owned());
    }
    let currency = check.one_of("currency", true, &["EUR", "USD"]);
    let billing_type = check.one_of("billing_type", true, &["recurring", "onetime"]);
    let periods = [
        "every-month",
        "every-three-months",
        "every-six-months",
        "every-year",
    ];
    let billing_period = check.one_of("billing_period", false, &periods);
    if billing_type == Some("recurring")
        && billing_period.is_none()
        && !body.contains_key("billing_period")
    {
        check
            .messages
            .push("billing_period is required for recurring products".to_owned());
    }
    let tax_mode = check.one_of("tax_mode", false, &["inclusive", "exclusive"]);
    let tax_category = check.one_of(
        "tax_category",
        false,
        &["saas", "digital-goods-service", "ebooks"],
    );
    let default_success_url = check.url("default_success_url");
    let image_url = check.string("image_url", false);
    // [confirmed, docs.creem.io/features/trials] "Length of the trial in whole days, at least
    // 1 … Recurring products only." Paid trials (`trial_price`) are not modelled.
    let trial_period_days = check.integer("trial_period_days", false);
    if trial_period_days.is_some_and(|days| days < 1) {
        check
            .messages
            .push("trial_period_days must not be less than 1".to_owned());
    }
    if trial_period_days.is_some() && billing_type == Some("onetime") {
        check
            .messages
            .push("trial_period_days is only available for recurring products".to_owned());
    }
    // Keeps trial end times far from overflow.
    if trial_period_days.is_some_and(|days| days > 3650) {
        check
            .messages
            .push("trial_period_days must not be greater than 3650".to_owned());
    }
    check.finish()?;
    let (Some(name), Some(description), Some(price), Some(currency), Some(billing_type)) =
        (name, description, price, currency, billing_type)
    else {
        return Err(Failure::bad_request(vec!["invalid product".to_owned()]));
    };
    Ok(Product {
        id: new_id("prod_"),
        name: name.to_owned(),
        description: description.to_owned(),
        price,
        currency: currency.to_owned(),
        billing_type: billing_type.to_owned(),
        billing_period: if billing_type == "recurring" {
            billing_period.unwrap_or("every-month").to_owned()
        } else {
            "once".to_owned()
        },
        tax_mode: tax_mode.unwrap_or("inclusive").to_owned(),
        tax_category: tax_category.unwrap_or("saas").to_owned(),
        tax_rate_bps: None,
        default_success_url: default_success_url.map(str::to_owned),
        image_url: image_url.map(str::to_owned),
        trial_period_days,
        price_id: new_id("pprice_"),
        created: now,
    })
}

/// Renders a product as Creem's `ProductEntity`. Optional fields the product lacks are left
/// out, not `null`: `image_url` and `product_url` are plain strings in Creem's OAS, and the
/// official TypeScript SDK (`creem` 1.13.0) rejects `null` there.
pub(crate) fn render_product(product: &Product) -> Value {
    let mut value = json!({
        "id": product.id,
        "mode": "test",
        "object": "product",
        "name": product.name,
        "description": product.description,
        "features": [],
        "price": product.price,
        "currency": product.currency,
        "billing_type": product.billing_type,
        "billing_period": product.billing_period,
        "status": "active",
        "tax_mode": product.tax_mode,
        "tax_category": product.tax_category,
        "default_success_url": product.default_success_url,
        "created_at": iso(product.created),
        "updated_at": iso(product.created),
    });
    if let Some(object) = value.as_object_mut() {
        if let Some(image_url) = &product.image_url {
            object.insert("image_url".into(), json!(image_url));
        }
        if let Some(days) = product.trial_period_days {
            object.insert("trial_period_days".into(), json!(days));
        }
    }
    value
}

/// Validates a seed with Creem's product rules and stores it.
pub(crate) fn insert_seed(state: &mut State, seed: &ProductSeed) -> Result<String, SandboxError> {
    let mut body = Map::new();
    body.insert("name".into(), json!(seed.name));
    body.insert(
        "description".into(),
        json!(seed
            .description
            .clone()
            .unwrap_or_else(|| seed.name.clone())),
    );
    body.insert("price".into(), json!(seed.price));
    body.insert("currency".into(), json!(seed.currency));
    body.insert("billing_type".into(), json!(seed.billing_type));
    if let Some(period) = &seed.billing_period {
        body.insert("billing_period".into(), json!(period));
    }
    if let Some(url) = &seed.default_success_url {
        body.insert("default_success_url".into(), json!(url));
    }
    if let Some(tax_mode) = &seed.tax_mode {
        body.insert("tax_mode".into(), json!(tax_mode));
    }
    if let Some(days) = seed.trial_period_days {
        body.insert("trial_period_days".into(), json!(days));
    }
    let mut product = parse_product(&body, state.now())
        .map_err(|failure| SandboxError::InvalidProduct(failure.messages().join("; ")))?;
    if let Some(id) = &seed.id {
        product.id = id.clone();
    }
    if seed.tax_rate_bps.is_some_and(|rate| rate > 10_000) {
        return Err(SandboxError::InvalidProduct(
            "tax_rate_bps must be at most 10000 (100 %)".to_owned(),
        ));
    }
    product.tax_rate_bps = seed.tax_rate_bps;
    let id = product.id.clone();
    state.counts.creem_products += 1;
    state.creem.products.insert(id.clone(), product);
    Ok(id)
}
