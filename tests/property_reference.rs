//! The recovery property on the reference provider, with idempotency (resolved by re-sending) and
//! without (resolved by looking up). `REFUNDS_PROPERTY_SEQUENCES` scales the run (soak).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::property::{fault_kinds, run, sequence_count};
use common::reference::{Reference, ReferenceOnce};
use common::reference_skin::{KEY, ReferenceSkin};
use refunds::RefundProvider;
use refunds::adapter::{Client, RetryPolicy};
use refunds::sandbox::{Ledger, Sandbox};

async fn keyed() -> (Sandbox, Arc<dyn RefundProvider>) {
    let sandbox = Sandbox::start(ReferenceSkin, Ledger::new("re_")).await.unwrap();
    let client = Client::<Reference>::builder()
        .api_key(KEY)
        .base_url(sandbox.base_url())
        .retry(RetryPolicy::new())
        .attempt_timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    (sandbox, Arc::new(client))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_never_guesses_with_idempotency() {
    let report = run(keyed, fault_kinds(true), sequence_count(300), 0x5eed, 32).await;
    eprintln!("reference (keyed): {report}");
    assert_eq!(report.duplicates, 0, "{report}");
    assert_eq!(report.silent_losses, 0, "{report}");
    assert_eq!(report.wrong_verdicts, 0, "{report}");
    assert!(report.faults.total() > 0, "faults were injected: {report}");
    assert!(
        report.recovered_applied > 0,
        "ambiguous creates were resolved: {report}"
    );
}

async fn once() -> (Sandbox, Arc<dyn RefundProvider>) {
    let sandbox = Sandbox::start(ReferenceSkin, Ledger::new("re_")).await.unwrap();
    let client = Client::<ReferenceOnce>::builder()
        .api_key(KEY)
        .base_url(sandbox.base_url())
        .retry(RetryPolicy::new())
        .attempt_timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    (sandbox, Arc::new(client))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_never_guesses_without_idempotency() {
    let report = run(once, fault_kinds(false), sequence_count(300), 0x5eed_0002, 32).await;
    eprintln!("reference (look-up): {report}");
    assert_eq!(report.duplicates, 0, "{report}");
    assert_eq!(report.silent_losses, 0, "{report}");
    assert_eq!(report.wrong_verdicts, 0, "{report}");
    assert!(report.faults.total() > 0, "faults were injected: {report}");
}
