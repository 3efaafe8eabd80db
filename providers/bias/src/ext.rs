//! [`BiasExt`]: what only Bias does, on a [`BiasClient`]; each method is one call of the engine.

use refunds::adapter::ApiRequest;
use refunds::{ListRefunds, Page, PageCursor, RefundId, Result, async_trait};

use crate::BiasClient;
use crate::events::{self, BiasEvent, EventsRequest};
use crate::expand::{ExpandedRefund, expand_payment};
use crate::stream::{self, EventStream};

/// Bias-only calls on a [`BiasClient`]: the payment expanded, the event log and the event stream.
#[async_trait]
pub trait BiasExt {
    /// `GET /refunds/{id}?expand={"payment":true}`.
    async fn get_refund_expanded(&self, id: &RefundId) -> Result<ExpandedRefund>;

    /// `GET /refunds?expand={"payment":true}` with the same paging and filters as
    /// [`list_refunds`](refunds::RefundProvider::list_refunds).
    async fn list_refunds_expanded(&self, request: &ListRefunds) -> Result<Page<ExpandedRefund>>;

    /// `GET /events?stream=true`: the events as they happen, kept going across disconnects (see
    /// [`EventStream`]); from [`EventsRequest::resume_from`] when given.
    fn refund_events(&self, request: EventsRequest) -> EventStream;

    /// `GET /events`: one page of the event log, newest first (`request.limit` is the page size;
    /// `cursor` from a page's `next`).
    async fn list_events(&self, request: &EventsRequest, cursor: Option<&PageCursor>) -> Result<Page<BiasEvent>>;

    /// `GET /events/{id}`.
    async fn get_event(&self, id: &str) -> Result<BiasEvent>;

    /// Reads one stored event object: `refund.*` events become [`BiasEvent::Refund`] (states read
    /// like any refund, raw kept), others are kept raw. A bad object is a `Decode` error keeping it.
    fn event_from_json(&self, json: &[u8]) -> Result<BiasEvent>;
}

#[async_trait]
impl BiasExt for BiasClient {
    async fn get_refund_expanded(&self, id: &RefundId) -> Result<ExpandedRefund> {
        let call = ApiRequest::get(&["v1", "refunds", id.as_str()]);
        self.call(&expand_payment(call), ExpandedRefund::read).await
    }

    async fn list_refunds_expanded(&self, request: &ListRefunds) -> Result<Page<ExpandedRefund>> {
        self.list_with(request, expand_payment, ExpandedRefund::from_refund)
            .await
    }

    fn refund_events(&self, request: EventsRequest) -> EventStream {
        stream::events(self, request)
    }

    async fn list_events(&self, request: &EventsRequest, cursor: Option<&PageCursor>) -> Result<Page<BiasEvent>> {
        events::list_events(self, request, cursor).await
    }

    async fn get_event(&self, id: &str) -> Result<BiasEvent> {
        events::get_event(self, id).await
    }

    fn event_from_json(&self, json: &[u8]) -> Result<BiasEvent> {
        events::event_from_json(self, json)
    }
}
