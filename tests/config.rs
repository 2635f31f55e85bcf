//! Configuration with the real gateways: each gateway crate reads its own section and
//! environment variables, and the facade's gateway table checks names. These are the
//! gateway-specific assertions of core's configuration tests, made where the gateways are
//! known.

#![cfg(all(feature = "stripe", feature = "creem"))]

use std::time::Duration;

use payswitch::creem::CreemConfig;
use payswitch::stripe::StripeConfig;
use payswitch::{Config, PaymentError, ProviderKind};

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

fn config_error(result: Result<impl std::fmt::Debug, PaymentError>) -> String {
    match result {
        Err(PaymentError::Config(message)) => message,
        other => panic!("expected a config error, got {other:?}"),
    }
}

/// Loads TOML and checks it as `payswitch::from_config` does before building anything.
fn load(text: &str) -> Result<Config, PaymentError> {
    let config = Config::from_toml_str(text)?;
    payswitch::check_config(&config)?;
    Ok(config)
}

#[test]
fn a_full_toml_file_parses() {
    let config = load(FULL).unwrap();
    assert_eq!(config.provider_name().unwrap(), "stripe");
    assert_eq!(config.http.timeout, Duration::from_secs(12));
    assert_eq!(config.retry.max_retries, 4);
    let stripe = StripeConfig::from_config(&config).unwrap();
    assert_eq!(stripe.secret_key.expose(), "sk_test_SECRET_stripe");
    assert_eq!(stripe.webhook_secrets.len(), 2);
    assert_eq!(stripe.api_base.as_deref(), Some("http://127.0.0.1:12111"));
    assert_eq!(stripe.webhook_tolerance_secs, Some(600));
    let creem = CreemConfig::from_config(&config).unwrap();
    assert_eq!(creem.api_key.expose(), "creem_test_SECRET_creem");
    assert_eq!(
        config
            .catalog
            .resolve("pro_monthly", payswitch::stripe::KIND),
        Some("price_123")
    );
    assert_eq!(
        config
            .catalog
            .resolve("pro_monthly", payswitch::creem::KIND),
        Some("prod_456")
    );
    assert_eq!(
        config.catalog.resolve("pro_monthly", ProviderKind::MEMORY),
        None
    );
}

#[test]
fn debug_never_shows_a_secret() {
    let config = load(FULL).unwrap();
    let stripe = StripeConfig::from_config(&config).unwrap();
    let creem = CreemConfig::from_config(&config).unwrap();
    let typed = stripe.clone().into_config();
    for debug in [
        format!("{config:?}"),
        format!("{stripe:?}"),
        format!("{creem:?}"),
        format!("{typed:?}"),
    ] {
        for secret in [
            "SECRET_stripe",
            "SECRET_creem",
            "whsec_ONE",
            "whsec_TWO",
            "THREE",
        ] {
            assert!(!debug.contains(secret), "{secret} leaked: {debug}");
        }
        assert!(debug.contains("[redacted]"), "{debug}");
    }
}

#[test]
fn unknown_keys_are_errors() {
    for (text, key) in [
        ("provider = \"stripe\"\ncolour = \"blue\"", "colour"),
        ("[stripe]\nsecret_key = \"sk\"\nsecret = \"x\"", "secret"),
        ("[creem]\napi_key = \"k\"\napi_url = \"x\"", "api_url"),
        ("[http]\ntimeout = 3", "timeout"),
        ("[retry]\nretries = 3", "retries"),
        ("[stirpe]\nsecret_key = \"sk\"", "stirpe"),
    ] {
        let message = config_error(load(text));
        assert!(message.contains(key), "{message} should name {key}");
    }
    // An unused gateway's section is checked too.
    let unused = "provider = \"memory\"\n[creem]\napi_key = \"k\"\nkey = \"x\"";
    assert!(config_error(load(unused)).contains("key"));
}

#[test]
fn catalog_names_must_be_known_gateways() {
    let text = "[catalog.pro]\nstripe = \"price_1\"\npaypal = \"P-1\"";
    let message = config_error(load(text));
    assert!(
        message.contains("paypal") && message.contains("stripe, creem, memory"),
        "{message}"
    );
}

#[test]
fn router_gateways_must_be_known() {
    let text = "provider = \"router\"\n[router]\ndefault = \"stripe\"\nfailover = [\"paypal\"]";
    let message = config_error(load(text));
    assert!(
        message.contains("router") && message.contains("paypal"),
        "{message}"
    );
}

#[test]
fn bad_urls_and_empty_secrets_are_errors() {
    let bad_base = "[stripe]\nsecret_key = \"sk_test_1\"\napi_base = \"not a url\"";
    let message = config_error(payswitch::from_config(&load(bad_base).unwrap()));
    assert!(message.contains("stripe.api_base"), "{message}");
    let empty = "[creem]\napi_key = \"\"";
    let message = config_error(payswitch::from_config(&load(empty).unwrap()));
    assert!(message.contains("creem.api_key"), "{message}");
    assert!(matches!(
        Config::from_toml_str("provider = "),
        Err(PaymentError::Config(_))
    ));
}

#[test]
fn provider_is_inferred_only_when_unambiguous() {
    let only_creem = load("[creem]\napi_key = \"creem_test_x\"").unwrap();
    assert_eq!(only_creem.provider_name().unwrap(), "creem");
    let both = load(&FULL.replace(r#"provider = "stripe""#, "")).unwrap();
    assert!(
        matches!(both.provider_name(), Err(PaymentError::Config(m)) if m.contains("set provider"))
    );
    let none = load("").unwrap();
    let message = config_error(payswitch::from_config(&none));
    assert!(message.contains("stripe, creem, memory"), "{message}");
}

#[test]
fn environment_variables_configure_each_gateway() {
    let config = payswitch::config_from_vars([
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
    let stripe = StripeConfig::from_config(&config).unwrap();
    assert_eq!(stripe.secret_key.expose(), "sk_test_env");
    let secrets: Vec<&str> = stripe.webhook_secrets.iter().map(|s| s.expose()).collect();
    assert_eq!(secrets, ["whsec_a", "whsec_b"]);
    assert_eq!(stripe.api_base.as_deref(), Some("http://127.0.0.1:9999"));
    let creem = CreemConfig::from_config(&config).unwrap();
    assert_eq!(creem.api_key.expose(), "creem_test_env");
    assert_eq!(creem.api_base.as_deref(), Some("http://127.0.0.1:9998"));
}

#[test]
fn environment_overrides_a_config_file() {
    let path = std::env::temp_dir().join(format!("payswitch-config-{}.toml", std::process::id()));
    std::fs::write(&path, FULL).unwrap();
    let config = payswitch::config_from_vars([
        ("PAYSWITCH_CONFIG", path.to_str().unwrap()),
        ("PAYSWITCH_PROVIDER", "creem"),
        ("STRIPE_SECRET_KEY", "sk_test_override"),
        ("CREEM_API_BASE", ""),
    ])
    .unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(config.provider_name().unwrap(), "creem");
    let stripe = StripeConfig::from_config(&config).unwrap();
    assert_eq!(stripe.secret_key.expose(), "sk_test_override");
    // Kept from the file.
    assert_eq!(stripe.webhook_secrets.len(), 2);
    assert_eq!(config.retry.max_retries, 4);
    assert_eq!(
        config
            .catalog
            .resolve("pro_monthly", payswitch::creem::KIND),
        Some("prod_456")
    );
}

#[test]
fn environment_errors_are_specific() {
    let orphan = payswitch::config_from_vars([("STRIPE_WEBHOOK_SECRET", "whsec_x")]);
    assert_eq!(
        config_error(orphan),
        "STRIPE_WEBHOOK_SECRET is set but STRIPE_SECRET_KEY is not"
    );
    let orphan = payswitch::config_from_vars([("CREEM_API_BASE", "http://127.0.0.1:1")]);
    assert_eq!(
        config_error(orphan),
        "CREEM_API_BASE is set but CREEM_API_KEY is not"
    );
    let missing_file =
        payswitch::config_from_vars([("PAYSWITCH_CONFIG", "/nonexistent/payswitch.toml")]);
    assert!(config_error(missing_file).contains("/nonexistent/payswitch.toml"));
    let empty: [(&str, &str); 0] = [];
    let nothing = payswitch::config_from_vars(empty).unwrap();
    assert!(nothing.provider_name().is_err());
}

#[test]
fn catalog_require_names_the_item() {
    let config = load(FULL).unwrap();
    assert_eq!(
        config
            .catalog
            .require(0, "pro_monthly", payswitch::stripe::KIND)
            .unwrap(),
        "price_123"
    );
    match config
        .catalog
        .require(0, "pro_monthly", ProviderKind::MEMORY)
    {
        Err(PaymentError::InvalidRequest { message, .. }) => assert_eq!(
            message,
            "SKU \"pro_monthly\" has no memory id in the catalog"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn payswitch_settings_live_in_a_section_of_the_applications_own_file_with_secrets_from_the_environment(
) {
    let app_file = r#"
        [server]
        port = 8080

        [payments]
        provider = "stripe"

        [payments.stripe]
        secret_key = "sk_test_from_file"

        [payments.catalog.pro]
        stripe = "price_pro"
    "#;
    let file = payswitch::Config::from_toml_section(app_file, "payments").unwrap();
    let config = payswitch::config_with_vars(
        file,
        [
            ("STRIPE_SECRET_KEY", "sk_test_from_env"),
            ("UNRELATED", "ignored"),
        ],
    )
    .unwrap();
    assert_eq!(config.provider.as_deref(), Some("stripe"));
    let stripe = payswitch::stripe::StripeConfig::from_config(&config).unwrap();
    assert_eq!(stripe.secret_key.expose(), "sk_test_from_env");
    assert_eq!(
        config.catalog.resolve("pro", payswitch::stripe::KIND),
        Some("price_pro")
    );
    payswitch::from_config(&config).unwrap();

    // Unknown keys inside the section are still errors; a missing section is named.
    let typo = "[payments]\nprovider = \"stripe\"\nprovder = \"x\"\n";
    let error = payswitch::Config::from_toml_section(typo, "payments").unwrap_err();
    assert!(error.to_string().contains("[payments]"), "{error}");
    let error =
        payswitch::Config::from_toml_section("[server]\nport = 1\n", "payments").unwrap_err();
    assert!(
        error.to_string().contains("no [payments] section"),
        "{error}"
    );
}
