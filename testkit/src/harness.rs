//! What a provider supplies to run the conformance suite: a backend it can arrange into situations.

use std::sync::Arc;

use async_trait::async_trait;

use refunds::Currency;
use refunds::Money;
use refunds::PaymentRef;
use refunds::RefundProvider;
use refunds::{CreateRefund, RefundStatus};

/// A refund as a backend should report it. Wire harnesses write it in the provider's format
/// (the status through the provider's status table; an `Unknown` status as its raw string).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RefundFixture {
    /// The refund id.
    pub id: String,
    /// The refunded payment's id.
    pub payment_id: String,
    /// The amount.
    pub amount: Money,
    /// The status.
    pub status: RefundStatus,
}

impl RefundFixture {
    /// A fixture.
    pub fn new(id: impl Into<String>, payment_id: impl Into<String>, amount: Money, status: RefundStatus) -> Self {
        RefundFixture {
            id: id.into(),
            payment_id: payment_id.into(),
            amount,
            status,
        }
    }
}

/// A state of the world a scenario needs. Wire harnesses mount stubs that produce it; stateful
/// backends (the in-memory provider, the sandbox) seed data or plan faults.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Situation {
    /// `payment_id`, captured for `captured`, can be refunded. Creates answer `creates` in order
    /// (stateful backends compute the refunds themselves; ids may differ). Each created refund can be
    /// retrieved by id afterwards.
    Refundable {
        /// The payment.
        payment_id: String,
        /// What was captured.
        captured: Money,
        /// What successive creates return.
        creates: Vec<RefundFixture>,
    },
    /// These refunds exist: retrievable by id and listed in this order.
    Existing {
        /// The refunds.
        refunds: Vec<RefundFixture>,
    },
    /// Creates on `payment_id` for more than `refundable` are refused by the provider.
    OverRefund {
        /// The payment.
        payment_id: String,
        /// What is left to refund.
        refundable: Money,
    },
    /// `payment_id` does not exist: creates on it are refused by the provider.
    UnknownPayment {
        /// The payment.
        payment_id: String,
    },
    /// The API key is refused (HTTP 401) on every call.
    Unauthorized,
    /// Refund `id` does not exist (HTTP 404).
    NotFound {
        /// The refund id.
        id: String,
    },
    /// The next create is refused with the provider's validation error on its amount field.
    ValidationError,
    /// The next `times` requests answer HTTP 429 with `Retry-After: retry_after_secs`.
    RateLimited {
        /// How many requests.
        times: usize,
        /// The header value in seconds.
        retry_after_secs: u64,
    },
    /// The next `times` requests answer HTTP 500 (the provider's server-error body).
    ServerError {
        /// How many requests.
        times: usize,
    },
    /// Retrieving `id` answers 200 with a body that is not JSON.
    MalformedBody {
        /// The refund id.
        id: String,
    },
}

/// How the suite wants the client built.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct HarnessOptions {
    /// The currency of the account (clients with a configured currency use it; fixtures use it).
    pub currency: Currency,
    /// Retries the client may make (backoff kept tiny by the harness).
    pub max_retries: u32,
    /// The client's whole-request timeout.
    pub timeout: std::time::Duration,
}

impl HarnessOptions {
    /// Options with a 10 s timeout.
    pub fn new(currency: Currency, max_retries: u32) -> HarnessOptions {
        HarnessOptions {
            currency,
            max_retries,
            timeout: std::time::Duration::from_secs(10),
        }
    }

    /// Sets the client timeout.
    pub fn timeout(mut self, timeout: std::time::Duration) -> HarnessOptions {
        self.timeout = timeout;
        self
    }
}

/// Builds a fresh backend and client for each scenario.
#[async_trait]
pub trait Harness: Send + Sync {
    /// A new, empty backend with a client pointed at it.
    async fn start(&self, options: HarnessOptions) -> Box<dyn Backend>;

    /// Currencies the provider can take (the suite skips zero- or three-decimal scenarios for the others
    /// and says so). Default: all.
    fn supports_currency(&self, currency: Currency) -> bool {
        let _ = currency;
        true
    }
}

/// One backend (a wiremock server, the in-memory ledger, a sandbox) and a client pointed at it.
#[async_trait]
pub trait Backend: Send + Sync {
    /// The client under test.
    fn client(&self) -> Arc<dyn RefundProvider>;

    /// The API key the client uses (checked never to leak).
    fn api_key(&self) -> String;

    /// `Debug` output of the concrete client and of its builder, to search for the key.
    fn debug_strings(&self) -> Vec<String>;

    /// A reference to `id` of the kind this provider refunds.
    fn payment_ref(&self, id: &str) -> PaymentRef;

    /// A reference of a kind this provider cannot refund, when there is one.
    fn foreign_payment_ref(&self, id: &str) -> Option<PaymentRef>;

    /// True when the client is configured with the account currency (creates in another currency
    /// are then refused before sending).
    fn has_configured_currency(&self) -> bool;

    /// Puts the backend into a situation. Situations add up.
    async fn arrange(&self, situation: Situation);

    /// How many HTTP requests (or calls, for in-memory backends) reached the backend.
    async fn request_count(&self) -> usize;

    /// Asserts the wire facts of the last create the backend received against `request`: method, path,
    /// auth header, content type, body field names, amount encoding, idempotency key placement.
    /// Panics on a mismatch. Backends without a wire form check what they can.
    async fn check_last_create(&self, request: &CreateRefund);

    /// The body of the last create the backend received, as bytes on the wire (`None` for backends
    /// without a wire form).
    async fn last_create_body(&self) -> Option<String> {
        None
    }
}
