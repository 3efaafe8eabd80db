//! The WooshPay client and its builder.

use std::fmt;

use http::HeaderName;
use refunds::adapter::amount::MinorUnitsString;
use refunds::adapter::{ApiRequest, ApiResponse, Auth, ClientSettings, Transport, WithRaw, note_pending_create};
use refunds::{
    Capabilities, CreateRefund, Currency, Error, IdempotencyKey, IdempotencySupport, ListRefunds, MAX_METADATA_ENTRIES,
    Page, PaymentRefKind, ProviderInfo, Refund, RefundId, RefundProvider, Result, async_trait,
};

use crate::error::decode_error;
use crate::wire::{MERCHANT_REFERENCE_KEY, WireCreateReason, WireCreateRefund, WireRefund};

/// The provider id, as in [`ProviderInfo::id`] and [`Refund::provider`].
pub const PROVIDER_ID: &str = "wooshpay";

/// WooshPay's test host, chosen for `sk_test_` keys.
pub const TEST_BASE_URL: &str = "https://apitest.wooshpay.com";

/// WooshPay's live host, chosen for `sk_live_` keys.
pub const LIVE_BASE_URL: &str = "https://api.wooshpay.com";

/// The prefix of the environment variables [`WooshPayClient::from_env`] reads: `WOOSHPAY_API_KEY`,
/// `WOOSHPAY_BASE_URL` and `WOOSHPAY_CURRENCY`.
pub const ENV_PREFIX: &str = "WOOSHPAY";

const API_KEY_VAR: &str = "WOOSHPAY_API_KEY";
const TEST_KEY_PREFIX: &str = "sk_test_";
const LIVE_KEY_PREFIX: &str = "sk_live_";
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
const REFUNDS_PATH: [&str; 2] = ["v1", "refunds"];

/// What WooshPay's refunds API offers: create (full or partial, of a payment intent) and retrieve by
/// id, with `Idempotency-Key` de-duplication. No list, no cancel, no lookup by payment.
fn capabilities() -> Capabilities {
    Capabilities::new()
        .partial_refunds(true)
        .retrieve(true)
        .list(None)
        .idempotency(IdempotencySupport::Header)
        .payment_kinds(&[PaymentRefKind::PaymentIntent])
}

/// Builds a [`WooshPayClient`]: the shared settings (key, base URL, timeouts, retries) plus an optional
/// account currency.
///
/// Without a base URL the host follows the key: `sk_test_` keys go to [`TEST_BASE_URL`], `sk_live_`
/// keys to [`LIVE_BASE_URL`]; any other key needs an explicit base URL.
#[derive(Debug, Clone, Default)]
pub struct WooshPayClientBuilder {
    settings: ClientSettings,
}

impl WooshPayClientBuilder {
    refunds::client_settings_setters!(settings);

    /// A builder with defaults and no key.
    pub fn new() -> WooshPayClientBuilder {
        WooshPayClientBuilder::default()
    }

    /// A builder from `WOOSHPAY_API_KEY`, `WOOSHPAY_BASE_URL` and `WOOSHPAY_CURRENCY` (all optional
    /// here; [`WooshPayClientBuilder::build`] reports a missing key or an unknown currency code).
    pub fn from_env() -> WooshPayClientBuilder {
        WooshPayClientBuilder {
            settings: ClientSettings::from_env(ENV_PREFIX),
        }
    }

    /// The account currency. WooshPay's create names no currency (the amount is minor units of the
    /// payment's currency), so with this set a create in another currency is refused before sending
    /// instead of refunding a wrongly scaled amount.
    pub fn currency(mut self, currency: Currency) -> Self {
        self.settings.set_currency(currency);
        self
    }

    /// The client; a missing key, a key whose mode cannot be told without a base URL, or a bad base URL
    /// is a `Configuration` error.
    pub fn build(self) -> Result<WooshPayClient> {
        let tag = |e: Error| e.with_provider(PROVIDER_ID);
        // The account currency is optional here; only a malformed WOOSHPAY_CURRENCY is an error.
        if let Some(problem) = &self.settings.currency_env_error {
            return Err(tag(Error::configuration(problem.clone())));
        }
        let key = self
            .settings
            .require_api_key(PROVIDER_ID, API_KEY_VAR)
            .map_err(tag)?
            .clone();
        let default_base_url = match &self.settings.base_url {
            // Overridden: the default is not used.
            Some(_) => TEST_BASE_URL,
            None if key.starts_with(TEST_KEY_PREFIX) => TEST_BASE_URL,
            None if key.starts_with(LIVE_KEY_PREFIX) => LIVE_BASE_URL,
            None => {
                return Err(tag(Error::configuration(format!(
                    "the api key starts with neither {TEST_KEY_PREFIX} nor {LIVE_KEY_PREFIX}, so test \
                     and live cannot be told apart; use a secret key or set a base url \
                     ({ENV_PREFIX}_BASE_URL)"
                ))));
            }
        };
        let config = self.settings.transport_config(default_base_url).map_err(tag)?;
        // Basic auth with the secret key as user name and an empty password.
        let auth = Auth::basic(key, "").map_err(tag)?;
        let transport = Transport::new(PROVIDER_ID, config, auth, decode_error)?;
        Ok(WooshPayClient {
            info: ProviderInfo::new(PROVIDER_ID, "WooshPay", capabilities()),
            transport,
            currency: self.settings.currency,
        })
    }
}

/// WooshPay refunds through [`RefundProvider`].
///
/// Every create carries an `Idempotency-Key` (the request's, or one generated per call), so the
/// transport retries creates after timeouts, resets and 5xx answers without refunding twice. When a
/// create still ends ambiguous, its error's [`Error::pending_create`] is the request with that key:
/// re-send it to get the refund the call may have made.
#[derive(Clone)]
pub struct WooshPayClient {
    info: ProviderInfo,
    transport: Transport,
    currency: Option<Currency>,
}

impl fmt::Debug for WooshPayClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The transport's Debug redacts the key; the rest holds no secret.
        f.debug_struct("WooshPayClient")
            .field("transport", &self.transport)
            .field("currency", &self.currency)
            .finish()
    }
}

impl WooshPayClient {
    /// A builder.
    pub fn builder() -> WooshPayClientBuilder {
        WooshPayClientBuilder::new()
    }

    /// A client from `WOOSHPAY_API_KEY`, `WOOSHPAY_BASE_URL` and `WOOSHPAY_CURRENCY`.
    pub fn from_env() -> Result<WooshPayClient> {
        WooshPayClientBuilder::from_env().build()
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.transport.config().base_url.as_str()
    }

    /// The configured account currency, if any.
    pub fn currency(&self) -> Option<Currency> {
        self.currency
    }

    /// The create body, or the reason it cannot be sent.
    fn create_body(&self, request: &CreateRefund) -> Result<WireCreateRefund> {
        request.validate()?;
        let payment_intent = request
            .payment()
            .expect_kind(PROVIDER_ID, &self.info.capabilities.payment_kinds)?;
        if request.description_given().is_some() {
            // Not a documented create field: refusing it beats dropping the caller's text.
            return Err(Error::invalid_request(
                "description",
                "wooshpay refunds take no description; put the text in metadata instead",
            ));
        }
        let amount = match request.amount_requested() {
            Some(amount) => {
                if let Some(account) = self.currency {
                    if amount.currency() != account {
                        return Err(Error::invalid_request(
                            "amount",
                            format!("the client is configured for {account}, not {}", amount.currency()),
                        ));
                    }
                }
                Some(MinorUnitsString::from_money(amount))
            }
            None => None,
        };
        let reason = match request.reason_given() {
            Some(reason) => Some(WireCreateReason::from_reason(reason).ok_or_else(|| {
                Error::invalid_request(
                    "reason",
                    format!(
                        "wooshpay takes duplicate, fraudulent, requested_by_customer or \
                         resolved_dispute, not {:?}",
                        reason.as_str()
                    ),
                )
            })?),
            None => None,
        };
        let mut metadata = request.metadata_given().clone();
        if let Some(reference) = request.merchant_reference_given() {
            match metadata.get(MERCHANT_REFERENCE_KEY) {
                Some(existing) if existing != reference => {
                    return Err(Error::invalid_request(
                        "metadata",
                        format!(
                            "metadata key {MERCHANT_REFERENCE_KEY:?} carries the merchant reference \
                             and differs from it"
                        ),
                    ));
                }
                _ => {
                    metadata.insert(MERCHANT_REFERENCE_KEY.to_owned(), reference.to_owned());
                }
            }
        }
        if metadata.len() > MAX_METADATA_ENTRIES {
            return Err(Error::invalid_request(
                "metadata",
                format!("at most {MAX_METADATA_ENTRIES} entries including the merchant reference"),
            ));
        }
        Ok(WireCreateRefund {
            payment_intent: Some(payment_intent.to_owned()),
            amount,
            reason,
            metadata,
        })
    }

    /// Parses one WooshPay refund object, exactly as WooshPay sends it (in a response or a webhook
    /// payload), into a [`Refund`]: the same conversion as every response, with the object's text kept
    /// in [`Refund::raw`] byte for byte.
    ///
    /// The currency is the object's own `currency` (WooshPay puts it on every refund; the configured
    /// account currency is never substituted for a missing one, because the amount is in the payment's
    /// currency). Anything that is not such an object (not JSON, not an object, a missing or null `id`,
    /// `amount`, `currency`, `payment_intent` or `status`, an amount that is not an integer) is a
    /// `Decode` error naming what is wrong and keeping the start of the text.
    ///
    /// ```
    /// # fn main() -> refunds::Result<()> {
    /// let client = refunds_wooshpay::WooshPayClient::builder().api_key("sk_test_your_key").build()?;
    /// let refund = client.refund_from_json(
    ///     br#"{"id": "re_1", "object": "refund", "amount": 100, "created": 1644328172, "currency": "usd",
    ///          "metadata": {}, "payment_intent": "pi_1", "reason": null, "status": "succeeded"}"#,
    /// )?;
    /// assert_eq!(refund.amount.to_major_string(), "1.00");
    /// # Ok(()) }
    /// ```
    pub fn refund_from_json(&self, json: &[u8]) -> Result<Refund> {
        let wire: WithRaw<WireRefund> = refunds::adapter::parse_object(json).map_err(|e| {
            Error::decode(format!("not a wooshpay refund object: {e}"))
                .with_body(json)
                .with_provider(PROVIDER_ID)
        })?;
        wire.value
            .into_refund(wire.raw)
            .map_err(|e| e.with_body(json).with_provider(PROVIDER_ID))
    }

    /// A refund answer: parse and conversion failures alike are `Decode` errors keeping the HTTP status,
    /// the request id and the start of the body.
    fn refund_from(&self, response: &ApiResponse) -> Result<Refund> {
        response
            .decode_object(|wire: WithRaw<WireRefund>| wire.value.into_refund(wire.raw))
            .map_err(|e| e.with_provider(PROVIDER_ID))
    }
}

#[async_trait]
impl RefundProvider for WooshPayClient {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    async fn create_refund(&self, request: &CreateRefund) -> Result<Refund> {
        let body = self.create_body(request).map_err(|e| e.with_provider(PROVIDER_ID))?;
        // One key per call, reused by every retry of this call: the create is always replay-safe.
        let key = request
            .idempotency_key_given()
            .cloned()
            .unwrap_or_else(IdempotencyKey::random);
        let call = ApiRequest::post(&REFUNDS_PATH)
            .json(&body)?
            .header(IDEMPOTENCY_KEY, key.as_str())?
            .replay_safe(true);
        let outcome = async {
            let response = self.transport.send(&call).await?;
            self.refund_from(&response)
        };
        outcome.await.map_err(|e| match request.idempotency_key_given() {
            Some(_) => note_pending_create(e, request),
            // The pending create carries the generated key, so that re-sending it returns the refund
            // this call may have made instead of making a second one.
            None => note_pending_create(e, &request.clone().idempotency_key(key.clone())),
        })
    }

    async fn get_refund(&self, id: &RefundId) -> Result<Refund> {
        let [v1, refunds] = REFUNDS_PATH;
        let response = self
            .transport
            .send(&ApiRequest::get(&[v1, refunds, id.as_str()]))
            .await?;
        self.refund_from(&response)
    }

    async fn list_refunds(&self, _request: &ListRefunds) -> Result<Page<Refund>> {
        Err(self.info.unsupported("listing refunds (no refund list is documented)"))
    }

    async fn find_created(&self, _request: &CreateRefund) -> Result<Vec<Refund>> {
        Err(Error::unsupported(
            "wooshpay has no refund list to search; re-send the error's pending create, which carries \
             the idempotency key of the first attempt, to get the refund it made, if any",
        )
        .with_provider(PROVIDER_ID))
    }
}
