//! Creem customers: `GET /v1/customers?customer_id=|email=`, `POST /v1/customers`,
//! `PATCH /v1/customers`, `GET /v1/customers/list`, rendering as `CustomerEntity`, and the
//! customer a payment creates or reuses (by email).

use serde_json::{json, Map, Value};

use crate::checkout::plausible_email;
use crate::gateways::creem::error::Failure;
use crate::gateways::creem::objects::{iso, Customer};
use crate::gateways::creem::pagination::{page_from, paginate};
use crate::gateways::creem::query::query_value;
use crate::gateways::creem::validate::Checker;
use crate::state::{new_id, State};

/// `page_size` of `GET /v1/customers/list` when none is given [confirmed, OAS: default 50].
const DEFAULT_PAGE_SIZE: usize = 50;

/// The country every sandbox customer has: Creem takes it from the buyer's address, which the
/// sandbox's pay page does not ask for.
const COUNTRY: &str = "US";

/// Renders a customer as Creem's `CustomerEntity`.
pub(crate) fn render_customer(customer: &Customer) -> Value {
    json!({
        "id": customer.id,
        "mode": "test",
        "object": "customer",
        "email": customer.email,
        "name": customer.name,
        "metadata": customer.metadata,
        "country": customer.country,
        "created_at": iso(customer.created),
        "updated_at": iso(customer.updated),
    })
}

/// Renders the customer `id` expanded, or just its id when it was forgotten.
pub(crate) fn render_customer_id(state: &State, id: &str) -> Value {
    state
        .creem
        .customers
        .get(id)
        .map_or_else(|| json!(id), render_customer)
}

/// Returns the id of the customer with `email`, creating one the first time: Creem keeps one
/// customer per email and store ("the customer ID, based on the paying email" [confirmed,
/// checkout return-url docs]).
pub(crate) fn customer_for_email(state: &mut State, email: &str) -> String {
    let key = email.to_ascii_lowercase();
    if let Some(id) = state.creem.customer_ids_by_email.get(&key) {
        if state.creem.customers.contains_key(id) {
            return id.clone();
        }
    }
    insert(state, email, None, None)
}

/// Stores a new customer and returns its id.
fn insert(state: &mut State, email: &str, name: Option<&str>, metadata: Option<Value>) -> String {
    let now = state.now();
    let seq = state.creem.next_seq();
    let customer = Customer {
        id: new_id("cust_"),
        email: email.to_owned(),
        name: name.map(str::to_owned),
        metadata,
        country: COUNTRY.to_owned(),
        created: now,
        updated: now,
        seq,
    };
    let id = customer.id.clone();
    state
        .creem
        .customer_ids_by_email
        .insert(email.to_ascii_lowercase(), id.clone());
    state.creem.customers.insert(id.clone(), customer);
    id
}

/// Reads an optional `metadata` object.
fn metadata(check: &mut Checker<'_>, body: &Map<String, Value>) -> Option<Value> {
    match body.get("metadata") {
        None | Some(Value::Null) => None,
        Some(value @ Value::Object(_)) => Some(value.clone()),
        Some(_) => {
            check.messages.push("metadata must be an object".to_owned());
            None
        }
    }
}

/// `POST /v1/customers` (`CreateCustomerRequestEntity`: `email` and `name` required).
pub(crate) fn create(state: &mut State, body: &Map<String, Value>) -> Result<Value, Failure> {
    let mut check = Checker::new(body);
    let email = check.string("email", true);
    if email.is_some_and(|email| !plausible_email(email)) {
        check.messages.push("email must be an email".to_owned());
    }
    let name = check.string("name", true);
    let metadata = metadata(&mut check, body);
    check.finish()?;
    let (Some(email), Some(name)) = (email, name) else {
        return Err(Failure::bad_request(vec!["invalid customer".to_owned()]));
    };
    if state
        .creem
        .customer_ids_by_email
        .get(&email.to_ascii_lowercase())
        .is_some_and(|id| state.creem.customers.contains_key(id))
    {
        // [confirmed, error-codes docs] a duplicate resource answers 400 with this message;
        // [inferred] that the email is what makes a customer a duplicate.
        return Err(Failure::bad_request(vec![
            "A resource with this identifier already exists".to_owned(),
        ]));
    }
    let id = insert(state, email, Some(name), metadata);
    Ok(render_customer_id(state, &id))
}

/// `GET /v1/customers?customer_id=` or `?email=`.
pub(crate) fn retrieve(state: &State, query: &str) -> Result<Value, Failure> {
    let found = match (
        query_value(query, "customer_id"),
        query_value(query, "email"),
    ) {
        (Some(id), _) => state.creem.customers.get(&id),
        (None, Some(email)) => state
            .creem
            .customer_ids_by_email
            .get(&email.to_ascii_lowercase())
            .and_then(|id| state.creem.customers.get(id)),
        (None, None) => {
            return Err(Failure::bad_request(vec![
                "customer_id or email must be given".to_owned(),
            ]))
        }
    };
    found
        .map(render_customer)
        .ok_or_else(|| Failure::not_found("Customer not found"))
}

/// `PATCH /v1/customers` (`UpdateCustomerRequestEntity`: `customer_id` required; `name` and
/// `metadata` replace the stored values when given).
pub(crate) fn update(state: &mut State, body: &Map<String, Value>) -> Result<Value, Failure> {
    let mut check = Checker::new(body);
    let customer_id = check.string("customer_id", true);
    let name = check.string("name", false);
    let metadata = metadata(&mut check, body);
    check.finish()?;
    let now = state.now();
    let customer = customer_id
        .and_then(|id| state.creem.customers.get_mut(id))
        .ok_or_else(|| Failure::not_found("Customer not found"))?;
    if let Some(name) = name {
        customer.name = Some(name.to_owned());
    }
    if metadata.is_some() {
        customer.metadata = metadata;
    }
    customer.updated = now;
    Ok(render_customer(customer))
}

/// `GET /v1/customers/list?page_number=&page_size=`, newest first [inferred: Creem does not
/// document the order].
pub(crate) fn list(state: &State, query: &str) -> Result<Value, Failure> {
    let page = page_from(query, DEFAULT_PAGE_SIZE)?;
    let mut customers: Vec<&Customer> = state.creem.customers.values().collect();
    customers.sort_by_key(|customer| std::cmp::Reverse(customer.seq));
    Ok(paginate(
        customers.into_iter().map(render_customer).collect(),
        page,
    ))
}
