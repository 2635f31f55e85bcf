//! Configuration text and variables with a planted secret, into `Config::from_toml_str`,
//! `payswitch::config_from_vars`, `payswitch::check_config` and `payswitch::from_config`.
//!
//! Input: 3 control bytes, then TOML text. Bytes 0–1 choose where the marker is inserted
//! into the text; byte 2 chooses which gateway secret variables hold the marker. Each
//! `NAME=value` line of the text is also read as a variable, with the marker in its value.
//!
//! Oracle: no panic, and the marker never appears in any error's `Display` or `Debug`
//! (applications log configuration errors). One exception: when the text is valid TOML (read
//! here with the `toml` crate) and the marker landed inside a key, an error may name that key
//! ("unknown key …"): key names are not secrets, and naming them is how a typo is found.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payswitch_core::Config;
use payswitch_fuzz::{assert_never_quoted, Lines};

const MARKER: &str = "PLANTED_SECRET_1234";

const SECRET_VARS: [(&str, &str); 4] = [
    ("STRIPE_SECRET_KEY", "sk_test_"),
    ("STRIPE_WEBHOOK_SECRET", "whsec_"),
    ("CREEM_API_KEY", "creem_test_"),
    ("CREEM_WEBHOOK_SECRET", "whsec_"),
];

/// Selects and builds, checking every error for the marker.
fn exercise(config: &Config, context: &str) {
    if let Err(error) = payswitch::check_config(config) {
        assert_never_quoted(&error, MARKER, &format!("{context}: check_config"));
    }
    if let Err(error) = payswitch::from_config(config) {
        assert_never_quoted(&error, MARKER, &format!("{context}: from_config"));
    }
}

/// Whether the text is valid TOML with the marker in a key (at any depth) rather than a value.
fn marker_in_a_key(text: &str) -> bool {
    fn in_keys(value: &toml::Value) -> bool {
        match value {
            toml::Value::Table(table) => table
                .iter()
                .any(|(key, value)| key.contains(MARKER) || in_keys(value)),
            toml::Value::Array(items) => items.iter().any(in_keys),
            _ => false,
        }
    }
    text.parse::<toml::Table>()
        .is_ok_and(|table| in_keys(&toml::Value::Table(table)))
}

fuzz_target!(|data: &[u8]| {
    let input = Lines::<3>::cut(data);
    let [at_low, at_high, secret_vars] = input.control;
    // The whole input after the control bytes is the TOML text.
    let mut text = String::from_utf8_lossy(&data[data.len().min(3)..]).into_owned();
    let mut at = usize::from(u16::from_le_bytes([at_low, at_high])) % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    text.insert_str(at, MARKER);

    if !marker_in_a_key(&text) {
        match Config::from_toml_str(&text) {
            Ok(config) => exercise(&config, "toml"),
            Err(error) => assert_never_quoted(&error, MARKER, "Config::from_toml_str"),
        }
    } else if let Ok(config) = Config::from_toml_str(&text) {
        // Still selected and built, for panics.
        let _ = payswitch::check_config(&config);
        let _ = payswitch::from_config(&config);
    }

    let mut vars: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.trim().to_owned(), format!("{value}{MARKER}")))
        // PAYSWITCH_CONFIG names a file to read; the fuzzer must not roam the disk.
        .filter(|(name, _)| name != "PAYSWITCH_CONFIG")
        .collect();
    for (bit, (name, prefix)) in SECRET_VARS.iter().enumerate() {
        if secret_vars & (1 << bit) != 0 {
            vars.push(((*name).to_owned(), format!("{prefix}{MARKER}")));
        }
    }
    match payswitch::config_from_vars(vars) {
        Ok(config) => exercise(&config, "vars"),
        Err(error) => assert_never_quoted(&error, MARKER, "config_from_vars"),
    }
});
