//! Runtime gateway selection: configuration picks the adapter; the application does not change.

#![cfg(all(feature = "stripe", feature = "creem"))]

use std::sync::Arc;

use payswitch::{CheckoutProvider, Config, PaymentError, ProviderKind};

const CONFIG: &str = r#"
provider = "stripe"

[stripe]
secret_key = "sk_test_selection_SECRET"
webhook_secrets = ["whsec_selection_SECRET"]
api_base = "http://127.0.0.1:9"

[creem]
api_key = "creem_test_selection_SECRET"
webhook_secrets = ["creem_selection_SECRET"]
api_base = "http://127.0.0.1:9"

[catalog.pro]
stripe = "price_pro"
creem = "prod_pro"
"#;

/// Application code: it only ever sees the trait object.
fn describe(gateway: &Arc<dyn CheckoutProvider>) -> (ProviderKind, bool) {
    (gateway.kind(), gateway.capabilities().custom_priced_items)
}

#[test]
fn changing_one_line_switches_the_gateway() {
    let stripe = payswitch::from_config(&Config::from_toml_str(CONFIG).unwrap()).unwrap();
    assert_eq!(describe(&stripe), (payswitch::stripe::KIND, true));

    let creem_toml = CONFIG.replace(r#"provider = "stripe""#, r#"provider = "creem""#);
    let creem = payswitch::from_config(&Config::from_toml_str(&creem_toml).unwrap()).unwrap();
    assert_eq!(describe(&creem), (payswitch::creem::KIND, false));

    let memory_toml = CONFIG.replace(
        r#"provider = "stripe""#,
        "provider = \"memory\"\nallow_memory = true",
    );
    let memory = payswitch::from_config(&Config::from_toml_str(&memory_toml).unwrap()).unwrap();
    assert_eq!(describe(&memory), (ProviderKind::MEMORY, true));
}

#[test]
fn the_memory_gateway_needs_an_explicit_opt_in() {
    let memory_toml = CONFIG.replace(r#"provider = "stripe""#, r#"provider = "memory""#);
    match payswitch::from_config(&Config::from_toml_str(&memory_toml).unwrap()) {
        Err(PaymentError::Config(message)) => {
            assert!(message.contains("allow_memory = true"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let router = "provider = \"router\"\n[router]\ndefault = \"memory\"";
    assert!(matches!(
        payswitch::from_config(&Config::from_toml_str(router).unwrap()),
        Err(PaymentError::Config(_))
    ));
    let from_env = payswitch::config_from_vars([
        ("PAYSWITCH_PROVIDER", "memory"),
        ("PAYSWITCH_ALLOW_MEMORY", "true"),
    ])
    .unwrap();
    assert_eq!(
        payswitch::from_config(&from_env).unwrap().kind(),
        ProviderKind::MEMORY
    );
}

#[test]
fn the_environment_selects_too() {
    let config = payswitch::config_from_vars([
        ("PAYSWITCH_PROVIDER", "creem"),
        ("CREEM_API_KEY", "creem_test_env"),
        ("CREEM_API_BASE", "http://127.0.0.1:9"),
    ])
    .unwrap();
    assert_eq!(
        payswitch::from_config(&config).unwrap().kind(),
        payswitch::creem::KIND
    );
}

#[test]
fn an_unknown_provider_lists_the_available_ones() {
    let config = Config::from_toml_str(&CONFIG.replace(r#""stripe""#, r#""paypal""#)).unwrap();
    match payswitch::from_config(&config) {
        Err(PaymentError::Config(message)) => assert_eq!(
            message,
            "unknown provider \"paypal\"; available providers: stripe, creem, memory, router"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        payswitch::available_providers(),
        ["stripe", "creem", "memory", "router"]
    );
}

#[test]
fn a_provider_without_its_section_says_what_is_missing() {
    let config = Config::from_toml_str("provider = \"creem\"").unwrap();
    match payswitch::from_config(&config) {
        Err(PaymentError::Config(message)) => {
            assert!(
                message.contains("[creem]") || message.contains("CREEM_API_KEY"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
    let config = Config::from_toml_str("provider = \"stripe\"").unwrap();
    match payswitch::from_config(&config) {
        Err(PaymentError::Config(message)) => {
            assert!(
                message.contains("[stripe]") || message.contains("STRIPE_SECRET_KEY"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn providers_never_print_their_secrets() {
    let config = Config::from_toml_str(CONFIG).unwrap();
    for name in ["stripe", "creem"] {
        let mut config = config.clone();
        config.provider = Some(name.into());
        let provider = payswitch::from_config(&config).unwrap();
        let debug = format!("{provider:?}");
        assert!(!debug.contains("SECRET"), "{name} leaked a secret: {debug}");
    }
}
