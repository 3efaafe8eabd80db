//! `RefundProvider` for every `Client`, written as `async_trait` would expand it: each call method
//! boxes its body's future itself (an `async fn` would box a wrapper that copies the whole future).

use async_trait::async_trait;

use crate::error::Result;
use crate::ids::{PaymentRef, RefundId};
use crate::model::{CreateRefund, ListRefunds, Page, Refund};
use crate::options::CallOptions;
use crate::pending::PendingCreate;
use crate::provider::{ProviderInfo, RefundProvider, RequestPreview, Resent};

use super::{Client, HttpProvider, NO_OVERRIDES};

/// The boxed future of a trait call, as `async_trait` writes it.
type CallFuture<'f, T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send + 'f>>;

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

    fn preview_create(&self, request: &CreateRefund) -> Result<RequestPreview> {
        Client::preview_create(self, request).map_err(|e| self.finish(e))
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
        self.resend(pending, &NO_OVERRIDES).await.map_err(|e| self.finish(e))
    }

    async fn resend_pending_with(&self, pending: &PendingCreate, options: &CallOptions) -> Result<Resent> {
        if options.idempotency_key.is_some() {
            let e = crate::error::Error::invalid_request(
                "idempotency_key",
                "a pending create is re-sent under its own key",
            );
            return Err(self.finish(e));
        }
        self.resend(pending, options).await.map_err(|e| self.finish(e))
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
