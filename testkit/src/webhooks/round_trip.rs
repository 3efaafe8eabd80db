//! The sandbox-to-receiver round trip: a receiver on loopback that fails first, the provider's sandbox
//! sending signed events through a retrying sender, every delivery checked and verified.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use refunds::adapter::signature::SignatureScheme;
use refunds::adapter::{Client, HttpProvider};
use refunds::sandbox::{Sandbox, WebhookSender};
use refunds::webhook::FromHmacSettings;
use refunds::{
    CreateRefund, Currency, EventKind, Money, PaymentRef, RefundProvider, RefundStatus, WebhookEvent, WebhookVerifier,
};

use super::WebhookCase;

/// One request a [`Receiver`] got.
#[derive(Debug)]
pub struct Received {
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: Vec<u8>,
    /// What the receiver answered.
    pub status: u16,
}

/// A webhook endpoint on 127.0.0.1 (a plain std thread, independent of the SDK): answers the first
/// `failures` requests with 500, the rest with 200, and keeps every request.
pub struct Receiver {
    /// The endpoint's URL.
    pub url: String,
    log: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// Starts a receiver that fails the first `failures` requests.
    pub fn start(failures: usize) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}/webhooks", listener.local_addr().expect("addr"));
        let log: Arc<Mutex<Vec<Received>>> = Arc::default();
        let seen = log.clone();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { return };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let Some((headers, body)) = read_request(&mut stream) else {
                    continue;
                };
                let status = if n < failures { 500 } else { 200 };
                seen.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(Received { headers, body, status });
                let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        Receiver { url, log }
    }

    /// Every request so far, taken out of the log.
    pub fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.log.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

fn read_request(stream: &mut TcpStream) -> Option<(HeaderMap, Vec<u8>)> {
    let (mut buf, mut chunk) = (Vec::new(), [0u8; 4096]);
    let head_end = loop {
        let n = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut headers = HeaderMap::new();
    for (name, value) in head.lines().skip(1).filter_map(|line| line.split_once(':')) {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) {
            headers.append(k, v);
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((headers, buf[head_end..head_end + length].to_vec()))
}

/// The round trip every webhook sandbox runs: `payment` seeded in `currency`; a receiver that fails
/// once; `enable` (the provider's `sandbox::enable_webhooks_with` over a sender retrying 3 times);
/// a refund created and settled, another created and failed. Every delivery is checked (one 500
/// then four 200s, the retry the same bytes, JSON) and verified with `verifier`; each event that
/// carries a refund carries it as `get_refund` answers it, in the expected state; none is live; the
/// event types and their kinds are `event_types`. Returns the events and the deliveries (the failed one first).
pub async fn sandbox_round_trip<P: HttpProvider>(
    sandbox: &Sandbox,
    client: &Client<P>,
    enable: impl FnOnce(WebhookSender) -> WebhookSender,
    verifier: &impl WebhookVerifier,
    (payment, currency): (PaymentRef, Currency),
    event_types: [(&str, EventKind); 4],
) -> RoundTrip {
    sandbox
        .ledger()
        .seed_payment(payment.id(), Money::from_minor(10_000, currency));
    let receiver = Receiver::start(1);
    let sender = enable(WebhookSender::with_retries(3, Duration::from_millis(10)).expect("sender"));
    sender.register(&receiver.url).expect("a loopback url");
    let create = |minor| CreateRefund::new(payment.clone()).amount(Money::from_minor(minor, currency));
    let created = client.create_refund(&create(1_500)).await.expect("create");
    sender.wait_idle().await;
    assert_eq!(sandbox.ledger().settle_all(), 1);
    sender.wait_idle().await;
    let failing = client.create_refund(&create(500)).await.expect("create");
    sender.wait_idle().await;
    assert!(sandbox.ledger().set_status(failing.id.as_str(), RefundStatus::Failed));
    sender.wait_idle().await;

    let records = sender.deliveries();
    assert_eq!(records.len(), 4, "{records:?}");
    assert!(records.iter().all(|r| r.delivered));
    assert_eq!(
        (records[0].attempts, sender.stats().failed),
        (2, 0),
        "one 500, then a 200"
    );
    let log = receiver.take();
    assert_eq!(
        log.iter().map(|r| r.status).collect::<Vec<_>>(),
        [500, 200, 200, 200, 200]
    );
    assert_eq!(log[0].body, log[1].body, "a retry re-sends the same event");
    assert!(log.iter().all(|r| r.headers["content-type"] == "application/json"));
    let events: Vec<WebhookEvent> = log[1..]
        .iter()
        .map(|r| verifier.verify_and_parse(&r.headers, &r.body).expect("verifies"))
        .collect();
    let expected = [
        (&created.id, RefundStatus::Pending),
        (&created.id, RefundStatus::Succeeded),
        (&failing.id, RefundStatus::Pending),
        (&failing.id, RefundStatus::Failed),
    ];
    for (event, (id, status)) in events.iter().zip(expected) {
        assert_ne!(event.livemode, Some(true), "a test-mode event: {event:?}");
        if let Some(refund) = &event.refund {
            assert_eq!((&refund.id, &refund.status), (id, &status));
        }
    }
    let fetched = client.get_refund(&failing.id).await.expect("get");
    assert_eq!(events[3].refund.as_ref().map(|r| &r.raw), Some(&fetched.raw));
    let seen: Vec<(&str, EventKind)> = events.iter().map(|e| (e.event_type.as_str(), e.kind.clone())).collect();
    assert_eq!(seen, event_types);
    RoundTrip {
        events,
        deliveries: log,
    }
}

/// What [`sandbox_round_trip`] saw.
#[derive(Debug)]
pub struct RoundTrip {
    /// The four events, verified, in order.
    pub events: Vec<WebhookEvent>,
    /// The five deliveries (a 500, then four 200s).
    pub deliveries: Vec<Received>,
}

impl<S: FromHmacSettings + SignatureScheme> WebhookCase<S> {
    /// [`sandbox_round_trip`] verified by this case's scheme at the system clock (the sandbox signs
    /// now), with the first delivery's header recomputed by the case's own recipe.
    pub async fn sandbox_trip<P: HttpProvider>(
        &self,
        (sandbox, client): (&Sandbox, &Client<P>),
        enable: impl FnOnce(WebhookSender) -> WebhookSender,
        seed: (PaymentRef, Currency),
        events: [(&str, EventKind); 4],
    ) -> RoundTrip {
        let verifier = (self.builder)(self.secret).build().expect("verifier");
        let trip = sandbox_round_trip(sandbox, client, enable, &verifier, seed, events).await;
        self.assert_signed(&trip.deliveries[0]);
        trip
    }
}
