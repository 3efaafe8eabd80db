//! The quickstart: five providers, one interface, no credentials.
//!
//! Starts the embedded sandbox of every provider (each speaks its provider's real wire format on
//! 127.0.0.1 over a stateful ledger), seeds payments in five currencies (USD, EGP, three-decimal KWD,
//! zero-decimal JPY, EUR), and then, through `Vec<Arc<dyn RefundProvider>>` only: makes a partial and a
//! full refund on each, shows an over-refund being rejected, settles, walks every list with the
//! auto-paging stream, and prints one normalized table.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use std::sync::Arc;

use futures_util::StreamExt;
use refunds::sandbox::Sandbox;
use refunds::{
    CreateRefund, Currency, ListRefunds, Money, PaymentRef, Refund, RefundProvider, RefundProviderExt, RefundReason,
};

/// One provider on its sandbox, with the payment the quickstart refunds.
struct Account {
    sandbox: Sandbox,
    client: Arc<dyn RefundProvider>,
    payment_id: &'static str,
    captured: Money,
    partial: Money,
}

async fn accounts() -> Result<Vec<Account>, Box<dyn std::error::Error>> {
    let usd = Currency::USD;
    let (egp, kwd, jpy, eur) = (Currency::EGP, Currency::KWD, Currency::JPY, Currency::EUR);

    let fourgeeks = refunds_fourgeeks::sandbox::start().await?;
    let fourgeeks_client = refunds_fourgeeks::sandbox::builder_for(&fourgeeks)
        .currency(usd)
        .build()?;

    let xpay = refunds_xpay::sandbox::start().await?;
    let xpay_client = refunds_xpay::sandbox::builder_for(&xpay).build()?;

    let bias = refunds_bias::sandbox::start_with_currency(kwd).await?;
    let bias_client = refunds_bias::sandbox::builder_for(&bias).currency(kwd).build()?;

    let syncgram = refunds_syncgram::sandbox::start().await?;
    let syncgram_client = refunds_syncgram::sandbox::builder_for(&syncgram)
        .currency(jpy)
        .build()?;

    let wooshpay = refunds_wooshpay::sandbox::start().await?;
    let wooshpay_client = refunds_wooshpay::sandbox::builder_for(&wooshpay).build()?;

    let account = |sandbox: Sandbox, client: Arc<dyn RefundProvider>, payment_id, captured, partial| Account {
        sandbox,
        client,
        payment_id,
        captured,
        partial,
    };
    Ok(vec![
        account(
            fourgeeks,
            Arc::new(fourgeeks_client),
            "pay_7g8h9i0j1k2l",
            Money::from_minor(10_000, usd),
            Money::from_minor(2_500, usd),
        ),
        account(
            xpay,
            Arc::new(xpay_client),
            "ch_xyz789",
            Money::from_minor(80_000, egp),
            Money::from_minor(50_000, egp),
        ),
        account(
            bias,
            Arc::new(bias_client),
            "pay_bias_1",
            Money::from_minor(12_345, kwd),
            Money::from_minor(1_234, kwd),
        ),
        account(
            syncgram,
            Arc::new(syncgram_client),
            "ch_a1b2c3d4e5f6",
            Money::from_minor(10_000, jpy),
            Money::from_minor(5_000, jpy),
        ),
        account(
            wooshpay,
            Arc::new(wooshpay_client),
            "pi_1787730829493927936",
            Money::from_minor(8_000, eur),
            Money::from_minor(1_999, eur),
        ),
    ])
}

fn payment_for(client: &dyn RefundProvider, id: &str) -> refunds::Result<PaymentRef> {
    let kind = client.info().capabilities.payment_kinds[0];
    PaymentRef::new(kind, id)
}

fn row(r: &Refund) -> String {
    let created = r.created_at.map_or_else(
        || "-".to_owned(),
        |t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        },
    );
    format!(
        "{:<10} {:<26} {:<24} {:>14} {:<10} {}",
        r.provider,
        r.id.as_str(),
        r.payment.id(),
        r.amount.to_string(),
        r.status.to_string(),
        created
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let accounts = accounts().await?;
    for a in &accounts {
        a.sandbox.ledger().seed_payment(a.payment_id, a.captured);
    }
    let providers: Vec<Arc<dyn RefundProvider>> = accounts.iter().map(|a| a.client.clone()).collect();
    println!(
        "{} providers on their embedded sandboxes, one interface\n",
        providers.len()
    );

    let mut made: Vec<Vec<Refund>> = Vec::new();
    for (a, provider) in accounts.iter().zip(&providers) {
        let name = provider.info().id;
        let payment = payment_for(provider.as_ref(), a.payment_id)?;
        // A reason goes where the provider's wire carries one; elsewhere it would be refused, not dropped.
        let mut request = CreateRefund::new(payment.clone()).amount(a.partial);
        if provider.info().capabilities.carries.reason {
            request = request.reason(RefundReason::RequestedByCustomer);
        }
        let partial = provider.create_refund(&request).await?;
        // More than what is left after the partial: the provider refuses, and says why.
        match provider
            .create_refund(&CreateRefund::new(payment.clone()).amount(a.captured))
            .await
        {
            Err(e) => println!(
                "{name:<10} over-refund of {} rejected: {:?} ({:?})",
                a.captured,
                e.kind(),
                e.delivery()
            ),
            Ok(r) => return Err(format!("{name}: over-refund was accepted: {}", r.id).into()),
        }
        let full = provider.create_refund(&CreateRefund::new(payment)).await?;
        println!(
            "{name:<10} partial {:>14}, then a full refund of the rest {:>14}",
            partial.amount.to_string(),
            full.amount.to_string()
        );
        made.push(vec![partial, full]);
    }

    for a in &accounts {
        a.sandbox.ledger().settle_all();
    }

    println!("\nafter settlement, read back through the same interface (auto-paging stream where a list exists):\n");
    println!(
        "{:<10} {:<26} {:<24} {:>14} {:<10} created",
        "provider", "id", "payment", "amount", "status"
    );
    let mut total = 0;
    for (provider, created) in providers.iter().zip(&made) {
        let refunds: Vec<Refund> = if provider.info().capabilities.list.is_some() {
            provider
                .refunds_stream(ListRefunds::new())
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<Result<_, _>>()?
        } else {
            let mut got = Vec::new();
            for r in created {
                got.push(provider.get_refund(&r.id).await?);
            }
            got
        };
        for r in &refunds {
            println!("{}", row(r));
        }
        total += refunds.len();
    }
    println!(
        "\n{total} refunds across {} providers; amounts are exact minor units in each currency's precision",
        providers.len()
    );
    Ok(())
}
