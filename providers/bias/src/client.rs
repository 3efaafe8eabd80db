//! The Bias translator: the spec, the create body, and reading refunds, lists and errors. The engine
//! ([`refunds::adapter::Client`]) runs every call.

use refunds::adapter::amount::MinorUnits;
use refunds::adapter::{
    AccountCurrency, ApiResponse, AuthStyle, CreateBody, Hosts, HttpProvider, Idempotency, ListBody, PagingSpec,
    ProviderSpec, Setup, read,
};
use refunds::{
    CreateFields, CreateRefund, Currency, Error, IdempotencyKey, PagingStyle, PaymentRefKind, Refund, Result,
};
use serde::de::IgnoredAny;

use crate::wire::{STATUSES, WireCreate, WireList, to_refund};

/// Bias, as the engine runs it.
#[derive(Debug, Clone)]
pub struct Bias {
    currency: Currency,
    livemode: Option<bool>,
}

impl HttpProvider for Bias {
    const SPEC: ProviderSpec = ProviderSpec {
        id: crate::ID,
        name: "Bias",
        env_prefix: "BIAS",
        // One host; the key (`sk_live_` / `sk_test_`) chooses the environment.
        hosts: Hosts::one("https://api.biaspay.com/v1"),
        key_modes: true,
        auth: AuthStyle::Bearer,
        // Inferred from the documented REST pattern (`/v1/customers`); the docs show SDK calls only.
        refunds_path: &["refunds"],
        paging: Some(PagingSpec {
            style: PagingStyle::Cursor,
            default_limit: 50,
            max_limit: 1000,
            // `filters` exists, but its query encoding is not documented.
            status_param: None,
        }),
        idempotency: Idempotency::Header("idempotency-key"),
        statuses: STATUSES,
        payment_kinds: &[PaymentRefKind::Payment],
        partial_refunds: true,
        retrieve: true,
        // The create takes `payment` and `amount` only.
        carries: CreateFields::NONE,
        // No currency on the wire; the vendor's own code formats amounts as USD.
        currency: AccountCurrency::Default(Currency::USD),
        // Key retention is not documented; the vendor SDK reads `idempotency-replay: true` on replays.
        key_retention: refunds::KEY_RETENTION_UNKNOWN,
        marker: None,
        replay_header: Some("idempotency-replay"),
    };

    type Options = ();

    fn new(setup: Setup<'_, ()>) -> Result<Bias> {
        Ok(Bias {
            currency: setup.currency.unwrap_or(Currency::USD),
            livemode: setup.livemode,
        })
    }

    fn create_body(&self, request: &CreateRefund, _: Option<&IdempotencyKey>, _: &()) -> Result<CreateBody> {
        let body = WireCreate {
            payment: request.payment().id().to_owned(),
            amount: request.amount_requested().map(MinorUnits::from_money),
        };
        read::body_without_nulls(&body)
    }

    fn read_refund(&self, body: &[u8]) -> Result<Refund> {
        to_refund(read::object(body)?, self.currency, self.livemode)
    }

    fn read_list(&self, body: &[u8]) -> Result<ListBody> {
        let (list, items): (WireList<IgnoredAny>, _) = read::list(body, &["items"])?;
        if let Some(object) = list.object.as_deref().filter(|o| *o != "list") {
            return Err(Error::decode(format!("expected a list, got `object`: {object:?}")));
        }
        let items = read::items(items, |wire| to_refund(wire, self.currency, self.livemode))?;
        Ok(ListBody::new(items, None, list.has_more))
    }

    fn read_error(response: &ApiResponse) -> Error {
        crate::error::decode_error(response)
    }
}
