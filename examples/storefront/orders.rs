//! The storefront's `orders` table, in the store's database, and the one transition that
//! matters: pending → paid, exactly once.
//!
//! Two signals can say an order was paid: the gateway's signed webhook (processed by the
//! store's worker, see [`crate::fulfil`]) and the customer's return to the success page
//! (after the checkout was retrieved from the gateway). Either may come first, the webhook
//! may come twice, and both may race, on one instance or several. So both go through
//! [`confirm`], which checks that the gateway's checkout is this order's and was paid this
//! order's amount, and then runs `UPDATE orders SET status = 'paid' … WHERE id = $1 AND
//! status = 'pending'`: the database lets exactly one of them change the row, and the other
//! finds it paid and changes nothing. The webhook's statements run in the store's
//! transaction, so the order is marked paid together with the event's "done" mark.
//!
//! Every statement is written once, with `$1` placeholders, and runs on SQLite and
//! PostgreSQL through `sqlx::Any` (the tables are in [`crate::schema`]).

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use payswitch::store::Store;
use payswitch::{CheckoutResult, Currency, Money, Refund, RefundStatus};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::catalog::{Billing as Cadence, Offer};

/// Where an order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Created; the customer has not paid (or we have not heard yet).
    Pending,
    /// The gateway confirmed the payment.
    Paid,
}

impl OrderStatus {
    fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Paid => "paid",
        }
    }

    fn parse(word: &str) -> Option<OrderStatus> {
        match word {
            "pending" => Some(OrderStatus::Pending),
            "paid" => Some(OrderStatus::Paid),
            _ => None,
        }
    }
}

/// Which signal marked the order paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaidVia {
    /// A verified webhook event, processed by the store's worker.
    Webhook,
    /// The success page, after retrieving the checkout from the gateway.
    Return,
}

impl PaidVia {
    fn as_str(self) -> &'static str {
        match self {
            PaidVia::Webhook => "webhook",
            PaidVia::Return => "return",
        }
    }

    fn parse(word: &str) -> Option<PaidVia> {
        match word {
            "webhook" => Some(PaidVia::Webhook),
            "return" => Some(PaidVia::Return),
            _ => None,
        }
    }
}

/// What the gateway answered to the admin's refund request, shown until the refund's own
/// webhook is in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundAnswer {
    /// The id the gateway gave (Creem names a refund by its payment until `refund.created`).
    pub id: String,
    /// Its status then.
    pub status: RefundStatus,
    /// How much, when the gateway said.
    pub amount: Option<Money>,
}

/// One order, as the tests and the pages see it.
#[derive(Debug, Clone, Serialize)]
pub struct Order {
    /// The order id, sent to the gateway as the checkout's `reference`.
    pub id: String,
    /// What was ordered.
    pub sku: String,
    /// Its name.
    pub product: String,
    /// What the server's catalog says it costs.
    pub price: Money,
    /// The gateway the checkout was opened on (in migration mode, the one the router chose).
    pub gateway: String,
    /// The gateway's checkout id, once the checkout exists.
    pub checkout_id: Option<String>,
    /// Whether the order is a subscription (else a one-time purchase).
    pub subscription: bool,
    /// The gateway's customer id, once the order is paid and the gateway said.
    pub customer_id: Option<String>,
    /// The gateway's payment id, once paid (what a refund refunds).
    pub payment_id: Option<String>,
    /// The gateway's subscription id, once a subscription order is paid and the gateway said.
    pub subscription_id: Option<String>,
    /// Pending or paid.
    pub status: OrderStatus,
    /// How many times the order went from pending to paid: 1 at most, whatever the gateway
    /// and the browser do. Kept so tests can prove it.
    pub times_marked_paid: u32,
    /// The signal that marked it paid.
    pub paid_via: Option<PaidVia>,
    /// The ids of the webhook events processed for this order, in processing order.
    pub event_ids: Vec<String>,
    /// The gateway's answer to a refund request, if an admin asked for one.
    #[serde(skip)]
    pub refund_answer: Option<RefundAnswer>,
}

impl Order {
    /// A new pending order for one unit of `offer`, before its checkout exists.
    pub fn pending(id: String, offer: &Offer, gateway: &str) -> Order {
        Order {
            id,
            sku: offer.sku.to_owned(),
            product: offer.name.to_owned(),
            price: offer.price,
            gateway: gateway.to_owned(),
            checkout_id: None,
            subscription: offer.billing == Cadence::Monthly,
            customer_id: None,
            payment_id: None,
            subscription_id: None,
            status: OrderStatus::Pending,
            times_marked_paid: 0,
            paid_via: None,
            event_ids: Vec::new(),
            refund_answer: None,
        }
    }
}

/// Why a checkout did not (yet) make its order paid.
#[derive(Debug)]
pub enum NotConfirmed {
    /// The checkout's reference names no order of ours.
    UnknownOrder,
    /// The checkout exists but is not paid (yet).
    NotPaid(Box<Order>),
    /// The checkout does not match the order (another checkout, another amount).
    Mismatch(Box<Order>, String),
}

/// The result of a confirmed payment.
#[derive(Debug)]
pub enum Confirmed {
    /// This call moved the order from pending to paid.
    MarkedPaid(Box<Order>),
    /// The order was already paid; nothing changed.
    AlreadyPaid(Box<Order>),
}

impl Confirmed {
    /// The order, paid either way.
    pub fn order(&self) -> &Order {
        match self {
            Confirmed::MarkedPaid(order) | Confirmed::AlreadyPaid(order) => order,
        }
    }
}

/// The orders, in the store's database.
#[derive(Debug, Clone)]
pub struct Orders {
    store: Store,
    run_id: String,
    next_order: std::sync::Arc<std::sync::atomic::AtomicU64>,
    default_gateway: String,
}

impl Orders {
    /// The orders in `store`'s database, for a storefront whose new checkouts go to
    /// `default_gateway`. Order ids include `run_id`, so a restarted storefront (or a second
    /// instance on the same database) never reuses an id the gateway has already seen.
    pub fn new(store: Store, default_gateway: &str, run_id: impl Into<String>) -> Self {
        Self {
            store,
            run_id: run_id.into(),
            next_order: Default::default(),
            default_gateway: default_gateway.to_owned(),
        }
    }

    /// The store the orders live beside.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Creates a pending order for one unit of `offer`.
    pub async fn create(&self, offer: &Offer) -> Result<Order, sqlx::Error> {
        let number = self
            .next_order
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let order = Order::pending(
            format!("order-{}-{number}", self.run_id),
            offer,
            &self.default_gateway,
        );
        sqlx::query(
            "INSERT INTO orders (id, sku, product, amount, currency, gateway, subscription, \
             status, times_marked_paid, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)",
        )
        .bind(&order.id)
        .bind(&order.sku)
        .bind(&order.product)
        .bind(order.price.amount())
        .bind(order.price.currency().code().to_owned())
        .bind(&order.gateway)
        .bind(i64::from(order.subscription))
        .bind(order.status.as_str())
        .bind(now_millis())
        .execute(self.store.pool())
        .await?;
        Ok(order)
    }

    /// Records the gateway checkout opened for an order, and the gateway it is on.
    pub async fn attach_checkout(
        &self,
        order_id: &str,
        checkout: &CheckoutResult,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE orders SET checkout_id = $2, gateway = $3 WHERE id = $1")
            .bind(order_id)
            .bind(&checkout.id)
            .bind(checkout.provider.name())
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    /// One order.
    pub async fn get(&self, order_id: &str) -> Result<Option<Order>, sqlx::Error> {
        let mut connection = self.store.pool().acquire().await?;
        get(&mut connection, order_id).await
    }

    /// Every order, oldest first.
    pub async fn list(&self) -> Result<Vec<Order>, sqlx::Error> {
        let rows = sqlx::query("SELECT * FROM orders ORDER BY created_at, id")
            .fetch_all(self.store.pool())
            .await?;
        let mut orders = rows.iter().map(read_order).collect::<Result<Vec<_>, _>>()?;
        let events = sqlx::query("SELECT order_id, event_id FROM order_events ORDER BY seq")
            .fetch_all(self.store.pool())
            .await?;
        let mut by_order: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in &events {
            by_order
                .entry(row.try_get("order_id")?)
                .or_default()
                .push(row.try_get("event_id")?);
        }
        for order in &mut orders {
            order.event_ids = by_order.remove(&order.id).unwrap_or_default();
        }
        Ok(orders)
    }

    /// Learns the gateway's ids from a paid checkout retrieved for its order (the account
    /// page does this when no signal has told us the subscription yet).
    pub async fn learn_ids(&self, checkout: &CheckoutResult) -> Result<(), sqlx::Error> {
        let mut connection = self.store.pool().acquire().await?;
        if let Some(order) = order_of_checkout(&mut connection, checkout).await? {
            learn_ids(&mut connection, &order.id, checkout).await?;
        }
        Ok(())
    }

    /// Records the gateway's answer to a refund request.
    pub async fn record_refund_answer(
        &self,
        order_id: &str,
        refund: &Refund,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE orders SET refund_id = $2, refund_status = $3, refund_amount = $4, \
             refund_currency = $5 WHERE id = $1",
        )
        .bind(order_id)
        .bind(&refund.id)
        .bind(refund_status_json(&refund.status))
        .bind(refund.amount.map(|amount| amount.amount()))
        .bind(
            refund
                .amount
                .map(|amount| amount.currency().code().to_owned()),
        )
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// Marks the checkout's order paid if the checkout proves it, at most once (the success
    /// page's path; the webhook's runs [`confirm`] in the store's transaction).
    pub async fn confirm_paid(
        &self,
        checkout: &CheckoutResult,
        via: PaidVia,
    ) -> Result<Result<Confirmed, NotConfirmed>, sqlx::Error> {
        let mut connection = self.store.pool().acquire().await?;
        confirm(&mut connection, checkout, via).await
    }
}

/// Unix milliseconds now (0 before 1970, which a running storefront never sees).
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

fn corrupt(what: String) -> sqlx::Error {
    sqlx::Error::Decode(what.into())
}

/// A refund status as stored: its JSON (`"succeeded"`, or `{"other":"…"}` for a status
/// payswitch does not know), so every status reads back as it was.
fn refund_status_json(status: &RefundStatus) -> String {
    serde_json::to_string(status).unwrap_or_else(|_| "\"pending\"".to_owned())
}

fn read_order(row: &AnyRow) -> Result<Order, sqlx::Error> {
    let id: String = row.try_get("id")?;
    let code: String = row.try_get("currency")?;
    let currency =
        Currency::new(&code).map_err(|_| corrupt(format!("order {id}: currency {code:?}")))?;
    let status: String = row.try_get("status")?;
    let status = OrderStatus::parse(&status)
        .ok_or_else(|| corrupt(format!("order {id}: status {status:?}")))?;
    let paid_via = row
        .try_get::<Option<String>, _>("paid_via")?
        .and_then(|word| PaidVia::parse(&word));
    let refund_answer = match (
        row.try_get::<Option<String>, _>("refund_id")?,
        row.try_get::<Option<String>, _>("refund_status")?,
    ) {
        (Some(id), Some(status)) => Some(RefundAnswer {
            amount: match (
                row.try_get::<Option<i64>, _>("refund_amount")?,
                row.try_get::<Option<String>, _>("refund_currency")?
                    .and_then(|code| Currency::new(&code).ok()),
            ) {
                (Some(amount), Some(currency)) => Some(Money::new(amount, currency)),
                _ => None,
            },
            id,
            // Unreadable text (written by another version) reads as a status of its own,
            // never as an error.
            status: serde_json::from_str(&status).unwrap_or(RefundStatus::Other(status)),
        }),
        _ => None,
    };
    Ok(Order {
        sku: row.try_get("sku")?,
        product: row.try_get("product")?,
        price: Money::new(row.try_get("amount")?, currency),
        gateway: row.try_get("gateway")?,
        checkout_id: row.try_get("checkout_id")?,
        subscription: row.try_get::<i64, _>("subscription")? != 0,
        customer_id: row.try_get("customer_id")?,
        payment_id: row.try_get("payment_id")?,
        subscription_id: row.try_get("subscription_id")?,
        status,
        times_marked_paid: u32::try_from(row.try_get::<i64, _>("times_marked_paid")?)
            .unwrap_or(u32::MAX),
        paid_via,
        event_ids: Vec::new(),
        refund_answer,
        id,
    })
}

/// One order, with its events, on `connection`.
pub async fn get(
    connection: &mut AnyConnection,
    order_id: &str,
) -> Result<Option<Order>, sqlx::Error> {
    let Some(row) = sqlx::query("SELECT * FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_optional(&mut *connection)
        .await?
    else {
        return Ok(None);
    };
    let mut order = read_order(&row)?;
    order.event_ids = sqlx::query_scalar(
        "SELECT event_id FROM order_events WHERE order_id = $1 ORDER BY seq, event_id",
    )
    .bind(order_id)
    .fetch_all(&mut *connection)
    .await?;
    Ok(Some(order))
}

/// The order a checkout belongs to: the one its reference names, if the checkout is that
/// order's own (same gateway and checkout id).
pub async fn order_of_checkout(
    connection: &mut AnyConnection,
    checkout: &CheckoutResult,
) -> Result<Option<Order>, sqlx::Error> {
    let Some(reference) = checkout.reference.as_deref() else {
        return Ok(None);
    };
    Ok(get(connection, reference).await?.filter(|order| {
        order.checkout_id.as_deref() == Some(checkout.id.as_str())
            && order.gateway == checkout.provider.name()
    }))
}

/// Adds an event to the order's list once (one event can name the order twice, through its
/// checkout and its subscription; a replayed event is already there).
pub async fn note_event(
    connection: &mut AnyConnection,
    order_id: &str,
    gateway: &str,
    event_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO order_events (order_id, gateway, event_id, seq) \
         SELECT $1, $2, $3, COUNT(*) FROM order_events WHERE order_id = $1 \
         ON CONFLICT (order_id, gateway, event_id) DO NOTHING",
    )
    .bind(order_id)
    .bind(gateway)
    .bind(event_id)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Copies the gateway's ids from a paid checkout onto its order, keeping ids already known.
async fn learn_ids(
    connection: &mut AnyConnection,
    order_id: &str,
    checkout: &CheckoutResult,
) -> Result<(), sqlx::Error> {
    if !checkout.is_paid() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE orders SET customer_id = COALESCE(customer_id, $2), \
         payment_id = COALESCE(payment_id, $3), \
         subscription_id = COALESCE(subscription_id, $4) WHERE id = $1",
    )
    .bind(order_id)
    .bind(checkout.customer_id.as_deref())
    .bind(checkout.payment_id.as_deref())
    .bind(checkout.subscription_id.as_deref())
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// The pending → paid transition, with every check the gateway's checkout must pass.
/// Returns `Ok(Err(_))` when the checkout does not (yet) make the order paid.
pub async fn confirm(
    connection: &mut AnyConnection,
    checkout: &CheckoutResult,
    via: PaidVia,
) -> Result<Result<Confirmed, NotConfirmed>, sqlx::Error> {
    let Some(reference) = checkout.reference.as_deref() else {
        return Ok(Err(NotConfirmed::UnknownOrder));
    };
    let Some(order) = get(connection, reference).await? else {
        return Ok(Err(NotConfirmed::UnknownOrder));
    };
    if let Some(reason) = mismatch(&order, checkout) {
        return Ok(Err(NotConfirmed::Mismatch(Box::new(order), reason)));
    }
    if !checkout.is_paid() {
        return Ok(Err(NotConfirmed::NotPaid(Box::new(order))));
    }
    learn_ids(connection, &order.id, checkout).await?;
    // The one statement that decides: whichever signal runs it first changes the row, every
    // other finds it paid. On PostgreSQL a second transaction waits for the first's row lock
    // and then matches nothing.
    let marked = sqlx::query(
        "UPDATE orders SET status = 'paid', times_marked_paid = times_marked_paid + 1, \
         paid_via = $2 WHERE id = $1 AND status = 'pending'",
    )
    .bind(&order.id)
    .bind(via.as_str())
    .execute(&mut *connection)
    .await?
    .rows_affected()
        > 0;
    let order = get(connection, &order.id)
        .await?
        .ok_or_else(|| corrupt(format!("order {} disappeared", order.id)))?;
    Ok(Ok(if marked {
        Confirmed::MarkedPaid(Box::new(order))
    } else {
        Confirmed::AlreadyPaid(Box::new(order))
    }))
}

/// Why a checkout is not this order's to confirm, if it is not: another gateway's or another
/// checkout than the order opened, or a charge that differs from the order's price (the
/// gateway charges its own price for the SKU; a catalog that drifted from it must not fulfil).
pub fn mismatch(order: &Order, checkout: &CheckoutResult) -> Option<String> {
    if order.checkout_id.as_deref().is_some_and(|expected| {
        expected != checkout.id || order.gateway != checkout.provider.name()
    }) {
        return Some(format!(
            "checkout {} on {} is not this order's checkout",
            checkout.id, checkout.provider
        ));
    }
    match checkout.amount_total {
        Some(paid) if paid != order.price => Some(format!(
            "the gateway charged {paid}, the order costs {}",
            order.price
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use payswitch::{CheckoutStatus, PaymentStatus, ProviderKind};

    use super::*;
    use crate::catalog;

    fn order() -> Order {
        let mut order = Order::pending(
            "order-1-1".into(),
            catalog::find("pro_licence").expect("offer"),
            "memory",
        );
        order.checkout_id = Some("cs_1".into());
        order
    }

    fn checkout(id: &str, kind: ProviderKind, amount: i64) -> CheckoutResult {
        let mut checkout =
            CheckoutResult::new(id, kind, CheckoutStatus::Complete, PaymentStatus::Paid);
        checkout.reference = Some("order-1-1".into());
        checkout.amount_total = Some(Money::new(amount, Currency::USD));
        checkout
    }

    #[test]
    fn only_the_orders_own_checkout_at_its_price_confirms_it() {
        let memory = ProviderKind::MEMORY;
        let cases = [
            (checkout("cs_1", memory, 4900), false, "its own"),
            (checkout("cs_2", memory, 4900), true, "another checkout"),
            (
                checkout("cs_1", ProviderKind::new("other"), 4900),
                true,
                "another gateway",
            ),
            (checkout("cs_1", memory, 100), true, "another amount"),
        ];
        for (checkout, refused, case) in cases {
            assert_eq!(mismatch(&order(), &checkout).is_some(), refused, "{case}");
        }
        let mut unknown_amount = checkout("cs_1", memory, 0);
        unknown_amount.amount_total = None;
        assert_eq!(mismatch(&order(), &unknown_amount), None);
    }

    #[tokio::test]
    async fn the_paid_mark_is_taken_once() {
        let store = Store::open("sqlite::memory:").await.expect("store");
        crate::schema::create_tables(&store).await.expect("tables");
        // Twice: the tables survive a restart on the same database.
        crate::schema::create_tables(&store)
            .await
            .expect("tables again");
        let orders = Orders::new(store, "memory", "7");
        let order = orders
            .create(catalog::find("pro_licence").expect("offer"))
            .await
            .expect("created");
        assert_eq!(order.id, "order-7-1");
        let mut paid = checkout("cs_1", ProviderKind::MEMORY, 4900);
        paid.reference = Some(order.id.clone());
        orders
            .attach_checkout(&order.id, &paid)
            .await
            .expect("attached");
        let first = orders
            .confirm_paid(&paid, PaidVia::Webhook)
            .await
            .expect("db");
        assert!(matches!(first, Ok(Confirmed::MarkedPaid(_))), "{first:?}");
        let second = orders
            .confirm_paid(&paid, PaidVia::Return)
            .await
            .expect("db");
        let Ok(Confirmed::AlreadyPaid(again)) = second else {
            panic!("{second:?}");
        };
        assert_eq!(again.times_marked_paid, 1);
        assert_eq!(again.paid_via, Some(PaidVia::Webhook));
        let mut connection = orders.store().pool().acquire().await.expect("connection");
        for _ in 0..2 {
            note_event(&mut connection, &order.id, "memory", "evt_1")
                .await
                .expect("noted");
        }
        note_event(&mut connection, &order.id, "memory", "evt_0")
            .await
            .expect("noted");
        drop(connection);
        let listed = orders.list().await.expect("listed");
        assert_eq!(listed[0].event_ids, ["evt_1", "evt_0"]);
    }
}
