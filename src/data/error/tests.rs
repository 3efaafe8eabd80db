use super::*;

#[test]
fn error_is_small_send_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Error>();
    assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
}

#[test]
fn display_is_lowercase_and_complete() {
    let e = Error::new(ErrorKind::Validation, Delivery::Rejected, "amount too large")
        .with_provider("xpay")
        .with_http_status(400)
        .with_provider_code(Some("amount_too_large".into()))
        .with_request_id(Some("req_1".into()));
    assert_eq!(
        e.to_string(),
        "xpay: validation failed: amount too large (http 400, code amount_too_large, request req_1)"
    );
    assert_eq!(
        Error::invalid_request("amount", "must be positive").to_string(),
        "invalid request on `amount`: must be positive"
    );
}

#[test]
fn retryable_needs_transient_and_safe_delivery() {
    let ambiguous = Error::new(ErrorKind::ProviderUnavailable, Delivery::Ambiguous, "500");
    assert!(!ambiguous.is_retryable());
    assert!(ambiguous.clone().with_replay_safe(true).is_retryable());
    let pending = CreateRefund::new(crate::PaymentRef::payment("pay_1").unwrap());
    assert!(
        !ambiguous
            .with_replay_safe(true)
            .with_pending_create(pending)
            .is_retryable()
    );
    assert!(Error::new(ErrorKind::RateLimited, Delivery::Rejected, "").is_retryable());
    assert!(!Error::new(ErrorKind::Validation, Delivery::Rejected, "").is_retryable());
    assert!(Error::new(ErrorKind::Transport, Delivery::NotSent, "refused").is_retryable());
}

#[test]
fn redact_scrubs_message_and_body() {
    let e = Error::new(ErrorKind::Authentication, Delivery::Rejected, "bad key sk_test_abcdef")
        .with_body(b"{\"echo\":\"sk_test_abcdef\"}")
        .redact("sk_test_abcdef");
    assert!(!format!("{e} {e:?}").contains("sk_test_abcdef"));
}

#[test]
fn a_key_across_the_body_cut_is_scrubbed_whole() {
    // Safety review 3, finding 15: the cut came before the scrub, so 39 of 40 characters survived.
    let key = "sk_live_0123456789abcdefghijklmnopqrstuv";
    let mut body = "x".repeat(MAX_ERROR_BODY - 20);
    body.push_str(key);
    let e = Error::decode("x").with_body(body.as_bytes()).redact(key);
    let shown = e.body().unwrap();
    assert!(shown.len() <= MAX_ERROR_BODY);
    assert!(!shown.contains("sk_live_0123"), "{shown}");
    assert!(!format!("{e:?}").contains("sk_live_0123"));
}

#[test]
fn a_json_escaped_key_is_scrubbed() {
    let key = "sk_test_ab/cd+ef";
    let e = Error::new(ErrorKind::Authentication, Delivery::Rejected, "no")
        .with_body(br#"{"echo":"sk_test_ab\/cd+ef"}"#)
        .redact(key);
    assert!(!e.body().unwrap().contains("ab\\/cd"), "{:?}", e.body());
}

#[test]
fn an_error_with_a_pending_create_is_never_retryable() {
    // Safety review 3, finding 8: a 429 on a keyed create carries a pending create and was retryable.
    let pending = CreateRefund::new(crate::PaymentRef::payment("pay_1").unwrap());
    for delivery in [Delivery::Rejected, Delivery::Ambiguous, Delivery::NotSent] {
        let e = Error::new(ErrorKind::RateLimited, delivery, "429").with_pending_create(pending.clone());
        assert!(!e.is_retryable(), "{delivery:?}");
    }
    assert!(!Error::new(ErrorKind::RateLimited, Delivery::Applied, "").is_retryable());
}

#[test]
fn body_is_truncated_on_a_char_boundary() {
    let body = "é".repeat(MAX_ERROR_BODY);
    let e = Error::decode("x").with_body(body.as_bytes());
    assert!(e.body().unwrap().len() <= MAX_ERROR_BODY);
}
