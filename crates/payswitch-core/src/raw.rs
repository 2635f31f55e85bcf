//! `RawJson`: a gateway's own JSON kept beside the normalized model, shared rather than copied.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

static NULL: Value = Value::Null;

/// The gateway's own JSON object, as an escape hatch next to the normalized fields.
///
/// It dereferences to a [`serde_json::Value`], so `raw["status"]` and `raw.get("mode")` work
/// as on a value. A webhook event and the checkout it carries share one parsed body: the
/// checkout's `raw` points into the event's instead of holding a deep copy, which keeps
/// webhook verification at the cost of parsing once.
#[derive(Clone, Default)]
pub struct RawJson {
    root: Arc<Value>,
    pointer: Option<&'static str>,
}

impl RawJson {
    /// Wraps a value.
    pub fn new(value: Value) -> Self {
        Self {
            root: Arc::new(value),
            pointer: None,
        }
    }

    /// Shares a whole parsed document.
    pub fn shared(root: &Arc<Value>) -> Self {
        Self {
            root: Arc::clone(root),
            pointer: None,
        }
    }

    /// Shares the part of a parsed document at a JSON pointer such as `/data/object`
    /// (`Null` when nothing is there).
    pub fn at(root: &Arc<Value>, pointer: &'static str) -> Self {
        Self {
            root: Arc::clone(root),
            pointer: Some(pointer),
        }
    }

    /// The JSON value.
    pub fn value(&self) -> &Value {
        match self.pointer {
            Some(pointer) => self.root.pointer(pointer).unwrap_or(&NULL),
            None => &self.root,
        }
    }
}

impl Deref for RawJson {
    type Target = Value;

    fn deref(&self) -> &Value {
        self.value()
    }
}

impl From<Value> for RawJson {
    fn from(value: Value) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.value(), f)
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value()
    }
}

impl PartialEq<Value> for RawJson {
    fn eq(&self, other: &Value) -> bool {
        self.value() == other
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    /// Reads the value into a document of its own: what was shared before serializing is
    /// copied, the content is the same.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_part_shares_the_document() {
        let root = Arc::new(json!({"data": {"object": {"id": "cs_1"}}, "type": "t"}));
        let whole = RawJson::shared(&root);
        let part = RawJson::at(&root, "/data/object");
        assert_eq!(part["id"], "cs_1");
        assert_eq!(whole["type"], "t");
        assert_eq!(part, json!({"id": "cs_1"}));
        assert_eq!(RawJson::at(&root, "/missing").value(), &Value::Null);
        assert_eq!(Arc::strong_count(&root), 3);
        assert_eq!(serde_json::to_string(&part).unwrap(), r#"{"id":"cs_1"}"#);
        assert_eq!(format!("{part:?}"), format!("{:?}", json!({"id": "cs_1"})));
        assert_eq!(RawJson::default().value(), &Value::Null);
    }
}
