//! Stripe's nested `application/x-www-form-urlencoded` encoding.
//!
//! Hand-written because neither common crate produces what Stripe's SDKs send:
//! `serde_urlencoded` cannot nest (`line_items[0][price_data][currency]`), and `serde_qs`
//! percent-encodes the brackets or emits `[]` for arrays depending on its mode. Stripe's SDKs
//! always index arrays, leave brackets literal and drop absent options; so does this.

use std::collections::BTreeMap;

/// Says whether a byte is an RFC 3986 unreserved character, the only ones sent as is.
///
/// Everything else is percent-encoded, like stripe-node (which also encodes `! * ( ) '`);
/// spaces become `%20`, never `+`.
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~')
}

/// Appends `text` percent-encoded (UTF-8 bytes as `%XX`, upper-case hex), copying runs of
/// unreserved characters at once.
fn push_encoded(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = text.as_bytes();
    let mut run_start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        if is_unreserved(byte) {
            continue;
        }
        out.extend_from_slice(&bytes[run_start..index]);
        out.extend_from_slice(&[
            b'%',
            HEX[usize::from(byte >> 4)],
            HEX[usize::from(byte & 0x0f)],
        ]);
        run_start = index + 1;
    }
    out.extend_from_slice(&bytes[run_start..]);
}

/// Appends an integer in decimal, without going through `fmt`.
fn push_integer(out: &mut Vec<u8>, value: i64) {
    let mut digits = [0u8; 20];
    let mut position = digits.len();
    let mut rest = value.unsigned_abs();
    loop {
        position -= 1;
        digits[position] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if value < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[position..]);
}

/// The finished form as text. Everything written is ASCII (names and values are
/// percent-encoded), so the conversion cannot fail; it is checked all the same.
fn into_text(form: Vec<u8>) -> String {
    String::from_utf8(form)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// Writes form pairs straight into one buffer, in the order they are written.
///
/// Nothing is written for an object or list that ends up with no pairs: an empty value would
/// unset the field on Stripe's side.
pub(crate) struct FormWriter {
    out: Vec<u8>,
    /// The bracketed key of the current nesting level (empty at the top).
    key: Vec<u8>,
}

impl FormWriter {
    /// Starts an empty form with room for about `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            out: Vec::with_capacity(capacity),
            key: Vec::with_capacity(64),
        }
    }

    /// Writes the key of a field called `name` at the current level, then `=`.
    fn start_pair(&mut self, name: &str) {
        if !self.out.is_empty() {
            self.out.push(b'&');
        }
        self.out.extend_from_slice(&self.key);
        if self.key.is_empty() {
            push_encoded(&mut self.out, name);
        } else {
            self.out.push(b'[');
            push_encoded(&mut self.out, name);
            self.out.push(b']');
        }
        self.out.push(b'=');
    }

    /// Writes a text value.
    pub(crate) fn text(&mut self, name: &str, value: &str) {
        self.start_pair(name);
        push_encoded(&mut self.out, value);
    }

    /// Writes a text value when present.
    pub(crate) fn opt_text(&mut self, name: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.text(name, value);
        }
    }

    /// Writes an integer as decimal text.
    pub(crate) fn integer(&mut self, name: &str, value: i64) {
        self.start_pair(name);
        // Digits and `-` need no encoding.
        push_integer(&mut self.out, value);
    }

    /// Writes an integer when present.
    pub(crate) fn opt_integer(&mut self, name: &str, value: Option<i64>) {
        if let Some(value) = value {
            self.integer(name, value);
        }
    }

    /// Writes a boolean as `true`/`false`.
    pub(crate) fn boolean(&mut self, name: &str, value: bool) {
        self.text(name, if value { "true" } else { "false" });
    }

    /// Writes a boolean as `true`/`false` when present.
    pub(crate) fn opt_boolean(&mut self, name: &str, value: Option<bool>) {
        if let Some(value) = value {
            self.boolean(name, value);
        }
    }

    /// Writes the fields `fill` adds as `name[…]`.
    pub(crate) fn object(&mut self, name: &str, fill: impl FnOnce(&mut Self)) {
        let length = self.key.len();
        if length == 0 {
            push_encoded(&mut self.key, name);
        } else {
            self.key.push(b'[');
            push_encoded(&mut self.key, name);
            self.key.push(b']');
        }
        fill(self);
        self.key.truncate(length);
    }

    /// Writes each item with `fill` as `name[0]…`, `name[1]…`.
    pub(crate) fn list<T>(&mut self, name: &str, items: &[T], mut fill: impl FnMut(&mut Self, &T)) {
        self.object(name, |form| {
            for (index, item) in items.iter().enumerate() {
                let length = form.key.len();
                push_index(&mut form.key, index);
                fill(form, item);
                form.key.truncate(length);
            }
        });
    }

    /// Writes a string map such as `metadata`, in key order.
    pub(crate) fn map(&mut self, name: &str, map: &BTreeMap<String, String>) {
        self.object(name, |form| {
            for (key, value) in map {
                form.text(key, value);
            }
        });
    }

    /// The encoded form.
    pub(crate) fn finish(self) -> String {
        into_text(self.out)
    }
}

/// Appends `[index]` to a key.
fn push_index(key: &mut Vec<u8>, index: usize) {
    key.push(b'[');
    push_integer(key, i64::try_from(index).unwrap_or(i64::MAX));
    key.push(b']');
}

/// A second, tree-based encoder, kept only as the tests' oracle: it builds the whole form
/// as a value first, so it is easy to check by eye, and `FormWriter` must produce the same
/// bytes for the same fields.
#[cfg(test)]
pub(crate) mod tree {
    use std::borrow::Cow;
    use std::collections::BTreeMap;

    use super::{into_text, push_encoded, push_index};

    /// One value in a form: text, a nested object, or an indexed list.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) enum FormValue<'a> {
        /// Sent as is (integers and booleans are rendered to text by `Fields`).
        Text(Cow<'a, str>),
        /// Nested fields: `key[name]=…`.
        Object(Fields<'a>),
        /// Indexed elements: `key[0]=…`, `key[1]=…`.
        List(Vec<FormValue<'a>>),
    }

    /// An ordered set of named form values; absent options are simply never added.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub(crate) struct Fields<'a> {
        entries: Vec<(&'a str, FormValue<'a>)>,
    }

    impl<'a> Fields<'a> {
        pub(crate) fn new() -> Self {
            Self::default()
        }

        /// Adds a text value.
        pub(crate) fn text(mut self, name: &'a str, value: impl Into<Cow<'a, str>>) -> Self {
            self.entries.push((name, FormValue::Text(value.into())));
            self
        }

        /// Adds a text value when present.
        pub(crate) fn opt_text(
            self,
            name: &'a str,
            value: Option<impl Into<Cow<'a, str>>>,
        ) -> Self {
            match value {
                Some(value) => self.text(name, value),
                None => self,
            }
        }

        /// Adds an integer as decimal text.
        pub(crate) fn integer(self, name: &'a str, value: i64) -> Self {
            self.text(name, value.to_string())
        }

        /// Adds an integer when present.
        pub(crate) fn opt_integer(self, name: &'a str, value: Option<i64>) -> Self {
            match value {
                Some(value) => self.integer(name, value),
                None => self,
            }
        }

        /// Adds a boolean as `true`/`false`.
        pub(crate) fn boolean(self, name: &'a str, value: bool) -> Self {
            self.text(name, if value { "true" } else { "false" })
        }

        /// Adds a boolean when present.
        pub(crate) fn opt_boolean(self, name: &'a str, value: Option<bool>) -> Self {
            match value {
                Some(value) => self.boolean(name, value),
                None => self,
            }
        }

        /// Adds a nested object; an empty one is omitted (an empty value would unset the field).
        pub(crate) fn object(mut self, name: &'a str, fields: Fields<'a>) -> Self {
            if !fields.entries.is_empty() {
                self.entries.push((name, FormValue::Object(fields)));
            }
            self
        }

        /// Adds a nested object when present.
        pub(crate) fn opt_object(self, name: &'a str, fields: Option<Fields<'a>>) -> Self {
            match fields {
                Some(fields) => self.object(name, fields),
                None => self,
            }
        }

        /// Adds a string map such as `metadata`, in key order; an empty map is omitted.
        pub(crate) fn map(self, name: &'a str, map: &'a BTreeMap<String, String>) -> Self {
            let fields = map.iter().fold(Fields::new(), |fields, (key, value)| {
                fields.text(key, value.as_str())
            });
            self.object(name, fields)
        }

        /// Adds an indexed list; an empty list is omitted.
        pub(crate) fn list(mut self, name: &'a str, items: Vec<FormValue<'a>>) -> Self {
            if !items.is_empty() {
                self.entries.push((name, FormValue::List(items)));
            }
            self
        }

        /// Encodes the fields as a request body (or query string), into one buffer.
        pub(crate) fn encode(&self) -> String {
            let mut out = Vec::with_capacity(256);
            // The bracketed key of the value being written; each level appends, then truncates.
            let mut key = Vec::with_capacity(64);
            for (name, value) in &self.entries {
                key.clear();
                push_encoded(&mut key, name);
                write_value(&mut out, &mut key, value);
            }
            into_text(out)
        }
    }

    fn write_value(out: &mut Vec<u8>, key: &mut Vec<u8>, value: &FormValue<'_>) {
        match value {
            FormValue::Text(text) => {
                if !out.is_empty() {
                    out.push(b'&');
                }
                out.extend_from_slice(key);
                out.push(b'=');
                push_encoded(out, text);
            }
            FormValue::Object(fields) => {
                for (name, inner) in &fields.entries {
                    let length = key.len();
                    key.push(b'[');
                    push_encoded(key, name);
                    key.push(b']');
                    write_value(out, key, inner);
                    key.truncate(length);
                }
            }
            FormValue::List(items) => {
                for (index, inner) in items.iter().enumerate() {
                    let length = key.len();
                    push_index(key, index);
                    write_value(out, key, inner);
                    key.truncate(length);
                }
            }
        }
    }

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
            let empty = BTreeMap::new();
            let form = Fields::new()
                .opt_text("customer", None::<String>)
                .opt_integer("expires_at", None)
                .opt_boolean("allow_promotion_codes", None)
                .opt_object("recurring", None)
                .map("metadata", &empty)
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_matches_the_reference_crate() {
        use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
        const REFERENCE: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'_')
            .remove(b'.')
            .remove(b'~');
        let all_ascii: String = (0u8..128).map(char::from).collect();
        for text in [
            "",
            "plain",
            "T-shirt & cap",
            "Café ☕ 日本",
            "é",
            "a=b+c/d?e#f[g]",
            "ends with ü",
            "ü starts",
            all_ascii.as_str(),
        ] {
            let mut encoded = Vec::new();
            push_encoded(&mut encoded, text);
            assert_eq!(
                into_text(encoded),
                utf8_percent_encode(text, REFERENCE).to_string(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn integers_are_written_in_decimal() {
        for value in [0, 7, -1, 42, 1_800_000_000, -90_210, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            push_integer(&mut out, value);
            assert_eq!(into_text(out), value.to_string());
        }
    }
}
