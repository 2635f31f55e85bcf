//! [`ProviderKind`]: which gateway a provider, a result or an error belongs to.
//!
//! A leaf module: it imports nothing else of the crate, so every other module may use it.

use std::fmt;
use std::sync::Mutex;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How many distinct names [`ProviderKind::from_name`] will ever intern. Each interned name
/// is leaked once (a kind holds a `&'static str`), so the bound caps what hostile input could
/// leak at a few kilobytes; real deployments know a handful of gateways.
pub const MAX_INTERNED_KINDS: usize = 64;

/// The longest name [`ProviderKind::from_name`] accepts.
const MAX_NAME_LEN: usize = 32;

/// Names interned so far, so each is leaked at most once.
static INTERNED: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

/// Which gateway a provider talks to, by the lower-case name configuration uses.
///
/// Core knows no gateway by name: each gateway crate defines its own kind as a constant
/// (for example `payswitch_stripe::KIND`), and this crate defines only the kinds of its own
/// test double ([`ProviderKind::MEMORY`]). Two kinds are equal when their names are.
///
/// ```
/// use payswitch_core::ProviderKind;
/// const PADDLE: ProviderKind = ProviderKind::new("paddle");
/// assert_eq!(PADDLE.name(), "paddle");
/// assert_eq!(PADDLE.to_string(), "paddle");
/// assert_ne!(PADDLE, ProviderKind::MEMORY);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderKind(&'static str);

impl ProviderKind {
    /// The in-memory gateway, [`MemoryProvider`](crate::memory::MemoryProvider).
    pub const MEMORY: ProviderKind = ProviderKind("memory");

    /// A kind named `name`: lower-case, as written after `provider =` in configuration.
    pub const fn new(name: &'static str) -> Self {
        Self(name)
    }

    /// The lower-case name used in configuration (`provider = "…"`).
    pub const fn name(&self) -> &'static str {
        self.0
    }

    /// The kind named `name`, from text read at run time (a stored event, a database row).
    ///
    /// The name must look like a configuration name: 1 to 32 characters of `a-z`, `0-9`,
    /// `_` or `-`. A name seen for the first time is interned (kept for the life of the
    /// process); at most [`MAX_INTERNED_KINDS`] distinct names are, after which unknown names
    /// return `None`. The result equals the gateway crate's constant of the same name.
    ///
    /// ```
    /// use payswitch_core::ProviderKind;
    /// assert_eq!(ProviderKind::from_name("memory"), Some(ProviderKind::MEMORY));
    /// assert_eq!(ProviderKind::from_name("paddle").map(|kind| kind.name()), Some("paddle"));
    /// assert_eq!(ProviderKind::from_name("Not A Name"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<ProviderKind> {
        let well_formed = !name.is_empty()
            && name.len() <= MAX_NAME_LEN
            && name.bytes().all(|byte| {
                byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_' || byte == b'-'
            });
        if !well_formed {
            return None;
        }
        if name == Self::MEMORY.0 {
            return Some(Self::MEMORY);
        }
        // A poisoned lock only means another thread panicked while pushing; the list is
        // still a valid list.
        let mut interned = INTERNED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(found) = interned.iter().find(|known| **known == name) {
            return Some(ProviderKind(found));
        }
        if interned.len() >= MAX_INTERNED_KINDS {
            return None;
        }
        let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
        interned.push(leaked);
        Some(ProviderKind(leaked))
    }
}

impl fmt::Debug for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProviderKind({:?})", self.0)
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for ProviderKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for ProviderKind {
    /// Reads a name through [`ProviderKind::from_name`].
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        ProviderKind::from_name(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{name:?} is not a gateway name (1 to {MAX_NAME_LEN} characters of a-z, 0-9, _ or -, at most {MAX_INTERNED_KINDS} distinct names)"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_intern_once_and_equal_the_constants() {
        const PADDLE: ProviderKind = ProviderKind::new("paddle");
        let first = ProviderKind::from_name("paddle");
        let second = ProviderKind::from_name("paddle");
        assert_eq!(first, Some(PADDLE));
        assert!(matches!((first, second), (Some(a), Some(b)) if std::ptr::eq(a.0, b.0)));
        assert_eq!(
            ProviderKind::from_name("memory"),
            Some(ProviderKind::MEMORY)
        );
    }

    #[test]
    fn malformed_names_are_refused() {
        for name in ["", "Upper", "a b", "x".repeat(33).as_str(), "é"] {
            assert_eq!(ProviderKind::from_name(name), None, "{name:?}");
        }
        assert!(serde_json::from_str::<ProviderKind>("\"UPPER\"").is_err());
        assert_eq!(
            serde_json::from_str::<ProviderKind>("\"memory\"").ok(),
            Some(ProviderKind::MEMORY)
        );
    }
}
