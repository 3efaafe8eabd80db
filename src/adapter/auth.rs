//! Authentication schemes: an API-key header, a Bearer token, HTTP Basic.

use std::fmt;

use http::header::{AUTHORIZATION, HeaderName, HeaderValue};

use crate::adapter::secret::Secret;
use crate::error::Error;

/// How a provider authenticates a request. Secrets are held in [`Secret`], and the header value the
/// transport builds is marked sensitive so that HTTP-level logging skips it.
#[derive(Clone)]
#[non_exhaustive]
pub enum Auth {
    /// A key in a named header, e.g. `X-Api-Key: sk_test_...`.
    ApiKeyHeader {
        /// The header name.
        name: HeaderName,
        /// The key.
        key: Secret,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Basic base64(user:password)`.
    Basic {
        /// The user name (often the secret key itself).
        user: Secret,
        /// The password (often empty).
        password: Secret,
    },
}

impl Auth {
    /// A key in header `name`.
    pub fn api_key_header(name: &str, key: impl Into<Secret>) -> Result<Auth, Error> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::configuration(format!("invalid header name {name:?}")))?;
        Auth::ApiKeyHeader { name, key: key.into() }.checked()
    }

    /// A Bearer token.
    pub fn bearer(token: impl Into<Secret>) -> Result<Auth, Error> {
        Auth::Bearer(token.into()).checked()
    }

    /// HTTP Basic with `user` and `password`.
    pub fn basic(user: impl Into<Secret>, password: impl Into<Secret>) -> Result<Auth, Error> {
        Auth::Basic {
            user: user.into(),
            password: password.into(),
        }
        .checked()
    }

    fn checked(self) -> Result<Auth, Error> {
        let key = self.secret();
        if key.is_empty() {
            return Err(Error::configuration("api key is empty"));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::configuration("api key must be printable ascii without spaces"));
        }
        Ok(self)
    }

    /// The secret part, for redaction of errors.
    pub fn secret(&self) -> &str {
        match self {
            Auth::ApiKeyHeader { key, .. } => key.expose(),
            Auth::Bearer(token) => token.expose(),
            Auth::Basic { user, .. } => user.expose(),
        }
    }

    /// Every spelling of the secret that could come back in an answer or a log: the key itself, and
    /// for Basic the password and the base64 of `user:password` as the header carries it. Errors are
    /// scrubbed of each (short strings are skipped: they would scrub ordinary words).
    pub fn secret_forms(&self) -> Vec<String> {
        let mut forms = Vec::new();
        match self {
            Auth::ApiKeyHeader { key, .. } => forms.push(key.expose().to_owned()),
            Auth::Bearer(token) => forms.push(token.expose().to_owned()),
            Auth::Basic { user, password } => {
                forms.push(base64_encode(
                    format!("{}:{}", user.expose(), password.expose()).as_bytes(),
                ));
                forms.push(user.expose().to_owned());
                forms.push(password.expose().to_owned());
            }
        }
        forms.retain(|f| f.len() >= 4);
        forms
    }

    /// The header to send, marked sensitive.
    pub fn header(&self) -> (HeaderName, HeaderValue) {
        let (name, value) = match self {
            Auth::ApiKeyHeader { name, key } => (name.clone(), key.expose().to_owned()),
            Auth::Bearer(token) => (AUTHORIZATION, format!("Bearer {}", token.expose())),
            Auth::Basic { user, password } => (
                AUTHORIZATION,
                format!(
                    "Basic {}",
                    base64_encode(format!("{}:{}", user.expose(), password.expose()).as_bytes())
                ),
            ),
        };
        // Checked printable ASCII at construction, so the value is valid.
        let mut value = HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""));
        value.set_sensitive(true);
        (name, value)
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::ApiKeyHeader { name, .. } => write!(f, "Auth::ApiKeyHeader({name}: [redacted])"),
            Auth::Bearer(_) => f.write_str("Auth::Bearer([redacted])"),
            Auth::Basic { .. } => f.write_str("Auth::Basic([redacted])"),
        }
    }
}

/// Standard base64 with padding (RFC 4648), enough for a Basic header without another dependency.
pub fn base64_encode(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (for servers checking a Basic header); `None` on bad input.
pub fn base64_decode(input: &str) -> Option<Vec<u8>> {
    let input = input.trim_end_matches('=');
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in input.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), encoded);
            assert_eq!(base64_decode(encoded).unwrap(), plain.as_bytes());
        }
        assert_eq!(base64_encode(b"sk_test_1:"), "c2tfdGVzdF8xOg==");
    }

    #[test]
    fn headers_are_sensitive_and_debug_is_redacted() {
        for auth in [
            Auth::api_key_header("X-Api-Key", "sk_test_secret").unwrap(),
            Auth::bearer("sk_test_secret").unwrap(),
            Auth::basic("sk_test_secret", "").unwrap(),
        ] {
            let (_, value) = auth.header();
            assert!(value.is_sensitive());
            assert!(!format!("{auth:?}").contains("sk_test_secret"));
        }
        assert_eq!(Auth::bearer("abc").unwrap().header().1, "Bearer abc");
        assert!(Auth::bearer("").is_err());
        assert!(Auth::bearer("with space").is_err());
        assert!(Auth::bearer("line\nbreak").is_err());
    }
}
