//! The reliability suite's reference run: fault storm, logged keys, hostile bodies.

mod common;

use std::sync::Arc;

use common::reference::Reference;
use common::reference_skin::{KEY, ReferenceSkin};
use refunds::sandbox::{Ledger, Sandbox};
use refunds::{PaymentRef, RefundProvider};
use refunds_testkit::HarnessOptions;
use refunds_testkit::hostile::HostileTarget;
use refunds_testkit::sandbox_suite::{SandboxHarness, SandboxRun};

struct Harness;

const WRONG_KEY: &str = "sk_test_wrong_key_000";

#[refunds::async_trait]
impl SandboxHarness for Harness {
    async fn start(&self, options: HarnessOptions) -> SandboxRun {
        let sandbox = Sandbox::start(ReferenceSkin, Ledger::new("re_"))
            .await
            .expect("bind 127.0.0.1");
        let client = Reference::client(&sandbox.base_url(), KEY, &options).unwrap();
        let wrong = Reference::client(&sandbox.base_url(), WRONG_KEY, &options).unwrap();
        SandboxRun::new(sandbox, Arc::new(client), Arc::new(wrong))
    }
}

struct Target;

impl HostileTarget for Target {
    fn client(&self, base_url: &str) -> Arc<dyn RefundProvider> {
        Arc::new(Reference::client(base_url, KEY, &HarnessOptions::new(refunds::Currency::USD, 0)).unwrap())
    }
    fn sample_bodies(&self) -> Vec<String> {
        vec![
            r#"{"id":"re_1","payment":"pay_1","amount":2500,"currency":"USD","status":"succeeded"}"#.into(),
            r#"{"data":[{"id":"re_1","payment":"pay_1","amount":2500,"currency":"USD","status":"pending"}],"total":1}"#
                .into(),
            r#"{"error":{"code":"amount_too_large","message":"too large","field":"amount"}}"#.into(),
        ]
    }
    fn payment(&self) -> PaymentRef {
        PaymentRef::payment("pay_1").unwrap()
    }
}

refunds_testkit::reliability_tests!(Harness, &[KEY, WRONG_KEY]);
refunds_testkit::hostile_tests!(Target);
