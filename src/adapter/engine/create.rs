//! The create path: the field rule, the key, the marker, the exchange, and the pending create of an
//! ambiguous answer; a pending create sent again takes the same path.

use http::Method;
use time::OffsetDateTime;

use crate::adapter::spec::{AccountCurrency, AuthStyle, Idempotency};
use crate::adapter::transport::{ApiRequest, user_agent};
use crate::error::{Error, Result};
use crate::ids::IdempotencyKey;
use crate::model::{CreateRefund, Refund};
use crate::options::CallOptions;
use crate::pending::PendingCreate;
use crate::provider::{MarkerField, RequestPreview, Resent};
use crate::verdict::rules;

use super::{Client, HttpProvider};

impl<P: HttpProvider> Client<P> {
    /// A create with this call's overrides and the provider's own options for this call (instead of
    /// the builder's): the provider-only operations of a crate build on it.
    ///
    /// The verdict of a failed create is `rules::failed_create`'s; the answer of a successful one is
    /// checked against the request by `rules::answer_mismatch` (a difference is an error carrying
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
        match spec.marker {
            Some(MarkerField::Metadata(entry)) if spec.carries.metadata => {
                let metadata = request.metadata_given();
                if metadata.contains_key(entry) {
                    return Err(copied_marker("metadata", entry));
                }
                if metadata.len() > crate::adapter::spec::MARKER_ROOM {
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
    pub(super) async fn resend(&self, pending: &PendingCreate, overrides: &CallOptions) -> Result<Resent> {
        let options: P::Options = match &pending.provider_options {
            None => P::Options::default(),
            Some(value) => serde_json::from_value(value.clone()).map_err(|e| {
                Error::invalid_request("provider_options", format!("not {}'s options: {e}", P::SPEC.id))
            })?,
        };
        let request = &pending.request;
        let (call, _) = self.prepare_create(request, request.idempotency_key_given(), &options)?;
        let marker = pending.marker.as_deref();
        let (refund, replayed) = self.exchange_create(&call, request, marker, overrides).await?;
        Ok(Resent::new(refund, replayed))
    }

    /// What `create_refund` would send for `request`, every check made, nothing sent (the payment
    /// read of a provider whose refunds take their payment's currency is a request too: not made).
    pub(super) fn preview_create(&self, request: &CreateRefund) -> Result<RequestPreview> {
        let key = self.key_for(request.idempotency_key_given())?;
        let marked = self.mark(request, key.as_ref())?;
        let sent = marked.as_ref().map_or(request, |(request, _)| request);
        let (call, _) = self.prepare_create(sent, key.as_ref(), &self.shared.options)?;
        let transport = &self.shared.transport;
        let credential = match P::SPEC.auth {
            AuthStyle::Header(name) => name.to_ascii_lowercase(),
            AuthStyle::Bearer | AuthStyle::BasicKeyAsUser => "authorization".to_owned(),
        };
        let mut headers = vec![
            (credential, "[redacted]".to_owned()),
            ("accept".to_owned(), "application/json".to_owned()),
            ("user-agent".to_owned(), user_agent(P::SPEC.id)),
        ];
        let extra = transport.config().default_headers.iter().chain(call.headers());
        headers.extend(extra.map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        }));
        let body = call.body().map(|b| String::from_utf8_lossy(b).into_owned());
        if body.is_some() {
            headers.push(("content-type".to_owned(), "application/json".to_owned()));
        }
        let url = transport.url(&call)?;
        Ok(RequestPreview::new(call.method().as_str(), url.as_str(), headers, body))
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
    crate::random::try_random_u128()
        .map(|bits| format!("rfm_{bits:032x}"))
        .ok_or_else(|| Error::configuration("the operating system gave no random bytes for a create marker"))
}
