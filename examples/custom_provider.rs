//! A provider written outside this repository, in one file, with only the public API: "Acme Pay", a
//! made-up JSON API (`POST /v2/refunds`, `GET /v2/refunds/{id}`, Bearer keys `ak_test_`/`ak_live_`,
//! integer minor units with the currency on every refund, an `Idempotency-Key` header).
//!
//! 1. The translator: [`Acme`] implements [`HttpProvider`] and [`Described`] (a spec plus pure functions: the create
//!    body, reading a refund, reading an error). The engine runs every call: retries, idempotency,
//!    recovery, paging, timeouts.
//! 2. Its sandbox: [`AcmeSkin`] answers in Acme's shape over the shared ledger ([`SpecSkin`]).
//! 3. Its descriptor: [`DESCRIPTOR`], the one value the registry, the command line
//!    (`refunds_cli::main_with(&[DESCRIPTOR])`) and the shared suite take.
//!
//! `main` registers it at run time and drives it through the registry, on its sandbox. The whole
//! shared suite runs on it in `tests/custom_provider.rs`:
//! `refunds_testkit::provider_suite!(Acme, include_str!("custom_provider.json"))`.
//!
//! Run: `cargo run -p refunds-examples --example custom_provider`.

use std::collections::BTreeMap;

use refunds::adapter::amount::MinorUnits;
use refunds::adapter::errors::{self, CodeTable, ErrorBody};
use refunds::adapter::{
    AccountCurrency, ApiResponse, AuthStyle, CreateBody, Described, Descriptor, Hosts, HttpProvider, Idempotency,
    MARKER_KEY, ProviderSpec, Setup, StatusMap, WithRaw, read,
};
use refunds::sandbox::{Call, LedgerError, RefundDraft, RefundRecord, Refusal, SandboxKit, SandboxResponse, SpecSkin};
use refunds::{
    CreateFields, CreateRefund, Currency, Error, ErrorKind, IdempotencyKey, MAX_METADATA_ENTRIES, MarkerField,
    PaymentRef, PaymentRefKind, Refund, RefundId, Result,
};
use serde::{Deserialize, Serialize};

/// The provider id.
pub const ID: &str = "acme";

/// Acme's statuses: the common ones (`pending`, `succeeded`, `failed`, `canceled`).
const STATUSES: StatusMap = StatusMap::new(read::COMMON_STATUSES);

/// The translator. It holds what a client knows: whether its key is live.
#[derive(Debug, Clone, Copy)]
pub struct Acme {
    livemode: Option<bool>,
}

/// A create as Acme takes it.
#[derive(Debug, Serialize, Deserialize)]
struct WireCreate {
    payment: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<i64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    metadata: BTreeMap<String, String>,
}

/// A refund as Acme sends it.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct WireRefund {
    id: Option<String>,
    payment: Option<String>,
    amount: Option<MinorUnits>,
    currency: Option<String>,
    status: Option<String>,
    metadata: BTreeMap<String, String>,
}

impl Described for Acme {
    const DESCRIPTOR: Descriptor = Descriptor::of::<Acme>().sandbox(
        SandboxKit::new(API_KEY, "re_", |_currency| Box::new(AcmeSkin))
            .demo("pay_acme_1", refunds::Money::from_minor(5_000, Currency::GBP)),
    );
}

impl HttpProvider for Acme {
    const SPEC: ProviderSpec = ProviderSpec {
        id: ID,
        name: "Acme Pay",
        env_prefix: "ACME",
        hosts: Hosts {
            test: "https://sandbox.acme-pay.example",
            live: "https://api.acme-pay.example",
        },
        key_modes: true,
        auth: AuthStyle::Bearer,
        refunds_path: &["v2", "refunds"],
        paging: None,
        idempotency: Idempotency::Header("idempotency-key"),
        statuses: STATUSES,
        payment_kinds: &[PaymentRefKind::Payment],
        partial_refunds: true,
        retrieve: true,
        carries: CreateFields::NONE.metadata(true).merchant_reference(true),
        currency: AccountCurrency::OnTheWire,
        key_retention: refunds::KEY_RETENTION_UNKNOWN,
        marker: Some(MarkerField::Metadata(MARKER_KEY)),
        replay_header: None,
    };

    type Options = ();

    fn new(setup: Setup<'_, ()>) -> Result<Acme> {
        Ok(Acme {
            livemode: setup.livemode,
        })
    }

    fn create_body(&self, request: &CreateRefund, _: Option<&IdempotencyKey>, _: &()) -> Result<CreateBody> {
        let metadata = read::metadata_with_reference(request, "reference", MAX_METADATA_ENTRIES, "metadata")?;
        read::body_without_nulls(&WireCreate {
            payment: request.payment().id().to_owned(),
            amount: request.amount_requested().map(|m| m.minor()),
            metadata,
        })
    }

    fn read_refund(&self, body: &[u8]) -> Result<Refund> {
        let wire: WithRaw<WireRefund> = read::object(body)?;
        let (refund, raw) = (wire.value, wire.raw);
        let id = RefundId::new(refund.id.ok_or_else(|| read::missing_field("id"))?)
            .map_err(|e| read::bad_field("id", &e))?;
        let payment = PaymentRef::payment(refund.payment.ok_or_else(|| read::missing_field("payment"))?)
            .map_err(|e| read::bad_field("payment", &e))?;
        let currency = refund.currency.ok_or_else(|| read::missing_field("currency"))?;
        let currency = Currency::from_code(&currency).map_err(|e| read::bad_field("currency", &e))?;
        let amount = refund.amount.ok_or_else(|| read::missing_field("amount"))?;
        let status = refund.status.ok_or_else(|| read::missing_field("status"))?;
        let reference = refund.metadata.get("reference").cloned();
        let amount = refunds::Money::from_minor(amount.0, currency);
        Ok(Refund::new(id, ID, payment, amount, STATUSES.to_status(&status), raw)
            .with_merchant_reference(reference)
            .with_metadata(refund.metadata)
            .with_livemode(self.livemode))
    }

    fn read_error(response: &ApiResponse) -> Error {
        const CODES: CodeTable = CodeTable::new(&[
            ("amount_too_large", ErrorKind::AmountExceedsRefundable),
            ("already_refunded", ErrorKind::AlreadyRefunded),
            ("not_found", ErrorKind::NotFound),
            ("key_in_use", ErrorKind::IdempotencyConflict),
            ("key_reused", ErrorKind::IdempotencyConflict),
        ]);
        errors::parse_any(&response.body)
            .unwrap_or_default()
            .into_error(response.status, &CODES)
    }
}

/// The key Acme's sandbox accepts.
pub const API_KEY: &str = "ak_test_acme_sandbox_0001";

/// Acme's face over the shared ledger: its JSON in, its JSON and error envelope out.
#[derive(Debug, Clone, Copy)]
pub struct AcmeSkin;

fn acme_error(status: u16, code: &str, message: &str) -> SandboxResponse {
    let mut body = ErrorBody::new(message);
    body.code = Some(code.to_owned());
    SandboxResponse::json(status, &errors::stripe::write(&body))
}

/// An error about one field of the request (`param` in Acme's envelope).
fn field_error(code: &str, field: &str, message: &str) -> SandboxResponse {
    let mut body = ErrorBody::new(message);
    body.code = Some(code.to_owned());
    body.param = Some(field.to_owned());
    SandboxResponse::json(400, &errors::stripe::write(&body))
}

impl SpecSkin for AcmeSkin {
    const SPEC: ProviderSpec = Acme::SPEC;
    const API_KEYS: &'static [&'static str] = &[API_KEY];

    fn decode_create(&self, call: &Call<'_>) -> std::result::Result<RefundDraft, SandboxResponse> {
        let body: WireCreate = call
            .request
            .json()
            .map_err(|e| acme_error(400, "invalid_body", &format!("invalid body: {e}")))?;
        let mut draft = RefundDraft::new(body.payment);
        draft.amount_minor = body.amount;
        draft.metadata = body.metadata;
        Ok(draft)
    }

    fn encode_refund(&self, record: &RefundRecord, _call: &Call<'_>) -> impl Serialize {
        WireRefund {
            id: Some(record.id.clone()),
            payment: Some(record.payment_id.clone()),
            amount: Some(MinorUnits(record.amount.minor())),
            currency: Some(record.amount.currency().code().to_owned()),
            status: STATUSES.to_wire(&record.status).map(str::to_owned),
            metadata: record.metadata.clone(),
        }
    }

    fn encode_error(&self, refusal: Refusal<'_>) -> SandboxResponse {
        match refusal {
            Refusal::Unauthorized { .. } => acme_error(401, "unauthorized", "invalid api key"),
            Refusal::NoSuchRefund { id } => acme_error(404, "not_found", &format!("no refund {id}")),
            Refusal::Ledger { error, .. } => match error {
                LedgerError::PaymentNotFound(p) => acme_error(404, "not_found", &format!("no payment {p}")),
                LedgerError::AmountExceedsRefundable { .. } => field_error("amount_too_large", "amount", "too much"),
                LedgerError::InvalidAmount => field_error("invalid_amount", "amount", "amount must be at least 1"),
                LedgerError::AlreadyRefunded(_) => acme_error(400, "already_refunded", "already refunded"),
                LedgerError::IdempotencyConflict => acme_error(409, "key_reused", "another request used this key"),
                other => acme_error(400, "invalid_request", &other.to_string()),
            },
            Refusal::InProgress => acme_error(409, "key_in_use", "a request with this key is in progress"),
            Refusal::Fault { status, message } => acme_error(status, "fault", message),
            _ => acme_error(400, "invalid_request", "invalid request"),
        }
    }
}

/// Acme, described once.
pub const DESCRIPTOR: Descriptor = <Acme as Described>::DESCRIPTOR;

/// Registers Acme, then creates a refund through the registry on its sandbox and reads it back.
#[allow(dead_code)] // the suite includes this file as a module
#[tokio::main]
pub async fn main() -> Result<()> {
    // Known to every registry and config from here on, as if it were compiled in.
    refunds_registry::register(DESCRIPTOR)?;
    assert!(refunds_registry::available().contains(&ID));

    // Every provider on its sandbox, Acme among them, seeded with its demo payment.
    let (registry, sandboxes) = refunds_registry::Registry::sandbox().await?;
    let acme = registry.provider(ID)?;
    let demo = sandboxes.get(ID).expect("acme's sandbox runs");
    let request = CreateRefund::new(PaymentRef::payment(demo.payment_id)?)
        .amount(refunds::Money::from_minor(1_250, Currency::GBP))
        .merchant_reference("order-1042");
    let refund = acme.create_refund(&request).await?;
    println!("{} {} {} {}", refund.provider, refund.id, refund.amount, refund.status);

    // A refund read back goes to the provider that made it.
    let fresh = registry.for_refund(&refund)?.get_refund(&refund.id).await?;
    assert_eq!(fresh.merchant_reference.as_deref(), Some("order-1042"));
    println!("read back through the registry: {} {}", fresh.id, fresh.status);
    Ok(())
}
