//! How the journal reaches a provider: an account is a client it can create refunds through (with
//! the provider's own options where the client is typed) and recover with.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use refunds::adapter::{Client, HttpProvider};
use refunds::{Error, PendingCreate, Refund, RefundProvider, Result};

/// A provider account the journal sends creates through.
#[async_trait]
pub trait Account: Send + Sync {
    /// The client, for recovery and its capabilities.
    fn provider(&self) -> &dyn RefundProvider;

    /// Whether [`Account::create`] sends provider options given with an intent (default: no).
    fn takes_options(&self) -> bool {
        false
    }

    /// Sends the create the journal recorded: `call.request` exactly as recorded (the journal's key
    /// and marker already in it) with `call.provider_options`, where given. The defaults send it with
    /// [`RefundProvider::resend_pending`], which sends a recorded create identically (the same body,
    /// key and marker on every attempt and in recovery); `create_refund` would refuse a request that
    /// already carries the SDK's marker. An ambiguous answer is recorded with `call` as its pending
    /// create when the error carries none.
    async fn create(&self, call: &PendingCreate) -> Result<Refund>;
}

/// Any client behind `dyn RefundProvider` (a registry's, a decorated one): it sends with the options
/// it was built with, so an intent that carries provider options of its own is refused, never sent
/// without them.
#[async_trait]
impl Account for Arc<dyn RefundProvider> {
    fn provider(&self) -> &dyn RefundProvider {
        self.as_ref()
    }

    async fn create(&self, call: &PendingCreate) -> Result<Refund> {
        if call.provider_options.is_some() {
            return Err(no_options(self.info().id));
        }
        self.as_ref().resend_pending(call).await.map(|sent| sent.refund)
    }
}

fn no_options(provider: &str) -> Error {
    Error::invalid_request(
        "provider_options",
        format!("this {provider} account sends its client's own options: journal it as a Typed account to pass others"),
    )
}

/// A provider crate's typed client: the journal sends an intent's provider options with the create
/// and stores them, so recovery re-sends the identical request.
#[derive(Debug, Clone)]
pub struct Typed<P: HttpProvider>(pub Client<P>);

#[async_trait]
impl<P: HttpProvider> Account for Typed<P> {
    fn provider(&self) -> &dyn RefundProvider {
        &self.0
    }

    fn takes_options(&self) -> bool {
        true
    }

    async fn create(&self, call: &PendingCreate) -> Result<Refund> {
        // The engine sends the recorded options with the request (and refuses options not its own).
        self.0.resend_pending(call).await.map(|sent| sent.refund)
    }
}

/// The accounts a journal's intents name, by account name.
pub trait Accounts: Send + Sync {
    /// The account called `name`, if this process has it.
    fn account(&self, name: &str) -> Option<Arc<dyn Account>>;
}

impl Accounts for HashMap<String, Arc<dyn Account>> {
    fn account(&self, name: &str) -> Option<Arc<dyn Account>> {
        self.get(name).cloned()
    }
}

impl<F> Accounts for F
where
    F: Fn(&str) -> Option<Arc<dyn Account>> + Send + Sync,
{
    fn account(&self, name: &str) -> Option<Arc<dyn Account>> {
        self(name)
    }
}
