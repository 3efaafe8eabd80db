//! The values the SDK passes around, and its error: currencies, money, ids, refunds and requests,
//! pending creates. They are one layer because they hold each other both ways (an [`error::Error`]
//! carries the refund or pending create it is about; building a value fails with that error), and
//! nothing here reaches up: no transport, provider, verdict or adapter (`.ci/core-shape` checks it).
//! The crate root re-exports each module under its own name (`crate::model`, `crate::error`, ...).

pub(crate) mod currency;
pub(crate) mod error;
pub(crate) mod ids;
pub(crate) mod model;
pub(crate) mod money;
pub(crate) mod pending;
