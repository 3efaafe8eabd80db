//! `expand`, per call: get and list with the refund's payment expanded into a typed [`BiasPayment`].

use refunds::adapter::paging::{check_limit, id_cursor};
use refunds::adapter::{ApiRequest, HttpProvider};
use refunds::{Error, ListRefunds, Page, Refund, RefundId, Result, async_trait};

use crate::BiasClient;
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
    fn from_refund(refund: Refund) -> Result<ExpandedRefund> {
        let payment = expanded_payment(&refund)?;
        Ok(ExpandedRefund { refund, payment })
    }
}

/// Adds Bias's `expand` to a get or list call. The docs type `expand` as an object with boolean leaves
/// but do not give its query encoding: the deep-object form `expand[payment]=true` is assumed.
fn expand(call: ApiRequest) -> ApiRequest {
    call.query("expand[payment]", "true")
}

/// Get and list with the payment expanded (Bias expands on get and list only).
#[async_trait]
pub trait BiasExpand {
    /// `GET /refunds/{id}?expand[payment]=true`.
    async fn get_refund_expanded(&self, id: &RefundId) -> Result<ExpandedRefund>;

    /// `GET /refunds?expand[payment]=true` with the same paging as
    /// [`list_refunds`](refunds::RefundProvider::list_refunds) (a status filter is unsupported).
    async fn list_refunds_expanded(&self, request: &ListRefunds) -> Result<Page<ExpandedRefund>>;
}

#[async_trait]
impl BiasExpand for BiasClient {
    async fn get_refund_expanded(&self, id: &RefundId) -> Result<ExpandedRefund> {
        let response = self.send(&expand(ApiRequest::get(&["refunds", id.as_str()]))).await?;
        let refund = self.refund_from_response(&response)?;
        ExpandedRefund::from_refund(refund).map_err(|e| self.finish(response.decode_error(e.message())))
    }

    async fn list_refunds_expanded(&self, request: &ListRefunds) -> Result<Page<ExpandedRefund>> {
        let id = crate::ID;
        if request.status_filter().is_some() {
            return Err(self.finish(Error::unsupported("filtering the refund list by status")));
        }
        let paging = Bias::SPEC.paging.expect("bias lists");
        let limit = check_limit(request.limit_requested(), 1..=paging.max_limit, paging.default_limit)
            .map_err(|e| self.finish(e))?;
        let position = id_cursor::from_cursor(id, request.cursor_given()).map_err(|e| self.finish(e))?;
        let mut call = ApiRequest::get(&["refunds"]).query("limit", limit);
        call = match &position {
            Some(id_cursor::Position::After(after)) => call.query("starting_after", after),
            Some(id_cursor::Position::Before(before)) => call.query("ending_before", before),
            None => call,
        };
        let response = self.send(&expand(call)).await?;
        let read = || -> Result<_> {
            let list = self.provider().read_list(&response.body)?;
            let items: Result<Vec<_>> = list.items.into_iter().map(ExpandedRefund::from_refund).collect();
            Ok((items?, list.has_more))
        };
        let (items, has_more) = read().map_err(|e| self.finish(response.decode_error(e.message())))?;
        if let Some(id_cursor::Position::Before(_)) = position {
            let more = has_more.unwrap_or(items.len() >= limit as usize) && !items.is_empty();
            let first = items.first().filter(|_| more);
            let next = first.map(|first| id_cursor::before(id, first.refund.id.as_str()));
            return Ok(Page::new(items, next, None));
        }
        Ok(id_cursor::page(id, items, |r| r.refund.id.as_str(), has_more, limit))
    }
}
