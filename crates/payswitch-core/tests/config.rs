//! TOML and environment configuration in core: shared settings, strictness, opaque gateway
//! sections read by their gateway's settings type, and secret redaction.
//!
//! Core names no gateway: a made-up gateway "acme" stands in for one here. The facade's
//! tests (`tests/config.rs` at the workspace root) cover the real gateways' sections.

use std::time::Duration;

use payswitch_core::{
    Config, EnvForm, EnvVar, GatewayEnv, GatewaySection, PaymentError, ProviderKind, Secret,
};
use serde::Deserialize;

const ACME: ProviderKind = ProviderKind::new("acme");

/// A gateway crate's settings type, as an adapter declares it.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AcmeSettings {
    api_key: Secret,
    #[serde(default)]
    webhook_secrets: Vec<Secret>,
    api_base: Option<String>,
}

impl std::fmt::Debug for AcmeSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcmeSettings")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

const ACME_ENV: GatewayEnv = GatewayEnv {
    gateway: "acme",
    vars: &[
        EnvVar {
            name: "ACME_API_KEY",
            key: "api_key",
            form: EnvForm::Text,
        },
        EnvVar {
            name: "ACME_WEBHOOK_SECRET",
            key: "webhook_secrets",
            form: EnvForm::List,
        },
        EnvVar {
            name: "ACME_API_BASE",
            key: "api_base",
            form: EnvForm::Text,
        },
    ],
};

const FULL: &str = r#"
provider = "acme"

[http]
timeout_secs = 12
connect_timeout_secs = 3

[retry]
max_retries = 4
initial_backoff_ms = 100
max_backoff_ms = 2000
jitter = false

[acme]
api_key = "acme_SECRET_key"
webhook_secrets = ["whsec_ONE", "whsec_TWO"]
api_base = "http://127.0.0.1:12111"

[other]
api_key = "other_SECRET_key"

[catalog.pro_monthly]
acme = "price_123"
other = "prod_456"
"#;

fn acme(config: &Config) -> AcmeSettings {
    config.gateway("acme").unwrap().settings("acme").unwrap()
}

#[test]
fn a_full_toml_file_parses() {
    let config = Config::from_toml_str(FULL).unwrap();
    assert_eq!(config.provider_name().unwrap(), "acme");
    assert_eq!(config.http.timeout, Duration::from_secs(12));
    assert_eq!(config.http.connect_timeout, Duration::from_secs(3));
    assert_eq!(config.retry.max_retries, 4);
    assert_eq!(config.retry.initial_backoff, Duration::from_millis(100));
    assert_eq!(config.retry.max_backoff, Duration::from_secs(2));
    assert!(!config.retry.jitter);
    let settings = acme(&config);
    assert_eq!(settings.api_key.expose(), "acme_SECRET_key");
    assert_eq!(settings.webhook_secrets.len(), 2);
    assert_eq!(settings.api_base.as_deref(), Some("http://127.0.0.1:12111"));
    assert_eq!(
        config.gateway_names().collect::<Vec<_>>(),
        ["acme", "other"]
    );
    assert_eq!(
        config.catalog.resolve("pro_monthly", ACME),
        Some("price_123")
    );
    assert_eq!(
        config
            .catalog
            .resolve("pro_monthly", ProviderKind::new("other")),
        Some("prod_456")
    );
    assert_eq!(
        config.catalog.resolve("pro_monthly", ProviderKind::MEMORY),
        None
    );
}

#[test]
fn switching_gateway_is_one_line() {
    let other =
        Config::from_toml_str(&FULL.replace(r#"provider = "acme""#, r#"provider = "other""#))
            .unwrap();
    assert_eq!(other.provider_name().unwrap(), "other");
}

#[test]
fn debug_never_shows_a_section_value() {
    let config = Config::from_toml_str(FULL).unwrap();
    let debug = format!("{config:?}");
    for secret in ["SECRET_key", "whsec_ONE", "whsec_TWO", "127.0.0.1:12111"] {
        assert!(!debug.contains(secret), "{secret} leaked: {debug}");
    }
    assert!(debug.contains("[redacted]"));
    assert!(debug.contains("api_key"), "keys stay visible: {debug}");
    assert!(
        debug.contains("price_123"),
        "non-secret settings stay visible"
    );
    let typed = Config::for_gateway(
        "acme",
        AcmeSettings {
            api_key: Secret::new("acme_SECRET_typed"),
            webhook_secrets: vec![],
            api_base: None,
        },
    );
    assert!(!format!("{typed:?}").contains("SECRET"));
}

#[test]
fn unknown_keys_are_errors() {
    for (text, key) in [
        ("provider = \"acme\"\ncolour = \"blue\"", "colour"),
        ("[http]\ntimeout = 3", "timeout"),
        ("[retry]\nretries = 3", "retries"),
        ("[router]\ndefault = \"acme\"\nfallback = []", "fallback"),
    ] {
        match Config::from_toml_str(text) {
            Err(PaymentError::Config(message)) => {
                assert!(message.contains(key), "{message} should name {key}")
            }
            other => panic!("expected a config error for {key}, got {other:?}"),
        }
    }
    // A gateway's section is checked by its settings type.
    let config = Config::from_toml_str("[acme]\napi_key = \"k\"\nsecret = \"x\"").unwrap();
    match config
        .gateway("acme")
        .unwrap()
        .settings::<AcmeSettings>("acme")
    {
        Err(PaymentError::Config(message)) => {
            assert!(
                message.contains("[acme]") && message.contains("secret"),
                "{message}"
            )
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn a_syntax_error_names_the_place_never_the_text() {
    let text = "provider = \"acme\"\n[acme]\napi_key = \"acme_SECRET_key\" trailing\n";
    match Config::from_toml_str(text) {
        Err(PaymentError::Config(message)) => {
            assert!(message.contains("line 3"), "{message}");
            assert!(!message.contains("SECRET"), "{message}");
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn router_rules_are_checked() {
    let no_condition = "[router]\ndefault = \"acme\"\n[[router.rules]]\ngateway = \"other\"";
    assert!(
        matches!(Config::from_toml_str(no_condition), Err(PaymentError::Config(m)) if m.contains("router.rules[0] has no condition"))
    );
    let too_much =
        "[router]\ndefault = \"acme\"\n[[router.rules]]\ngateway = \"other\"\npercent = 101";
    assert!(
        matches!(Config::from_toml_str(too_much), Err(PaymentError::Config(m)) if m.contains("between 0 and 100"))
    );
}

#[test]
fn provider_is_inferred_only_when_unambiguous() {
    let only_acme = Config::from_toml_str("[acme]\napi_key = \"k\"").unwrap();
    assert_eq!(only_acme.provider_name().unwrap(), "acme");
    let both = Config::from_toml_str(&FULL.replace(r#"provider = "acme""#, "")).unwrap();
    assert!(
        matches!(both.provider_name(), Err(PaymentError::Config(m)) if m.contains("[acme], [other]") && m.contains("set provider"))
    );
    let none = Config::from_toml_str("").unwrap();
    assert!(
        matches!(none.provider_name(), Err(PaymentError::Config(m)) if m.contains("PAYSWITCH_PROVIDER"))
    );
}

#[test]
fn environment_variables_configure_a_gateway_as_it_declares() {
    let config = Config::from_vars_with(
        [
            ("PAYSWITCH_PROVIDER", "Acme"),
            ("ACME_API_KEY", "acme_env"),
            ("ACME_WEBHOOK_SECRET", "whsec_a, whsec_b,"),
            ("ACME_API_BASE", "http://127.0.0.1:9999"),
            ("HOME", "/root"),
        ],
        &[&ACME_ENV],
    )
    .unwrap();
    assert_eq!(config.provider_name().unwrap(), "acme");
    let settings = acme(&config);
    assert_eq!(settings.api_key.expose(), "acme_env");
    let secrets: Vec<&str> = settings
        .webhook_secrets
        .iter()
        .map(|s| s.expose())
        .collect();
    assert_eq!(secrets, ["whsec_a", "whsec_b"]);
    assert_eq!(settings.api_base.as_deref(), Some("http://127.0.0.1:9999"));
    // Without the declaration the variables are not read.
    let plain = Config::from_vars([("ACME_API_KEY", "acme_env")]).unwrap();
    assert!(plain.gateway("acme").is_none());
}

#[test]
fn environment_overrides_a_config_file() {
    let path =
        std::env::temp_dir().join(format!("payswitch-core-config-{}.toml", std::process::id()));
    std::fs::write(&path, FULL).unwrap();
    let config = Config::from_vars_with(
        [
            ("PAYSWITCH_CONFIG", path.to_str().unwrap()),
            ("PAYSWITCH_PROVIDER", "other"),
            ("ACME_API_KEY", "acme_override"),
            ("ACME_API_BASE", ""),
        ],
        &[&ACME_ENV],
    )
    .unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(config.provider_name().unwrap(), "other");
    let settings = acme(&config);
    assert_eq!(settings.api_key.expose(), "acme_override");
    // Kept from the file.
    assert_eq!(settings.webhook_secrets.len(), 2);
    assert_eq!(settings.api_base.as_deref(), Some("http://127.0.0.1:12111"));
    assert_eq!(config.retry.max_retries, 4);
    assert_eq!(
        config
            .catalog
            .resolve("pro_monthly", ProviderKind::new("other")),
        Some("prod_456")
    );
}

#[test]
fn environment_errors_are_specific() {
    let orphan = Config::from_vars_with([("ACME_WEBHOOK_SECRET", "whsec_x")], &[&ACME_ENV]);
    assert!(
        matches!(orphan, Err(PaymentError::Config(m)) if m == "ACME_WEBHOOK_SECRET is set but ACME_API_KEY is not")
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
fn a_section_built_in_code_reads_back_as_its_type() {
    let config = Config::for_gateway(
        "acme",
        AcmeSettings {
            api_key: Secret::new("k"),
            webhook_secrets: vec![],
            api_base: Some("http://127.0.0.1:1".into()),
        },
    );
    assert_eq!(config.provider_name().unwrap(), "acme");
    assert_eq!(
        acme(&config).api_base.as_deref(),
        Some("http://127.0.0.1:1")
    );
    let wrong = config
        .gateway("acme")
        .unwrap()
        .settings::<Vec<String>>("acme");
    assert!(matches!(wrong, Err(PaymentError::Config(m)) if m.contains("[acme]")));
    let mut table = toml::Table::new();
    table.insert("api_key".into(), toml::Value::String("t".into()));
    let mut config = Config::default();
    config.set_gateway("acme", GatewaySection::from_table(table));
    assert_eq!(acme(&config).api_key.expose(), "t");
}

#[test]
fn catalog_require_names_the_item() {
    let config = Config::from_toml_str(FULL).unwrap();
    assert_eq!(
        config.catalog.require(0, "pro_monthly", ACME).unwrap(),
        "price_123"
    );
    match config.catalog.require(2, "team", ACME) {
        Err(PaymentError::InvalidRequest { field, message, .. }) => {
            assert_eq!(field, "line_items[2].product");
            assert_eq!(message, "SKU \"team\" is not in the catalog");
        }
        other => panic!("{other:?}"),
    }
    match config
        .catalog
        .require(0, "pro_monthly", ProviderKind::MEMORY)
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

#[test]
fn no_error_quotes_a_value_that_may_be_a_secret() {
    // A secret in the wrong shape (a string where a list belongs, a number for a key).
    for text in [
        "[acme]\napi_key = \"k\"\nwebhook_secrets = \"whsec_PLANTED_SECRET\"",
        "[acme]\napi_key = 31415926535\n",
        "[acme]\napi_key = [\"acme_PLANTED_SECRET\"]\n",
    ] {
        let config = Config::from_toml_str(text).unwrap();
        let error = config
            .gateway("acme")
            .unwrap()
            .settings::<AcmeSettings>("acme")
            .unwrap_err();
        for shown in [error.to_string(), format!("{error:?}")] {
            assert!(!shown.contains("PLANTED"), "{shown}");
            assert!(!shown.contains("31415926535"), "{shown}");
            assert!(
                shown.contains("[acme]") && shown.contains("expected"),
                "{shown}"
            );
        }
    }
    let shared = Config::from_toml_str("[http]\ntimeout_secs = \"sk_PLANTED_SECRET\"").unwrap_err();
    assert!(!shared.to_string().contains("PLANTED"), "{shared}");
}

#[test]
fn retries_are_bounded() {
    let message = match Config::from_toml_str("[retry]\nmax_retries = 11") {
        Err(PaymentError::Config(message)) => message,
        other => panic!("{other:?}"),
    };
    assert!(message.contains("at most 10"), "{message}");
    assert!(Config::from_toml_str("[retry]\nmax_retries = 10").is_ok());
}
