//! Drives the real `refunds-bias` client through a script, for the interop suite (`interop/`), which
//! compares the requests it sends with those of Bias' own Python client.
//!
//! Reads one operation per line of stdin (JSON), runs it against `BIAS_BASE_URL` with `BIAS_API_KEY`
//! and `BIAS_CURRENCY` (no retries, so each operation is one request), and prints one JSON line per
//! operation: `{"ok": true, "ids": [...]}` or `{"ok": false, "error": "..."}`.
//!
//! ```text
//! {"op": "create", "payment": "pay_1", "amount_minor": 500}
//! {"op": "get", "id": "re_000001", "expand": true}
//! {"op": "list", "limit": 2, "payment": "pay_1", "status": "pending", "after": "re_000003",
//!  "created_gte_ms": 1750000000000, "created_lt_ms": 1750000001000, "expand": true}
//! {"op": "events", "limit": 2}
//! ```

use std::io::BufRead;

use futures_util::StreamExt;
use refunds::{CreateRefund, ListRefunds, Money, PaymentRef, RefundId, RefundProvider, RefundStatus};
use refunds_bias::{BiasClient, BiasClientBuilder, BiasExt, EventsRequest, cursor_after, cursor_before};
use serde_json::{Value, json};

type Outcome = Result<Vec<String>, Box<dyn std::error::Error>>;

fn text(op: &Value, name: &str) -> Option<String> {
    op[name].as_str().map(str::to_owned)
}

fn time_ms(op: &Value, name: &str) -> Result<Option<refunds::OffsetDateTime>, Box<dyn std::error::Error>> {
    match op[name].as_i64() {
        Some(ms) => Ok(Some(refunds::OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(ms) * 1_000_000,
        )?)),
        None => Ok(None),
    }
}

fn list_request(op: &Value) -> Result<ListRefunds, Box<dyn std::error::Error>> {
    let mut request = ListRefunds::new();
    if let Some(limit) = op["limit"].as_u64() {
        request = request.limit(u32::try_from(limit)?);
    }
    if let Some(payment) = text(op, "payment") {
        request = request.payment(PaymentRef::payment(payment)?);
    }
    if let Some(status) = text(op, "status") {
        request = request.status(RefundStatus::from_name(&status));
    }
    if let Some(after) = text(op, "after") {
        request = request.cursor(cursor_after(&after));
    }
    if let Some(before) = text(op, "before") {
        request = request.cursor(cursor_before(&before));
    }
    if let Some(at) = time_ms(op, "created_gte_ms")? {
        request = request.created_after(at);
    }
    if let Some(at) = time_ms(op, "created_lt_ms")? {
        request = request.created_before(at);
    }
    Ok(request)
}

async fn run(client: &BiasClient, op: &Value) -> Outcome {
    let expand = op["expand"].as_bool() == Some(true);
    match op["op"].as_str().unwrap_or_default() {
        "create" => {
            let payment = PaymentRef::payment(text(op, "payment").unwrap_or_default())?;
            let mut request = CreateRefund::new(payment);
            if let Some(minor) = op["amount_minor"].as_i64() {
                let currency = client.currency().ok_or("no account currency")?;
                request = request.amount(Money::from_minor(minor, currency));
            }
            Ok(vec![client.create_refund(&request).await?.id.to_string()])
        }
        "get" => {
            let id = RefundId::new(text(op, "id").unwrap_or_default())?;
            let refund = if expand {
                client.get_refund_expanded(&id).await?.refund
            } else {
                client.get_refund(&id).await?
            };
            Ok(vec![refund.id.to_string()])
        }
        "list" => {
            let request = list_request(op)?;
            Ok(if expand {
                let page = client.list_refunds_expanded(&request).await?;
                page.items.into_iter().map(|r| r.refund.id.to_string()).collect()
            } else {
                let page = client.list_refunds(&request).await?;
                page.items.into_iter().map(|r| r.id.to_string()).collect()
            })
        }
        "events" => {
            let limit = u32::try_from(op["limit"].as_u64().unwrap_or(1))?;
            let once = refunds::adapter::RetryPolicy::none();
            let events: Vec<_> = client
                .refund_events(EventsRequest::new().limit(limit).reconnect(once))
                .collect()
                .await;
            events
                .into_iter()
                .map(|e| e.map(|e| e.id().to_owned()).map_err(Into::into))
                .collect()
        }
        other => Err(format!("unknown op {other:?}").into()),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = BiasClientBuilder::from_env().max_retries(0).build()?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let op: Value = serde_json::from_str(&line)?;
        let answer = match run(&client, &op).await {
            Ok(ids) => json!({"ok": true, "ids": ids}),
            Err(e) => json!({"ok": false, "error": e.to_string()}),
        };
        println!("{answer}");
    }
    Ok(())
}
