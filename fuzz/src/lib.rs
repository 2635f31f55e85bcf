//! Helpers shared by the fuzz targets: an HMAC computed here rather than by the adapters (so
//! an oracle never trusts the code it checks), header maps from fuzzed pairs, and the
//! planted-secret check.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `hex(HMAC-SHA256(key, parts…))`, computed with the `hmac` crate directly.
pub fn hmac_hex(key: &[u8], parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

/// A header map from fuzzed name/value pairs; pairs that are not valid HTTP are skipped.
pub fn header_map(pairs: &[(String, Vec<u8>)]) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    for (name, value) in pairs {
        let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_bytes(value),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    headers
}

/// Panics (a libFuzzer crash) when `marker` appears in the value's `Display` or `Debug`.
pub fn assert_never_quoted<E: std::fmt::Display + std::fmt::Debug>(
    error: &E,
    marker: &str,
    context: &str,
) {
    let display = error.to_string();
    let debug = format!("{error:?}");
    assert!(
        !display.contains(marker),
        "{context}: a planted secret appears in Display: {display}"
    );
    assert!(
        !debug.contains(marker),
        "{context}: a planted secret appears in Debug: {debug}"
    );
}

/// A fuzz input cut into a few control bytes, a first line and the rest.
///
/// Byte-oriented targets use it so that seed files stay readable: `C` control bytes, then a
/// header or query line up to `\n`, then a body (a fixture can be pasted in as is).
pub struct Lines<'a, const C: usize> {
    /// The control bytes (zero when the input is shorter).
    pub control: [u8; C],
    /// Everything up to the first `\n` after the control bytes.
    pub line: &'a [u8],
    /// Everything after that `\n` (empty when there is none).
    pub rest: &'a [u8],
}

impl<'a, const C: usize> Lines<'a, C> {
    /// Cuts `data` as described on the type.
    pub fn cut(data: &'a [u8]) -> Self {
        let mut control = [0u8; C];
        let taken = data.len().min(C);
        control[..taken].copy_from_slice(&data[..taken]);
        let data = &data[taken..];
        let (line, rest) = match data.iter().position(|byte| *byte == b'\n') {
            Some(at) => (&data[..at], &data[at + 1..]),
            None => (data, &data[data.len()..]),
        };
        Self {
            control,
            line,
            rest,
        }
    }
}
