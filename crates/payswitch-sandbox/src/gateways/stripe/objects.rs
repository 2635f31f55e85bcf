//! Stripe's objects as the sandbox stores them (Checkout Sessions, line items, Prices, Products,
//! PaymentIntents, coupons, promotion codes, saved idempotent responses; customers,
//! subscriptions, invoices, charges, refunds and billing portal sessions) and the [`Store`]
//! that holds them.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use crate::checkout::CheckoutStatus;
use crate::gateways::stripe::ordered::Ordered;
use crate::instruments::{Decline, Instrument};

/// Recurring price details of a Stripe line item.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// `exclusive`, `inclusive` or `unspecified` (the default).
    pub(crate) tax_behavior: String,
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
    /// When the line's price was made: the catalog price's, or the session's for
    /// `price_data` (Stripe creates an inactive Price for it then).
    pub(crate) price_created: i64,
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
    /// The first invoice of a paid subscription-mode session.
    pub(crate) invoice: Option<String>,
    pub(crate) locale: Option<String>,
    pub(crate) allow_promotion_codes: Option<bool>,
    /// `always` or `if_required` (subscription mode only).
    pub(crate) payment_method_collection: Option<String>,
    /// What `subscription_data` asked of the subscription a paid session creates.
    pub(crate) subscription_data: SubscriptionData,
    /// Where a delayed payment (SEPA Direct Debit) of a completed session stands; `None` for
    /// a payment that succeeded at once.
    pub(crate) delayed_payment: Option<DelayedPayment>,
    /// What `payment_intent_data` asked of the PaymentIntent a paid payment session creates.
    pub(crate) payment_intent_data: IntentData,
    /// What `setup_intent_data` asked of the SetupIntent a completed setup session creates.
    pub(crate) setup_intent_data: IntentData,
    /// The SetupIntent a completed setup-mode session created.
    pub(crate) setup_intent: Option<String>,
    /// `auto`, `book`, `donate`, `pay` or `subscribe`: the pay button's wording.
    pub(crate) submit_type: Option<String>,
    /// `auto` when given (the sandbox collects no address, which is what `auto` does for
    /// cards).
    pub(crate) billing_address_collection: Option<String>,
    /// Embedded sessions only: `always` (default), `if_required` or `never`.
    pub(crate) redirect_on_completion: Option<String>,
    /// Payment and setup mode: `always` creates a customer on completion, `if_required`
    /// (default) does not.
    pub(crate) customer_creation: Option<String>,
}

/// A completed session's payment by a delayed method: `payment_status` stays `unpaid` until
/// the debit succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DelayedPayment {
    Processing,
    Succeeded,
    Failed,
}

/// The `payment_intent_data` or `setup_intent_data` of a Checkout Session: what the intent
/// its completion creates carries.
#[derive(Debug, Clone, Default)]
pub(crate) struct IntentData {
    pub(crate) description: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    /// `payment_intent_data[receipt_email]`.
    pub(crate) receipt_email: Option<String>,
}

/// A Stripe SetupIntent (`seti_…`): made when a setup-mode Checkout Session completes, with
/// the card the customer saved.
#[derive(Debug, Clone)]
pub(crate) struct SetupIntent {
    pub(crate) id: String,
    pub(crate) client_secret: String,
    pub(crate) created: i64,
    pub(crate) customer: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) payment_method: Option<String>,
}

/// The `subscription_data` of a subscription-mode Checkout Session.
#[derive(Debug, Clone, Default)]
pub(crate) struct SubscriptionData {
    /// The trial's end, from `trial_end` or `trial_period_days` (counted from payment).
    pub(crate) trial_end: Option<i64>,
    pub(crate) trial_period_days: Option<i64>,
    /// `trial_settings[end_behavior][missing_payment_method]`, default `create_invoice`.
    pub(crate) missing_payment_method: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
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
    pub(crate) canceled_at: Option<i64>,
    /// `abandoned`, `duplicate`, `fraudulent` or `requested_by_customer`, when cancelled.
    pub(crate) cancellation_reason: Option<String>,
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
    /// SetupIntents of completed setup-mode sessions.
    pub(crate) setup_intents: Ordered<SetupIntent>,
    /// The Price catalog.
    pub(crate) prices: HashMap<String, Price>,
    pub(crate) products: HashMap<String, Product>,
    /// Customers, from `POST /v1/customers` or a paid subscription checkout.
    pub(crate) customers: Ordered<Customer>,
    pub(crate) subscriptions: Ordered<Subscription>,
    pub(crate) invoices: Ordered<Invoice>,
    pub(crate) charges: Ordered<Charge>,
    pub(crate) refunds: Ordered<Refund>,
    pub(crate) portal_sessions: Ordered<PortalSession>,
    /// PaymentMethods made from test cards and IBANs (checkout, `…/attach`).
    pub(crate) payment_methods: Ordered<PaymentMethod>,
    /// Every event emitted, as sent (`GET /v1/events` lists them newest first).
    pub(crate) events: Ordered<serde_json::Value>,
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
    /// `cap` (open ones included), and the oldest billing objects (customers, subscriptions,
    /// invoices, charges, refunds, portal sessions) past `cap`. Sessions go in creation order.
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
        // Billing objects stay as long as the cap allows: a live subscription is not finished
        // however old it is.
        self.setup_intents.forget_past_cap(cap);
        self.customers.forget_past_cap(cap);
        self.subscriptions.forget_past_cap(cap);
        self.invoices.forget_past_cap(cap);
        self.charges.forget_past_cap(cap);
        self.refunds.forget_past_cap(cap);
        self.portal_sessions.forget_past_cap(cap);
        self.payment_methods.forget_past_cap(cap);
        self.events.forget_past_cap(cap);
    }

    /// Returns when the clock next has something to do: the earliest open session expiry,
    /// subscription due time (period end, trial end, `cancel_at`), pending debit settlement,
    /// draft finalization or payment retry.
    pub(crate) fn next_expiry(&self) -> Option<i64> {
        let sessions = self
            .sessions
            .values()
            .filter(|session| session.status == CheckoutStatus::Open)
            .map(|session| session.expires_at);
        let subscriptions = self
            .subscriptions
            .oldest_first()
            .filter_map(Subscription::next_due);
        let debits = self
            .charges
            .oldest_first()
            .filter_map(|charge| charge.settles_at);
        let invoices = self.invoices.oldest_first().filter_map(Invoice::next_due);
        sessions
            .chain(subscriptions)
            .chain(debits)
            .chain(invoices)
            .min()
    }
}

/// A Stripe Customer.
#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub(crate) id: String,
    pub(crate) created: i64,
    pub(crate) email: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    /// Set by the customer's first subscription or invoice.
    pub(crate) currency: Option<String>,
    /// Prefix of the customer's invoice numbers (`ABCD1234-0001`).
    pub(crate) invoice_prefix: String,
    /// Sequence number of the customer's next invoice, from 1.
    pub(crate) next_invoice_sequence: u64,
    /// `invoice_settings.default_payment_method`: what the customer's invoices are charged
    /// to when their subscription names no payment method.
    pub(crate) default_payment_method: Option<String>,
}

/// The price a subscription item or invoice line bills, copied when it was chosen: a
/// `price_data` price is not in the catalog, yet its item must still render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ItemPrice {
    pub(crate) id: String,
    pub(crate) product_id: String,
    pub(crate) product_name: String,
    pub(crate) currency: String,
    pub(crate) unit_amount: i64,
    /// `None` for a one-time price (a setup fee billed on the first invoice only).
    pub(crate) recurring: Option<Recurring>,
    /// When the price was made (a `price_data` price: when its session was created).
    pub(crate) created: i64,
}

/// One item of a subscription: a recurring price, a quantity and its own current period
/// (current API versions keep `current_period_start/end` on items, not on the subscription).
#[derive(Debug, Clone)]
pub(crate) struct SubscriptionItem {
    pub(crate) id: String,
    pub(crate) created: i64,
    pub(crate) price: ItemPrice,
    pub(crate) quantity: i64,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) current_period_start: i64,
    pub(crate) current_period_end: i64,
}

/// A subscription's lifecycle status, as Stripe spells it on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubscriptionStatus {
    Trialing,
    Active,
    /// Its latest invoice could not be collected; retries are scheduled.
    PastDue,
    /// Every retry failed and the account's setting says `unpaid`: invoices are still made
    /// but not collected.
    Unpaid,
    Paused,
    Canceled,
}

impl SubscriptionStatus {
    /// The wire value of `status`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Trialing => "trialing",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::PastDue => "past_due",
            SubscriptionStatus::Unpaid => "unpaid",
            SubscriptionStatus::Paused => "paused",
            SubscriptionStatus::Canceled => "canceled",
        }
    }
}

/// `pause_collection`: invoices are still created but not collected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PauseCollection {
    /// `keep_as_draft`, `mark_uncollectible` or `void`.
    pub(crate) behavior: String,
    pub(crate) resumes_at: Option<i64>,
}

/// A coupon applied to a subscription (Stripe's `discount`, `di_…`).
#[derive(Debug, Clone)]
pub(crate) struct SubscriptionDiscount {
    pub(crate) id: String,
    pub(crate) coupon_id: String,
    pub(crate) promotion_code: Option<String>,
    pub(crate) start: i64,
    /// When a `repeating` coupon stops applying; `None` for `forever` and `once` (a `once`
    /// discount is removed after the first invoice).
    pub(crate) end: Option<i64>,
    /// The coupon's `duration` when it was applied.
    pub(crate) duration: String,
}

/// What `trial_settings.end_behavior.missing_payment_method` says happens when a trial ends
/// and the subscription has no payment method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TrialEndBehavior {
    CreateInvoice,
    Pause,
    Cancel,
}

/// A Stripe Subscription.
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    pub(crate) id: String,
    pub(crate) customer: String,
    pub(crate) created: i64,
    pub(crate) start_date: i64,
    pub(crate) currency: String,
    pub(crate) status: SubscriptionStatus,
    pub(crate) items: Vec<SubscriptionItem>,
    pub(crate) billing_cycle_anchor: i64,
    pub(crate) cancel_at_period_end: bool,
    pub(crate) cancel_at: Option<i64>,
    pub(crate) canceled_at: Option<i64>,
    pub(crate) ended_at: Option<i64>,
    /// `cancellation_details`: reason (set by Stripe), feedback and comment (set by the caller).
    pub(crate) cancellation_reason: Option<String>,
    pub(crate) cancellation_feedback: Option<String>,
    pub(crate) cancellation_comment: Option<String>,
    pub(crate) trial_start: Option<i64>,
    pub(crate) trial_end: Option<i64>,
    pub(crate) trial_end_behavior: TrialEndBehavior,
    pub(crate) pause_collection: Option<PauseCollection>,
    /// The payment method checkout collected; `None` when it collected none (a free trial
    /// with `payment_method_collection=if_required`).
    pub(crate) default_payment_method: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) latest_invoice: Option<String>,
    pub(crate) discount: Option<SubscriptionDiscount>,
    /// Prorations recorded by `create_prorations` (Stripe's pending invoice items, `ii_…`),
    /// billed on the next invoice.
    pub(crate) pending: Vec<InvoiceLine>,
    /// Whether `customer.subscription.trial_will_end` went out for the current trial.
    pub(crate) trial_will_end_sent: bool,
}

/// How long before a trial ends Stripe sends `customer.subscription.trial_will_end`.
pub(crate) const TRIAL_WARNING_SECONDS: i64 = 3 * 24 * 60 * 60;

impl Subscription {
    /// Returns when the clock next has to act on this subscription: the end of the earliest
    /// item period (renewal or cancellation at period end), a trial end or `cancel_at`.
    pub(crate) fn next_due(&self) -> Option<i64> {
        match self.status {
            SubscriptionStatus::Canceled | SubscriptionStatus::Paused => None,
            SubscriptionStatus::Trialing
            | SubscriptionStatus::Active
            | SubscriptionStatus::PastDue
            | SubscriptionStatus::Unpaid => {
                let period_end = self.items.iter().map(|item| item.current_period_end).min();
                let trial = self
                    .trial_end
                    .filter(|_| self.status == SubscriptionStatus::Trialing);
                let trial_warning = trial
                    .filter(|_| !self.trial_will_end_sent)
                    .map(|end| end.saturating_sub(TRIAL_WARNING_SECONDS));
                [period_end, trial, trial_warning, self.cancel_at]
                    .into_iter()
                    .flatten()
                    .min()
            }
        }
    }
}

/// An invoice's lifecycle status, as Stripe spells it on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InvoiceStatus {
    Draft,
    Open,
    Paid,
    Uncollectible,
    Void,
}

impl InvoiceStatus {
    /// The wire value of `status`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Draft => "draft",
            InvoiceStatus::Open => "open",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Uncollectible => "uncollectible",
            InvoiceStatus::Void => "void",
        }
    }
}

/// One line of an invoice (`il_…`): a subscription item's period, a proration, or a one-time
/// item.
#[derive(Debug, Clone)]
pub(crate) struct InvoiceLine {
    pub(crate) id: String,
    /// Before discounts; negative for a credit.
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) description: String,
    pub(crate) quantity: i64,
    pub(crate) price: ItemPrice,
    pub(crate) period_start: i64,
    pub(crate) period_end: i64,
    pub(crate) proration: bool,
    pub(crate) subscription: Option<String>,
    /// The subscription item this line bills, for subscription item lines and prorations.
    pub(crate) subscription_item: Option<String>,
    /// The invoice item (`ii_…`) behind a proration or one-time line.
    pub(crate) invoice_item: Option<String>,
    /// This line's share of the invoice's discount.
    pub(crate) discount_amount: i64,
}

/// A Stripe Invoice.
#[derive(Debug, Clone)]
pub(crate) struct Invoice {
    pub(crate) id: String,
    pub(crate) number: Option<String>,
    pub(crate) customer: String,
    pub(crate) customer_email: Option<String>,
    pub(crate) customer_name: Option<String>,
    pub(crate) subscription: Option<String>,
    /// `subscription_create`, `subscription_update`, `subscription_cycle`, …
    pub(crate) billing_reason: String,
    pub(crate) currency: String,
    pub(crate) created: i64,
    pub(crate) status: InvoiceStatus,
    pub(crate) lines: Vec<InvoiceLine>,
    /// The discount (`di_…`) whose amounts the lines carry.
    pub(crate) discount: Option<String>,
    pub(crate) period_start: i64,
    pub(crate) period_end: i64,
    /// The succeeded PaymentIntent that paid it.
    pub(crate) payment_intent: Option<String>,
    pub(crate) finalized_at: Option<i64>,
    pub(crate) paid_at: Option<i64>,
    pub(crate) voided_at: Option<i64>,
    pub(crate) marked_uncollectible_at: Option<i64>,
    /// When a draft is finalized and collected by itself (`automatically_finalizes_at`): an
    /// hour after a renewal's draft, as Stripe does; `None` for a draft that waits.
    pub(crate) finalizes_at: Option<i64>,
    /// Payment attempts counted by the retry schedule.
    pub(crate) attempt_count: u32,
    /// Whether any attempt to pay it was made.
    pub(crate) attempted: bool,
    /// When the retry schedule attempts payment next.
    pub(crate) next_payment_attempt: Option<i64>,
}

impl Invoice {
    /// Returns when the clock next has to act on this invoice: a draft's finalization or an
    /// open invoice's next payment retry.
    pub(crate) fn next_due(&self) -> Option<i64> {
        match self.status {
            InvoiceStatus::Draft => self.finalizes_at,
            InvoiceStatus::Open => self.next_payment_attempt,
            InvoiceStatus::Paid | InvoiceStatus::Uncollectible | InvoiceStatus::Void => None,
        }
    }

    /// Sum of the lines before discounts.
    pub(crate) fn subtotal(&self) -> i64 {
        self.lines
            .iter()
            .fold(0i64, |sum, line| sum.saturating_add(line.amount))
    }

    /// What the discount takes off.
    pub(crate) fn discount_total(&self) -> i64 {
        self.lines
            .iter()
            .fold(0i64, |sum, line| sum.saturating_add(line.discount_amount))
    }

    /// Subtotal minus discounts; negative when prorations credit more than is charged.
    pub(crate) fn total(&self) -> i64 {
        self.subtotal().saturating_sub(self.discount_total())
    }

    /// What is charged: a negative total charges nothing (Stripe credits the customer's
    /// balance instead).
    pub(crate) fn amount_due(&self) -> i64 {
        self.total().max(0)
    }

    /// What was paid: the amount due once the invoice is paid.
    pub(crate) fn amount_paid(&self) -> i64 {
        if self.status == InvoiceStatus::Paid {
            self.amount_due()
        } else {
            0
        }
    }
}

/// A Stripe Charge: the payment behind a succeeded PaymentIntent, which refunds draw on.
#[derive(Debug, Clone)]
pub(crate) struct Charge {
    pub(crate) id: String,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) created: i64,
    pub(crate) customer: Option<String>,
    pub(crate) payment_intent: Option<String>,
    pub(crate) payment_method: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) billing_email: Option<String>,
    pub(crate) amount_refunded: i64,
    pub(crate) metadata: BTreeMap<String, String>,
    /// Refund ids, oldest first.
    pub(crate) refunds: Vec<String>,
    pub(crate) status: ChargeStatus,
    /// What paid (or failed to): the card or bank account behind `payment_method`.
    pub(crate) instrument: Instrument,
    /// Why it failed (`failure_code`, `failure_message`, `outcome`).
    pub(crate) failure: Option<Decline>,
    /// When a pending debit settles, as the instrument says.
    pub(crate) settles_at: Option<i64>,
}

/// A charge's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChargeStatus {
    /// A bank debit that has not settled yet.
    Pending,
    Succeeded,
    Failed,
}

impl ChargeStatus {
    /// The wire value of `status`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ChargeStatus::Pending => "pending",
            ChargeStatus::Succeeded => "succeeded",
            ChargeStatus::Failed => "failed",
        }
    }
}

/// A Stripe PaymentMethod (`pm_…`) made from a test card or IBAN, attached to a customer or not.
#[derive(Debug, Clone)]
pub(crate) struct PaymentMethod {
    pub(crate) id: String,
    pub(crate) created: i64,
    pub(crate) customer: Option<String>,
    pub(crate) billing_email: Option<String>,
    pub(crate) instrument: Instrument,
}

/// A Stripe Refund (`re_…`).
#[derive(Debug, Clone)]
pub(crate) struct Refund {
    pub(crate) id: String,
    pub(crate) amount: i64,
    pub(crate) charge: String,
    pub(crate) payment_intent: Option<String>,
    pub(crate) currency: String,
    pub(crate) created: i64,
    pub(crate) reason: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
}

/// A Stripe billing portal session (`bps_…`): a link to the sandbox's hosted portal page.
#[derive(Debug, Clone)]
pub(crate) struct PortalSession {
    pub(crate) id: String,
    pub(crate) customer: String,
    pub(crate) return_url: Option<String>,
    pub(crate) locale: Option<String>,
    pub(crate) created: i64,
    /// The account's API version when the session was made: the portal page's events are
    /// rendered for it.
    pub(crate) api_version: String,
}
