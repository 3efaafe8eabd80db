//! The 4Geeks translator: the spec, the create body, and reading refunds, lists and errors. The
//! engine ([`refunds::adapter::Client`]) runs every call.

use refunds::adapter::amount::MinorUnits;
use refunds::adapter::{
    AccountCurrency, ApiRequest, ApiResponse, AuthStyle, CreateBody, Described, Descriptor, Hosts, HttpProvider,
    Idempotency, ListBody, PagingSpec, ProviderSpec, Setup, read,
};
use refunds::{
    CreateFields, CreateRefund, Currency, Error, IdempotencyKey, PagingStyle, PaymentRef, PaymentRefKind, Refund,
    Result,
};
use serde::de::IgnoredAny;

use crate::wire::{STATUSES, WireCreateRefund, WireRefundList, into_refund};

/// 4Geeks Payments, as the engine runs it.
#[derive(Debug, Clone, Copy)]
pub struct FourGeeks {
    currency: Currency,
    livemode: Option<bool>,
}

impl Described for FourGeeks {
    #[cfg(feature = "sandbox")]
    const DESCRIPTOR: Descriptor = Descriptor::of::<Self>().sandbox(crate::sandbox::KIT);
    #[cfg(not(feature = "sandbox"))]
    const DESCRIPTOR: Descriptor = Descriptor::of::<Self>();
}

impl HttpProvider for FourGeeks {
    const SPEC: ProviderSpec = ProviderSpec {
        id: crate::ID,
        name: "4Geeks Payments",
        env_prefix: "FOURGEEKS",
        // Test (`sk_test_`) and live (`sk_live_`) keys share one host.
        hosts: Hosts::one("https://api.4geeks.io"),
        key_modes: true,
        auth: AuthStyle::Header("X-Api-Key"),
        refunds_path: &["v1", "refunds"],
        // The documented default page size is 10; no maximum is documented: 100 is assumed.
        paging: Some(PagingSpec {
            style: PagingStyle::Offset,
            default_limit: 10,
            max_limit: 100,
            status_param: None,
        }),
        // None documented: a create is sent once, never re-sent after it may have been received.
        idempotency: Idempotency::None,
        statuses: STATUSES,
        payment_kinds: &[PaymentRefKind::Payment],
        partial_refunds: true,
        retrieve: true,
        carries: CreateFields::NONE.reason(true),
        // Refunds carry no currency; payments do (`GET /v1/payments/{id}`): read per payment.
        currency: AccountCurrency::FromPayment,
        // 4Geeks echoes none of the caller's fields on a refund.
        key_retention: refunds::KEY_RETENTION_UNKNOWN,
        marker: None,
        replay_header: None,
    };

    type Options = ();

    fn new(setup: Setup<'_, ()>) -> Result<FourGeeks> {
        Ok(FourGeeks {
            currency: setup.currency.unwrap_or(Currency::USD),
            livemode: setup.livemode,
        })
    }

    fn create_body(&self, request: &CreateRefund, _: Option<&IdempotencyKey>, _: &()) -> Result<CreateBody> {
        let body = WireCreateRefund {
            payment_id: request.payment().id().to_owned(),
            amount: request.amount_requested().map(MinorUnits::from_money),
            reason: request.reason_given().map(|r| r.as_str().to_owned()),
        };
        read::body_without_nulls(&body)
    }

    fn read_refund(&self, body: &[u8]) -> Result<Refund> {
        into_refund(read::object(body)?, self.currency, self.livemode)
    }

    fn read_list(&self, body: &[u8]) -> Result<ListBody> {
        let (list, items): (WireRefundList<IgnoredAny>, _) = read::list(body, &["items"])?;
        let items = read::items(items, |wire| into_refund(wire, self.currency, self.livemode))?;
        Ok(ListBody::new(items, list.total_items, None))
    }

    /// `GET /v1/payments/{id}/` (the documentation's payments collection is `/v1/payments/`).
    fn payment_request(&self, payment: &PaymentRef) -> Option<Result<ApiRequest>> {
        Some(
            payment
                .expect_kind(crate::ID, &[PaymentRefKind::Payment])
                .map(|id| ApiRequest::get(&["v1", "payments", id]).trailing_slash()),
        )
    }

    fn read_payment_currency(&self, body: &[u8]) -> Result<Currency> {
        crate::wire::payment_currency(body)
    }

    fn read_error(response: &ApiResponse) -> Error {
        crate::error::decode_error(response)
    }

    /// `GET /v1/refunds/{refund_id}/`, with the slash the documentation writes: the API is a
    /// FastAPI/Django service, which answers the form without it with a redirect (never followed).
    fn retrieve(&self, call: ApiRequest) -> ApiRequest {
        call.trailing_slash()
    }
}
