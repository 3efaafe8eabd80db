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

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::adapter::settings::ClientSettings;
use crate::adapter::spec::{Idempotency, ProviderSpec};
use crate::adapter::transport::{ApiRequest, ApiResponse, Transport};
use crate::currency::Currency;
use crate::error::{Error, ErrorKind, Result};
use crate::ids::{IdempotencyKey, PaymentRef};
use crate::model::{CreateRefund, ListRefunds, Page, Refund};
use crate::options::CallOptions;
use crate::provider::{Capabilities, MarkerField, ProviderInfo};
use payment_currency::PaymentCurrencies;

mod builder;
mod calls;
mod create;
mod payment_currency;
mod read;

pub use builder::ClientBuilder;

/// What a provider gets when a client is built: the settings, the currency, the key's mode and the
/// provider's own options.
#[derive(Debug)]
#[non_exhaustive]
pub struct Setup<'a, O> {
    /// The builder's settings.
    pub settings: &'a ClientSettings,
    /// The account currency, where configured (required by the spec's
    /// [`AccountCurrency`](crate::adapter::AccountCurrency) rule).
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
    /// ([`AccountCurrency::FromPayment`](crate::adapter::AccountCurrency::FromPayment)).
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

/// The client of any [`HttpProvider`]: implements [`RefundProvider`](crate::RefundProvider). Cheap to
/// clone; share one per key.
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

    /// One page of the list exactly as
    /// [`RefundProvider::list_refunds`](crate::RefundProvider::list_refunds) asks for it (paging,
    /// filters, cursors), with `decorate` adding provider-only parameters to the call, and each refund
    /// read into `T` by `map` (an expanded object from its raw JSON, say).
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

fn decode_message(e: &Error) -> String {
    if e.kind() == &ErrorKind::Decode {
        e.message().to_owned()
    } else {
        e.to_string()
    }
}

/// A call without per-call overrides.
static NO_OVERRIDES: CallOptions = CallOptions::new();
