//! A minimal reference provider built only from `refunds::adapter`, the way a third party would
//! write one: Bearer auth, integer minor units, offset paging, `{"error": {code, message, field}}`.

#![allow(dead_code)]

use refunds::adapter::amount::MinorUnits;
use refunds::adapter::errors::{CodeTable, stripe};
use refunds::adapter::{
    AccountCurrency, ApiResponse, AuthStyle, Client, CreateBody, Hosts, HttpProvider, Idempotency, ListBody,
    PagingSpec, ProviderSpec, Setup, StatusMap, WithRaw,
};
use refunds::{
    CreateFields, CreateRefund, Currency, Error, ErrorKind, IdempotencyKey, PagingStyle, PaymentRef, PaymentRefKind,
    Refund, RefundId, RefundStatus,
};
use refunds_testkit::{HarnessOptions, fast_retry};
use serde::{Deserialize, Serialize};

pub const STATUSES: StatusMap = StatusMap::new(&[
    ("pending", RefundStatus::Pending),
    ("succeeded", RefundStatus::Succeeded),
    ("failed", RefundStatus::Failed),
]);

#[derive(Deserialize)]
pub struct WireRefund {
    pub id: String,
    pub payment: String,
    pub amount: MinorUnits,
    pub currency: String,
    pub status: String,
}

#[derive(Serialize, Deserialize)]
pub struct WireCreate<'a> {
    #[serde(borrow)]
    pub payment: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<MinorUnits>,
    /// Free text, kept by the provider (the recovery property tags its creates with it).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
}

#[derive(Deserialize)]
struct WireList {
    data: Vec<WithRaw<WireRefund>>,
    total: u64,
}

const CODES: CodeTable = CodeTable::new(&[
    ("amount_too_large", ErrorKind::AmountExceedsRefundable),
    ("idempotency_conflict", ErrorKind::IdempotencyConflict),
]);

/// The reference provider: everything it writes is its wire.
#[derive(Debug)]
pub struct Reference;

pub type ReferenceClient = Client<Reference>;

impl HttpProvider for Reference {
    const SPEC: ProviderSpec = ProviderSpec {
        id: "reference",
        name: "Reference",
        env_prefix: "REFERENCE",
        hosts: Hosts::one("https://reference.invalid"),
        key_modes: false,
        auth: AuthStyle::Bearer,
        refunds_path: &["refunds"],
        paging: Some(PagingSpec {
            style: PagingStyle::Offset,
            default_limit: 10,
            max_limit: 100,
            status_param: None,
        }),
        idempotency: Idempotency::Header("idempotency-key"),
        statuses: STATUSES,
        payment_kinds: &[PaymentRefKind::Payment],
        partial_refunds: true,
        retrieve: true,
        carries: CreateFields::NONE.reason(true),
        currency: AccountCurrency::OnTheWire,
        key_retention: refunds::KEY_RETENTION_UNKNOWN,
        marker: None,
        replay_header: None,
    };
    type Options = ();

    fn new(_setup: Setup<'_, ()>) -> Result<Reference, Error> {
        Ok(Reference)
    }

    fn create_body(
        &self,
        request: &CreateRefund,
        _key: Option<&IdempotencyKey>,
        _options: &(),
    ) -> Result<CreateBody, Error> {
        CreateBody::json(&WireCreate {
            payment: request.payment().id(),
            amount: request.amount_requested().map(MinorUnits::from_money),
            reason: request.reason_given().map(|r| r.as_str().to_owned()),
        })
    }

    fn read_refund(&self, body: &[u8]) -> Result<Refund, Error> {
        let wire = refunds::adapter::parse_object(body).map_err(|e| Error::decode(e.to_string()))?;
        refund(wire)
    }

    fn read_list(&self, body: &[u8]) -> Result<ListBody, Error> {
        let list: WireList = serde_json::from_slice(body).map_err(|e| Error::decode(e.to_string()))?;
        let items = list.data.into_iter().map(refund).collect::<Result<Vec<_>, _>>()?;
        Ok(ListBody::new(items, Some(list.total), None))
    }

    fn read_error(response: &ApiResponse) -> Error {
        stripe::parse(&response.body)
            .unwrap_or_default()
            .into_error(response.status, &CODES)
    }
}

fn refund(wire: WithRaw<WireRefund>) -> Result<Refund, Error> {
    let currency = Currency::from_code(&wire.value.currency).map_err(|e| Error::decode(e.to_string()))?;
    Ok(Refund::new(
        RefundId::new(wire.value.id)?,
        "reference",
        PaymentRef::payment(wire.value.payment)?,
        wire.value.amount.to_money(currency),
        STATUSES.to_status(&wire.value.status),
        wire.raw,
    ))
}

impl Reference {
    /// A client of `base_url` with the harness's retries and timeout.
    pub fn client(base_url: &str, key: &str, options: &HarnessOptions) -> Result<ReferenceClient, Error> {
        ReferenceClient::builder()
            .api_key(key)
            .base_url(base_url)
            .retry(fast_retry(options.max_retries))
            .timeout(options.timeout)
            .build()
    }
}

/// A provider that is the reference provider with some fields of its spec changed:
/// `reference_variant!(pub Name, "id", field: value, ...)`.
macro_rules! reference_variant {
    ($(#[$meta:meta])* $vis:vis $name:ident, $id:literal, $($field:ident: $value:expr),*) => {
        $(#[$meta])*
        #[derive(Debug)]
        $vis struct $name($crate::common::reference::Reference);

        impl refunds::adapter::HttpProvider for $name {
            const SPEC: refunds::adapter::ProviderSpec = refunds::adapter::ProviderSpec {
                id: $id,
                $($field: $value,)*
                ..$crate::common::reference::Reference::SPEC
            };
            type Options = ();
            fn new(setup: refunds::adapter::Setup<'_, ()>) -> Result<Self, refunds::Error> {
                $crate::common::reference::Reference::new(setup).map($name)
            }
            fn create_body(
                &self,
                request: &refunds::CreateRefund,
                key: Option<&refunds::IdempotencyKey>,
                options: &(),
            ) -> Result<refunds::adapter::CreateBody, refunds::Error> {
                self.0.create_body(request, key, options)
            }
            fn read_refund(&self, body: &[u8]) -> Result<refunds::Refund, refunds::Error> {
                self.0.read_refund(body)
            }
            fn read_list(&self, body: &[u8]) -> Result<refunds::adapter::ListBody, refunds::Error> {
                self.0.read_list(body)
            }
            fn read_error(response: &refunds::adapter::ApiResponse) -> refunds::Error {
                $crate::common::reference::Reference::read_error(response)
            }
        }
    };
}
#[allow(unused_imports)] // used by some of the test crates that include `common`
pub(crate) use reference_variant;

reference_variant!(
    /// The reference wire without idempotency: a create is sent once.
    pub ReferenceOnce,
    "reference-once",
    idempotency: Idempotency::None
);
