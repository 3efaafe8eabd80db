//! Named accounts in the TOML file (issue 25): several accounts of one provider, each with its key
//! variable, mode, timeouts, proxy, CA roots and trust store; lazy building; routing that never picks
//! silently; and the untrusted-config rules for every new setting (errors name the setting, never the
//! value).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use refunds::{ErrorKind, RefundId};
use refunds_registry::{AccountMode, Config, Mode, ModeSource, Registry};

/// A value that must never show in an error.
const SECRET: &str = "sk_live_must_never_show_4242";

fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| map.get(name).cloned()
}

/// A lookup that fails the test when anything is read.
fn reads_nothing(name: &str) -> Option<String> {
    panic!("{name} was read, but nothing needed to be")
}

#[track_caller]
fn refused(error: refunds::Error, says: &[&str]) {
    assert_eq!(*error.kind(), ErrorKind::Configuration, "{error}");
    let message = error.to_string();
    for s in says {
        assert!(message.contains(s), "{message} does not say {s:?}");
    }
    for shown in [message.clone(), format!("{error:?}")] {
        assert!(!shown.contains(SECRET), "the error shows a value: {shown}");
        assert!(!shown.contains("s3cret"), "the error shows a value: {shown}");
    }
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("refunds-accounts-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The README's example, as a user would copy it.
fn readme_example() -> String {
    let readme = include_str!("../README.md");
    let section = &readme[readme
        .find("## From a TOML file: accounts")
        .expect("the accounts section")..];
    let start = section.find("```toml\n").expect("a toml block") + "```toml\n".len();
    section[start..][..section[start..].find("```").unwrap()].to_owned()
}

#[test]
fn the_readme_example_parses_and_each_account_knows_its_provider_and_mode() {
    let config = Config::parse(&readme_example()).unwrap();
    assert_eq!(
        config.account_names().collect::<Vec<_>>(),
        ["bias-eu", "bias-us", "wooshpay", "fourgeeks"]
    );
    assert_eq!(
        config.provider_ids().collect::<Vec<_>>(),
        ["bias", "bias", "wooshpay", "fourgeeks"]
    );
    let eu = config.account("bias-eu").unwrap();
    assert_eq!((eu.name(), eu.provider_id()), ("bias-eu", "bias"));
    assert_eq!(eu.api_key_env(), "BIAS_EU_API_KEY");
    // Stated in the file: read without looking anything up, and without building.
    assert_eq!(eu.mode_with(reads_nothing).unwrap(), AccountMode::set(Mode::Live));
    assert_eq!(
        config
            .account("wooshpay")
            .unwrap()
            .mode_with(reads_nothing)
            .unwrap()
            .mode,
        Mode::Test
    );
    assert_eq!(config.account("fourgeeks").unwrap().api_key_env(), "SHOP_FOURGEEKS_KEY");
    // bias-us's key tells.
    let us = config.account("bias-us").unwrap();
    let mode = us.mode_with(lookup(&[("BIAS_US_API_KEY", "sk_test_1")])).unwrap();
    assert_eq!((mode.mode, mode.source), (Mode::Test, ModeSource::Key));
    assert_eq!(mode.to_string(), "test (from the key)");
    // "bias" is a provider id with two accounts: never a silent pick.
    refused(
        config.account("bias").unwrap_err(),
        &[
            "bias: 2 accounts of this provider",
            "bias-eu, bias-us",
            "name the account",
        ],
    );
    refused(
        config.account("bias-asia").unwrap_err(),
        &["bias-asia", "bias-eu, bias-us, wooshpay, fourgeeks"],
    );
}

#[tokio::test]
async fn two_accounts_of_one_provider_each_with_its_key_and_only_the_one_used_is_built() {
    let server = wiremock::MockServer::start().await;
    let config = Config::parse(
        r#"
        [accounts.bias-eu]
        provider = "bias"
        api_key_env = "BIAS_EU_API_KEY"

        [accounts.bias-us]
        provider = "bias"
        api_key_env = "BIAS_US_API_KEY"
        base_url_env = "BIAS_US_BASE_URL"
        "#,
    )
    .unwrap();
    // Only bias-us's key is set: it is built, and used, with its own key.
    let vars = lookup(&[("BIAS_US_API_KEY", "sk_test_us"), ("BIAS_US_BASE_URL", &server.uri())]);
    let us = config.account("bias-us").unwrap().build_with(&vars).unwrap();
    assert_eq!(us.info().id, "bias");
    let _ = us.get_refund(&RefundId::new("re_1").unwrap()).await;
    let requests = server.received_requests().await.unwrap();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(request.headers["authorization"], "Bearer sk_test_us");
    }
    let registry = config.build_accounts_with(&["bias-us"], &vars).unwrap();
    assert_eq!(registry.names().collect::<Vec<_>>(), ["bias-us"]);
    // Its only Bias account: "bias" finds it in this registry.
    assert_eq!(registry.account("bias").unwrap().name(), "bias-us");
    // Building them all needs every key, and says which is missing.
    refused(
        config.build_with(&vars).unwrap_err(),
        &[
            "BIAS_EU_API_KEY is not set",
            "api_key_env in [accounts.bias-eu] of config",
        ],
    );

    // With both keys, both are built; a refund of Bias is ambiguous and says between which.
    let vars = lookup(&[
        ("BIAS_US_API_KEY", "sk_test_us"),
        ("BIAS_US_BASE_URL", &server.uri()),
        ("BIAS_EU_API_KEY", "sk_live_eu"),
    ]);
    let registry = config.build_with(&vars).unwrap();
    assert_eq!(registry.ids().collect::<Vec<_>>(), ["bias", "bias"]);
    let modes: Vec<Mode> = registry.accounts().map(|a| a.mode().mode).collect();
    assert_eq!(modes, [Mode::Live, Mode::Test]);
    let refund = refund_of("bias");
    let error = registry.for_refund(&refund).err().unwrap();
    refused(
        error.clone(),
        &["bias: 2 accounts of this provider are in the registry (bias-eu, bias-us)"],
    );
    assert_eq!(error.provider(), Some("bias"));
    refused(registry.provider("bias").err().unwrap(), &["bias-eu, bias-us"]);
    assert!(registry.get("bias").is_none());
    assert!(Arc::ptr_eq(
        registry.provider("bias-eu").unwrap(),
        registry.account("bias-eu").unwrap().provider()
    ));
    // One account of the provider: routed.
    let one = config.build_accounts_with(&["bias-eu"], &vars).unwrap();
    assert_eq!(one.account_for_refund(&refund).unwrap().name(), "bias-eu");
}

fn refund_of(provider: &'static str) -> refunds::Refund {
    refunds::Refund::new(
        RefundId::new("re_1").unwrap(),
        provider,
        refunds::PaymentRef::payment("pay_1").unwrap(),
        refunds::Money::from_minor(100, refunds::Currency::USD),
        refunds::RefundStatus::Succeeded,
        refunds::RawJson::parse("{}").unwrap(),
    )
}

#[test]
fn an_account_not_named_after_its_provider_names_its_key_variable_by_the_providers_rule() {
    // No api_key_env: the provider's default would be shared unnoticed.
    refused(
        Config::parse("[accounts.eu]\nprovider = \"bias\"\n").unwrap_err(),
        &["[accounts.eu] of config names no api_key_env", "BIAS_EU_API_KEY"],
    );
    // The variable names the provider and ends in _KEY, for every account of it.
    for bad in ["EU_API_KEY", "AWS_SECRET_ACCESS_KEY", "BIAS_EU_TOKEN", SECRET] {
        let text = format!("[accounts.bias-eu]\nprovider = \"bias\"\napi_key_env = \"{bad}\"\n");
        let error = Config::parse(&text).unwrap_err();
        refused(error.clone(), &["api_key_env in [accounts.bias-eu] of config", "BIAS"]);
        assert!(!error.to_string().contains(bad), "{error}");
    }
    // A provider named after none, an unknown provider, a name that could not be typed.
    refused(
        Config::parse("[accounts.eu]\n").unwrap_err(),
        &["[accounts.eu] of config names no provider"],
    );
    refused(
        Config::parse("[accounts.eu]\nprovider = \"stripe\"\n").unwrap_err(),
        &["provider in [accounts.eu] of config: unknown provider"],
    );
    refused(
        Config::parse("[accounts.\"Bias EU\\u001b[2J\"]\nprovider = \"bias\"\n").unwrap_err(),
        &["is not usable: lower-case letters"],
    );
    assert!(
        !Config::parse("[accounts.\"e\\u001b[2J\"]\n")
            .unwrap_err()
            .to_string()
            .contains('\u{1b}')
    );
    // An account and a [providers] table of one name.
    refused(
        Config::parse("[providers.bias]\n[accounts.bias]\n").unwrap_err(),
        &["account bias is defined twice"],
    );
    // Literal keys are refused in accounts as in [providers] tables.
    let error = Config::parse(&format!("[accounts.bias]\napi_key = \"{SECRET}\"\n")).unwrap_err();
    refused(error, &["holds a literal `api_key`"]);
}

#[test]
fn durations_have_one_form_and_a_bound_and_errors_name_the_setting() {
    for (setting, value, says) in [
        ("timeout", "30", "timeout must be a string of a whole number and a unit"),
        (
            "timeout",
            "\"30\"",
            "timeout is not a string of a whole number and a unit",
        ),
        ("connect_timeout", "1.5", "connect_timeout must be"),
        ("connect_timeout", "\"1.5s\"", "connect_timeout is not"),
        ("attempt_timeout", "\"1m30s\"", "attempt_timeout is not"),
        ("timeout", "\"5h\"", "timeout is not"),
        ("timeout", "\"0s\"", "timeout must be between 1ms and 10m"),
        ("timeout", "\"87600h\"", "timeout is not"),
        ("timeout", "\"5256000m\"", "timeout must be between 1ms and 10m"),
        (
            "attempt_timeout",
            "\"2m\"",
            "attempt_timeout is longer than timeout (60s by default)",
        ),
    ] {
        let text = format!("[accounts.bias]\n{setting} = {value}\n");
        let error = Config::parse(&text).unwrap_err();
        refused(error.clone(), &[says, "(in [accounts.bias] of config)"]);
    }
    let error = Config::parse("[accounts.bias]\ntimeout = \"5s\"\nattempt_timeout = \"6s\"\n").unwrap_err();
    refused(error, &["attempt_timeout is longer than timeout (as set)"]);
    Config::parse("[accounts.bias]\ntimeout = \"10m\"\nconnect_timeout = \"500ms\"\nattempt_timeout = \"2m\"\n")
        .unwrap();
}

#[test]
fn mode_is_stated_else_the_key_else_the_host_else_live_assumed() {
    // WooshPay has separate test and live hosts; Bias one host for both.
    let config = Config::parse(
        r#"
        [accounts.wooshpay]
        [accounts.woosh-live]
        provider = "wooshpay"
        api_key_env = "WOOSHPAY_LIVE_API_KEY"
        base_url = "https://api.wooshpay.com"
        [accounts.bias]
        "#,
    )
    .unwrap();
    let woosh = config.account("wooshpay").unwrap();
    let from_key = woosh.mode_with(lookup(&[("WOOSHPAY_API_KEY", "sk_live_1")])).unwrap();
    assert_eq!((from_key.mode, from_key.source), (Mode::Live, ModeSource::Key));
    // A key that does not say: the default host is the test host.
    let from_host = woosh.mode_with(lookup(&[("WOOSHPAY_API_KEY", "opaque")])).unwrap();
    assert_eq!((from_host.mode, from_host.source), (Mode::Test, ModeSource::Host));
    let live = config.account("woosh-live").unwrap().mode_with(lookup(&[])).unwrap();
    assert_eq!((live.mode, live.source), (Mode::Live, ModeSource::Host));
    // Nothing tells: live, assumed, and it says so.
    let bias = config
        .account("bias")
        .unwrap()
        .mode_with(lookup(&[("BIAS_API_KEY", "opaque")]))
        .unwrap();
    assert_eq!(bias, AccountMode::assumed());
    assert!(bias.is_live());
    assert!(bias.to_string().starts_with("live (assumed"), "{bias}");

    // A stated mode the key or the host contradicts is refused, the key unshown.
    let test_but_live_key = Config::parse("[accounts.bias]\nmode = \"test\"\n").unwrap();
    let error = test_but_live_key
        .build_with(lookup(&[("BIAS_API_KEY", SECRET)]))
        .unwrap_err();
    refused(
        error,
        &["mode = \"test\" in [accounts.bias] of config, but the key in BIAS_API_KEY is live"],
    );
    let live_on_test_host =
        Config::parse("[accounts.wooshpay]\nmode = \"live\"\nbase_url = \"https://apitest.wooshpay.com\"\n").unwrap();
    let error = live_on_test_host
        .build_with(lookup(&[("WOOSHPAY_API_KEY", "opaque")]))
        .unwrap_err();
    refused(error, &["but the base url's host is test"]);
    // Stated live, no base url, a key that does not say: built for the live host.
    let stated = Config::parse("[accounts.wooshpay]\nmode = \"live\"\n").unwrap();
    let registry = stated.build_with(lookup(&[("WOOSHPAY_API_KEY", "opaque")])).unwrap();
    assert_eq!(
        registry.account("wooshpay").unwrap().mode(),
        AccountMode::set(Mode::Live)
    );
    // From the environment, and for a sandbox: the key and the registry say.
    let env = Registry::from_lookup(lookup(&[("REFUNDS_PROVIDERS", "bias"), ("BIAS_API_KEY", "sk_live_x")])).unwrap();
    assert_eq!(env.account("bias").unwrap().mode().source, ModeSource::Key);
}

#[tokio::test]
async fn the_sandbox_registry_is_test_mode() {
    let (registry, _sandboxes) = Registry::sandbox().await.unwrap();
    assert!(registry.accounts().all(|a| a.mode() == AccountMode::set(Mode::Test)));
}

#[test]
fn a_config_naming_a_foreign_host_or_an_unrelated_variable_is_refused_before_any_request() {
    // The variable: when the file is read.
    let error = Config::parse("[accounts.bias-eu]\nprovider = \"bias\"\napi_key_env = \"AWS_SECRET_ACCESS_KEY\"\n")
        .unwrap_err();
    refused(error.clone(), &["api_key_env in [accounts.bias-eu]"]);
    assert!(!error.to_string().contains("AWS_SECRET_ACCESS_KEY"));
    // The host: when the account is built, before any client exists.
    let foreign = Config::parse(
        "[accounts.bias-eu]\nprovider = \"bias\"\napi_key_env = \"BIAS_EU_API_KEY\"\nbase_url = \"https://collector.example\"\n",
    )
    .unwrap();
    let vars = lookup(&[("BIAS_EU_API_KEY", SECRET)]);
    refused(
        foreign.account("bias-eu").unwrap().build_with(&vars).err().unwrap(),
        &[
            "base_url in [accounts.bias-eu] of config names a host",
            "allow_any_host = true",
        ],
    );
    let allowed = Config::parse(
        "[accounts.bias-eu]\nprovider = \"bias\"\napi_key_env = \"BIAS_EU_API_KEY\"\nbase_url = \"https://collector.example\"\nallow_any_host = true\n",
    )
    .unwrap();
    allowed.build_with(&vars).unwrap();
}

#[test]
fn a_proxy_is_an_https_url_without_credentials_and_plain_http_only_on_loopback_unless_allowed() {
    for (proxy, says) in [
        (
            "http://user:s3cret@proxy.corp.example:3128",
            "must not carry credentials",
        ),
        ("https://s3cret@proxy.corp.example", "must not carry credentials"),
        ("socks5://proxy.corp.example", "must be http:// or https://"),
        ("https://proxy.corp.example/s3cret", "no path, query or fragment"),
        ("http://proxy.corp.example:3128", "allow_http_proxy = true"),
        ("s3cret", "proxy is not usable"),
    ] {
        let text = format!("[accounts.bias]\nproxy = \"{proxy}\"\n");
        let error = Config::parse(&text).unwrap_err();
        refused(error.clone(), &[says, "[accounts.bias] of config"]);
        assert!(!error.to_string().contains(proxy), "{error}");
    }
    for fine in [
        "proxy = \"https://proxy.corp.example:3128\"",
        "proxy = \"http://127.0.0.1:3128\"",
        "proxy = \"http://proxy.corp.example:3128\"\nallow_http_proxy = true",
    ] {
        let config = Config::parse(&format!("[accounts.bias]\n{fine}\n")).expect(fine);
        config.build_with(lookup(&[("BIAS_API_KEY", "sk_test_1")])).expect(fine);
    }
}

#[test]
fn ca_roots_are_read_at_build_and_errors_name_the_path_never_the_contents() {
    let dir = scratch_dir("roots");
    let not_pem = dir.join("not-pem.pem");
    std::fs::write(&not_pem, format!("api_key = {SECRET}\n")).unwrap();
    let fake_pem = dir.join("fake.pem");
    std::fs::write(
        &fake_pem,
        // The secret, base64: PEM in form, not a certificate.
        "-----BEGIN CERTIFICATE-----\nc2tfbGl2ZV9tdXN0X25ldmVyX3Nob3dfNDI0Mg==\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    std::fs::File::create(dir.join("large.pem"))
        .unwrap()
        .set_len(2 << 20)
        .unwrap();
    // A FIFO would block an open() forever: refused from its metadata.
    let fifo = dir.join("fifo.pem");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let vars = lookup(&[("BIAS_API_KEY", "sk_test_1")]);
    let config_file = dir.join("refunds.toml");
    for (roots, says) in [
        ("\"missing.pem\"", "missing.pem\" cannot be read: no such file"),
        ("\"not-pem.pem\"", "not-pem.pem\" holds no usable root certificate"),
        ("\"fake.pem\"", "fake.pem\" holds no usable root certificate"),
        ("\"/dev/zero\"", "\"/dev/zero\" is not a regular file"),
        ("\"fifo.pem\"", "fifo.pem\" is not a regular file"),
        ("\".\"", "is not a regular file"),
        ("\"large.pem\"", "large.pem\" is larger than 1 MiB"),
    ] {
        std::fs::write(
            &config_file,
            format!("[accounts.bias]\nallow_any_host = true\nca_roots = [{roots}]\n"),
        )
        .unwrap();
        // Parsing reads no file.
        let config = Config::from_file(&config_file).unwrap();
        let error = config.build_with(&vars).err().unwrap();
        refused(error.clone(), &["ca_roots in [accounts.bias] of", says]);
        // Relative paths are the config file's folder's.
        if !roots.starts_with("\"/") && roots != "\".\"" {
            assert!(error.to_string().contains(&dir.display().to_string()), "{error}");
        }
    }
    refused(
        Config::parse("[accounts.bias]\nca_roots = \"one.pem\"\n").unwrap_err(),
        &["ca_roots must be an array of paths"],
    );
    refused(
        Config::parse("[accounts.bias]\ntrust_store = \"mozilla\"\n").unwrap_err(),
        &["trust_store must be \"webpki\"", "or \"os\""],
    );
    refused(
        Config::parse("[accounts.bias]\nmode = \"production\"\n").unwrap_err(),
        &["mode must be \"test\" or \"live\""],
    );
}

/// A TLS server on 127.0.0.1 whose certificate a fresh root signs: every request is answered 404
/// with a JSON error, so a call that gets through TLS ends in `NotFound`.
struct TlsServer {
    url: String,
    root_pem: String,
}

async fn tls_server() -> TlsServer {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls;

    let root_key = KeyPair::generate().unwrap();
    let mut root_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    root_params
        .distinguished_name
        .push(DnType::CommonName, "refunds test root");
    let root = root_params.self_signed(&root_key).unwrap();
    let issuer = Issuer::new(root_params, root_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let body = r#"{"error":{"code":"resource_missing","message":"No such refund","type":"invalid_request_error"}}"#;
                let response = format!(
                    "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    TlsServer {
        url,
        root_pem: root.pem(),
    }
}

fn tls_config(server: &TlsServer, extra: &str) -> Config {
    let dir = scratch_dir("tls");
    std::fs::write(dir.join("root.pem"), &server.root_pem).unwrap();
    let file = dir.join(format!("refunds-{}.toml", extra.len()));
    std::fs::write(
        &file,
        format!(
            "[accounts.wooshpay]\nbase_url = \"{}\"\nallow_any_host = true\n{extra}\n",
            server.url
        ),
    )
    .unwrap();
    Config::from_file(&file).unwrap()
}

async fn get_through(config: &Config) -> refunds::Error {
    let provider = config
        .account("wooshpay")
        .unwrap()
        .build_with(lookup(&[("WOOSHPAY_API_KEY", "sk_test_tls")]))
        .unwrap();
    provider.get_refund(&RefundId::new("re_1").unwrap()).await.unwrap_err()
}

#[tokio::test]
async fn the_os_trust_store_builds_a_client_and_ca_roots_make_a_private_root_trusted() {
    let server = tls_server().await;
    // The OS store with the private root: the request gets through TLS, and the server's 404 is read.
    let os_and_root = tls_config(&server, "trust_store = \"os\"\nca_roots = [\"root.pem\"]");
    let error = get_through(&os_and_root).await;
    assert_eq!(*error.kind(), ErrorKind::NotFound, "{error}");
    // The compiled-in roots with it: the same.
    let webpki_and_root = tls_config(&server, "ca_roots = [\"root.pem\"]");
    assert_eq!(*get_through(&webpki_and_root).await.kind(), ErrorKind::NotFound);
    // Without the root, neither store trusts the server: the call fails before HTTP.
    for store in ["os", "webpki"] {
        let config = tls_config(&server, &format!("trust_store = \"{store}\""));
        let error = get_through(&config).await;
        assert_eq!(*error.kind(), ErrorKind::Transport, "{store}: {error}");
        assert_eq!(error.delivery(), refunds::Delivery::NotSent, "{store}: {error}");
    }
}

/// A server that accepts connections and never answers.
async fn stalling_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    url
}

#[tokio::test]
async fn the_configured_timeouts_apply_not_the_defaults() {
    let url = stalling_server().await;
    for timeouts in [
        "timeout = \"1s\"",
        "attempt_timeout = \"300ms\"\ntimeout = \"2s\"",
        "attempt_timeout = \"300ms\"",
    ] {
        let config = Config::parse(&format!("[accounts.bias]\nbase_url = \"{url}\"\n{timeouts}\n")).unwrap();
        let registry = config.build_with(lookup(&[("BIAS_API_KEY", "sk_test_t")])).unwrap();
        let provider = registry.provider("bias").unwrap();
        let started = Instant::now();
        let error = provider.get_refund(&RefundId::new("re_1").unwrap()).await.unwrap_err();
        assert_eq!(*error.kind(), ErrorKind::Timeout, "{timeouts}: {error}");
        // The default deadline is 60 s: a generous bound well under it.
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{timeouts}: {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn providers_tables_take_the_new_settings_too() {
    let config =
        Config::parse("[providers.bias]\nmode = \"test\"\ntimeout = \"20s\"\nproxy = \"https://proxy.corp.example\"\n")
            .unwrap();
    assert_eq!(
        config.account("bias").unwrap().mode_with(reads_nothing).unwrap().mode,
        Mode::Test
    );
    refused(
        Config::parse("[providers.bias]\nprovider = \"xpay\"\n").unwrap_err(),
        &["unknown setting `provider` in [providers.bias] of config"],
    );
}

/// The proxy is used: a request to the provider's own host goes as a CONNECT to the local proxy
/// (which answers 403, so nothing leaves this machine), and the key is not in what the proxy sees.
#[tokio::test]
async fn the_proxy_carries_requests_to_the_provider_through_a_tunnel() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let (heads, mut seen) = tokio::sync::mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match tcp.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ = tcp
                .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
                .await;
            let _ = heads.send(String::from_utf8_lossy(&head).into_owned());
        }
    });
    let config = Config::parse(&format!(
        "[accounts.bias]\nproxy = \"{proxy}\"\nattempt_timeout = \"5s\"\n"
    ))
    .unwrap();
    let registry = config.build_with(lookup(&[("BIAS_API_KEY", SECRET)])).unwrap();
    let error = registry
        .provider("bias")
        .unwrap()
        .get_refund(&RefundId::new("re_1").unwrap())
        .await
        .unwrap_err();
    assert_eq!(error.delivery(), refunds::Delivery::NotSent, "{error}");
    let head = seen.try_recv().expect("the proxy was asked");
    assert!(head.starts_with("CONNECT api.biaspay.com:443 HTTP/1.1\r\n"), "{head}");
    assert!(!head.contains(SECRET), "the proxy saw the key: {head}");
}
