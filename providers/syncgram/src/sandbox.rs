//! SyncgramPay simulated on 127.0.0.1 over the shared ledger ([`start`], [`builder_for`]): its paths,
//! fields, decimal strings, Bearer keys ([`API_KEY`], [`LIVE_API_KEY`]), FastAPI errors, a [`FEE_PERCENT`]
//! fee, replay by `idempotency_key` (409 for another body or a key in progress; the README lists the
//! assumptions; the ledger's metadata keeps the `fee_bearer` sent). [`enable_webhooks`] sends signed
//! webhooks on every refund change in the Bachs envelope and scheme ([`crate::webhooks`]).

use refunds::adapter::{HttpProvider, ProviderSpec, Secret, amount::MajorDecimal, errors::ErrorBody, errors::fastapi};
use refunds::sandbox::ChangeKind;
use refunds::sandbox::{
    BadParam, Call, Ledger, LedgerError, Page, RefundDraft, RefundRecord, Refusal, Sandbox, SandboxKit, SandboxWebhooks,
};
use refunds::sandbox::{SandboxResponse, SimulatedOutcome as LedgerOutcome, SpecSkin, WebhookSender, event_kind};
use refunds::{Currency, FieldError, Money, RefundStatus, Result};
use serde::Serialize;

use crate::client::{MAX_IDEMPOTENCY_KEY_LEN, MAX_REASON_LEN, MAX_REFERENCE_LEN, MAX_REFUND_ADDRESS_LEN};
use crate::wire::{STATUSES, SimulatedOutcome, WireCreateRefund, WireRefund, WireRefundList};
use crate::{Syncgram, SyncgramClient, SyncgramClientBuilder, webhooks::EVENTS, webhooks::SyncgramScheme};

/// A test-mode key the sandbox accepts.
pub const API_KEY: &str = "sk_test_syncgram_sandbox_0000";
/// A key the sandbox treats as live mode, where test-only options (`simulated_outcome`) are refused.
pub const LIVE_API_KEY: &str = "sk_live_syncgram_sandbox_0000";
/// The sandbox's refund fee, in percent of the refunded amount (rounded down to the minor unit).
pub const FEE_PERCENT: i64 = 1;
/// The refund id prefix of the sandbox's ledger.
pub const REFUND_ID_PREFIX: &str = "ref_";
/// The settlement currency [`builder_for`] configures; seed payments in it, or call `.currency(..)`.
pub const CURRENCY: Currency = Currency::USD;

/// Starts a SyncgramPay sandbox with an empty ledger on an ephemeral port of 127.0.0.1.
pub async fn start() -> std::io::Result<Sandbox> {
    start_at(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).await
}

/// Starts a sandbox on `addr`, a loopback address (port 0: an ephemeral one), as
/// `refunds sandbox serve` does.
pub async fn start_at(addr: std::net::SocketAddr) -> std::io::Result<Sandbox> {
    Sandbox::start_at(addr, SyncgramSkin, Ledger::new(REFUND_ID_PREFIX)).await
}

/// A client builder pointed at `sandbox` with [`API_KEY`] and the settlement currency [`CURRENCY`].
pub fn builder_for(sandbox: &Sandbox) -> SyncgramClientBuilder {
    let builder = SyncgramClient::builder().api_key(API_KEY);
    builder.base_url(sandbox.base_url()).currency(CURRENCY)
}

/// SyncgramPay's face over the shared ledger (see the [module docs](self)).
#[derive(Debug, Clone, Copy, Default)]
pub struct SyncgramSkin;

fn wire_refund(record: &RefundRecord) -> WireRefund<'_> {
    let decimal = |money: &Money| Some(MajorDecimal::string(money));
    let fee = record.fee.unwrap_or(Money::zero(record.amount.currency()));
    let status = STATUSES.to_wire(&record.status).unwrap_or(record.status.as_str());
    // Without one sent, the organisation's configured fee bearer is assumed to be ORG.
    let bearer = record.metadata.get("fee_bearer").map_or("ORG", String::as_str);
    WireRefund {
        refund_id: record.id.clone(),
        charge_id: record.payment_id.clone(),
        reference: record.reference.clone(),
        status: status.into(),
        requested_amount: MajorDecimal::string(&record.amount),
        refunded_amount: decimal(&record.amount).filter(|_| record.status == RefundStatus::Succeeded),
        refund_fee_amount: decimal(&fee),
        fee_bearer: Some(bearer.into()),
        reason: record.reason.as_deref().map(Into::into),
        created_at: Some(record.created_at),
        updated_at: Some(record.updated_at),
        completed_at: record.completed_at,
    }
}

impl SpecSkin for SyncgramSkin {
    const SPEC: ProviderSpec = Syncgram::SPEC;
    const API_KEYS: &'static [&'static str] = &[API_KEY, LIVE_API_KEY];

    fn decode_create(&self, call: &Call<'_>) -> Result<RefundDraft, SandboxResponse> {
        let body = call.request.json::<WireCreateRefund>();
        let body = body.map_err(|_| invalid("body", "Input should be a valid refund request"))?;
        let (reason, address, key) = (&body.reason, &body.refund_address, &body.idempotency_key);
        let texts = [
            ("reference", Some(&body.reference), 1, MAX_REFERENCE_LEN),
            ("reason", reason.as_ref(), 0, MAX_REASON_LEN),
            ("refund_address", address.as_ref(), 1, MAX_REFUND_ADDRESS_LEN),
            ("idempotency_key", key.as_ref(), 1, MAX_IDEMPOTENCY_KEY_LEN),
        ];
        for (field, text, min, max) in texts {
            if text.is_some_and(|t| !(min..=max).contains(&t.chars().count())) {
                let message = format!("String should have between {min} and {max} characters");
                return Err(invalid(&format!("body.{field}"), &message));
            }
        }
        if body.simulated_outcome.is_some() && call.key == LIVE_API_KEY {
            return Err(detail(400, "simulated_outcome is only available in test mode"));
        }
        let payment = call.ledger.payment(&body.charge_id);
        let payment = payment.ok_or_else(|| detail(404, "Charge not found"))?;
        let currency = payment.captured.currency();
        // A non-positive amount is refused by the generic skin, as the ledger's `InvalidAmount`.
        let amount = body.amount.as_ref().map(|a| a.to_money(currency, "amount"));
        let places = |_| invalid("body.amount", "Amount has more decimal places than the currency");
        let amount_minor = amount.transpose().map_err(places)?.map(|money| money.minor());
        let mut draft = RefundDraft::new(body.charge_id.clone());
        draft.fee_minor = Some(amount_minor.unwrap_or(payment.refundable().minor()).max(0) * FEE_PERCENT / 100);
        draft.amount_minor = amount_minor;
        draft.reason = body.reason;
        draft.reference = Some(body.reference);
        if body.simulated_outcome == Some(SimulatedOutcome::Failed) {
            draft.outcome = LedgerOutcome::Fail;
        }
        let bearer = body.fee_bearer.map(|b| b.as_str().to_owned());
        draft.metadata.extend(bearer.map(|b| ("fee_bearer".to_owned(), b)));
        Ok(draft)
    }

    fn encode_refund(&self, record: &RefundRecord, _call: &Call<'_>) -> impl Serialize {
        wire_refund(record)
    }

    fn encode_page(&self, page: &Page<RefundRecord>, _call: &Call<'_>) -> impl Serialize {
        let (total, items) = (page.total, page.items.iter().map(wire_refund).collect());
        WireRefundList { total, items }
    }

    #[rustfmt::skip]
    fn encode_error(&self, refusal: Refusal<'_>) -> SandboxResponse {
        match refusal {
            Refusal::Unauthorized { .. } => detail(401, "Invalid or missing API key"),
            Refusal::NoSuchRefund { .. } => detail(404, "Not found"),
            Refusal::BadParams([BadParam { name: "limit", .. }, ..]) => invalid("query.limit", "Input should be between 1 and 100"),
            Refusal::BadParams(_) => invalid("query.offset", "Input should be greater than or equal to 0"),
            Refusal::Ledger { error, .. } => match error {
                LedgerError::PaymentNotFound(_) => detail(404, "Charge not found"),
                LedgerError::PaymentNotRefundable(_) => detail(400, "Charge is not refundable"),
                LedgerError::AmountExceedsRefundable { available } => detail(400, &format!("Refund amount exceeds the refundable {}", available.to_major_string())),
                LedgerError::AlreadyRefunded(_) => detail(400, "Charge has already been fully refunded"),
                LedgerError::IdempotencyConflict => detail(409, "Idempotency conflict: key reused with a different request"),
                LedgerError::InvalidAmount => invalid("body.amount", "Input should be greater than 0"),
                other => detail(400, &other.to_string()),
            },
            Refusal::InProgress => detail(409, "A request with this idempotency key is in progress"),
            Refusal::Fault { status, message } => detail(status, message),
            _ => detail(404, "Not Found"),
        }
    }

    /// `GET .../payins/{charge}/refund`: the charge's latest refund (404 for none or an unknown charge).
    fn extra_route(&self, call: &Call<'_>) -> Option<SandboxResponse> {
        let path = ["api", "v1", "payments", "payins", "*", "refund"];
        call.request.is("GET", &path).then(|| {
            let latest = call.ledger.refunds_for_payment(&call.request.segments[4]).pop();
            let found = latest.map(|r| SandboxResponse::json(200, &wire_refund(&r)));
            found.unwrap_or_else(|| detail(404, "Not found"))
        })
    }
}

fn detail(status: u16, message: &str) -> SandboxResponse {
    SandboxResponse::json(status, &fastapi::write(&ErrorBody::new(message)))
}

/// FastAPI's validation answer about `loc` (`body.amount`), with SyncgramPay's documented 400.
fn invalid(loc: &str, message: &str) -> SandboxResponse {
    let field = FieldError::new(loc, message, Some("value_error".into()));
    SandboxResponse::json(400, &fastapi::write(&ErrorBody::default().with_field(field)))
}

/// Makes `sandbox` send signed webhooks for every refund state change (created, settled, failed),
/// signed with `secret` (8 to 64 characters) in the Bachs scheme: `X-Bachs-Signature-V2: t=..,v1=..`,
/// hex HMAC-SHA256 over `t.body` ([`crate::webhooks`]). Verify them with
/// `refunds_syncgram::webhooks::verifier(secret, CURRENCY)`. Register the receiving URLs (loopback
/// only) on the returned sender; a non-2xx answer is retried 3 times (50 ms, doubling).
/// Deliveries run as [`refunds::sandbox::send_webhooks`] says ([`WebhookSender::wait_idle`] waits for them).
pub fn enable_webhooks(sandbox: &Sandbox, secret: impl Into<Secret>) -> Result<WebhookSender> {
    let scheme = crate::webhooks::scheme(secret)?;
    Ok(enable_webhooks_with(sandbox, scheme, WebhookSender::new()?))
}

/// [`enable_webhooks`] with a scheme (the legacy pair with [`crate::webhooks::legacy_scheme`], another
/// header or signed bytes built with [`crate::webhooks::builder`]) and a sender (other retries) of
/// your own; returns the sender.
pub fn enable_webhooks_with(sandbox: &Sandbox, scheme: SyncgramScheme, sender: WebhookSender) -> WebhookSender {
    refunds::sandbox::send_webhooks(sandbox, scheme, sender, webhook_body)
}

/// The organisation the sandbox's events name (`organization_id`).
pub const ORGANIZATION_ID: &str = "org_sandbox";

/// SyncgramPay's (Bachs') event envelope, fields in the documented order.
#[derive(serde::Serialize)]
struct WireEvent<'a> {
    id: &'a str,
    r#type: &'a str,
    created_at: String,
    organization_id: &'a str,
    data: WireRefund<'a>,
}

/// The event `id` of `event_type` about `record`: `{id, type, created_at, organization_id, data}`,
/// `data` the refund object as `GET` answers it, `created_at` the record's last change. What the
/// sandbox sends, and what `refunds webhook trigger` signs.
pub fn event_body(record: &RefundRecord, event_type: &str, id: &str) -> Option<Vec<u8>> {
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    let event = WireEvent {
        id,
        r#type: event_type,
        created_at: record.updated_at.format(rfc3339).ok()?,
        organization_id: ORGANIZATION_ID,
        data: wire_refund(record),
    };
    serde_json::to_vec(&event).ok()
}

/// The event for a refund's change (none for a change the event table has no name for).
fn webhook_body(record: &RefundRecord, change: ChangeKind, n: u64) -> Option<Vec<u8>> {
    let event_type = EVENTS.wire_type(&event_kind(record, change))?;
    event_body(record, event_type, &format!("evt_sbx{n:010}"))
}

/// The sandbox for tools that serve every provider (the registry's demo, `refunds sandbox serve`, the
/// shared suite): this key, this skin, and a demo payment of "ch_a1b2c3d4e5f6".
pub const KIT: SandboxKit = SandboxKit::new(API_KEY, REFUND_ID_PREFIX, |_currency| Box::new(SyncgramSkin))
    .demo("ch_a1b2c3d4e5f6", Money::from_minor(10_000, Currency::JPY))
    .demo_refunds(5_000, 1_000)
    .webhooks(SandboxWebhooks::new(
        enable_webhooks,
        event_body,
        ("evt_trigger_", "ref_trigger_", "ch_trigger_"),
    ));
