//! WooshPay's embedded sandbox: its HTTP API simulated on 127.0.0.1 over the shared ledger, written
//! with this crate's own wire types so that the client and the simulator cannot drift apart.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use refunds::{Currency, Money};
//! let sandbox = refunds_wooshpay::sandbox::start().await?;
//! sandbox.ledger().seed_payment("pi_1", Money::from_minor(5_000, Currency::USD));
//! let client = refunds_wooshpay::sandbox::builder_for(&sandbox).build()?;
//! # let _ = client; Ok(()) }
//! ```
//!
//! What it simulates: `POST /v1/refunds` and `GET /v1/refunds/{id}` with Basic auth (the key as user
//! name, empty password), Stripe-style JSON (lower-case currency, unix seconds, integer amounts in
//! answers, string amounts in requests), `{"error": {...}}` answers, and `Idempotency-Key`: the same
//! key with the same body returns the original refund, with another body a 409 `idempotency_error`.
//! A create's body is JSON or form-encoded (`payment_intent=pi_1&amount=500&metadata[order]=7`, what
//! WooshPay's documentation introduction says requests are, and what Stripe's own clients send).
//! A refund of a payment whose id starts `ch_` (a charge, as a dashboard refund names it) is written
//! with `charge` and a `null` `payment_intent`, like Stripe's refund object.
//! There is no list route, as at WooshPay.
//!
//! [`enable_webhooks`] makes it send signed webhooks (WooshPay's envelope and `Wooshpay-Signature`)
//! for every refund created, settled or failed, to the loopback URLs registered on the returned
//! [`WebhookSender`], retrying a non-2xx answer a bounded number of times.

use std::collections::BTreeMap;

use refunds::adapter::signature::TimestampedHmac;
use refunds::adapter::{HttpProvider, ProviderSpec, Secret, amount::MinorUnits, errors::ErrorBody, errors::stripe};
use refunds::sandbox::ChangeKind;
use refunds::sandbox::{
    Call, Ledger, LedgerError, RefundDraft, RefundRecord, Refusal, Sandbox, SandboxKit, SandboxResponse,
    SandboxWebhooks,
};
use refunds::sandbox::{SpecSkin, WebhookSender, send_webhooks};
use refunds::{RawJson, Result};
use serde::Serialize;

use crate::units;
use crate::wire::{MetadataValue, STATUSES, WireCreateRefund, WireRefund};
use crate::{WooshPay, WooshPayClient, WooshPayClientBuilder};

/// A test secret key the sandbox accepts (any other key gets WooshPay's 401).
pub const API_KEY: &str = "sk_test_wooshpay_sandbox_4f9c2d";

/// The failure reasons WooshPay documents; the ledger's own explanations are reported as `unknown`.
const FAILURE_REASONS: [&str; 3] = ["lost_or_stolen_card", "expired_or_canceled_card", "unknown"];

/// WooshPay's face over the shared ledger.
#[derive(Debug, Clone, Copy, Default)]
pub struct WooshPaySkin;

/// Starts a WooshPay sandbox (refund ids `re_...`) on an ephemeral port of 127.0.0.1.
pub async fn start() -> std::io::Result<Sandbox> {
    start_at(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).await
}

/// Starts a sandbox on `addr`, a loopback address (port 0: an ephemeral one), as
/// `refunds sandbox serve` does.
pub async fn start_at(addr: std::net::SocketAddr) -> std::io::Result<Sandbox> {
    Sandbox::start_at(addr, WooshPaySkin, Ledger::new("re_")).await
}

/// A client builder pointed at `sandbox` with [`API_KEY`].
pub fn builder_for(sandbox: &Sandbox) -> WooshPayClientBuilder {
    WooshPayClient::builder().api_key(API_KEY).base_url(sandbox.base_url())
}

/// An answer in WooshPay's (Stripe's) envelope, without `code` and `param` when empty.
fn error(status: u16, kind: &str, code: &str, param: &str, message: &str) -> SandboxResponse {
    let mut body = ErrorBody::new(message).with_type(kind);
    body.code = Some(code.to_owned()).filter(|c| !c.is_empty());
    body.param = Some(param.to_owned()).filter(|p| !p.is_empty());
    SandboxResponse::json(status, &stripe::write(&body))
}

fn invalid(status: u16, code: &str, param: &str, message: &str) -> SandboxResponse {
    error(status, "invalid_request_error", code, param, message)
}

fn refund_json(record: &RefundRecord) -> WireRefund<'_> {
    let by_charge = record.payment_id.starts_with("ch_");
    let failure = record.failure_reason.as_deref();
    let failure_reason = failure.map(|r| if FAILURE_REASONS.contains(&r) { r } else { "unknown" });
    let status = STATUSES.to_wire(&record.status).unwrap_or(record.status.as_str());
    let entry = |(k, v): (&String, &String)| (k.clone(), MetadataValue(v.clone()));
    WireRefund {
        id: Some(record.id.clone()),
        object: Some("refund".into()),
        // The sandbox speaks the same (assumed) units as the client: ledger amounts are ISO.
        amount: units::to_wire(&record.amount).ok().map(MinorUnits),
        created: Some(record.created_at),
        currency: Some(record.amount.currency().code_lowercase().into()),
        metadata: Some(record.metadata.iter().map(entry).collect::<BTreeMap<_, _>>()),
        payment_intent: (!by_charge).then(|| record.payment_id.clone()),
        charge: by_charge.then(|| record.payment_id.clone()),
        reason: record.reason.as_deref().map(Into::into),
        status: Some(status.into()),
        description: record.description.clone(),
        failure_reason: failure_reason.map(str::to_owned),
        receipt_number: None,
        balance_transaction: None,
    }
}

/// A form-encoded create as the JSON body it stands for: `metadata[key]=value` pairs become the
/// `metadata` object, every other pair a string field (the last of a repeated name wins).
fn form_as_json(body: &[u8]) -> serde_json::Value {
    let mut fields = serde_json::Map::new();
    let mut metadata = serde_json::Map::new();
    for (name, value) in url::form_urlencoded::parse(body) {
        let value = serde_json::Value::String(value.into_owned());
        match name.strip_prefix("metadata[").and_then(|rest| rest.strip_suffix(']')) {
            Some(key) => metadata.insert(key.to_owned(), value),
            None => fields.insert(name.into_owned(), value),
        };
    }
    if !metadata.is_empty() {
        fields.insert("metadata".to_owned(), serde_json::Value::Object(metadata));
    }
    serde_json::Value::Object(fields)
}

fn parse_minor(text: &str) -> Option<i64> {
    let digits = text.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| text.parse().ok()).flatten()
}

impl SpecSkin for WooshPaySkin {
    const SPEC: ProviderSpec = WooshPay::SPEC;
    const API_KEYS: &'static [&'static str] = &[API_KEY];

    fn decode_create(&self, call: &Call<'_>) -> Result<RefundDraft, SandboxResponse> {
        let (request, ledger) = (call.request, call.ledger);
        let content_type = request.header("content-type").unwrap_or_default();
        let parsed = if content_type.starts_with("application/json") {
            request.json::<WireCreateRefund>()
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            serde_json::from_value(form_as_json(&request.body))
        } else {
            let message = "requests must be form-encoded or json";
            return Err(invalid(400, "parameter_invalid", "", message));
        };
        let parsed = parsed.map_err(|e| format!("invalid request body: {e}"));
        let body = parsed.map_err(|message| invalid(400, "parameter_invalid", "", &message))?;
        let Some(payment) = body.payment_intent.filter(|p| !p.is_empty()) else {
            return Err(invalid(
                400,
                "parameter_missing",
                "payment_intent",
                "missing payment_intent",
            ));
        };
        // Amounts arrive in the same (assumed Stripe) units the client sends; the ledger keeps ISO units.
        let currency = ledger.payment(&payment).map(|p| p.captured.currency());
        let iso = |wire: i64| currency.map_or(Some(wire), |c| units::from_wire(wire, c).ok().map(|m| m.minor()));
        let mut draft = RefundDraft::new(payment);
        if let Some(amount) = &body.amount {
            let minor = parse_minor(&amount.0).and_then(iso);
            let invalid_integer = || invalid(400, "parameter_invalid_integer", "amount", "invalid integer");
            draft.amount_minor = Some(minor.ok_or_else(invalid_integer)?);
        }
        draft.reason = body.reason.map(|r| r.as_str().to_owned());
        draft.metadata = body.metadata;
        Ok(draft)
    }

    fn encode_refund(&self, record: &RefundRecord, _call: &Call<'_>) -> impl Serialize {
        refund_json(record)
    }

    /// WooshPay's answer (Stripe's codes), one row each.
    #[rustfmt::skip]
    fn encode_error(&self, refusal: Refusal<'_>) -> SandboxResponse {
        let (status, code, param, message) = match refusal {
            // WooshPay (like Stripe) gives no code on a 401, and never echoes the key.
            Refusal::Unauthorized { .. } => (401, "", "", "invalid api key provided".into()),
            Refusal::NoSuchRefund { id } => (404, "resource_missing", "id", format!("no such refund: '{id}'")),
            Refusal::Ledger { error: refused, payment, .. } => match refused {
                LedgerError::PaymentNotFound(_) => (404, "resource_missing", "payment_intent", format!("no such payment_intent: '{payment}'")),
                LedgerError::PaymentNotRefundable(_) => (400, "payment_intent_unexpected_state", "payment_intent", "this payment_intent cannot be refunded".into()),
                LedgerError::AmountExceedsRefundable { available } => (400, "amount_too_large", "amount", format!("refund amount is greater than the unrefunded amount ({})", available.minor())),
                LedgerError::AlreadyRefunded(_) => (400, "charge_already_refunded", "", format!("payment_intent {payment} has already been refunded")),
                LedgerError::InvalidAmount => (400, "parameter_invalid_integer", "amount", "amount must be at least 1".into()),
                LedgerError::IdempotencyConflict => return error(409, "idempotency_error", "", "", "keys for idempotent requests can only be used with the same parameters they were first used with"),
                other => (400, "parameter_invalid", "", other.to_string()),
            },
            Refusal::InProgress => return error(409, "idempotency_error", "idempotency_key_in_use", "", "A request with this idempotency key is in progress."),
            Refusal::Fault { status: 429, message } => (429, "rate_limit", "", message.into()),
            Refusal::Fault { status: status @ 500..=599, message } => return error(status, "api_error", "", "", message),
            Refusal::Fault { status, message } => (status, "", "", message.into()),
            Refusal::NoRoute { request } => (404, "", "", format!("unrecognized request url ({}: /{})", request.method, request.segments.join("/"))),
            _ => (400, "parameter_invalid", "", "invalid request".into()),
        };
        invalid(status, code, param, &message)
    }
}

/// Makes `sandbox` send signed webhooks for every refund state change (created, settled, failed):
/// WooshPay's `charge.refund.updated` event (the only one documented) in its Stripe-style envelope,
/// carrying the refund as `GET /v1/refunds/{id}` answers it, signed `Wooshpay-Signature: t=..,v1=..`
/// with `secret` at the time of each attempt (system clock). Register the receiving URLs (loopback
/// only) on the returned sender; a non-2xx answer is retried 3 times (50 ms, doubling).
///
/// Deliveries are spawned on the tokio runtime the change happens in (the sandbox's requests run in
/// one); a change made outside any runtime sends nothing. [`WebhookSender::wait_idle`] waits for them.
pub fn enable_webhooks(sandbox: &Sandbox, secret: impl Into<Secret>) -> Result<WebhookSender> {
    let scheme = crate::webhooks::scheme(secret)?;
    Ok(enable_webhooks_with(sandbox, scheme, WebhookSender::new()?))
}

/// [`enable_webhooks`] with a scheme (several secrets, another clock) and a sender (other retries)
/// of your own; returns the sender.
pub fn enable_webhooks_with(sandbox: &Sandbox, scheme: TimestampedHmac, sender: WebhookSender) -> WebhookSender {
    send_webhooks(sandbox, scheme, sender, webhook_body)
}

/// The event for a refund's new state: `charge.refund.updated` carrying the refund.
fn webhook_body(record: &RefundRecord, _change: ChangeKind, n: u64) -> Option<Vec<u8>> {
    let event_type = crate::webhooks::EVENTS.wire_type(&refunds::EventKind::Updated)?;
    event_body(record, event_type, &format!("evt_sbx{n:010}"))
}

/// The test-mode event `id` of `event_type` about `record`, in WooshPay's (Stripe's) envelope, the
/// refund as `GET /v1/refunds/{id}` answers it at `data.object`. What the sandbox sends, and what
/// `refunds webhook trigger` signs.
pub fn event_body(record: &RefundRecord, event_type: &str, id: &str) -> Option<Vec<u8>> {
    let refund = serde_json::to_string(&refund_json(record)).ok()?;
    let refund = RawJson::parse(&refund).ok()?;
    Some(crate::webhooks::ENVELOPE.encode(id, event_type, record.updated_at, false, &refund))
}

/// The sandbox for tools that serve every provider (the registry's demo, `refunds sandbox serve`, the
/// shared suite): this key, this skin, and a demo payment of "pi_1787730829493927936".
pub const KIT: SandboxKit = SandboxKit::new(API_KEY, "re_", |_currency| Box::new(WooshPaySkin))
    .demo(
        "pi_1787730829493927936",
        refunds::Money::from_minor(8_000, refunds::Currency::EUR),
    )
    .demo_refunds(1_999, 1_000)
    .webhooks(SandboxWebhooks::new(
        enable_webhooks,
        event_body,
        ("evt_trigger_", "re_trigger_", "pi_trigger_"),
    ));
