//! the cursor-paged refunds API (seed 002) example (work in progress).
fn main() {}
