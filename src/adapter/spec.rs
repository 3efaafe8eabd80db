//! What a provider is, as data: one `const` per provider crate that the engine reads to run every call.
//!
//! Nothing here decides per call: the engine derives key placement, replay safety, routes, paging
//! parameters and the field rule from the spec, the same way for every provider.

use std::time::Duration;

use crate::adapter::status::StatusMap;
use crate::currency::Currency;
use crate::ids::PaymentRefKind;
use crate::provider::{CreateFields, IdempotencySupport, MarkerField, PagingStyle};

/// The metadata key under which the engine writes its create marker where a provider echoes metadata.
pub const MARKER_KEY: &str = "refunds_marker";

/// The most metadata entries of the caller's beside which the engine adds its marker: room is left
/// for the marker and a merchant reference a provider may carry in metadata too, so the marker never
/// makes a valid request too big. A wrapper that marks requests itself (the journal) keeps the same rule.
pub const MARKER_ROOM: usize = crate::model::MAX_METADATA_ENTRIES - 2;

/// How the API key travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthStyle {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// The key alone in a named header (`X-Api-Key: <key>`).
    Header(&'static str),
    /// HTTP Basic with the key as the user name and an empty password (Stripe's style).
    BasicKeyAsUser,
}

/// Where the idempotency key of a create goes; the engine derives replay safety from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Idempotency {
    /// The provider documents none: a create is sent once and a caller's key is refused.
    None,
    /// A request header (`Idempotency-Key`).
    Header(&'static str),
    /// A field of the JSON body (`idempotency_key`).
    BodyField(&'static str),
}

impl Idempotency {
    /// The capability this placement gives.
    pub const fn support(&self) -> IdempotencySupport {
        match self {
            Idempotency::None => IdempotencySupport::None,
            Idempotency::Header(_) => IdempotencySupport::Header,
            Idempotency::BodyField(_) => IdempotencySupport::BodyField,
        }
    }
}

/// The API hosts. Where a provider documents separate test and live hosts the key prefix picks one
/// (`sk_live_` live, anything else test); otherwise both are the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hosts {
    /// The base URL for test keys.
    pub test: &'static str,
    /// The base URL for live keys.
    pub live: &'static str,
}

impl Hosts {
    /// One host for both modes.
    pub const fn one(url: &'static str) -> Hosts {
        Hosts { test: url, live: url }
    }
}

/// How the list pages. Parameter names are the usual ones (`limit`, `offset`, `starting_after`,
/// `ending_before`); every provider here uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagingSpec {
    /// Offset, cursor or a single page.
    pub style: PagingStyle,
    /// The page size asked for when the caller sets none.
    pub default_limit: u32,
    /// The largest page size the client asks for.
    pub max_limit: u32,
    /// The query parameter of a status filter, where the list takes one (values from the status table).
    pub status_param: Option<&'static str>,
}

/// Where the currency of a refund comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccountCurrency {
    /// Refund objects carry their currency; a configured account currency only checks creates.
    OnTheWire,
    /// Refund objects carry none: the account currency must be configured.
    Required,
    /// Refund objects carry none; this currency is assumed unless one is configured (documented as an
    /// assumption in the provider's README).
    Default(Currency),
    /// Refund objects carry none, payments each carry their own: the engine reads a payment's
    /// currency ([`HttpProvider::payment_request`](crate::adapter::HttpProvider::payment_request),
    /// remembered per payment), refuses a create in another currency before sending it, and writes
    /// it onto every refund read. A configured account currency only checks creates.
    FromPayment,
}

/// One provider, described.
#[derive(Debug, Clone, Copy)]
pub struct ProviderSpec {
    /// Stable machine id (`"fourgeeks"`), written into every `Refund` and error.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Prefix of the environment variables: `<PREFIX>_API_KEY`, `<PREFIX>_BASE_URL`, `<PREFIX>_CURRENCY`.
    pub env_prefix: &'static str,
    /// Default base URLs.
    pub hosts: Hosts,
    /// Whether keys say their mode (`sk_live_` / `sk_test_`), which then fills `Refund::livemode`.
    pub key_modes: bool,
    /// How the key is sent.
    pub auth: AuthStyle,
    /// Path of the refunds collection below the base URL: create is `POST`, list is `GET`, one refund is
    /// `GET <path>/<id>`.
    pub refunds_path: &'static [&'static str],
    /// How the list pages; `None` when there is no list.
    pub paging: Option<PagingSpec>,
    /// Idempotency of creates.
    pub idempotency: Idempotency,
    /// Provider status strings.
    pub statuses: StatusMap,
    /// Payment reference kinds a create accepts.
    pub payment_kinds: &'static [PaymentRefKind],
    /// Partial refunds are possible.
    pub partial_refunds: bool,
    /// `GET <path>/<id>` exists.
    pub retrieve: bool,
    /// Which optional create fields the wire carries; the others are refused before sending.
    pub carries: CreateFields,
    /// Where refund currencies come from.
    pub currency: AccountCurrency,
    /// How long the provider keeps an idempotency key ([`crate::provider::KEY_RETENTION_UNKNOWN`] where
    /// it does not say): recovery never re-sends a pending create older than this.
    pub key_retention: Duration,
    /// Where the provider echoes a caller's field, so the engine writes a marker there on every create
    /// (`None`: nowhere). A refund carrying a create's marker is proof it is that create's.
    pub marker: Option<MarkerField>,
    /// The response header by which the provider says a keyed answer was replayed
    /// (`idempotency-replay: true`), where it has one.
    pub replay_header: Option<&'static str>,
}

impl ProviderSpec {
    /// The full name of one of the provider's environment variables: `env_var("API_KEY")`.
    pub fn env_var(&self, name: &str) -> String {
        format!("{}_{name}", self.env_prefix)
    }
}
