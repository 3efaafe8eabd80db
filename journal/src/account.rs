//! How the journal reaches a provider: an account is a client it can create refunds through (with
//! the provider's own options where the client is typed) and recover with.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use refunds::adapter::{Client, HttpProvider};
use refunds::{Error, PendingCreate, Refund, RefundProvider, Result};
use refunds_ratelimit::{Permit, RateLimited};

/// A provider account the journal sends creates through.
#[async_trait]
pub trait Account: Send + Sync {
    /// The client, for recovery and its capabilities.
    fn provider(&self) -> &dyn RefundProvider;

    /// Whether [`Account::create`] sends provider options given with an intent (default: no).
    fn takes_options(&self) -> bool {
        false
    }

    /// Checks an intent's provider options before it is recorded, as the create would (default:
    /// nothing to check, for an account that takes none).
    fn check_options(&self, options: &serde_json::Value) -> Result<()> {
        let _ = options;
        Ok(())
    }

    /// Waits until a create sent through this account may leave at once (a rate limit's slot, its
    /// pause and its rate), and holds that right. The journal waits here **before** it marks an
    /// attempt sent and stamps the lease the create runs under, so no lease is spent in a queue;
    /// then it sends with [`Account::create_on`]. The default: at once, holding nothing.
    async fn ready(&self) -> Ready {
        Ready::none()
    }

    /// Sends the create on the right [`Account::ready`] gave (its first request leaves at once).
    /// The default drops it and calls [`Account::create`].
    async fn create_on(&self, ready: Ready, call: &PendingCreate) -> Result<Refund> {
        drop(ready);
        self.create(call).await
    }

    /// Sends the create the journal recorded: `call.request` exactly as recorded (the journal's key
    /// and marker already in it) with `call.provider_options`, where given. The defaults send it with
    /// [`RefundProvider::resend_pending`], which sends a recorded create identically (the same body,
    /// key and marker on every attempt and in recovery); `create_refund` would refuse a request that
    /// already carries the SDK's marker. An ambiguous answer is recorded with `call` as its pending
    /// create when the error carries none.
    async fn create(&self, call: &PendingCreate) -> Result<Refund>;
}

/// The right to send one request at once, from [`Account::ready`]: whatever the account's limiter
/// hands out (a permit), held until the create is sent or the right is dropped.
#[derive(Default)]
pub struct Ready(Option<Box<dyn std::any::Any + Send + Sync>>);

impl Ready {
    /// Nothing held: the account sends whenever it is asked.
    pub fn none() -> Ready {
        Ready(None)
    }

    /// Holds `permit`.
    pub fn new<T: std::any::Any + Send + Sync>(permit: T) -> Ready {
        Ready(Some(Box::new(permit)))
    }

    /// The permit, where it is a `T`.
    pub fn take<T: std::any::Any>(self) -> Option<T> {
        self.0?.downcast::<T>().ok().map(|b| *b)
    }
}

impl std::fmt::Debug for Ready {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Ready(held)" } else { "Ready(none)" })
    }
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

    fn check_options(&self, options: &serde_json::Value) -> Result<()> {
        // The engine's own reading of options, at the send (`not <id>'s options`), made before the
        // intent is recorded: a refused one would otherwise use its intent id up.
        serde_json::from_value::<P::Options>(options.clone())
            .map(drop)
            .map_err(|e| Error::invalid_request("provider_options", format!("not {}'s options: {e}", P::SPEC.id)))
    }

    async fn create(&self, call: &PendingCreate) -> Result<Refund> {
        // The engine sends the recorded options with the request (and refuses options not its own).
        self.0.resend_pending(call).await.map(|sent| sent.refund)
    }
}

/// An account behind its rate limiter ([`refunds_ratelimit::RateLimited`]): the journal takes the
/// permit for a create before it marks the create sent and stamps its lease, so no lease is spent in
/// the limiter's queue. Recovery's requests go through the same limiter.
#[derive(Debug, Clone)]
pub struct Limited(Arc<RateLimited>);

impl Limited {
    /// `limited` as a journal account.
    pub fn new(limited: Arc<RateLimited>) -> Limited {
        Limited(limited)
    }
}

#[async_trait]
impl Account for Limited {
    fn provider(&self) -> &dyn RefundProvider {
        self.0.as_ref()
    }

    async fn ready(&self) -> Ready {
        Ready::new(self.0.permit().await)
    }

    async fn create_on(&self, ready: Ready, call: &PendingCreate) -> Result<Refund> {
        match ready.take::<Permit>() {
            Some(permit) => self.0.resend_pending_on(permit, call).await.map(|sent| sent.refund),
            None => self.create(call).await,
        }
    }

    async fn create(&self, call: &PendingCreate) -> Result<Refund> {
        if call.provider_options.is_some() {
            return Err(no_options(self.0.info().id));
        }
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
