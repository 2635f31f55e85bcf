//! Readers for decoded Stripe form parameters, each mapping a bad value to
//! the error Stripe would answer (`parameter_unknown`,
//! `parameter_invalid_integer`, ...), and the context of the call they came with.

use std::collections::BTreeMap;

use crate::gateways::stripe::error::Failure;
use crate::gateways::stripe::form::{FormValue, Params};
use crate::gateways::stripe::objects::Store;

/// Who is calling and how, for operations that emit events.
pub(crate) struct CallContext<'a> {
    pub(crate) request_id: &'a str,
    pub(crate) idempotency_key: Option<&'a str>,
    pub(crate) api_version: &'a str,
    pub(crate) publishable: bool,
}

/// True when `version` (e.g. `2026-09-30.endive`) is at or after `date`.
pub(crate) fn version_at_least(version: &str, date: &str) -> bool {
    version.get(..10).unwrap_or(version) >= date
}

/// Rejects parameters not in `allowed`, naming the first unknown one in
/// bracket form (`line_items[0][foo]`).
pub(crate) fn reject_unknown(
    map: &BTreeMap<String, FormValue>,
    allowed: &[&str],
    prefix: &str,
) -> Result<(), Failure> {
    for key in map.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(Failure::unknown(&bracket(prefix, key)));
        }
    }
    Ok(())
}

/// Joins a parameter path: `bracket("line_items[0]", "price")` is
/// `line_items[0][price]`.
pub(crate) fn bracket(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}[{key}]")
    }
}

/// Reads an optional text parameter; an empty value counts as absent
/// (Stripe treats `key=` as "unset").
pub(crate) fn text<'a>(
    map: &'a BTreeMap<String, FormValue>,
    key: &str,
    prefix: &str,
) -> Result<Option<&'a str>, Failure> {
    match map.get(key) {
        None => Ok(None),
        Some(FormValue::Text(value)) if value.is_empty() => Ok(None),
        Some(FormValue::Text(value)) => Ok(Some(value)),
        Some(FormValue::Map(_)) => Err(Failure::invalid(
            None,
            Some(&bracket(prefix, key)),
            format!(
                "Invalid string: {} must be a string, not a hash.",
                bracket(prefix, key)
            ),
        )),
    }
}

/// Reads the optional `customer` parameter, which must name a customer the sandbox created.
pub(crate) fn existing_customer<'a>(
    map: &'a BTreeMap<String, FormValue>,
    store: &Store,
) -> Result<Option<&'a str>, Failure> {
    let customer = text(map, "customer", "")?;
    if let Some(customer) = customer {
        if !store.customers.contains(customer) {
            return Err(Failure::invalid(
                Some("resource_missing"),
                Some("customer"),
                format!("No such customer: '{customer}'"),
            ));
        }
    }
    Ok(customer)
}

/// Reads an optional nested object parameter.
pub(crate) fn object<'a>(
    map: &'a BTreeMap<String, FormValue>,
    key: &str,
    prefix: &str,
) -> Result<Option<&'a BTreeMap<String, FormValue>>, Failure> {
    match map.get(key) {
        None => Ok(None),
        Some(FormValue::Text(value)) if value.is_empty() => Ok(None),
        Some(FormValue::Map(inner)) => Ok(Some(inner)),
        Some(FormValue::Text(_)) => Err(Failure::invalid(
            None,
            Some(&bracket(prefix, key)),
            format!("Invalid object: {} must be a hash.", bracket(prefix, key)),
        )),
    }
}

/// Reads an optional integer parameter.
pub(crate) fn integer(
    map: &BTreeMap<String, FormValue>,
    key: &str,
    prefix: &str,
) -> Result<Option<i64>, Failure> {
    let Some(value) = text(map, key, prefix)? else {
        return Ok(None);
    };
    value.parse::<i64>().map(Some).map_err(|_| {
        Failure::invalid(
            Some("parameter_invalid_integer"),
            Some(&bracket(prefix, key)),
            format!("Invalid integer: {value}"),
        )
    })
}

/// A list filter on a timestamp: Stripe's `created=<t>` or `created[gt|gte|lt|lte]=<t>`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RangeFilter {
    gt: Option<i64>,
    gte: Option<i64>,
    lt: Option<i64>,
    lte: Option<i64>,
    equals: Option<i64>,
}

impl RangeFilter {
    /// Whether `value` passes every bound given.
    pub(crate) fn admits(&self, value: i64) -> bool {
        self.gt.is_none_or(|bound| value > bound)
            && self.gte.is_none_or(|bound| value >= bound)
            && self.lt.is_none_or(|bound| value < bound)
            && self.lte.is_none_or(|bound| value <= bound)
            && self.equals.is_none_or(|bound| value == bound)
    }
}

/// Reads a timestamp range filter (`created`, …) as a plain integer or a hash of bounds.
pub(crate) fn range(map: &Params, key: &str) -> Result<RangeFilter, Failure> {
    match map.get(key) {
        None => Ok(RangeFilter::default()),
        Some(FormValue::Map(bounds)) => {
            reject_unknown(bounds, &["gt", "gte", "lt", "lte"], key)?;
            Ok(RangeFilter {
                gt: integer(bounds, "gt", key)?,
                gte: integer(bounds, "gte", key)?,
                lt: integer(bounds, "lt", key)?,
                lte: integer(bounds, "lte", key)?,
                equals: None,
            })
        }
        Some(_) => Ok(RangeFilter {
            equals: integer(map, key, "")?,
            ..RangeFilter::default()
        }),
    }
}

/// Reads an optional boolean parameter (`true` / `false`).
pub(crate) fn boolean(
    map: &BTreeMap<String, FormValue>,
    key: &str,
    prefix: &str,
) -> Result<Option<bool>, Failure> {
    match text(map, key, prefix)? {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(Failure::invalid(
            None,
            Some(&bracket(prefix, key)),
            format!("Invalid boolean: {other}"),
        )),
    }
}

/// Reads an optional enum parameter, rejecting values outside `allowed`.
pub(crate) fn one_of<'a>(
    map: &'a BTreeMap<String, FormValue>,
    key: &str,
    prefix: &str,
    allowed: &[&str],
) -> Result<Option<&'a str>, Failure> {
    let Some(value) = text(map, key, prefix)? else {
        return Ok(None);
    };
    if allowed.contains(&value) {
        Ok(Some(value))
    } else {
        Err(Failure::invalid(
            None,
            Some(&bracket(prefix, key)),
            format!(
                "Invalid {}: must be one of {}",
                bracket(prefix, key),
                allowed.join(", ")
            ),
        ))
    }
}

/// Reads `metadata[...]`, enforcing Stripe's limits (50 keys, key ≤ 40
/// characters, value ≤ 500 characters).
pub(crate) fn metadata(
    map: &BTreeMap<String, FormValue>,
    prefix: &str,
) -> Result<BTreeMap<String, String>, Failure> {
    let param = bracket(prefix, "metadata");
    let Some(entries) = object(map, "metadata", prefix)? else {
        return Ok(BTreeMap::new());
    };
    if entries.len() > 50 {
        return Err(Failure::invalid(
            None,
            Some(&param),
            "Invalid metadata: metadata can have at most 50 keys.".to_owned(),
        ));
    }
    let mut metadata = BTreeMap::new();
    for (key, value) in entries {
        let key_param = bracket(&param, key);
        let Some(value) = value.as_text() else {
            return Err(Failure::invalid(
                None,
                Some(&key_param),
                format!("Invalid string: {key_param} must be a string."),
            ));
        };
        if key.chars().count() > 40 {
            return Err(Failure::invalid(
                None,
                Some(&key_param),
                "Invalid metadata: keys can be at most 40 characters long.".to_owned(),
            ));
        }
        if value.chars().count() > 500 {
            return Err(Failure::invalid(
                None,
                Some(&key_param),
                "Invalid metadata: values can be at most 500 characters long.".to_owned(),
            ));
        }
        // An empty value unsets the key.
        if !value.is_empty() {
            metadata.insert(key.clone(), value.to_owned());
        }
    }
    Ok(metadata)
}

/// Applies `metadata[...]` of an update to `current`, as Stripe merges it: a key with a value
/// is set, a key with an empty value is unset, and `metadata=` unsets every key.
pub(crate) fn apply_metadata(
    map: &BTreeMap<String, FormValue>,
    prefix: &str,
    current: &mut BTreeMap<String, String>,
) -> Result<(), Failure> {
    match map.get("metadata") {
        None => Ok(()),
        Some(FormValue::Text(value)) if value.is_empty() => {
            current.clear();
            Ok(())
        }
        Some(FormValue::Text(_)) => {
            // Lets `metadata` report its own error for a non-hash value.
            metadata(map, prefix).map(|_| ())
        }
        Some(FormValue::Map(entries)) => {
            let set = metadata(map, prefix)?;
            for (key, value) in entries {
                if value.as_text() == Some("") {
                    current.remove(key);
                }
            }
            current.extend(set);
            if current.len() > 50 {
                return Err(Failure::invalid(
                    None,
                    Some(&bracket(prefix, "metadata")),
                    "Invalid metadata: metadata can have at most 50 keys.".to_owned(),
                ));
            }
            Ok(())
        }
    }
}

/// The 400 for a documented parameter the sandbox does not emulate: `param` in bracket form
/// (`payment_intent_data[shipping]`, or `name=value` when only some values are emulated),
/// `what` names the operation (`Checkout Sessions`). A test never passes on a parameter the
/// sandbox silently ignored.
pub(crate) fn not_emulated(param: &str, what: &str) -> Failure {
    let name = param.split_once('=').map_or(param, |(name, _)| name);
    Failure::invalid(
        None,
        Some(name),
        format!(
            "`{param}` on {what} is not emulated by the payswitch sandbox; leave it out here, \
             or test it against Stripe's test mode."
        ),
    )
}

/// Refuses a value of an enum parameter that the sandbox does not emulate (`automatic_tax`
/// with `enabled=true`): the values in `emulated` pass, any other is [`not_emulated`].
pub(crate) fn emulated_value(
    map: &BTreeMap<String, FormValue>,
    key: &str,
    prefix: &str,
    emulated: &[&str],
    what: &str,
) -> Result<(), Failure> {
    match text(map, key, prefix)? {
        Some(value) if !emulated.contains(&value) => Err(not_emulated(
            &format!("{}={value}", bracket(prefix, key)),
            what,
        )),
        _ => Ok(()),
    }
}

/// Rejects keys outside `allowed`: documented but unemulated ones with a message saying so
/// (`what` names the resource, e.g. `prices`), the rest as `parameter_unknown`. A test never
/// passes on a parameter the sandbox silently ignored.
pub(crate) fn reject_unsupported(
    map: &BTreeMap<String, FormValue>,
    allowed: &[&str],
    unemulated: &[&str],
    prefix: &str,
    what: &str,
) -> Result<(), Failure> {
    for key in map.keys() {
        if allowed.contains(&key.as_str()) {
            continue;
        }
        let param = bracket(prefix, key);
        if unemulated.contains(&key.as_str()) {
            return Err(not_emulated(&param, what));
        }
        return Err(Failure::unknown(&param));
    }
    Ok(())
}

/// Reads an optional text field of an update: `None` when absent, `Some(None)` when sent
/// empty (unset), `Some(Some(value))` otherwise.
pub(crate) fn text_update<'a>(
    map: &'a BTreeMap<String, FormValue>,
    key: &str,
    prefix: &str,
) -> Result<Option<Option<&'a str>>, Failure> {
    if !map.contains_key(key) {
        return Ok(None);
    }
    text(map, key, prefix).map(Some)
}

/// Reads `expand[...]` as a list of field names.
pub(crate) fn expand_list(params: &Params) -> Result<Vec<String>, Failure> {
    match params.get("expand") {
        None => Ok(Vec::new()),
        Some(FormValue::Text(value)) if value.is_empty() => Ok(Vec::new()),
        Some(value) => {
            let Some(list) = value.as_list() else {
                return Err(Failure::invalid(
                    None,
                    Some("expand"),
                    "Invalid array: expand must be an array.".to_owned(),
                ));
            };
            list.into_iter()
                .map(|(index, item)| {
                    item.as_text().map(str::to_owned).ok_or_else(|| {
                        Failure::invalid(
                            None,
                            Some(&format!("expand[{index}]")),
                            format!("Invalid string: expand[{index}] must be a string."),
                        )
                    })
                })
                .collect()
        }
    }
}

/// Rejects expansions outside `allowed`, as Stripe does.
pub(crate) fn check_expand(expand: &[String], allowed: &[&str]) -> Result<(), Failure> {
    for field in expand {
        if !allowed.contains(&field.as_str()) {
            return Err(Failure::invalid(
                None,
                Some("expand"),
                format!("This property cannot be expanded ({field})."),
            ));
        }
    }
    Ok(())
}
