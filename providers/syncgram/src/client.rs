//! The SyncgramPay translator (spec, create body, refunds, lists, errors) and SyncgramPay's own
//! operations. The engine ([`refunds::adapter::Client`]) runs every call.

use refunds::adapter::amount::MajorDecimal;
use refunds::adapter::{
    AccountCurrency, ApiRequest, ApiResponse, AuthStyle, CreateBody, Described, Descriptor, Hosts, HttpProvider,
    Idempotency, ListBody, PagingSpec, ProviderSpec, Setup, read,
};
use refunds::{
    CallOptions, Capabilities, CreateFields, CreateRefund, Currency, Error, IdempotencyKey, MarkerField, PagingStyle,
    PaymentRef, PaymentRefKind, Refund, RefundProvider, Result, async_trait, check_text,
};
use serde::de::IgnoredAny;

use crate::wire::{FeeBearer, STATUSES, SimulatedOutcome, WireCreateRefund, WireRefundList, into_refund};

/// Longest `reference` SyncgramPay accepts.
pub const MAX_REFERENCE_LEN: usize = 128;
/// Longest `reason` SyncgramPay accepts.
pub const MAX_REASON_LEN: usize = 500;
/// Longest `refund_address` SyncgramPay accepts (the shortest is one character).
pub const MAX_REFUND_ADDRESS_LEN: usize = 255;
/// Longest `idempotency_key` SyncgramPay accepts.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// SyncgramPay's own create options, beyond the shared [`CreateRefund`]: for every create with the
/// builder's `.options(..)`, or per call with [`SyncgramExt::create_refund_with_options`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct SyncgramOptions {
    /// Who bears the refund fee; omitted, the organisation's configured setting applies.
    pub fee_bearer: Option<FeeBearer>,
    /// The wallet to send a crypto refund to (1 to 255 characters); required by SyncgramPay for
    /// charges paid in cryptocurrency.
    pub refund_address: Option<String>,
    /// Test mode only: force how the refund ends. Refused before sending with a live (`sk_live_`) key.
    pub simulated_outcome: Option<SimulatedOutcome>,
}

impl SyncgramOptions {
    /// No options: SyncgramPay's defaults.
    pub fn new() -> SyncgramOptions {
        SyncgramOptions::default()
    }
    /// Sets who bears the refund fee.
    pub fn fee_bearer(mut self, bearer: FeeBearer) -> SyncgramOptions {
        self.fee_bearer = Some(bearer);
        self
    }
    /// Sets the wallet address of a crypto refund.
    pub fn refund_address(mut self, address: impl Into<String>) -> SyncgramOptions {
        self.refund_address = Some(address.into());
        self
    }
    /// Forces the outcome of a test-mode refund.
    pub fn simulated_outcome(mut self, outcome: SimulatedOutcome) -> SyncgramOptions {
        self.simulated_outcome = Some(outcome);
        self
    }
}

/// SyncgramPay, as the engine runs it.
#[derive(Debug, Clone)]
pub struct Syncgram {
    pub(crate) currency: Currency,
    pub(crate) livemode: Option<bool>,
}

impl Described for Syncgram {
    #[cfg(feature = "sandbox")]
    const DESCRIPTOR: Descriptor = Descriptor::of::<Self>()
        .webhooks(crate::webhooks::KIT)
        .sandbox(crate::sandbox::KIT);
    #[cfg(not(feature = "sandbox"))]
    const DESCRIPTOR: Descriptor = Descriptor::of::<Self>().webhooks(crate::webhooks::KIT);
}

impl HttpProvider for Syncgram {
    const SPEC: ProviderSpec = ProviderSpec {
        id: crate::ID,
        name: "SyncgramPay",
        env_prefix: "SYNCGRAM",
        // Test (`sk_test_`) and live (`sk_live_`) keys share one host.
        hosts: Hosts::one("https://api.syncgrampay.com"),
        key_modes: true,
        auth: AuthStyle::Bearer,
        refunds_path: &["api", "v1", "payments", "refunds"],
        paging: Some(PagingSpec {
            style: PagingStyle::Offset,
            default_limit: 50,
            max_limit: 100,
            status_param: Some("status"),
        }),
        // Documented: the same key sent twice returns the original refund. Sent on every create.
        idempotency: Idempotency::BodyField("idempotency_key"),
        statuses: STATUSES,
        payment_kinds: &[PaymentRefKind::Charge],
        partial_refunds: true,
        retrieve: true,
        // One free-text `reason` carries a reason or a description (not both); `reference` the
        // merchant reference; no metadata.
        carries: CreateFields::NONE
            .reason(true)
            .description(true)
            .merchant_reference(true),
        currency: AccountCurrency::Required,
        // `reference` is echoed on the refund; key retention is not documented.
        key_retention: refunds::KEY_RETENTION_UNKNOWN,
        marker: Some(MarkerField::MerchantReference),
        replay_header: None,
    };

    type Options = SyncgramOptions;

    fn new(setup: Setup<'_, SyncgramOptions>) -> Result<Syncgram> {
        Ok(Syncgram {
            currency: setup.currency.unwrap_or(Currency::USD),
            livemode: setup.livemode,
        })
    }

    fn create_body(
        &self,
        request: &CreateRefund,
        key: Option<&IdempotencyKey>,
        options: &SyncgramOptions,
    ) -> Result<CreateBody> {
        let key = key.ok_or_else(|| Error::configuration("syncgram: a create without an idempotency key"))?;
        check_text("idempotency_key", key.as_str(), MAX_IDEMPOTENCY_KEY_LEN)?;
        let reason = match (request.reason_given(), request.description_given()) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid_request(
                    "description",
                    "syncgram has one free-text `reason` field: give a reason or a description, not both",
                ));
            }
            (Some(reason), None) => {
                Some(check_text("reason", reason.as_str(), MAX_REASON_LEN).map(|()| reason.as_str())?)
            }
            (None, Some(text)) => Some(check_text("description", text, MAX_REASON_LEN).map(|()| text)?),
            (None, None) => None,
        };
        let reference = match request.merchant_reference_given() {
            Some(reference) => {
                check_text("merchant_reference", reference, MAX_REFERENCE_LEN)?;
                reference.to_owned()
            }
            None => reference_from_key(key.as_str()),
        };
        if let Some(address) = &options.refund_address {
            check_text("refund_address", address, MAX_REFUND_ADDRESS_LEN)?;
        }
        if options.simulated_outcome.is_some() && self.livemode == Some(true) {
            return Err(Error::invalid_request(
                "simulated_outcome",
                "test mode only: the client has a live (sk_live_) key",
            ));
        }
        let body = WireCreateRefund {
            charge_id: request.payment().id().to_owned(),
            reference,
            // A JSON number written from the amount's exact decimal text.
            amount: request.amount_requested().map(MajorDecimal::number),
            fee_bearer: options.fee_bearer,
            reason: reason.map(str::to_owned),
            refund_address: options.refund_address.clone(),
            // The engine writes the key into `idempotency_key`.
            idempotency_key: None,
            simulated_outcome: options.simulated_outcome,
        };
        CreateBody::json(&body)
    }

    fn read_refund(&self, body: &[u8]) -> Result<Refund> {
        into_refund(read::object(body)?, self.currency, self.livemode)
    }

    fn read_list(&self, body: &[u8]) -> Result<ListBody> {
        let (list, items): (WireRefundList<IgnoredAny>, _) = read::list(body, &["items"])?;
        let items = read::items(items, |wire| into_refund(wire, self.currency, self.livemode))?;
        Ok(ListBody::new(items, Some(list.total), None))
    }

    fn read_error(response: &ApiResponse) -> Error {
        crate::error::decode_error(response)
    }

    fn by_payment_request(&self, payment: &PaymentRef) -> Option<Result<ApiRequest>> {
        Some(
            payment
                .expect_kind(crate::ID, &[PaymentRefKind::Charge])
                .map(|charge| ApiRequest::get(&["api", "v1", "payments", "payins", charge, "refund"])),
        )
    }

    fn capabilities(capabilities: Capabilities) -> Capabilities {
        capabilities.retrieve_by_payment(true)
    }
}

/// The key itself when it fits in a reference; otherwise its start and a hash of all of it, so the
/// same key always gives the same reference (a re-sent create then replays instead of conflicting).
fn reference_from_key(key: &str) -> String {
    if key.len() <= MAX_REFERENCE_LEN {
        return key.to_owned();
    }
    // Keys are printable ASCII, so any byte index is a character boundary.
    let digest = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{}~{digest:016x}", &key[..MAX_REFERENCE_LEN - 17])
}

/// SyncgramPay's own operations on a [`SyncgramClient`](crate::SyncgramClient) (or a [`BachsClient`](crate::BachsClient)).
#[async_trait]
pub trait SyncgramExt {
    /// Creates a refund with SyncgramPay's own options (fee bearer, crypto refund address, test-mode
    /// outcome) instead of the builder's. Everything else is [`RefundProvider::create_refund`]: an
    /// `Ambiguous` error's pending create carries the `idempotency_key` that was sent; re-send it with
    /// the same options to get the same refund.
    async fn create_refund_with_options(&self, request: &CreateRefund, options: &SyncgramOptions) -> Result<Refund>;

    /// The refund of a charge (`GET /api/v1/payments/payins/{charge_id}/refund`), as
    /// [`RefundProvider::get_refund_by_payment`] with a charge reference. SyncgramPay documents one
    /// refund per charge here; with several partial refunds, which one it answers is not documented
    /// (list the refunds to see them all).
    async fn get_refund_by_charge(&self, charge_id: &str) -> Result<Refund>;
}

#[async_trait]
impl<P: HttpProvider<Options = SyncgramOptions>> SyncgramExt for refunds::adapter::Client<P> {
    async fn create_refund_with_options(&self, request: &CreateRefund, options: &SyncgramOptions) -> Result<Refund> {
        self.create_refund_with_provider_options(request, &CallOptions::new(), options)
            .await
    }

    async fn get_refund_by_charge(&self, charge_id: &str) -> Result<Refund> {
        let charge = PaymentRef::charge(charge_id).map_err(|e| self.finish(e))?;
        self.get_refund_by_payment(&charge).await
    }
}
