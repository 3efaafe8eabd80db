//! The Bias translator: the spec, the create body, and reading refunds, lists and errors. The engine
//! ([`refunds::adapter::Client`]) runs every call.

use http::{HeaderName, HeaderValue};
use refunds::adapter::amount::MinorUnits;
use refunds::adapter::{
    AccountCurrency, ApiRequest, ApiResponse, AuthStyle, CreateBody, Described, Descriptor, Hosts, HttpProvider,
    Idempotency, ListBody, PagingSpec, ProviderSpec, Setup, read,
};
use refunds::{
    Capabilities, CreateFields, CreateRefund, Currency, Error, IdempotencyKey, ListRefunds, PagingStyle,
    PaymentRefKind, Refund, Result,
};
use serde::de::IgnoredAny;

use crate::wire::{
    Comparisons, Condition, STATUSES, WireCreate, WireList, WireRefundFilters, into_refund, query_json, unix_millis,
};

/// The `api-version` the vendor's own client pins (`biaspay` 2.0.0, `API_VERSION`), sent on every
/// request unless [`BiasOptions::api_version`] says otherwise, so that object shapes cannot change
/// under the client when the account's default version moves.
pub const API_VERSION: &str = "2025-07-01";

/// Bias-only settings of a client: `BiasClient::builder().options(BiasOptions::new().api_version(..))`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct BiasOptions {
    /// The `api-version` header sent with every request ([`API_VERSION`] by default).
    pub api_version: String,
}

impl Default for BiasOptions {
    fn default() -> Self {
        BiasOptions {
            api_version: API_VERSION.to_owned(),
        }
    }
}

impl BiasOptions {
    /// The defaults: [`API_VERSION`].
    pub fn new() -> BiasOptions {
        BiasOptions::default()
    }
    /// Pins another API version (a date, `2025-07-01`).
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }
}

/// Bias, as the engine runs it.
#[derive(Debug, Clone)]
pub struct Bias {
    currency: Currency,
    livemode: Option<bool>,
    api_version: HeaderValue,
}

impl Described for Bias {
    #[cfg(feature = "sandbox")]
    const DESCRIPTOR: Descriptor = Descriptor::of::<Self>().sandbox(crate::sandbox::KIT);
    #[cfg(not(feature = "sandbox"))]
    const DESCRIPTOR: Descriptor = Descriptor::of::<Self>();
}

impl HttpProvider for Bias {
    const SPEC: ProviderSpec = ProviderSpec {
        id: crate::ID,
        name: "Bias",
        env_prefix: "BIAS",
        // One host; the key (`sk_live_` / `sk_test_`) chooses the environment. The host alone, as the
        // vendor's client takes it (`DEFAULT_BASE_URL`): the paths carry `/v1`.
        hosts: Hosts::one("https://api.biaspay.com"),
        key_modes: true,
        auth: AuthStyle::Bearer,
        // `/v1/refunds`: the vendor's client (`RefundsResource` in `biaspay` 2.0.0).
        refunds_path: &["v1", "refunds"],
        paging: Some(PagingSpec {
            style: PagingStyle::Cursor,
            default_limit: 50,
            max_limit: 1000,
            // Status, payment and creation time go in the one JSON `filters` object (`list_filters`).
            status_param: None,
        }),
        idempotency: Idempotency::Header("idempotency-key"),
        statuses: STATUSES,
        payment_kinds: &[PaymentRefKind::Payment],
        partial_refunds: true,
        retrieve: true,
        // The create takes `payment` and `amount` only.
        carries: CreateFields::NONE,
        // No currency on the wire; the vendor's own code formats amounts as USD.
        currency: AccountCurrency::Default(Currency::USD),
        // Key retention is not documented; the vendor SDK reads `idempotency-replay: true` on replays.
        key_retention: refunds::KEY_RETENTION_UNKNOWN,
        marker: None,
        replay_header: Some("idempotency-replay"),
    };

    type Options = BiasOptions;

    fn new(setup: Setup<'_, BiasOptions>) -> Result<Bias> {
        let version = &setup.options.api_version;
        let valid = !version.is_empty() && version.len() <= 64;
        let api_version = HeaderValue::from_str(version)
            .ok()
            .filter(|_| valid)
            .ok_or_else(|| Error::configuration(format!("bias: api version {version:?} is not a header value")))?;
        Ok(Bias {
            currency: setup.currency.unwrap_or(Currency::USD),
            livemode: setup.livemode,
            api_version,
        })
    }

    fn create_body(&self, request: &CreateRefund, _: Option<&IdempotencyKey>, _: &BiasOptions) -> Result<CreateBody> {
        let body = WireCreate {
            payment: request.payment().id().to_owned(),
            amount: request.amount_requested().map(MinorUnits::from_money),
        };
        read::body_without_nulls(&body)
    }

    fn read_refund(&self, body: &[u8]) -> Result<Refund> {
        into_refund(read::object(body)?, self.currency, self.livemode)
    }

    fn read_list(&self, body: &[u8]) -> Result<ListBody> {
        let (list, items): (WireList<IgnoredAny>, _) = read::list(body, &["items"])?;
        if let Some(object) = list.object.as_deref().filter(|o| *o != "list") {
            return Err(Error::decode(format!("expected a list, got `object`: {object:?}")));
        }
        let items = read::items(items, |wire| into_refund(wire, self.currency, self.livemode))?;
        Ok(ListBody::new(items, None, list.has_more))
    }

    fn read_error(response: &ApiResponse) -> Error {
        crate::error::decode_error(response)
    }

    fn list_filters(&self, call: ApiRequest, request: &ListRefunds) -> Result<ApiRequest> {
        let filters = list_filters(request)?;
        if filters == WireRefundFilters::default() {
            return Ok(call);
        }
        Ok(call.query("filters", query_json(&filters)?))
    }

    fn default_headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        vec![(HeaderName::from_static("api-version"), self.api_version.clone())]
    }

    fn capabilities(capabilities: Capabilities) -> Capabilities {
        let mut capabilities = capabilities.list_status_filter(true);
        capabilities.list_payment_filter = true;
        capabilities.list_created_filter = true;
        capabilities
    }
}

/// The request's filters as Bias' `filters` object: `payment`, `status` (a status Bias has no string
/// for is refused) and `created_at` (`gte` / `lt`, unix milliseconds).
fn list_filters(request: &ListRefunds) -> Result<WireRefundFilters> {
    let status = match request.status_filter() {
        Some(status) => Some(STATUSES.to_wire(status).ok_or_else(|| {
            Error::invalid_request(
                "status",
                format!("bias refunds are never {status} (pending, succeeded, failed)"),
            )
        })?),
        None => None,
    };
    let created_at = match request.created_range() {
        (None, None) => None,
        (after, before) => Some(Condition::Compare(Comparisons {
            gte: after.map(unix_millis).transpose()?,
            lt: before.map(unix_millis).transpose()?,
            ..Comparisons::default()
        })),
    };
    Ok(WireRefundFilters {
        created_at,
        payment: request.payment_filter().map(|p| Condition::Is(p.id().to_owned())),
        status: status.map(|s| Condition::Is(s.to_owned())),
        ..WireRefundFilters::default()
    })
}
