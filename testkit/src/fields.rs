//! One field rule, shown for every provider: each optional create field is either carried (and its
//! value is on the wire) or refused before sending, naming it, with nothing sent.

use refunds::adapter::{HttpProvider, Idempotency};
use refunds::{CreateRefund, Currency, Delivery, IdempotencyKey, Money, PaymentRef, RefundReason};

use crate::harness::HarnessOptions;
use crate::sandbox_suite::SandboxHarness;
use crate::suite::{ProviderUnderTest, SuiteHarness};

type AddField = fn(CreateRefund) -> CreateRefund;

/// The optional fields, each with a value that can be found in a request body or its headers.
const CASES: [(&str, AddField, &str); 5] = [
    // A reason every provider's vocabulary has (some take only a fixed list).
    ("reason", |r| r.reason(RefundReason::Duplicate), "duplicate"),
    (
        "description",
        |r| r.description("field-table description"),
        "field-table description",
    ),
    (
        "metadata",
        |r| r.metadata("field_table_key", "field-table-value"),
        "field-table-value",
    ),
    (
        "merchant_reference",
        |r| r.merchant_reference("field-table-ref"),
        "field-table-ref",
    ),
    (
        "idempotency_key",
        |r| r.idempotency_key(IdempotencyKey::new("field-table-key-1").expect("key")),
        "field-table-key-1",
    ),
];

/// Every optional create field on the provider `T`: carried and visible in the request the sandbox
/// received, or refused with `InvalidRequest` naming it and zero requests sent.
pub async fn optional_fields_carried_or_refused<T: ProviderUnderTest>() {
    let spec = &T::Provider::SPEC;
    let currency = [Currency::USD, Currency::EUR, Currency::JPY]
        .into_iter()
        .find(|c| T::supports_currency(*c))
        .unwrap_or(Currency::USD);
    let harness = SuiteHarness::<T>::new();
    let run = harness.start(HarnessOptions::new(currency, 0)).await;
    let caps = run.client.info().capabilities.clone();
    let kind = spec.payment_kinds[0];
    let mut table = Vec::new();
    for (i, (field, add, value)) in CASES.into_iter().enumerate() {
        let payment = format!("pay_field_table_{i}");
        run.sandbox
            .ledger()
            .seed_payment(&payment, Money::from_minor(10_000, currency));
        let base = CreateRefund::new(PaymentRef::new(kind, payment).expect("payment"))
            .amount(Money::from_minor(100, currency));
        let request = add(base);
        let carried = match field {
            "reason" => caps.carries.reason,
            "description" => caps.carries.description,
            "metadata" => caps.carries.metadata,
            "merchant_reference" => caps.carries.merchant_reference,
            _ => spec.idempotency != Idempotency::None,
        };
        let before = run.sandbox.request_count();
        let outcome = run.client.create_refund(&request).await;
        if carried {
            outcome.unwrap_or_else(|e| panic!("{}: `{field}` is carried, the create failed: {e}", spec.id));
            let sent = run.sandbox.recent_requests();
            let last = sent.last().expect("a request");
            let on_wire = String::from_utf8_lossy(&last.body).to_ascii_lowercase().contains(value)
                || last
                    .headers
                    .values()
                    .any(|v| v.to_str().is_ok_and(|v| v.contains(value)));
            assert!(
                on_wire,
                "{}: `{field}` is carried but {value:?} is not on the wire",
                spec.id
            );
            table.push(format!("{field}: carried"));
        } else {
            let e = outcome.expect_err("a field the provider cannot carry");
            assert_eq!(e.field(), Some(field), "{}: {e}", spec.id);
            assert_eq!(e.delivery(), Delivery::NotSent, "{}: {e}", spec.id);
            assert_eq!(
                run.sandbox.request_count(),
                before,
                "{}: nothing sent for `{field}`",
                spec.id
            );
            table.push(format!("{field}: refused"));
        }
    }
    println!("{}: {}", spec.id, table.join(", "));
}
