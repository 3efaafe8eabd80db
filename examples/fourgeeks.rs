//! 4Geeks Payments example (work in progress).
fn main() {}
