//! `expand`, per call: get and list with the refund's payment expanded into a typed [`BiasPayment`].

use refunds::adapter::{ApiRequest, HttpProvider};
use refunds::{Refund, Result};

use crate::client::Bias;
use crate::wire::{BiasPayment, expanded_payment};

/// A refund read with its payment expanded.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExpandedRefund {
    /// The refund (its `raw` holds the expanded payment as sent; `payment` is the payment id either way).
    pub refund: Refund,
    /// The payment object; `None` when Bias answered with the id only.
    pub payment: Option<BiasPayment>,
}

impl ExpandedRefund {
    pub(crate) fn from_refund(refund: Refund) -> Result<ExpandedRefund> {
        let payment = expanded_payment(&refund)?;
        Ok(ExpandedRefund { refund, payment })
    }

    pub(crate) fn read(provider: &Bias, body: &[u8]) -> Result<ExpandedRefund> {
        ExpandedRefund::from_refund(provider.read_refund(body)?)
    }
}

/// Adds `expand={"payment":true}` to a get or list call: one JSON object in the query, as the
/// vendor's client encodes it (`_encode_query` in `biaspay` 2.0.0).
pub(crate) fn expand_payment(call: ApiRequest) -> ApiRequest {
    call.query("expand", r#"{"payment":true}"#)
}
