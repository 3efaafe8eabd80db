//! A provider whose list says exactly what a recovery case needs, and which can only be looked up.

#![allow(dead_code)]

use refunds::{
    Capabilities, CreateRefund, ListRefunds, Page, PagingStyle, ProviderInfo, Refund, RefundId, RefundProvider,
    async_trait,
};

/// A list provider that answers from a fixed list and reports what the case needs.
#[derive(Debug)]
pub struct Listed {
    pub info: ProviderInfo,
    pub refunds: Vec<Refund>,
}

impl Listed {
    pub fn new(style: PagingStyle, refunds: Vec<Refund>) -> Listed {
        let caps = Capabilities::new().list(Some(style));
        Listed {
            info: ProviderInfo::new("listed", "Listed", caps),
            refunds,
        }
    }
}

#[async_trait]
impl RefundProvider for Listed {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }
    async fn create_refund(&self, _request: &CreateRefund) -> refunds::Result<Refund> {
        panic!("recovery by look-up never creates")
    }
    async fn get_refund(&self, _id: &RefundId) -> refunds::Result<Refund> {
        unreachable!()
    }
    async fn list_refunds(&self, _request: &ListRefunds) -> refunds::Result<Page<Refund>> {
        Ok(Page::new(self.refunds.clone(), None, None))
    }
}
