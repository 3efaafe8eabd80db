//! XPay refunds through the provider-neutral `RefundProvider` interface: a partial refund, a full refund
//! of the rest, a retrieve and the list.
//!
//! By default it runs on the embedded XPay sandbox (no credentials, no network):
//!
//! ```text
//! cargo run --example xpay
//! ```
//!
//! With `XPAY_API_KEY` set it talks to the real API (`XPAY_BASE_URL` overrides the host) and refunds
//! the charge named by `XPAY_CHARGE_ID` (or the payment intent `XPAY_PAYMENT_INTENT_ID`): first
//! `XPAY_PARTIAL_AMOUNT` (major units, default `1.00`) in `XPAY_CURRENCY` (default `EGP`), then
//! everything left. These are real refunds. `XPAY_CURRENCY` is also the account currency the client
//! checks amounts against before sending (XPay takes no currency on a refund).

use std::sync::Arc;

use refunds::sandbox::Sandbox;
use refunds::{
    CreateRefund, Currency, Money, PaymentRef, RecoverExt, Recovery, Refund, RefundProvider, RefundProviderExt,
    RefundReason,
};
use refunds_xpay::XPayClient;

type AnyError = Box<dyn std::error::Error>;

/// Where the example runs: the provider, what it refunds, and the sandbox kept alive while it runs.
struct Setup {
    provider: Arc<dyn RefundProvider>,
    payment: PaymentRef,
    partial: Money,
    sandbox: Option<Sandbox>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

async fn on_the_sandbox() -> Result<Setup, AnyError> {
    let sandbox = refunds_xpay::sandbox::start().await?;
    sandbox
        .ledger()
        .seed_payment("ch_demo_001", Money::from_major_str("500.00", Currency::EGP)?);
    println!(
        "sandbox: XPay on {} with charge ch_demo_001 of 500.00 EGP",
        sandbox.base_url()
    );
    let client = refunds_xpay::sandbox::builder_for(&sandbox)
        .currency(Currency::EGP)
        .build()?;
    Ok(Setup {
        provider: Arc::new(client),
        payment: PaymentRef::charge("ch_demo_001")?,
        partial: Money::from_major_str("200.00", Currency::EGP)?,
        sandbox: Some(sandbox),
    })
}

fn on_the_real_api() -> Result<Setup, AnyError> {
    let payment = match (env("XPAY_CHARGE_ID"), env("XPAY_PAYMENT_INTENT_ID")) {
        (Some(charge), _) => PaymentRef::charge(charge)?,
        (None, Some(intent)) => PaymentRef::payment_intent(intent)?,
        (None, None) => return Err("set XPAY_CHARGE_ID or XPAY_PAYMENT_INTENT_ID to the payment to refund".into()),
    };
    let currency = Currency::from_code(&env("XPAY_CURRENCY").unwrap_or_else(|| "EGP".into()))?;
    let partial = Money::from_major_str(&env("XPAY_PARTIAL_AMOUNT").unwrap_or_else(|| "1.00".into()), currency)?;
    println!("real api: refunding {payment} on XPay");
    Ok(Setup {
        provider: Arc::new(XPayClient::from_env()?),
        payment,
        partial,
        sandbox: None,
    })
}

fn show(what: &str, refund: &Refund) {
    println!(
        "{what}{} of {} for {} is {}",
        refund.id, refund.amount, refund.payment, refund.status
    );
}

/// Creates; when the outcome is unknown it stops instead of sending again: XPay has no idempotency key,
/// so a second create could refund twice. XPay's list is one page, so a refund missing from it may
/// still exist: candidates are shown, and "not found" is never taken to mean "not made".
async fn create(provider: &dyn RefundProvider, request: &CreateRefund) -> Result<Refund, AnyError> {
    match provider.create_refund(request).await {
        Ok(refund) => Ok(refund),
        Err(e) if e.is_ambiguous() => {
            println!("outcome unknown ({e}); not re-sending.");
            if let Some(pending) = e.pending() {
                // XPay's list is one page: a refund missing from it may still exist, so recovery
                // answers "unknown" unless it finds the refund.
                match provider.recover(pending).await {
                    Recovery::Applied { refund, .. } => show("  applied: ", &refund),
                    Recovery::Candidates { refunds: found, .. } => found.iter().for_each(|r| show("  candidate: ", r)),
                    other => println!("  {other:?}"),
                }
            }
            Err(format!("check XPay before refunding again: {e}").into())
        }
        Err(e) => Err(e.into()),
    }
}

async fn run(setup: &Setup) -> Result<(), AnyError> {
    let provider = setup.provider.as_ref();
    let caps = &provider.info().capabilities;
    println!(
        "{}: list {:?}, idempotency {:?}, refunds {:?}",
        provider.info().name,
        caps.list,
        caps.idempotency,
        caps.payment_kinds
    );

    let partial = create(
        provider,
        &CreateRefund::new(setup.payment.clone())
            .amount(setup.partial)
            .reason(RefundReason::RequestedByCustomer)
            .merchant_reference("example-partial-1"),
    )
    .await?;
    show("partial refund: ", &partial);

    let full = create(
        provider,
        &CreateRefund::new(setup.payment.clone()).description("the rest"),
    )
    .await?;
    show("full refund of the rest: ", &full);

    if let Some(sandbox) = &setup.sandbox {
        let settled = sandbox.ledger().settle_all();
        println!("sandbox: {settled} refunds settled");
    }
    let again = provider.get_refund(&partial.id).await?;
    show("retrieved: ", &again);
    println!("  raw: {}", again.raw);

    let all = provider.all_refunds(refunds::ListRefunds::new()).await?;
    println!("listed {} refunds (XPay lists one page):", all.len());
    for refund in &all {
        show("  ", refund);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), AnyError> {
    let setup = if env("XPAY_API_KEY").is_some() {
        on_the_real_api()?
    } else {
        on_the_sandbox().await?
    };
    run(&setup).await
}
