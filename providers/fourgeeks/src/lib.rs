//! 4Geeks Payments refunds (work in progress).
