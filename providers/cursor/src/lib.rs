//! the cursor-paged refunds API (seed 002) refunds (work in progress).
