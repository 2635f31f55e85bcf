//! [`DeliveryModes`]: the hostile ways the sandbox can deliver webhooks, as real gateways
//! sometimes do (twice, out of order, late, after lost attempts, again days later), set for
//! every endpoint or for one endpoint URL; their text form for the CLI and the admin API; and
//! [`DeliverySettings`], the modes in force with the random source each scope draws from.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::error::SandboxError;

/// Longest duplicate gap, delivery delay or reorder window: 5 minutes, as for `Delay` faults.
/// Each one keeps a delivery task (and a pending-delivery slot) waiting that long.
pub const MAX_DELIVERY_WAIT: Duration = Duration::from_secs(5 * 60);

/// Longest `redeliver_old` age: 365 days of sandbox time. Old events wait in a bounded queue,
/// so an age past any plausible test only fills it.
pub const MAX_REDELIVERY_AGE: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// How the events of one batch are put out of order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reorder {
    /// Last emitted, first delivered.
    Reverse,
    /// A permutation drawn from the seed; never the emitted order when a batch has two or more
    /// events.
    Shuffle,
}

/// `duplicate`: every event is delivered a second time, `gap_ms` after the first attempt that
/// reached the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DuplicateMode {
    #[serde(default)]
    pub(crate) gap_ms: u64,
}

/// `reorder`: the events of one batch are delivered in another order. A batch is what one
/// flush emits (everything one payment or API call causes) or, with `window_ms`, everything
/// emitted for the endpoint within that window after its first event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReorderMode {
    pub(crate) order: Reorder,
    #[serde(default)]
    pub(crate) window_ms: u64,
}

/// `delay`: each event waits this long (a fixed time, or drawn between the bounds) before its
/// first attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DelayMode {
    pub(crate) min_ms: u64,
    #[serde(default)]
    pub(crate) max_ms: Option<u64>,
}

impl DelayMode {
    /// The upper bound: `max_ms`, or `min_ms` for a fixed delay.
    pub(crate) fn upper_ms(&self) -> u64 {
        self.max_ms.unwrap_or(self.min_ms)
    }
}

/// `drop`: the first `attempts` attempts of each event are lost (as if the endpoint timed out)
/// and retried on the gateway's retry schedule, on the sandbox clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DropMode {
    pub(crate) attempts: u32,
}

/// `redeliver_old`: an event the endpoint accepted is delivered again once it is
/// `after_seconds` old on the sandbox clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RedeliverMode {
    pub(crate) after_seconds: u64,
}

/// Hostile webhook delivery: the misbehaviours of real gateways, on request. Empty (the
/// default) delivers each event once, at once, retrying failures with the
/// [`RetryPolicy`](crate::RetryPolicy). Modes combine; set them for every endpoint
/// ([`SandboxBuilder::delivery_modes`](crate::SandboxBuilder::delivery_modes)) or for one URL,
/// which then uses its own modes instead of the global ones.
///
/// ```
/// use std::time::Duration;
/// use payswitch_sandbox::{DeliveryModes, Reorder};
///
/// let modes = DeliveryModes::new()
///     .duplicate(Duration::from_millis(50))
///     .reorder(Reorder::Shuffle)
///     .seed(7);
/// assert_eq!(modes.to_string(), "duplicate=50ms,reorder=shuffle,seed=7");
/// assert_eq!("duplicate=50ms,reorder=shuffle,seed=7".parse::<DeliveryModes>().unwrap(), modes);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryModes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) duplicate: Option<DuplicateMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reorder: Option<ReorderMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) delay: Option<DelayMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) drop: Option<DropMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) redeliver_old: Option<RedeliverMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) seed: Option<u64>,
}

/// Milliseconds of a duration, saturating.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl DeliveryModes {
    /// Returns no modes: each event delivered once, at once.
    pub fn new() -> Self {
        Self::default()
    }

    /// Delivers every event twice: the second delivery (same id and body, freshly signed)
    /// starts `gap` after the first attempt that reached the endpoint. A zero gap sends both
    /// at once, so the receiver's handling of concurrent duplicates is tested.
    pub fn duplicate(mut self, gap: Duration) -> Self {
        self.duplicate = Some(DuplicateMode {
            gap_ms: millis(gap),
        });
        self
    }

    /// Delivers the events of each flush (everything one payment or API call emits) in
    /// another order, one after another.
    pub fn reorder(self, order: Reorder) -> Self {
        self.reorder_within(order, Duration::ZERO)
    }

    /// Like [`DeliveryModes::reorder`], but holds an endpoint's events for `window` after the
    /// first one and reorders everything emitted meanwhile, so events of separate calls (a
    /// subscription's `created` and a later `updated`) swap too.
    pub fn reorder_within(mut self, order: Reorder, window: Duration) -> Self {
        self.reorder = Some(ReorderMode {
            order,
            window_ms: millis(window),
        });
        self
    }

    /// Waits `delay` before each event's first attempt.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(DelayMode {
            min_ms: millis(delay),
            max_ms: None,
        });
        self
    }

    /// Waits a time drawn between `min` and `max` (inclusive) before each event's first
    /// attempt; events of separate calls can overtake each other.
    pub fn delay_between(mut self, min: Duration, max: Duration) -> Self {
        self.delay = Some(DelayMode {
            min_ms: millis(min),
            max_ms: Some(millis(max)),
        });
        self
    }

    /// Loses the first `attempts` attempts of each event, as if the endpoint had timed out,
    /// and retries on the gateway's own retry schedule, on the sandbox clock:
    /// [`SandboxHandle::advance_clock`](crate::SandboxHandle::advance_clock) brings the next
    /// attempt forward instead of waiting hours. With 0 nothing is lost, but real failures
    /// are retried on that schedule too.
    pub fn drop_attempts(mut self, attempts: u32) -> Self {
        self.drop = Some(DropMode { attempts });
        self
    }

    /// Delivers each event the endpoint accepted once more, when it is `age` old on the
    /// sandbox clock, as a gateway re-sending an old event does.
    pub fn redeliver_after(mut self, age: Duration) -> Self {
        self.redeliver_old = Some(RedeliverMode {
            after_seconds: age.as_secs(),
        });
        self
    }

    /// Seeds the random choices (shuffled orders, ranged delays), so a run repeats exactly.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Whether no mode is set (the seed alone changes nothing).
    pub fn is_empty(&self) -> bool {
        self.duplicate.is_none()
            && self.reorder.is_none()
            && self.delay.is_none()
            && self.drop.is_none()
            && self.redeliver_old.is_none()
    }

    /// The reorder window, when events are held for one.
    pub(crate) fn reorder_window(&self) -> Option<Duration> {
        self.reorder
            .filter(|reorder| reorder.window_ms > 0)
            .map(|reorder| Duration::from_millis(reorder.window_ms))
    }

    /// Refuses modes the sandbox would not apply as given.
    ///
    /// # Errors
    /// [`SandboxError::InvalidDeliveryMode`] for a wait past [`MAX_DELIVERY_WAIT`], a delay
    /// range whose minimum is above its maximum, or an age past [`MAX_REDELIVERY_AGE`].
    pub fn check(&self) -> Result<(), SandboxError> {
        let limit = millis(MAX_DELIVERY_WAIT);
        let too_long = |what: &str, value: u64| {
            (value > limit).then(|| {
                SandboxError::InvalidDeliveryMode(format!(
                    "{what} of {value} ms is longer than the {limit} ms the sandbox allows"
                ))
            })
        };
        let waits = [
            ("duplicate gap", self.duplicate.map(|mode| mode.gap_ms)),
            ("reorder window", self.reorder.map(|mode| mode.window_ms)),
            ("delay", self.delay.map(|mode| mode.upper_ms())),
            ("delay", self.delay.map(|mode| mode.min_ms)),
        ];
        for (what, value) in waits {
            if let Some(error) = value.and_then(|value| too_long(what, value)) {
                return Err(error);
            }
        }
        if let Some(delay) = self.delay {
            if delay.min_ms > delay.upper_ms() {
                return Err(SandboxError::InvalidDeliveryMode(format!(
                    "delay range {}-{} ms has its minimum above its maximum",
                    delay.min_ms,
                    delay.upper_ms()
                )));
            }
        }
        if let Some(redeliver) = self.redeliver_old {
            if redeliver.after_seconds > MAX_REDELIVERY_AGE.as_secs() {
                return Err(SandboxError::InvalidDeliveryMode(format!(
                    "redeliver_old age of {} s is longer than the {} s the sandbox allows",
                    redeliver.after_seconds,
                    MAX_REDELIVERY_AGE.as_secs()
                )));
            }
        }
        Ok(())
    }
}

/// Writes a duration in the largest unit that keeps it whole (`250ms`, `30s`, `3d`).
fn write_millis(formatter: &mut fmt::Formatter<'_>, millis: u64) -> fmt::Result {
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if millis > 0 && millis % size == 0 {
            return write!(formatter, "{}{unit}", millis / size);
        }
    }
    write!(formatter, "{millis}ms")
}

impl fmt::Display for DeliveryModes {
    /// Writes the modes in the form [`FromStr`] reads (`none` when empty).
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut separator = |formatter: &mut fmt::Formatter<'_>| {
            let result = if first {
                Ok(())
            } else {
                formatter.write_str(",")
            };
            first = false;
            result
        };
        if let Some(duplicate) = self.duplicate {
            separator(formatter)?;
            formatter.write_str("duplicate=")?;
            write_millis(formatter, duplicate.gap_ms)?;
        }
        if let Some(reorder) = self.reorder {
            separator(formatter)?;
            formatter.write_str(match reorder.order {
                Reorder::Reverse => "reorder=reverse",
                Reorder::Shuffle => "reorder=shuffle",
            })?;
            if reorder.window_ms > 0 {
                formatter.write_str(",window=")?;
                write_millis(formatter, reorder.window_ms)?;
            }
        }
        if let Some(delay) = self.delay {
            separator(formatter)?;
            formatter.write_str("delay=")?;
            write_millis(formatter, delay.min_ms)?;
            if let Some(max) = delay.max_ms {
                formatter.write_str("-")?;
                write_millis(formatter, max)?;
            }
        }
        if let Some(drop) = self.drop {
            separator(formatter)?;
            write!(formatter, "drop={}", drop.attempts)?;
        }
        if let Some(redeliver) = self.redeliver_old {
            separator(formatter)?;
            formatter.write_str("redeliver_old=")?;
            write_millis(formatter, redeliver.after_seconds.saturating_mul(1000))?;
        }
        if let Some(seed) = self.seed {
            separator(formatter)?;
            write!(formatter, "seed={seed}")?;
        }
        if first {
            formatter.write_str("none")?;
        }
        Ok(())
    }
}

/// Reads a duration with its unit: `250ms`, `30s`, `5m`, `2h`, `3d`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &text[digits.len()..];
    let value: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 250ms, 30s, 5m, 2h or 3d"))?;
    let unit_millis: u64 = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => {
            return Err(format!(
                "{text:?} needs a unit: ms, s, m, h or d (e.g. 250ms, 3d)"
            ))
        }
    };
    Ok(Duration::from_millis(value.saturating_mul(unit_millis)))
}

fn parse_number<T: FromStr>(key: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{key}={value}: not a whole number"))
}

impl FromStr for DeliveryModes {
    type Err = SandboxError;

    /// Reads comma-separated modes: `duplicate` or `duplicate=GAP`, `reorder=reverse|shuffle`
    /// (with `window=TIME`), `delay=TIME` or `delay=MIN-MAX`, `drop=N`, `redeliver_old=AGE`,
    /// `seed=N`; `none` or an empty string for none. Times carry a unit: `250ms`, `30s`, `5m`,
    /// `2h`, `3d`.
    ///
    /// # Errors
    /// [`SandboxError::InvalidDeliveryMode`] naming the part that cannot be read, or what
    /// [`DeliveryModes::check`] refuses.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut modes = DeliveryModes::new();
        let mut window = None;
        for part in text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
        {
            let (key, value) = match part.split_once('=') {
                Some((key, value)) => (key.trim(), Some(value.trim())),
                None => (part, None),
            };
            modes = match (key, value) {
                ("none", None) => modes,
                ("duplicate", None) => modes.duplicate(Duration::ZERO),
                ("duplicate", Some(gap)) => modes.duplicate(parse_duration(gap).map_err(invalid)?),
                ("reorder", Some("reverse")) => modes.reorder(Reorder::Reverse),
                ("reorder", Some("shuffle")) => modes.reorder(Reorder::Shuffle),
                ("window", Some(time)) => {
                    window = Some(parse_duration(time).map_err(invalid)?);
                    modes
                }
                ("delay", Some(range)) => match range.split_once('-') {
                    Some((min, max)) => modes.delay_between(
                        parse_duration(min.trim()).map_err(invalid)?,
                        parse_duration(max.trim()).map_err(invalid)?,
                    ),
                    None => modes.delay(parse_duration(range).map_err(invalid)?),
                },
                ("drop", Some(count)) => {
                    modes.drop_attempts(parse_number(key, count).map_err(invalid)?)
                }
                ("redeliver_old", Some(age)) => {
                    modes.redeliver_after(parse_duration(age).map_err(invalid)?)
                }
                ("seed", Some(seed)) => modes.seed(parse_number(key, seed).map_err(invalid)?),
                _ => {
                    return Err(invalid(format!(
                        "{part:?} is not a delivery mode; use duplicate[=GAP], \
                         reorder=reverse|shuffle, window=TIME, delay=TIME[-TIME], drop=N, \
                         redeliver_old=AGE, seed=N or none"
                    )))
                }
            };
        }
        if let Some(window) = window {
            let Some(reorder) = modes.reorder else {
                return Err(invalid(
                    "window= needs reorder=reverse or reorder=shuffle".to_owned(),
                ));
            };
            modes = modes.reorder_within(reorder.order, window);
        }
        modes.check()?;
        Ok(modes)
    }
}

fn invalid(message: String) -> SandboxError {
    SandboxError::InvalidDeliveryMode(message)
}

/// The modes of one scope (every endpoint, or one URL) and the random source its batches draw
/// from, seeded when the modes are set.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    pub(crate) modes: DeliveryModes,
    pub(crate) random: StdRng,
}

impl Scope {
    fn new(modes: DeliveryModes) -> Self {
        let random = match modes.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_rng(&mut rand::rng()),
        };
        Self { modes, random }
    }
}

impl Default for Scope {
    fn default() -> Self {
        Self::new(DeliveryModes::new())
    }
}

/// Most endpoint URLs with modes of their own; more are refused, so the admin API cannot grow
/// the table without bound.
pub(crate) const MAX_ENDPOINT_MODES: usize = 100;

/// The delivery modes in force: the global ones and the URLs that have their own.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeliverySettings {
    global: Scope,
    endpoints: BTreeMap<String, Scope>,
}

/// What `GET /__sandbox/delivery` shows.
#[derive(Debug, Serialize)]
pub(crate) struct DeliverySettingsView {
    global: DeliveryModes,
    endpoints: BTreeMap<String, DeliveryModes>,
}

impl DeliverySettings {
    /// The settings a builder configured: `global` modes and URLs with their own.
    ///
    /// # Errors
    /// [`SandboxError::InvalidDeliveryMode`] when a set of modes fails
    /// [`DeliveryModes::check`] or too many URLs have their own.
    pub(crate) fn configured(
        global: &DeliveryModes,
        endpoints: &[(String, DeliveryModes)],
    ) -> Result<Self, SandboxError> {
        global.check()?;
        let mut settings = Self::default();
        settings.set_global(global.clone());
        for (url, modes) in endpoints {
            modes.check()?;
            settings.set_endpoint(url, modes.clone())?;
        }
        Ok(settings)
    }

    /// Sets the modes of every endpoint that has none of its own.
    pub(crate) fn set_global(&mut self, modes: DeliveryModes) {
        self.global = Scope::new(modes);
    }

    /// Gives `url` modes of its own, used instead of the global ones.
    ///
    /// # Errors
    /// [`SandboxError::InvalidDeliveryMode`] when [`MAX_ENDPOINT_MODES`] URLs already have
    /// their own.
    pub(crate) fn set_endpoint(
        &mut self,
        url: &str,
        modes: DeliveryModes,
    ) -> Result<(), SandboxError> {
        if !self.endpoints.contains_key(url) && self.endpoints.len() >= MAX_ENDPOINT_MODES {
            return Err(SandboxError::InvalidDeliveryMode(format!(
                "at most {MAX_ENDPOINT_MODES} endpoint URLs can have modes of their own"
            )));
        }
        self.endpoints.insert(url.to_owned(), Scope::new(modes));
        Ok(())
    }

    /// Forgets every mode: plain delivery everywhere.
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }

    /// The scope whose modes apply to `url`.
    pub(crate) fn scope_for(&mut self, url: &str) -> &mut Scope {
        match self.endpoints.get_mut(url) {
            Some(scope) => scope,
            None => &mut self.global,
        }
    }

    /// The modes that apply to `url`.
    pub(crate) fn modes_for(&self, url: &str) -> &DeliveryModes {
        &self.endpoints.get(url).unwrap_or(&self.global).modes
    }

    /// The settings as the admin API shows them.
    pub(crate) fn view(&self) -> DeliverySettingsView {
        DeliverySettingsView {
            global: self.global.modes.clone(),
            endpoints: self
                .endpoints
                .iter()
                .map(|(url, scope)| (url.clone(), scope.modes.clone()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_reads_every_mode() {
        let cases: [(&str, DeliveryModes); 9] = [
            ("", DeliveryModes::new()),
            ("none", DeliveryModes::new()),
            ("duplicate", DeliveryModes::new().duplicate(Duration::ZERO)),
            (
                "duplicate=250ms",
                DeliveryModes::new().duplicate(Duration::from_millis(250)),
            ),
            (
                "reorder=shuffle, window=2s, seed=9",
                DeliveryModes::new()
                    .reorder_within(Reorder::Shuffle, Duration::from_secs(2))
                    .seed(9),
            ),
            (
                "delay=100ms-1s",
                DeliveryModes::new()
                    .delay_between(Duration::from_millis(100), Duration::from_secs(1)),
            ),
            (
                "delay=5m",
                DeliveryModes::new().delay(Duration::from_secs(300)),
            ),
            ("drop=2", DeliveryModes::new().drop_attempts(2)),
            (
                "redeliver_old=3d,reorder=reverse",
                DeliveryModes::new()
                    .redeliver_after(Duration::from_secs(3 * 86_400))
                    .reorder(Reorder::Reverse),
            ),
        ];
        for (text, expected) in cases {
            let parsed: DeliveryModes = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(parsed, expected, "{text}");
            // What Display writes reads back the same.
            let again: DeliveryModes = parsed.to_string().parse().expect("round trip");
            assert_eq!(again, expected, "{text} -> {parsed}");
        }
    }

    #[test]
    fn text_form_refuses_what_it_cannot_apply() {
        for text in [
            "duplicat",
            "duplicate=5",
            "delay=2s-1s",
            "delay=6m",
            "reorder=sideways",
            "reorder",
            "window=1s",
            "drop=-1",
            "drop=two",
            "seed=x",
            "redeliver_old=400d",
            "delay=1y",
        ] {
            assert!(
                matches!(
                    text.parse::<DeliveryModes>(),
                    Err(SandboxError::InvalidDeliveryMode(_))
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn json_form_is_nested_and_strict() {
        let modes: DeliveryModes = serde_json::from_str(
            r#"{"duplicate": {"gap_ms": 20}, "reorder": {"order": "reverse"},
                "delay": {"min_ms": 5, "max_ms": 10}, "drop": {"attempts": 1},
                "redeliver_old": {"after_seconds": 60}, "seed": 3}"#,
        )
        .expect("modes");
        assert_eq!(
            modes,
            DeliveryModes::new()
                .duplicate(Duration::from_millis(20))
                .reorder(Reorder::Reverse)
                .delay_between(Duration::from_millis(5), Duration::from_millis(10))
                .drop_attempts(1)
                .redeliver_after(Duration::from_secs(60))
                .seed(3)
        );
        assert!(serde_json::from_str::<DeliveryModes>(r#"{"duplicat": {}}"#).is_err());
        assert_eq!(
            serde_json::to_value(DeliveryModes::new()).expect("json"),
            serde_json::json!({})
        );
    }

    #[test]
    fn an_endpoint_of_its_own_replaces_the_global_modes() {
        let mut settings = DeliverySettings::default();
        settings.set_global(DeliveryModes::new().drop_attempts(1));
        settings
            .set_endpoint("http://a.test/hook", DeliveryModes::new())
            .expect("room");
        assert!(settings.modes_for("http://a.test/hook").is_empty());
        assert_eq!(
            settings.modes_for("http://b.test/hook"),
            &DeliveryModes::new().drop_attempts(1)
        );
        for index in 1..MAX_ENDPOINT_MODES {
            settings
                .set_endpoint(&format!("http://{index}.test/"), DeliveryModes::new())
                .expect("room");
        }
        assert!(settings
            .set_endpoint("http://one-too-many.test/", DeliveryModes::new())
            .is_err());
        // Replacing a URL's modes needs no new room.
        assert!(settings
            .set_endpoint("http://a.test/hook", DeliveryModes::new())
            .is_ok());
    }
}
