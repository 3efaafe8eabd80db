//! SyncgramPay refunds through the shared `RefundProvider` interface: a partial and a full refund, one
//! retrieved, all listed.
//!
//! With no credentials it runs on the embedded SyncgramPay sandbox (no network):
//!
//! ```text
//! cargo run --example syncgram
//! ```
//!
//! Against the real API, set the key, the account's settlement currency and the charges to refund:
//!
//! ```text
//! SYNCGRAM_API_KEY=sk_test_... SYNCGRAM_CURRENCY=USD \
//! SYNCGRAM_PARTIAL_CHARGE_ID=ch_... SYNCGRAM_PARTIAL_AMOUNT=25.00 \
//! SYNCGRAM_FULL_CHARGE_ID=ch_... \
//! cargo run --example syncgram
//! ```
//!
//! (`SYNCGRAM_BASE_URL` overrides `https://api.syncgrampay.com`.)

use std::error::Error;
use std::sync::Arc;

use refunds::sandbox::Sandbox;
use refunds::{
    CreateRefund, Currency, IdempotencyKey, ListRefunds, Money, PaymentRef, Refund, RefundProvider, RefundProviderExt,
    RefundReason,
};
use refunds_syncgram::{SyncgramClient, SyncgramExt};

/// The charges to refund: a partial amount of one, all of another.
struct Plan {
    partial_charge: String,
    partial_amount: Money,
    full_charge: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // Kept alive until the end: dropping the sandbox stops its server.
    let mut sandbox: Option<Sandbox> = None;
    let (client, plan) = if std::env::var("SYNCGRAM_API_KEY").is_ok_and(|k| !k.is_empty()) {
        let client = SyncgramClient::from_env()?;
        // Required by the builder, so always set here.
        let currency = client.currency().ok_or("SYNCGRAM_CURRENCY is required")?;
        let plan = plan_from_env(currency)?;
        println!("real api: settlement currency {currency}");
        (client, plan)
    } else {
        let started = refunds_syncgram::sandbox::start().await?;
        let currency = refunds_syncgram::sandbox::CURRENCY;
        started
            .ledger()
            .seed_payment("ch_demo_order_1", Money::from_minor(10_000, currency));
        started
            .ledger()
            .seed_payment("ch_demo_order_2", Money::from_minor(4_000, currency));
        println!(
            "no SYNCGRAM_API_KEY: embedded sandbox at {} with charges ch_demo_order_1 (100.00 {currency}) and ch_demo_order_2 (40.00 {currency})",
            started.base_url()
        );
        let client = refunds_syncgram::sandbox::builder_for(&started).build()?;
        sandbox = Some(started);
        let plan = Plan {
            partial_charge: "ch_demo_order_1".into(),
            partial_amount: Money::from_major_str("25.00", currency)?,
            full_charge: "ch_demo_order_2".into(),
        };
        (client, plan)
    };
    let concrete = client.clone();
    let provider: Arc<dyn RefundProvider> = Arc::new(client);
    println!(
        "provider {} ({}): {:?}",
        provider.info().name,
        provider.info().id,
        provider.info().capabilities
    );

    let partial = provider
        .create_refund(
            &CreateRefund::new(PaymentRef::charge(&plan.partial_charge)?)
                .amount(plan.partial_amount)
                .reason(RefundReason::RequestedByCustomer),
        )
        .await?;
    show("partial refund", &partial);

    let full = provider
        .create_refund(
            &CreateRefund::new(PaymentRef::charge(&plan.full_charge)?).idempotency_key(IdempotencyKey::random()?),
        )
        .await?;
    show("full refund", &full);

    if let Some(sandbox) = &sandbox {
        let settled = sandbox.ledger().settle_all();
        println!("sandbox: settled {settled} pending refunds");
    }

    let again = provider.get_refund(&partial.id).await?;
    show("retrieved", &again);

    // SyncgramPay also looks a refund up by its charge (on the concrete client or the trait).
    let by_charge = concrete.get_refund_by_charge(&plan.full_charge).await?;
    show("by charge", &by_charge);

    let all = provider.all_refunds(ListRefunds::new()).await?;
    println!("all refunds ({}):", all.len());
    for refund in &all {
        show("  -", refund);
    }
    Ok(())
}

fn plan_from_env(currency: Currency) -> Result<Plan, Box<dyn Error>> {
    let var = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("{name} is required with SYNCGRAM_API_KEY"))
    };
    Ok(Plan {
        partial_charge: var("SYNCGRAM_PARTIAL_CHARGE_ID")?,
        partial_amount: Money::from_major_str(&var("SYNCGRAM_PARTIAL_AMOUNT")?, currency)?,
        full_charge: var("SYNCGRAM_FULL_CHARGE_ID")?,
    })
}

fn show(label: &str, refund: &Refund) {
    let fee = refund.fee.map(|fee| format!(", fee {fee}")).unwrap_or_default();
    println!(
        "{label} {} of {}: {} {}{fee}, reference {}",
        refund.id,
        refund.payment,
        refund.amount,
        refund.status,
        refund.merchant_reference.as_deref().unwrap_or("-"),
    );
}
