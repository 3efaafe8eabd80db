//! The model-based recovery property lives in the test kit ([`refunds_testkit::property`]), where
//! `provider_suite!` runs it for every provider; re-exported here for the core's own tests.

#![allow(unused_imports)]

pub use refunds_testkit::property::*;
