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
//! There is no list route, as at WooshPay.

use std::collections::BTreeMap;

use refunds::adapter::amount::MinorUnits;
use refunds::adapter::base64_decode;
use refunds::sandbox::{
    Ledger, LedgerError, RefundDraft, RefundRecord, Sandbox, SandboxRequest, SandboxResponse, Skin,
};

use crate::client::{PROVIDER_ID, WooshPayClient, WooshPayClientBuilder};
use crate::wire::{MetadataValue, STATUSES, WireCreateRefund, WireErrorBody, WireErrorObject, WireRefund};

/// A test secret key the sandbox accepts (any other key gets WooshPay's 401).
pub const API_KEY: &str = "sk_test_wooshpay_sandbox_4f9c2d";

/// The failure reasons WooshPay documents; the ledger's own explanations are reported as `unknown`.
const FAILURE_REASONS: [&str; 3] = ["lost_or_stolen_card", "expired_or_canceled_card", "unknown"];

/// WooshPay's face over the shared ledger.
#[derive(Debug, Clone, Copy, Default)]
pub struct WooshPaySkin;

/// Starts a WooshPay sandbox (refund ids `re_...`) on an ephemeral port of 127.0.0.1.
pub async fn start() -> std::io::Result<Sandbox> {
    Sandbox::start(WooshPaySkin, Ledger::new("re_")).await
}

/// A client builder pointed at `sandbox` with [`API_KEY`].
pub fn builder_for(sandbox: &Sandbox) -> WooshPayClientBuilder {
    WooshPayClient::builder().api_key(API_KEY).base_url(sandbox.base_url())
}

fn error(status: u16, kind: &str, code: Option<&str>, param: Option<&str>, message: &str) -> SandboxResponse {
    SandboxResponse::json(
        status,
        &WireErrorBody {
            error: WireErrorObject {
                kind: Some(kind.to_owned()),
                code: code.map(str::to_owned),
                message: Some(message.to_owned()),
                param: param.map(str::to_owned),
            },
        },
    )
}

fn invalid(status: u16, code: &str, param: Option<&str>, message: &str) -> SandboxResponse {
    error(status, "invalid_request_error", Some(code), param, message)
}

fn refund_json(record: &RefundRecord) -> WireRefund {
    let failure_reason = record.failure_reason.as_deref().map(|reason| {
        if FAILURE_REASONS.contains(&reason) {
            reason.to_owned()
        } else {
            "unknown".to_owned()
        }
    });
    let status = STATUSES.to_wire(&record.status).unwrap_or(record.status.as_str());
    WireRefund {
        id: Some(record.id.clone()),
        object: Some("refund".to_owned()),
        amount: Some(MinorUnits::from_money(&record.amount)),
        created: Some(record.created_at),
        currency: Some(record.amount.currency().code_lowercase()),
        metadata: Some(
            record
                .metadata
                .iter()
                .map(|(k, v)| (k.clone(), MetadataValue(v.clone())))
                .collect::<BTreeMap<_, _>>(),
        ),
        payment_intent: Some(record.payment_id.clone()),
        reason: record.reason.clone(),
        status: Some(status.to_owned()),
        description: record.description.clone(),
        failure_reason,
    }
}

/// Basic auth exactly as WooshPay takes it: `base64("<secret key>:")` (the scheme name is
/// case-insensitive, as in every HTTP auth scheme).
fn authorized(request: &SandboxRequest) -> bool {
    request
        .header("authorization")
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, credentials)| base64_decode(credentials))
        .is_some_and(|credentials| credentials == format!("{API_KEY}:").as_bytes())
}

fn parse_minor(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn create(request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
    let is_json = request
        .header("content-type")
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return invalid(
            400,
            "parameter_invalid",
            None,
            "requests must be sent as application/json",
        );
    }
    let body: WireCreateRefund = match request.json() {
        Ok(body) => body,
        Err(e) => {
            return invalid(400, "parameter_invalid", None, &format!("invalid request body: {e}"));
        }
    };
    let Some(payment_intent) = body.payment_intent.filter(|p| !p.is_empty()) else {
        return invalid(
            400,
            "parameter_missing",
            Some("payment_intent"),
            "missing required param: payment_intent",
        );
    };
    let amount_minor = match &body.amount {
        Some(amount) => match parse_minor(&amount.0) {
            Some(minor) => Some(minor),
            None => {
                return invalid(
                    400,
                    "parameter_invalid_integer",
                    Some("amount"),
                    &format!("invalid integer: {}", amount.0),
                );
            }
        },
        None => None,
    };
    let mut draft = RefundDraft::new(payment_intent.clone());
    draft.amount_minor = amount_minor;
    draft.reason = body.reason.map(|r| r.as_str().to_owned());
    draft.metadata = body.metadata;
    draft.idempotency_key = request.header("idempotency-key").map(str::to_owned);
    draft.fingerprint = String::from_utf8_lossy(&request.body).into_owned();
    match ledger.create_refund(draft) {
        Ok(outcome) => SandboxResponse::json(200, &refund_json(outcome.record())),
        Err(LedgerError::PaymentNotFound(_)) => invalid(
            404,
            "resource_missing",
            Some("payment_intent"),
            &format!("no such payment_intent: '{payment_intent}'"),
        ),
        Err(LedgerError::PaymentNotRefundable(_)) => invalid(
            400,
            "payment_intent_unexpected_state",
            Some("payment_intent"),
            "this payment_intent has not succeeded and cannot be refunded",
        ),
        Err(LedgerError::AmountExceedsRefundable { available }) => invalid(
            400,
            "amount_too_large",
            Some("amount"),
            &format!(
                "refund amount is greater than the unrefunded amount ({})",
                available.minor()
            ),
        ),
        Err(LedgerError::AlreadyRefunded(_)) => invalid(
            400,
            "charge_already_refunded",
            None,
            &format!("payment_intent {payment_intent} has already been refunded"),
        ),
        Err(LedgerError::IdempotencyConflict) => error(
            409,
            "idempotency_error",
            None,
            None,
            "keys for idempotent requests can only be used with the same parameters they were \
             first used with",
        ),
        Err(LedgerError::InvalidAmount) => invalid(
            400,
            "parameter_invalid_integer",
            Some("amount"),
            "amount must be at least 1",
        ),
        Err(other) => invalid(400, "parameter_invalid", None, &other.to_string()),
    }
}

impl Skin for WooshPaySkin {
    fn provider(&self) -> &'static str {
        PROVIDER_ID
    }

    fn handle(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        if !authorized(request) {
            // WooshPay (like Stripe) gives no code on a 401, and never echoes the key.
            return error(401, "invalid_request_error", None, None, "invalid api key provided");
        }
        if request.is("POST", &["v1", "refunds"]) {
            return create(request, ledger);
        }
        if request.is("GET", &["v1", "refunds", "*"]) {
            let id = &request.segments[2];
            return match ledger.refund(id) {
                Some(record) => SandboxResponse::json(200, &refund_json(&record)),
                None => invalid(404, "resource_missing", Some("id"), &format!("no such refund: '{id}'")),
            };
        }
        let path = format!("/{}", request.segments.join("/"));
        error(
            404,
            "invalid_request_error",
            None,
            None,
            &format!("unrecognized request url ({}: {path})", request.method),
        )
    }

    fn error_response(&self, status: u16, message: &str) -> SandboxResponse {
        match status {
            429 => invalid(429, "rate_limit", None, message),
            500..=599 => error(status, "api_error", None, None, message),
            _ => error(status, "invalid_request_error", None, None, message),
        }
    }
}
