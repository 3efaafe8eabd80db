//! Webhook deliveries: headers and body through each signing provider's verifier and event parser
//! (xpay, WooshPay, SyncgramPay).
//!
//! Byte 0 picks the provider (mod 3); byte 1 bit 0 set signs the body validly (the clock fixed at
//! `NOW_UNIX`), so the envelope and refund readers run behind the signature check. The rest is
//! `Name: value` header lines, a blank line, then the body (as `refunds_fuzz::split_headers`).
#![no_main]

use std::sync::{Arc, LazyLock};

use http::HeaderName;
use libfuzzer_sys::fuzz_target;
use refunds::webhook::{Clock, SignedWebhooks, WebhookVerifier};
use refunds::{Currency, adapter::signature::SignatureScheme};
use refunds_fuzz::{NOW_UNIX, split_headers};

const SECRET: &str = "whsec_fuzz_0123456789abcdef";

/// The headers that sign a body for an endpoint, now.
type Signer = Box<dyn Fn(&[u8]) -> Vec<(HeaderName, String)> + Send + Sync>;

/// A provider's verifier, and what signs a body for it.
struct Endpoint {
    verifier: Box<dyn WebhookVerifier>,
    sign: Signer,
}

fn endpoint<S: SignatureScheme + 'static>(verifier: SignedWebhooks<S>) -> Endpoint {
    let verifier = Arc::new(verifier);
    let signer = Arc::clone(&verifier);
    Endpoint {
        verifier: Box::new(verifier),
        sign: Box::new(move |body| signer.sign_headers(body)),
    }
}

static ENDPOINTS: LazyLock<[Endpoint; 3]> = LazyLock::new(|| {
    let clock = || Clock::fixed_unix(NOW_UNIX);
    [
        endpoint(refunds_xpay::webhooks::builder(SECRET).clock(clock()).build().unwrap()),
        endpoint(
            refunds_wooshpay::webhooks::builder(SECRET)
                .clock(clock())
                .build()
                .unwrap(),
        ),
        endpoint(
            refunds_syncgram::webhooks::builder(SECRET, Currency::USD)
                .clock(clock())
                .build()
                .unwrap(),
        ),
    ]
});

fuzz_target!(|data: &[u8]| {
    let Some((&[pick, mode], rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let endpoint = &ENDPOINTS[usize::from(pick) % 3];
    let (mut headers, body) = split_headers(rest);
    let signed = mode & 1 == 1;
    if signed {
        for (name, value) in (endpoint.sign)(body) {
            headers.insert(name, value.parse().expect("a signature is a header value"));
        }
    }
    match endpoint.verifier.verify_and_parse(&headers, body) {
        Ok(event) => {
            if let Some(refund) = &event.refund {
                assert_eq!(
                    refund.provider,
                    endpoint.verifier.provider(),
                    "an event's refund names its provider"
                );
            }
        }
        Err(error) => {
            assert!(
                !(signed && error.is_unauthenticated()),
                "a delivery signed with the endpoint's secret, now, was refused: {error}"
            );
            assert!(!error.to_string().contains(SECRET), "the secret leaked into an error");
        }
    }
});
