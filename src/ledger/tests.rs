use super::*;
use crate::currency::Currency;

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

fn draft(payment: &str, amount: Option<i64>) -> RefundDraft {
    let mut d = RefundDraft::new(payment);
    d.amount_minor = amount;
    d
}

#[test]
fn partials_until_nothing_is_left() {
    let l = Ledger::new("re_");
    l.seed_payment("pay_1", usd(1000));
    assert!(l.create_refund(draft("pay_1", Some(400))).is_ok());
    assert!(matches!(
        l.create_refund(draft("pay_1", Some(700))),
        Err(LedgerError::AmountExceedsRefundable { available }) if available == usd(600)
    ));
    let full = l.create_refund(draft("pay_1", None)).unwrap();
    assert_eq!(full.record().amount, usd(600));
    assert_eq!(
        l.create_refund(draft("pay_1", Some(1))),
        Err(LedgerError::AlreadyRefunded("pay_1".into()))
    );
    assert!(matches!(
        l.create_refund(draft("pay_2", None)),
        Err(LedgerError::PaymentNotFound(_))
    ));
}

#[test]
fn idempotency_replays_or_conflicts() {
    let l = Ledger::new("re_");
    l.seed_payment("pay_1", usd(1000));
    let mut d = draft("pay_1", Some(100));
    d.idempotency_key = Some("k1".into());
    d.fingerprint = "body-a".into();
    let first = l.create_refund(d.clone()).unwrap();
    let again = l.create_refund(d.clone()).unwrap();
    assert!(matches!(again, CreateOutcome::Replayed(_)));
    assert_eq!(first.record(), again.record());
    assert_eq!(l.refund_count(), 1);
    d.fingerprint = "body-b".into();
    assert_eq!(l.create_refund(d), Err(LedgerError::IdempotencyConflict));
}

#[test]
fn lifecycle_by_settle_and_by_clock() {
    let l = Ledger::new("re_");
    l.seed_payment("pay_1", usd(1000));
    let mut failing = draft("pay_1", Some(1000));
    failing.outcome = SimulatedOutcome::Fail;
    let r = l.create_refund(failing).unwrap().record().clone();
    assert_eq!(r.status, RefundStatus::Pending);
    assert_eq!(l.settle_all(), 1);
    assert_eq!(l.refund(&r.id).unwrap().status, RefundStatus::Failed);
    assert_eq!(
        l.payment("pay_1").unwrap().refundable(),
        usd(1000),
        "a failed refund gives the balance back"
    );
    l.settle_after(Some(Duration::from_secs(60)));
    let r2 = l.create_refund(draft("pay_1", Some(10))).unwrap().record().clone();
    l.advance(Duration::from_secs(30));
    assert_eq!(l.refund(&r2.id).unwrap().status, RefundStatus::Pending);
    l.advance(Duration::from_secs(30));
    let settled = l.refund(&r2.id).unwrap();
    assert_eq!(settled.status, RefundStatus::Succeeded);
    assert!(settled.completed_at.is_some());
}

#[test]
fn clock_skew_shifts_reported_times_only() {
    let l = Ledger::new("re_");
    l.seed_payment("pay_1", usd(1000));
    l.settle_after(Some(Duration::from_secs(60)));
    let before = l.create_refund(draft("pay_1", Some(10))).unwrap().record().clone();
    let start = l.now();
    assert_eq!(before.created_at, start);
    l.set_clock_skew_secs(-3_600);
    assert_eq!(l.clock_skew_secs(), -3_600);
    let after = l.create_refund(draft("pay_1", Some(20))).unwrap().record().clone();
    let hour = time::Duration::hours(1);
    assert_eq!(after.created_at, start - hour);
    assert_eq!(l.refund(&before.id).unwrap().created_at, start - hour);
    assert_eq!(l.refunds_page(0, 10, |_| true).0[1].created_at, start - hour);
    assert_eq!(l.refunds_for_payment("pay_1")[0].created_at, start - hour);
    assert_eq!(l.now(), start, "the ledger's own clock is not skewed");
    let ids: Vec<_> = l.refunds().into_iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![before.id.clone(), after.id.clone()], "order unchanged");
    l.advance(Duration::from_secs(60));
    let settled = l.refund(&before.id).unwrap();
    assert_eq!(settled.status, RefundStatus::Succeeded, "settles by the true clock");
    assert_eq!(settled.completed_at, Some(start + time::Duration::minutes(1) - hour));
    l.set_clock_skew_secs(0);
    assert_eq!(l.refund(&after.id).unwrap().created_at, start);
}

#[test]
fn observers_see_creates_and_status_changes_outside_the_lock() {
    let l = Ledger::new("re_");
    l.seed_payment("pay_1", usd(1000));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (log, reader) = (seen.clone(), l.clone());
    l.on_change(Arc::new(move |r: &RefundRecord, kind| {
        // Reading the ledger from an observer does not deadlock.
        assert!(reader.refund(&r.id).is_some());
        log.lock().unwrap().push((r.id.clone(), r.status.clone(), kind));
    }));
    let mut d = draft("pay_1", Some(100));
    d.idempotency_key = Some("k".into());
    let id = l.create_refund(d.clone()).unwrap().record().id.clone();
    l.create_refund(d).unwrap();
    l.settle_all();
    assert!(!l.settle(&id));
    l.set_status(&id, RefundStatus::Succeeded);
    l.set_status(&id, RefundStatus::Canceled);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            (id.clone(), RefundStatus::Pending, ChangeKind::Created),
            (id.clone(), RefundStatus::Succeeded, ChangeKind::StatusChanged),
            (id, RefundStatus::Canceled, ChangeKind::StatusChanged),
        ],
        "no event for a replay, a no-op settle or an unchanged status"
    );
    assert!(format!("{l:?}").contains("Observers(1)"));
}

#[test]
fn currency_must_match_the_payment() {
    let l = Ledger::new("re_");
    l.seed_payment("pay_1", usd(1000));
    let mut d = draft("pay_1", Some(1));
    d.currency = Some(Currency::EUR);
    assert!(matches!(l.create_refund(d), Err(LedgerError::CurrencyMismatch { .. })));
}
