//! The read path: the GET of one refund and the list call, its paging position and its page.

use http::Method;

use crate::adapter::paging::{check_limit, id_cursor, offset};
use crate::adapter::spec::AccountCurrency;
use crate::adapter::transport::ApiRequest;
use crate::error::{Error, Result};
use crate::ids::RefundId;
use crate::model::{ListRefunds, Page, Refund};
use crate::options::CallOptions;
use crate::provider::PagingStyle;

use super::{Client, HttpProvider, ListBody, decode_message};

impl<P: HttpProvider> Client<P> {
    /// A GET of one refund, `call` already decorated.
    ///
    /// The transport's future is awaited here, not through [`Client::send_with`]: an `async fn` copies
    /// the whole future it starts into its own state, and the transport's is most of a call's, so each
    /// layer in between is one more copy per call. For the same reason this is an `async move` block
    /// rather than an `async fn`, whose state would hold the argument and its moved-in copy side by
    /// side (1,056 bytes against 912: over 1 KiB, the box would leave glibc's per-thread cache).
    #[allow(clippy::manual_async_fn)]
    pub(super) fn fetch_refund<'a>(
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

// The bodies of the trait's call methods, boxed once by them; they await the transport directly (see
// `fetch_refund`).
impl<P: HttpProvider> Client<P> {
    /// The GET of one refund by id.
    pub(super) fn get_call(&self, id: &RefundId) -> Result<ApiRequest> {
        if !P::SPEC.retrieve {
            return Err(self.shared.info.unsupported("retrieving a refund by id"));
        }
        let call = ApiRequest::under(Method::GET, self.shared.refunds_url.clone(), &[id.as_str()]);
        Ok(self.shared.provider.retrieve(call))
    }

    /// One page of the list, `decorate` applied to the call after the engine built it (the trait's
    /// `list_refunds` passes the call as it is; boxed there directly, without a wrapping future).
    pub(super) async fn list_page_with(
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
        if *request != request.native_part(self.shared.info.capabilities.list_filters()) {
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
