//! Stripe's nested `application/x-www-form-urlencoded` encoding.
//!
//! Hand-written because neither common crate produces what Stripe's SDKs send:
//! `serde_urlencoded` cannot nest (`line_items[0][price_data][currency]`), and `serde_qs`
//! percent-encodes the brackets or emits `[]` for arrays depending on its mode. Stripe's SDKs
//! always index arrays, leave brackets literal and drop absent options; so does this.

use std::collections::BTreeMap;

use bytes::Bytes;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything except RFC 3986 unreserved characters is percent-encoded, like stripe-node
/// (which also encodes `! * ( ) '`); spaces become `%20`, never `+`.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// One value in a form: text, a nested object, or an indexed list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FormValue {
    /// Sent as is (integers and booleans are rendered to text by [`Fields`]).
    Text(String),
    /// Nested fields: `key[name]=…`.
    Object(Fields),
    /// Indexed elements: `key[0]=…`, `key[1]=…`.
    List(Vec<FormValue>),
}

/// An ordered set of named form values; absent options are simply never added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Fields {
    entries: Vec<(String, FormValue)>,
}

impl Fields {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds a text value.
    pub(crate) fn text(mut self, name: &str, value: impl Into<String>) -> Self {
        self.entries
            .push((name.to_owned(), FormValue::Text(value.into())));
        self
    }

    /// Adds a text value when present.
    pub(crate) fn opt_text(self, name: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(value) => self.text(name, value),
            None => self,
        }
    }

    /// Adds an integer as decimal text.
    pub(crate) fn integer(self, name: &str, value: i64) -> Self {
        self.text(name, value.to_string())
    }

    /// Adds an integer when present.
    pub(crate) fn opt_integer(self, name: &str, value: Option<i64>) -> Self {
        match value {
            Some(value) => self.integer(name, value),
            None => self,
        }
    }

    /// Adds a boolean as `true`/`false`.
    pub(crate) fn boolean(self, name: &str, value: bool) -> Self {
        self.text(name, if value { "true" } else { "false" })
    }

    /// Adds a boolean when present.
    pub(crate) fn opt_boolean(self, name: &str, value: Option<bool>) -> Self {
        match value {
            Some(value) => self.boolean(name, value),
            None => self,
        }
    }

    /// Adds a nested object; an empty one is omitted (an empty value would unset the field).
    pub(crate) fn object(mut self, name: &str, fields: Fields) -> Self {
        if !fields.entries.is_empty() {
            self.entries
                .push((name.to_owned(), FormValue::Object(fields)));
        }
        self
    }

    /// Adds a nested object when present.
    pub(crate) fn opt_object(self, name: &str, fields: Option<Fields>) -> Self {
        match fields {
            Some(fields) => self.object(name, fields),
            None => self,
        }
    }

    /// Adds a string map such as `metadata`, in key order; an empty map is omitted.
    pub(crate) fn map(self, name: &str, map: &BTreeMap<String, String>) -> Self {
        let fields = map.iter().fold(Fields::new(), |fields, (key, value)| {
            fields.text(key, value)
        });
        self.object(name, fields)
    }

    /// Adds an indexed list; an empty list is omitted.
    pub(crate) fn list(mut self, name: &str, items: Vec<FormValue>) -> Self {
        if !items.is_empty() {
            self.entries.push((name.to_owned(), FormValue::List(items)));
        }
        self
    }

    /// Encodes the fields as a request body (or query string).
    pub(crate) fn encode(&self) -> String {
        let mut pairs = Vec::new();
        for (name, value) in &self.entries {
            flatten(encode_segment(name), value, &mut pairs);
        }
        pairs
            .into_iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Encodes the fields once into the bytes every attempt sends.
    pub(crate) fn to_bytes(&self) -> Bytes {
        Bytes::from(self.encode())
    }
}

fn encode_segment(name: &str) -> String {
    utf8_percent_encode(name, VALUE).to_string()
}

fn flatten(key: String, value: &FormValue, pairs: &mut Vec<(String, String)>) {
    match value {
        FormValue::Text(text) => pairs.push((key, utf8_percent_encode(text, VALUE).to_string())),
        FormValue::Object(fields) => {
            for (name, inner) in &fields.entries {
                flatten(format!("{key}[{}]", encode_segment(name)), inner, pairs);
            }
        }
        FormValue::List(items) => {
            for (index, inner) in items.iter().enumerate() {
                flatten(format!("{key}[{index}]"), inner, pairs);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nests_objects_and_indexes_lists() {
        let item = Fields::new()
            .object(
                "price_data",
                Fields::new()
                    .text("currency", "usd")
                    .integer("unit_amount", 2000)
                    .object("product_data", Fields::new().text("name", "T-shirt")),
            )
            .integer("quantity", 1);
        let form = Fields::new()
            .text("mode", "payment")
            .list("line_items", vec![FormValue::Object(item)])
            .list(
                "allowed_payment_method_types",
                vec![
                    FormValue::Text("card".into()),
                    FormValue::Text("klarna".into()),
                ],
            )
            .boolean("allow_promotion_codes", true)
            .boolean("livemode", false);
        assert_eq!(
            form.encode(),
            "mode=payment\
             &line_items[0][price_data][currency]=usd\
             &line_items[0][price_data][unit_amount]=2000\
             &line_items[0][price_data][product_data][name]=T-shirt\
             &line_items[0][quantity]=1\
             &allowed_payment_method_types[0]=card\
             &allowed_payment_method_types[1]=klarna\
             &allow_promotion_codes=true\
             &livemode=false"
        );
    }

    #[test]
    fn percent_encodes_values_with_spaces_as_percent_20() {
        let form = Fields::new()
            .text("name", "T-shirt & cap")
            .text("equation", "a=b+c")
            .text("unicode", "Café ☕ 日本")
            .text("empty", "")
            .text("symbols", "!*()'~._-/?#[]");
        assert_eq!(
            form.encode(),
            "name=T-shirt%20%26%20cap\
             &equation=a%3Db%2Bc\
             &unicode=Caf%C3%A9%20%E2%98%95%20%E6%97%A5%E6%9C%AC\
             &empty=\
             &symbols=%21%2A%28%29%27~._-%2F%3F%23%5B%5D"
        );
    }

    #[test]
    fn keeps_the_checkout_session_template_decodable() {
        let form = Fields::new().text(
            "success_url",
            "https://example.com/success?session_id={CHECKOUT_SESSION_ID}",
        );
        // Encoded as the SDKs do; Stripe decodes it back to the literal template.
        assert_eq!(
            form.encode(),
            "success_url=https%3A%2F%2Fexample.com%2Fsuccess%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D"
        );
    }

    #[test]
    fn omits_absent_options_and_empty_containers() {
        let form = Fields::new()
            .opt_text("customer", None::<String>)
            .opt_integer("expires_at", None)
            .opt_boolean("allow_promotion_codes", None)
            .opt_object("recurring", None)
            .map("metadata", &BTreeMap::new())
            .list("discounts", Vec::new())
            .object("empty", Fields::new())
            .opt_text("locale", Some("fr"));
        assert_eq!(form.encode(), "locale=fr");
    }

    #[test]
    fn encodes_map_keys_and_values() {
        let metadata = BTreeMap::from([
            ("order id".to_owned(), "ord 42".to_owned()),
            ("a&b".to_owned(), "x=y".to_owned()),
        ]);
        let form = Fields::new().map("metadata", &metadata);
        assert_eq!(
            form.encode(),
            "metadata[a%26b]=x%3Dy&metadata[order%20id]=ord%2042"
        );
        assert_eq!(Fields::new().encode(), "");
    }
}
