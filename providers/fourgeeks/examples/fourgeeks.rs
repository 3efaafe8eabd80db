//! 4Geeks Payments refunds through the provider-neutral `RefundProvider` interface.
//!
//! ```text
//! cargo run -p refunds-examples --example fourgeeks
//! ```
//!
//! Without credentials it runs against the embedded 4Geeks sandbox (127.0.0.1, nothing leaves the
//! machine). With `FOURGEEKS_API_KEY` set it talks to the real API and creates real refunds:
//!
//! ```text
//! FOURGEEKS_API_KEY=sk_test_...        # required for the real API
//! FOURGEEKS_CURRENCY=USD               # the currency of the payments below (each refund's is read from its payment)
//! FOURGEEKS_PAYMENT_ID=pay_...         # required: refunded in part (FOURGEEKS_PARTIAL_AMOUNT, default 1.00)
//! FOURGEEKS_FULL_PAYMENT_ID=pay_...    # optional: refunded in full (default: the rest of FOURGEEKS_PAYMENT_ID)
//! FOURGEEKS_BASE_URL=https://...       # optional
//! ```

use std::sync::Arc;

use refunds::sandbox::{Fault, Sandbox};
use refunds::{
    CreateRefund, Currency, ListRefunds, Money, PaymentRef, RecoverExt, Recovery, RecoveryOptions, RefundProvider,
    RefundProviderExt, RefundReason,
};
use refunds_fourgeeks::FourGeeksClient;

type Failure = Box<dyn std::error::Error>;

/// What the program refunds, and with which client.
struct Setup {
    client: Arc<dyn RefundProvider>,
    currency: Currency,
    partial_payment: String,
    partial_amount: Money,
    full_payment: String,
    /// Kept alive for the program's duration when running offline.
    sandbox: Option<Sandbox>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

async fn real_api() -> Result<Setup, Failure> {
    let client = FourGeeksClient::from_env()?;
    let currency = client
        .currency()
        .ok_or("set FOURGEEKS_CURRENCY to the currency of the payments to refund")?;
    let partial_payment = env("FOURGEEKS_PAYMENT_ID").ok_or("set FOURGEEKS_PAYMENT_ID to a payment to refund")?;
    let partial_amount =
        Money::from_major_str(&env("FOURGEEKS_PARTIAL_AMOUNT").unwrap_or_else(|| "1".into()), currency)?;
    let full_payment = env("FOURGEEKS_FULL_PAYMENT_ID").unwrap_or_else(|| partial_payment.clone());
    println!(
        "real 4Geeks API, payments in {currency}, live mode: {:?}",
        client.livemode()
    );
    Ok(Setup {
        client: Arc::new(client),
        currency,
        partial_payment,
        partial_amount,
        full_payment,
        sandbox: None,
    })
}

async fn sandbox() -> Result<Setup, Failure> {
    let sandbox = refunds_fourgeeks::sandbox::start().await?;
    let currency = refunds_fourgeeks::sandbox::CURRENCY;
    let ledger = sandbox.ledger();
    ledger.seed_payment("pay_7g8h9i0j1k2l", Money::from_minor(10_000, currency));
    ledger.seed_payment("pay_y5z6a7b8c9d0", Money::from_minor(4_999, currency));
    let client = refunds_fourgeeks::sandbox::builder_for(&sandbox).build()?;
    println!(
        "embedded 4Geeks sandbox at {} (set FOURGEEKS_API_KEY for the real API)",
        sandbox.base_url()
    );
    println!("seeded pay_7g8h9i0j1k2l (100.00 {currency}) and pay_y5z6a7b8c9d0 (49.99 {currency})");
    Ok(Setup {
        client: Arc::new(client),
        currency,
        partial_payment: "pay_7g8h9i0j1k2l".into(),
        partial_amount: Money::from_major_str("25.00", currency)?,
        full_payment: "pay_y5z6a7b8c9d0".into(),
        sandbox: Some(sandbox),
    })
}

/// A create whose answer is lost: the SDK does not re-send it (4Geeks has no idempotency), reports
/// it as ambiguous with the pending create attached, and `recover` says what the provider's data can
/// tell. 4Geeks reports no creation time and no reference, so a refund of the same payment and amount
/// cannot be told apart from an earlier one: recovery answers with candidates, never a guess.
async fn lost_answer_recovery(
    sandbox: &Sandbox,
    client: &dyn RefundProvider,
    currency: Currency,
) -> Result<(), Failure> {
    sandbox
        .ledger()
        .seed_payment("pay_lost_answer", Money::from_minor(3_000, currency));
    sandbox.faults().push(Fault::ResponseLost, 1);
    let request = CreateRefund::new(PaymentRef::payment("pay_lost_answer")?).amount(Money::from_minor(1_000, currency));
    match client.create_refund(&request).await {
        Ok(refund) => println!("unexpected: the lost answer arrived ({})", refund.id),
        Err(e) if e.is_ambiguous() => {
            println!("create failed ambiguously: {e}");
            let pending = e.pending().ok_or("ambiguous errors carry the pending create")?;
            // The provider had its chance to settle (a sandbox answers at once).
            let options = RecoveryOptions::new().settle(std::time::Duration::ZERO);
            match client.recover_with(pending, options).await {
                Recovery::Applied { refund, .. } => println!("  it was applied: {} {}", refund.id, refund.amount),
                Recovery::NotApplied { .. } => println!("  it was not applied; safe to send again"),
                Recovery::Candidates { refunds: found, .. } => {
                    for refund in &found {
                        println!("  candidate: {} {} {}", refund.id, refund.amount, refund.status);
                    }
                    println!("  4Geeks cannot tell these from earlier refunds: check before sending again");
                }
                other => println!("  unknown: {other:?}; do not send again before checking"),
            }
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let setup = if env("FOURGEEKS_API_KEY").is_some() {
        real_api().await?
    } else {
        sandbox().await?
    };
    let client: &dyn RefundProvider = setup.client.as_ref();
    let info = client.info();
    println!(
        "provider {} ({}), paging {:?}",
        info.name, info.id, info.capabilities.list
    );

    let partial = client
        .create_refund(
            &CreateRefund::new(PaymentRef::payment(&setup.partial_payment)?)
                .amount(setup.partial_amount)
                .reason(RefundReason::Other("Customer requested partial refund".into())),
        )
        .await?;
    println!(
        "partial refund {} of {}: {} {}",
        partial.id, partial.payment, partial.amount, partial.status
    );
    println!("  raw: {}", partial.raw);

    let full = client
        .create_refund(
            &CreateRefund::new(PaymentRef::payment(&setup.full_payment)?).reason(RefundReason::RequestedByCustomer),
        )
        .await?;
    println!(
        "full refund {} of {}: {} {}",
        full.id, full.payment, full.amount, full.status
    );

    if let Some(sandbox) = &setup.sandbox {
        let settled = sandbox.ledger().settle_all();
        println!("sandbox settled {settled} refund(s)");
    }

    let again = client.get_refund(&partial.id).await?;
    println!(
        "retrieved {}: {} {} (currency from the client: {})",
        again.id, again.amount, again.status, setup.currency
    );

    if let Some(sandbox) = &setup.sandbox {
        lost_answer_recovery(sandbox, client, setup.currency).await?;
    }

    let all = client.all_refunds(ListRefunds::new()).await?;
    println!("all refunds ({}):", all.len());
    for refund in &all {
        println!("  {} {} {} {}", refund.id, refund.payment, refund.amount, refund.status);
    }
    Ok(())
}
