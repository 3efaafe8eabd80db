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
    let currency = Config::parse("[providers.fourgeeks]\ncurrency_env = \"SHOP_FOURGEEKS_CURRENCY\"\n").unwrap();
    refused_without_the_value(
        currency.build_with(keys_everywhere).unwrap_err(),
        "SHOP_FOURGEEKS_CURRENCY",
    );

    let url = Config::parse("[providers.xpay]\nbase_url_env = \"XPAY_BASE_URL\"\n").unwrap();
    refused_without_the_value(url.build_with(keys_everywhere).unwrap_err(), "XPAY_BASE_URL");
}

/// An untrusted config names another secret's variable, or pastes a key where a variable's name
/// goes: refused when the file is read, before any request, naming the setting and never the value.
#[test]
fn a_config_naming_an_unrelated_variable_is_refused_before_any_request() {
    for (setting, value) in [
        ("api_key_env", "AWS_SECRET_ACCESS_KEY"),
        ("api_key_env", "GITHUB_TOKEN"),
        ("api_key_env", "BIASX_API_KEY"),
        ("api_key_env", KEY),
        ("base_url_env", "AWS_SECRET_ACCESS_KEY"),
        ("currency_env", "HOME"),
    ] {
        let text = format!("[providers.bias]\n{setting} = \"{value}\"\n");
        let error = Config::parse(&text).unwrap_err();
        refused_without_the_value(error.clone(), setting);
        assert!(!error.to_string().contains(value), "{error}");
        assert!(
            error.to_string().contains("BIAS_API_KEY") || setting != "api_key_env",
            "{error}"
        );
    }
    // Variables for the provider's own settings are fine.
    for name in ["BIAS_API_KEY", "SHOP_BIAS_KEY", "BIAS_EU_LIVE_KEY"] {
        Config::parse(&format!("[providers.bias]\napi_key_env = \"{name}\"\n")).expect(name);
    }
}

/// A config sending the key to a host the provider does not document: refused naming the setting and
/// the way to mean it, never the url; loopback (a sandbox) and the documented host need no leave.
#[test]
fn a_config_naming_a_foreign_host_is_refused_unless_the_operator_opts_in() {
    let vars = |name: &str| (name == "XPAY_API_KEY").then(|| "sk_test_1".to_owned());
    for url in [
        "https://attacker.example",
        "https://api.xpay.example.attacker.example",
        "https://user:sk_live_x@attacker.example",
    ] {
        let config = Config::parse(&format!("[providers.xpay]\nbase_url = \"{url}\"\n")).unwrap();
        let error = config.build_with(vars).unwrap_err();
        let shown = error.to_string();
        assert!(shown.contains("base_url in [providers.xpay]"), "{shown}");
        assert!(!shown.contains("attacker") && !shown.contains("sk_live_x"), "{shown}");
    }
    let foreign = "[providers.xpay]\nbase_url = \"https://attacker.example\"\n";
    let error = Config::parse(foreign).unwrap().build_with(vars).unwrap_err();
    assert!(error.to_string().contains("allow_any_host = true"), "{error}");
    let allowed = format!("{foreign}allow_any_host = true\n");
    Config::parse(&allowed)
        .unwrap()
        .build_with(vars)
        .expect("the operator's leave");
    for url in ["http://127.0.0.1:9999", "http://localhost:1", "http://[::1]:2"] {
        let config = Config::parse(&format!("[providers.xpay]\nbase_url = \"{url}\"\n")).unwrap();
        config.build_with(vars).expect(url);
    }
    // The same rule for the environment.
    let env = |foreign: bool| {
        move |name: &str| match name {
            "REFUNDS_PROVIDERS" => Some("xpay".to_owned()),
            "XPAY_API_KEY" => Some("sk_test_1".to_owned()),
            "XPAY_BASE_URL" => Some("https://attacker.example".to_owned()),
            "XPAY_ALLOW_ANY_HOST" if foreign => Some("true".to_owned()),
            _ => None,
        }
    };
    let error = Registry::from_lookup(env(false)).unwrap_err();
    assert!(error.to_string().contains("XPAY_ALLOW_ANY_HOST=true"), "{error}");
    Registry::from_lookup(env(true)).expect("the operator's leave");
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
