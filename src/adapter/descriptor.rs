//! A provider's descriptor: the one value a provider crate exports for everything that works with
//! every provider without naming one (the registry, the command line, the shared test suite).
//!
//! ```ignore
//! impl Described for Acme {
//!     const DESCRIPTOR: Descriptor = Descriptor::of::<Acme>()
//!         .webhooks(crate::webhooks::KIT)
//!         .sandbox(crate::sandbox::KIT);
//! }
//! pub const DESCRIPTOR: Descriptor = <Acme as Described>::DESCRIPTOR;
//! ```
//!
//! A descriptor made by [`Descriptor::of`] builds the provider's [`Client`](super::Client) from typed
//! [`ClientSettings`]; its webhook kit says how the provider signs (if it does), and its sandbox kit
//! (feature `sandbox`) how its sandbox starts and what demo payment it holds.

use std::fmt;
use std::sync::Arc;

use crate::adapter::engine::{ClientBuilder, HttpProvider};
use crate::adapter::secret::Secret;
use crate::adapter::settings::ClientSettings;
use crate::adapter::signature::SignatureScheme;
use crate::adapter::spec::AccountCurrency;
use crate::adapter::spec::ProviderSpec;
use crate::error::Error;
use crate::error::Result;
use crate::provider::RefundProvider;
use crate::webhook::{EventTable, WebhookSettings, WebhookVerifier};

/// A provider's engine type with its descriptor: what the shared suite (`provider_suite!`) reads.
pub trait Described: HttpProvider {
    /// The provider for tools that serve every provider (the registry, the command line, the shared
    /// suite): the spec and client builder, plus the webhook and sandbox kits the crate adds.
    const DESCRIPTOR: Descriptor;
}

/// Builds a client of the provider from typed settings.
pub type BuildFn = fn(ClientSettings) -> Result<Arc<dyn RefundProvider>>;

/// One provider, described once: its spec, how to build a client, its webhooks and its sandbox.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct Descriptor {
    /// Id, name, hosts, environment prefix, currency rule, paging: the engine's spec.
    pub spec: ProviderSpec,
    /// How the provider signs its webhooks; `None` where it does not.
    pub webhooks: Option<WebhookKit>,
    /// The provider's sandbox: its skin, test key and demo payment.
    #[cfg(feature = "sandbox")]
    pub sandbox: Option<crate::sandbox::SandboxKit>,
    build: BuildFn,
    livemode_of_key: fn(&str) -> Option<bool>,
}

impl fmt::Debug for Descriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Descriptor")
            .field("id", &self.spec.id)
            .field("webhooks", &self.webhooks.is_some())
            .finish_non_exhaustive()
    }
}

fn build<P: HttpProvider>(settings: ClientSettings) -> Result<Arc<dyn RefundProvider>> {
    Ok(Arc::new(ClientBuilder::<P>::from_settings(settings).build()?))
}

impl Descriptor {
    /// The descriptor of `P`: its spec and its client builder; no webhooks, no sandbox.
    pub const fn of<P: HttpProvider>() -> Descriptor {
        Descriptor {
            spec: P::SPEC,
            webhooks: None,
            #[cfg(feature = "sandbox")]
            sandbox: None,
            build: build::<P>,
            livemode_of_key: ClientBuilder::<P>::livemode_of_key,
        }
    }

    /// With the provider's webhook kit: its errors name this provider, and it needs the account's
    /// currency where the provider's refunds carry none.
    pub const fn webhooks(mut self, mut kit: WebhookKit) -> Descriptor {
        kit.provider = self.spec.id;
        kit.needs_currency = matches!(self.spec.currency, AccountCurrency::Required);
        self.webhooks = Some(kit);
        self
    }

    /// With the provider's sandbox kit.
    #[cfg(feature = "sandbox")]
    pub const fn sandbox(mut self, kit: crate::sandbox::SandboxKit) -> Descriptor {
        self.sandbox = Some(kit);
        self
    }

    /// The provider id (`"acme"`).
    pub const fn id(&self) -> &'static str {
        self.spec.id
    }

    /// A client from typed settings (the key, base url, currency, timeouts, proxy, roots), checked
    /// as the provider's own builder checks them.
    pub fn build(&self, settings: ClientSettings) -> Result<Arc<dyn RefundProvider>> {
        (self.build)(settings)
    }

    /// Whether a key of this provider is live (`Some(true)`), test (`Some(false)`), or does not say.
    pub fn livemode_of_key(&self, key: &str) -> Option<bool> {
        (self.livemode_of_key)(key)
    }
}

/// How a provider signs its webhooks, for a tool that verifies or sends them without naming it.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct WebhookKit {
    /// The provider's event types.
    pub events: EventTable,
    /// Its refund objects carry no currency: reading an event needs the account's (set from the
    /// spec by [`Descriptor::webhooks`]).
    pub needs_currency: bool,
    /// It has an older signature form ([`WebhookSettings::legacy_signature`]).
    pub legacy_form: bool,
    /// The provider id its errors name (set by [`Descriptor::webhooks`]).
    provider: &'static str,
    verifier: fn(Secret, &WebhookSettings) -> Result<Box<dyn WebhookVerifier>>,
    scheme: fn(Secret, &WebhookSettings) -> Result<Arc<dyn SignatureScheme>>,
}

impl WebhookKit {
    /// A kit from the provider's verifier and scheme constructors.
    pub const fn new(
        events: EventTable,
        verifier: fn(Secret, &WebhookSettings) -> Result<Box<dyn WebhookVerifier>>,
        scheme: fn(Secret, &WebhookSettings) -> Result<Arc<dyn SignatureScheme>>,
    ) -> WebhookKit {
        WebhookKit {
            events,
            needs_currency: false,
            legacy_form: false,
            provider: "",
            verifier,
            scheme,
        }
    }

    /// The provider has a legacy signature form.
    pub const fn legacy_form(mut self) -> WebhookKit {
        self.legacy_form = true;
        self
    }

    /// A verifier for `secret`. A `Configuration` error (never holding the secret) for a bad
    /// secret, or a currency or legacy form the provider needs or lacks.
    pub fn verifier(&self, secret: impl Into<Secret>, settings: &WebhookSettings) -> Result<Box<dyn WebhookVerifier>> {
        let provider = self.provider;
        if self.needs_currency && settings.currency.is_none() {
            return Err(Error::configuration(format!(
                "{provider}: reading its webhooks needs the account's currency (its refund objects carry none)"
            ))
            .with_provider(provider));
        }
        (self.verifier)(secret.into(), settings).map_err(|e| e.with_provider(provider))
    }

    /// The signing scheme for `secret` (what a sender signs with).
    pub fn scheme(&self, secret: impl Into<Secret>, settings: &WebhookSettings) -> Result<Arc<dyn SignatureScheme>> {
        (self.scheme)(secret.into(), settings).map_err(|e| e.with_provider(self.provider))
    }
}
