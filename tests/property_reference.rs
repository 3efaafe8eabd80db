//! The recovery property on the reference provider without idempotency (resolved by looking up).
//! The reference provider with idempotency (resolved by re-sending) runs it through
//! `provider_suite!` in `tests/suite_reference.rs`, like every provider. `REFUNDS_PROPERTY_SEQUENCES`
//! scales the run (soak).

mod common;

use common::property::{
    ATTEMPT_TIMEOUT, DEFAULT_SEQUENCES, Mode, Subject, fault_kinds, run, sequence_count, sequence_seed,
};
use common::reference::ReferenceOnce;
use common::reference_skin::{KEY, ReferenceSkin};
use refunds::Currency;
use refunds::adapter::{Client, RetryPolicy};
use refunds::sandbox::{Ledger, Sandbox};

async fn once() -> (Sandbox, Subject) {
    let sandbox = Sandbox::start(ReferenceSkin, Ledger::new("re_")).await.unwrap();
    let client = Client::<ReferenceOnce>::builder()
        .api_key(KEY)
        .base_url(sandbox.base_url())
        .retry(RetryPolicy::new())
        .attempt_timeout(ATTEMPT_TIMEOUT)
        .build()
        .unwrap();
    (sandbox, Subject::of(client, None))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_never_guesses_without_idempotency() {
    let count = sequence_count(DEFAULT_SEQUENCES);
    let report = run(
        once,
        Currency::USD,
        fault_kinds(false),
        count,
        sequence_seed(0x5eed_0002),
        Mode::Busy,
    )
    .await;
    println!("{report}");
    report.assert_held();
}
