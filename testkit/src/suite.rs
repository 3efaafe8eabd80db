//! One trait and one macro: a provider describes itself once ([`ProviderUnderTest`]) and
//! [`provider_suite!`](crate::provider_suite) runs every shared scenario on its own sandbox.
//!
//! The conformance [`Situation`]s become ledger seeds, the sandbox's fault plan, and a thin recording
//! layer around the provider's skin ([`SuiteHarness`]): the skin answers in the provider's own shape,
//! and the wire facts of a create are checked from the recorded requests against the provider's
//! [`ProviderSpec`](refunds::adapter::ProviderSpec) and the ledger, not against hand-written stubs.

use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use http::Method;
use refunds::adapter::{AuthStyle, ClientBuilder, HttpProvider, Idempotency};
use refunds::sandbox::{Ledger, RefundRecord, Sandbox, SandboxRequest, SandboxResponse, Skin};
use refunds::{CreateRefund, Currency, Delivery, ErrorKind, PaymentRef, PaymentRefKind, RefundProvider, RefundStatus};
use serde_json::Value;

use crate::harness::{Backend, Harness, HarnessOptions, Situation};
use crate::hostile::HostileTarget;
use crate::sandbox_suite::{SandboxHarness, SandboxRun};
use crate::wire::fast_retry;

/// A key no sandbox accepts (the 401 scenarios; checked never to be logged).
pub const WRONG_KEY: &str = "sk_test_wrong_key_0000000000";

/// A provider, as the shared suite needs it: its engine type (so the suite reads `SPEC`), its
/// sandbox skin, the key the sandbox accepts, and documented bodies for the hostile-body run.
pub trait ProviderUnderTest: Send + Sync + 'static {
    /// The provider's engine type (`impl HttpProvider`).
    type Provider: HttpProvider;

    /// The key the provider's sandbox accepts (`sandbox::API_KEY`).
    const API_KEY: &'static str;

    /// The sandbox skin of an account in `currency` (the provider's `sandbox` module).
    fn skin(currency: Currency) -> impl Skin;

    /// The ledger the sandbox starts with (the provider's refund id prefix).
    fn ledger() -> Ledger {
        Ledger::new("re_")
    }

    /// A builder pointed at `base_url` with [`ProviderUnderTest::API_KEY`] (the provider's
    /// `sandbox::builder_for`, without a sandbox). The suite sets currency, retries and timeout.
    fn builder(base_url: &str) -> ClientBuilder<Self::Provider> {
        ClientBuilder::new().api_key(Self::API_KEY).base_url(base_url)
    }

    /// Documented bodies (a refund, a list page, error bodies) the hostile run mutates; usually
    /// `include_str!` of the provider's `tests/fixtures/*.json`.
    fn sample_bodies() -> Vec<String>;

    /// The currencies the provider takes (the zero- and three-decimal scenarios skip the others).
    fn supports_currency(currency: Currency) -> bool {
        let _ = currency;
        true
    }

    /// The provider's own create options the recovery property sends with some creates (SyncgramPay's
    /// fee bearer and refund address), so that a re-send is seen to carry them; `None` where the
    /// provider has none.
    fn sample_options() -> Option<<Self::Provider as HttpProvider>::Options> {
        None
    }
}

/// The sandbox kit of `P`'s descriptor; a provider without one cannot run the shared suite.
pub const fn sandbox_kit<P: refunds::adapter::Described>() -> refunds::sandbox::SandboxKit {
    match P::DESCRIPTOR.sandbox {
        Some(kit) => kit,
        None => panic!("the provider's descriptor has no sandbox kit: add one (`Descriptor::sandbox`)"),
    }
}

/// Prints that a scenario is skipped for this provider, and why.
pub fn skip(scenario: &str, why: &str) {
    println!("skipped: {scenario}: {why}");
}

/// What the recording layer does to the next requests, and what it saw.
#[derive(Default)]
struct Script {
    requests: Vec<SandboxRequest>,
    server_errors: usize,
    malformed: HashSet<String>,
    malformed_creates: bool,
    invalid_amount: usize,
}

fn lock(script: &Mutex<Script>) -> MutexGuard<'_, Script> {
    script.lock().unwrap_or_else(|p| p.into_inner())
}

/// The provider's skin with a recorder in front: every request is kept, and a scenario can script a
/// 500 in the provider's error shape, a non-JSON 200, or a create whose amount reaches the skin as
/// zero (so that the skin answers its own validation error).
struct Recorder<S: Skin> {
    inner: S,
    script: Arc<Mutex<Script>>,
}

const HTML: &str = "<html><body>502 Bad Gateway</body></html>";

/// Every numeric or text field named like `amount`, set to zero (recursively).
fn zero_amounts(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key.contains("amount") && (v.is_number() || v.is_string()) {
                    *v = if v.is_number() {
                        Value::from(0)
                    } else {
                        Value::from("0")
                    };
                } else {
                    zero_amounts(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(zero_amounts),
        _ => {}
    }
}

impl<S: Skin> Skin for Recorder<S> {
    fn provider(&self) -> &'static str {
        self.inner.provider()
    }

    fn handle(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        if self.inner.bookkeeping_read(request) {
            return self.inner.handle(request, ledger);
        }
        let mut script = lock(&self.script);
        script.requests.push(request.clone());
        if script.server_errors > 0 {
            script.server_errors -= 1;
            return self.inner.error_response(500, "internal server error (suite)");
        }
        let is_create = request.method == Method::POST;
        let last = request.segments.last().map(String::as_str).unwrap_or("");
        if (request.method == Method::GET && script.malformed.contains(last)) || (is_create && script.malformed_creates)
        {
            return SandboxResponse::raw(200, "text/html", HTML);
        }
        if is_create && script.invalid_amount > 0 {
            script.invalid_amount -= 1;
            drop(script);
            let mut rewritten = request.clone();
            if let Ok(mut body) = serde_json::from_slice::<Value>(&request.body) {
                zero_amounts(&mut body);
                rewritten.body = serde_json::to_vec(&body).unwrap_or_default();
            }
            return self.inner.handle(&rewritten, ledger);
        }
        drop(script);
        self.inner.handle(request, ledger)
    }

    fn error_response(&self, status: u16, message: &str) -> SandboxResponse {
        self.inner.error_response(status, message)
    }

    fn idempotency_key(&self, request: &SandboxRequest) -> Option<String> {
        self.inner.idempotency_key(request)
    }

    fn bookkeeping_read(&self, request: &SandboxRequest) -> bool {
        self.inner.bookkeeping_read(request)
    }

    fn in_progress_response(&self) -> SandboxResponse {
        self.inner.in_progress_response()
    }
}

/// The suite's harness for a [`ProviderUnderTest`]: a [`Harness`] (conformance, bad input), a
/// [`SandboxHarness`] (sandbox and reliability suites) and a [`HostileTarget`].
pub struct SuiteHarness<T: ProviderUnderTest>(PhantomData<fn() -> T>);

impl<T: ProviderUnderTest> SuiteHarness<T> {
    /// The harness.
    pub fn new() -> Self {
        SuiteHarness(PhantomData)
    }
}

impl<T: ProviderUnderTest> Default for SuiteHarness<T> {
    fn default() -> Self {
        SuiteHarness::new()
    }
}

impl<T: ProviderUnderTest> fmt::Debug for SuiteHarness<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SuiteHarness({})", T::Provider::SPEC.id)
    }
}

fn configured<T: ProviderUnderTest>(base_url: &str, key: &str, options: &HarnessOptions) -> ClientBuilder<T::Provider> {
    T::builder(base_url)
        .api_key(key)
        .currency(options.currency)
        .retry(fast_retry(options.max_retries))
        .timeout(options.timeout)
}

struct Started<T: ProviderUnderTest> {
    sandbox: Sandbox,
    script: Arc<Mutex<Script>>,
    client: Arc<dyn RefundProvider>,
    wrong: Arc<dyn RefundProvider>,
    debug: Vec<String>,
    _provider: PhantomData<fn() -> T>,
}

async fn start<T: ProviderUnderTest>(options: &HarnessOptions) -> Started<T> {
    let script = Arc::new(Mutex::new(Script::default()));
    let skin = Recorder {
        inner: T::skin(options.currency),
        script: script.clone(),
    };
    let sandbox = Sandbox::start(skin, T::ledger()).await.expect("bind 127.0.0.1");
    let builder = configured::<T>(&sandbox.base_url(), T::API_KEY, options);
    let builder_debug = format!("{builder:?}");
    let client = builder.build().expect("client");
    let wrong = configured::<T>(&sandbox.base_url(), WRONG_KEY, options)
        .build()
        .expect("client");
    Started {
        debug: vec![builder_debug, format!("{client:?}")],
        sandbox,
        script,
        client: Arc::new(client),
        wrong: Arc::new(wrong),
        _provider: PhantomData,
    }
}

/// One sandbox arranged into situations, with clients pointed at it.
struct SuiteBackend<T: ProviderUnderTest> {
    started: Started<T>,
    unauthorized: std::sync::atomic::AtomicBool,
}

fn payment_kind<T: ProviderUnderTest>() -> PaymentRefKind {
    T::Provider::SPEC
        .payment_kinds
        .first()
        .copied()
        .unwrap_or(PaymentRefKind::Payment)
}

#[async_trait]
impl<T: ProviderUnderTest> Harness for SuiteHarness<T> {
    async fn start(&self, options: HarnessOptions) -> Box<dyn Backend> {
        Box::new(SuiteBackend {
            started: start::<T>(&options).await,
            unauthorized: false.into(),
        })
    }

    fn supports_currency(&self, currency: Currency) -> bool {
        T::supports_currency(currency)
    }
}

#[async_trait]
impl<T: ProviderUnderTest> SandboxHarness for SuiteHarness<T> {
    async fn start(&self, options: HarnessOptions) -> SandboxRun {
        let started = start::<T>(&options).await;
        SandboxRun::new(started.sandbox, started.client, started.wrong)
    }
}

impl<T: ProviderUnderTest> HostileTarget for SuiteHarness<T> {
    fn client(&self, base_url: &str) -> Arc<dyn RefundProvider> {
        let options = HarnessOptions::new(Currency::USD, 0);
        Arc::new(configured::<T>(base_url, T::API_KEY, &options).build().expect("client"))
    }

    fn sample_bodies(&self) -> Vec<String> {
        T::sample_bodies()
    }

    fn payment(&self) -> PaymentRef {
        PaymentRef::new(payment_kind::<T>(), "pay_hostile_1").expect("payment id")
    }
}

impl<T: ProviderUnderTest> SuiteBackend<T> {
    fn script(&self) -> MutexGuard<'_, Script> {
        lock(&self.started.script)
    }

    fn ledger(&self) -> &Ledger {
        self.started.sandbox.ledger()
    }
}

#[async_trait]
impl<T: ProviderUnderTest> Backend for SuiteBackend<T> {
    fn client(&self) -> Arc<dyn RefundProvider> {
        if self.unauthorized.load(std::sync::atomic::Ordering::SeqCst) {
            self.started.wrong.clone()
        } else {
            self.started.client.clone()
        }
    }

    fn api_key(&self) -> String {
        T::API_KEY.to_owned()
    }

    fn debug_strings(&self) -> Vec<String> {
        self.started.debug.clone()
    }

    fn payment_ref(&self, id: &str) -> PaymentRef {
        PaymentRef::new(payment_kind::<T>(), id).expect("payment id")
    }

    fn foreign_payment_ref(&self, id: &str) -> Option<PaymentRef> {
        [
            PaymentRefKind::Payment,
            PaymentRefKind::Charge,
            PaymentRefKind::PaymentIntent,
        ]
        .into_iter()
        .find(|k| !T::Provider::SPEC.payment_kinds.contains(k))
        .map(|k| PaymentRef::new(k, id).expect("payment id"))
    }

    fn has_configured_currency(&self) -> bool {
        true
    }

    async fn arrange(&self, situation: Situation) {
        let faults = self.started.sandbox.faults();
        match situation {
            Situation::Refundable {
                payment_id, captured, ..
            } => self.ledger().seed_payment(&payment_id, captured),
            Situation::Existing { refunds } => {
                for r in refunds {
                    self.ledger().seed_payment(&r.payment_id, r.amount);
                    self.ledger()
                        .insert_refund(RefundRecord::new(r.id, r.payment_id, r.amount, r.status));
                }
            }
            Situation::OverRefund { payment_id, refundable } => self.ledger().seed_payment(&payment_id, refundable),
            // Nothing seeded: the ledger knows no such payment or refund.
            Situation::UnknownPayment { .. } | Situation::NotFound { .. } => {}
            Situation::Unauthorized => self.unauthorized.store(true, std::sync::atomic::Ordering::SeqCst),
            Situation::ValidationError => {
                self.ledger()
                    .seed_payment("pay_val", refunds::Money::from_minor(100_000, Currency::USD));
                self.script().invalid_amount += 1;
            }
            Situation::RateLimited {
                times,
                retry_after_secs,
            } => faults.push(
                refunds::sandbox::Fault::RateLimited {
                    retry_after: std::time::Duration::from_secs(retry_after_secs),
                },
                times,
            ),
            Situation::ServerError { times } => self.script().server_errors += times,
            Situation::MalformedBody { id } => {
                let mut script = self.script();
                script.malformed.insert(id);
                script.malformed_creates = !T::Provider::SPEC.retrieve;
            }
        }
    }

    async fn request_count(&self) -> usize {
        self.started.sandbox.request_count()
    }

    async fn check_last_create(&self, request: &CreateRefund) {
        check_create::<T>(&self.script().requests, self.ledger(), request);
    }

    async fn last_create_body(&self) -> Option<String> {
        let spec = &T::Provider::SPEC;
        let script = self.script();
        let last = script.requests.iter().rev().find(|r| {
            r.method == Method::POST
                && r.segments
                    .iter()
                    .map(String::as_str)
                    .eq(spec.refunds_path.iter().copied())
        })?;
        Some(String::from_utf8_lossy(&last.body).into_owned())
    }
}

/// The wire facts of the last create the sandbox received, against the spec and the ledger: route,
/// content type, auth, idempotency key placement, and that the skin read amount, payment, reason,
/// reference and key as the request gave them.
fn check_create<T: ProviderUnderTest>(requests: &[SandboxRequest], ledger: &Ledger, request: &CreateRefund) {
    let spec = &T::Provider::SPEC;
    let received = requests
        .iter()
        .rev()
        .find(|r| {
            r.method == Method::POST
                && r.segments
                    .iter()
                    .map(String::as_str)
                    .eq(spec.refunds_path.iter().copied())
        })
        .expect("a create reached the refunds path of the spec");
    let content_type = received.header("content-type").unwrap_or("");
    assert!(
        content_type.starts_with("application/json"),
        "content type {content_type:?}"
    );
    let auth = match spec.auth {
        AuthStyle::Header(name) => received.header(name),
        _ => received.header("authorization"),
    };
    let auth = auth.expect("the auth header the spec names");
    match spec.auth {
        AuthStyle::Header(_) => assert_eq!(auth, T::API_KEY),
        AuthStyle::Bearer => assert_eq!(auth, format!("Bearer {}", T::API_KEY)),
        _ => assert!(auth.starts_with("Basic "), "{auth}"),
    }
    let body: Value = serde_json::from_slice(&received.body).expect("a JSON body");
    let given = request.idempotency_key_given().map(|k| k.as_str().to_owned());
    let sent_key = match spec.idempotency {
        Idempotency::None => {
            assert!(
                received.header("idempotency-key").is_none(),
                "no key without idempotency"
            );
            None
        }
        Idempotency::Header(name) => Some(received.header(name).expect("the key header").to_owned()),
        Idempotency::BodyField(field) => Some(body[field].as_str().expect("the key field").to_owned()),
        _ => None,
    };
    if given.is_some() {
        assert_eq!(sent_key, given, "the caller's key is sent where the spec says");
    }
    let record = ledger.refunds().pop().expect("the create reached the ledger");
    assert_eq!(record.payment_id, request.payment().id());
    if let Some(amount) = request.amount_requested() {
        assert_eq!(record.amount, *amount, "the skin read the amount exactly");
    }
    if let Some(reason) = request.reason_given() {
        assert!(record.reason.is_some(), "the reason {reason:?} reached the ledger");
    }
    if let Some(key) = sent_key {
        assert_eq!(
            record.idempotency_key.as_deref(),
            Some(key.as_str()),
            "the skin read the key"
        );
    }
}

/// The status table of the spec: every documented string maps to its status, every status with a
/// string maps back to a string of that status, and an undocumented string is kept as `Unknown`.
pub fn status_table<P: HttpProvider>() {
    let statuses = &P::SPEC.statuses;
    assert!(!statuses.entries().is_empty(), "a status table");
    for (wire, status) in statuses.entries() {
        assert_eq!(&statuses.to_status(wire), status, "{wire}");
        let back = statuses
            .to_wire(status)
            .expect("every status with a string has one back");
        assert_eq!(&statuses.to_status(back), status, "{back}");
        println!("{wire:>24} -> {status:?}");
    }
    assert!(
        statuses.entries().iter().any(|(_, s)| *s == RefundStatus::Succeeded),
        "some string means succeeded"
    );
    let odd = "status_nobody_documented";
    assert_eq!(statuses.to_status(odd), RefundStatus::Unknown(odd.into()));
}

/// `from_env` and `build`: the key variable is required and named, a malformed currency variable is
/// named, the base URL variable is used, and the key appears in no `Debug` output.
pub fn env_and_redaction<P: HttpProvider>() {
    let spec = &P::SPEC;
    let key = "sk_test_redact_me_0123456789";
    let missing = ClientBuilder::<P>::from_lookup(|_| None).build().expect_err("no key");
    assert_eq!(missing.kind(), &ErrorKind::Configuration, "{missing}");
    assert!(missing.to_string().contains(&spec.env_var("API_KEY")), "{missing}");
    assert_eq!(missing.provider(), Some(spec.id));
    assert_eq!(missing.delivery(), Delivery::NotSent);

    let env = |bad_currency: bool| {
        let base = spec.env_var("BASE_URL");
        let api_key = spec.env_var("API_KEY");
        let currency = spec.env_var("CURRENCY");
        ClientBuilder::<P>::from_lookup(move |name| match name {
            n if n == api_key => Some(key.to_owned()),
            n if n == base => Some("http://127.0.0.1:9/".to_owned()),
            n if n == currency => Some(if bad_currency { "XYZ" } else { "USD" }.to_owned()),
            _ => None,
        })
    };
    let bad = env(true).build().expect_err("malformed currency");
    assert_eq!(bad.kind(), &ErrorKind::Configuration, "{bad}");
    assert!(bad.to_string().contains(&spec.env_var("CURRENCY")), "{bad}");

    let builder = env(false);
    let client = builder.clone().build().expect("client from the environment");
    assert!(
        client.base_url().starts_with("http://127.0.0.1:9"),
        "{}",
        client.base_url()
    );
    assert_eq!(client.info().id, spec.id);
    for text in [
        format!("{builder:?}"),
        format!("{client:?}"),
        format!("{:?}", client.info()),
    ] {
        assert!(!text.contains(key), "key in debug output: {text}");
    }
}

/// Every shared scenario for one provider, from its descriptor and its documented fixtures.
///
/// `provider_suite!(acme_refunds::Acme, include_str!("fixtures/documented.json"))`: the
/// provider's engine type (whose [`Described::DESCRIPTOR`](refunds::adapter::Described::DESCRIPTOR) carries a sandbox kit) and its
/// documented-fixtures file. Add `, options = EXPR` for the provider's own create options the
/// recovery property sends with some creates. The fixture file's answers and error bodies are the
/// bodies the hostile run mutates, and its requests, answers and errors run as
/// [`fixture_tests!`](crate::fixture_tests) against the client over wiremock.
///
/// Expands to the conformance scenarios on the provider's sandbox, the bad-input table, the sandbox
/// suite, the fault storm and the key-never-logged check, the hostile bodies, the status table, and
/// the `from_env`/`build`/`Debug` checks, the safety review's recovery and stream scenarios
/// ([`recovery_suite`](crate::recovery_suite)), the recovery property ([`property`](crate::property))
/// and the optional-field table ([`fields`](crate::fields)). Scenarios a provider's capabilities rule
/// out print `skipped: <scenario>: <why>`. `provider_suite!(Under)` runs the same on a type that
/// implements [`ProviderUnderTest`] by hand.
#[macro_export]
macro_rules! provider_suite {
    ($under:ty) => {
        $crate::conformance_tests!($crate::SuiteHarness::<$under>::new());
        $crate::bad_input_tests!($crate::SuiteHarness::<$under>::new());
        $crate::sandbox_tests!($crate::SuiteHarness::<$under>::new());
        $crate::reliability_tests!(
            $crate::SuiteHarness::<$under>::new(),
            &[<$under as $crate::ProviderUnderTest>::API_KEY, $crate::WRONG_KEY]
        );
        $crate::hostile_tests!($crate::SuiteHarness::<$under>::new());
        $crate::recovery_tests!($under);
        $crate::property_tests!($under);

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn optional_fields_carried_or_refused() {
            $crate::fields::optional_fields_carried_or_refused::<$under>().await;
        }

        #[test]
        fn status_table_from_spec() {
            $crate::status_table::<<$under as $crate::ProviderUnderTest>::Provider>();
        }

        #[test]
        fn from_env_build_and_debug_redaction() {
            $crate::env_and_redaction::<<$under as $crate::ProviderUnderTest>::Provider>();
        }
    };
    ($provider:ty, $fixtures:expr $(, options = $options:expr)? $(,)?) => {
        /// The provider under test, as its descriptor describes it.
        struct Described;

        impl $crate::ProviderUnderTest for Described {
            type Provider = $provider;
            const API_KEY: &'static str = $crate::sandbox_kit::<$provider>().api_key;

            fn skin(currency: $crate::refunds::Currency) -> impl $crate::refunds::sandbox::Skin {
                $crate::sandbox_kit::<$provider>().skin(currency)
            }

            fn ledger() -> $crate::refunds::sandbox::Ledger {
                $crate::sandbox_kit::<$provider>().ledger()
            }

            fn sample_bodies() -> Vec<String> {
                $crate::fixtures::bodies($fixtures)
            }

            $(
                fn sample_options() -> Option<<$provider as $crate::refunds::adapter::HttpProvider>::Options> {
                    Some($options)
                }
            )?
        }

        $crate::fixture_tests!($fixtures, $crate::fixtures::builder::<$provider>);
        $crate::provider_suite!(Described);
    };
}
