//! The TOML configuration: `refunds_registry::Config::parse` on any text, then `build_with` on what
//! parses, with an environment where every variable named like a key holds `refunds_fuzz::KEY`.
//!
//! Not asserted yet for a file that holds the key itself: a key pasted in as `api_key_env` is printed
//! back ("<key> is not set"), until issue 25's rule for what `api_key_env` may name is built. Then the
//! `pasted` exception goes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use refunds_fuzz::KEY;
use refunds_registry::Config;

/// The environment a config's `*_env` settings read: a key where the name says key or secret, a
/// currency and a loopback URL where the name says so, nothing else.
fn lookup(name: &str) -> Option<String> {
    let name = name.to_ascii_uppercase();
    if name.contains("KEY") || name.contains("SECRET") {
        Some(KEY.to_owned())
    } else if name.contains("CURRENCY") {
        Some("USD".to_owned())
    } else if name.contains("URL") {
        Some("http://127.0.0.1:9/".to_owned())
    } else {
        None
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let pasted = text.contains(KEY);
    let config = match Config::parse(text) {
        Ok(config) => config,
        Err(error) => {
            assert_eq!(error.kind(), &refunds::ErrorKind::Configuration, "{error}");
            return;
        }
    };
    let shown = match config.build_with(lookup) {
        Ok(registry) => {
            let ids: Vec<&str> = config.provider_ids().collect();
            assert!(
                registry.len() <= ids.len(),
                "a registry holds the providers the file names"
            );
            format!("{registry:?}")
        }
        Err(error) => format!("{error}\n{error:?}"),
    };
    assert!(
        pasted || !shown.contains(KEY),
        "a key from the environment shows: {shown}"
    );
});
