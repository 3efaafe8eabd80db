//! `refunds webhook trigger`: one event signed in its provider's scheme and POSTed to a local URL, as
//! the provider would deliver it (what `stripe trigger` does for Stripe). The event is the provider's
//! own envelope around a refund object written by its sandbox's encoder, so a receiver sees the bytes
//! the provider's sandbox sends; `--body` sends a file's bytes instead.

use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use refunds::adapter::WebhookSettings;
use refunds::adapter::signature::SignatureScheme;
use refunds::sandbox::{DeliveryRecord, RefundRecord, SandboxWebhooks, WebhookSender};
use refunds::webhook::{Clock, EventKind, EventTable};
use refunds::{Currency, Money, OffsetDateTime, RefundStatus};

use crate::args::TriggerArgs;
use crate::exit::{self, Failure};
use crate::output::ReportFormat;
use crate::webhook::{body, kit, secret};

/// What a provider needs to trigger one of its events.
struct Provider {
    scheme: Arc<dyn SignatureScheme>,
    events: EventTable,
    sandbox: SandboxWebhooks,
}

fn provider(args: &TriggerArgs, secret: String, clock: Clock) -> Result<Provider, Failure> {
    let (descriptor, kit) = kit(&args.provider, "send")?;
    if args.legacy && !kit.legacy_form {
        return Err(Failure::invalid(format!(
            "--legacy: {} has no legacy signature form",
            args.provider
        )));
    }
    let sandbox = descriptor
        .sandbox
        .and_then(|s| s.webhooks)
        .ok_or_else(|| Failure::invalid(format!("{}: its sandbox writes no events to send", args.provider)))?;
    let settings = WebhookSettings::new().clock(clock).legacy_signature(args.legacy);
    Ok(Provider {
        scheme: kit.scheme(secret, &settings)?,
        events: kit.events,
        sandbox,
    })
}

/// The event type asked for, else the provider's refund-succeeded event (its refund-updated one
/// where it has none). A type outside the provider's table is refused.
fn event_type(args: &TriggerArgs, events: &EventTable) -> Result<&'static str, Failure> {
    let known = || {
        let names: Vec<&str> = events.entries().iter().map(|(name, _, _)| *name).collect();
        names.join(", ")
    };
    match &args.event {
        Some(asked) => events
            .entries()
            .iter()
            .find(|(name, _, _)| name == asked)
            .map(|(name, _, _)| *name)
            .ok_or_else(|| {
                Failure::invalid(format!(
                    "{}: no event {asked:?} (its events: {}); --body sends any body",
                    args.provider,
                    known()
                ))
            }),
        None => events
            .wire_type(&EventKind::Succeeded)
            .or_else(|| events.wire_type(&EventKind::Updated))
            .ok_or_else(|| Failure::invalid(format!("{}: no refund event to send", args.provider))),
    }
}

/// A refund in the state `event_type` reports, dated `at`: 10.00 of `currency`.
fn record(provider: &Provider, kind: &EventKind, currency: Currency, at: OffsetDateTime, n: &str) -> RefundRecord {
    let status = match kind {
        EventKind::Created => RefundStatus::Pending,
        EventKind::Failed => RefundStatus::Failed,
        EventKind::Canceled => RefundStatus::Canceled,
        _ => RefundStatus::Succeeded,
    };
    let (_, refund, payment) = provider.sandbox.id_prefixes;
    let amount = Money::from_minor(10_i64.pow(u32::from(currency.exponent())) * 10, currency);
    let mut record = RefundRecord::new(format!("{refund}{n}"), format!("{payment}{n}"), amount, status);
    record.reason = Some("requested_by_customer".to_owned());
    record.failure_reason = (record.status == RefundStatus::Failed).then(|| "unknown".to_owned());
    record.created_at = at - Duration::from_secs(60);
    record.updated_at = at;
    record.completed_at = record.status.is_terminal().then_some(at);
    record
}

fn print(args: &TriggerArgs, sent: Option<(&str, &str)>, delivery: &DeliveryRecord) -> Result<(), Failure> {
    let status = delivery.last_status.map_or("none".to_owned(), |s| s.to_string());
    let text = match args.format {
        ReportFormat::Table => {
            let what = sent.map_or("the body given".to_owned(), |(id, kind)| format!("{kind} {id}"));
            format!(
                "sent        {what}\nprovider    {}\nto          {}\nanswer      {status}\n",
                args.provider, delivery.url
            )
        }
        ReportFormat::Json => {
            let event = sent.map_or(
                serde_json::Value::Null,
                |(id, kind)| serde_json::json!({"id": id, "type": kind}),
            );
            let json = serde_json::json!({
                "provider": args.provider,
                "event": event,
                "url": delivery.url,
                "status": delivery.last_status,
                "delivered": delivery.delivered,
            });
            format!("{json}\n")
        }
    };
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::other(format!("stdout: {e}")))
}

/// Signs one event (or the body given) and POSTs it once to `--url`; exit 0 on a 2xx answer, 2 on
/// a 4xx (the receiver refused it), 4 on anything else or no answer.
pub async fn trigger(args: &TriggerArgs) -> Result<u8, Failure> {
    let at = args.at.unwrap_or_else(OffsetDateTime::now_utc);
    let provider = provider(args, secret(&args.secret_env)?, Clock::fixed(at))?;
    let sender = WebhookSender::with_retries(0, Duration::from_millis(1))?;
    sender
        .register(&args.url)
        .map_err(|e| Failure::invalid(format!("--url {}: {}", args.url, e.message())))?;
    let (bytes, sent) = match &args.body {
        Some(file) => (body(file)?, None),
        None => {
            let event_type = event_type(args, &provider.events)?;
            let currency = match &args.currency {
                Some(code) => Currency::from_code(code.trim())?,
                None => Currency::USD,
            };
            let n = format!("{:x}", at.unix_timestamp_nanos().unsigned_abs());
            let record = record(&provider, &provider.events.kind(event_type), currency, at, &n);
            let id = format!("{}{n}", provider.sandbox.id_prefixes.0);
            let bytes = (provider.sandbox.event_body)(&record, event_type, &id)
                .ok_or_else(|| Failure::other(format!("{}: the event could not be written", args.provider)))?;
            (bytes, Some((id, event_type)))
        }
    };
    let scheme = provider.scheme.clone();
    let delivered = sender.deliver(bytes, move |b| scheme.sign_headers(b)).await;
    let delivery = delivered
        .first()
        .ok_or_else(|| Failure::other("the event was sent nowhere"))?;
    print(args, sent.as_ref().map(|(id, kind)| (id.as_str(), *kind)), delivery)?;
    Ok(match delivery.last_status {
        Some(200..=299) => exit::SUCCESS,
        Some(400..=499) => exit::INVALID_OR_REJECTED,
        _ => exit::UNAVAILABLE,
    })
}
