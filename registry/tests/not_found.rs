//! An HTTP 404 is "not found" for every provider, whatever error type or code its body names: each
//! provider's documented 404 body (and the Stripe-style body that names only
//! `type: invalid_request_error`, which xpay and Bias answer for a missing refund) answered to a
//! `get_refund` through the registry, the way an application reaches any provider.

use refunds::{ErrorKind, RefundId};
use refunds_registry::Registry;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// `(provider, env prefix, a key, a documented 404 body)`.
const BODIES: &[(&str, &str, &str, &str)] = &[
    // 4Geeks: Django REST framework's `{"detail": "Not found."}`.
    ("fourgeeks", "FOURGEEKS", "sk_test_nf", r#"{"detail":"Not found."}"#),
    // xpay: the published envelope, `resource_missing` "returned with HTTP 404".
    (
        "xpay",
        "XPAY",
        "sk_test_nf",
        r#"{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such refund: 're_nf'","param":"id","doc_url":"https://docs.xpay.app/integrate/errors/api-error-codes#resource_missing"},"request_id":"req_nf"}"#,
    ),
    // xpay's envelope with a type and no code: the regression this test guards.
    (
        "xpay",
        "XPAY",
        "sk_test_nf",
        r#"{"error":{"type":"invalid_request_error","message":"No such refund: 're_nf'"},"request_id":"req_nf"}"#,
    ),
    // Bias: `{object: "error", error: {type, live, code, message, param}}`.
    (
        "bias",
        "BIAS",
        "sk_test_nf",
        r#"{"object":"error","error":{"type":"invalid_request_error","live":false,"code":"resource_missing","message":"No such refund: re_nf","param":"id"}}"#,
    ),
    (
        "bias",
        "BIAS",
        "sk_test_nf",
        r#"{"object":"error","error":{"type":"invalid_request_error","live":false,"message":"No such refund: re_nf"}}"#,
    ),
    // SyncgramPay: FastAPI's `{"detail": ...}`, and the Bachs form with an `error_code`.
    ("syncgram", "SYNCGRAM", "sk_test_nf", r#"{"detail":"Refund not found"}"#),
    (
        "syncgram",
        "SYNCGRAM",
        "sk_test_nf",
        r#"{"detail":"Refund not found","error_code":"refund_not_found"}"#,
    ),
    // WooshPay: Stripe's envelope.
    (
        "wooshpay",
        "WOOSHPAY",
        "sk_test_nf",
        r#"{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such refund: 're_nf'","param":"id"}}"#,
    ),
    (
        "wooshpay",
        "WOOSHPAY",
        "sk_test_nf",
        r#"{"error":{"type":"invalid_request_error","message":"Unrecognized request URL"}}"#,
    ),
];

#[tokio::test]
async fn a_404_is_not_found_for_every_provider() {
    let mut seen = std::collections::BTreeSet::new();
    for (id, prefix, key, body) in BODIES {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(404).set_body_raw(*body, "application/json"))
            .mount(&server)
            .await;
        let uri = server.uri();
        let lookup = |name: &str| match name.strip_prefix(prefix).and_then(|n| n.strip_prefix('_')) {
            _ if name == "REFUNDS_PROVIDERS" => Some((*id).to_owned()),
            Some("API_KEY") => Some((*key).to_owned()),
            Some("BASE_URL") => Some(uri.clone()),
            Some("CURRENCY") => Some("USD".to_owned()),
            _ => None,
        };
        let registry = Registry::from_lookup(lookup).unwrap_or_else(|e| panic!("{id}: {e}"));
        let provider = registry.provider(id).unwrap();
        let e = provider
            .get_refund(&RefundId::new("re_nf").unwrap())
            .await
            .expect_err("a 404");
        assert_eq!(e.kind(), &ErrorKind::NotFound, "{id} {body}: {e}");
        assert!(e.is_not_found() && !e.is_retryable(), "{id}: {e}");
        assert_eq!((e.http_status(), e.provider()), (Some(404), Some(*id)), "{id}");
        assert!(
            e.message().contains("ot found") || e.message().contains("No such") || e.message().contains("Unrecognized"),
            "{id}: {e}"
        );
        seen.insert(*id);
    }
    assert_eq!(seen.len(), 5, "every provider");
}
