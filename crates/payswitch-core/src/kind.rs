//! [`ProviderKind`]: which gateway a provider, a result or an error belongs to.
//!
//! A leaf module: it imports nothing else of the crate, so every other module may use it.

use std::fmt;

use serde::{Serialize, Serializer};

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
