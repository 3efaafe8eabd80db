//! WooshPay through the common `RefundProvider` interface: a partial and a full refund of one payment
//! intent, a retrieve, and a list (which WooshPay does not offer, so the SDK says so).
//!
//! By default it runs against the embedded WooshPay sandbox, offline:
//!
//! ```text
//! cargo run --example wooshpay
//! ```
//!
//! Against the real API (an `sk_test_` key goes to apitest.wooshpay.com, `sk_live_` to
//! api.wooshpay.com), name a captured payment intent and the partial amount in major units:
//!
//! ```text
//! WOOSHPAY_API_KEY=sk_test_... WOOSHPAY_PAYMENT_INTENT=pi_... \
//!   WOOSHPAY_PARTIAL_AMOUNT=1.00 WOOSHPAY_CURRENCY=usd cargo run --example wooshpay
//! ```

use std::sync::Arc;

use refunds::sandbox::Sandbox;
use refunds::{
    CreateRefund, Currency, IdempotencyKey, ListRefunds, Money, PaymentRef, Refund, RefundProvider, RefundProviderExt,
    RefundReason,
};
use refunds_wooshpay::WooshPayClient;

/// Where the example runs: the client, the payment intent to refund, the partial amount, and the
/// sandbox when there is one (kept alive for the whole run).
struct Setup {
    client: Arc<dyn RefundProvider>,
    payment_intent: String,
    partial: Money,
    sandbox: Option<Sandbox>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

async fn setup() -> Result<Setup, Box<dyn std::error::Error>> {
    if env("WOOSHPAY_API_KEY").is_some() {
        let client = WooshPayClient::from_env()?;
        let currency = client.currency().unwrap_or(Currency::USD);
        let payment_intent = env("WOOSHPAY_PAYMENT_INTENT")
            .ok_or("set WOOSHPAY_PAYMENT_INTENT to a captured payment intent (pi_...)")?;
        let partial = Money::from_major_str(
            &env("WOOSHPAY_PARTIAL_AMOUNT").unwrap_or_else(|| "1.00".to_owned()),
            currency,
        )?;
        println!("real api at {}", client.base_url());
        return Ok(Setup {
            client: Arc::new(client),
            payment_intent,
            partial,
            sandbox: None,
        });
    }
    let sandbox = refunds_wooshpay::sandbox::start().await?;
    let captured = Money::from_minor(10_000, Currency::USD);
    sandbox.ledger().seed_payment("pi_demo_1", captured);
    println!(
        "embedded wooshpay sandbox at {}; seeded payment intent pi_demo_1 with {captured} captured",
        sandbox.base_url()
    );
    let client = refunds_wooshpay::sandbox::builder_for(&sandbox)
        .currency(Currency::USD)
        .build()?;
    Ok(Setup {
        client: Arc::new(client),
        payment_intent: "pi_demo_1".to_owned(),
        partial: Money::from_minor(2_500, Currency::USD),
        sandbox: Some(sandbox),
    })
}

fn show(label: &str, refund: &Refund) {
    println!(
        "{label}: {} of {} for {} is {} (reason {}, reference {})",
        refund.id,
        refund.amount,
        refund.payment.id(),
        refund.status,
        refund.reason.as_ref().map_or("none", |r| r.as_str()),
        refund.merchant_reference.as_deref().unwrap_or("none"),
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let setup = setup().await?;
    let client = &setup.client;
    let info = client.info();
    println!(
        "{} ({}): idempotency {:?}, list {:?}, payment kinds {:?}",
        info.name, info.id, info.capabilities.idempotency, info.capabilities.list, info.capabilities.payment_kinds
    );
    let payment = PaymentRef::payment_intent(setup.payment_intent.clone())?;

    // A partial refund with our own idempotency key: sending it again returns the same refund.
    let partial_request = CreateRefund::new(payment.clone())
        .amount(setup.partial)
        .reason(RefundReason::RequestedByCustomer)
        .merchant_reference("order-1001")
        .idempotency_key(IdempotencyKey::random()?);
    let partial = client.create_refund(&partial_request).await?;
    show("partial refund", &partial);
    let again = client.create_refund(&partial_request).await?;
    println!(
        "the same request again (same idempotency key) returns {}: {}",
        again.id,
        if again.id == partial.id {
            "no second refund"
        } else {
            "a different refund?!"
        }
    );

    // A full refund: no amount, so WooshPay refunds what is left (a key is generated for it).
    let full = client
        .create_refund(&CreateRefund::new(payment).reason(RefundReason::Duplicate))
        .await?;
    show("full refund of the rest", &full);

    if let Some(sandbox) = &setup.sandbox {
        let settled = sandbox.ledger().settle_all();
        println!("sandbox settled {settled} pending refunds");
    }
    let fetched = client.get_refund(&partial.id).await?;
    show("retrieved", &fetched);
    println!("raw json as wooshpay sent it: {}", fetched.raw);

    match client.all_refunds(ListRefunds::new()).await {
        Ok(all) => {
            println!("all refunds ({}):", all.len());
            for refund in &all {
                show("  listed", refund);
            }
        }
        Err(e) if e.kind() == &refunds::ErrorKind::Unsupported => {
            println!("listing refunds: {e}");
            println!("(wooshpay documents no refund list; keep the ids create_refund returns)");
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}
