//! The cursor-paged refunds API (seed 002): a partial and a full refund of one payment, a retrieve,
//! and the whole list walked page by page, all through `RefundProvider`.
//!
//! With no credentials it runs on the embedded sandbox: `cargo run --example cursor`.
//!
//! Against the real API set `CURSOR_REFUNDS_API_KEY`, `CURSOR_REFUNDS_BASE_URL`,
//! `CURSOR_REFUNDS_CURRENCY` (optionally `CURSOR_REFUNDS_AUTH` = `bearer` | `basic` | `header:<Name>`),
//! and the payment to refund in `CURSOR_REFUNDS_PAYMENT_ID`, with the partial amount in major units
//! in `CURSOR_REFUNDS_PARTIAL_AMOUNT` (default `1`). This refunds real money.

use std::sync::Arc;

use refunds::sandbox::Sandbox;
use refunds::{CreateRefund, Currency, ListRefunds, Money, PaymentRef, Refund, RefundProvider, RefundProviderExt};
use refunds_cursor::{CursorClient, expanded_payment};

type Failure = Box<dyn std::error::Error>;

/// What the walk-through runs against.
struct Setup {
    client: Arc<dyn RefundProvider>,
    payment: PaymentRef,
    partial: Money,
    /// Kept alive for the run; `None` on the real API.
    sandbox: Option<Sandbox>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn real_api() -> Result<Setup, Failure> {
    let client = CursorClient::from_env()?;
    let payment = env("CURSOR_REFUNDS_PAYMENT_ID").ok_or("set CURSOR_REFUNDS_PAYMENT_ID to the payment to refund")?;
    let partial = env("CURSOR_REFUNDS_PARTIAL_AMOUNT").unwrap_or_else(|| "1".to_owned());
    println!(
        "real API at the configured base url, account currency {}",
        client.currency()
    );
    Ok(Setup {
        partial: Money::from_major_str(&partial, client.currency())?,
        payment: PaymentRef::payment(payment)?,
        client: Arc::new(client),
        sandbox: None,
    })
}

async fn embedded_sandbox() -> Result<Setup, Failure> {
    let sandbox = refunds_cursor::sandbox::start().await?;
    let captured = Money::from_major_str("100.00", Currency::USD)?;
    sandbox.ledger().seed_payment("pay_example_1", captured);
    println!(
        "embedded sandbox at {}; seeded payment pay_example_1 of {captured}",
        sandbox.base_url()
    );
    // Ask for the payment object on reads, to show `expand`.
    let client = refunds_cursor::sandbox::builder_for(&sandbox)
        .expand_payment(true)
        .build()?;
    Ok(Setup {
        client: Arc::new(client),
        payment: PaymentRef::payment("pay_example_1")?,
        partial: Money::from_major_str("25.00", Currency::USD)?,
        sandbox: Some(sandbox),
    })
}

fn show(what: &str, refund: &Refund) {
    let created = match refund.created_at {
        Some(at) => format!("created_at {} ms", at.unix_timestamp_nanos() / 1_000_000),
        None => "no created_at".to_owned(),
    };
    let mode = match refund.livemode {
        Some(true) => "live",
        Some(false) => "sandbox",
        None => "mode not reported",
    };
    println!(
        "{what}: {} of {} for {} is {} ({mode}, {created})",
        refund.id,
        refund.amount,
        refund.payment.id(),
        refund.status,
    );
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let setup = if env("CURSOR_REFUNDS_API_KEY").is_some() {
        real_api()?
    } else {
        embedded_sandbox().await?
    };
    let client: &dyn RefundProvider = setup.client.as_ref();
    let info = client.info();
    println!(
        "provider {} ({}), list paging {:?}",
        info.id, info.name, info.capabilities.list
    );

    let partial = client
        .create_refund(&CreateRefund::new(setup.payment.clone()).amount(setup.partial))
        .await?;
    show("partial refund", &partial);
    let full = client.create_refund(&CreateRefund::new(setup.payment.clone())).await?;
    show("full refund of what was left", &full);

    if let Some(sandbox) = &setup.sandbox {
        let settled = sandbox.ledger().settle_all();
        println!("sandbox settled {settled} refunds");
    }

    let again = client.get_refund(&partial.id).await?;
    show("retrieved", &again);
    if let Some(payment) = expanded_payment(&again)? {
        println!(
            "  expanded payment {}: received {:?}, refunded {:?}, status {:?}",
            payment.id,
            payment.amount_received.map(|a| a.0),
            payment.amount_refunded.map(|a| a.0),
            payment.status
        );
    }

    // Small pages, to show the cursor walk.
    let all = client.all_refunds(ListRefunds::new().limit(1)).await?;
    println!("all refunds ({}):", all.len());
    for refund in &all {
        show("  listed", refund);
    }
    Ok(())
}
