//! What the fuzz targets share: the framing of an input into a provider answer, and the checks every
//! provider's readers must pass on any bytes.
//!
//! A target panics only on a finding: a parser that panics, overflows or allocates without bound, or
//! an answer that breaks a promise of the SDK (raw JSON kept byte for byte, every refund and error
//! naming its provider, the key never in an error).

use std::sync::LazyLock;

use http::{HeaderMap, HeaderName, HeaderValue};
use refunds::Currency;
use refunds::adapter::{ApiResponse, Client, ClientBuilder, HttpProvider, parse_retry_after, request_id_from_headers};
use time::OffsetDateTime;

/// The key every client is built with. An error answer may carry it (see [`bodies`]); no error may
/// show it after the engine has finished it.
pub const KEY: &str = "sk_test_fuzz_0123456789abcdef";

/// The clock `Retry-After` dates are read against (any fixed instant: the parse must not depend on
/// the machine's).
pub const NOW_UNIX: i64 = 1_750_000_000;

/// The account currencies a provider's clients are built with: two decimals, none and three, so
/// amount readers meet every exponent.
pub const CURRENCIES: [Currency; 3] = [Currency::USD, Currency::JPY, Currency::KWD];

/// One client of provider `P` per currency of [`CURRENCIES`], built once per process.
pub struct Clients<P: HttpProvider>(LazyLock<Vec<Client<P>>>);

impl<P: HttpProvider> Clients<P> {
    /// The clients, built on first use.
    pub const fn new() -> Clients<P> {
        Clients(LazyLock::new(|| {
            CURRENCIES
                .iter()
                .map(|currency| {
                    ClientBuilder::<P>::new()
                        .api_key(KEY)
                        .currency(*currency)
                        .build()
                        .expect("a client with a test key and a currency builds")
                })
                .collect()
        }))
    }
}

impl<P: HttpProvider> Default for Clients<P> {
    fn default() -> Self {
        Clients::new()
    }
}

/// What one input asks a provider's readers to do.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Refund,
    List,
    Error,
}

/// Reads an input as a provider answer and checks what the SDK promises about it.
///
/// The first five bytes are a header, the rest the answer:
/// - byte 0 (mod 3): a refund body (`Client::refund_from_json`), a list page (`HttpProvider::read_list`)
///   or an error answer (`HttpProvider::read_error`, then the engine's tagging and scrubbing);
/// - byte 1: which client (the account currency of [`CURRENCIES`]);
/// - bytes 2-3: the HTTP status of an error answer (100-999);
/// - byte 4: bit 7 set puts [`KEY`] into an error body, at 16 times the low bits.
///
/// An error answer is `Header: value` lines, a blank line (`\n\n`), then the body; without a blank
/// line it is all body.
pub fn bodies<P: HttpProvider>(clients: &Clients<P>, data: &[u8]) {
    let Some((header, body)) = data.split_first_chunk::<5>() else {
        return;
    };
    let kind = [Kind::Refund, Kind::List, Kind::Error][usize::from(header[0] % 3)];
    let client = &clients.0[usize::from(header[1]) % CURRENCIES.len()];
    match kind {
        Kind::Refund => refund(client, body),
        Kind::List => list(client, body),
        Kind::Error => {
            let status = 100 + u16::from_be_bytes([header[2], header[3]]) % 900;
            error(client, status, header[4], body);
        }
    }
}

fn refund<P: HttpProvider>(client: &Client<P>, body: &[u8]) {
    match client.refund_from_json(body) {
        Ok(refund) => {
            assert_eq!(refund.provider, P::SPEC.id, "a refund names its provider");
            let text = std::str::from_utf8(body).expect("a refund was read from UTF-8");
            assert_eq!(
                refund.raw.get(),
                text.trim_ascii(),
                "a refund keeps its JSON byte for byte"
            );
        }
        Err(error) => assert_eq!(
            error.provider(),
            Some(P::SPEC.id),
            "an error names its provider: {error}"
        ),
    }
}

fn list<P: HttpProvider>(client: &Client<P>, body: &[u8]) {
    // A provider without a list refuses every body the same way; nothing to read.
    let Ok(page) = client.provider().read_list(body) else {
        return;
    };
    let text = std::str::from_utf8(body).expect("a page was read from UTF-8");
    for item in &page.items {
        assert!(
            text.contains(item.raw.get()),
            "a listed refund keeps its JSON byte for byte: {}",
            item.raw.get()
        );
    }
}

fn error<P: HttpProvider>(client: &Client<P>, status: u16, key_at: u8, data: &[u8]) {
    let (headers, body) = split_headers(data);
    let body = with_key(body, key_at);
    let now = OffsetDateTime::from_unix_timestamp(NOW_UNIX).expect("a valid instant");
    let retry_after = headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, now));
    let request_id = request_id_from_headers(&headers);
    let response = ApiResponse {
        status,
        headers,
        body: bytes::Bytes::from(body),
        request_id: request_id.clone(),
    };
    // What the transport does with an error answer, up to the scrubbing the engine finishes with.
    let decoded = P::read_error(&response);
    let request_id = decoded.request_id().map(str::to_owned).or(request_id);
    let mut error = decoded
        .with_http_status(status)
        .with_request_id(request_id)
        .with_retry_after(retry_after);
    if error.body().is_none() {
        error = error.with_body(&response.body);
    }
    let error = client.finish(error);
    assert_eq!(error.provider(), Some(P::SPEC.id), "an error names its provider");
    assert_eq!(error.http_status(), Some(status), "an error keeps its status");
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains(KEY), "the key leaked into an error: {shown}");
    }
}

/// `Name: value` lines up to the first blank line, then the body. Lines that are not a valid header
/// are dropped (as the HTTP client would never hand them over).
pub fn split_headers(data: &[u8]) -> (HeaderMap, &[u8]) {
    let mut headers = HeaderMap::new();
    let Some(end) = data.windows(2).position(|w| w == b"\n\n") else {
        return (headers, data);
    };
    for line in data[..end].split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let name = HeaderName::from_bytes(line[..colon].trim_ascii());
        let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii());
        if let (Ok(name), Ok(value)) = (name, value) {
            headers.append(name, value);
        }
    }
    (headers, &data[end + 2..])
}

/// The body, with [`KEY`] inserted where `key_at` says (bit 7 set), at a character boundary.
fn with_key(body: &[u8], key_at: u8) -> Vec<u8> {
    let mut body = body.to_vec();
    if key_at & 0x80 != 0 {
        let mut at = (usize::from(key_at & 0x7f) * 16).min(body.len());
        while at > 0 && at < body.len() && (body[at] & 0xc0) == 0x80 {
            at -= 1;
        }
        body.splice(at..at, KEY.bytes());
    }
    body
}
