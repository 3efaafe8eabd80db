//! The `RefundProvider` trait every provider implements, and what a provider says it can do.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::ids::{PaymentRef, PaymentRefKind, RefundId};
use crate::model::{CreateRefund, ListFilters, ListRefunds, Page, Refund};
use crate::options::CallOptions;
use crate::pending::PendingCreate;

/// How a provider pages its list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PagingStyle {
    /// `limit` + `offset`, usually with a total: pages can be fetched concurrently.
    Offset,
    /// An object id to start after: pages must be fetched one after the other.
    Cursor,
    /// The list endpoint exists but its paging is not documented: one page only.
    SinglePage,
}

/// How (and whether) a provider de-duplicates a repeated create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdempotencySupport {
    /// Not documented: the SDK never re-sends a create.
    None,
    /// An `Idempotency-Key` style header.
    Header,
    /// A field in the request body.
    BodyField,
}

impl IdempotencySupport {
    /// True when a create carrying a key may be retried safely.
    pub fn is_native(&self) -> bool {
        !matches!(self, IdempotencySupport::None)
    }
}

/// Where a provider echoes a caller's field on the refund it creates, so that the SDK can write a
/// marker of its own there on every create: a refund found carrying a create's marker is that
/// create's refund (proof), and one carrying another marker is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MarkerField {
    /// A metadata entry under this key.
    Metadata(&'static str),
    /// The merchant reference (written only when the caller gives none).
    MerchantReference,
}

impl MarkerField {
    /// The marker `refund` carries in this field, if any.
    pub fn read<'a>(&self, refund: &'a Refund) -> Option<&'a str> {
        match self {
            MarkerField::Metadata(key) => refund.metadata.get(*key).map(String::as_str),
            MarkerField::MerchantReference => refund.merchant_reference.as_deref(),
        }
    }
}

/// How long a provider keeps an idempotency key when it does not say: a day, as Stripe documents.
pub const KEY_RETENTION_UNKNOWN: Duration = Duration::from_secs(24 * 60 * 60);

/// The answer to a pending create sent again under its key ([`RefundProvider::resend_pending`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Resent {
    /// The refund the provider answered with.
    pub refund: Refund,
    /// Whether the provider said the answer was replayed from an earlier request with the key
    /// (`None` where it does not say).
    pub replayed: Option<bool>,
}

impl Resent {
    /// An answer to a re-send.
    pub fn new(refund: Refund, replayed: Option<bool>) -> Resent {
        Resent { refund, replayed }
    }
}

/// Which optional fields of a [`CreateRefund`] a provider's wire carries. A field it cannot carry is
/// refused before sending (`InvalidRequest` naming it), the same on every provider: nothing is
/// silently dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct CreateFields {
    /// [`CreateRefund::reason`].
    pub reason: bool,
    /// [`CreateRefund::description`].
    pub description: bool,
    /// [`CreateRefund::metadata`].
    pub metadata: bool,
    /// [`CreateRefund::merchant_reference`].
    pub merchant_reference: bool,
}

impl CreateFields {
    /// None of the optional fields.
    pub const NONE: CreateFields = CreateFields {
        reason: false,
        description: false,
        metadata: false,
        merchant_reference: false,
    };
    /// Sets `reason`.
    pub const fn reason(mut self, yes: bool) -> Self {
        self.reason = yes;
        self
    }
    /// Sets `description`.
    pub const fn description(mut self, yes: bool) -> Self {
        self.description = yes;
        self
    }
    /// Sets `metadata`.
    pub const fn metadata(mut self, yes: bool) -> Self {
        self.metadata = yes;
        self
    }
    /// Sets `merchant_reference`.
    pub const fn merchant_reference(mut self, yes: bool) -> Self {
        self.merchant_reference = yes;
        self
    }

    /// The first field `request` sets that is not carried, by its name in [`CreateRefund`].
    pub fn first_refused(&self, request: &CreateRefund) -> Option<&'static str> {
        if request.reason_given().is_some() && !self.reason {
            return Some("reason");
        }
        if request.description_given().is_some() && !self.description {
            return Some("description");
        }
        if !request.metadata_given().is_empty() && !self.metadata {
            return Some("metadata");
        }
        if request.merchant_reference_given().is_some() && !self.merchant_reference {
            return Some("merchant_reference");
        }
        None
    }
}

/// What a provider supports, so callers can check before calling.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Refunds of part of a payment.
    pub partial_refunds: bool,
    /// Retrieve a refund by id.
    pub retrieve: bool,
    /// Retrieve the refund of a payment (`get_refund_by_payment`).
    pub retrieve_by_payment: bool,
    /// List refunds, and how it pages; `None` when there is no list.
    pub list: Option<PagingStyle>,
    /// The list filters by status natively (the SDK filters otherwise).
    pub list_status_filter: bool,
    /// The list filters by payment natively (the SDK filters otherwise).
    pub list_payment_filter: bool,
    /// The list filters by creation time natively (the SDK filters otherwise).
    pub list_created_filter: bool,
    /// Cancel a refund.
    pub cancel: bool,
    /// How repeated creates are de-duplicated.
    pub idempotency: IdempotencySupport,
    /// The payment reference kinds a create accepts.
    pub payment_kinds: Vec<PaymentRefKind>,
    /// The optional create fields carried (an idempotency key is carried where `idempotency` is not
    /// `None`).
    pub carries: CreateFields,
    /// How long the provider keeps an idempotency key (where it honours keys): a pending create older
    /// than this is never sent again, because the re-send could be a new refund.
    pub key_retention: Option<Duration>,
    /// Where the SDK writes a marker the provider echoes, if anywhere.
    pub marker: Option<MarkerField>,
}

impl Capabilities {
    /// Create and retrieve by id with a `Payment` reference; nothing else. Adjust with the setters.
    pub fn new() -> Capabilities {
        Capabilities {
            partial_refunds: true,
            retrieve: true,
            retrieve_by_payment: false,
            list: None,
            list_status_filter: false,
            list_payment_filter: false,
            list_created_filter: false,
            cancel: false,
            idempotency: IdempotencySupport::None,
            payment_kinds: vec![PaymentRefKind::Payment],
            carries: CreateFields {
                reason: true,
                description: true,
                metadata: true,
                merchant_reference: true,
            },
            key_retention: None,
            marker: None,
        }
    }
    /// Sets how long idempotency keys are kept.
    pub fn key_retention(mut self, retention: Option<Duration>) -> Self {
        self.key_retention = retention;
        self
    }
    /// Sets where a create marker is written.
    pub fn marker(mut self, marker: Option<MarkerField>) -> Self {
        self.marker = marker;
        self
    }
    /// Sets the optional create fields carried.
    pub fn carries(mut self, fields: CreateFields) -> Self {
        self.carries = fields;
        self
    }
    /// Sets partial refund support.
    pub fn partial_refunds(mut self, yes: bool) -> Self {
        self.partial_refunds = yes;
        self
    }
    /// Sets retrieve-by-id support.
    pub fn retrieve(mut self, yes: bool) -> Self {
        self.retrieve = yes;
        self
    }
    /// Sets retrieve-by-payment support.
    pub fn retrieve_by_payment(mut self, yes: bool) -> Self {
        self.retrieve_by_payment = yes;
        self
    }
    /// Sets list support and paging style.
    pub fn list(mut self, style: Option<PagingStyle>) -> Self {
        self.list = style;
        self
    }
    /// The filters the list applies itself, for [`ListRefunds::native_part`].
    pub fn list_filters(&self) -> ListFilters {
        ListFilters {
            status: self.list_status_filter,
            payment: self.list_payment_filter,
            created: self.list_created_filter,
        }
    }
    /// Sets whether the list filters by status natively.
    pub fn list_status_filter(mut self, yes: bool) -> Self {
        self.list_status_filter = yes;
        self
    }
    /// Sets cancel support.
    pub fn cancel(mut self, yes: bool) -> Self {
        self.cancel = yes;
        self
    }
    /// Sets idempotency support.
    pub fn idempotency(mut self, support: IdempotencySupport) -> Self {
        self.idempotency = support;
        self
    }
    /// Sets the accepted payment reference kinds.
    pub fn payment_kinds(mut self, kinds: &[PaymentRefKind]) -> Self {
        self.payment_kinds = kinds.to_vec();
        self
    }
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities::new()
    }
}

/// Who a provider is and what it can do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderInfo {
    /// Stable machine id, also written into [`Refund::provider`] (`"fourgeeks"`).
    pub id: &'static str,
    /// Display name (`"4Geeks Payments"`).
    pub name: &'static str,
    /// What it supports.
    pub capabilities: Capabilities,
}

impl ProviderInfo {
    /// Provider info.
    pub fn new(id: &'static str, name: &'static str, capabilities: Capabilities) -> ProviderInfo {
        ProviderInfo { id, name, capabilities }
    }

    /// An `Unsupported` error naming this provider and the operation.
    pub fn unsupported(&self, operation: &str) -> Error {
        Error::unsupported(format!("{} does not support {operation}", self.id)).with_provider(self.id)
    }
}

/// One provider's refunds, behind one interface. Object safe: use it as `Arc<dyn RefundProvider>`.
///
/// Implementations check input before sending (errors name the field), never re-send a create
/// the provider cannot de-duplicate, and keep the provider's raw JSON on every [`Refund`].
#[async_trait]
pub trait RefundProvider: Send + Sync + fmt::Debug {
    /// Who this is and what it supports.
    fn info(&self) -> &ProviderInfo;

    /// Refunds a payment fully (no amount) or in part.
    async fn create_refund(&self, request: &CreateRefund) -> Result<Refund>;

    /// Retrieves one refund by id.
    async fn get_refund(&self, id: &RefundId) -> Result<Refund>;

    /// One page of refunds. Use [`crate::RefundProviderExt::refunds_stream`] to walk them all.
    async fn list_refunds(&self, request: &ListRefunds) -> Result<Page<Refund>>;

    /// [`RefundProvider::create_refund`] with per-call overrides. Providers that cannot apply a
    /// deadline or retry policy per call refuse those (`InvalidRequest` naming the option) rather than
    /// ignore them; a key is added to the request.
    async fn create_refund_with(&self, request: &CreateRefund, options: &CallOptions) -> Result<Refund> {
        refuse_transport_overrides(self.info(), options)?;
        match &options.idempotency_key {
            Some(key) => self.create_refund(&request.clone().idempotency_key(key.clone())).await,
            None => self.create_refund(request).await,
        }
    }

    /// [`RefundProvider::get_refund`] with per-call overrides.
    async fn get_refund_with(&self, id: &RefundId, options: &CallOptions) -> Result<Refund> {
        refuse_transport_overrides(self.info(), options)?;
        self.get_refund(id).await
    }

    /// [`RefundProvider::list_refunds`] with per-call overrides.
    async fn list_refunds_with(&self, request: &ListRefunds, options: &CallOptions) -> Result<Page<Refund>> {
        refuse_transport_overrides(self.info(), options)?;
        self.list_refunds(request).await
    }

    /// The refund of a payment, where the provider looks refunds up by payment.
    async fn get_refund_by_payment(&self, payment: &PaymentRef) -> Result<Refund> {
        let _ = payment;
        Err(self.info().unsupported("retrieving a refund by payment"))
    }

    /// Replaces a refund's metadata, where the provider has such an update (Stripe's
    /// `POST /v1/refunds/{id}` with `metadata`). None of the providers here documents one, so each
    /// refuses it, unsent; the method exists so that a provider that has it can offer it through this
    /// interface.
    async fn update_refund_metadata(
        &self,
        id: &RefundId,
        metadata: &std::collections::BTreeMap<String, String>,
    ) -> Result<Refund> {
        let _ = (id, metadata);
        Err(self.info().unsupported("updating a refund's metadata"))
    }

    /// The exact request [`RefundProvider::create_refund`] would send for `request` (method, URL,
    /// headers with the key redacted, body), after every check a create makes before sending, and
    /// without sending anything: a dry run. Where the provider takes a key and the request brings
    /// none, the preview carries one it generated; a real create generates its own.
    fn preview_create(&self, request: &CreateRefund) -> Result<RequestPreview> {
        let _ = request;
        Err(self.info().unsupported("previewing a create"))
    }

    /// Sends a pending create again, identically (its key, its marker, its provider options), as the
    /// continuation of the call that left it. Only [`crate::RecoverExt::recover`] should call it: it
    /// decides whether a re-send is safe (the key honoured and not yet forgotten) and what the answer
    /// proves. The default sends [`PendingCreate::request`] with [`RefundProvider::create_refund`] and
    /// refuses a pending create that carries provider options it cannot send.
    async fn resend_pending(&self, pending: &PendingCreate) -> Result<Resent> {
        if pending.provider_options.is_some() {
            return Err(self.info().unsupported("re-sending a create with provider options"));
        }
        self.create_refund(&pending.request).await.map(|r| Resent::new(r, None))
    }

    /// [`RefundProvider::resend_pending`] with per-call overrides (a deadline, a retry policy: a rate
    /// limiter switches the client's retries off to count every request); the key and the body are
    /// the pending create's, never the options'. Providers that cannot apply them refuse them
    /// (`InvalidRequest` naming the option), sending nothing.
    async fn resend_pending_with(&self, pending: &PendingCreate, options: &CallOptions) -> Result<Resent> {
        refuse_transport_overrides(self.info(), options)?;
        if options.idempotency_key.is_some() {
            return Err(Error::invalid_request(
                "idempotency_key",
                "a pending create is re-sent under its own key",
            ));
        }
        self.resend_pending(pending).await
    }

    /// Cancels a refund that has not completed.
    async fn cancel_refund(&self, id: &RefundId) -> Result<Refund> {
        let _ = id;
        Err(self.info().unsupported("canceling refunds"))
    }
}

fn refuse_transport_overrides(info: &ProviderInfo, options: &CallOptions) -> Result<()> {
    let field = if options.timeout.is_some() {
        "timeout"
    } else if options.retry.is_some() {
        "retry"
    } else {
        return Ok(());
    };
    Err(Error::invalid_request(field, format!("{} cannot change `{field}` per call", info.id)).with_provider(info.id))
}

/// What a create would send ([`RefundProvider::preview_create`]); `Display` writes it as an HTTP
/// request (method and URL, then headers, then the body), the key shown as `[redacted]`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestPreview {
    /// `POST`.
    pub method: String,
    /// The full URL.
    pub url: String,
    /// Every header sent, lower-case names, in order; the credential's value is `[redacted]`.
    pub headers: Vec<(String, String)>,
    /// The body, as sent.
    pub body: Option<String>,
}

impl RequestPreview {
    /// A preview (for implementations outside this crate).
    pub fn new(method: &str, url: &str, headers: Vec<(String, String)>, body: Option<String>) -> RequestPreview {
        RequestPreview {
            method: method.to_owned(),
            url: url.to_owned(),
            headers,
            body,
        }
    }
}

impl std::fmt::Display for RequestPreview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} {}", self.method, self.url)?;
        for (name, value) in &self.headers {
            writeln!(f, "{name}: {value}")?;
        }
        if let Some(body) = &self.body {
            writeln!(f)?;
            writeln!(f, "{body}")?;
        }
        Ok(())
    }
}
