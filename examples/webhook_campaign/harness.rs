//! The webhook campaign: many deliveries to the Stripe and Creem verifiers — genuine ones and
//! mutated, stale, replayed-late, cross-secret and cross-gateway ones — each with its expected
//! verdict, counting every false accept (a forged delivery accepted) and false reject.
//!
//! Signatures are computed here with `hmac`/`sha2` from the gateways' published schemes
//! (Stripe: HMAC-SHA256 over `{t}.{body}`, header `t=…,v1=…`; Creem: hex HMAC-SHA256 of the
//! body in `creem-signature`), never with the adapters' own signing code.
//!
//! Shared by `examples/webhook_campaign` (100 000 deliveries) and `tests/webhook_campaign.rs`
//! (a smaller run in CI). No network.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderValue};
use payswitch::creem::{CreemConfig, CreemProvider};
use payswitch::stripe::{StripeConfig, StripeProvider};
use payswitch::{CheckoutProvider, ManualClock, PaymentError};
use sha2::Sha256;

const STRIPE_SECRET: &str = "whsec_campaign_current";
const STRIPE_OLD_SECRET: &str = "whsec_campaign_previous";
const CREEM_SECRET: &str = "creem_whsec_campaign";
const CREEM_OLD_SECRET: &str = "creem_whsec_campaign_previous";
const FOREIGN_SECRET: &str = "whsec_someone_else";
const NOW: i64 = 1_800_000_000;
/// Creem's webhook `created_at` is in milliseconds.
const NOW_MS: i64 = NOW * 1000;
const TOLERANCE: i64 = 300;

/// What one delivery is, and whether a correct verifier accepts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Case {
    /// Signed now with the current secret: accept.
    Genuine,
    /// Signed now with the previous (still configured) secret: accept.
    RotatedSecret,
    /// A genuine delivery repeated within the tolerance: accept (deduplication is the
    /// application's job, by event id).
    ReplayedInTime,
    /// A genuine delivery repeated after the tolerance (Stripe) or the configured maximum age
    /// (Creem): reject.
    ReplayedLate,
    /// One byte of the body changed after signing: reject.
    BodyFlipped,
    /// The body cut short after signing: reject.
    BodyTruncated,
    /// Bytes appended to the body after signing: reject.
    BodyExtended,
    /// One hex digit of the signature changed: reject.
    SignatureFlipped,
    /// Signed with a secret the verifier does not hold: reject.
    ForeignSecret,
    /// Another delivery's signature on this body: reject.
    SwappedSignature,
    /// Stripe only: the timestamp in the header changed after signing: reject.
    TimestampShifted,
    /// Stripe only: only a `v0` (test-mode scheme) signature: reject.
    DowngradedScheme,
    /// The other gateway's signature scheme and header on this body: reject.
    CrossGateway,
    /// No signature header: reject.
    Unsigned,
}

impl Case {
    const ALL: [Case; 14] = [
        Case::Genuine,
        Case::RotatedSecret,
        Case::ReplayedInTime,
        Case::ReplayedLate,
        Case::BodyFlipped,
        Case::BodyTruncated,
        Case::BodyExtended,
        Case::SignatureFlipped,
        Case::ForeignSecret,
        Case::SwappedSignature,
        Case::TimestampShifted,
        Case::DowngradedScheme,
        Case::CrossGateway,
        Case::Unsigned,
    ];

    fn accepted(self) -> bool {
        matches!(
            self,
            Case::Genuine | Case::RotatedSecret | Case::ReplayedInTime
        )
    }
}

/// The campaign's outcome.
#[derive(Debug, Default)]
pub struct CampaignReport {
    /// Deliveries made, by gateway and case.
    pub deliveries: BTreeMap<(String, Case), usize>,
    /// Forged or stale deliveries accepted (must be 0).
    pub false_accepts: usize,
    /// Genuine deliveries refused (must be 0).
    pub false_rejects: usize,
    /// The first few mistakes, for the report.
    pub mistakes: Vec<String>,
}

impl CampaignReport {
    /// All deliveries.
    pub fn total(&self) -> usize {
        self.deliveries.values().sum()
    }
}

/// A small deterministic generator (xorshift64*): repeatable choices, no dependency.
struct Choices(u64);

impl Choices {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let value = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        usize::try_from(value % u64::try_from(bound.max(1)).unwrap_or(1)).unwrap_or(0)
    }
}

fn hmac_hex(secret: &str, parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

fn stripe_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let signature = hmac_hex(secret, &[timestamp.to_string().as_bytes(), b".", body]);
    format!("t={timestamp},v1={signature}")
}

fn headers(name: &str, value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(
            http::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            value,
        );
    }
    headers
}

fn stripe_body(index: usize) -> Vec<u8> {
    format!(
        r#"{{"id":"evt_campaign_{index}","object":"event","api_version":"2026-10-28.endive","created":{NOW},"type":"checkout.session.completed","livemode":false,"pending_webhooks":1,"request":{{"id":null,"idempotency_key":null}},"data":{{"object":{{"id":"cs_test_campaign_{index}","object":"checkout.session","status":"complete","payment_status":"paid","mode":"payment","amount_total":1999,"currency":"usd","client_reference_id":"order-{index}","metadata":{{}}}}}}}}"#
    )
    .into_bytes()
}

fn creem_body(index: usize, created_at_ms: i64) -> Vec<u8> {
    format!(
        r#"{{"id":"evt_campaign_{index}","eventType":"checkout.completed","created_at":{created_at_ms},"object":{{"id":"ch_campaign_{index}","object":"checkout","request_id":"order-{index}","status":"completed","mode":"test","metadata":{{}}}}}}"#
    )
    .into_bytes()
}

/// Changes one hex digit of the first signature in `value` (after `v1=`, or the whole value).
fn flip_hex(value: &str, choices: &mut Choices) -> String {
    let start = value.find("v1=").map_or(0, |at| at + 3);
    let mut bytes = value.as_bytes().to_vec();
    let span = bytes.len().saturating_sub(start).max(1);
    let at = (start + choices.below(span)).min(bytes.len() - 1);
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    String::from_utf8(bytes).expect("ascii")
}

fn mutate_body(body: &[u8], case: Case, choices: &mut Choices) -> Vec<u8> {
    let mut body = body.to_vec();
    match case {
        Case::BodyFlipped => {
            let at = choices.below(body.len());
            body[at] ^= 1 << choices.below(8);
        }
        Case::BodyTruncated => {
            let keep = choices.below(body.len());
            body.truncate(keep);
        }
        Case::BodyExtended => body.extend_from_slice(b" "),
        _ => {}
    }
    body
}

/// One Stripe delivery of `case`: headers, body.
fn stripe_delivery(index: usize, case: Case, choices: &mut Choices) -> (HeaderMap, Vec<u8>) {
    let body = stripe_body(index);
    let header = |secret: &str, at: i64, body: &[u8]| {
        headers("Stripe-Signature", &stripe_header(secret, at, body))
    };
    match case {
        Case::Genuine => (header(STRIPE_SECRET, NOW, &body), body),
        Case::RotatedSecret => (header(STRIPE_OLD_SECRET, NOW, &body), body),
        Case::ReplayedInTime => {
            let at = NOW
                - i64::try_from(choices.below(usize::try_from(TOLERANCE).unwrap_or(0)))
                    .unwrap_or(0);
            (header(STRIPE_SECRET, at, &body), body)
        }
        Case::ReplayedLate => {
            let late = TOLERANCE + 1 + i64::try_from(choices.below(86_400)).unwrap_or(0);
            (header(STRIPE_SECRET, NOW - late, &body), body)
        }
        Case::BodyFlipped | Case::BodyTruncated | Case::BodyExtended => {
            let signed = header(STRIPE_SECRET, NOW, &body);
            (signed, mutate_body(&body, case, choices))
        }
        Case::SignatureFlipped => {
            let value = flip_hex(&stripe_header(STRIPE_SECRET, NOW, &body), choices);
            (headers("Stripe-Signature", &value), body)
        }
        Case::ForeignSecret => (header(FOREIGN_SECRET, NOW, &body), body),
        Case::SwappedSignature => {
            let other = stripe_body(index + 1);
            (header(STRIPE_SECRET, NOW, &other), body)
        }
        Case::TimestampShifted => {
            let signature = hmac_hex(STRIPE_SECRET, &[NOW.to_string().as_bytes(), b".", &body]);
            let shifted = NOW - 1 - i64::try_from(choices.below(200)).unwrap_or(0);
            (
                headers("Stripe-Signature", &format!("t={shifted},v1={signature}")),
                body,
            )
        }
        Case::DowngradedScheme => {
            let signature = hmac_hex(STRIPE_SECRET, &[NOW.to_string().as_bytes(), b".", &body]);
            (
                headers("Stripe-Signature", &format!("t={NOW},v0={signature}")),
                body,
            )
        }
        Case::CrossGateway => (
            headers("creem-signature", &hmac_hex(STRIPE_SECRET, &[&body])),
            body,
        ),
        Case::Unsigned => (HeaderMap::new(), body),
    }
}

/// One Creem delivery of `case`: headers, body. (Creem signs no timestamp in a header: the
/// body's `created_at` is what the opt-in maximum age checks.)
fn creem_delivery(
    index: usize,
    case: Case,
    choices: &mut Choices,
    max_age: i64,
) -> (HeaderMap, Vec<u8>) {
    let signed = |body: &[u8], secret: &str| headers("creem-signature", &hmac_hex(secret, &[body]));
    let fresh = creem_body(index, NOW_MS);
    match case {
        Case::Genuine => (signed(&fresh, CREEM_SECRET), fresh),
        Case::RotatedSecret => (signed(&fresh, CREEM_OLD_SECRET), fresh),
        Case::ReplayedInTime => {
            let age_ms = i64::try_from(choices.below(usize::try_from(max_age * 1000).unwrap_or(0)))
                .unwrap_or(0);
            let body = creem_body(index, NOW_MS - age_ms);
            (signed(&body, CREEM_SECRET), body)
        }
        Case::ReplayedLate => {
            let late_ms =
                (max_age + 1) * 1000 + i64::try_from(choices.below(86_400_000)).unwrap_or(0);
            let body = creem_body(index, NOW_MS - late_ms);
            (signed(&body, CREEM_SECRET), body)
        }
        Case::BodyFlipped | Case::BodyTruncated | Case::BodyExtended => (
            signed(&fresh, CREEM_SECRET),
            mutate_body(&fresh, case, choices),
        ),
        Case::SignatureFlipped => {
            let value = flip_hex(&hmac_hex(CREEM_SECRET, &[&fresh]), choices);
            (headers("creem-signature", &value), fresh)
        }
        Case::ForeignSecret => (signed(&fresh, FOREIGN_SECRET), fresh),
        Case::SwappedSignature => (signed(&creem_body(index + 1, NOW_MS), CREEM_SECRET), fresh),
        // Stripe-only header tricks become a Stripe-style header on a Creem body.
        Case::TimestampShifted | Case::DowngradedScheme | Case::CrossGateway => (
            headers(
                "Stripe-Signature",
                &stripe_header(CREEM_SECRET, NOW, &fresh),
            ),
            fresh,
        ),
        Case::Unsigned => (HeaderMap::new(), fresh),
    }
}

/// Runs `deliveries` deliveries, spread evenly over both gateways and every case.
pub fn run(deliveries: usize, seed: u64) -> Result<CampaignReport, PaymentError> {
    let clock = Arc::new(ManualClock::at_unix(NOW));
    let max_age = 600;
    let stripe = StripeProvider::builder(
        StripeConfig::new("sk_test_campaign")
            .with_webhook_secret(STRIPE_SECRET)
            .with_webhook_secret(STRIPE_OLD_SECRET),
    )
    .clock(clock.clone())
    .webhook_tolerance(Duration::from_secs(u64::try_from(TOLERANCE).unwrap_or(300)))
    .build()?;
    let creem = CreemProvider::builder(
        CreemConfig::new("creem_test_campaign")
            .with_webhook_secret(CREEM_SECRET)
            .with_webhook_secret(CREEM_OLD_SECRET),
    )
    .clock(clock)
    .webhook_max_age(Duration::from_secs(u64::try_from(max_age).unwrap_or(600)))
    .build()?;
    let mut report = CampaignReport::default();
    let mut choices = Choices(seed.max(1));
    for index in 0..deliveries {
        let case = Case::ALL[index % Case::ALL.len()];
        let stripe_side = (index / Case::ALL.len()) % 2 == 0;
        let (gateway, provider, (headers, body)): (&str, &dyn CheckoutProvider, _) = if stripe_side
        {
            (
                "stripe",
                &stripe,
                stripe_delivery(index, case, &mut choices),
            )
        } else {
            (
                "creem",
                &creem,
                creem_delivery(index, case, &mut choices, max_age),
            )
        };
        *report
            .deliveries
            .entry((gateway.to_owned(), case))
            .or_default() += 1;
        let outcome = provider.verify_webhook(&headers, &body);
        let accepted = match &outcome {
            Ok(_) => true,
            // A verified body that does not decode is not an accept, but it is not a forged
            // one either: the signature held. Only a signature refusal counts as a reject.
            Err(PaymentError::Signature(_)) => false,
            Err(_) => true,
        };
        if accepted != case.accepted() {
            if accepted {
                report.false_accepts += 1;
            } else {
                report.false_rejects += 1;
            }
            if report.mistakes.len() < 10 {
                report
                    .mistakes
                    .push(format!("{gateway} {case:?} #{index}: {outcome:?}"));
            }
        }
    }
    Ok(report)
}

/// The report as printed and quoted in docs/reliability.md.
pub fn describe(report: &CampaignReport) -> String {
    let mut text = format!(
        "webhook campaign: {} deliveries\n  false accepts: {}\n  false rejects: {}\n",
        report.total(),
        report.false_accepts,
        report.false_rejects
    );
    for ((gateway, case), count) in &report.deliveries {
        text.push_str(&format!("  {gateway:6} {case:?}: {count}\n"));
    }
    for mistake in &report.mistakes {
        text.push_str(&format!("  MISTAKE {mistake}\n"));
    }
    text
}
