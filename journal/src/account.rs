//! How the journal reaches a provider: an account is a client it can create refunds through (with
//! the provider's own options where the client is typed) and recover with.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use refunds::adapter::{Client, HttpProvider};
use refunds::{CallOptions, CreateRefund, Error, Refund, RefundProvider, Result};

/// A provider account the journal sends creates through.
#[async_trait]
pub trait Account: Send + Sync {
    /// The client, for recovery and its capabilities.
    fn provider(&self) -> &dyn RefundProvider;

    /// Whether [`Account::create`] sends provider options given with an intent (default: no).
    fn takes_options(&self) -> bool {
        false
    }

    /// Creates `request` (already carrying the journal's key and marker) with the provider's own
    /// options of this create, where given.
    async fn create(&self, request: &CreateRefund, provider_options: Option<&serde_json::Value>) -> Result<Refund>;
}

/// Any client behind `dyn RefundProvider` (a registry's, a decorated one): it sends with the options
/// it was built with, so an intent that carries provider options of its own is refused, never sent
/// without them.
#[async_trait]
impl Account for Arc<dyn RefundProvider> {
    fn provider(&self) -> &dyn RefundProvider {
        self.as_ref()
    }

    async fn create(&self, request: &CreateRefund, provider_options: Option<&serde_json::Value>) -> Result<Refund> {
        if provider_options.is_some() {
            return Err(no_options(self.info().id));
        }
        self.as_ref().create_refund(request).await
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

    async fn create(&self, request: &CreateRefund, provider_options: Option<&serde_json::Value>) -> Result<Refund> {
        match provider_options {
            None => self.0.create_refund(request).await,
            Some(value) => {
                let options: P::Options = serde_json::from_value(value.clone()).map_err(|e| {
                    Error::invalid_request("provider_options", format!("not {}'s options: {e}", P::SPEC.id))
                })?;
                self.0
                    .create_refund_with_provider_options(request, &CallOptions::new(), &options)
                    .await
            }
        }
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
