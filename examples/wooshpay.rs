//! WooshPay example (work in progress).
fn main() {}
