// The per-provider decode cases (included by refunds.rs): a body generator, the SDK's public parse,
// and plain serde into a struct with the wire fields.

fn decode_cases() -> Vec<DecodeCase> {
    Vec::new()
}
