use std::sync::Arc;

use super::*;
use crate::adapter::auth::Auth;
use crate::error::{Delivery, Error, ErrorKind};

fn transport(base: &str) -> Transport {
    Transport::new(
        "test",
        TransportConfig::new(base).unwrap(),
        Auth::bearer("sk_test_x").unwrap(),
        |r| Error::new(ErrorKind::Other, Delivery::Rejected, format!("status {}", r.status)),
    )
    .unwrap()
}

#[test]
fn ids_are_one_path_segment() {
    let t = transport("https://api.example.com/v1/");
    let url = t.url(&ApiRequest::get(&["refunds", "../../admin?x=1"])).unwrap();
    assert_eq!(url.as_str(), "https://api.example.com/v1/refunds/..%2F..%2Fadmin%3Fx=1");
    assert_eq!(url.path_segments().unwrap().count(), 3);
    assert!(url.query().is_none());
    let url = t.url(&ApiRequest::get(&["refunds", "a/b#c d%2F"])).unwrap();
    assert_eq!(url.path(), "/v1/refunds/a%2Fb%23c%20d%252F");
    assert!(t.url(&ApiRequest::get(&["refunds", ".."])).is_err());
    assert!(t.url(&ApiRequest::get(&["refunds", ""])).is_err());
    let url = t
        .url(&ApiRequest::get(&["refunds"]).query("starting_after", "a&b=c"))
        .unwrap();
    assert_eq!(url.query(), Some("starting_after=a%26b%3Dc"));
    // Under a URL the transport built once, a call adds only its own segments, encoded the same.
    let refunds = t.url(&ApiRequest::get(&["refunds"])).unwrap();
    let refunds = Arc::new(refunds);
    let under = |segments: &[&str]| t.url(&ApiRequest::under(Method::GET, refunds.clone(), segments));
    assert_eq!(under(&[]).unwrap().as_str(), "https://api.example.com/v1/refunds");
    assert_eq!(
        under(&["../x?y"]).unwrap().as_str(),
        "https://api.example.com/v1/refunds/..%2Fx%3Fy"
    );
    assert!(under(&[".."]).is_err());
    let slash = |segments: &[&str]| {
        let call = ApiRequest::under(Method::GET, refunds.clone(), segments).trailing_slash();
        t.url(&call).unwrap().to_string()
    };
    assert_eq!(slash(&["re_1"]), "https://api.example.com/v1/refunds/re_1/");
    assert_eq!(slash(&[]), "https://api.example.com/v1/refunds/");
    let with_query = ApiRequest::get(&["refunds", "re/1"]).trailing_slash().query("a", "b");
    assert_eq!(
        t.url(&with_query).unwrap().as_str(),
        "https://api.example.com/v1/refunds/re%2F1/?a=b"
    );
}

#[test]
fn plain_http_only_to_loopback() {
    assert!(check_base_url("http://127.0.0.1:8080").is_ok());
    assert!(check_base_url("http://127.5.6.7").is_ok());
    assert!(check_base_url("http://localhost:1").is_ok());
    assert!(check_base_url("http://[::1]:1").is_ok());
    assert!(check_base_url("https://api.example.com").is_ok());
    for bad in [
        "http://api.example.com",
        "http://10.0.0.1",
        "http://localhost.evil.com",
        "ftp://x",
        "https://user:pw@api.example.com",
        "https://api.example.com/?a=1",
        "not a url",
    ] {
        let err = check_base_url(bad).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Configuration, "{bad}");
    }
}

#[test]
fn retry_after_both_forms() {
    let now = time::macros::datetime!(2015-10-21 07:27:58 UTC);
    assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
        Some(Duration::from_secs(2))
    );
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
        Some(Duration::ZERO)
    );
    assert_eq!(parse_retry_after("soon", now), None);
}

#[test]
fn backoff_is_bounded_full_jitter() {
    let p = RetryPolicy::new();
    for retry in 0..20 {
        let ceiling = Duration::from_millis(500)
            .saturating_mul(1 << retry.min(16))
            .min(Duration::from_secs(8));
        assert!(p.backoff(retry) <= ceiling);
    }
    let samples: std::collections::HashSet<_> = (0..50).map(|_| p.backoff(3)).collect();
    assert!(samples.len() > 1, "jittered");
}

#[test]
fn debug_hides_the_key() {
    assert!(!format!("{:?}", transport("https://a.example")).contains("sk_test_x"));
}

#[test]
fn a_proxy_url_with_credentials_is_refused_unprinted() {
    for url in ["http://user:s3cret@proxy.example:3128", "https://s3cret@proxy.example"] {
        let error = TransportConfig::new("https://api.example.com")
            .unwrap()
            .proxy(url)
            .unwrap_err();
        assert!(error.message().contains("credentials"), "{error}");
        assert!(!format!("{error:?}").contains("s3cret"), "{error:?}");
    }
    let error = check_proxy_url("https://proxy.example/s3cret?x=1").unwrap_err();
    assert!(!format!("{error:?}").contains("s3cret"), "{error:?}");
    assert!(check_proxy_url("socks5://proxy.example").is_err());
    assert_eq!(
        check_proxy_url("http://127.0.0.1:3128").unwrap().as_str(),
        "http://127.0.0.1:3128/"
    );
}

#[test]
fn root_certificates_are_checked_as_x509_not_only_as_pem() {
    assert!(check_root_certificates_pem(b"not pem").is_err());
    // PEM in form, base64 of text: not a certificate.
    let fake = b"-----BEGIN CERTIFICATE-----\nc2tfbGl2ZV9zM2NyZXQ=\n-----END CERTIFICATE-----\n";
    let error = check_root_certificates_pem(fake).unwrap_err();
    assert!(error.message().contains("X.509"), "{error}");
    assert!(!format!("{error:?}").contains("c2tf"), "{error:?}");
}

#[test]
fn the_os_trust_store_is_a_feature() {
    let config = TransportConfig::new("https://api.example.com")
        .unwrap()
        .trust_store(TrustStore::Os);
    let built = Transport::new("test", config, Auth::bearer("sk_test_x").unwrap(), |r| {
        Error::new(ErrorKind::Other, Delivery::Rejected, format!("status {}", r.status))
    });
    if cfg!(feature = "os-trust-store") {
        built.unwrap();
    } else {
        assert!(built.unwrap_err().message().contains("os-trust-store"));
    }
}
