//! xpay example (work in progress).
fn main() {}
