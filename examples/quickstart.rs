//! Multi-provider quickstart (work in progress).
fn main() {}
