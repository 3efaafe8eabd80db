use super::*;
use crate::Currency;

#[test]
fn unknown_status_keeps_raw_and_is_not_terminal() {
    let s = RefundStatus::from_name("reversed_by_bank");
    assert_eq!(s, RefundStatus::Unknown("reversed_by_bank".into()));
    assert!(!s.is_terminal());
    assert!(RefundStatus::Succeeded.is_terminal());
    assert!(!RefundStatus::Pending.is_terminal());
    assert_eq!(serde_json::to_string(&s).unwrap(), "\"reversed_by_bank\"");
}

#[test]
fn create_validation_names_the_field() {
    let p = PaymentRef::payment("pay_1").unwrap();
    let zero = CreateRefund::new(p.clone()).amount(Money::from_minor(0, Currency::USD));
    assert_eq!(zero.validate().unwrap_err().field(), Some("amount"));
    let neg = CreateRefund::new(p.clone()).amount(Money::from_minor(-1, Currency::USD));
    assert_eq!(neg.validate().unwrap_err().field(), Some("amount"));
    let long = CreateRefund::new(p.clone()).merchant_reference("x".repeat(501));
    assert_eq!(long.validate().unwrap_err().field(), Some("merchant_reference"));
    let ctrl = CreateRefund::new(p.clone()).description("a\u{0}b");
    assert_eq!(ctrl.validate().unwrap_err().field(), Some("description"));
    let empty = CreateRefund::new(p.clone()).merchant_reference("");
    assert_eq!(empty.validate().unwrap_err().field(), Some("merchant_reference"));
    assert!(
        CreateRefund::new(p)
            .amount(Money::from_minor(1, Currency::USD))
            .validate()
            .is_ok()
    );
}
