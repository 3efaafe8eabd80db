//! The conformance scenarios. Each is an async function over a [`Harness`]; the
//! [`conformance_tests!`](crate::conformance_tests) macro turns them into one named test each.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::StreamExt;

use crate::harness::{Backend, Harness, HarnessOptions, RefundFixture, Situation};
use refunds::Money;
use refunds::PagingStyle;
use refunds::RefundProviderExt;
use refunds::{CreateRefund, ListRefunds, RefundReason, RefundStatus};
use refunds::{Currency, Error};
use refunds::{Delivery, ErrorKind};
use refunds::{IdempotencyKey, PaymentRefKind, RefundId};

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

async fn start(h: &dyn Harness, retries: u32) -> Box<dyn Backend> {
    h.start(HarnessOptions::new(Currency::USD, retries)).await
}

fn assert_refused_by_provider(e: &Error, allowed: &[ErrorKind]) {
    assert!(
        allowed.contains(e.kind()),
        "kind {:?} not in {allowed:?}: {e}",
        e.kind()
    );
    assert_eq!(e.delivery(), Delivery::Rejected, "{e}");
    assert!(e.http_status().is_some_and(|s| (400..500).contains(&s)), "{e}");
    assert!(e.provider().is_some(), "error names its provider: {e:?}");
}

/// A full refund (no amount) returns the whole captured amount, normalized, with raw JSON.
pub async fn full_refund(h: &dyn Harness) {
    let b = start(h, 0).await;
    let fixture = RefundFixture::new("re_full_1", "pay_full", usd(5000), RefundStatus::Succeeded);
    b.arrange(Situation::Refundable {
        payment_id: "pay_full".into(),
        captured: usd(5000),
        creates: vec![fixture],
    })
    .await;
    let client = b.client();
    let request = CreateRefund::new(b.payment_ref("pay_full"));
    let refund = client.create_refund(&request).await.expect("full refund");
    assert_eq!(refund.amount, usd(5000));
    assert_eq!(refund.payment.id(), "pay_full");
    assert!(
        matches!(refund.status, RefundStatus::Succeeded | RefundStatus::Pending),
        "{:?}",
        refund.status
    );
    assert_eq!(refund.provider, client.info().id);
    assert!(
        refund.raw.get().contains(refund.id.as_str()),
        "raw keeps the provider object: {}",
        refund.raw
    );
    b.check_last_create(&request).await;
    if client.info().capabilities.retrieve {
        let again = client.get_refund(&refund.id).await.expect("get after create");
        assert_eq!(again.id, refund.id);
        assert_eq!(again.amount, refund.amount);
    }
}

/// A partial refund sends the amount in the provider's encoding and returns it exactly.
pub async fn partial_refund(h: &dyn Harness) {
    let b = start(h, 0).await;
    let fixture = RefundFixture::new("re_part_1", "pay_part", usd(2500), RefundStatus::Pending);
    b.arrange(Situation::Refundable {
        payment_id: "pay_part".into(),
        captured: usd(10000),
        creates: vec![fixture],
    })
    .await;
    let caps = b.client().info().capabilities.clone();
    let request = crate::with_carried(
        CreateRefund::new(b.payment_ref("pay_part")).amount(usd(2500)),
        &caps,
        Some(RefundReason::RequestedByCustomer),
        None,
        None,
    );
    let refund = b.client().create_refund(&request).await.expect("partial refund");
    assert_eq!(refund.amount, usd(2500));
    assert_eq!(refund.amount.to_major_string(), "25.00");
    assert_eq!(refund.payment.id(), "pay_part");
    b.check_last_create(&request).await;
}

/// Several partial refunds of one payment each succeed while balance remains.
pub async fn several_partials(h: &dyn Harness) {
    let b = start(h, 0).await;
    let creates = vec![
        RefundFixture::new("re_sp_1", "pay_sp", usd(3000), RefundStatus::Pending),
        RefundFixture::new("re_sp_2", "pay_sp", usd(3000), RefundStatus::Pending),
        RefundFixture::new("re_sp_3", "pay_sp", usd(4000), RefundStatus::Pending),
    ];
    b.arrange(Situation::Refundable {
        payment_id: "pay_sp".into(),
        captured: usd(10000),
        creates,
    })
    .await;
    let client = b.client();
    let mut ids = HashSet::new();
    for minor in [3000, 3000, 4000] {
        let r = client
            .create_refund(&CreateRefund::new(b.payment_ref("pay_sp")).amount(usd(minor)))
            .await
            .expect("partial");
        assert_eq!(r.amount, usd(minor));
        ids.insert(r.id.clone());
    }
    assert_eq!(ids.len(), 3, "three distinct refunds");
}

/// A refund larger than what is left is refused by the provider with a precise kind.
pub async fn amount_over_refundable(h: &dyn Harness) {
    let b = start(h, 0).await;
    b.arrange(Situation::OverRefund {
        payment_id: "pay_over".into(),
        refundable: usd(1000),
    })
    .await;
    let e = b
        .client()
        .create_refund(&CreateRefund::new(b.payment_ref("pay_over")).amount(usd(1001)))
        .await
        .expect_err("over-refund refused");
    assert_refused_by_provider(&e, &[ErrorKind::AmountExceedsRefundable, ErrorKind::Validation]);
}

/// A refund of a payment that does not exist is refused.
pub async fn unknown_payment(h: &dyn Harness) {
    let b = start(h, 0).await;
    b.arrange(Situation::UnknownPayment {
        payment_id: "pay_missing".into(),
    })
    .await;
    let e = b
        .client()
        .create_refund(&CreateRefund::new(b.payment_ref("pay_missing")).amount(usd(100)))
        .await
        .expect_err("unknown payment refused");
    assert_refused_by_provider(&e, &[ErrorKind::NotFound, ErrorKind::Validation]);
}

/// 401 is an authentication error that never shows the key.
pub async fn unauthorized_401(h: &dyn Harness) {
    let b = start(h, 2).await;
    b.arrange(Situation::Unauthorized).await;
    let client = b.client();
    let e = client
        .get_refund(&RefundId::new("re_any").unwrap())
        .await
        .expect_err("401");
    assert_eq!(e.kind(), &ErrorKind::Authentication, "{e}");
    assert_eq!(e.http_status(), Some(401));
    assert_eq!(e.delivery(), Delivery::Rejected);
    assert!(!e.is_retryable());
    assert_eq!(b.request_count().await, 1, "401 is not retried");
    let key = b.api_key();
    assert!(
        !e.to_string().contains(&key) && !format!("{e:?}").contains(&key),
        "key leaked: {e:?}"
    );
}

/// 404 on retrieve is `NotFound`.
pub async fn not_found_404(h: &dyn Harness) {
    let b = start(h, 2).await;
    let client = b.client();
    if !client.info().capabilities.retrieve {
        crate::skip("not_found_404", "no retrieve; checks Unsupported instead");
        let e = client
            .get_refund(&RefundId::new("re_nope").unwrap())
            .await
            .expect_err("unsupported");
        assert_eq!(e.kind(), &ErrorKind::Unsupported);
        return;
    }
    b.arrange(Situation::NotFound { id: "re_nope".into() }).await;
    let e = client
        .get_refund(&RefundId::new("re_nope").unwrap())
        .await
        .expect_err("404");
    assert!(e.is_not_found(), "{e}");
    assert_eq!(e.http_status(), Some(404));
    assert_eq!(b.request_count().await, 1, "404 is not retried");
}

/// A provider validation error keeps its field errors.
pub async fn validation_error_with_fields(h: &dyn Harness) {
    let b = start(h, 0).await;
    b.arrange(Situation::ValidationError).await;
    let e = b
        .client()
        .create_refund(&CreateRefund::new(b.payment_ref("pay_val")).amount(usd(100)))
        .await
        .expect_err("validation");
    assert_eq!(e.kind(), &ErrorKind::Validation, "{e}");
    assert_eq!(e.delivery(), Delivery::Rejected);
    let field = e.field().expect("the error names a field");
    assert!(field.contains("amount"), "field {field:?} names the amount");
}

/// 429 carries `Retry-After`; with retries the call waits and succeeds.
pub async fn rate_limited_429_retry_after(h: &dyn Harness) {
    let fixture = RefundFixture::new("re_rl_1", "pay_rl", usd(700), RefundStatus::Succeeded);
    let b = start(h, 0).await;
    let client = b.client();
    let supports_get = client.info().capabilities.retrieve;
    b.arrange(Situation::Existing {
        refunds: vec![fixture.clone()],
    })
    .await;
    b.arrange(Situation::RateLimited {
        times: 1,
        retry_after_secs: 7,
    })
    .await;
    let id = RefundId::new("re_rl_1").unwrap();
    let e = if supports_get {
        client.get_refund(&id).await.expect_err("429")
    } else {
        client
            .create_refund(&CreateRefund::new(b.payment_ref("pay_rl")))
            .await
            .expect_err("429")
    };
    assert_eq!(e.kind(), &ErrorKind::RateLimited, "{e}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(e.delivery(), Delivery::Rejected);
    assert!(e.is_retryable());

    if !supports_get {
        crate::skip("rate_limited_429_retry_after (retried get)", "no retrieve");
    }
    if supports_get {
        let b = start(h, 2).await;
        b.arrange(Situation::Existing { refunds: vec![fixture] }).await;
        b.arrange(Situation::RateLimited {
            times: 1,
            retry_after_secs: 0,
        })
        .await;
        let r = b.client().get_refund(&id).await.expect("retried after 429");
        assert_eq!(r.id, id);
        assert_eq!(b.request_count().await, 2);
    }
}

/// 500 then 200 with an idempotency key: retried only where the provider honours keys, and then one
/// refund results. Elsewhere the create is not re-sent and the error is ambiguous.
pub async fn server_error_then_ok_with_idempotency_key(h: &dyn Harness) {
    let b = start(h, 2).await;
    let fixture = RefundFixture::new("re_idem_1", "pay_idem", usd(1500), RefundStatus::Pending);
    b.arrange(Situation::Refundable {
        payment_id: "pay_idem".into(),
        captured: usd(5000),
        creates: vec![fixture],
    })
    .await;
    b.arrange(Situation::ServerError { times: 1 }).await;
    let client = b.client();
    let request = crate::with_carried(
        CreateRefund::new(b.payment_ref("pay_idem")).amount(usd(1500)),
        &client.info().capabilities,
        None,
        None,
        Some(IdempotencyKey::new("conformance-key-1").unwrap()),
    );
    let outcome = client.create_refund(&request).await;
    if client.info().capabilities.idempotency.is_native() {
        let r = outcome.expect("retried with the same key");
        assert_eq!(r.amount, usd(1500));
        assert_eq!(b.request_count().await, 2, "one failure, one retry");
        b.check_last_create(&request).await;
    } else {
        let e = outcome.expect_err("not retried without provider idempotency");
        assert_eq!(e.delivery(), Delivery::Ambiguous, "{e}");
        assert_eq!(b.request_count().await, 1, "a create is never re-sent");
        assert!(!e.is_retryable());
    }
}

/// 500 on a create without a caller's key: ambiguous and carrying the request for lookup; not retried
/// unless the provider makes every create replay-safe.
pub async fn server_error_without_key_is_ambiguous(h: &dyn Harness) {
    let b = start(h, 2).await;
    b.arrange(Situation::Refundable {
        payment_id: "pay_500".into(),
        captured: usd(5000),
        creates: vec![],
    })
    .await;
    // More failures than retries: providers that make every create replay-safe (a generated key or
    // reference) retry and still end on the 500.
    b.arrange(Situation::ServerError { times: 3 }).await;
    let client = b.client();
    let request = CreateRefund::new(b.payment_ref("pay_500")).amount(usd(1000));
    let e = client.create_refund(&request).await.expect_err("500");
    assert_eq!(e.kind(), &ErrorKind::ProviderUnavailable, "{e}");
    assert_eq!(e.delivery(), Delivery::Ambiguous);
    assert_eq!(e.http_status(), Some(500));
    assert!(e.pending_create().is_some(), "carries what is needed to look it up");
    if !client.info().capabilities.idempotency.is_native() {
        assert_eq!(b.request_count().await, 1, "not retried");
        assert!(!e.is_retryable());
    }
}

/// A 200 whose body is not JSON is a `Decode` error that keeps the status and the body.
pub async fn malformed_body(h: &dyn Harness) {
    let b = start(h, 0).await;
    let client = b.client();
    b.arrange(Situation::MalformedBody { id: "re_bad".into() }).await;
    let e = if client.info().capabilities.retrieve {
        client
            .get_refund(&RefundId::new("re_bad").unwrap())
            .await
            .expect_err("decode")
    } else {
        client
            .create_refund(&CreateRefund::new(b.payment_ref("pay_bad")))
            .await
            .expect_err("decode")
    };
    assert_eq!(e.kind(), &ErrorKind::Decode, "{e}");
    assert_eq!(e.http_status(), Some(200));
    assert!(e.body().is_some_and(|b| !b.is_empty()), "keeps the body: {e:?}");
}

/// A status string nobody documented is kept as `Unknown(raw)`.
pub async fn unknown_status_string(h: &dyn Harness) {
    let b = start(h, 0).await;
    let odd = RefundStatus::Unknown("reversed_by_bank_xyz".into());
    let fixture = RefundFixture::new("re_odd", "pay_odd", usd(100), odd.clone());
    let client = b.client();
    let refund = if client.info().capabilities.retrieve {
        b.arrange(Situation::Existing { refunds: vec![fixture] }).await;
        client.get_refund(&RefundId::new("re_odd").unwrap()).await.expect("get")
    } else {
        b.arrange(Situation::Refundable {
            payment_id: "pay_odd".into(),
            captured: usd(100),
            creates: vec![fixture],
        })
        .await;
        client
            .create_refund(&CreateRefund::new(b.payment_ref("pay_odd")))
            .await
            .expect("create")
    };
    assert_eq!(refund.status, odd);
    assert!(!refund.status.is_terminal());
}

/// The stream walks at least three pages and yields every refund exactly once, in order.
pub async fn list_three_pages_each_once(h: &dyn Harness) {
    let b = start(h, 2).await;
    let client = b.client();
    let Some(style) = client.info().capabilities.list else {
        crate::skip("list_three_pages_each_once", "no list; checks Unsupported instead");
        let e = client.list_refunds(&ListRefunds::new()).await.expect_err("no list");
        assert_eq!(e.kind(), &ErrorKind::Unsupported);
        assert_eq!(b.request_count().await, 0);
        return;
    };
    let refunds: Vec<RefundFixture> = (1..=7)
        .map(|i| {
            RefundFixture::new(
                format!("re_list_{i}"),
                format!("pay_list_{i}"),
                usd(i * 100),
                RefundStatus::Succeeded,
            )
        })
        .collect();
    b.arrange(Situation::Existing {
        refunds: refunds.clone(),
    })
    .await;
    let first = client
        .list_refunds(&ListRefunds::new().limit(3))
        .await
        .expect("first page");
    if style == PagingStyle::SinglePage {
        crate::skip("list_three_pages_each_once", "the list is one page");
        assert_eq!(first.next, None);
        return;
    }
    assert_eq!(first.items.len(), 3);
    assert!(first.next.is_some());
    let seen: Vec<String> = client
        .refunds_stream(ListRefunds::new().limit(3))
        .map(|r| r.expect("item").id.as_str().to_owned())
        .collect()
        .await;
    let mut expected: Vec<String> = refunds.iter().map(|f| f.id.clone()).collect();
    if seen.first() != expected.first() {
        // Newest first, as Stripe-style lists are.
        expected.reverse();
    }
    assert_eq!(seen, expected, "every refund once, in order");
}

async fn currency_round_trip(h: &dyn Harness, currency: Currency, minor: i64, major: &str) {
    if !h.supports_currency(currency) {
        crate::skip("currency_round_trip", &format!("the provider does not take {currency}"));
        return;
    }
    let b = h.start(HarnessOptions::new(currency, 0)).await;
    let amount = Money::from_minor(minor, currency);
    assert_eq!(amount.to_major_string(), major);
    let fixture = RefundFixture::new("re_cur_1", "pay_cur", amount, RefundStatus::Succeeded);
    b.arrange(Situation::Refundable {
        payment_id: "pay_cur".into(),
        captured: Money::from_minor(minor * 10, currency),
        creates: vec![fixture],
    })
    .await;
    let request = CreateRefund::new(b.payment_ref("pay_cur")).amount(amount);
    let refund = b.client().create_refund(&request).await.expect("create");
    assert_eq!(refund.amount, amount, "no 100x error");
    assert_eq!(refund.amount.currency().exponent(), currency.exponent());
    b.check_last_create(&request).await;
}

/// A zero-decimal currency (JPY) goes out and comes back without a 100× error.
pub async fn zero_decimal_currency(h: &dyn Harness) {
    currency_round_trip(h, Currency::JPY, 1000, "1000").await;
}

/// A three-decimal currency (KWD) goes out and comes back exactly.
pub async fn three_decimal_currency(h: &dyn Harness) {
    currency_round_trip(h, Currency::KWD, 1234, "1.234").await;
}

/// The create on the wire: auth header, content type, field names, amount encoding, idempotency key.
pub async fn request_facts(h: &dyn Harness) {
    let b = start(h, 0).await;
    let fixture = RefundFixture::new("re_facts", "pay_facts", usd(1250), RefundStatus::Pending);
    b.arrange(Situation::Refundable {
        payment_id: "pay_facts".into(),
        captured: usd(5000),
        creates: vec![fixture],
    })
    .await;
    let caps = b.client().info().capabilities.clone();
    let request = crate::with_carried(
        CreateRefund::new(b.payment_ref("pay_facts")).amount(usd(1250)),
        &caps,
        Some(RefundReason::Duplicate),
        Some("order-1250"),
        Some(IdempotencyKey::new("facts-key-1").unwrap()),
    );
    // The dry run (`refunds create --dry-run`): what it shows is what the create then sends, and
    // showing it sends nothing.
    let preview = b.client().preview_create(&request);
    assert_eq!(b.request_count().await, 0, "a preview sent a request");
    b.client().create_refund(&request).await.expect("create");
    assert_eq!(b.request_count().await, 1);
    b.check_last_create(&request).await;
    match (preview, b.last_create_body().await) {
        (Ok(preview), Some(sent)) => {
            // Without a key, a create's marker is drawn at random: the preview's is its own.
            let unmarked = |body: &str| {
                let mut out = String::with_capacity(body.len());
                let mut rest = body;
                while let Some(i) = rest.find("rfm_") {
                    out.push_str(&rest[..i]);
                    out.push_str("rfm_*");
                    rest = rest[i + 4..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
                }
                out.push_str(rest);
                out
            };
            let previewed = preview.body.as_deref().map(unmarked);
            assert_eq!(
                previewed,
                Some(unmarked(&sent)),
                "the preview's body is not what was sent"
            );
            assert_eq!(preview.method, "POST");
            let credential = preview.headers.iter().filter(|(_, v)| v == "[redacted]").count();
            assert_eq!(credential, 1, "the key is shown, or not marked: {preview}");
        }
        (Ok(_), None) => {}
        (Err(e), _) => assert_eq!(e.kind(), &ErrorKind::Unsupported, "{e}"),
    }
}

/// The API key appears in no `Debug` output of the client or its builder.
pub async fn secret_absent_from_debug(h: &dyn Harness) {
    let b = start(h, 0).await;
    let key = b.api_key();
    assert!(key.len() >= 8, "harness uses a realistic key");
    let client = b.client();
    let mut outputs = b.debug_strings();
    outputs.push(format!("{client:?}"));
    for text in outputs {
        assert!(!text.contains(&key), "key in debug output: {text}");
    }
}

/// Operations the provider lacks return `Unsupported` without sending anything.
pub async fn unsupported_operations(h: &dyn Harness) {
    let b = start(h, 0).await;
    let client = b.client();
    let caps = client.info().capabilities.clone();
    let id = RefundId::new("re_x").unwrap();
    if !caps.cancel {
        let e = client.cancel_refund(&id).await.expect_err("cancel unsupported");
        assert_eq!(e.kind(), &ErrorKind::Unsupported);
        assert_eq!(e.delivery(), Delivery::NotSent);
    }
    if !caps.retrieve_by_payment {
        let e = client
            .get_refund_by_payment(&b.payment_ref("pay_x"))
            .await
            .expect_err("unsupported");
        assert_eq!(e.kind(), &ErrorKind::Unsupported);
    }
    if !caps.retrieve {
        assert_eq!(
            client.get_refund(&id).await.expect_err("unsupported").kind(),
            &ErrorKind::Unsupported
        );
    }
    if caps.list.is_none() {
        let e = client.list_refunds(&ListRefunds::new()).await.expect_err("unsupported");
        assert_eq!(e.kind(), &ErrorKind::Unsupported);
    }
    // No provider here documents a refund update: refused, unsent, by every one.
    let metadata = std::collections::BTreeMap::from([("order".to_owned(), "42".to_owned())]);
    let e = client
        .update_refund_metadata(&id, &metadata)
        .await
        .expect_err("update unsupported");
    assert_eq!((e.kind(), e.delivery()), (&ErrorKind::Unsupported, Delivery::NotSent));
    assert_eq!(e.provider(), Some(client.info().id));
    // A status filter the provider lacks is applied by the SDK (tests/settle_and_filters.rs), not refused.
    assert_eq!(b.request_count().await, 0, "nothing was sent");
}

/// Bad input is refused before sending, naming the field.
pub async fn bad_input_not_sent(h: &dyn Harness) {
    let b = start(h, 0).await;
    let client = b.client();
    let pay = b.payment_ref("pay_bad_input");
    let cases: Vec<(CreateRefund, &str)> = {
        let mut v = vec![
            (CreateRefund::new(pay.clone()).amount(usd(0)), "amount"),
            (CreateRefund::new(pay.clone()).amount(usd(-5)), "amount"),
            (
                CreateRefund::new(pay.clone()).description("x".repeat(5000)),
                "description",
            ),
            (
                CreateRefund::new(pay.clone()).merchant_reference("a\u{7}b"),
                "merchant_reference",
            ),
        ];
        if b.has_configured_currency() {
            v.push((
                CreateRefund::new(pay.clone()).amount(Money::from_minor(100, Currency::EUR)),
                "amount",
            ));
        }
        if let Some(foreign) = b.foreign_payment_ref("x_1") {
            assert!(!client.info().capabilities.payment_kinds.contains(&foreign.kind()));
            v.push((CreateRefund::new(foreign), "payment"));
        }
        v
    };
    for (request, field) in cases {
        let e = client.create_refund(&request).await.expect_err("refused");
        assert!(matches!(e.kind(), ErrorKind::InvalidRequest { .. }), "{e}");
        assert_eq!(e.field(), Some(field), "{e}");
        assert_eq!(e.delivery(), Delivery::NotSent);
    }
    assert!(RefundId::new("..").is_err());
    let accepted: &[PaymentRefKind] = &client.info().capabilities.payment_kinds;
    assert!(accepted.contains(&b.payment_ref("p").kind()));
    assert_eq!(b.request_count().await, 0, "nothing was sent");
}

/// An id full of path syntax stays one path segment.
pub async fn path_injection_stays_one_segment(h: &dyn Harness) {
    let b = start(h, 0).await;
    let client = b.client();
    if !client.info().capabilities.retrieve {
        crate::skip("path_injection_stays_one_segment", "no retrieve");
        return;
    }
    let id = RefundId::new("../../admin?x=1").unwrap();
    b.arrange(Situation::NotFound {
        id: id.as_str().to_owned(),
    })
    .await;
    let e = client.get_refund(&id).await.expect_err("not found");
    assert!(e.is_not_found(), "the encoded id reached the refund route: {e}");
}
