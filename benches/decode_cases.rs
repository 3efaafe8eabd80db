// The per-provider decode cases (included by refunds.rs): a body generator in the provider's wire
// format, the SDK's public parse (`refund_from_json`: parse, normalize, keep raw), and plain serde into
// a struct with the same wire fields (the anchor).

const NOWHERE: &str = "http://127.0.0.1:9";

#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainXpay {
    id: String,
    #[serde(rename = "chargeId")]
    charge_id: String,
    amount: String,
    currency: String,
    status: String,
    reason: Option<String>,
    #[serde(rename = "balanceTransactionId")]
    balance_transaction_id: Option<String>,
    #[serde(rename = "createdAt")]
    created_at: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainCursor {
    object: String,
    id: String,
    live: bool,
    created_at: i64,
    amount: i64,
    failed_reason: Option<String>,
    payment: String,
    status: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainSyncgram {
    refund_id: String,
    charge_id: String,
    reference: String,
    status: String,
    requested_amount: String,
    refunded_amount: Option<String>,
    refund_fee_amount: String,
    fee_bearer: String,
    reason: Option<String>,
    created_at: String,
    updated_at: String,
    completed_at: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainWooshpay {
    id: Option<String>,
    object: Option<String>,
    amount: Option<i64>,
    created: Option<i64>,
    currency: Option<String>,
    metadata: Option<std::collections::BTreeMap<String, String>>,
    payment_intent: Option<String>,
    reason: Option<String>,
    status: Option<String>,
    description: Option<String>,
    failure_reason: Option<String>,
}

fn plain<T: serde::de::DeserializeOwned>(body: &[u8]) -> bool {
    serde_json::from_slice::<T>(body).is_ok()
}

fn decode_cases() -> Vec<DecodeCase> {
    let fourgeeks = sdk_client(NOWHERE);
    let xpay = refunds_xpay::XPayClient::builder()
        .api_key(KEY)
        .base_url(NOWHERE)
        .build()
        .expect("xpay");
    let bias = refunds_bias::BiasClient::builder()
        .api_key(KEY)
        .base_url(NOWHERE)
        .currency(Currency::USD)
        .build()
        .expect("bias");
    let syncgram = refunds_syncgram::SyncgramClient::builder()
        .api_key(KEY)
        .base_url(NOWHERE)
        .currency(Currency::USD)
        .build()
        .expect("syncgram");
    let wooshpay = refunds_wooshpay::WooshPayClient::builder()
        .api_key(KEY)
        .base_url(NOWHERE)
        .build()
        .expect("wooshpay");
    vec![
        DecodeCase {
            provider: "fourgeeks",
            body: |i| refund_json(i).to_string(),
            sdk: Box::new(move |b| fourgeeks.refund_from_json(b).is_ok()),
            plain: plain::<HandRefund>,
        },
        DecodeCase {
            provider: "xpay",
            body: |i| {
                format!(
                    r#"{{"id":"re_{i:07}","chargeId":"ch_{i:07}","amount":"{}","currency":"EGP","status":"succeeded","reason":"requested_by_customer","balanceTransactionId":"bt_{i:07}","createdAt":"2024-01-01T00:00:00.000Z"}}"#,
                    50_000 + i
                )
            },
            sdk: Box::new(move |b| xpay.refund_from_json(b).is_ok()),
            plain: plain::<PlainXpay>,
        },
        DecodeCase {
            provider: "bias",
            body: |i| {
                format!(
                    r#"{{"object":"refund","id":"re_{i:07}","live":false,"created_at":{},"amount":{},"failed_reason":null,"payment":"pay_{i:07}","status":"succeeded"}}"#,
                    1_700_000_000_000u64 + i as u64,
                    1000 + i
                )
            },
            sdk: Box::new(move |b| bias.refund_from_json(b).is_ok()),
            plain: plain::<PlainCursor>,
        },
        DecodeCase {
            provider: "syncgram",
            body: |i| {
                format!(
                    r#"{{"refund_id":"ref_{i:07}","charge_id":"ch_{i:07}","reference":"refund_ord_{i}","status":"pending","requested_amount":"{}.{:02}","refunded_amount":null,"refund_fee_amount":"0.50","fee_bearer":"ORG","reason":"Customer request","created_at":"2024-01-16T09:00:00Z","updated_at":"2024-01-16T09:00:00Z","completed_at":null}}"#,
                    50 + i % 1000,
                    i % 100
                )
            },
            sdk: Box::new(move |b| syncgram.refund_from_json(b).is_ok()),
            plain: plain::<PlainSyncgram>,
        },
        DecodeCase {
            provider: "wooshpay",
            body: |i| {
                format!(
                    r#"{{"id":"re_{i:07}","object":"refund","amount":{},"created":1644328172,"currency":"usd","metadata":{{}},"payment_intent":"pi_{i:07}","reason":null,"status":"succeeded","description":null,"failure_reason":null}}"#,
                    100 + i
                )
            },
            sdk: Box::new(move |b| wooshpay.refund_from_json(b).is_ok()),
            plain: plain::<PlainWooshpay>,
        },
    ]
}
