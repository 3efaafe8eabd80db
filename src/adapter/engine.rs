//! The one call pipeline every HTTP provider runs through.
//!
//! A provider crate is a sans-IO translator: a [`ProviderSpec`] and an [`HttpProvider`] impl that
//! builds a create body and reads refunds, lists and error bodies. [`Client`] does the rest, in one
//! place and the same way for every provider:
//!
//! input checks → the field rule → key generation and placement, replay safety from the spec → send
//! with retries and the whole-call delivery verdict → decode → provider tagging → the pending create
//! on an ambiguous create → redaction of the key from every error.
//!
//! A provider never decides whether a request may be re-sent.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use http::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::adapter::auth::Auth;
use crate::adapter::paging::{check_limit, id_cursor, offset};
use crate::adapter::payment_currency::PaymentCurrencies;
use crate::adapter::settings::ClientSettings;
use crate::adapter::spec::{AccountCurrency, AuthStyle, Idempotency, ProviderSpec};
use crate::adapter::transport::{ApiRequest, ApiResponse, Transport};
use crate::currency::Currency;
use crate::error::{Error, ErrorKind, Result};
use crate::ids::{IdempotencyKey, PaymentRef, RefundId};
use crate::model::{CreateRefund, ListRefunds, Page, Refund};
use crate::options::CallOptions;
use crate::pending::PendingCreate;
use crate::provider::{Capabilities, MarkerField, PagingStyle, ProviderInfo, RefundProvider, Resent};
use crate::verdict::rules;

/// What a provider gets when a client is built: the settings, the currency, the key's mode and the
/// provider's own options.
#[derive(Debug)]
#[non_exhaustive]
pub struct Setup<'a, O> {
    /// The builder's settings.
    pub settings: &'a ClientSettings,
    /// The account currency, where configured (required by the spec's [`AccountCurrency`] rule).
    pub currency: Option<Currency>,
    /// Live (`Some(true)`) or test, where the key says.
    pub livemode: Option<bool>,
    /// The provider's own options.
    pub options: &'a O,
}

pub use super::body::CreateBody;

/// One list page as the provider's body says it: the refunds, and the paging hints it carries. The
/// engine turns it into a [`Page`] with the cursor style of the spec.
#[derive(Debug)]
#[non_exhaustive]
pub struct ListBody {
    /// The refunds on the page, in order.
    pub items: Vec<Refund>,
    /// The total the body claims (a hint, never trusted for allocation).
    pub total: Option<u64>,
    /// Whether the body says more pages follow.
    pub has_more: Option<bool>,
}

impl ListBody {
    /// A page of `items` with its paging hints.
    pub fn new(items: Vec<Refund>, total: Option<u64>, has_more: Option<bool>) -> ListBody {
        ListBody { items, total, has_more }
    }
}

/// The sans-IO half of a provider: a spec plus translations between the model and its wire.
///
/// Every method is pure: it gets bytes or model values and returns model values or a body. Errors
/// from the `read_*` methods are reported by the engine as `Decode` errors keeping the HTTP status,
/// request id and body.
pub trait HttpProvider: Sized + Send + Sync + fmt::Debug + 'static {
    /// The provider, described.
    const SPEC: ProviderSpec;

    /// Builder options of this provider alone (`()` when it has none). They serialize, so that a
    /// pending create keeps the options it was sent with and recovery sends the identical request.
    type Options: Clone + Default + fmt::Debug + Send + Sync + Serialize + DeserializeOwned + 'static;

    /// The provider's per-client state (the account currency, the key's mode, its options).
    fn new(setup: Setup<'_, Self::Options>) -> Result<Self>;

    /// The JSON body of a create, as exact text ([`CreateBody::json`] serializes a wire struct
    /// straight to text: decimal amounts never pass through a float). `request` has been validated,
    /// its fields checked against [`ProviderSpec::carries`] and its payment kind against the spec.
    /// `key` is the idempotency key that goes with the create (the caller's or a generated one) where
    /// the spec places one; the engine puts it in the header or body field the spec names, so the
    /// provider only uses it where its wire wants it twice (a reference, say). `options` are the
    /// provider's options for this call (the builder's unless the call gave its own).
    fn create_body(
        &self,
        request: &CreateRefund,
        key: Option<&IdempotencyKey>,
        options: &Self::Options,
    ) -> Result<CreateBody>;

    /// One refund object, raw JSON kept.
    fn read_refund(&self, body: &[u8]) -> Result<Refund>;

    /// One list page.
    fn read_list(&self, body: &[u8]) -> Result<ListBody> {
        let _ = body;
        Err(Error::unsupported("this provider has no list"))
    }

    /// A non-2xx answer as an error (kind, provider code, message, field errors). The engine adds the
    /// provider, HTTP status, request id, `Retry-After` and the delivery verdict.
    fn read_error(response: &ApiResponse) -> Error;

    /// Adds provider-only query parameters to a get or list call (an `expand`, say).
    fn decorate(&self, call: ApiRequest) -> ApiRequest {
        call
    }

    /// The GET of one refund by id as the spec's path gives it (`<refunds path>/<id>`), for a provider
    /// whose route differs in form (a trailing slash); by default [`HttpProvider::decorate`]d.
    fn retrieve(&self, call: ApiRequest) -> ApiRequest {
        self.decorate(call)
    }

    /// Adds the list filters the provider applies itself beyond the spec's status parameter (those
    /// [`HttpProvider::capabilities`] declares native) in the provider's own encoding: Bias sends them
    /// as one JSON `filters` object. A filter the wire cannot express is an `InvalidRequest`.
    fn list_filters(&self, call: ApiRequest, request: &ListRefunds) -> Result<ApiRequest> {
        let _ = request;
        Ok(call)
    }

    /// Headers every request of the client carries (an API version the provider pins, say).
    fn default_headers(&self) -> Vec<(http::HeaderName, http::HeaderValue)> {
        Vec::new()
    }

    /// The GET of one payment, for a spec whose refunds take their currency from their payment
    /// ([`AccountCurrency::FromPayment`]).
    fn payment_request(&self, payment: &PaymentRef) -> Option<Result<ApiRequest>> {
        let _ = payment;
        None
    }

    /// A payment's currency from the answer to [`HttpProvider::payment_request`].
    fn read_payment_currency(&self, body: &[u8]) -> Result<Currency> {
        let _ = body;
        Err(Error::unsupported("this provider reads no payment"))
    }

    /// The call that retrieves the refund of a payment, where the provider has one.
    fn by_payment_request(&self, payment: &PaymentRef) -> Option<Result<ApiRequest>> {
        let _ = payment;
        None
    }

    /// Adjusts the capabilities derived from the spec (retrieve-by-payment, say).
    fn capabilities(capabilities: Capabilities) -> Capabilities {
        capabilities
    }
}

struct Shared<P: HttpProvider> {
    provider: P,
    options: P::Options,
    transport: Transport,
    info: ProviderInfo,
    currency: Option<Currency>,
    livemode: Option<bool>,
    /// The spec's idempotency header, checked and built once.
    idempotency_header: Option<http::HeaderName>,
    /// The refunds collection's URL, built once: a call starts from it instead of encoding the
    /// spec's path segment by segment again.
    refunds_url: Arc<url::Url>,
    /// Payments' currencies, for a spec whose refunds take theirs from their payment.
    payment_currencies: PaymentCurrencies,
}

/// The client of any [`HttpProvider`]: implements [`RefundProvider`]. Cheap to clone; share one per key.
///
/// Provider crates name it: `pub type FourGeeksClient = refunds::adapter::Client<FourGeeks>;`.
pub struct Client<P: HttpProvider> {
    shared: Arc<Shared<P>>,
}

impl<P: HttpProvider> Clone for Client<P> {
    fn clone(&self) -> Self {
        Client {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<P: HttpProvider> fmt::Debug for Client<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The transport's Debug redacts the key; the provider's state holds no secret.
        f.debug_struct("Client")
            .field("provider", &P::SPEC.id)
            .field("currency", &self.shared.currency.map(|c| c.code().to_owned()))
            .field("livemode", &self.shared.livemode)
            .field("transport", &self.shared.transport)
            .finish_non_exhaustive()
    }
}

/// Every spec-derived capability.
fn capabilities_of<P: HttpProvider>() -> Capabilities {
    let spec = &P::SPEC;
    let paging = spec.paging;
    P::capabilities(
        Capabilities::new()
            .partial_refunds(spec.partial_refunds)
            .retrieve(spec.retrieve)
            .list(paging.map(|p| p.style))
            .list_status_filter(paging.is_some_and(|p| p.status_param.is_some()))
            .idempotency(spec.idempotency.support())
            .payment_kinds(spec.payment_kinds)
            .carries(spec.carries)
            .key_retention((spec.idempotency != Idempotency::None).then_some(spec.key_retention))
            .marker(spec.marker.filter(|m| match m {
                MarkerField::Metadata(_) => spec.carries.metadata,
                MarkerField::MerchantReference => spec.carries.merchant_reference,
            })),
    )
}

impl<P: HttpProvider> Client<P> {
    /// A builder with the defaults and no key.
    pub fn builder() -> ClientBuilder<P> {
        ClientBuilder::new()
    }

    /// A client from `<PREFIX>_API_KEY`, `<PREFIX>_BASE_URL` and `<PREFIX>_CURRENCY`.
    pub fn from_env() -> Result<Client<P>> {
        ClientBuilder::from_env().build()
    }

    /// The provider's own state (for provider-only operations).
    pub fn provider(&self) -> &P {
        &self.shared.provider
    }

    pub(crate) fn payment_currencies(&self) -> &PaymentCurrencies {
        &self.shared.payment_currencies
    }

    /// The account currency, where configured or assumed.
    pub fn currency(&self) -> Option<Currency> {
        self.shared.currency
    }

    /// True for a live key, false for a test key, `None` where the key does not say.
    pub fn livemode(&self) -> Option<bool> {
        self.shared.livemode
    }

    /// The base URL calls go to.
    pub fn base_url(&self) -> &str {
        self.shared.transport.config().base_url.as_str()
    }

    /// Parses one refund object exactly as the provider sends it (a webhook payload, a stored body):
    /// the text is kept byte for byte in [`Refund::raw`]. A failure is a `Decode` error with delivery
    /// `NotSent` (nothing was sent) that keeps the body.
    pub fn refund_from_json(&self, json: &[u8]) -> Result<Refund> {
        let mut refund = self.shared.provider.read_refund(json).map_err(|e| {
            self.finish(
                Error::new(ErrorKind::Decode, crate::error::Delivery::NotSent, decode_message(&e)).with_body(json),
            )
        })?;
        self.tag_refund(&mut refund);
        Ok(refund)
    }

    /// Sends a provider-only call through the same pipeline (retries, verdict, tagging, redaction).
    pub async fn send(&self, call: &ApiRequest) -> Result<ApiResponse> {
        self.send_with(call, &CallOptions::new()).await
    }

    /// Opens a long-lived response (an event stream) through the same client: auth, no redirects, no
    /// proxy to loopback, errors tagged and scrubbed. One attempt; the builder's timeout bounds only the
    /// wait for the status line, so the caller bounds idle time between chunks.
    pub async fn open_stream(&self, call: &ApiRequest) -> Result<crate::adapter::transport::StreamBody> {
        self.shared
            .transport
            .open_stream(call)
            .await
            .map_err(|e| self.finish(e))
    }

    /// [`Client::send`] with per-call overrides of the deadline and retry policy.
    pub async fn send_with(&self, call: &ApiRequest, options: &CallOptions) -> Result<ApiResponse> {
        self.shared
            .transport
            .send_with(call, options.timeout, options.retry.as_ref())
            .await
            .map_err(|e| self.finish(e))
    }

    /// Sends a provider-only call and reads its 2xx answer with `read` (given the provider and the
    /// body): one call for send, decode, tagging and redaction. A `read` failure is a `Decode` error
    /// keeping status, request id and body.
    pub async fn call<T>(&self, call: &ApiRequest, read: impl FnOnce(&P, &[u8]) -> Result<T>) -> Result<T> {
        let response = self.send(call).await?;
        read(&self.shared.provider, &response.body).map_err(|e| self.finish(response.decode_error(decode_message(&e))))
    }

    /// One page of the list exactly as [`RefundProvider::list_refunds`] asks for it (paging, filters,
    /// cursors), with `decorate` adding provider-only parameters to the call, and each refund read
    /// into `T` by `map` (an expanded object from its raw JSON, say).
    pub async fn list_with<T>(
        &self,
        request: &ListRefunds,
        decorate: impl FnOnce(ApiRequest) -> ApiRequest,
        map: impl Fn(Refund) -> Result<T>,
    ) -> Result<Page<T>> {
        let page = self.list_page_with(request, &NO_OVERRIDES, decorate).await?;
        let items: Result<Vec<T>> = page.items.into_iter().map(map).collect();
        Ok(Page::new(items.map_err(|e| self.finish(e))?, page.next, page.total))
    }

    /// The refund a 2xx answer carries; a failure is a `Decode` error keeping status, request id and
    /// body (delivery `Ambiguous`: the provider did answer).
    pub fn refund_from_response(&self, response: &ApiResponse) -> Result<Refund> {
        let mut refund = self
            .shared
            .provider
            .read_refund(&response.body)
            .map_err(|e| self.finish(response.decode_error(decode_message(&e))))?;
        self.tag_refund(&mut refund);
        Ok(refund)
    }

    /// Tags an error with the provider and scrubs every spelling of the key from it.
    pub fn finish(&self, error: Error) -> Error {
        let error = if error.provider().is_none() {
            error.with_provider(P::SPEC.id)
        } else {
            error
        };
        error.redact_all(self.shared.transport.secret_forms())
    }

    /// A create with this call's overrides and the provider's own options for this call (instead of
    /// the builder's): the provider-only operations of a crate build on it.
    ///
    /// The verdict of a failed create is [`rules::failed_create`]'s; the answer of a successful one is
    /// checked against the request by [`rules::answer_mismatch`] (a difference is an error carrying
    /// the refund, never `Ok`).
    pub async fn create_refund_with_provider_options(
        &self,
        request: &CreateRefund,
        options: &CallOptions,
        provider_options: &P::Options,
    ) -> Result<Refund> {
        let started_at = OffsetDateTime::now_utc();
        let given = match (&options.idempotency_key, request.idempotency_key_given()) {
            (Some(call), Some(own)) if call != own => {
                return Err(self.finish(Error::invalid_request(
                    "idempotency_key",
                    "the request and the call options carry different idempotency keys",
                )));
            }
            (call, own) => call.as_ref().or(own),
        };
        // Where the provider echoes a field, the request goes out with a marker of this create in it
        // (a copy of the request only then: a create's state is boxed on every call). A keyed create's
        // marker is derived from its key, so that the same key always sends the same body.
        let key = self.key_for(given).map_err(|e| self.finish(e))?;
        let marked = self.mark(request, key.as_ref()).map_err(|e| self.finish(e))?;
        let (sent, marker) = match &marked {
            Some((request, marker)) => (request, Some(marker.as_str())),
            None => (request, None),
        };
        let (call, key) = self
            .prepare_create(sent, key.as_ref(), provider_options)
            .map_err(|e| self.finish(e))?;
        if P::SPEC.currency == AccountCurrency::FromPayment {
            // Boxed: the other providers' create futures stay as small as they were.
            Box::pin(self.check_payment_currency(sent))
                .await
                .map_err(|e| self.finish(e))?;
        }
        let outcome = self.exchange_create(&call, sent, marker, options).await;
        outcome.map(|(refund, _)| refund).map_err(|e| {
            let (e, pending) = rules::failed_create(self.finish(e), P::SPEC.idempotency != Idempotency::None);
            if !pending {
                return e;
            }
            let sent = match key {
                Some(key) => sent.clone().idempotency_key(key),
                None => sent.clone(),
            };
            let stored_options = serde_json::to_value(provider_options).ok().filter(|v| !v.is_null());
            e.with_pending(
                PendingCreate::new(sent, P::SPEC.id, started_at)
                    .ended_at(OffsetDateTime::now_utc())
                    .provider_options(stored_options)
                    .marker(marker.map(str::to_owned)),
            )
        })
    }

    /// Sends a create and reads its answer: the refund, checked against `sent` (and its `marker`), and
    /// whether the provider said the answer was a replay. Errors are not tagged yet.
    async fn exchange_create(
        &self,
        call: &ApiRequest,
        sent: &CreateRefund,
        marker: Option<&str>,
        options: &CallOptions,
    ) -> Result<(Refund, Option<bool>)> {
        let response = self
            .shared
            .transport
            .send_with(call, options.timeout, options.retry.as_ref())
            .await?;
        let replayed = P::SPEC.replay_header.and_then(|name| {
            let value = response.headers.get(name)?.to_str().ok()?;
            Some(value.trim().eq_ignore_ascii_case("true"))
        });
        let mut refund = self.refund_from_response(&response)?;
        if P::SPEC.currency == AccountCurrency::FromPayment {
            if let Err(e) = Box::pin(self.label_with_payment_currency(std::slice::from_mut(&mut refund))).await {
                let why = format!(
                    "the payment's currency could not be read after the create: {}",
                    e.message()
                );
                return Err(rules::mismatch_error("currency", why, refund));
            }
        }
        let written = P::SPEC.marker.zip(marker);
        match rules::answer_mismatch(sent, self.shared.currency, written, &refund) {
            None => Ok((refund, replayed)),
            Some((field, message)) => Err(rules::mismatch_error(field, message, refund)
                .with_http_status(response.status)
                .with_request_id(response.request_id.clone())),
        }
    }

    /// The request with this create's marker written where the spec says the provider echoes one, and
    /// the marker; `None` where there is no such place or the caller's request leaves no room for it.
    /// A request that already carries a marker (a pending create sent again) keeps it.
    fn mark(&self, request: &CreateRefund, key: Option<&IdempotencyKey>) -> Result<Option<(CreateRefund, String)>> {
        let spec = &P::SPEC;
        let marker = || key.map_or_else(new_marker, |k| Ok(marker_of_key(k)));
        // Room for the marker beside the caller's entries and a merchant reference a provider may carry
        // in metadata too, so the marker never makes a valid request too big.
        const ROOM: usize = crate::model::MAX_METADATA_ENTRIES - 2;
        match spec.marker {
            Some(MarkerField::Metadata(entry)) if spec.carries.metadata => {
                let metadata = request.metadata_given();
                if metadata.contains_key(entry) {
                    return Err(copied_marker("metadata", entry));
                }
                if metadata.len() > ROOM {
                    return Ok(None);
                }
                let marker = marker()?;
                Ok(Some((request.clone().metadata(entry, marker.clone()), marker)))
            }
            Some(MarkerField::MerchantReference) if spec.carries.merchant_reference => {
                match (request.merchant_reference_given(), key) {
                    (Some(given), Some(key)) if given == marker_of_key(key) => {
                        Err(copied_marker("merchant_reference", "the create marker of its key"))
                    }
                    (Some(_), _) => Ok(None),
                    (None, _) => {
                        let marker = marker()?;
                        Ok(Some((request.clone().merchant_reference(marker.clone()), marker)))
                    }
                }
            }
            _ => Ok(None),
        }
    }

    /// Sends `pending` again, identically: its request as sent (key and marker included) and its
    /// provider options; the answer is checked against it as any create's is.
    async fn resend(&self, pending: &PendingCreate) -> Result<Resent> {
        let options: P::Options = match &pending.provider_options {
            None => P::Options::default(),
            Some(value) => serde_json::from_value(value.clone()).map_err(|e| {
                Error::invalid_request("provider_options", format!("not {}'s options: {e}", P::SPEC.id))
            })?,
        };
        let request = &pending.request;
        let (call, _) = self.prepare_create(request, request.idempotency_key_given(), &options)?;
        let marker = pending.marker.as_deref();
        let (refund, replayed) = self
            .exchange_create(&call, request, marker, &CallOptions::new())
            .await?;
        Ok(Resent::new(refund, replayed))
    }

    /// Every check that needs no provider, the key, and the call; returns the call and the key it
    /// carries (`given`, or a generated one; `None` where the provider takes no key).
    fn prepare_create(
        &self,
        request: &CreateRefund,
        given: Option<&IdempotencyKey>,
        options: &P::Options,
    ) -> Result<(ApiRequest, Option<IdempotencyKey>)> {
        let spec = &P::SPEC;
        request.validate()?;
        request.payment().expect_kind(spec.id, spec.payment_kinds)?;
        if let Some(field) = spec.carries.first_refused(request) {
            return Err(Error::invalid_request(
                field,
                format!("{} has no field for `{field}`: refused rather than dropped", spec.id),
            ));
        }
        if let Some(amount) = request.amount_requested() {
            if !spec.partial_refunds {
                return Err(Error::invalid_request(
                    "amount",
                    format!("{} refunds whole payments only", spec.id),
                ));
            }
            if let Some(currency) = self.shared.currency.filter(|c| *c != amount.currency()) {
                return Err(Error::invalid_request(
                    "amount",
                    format!(
                        "the {} account is in {}, the amount is in {}",
                        spec.id,
                        currency.code(),
                        amount.currency().code()
                    ),
                ));
            }
        }
        let key = self.key_for(given)?;
        let mut body = self.shared.provider.create_body(request, key.as_ref(), options)?;
        let mut call = ApiRequest::under(Method::POST, self.shared.refunds_url.clone(), &[]);
        match (&self.shared.idempotency_header, spec.idempotency, &key) {
            (Some(name), _, Some(key)) => call = call.header(name.clone(), key.as_str())?,
            (_, Idempotency::BodyField(field), Some(key)) => body = body.with_field(field, key.as_str())?,
            _ => {}
        }
        let call = call
            .json_string(body.into_string())
            .replay_safe(spec.idempotency != Idempotency::None);
        Ok((call, key))
    }

    /// The key a create carries: `given`, or one generated where the spec places a key; a key given to
    /// a provider that documents no idempotency is refused.
    fn key_for(&self, given: Option<&IdempotencyKey>) -> Result<Option<IdempotencyKey>> {
        let spec = &P::SPEC;
        match (spec.idempotency, given) {
            (Idempotency::None, Some(_)) => Err(Error::invalid_request(
                "idempotency_key",
                format!(
                    "{} documents no idempotency: a key would make a re-sent create look safe",
                    spec.id
                ),
            )),
            (Idempotency::None, None) => Ok(None),
            (_, Some(key)) => Ok(Some(key.clone())),
            (_, None) => IdempotencyKey::random().map(Some),
        }
    }

    /// A GET of one refund, `call` already decorated.
    ///
    /// The transport's future is awaited here, not through [`Client::send_with`]: an `async fn` copies
    /// the whole future it starts into its own state, and the transport's is most of a call's, so each
    /// layer in between is one more copy per call. For the same reason this is an `async move` block
    /// rather than an `async fn`, whose state would hold the argument and its moved-in copy side by
    /// side (1,056 bytes against 912: over 1 KiB, the box would leave glibc's per-thread cache).
    #[allow(clippy::manual_async_fn)]
    fn fetch_refund<'a>(
        &'a self,
        call: ApiRequest,
        options: &'a CallOptions,
    ) -> impl std::future::Future<Output = Result<Refund>> + Send + 'a {
        async move {
            let sent = self
                .shared
                .transport
                .send_with(&call, options.timeout, options.retry.as_ref());
            let mut refund = match sent.await {
                Ok(response) => self.refund_from_response(&response)?,
                Err(e) => return Err(self.finish(e)),
            };
            if P::SPEC.currency == AccountCurrency::FromPayment {
                Box::pin(self.label_with_payment_currency(std::slice::from_mut(&mut refund)))
                    .await
                    .map_err(|e| self.finish(e))?;
            }
            Ok(refund)
        }
    }

    fn list_call(&self, request: &ListRefunds) -> Result<(ApiRequest, Position, u32)> {
        let spec = &P::SPEC;
        let paging = spec
            .paging
            .ok_or_else(|| self.shared.info.unsupported("listing refunds"))?;
        let mut call = ApiRequest::under(Method::GET, self.shared.refunds_url.clone(), &[]);
        if let (Some(status), Some(param)) = (request.status_filter(), paging.status_param) {
            let wire = spec.statuses.to_wire(status).ok_or_else(|| {
                Error::invalid_request("status", format!("{} has no status string for {status}", spec.id))
            })?;
            call = call.query(param, wire);
        }
        call = self.shared.provider.list_filters(call, request)?;
        let limit = check_limit(request.limit_requested(), 1..=paging.max_limit, paging.default_limit)?;
        let position = match paging.style {
            PagingStyle::Offset => {
                let start = offset::from_cursor(spec.id, request.cursor_given())?;
                call = call.query("limit", limit).query("offset", start);
                Position::Offset(start)
            }
            PagingStyle::Cursor => {
                call = call.query("limit", limit);
                match id_cursor::from_cursor(spec.id, request.cursor_given())? {
                    Some(id_cursor::Position::After(id)) => {
                        call = call.query("starting_after", &id);
                        Position::After
                    }
                    Some(id_cursor::Position::Before(id)) => {
                        call = call.query("ending_before", &id);
                        Position::Before
                    }
                    None => Position::After,
                }
            }
            _ => {
                if request.cursor_given().is_some() {
                    return Err(Error::invalid_request(
                        "cursor",
                        format!("{} lists one page only", spec.id),
                    ));
                }
                Position::Single
            }
        };
        Ok((self.shared.provider.decorate(call), position, limit))
    }
}

/// Where a list call starts, for the page's next cursor.
enum Position {
    Offset(u64),
    After,
    Before,
    Single,
}

impl<P: HttpProvider> Client<P> {
    /// Every refund names the provider that answered it, whatever the translator wrote, and, where
    /// the refund does not say, the mode the key says. In place: a `Refund` is a few hundred bytes, and
    /// a page of them moved through a `map` is a copy of each.
    fn tag_refund(&self, refund: &mut Refund) {
        if refund.provider != P::SPEC.id {
            refund.provider = std::borrow::Cow::Borrowed(P::SPEC.id);
        }
        if refund.livemode.is_none() {
            refund.livemode = self.shared.livemode;
        }
    }
}

/// A create that carries the SDK's own marker: a pending create's request sent again as a new create
/// (which would restart its key's clock and skip recovery's rules), or metadata copied from another
/// refund (whose marker would then prove the wrong create). Refused before sending.
#[cold]
fn copied_marker(field: &str, what: &str) -> Error {
    Error::invalid_request(
        field,
        format!(
            "the request carries {what}, which only the SDK writes: a pending create is resolved with \
             `recover`, never created again; create anew from your own request (without the marker)"
        ),
    )
}

/// The marker of a keyed create: the key itself where it is short (every create sent with one key
/// then carries one marker, so the provider sees the identical body, and no two keys share one), else
/// the first 128 bits of its SHA-256 (a field that echoes may be shorter than a key).
fn marker_of_key(key: &IdempotencyKey) -> String {
    use sha2::Digest;
    if key.as_str().len() <= MAX_PLAIN_MARKER {
        return key.as_str().to_owned();
    }
    let digest = sha2::Sha256::digest(key.as_str().as_bytes());
    let bits = u128::from_be_bytes(digest[..16].try_into().unwrap_or([0; 16]));
    format!("rfm_{bits:032x}")
}

/// The longest key used as its own marker.
const MAX_PLAIN_MARKER: usize = 64;

/// A fresh marker of an unkeyed create: 128 bits from the operating system, never from a clock.
fn new_marker() -> Result<String> {
    crate::adapter::try_random_u128()
        .map(|bits| format!("rfm_{bits:032x}"))
        .ok_or_else(|| Error::configuration("the operating system gave no random bytes for a create marker"))
}

fn decode_message(e: &Error) -> String {
    if e.kind() == &ErrorKind::Decode {
        e.message().to_owned()
    } else {
        e.to_string()
    }
}

/// The boxed future of a trait call, as `async_trait` writes it.
type CallFuture<'f, T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send + 'f>>;

/// A call without per-call overrides.
static NO_OVERRIDES: CallOptions = CallOptions::new();

// The bodies of the trait's call methods, boxed once by them; they await the transport directly (see
// `fetch_refund`).
impl<P: HttpProvider> Client<P> {
    /// The GET of one refund by id.
    fn get_call(&self, id: &RefundId) -> Result<ApiRequest> {
        if !P::SPEC.retrieve {
            return Err(self.shared.info.unsupported("retrieving a refund by id"));
        }
        let call = ApiRequest::under(Method::GET, self.shared.refunds_url.clone(), &[id.as_str()]);
        Ok(self.shared.provider.retrieve(call))
    }

    /// One page of the list, `decorate` applied to the call after the engine built it (the trait's
    /// `list_refunds` passes the call as it is; boxed there directly, without a wrapping future).
    async fn list_page_with(
        &self,
        request: &ListRefunds,
        options: &CallOptions,
        decorate: impl FnOnce(ApiRequest) -> ApiRequest,
    ) -> Result<Page<Refund>> {
        let id = P::SPEC.id;
        let (call, position, limit) = self.list_call(request).map_err(|e| self.finish(e))?;
        let call = decorate(call);
        let sent = self
            .shared
            .transport
            .send_with(&call, options.timeout, options.retry.as_ref());
        let response = sent.await.map_err(|e| self.finish(e))?;
        let list = self
            .shared
            .provider
            .read_list(&response.body)
            .map_err(|e| self.finish(response.decode_error(decode_message(&e))))?;
        let ListBody {
            mut items,
            total,
            has_more,
        } = list;
        for refund in &mut items {
            self.tag_refund(refund);
        }
        if P::SPEC.currency == AccountCurrency::FromPayment {
            Box::pin(self.label_with_payment_currency(&mut items))
                .await
                .map_err(|e| self.finish(e))?;
        }
        let mut page = match position {
            Position::Offset(start) => offset::page(id, items, start, total, limit),
            Position::After => id_cursor::page(id, items, |r| r.id.as_str(), has_more, limit),
            Position::Before => Page {
                total,
                ..id_cursor::page_before(id, items, |r| r.id.as_str(), has_more, limit)
            },
            Position::Single => Page::new(items, None, total),
        };
        // Filters the provider does not apply are applied here, after the next cursor was taken from
        // the whole page.
        if *request != request.native_part(&self.shared.info.capabilities) {
            let mut kept = Vec::with_capacity(page.items.len());
            for refund in page.items {
                if request.matches(&refund).map_err(|e| self.finish(e))? {
                    kept.push(refund);
                }
            }
            page.items = kept;
        }
        Ok(page)
    }
}

#[async_trait]
impl<P: HttpProvider> RefundProvider for Client<P> {
    fn info(&self) -> &ProviderInfo {
        &self.shared.info
    }

    // The call methods box the body's future themselves, and the plain ones hand over to the `_with`
    // ones: an `async fn` here would box a wrapper that copies the body's whole future into itself.
    fn create_refund<'a, 'b, 'f>(&'a self, request: &'b CreateRefund) -> CallFuture<'f, Refund>
    where
        'a: 'f,
        'b: 'f,
        Self: 'f,
    {
        self.create_refund_with(request, &NO_OVERRIDES)
    }

    fn create_refund_with<'a, 'b, 'c, 'f>(
        &'a self,
        request: &'b CreateRefund,
        options: &'c CallOptions,
    ) -> CallFuture<'f, Refund>
    where
        'a: 'f,
        'b: 'f,
        'c: 'f,
        Self: 'f,
    {
        Box::pin(self.create_refund_with_provider_options(request, options, &self.shared.options))
    }

    fn get_refund<'a, 'b, 'f>(&'a self, id: &'b RefundId) -> CallFuture<'f, Refund>
    where
        'a: 'f,
        'b: 'f,
        Self: 'f,
    {
        self.get_refund_with(id, &NO_OVERRIDES)
    }

    fn get_refund_with<'a, 'b, 'c, 'f>(&'a self, id: &'b RefundId, options: &'c CallOptions) -> CallFuture<'f, Refund>
    where
        'a: 'f,
        'b: 'f,
        'c: 'f,
        Self: 'f,
    {
        match self.get_call(id) {
            Ok(call) => Box::pin(self.fetch_refund(call, options)),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }

    fn list_refunds<'a, 'b, 'f>(&'a self, request: &'b ListRefunds) -> CallFuture<'f, Page<Refund>>
    where
        'a: 'f,
        'b: 'f,
        Self: 'f,
    {
        self.list_refunds_with(request, &NO_OVERRIDES)
    }

    fn list_refunds_with<'a, 'b, 'c, 'f>(
        &'a self,
        request: &'b ListRefunds,
        options: &'c CallOptions,
    ) -> CallFuture<'f, Page<Refund>>
    where
        'a: 'f,
        'b: 'f,
        'c: 'f,
        Self: 'f,
    {
        Box::pin(self.list_page_with(request, options, std::convert::identity))
    }

    async fn resend_pending(&self, pending: &PendingCreate) -> Result<Resent> {
        self.resend(pending).await.map_err(|e| self.finish(e))
    }

    async fn get_refund_by_payment(&self, payment: &PaymentRef) -> Result<Refund> {
        match self.shared.provider.by_payment_request(payment) {
            None => Err(self.shared.info.unsupported("retrieving a refund by payment")),
            Some(call) => {
                let call = self.shared.provider.decorate(call.map_err(|e| self.finish(e))?);
                self.fetch_refund(call, &NO_OVERRIDES).await
            }
        }
    }
}

/// Builds a [`Client`]: the API key is required; the base URL, timeouts, retries and (for providers
/// whose refunds carry no currency) the account currency have defaults or come from the environment.
pub struct ClientBuilder<P: HttpProvider> {
    settings: ClientSettings,
    options: P::Options,
}

impl<P: HttpProvider> fmt::Debug for ClientBuilder<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("provider", &P::SPEC.id)
            .field("settings", &self.settings)
            .field("options", &self.options)
            .finish()
    }
}

impl<P: HttpProvider> Clone for ClientBuilder<P> {
    fn clone(&self) -> Self {
        ClientBuilder {
            settings: self.settings.clone(),
            options: self.options.clone(),
        }
    }
}

impl<P: HttpProvider> Default for ClientBuilder<P> {
    fn default() -> Self {
        ClientBuilder::new()
    }
}

impl<P: HttpProvider> ClientBuilder<P> {
    crate::client_settings_setters!(settings);

    /// Defaults and no key.
    pub fn new() -> ClientBuilder<P> {
        ClientBuilder {
            settings: ClientSettings::new(),
            options: P::Options::default(),
        }
    }

    /// Settings from `<PREFIX>_API_KEY`, `<PREFIX>_BASE_URL` and `<PREFIX>_CURRENCY` (each optional
    /// here; `build` reports what is missing or malformed, naming the variable).
    pub fn from_env() -> ClientBuilder<P> {
        ClientBuilder::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`ClientBuilder::from_env`] with another source of variables (a map, a config file).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> ClientBuilder<P> {
        ClientBuilder {
            settings: ClientSettings::from_lookup(P::SPEC.env_prefix, lookup),
            options: P::Options::default(),
        }
    }

    /// The account currency: required where refunds carry none, a check on creates elsewhere.
    pub fn currency(mut self, currency: Currency) -> Self {
        self.settings.set_currency(currency);
        self
    }

    /// The provider's own options.
    pub fn options(mut self, options: P::Options) -> Self {
        self.options = options;
        self
    }

    /// The settings so far.
    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// The client, or a `Configuration` error naming the provider and what is missing or malformed.
    pub fn build(self) -> Result<Client<P>> {
        let spec = &P::SPEC;
        let tag = |e: Error| e.with_provider(spec.id);
        let key_var = spec.env_var("API_KEY");
        let key = self.settings.require_api_key(spec.id, &key_var).map_err(tag)?.clone();
        let currency = match spec.currency {
            AccountCurrency::Required => Some(
                self.settings
                    .account_currency(|| {
                        format!(
                            "{}: account currency missing ({} refunds carry none; set it with .currency(..) or in {})",
                            spec.id,
                            spec.name,
                            spec.env_var("CURRENCY")
                        )
                    })
                    .map_err(tag)?,
            ),
            AccountCurrency::Default(default) => {
                if let Some(message) = &self.settings.currency_env_error {
                    return Err(tag(Error::configuration(message.clone())));
                }
                Some(self.settings.currency.unwrap_or(default))
            }
            AccountCurrency::OnTheWire | AccountCurrency::FromPayment => {
                if let Some(message) = &self.settings.currency_env_error {
                    return Err(tag(Error::configuration(message.clone())));
                }
                self.settings.currency
            }
        };
        let livemode = if !spec.key_modes {
            None
        } else if key.starts_with("sk_live_") {
            Some(true)
        } else if key.starts_with("sk_test_") || key.starts_with("sk_sandbox_") {
            Some(false)
        } else {
            None
        };
        let auth = match spec.auth {
            AuthStyle::Bearer => Auth::bearer(key),
            AuthStyle::Header(name) => Auth::api_key_header(name, key),
            AuthStyle::BasicKeyAsUser => Auth::basic(key, ""),
        }
        .map_err(tag)?;
        let default_url = if livemode == Some(true) {
            spec.hosts.live
        } else {
            spec.hosts.test
        };
        let idempotency_header = match spec.idempotency {
            Idempotency::Header(name) => Some(http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                tag(Error::configuration(format!(
                    "invalid idempotency header name {name:?}"
                )))
            })?),
            _ => None,
        };
        let provider = P::new(Setup {
            settings: &self.settings,
            currency,
            livemode,
            options: &self.options,
        })
        .map_err(tag)?;
        let mut config = self.settings.transport_config(default_url).map_err(tag)?;
        config.default_headers.extend(provider.default_headers());
        let transport = Transport::new(spec.id, config, auth, P::read_error).map_err(tag)?;
        let refunds_url = transport.url(&ApiRequest::get(spec.refunds_path)).map_err(|e| {
            tag(Error::configuration(format!(
                "the spec's refunds path: {}",
                e.message()
            )))
        })?;
        Ok(Client {
            shared: Arc::new(Shared {
                provider,
                options: self.options.clone(),
                transport,
                info: ProviderInfo::new(spec.id, spec.name, capabilities_of::<P>()),
                currency,
                livemode,
                idempotency_header,
                refunds_url: Arc::new(refunds_url),
                payment_currencies: PaymentCurrencies::default(),
            }),
        })
    }
}
