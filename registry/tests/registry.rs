//! The registry built from real environment variables and from a TOML file, for all five providers on
//! their sandboxes. The workspace forbids `unsafe` (so no `std::env::set_var`): the parent starts the
//! sandboxes, then runs this test binary again as a child with the variables set and a guard variable,
//! and the child builds the registry and refunds through it. The parent checks the sandboxes' ledgers.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use refunds::sandbox::Sandbox;
use refunds::{CreateRefund, Currency, ErrorKind, Money, PaymentRef, RefundProvider};
use refunds_registry::{Config, KNOWN_PROVIDERS, PROVIDERS_VAR, Registry};

/// Set in the child; the child tests do nothing without it.
const CHILD: &str = "REFUNDS_REGISTRY_TEST_CHILD";
/// The config file the TOML child reads.
const CONFIG_PATH: &str = "REFUNDS_REGISTRY_TEST_CONFIG";

/// One provider on its sandbox, with its env prefix, key, account currency and a seeded payment.
struct Running {
    id: &'static str,
    prefix: &'static str,
    key: &'static str,
    currency: Currency,
    payment: &'static str,
    sandbox: Sandbox,
}

const PAYMENTS: [(&str, &str); 5] = [
    ("fourgeeks", "pay_env_4g"),
    ("xpay", "ch_env_xpay"),
    ("bias", "pay_env_bias"),
    ("syncgram", "ch_env_syncgram"),
    ("wooshpay", "pi_env_wooshpay"),
];

fn payment_of(id: &str) -> &'static str {
    PAYMENTS.iter().find(|(p, _)| *p == id).unwrap().1
}

async fn start_all() -> Vec<Running> {
    let run = |id, prefix, key, currency, sandbox: Sandbox| {
        let payment = payment_of(id);
        sandbox
            .ledger()
            .seed_payment(payment, Money::from_minor(5_000, currency));
        Running {
            id,
            prefix,
            key,
            currency,
            payment,
            sandbox,
        }
    };
    vec![
        run(
            "fourgeeks",
            "FOURGEEKS",
            refunds_fourgeeks::sandbox::API_KEY,
            Currency::USD,
            refunds_fourgeeks::sandbox::start().await.unwrap(),
        ),
        run(
            "xpay",
            "XPAY",
            refunds_xpay::sandbox::API_KEY,
            Currency::EGP,
            refunds_xpay::sandbox::start().await.unwrap(),
        ),
        run(
            "bias",
            "BIAS",
            refunds_bias::sandbox::API_KEY,
            Currency::KWD,
            refunds_bias::sandbox::start_with_currency(Currency::KWD).await.unwrap(),
        ),
        run(
            "syncgram",
            "SYNCGRAM",
            refunds_syncgram::sandbox::API_KEY,
            Currency::JPY,
            refunds_syncgram::sandbox::start().await.unwrap(),
        ),
        run(
            "wooshpay",
            "WOOSHPAY",
            refunds_wooshpay::sandbox::API_KEY,
            Currency::EUR,
            refunds_wooshpay::sandbox::start().await.unwrap(),
        ),
    ]
}

/// Runs the child test `name` with `vars` (and without any provider variable the parent has), and
/// fails with its output unless it passed.
async fn run_child(name: &'static str, vars: Vec<(String, String)>) {
    let output = tokio::task::spawn_blocking(move || {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command.args([name, "--exact", "--test-threads=1", "--nocapture"]);
        for (var, _) in std::env::vars() {
            if var == PROVIDERS_VAR
                || KNOWN_PROVIDERS
                    .iter()
                    .any(|id| var.starts_with(&id.to_ascii_uppercase()))
            {
                command.env_remove(var);
            }
        }
        command.env(CHILD, "1").envs(vars).output().unwrap()
    })
    .await
    .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "child {name} failed:\n{text}");
    assert!(text.contains("1 passed"), "the child ran no test:\n{text}");
}

/// Each sandbox got exactly one refund, of the whole seeded payment: the child reached all five.
fn assert_one_refund_each(running: &[Running]) {
    for r in running {
        let refunds = r.sandbox.ledger().refunds();
        assert_eq!(refunds.len(), 1, "{}: {refunds:?}", r.id);
        assert_eq!(refunds[0].payment_id, r.payment, "{}", r.id);
        assert_eq!(refunds[0].amount, Money::from_minor(5_000, r.currency), "{}", r.id);
    }
}

/// In the child: the registry holds the five in order, and a full refund on each goes through it and
/// routes back by `Refund::provider`.
async fn refund_through(registry: &Registry) {
    assert_eq!(registry.ids().collect::<Vec<_>>(), KNOWN_PROVIDERS);
    for provider in registry {
        let id = provider.info().id;
        let kind = provider.info().capabilities.payment_kinds[0];
        let payment = PaymentRef::new(kind, payment_of(id)).unwrap();
        let refund = provider
            .create_refund(&CreateRefund::new(payment))
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(refund.provider, id);
        let routed = registry.for_refund(&refund).unwrap();
        assert!(Arc::ptr_eq(routed, provider), "{id}: routed elsewhere");
        if provider.info().capabilities.retrieve {
            let again = routed.get_refund(&refund.id).await.unwrap();
            assert_eq!(again.id, refund.id);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn from_env_in_a_child_process_on_all_five_sandboxes() {
    let running = start_all().await;
    let mut vars = vec![(PROVIDERS_VAR.to_owned(), KNOWN_PROVIDERS.join(", "))];
    for r in &running {
        vars.push((format!("{}_API_KEY", r.prefix), r.key.to_owned()));
        vars.push((format!("{}_BASE_URL", r.prefix), r.sandbox.base_url()));
        vars.push((format!("{}_CURRENCY", r.prefix), r.currency.code().to_owned()));
    }
    run_child("child_from_env", vars).await;
    assert_one_refund_each(&running);
}

#[tokio::test]
async fn child_from_env() {
    if std::env::var(CHILD).is_err() {
        return;
    }
    let registry = Registry::from_env().unwrap();
    refund_through(&registry).await;
}

fn scratch_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("refunds-registry-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn from_a_toml_file_in_a_child_process_on_all_five_sandboxes() {
    let running = start_all().await;
    // Variables of its own choosing, not the providers' defaults: the file names them.
    let mut toml = String::from("# refunds.toml: no key in here, only the names of the variables holding them\n");
    let mut vars = Vec::new();
    for r in &running {
        let (key_var, url_var) = (format!("APP_{}_KEY", r.prefix), format!("APP_{}_BASE_URL", r.prefix));
        toml.push_str(&format!(
            "\n[providers.{}]\napi_key_env = \"{key_var}\"\nbase_url_env = \"{url_var}\"\ncurrency = \"{}\"\n",
            r.id,
            r.currency.code()
        ));
        vars.push((key_var, r.key.to_owned()));
        vars.push((url_var, r.sandbox.base_url()));
    }
    let path = scratch_file("refunds.toml", &toml);
    vars.push((CONFIG_PATH.to_owned(), path.display().to_string()));
    run_child("child_from_config_file", vars).await;
    assert_one_refund_each(&running);
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn child_from_config_file() {
    let Ok(path) = std::env::var(CONFIG_PATH) else {
        return;
    };
    let registry = Registry::from_config_file(path).unwrap();
    refund_through(&registry).await;
}

fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| map.get(name).cloned()
}

#[track_caller]
fn config_error(err: refunds::Error, provider: Option<&str>, says: &[&str]) {
    assert_eq!(*err.kind(), ErrorKind::Configuration, "{err}");
    assert_eq!(err.delivery(), refunds::Delivery::NotSent, "{err}");
    assert_eq!(err.provider(), provider, "{err}");
    for s in says {
        assert!(err.to_string().contains(s), "{err:?} does not say {s:?}");
    }
}

#[test]
fn a_missing_variable_names_the_provider_and_the_variable() {
    let err = Registry::from_lookup(lookup(&[
        (PROVIDERS_VAR, "bias,wooshpay"),
        ("BIAS_API_KEY", "sk_test_1"),
    ]))
    .unwrap_err();
    config_error(err, Some("wooshpay"), &["wooshpay: WOOSHPAY_API_KEY is not set"]);

    // A blank value is not a value.
    let err = Registry::from_lookup(lookup(&[(PROVIDERS_VAR, "bias"), ("BIAS_API_KEY", "  ")])).unwrap_err();
    config_error(err, Some("bias"), &["bias: BIAS_API_KEY is not set"]);

    // SyncgramPay refunds carry no currency: its account currency is required. 4Geeks reads each
    // payment's, so it needs none.
    let err = Registry::from_lookup(lookup(&[(PROVIDERS_VAR, "syncgram"), ("SYNCGRAM_API_KEY", "k")])).unwrap_err();
    config_error(err, Some("syncgram"), &["syncgram: SYNCGRAM_CURRENCY is not set"]);
    Registry::from_lookup(lookup(&[(PROVIDERS_VAR, "fourgeeks"), ("FOURGEEKS_API_KEY", "k")])).expect("no currency");

    let err = Registry::from_lookup(lookup(&[])).unwrap_err();
    config_error(err, None, &["REFUNDS_PROVIDERS is not set", "bias"]);
}

#[test]
fn a_bad_setting_names_the_provider_and_the_setting() {
    let bad_currency = [
        (PROVIDERS_VAR, "syncgram"),
        ("SYNCGRAM_API_KEY", "k"),
        ("SYNCGRAM_CURRENCY", "yen"),
    ];
    let err = Registry::from_lookup(lookup(&bad_currency)).unwrap_err();
    config_error(
        err,
        Some("syncgram"),
        &["syncgram: SYNCGRAM_CURRENCY is not a currency code"],
    );

    let cleartext = [
        (PROVIDERS_VAR, "xpay"),
        ("XPAY_API_KEY", "sk_test_secret_value"),
        ("XPAY_BASE_URL", "http://api.example.com"),
    ];
    let err = Registry::from_lookup(lookup(&cleartext)).unwrap_err();
    config_error(
        err.clone(),
        Some("xpay"),
        &["xpay: XPAY_BASE_URL is not a usable base url", "loopback"],
    );
    assert!(!format!("{err:?}").contains("sk_test_secret_value"));

    let err = Registry::from_lookup(lookup(&[(PROVIDERS_VAR, "bias, stripe")])).unwrap_err();
    config_error(err, None, &["REFUNDS_PROVIDERS: unknown provider \"stripe\""]);
    let err = Registry::from_lookup(lookup(&[(PROVIDERS_VAR, "bias,,xpay")])).unwrap_err();
    config_error(err, None, &["empty provider id"]);
    let twice = [(PROVIDERS_VAR, "bias,bias"), ("BIAS_API_KEY", "k")];
    config_error(
        Registry::from_lookup(lookup(&twice)).unwrap_err(),
        None,
        &["names bias twice"],
    );
}

#[test]
fn the_environment_order_is_the_registry_order_and_defaults_apply() {
    let registry = Registry::from_lookup(lookup(&[
        (PROVIDERS_VAR, " wooshpay , bias "),
        ("BIAS_API_KEY", "sk_test_1"),
        ("WOOSHPAY_API_KEY", "sk_test_2"),
    ]))
    .unwrap();
    assert_eq!(registry.ids().collect::<Vec<_>>(), ["wooshpay", "bias"]);
    assert_eq!(registry.len(), 2);
    assert!(registry.get("xpay").is_none());
    config_error(
        registry.provider("xpay").err().unwrap(),
        Some("xpay"),
        &["xpay: no account or provider of that name is in the registry (registered: wooshpay, bias)"],
    );
    // The keys say test; the Debug form shows accounts, never a key.
    assert_eq!(
        format!("{registry:?}"),
        r#"Registry { accounts: [Account { name: "wooshpay", provider: "wooshpay", mode: Test }, Account { name: "bias", provider: "bias", mode: Test }] }"#
    );
}

#[test]
fn a_config_names_variables_and_never_holds_a_key() {
    for field in ["api_key", "secret_key", "token", "key", "password"] {
        let text = format!("[providers.bias]\n{field} = \"sk_live_do_not_print\"\n");
        let err = Config::parse(&text).unwrap_err();
        config_error(
            err.clone(),
            Some("bias"),
            &["holds a literal", "api_key_env = \"BIAS_API_KEY\""],
        );
        assert!(!format!("{err:?}").contains("sk_live_do_not_print"), "{field}");
    }
    // Not even when the file is not valid TOML: the parser's snippet would quote the line.
    let err = Config::parse("[providers.bias]\napi_key = sk_live_do_not_print\n").unwrap_err();
    config_error(err.clone(), None, &["config: not valid TOML at line 2"]);
    assert!(!format!("{err:?}").contains("sk_live_do_not_print"));

    let err =
        Config::parse("[providers.bias]\nbase_url = \"https://a\"\nbase_url_env = \"BIAS_BASE_URL\"\n").unwrap_err();
    config_error(err, Some("bias"), &["sets both base_url and base_url_env"]);
    let err = Config::parse("[providers.bias]\ncurency = \"USD\"\n").unwrap_err();
    config_error(
        err,
        Some("bias"),
        &["unknown setting `curency` in [providers.bias] of config"],
    );
    let err = Config::parse("[providers.bias]\ncurrency = 3\n").unwrap_err();
    config_error(
        err,
        Some("bias"),
        &["currency in [providers.bias] of config must be a string"],
    );
    let err = Config::parse("[providers.stripe]\n").unwrap_err();
    config_error(
        err,
        None,
        &["[providers.stripe] of config: unknown provider \"stripe\""],
    );
    config_error(Config::parse("").unwrap_err(), None, &["config: no providers"]);
    config_error(Config::parse("providers = 1").unwrap_err(), None, &["must be a table"]);
    config_error(
        Config::parse("[bias]").unwrap_err(),
        None,
        &["unknown top-level key `bias`"],
    );
}

#[test]
fn a_config_error_names_the_provider_the_variable_and_the_table() {
    let config = Config::parse(
        "[providers.wooshpay]\n\n[providers.fourgeeks]\napi_key_env = \"SHOP_FOURGEEKS_KEY\"\ncurrency_env = \"SHOP_FOURGEEKS_CURRENCY\"\n",
    )
    .unwrap();
    assert_eq!(config.provider_ids().collect::<Vec<_>>(), ["wooshpay", "fourgeeks"]);

    // The default variable when the table names none.
    let err = config.build_with(lookup(&[])).unwrap_err();
    config_error(
        err,
        Some("wooshpay"),
        &["wooshpay: WOOSHPAY_API_KEY is not set (no api_key_env in [providers.wooshpay] of config"],
    );
    // The variable the table names, not the provider's default.
    let vars = [("WOOSHPAY_API_KEY", "sk_test_k"), ("FOURGEEKS_API_KEY", "k")];
    let err = config.build_with(lookup(&vars)).unwrap_err();
    config_error(
        err,
        Some("fourgeeks"),
        &["fourgeeks: SHOP_FOURGEEKS_KEY is not set (api_key_env in [providers.fourgeeks] of config)"],
    );
    let vars = [("WOOSHPAY_API_KEY", "sk_test_k"), ("SHOP_FOURGEEKS_KEY", "k")];
    let err = config.build_with(lookup(&vars)).unwrap_err();
    config_error(
        err,
        Some("fourgeeks"),
        &["SHOP_FOURGEEKS_CURRENCY is not set (currency_env in"],
    );
    let vars = [
        ("WOOSHPAY_API_KEY", "sk_test_k"),
        ("SHOP_FOURGEEKS_KEY", "k"),
        ("SHOP_FOURGEEKS_CURRENCY", "usd"),
    ];
    let registry = config.build_with(lookup(&vars)).unwrap();
    assert_eq!(registry.ids().collect::<Vec<_>>(), ["wooshpay", "fourgeeks"]);

    // A literal currency that is required but missing, and a bad one.
    let missing = Config::parse("[providers.syncgram]\n").unwrap();
    let err = missing.build_with(lookup(&[("SYNCGRAM_API_KEY", "k")])).unwrap_err();
    config_error(
        err,
        Some("syncgram"),
        &["syncgram: currency in [providers.syncgram] of config is not set"],
    );
    let bad = Config::parse("[providers.syncgram]\ncurrency = \"yen\"\n").unwrap();
    let err = bad.build_with(lookup(&[("SYNCGRAM_API_KEY", "k")])).unwrap_err();
    config_error(
        err,
        Some("syncgram"),
        &["currency in [providers.syncgram] of config is not a currency code"],
    );
    // The provider's own variables do not leak into a config-built registry.
    let err = missing
        .build_with(lookup(&[("SYNCGRAM_API_KEY", "k"), ("SYNCGRAM_CURRENCY", "JPY")]))
        .unwrap_err();
    config_error(err, Some("syncgram"), &["currency in [providers.syncgram]"]);

    let err = Registry::from_config_file("/nonexistent/refunds.toml").unwrap_err();
    config_error(err, None, &["/nonexistent/refunds.toml: cannot read the config file"]);
}

#[tokio::test]
async fn the_sandbox_registry_runs_every_provider_on_a_seeded_sandbox() {
    let (registry, sandboxes) = Registry::sandbox().await.unwrap();
    assert_eq!(registry.ids().collect::<Vec<_>>(), KNOWN_PROVIDERS);
    assert_eq!(sandboxes.len(), 5);
    for demo in &sandboxes {
        let provider = registry.provider(demo.provider).unwrap();
        let kind = provider.info().capabilities.payment_kinds[0];
        let payment = PaymentRef::new(kind, demo.payment_id).unwrap();
        let refund = provider.create_refund(&CreateRefund::new(payment)).await.unwrap();
        assert_eq!(refund.amount, demo.captured, "{}", demo.provider);
        assert!(Arc::ptr_eq(registry.for_refund(&refund).unwrap(), provider));
    }
    assert_eq!(sandboxes.settle_all(), 5);
    assert_eq!(
        sandboxes.get("bias").unwrap().captured,
        Money::from_minor(12_345, Currency::KWD)
    );
}

#[test]
fn insert_replaces_in_place() {
    let a: Arc<dyn RefundProvider> = Arc::new(
        refunds_bias::BiasClient::builder()
            .api_key("sk_test_a")
            .build()
            .unwrap(),
    );
    let b: Arc<dyn RefundProvider> = Arc::new(
        refunds_xpay::XPayClient::builder()
            .api_key("sk_test_b")
            .build()
            .unwrap(),
    );
    let c: Arc<dyn RefundProvider> = Arc::new(
        refunds_bias::BiasClient::builder()
            .api_key("sk_test_c")
            .build()
            .unwrap(),
    );
    let mut registry = Registry::new().with(a.clone()).with(b);
    let old = registry.insert(c.clone()).unwrap();
    assert!(Arc::ptr_eq(&old, &a));
    assert_eq!(registry.ids().collect::<Vec<_>>(), ["bias", "xpay"]);
    assert!(Arc::ptr_eq(registry.get("bias").unwrap(), &c));
    assert!(!registry.is_empty());
    assert_eq!(refunds_registry::available(), KNOWN_PROVIDERS);
}
