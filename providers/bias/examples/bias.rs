//! Bias: a partial and a full refund of one payment, a retrieve with the payment expanded, the whole
//! list walked page by page, the event log, and the event stream with its resume point, all through
//! `RefundProvider` and `BiasExt`.
//!
//! With no credentials it runs on the embedded sandbox: `cargo run --example bias`.
//!
//! Against the real API set `BIAS_API_KEY` (`sk_test_...` or `sk_live_...`), the payment to refund in
//! `BIAS_PAYMENT_ID`, and optionally `BIAS_PARTIAL_AMOUNT` (major units, default `1`), `BIAS_BASE_URL`
//! and `BIAS_CURRENCY` (default USD). With a live key this refunds real money.

use std::time::Duration;

use futures_util::StreamExt;
use refunds::sandbox::Sandbox;
use refunds::{CreateRefund, Currency, ListRefunds, Money, PaymentRef, Refund, RefundProvider, RefundProviderExt};
use refunds_bias::{BiasClient, BiasEvent, BiasExt, EventsRequest};

type Failure = Box<dyn std::error::Error>;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn show(what: &str, refund: &Refund) {
    let mode = match refund.livemode {
        Some(true) => "live",
        Some(false) => "sandbox",
        None => "mode not reported",
    };
    println!(
        "{what}: {} of {} for {} is {} ({mode})",
        refund.id,
        refund.amount,
        refund.payment.id(),
        refund.status
    );
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let (client, payment, partial, sandbox): (BiasClient, PaymentRef, Money, Option<Sandbox>) =
        if env("BIAS_API_KEY").is_some() {
            let client = BiasClient::from_env()?;
            let currency = client.currency().unwrap_or(Currency::USD);
            let payment = env("BIAS_PAYMENT_ID").ok_or("set BIAS_PAYMENT_ID to the payment to refund")?;
            let partial = env("BIAS_PARTIAL_AMOUNT").unwrap_or_else(|| "1".to_owned());
            println!("Bias at {}, account currency {currency}", client.base_url());
            (
                client,
                PaymentRef::payment(payment)?,
                Money::from_major_str(&partial, currency)?,
                None,
            )
        } else {
            let sandbox = refunds_bias::sandbox::start().await?;
            let captured = Money::from_major_str("100.00", Currency::USD)?;
            sandbox.ledger().seed_payment("pay_example_1", captured);
            println!(
                "embedded Bias sandbox at {}; seeded pay_example_1 of {captured}",
                sandbox.base_url()
            );
            let client = refunds_bias::sandbox::builder_for(&sandbox).build()?;
            let partial = Money::from_major_str("25.00", Currency::USD)?;
            (client, PaymentRef::payment("pay_example_1")?, partial, Some(sandbox))
        };
    let info = client.info();
    println!(
        "provider {} ({}), idempotency {:?}",
        info.id, info.name, info.capabilities.idempotency
    );

    let first = client
        .create_refund(&CreateRefund::new(payment.clone()).amount(partial))
        .await?;
    show("partial refund", &first);
    let rest = client.create_refund(&CreateRefund::new(payment)).await?;
    show("full refund of what was left", &rest);

    let expanded = client.get_refund_expanded(&first.id).await?;
    show("retrieved", &expanded.refund);
    if let Some(p) = &expanded.payment {
        let refunded = p.amount_refunded.map(|a| a.0);
        println!(
            "  payment {}: received {:?}, refunded {refunded:?}, {:?}",
            p.id,
            p.amount_received.map(|a| a.0),
            p.status
        );
    }

    for refund in client.all_refunds(ListRefunds::new().limit(1)).await? {
        show("  listed", &refund);
    }

    // Bias has no webhooks. Its event log holds what happened so far (newest first)...
    let log = client.list_events(&EventsRequest::new().limit(10), None).await?;
    for event in &log.items {
        println!("logged {} {}", event.id(), event.event_type());
    }
    // ...and its stream what happens from now on, reconnecting and catching up after a drop. On the
    // sandbox both refunds settle now: an update and a success event each.
    let mut events = client.refund_events(EventsRequest::new().limit(4));
    if let Some(sandbox) = &sandbox {
        let ledger = sandbox.ledger().clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            println!("sandbox settled {} refunds", ledger.settle_all());
        });
    }
    let read = async {
        while let Some(event) = events.next().await {
            match event? {
                BiasEvent::Refund(e) => {
                    println!("event {} {}: {} is {}", e.id, e.event_type, e.state.id, e.state.status)
                }
                other => println!("event {} (not a refund)", other.event_type()),
            }
        }
        Ok::<(), refunds::Error>(())
    };
    if tokio::time::timeout(Duration::from_secs(30), read).await.is_err() {
        println!("no more events within 30 s");
    }
    if let Some(point) = events.resume_point() {
        println!("resume point to store: {}", point.to_token());
    }
    Ok(())
}
