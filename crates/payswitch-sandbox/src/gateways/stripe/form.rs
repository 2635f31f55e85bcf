//! Decoding of Stripe's `application/x-www-form-urlencoded` bodies with
//! bracketed keys (`line_items[0][price_data][currency]=usd`) into a tree.
//!
//! Independent of the adapters on purpose (STYLE #9), from Stripe's documented encoding: a bug
//! shared by both sides would otherwise pass every test.

use std::collections::BTreeMap;

/// Decoded form parameters, top level.
pub(crate) type Params = BTreeMap<String, FormValue>;

/// One node of a decoded form: a text leaf or a map of children.
///
/// Arrays are maps whose keys are decimal indices; [`FormValue::as_list`]
/// turns them back into an ordered list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FormValue {
    /// A leaf value, already percent-decoded.
    Text(String),
    /// Nested keys (`a[b]`) or array indices (`a[0]`).
    Map(BTreeMap<String, FormValue>),
}

/// Why a form body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FormError {
    /// A key with unbalanced or misplaced brackets.
    BadKey(String),
    /// The same key used both as a value and as a nested object.
    Conflict(String),
}

impl FormValue {
    /// Returns the text of a leaf, or `None` for a map.
    pub(crate) fn as_text(&self) -> Option<&str> {
        match self {
            FormValue::Text(text) => Some(text),
            FormValue::Map(_) => None,
        }
    }

    /// Returns the children of a map, or `None` for a leaf.
    pub(crate) fn as_map(&self) -> Option<&BTreeMap<String, FormValue>> {
        match self {
            FormValue::Map(map) => Some(map),
            FormValue::Text(_) => None,
        }
    }

    /// Returns the elements of an indexed array in index order, or `None`
    /// when this is a leaf or a map with a non-numeric key.
    pub(crate) fn as_list(&self) -> Option<Vec<(usize, &FormValue)>> {
        let map = self.as_map()?;
        let mut items = Vec::with_capacity(map.len());
        for (key, value) in map {
            let index: usize = key.parse().ok()?;
            items.push((index, value));
        }
        items.sort_by_key(|(index, _)| *index);
        Some(items)
    }
}

/// Deepest nesting accepted, counting the top-level name.
const MAX_DEPTH: usize = 16;

/// Splits `a[b][0][c]` into `["a", "b", "0", "c"]`. An empty segment (`a[]`)
/// stands for "append to the array".
fn split_key(key: &str) -> Result<Vec<String>, FormError> {
    let bad = || FormError::BadKey(key.to_owned());
    let (head, mut rest) = match key.find('[') {
        Some(position) => key.split_at(position),
        None => (key, ""),
    };
    if head.is_empty() || head.contains(']') {
        return Err(bad());
    }
    let mut segments = vec![head.to_owned()];
    while !rest.is_empty() {
        // Stripe's deepest parameters have six levels; a bound keeps a
        // hostile body from recursing the decoder into a stack overflow.
        if segments.len() >= MAX_DEPTH {
            return Err(bad());
        }
        let inner = rest.strip_prefix('[').ok_or_else(bad)?;
        let close = inner.find(']').ok_or_else(bad)?;
        let (segment, after) = inner.split_at(close);
        if segment.contains('[') {
            return Err(bad());
        }
        segments.push(segment.to_owned());
        rest = after.get(1..).unwrap_or("");
    }
    Ok(segments)
}

/// Decodes a form body (or query string) into a map of top-level keys.
///
/// Brackets may arrive literal or percent-encoded, spaces as `+` or `%20`:
/// `form_urlencoded` decodes both before the key is split.
pub(crate) fn decode(body: &[u8]) -> Result<BTreeMap<String, FormValue>, FormError> {
    let mut root: BTreeMap<String, FormValue> = BTreeMap::new();
    for (key, value) in form_urlencoded::parse(body) {
        if key.is_empty() {
            continue;
        }
        let segments = split_key(&key)?;
        insert(&mut root, &segments, value.into_owned(), &key)?;
    }
    Ok(root)
}

fn insert(
    map: &mut BTreeMap<String, FormValue>,
    segments: &[String],
    value: String,
    full_key: &str,
) -> Result<(), FormError> {
    let Some((first, rest)) = segments.split_first() else {
        return Ok(());
    };
    // `a[]=x` appends: the next free index is the current length.
    let name = if first.is_empty() {
        map.len().to_string()
    } else {
        first.clone()
    };
    if rest.is_empty() {
        if matches!(map.get(&name), Some(FormValue::Map(_))) {
            return Err(FormError::Conflict(full_key.to_owned()));
        }
        // A repeated scalar key keeps the last value, as Rack-style parsers do.
        map.insert(name, FormValue::Text(value));
        return Ok(());
    }
    let child = map
        .entry(name)
        .or_insert_with(|| FormValue::Map(BTreeMap::new()));
    match child {
        FormValue::Map(inner) => insert(inner, rest, value, full_key),
        FormValue::Text(text) if text.is_empty() => {
            // `metadata=` followed by `metadata[k]=v`: the empty value only
            // means "unset", so nested keys may still follow.
            let mut inner = BTreeMap::new();
            insert(&mut inner, rest, value, full_key)?;
            *child = FormValue::Map(inner);
            Ok(())
        }
        FormValue::Text(_) => Err(FormError::Conflict(full_key.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> FormValue {
        FormValue::Text(value.to_owned())
    }

    #[test]
    fn decodes_nested_literal_and_encoded_brackets() {
        let literal =
            decode(b"line_items[0][price_data][currency]=usd&metadata[order]=a+b").unwrap();
        let encoded = decode(
            b"line_items%5B0%5D%5Bprice_data%5D%5Bcurrency%5D=usd&metadata%5Border%5D=a%20b",
        )
        .unwrap();
        assert_eq!(literal, encoded);
        let items = literal["line_items"].as_list().unwrap();
        let price_data = items[0].1.as_map().unwrap()["price_data"].as_map().unwrap();
        assert_eq!(price_data["currency"], text("usd"));
        assert_eq!(literal["metadata"].as_map().unwrap()["order"], text("a b"));
    }

    #[test]
    fn arrays_sort_numerically_and_append() {
        let form = decode(b"a[10]=x&a[2]=y&b[]=p&b[]=q").unwrap();
        let list: Vec<_> = form["a"]
            .as_list()
            .unwrap()
            .into_iter()
            .map(|(i, _)| i)
            .collect();
        assert_eq!(list, vec![2, 10]);
        let appended = form["b"].as_list().unwrap();
        assert_eq!(appended[1].1, &text("q"));
    }

    #[test]
    fn rejects_bad_keys_and_conflicts() {
        assert!(matches!(decode(b"a[b=1"), Err(FormError::BadKey(_))));
        assert!(matches!(decode(b"a]=1"), Err(FormError::BadKey(_))));
        assert!(matches!(decode(b"a[b]c=1"), Err(FormError::BadKey(_))));
        assert!(matches!(decode(b"a=1&a[b]=2"), Err(FormError::Conflict(_))));
        assert!(matches!(decode(b"a[b]=2&a=1"), Err(FormError::Conflict(_))));
        assert!(decode(b"metadata=&metadata[k]=v").is_ok());
        let deep = format!("a{}=1", "[b]".repeat(100_000));
        assert!(matches!(decode(deep.as_bytes()), Err(FormError::BadKey(_))));
    }
}
