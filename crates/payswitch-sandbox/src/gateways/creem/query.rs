//! Reading Creem's query-string parameters (`?checkout_id=…`, `?page_number=…`).

/// Returns the first non-empty value of a query parameter.
pub(crate) fn query_value(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.is_empty())
}
