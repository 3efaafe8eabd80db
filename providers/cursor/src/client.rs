//! The client and its builder.

use std::fmt;
use std::str::FromStr;

use refunds::adapter::amount::MinorUnits;
use refunds::adapter::paging::{check_limit, id_cursor};
use refunds::adapter::{ApiRequest, ApiResponse, Auth, ClientSettings, Transport, WithRaw, note_pending_create};
use refunds::{
    Capabilities, CreateRefund, Currency, Error, IdempotencySupport, ListRefunds, Page, PageCursor, PagingStyle,
    PaymentRefKind, ProviderInfo, Refund, RefundId, RefundProvider, Result, async_trait,
};

use crate::error::decode_error;
use crate::wire::{WireCreate, WireList, WireRefund, parse_refund, to_refund};
use crate::{ENV_PREFIX, PROVIDER_ID, PROVIDER_NAME};

/// The default create path: `POST /refunds` (assumed; the excerpt names no paths).
pub const DEFAULT_CREATE_PATH: &str = "/refunds";
/// The default retrieve path: `GET /refunds/{id}` (assumed).
pub const DEFAULT_RETRIEVE_PATH: &str = "/refunds/{id}";
/// The default list path: `GET /refunds` (assumed).
pub const DEFAULT_LIST_PATH: &str = "/refunds";

/// The page size the excerpt documents as the default.
const DEFAULT_LIMIT: u32 = 50;
/// The page sizes the excerpt documents ("at least 1, at most 1000").
const LIMITS: std::ops::RangeInclusive<u32> = 1..=1000;

/// How the API key is presented. The excerpt does not say; Bearer is the default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AuthScheme {
    /// `Authorization: Bearer <key>` (the default).
    #[default]
    Bearer,
    /// The key alone in the named header, e.g. `X-Api-Key: <key>`.
    Header(String),
    /// HTTP Basic with the key as the user name and an empty password.
    Basic,
}

impl AuthScheme {
    fn to_auth(&self, key: &refunds::adapter::Secret) -> Result<Auth> {
        match self {
            AuthScheme::Bearer => Auth::bearer(key.clone()),
            AuthScheme::Header(name) => Auth::api_key_header(name, key.clone()),
            AuthScheme::Basic => Auth::basic(key.clone(), ""),
        }
    }
}

impl FromStr for AuthScheme {
    type Err = Error;

    /// Reads `bearer`, `basic` or `header:<Name>` (the `CURSOR_REFUNDS_AUTH` spelling).
    fn from_str(text: &str) -> Result<AuthScheme> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("bearer") {
            return Ok(AuthScheme::Bearer);
        }
        if text.eq_ignore_ascii_case("basic") {
            return Ok(AuthScheme::Basic);
        }
        match text.split_once(':') {
            Some((scheme, name)) if scheme.eq_ignore_ascii_case("header") => {
                let name = name.trim();
                http::HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| Error::configuration(format!("auth: invalid header name {name:?}")))?;
                Ok(AuthScheme::Header(name.to_owned()))
            }
            _ => Err(Error::configuration(format!(
                "auth: expected `bearer`, `basic` or `header:<name>`, got {text:?}"
            ))),
        }
    }
}

/// How `expand` (payment) is written in the query string. The excerpt types `expand` as an object
/// and does not give its encoding; both spellings are assumptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ExpandStyle {
    /// `expand[payment]=true`: the object written as a deep-object query (the default).
    #[default]
    Object,
    /// `expand[]=payment`: the Stripe spelling.
    List,
}

impl ExpandStyle {
    fn add(self, call: ApiRequest) -> ApiRequest {
        match self {
            ExpandStyle::Object => call.query("expand[payment]", "true"),
            ExpandStyle::List => call.query("expand[]", "payment"),
        }
    }
}

/// One segment of a configured path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Id,
}

/// The three routes, checked at build time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Routes {
    create: Vec<String>,
    retrieve: Vec<Segment>,
    list: Vec<String>,
}

impl Routes {
    fn retrieve(&self, id: &RefundId) -> Vec<String> {
        self.retrieve
            .iter()
            .map(|s| match s {
                Segment::Literal(text) => text.clone(),
                Segment::Id => id.as_str().to_owned(),
            })
            .collect()
    }
}

/// Parses `/a/b/{id}` into segments. Literal segments are limited to URL-safe characters so that
/// what is configured is exactly what is sent; `{id}` must be a whole segment.
fn parse_path(what: &str, path: &str, id_segments: usize) -> Result<Vec<Segment>> {
    let bad = |why: &str| Error::configuration(format!("{what} path {path:?}: {why}"));
    let rest = path.strip_prefix('/').ok_or_else(|| bad("must start with `/`"))?;
    let mut segments = Vec::new();
    for part in rest.split('/') {
        if part == "{id}" {
            segments.push(Segment::Id);
            continue;
        }
        if part.is_empty() || part == "." || part == ".." {
            return Err(bad("has an empty or dot segment"));
        }
        let safe = |c: char| c.is_ascii_alphanumeric() || "-._~:@".contains(c);
        if !part.chars().all(safe) {
            return Err(bad(
                "segments may hold only letters, digits, `-._~:@`, or be exactly `{id}`",
            ));
        }
        segments.push(Segment::Literal(part.to_owned()));
    }
    let ids = segments.iter().filter(|s| **s == Segment::Id).count();
    if ids != id_segments {
        return Err(bad(if id_segments == 1 {
            "must contain `{id}` exactly once"
        } else {
            "must not contain `{id}`"
        }));
    }
    Ok(segments)
}

fn literal_path(what: &str, path: &str) -> Result<Vec<String>> {
    Ok(parse_path(what, path, 0)?
        .into_iter()
        .filter_map(|s| match s {
            Segment::Literal(text) => Some(text),
            Segment::Id => None,
        })
        .collect())
}

/// Builds a [`CursorClient`]. Required: the API key, the base URL and the account currency.
///
/// The shared setters (`api_key`, `base_url`, `timeout`, `connect_timeout`, `retry`, `max_retries`,
/// `max_response_bytes`) come from [`refunds::client_settings_setters!`].
#[derive(Clone)]
pub struct CursorClientBuilder {
    settings: ClientSettings,
    auth: AuthScheme,
    create_path: String,
    retrieve_path: String,
    list_path: String,
    expand_payment: bool,
    expand_style: ExpandStyle,
    /// A bad environment variable, reported by `build` so that `from_env` can stay infallible.
    env_error: Option<Error>,
}

impl Default for CursorClientBuilder {
    fn default() -> Self {
        CursorClientBuilder {
            settings: ClientSettings::new(),
            auth: AuthScheme::default(),
            create_path: DEFAULT_CREATE_PATH.to_owned(),
            retrieve_path: DEFAULT_RETRIEVE_PATH.to_owned(),
            list_path: DEFAULT_LIST_PATH.to_owned(),
            expand_payment: false,
            expand_style: ExpandStyle::default(),
            env_error: None,
        }
    }
}

impl fmt::Debug for CursorClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `ClientSettings` redacts the key itself.
        f.debug_struct("CursorClientBuilder")
            .field("settings", &self.settings)
            .field("auth", &self.auth)
            .field("create_path", &self.create_path)
            .field("retrieve_path", &self.retrieve_path)
            .field("list_path", &self.list_path)
            .field("expand_payment", &self.expand_payment)
            .field("expand_style", &self.expand_style)
            .finish()
    }
}

impl CursorClientBuilder {
    refunds::client_settings_setters!(settings);

    /// A builder with nothing set.
    pub fn new() -> CursorClientBuilder {
        CursorClientBuilder::default()
    }

    /// A builder from `CURSOR_REFUNDS_API_KEY`, `CURSOR_REFUNDS_BASE_URL`, `CURSOR_REFUNDS_CURRENCY`
    /// and `CURSOR_REFUNDS_AUTH` (`bearer`, `basic` or `header:<Name>`). A malformed value is reported
    /// by [`CursorClientBuilder::build`].
    pub fn from_env() -> CursorClientBuilder {
        let var = |name: &str| {
            std::env::var(format!("{ENV_PREFIX}_{name}"))
                .ok()
                .filter(|v| !v.trim().is_empty())
        };
        let mut builder = CursorClientBuilder {
            settings: ClientSettings::from_env(ENV_PREFIX),
            ..CursorClientBuilder::default()
        };
        if let Some(auth) = var("AUTH") {
            match auth.parse() {
                Ok(auth) => builder.auth = auth,
                Err(e) => builder.env_error = Some(Error::configuration(format!("{ENV_PREFIX}_AUTH: {}", e.message()))),
            }
        }
        builder
    }

    /// The account currency (required). Refund objects carry no currency: this labels every amount
    /// read, and a create in another currency is refused before sending.
    pub fn currency(mut self, currency: Currency) -> Self {
        self.settings.set_currency(currency);
        self
    }

    /// How the key is sent (default [`AuthScheme::Bearer`]).
    pub fn auth(mut self, scheme: AuthScheme) -> Self {
        self.auth = scheme;
        self
    }

    /// The create path relative to the base URL (default `/refunds`).
    pub fn create_path(mut self, path: impl Into<String>) -> Self {
        self.create_path = path.into();
        self
    }

    /// The retrieve path with an `{id}` segment (default `/refunds/{id}`). The id is always sent as
    /// one percent-encoded segment.
    pub fn retrieve_path(mut self, path: impl Into<String>) -> Self {
        self.retrieve_path = path.into();
        self
    }

    /// The list path (default `/refunds`).
    pub fn list_path(mut self, path: impl Into<String>) -> Self {
        self.list_path = path.into();
        self
    }

    /// Asks retrieve and list to expand `payment` into the payment object (default off). The refund's
    /// payment reference is the payment id either way; read the object with
    /// [`expanded_payment`](crate::expanded_payment).
    pub fn expand_payment(mut self, yes: bool) -> Self {
        self.expand_payment = yes;
        self
    }

    /// How `expand` is written in the query (default [`ExpandStyle::Object`]).
    pub fn expand_style(mut self, style: ExpandStyle) -> Self {
        self.expand_style = style;
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<CursorClient> {
        let tag = |e: Error| e.with_provider(PROVIDER_ID);
        // A malformed environment variable is reported first: it was set, just wrong.
        if let Some(message) = &self.settings.currency_env_error {
            return Err(tag(Error::configuration(message.clone())));
        }
        if let Some(e) = self.env_error {
            return Err(tag(e));
        }
        let key = self
            .settings
            .require_api_key(PROVIDER_ID, &format!("{ENV_PREFIX}_API_KEY"))
            .map_err(tag)?;
        let base_url = self.settings.base_url.as_deref().ok_or_else(|| {
            tag(Error::configuration(format!(
                "{PROVIDER_ID}: base url missing; the provider's host is not documented \
                 (set it on the builder or in {ENV_PREFIX}_BASE_URL)"
            )))
        })?;
        let currency = self
            .settings
            .account_currency(|| {
                format!(
                    "{PROVIDER_ID}: account currency missing; refunds do not carry one \
                     (set it on the builder or in {ENV_PREFIX}_CURRENCY)"
                )
            })
            .map_err(tag)?;
        let routes = Routes {
            create: literal_path("create", &self.create_path).map_err(tag)?,
            retrieve: parse_path("retrieve", &self.retrieve_path, 1).map_err(tag)?,
            list: literal_path("list", &self.list_path).map_err(tag)?,
        };
        let config = self.settings.transport_config(base_url).map_err(tag)?;
        let auth = self.auth.to_auth(key).map_err(tag)?;
        let capabilities = Capabilities::new()
            .partial_refunds(true)
            .retrieve(true)
            .list(Some(PagingStyle::Cursor))
            .list_status_filter(false)
            .idempotency(IdempotencySupport::None)
            .payment_kinds(&[PaymentRefKind::Payment]);
        Ok(CursorClient {
            info: ProviderInfo::new(PROVIDER_ID, PROVIDER_NAME, capabilities),
            transport: Transport::new(PROVIDER_ID, config, auth, decode_error)?,
            currency,
            routes,
            expand: self.expand_payment.then_some(self.expand_style),
        })
    }
}

/// The client for the cursor-paged refunds API. Implements [`RefundProvider`].
///
/// Creates are never re-sent (the API documents no idempotency); an ambiguous create error carries
/// the request, and [`RefundProvider::find_created`] walks the list to see whether it was applied.
#[derive(Debug, Clone)]
pub struct CursorClient {
    info: ProviderInfo,
    transport: Transport,
    currency: Currency,
    routes: Routes,
    expand: Option<ExpandStyle>,
}

impl CursorClient {
    /// A builder.
    pub fn builder() -> CursorClientBuilder {
        CursorClientBuilder::new()
    }

    /// A client from the `CURSOR_REFUNDS_*` environment variables (see
    /// [`CursorClientBuilder::from_env`]).
    pub fn from_env() -> Result<CursorClient> {
        CursorClientBuilder::from_env().build()
    }

    /// The account currency amounts are read in.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// A cursor that lists forward from just after `id` (`starting_after`).
    pub fn cursor_after(id: &RefundId) -> PageCursor {
        id_cursor::after(PROVIDER_ID, id.as_str())
    }

    /// A cursor that lists backward from just before `id` (`ending_before`). Pages read with it
    /// continue backward: their `next` ends before the first refund of the page.
    pub fn cursor_before(id: &RefundId) -> PageCursor {
        id_cursor::before(PROVIDER_ID, id.as_str())
    }

    /// Reads one refund object exactly as the provider sends it: a webhook payload, or a body kept
    /// from elsewhere. It is the path responses take: the object's text is kept byte-exact in
    /// [`Refund::raw`], the amount is labelled with the client's account currency (refund objects
    /// carry none), and `payment` may be an id or the expanded payment. Anything else (a list, an
    /// error body, an object whose `object` is not `"refund"`, a missing or mistyped field) is a
    /// [`Decode`](refunds::ErrorKind::Decode) error. Nothing is sent.
    ///
    /// ```
    /// # fn demo() -> refunds::Result<()> {
    /// use refunds::{Currency, RefundStatus};
    /// use refunds_cursor::CursorClient;
    ///
    /// let client = CursorClient::builder()
    ///     .api_key("sk_test_...")
    ///     .base_url("https://api.example.com/v1")
    ///     .currency(Currency::USD)
    ///     .build()?;
    /// let refund = client.refund_from_json(
    ///     br#"{"object":"refund","id":"re_1","live":false,"created_at":1700000000123,"amount":2500,"failed_reason":null,"payment":"pay_1","status":"succeeded"}"#,
    /// )?;
    /// assert_eq!(refund.amount.to_string(), "25.00 USD");
    /// assert_eq!(refund.status, RefundStatus::Succeeded);
    /// # Ok(()) }
    /// # demo().unwrap();
    /// ```
    pub fn refund_from_json(&self, json: &[u8]) -> Result<Refund> {
        parse_refund(json, self.currency)
    }

    fn read_refund(&self, response: &ApiResponse) -> Result<Refund> {
        response
            .decode_object(|wire: WithRaw<WireRefund>| to_refund(wire, self.currency))
            .map_err(|e| e.with_provider(PROVIDER_ID))
    }

    fn with_expand(&self, call: ApiRequest) -> ApiRequest {
        match self.expand {
            Some(style) => style.add(call),
            None => call,
        }
    }

    fn check_create(&self, request: &CreateRefund) -> Result<WireCreate> {
        request.validate()?;
        let payment = request
            .payment()
            .expect_kind(PROVIDER_ID, &self.info.capabilities.payment_kinds)?;
        let amount = match request.amount_requested() {
            Some(amount) if amount.currency() != self.currency => {
                return Err(Error::invalid_request(
                    "amount",
                    format!(
                        "the account currency is {}, not {}",
                        self.currency.code(),
                        amount.currency().code()
                    ),
                ));
            }
            Some(amount) => Some(MinorUnits::from_money(amount)),
            None => None,
        };
        // Reason, reference, description, metadata and the idempotency key have no documented
        // field, so they are not sent (see the README).
        Ok(WireCreate {
            payment: payment.to_owned(),
            amount,
        })
    }
}

#[async_trait]
impl RefundProvider for CursorClient {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    async fn create_refund(&self, request: &CreateRefund) -> Result<Refund> {
        let body = self.check_create(request)?;
        // Not replay-safe: without documented idempotency a create is sent once.
        let call = ApiRequest::post(&self.routes.create).json(&body)?;
        let outcome = async {
            let response = self.transport.send(&call).await?;
            self.read_refund(&response)
        };
        outcome.await.map_err(|e| note_pending_create(e, request))
    }

    async fn get_refund(&self, id: &RefundId) -> Result<Refund> {
        let call = self.with_expand(ApiRequest::get(&self.routes.retrieve(id)));
        let response = self.transport.send(&call).await?;
        self.read_refund(&response)
    }

    async fn list_refunds(&self, request: &ListRefunds) -> Result<Page<Refund>> {
        if request.status_filter().is_some() {
            // `filters` exists but its shape is not documented.
            return Err(self.info.unsupported("status filters on list"));
        }
        let limit = check_limit(request.limit_requested(), LIMITS, DEFAULT_LIMIT)?;
        let position = id_cursor::from_cursor(PROVIDER_ID, request.cursor_given())?;
        if let Some(id_cursor::Position::After(id) | id_cursor::Position::Before(id)) = &position {
            // The cursor's text is the caller's to forge: its id must be one a refund could have.
            RefundId::new(id.as_str())
                .map_err(|e| Error::invalid_request("cursor", format!("bad refund id in cursor: {}", e.message())))?;
        }
        let mut call = ApiRequest::get(&self.routes.list).query("limit", limit);
        call = match &position {
            Some(id_cursor::Position::After(id)) => call.query("starting_after", id),
            Some(id_cursor::Position::Before(id)) => call.query("ending_before", id),
            None => call,
        };
        let response = self.transport.send(&self.with_expand(call)).await?;
        let (items, has_more) = response
            .decode(|list: WireList| {
                let items = list
                    .data
                    .into_iter()
                    .map(|w| to_refund(w, self.currency))
                    .collect::<Result<Vec<_>>>()?;
                Ok((items, list.has_more))
            })
            .map_err(|e| e.with_provider(PROVIDER_ID))?;
        if let Some(id_cursor::Position::Before(_)) = position {
            // Backward: keep going before the first refund of this page.
            let more = has_more.unwrap_or(items.len() >= limit as usize) && !items.is_empty();
            let next = items
                .first()
                .filter(|_| more)
                .map(|first| id_cursor::before(PROVIDER_ID, first.id.as_str()));
            return Ok(Page::new(items, next, None));
        }
        Ok(id_cursor::page(PROVIDER_ID, items, |r| r.id.as_str(), has_more, limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_schemes_parse() {
        assert_eq!("bearer".parse::<AuthScheme>().unwrap(), AuthScheme::Bearer);
        assert_eq!("Basic".parse::<AuthScheme>().unwrap(), AuthScheme::Basic);
        assert_eq!(
            "header:X-Api-Key".parse::<AuthScheme>().unwrap(),
            AuthScheme::Header("X-Api-Key".into())
        );
        for bad in ["", "token", "header:", "header:bad name", "digest"] {
            let e = bad.parse::<AuthScheme>().unwrap_err();
            assert_eq!(e.kind(), &refunds::ErrorKind::Configuration, "{bad:?}");
        }
    }

    #[test]
    fn paths_are_checked() {
        assert_eq!(
            parse_path("retrieve", "/v1/refunds/{id}", 1).unwrap(),
            vec![
                Segment::Literal("v1".into()),
                Segment::Literal("refunds".into()),
                Segment::Id
            ]
        );
        assert_eq!(
            literal_path("list", "/api/refund-list").unwrap(),
            vec!["api", "refund-list"]
        );
        for (path, ids) in [
            ("refunds", 0),
            ("/refunds/", 0),
            ("//refunds", 0),
            ("/refunds/../admin", 0),
            ("/refunds?x=1", 0),
            ("/refunds#a", 0),
            ("/re funds", 0),
            ("/refunds/{id}", 0),
            ("/refunds", 1),
            ("/refunds/{id}/{id}", 1),
            ("/refunds/x{id}", 1),
            ("/refunds/%2e%2e/{id}", 1),
        ] {
            let e = parse_path("p", path, ids).unwrap_err();
            assert_eq!(e.kind(), &refunds::ErrorKind::Configuration, "{path:?}");
        }
    }
}
