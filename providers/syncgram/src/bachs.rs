//! The Bachs API: SyncgramPay's refunds at the hosts and paths the Bachs documentation site names.
//!
//! SyncgramPay's refund pages (the default client, [`Syncgram`]) live on docs.bachs.io, which now also
//! documents the Bachs API. Its official Python client (`bachs` 2.0.0, `bachs/_transport.py`) targets
//! `https://api.bachs.io` for `sk_live_` keys and `https://sandbox-api.bachs.io` for `sk_sandbox_` keys,
//! every path under `/v1`. Two independent community SDKs that cite
//! `docs.bachs.io/api-reference/refunds` put refunds at `POST /v1/refunds`, `GET /v1/refunds/{id}`,
//! `GET /v1/refunds/by-charge/{charge_id}` and `GET /v1/refunds?limit&offset&status`, with upper-case
//! status filters (`PROCESSING`, `SUCCESS`, `FAILED`). The official client has no refunds resource, so
//! these paths are third-party facts; the bodies are SyncgramPay's (the README lists what is assumed).

use refunds::adapter::{
    AccountCurrency, ApiRequest, ApiResponse, CreateBody, Hosts, HttpProvider, ListBody, PagingSpec, ProviderSpec,
    Setup, StatusMap,
};
use refunds::{Capabilities, CreateRefund, Error, IdempotencyKey, PagingStyle, PaymentRef, PaymentRefKind, Refund};
use refunds::{RefundStatus, Result};

use crate::{Syncgram, SyncgramOptions};

/// The Bachs API's live host, chosen for `sk_live_` keys.
pub const BACHS_LIVE_URL: &str = "https://api.bachs.io";

/// The Bachs API's sandbox host, chosen for every other key (`sk_sandbox_`).
pub const BACHS_SANDBOX_URL: &str = "https://sandbox-api.bachs.io";

/// The statuses as the Bachs API spells them (upper case first, so a list filter writes `SUCCESS`);
/// matched ignoring ASCII case, so the objects' `success` and SyncgramPay's `succeeded` read alike.
pub const BACHS_STATUSES: StatusMap = StatusMap::new(&[
    ("PENDING", RefundStatus::Pending),
    ("PROCESSING", RefundStatus::Processing),
    ("SUCCESS", RefundStatus::Succeeded),
    ("succeeded", RefundStatus::Succeeded),
    ("FAILED", RefundStatus::Failed),
]);

/// SyncgramPay through the Bachs API, as the engine runs it: [`Syncgram`]'s bodies, refunds and
/// errors at the Bachs hosts and paths.
#[derive(Debug, Clone)]
pub struct Bachs(Syncgram);

/// A client of the Bachs API (`BACHS_API_KEY`, `BACHS_CURRENCY`, `BACHS_BASE_URL`). Cheap to clone.
pub type BachsClient = refunds::adapter::Client<Bachs>;

/// The builder of a [`BachsClient`]: API key and settlement currency are required.
pub type BachsClientBuilder = refunds::adapter::ClientBuilder<Bachs>;

impl HttpProvider for Bachs {
    const SPEC: ProviderSpec = ProviderSpec {
        name: "SyncgramPay (Bachs API)",
        env_prefix: "BACHS",
        hosts: Hosts {
            test: BACHS_SANDBOX_URL,
            live: BACHS_LIVE_URL,
        },
        refunds_path: &["v1", "refunds"],
        paging: Some(PagingSpec {
            style: PagingStyle::Offset,
            default_limit: 50,
            max_limit: 100,
            status_param: Some("status"),
        }),
        statuses: BACHS_STATUSES,
        currency: AccountCurrency::Required,
        ..Syncgram::SPEC
    };

    type Options = SyncgramOptions;

    fn new(setup: Setup<'_, SyncgramOptions>) -> Result<Bachs> {
        Syncgram::new(setup).map(Bachs)
    }

    fn create_body(
        &self,
        request: &CreateRefund,
        key: Option<&IdempotencyKey>,
        options: &SyncgramOptions,
    ) -> Result<CreateBody> {
        self.0.create_body(request, key, options)
    }

    fn read_refund(&self, body: &[u8]) -> Result<Refund> {
        self.0.read_refund(body)
    }

    fn read_list(&self, body: &[u8]) -> Result<ListBody> {
        self.0.read_list(body)
    }

    fn read_error(response: &ApiResponse) -> Error {
        Syncgram::read_error(response)
    }

    fn by_payment_request(&self, payment: &PaymentRef) -> Option<Result<ApiRequest>> {
        Some(
            payment
                .expect_kind(crate::ID, &[PaymentRefKind::Charge])
                .map(|charge| ApiRequest::get(&["v1", "refunds", "by-charge", charge])),
        )
    }

    fn capabilities(capabilities: Capabilities) -> Capabilities {
        Syncgram::capabilities(capabilities)
    }
}
