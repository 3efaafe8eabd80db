//! The XPay client and its builder.

use std::fmt;

use refunds::adapter::amount::MinorUnits;
use refunds::adapter::paging::check_limit;
use refunds::adapter::{ApiRequest, ApiResponse, Auth, ClientSettings, Transport, note_pending_create};
use refunds::{
    Capabilities, CreateRefund, Error, IdempotencySupport, ListRefunds, MAX_METADATA_ENTRIES, Page, PagingStyle,
    PaymentRefKind, ProviderInfo, Refund, RefundId, RefundProvider, Result, async_trait, matches_create,
};

use crate::error::decode_error;
use crate::wire::{MERCHANT_REFERENCE_KEY, RefundTarget, WireCreate, WireList, WireRefund, parse_refund, to_refund};
use crate::{API_KEY_ENV, DEFAULT_BASE_URL, ENV_PREFIX, PROVIDER_ID};

/// The page sizes [`ListRefunds::limit`] may ask for. XPay's list parameters are undocumented, so the
/// limit is only checked for sense and never sent.
pub const LIST_LIMITS: std::ops::RangeInclusive<u32> = 1..=100;

/// The references XPay refunds: a charge (`chargeId`) or a payment intent (`paymentIntentId`).
const PAYMENT_KINDS: [PaymentRefKind; 2] = [PaymentRefKind::Charge, PaymentRefKind::PaymentIntent];

/// What XPay supports through this crate.
pub fn capabilities() -> Capabilities {
    Capabilities::new()
        .partial_refunds(true)
        .retrieve(true)
        .list(Some(PagingStyle::SinglePage))
        .list_status_filter(false)
        .cancel(false)
        .retrieve_by_payment(false)
        .idempotency(IdempotencySupport::None)
        .payment_kinds(&PAYMENT_KINDS)
}

/// Refunds on XPay (`https://api.xpay.app`), through [`RefundProvider`].
///
/// Build it with [`XPayClient::builder`] or from the environment with [`XPayClient::from_env`].
#[derive(Clone)]
pub struct XPayClient {
    info: ProviderInfo,
    transport: Transport,
}

impl fmt::Debug for XPayClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The transport prints its auth as `[redacted]`.
        f.debug_struct("XPayClient")
            .field("provider", &self.info.id)
            .field("transport", &self.transport)
            .finish()
    }
}

/// Builds an [`XPayClient`]: API key (required), base URL, timeouts, retries.
///
/// Retries apply to reads only: XPay documents no idempotency, so a create is never re-sent.
#[derive(Debug, Clone, Default)]
pub struct XPayClientBuilder {
    settings: ClientSettings,
}

impl XPayClientBuilder {
    refunds::client_settings_setters!(settings);

    /// A builder with the defaults and no key.
    pub fn new() -> XPayClientBuilder {
        XPayClientBuilder::default()
    }

    /// A builder with `XPAY_API_KEY` and `XPAY_BASE_URL` read from the environment (when set).
    pub fn from_env() -> XPayClientBuilder {
        XPayClientBuilder {
            settings: ClientSettings::from_env(ENV_PREFIX),
        }
    }

    /// The client; a `Configuration` error when the key is missing or the base URL is not `https`
    /// (plain `http` is accepted for loopback hosts only).
    pub fn build(self) -> Result<XPayClient> {
        let key = self.settings.require_api_key(PROVIDER_ID, API_KEY_ENV)?.clone();
        let config = self.settings.transport_config(DEFAULT_BASE_URL)?;
        let auth = Auth::bearer(key).map_err(|e| e.with_provider(PROVIDER_ID))?;
        Ok(XPayClient {
            info: ProviderInfo::new(PROVIDER_ID, "XPay", capabilities()),
            transport: Transport::new(PROVIDER_ID, config, auth, decode_error)?,
        })
    }
}

impl XPayClient {
    /// A builder.
    pub fn builder() -> XPayClientBuilder {
        XPayClientBuilder::new()
    }

    /// A client configured from `XPAY_API_KEY` (required) and `XPAY_BASE_URL` (optional).
    pub fn from_env() -> Result<XPayClient> {
        XPayClientBuilder::from_env().build()
    }

    /// Parses one XPay refund object exactly as XPay sends it (a webhook payload such as the object of
    /// `refund.created`, a stored answer) into a [`Refund`], the same way this client reads responses:
    /// the text is kept in [`Refund::raw`] byte for byte, and the currency is the object's own
    /// `currency` (XPay names it on every refund and this client has no currency of its own). Anything
    /// that is not one such object (not JSON, a list envelope, trailing text, a missing `id`, `amount`,
    /// `currency` or `status`, an amount that is not integer minor units) is a
    /// [`Decode`](refunds::ErrorKind::Decode) error keeping the start of the text. Nothing is sent, so
    /// an error's delivery is [`NotSent`](refunds::Delivery::NotSent).
    ///
    /// The same parse as the free function [`parse_refund`](crate::parse_refund).
    ///
    /// ```
    /// use refunds::{Currency, Money, RefundStatus};
    /// use refunds_xpay::XPayClient;
    ///
    /// let client = XPayClient::builder().api_key("sk_test_your_key").build()?;
    /// let refund = client.refund_from_json(
    ///     br#"{"id":"re_abc123","chargeId":"ch_xyz789","amount":"50000","currency":"EGP","status":"succeeded"}"#,
    /// )?;
    /// assert_eq!(refund.amount, Money::from_minor(50_000, Currency::EGP));
    /// assert_eq!(refund.amount.to_major_string(), "500.00");
    /// assert_eq!(refund.status, RefundStatus::Succeeded);
    /// # Ok::<(), refunds::Error>(())
    /// ```
    pub fn refund_from_json(&self, json: &[u8]) -> Result<Refund> {
        parse_refund(json)
    }

    /// Parses a refund answer; any failure is a `Decode` error keeping the status and request id.
    fn refund_from(response: &ApiResponse) -> Result<Refund> {
        response
            .decode_object::<WireRefund, _>(to_refund)
            .map_err(|e| e.with_provider(PROVIDER_ID))
    }

    fn create_body(request: &CreateRefund) -> Result<WireCreate> {
        let payment = request.payment();
        let id = payment.expect_kind(PROVIDER_ID, &PAYMENT_KINDS)?.to_owned();
        // `expect_kind` let through a charge or a payment intent only.
        let target = if payment.kind() == PaymentRefKind::Charge {
            RefundTarget::Charge(id)
        } else {
            RefundTarget::PaymentIntent(id)
        };
        let mut metadata = request.metadata_given().clone();
        if let Some(reference) = request.merchant_reference_given() {
            if metadata.contains_key(MERCHANT_REFERENCE_KEY) {
                return Err(Error::invalid_request(
                    "merchant_reference",
                    format!("xpay sends it as metadata {MERCHANT_REFERENCE_KEY:?}, which the metadata already has"),
                ));
            }
            metadata.insert(MERCHANT_REFERENCE_KEY.to_owned(), reference.to_owned());
        }
        if metadata.len() > MAX_METADATA_ENTRIES {
            return Err(Error::invalid_request(
                "metadata",
                format!("at most {MAX_METADATA_ENTRIES} entries including the merchant reference"),
            ));
        }
        Ok(WireCreate {
            target,
            amount: request.amount_requested().map(MinorUnits::from_money),
            reason: request.reason_given().map(|r| r.as_str().to_owned()),
            description: request.description_given().map(str::to_owned),
            metadata,
        })
    }

    async fn send_create(&self, request: &CreateRefund) -> Result<Refund> {
        let body = XPayClient::create_body(request)?;
        // Not replay-safe: XPay documents no idempotency key, so a create that may have arrived is
        // never sent again, and a caller's key is not sent at all.
        let call = ApiRequest::post(&["refunds"]).json(&body)?.replay_safe(false);
        let response = self.transport.send(&call).await?;
        XPayClient::refund_from(&response)
    }
}

/// True when `refund` could be what `request` created. Beyond [`matches_create`]: a create by payment
/// intent comes back naming the charge it resolved to, so the intent id is also looked for in the
/// object's `paymentIntentId`.
pub(crate) fn created_by(refund: &Refund, request: &CreateRefund) -> bool {
    if matches_create(refund, request) {
        return true;
    }
    if request.payment().kind() != PaymentRefKind::PaymentIntent {
        return false;
    }
    let names_intent = refund
        .raw
        .field("paymentIntentId")
        .is_some_and(|v| v.as_str() == Some(request.payment().id()));
    if !names_intent {
        return false;
    }
    let mut probe = CreateRefund::new(refund.payment.clone());
    if let Some(amount) = request.amount_requested() {
        probe = probe.amount(*amount);
    }
    if let Some(reference) = request.merchant_reference_given() {
        probe = probe.merchant_reference(reference);
    }
    matches_create(refund, &probe)
}

#[async_trait]
impl RefundProvider for XPayClient {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    async fn create_refund(&self, request: &CreateRefund) -> Result<Refund> {
        request.validate()?;
        self.send_create(request)
            .await
            .map_err(|e| note_pending_create(e, request))
    }

    async fn get_refund(&self, id: &RefundId) -> Result<Refund> {
        let response = self.transport.send(&ApiRequest::get(&["refunds", id.as_str()])).await?;
        XPayClient::refund_from(&response)
    }

    /// One page: `GET /refunds` with no parameters, because XPay documents none. The limit is checked
    /// and not sent, a cursor can only be foreign (this client never issues one), a status filter is
    /// `Unsupported`, and `next` is always `None`.
    async fn list_refunds(&self, request: &ListRefunds) -> Result<Page<Refund>> {
        if request.status_filter().is_some() {
            return Err(self.info.unsupported("status filters on the refund list"));
        }
        if request.cursor_given().is_some() {
            return Err(Error::invalid_request(
                "cursor",
                "not an xpay cursor: xpay lists are a single page and issue no cursors",
            ));
        }
        check_limit(request.limit_requested(), LIST_LIMITS, *LIST_LIMITS.end())?;
        let response = self.transport.send(&ApiRequest::get(&["refunds"])).await?;
        let items = response
            .decode::<WireList, _>(WireList::into_refunds)
            .map_err(|e| e.with_provider(PROVIDER_ID))?;
        Ok(Page::new(items, None, None))
    }

    /// Looks through the single list page for refunds `request` may have made (same charge or intent,
    /// amount and merchant reference where given). Only what that page holds is searched.
    async fn find_created(&self, request: &CreateRefund) -> Result<Vec<Refund>> {
        let page = self.list_refunds(&ListRefunds::new()).await?;
        Ok(page
            .items
            .into_iter()
            .filter(|refund| created_by(refund, request))
            .collect())
    }
}
