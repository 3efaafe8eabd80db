//! Exit codes by outcome, and the one-line failure every command ends with.

use std::fmt;

use refunds::{Error, ErrorKind};

/// Success (for `recover`: a definite verdict, applied or not applied).
pub const SUCCESS: u8 = 0;
/// Anything not covered below (an unreadable answer, a file that cannot be written).
pub const OTHER: u8 = 1;
/// Invalid input (arguments, configuration, a webhook that does not verify) or a refusal by the
/// provider (validation, over-refund, not found, authentication): nothing was applied.
pub const INVALID_OR_REJECTED: u8 = 2;
/// Ambiguous: a create may have been applied (its pending create was saved), or `recover` could not
/// tell.
pub const AMBIGUOUS: u8 = 3;
/// The provider was unavailable, rate limited, unreachable, or did not answer in time; or `wait`
/// reached its deadline before the refund was final.
pub const UNAVAILABLE: u8 = 4;
/// Interrupted by Ctrl-C (SIGINT), after cleaning up: 128 + 2, as shells report it.
pub const INTERRUPTED: u8 = 130;
/// Created, not confirmed: the refund exists and is printed, but `create --wait` did not see it final
/// (a poll failed or the deadline passed), or the provider's answer differs from the request (its
/// amount, currency or payment). Never create it again; check it.
pub const CREATED: u8 = 5;

/// Why a command failed: an exit code and one line for stderr.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// The message, one line.
    pub message: String,
}

impl Failure {
    /// A failure with this code.
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }

    /// Invalid input, refused before anything was sent.
    pub fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(INVALID_OR_REJECTED, message)
    }

    /// Prefixes the provider id when the message does not start with it.
    pub fn with_provider(mut self, provider: &str) -> Failure {
        if !self.message.starts_with(provider) {
            self.message = format!("{provider}: {}", self.message);
        }
        self
    }

    /// An end that says nothing (a closed pipe): the code only.
    pub fn quiet(code: u8) -> Failure {
        Failure::new(code, "")
    }

    /// Anything else.
    pub fn other(message: impl Into<String>) -> Failure {
        Failure::new(OTHER, message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever a provider put in its message, and never terminal control.
        let line: String = self
            .message
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
            .collect();
        f.write_str(&crate::output::shown(&line))
    }
}

/// The exit code of an SDK error. Only a create that may have been applied (it carries its pending
/// create) is ambiguous; a read that failed is judged by its kind.
pub fn code_for(e: &Error) -> u8 {
    if e.pending().is_some() {
        return AMBIGUOUS;
    }
    if e.delivery() == refunds::Delivery::Applied {
        return CREATED;
    }
    match e.kind() {
        ErrorKind::InvalidRequest { .. }
        | ErrorKind::Unsupported
        | ErrorKind::Authentication
        | ErrorKind::PermissionDenied
        | ErrorKind::NotFound
        | ErrorKind::Validation
        | ErrorKind::AmountExceedsRefundable
        | ErrorKind::AlreadyRefunded
        | ErrorKind::IdempotencyConflict
        | ErrorKind::Configuration => INVALID_OR_REJECTED,
        ErrorKind::RateLimited | ErrorKind::ProviderUnavailable | ErrorKind::Transport | ErrorKind::Timeout => {
            UNAVAILABLE
        }
        _ => OTHER,
    }
}

/// The SDK's message (provider, HTTP status, provider code and request id included where known; keys
/// are scrubbed by the SDK), with the request id spelled out when the provider sent one.
impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let mut message = e.to_string();
        if let Some(provider) = e.provider() {
            if !message.starts_with(provider) {
                message = format!("{provider}: {message}");
            }
            // A message that names its provider first (the registry's) is said with the provider once:
            // `bias: configuration error: 2 accounts ...`, not `... error: bias: 2 accounts ...`.
            message = message.replacen(&format!("error: {provider}: "), "error: ", 1);
        }
        if let Some(id) = e.request_id() {
            if !message.contains(id) {
                message.push_str(&format!(" (request {id})"));
            }
        }
        Failure::new(code_for(&e), message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use refunds::Delivery;

    #[test]
    fn the_provider_is_named_once() {
        let e = Error::configuration("bias: 2 accounts of this provider are in refunds.toml").with_provider("bias");
        let failure = Failure::from(e);
        assert_eq!(
            failure.message,
            "bias: configuration error: 2 accounts of this provider are in refunds.toml"
        );
    }

    #[test]
    fn codes_by_outcome() {
        let e = |kind, delivery| Error::new(kind, delivery, "x");
        assert_eq!(code_for(&Error::invalid_request("amount", "bad")), INVALID_OR_REJECTED);
        assert_eq!(code_for(&e(ErrorKind::AmountExceedsRefundable, Delivery::Rejected)), 2);
        assert_eq!(code_for(&e(ErrorKind::ProviderUnavailable, Delivery::Rejected)), 4);
        assert_eq!(code_for(&e(ErrorKind::Timeout, Delivery::NotSent)), 4);
        assert_eq!(code_for(&e(ErrorKind::ProviderUnavailable, Delivery::Ambiguous)), 4);
        let pending = refunds::CreateRefund::new(refunds::PaymentRef::payment("pay_1").unwrap());
        let ambiguous = e(ErrorKind::Transport, Delivery::Ambiguous).with_pending_create(pending);
        assert_eq!(code_for(&ambiguous), 3);
        assert_eq!(code_for(&e(ErrorKind::Decode, Delivery::Rejected)), 1);
    }

    #[test]
    fn one_line_with_provider_and_request_id() {
        let e = Error::new(ErrorKind::Validation, Delivery::Rejected, "bad\namount")
            .with_provider("xpay")
            .with_request_id(Some("req_9".into()));
        let line = Failure::from(e).to_string();
        assert!(!line.contains('\n'));
        assert!(line.starts_with("xpay: "), "{line}");
        assert!(line.contains("req_9"), "{line}");
    }
}
