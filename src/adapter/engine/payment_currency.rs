//! The currency of a provider whose refunds carry none but whose payments each carry their own
//! ([`AccountCurrency::FromPayment`]): read once per payment (the provider's payment endpoint),
//! remembered, checked against every create and written onto every refund read.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{Client, HttpProvider};
use crate::adapter::spec::AccountCurrency;
use crate::currency::Currency;
use crate::error::{Delivery, Error, Result};
use crate::ids::PaymentRef;
use crate::model::{CreateRefund, Refund};
use crate::money::Money;

/// How many payments' currencies a client remembers; past it the memory starts again (a payment's
/// currency never changes, so forgetting costs one more read, never a wrong answer).
const REMEMBERED: usize = 4_096;

/// The currencies read so far, by payment id.
#[derive(Debug, Default)]
pub(crate) struct PaymentCurrencies {
    known: Mutex<HashMap<String, Currency>>,
}

impl PaymentCurrencies {
    fn get(&self, payment: &str) -> Option<Currency> {
        self.known.lock().ok()?.get(payment).copied()
    }

    fn remember(&self, payment: &str, currency: Currency) {
        if let Ok(mut known) = self.known.lock() {
            if known.len() >= REMEMBERED {
                known.clear();
            }
            known.insert(payment.to_owned(), currency);
        }
    }
}

/// The refund's money in `currency`: the wire's minor units are the payment's.
fn relabel(refund: &mut Refund, currency: Currency) {
    if refund.amount.currency() != currency {
        refund.amount = Money::from_minor(refund.amount.minor(), currency);
    }
    if let Some(fee) = refund.fee.filter(|f| f.currency() != currency) {
        refund.fee = Some(Money::from_minor(fee.minor(), currency));
    }
}

impl<P: HttpProvider> Client<P> {
    fn reads_payment_currency(&self) -> bool {
        P::SPEC.currency == AccountCurrency::FromPayment
    }

    /// The currency of `payment`, from memory or one GET of the payment.
    async fn payment_currency(&self, payment: &PaymentRef) -> Result<Currency> {
        if let Some(known) = self.payment_currencies().get(payment.id()) {
            return Ok(known);
        }
        let call = self.provider().payment_request(payment).unwrap_or_else(|| {
            Err(Error::configuration(
                "the spec reads currencies from payments but the provider has no payment request",
            ))
        })?;
        let currency = self
            .call(&call, |provider, body| provider.read_payment_currency(body))
            .await?;
        self.payment_currencies().remember(payment.id(), currency);
        Ok(currency)
    }

    /// Before a create: an amount in another currency than its payment's is refused, naming the
    /// field, and nothing is sent; the currency is then remembered for labelling the answer. A payment whose currency cannot be read refuses the create too:
    /// its answer could not be checked.
    pub(crate) async fn check_payment_currency(&self, request: &CreateRefund) -> Result<()> {
        if !self.reads_payment_currency() {
            return Ok(());
        }
        let currency = self.payment_currency(request.payment()).await.map_err(|e| {
            // A provider's definite answer about the payment (it does not exist) stays one; anything
            // else is this SDK not sending the create.
            let delivery = match e.delivery() {
                Delivery::Rejected => Delivery::Rejected,
                _ => Delivery::NotSent,
            };
            e.while_doing("the payment's currency could not be read, so the create was not sent")
                .with_delivery(delivery)
        })?;
        let Some(amount) = request.amount_requested() else {
            return Ok(()); // read all the same: the answer is labelled from memory
        };
        if amount.currency() != currency {
            return Err(Error::invalid_request(
                "amount",
                format!(
                    "payment {} is in {}; the refund asks {amount}",
                    request.payment().id(),
                    currency.code(),
                ),
            ));
        }
        Ok(())
    }

    /// After a read: each refund's money in its payment's currency.
    pub(crate) async fn label_with_payment_currency(&self, refunds: &mut [Refund]) -> Result<()> {
        if !self.reads_payment_currency() {
            return Ok(());
        }
        for refund in refunds {
            let currency = self.payment_currency(&refund.payment).await?;
            relabel(refund, currency);
        }
        Ok(())
    }
}
