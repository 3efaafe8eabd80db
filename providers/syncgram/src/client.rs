//! The SyncgramPay client and its builder.

use refunds::adapter::paging::{check_limit, offset};
use refunds::adapter::{ApiRequest, ApiResponse, Auth, ClientSettings, Transport, WithRaw, note_pending_create};
use refunds::{
    Capabilities, CreateRefund, Currency, Delivery, Error, IdempotencyKey, IdempotencySupport, ListRefunds, Page,
    PagingStyle, PaymentRef, PaymentRefKind, ProviderInfo, Refund, RefundId, RefundProvider, Result, async_trait,
    check_text,
};

use crate::error::decode_error;
use crate::wire::{FeeBearer, STATUSES, SimulatedOutcome, WireCreateRefund, WireRefund, WireRefundList, into_refund};

/// The provider id, as in [`ProviderInfo::id`] and [`Refund::provider`].
pub const PROVIDER_ID: &str = "syncgram";
/// The display name.
pub const PROVIDER_NAME: &str = "SyncgramPay";
/// The production base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.syncgrampay.com";
/// The prefix of the environment variables [`SyncgramClient::from_env`] reads.
pub const ENV_PREFIX: &str = "SYNCGRAM";
/// Longest `reference` SyncgramPay accepts.
pub const MAX_REFERENCE_LEN: usize = 128;
/// Longest `reason` SyncgramPay accepts.
pub const MAX_REASON_LEN: usize = 500;
/// Longest `refund_address` SyncgramPay accepts (the shortest is one character).
pub const MAX_REFUND_ADDRESS_LEN: usize = 255;
/// Longest `idempotency_key` SyncgramPay accepts.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;
/// Largest list page; the default is [`DEFAULT_PAGE_SIZE`].
pub const MAX_PAGE_SIZE: u32 = 100;
/// The page size when none is asked for (SyncgramPay's own default).
pub const DEFAULT_PAGE_SIZE: u32 = 50;

const REFUNDS: [&str; 4] = ["api", "v1", "payments", "refunds"];

/// SyncgramPay's own create options, beyond the shared [`CreateRefund`]: pass them to
/// [`SyncgramClient::create_refund_with`], or set defaults for every create with
/// [`SyncgramClientBuilder::default_options`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

/// What SyncgramPay supports.
pub fn capabilities() -> Capabilities {
    Capabilities::new()
        .partial_refunds(true)
        .retrieve(true)
        .retrieve_by_payment(true)
        .list(Some(PagingStyle::Offset))
        .list_status_filter(true)
        .cancel(false)
        .idempotency(IdempotencySupport::BodyField)
        .payment_kinds(&[PaymentRefKind::Charge])
}

/// A SyncgramPay refunds client. Cheap to clone; share one per process.
///
/// Amounts are in the account's settlement currency, which SyncgramPay never names in its answers:
/// the client is built with it ([`SyncgramClientBuilder::currency`]) and refuses creates in any other.
#[derive(Debug, Clone)]
pub struct SyncgramClient {
    info: ProviderInfo,
    transport: Transport,
    currency: Currency,
    defaults: SyncgramOptions,
    live_key: bool,
}

impl SyncgramClient {
    /// A builder with SyncgramPay's defaults and no key.
    pub fn builder() -> SyncgramClientBuilder {
        SyncgramClientBuilder::new()
    }

    /// A client from `SYNCGRAM_API_KEY`, `SYNCGRAM_CURRENCY` (both required) and `SYNCGRAM_BASE_URL`.
    pub fn from_env() -> Result<SyncgramClient> {
        SyncgramClientBuilder::from_env().build()
    }

    /// The settlement currency amounts are read and written in.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Creates a refund with SyncgramPay's own options (fee bearer, crypto refund address, test-mode
    /// outcome). [`RefundProvider::create_refund`] is this with the builder's default options.
    ///
    /// Every create carries a `reference`: the request's merchant reference, else one derived from its
    /// idempotency key, else one generated for this call. SyncgramPay de-duplicates on it, so the
    /// create is retried (same body) after a 5xx or a timeout.
    ///
    /// An `Ambiguous` error carries the create in [`Error::pending_create`], always with the
    /// `reference` that was sent: when the reference was generated, the pending create has it as its
    /// merchant reference. Sending that pending create again (with the same options) is therefore
    /// safe: if the first call made a refund, SyncgramPay answers with it; if not, the refund is made
    /// now. Either way there is one. A merchant reference is an idempotency input: reusing one with a different request
    /// is an `IdempotencyConflict`, with the same request it returns the original refund.
    pub async fn create_refund_with(&self, request: &CreateRefund, options: &SyncgramOptions) -> Result<Refund> {
        let body = self.create_body(request, options)?;
        let call = ApiRequest::post(&REFUNDS).json(&body)?.replay_safe(true);
        let outcome = async {
            let response = self.transport.send(&call).await?;
            self.read_refund(&response)
        };
        outcome.await.map_err(|error| {
            let generated = request.merchant_reference_given().is_none() && request.idempotency_key_given().is_none();
            if generated && error.is_ambiguous() {
                // Without it, a re-send would get a fresh reference and could refund twice.
                let pending = request.clone().merchant_reference(body.reference.clone());
                note_pending_create(error, &pending)
            } else {
                note_pending_create(error, request)
            }
        })
    }

    /// Parses one SyncgramPay refund object (a webhook payload, a stored answer) exactly as the API
    /// sends it, the same way responses are read: the object's text kept in [`Refund::raw`], amounts
    /// in the client's settlement currency (SyncgramPay's objects name none). Anything that is not
    /// such an object (another JSON value, a missing id or amount, more decimals than the currency
    /// has) is a `Decode` error; nothing is sent, so its delivery is `NotSent`.
    ///
    /// ```
    /// use refunds::{Currency, RefundStatus};
    /// use refunds_syncgram::SyncgramClient;
    /// let client = SyncgramClient::builder().api_key("sk_test_a1b2c3").currency(Currency::USD).build()?;
    /// let refund = client.refund_from_json(
    ///     br#"{"refund_id":"ref_1","charge_id":"ch_1","reference":"r1","status":"succeeded",
    ///          "requested_amount":"5.00","refunded_amount":"5.00","refund_fee_amount":"0.05"}"#,
    /// )?;
    /// assert_eq!(refund.status, RefundStatus::Succeeded);
    /// assert_eq!(refund.amount.to_major_string(), "5.00");
    /// # Ok::<(), refunds::Error>(())
    /// ```
    pub fn refund_from_json(&self, json: &[u8]) -> Result<Refund> {
        refunds::adapter::parse_object::<WireRefund>(json)
            .map_err(|e| Error::decode(format!("refund object: {e}")))
            // `into_refund` fails only with `Decode` errors.
            .and_then(|wire| into_refund(wire, self.currency))
            .map_err(|e| e.with_delivery(Delivery::NotSent).with_provider(PROVIDER_ID))
    }

    /// The refund of a charge (`GET /api/v1/payments/payins/{charge_id}/refund`). SyncgramPay
    /// documents one refund per charge here; with several partial refunds, which one it answers is not
    /// documented (list the refunds to see them all).
    pub async fn get_refund_by_charge(&self, charge_id: &str) -> Result<Refund> {
        let charge = PaymentRef::charge(charge_id)?;
        let call = ApiRequest::get(&["api", "v1", "payments", "payins", charge.id(), "refund"]);
        let response = self.transport.send(&call).await?;
        self.read_refund(&response)
    }

    fn create_body(&self, request: &CreateRefund, options: &SyncgramOptions) -> Result<WireCreateRefund> {
        request.validate()?;
        let charge_id = request
            .payment()
            .expect_kind(PROVIDER_NAME, &[PaymentRefKind::Charge])?;
        let amount = match request.amount_requested() {
            Some(amount) => {
                self.check_currency(amount.currency())?;
                Some(refunds::adapter::amount::MajorDecimal::number(amount))
            }
            None => None,
        };
        if !request.metadata_given().is_empty() {
            return Err(Error::invalid_request("metadata", "syncgram refunds take no metadata"));
        }
        let reason = match (request.reason_given(), request.description_given()) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid_request(
                    "description",
                    "syncgram has one free-text `reason` field: give a reason or a description, not both",
                ));
            }
            (Some(reason), None) => {
                check_text("reason", reason.as_str(), MAX_REASON_LEN)?;
                Some(reason.as_str().to_owned())
            }
            (None, Some(description)) => {
                check_text("description", description, MAX_REASON_LEN)?;
                Some(description.to_owned())
            }
            (None, None) => None,
        };
        if let Some(reference) = request.merchant_reference_given() {
            check_text("merchant_reference", reference, MAX_REFERENCE_LEN)?;
        }
        if let Some(key) = request.idempotency_key_given() {
            check_text("idempotency_key", key.as_str(), MAX_IDEMPOTENCY_KEY_LEN)?;
        }
        if let Some(address) = &options.refund_address {
            check_text("refund_address", address, MAX_REFUND_ADDRESS_LEN)?;
        }
        if options.simulated_outcome.is_some() && self.live_key {
            return Err(Error::invalid_request(
                "simulated_outcome",
                "test mode only: the client has a live (sk_live_) key",
            ));
        }
        Ok(WireCreateRefund {
            charge_id: charge_id.to_owned(),
            reference: reference_for(request),
            amount,
            fee_bearer: options.fee_bearer,
            reason,
            refund_address: options.refund_address.clone(),
            idempotency_key: request.idempotency_key_given().map(|key| key.as_str().to_owned()),
            simulated_outcome: options.simulated_outcome,
        })
    }

    fn check_currency(&self, currency: Currency) -> Result<()> {
        if currency == self.currency {
            return Ok(());
        }
        let message = if currency.code() == self.currency.code() {
            format!(
                "{} has {} decimal places in syncgram's settlement currency, not {}",
                self.currency.code(),
                self.currency.exponent(),
                currency.exponent()
            )
        } else {
            format!(
                "syncgram refunds in the settlement currency {}, not {}",
                self.currency.code(),
                currency.code()
            )
        };
        Err(Error::invalid_request("amount", message))
    }

    fn read_refund(&self, response: &ApiResponse) -> Result<Refund> {
        response
            .decode_object(|wire: WithRaw<WireRefund>| into_refund(wire, self.currency))
            .map_err(|e| e.with_provider(PROVIDER_ID))
    }
}

/// The `reference` of a create, fixed once per call so that every retry sends the same body.
fn reference_for(request: &CreateRefund) -> String {
    if let Some(reference) = request.merchant_reference_given() {
        return reference.to_owned();
    }
    if let Some(key) = request.idempotency_key_given() {
        return reference_from_key(key.as_str());
    }
    IdempotencyKey::random().as_str().to_owned()
}

/// The key itself when it fits in a reference; otherwise its start and a hash of all of it, so the
/// same key always gives the same reference (a repeated create then replays instead of conflicting).
fn reference_from_key(key: &str) -> String {
    if key.len() <= MAX_REFERENCE_LEN {
        return key.to_owned();
    }
    // Keys are printable ASCII, so any byte index is a character boundary.
    let digest = fnv1a_64(key.as_bytes());
    format!("{}~{digest:016x}", &key[..MAX_REFERENCE_LEN - 17])
}

/// FNV-1a: a stable (not cryptographic) hash, enough to keep long keys apart in a reference.
fn fnv1a_64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[async_trait]
impl RefundProvider for SyncgramClient {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    async fn create_refund(&self, request: &CreateRefund) -> Result<Refund> {
        self.create_refund_with(request, &self.defaults).await
    }

    async fn get_refund(&self, id: &RefundId) -> Result<Refund> {
        let mut segments = REFUNDS.to_vec();
        segments.push(id.as_str());
        let response = self.transport.send(&ApiRequest::get(&segments)).await?;
        self.read_refund(&response)
    }

    async fn list_refunds(&self, request: &ListRefunds) -> Result<Page<Refund>> {
        let limit = check_limit(request.limit_requested(), 1..=MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)?;
        let start = offset::from_cursor(PROVIDER_ID, request.cursor_given())?;
        let mut call = ApiRequest::get(&REFUNDS).query("limit", limit).query("offset", start);
        if let Some(status) = request.status_filter() {
            let wire = STATUSES.to_wire(status).ok_or_else(|| {
                Error::invalid_request("status", format!("syncgram has no refund status for {status}"))
            })?;
            call = call.query("status", wire);
        }
        let response = self.transport.send(&call).await?;
        let (items, total) = response
            .decode(|list: WireRefundList<WithRaw<WireRefund>>| {
                let items = list
                    .items
                    .into_iter()
                    .map(|item| into_refund(item, self.currency))
                    .collect::<Result<Vec<_>>>()?;
                Ok((items, list.total))
            })
            .map_err(|e| e.with_provider(PROVIDER_ID))?;
        Ok(offset::page(PROVIDER_ID, items, start, Some(total)))
    }

    async fn get_refund_by_payment(&self, payment: &PaymentRef) -> Result<Refund> {
        let charge_id = payment.expect_kind(PROVIDER_NAME, &[PaymentRefKind::Charge])?;
        self.get_refund_by_charge(charge_id).await
    }
}

/// Builds a [`SyncgramClient`]: API key and settlement currency are required.
///
/// ```
/// use refunds::Currency;
/// use refunds_syncgram::SyncgramClient;
/// let client = SyncgramClient::builder()
///     .api_key("sk_test_a1b2c3d4e5f6")
///     .currency(Currency::USD)
///     .max_retries(3)
///     .build()?;
/// assert_eq!(client.currency(), Currency::USD);
/// # Ok::<(), refunds::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct SyncgramClientBuilder {
    settings: ClientSettings,
    defaults: SyncgramOptions,
}

impl SyncgramClientBuilder {
    refunds::client_settings_setters!(settings);

    /// SyncgramPay's defaults, no key, no currency.
    pub fn new() -> SyncgramClientBuilder {
        SyncgramClientBuilder::default()
    }

    /// Reads `SYNCGRAM_API_KEY`, `SYNCGRAM_BASE_URL` and `SYNCGRAM_CURRENCY` (an ISO 4217 code); the
    /// setters still apply afterwards. A malformed currency is reported by [`Self::build`].
    pub fn from_env() -> SyncgramClientBuilder {
        SyncgramClientBuilder {
            settings: ClientSettings::from_env(ENV_PREFIX),
            ..SyncgramClientBuilder::default()
        }
    }

    /// The account's settlement currency (required): SyncgramPay's refund objects carry no currency,
    /// and it refunds only in the charge's settlement currency.
    pub fn currency(mut self, currency: Currency) -> Self {
        self.settings.set_currency(currency);
        self
    }

    /// The options [`RefundProvider::create_refund`] sends (default: none, SyncgramPay's defaults).
    pub fn default_options(mut self, options: SyncgramOptions) -> Self {
        self.defaults = options;
        self
    }

    /// The client; `Configuration` errors for a missing key or currency or a bad base URL.
    pub fn build(self) -> Result<SyncgramClient> {
        let tag = |e: Error| e.with_provider(PROVIDER_ID);
        // A malformed SYNCGRAM_CURRENCY is reported before a missing key, as the variable was set.
        if let Some(message) = &self.settings.currency_env_error {
            return Err(tag(Error::configuration(message.clone())));
        }
        let key = self
            .settings
            .require_api_key(PROVIDER_ID, &format!("{ENV_PREFIX}_API_KEY"))
            .map_err(tag)?
            .clone();
        let currency = self
            .settings
            .account_currency(|| {
                format!(
                    "{PROVIDER_ID}: settlement currency missing (set it on the builder or in {ENV_PREFIX}_CURRENCY)"
                )
            })
            .map_err(tag)?;
        let config = self.settings.transport_config(DEFAULT_BASE_URL).map_err(tag)?;
        let live_key = key.starts_with("sk_live_");
        let auth = Auth::bearer(key).map_err(tag)?;
        let transport = Transport::new(PROVIDER_ID, config, auth, decode_error)?;
        Ok(SyncgramClient {
            info: ProviderInfo::new(PROVIDER_ID, PROVIDER_NAME, capabilities()),
            transport,
            currency,
            defaults: self.defaults,
            live_key,
        })
    }
}
