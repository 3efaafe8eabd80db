//! The 4Geeks client and its builder.

use std::fmt;

use refunds::adapter::amount::MinorUnits;
use refunds::adapter::paging::{check_limit, offset};
use refunds::adapter::{ApiRequest, ApiResponse, Auth, ClientSettings, Transport, WithRaw, note_pending_create};
use refunds::{
    Capabilities, CreateRefund, Currency, Error, IdempotencySupport, ListRefunds, Page, PagingStyle, PaymentRefKind,
    ProviderInfo, Refund, RefundId, RefundProvider, Result, async_trait,
};

use crate::error::decode_error;
use crate::wire::{RefundContext, WireCreateRefund, WireRefund, WireRefundList, to_refund};
use crate::{DEFAULT_BASE_URL, ENV_API_KEY, ENV_CURRENCY, ENV_PREFIX, ID, LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, NAME};

/// The path of the refunds collection, below the base URL.
const REFUNDS: [&str; 2] = ["v1", "refunds"];

/// The largest offset the client sends.
const MAX_OFFSET: u64 = i64::MAX as u64;

/// What 4Geeks supports, as the SDK models it.
fn capabilities() -> Capabilities {
    Capabilities::new()
        .partial_refunds(true)
        .retrieve(true)
        .list(Some(PagingStyle::Offset))
        .list_status_filter(false)
        .cancel(false)
        .idempotency(IdempotencySupport::None)
        .payment_kinds(&[PaymentRefKind::Payment])
}

/// A 4Geeks Payments refunds client. Cheap to clone; share one per API key.
///
/// Built with [`FourGeeksClient::builder`] or [`FourGeeksClient::from_env`]. The account currency is
/// required because 4Geeks refund objects carry none: it fills every [`refunds::Money`] the client
/// returns, and a create in another currency is refused before anything is sent.
#[derive(Clone)]
pub struct FourGeeksClient {
    info: ProviderInfo,
    transport: Transport,
    context: RefundContext,
}

impl fmt::Debug for FourGeeksClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The transport's Debug redacts the key; nothing else here is secret.
        f.debug_struct("FourGeeksClient")
            .field("provider", &self.info.id)
            .field("currency", &self.context.currency.code())
            .field("livemode", &self.context.livemode)
            .field("transport", &self.transport)
            .finish()
    }
}

impl FourGeeksClient {
    /// A builder with the default settings and no key.
    pub fn builder() -> FourGeeksClientBuilder {
        FourGeeksClientBuilder::new()
    }

    /// A client from `FOURGEEKS_API_KEY`, `FOURGEEKS_CURRENCY` and (optionally)
    /// `FOURGEEKS_BASE_URL`. Use [`FourGeeksClientBuilder::from_env`] to adjust settings first.
    pub fn from_env() -> Result<FourGeeksClient> {
        FourGeeksClientBuilder::from_env().build()
    }

    /// The account currency amounts are read and checked in.
    pub fn currency(&self) -> Currency {
        self.context.currency
    }

    /// True for an `sk_live_` key, false for an `sk_test_` key, `None` for any other key.
    pub fn livemode(&self) -> Option<bool> {
        self.context.livemode
    }

    /// Parses one refund object exactly as 4Geeks sends it (a webhook payload, a stored response):
    /// the text is kept byte for byte in [`Refund::raw`], and the amount is read in the client's
    /// account currency because 4Geeks refund objects carry none. Responses the client receives go
    /// through the same conversion.
    ///
    /// Anything that is not one refund object (malformed JSON, a missing or mistyped field, an
    /// empty id, a list envelope, trailing text) is a `Decode` error naming what is wrong.
    ///
    /// ```
    /// use refunds::{Currency, Money, RefundStatus};
    /// use refunds_fourgeeks::FourGeeksClient;
    /// let client = FourGeeksClient::builder()
    ///     .api_key("sk_test_your_api_key_here")
    ///     .currency(Currency::USD)
    ///     .build()?;
    /// let body = br#"{"id": "ref_m3n4o5p6q7r8", "object": "refund", "payment_id": "pay_7g8h9i0j1k2l", "amount": 2500, "status": "pending"}"#;
    /// let refund = client.refund_from_json(body)?;
    /// assert_eq!(refund.amount, Money::from_minor(2500, Currency::USD));
    /// assert_eq!(refund.status, RefundStatus::Pending);
    /// # Ok::<(), refunds::Error>(())
    /// ```
    pub fn refund_from_json(&self, json: &[u8]) -> Result<Refund> {
        let decode_failure = |message: String| Error::decode(message).with_body(json).with_provider(ID);
        let wire: WithRaw<WireRefund> =
            refunds::adapter::parse_object(json).map_err(|e| decode_failure(format!("refund object: {e}")))?;
        to_refund(wire, self.context).map_err(|e| decode_failure(e.message().to_owned()))
    }

    /// The refund a response carries; any failure is a `Decode` error keeping status and request id.
    fn refund_from(&self, response: &ApiResponse) -> Result<Refund> {
        response
            .decode_object(|wire: WithRaw<WireRefund>| to_refund(wire, self.context))
            .map_err(|e| e.with_provider(ID))
    }

    /// The create body, after every check that can be made without the provider.
    fn create_body(&self, request: &CreateRefund) -> Result<WireCreateRefund> {
        request.validate()?;
        let payment_id = request
            .payment()
            .expect_kind(ID, &self.info.capabilities.payment_kinds)?;
        let amount = match request.amount_requested() {
            Some(amount) if amount.currency() != self.context.currency => {
                return Err(Error::invalid_request(
                    "amount",
                    format!(
                        "the 4geeks account is in {}, the amount is in {}",
                        self.context.currency.code(),
                        amount.currency().code()
                    ),
                ));
            }
            Some(amount) => Some(MinorUnits::from_money(amount)),
            None => None,
        };
        // 4Geeks has no merchant reference, description, metadata or idempotency key: those are
        // not sent (see the README). The idempotency key especially must not be claimed: a
        // header 4Geeks ignores would make a retry look safe when it is not.
        Ok(WireCreateRefund {
            payment_id: payment_id.to_owned(),
            amount,
            reason: request.reason_given().map(|r| r.as_str().to_owned()),
        })
    }
}

#[async_trait]
impl RefundProvider for FourGeeksClient {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    async fn create_refund(&self, request: &CreateRefund) -> Result<Refund> {
        let body = self.create_body(request).map_err(|e| e.with_provider(ID))?;
        // Never replay-safe: without documented idempotency a re-sent create may refund twice.
        let call = ApiRequest::post(&REFUNDS).json(&body)?.replay_safe(false);
        let outcome = async {
            let response = self.transport.send(&call).await?;
            self.refund_from(&response)
        };
        outcome.await.map_err(|e| note_pending_create(e, request))
    }

    async fn get_refund(&self, id: &RefundId) -> Result<Refund> {
        let call = ApiRequest::get(&[REFUNDS[0], REFUNDS[1], id.as_str()]);
        let response = self.transport.send(&call).await?;
        self.refund_from(&response)
    }

    async fn list_refunds(&self, request: &ListRefunds) -> Result<Page<Refund>> {
        if request.status_filter().is_some() {
            return Err(self.info.unsupported("filtering the refund list by status"));
        }
        let limit = check_limit(request.limit_requested(), 1..=LIST_LIMIT_MAX, LIST_LIMIT_DEFAULT)
            .map_err(|e| e.with_provider(ID))?;
        let start = offset::from_cursor(ID, request.cursor_given()).map_err(|e| e.with_provider(ID))?;
        // A hand-made cursor can say any u64; past i64::MAX no server pages and the next cursor
        // (offset plus the items read) would no longer fit.
        if start > MAX_OFFSET {
            return Err(Error::invalid_request("cursor", "offset cursor beyond any 4geeks list").with_provider(ID));
        }
        let call = ApiRequest::get(&REFUNDS).query("limit", limit).query("offset", start);
        let response = self.transport.send(&call).await?;
        let (items, total) = response
            .decode(|list: WireRefundList<WithRaw<WireRefund>>| {
                let items = list
                    .items
                    .into_iter()
                    .map(|wire| to_refund(wire, self.context))
                    .collect::<Result<Vec<_>>>()?;
                Ok((items, list.total_items))
            })
            .map_err(|e| e.with_provider(ID))?;
        Ok(offset::page(ID, items, start, total))
    }
}

/// Builds a [`FourGeeksClient`]: API key and account currency are required; base URL, timeouts
/// and retries have defaults.
///
/// ```
/// use refunds::Currency;
/// use refunds_fourgeeks::FourGeeksClient;
/// let client = FourGeeksClient::builder()
///     .api_key("sk_test_your_api_key_here")
///     .currency(Currency::USD)
///     .max_retries(3)
///     .build()?;
/// assert_eq!(client.currency(), Currency::USD);
/// assert_eq!(client.livemode(), Some(false));
/// # Ok::<(), refunds::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct FourGeeksClientBuilder {
    settings: ClientSettings,
}

impl FourGeeksClientBuilder {
    refunds::client_settings_setters!(settings);

    /// Defaults and no key.
    pub fn new() -> FourGeeksClientBuilder {
        FourGeeksClientBuilder::default()
    }

    /// Settings from `FOURGEEKS_API_KEY`, `FOURGEEKS_BASE_URL` and `FOURGEEKS_CURRENCY` (each
    /// optional here; `build` reports what is missing or malformed).
    pub fn from_env() -> FourGeeksClientBuilder {
        FourGeeksClientBuilder {
            settings: ClientSettings::from_env(ENV_PREFIX),
        }
    }

    /// The account currency (required): 4Geeks amounts are minor units of it.
    pub fn currency(mut self, currency: Currency) -> FourGeeksClientBuilder {
        self.settings.set_currency(currency);
        self
    }

    /// The client, or a `Configuration` error saying what is missing.
    pub fn build(self) -> Result<FourGeeksClient> {
        let configuration = |e: Error| e.with_provider(ID);
        let currency = self
            .settings
            .account_currency(|| {
                format!(
                    "{ID}: account currency missing (4geeks refunds carry none; set it with \
                     .currency(..) or in {ENV_CURRENCY})"
                )
            })
            .map_err(configuration)?;
        let key = self.settings.require_api_key(ID, ENV_API_KEY).map_err(configuration)?;
        let livemode = if key.starts_with("sk_live_") {
            Some(true)
        } else if key.starts_with("sk_test_") {
            Some(false)
        } else {
            None
        };
        let auth = Auth::api_key_header("X-Api-Key", key.clone()).map_err(configuration)?;
        let config = self
            .settings
            .transport_config(DEFAULT_BASE_URL)
            .map_err(configuration)?;
        let transport = Transport::new(ID, config, auth, decode_error)?;
        Ok(FourGeeksClient {
            info: ProviderInfo::new(ID, NAME, capabilities()),
            transport,
            context: RefundContext { currency, livemode },
        })
    }
}
