//! A configuration error names the setting and never shows its value: a `*_env` setting may name the
//! variable that holds a key (by mistake or by a hostile config file), and the message would print the
//! key. Found by the `config_toml` fuzz target (fuzz/regressions/config_toml).

use refunds_registry::{Config, Registry};

const KEY: &str = "sk_live_config_value_never_shown_0123";

fn keys_everywhere(_name: &str) -> Option<String> {
    Some(KEY.to_owned())
}

fn refused_without_the_value(error: refunds::Error, setting: &str) {
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(
            shown.contains(setting),
            "the error names the setting {setting}: {shown}"
        );
        assert!(!shown.contains(KEY), "the error shows the value: {shown}");
        assert!(!shown.contains("sk_live"), "the error shows part of the value: {shown}");
    }
}

#[test]
fn a_config_setting_read_from_a_key_variable_is_refused_without_showing_it() {
    let currency = Config::parse("[providers.fourgeeks]\ncurrency_env = \"SHOP_SECRET\"\n").unwrap();
    refused_without_the_value(currency.build_with(keys_everywhere).unwrap_err(), "SHOP_SECRET");

    let url = Config::parse("[providers.xpay]\nbase_url_env = \"XPAY_API_KEY\"\n").unwrap();
    refused_without_the_value(url.build_with(keys_everywhere).unwrap_err(), "XPAY_API_KEY");
}

#[test]
fn an_environment_setting_holding_a_key_is_refused_without_showing_it() {
    let env = |name: &str| match name {
        "REFUNDS_PROVIDERS" => Some("syncgram".to_owned()),
        _ => keys_everywhere(name),
    };
    refused_without_the_value(Registry::from_lookup(env).unwrap_err(), "SYNCGRAM_BASE_URL");

    let key_as_currency = |name: &str| match name {
        "REFUNDS_PROVIDERS" => Some("syncgram".to_owned()),
        "SYNCGRAM_BASE_URL" => None,
        _ => keys_everywhere(name),
    };
    refused_without_the_value(Registry::from_lookup(key_as_currency).unwrap_err(), "SYNCGRAM_CURRENCY");
}
