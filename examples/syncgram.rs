//! SyncgramPay example (work in progress).
fn main() {}
