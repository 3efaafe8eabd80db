//! xpay refunds (work in progress).
