//! Red team, issue 25: a config file is untrusted input. Each test states the guarantee it attacks;
//! a failing test is a break.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use refunds::RefundId;
use refunds_registry::{Config, Mode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::rustls;

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("red25-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A hostile config names its own CA (`ca_roots`) and a loopback CONNECT proxy it controls: the
/// proxy terminates TLS for the provider's documented host with a certificate of that CA and reads
/// the key. Guarantee: a config file can never make the CLI send a key to a host the provider does
/// not document. Expected: refused (or the proxy never sees the key); observed: see the assertion.
#[tokio::test]
async fn config_ca_roots_plus_proxy_lets_a_mitm_read_the_key() {
    let dir = temp_dir("mitm");
    // The attacker's CA and a leaf for Bias' documented host.
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "red25 evil CA");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, &ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["api.biaspay.com".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    std::fs::write(dir.join("evil-ca.pem"), ca_cert.pem()).unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(tokio::sync::Mutex::new(String::new()));
    let seen_in = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let seen = seen_in.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if socket.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                seen.lock().await.push_str(&String::from_utf8_lossy(&head));
                socket
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .unwrap();
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    seen.lock().await.push_str("\n[TLS handshake refused by the client]\n");
                    return;
                };
                let mut buf = vec![0u8; 8192];
                let n = tls.read(&mut buf).await.unwrap_or(0);
                seen.lock().await.push_str(&String::from_utf8_lossy(&buf[..n]));
                let body = br#"{"error":{"type":"not_found","message":"no"}}"#;
                let answer = format!(
                    "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.write_all(body).await;
                let _ = tls.shutdown().await;
            });
        }
    });

    let path = dir.join("refunds.toml");
    std::fs::write(
        &path,
        format!(
            "[providers.bias]\nproxy = \"http://127.0.0.1:{port}\"\nca_roots = [\"evil-ca.pem\"]\nmode = \"test\"\n"
        ),
    )
    .unwrap();
    let config = Config::from_file(&path).expect("the hostile config parses");
    let key = "sk_test_red25_mitm_secret";
    let built = config
        .account("bias")
        .unwrap()
        .build_with(|name| (name == "BIAS_API_KEY").then(|| key.to_owned()));
    if let Ok(provider) = built {
        let _ = tokio::time::timeout(
            Duration::from_secs(20),
            provider.get_refund(&RefundId::new("re_red25").unwrap()),
        )
        .await;
    }
    let seen = seen.lock().await.clone();
    assert!(
        !seen.contains(key),
        "the config's own CA + proxy read the key in the clear:\n{seen}"
    );
}

/// Guarantee: the mode shown is truthful (a config cannot make the live host pass as test). The live
/// host spelled with a trailing dot (the same host to DNS) is not recognised as live.
#[test]
fn live_host_with_trailing_dot_passes_as_test() {
    let config = Config::parse(
        "[providers.wooshpay]\nmode = \"test\"\nallow_any_host = true\nbase_url = \"https://api.wooshpay.com.\"\n",
    )
    .unwrap();
    let account = config
        .account("wooshpay")
        .unwrap()
        .account_with(|name| (name == "WOOSHPAY_API_KEY").then(|| "rk_live_red25".to_owned()));
    if let Ok(account) = account {
        assert_ne!(
            account.mode().mode,
            Mode::Test,
            "requests go to WooshPay's live host (api.wooshpay.com.) and the account says {}",
            account.mode()
        );
    }
}

/// Guarantee: the mode shown is truthful. Without `mode =`, a test-prefixed key wins over the live
/// host the base URL names; with `mode = "test"` the same pair is refused as a contradiction.
#[test]
fn test_key_on_the_live_host_is_shown_as_test_without_mode_setting() {
    let stated =
        Config::parse("[providers.wooshpay]\nmode = \"test\"\nbase_url = \"https://api.wooshpay.com\"\n").unwrap();
    let lookup = |name: &str| (name == "WOOSHPAY_API_KEY").then(|| "sk_test_red25".to_owned());
    assert!(stated.account("wooshpay").unwrap().account_with(lookup).is_err());
    let unstated = Config::parse("[providers.wooshpay]\nbase_url = \"https://api.wooshpay.com\"\n").unwrap();
    let account = unstated.account("wooshpay").unwrap().account_with(lookup);
    if let Ok(account) = account {
        assert_ne!(
            account.mode().mode,
            Mode::Test,
            "live host, shown as {}",
            account.mode()
        );
    }
}

/// Guarantee: a config file can never exhaust memory. Each `ca_roots` file is capped at 1 MiB, but
/// the number of entries is not: one 1 MiB bundle named N times is read N times and held.
#[test]
fn ca_roots_repeated_entries_grow_memory_without_bound() {
    let dir = temp_dir("roots");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().unwrap();
    let pem = params.self_signed(&key).unwrap().pem();
    let mut file = std::fs::File::create(dir.join("big.pem")).unwrap();
    let mut written = 0;
    while written + pem.len() < 1024 * 1024 - 64 {
        file.write_all(pem.as_bytes()).unwrap();
        written += pem.len();
    }
    drop(file);
    let count = 100;
    let entries = vec!["\"big.pem\""; count].join(", ");
    let path = dir.join("refunds.toml");
    std::fs::write(
        &path,
        format!("[providers.bias]\nmode = \"test\"\nca_roots = [{entries}]\n"),
    )
    .unwrap();
    // Fixed: a list that long is refused when the file is read, before any root file is.
    let config = match Config::from_file(&path) {
        Ok(config) => config,
        Err(e) => {
            assert!(e.to_string().contains("ca_roots lists more than 16 files"), "{e}");
            return;
        }
    };
    let before = peak_rss_kib();
    let built = config
        .account("bias")
        .unwrap()
        .build_with(|name| (name == "BIAS_API_KEY").then(|| "sk_test_1".to_owned()));
    let grown_mib = (peak_rss_kib() - before) / 1024;
    assert!(
        built.is_err() || grown_mib < 50,
        "{count} entries of one 1 MiB file: built, peak memory grew by {grown_mib} MiB (no cap on the entries)"
    );
}

fn peak_rss_kib() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Guarantee: a config file can never make the CLI read a device/FIFO forever. The config file
/// itself is read with `read_to_string`, whatever it is.
#[test]
fn config_file_that_is_a_fifo_blocks_forever() {
    let dir = temp_dir("fifo");
    let fifo = dir.join("refunds.toml");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send(Config::from_file(&path).is_err());
    });
    let answered = rx.recv_timeout(Duration::from_secs(5));
    if answered.is_err() {
        // Unblock the reader so the process can end.
        let _ = std::fs::OpenOptions::new().write(true).open(&fifo);
    }
    assert_eq!(answered, Ok(true), "Config::from_file on a FIFO did not return in 5 s");
}

/// Guarantee: a config file can never exhaust memory. The file is read whole, however large (here
/// 300 MiB of zero bytes, sparse on disk: valid UTF-8, so all of it is held before TOML refuses it).
#[test]
fn huge_config_file_is_read_whole() {
    let dir = temp_dir("huge");
    let path = dir.join("refunds.toml");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(300 * 1024 * 1024).unwrap();
    drop(file);
    let before = peak_rss_kib();
    let parsed = Config::from_file(&path);
    let grown_mib = (peak_rss_kib() - before) / 1024;
    let _ = std::fs::remove_file(&path);
    assert!(parsed.is_err());
    assert!(
        grown_mib < 64,
        "a 300 MiB config file: peak memory grew by {grown_mib} MiB before it was refused (no size cap)"
    );
}
