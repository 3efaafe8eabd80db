//! Webhooks end to end, offline: a small receiver on 127.0.0.1 registers with the WooshPay, xpay and
//! SyncgramPay sandboxes, each sandbox creates and settles a refund (and fails a second one), and the
//! receiver verifies every delivery with that provider's verifier and prints the typed event.
//!
//! ```text
//! cargo run -p refunds-examples --example webhooks
//! ```
//!
//! No credentials: the secrets below are the application's own, shared with the sandboxes. In
//! production the secret comes from the provider's dashboard (WooshPay: `webhook.secret`, xpay:
//! `whsec_...`, SyncgramPay: the `webhook_secret` you chose), and the headers and raw body come from
//! your HTTP framework: verify the bytes as received, before any JSON parsing.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use refunds::sandbox::{Sandbox, WebhookSender};
use refunds::{CreateRefund, Currency, Money, PaymentRef, RefundProvider, RefundStatus, WebhookVerifier};

const WOOSHPAY_SECRET: &str = "whsec_example_wooshpay_endpoint";
const XPAY_SECRET: &str = "whsec_example_xpay_endpoint";
const SYNCGRAM_SECRET: &str = "example-syncgram-secret";

/// One delivery as the receiver got it.
struct Delivery {
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A minimal HTTP/1 receiver: every request is answered 200 and handed to `out`.
fn start_receiver(out: mpsc::Sender<Delivery>) -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://{}", listener.local_addr()?);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            if let Some(delivery) = read_request(&mut stream) {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                if out.send(delivery).is_err() {
                    return;
                }
            }
        }
    });
    Ok(base)
}

fn read_request(stream: &mut TcpStream) -> Option<Delivery> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.lines();
    let path = lines.next()?.split(' ').nth(1)?.to_owned();
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some((k, v)) = line.split_once(':') else { continue };
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.trim().as_bytes()),
            HeaderValue::from_str(v.trim()),
        ) {
            headers.append(k, v);
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(Delivery {
        path,
        headers,
        body: buf[head_end..head_end + length].to_vec(),
    })
}

/// A sandbox with webhooks on, registered to `<base>/<name>`, and a client for it.
struct Run {
    name: &'static str,
    sandbox: Sandbox,
    sender: WebhookSender,
    client: Box<dyn RefundProvider>,
    payment: PaymentRef,
    currency: Currency,
}

impl Run {
    /// A refund created and settled, and a second one that fails.
    async fn refunds(&self) -> Result<(), Box<dyn std::error::Error>> {
        let ledger = self.sandbox.ledger();
        let first = CreateRefund::new(self.payment.clone()).amount(Money::from_minor(1_500, self.currency));
        self.client.create_refund(&first).await?;
        self.sender.wait_idle().await;
        ledger.settle_all();
        self.sender.wait_idle().await;
        let second = CreateRefund::new(self.payment.clone()).amount(Money::from_minor(500, self.currency));
        let failing = self.client.create_refund(&second).await?;
        self.sender.wait_idle().await;
        ledger.set_status(failing.id.as_str(), RefundStatus::Failed);
        self.sender.wait_idle().await;
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (tx, rx) = mpsc::channel();
    let base = start_receiver(tx)?;

    let wooshpay = refunds_wooshpay::sandbox::start().await?;
    wooshpay
        .ledger()
        .seed_payment("pi_example_1", Money::from_minor(5_000, Currency::USD));
    let wooshpay_sender = refunds_wooshpay::sandbox::enable_webhooks(&wooshpay, WOOSHPAY_SECRET)?;
    let wooshpay_client = refunds_wooshpay::sandbox::builder_for(&wooshpay).build()?;

    let xpay = refunds_xpay::sandbox::start().await?;
    xpay.ledger()
        .seed_payment("ch_example_1", Money::from_minor(50_000, Currency::EGP));
    let xpay_sender = refunds_xpay::sandbox::enable_webhooks(&xpay, XPAY_SECRET)?;
    let xpay_client = refunds_xpay::sandbox::builder_for(&xpay).build()?;

    let syncgram = refunds_syncgram::sandbox::start().await?;
    let currency = refunds_syncgram::sandbox::CURRENCY;
    syncgram
        .ledger()
        .seed_payment("ch_example_2", Money::from_minor(5_000, currency));
    let syncgram_sender = refunds_syncgram::sandbox::enable_webhooks(&syncgram, SYNCGRAM_SECRET)?;
    let syncgram_client = refunds_syncgram::sandbox::builder_for(&syncgram).build()?;

    let runs = [
        Run {
            name: "wooshpay",
            sandbox: wooshpay,
            sender: wooshpay_sender,
            client: Box::new(wooshpay_client),
            payment: PaymentRef::payment_intent("pi_example_1")?,
            currency: Currency::USD,
        },
        Run {
            name: "xpay",
            sandbox: xpay,
            sender: xpay_sender,
            client: Box::new(xpay_client),
            payment: PaymentRef::charge("ch_example_1")?,
            currency: Currency::EGP,
        },
        Run {
            name: "syncgram",
            sandbox: syncgram,
            sender: syncgram_sender,
            client: Box::new(syncgram_client),
            payment: PaymentRef::charge("ch_example_2")?,
            currency,
        },
    ];

    // The application's side: one verifier per endpoint path.
    let mut verifiers: BTreeMap<String, Box<dyn WebhookVerifier>> = BTreeMap::new();
    verifiers.insert(
        "/wooshpay".into(),
        Box::new(refunds_wooshpay::webhooks::verifier(WOOSHPAY_SECRET)?),
    );
    verifiers.insert("/xpay".into(), Box::new(refunds_xpay::webhooks::verifier(XPAY_SECRET)?));
    verifiers.insert(
        "/syncgram".into(),
        Box::new(refunds_syncgram::webhooks::verifier(SYNCGRAM_SECRET, currency)?),
    );

    let mut expected = 0;
    for run in &runs {
        run.sender.register(&format!("{base}/{}", run.name))?;
        run.refunds().await?;
        let stats = run.sender.stats();
        if stats.failed > 0 {
            return Err(format!("{}: {} deliveries failed", run.name, stats.failed).into());
        }
        expected += stats.delivered;
    }

    println!(
        "{:<9} {:<22} {:<22} {:<10} {:<12} {:<10} amount",
        "provider", "event", "type", "kind", "refund", "status"
    );
    for _ in 0..expected {
        let delivery = rx.recv_timeout(Duration::from_secs(10))?;
        let verifier = verifiers
            .get(&delivery.path)
            .ok_or_else(|| format!("no endpoint at {}", delivery.path))?;
        let event = verifier.verify_and_parse(&delivery.headers, &delivery.body)?;
        let (refund, status, amount) = match &event.refund {
            Some(r) => (r.id.to_string(), r.status.to_string(), r.amount.to_string()),
            None => (
                event.payment.as_ref().map_or_else(String::new, |p| p.id().to_owned()),
                "-".to_owned(),
                "-".to_owned(),
            ),
        };
        println!(
            "{:<9} {:<22} {:<22} {:<10} {:<12} {:<10} {amount}",
            event.provider,
            event.id,
            event.event_type,
            event.kind.as_str(),
            refund,
            status
        );
    }
    // A forged delivery is refused with a typed error.
    let forged = refunds_xpay::webhooks::verifier(XPAY_SECRET)?;
    let mut headers = HeaderMap::new();
    headers.insert("xpay-signature", HeaderValue::from_static("t=1,v1=00"));
    if let Err(e) = forged.verify_and_parse(&headers, b"{}") {
        println!("forged: {e}");
    }
    Ok(())
}
