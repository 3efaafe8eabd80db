//! A provider's code table and the one rule that turns status + body into an [`ErrorKind`].

use super::{ErrorBody, field_path};
use crate::adapter::kind_for_status;
use crate::error::ErrorKind;

/// A provider's error table: body codes, error types and (for refinable statuses) status meanings that
/// say more than [`kind_for_status`]. Built in a `const`, like [`crate::adapter::StatusMap`].
///
/// Code and type patterns are compared case-sensitively; a `*` at the start or end is a wildcard
/// (`*_not_found`, `*exceed*`, `amount_*`). The first matching entry wins.
#[derive(Debug, Clone, Copy)]
pub struct CodeTable {
    codes: &'static [(&'static str, ErrorKind)],
    params: &'static [(&'static str, &'static str, ErrorKind)],
    vague: &'static [&'static str],
    types: &'static [(&'static str, ErrorKind)],
    statuses: &'static [(u16, ErrorKind)],
    sentences: bool,
}

impl CodeTable {
    /// A table of body codes.
    pub const fn new(codes: &'static [(&'static str, ErrorKind)]) -> CodeTable {
        CodeTable {
            codes,
            params: &[],
            vague: &[],
            types: &[],
            statuses: &[],
            sentences: false,
        }
    }

    /// Adds codes whose meaning depends on the parameter they name, as `(code pattern, parameter,
    /// kind)`, consulted before the codes: xpay's `parameter_out_of_range` on `amount` is an
    /// over-refund, on anything else a plain validation failure. The parameter is compared as a dotted
    /// path ([`field_path`](super::field_path)).
    pub const fn with_params(mut self, params: &'static [(&'static str, &'static str, ErrorKind)]) -> CodeTable {
        self.params = params;
        self
    }

    /// Adds codes too general to decide the kind alone (xpay's `resource_invalid_state`, given to a
    /// fully refunded charge and to one that cannot be refunded alike): for these the sentence decides
    /// ([`refine_by_sentence`], whether or not [`CodeTable::with_sentence_rules`] is set), starting from
    /// the code's kind in this table (else the status's).
    pub const fn with_vague_codes(mut self, vague: &'static [&'static str]) -> CodeTable {
        self.vague = vague;
        self
    }

    /// Adds error `type`s (`idempotency_error`), consulted when no code matched.
    pub const fn with_types(mut self, types: &'static [(&'static str, ErrorKind)]) -> CodeTable {
        self.types = types;
        self
    }

    /// Adds the provider's own meaning of some statuses (`409` → `IdempotencyConflict`). Only
    /// [`refinable`] statuses can be re-read: entries for 401, 403, 404, 408, 429 or a 5xx are ignored.
    pub const fn with_statuses(mut self, statuses: &'static [(u16, ErrorKind)]) -> CodeTable {
        self.statuses = statuses;
        self
    }

    /// Also refines by the provider's sentence with [`refine_by_sentence`] when neither code nor type matched.
    pub const fn with_sentence_rules(mut self) -> CodeTable {
        self.sentences = true;
        self
    }

    /// The code entries, for documentation tests.
    pub fn codes(&self) -> &'static [(&'static str, ErrorKind)] {
        self.codes
    }

    /// The kind of `body` answered with `status`.
    ///
    /// 1. The status: the table's own meaning for a [`refinable`] status, else [`kind_for_status`].
    /// 2. Only when the status is [`refinable`]: a code on the parameter it names
    ///    ([`CodeTable::with_params`]), else the first matching code, else the first matching type, else
    ///    (with [`CodeTable::with_sentence_rules`]) [`refine_by_sentence`] on the body's sentence. A
    ///    vague code ([`CodeTable::with_vague_codes`]) leaves the decision to the sentence.
    ///
    /// So a 5xx stays `ProviderUnavailable`, a 429 `RateLimited`, a 408 `Timeout`, a 404 `NotFound`,
    /// and 401/403 stay authentication and permission failures, whatever the body says.
    pub fn kind(&self, status: u16, body: &ErrorBody) -> ErrorKind {
        let by_status = self
            .statuses
            .iter()
            .find(|(s, _)| *s == status && refinable(status))
            .map(|(_, kind)| kind.clone())
            .unwrap_or_else(|| kind_for_status(status));
        if !refinable(status) {
            return by_status;
        }
        let code = body.code.as_deref();
        if let (Some(code), Some(param)) = (code, body.param.as_deref()) {
            let param = field_path(param);
            let on_param = self.params.iter().find(|(c, p, _)| matches(c, code) && *p == param);
            if let Some((_, _, kind)) = on_param {
                return kind.clone();
            }
        }
        let by_code = code.and_then(|code| lookup(self.codes, code));
        let by_type = || body.error_type.as_deref().and_then(|t| lookup(self.types, t));
        let vague = code.is_some_and(|code| self.vague.iter().any(|pattern| matches(pattern, code)));
        let known = by_code.or_else(by_type);
        let base = match known {
            Some(kind) if !vague => return kind,
            Some(kind) => kind,
            None => by_status,
        };
        match (&body.sentence, self.sentences || vague) {
            (Some(sentence), true) => refine_by_sentence(base, status, sentence),
            _ => base,
        }
    }
}

fn lookup(table: &[(&str, ErrorKind)], value: &str) -> Option<ErrorKind> {
    table
        .iter()
        .find(|(pattern, _)| matches(pattern, value))
        .map(|(_, kind)| kind.clone())
}

/// `pattern` against `value`, with an optional `*` at either end.
fn matches(pattern: &str, value: &str) -> bool {
    let (any_start, rest) = match pattern.strip_prefix('*') {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    let (any_end, core) = match rest.strip_suffix('*') {
        Some(core) => (true, core),
        None => (false, rest),
    };
    match (any_start, any_end) {
        (false, false) => value == core,
        (true, false) => value.ends_with(core),
        (false, true) => value.starts_with(core),
        (true, true) => value.contains(core),
    }
}

/// True when a body may refine the kind of `status`: a 4xx other than 401 (authentication), 403
/// (permission), 404 (not found), 408 (timeout) and 429 (rate limit). A 5xx never: an outage must not
/// read as `NotFound`, and transient kinds must stay retryable.
///
/// A 404 is `NotFound` whatever error `type` or code its body names: Stripe-style APIs answer a
/// missing resource with `type: invalid_request_error`, which would otherwise
/// read as a validation failure, and a missing route is not found either.
pub fn refinable(status: u16) -> bool {
    (400..=499).contains(&status) && !matches!(status, 401 | 403 | 404 | 408 | 429)
}

/// A kind from the provider's own sentence, for providers whose refusals carry no code (4Geeks'
/// `detail`/`message`, SyncgramPay's `detail`). Applies only to 400, 409 and 422; otherwise, or
/// when no rule matches, `kind` is returned. The wordings are assumptions, matched case-insensitively:
///
/// - "idempotency" with "conflict" or "different" → `IdempotencyConflict`;
/// - "already … refunded", "fully refunded", "nothing left to refund" → `AlreadyRefunded`;
/// - "not refundable", "non-refundable", "cannot be refunded" → `kind` (a state problem, not a balance);
/// - about "amount"/"balance"/"refundable" and over it ("exceed", "insufficient", "greater than",
///   "more than", "larger than", "refundable") → `AmountExceedsRefundable`;
/// - "not found", "does not exist", "no such" → `NotFound`.
pub fn refine_by_sentence(kind: ErrorKind, status: u16, sentence: &str) -> ErrorKind {
    if !matches!(status, 400 | 409 | 422) {
        return kind;
    }
    let text = sentence.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
    if text.contains("idempotency") && has(&["conflict", "different"]) {
        return ErrorKind::IdempotencyConflict;
    }
    if has(&["fully refunded", "nothing left to refund"]) || (text.contains("already") && text.contains("refunded")) {
        return ErrorKind::AlreadyRefunded;
    }
    if has(&["not refundable", "non-refundable", "cannot be refunded"]) {
        return kind;
    }
    let about_balance = has(&["amount", "balance", "refundable"]);
    let over = has(&[
        "exceed",
        "refundable",
        "insufficient",
        "greater than",
        "more than",
        "larger than",
    ]);
    if about_balance && over {
        return ErrorKind::AmountExceedsRefundable;
    }
    if has(&["not found", "does not exist", "no such"]) {
        return ErrorKind::NotFound;
    }
    kind
}

#[cfg(test)]
mod tests;
