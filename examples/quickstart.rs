//! The quickstart: five providers, one interface, no credentials.
//!
//! `Registry::sandbox()` starts the embedded sandbox of every provider (each speaks its provider's real
//! wire format on 127.0.0.1 over a stateful ledger) with a payment seeded in each of five currencies
//! (USD, EGP, three-decimal KWD, zero-decimal JPY, EUR). Then, through the registry's
//! `Arc<dyn RefundProvider>`s only: a partial and a full refund on each, an over-refund rejected,
//! settlement, every list walked with the auto-paging stream, and one normalized table. An application
//! builds the same registry from its environment (`Registry::from_env()`, `REFUNDS_PROVIDERS=...`) or a
//! config file (`Registry::from_config_file("refunds.toml")`).
//!
//! ```text
//! cargo run --example quickstart
//! ```

use futures_util::StreamExt;
use refunds::{
    CreateRefund, Currency, ListRefunds, Money, PaymentRef, Refund, RefundProvider, RefundProviderExt, RefundReason,
};
use refunds_registry::Registry;

/// The partial refund the quickstart makes on each provider's demo payment.
fn partial_for(provider: &str, currency: Currency) -> Money {
    let minor = match provider {
        "fourgeeks" => 2_500,
        "xpay" => 50_000,
        "bias" => 1_234,
        "syncgram" => 5_000,
        _ => 1_999,
    };
    Money::from_minor(minor, currency)
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
    // Keep `sandboxes`: dropping it stops the servers.
    let (registry, sandboxes) = Registry::sandbox().await?;
    println!(
        "{} providers on their embedded sandboxes, one interface\n",
        registry.len()
    );

    let mut made: Vec<Vec<Refund>> = Vec::new();
    for provider in &registry {
        let name = provider.info().id;
        let demo = sandboxes.get(name).ok_or("a provider without a sandbox")?;
        let captured = demo.captured;
        let payment = payment_for(provider.as_ref(), demo.payment_id)?;
        // A reason goes where the provider's wire carries one; elsewhere it would be refused, not dropped.
        let mut request = CreateRefund::new(payment.clone()).amount(partial_for(name, captured.currency()));
        if provider.info().capabilities.carries.reason {
            request = request.reason(RefundReason::RequestedByCustomer);
        }
        let partial = provider.create_refund(&request).await?;
        // More than what is left after the partial: the provider refuses, and says why.
        match provider
            .create_refund(&CreateRefund::new(payment.clone()).amount(captured))
            .await
        {
            Err(e) => println!(
                "{name:<10} over-refund of {} rejected: {:?} ({:?})",
                captured,
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

    sandboxes.settle_all();

    println!("\nafter settlement, read back through the same interface (auto-paging stream where a list exists):\n");
    println!(
        "{:<10} {:<26} {:<24} {:>14} {:<10} created",
        "provider", "id", "payment", "amount", "status"
    );
    let mut total = 0;
    for (provider, created) in registry.providers().zip(&made) {
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
        registry.len()
    );
    Ok(())
}
