//! A wiremock-backed [`Harness`] for HTTP providers: the provider describes its wire dialect
//! ([`WireDialect`]), and this module turns every [`Situation`] into stubs.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::harness::{Backend, Harness, HarnessOptions, RefundFixture, Situation};
use refunds::CreateRefund;
use refunds::Currency;
use refunds::PaymentRef;
use refunds::RefundProvider;
use refunds::adapter::RetryPolicy;

/// The provider answers the wire harness asks a dialect to write.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// HTTP 401 with the provider's body.
    Unauthorized,
    /// HTTP 404 for a refund id.
    NotFound,
    /// The provider's validation error naming its amount field.
    Validation,
    /// The provider's answer to a refund larger than what is left.
    OverRefund,
    /// The provider's answer to a refund of a payment that does not exist.
    UnknownPayment,
    /// HTTP 429 (the harness adds `Retry-After`).
    RateLimited,
    /// HTTP 500 with the provider's body.
    ServerError,
}

/// A client built for a wire harness run.
pub struct WireClient {
    /// The client.
    pub client: Arc<dyn RefundProvider>,
    /// `Debug` output of the concrete client and of its builder (searched for the key).
    pub debug_strings: Vec<String>,
}

/// A provider's wire format, as much as the conformance suite needs.
pub trait WireDialect: Send + Sync + 'static {
    /// The API key the test client uses (at least 8 characters).
    fn api_key(&self) -> String;

    /// Builds the client against `base_url` with `options` (use [`fast_retry`] for the policy).
    fn client(&self, base_url: &str, options: &HarnessOptions) -> WireClient;

    /// A reference to `id` of the kind the provider refunds.
    fn payment_ref(&self, id: &str) -> PaymentRef;

    /// A reference of a kind it cannot refund, when there is one.
    fn foreign_payment_ref(&self, id: &str) -> Option<PaymentRef>;

    /// True when the client carries the account currency.
    fn has_configured_currency(&self) -> bool;

    /// The currencies the provider takes.
    fn supports_currency(&self, currency: Currency) -> bool {
        let _ = currency;
        true
    }

    /// Method and path of the create endpoint (`("POST", "/v1/refunds")`).
    fn create_route(&self) -> (&'static str, String);

    /// The status a successful create answers with (200 unless the provider says 201).
    fn create_status(&self) -> u16 {
        200
    }

    /// The path of retrieving `encoded_id` (already one encoded segment), when retrieve exists.
    fn get_path(&self, encoded_id: &str) -> Option<String>;

    /// The list path, when list exists.
    fn list_path(&self) -> Option<String>;

    /// The provider's JSON for a refund.
    fn refund_body(&self, fixture: &RefundFixture) -> Value;

    /// The provider's list page of `all` for the list `request` (read its paging parameters).
    fn list_body(&self, all: &[RefundFixture], request: &Request) -> Value;

    /// The provider's error answer (status and body).
    fn error_response(&self, error: WireError) -> ResponseTemplate;

    /// Asserts the wire facts of a received create against the request it was built from.
    fn check_create(&self, received: &Request, request: &CreateRefund);
}

/// A retry policy for tests: `max_retries` with millisecond backoff.
pub fn fast_retry(max_retries: u32) -> RetryPolicy {
    RetryPolicy::new()
        .max_retries(max_retries)
        .base_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(5))
}

/// A [`Harness`] over wiremock for any [`WireDialect`].
pub struct WireHarness<D: WireDialect> {
    dialect: Arc<D>,
}

impl<D: WireDialect> WireHarness<D> {
    /// The harness for `dialect`.
    pub fn new(dialect: D) -> WireHarness<D> {
        WireHarness {
            dialect: Arc::new(dialect),
        }
    }
}

impl<D: WireDialect> fmt::Debug for WireHarness<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WireHarness")
    }
}

/// One wiremock server and a client pointed at it.
pub struct WireBackend<D: WireDialect> {
    dialect: Arc<D>,
    server: MockServer,
    client: WireClient,
}

impl<D: WireDialect> WireBackend<D> {
    /// The mock server (for extra stubs and request inspection).
    pub fn server(&self) -> &MockServer {
        &self.server
    }
}

#[async_trait]
impl<D: WireDialect> Harness for WireHarness<D> {
    async fn start(&self, options: HarnessOptions) -> Box<dyn Backend> {
        let server = MockServer::start().await;
        let client = self.dialect.client(&server.uri(), &options);
        Box::new(WireBackend {
            dialect: self.dialect.clone(),
            server,
            client,
        })
    }

    fn supports_currency(&self, currency: Currency) -> bool {
        self.dialect.supports_currency(currency)
    }
}

struct ListResponder<D: WireDialect> {
    dialect: Arc<D>,
    all: Vec<RefundFixture>,
}

impl<D: WireDialect> Respond for ListResponder<D> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(self.dialect.list_body(&self.all, request))
    }
}

// Stub priorities: faults answer first, then refusals, then the happy path.
const FAULT: u8 = 1;
const REFUSAL: u8 = 2;
const NORMAL: u8 = 5;

impl<D: WireDialect> WireBackend<D> {
    async fn mount_get(&self, fixture: &RefundFixture) {
        if let Some(p) = self.dialect.get_path(&crate::encoded_segment(&fixture.id)) {
            Mock::given(method("GET"))
                .and(path(p))
                .respond_with(ResponseTemplate::new(200).set_body_json(self.dialect.refund_body(fixture)))
                .with_priority(NORMAL)
                .mount(&self.server)
                .await;
        }
    }

    async fn mount_create(&self, response: ResponseTemplate, priority: u8, times: Option<u64>) {
        let (verb, route) = self.dialect.create_route();
        let mut mock = Mock::given(method(verb))
            .and(path(route))
            .respond_with(response)
            .with_priority(priority);
        if let Some(n) = times {
            mock = mock.up_to_n_times(n);
        }
        mock.mount(&self.server).await;
    }

    async fn mount_any(&self, response: ResponseTemplate, times: Option<u64>) {
        let mut mock = Mock::given(wiremock::matchers::any())
            .respond_with(response)
            .with_priority(FAULT);
        if let Some(n) = times {
            mock = mock.up_to_n_times(n);
        }
        mock.mount(&self.server).await;
    }
}

#[async_trait]
impl<D: WireDialect> Backend for WireBackend<D> {
    fn client(&self) -> Arc<dyn RefundProvider> {
        self.client.client.clone()
    }

    fn api_key(&self) -> String {
        self.dialect.api_key()
    }

    fn debug_strings(&self) -> Vec<String> {
        self.client.debug_strings.clone()
    }

    fn payment_ref(&self, id: &str) -> PaymentRef {
        self.dialect.payment_ref(id)
    }

    fn foreign_payment_ref(&self, id: &str) -> Option<PaymentRef> {
        self.dialect.foreign_payment_ref(id)
    }

    fn has_configured_currency(&self) -> bool {
        self.dialect.has_configured_currency()
    }

    async fn arrange(&self, situation: Situation) {
        let d = &self.dialect;
        match situation {
            Situation::Refundable { creates, .. } => {
                for fixture in &creates {
                    let body = ResponseTemplate::new(d.create_status()).set_body_json(d.refund_body(fixture));
                    self.mount_create(body, NORMAL, Some(1)).await;
                    self.mount_get(fixture).await;
                }
            }
            Situation::Existing { refunds } => {
                for fixture in &refunds {
                    self.mount_get(fixture).await;
                }
                if let Some(list) = d.list_path() {
                    Mock::given(method("GET"))
                        .and(path(list))
                        .respond_with(ListResponder {
                            dialect: d.clone(),
                            all: refunds,
                        })
                        .with_priority(NORMAL)
                        .mount(&self.server)
                        .await;
                }
            }
            Situation::OverRefund { .. } => {
                self.mount_create(d.error_response(WireError::OverRefund), REFUSAL, None)
                    .await;
            }
            Situation::UnknownPayment { .. } => {
                self.mount_create(d.error_response(WireError::UnknownPayment), REFUSAL, None)
                    .await;
            }
            Situation::Unauthorized => self.mount_any(d.error_response(WireError::Unauthorized), None).await,
            Situation::NotFound { id } => {
                if let Some(p) = d.get_path(&crate::encoded_segment(&id)) {
                    Mock::given(method("GET"))
                        .and(path(p))
                        .respond_with(d.error_response(WireError::NotFound))
                        .with_priority(REFUSAL)
                        .mount(&self.server)
                        .await;
                }
            }
            Situation::ValidationError => {
                self.mount_create(d.error_response(WireError::Validation), REFUSAL, Some(1))
                    .await;
            }
            Situation::RateLimited {
                times,
                retry_after_secs,
            } => {
                let response = d
                    .error_response(WireError::RateLimited)
                    .insert_header("Retry-After", retry_after_secs.to_string().as_str());
                self.mount_any(response, Some(times as u64)).await;
            }
            Situation::ServerError { times } => {
                self.mount_any(d.error_response(WireError::ServerError), Some(times as u64))
                    .await;
            }
            Situation::MalformedBody { id } => {
                let bad = ResponseTemplate::new(200)
                    .insert_header("Content-Type", "text/html")
                    .set_body_string("<html><body>502 Bad Gateway</body></html>");
                match d.get_path(&crate::encoded_segment(&id)) {
                    Some(p) => {
                        Mock::given(method("GET"))
                            .and(path(p))
                            .respond_with(bad)
                            .with_priority(REFUSAL)
                            .mount(&self.server)
                            .await;
                    }
                    None => self.mount_create(bad, REFUSAL, None).await,
                }
            }
        }
    }

    async fn request_count(&self) -> usize {
        self.server.received_requests().await.map_or(0, |r| r.len())
    }

    async fn check_last_create(&self, request: &CreateRefund) {
        let (verb, route) = self.dialect.create_route();
        let received = self.server.received_requests().await.unwrap_or_default();
        let last = received
            .iter()
            .rev()
            .find(|r| r.method.as_str() == verb && r.url.path() == route)
            .expect("a create reached the server");
        let content_type = last
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            content_type.starts_with("application/json"),
            "content type {content_type:?}"
        );
        self.dialect.check_create(last, request);
    }

    async fn last_create_body(&self) -> Option<String> {
        let (verb, route) = self.dialect.create_route();
        let received = self.server.received_requests().await.unwrap_or_default();
        let last = received
            .iter()
            .rev()
            .find(|r| r.method.as_str() == verb && r.url.path() == route)?;
        Some(String::from_utf8_lossy(&last.body).into_owned())
    }
}
