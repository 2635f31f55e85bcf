//! Faithful wire types: string enums that keep unknown values, and expandable references.
//!
//! Gateways add enum values and fields every month; decoding must never break on them.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

#[doc(hidden)]
pub use serde as __serde;

/// Declares a string enum whose unknown values decode into `Unknown(String)` instead of
/// failing, with `as_str()` giving the value as the gateway spells it.
///
/// ```
/// payswitch_core::wire_enum!(
///     /// A checkout's status.
///     pub Status { Open = "open", Complete = "complete" }
/// );
/// let status: Status = serde_json::from_str("\"refunded\"").unwrap();
/// assert_eq!(status, Status::Unknown("refunded".into()));
/// assert_eq!(Status::Open.as_str(), "open");
/// ```
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        $vis enum $name {
            $($(#[$variant_meta])* $variant,)+
            /// A value this version does not know, kept as the gateway sent it.
            Unknown(::std::string::String),
        }

        impl $name {
            /// The value as the gateway spells it.
            #[allow(dead_code)]
            $vis fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Unknown(text) => text,
                }
            }
        }

        impl<'de> $crate::adapter::wire::__serde::Deserialize<'de> for $name {
            fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
            where
                D: $crate::adapter::wire::__serde::Deserializer<'de>,
            {
                let text = <::std::string::String as $crate::adapter::wire::__serde::Deserialize>::deserialize(deserializer)?;
                ::std::result::Result::Ok(match text.as_str() {
                    $($text => Self::$variant,)+
                    _ => Self::Unknown(text),
                })
            }
        }
    };
}

/// An expandable reference: the object's id, or the whole object when the request expanded
/// it. `T` is the object's type; [`IdOnly`] reads just its `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expandable<T = IdOnly> {
    /// Not expanded: the id alone.
    Id(String),
    /// Expanded: the object.
    Object(Box<T>),
}

/// An expanded object of which only the `id` is read; its other fields are skipped.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IdOnly {
    /// The object's id.
    pub id: String,
}

/// Anything with an id, so an [`Expandable`]'s id can be read whether or not it was expanded.
pub trait HasId {
    /// The object's id.
    fn id(&self) -> &str;
}

impl HasId for IdOnly {
    fn id(&self) -> &str {
        &self.id
    }
}

impl<T: HasId> Expandable<T> {
    /// The id, expanded or not.
    pub fn id(&self) -> &str {
        match self {
            Expandable::Id(id) => id,
            Expandable::Object(object) => object.id(),
        }
    }
}

impl<T> Expandable<T> {
    /// The expanded object, if the gateway sent it.
    pub fn object(&self) -> Option<&T> {
        match self {
            Expandable::Id(_) => None,
            Expandable::Object(object) => Some(object),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Expandable<T> {
    /// Reads a string or an object directly, instead of serde's untagged enums, which first
    /// copy the whole (possibly large) expanded object into a buffer.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ExpandableVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ExpandableVisitor<T> {
            type Value = Expandable<T>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("an id or an expanded object")
            }

            fn visit_str<E: de::Error>(self, id: &str) -> Result<Self::Value, E> {
                Ok(Expandable::Id(id.to_owned()))
            }

            fn visit_string<E: de::Error>(self, id: String) -> Result<Self::Value, E> {
                Ok(Expandable::Id(id))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|object| Expandable::Object(Box::new(object)))
            }
        }

        deserializer.deserialize_any(ExpandableVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::wire_enum!(
        /// A test enum.
        Colour { Red = "red", Green = "green" }
    );

    #[test]
    fn unknown_values_are_kept() {
        let known: Colour = serde_json::from_str("\"green\"").unwrap();
        assert_eq!(known, Colour::Green);
        let unknown: Colour = serde_json::from_str("\"mauve\"").unwrap();
        assert_eq!(unknown.as_str(), "mauve");
        assert!(serde_json::from_str::<Colour>("3").is_err());
    }

    #[test]
    fn an_expandable_reads_an_id_or_an_object() {
        let id: Expandable = serde_json::from_str("\"cus_1\"").unwrap();
        assert_eq!(id.id(), "cus_1");
        assert!(id.object().is_none());
        let object: Expandable =
            serde_json::from_str(r#"{"id":"cus_2","email":"a@b.example","nested":{"x":1}}"#)
                .unwrap();
        assert_eq!(object.id(), "cus_2");
        assert!(object.object().is_some());
        assert!(serde_json::from_str::<Expandable>("{\"email\":\"x\"}").is_err());
        assert!(serde_json::from_str::<Expandable>("7").is_err());
    }
}
