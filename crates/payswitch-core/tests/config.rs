//! TOML and environment configuration: parsing, strictness and secret redaction.

use std::time::Duration;

use payswitch_core::{Config, PaymentError, ProviderKind};

const FULL: &str = r#"
provider = "stripe"

[http]
timeout_secs = 12
connect_timeout_secs = 3

[retry]
max_retries = 4
initial_backoff_ms = 100
max_backoff_ms = 2000
jitter = false

[stripe]
secret_key = "sk_test_SECRET_stripe"
webhook_secrets = ["whsec_ONE", "whsec_TWO"]
api_base = "http://127.0.0.1:12111"
api_version = "2026-10-28.endive"
webhook_tolerance_secs = 600

[creem]
api_key = "creem_test_SECRET_creem"
webhook_secrets = ["creem_whsec_THREE"]

[catalog.pro_monthly]
stripe = "price_123"
creem = "prod_456"
"#;

#[test]
fn a_full_toml_file_parses() {
    let config = Config::from_toml_str(FULL).unwrap();
    assert_eq!(config.provider_name().unwrap(), "stripe");
    assert_eq!(config.http.timeout, Duration::from_secs(12));
    assert_eq!(config.http.connect_timeout, Duration::from_secs(3));
    assert_eq!(config.retry.max_retries, 4);
    assert_eq!(config.retry.initial_backoff, Duration::from_millis(100));
    assert_eq!(config.retry.max_backoff, Duration::from_secs(2));
    assert!(!config.retry.jitter);
    let stripe = config.stripe.as_ref().unwrap();
    assert_eq!(stripe.secret_key.expose(), "sk_test_SECRET_stripe");
    assert_eq!(stripe.webhook_secrets.len(), 2);
    assert_eq!(stripe.api_base.as_deref(), Some("http://127.0.0.1:12111"));
    assert_eq!(stripe.webhook_tolerance_secs, Some(600));
    assert_eq!(
        config.catalog.resolve("pro_monthly", ProviderKind::Stripe),
        Some("price_123")
    );
    assert_eq!(
        config.catalog.resolve("pro_monthly", ProviderKind::Creem),
        Some("prod_456")
    );
    assert_eq!(
        config.catalog.resolve("pro_monthly", ProviderKind::Memory),
        None
    );
}

#[test]
fn switching_gateway_is_one_line() {
    let creem =
        Config::from_toml_str(&FULL.replace(r#"provider = "stripe""#, r#"provider = "creem""#))
            .unwrap();
    assert_eq!(creem.provider_name().unwrap(), "creem");
}

#[test]
fn debug_never_shows_a_secret() {
    let config = Config::from_toml_str(FULL).unwrap();
    let debug = format!("{config:?}");
    for secret in [
        "SECRET_stripe",
        "SECRET_creem",
        "whsec_ONE",
        "whsec_TWO",
        "THREE",
    ] {
        assert!(!debug.contains(secret), "{secret} leaked: {debug}");
    }
    assert!(debug.contains("[redacted]"));
    assert!(
        debug.contains("price_123"),
        "non-secret settings stay visible"
    );
}

#[test]
fn unknown_keys_are_errors() {
    for (text, key) in [
        ("provider = \"stripe\"\ncolour = \"blue\"", "colour"),
        ("[stripe]\nsecret_key = \"sk\"\nsecret = \"x\"", "secret"),
        ("[http]\ntimeout = 3", "timeout"),
        ("[retry]\nretries = 3", "retries"),
        ("[stirpe]\nsecret_key = \"sk\"", "stirpe"),
    ] {
        match Config::from_toml_str(text) {
            Err(PaymentError::Config(message)) => {
                assert!(message.contains(key), "{message} should name {key}")
            }
            other => panic!("expected a config error for {key}, got {other:?}"),
        }
    }
}

#[test]
fn catalog_names_must_be_known_gateways() {
    let text = "[catalog.pro]\nstripe = \"price_1\"\npaypal = \"P-1\"";
    match Config::from_toml_str(text) {
        Err(PaymentError::Config(message)) => {
            assert!(
                message.contains("paypal") && message.contains("stripe, creem, memory"),
                "{message}"
            )
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn bad_urls_and_empty_secrets_are_errors() {
    let bad_base = "[stripe]\nsecret_key = \"sk\"\napi_base = \"not a url\"";
    assert!(
        matches!(Config::from_toml_str(bad_base), Err(PaymentError::Config(m)) if m.contains("stripe.api_base"))
    );
    let empty = "[creem]\napi_key = \"\"";
    assert!(
        matches!(Config::from_toml_str(empty), Err(PaymentError::Config(m)) if m.contains("creem.api_key"))
    );
    let syntax = "provider = ";
    assert!(matches!(
        Config::from_toml_str(syntax),
        Err(PaymentError::Config(_))
    ));
}

#[test]
fn provider_is_inferred_only_when_unambiguous() {
    let only_creem = Config::from_toml_str("[creem]\napi_key = \"creem_test_x\"").unwrap();
    assert_eq!(only_creem.provider_name().unwrap(), "creem");
    let both = Config::from_toml_str(&FULL.replace(r#"provider = "stripe""#, "")).unwrap();
    assert!(
        matches!(both.provider_name(), Err(PaymentError::Config(m)) if m.contains("set provider"))
    );
    let none = Config::from_toml_str("").unwrap();
    assert!(
        matches!(none.provider_name(), Err(PaymentError::Config(m)) if m.contains("stripe, creem, memory"))
    );
}

#[test]
fn environment_variables_configure_each_gateway() {
    let config = Config::from_vars([
        ("PAYSWITCH_PROVIDER", "Creem"),
        ("STRIPE_SECRET_KEY", "sk_test_env"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_a, whsec_b"),
        ("STRIPE_API_BASE", "http://127.0.0.1:9999"),
        ("CREEM_API_KEY", "creem_test_env"),
        ("CREEM_WEBHOOK_SECRET", "cw"),
        ("CREEM_API_BASE", "http://127.0.0.1:9998"),
        ("HOME", "/root"),
    ])
    .unwrap();
    assert_eq!(config.provider_name().unwrap(), "creem");
    let stripe = config.stripe.unwrap();
    assert_eq!(stripe.secret_key.expose(), "sk_test_env");
    let secrets: Vec<&str> = stripe.webhook_secrets.iter().map(|s| s.expose()).collect();
    assert_eq!(secrets, ["whsec_a", "whsec_b"]);
    assert_eq!(stripe.api_base.as_deref(), Some("http://127.0.0.1:9999"));
    let creem = config.creem.unwrap();
    assert_eq!(creem.api_key.expose(), "creem_test_env");
    assert_eq!(creem.api_base.as_deref(), Some("http://127.0.0.1:9998"));
}

#[test]
fn environment_overrides_a_config_file() {
    let path = std::env::temp_dir().join(format!("payswitch-config-{}.toml", std::process::id()));
    std::fs::write(&path, FULL).unwrap();
    let config = Config::from_vars([
        ("PAYSWITCH_CONFIG", path.to_str().unwrap()),
        ("PAYSWITCH_PROVIDER", "creem"),
        ("STRIPE_SECRET_KEY", "sk_test_override"),
        ("CREEM_API_BASE", ""),
    ])
    .unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(config.provider_name().unwrap(), "creem");
    assert_eq!(
        config.stripe.as_ref().unwrap().secret_key.expose(),
        "sk_test_override"
    );
    // Kept from the file.
    assert_eq!(config.stripe.as_ref().unwrap().webhook_secrets.len(), 2);
    assert_eq!(config.retry.max_retries, 4);
    assert_eq!(
        config.catalog.resolve("pro_monthly", ProviderKind::Creem),
        Some("prod_456")
    );
}

#[test]
fn environment_errors_are_specific() {
    let orphan = Config::from_vars([("STRIPE_WEBHOOK_SECRET", "whsec_x")]);
    assert!(
        matches!(orphan, Err(PaymentError::Config(m)) if m == "STRIPE_WEBHOOK_SECRET is set but STRIPE_SECRET_KEY is not")
    );
    let orphan = Config::from_vars([("CREEM_API_BASE", "http://127.0.0.1:1")]);
    assert!(
        matches!(orphan, Err(PaymentError::Config(m)) if m == "CREEM_API_BASE is set but CREEM_API_KEY is not")
    );
    let missing_file = Config::from_vars([("PAYSWITCH_CONFIG", "/nonexistent/payswitch.toml")]);
    assert!(
        matches!(missing_file, Err(PaymentError::Config(m)) if m.contains("/nonexistent/payswitch.toml"))
    );
    let empty: [(&str, &str); 0] = [];
    let nothing = Config::from_vars(empty).unwrap();
    assert!(nothing.provider_name().is_err());
}

#[test]
fn catalog_require_names_the_item() {
    let config = Config::from_toml_str(FULL).unwrap();
    assert_eq!(
        config
            .catalog
            .require(0, "pro_monthly", ProviderKind::Stripe)
            .unwrap(),
        "price_123"
    );
    match config.catalog.require(2, "team", ProviderKind::Stripe) {
        Err(PaymentError::InvalidRequest { field, message, .. }) => {
            assert_eq!(field, "line_items[2].product");
            assert_eq!(message, "SKU \"team\" is not in the catalog");
        }
        other => panic!("{other:?}"),
    }
    match config
        .catalog
        .require(0, "pro_monthly", ProviderKind::Memory)
    {
        Err(PaymentError::InvalidRequest { message, .. }) => {
            assert_eq!(
                message,
                "SKU \"pro_monthly\" has no memory id in the catalog"
            )
        }
        other => panic!("{other:?}"),
    }
}
