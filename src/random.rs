//! Random bits from the operating system, for keys, markers and jitter: a leaf module, so that the
//! data types (a generated idempotency key) need nothing from the adapter layer.

/// 64 random bits from the operating system, or `None` where it has no entropy source. Generated
/// keys must come from here and fail without it: a clock-derived key can collide and make the
/// provider return an earlier refund as if it were a new one.
pub fn try_random_u64() -> Option<u64> {
    let mut buf = [0u8; 8];
    getrandom::fill(&mut buf).ok()?;
    Some(u64::from_le_bytes(buf))
}

/// 64 random bits for jitter; 0 where the OS has no entropy source (jitter only spreads load).
pub fn random_u64() -> u64 {
    try_random_u64().unwrap_or(0)
}

/// 128 random bits from the operating system, or `None` without an entropy source.
pub fn try_random_u128() -> Option<u128> {
    Some((u128::from(try_random_u64()?) << 64) | u128::from(try_random_u64()?))
}
