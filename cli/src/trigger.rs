//! `refunds webhook trigger`: one event signed in its provider's scheme and POSTed to a local URL, as
//! the provider would deliver it (what `stripe trigger` does for Stripe). The event is the provider's
//! own envelope around a refund object written by its sandbox's encoder, so a receiver sees the bytes
//! the provider's sandbox sends; `--body` sends a file's bytes instead.

use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use refunds::adapter::signature::SignatureScheme;
use refunds::sandbox::{DeliveryRecord, RefundRecord, WebhookSender};
use refunds::webhook::{Clock, EventKind, EventTable};
use refunds::{Currency, Money, OffsetDateTime, RefundStatus};

use crate::args::TriggerArgs;
use crate::exit::{self, Failure};
use crate::output::ReportFormat;
use crate::webhook::{body, not_signing, secret, syncgram_currency};

/// Writes one provider event about a refund record: (record, event type, event id).
type EventBody = fn(&RefundRecord, &str, &str) -> Option<Vec<u8>>;

/// What a provider needs to trigger one of its events.
struct Provider {
    scheme: Arc<dyn SignatureScheme>,
    events: EventTable,
    event_body: EventBody,
    /// Event id, refund id and payment id prefixes of the generated event.
    ids: (&'static str, &'static str, &'static str),
}

fn provider(args: &TriggerArgs, secret: String, clock: Clock) -> Result<Provider, Failure> {
    if args.legacy && args.provider != "syncgram" {
        return Err(Failure::invalid("--legacy: only syncgram has a legacy signature form"));
    }
    let provider = match args.provider.as_str() {
        "wooshpay" => Provider {
            scheme: Arc::new(refunds_wooshpay::webhooks::builder(secret).clock(clock).scheme()?),
            events: refunds_wooshpay::webhooks::EVENTS,
            event_body: refunds_wooshpay::sandbox::event_body,
            ids: ("evt_trigger_", "re_trigger_", "pi_trigger_"),
        },
        "xpay" => Provider {
            scheme: Arc::new(refunds_xpay::webhooks::builder(secret).clock(clock).scheme()?),
            events: refunds_xpay::webhooks::EVENTS,
            event_body: refunds_xpay::sandbox::event_body,
            ids: ("evt_test_trigger_", "re_trigger_", "ch_trigger_"),
        },
        "syncgram" => {
            // The currency only matters to the verifier's reader, not to the scheme.
            let builder = refunds_syncgram::webhooks::builder(secret, Currency::USD);
            Provider {
                scheme: Arc::new(builder.clock(clock).sign_split(args.legacy).scheme()?),
                events: refunds_syncgram::webhooks::EVENTS,
                event_body: refunds_syncgram::sandbox::event_body,
                ids: ("evt_trigger_", "ref_trigger_", "ch_trigger_"),
            }
        }
        other => return Err(not_signing(other, "send")),
    };
    Ok(provider)
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
    let (_, refund, payment) = provider.ids;
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
            let currency = match (&args.currency, args.provider.as_str()) {
                (given, "syncgram") => syncgram_currency(given.as_deref().or(Some("USD")))?,
                (Some(code), _) => Currency::from_code(code.trim())?,
                (None, _) => Currency::USD,
            };
            let n = format!("{:x}", at.unix_timestamp_nanos().unsigned_abs());
            let record = record(&provider, &provider.events.kind(event_type), currency, at, &n);
            let id = format!("{}{n}", provider.ids.0);
            let bytes = (provider.event_body)(&record, event_type, &id)
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
