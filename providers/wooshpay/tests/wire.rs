//! WooshPay's documented bodies (`fixtures/documented.json`: the retrieve example, the seed's create
//! request and response, the error code table, the assumed Stripe units both ways, its refusals) run
//! against the real client by `refunds_testkit::fixtures`; then its hosts, chosen by the key.

use refunds::ErrorKind;
use refunds_wooshpay::{WooshPayClient, WooshPayClientBuilder};

fn builder(base_url: &str) -> WooshPayClientBuilder {
    WooshPayClient::builder()
        .api_key("sk_test_wire_tests_000000")
        .base_url(base_url)
}

refunds_testkit::fixture_tests!(include_str!("fixtures/documented.json"), builder);

#[test]
fn the_host_follows_the_key_and_other_keys_need_a_base_url() {
    let build = |key: &str| WooshPayClient::builder().api_key(key).build();
    let url = |key: &str| build(key).unwrap().base_url().to_owned();
    assert_eq!(url("sk_test_abc12345"), "https://apitest.wooshpay.com/");
    assert_eq!(url("sk_live_abc12345"), "https://api.wooshpay.com/");
    for key in ["pk_test_abc12345", "rk_live_abc12345", "abc12345"] {
        let e = build(key).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Configuration, "{key}");
        assert!(!format!("{e} {e:?}").contains(key), "the key is not echoed");
        let explicit = WooshPayClient::builder()
            .api_key(key)
            .base_url("https://x.wooshpay.com");
        assert!(explicit.build().is_ok());
    }
}

/// The README's status table says what `STATUSES` does.
#[test]
fn the_readme_status_table_is_the_code_s() {
    refunds_testkit::readme::assert_readme_status_table(include_str!("../README.md"), &refunds_wooshpay::STATUSES);
}
