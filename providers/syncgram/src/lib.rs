//! SyncgramPay refunds (work in progress).
