//! Stripe's objects as the sandbox stores them (Checkout Sessions, line items, Prices, Products,
//! PaymentIntents, coupons, promotion codes, saved idempotent responses) and the [`Store`]
//! that holds them.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use crate::checkout::CheckoutStatus;

/// Forgets arbitrary entries of a map past `cap` (maps with no order to keep, such as
/// customers by email: a forgotten payer gets a new id next time).
fn forget_past_cap<V>(map: &mut HashMap<String, V>, cap: usize) {
    let excess = map.len().saturating_sub(cap);
    if excess == 0 {
        return;
    }
    let doomed: Vec<String> = map.keys().take(excess).cloned().collect();
    for key in doomed {
        map.remove(&key);
    }
}

/// Recurring price details of a Stripe line item.
#[derive(Debug, Clone)]
pub(crate) struct Recurring {
    pub(crate) interval: String,
    pub(crate) interval_count: i64,
}

/// A Stripe Price in the catalog (`POST /v1/prices` or a seed).
#[derive(Debug, Clone)]
pub(crate) struct Price {
    pub(crate) id: String,
    pub(crate) product_id: String,
    pub(crate) currency: String,
    pub(crate) unit_amount: i64,
    pub(crate) recurring: Option<Recurring>,
    pub(crate) active: bool,
    pub(crate) nickname: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) created: i64,
}

/// The minimal Stripe Product a price belongs to; only its name is shown.
#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) created: i64,
}

/// A Stripe line item built from `price_data` or a catalog `price`.
#[derive(Debug, Clone)]
pub(crate) struct LineItem {
    pub(crate) id: String,
    pub(crate) price_id: String,
    pub(crate) product_id: String,
    pub(crate) name: String,
    pub(crate) currency: String,
    pub(crate) unit_amount: i64,
    pub(crate) quantity: i64,
    pub(crate) recurring: Option<Recurring>,
    pub(crate) metadata: BTreeMap<String, String>,
    /// This line's share of the session's discount, in minor units.
    pub(crate) amount_discount: i64,
}

/// What a coupon takes off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CouponValue {
    /// A percentage in hundredths of a percent (`percent_off=25.5` is 2550).
    PercentOff(i64),
    /// A fixed amount in the minor units of `currency`.
    AmountOff { amount: i64, currency: String },
}

/// A Stripe coupon (`POST /v1/coupons` or a seed).
#[derive(Debug, Clone)]
pub(crate) struct Coupon {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) value: CouponValue,
    /// `once`, `repeating` or `forever`.
    pub(crate) duration: String,
    pub(crate) duration_in_months: Option<i64>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) created: i64,
}

/// A Stripe promotion code: a customer-facing code for a coupon.
#[derive(Debug, Clone)]
pub(crate) struct PromotionCode {
    pub(crate) id: String,
    pub(crate) code: String,
    pub(crate) coupon_id: String,
    pub(crate) active: bool,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) created: i64,
}

/// A discount applied to a session: the coupon and, when one was given, the promotion code.
#[derive(Debug, Clone)]
pub(crate) struct AppliedDiscount {
    pub(crate) coupon_id: String,
    pub(crate) promotion_code: Option<String>,
}

/// A Stripe Checkout Session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) created: i64,
    pub(crate) expires_at: i64,
    pub(crate) mode: String,
    pub(crate) ui_mode: String,
    pub(crate) embedded: bool,
    pub(crate) status: CheckoutStatus,
    pub(crate) currency: Option<String>,
    pub(crate) line_items: Vec<LineItem>,
    /// Sum of the line items before discounts.
    pub(crate) amount_subtotal: i64,
    /// What the discount takes off the subtotal.
    pub(crate) amount_discount: i64,
    /// What the customer pays: subtotal minus discount.
    pub(crate) amount_total: i64,
    pub(crate) discounts: Vec<AppliedDiscount>,
    pub(crate) success_url: Option<String>,
    pub(crate) cancel_url: Option<String>,
    pub(crate) return_url: Option<String>,
    pub(crate) client_secret: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) client_reference_id: Option<String>,
    pub(crate) customer_email: Option<String>,
    pub(crate) customer: Option<String>,
    pub(crate) paid_email: Option<String>,
    pub(crate) payment_intent: Option<String>,
    pub(crate) subscription: Option<String>,
    pub(crate) locale: Option<String>,
    pub(crate) allow_promotion_codes: Option<bool>,
}

/// A Stripe PaymentIntent.
#[derive(Debug, Clone)]
pub(crate) struct PaymentIntent {
    pub(crate) id: String,
    pub(crate) client_secret: String,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) status: String,
    pub(crate) created: i64,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) payment_method: Option<String>,
    pub(crate) latest_charge: Option<String>,
    pub(crate) last_payment_error: Option<serde_json::Value>,
    pub(crate) description: Option<String>,
    pub(crate) customer: Option<String>,
    pub(crate) capture_method: String,
    pub(crate) automatic_payment_methods: Option<serde_json::Value>,
    pub(crate) receipt_email: Option<String>,
}

/// A response saved under a Stripe `Idempotency-Key`.
#[derive(Debug, Clone)]
pub(crate) struct SavedResponse {
    /// Method, path and canonical parameters of the first request.
    pub(crate) fingerprint: String,
    /// HTTP status and JSON body of the saved answer, success or error.
    pub(crate) status: u16,
    pub(crate) body: serde_json::Value,
    pub(crate) request_id: String,
    /// Sandbox time the result was saved; it expires 24 hours later.
    pub(crate) saved_at: i64,
}

/// Saved idempotent results, keys in flight and the order keys were saved in (for pruning).
#[derive(Debug, Default)]
pub(crate) struct IdempotencyStore {
    pub(crate) saved: HashMap<String, SavedResponse>,
    /// Keys saved, oldest first; may hold keys already replaced or pruned.
    pub(crate) order: VecDeque<String>,
    /// Keys whose first request is still executing.
    pub(crate) in_flight: HashSet<String>,
}

/// Everything the sandbox remembers about Stripe.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) sessions: HashMap<String, Session>,
    /// Session ids in creation order, for newest-first listing.
    pub(crate) session_order: Vec<String>,
    pub(crate) payment_intents: HashMap<String, PaymentIntent>,
    /// The Price catalog.
    pub(crate) prices: HashMap<String, Price>,
    pub(crate) products: HashMap<String, Product>,
    /// Customers by email, so a returning payer keeps one id.
    pub(crate) customers: HashMap<String, String>,
    /// Responses saved under an `Idempotency-Key`, and keys in use.
    pub(crate) idempotency: IdempotencyStore,
    pub(crate) coupons: HashMap<String, Coupon>,
    pub(crate) promotion_codes: HashMap<String, PromotionCode>,
    /// Promotion code ids in creation order, for newest-first listing.
    pub(crate) promotion_code_order: Vec<String>,
}

impl Store {
    /// Forgets sessions and PaymentIntents that finished (paid, expired, cancelled) and were
    /// created `retention` seconds or more before `now`, then the oldest of each kind past
    /// `cap` (open ones included), and customers past `cap`. Sessions go in creation order.
    pub(crate) fn forget_old(&mut self, now: i64, retention: i64, cap: usize) {
        let old = |created: i64| now.saturating_sub(created) >= retention;
        let mut excess = self.sessions.len().saturating_sub(cap);
        let sessions = &mut self.sessions;
        self.session_order.retain(|id| {
            let forget = match sessions.get(id) {
                None => true,
                Some(_) if excess > 0 => {
                    excess -= 1;
                    true
                }
                Some(session) => session.status != CheckoutStatus::Open && old(session.created),
            };
            if forget {
                sessions.remove(id);
            }
            !forget
        });
        self.payment_intents.retain(|_, intent| {
            let finished = intent.status == "succeeded" || intent.status == "canceled";
            !(finished && old(intent.created))
        });
        let excess = self.payment_intents.len().saturating_sub(cap);
        if excess > 0 {
            let mut by_age: Vec<(i64, String)> = self
                .payment_intents
                .values()
                .map(|intent| (intent.created, intent.id.clone()))
                .collect();
            by_age.sort_unstable();
            for (_, id) in by_age.into_iter().take(excess) {
                self.payment_intents.remove(&id);
            }
        }
        forget_past_cap(&mut self.customers, cap);
    }

    /// Returns when the earliest open session expires, if one is open.
    pub(crate) fn next_expiry(&self) -> Option<i64> {
        self.sessions
            .values()
            .filter(|session| session.status == CheckoutStatus::Open)
            .map(|session| session.expires_at)
            .min()
    }
}
