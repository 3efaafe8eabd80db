//! What the client puts on the wire (asserted with wiremock matchers), what it refuses to send
//! (asserted with `.expect(0)`), and how it is configured.

use refunds::adapter::paging::offset;
use refunds::{
    CreateRefund, Currency, Delivery, ErrorKind, IdempotencyKey, ListRefunds, Money, PageCursor, PaymentRef,
    RefundProvider, RefundReason,
};
use refunds_fourgeeks::{FourGeeksClient, FourGeeksClientBuilder};
use serde_json::json;
use wiremock::matchers::{any, body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk_test_requests_0123456789";

fn refund_json(id: &str, payment: &str, amount: i64) -> serde_json::Value {
    json!({"id": id, "object": "refund", "payment_id": payment, "amount": amount, "status": "pending"})
}

fn builder(server: &MockServer) -> FourGeeksClientBuilder {
    FourGeeksClient::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .currency(Currency::USD)
        .max_retries(0)
}

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

fn pay(id: &str) -> PaymentRef {
    PaymentRef::payment(id).unwrap()
}

/// The seed's request example: `X-Api-Key`, JSON, `payment_id`, integer cents, free-text reason.
#[tokio::test]
async fn partial_create_matches_the_documented_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .and(header("x-api-key", KEY))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "payment_id": "pay_7g8h9i0j1k2l",
            "amount": 2500,
            "reason": "Customer requested partial refund"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_json(
            "ref_m3n4o5p6q7r8",
            "pay_7g8h9i0j1k2l",
            2500,
        )))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let refund = client
        .create_refund(
            &CreateRefund::new(pay("pay_7g8h9i0j1k2l"))
                .amount(Money::from_major_str("25.00", Currency::USD).unwrap())
                .reason(RefundReason::Other("Customer requested partial refund".into())),
        )
        .await
        .unwrap();
    assert_eq!(refund.amount, usd(2500));
}

/// A full refund omits `amount`; a reason enum goes out as its snake-case name; 201 is success too.
#[tokio::test]
async fn full_create_omits_the_amount_and_201_is_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .and(body_json(
            json!({"payment_id": "pay_full", "reason": "requested_by_customer"}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(refund_json("ref_full", "pay_full", 9900)))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let refund = client
        .create_refund(&CreateRefund::new(pay("pay_full")).reason(RefundReason::RequestedByCustomer))
        .await
        .unwrap();
    assert_eq!(refund.amount, usd(9900), "the amount 4Geeks refunded");
}

/// A field 4Geeks cannot carry (idempotency key, merchant reference, description, metadata) is
/// refused before sending, naming it; a create without them that meets a 503 is sent once, ambiguous,
/// and carries its pending create.
#[tokio::test]
async fn uncarried_fields_are_refused_and_a_create_is_sent_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .and(body_json(json!({"payment_id": "pay_k", "amount": 100})))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"detail": "down"})))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server).max_retries(3).build().unwrap();
    let base = || CreateRefund::new(pay("pay_k")).amount(usd(100));
    let refused = [
        (
            base().idempotency_key(IdempotencyKey::new("key-1").unwrap()),
            "idempotency_key",
        ),
        (base().merchant_reference("order-1"), "merchant_reference"),
        (base().description("a description"), "description"),
        (base().metadata("order", "1"), "metadata"),
    ];
    for (request, field) in refused {
        let e = client.create_refund(&request).await.expect_err(field);
        assert_eq!(e.field(), Some(field), "{e}");
        assert_eq!(e.delivery(), Delivery::NotSent);
        assert_eq!(e.provider(), Some("fourgeeks"));
    }
    let request = base();
    let e = client.create_refund(&request).await.expect_err("503");
    assert_eq!(e.delivery(), Delivery::Ambiguous);
    assert!(!e.is_retryable());
    assert_eq!(e.pending_create(), Some(&request));
    assert_eq!(e.pending().map(|p| p.provider.as_str()), Some("fourgeeks"));
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1, "not re-sent");
    let names: Vec<String> = received[0].headers.keys().map(|n| n.as_str().to_owned()).collect();
    assert!(!names.iter().any(|n| n.contains("idempotency")), "{names:?}");
    assert!(!names.iter().any(|n| n == "authorization"), "{names:?}");
}

#[tokio::test]
async fn capabilities_say_what_4geeks_does() {
    let client = FourGeeksClient::builder()
        .api_key(KEY)
        .currency(Currency::USD)
        .build()
        .unwrap();
    let info = client.info();
    assert_eq!(info.id, "fourgeeks");
    assert_eq!(info.name, "4Geeks Payments");
    let caps = &info.capabilities;
    assert!(caps.partial_refunds && caps.retrieve);
    assert_eq!(caps.list, Some(refunds::PagingStyle::Offset));
    assert!(!caps.list_status_filter && !caps.cancel && !caps.retrieve_by_payment);
    assert_eq!(caps.idempotency, refunds::IdempotencySupport::None);
    assert_eq!(caps.payment_kinds, [refunds::PaymentRefKind::Payment]);
    let debug = format!("{client:?}");
    assert!(debug.contains("https://api.4geeks.io/"), "{debug}");
    assert!(!debug.contains(KEY), "{debug}");
}

async fn refuse_everything() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    server
}

/// One bad input 4Geeks-specific enough that the shared table (run by `provider_suite!` in
/// `tests/suite.rs`) does not have it: what was tried, the field the refusal names, the outcome.
struct BadInput {
    case: &'static str,
    field: &'static str,
    outcome: refunds::Result<()>,
}

/// The 4Geeks rows: its account currency, its only payment kind, its assumed page size, the
/// reason it takes as free text, the offset cursors it pages with. Nothing reaches the server
/// (`.expect(0)` on a catch-all mock) and each refusal names its field.
#[tokio::test]
async fn provider_specific_bad_input_is_refused_before_sending() {
    let server = refuse_everything().await;
    let client = builder(&server).build().unwrap();
    let create = |request: CreateRefund| {
        let client = client.clone();
        async move { client.create_refund(&request).await.map(drop) }
    };
    let list = |request: ListRefunds| {
        let client = client.clone();
        async move { client.list_refunds(&request).await.map(drop) }
    };
    let rows = vec![
        BadInput {
            case: "amount in JPY (zero-decimal) on a USD account",
            field: "amount",
            outcome: create(CreateRefund::new(pay("pay_1")).amount(Money::from_minor(100, Currency::JPY))).await,
        },
        BadInput {
            case: "payment reference of kind PaymentIntent",
            field: "payment",
            outcome: create(CreateRefund::new(PaymentRef::payment_intent("pi_1").unwrap())).await,
        },
        BadInput {
            case: "free-text reason of 501 chars",
            field: "reason",
            outcome: create(CreateRefund::new(pay("pay_1")).reason(RefundReason::Other("x".repeat(501)))).await,
        },
        BadInput {
            case: "free-text reason with a newline",
            field: "reason",
            outcome: create(CreateRefund::new(pay("pay_1")).reason(RefundReason::Other("line\nbreak".into()))).await,
        },
        BadInput {
            case: "list limit 101 (above the assumed maximum of 100)",
            field: "limit",
            outcome: list(ListRefunds::new().limit(101)).await,
        },
        BadInput {
            case: "a fourgeeks cursor of the id-cursor style",
            field: "cursor",
            outcome: list(ListRefunds::new().cursor(PageCursor::from_token("fourgeeks:a:ref_1"))).await,
        },
        BadInput {
            case: "a fourgeeks offset cursor with a negative offset",
            field: "cursor",
            outcome: list(ListRefunds::new().cursor(PageCursor::from_token("fourgeeks:o:-3"))).await,
        },
        BadInput {
            case: "a fourgeeks offset cursor past i64::MAX",
            field: "cursor",
            outcome: list(ListRefunds::new().cursor(offset::cursor("fourgeeks", u64::MAX))).await,
        },
    ];
    for row in &rows {
        let e = row.outcome.as_ref().expect_err(row.case);
        assert!(
            matches!(e.kind(), ErrorKind::InvalidRequest { .. }),
            "{}: {e}",
            row.case
        );
        assert_eq!(e.field(), Some(row.field), "{}: {e}", row.case);
        assert_eq!(e.delivery(), Delivery::NotSent, "{}", row.case);
        assert_eq!(e.provider(), Some("fourgeeks"), "{}", row.case);
        assert!(e.pending_create().is_none(), "{}", row.case);
    }
    let currency_error = rows[0].outcome.as_ref().unwrap_err();
    assert_eq!(
        currency_error.message(),
        "the fourgeeks account is in USD, the amount is in JPY"
    );
    let sent = server.received_requests().await.unwrap().len();
    assert_eq!(sent, 0, "no bad request was sent");
    println!(
        "fourgeeks: {} provider-specific bad-input rows, {sent} requests sent",
        rows.len()
    );
}
