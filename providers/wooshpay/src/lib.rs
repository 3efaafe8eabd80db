//! WooshPay refunds (work in progress).
