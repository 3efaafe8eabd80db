//! WooshPay's refund, list and error answers, read as the engine reads them (framing: `refunds_fuzz::bodies`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use refunds_fuzz::{Clients, bodies};
use refunds_wooshpay::WooshPay;

static CLIENTS: Clients<WooshPay> = Clients::new();

fuzz_target!(|data: &[u8]| bodies(&CLIENTS, data));
