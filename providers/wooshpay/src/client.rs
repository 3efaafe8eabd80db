//! The WooshPay translator: the spec, the create body, and reading refunds and errors. The engine
//! ([`refunds::adapter::Client`]) runs every call.

use refunds::adapter::amount::MinorUnitsString;
use refunds::adapter::{
    AccountCurrency, ApiResponse, AuthStyle, Client, ClientBuilder, CreateBody, Described, Descriptor, Hosts,
    HttpProvider, Idempotency, ProviderSpec, Setup, WithRaw, read,
};
use refunds::{
    CreateFields, CreateRefund, Error, IdempotencyKey, MAX_METADATA_ENTRIES, MarkerField, PaymentRefKind, Refund,
    Result,
};

use crate::wire::{MERCHANT_REFERENCE_KEY, STATUSES, WireCreateReason, WireCreateRefund, WireRefund};
use crate::{ENV_PREFIX, ID, LIVE_BASE_URL, TEST_BASE_URL};

/// WooshPay, as the engine runs it.
#[derive(Debug, Clone, Copy)]
pub struct WooshPay {
    pub(crate) livemode: Option<bool>,
}

/// WooshPay refunds through [`refunds::RefundProvider`] (the engine's [`Client`] over [`WooshPay`]).
///
/// Every create carries an `Idempotency-Key` (the request's, or one generated per call and reused by
/// its retries), so creates are re-sent after timeouts, resets, 5xx and 409 "in use" answers without
/// refunding twice. When a create still ends ambiguous, its error's [`Error::pending_create`] is the
/// request with that key: re-send it to get the refund the call may have made (WooshPay has no list
/// to search).
pub type WooshPayClient = Client<WooshPay>;

/// The builder of a [`WooshPayClient`]: the shared settings plus an optional account currency, which
/// then checks creates (WooshPay's create names no currency: the amount is in the payment's).
///
/// Without a base URL the host follows the key: `sk_test_` keys go to [`TEST_BASE_URL`], `sk_live_`
/// keys to [`LIVE_BASE_URL`]; any other key needs an explicit base URL.
pub type WooshPayClientBuilder = ClientBuilder<WooshPay>;

impl Described for WooshPay {
    #[cfg(feature = "sandbox")]
    const DESCRIPTOR: Descriptor = Descriptor::of::<Self>()
        .webhooks(crate::webhooks::KIT)
        .sandbox(crate::sandbox::KIT);
    #[cfg(not(feature = "sandbox"))]
    const DESCRIPTOR: Descriptor = Descriptor::of::<Self>().webhooks(crate::webhooks::KIT);
}

impl HttpProvider for WooshPay {
    const SPEC: ProviderSpec = ProviderSpec {
        id: ID,
        name: "WooshPay",
        env_prefix: ENV_PREFIX,
        hosts: Hosts {
            test: TEST_BASE_URL,
            live: LIVE_BASE_URL,
        },
        key_modes: true,
        // Basic with the secret key as user name and an empty password.
        auth: AuthStyle::BasicKeyAsUser,
        refunds_path: &["v1", "refunds"],
        // Only Create and Retrieve are documented.
        paging: None,
        idempotency: Idempotency::Header("idempotency-key"),
        statuses: STATUSES,
        payment_kinds: &[PaymentRefKind::PaymentIntent],
        partial_refunds: true,
        retrieve: true,
        // No description field; the merchant reference travels in metadata.
        carries: CreateFields::NONE.reason(true).metadata(true).merchant_reference(true),
        currency: AccountCurrency::OnTheWire,
        // Stripe-style: metadata is echoed; keys are kept at least a day (Stripe documents 24 hours).
        key_retention: refunds::KEY_RETENTION_UNKNOWN,
        marker: Some(MarkerField::Metadata(refunds::adapter::MARKER_KEY)),
        replay_header: None,
    };

    type Options = ();

    fn new(setup: Setup<'_, ()>) -> Result<WooshPay> {
        if setup.livemode.is_none() && setup.settings.base_url.is_none() {
            return Err(Error::configuration(format!(
                "the api key starts with neither sk_test_ nor sk_live_, so test and live cannot be told \
                 apart; use a secret key or set a base url ({ENV_PREFIX}_BASE_URL)"
            )));
        }
        Ok(WooshPay {
            livemode: setup.livemode,
        })
    }

    fn create_body(&self, request: &CreateRefund, _: Option<&IdempotencyKey>, _: &()) -> Result<CreateBody> {
        let amount = match request.amount_requested() {
            Some(amount) => Some(MinorUnitsString(crate::units::to_wire(amount)?.to_string())),
            None => None,
        };
        let reason = match request.reason_given() {
            Some(reason) => Some(WireCreateReason::from_reason(reason).ok_or_else(|| {
                Error::invalid_request(
                    "reason",
                    format!(
                        "wooshpay takes duplicate, fraudulent, requested_by_customer or resolved_dispute, not {:?}",
                        reason.as_str()
                    ),
                )
            })?),
            None => None,
        };
        let metadata =
            read::metadata_with_reference(request, MERCHANT_REFERENCE_KEY, MAX_METADATA_ENTRIES, "metadata")?;
        let body = WireCreateRefund {
            payment_intent: Some(request.payment().id().to_owned()),
            amount,
            reason,
            metadata,
        };
        read::body_without_nulls(&body)
    }

    /// The currency is the object's own `currency` (WooshPay puts it on every refund; the configured
    /// account currency is never substituted for a missing one) and the amount is read with the same
    /// units table as creates.
    fn read_refund(&self, body: &[u8]) -> Result<Refund> {
        let wire: WithRaw<WireRefund> = read::object(body)?;
        wire.value.into_refund(wire.raw, self.livemode)
    }

    fn read_error(response: &ApiResponse) -> Error {
        crate::error::decode_error(response)
    }
}
