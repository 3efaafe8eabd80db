//! The sandbox suite's reference run: the reference provider's real client against its skin.

mod common;

use std::sync::Arc;

use common::reference::Reference;
use common::reference_skin::{KEY, ReferenceSkin};
use refunds::sandbox::{Ledger, Sandbox};
use refunds_testkit::HarnessOptions;
use refunds_testkit::sandbox_suite::{SandboxHarness, SandboxRun};

struct Harness;

#[refunds::async_trait]
impl SandboxHarness for Harness {
    async fn start(&self, options: HarnessOptions) -> SandboxRun {
        let sandbox = Sandbox::start(ReferenceSkin, Ledger::new("re_"))
            .await
            .expect("bind 127.0.0.1");
        let client = Reference::client(&sandbox.base_url(), KEY, &options).unwrap();
        let wrong = Reference::client(&sandbox.base_url(), "sk_test_wrong_key_000", &options).unwrap();
        SandboxRun::new(sandbox, Arc::new(client), Arc::new(wrong))
    }
}

refunds_testkit::sandbox_tests!(Harness);
