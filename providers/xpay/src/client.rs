//! The XPay translator: the spec, the create body, and reading refunds, lists and errors. The engine
//! ([`refunds::adapter::Client`]) runs every call.

use refunds::adapter::amount::MinorUnits;
use refunds::adapter::{
    AccountCurrency, ApiResponse, AuthStyle, Client, ClientBuilder, CreateBody, Described, Descriptor, Hosts,
    HttpProvider, Idempotency, ListBody, PagingSpec, ProviderSpec, Setup, read,
};
use refunds::{
    CreateFields, CreateRefund, Error, IdempotencyKey, MAX_METADATA_ENTRIES, MarkerField, PagingStyle, PaymentRefKind,
    Refund, Result,
};
use serde::de::IgnoredAny;

use crate::wire::{MERCHANT_REFERENCE_KEY, STATUSES, WireCreate, into_refund};

/// XPay, as the engine runs it.
#[derive(Debug, Clone, Copy)]
pub struct XPay;

/// An XPay refunds client (the engine's [`Client`] over [`XPay`]).
///
/// XPay refund objects carry their currency, so no currency is needed. One may be configured
/// (`.currency(..)` or `XPAY_CURRENCY`): XPay takes no currency on a create and refunds the given minor
/// units in the charge's currency, so the configured account currency is the only check that an amount
/// is not sent in the wrong units; a create whose amount is in another currency is then refused before
/// sending. Refunds read back always carry the currency XPay reports (see the README).
pub type XPayClient = Client<XPay>;

/// The builder of an [`XPayClient`].
pub type XPayClientBuilder = ClientBuilder<XPay>;

/// The references XPay refunds: a charge (`chargeId`) or a payment intent (`paymentIntentId`).
const PAYMENT_KINDS: &[PaymentRefKind] = &[PaymentRefKind::Charge, PaymentRefKind::PaymentIntent];

impl Described for XPay {
    #[cfg(feature = "sandbox")]
    const DESCRIPTOR: Descriptor = Descriptor::of::<Self>()
        .webhooks(crate::webhooks::KIT)
        .sandbox(crate::sandbox::KIT);
    #[cfg(not(feature = "sandbox"))]
    const DESCRIPTOR: Descriptor = Descriptor::of::<Self>().webhooks(crate::webhooks::KIT);
}

impl HttpProvider for XPay {
    const SPEC: ProviderSpec = ProviderSpec {
        id: crate::ID,
        name: "XPay",
        env_prefix: "XPAY",
        // No separate sandbox host is documented; `sk_test_` keys (and `evt_test_` events) are test mode.
        hosts: Hosts::one("https://api.xpay.app"),
        key_modes: true,
        auth: AuthStyle::Bearer,
        refunds_path: &["refunds"],
        // `GET /refunds` exists but its parameters and envelope are undocumented: one page, no query
        // parameter sent; the limit (1..=100, assumed) is checked and not sent.
        paging: Some(PagingSpec {
            style: PagingStyle::SinglePage,
            default_limit: 100,
            max_limit: 100,
            status_param: None,
        }),
        // None documented: a create is sent once; only a refused connection and a 429 are re-sent.
        idempotency: Idempotency::None,
        statuses: STATUSES,
        payment_kinds: PAYMENT_KINDS,
        partial_refunds: true,
        retrieve: true,
        // The merchant reference travels in `metadata` (see `MERCHANT_REFERENCE_KEY`).
        carries: CreateFields::NONE
            .reason(true)
            .description(true)
            .metadata(true)
            .merchant_reference(true),
        currency: AccountCurrency::OnTheWire,
        // Metadata is read back from refund objects, so the engine writes its marker there.
        key_retention: refunds::KEY_RETENTION_UNKNOWN,
        marker: Some(MarkerField::Metadata(refunds::adapter::MARKER_KEY)),
        replay_header: None,
    };

    type Options = ();

    fn new(_setup: Setup<'_, ()>) -> Result<XPay> {
        Ok(XPay)
    }

    fn create_body(&self, request: &CreateRefund, _: Option<&IdempotencyKey>, _: &()) -> Result<CreateBody> {
        let payment = request.payment();
        let id = Some(payment.id().to_owned());
        // The engine let through a charge or a payment intent only.
        let (charge_id, payment_intent_id) = match payment.kind() {
            PaymentRefKind::Charge => (id, None),
            _ => (None, id),
        };
        // Sent as metadata `merchant_reference`; a different value there is refused.
        let metadata = read::metadata_with_reference(
            request,
            MERCHANT_REFERENCE_KEY,
            MAX_METADATA_ENTRIES,
            "merchant_reference",
        )?;
        let body = WireCreate {
            charge_id,
            payment_intent_id,
            amount: request.amount_requested().map(MinorUnits::from_money),
            reason: request.reason_given().map(|r| r.as_str().to_owned()),
            description: request.description_given().map(str::to_owned),
            metadata,
        };
        read::body_without_nulls(&body)
    }

    fn read_refund(&self, body: &[u8]) -> Result<Refund> {
        into_refund(read::object(body)?)
    }

    fn read_list(&self, body: &[u8]) -> Result<ListBody> {
        // A bare array, or an object with `data` or `items` (the real envelope is undocumented; the
        // sandbox writes `{"data": [...]}`).
        let (_, items): (IgnoredAny, _) = read::list(body, &["data", "items"])?;
        let items = read::items(items, into_refund)?;
        Ok(ListBody::new(items, None, None))
    }

    fn read_error(response: &ApiResponse) -> Error {
        crate::error::decode_error(response)
    }
}
