//! The transport settings of an account, read from its TOML table: durations, proxy, CA roots and the
//! trust store. Every message names the setting and its table, never the value (a config file is
//! untrusted input, and a value may be a key pasted in the wrong place).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use refunds::adapter::{TrustStore, check_proxy_url, check_root_certificates_pem, is_loopback};
use refunds::{Error, Result};

/// The longest any timeout may be: a call that may take longer than this is a stuck call, and a
/// typo (`"3000m"`) must not leave an operator waiting for days.
pub(crate) const MAX_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// The largest CA roots file read: a bundle of every public root is about 220 KiB, and a path such as
/// `/dev/zero` must not exhaust memory.
pub(crate) const MAX_ROOTS_FILE: u64 = 1024 * 1024;

/// Parses a duration setting: a whole number and one unit, `ms`, `s` or `m` (`"500ms"`, `"30s"`,
/// `"2m"`), between 1 ms and [`MAX_TIMEOUT`]. A bare number is refused (seconds or milliseconds?), and
/// so are fractions, spaces and compound forms, so that one spelling means one thing.
pub(crate) fn duration(value: &toml::Value, setting: &str) -> std::result::Result<Duration, String> {
    let form = "a string of a whole number and a unit, ms, s or m (such as \"30s\" or \"500ms\")";
    let toml::Value::String(text) = value else {
        return Err(format!("{setting} must be {form}: a bare number is ambiguous"));
    };
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        _ => return Err(format!("{setting} is not {form}")),
    };
    let millis = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(millis_per_unit))
        .ok_or_else(|| format!("{setting} is not {form}"))?;
    let duration = Duration::from_millis(millis);
    if duration.is_zero() || duration > MAX_TIMEOUT {
        return Err(format!("{setting} must be between 1ms and 10m"));
    }
    Ok(duration)
}

/// Checks a `proxy` setting: an http(s) URL without credentials; a plain `http://` proxy only on a
/// loopback host unless `allow_http_proxy` (the tunnel to the provider is TLS either way, so the key
/// never crosses in the clear, but the hop to a remote plain-http proxy shows which provider is
/// called, and when, to the network: an explicit choice).
pub(crate) fn proxy(text: &str, allow_http_proxy: bool) -> std::result::Result<String, String> {
    let url = check_proxy_url(text).map_err(|e| format!("proxy is not usable: {}", e.message()))?;
    if url.scheme() == "http" && !is_loopback(&url) && !allow_http_proxy {
        return Err(
            "proxy is a plain http:// proxy on a host that is not loopback: use https://, or set \
             allow_http_proxy = true in the same table to mean it"
                .to_owned(),
        );
    }
    Ok(url.to_string())
}

/// Parses `trust_store = "webpki" | "os"`.
pub(crate) fn trust_store(value: &toml::Value) -> std::result::Result<TrustStore, String> {
    match value.as_str() {
        Some("webpki") => Ok(TrustStore::WebPki),
        Some("os") => {
            if cfg!(feature = "os-trust-store") {
                Ok(TrustStore::Os)
            } else {
                Err("trust_store = \"os\" needs the `os-trust-store` feature of refunds-registry".to_owned())
            }
        }
        _ => Err("trust_store must be \"webpki\" (the roots compiled in) or \"os\" (the system's)".to_owned()),
    }
}

/// Parses `ca_roots = ["path.pem", ...]`: paths relative to the config file's folder.
pub(crate) fn ca_roots(value: &toml::Value, dir: &Path) -> std::result::Result<Vec<PathBuf>, String> {
    let toml::Value::Array(items) = value else {
        return Err("ca_roots must be an array of paths to PEM files".to_owned());
    };
    // Each file is capped at 1 MiB when read; the list is capped too, so that a hostile config
    // cannot multiply that by repeating a path.
    const MAX_CA_ROOTS: usize = 16;
    if items.len() > MAX_CA_ROOTS {
        return Err(format!("ca_roots lists more than {MAX_CA_ROOTS} files"));
    }
    let mut paths: Vec<PathBuf> = Vec::new();
    for item in items {
        match item {
            toml::Value::String(path) if !path.is_empty() => {
                let path = dir.join(path);
                if !paths.contains(&path) {
                    paths.push(path);
                }
            }
            _ => return Err("ca_roots must be an array of paths to PEM files".to_owned()),
        }
    }
    Ok(paths)
}

/// Reads and checks one CA roots file. The message names the file and never shows what it holds
/// (the path may point at a key by mistake, or by a hostile config file).
pub(crate) fn read_roots(path: &Path, setting: &str) -> Result<Vec<u8>> {
    let fail = |problem: String| Error::configuration(format!("{setting}: {:?} {problem}", path));
    let unreadable = |e: std::io::Error| fail(format!("cannot be read: {}", io_problem(&e)));
    // A regular file only: opening a FIFO (or /dev/stdin) would wait forever, and a device never ends.
    let metadata = std::fs::metadata(path).map_err(unreadable)?;
    if !metadata.is_file() {
        return Err(fail("is not a regular file".to_owned()));
    }
    if metadata.len() > MAX_ROOTS_FILE {
        return Err(fail("is larger than 1 MiB: not a file of root certificates".to_owned()));
    }
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut pem = Vec::new();
    file.take(MAX_ROOTS_FILE + 1)
        .read_to_end(&mut pem)
        .map_err(unreadable)?;
    // The file may have grown since: the read is capped all the same.
    if pem.len() as u64 > MAX_ROOTS_FILE {
        return Err(fail("is larger than 1 MiB: not a file of root certificates".to_owned()));
    }
    check_root_certificates_pem(&pem).map_err(|_| {
        fail("holds no usable root certificate (PEM blocks of X.509 certificates, BEGIN CERTIFICATE)".to_owned())
    })?;
    Ok(pem)
}

/// The kind of an I/O error in words, without the OS's text (which is fine, but one form is tested).
fn io_problem(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> toml::Value {
        toml::Value::String(s.to_owned())
    }

    #[test]
    fn one_form_of_duration() {
        assert_eq!(duration(&text("30s"), "timeout"), Ok(Duration::from_secs(30)));
        assert_eq!(duration(&text("500ms"), "timeout"), Ok(Duration::from_millis(500)));
        assert_eq!(duration(&text("10m"), "timeout"), Ok(MAX_TIMEOUT));
        for bad in [
            "30", "1.5s", " 30s", "30 s", "1m30s", "30S", "1h", "-1s", "s", "", "+3s",
        ] {
            let err = duration(&text(bad), "timeout").unwrap_err();
            assert!(err.starts_with("timeout is not"), "{bad}: {err}");
        }
        for bad in ["0s", "0ms", "11m", "601s", "99999999999999999999m"] {
            assert!(duration(&text(bad), "timeout").is_err(), "{bad}");
        }
        let bare = duration(&toml::Value::Integer(30), "connect_timeout").unwrap_err();
        assert!(
            bare.contains("connect_timeout must be") && bare.contains("ambiguous"),
            "{bare}"
        );
        assert!(duration(&toml::Value::Float(1.5), "timeout").is_err());
    }
}
