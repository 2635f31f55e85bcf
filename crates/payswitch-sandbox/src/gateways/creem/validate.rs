//! Creem's request validation: JSON object bodies and a [`Checker`] that collects
//! class-validator style messages (`name should not be empty`) for every bad field at once.
//!
//! Creem keeps adding optional fields, so unknown JSON fields are ignored, while required
//! fields and the types of known fields are checked.

use serde_json::{Map, Value};

use crate::gateways::creem::error::Failure;

/// Parses a request body that must be a JSON object.
pub(crate) fn parse_json(body: &[u8]) -> Result<Map<String, Value>, Failure> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Failure::bad_request(vec![
            "Request body must be a JSON object".to_owned(),
        ])),
        Err(error) => Err(Failure::bad_request(vec![format!(
            "Request body is not valid JSON: {error}"
        )])),
    }
}

/// Collects class-validator style messages for one object.
pub(crate) struct Checker<'a> {
    pub(crate) body: &'a Map<String, Value>,
    pub(crate) messages: Vec<String>,
}

impl<'a> Checker<'a> {
    /// Starts checking `body` with no messages yet.
    pub(crate) fn new(body: &'a Map<String, Value>) -> Self {
        Self {
            body,
            messages: Vec::new(),
        }
    }

    /// Reads a string field; `required` adds Creem's two messages when it is missing.
    pub(crate) fn string(&mut self, field: &str, required: bool) -> Option<&'a str> {
        match self.body.get(field) {
            None | Some(Value::Null) => {
                if required {
                    self.messages.push(format!("{field} should not be empty"));
                    self.messages.push(format!("{field} must be a string"));
                }
                None
            }
            Some(Value::String(text)) if required && text.is_empty() => {
                self.messages.push(format!("{field} should not be empty"));
                None
            }
            Some(Value::String(text)) => Some(text),
            Some(_) => {
                self.messages.push(format!("{field} must be a string"));
                None
            }
        }
    }

    /// Reads an integer field.
    pub(crate) fn integer(&mut self, field: &str, required: bool) -> Option<i64> {
        match self.body.get(field) {
            None | Some(Value::Null) => {
                if required {
                    self.messages
                        .push(format!("{field} must be an integer number"));
                }
                None
            }
            Some(Value::Number(number)) => match number.as_i64() {
                Some(value) => Some(value),
                None => {
                    self.messages
                        .push(format!("{field} must be an integer number"));
                    None
                }
            },
            Some(_) => {
                self.messages
                    .push(format!("{field} must be an integer number"));
                None
            }
        }
    }

    /// Reads a string field that must be one of `allowed`.
    pub(crate) fn one_of(
        &mut self,
        field: &str,
        required: bool,
        allowed: &[&str],
    ) -> Option<&'a str> {
        let value = self.string(field, required)?;
        if allowed.contains(&value) {
            Some(value)
        } else {
            self.messages.push(format!(
                "{field} must be one of the following values: {}",
                allowed.join(", ")
            ));
            None
        }
    }

    /// Reads an optional absolute http(s) URL.
    pub(crate) fn url(&mut self, field: &str) -> Option<&'a str> {
        let value = self.string(field, false)?;
        let valid = url::Url::parse(value)
            .map(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
            .unwrap_or(false);
        if valid {
            Some(value)
        } else {
            self.messages.push(format!("{field} must be a URL address"));
            None
        }
    }

    /// Returns a 400 with every message collected, if any.
    pub(crate) fn finish(self) -> Result<(), Failure> {
        if self.messages.is_empty() {
            Ok(())
        } else {
            Err(Failure::bad_request(self.messages))
        }
    }
}
