//! Core guarantees that hold across the crate: no floats in library code, secrets never shown,
//! trait objects usable, exact money end to end.

use std::path::Path;
use std::sync::Arc;

use refunds::adapter::{Auth, ClientSettings, Secret, Transport, TransportConfig};
use refunds::{Currency, Delivery, Error, ErrorKind, Money, RefundProvider};

const KEY: &str = "sk_live_do_not_print_me_123";

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Money never passes through floating point: no `f32`/`f64` in any library source.
#[test]
fn no_floating_point_in_library_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    for provider in std::fs::read_dir(root.join("providers"))
        .into_iter()
        .flatten()
        .flatten()
    {
        rust_files(&provider.path().join("src"), &mut files);
    }
    assert!(files.len() > 20, "scanned the sources");
    let mut offenders = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let has_float = code
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .any(|token| token == "f32" || token == "f64");
            if has_float {
                offenders.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "floating point in library code:\n{}",
        offenders.join("\n")
    );
}

/// The key appears in no `Debug` of any auth, settings, transport or client type, nor in errors.
#[test]
fn api_key_never_in_debug_or_errors() {
    let auths = [
        Auth::api_key_header("X-Api-Key", KEY).unwrap(),
        Auth::bearer(KEY).unwrap(),
        Auth::basic(KEY, "").unwrap(),
    ];
    let mut shown: Vec<String> = auths.iter().map(|a| format!("{a:?}")).collect();
    shown.push(format!("{:?} {}", Secret::new(KEY), Secret::new(KEY)));
    let settings = ClientSettings::new();
    let mut settings_with_key = settings.clone();
    settings_with_key.api_key = Some(Secret::new(KEY));
    shown.push(format!("{settings_with_key:?}"));
    for auth in auths {
        let t = Transport::new(
            "test",
            TransportConfig::new("https://api.example.com").unwrap(),
            auth,
            |r| Error::new(ErrorKind::Other, Delivery::Rejected, format!("{}", r.status)),
        )
        .unwrap();
        shown.push(format!("{t:?}"));
    }
    let error = Error::new(
        ErrorKind::Authentication,
        Delivery::Rejected,
        format!("the key {KEY} is revoked"),
    )
    .with_body(format!("{{\"key\":\"{KEY}\"}}").as_bytes())
    .redact(KEY);
    shown.push(format!("{error} {error:?}"));
    for text in shown {
        assert!(!text.contains(KEY), "key shown: {text}");
    }
}

#[test]
fn providers_are_object_safe_and_shareable() {
    let memory = refunds_testkit::MemoryProvider::new(refunds::sandbox::Ledger::default(), 0);
    let providers: Vec<Arc<dyn RefundProvider>> = vec![Arc::new(memory)];
    let shared = providers.clone();
    std::thread::spawn(move || assert_eq!(shared[0].info().id, "memory"))
        .join()
        .unwrap();
}

#[test]
fn money_examples_from_the_issue() {
    let a = Money::from_major_str("0.10", Currency::USD).unwrap();
    let b = Money::from_major_str("0.20", Currency::USD).unwrap();
    assert_eq!(
        a.checked_add(b).unwrap(),
        Money::from_major_str("0.30", Currency::USD).unwrap()
    );
    assert_eq!(Money::from_major_str("1000", Currency::JPY).unwrap().minor(), 1000);
    assert_eq!(Money::from_minor(1000, Currency::JPY).to_major_string(), "1000");
    assert_eq!(Money::from_major_str("1.234", Currency::KWD).unwrap().minor(), 1234);
    assert_eq!(Money::from_minor(1234, Currency::KWD).to_major_string(), "1.234");
    assert!(Money::from_major_str("1.2345", Currency::KWD).is_err());
    assert_eq!(Money::from_major_str("12.5", Currency::USD).unwrap().minor(), 1250);
    assert_eq!(Money::from_minor(1250, Currency::USD).to_major_string(), "12.50");
    assert!(
        Money::from_major_str("92233720368547758.08", Currency::USD).is_err(),
        "i64 overflow"
    );
    let err: Error = Money::from_major_str("1.2345", Currency::KWD).unwrap_err().into();
    assert_eq!(err.field(), Some("amount"));
}
