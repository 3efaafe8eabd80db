//! The reference provider's sandbox skin, over the shared ledger, reusing its wire types.

#![allow(dead_code)]

use refunds::adapter::amount::MinorUnits;
use refunds::sandbox::{Ledger, LedgerError, RefundDraft, RefundRecord, SandboxRequest, SandboxResponse, Skin};
use serde_json::json;

use super::reference::{STATUSES, WireCreate};

pub const KEY: &str = "sk_test_reference_secret";

pub struct ReferenceSkin;

fn refund_json(r: &RefundRecord) -> serde_json::Value {
    json!({
        "id": r.id, "payment": r.payment_id, "amount": MinorUnits::from_money(&r.amount),
        "currency": r.amount.currency().code(), "status": STATUSES.to_wire(&r.status),
    })
}

fn error(status: u16, code: &str, message: &str) -> SandboxResponse {
    SandboxResponse::json(
        status,
        &json!({"error": {"code": code, "message": message, "field": null}}),
    )
}

impl Skin for ReferenceSkin {
    fn provider(&self) -> &'static str {
        "reference"
    }

    fn idempotency_key(&self, request: &SandboxRequest) -> Option<String> {
        request.header("idempotency-key").map(str::to_owned)
    }

    fn handle(&self, request: &SandboxRequest, ledger: &Ledger) -> SandboxResponse {
        if request.header("authorization") != Some(&format!("Bearer {KEY}")) {
            return error(401, "unauthorized", "invalid api key");
        }
        if request.is("POST", &["refunds"]) {
            let Ok(body) = request.json::<WireCreate>() else {
                return error(400, "invalid_body", "body is not a refund request");
            };
            let mut draft = RefundDraft::new(body.payment);
            draft.amount_minor = body.amount.map(|a| a.0);
            draft.reason = body.reason;
            draft.idempotency_key = request.header("idempotency-key").map(str::to_owned);
            draft.fingerprint = String::from_utf8_lossy(&request.body).into_owned();
            return match ledger.create_refund(draft) {
                Ok(outcome) => SandboxResponse::json(200, &refund_json(outcome.record())),
                Err(LedgerError::PaymentNotFound(_)) => error(404, "payment_not_found", "no such payment"),
                Err(LedgerError::AmountExceedsRefundable { .. }) => error(400, "amount_too_large", "too large"),
                Err(LedgerError::AlreadyRefunded(_)) => error(400, "amount_too_large", "already refunded"),
                Err(LedgerError::IdempotencyConflict) => error(409, "idempotency_conflict", "key reused"),
                Err(LedgerError::InvalidAmount) => SandboxResponse::json(
                    400,
                    &json!({"error": {"code": "invalid", "message": "amount must be positive", "field": "amount"}}),
                ),
                Err(e) => error(400, "invalid", &e.to_string()),
            };
        }
        if request.is("GET", &["refunds", "*"]) {
            return match ledger.refund(&request.segments[1]) {
                Some(r) => SandboxResponse::json(200, &refund_json(&r)),
                None => error(404, "not_found", "no such refund"),
            };
        }
        if request.is("GET", &["refunds"]) {
            let offset: usize = request.query_param("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
            let limit: usize = request.query_param("limit").and_then(|v| v.parse().ok()).unwrap_or(10);
            let all = ledger.refunds();
            let data: Vec<_> = all.iter().skip(offset).take(limit).map(refund_json).collect();
            return SandboxResponse::json(200, &json!({"data": data, "total": all.len()}));
        }
        error(404, "no_route", "no such route")
    }

    fn error_response(&self, status: u16, message: &str) -> SandboxResponse {
        error(status, "sandbox_fault", message)
    }
}
