//! The bad-input table: malformed requests that every client must refuse before sending, naming the
//! field. Rows that the type system already refuses (a bad key, id or decimal) are in
//! [`type_rows`]; rows that reach a client are in [`client_rows`], run against a backend whose request
//! count proves nothing was sent.

use crate::harness::{Harness, HarnessOptions};
use refunds::Currency;
use refunds::Money;
use refunds::PagingStyle;
use refunds::{CreateRefund, ListRefunds, PageCursor, RefundReason};
use refunds::{Delivery, Error, ErrorKind};
use refunds::{IdempotencyKey, PaymentRef, RefundId};

/// One row: what was tried, the field the error must name, and the outcome.
#[derive(Debug)]
pub struct Row {
    /// What the row tries.
    pub case: String,
    /// The field the refusal must name.
    pub field: &'static str,
    /// The refusal.
    pub outcome: Result<(), Error>,
}

fn refused(case: impl Into<String>, field: &'static str, outcome: Result<(), Error>) -> Row {
    Row {
        case: case.into(),
        field,
        outcome,
    }
}

/// A row built from what was tried, the field its refusal must name, and the outcome (use it for a
/// provider's own rows, then [`assert_refused`]).
pub fn row(case: impl Into<String>, field: &'static str, outcome: Result<(), Error>) -> Row {
    refused(case, field, outcome)
}

/// Asserts every row was refused before sending: an `InvalidRequest` naming the row's field, with
/// `Delivery::NotSent` and no pending create. Panics naming the first row that was not.
pub fn assert_refused(rows: &[Row]) {
    rows.iter().for_each(check);
}

fn check(row: &Row) {
    let e = row
        .outcome
        .as_ref()
        .err()
        .unwrap_or_else(|| panic!("{}: accepted", row.case));
    assert!(
        matches!(e.kind(), ErrorKind::InvalidRequest { .. }),
        "{}: {e}",
        row.case
    );
    assert_eq!(e.field(), Some(row.field), "{}: {e}", row.case);
    assert_eq!(e.delivery(), Delivery::NotSent, "{}", row.case);
    assert!(e.pending_create().is_none(), "{}", row.case);
}

/// Rows refused when the typed input is built, before any client sees it. Returns them checked.
pub fn type_rows() -> Vec<Row> {
    let usd = Currency::USD;
    let rows = vec![
        refused(
            "amount \"1.2345\" KWD (four decimals)",
            "amount",
            Money::from_major_str("1.2345", Currency::KWD)
                .map(drop)
                .map_err(Error::from),
        ),
        refused(
            "amount \"12.501\" USD",
            "amount",
            Money::from_major_str("12.501", usd).map(drop).map_err(Error::from),
        ),
        refused(
            "amount \"0.5\" JPY (zero-decimal)",
            "amount",
            Money::from_major_str("0.5", Currency::JPY)
                .map(drop)
                .map_err(Error::from),
        ),
        refused(
            "amount \"1e3\" (exponent)",
            "amount",
            Money::from_major_str("1e3", usd).map(drop).map_err(Error::from),
        ),
        refused(
            "amount overflowing i64",
            "amount",
            Money::from_major_str("92233720368547758.08", usd)
                .map(drop)
                .map_err(Error::from),
        ),
        refused(
            "amount \"-\"",
            "amount",
            Money::from_major_str("-", usd).map(drop).map_err(Error::from),
        ),
        refused(
            "amount \" 12\" (space)",
            "amount",
            Money::from_major_str(" 12", usd).map(drop).map_err(Error::from),
        ),
        refused(
            "idempotency key empty",
            "idempotency_key",
            IdempotencyKey::new("").map(drop),
        ),
        refused(
            "idempotency key of 256 chars",
            "idempotency_key",
            IdempotencyKey::new("k".repeat(256)).map(drop),
        ),
        refused(
            "idempotency key with a space",
            "idempotency_key",
            IdempotencyKey::new("a b").map(drop),
        ),
        refused(
            "idempotency key non-ascii",
            "idempotency_key",
            IdempotencyKey::new("clé").map(drop),
        ),
        refused(
            "idempotency key with a newline",
            "idempotency_key",
            IdempotencyKey::new("a\nb").map(drop),
        ),
        refused(
            "refund id \"..\" (path traversal)",
            "refund_id",
            RefundId::new("..").map(drop),
        ),
        refused("refund id empty", "refund_id", RefundId::new("").map(drop)),
        refused(
            "refund id with a control character",
            "refund_id",
            RefundId::new("re_1\r\nX-Injected: 1").map(drop),
        ),
        refused(
            "refund id of 256 chars",
            "refund_id",
            RefundId::new("r".repeat(256)).map(drop),
        ),
        refused("payment id empty", "payment", PaymentRef::payment("").map(drop)),
        refused(
            "payment id with a NUL",
            "payment",
            PaymentRef::charge("ch_\0").map(drop),
        ),
        refused("currency \"US\"", "currency", Currency::from_code("US").map(drop)),
        refused(
            "currency \"XYZ\" (not ISO 4217)",
            "currency",
            Currency::from_code("XYZ").map(drop),
        ),
    ];
    rows.iter().for_each(check);
    rows
}

/// Rows that reach a client, against a fresh backend of `h`; asserts each is refused naming its field
/// and that no request reached the backend. Returns them checked.
pub async fn client_rows(h: &dyn Harness) -> Vec<Row> {
    let backend = h.start(HarnessOptions::new(Currency::USD, 2)).await;
    let client = backend.client();
    let caps = client.info().capabilities.clone();
    let pay = backend.payment_ref("pay_bad");
    let usd = |m| Money::from_minor(m, Currency::USD);
    let create = |r: CreateRefund| {
        let client = client.clone();
        async move { client.create_refund(&r).await.map(drop) }
    };
    let mut metadata_many = CreateRefund::new(pay.clone());
    for i in 0..51 {
        metadata_many = metadata_many.metadata(format!("k{i}"), "v");
    }
    let mut rows = vec![
        refused(
            "amount zero",
            "amount",
            create(CreateRefund::new(pay.clone()).amount(usd(0))).await,
        ),
        refused(
            "amount negative",
            "amount",
            create(CreateRefund::new(pay.clone()).amount(usd(-100))).await,
        ),
        refused(
            "amount i64::MIN",
            "amount",
            create(CreateRefund::new(pay.clone()).amount(usd(i64::MIN))).await,
        ),
        refused(
            "description of 501 chars",
            "description",
            create(CreateRefund::new(pay.clone()).description("d".repeat(501))).await,
        ),
        refused(
            "description with a control character",
            "description",
            create(CreateRefund::new(pay.clone()).description("a\u{1b}[31m")).await,
        ),
        refused(
            "merchant reference empty",
            "merchant_reference",
            create(CreateRefund::new(pay.clone()).merchant_reference("")).await,
        ),
        refused(
            "merchant reference with a newline",
            "merchant_reference",
            create(CreateRefund::new(pay.clone()).merchant_reference("a\nb")).await,
        ),
        refused(
            "merchant reference of 501 chars",
            "merchant_reference",
            create(CreateRefund::new(pay.clone()).merchant_reference("r".repeat(501))).await,
        ),
        refused(
            "reason empty",
            "reason",
            create(CreateRefund::new(pay.clone()).reason(RefundReason::Other(String::new()))).await,
        ),
        refused("51 metadata entries", "metadata", create(metadata_many).await),
        refused(
            "metadata key with a control character",
            "metadata",
            create(CreateRefund::new(pay.clone()).metadata("k\u{7}", "v")).await,
        ),
    ];
    if backend.has_configured_currency() {
        rows.push(refused(
            "amount in another currency than the account's",
            "amount",
            create(CreateRefund::new(pay.clone()).amount(Money::from_minor(100, Currency::EUR))).await,
        ));
    }
    if let Some(foreign) = backend.foreign_payment_ref("x_1") {
        rows.push(refused(
            format!("payment reference of kind {:?}", foreign.kind()),
            "payment",
            create(CreateRefund::new(foreign)).await,
        ));
    }
    if matches!(caps.list, Some(PagingStyle::Offset) | Some(PagingStyle::Cursor)) {
        let list = |r: ListRefunds| {
            let client = client.clone();
            async move { client.list_refunds(&r).await.map(drop) }
        };
        rows.push(refused(
            "list limit 0",
            "limit",
            list(ListRefunds::new().limit(0)).await,
        ));
        rows.push(refused(
            "list limit 1,000,000",
            "limit",
            list(ListRefunds::new().limit(1_000_000)).await,
        ));
        rows.push(refused(
            "a cursor from another provider",
            "cursor",
            list(ListRefunds::new().cursor(PageCursor::from_token("someone-else:o:10"))).await,
        ));
        rows.push(refused(
            "a forged cursor",
            "cursor",
            list(ListRefunds::new().cursor(PageCursor::from_token("zzz"))).await,
        ));
    }
    rows.iter().for_each(check);
    assert_eq!(backend.request_count().await, 0, "no bad request was sent");
    rows
}

/// The client rows as one named test, printing the table, against a [`Harness`] expression.
#[macro_export]
macro_rules! bad_input_tests {
    ($harness:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn bad_input_table_refused_before_sending() {
            let rows = $crate::bad_input::client_rows(&$harness).await;
            for row in &rows {
                println!("refused before sending: {} -> field `{}`", row.case, row.field);
            }
            println!("{} bad-input rows, 0 requests sent", rows.len());
        }
    };
}
