//! `refunds webhook verify`: a saved delivery checked with its provider's verifier, then printed as
//! the typed event. `refunds webhook trigger`: one event signed in its provider's scheme and sent to
//! a local URL. The secret is read from the variable named and never printed.

use std::io::{self, Read, Write};
use std::path::Path;

use http::{HeaderMap, HeaderName, HeaderValue};
use refunds::adapter::{Descriptor, WebhookKit, WebhookSettings};
use refunds::webhook::{Clock, DEFAULT_TOLERANCE};
use refunds::{Currency, WebhookEvent, WebhookVerifier};

use crate::args::{VerifyArgs, WebhookCommand};
use crate::exit::{self, Failure};
use crate::output::{self, ReportFormat};

/// Runs `refunds webhook ...`.
pub async fn run(command: &WebhookCommand) -> Result<u8, Failure> {
    match command {
        WebhookCommand::Verify(args) => verify(args),
        WebhookCommand::Trigger(args) => crate::trigger::trigger(args).await,
    }
}

/// The providers that sign their webhooks, named.
fn signing() -> String {
    let ids: Vec<&str> = refunds_registry::descriptors()
        .iter()
        .filter(|d| d.webhooks.is_some())
        .map(|d| d.id())
        .collect();
    ids.join(", ")
}

/// The webhook kit of `provider`, or the refusal of a provider without signed webhooks (or unknown),
/// for `what` (verify, send).
pub fn kit(provider: &str, what: &str) -> Result<(Descriptor, WebhookKit), Failure> {
    match refunds_registry::descriptor(provider) {
        Some(descriptor) => match descriptor.webhooks {
            Some(kit) => Ok((descriptor, kit)),
            None => Err(Failure::invalid(format!(
                "{provider}: no signed webhooks to {what} (providers that sign them: {})",
                signing()
            ))),
        },
        None => Err(Failure::invalid(format!(
            "unknown provider {provider:?} (webhooks: {})",
            signing()
        ))),
    }
}

fn headers(lines: &[String]) -> Result<HeaderMap, Failure> {
    let mut map = HeaderMap::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| Failure::invalid(format!("--header {line:?}: expected \"Name: value\"")))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| Failure::invalid(format!("--header: {:?} is not a header name", name.trim())))?;
        let value = HeaderValue::from_str(value.trim())
            .map_err(|_| Failure::invalid(format!("--header {name}: the value is not a valid header value")))?;
        map.append(name, value);
    }
    Ok(map)
}

/// The bytes of `file` (`-` for stdin), exactly.
pub fn body(file: &Path) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    let read = if file.as_os_str() == "-" {
        io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(file).map(|b| bytes = b)
    };
    read.map_err(|e| Failure::invalid(format!("{}: cannot read the body: {e}", file.display())))?;
    Ok(bytes)
}

/// The webhook secret in variable `var`, never printed.
pub fn secret(var: &str) -> Result<String, Failure> {
    std::env::var(var)
        .ok()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Failure::invalid(format!("--secret-env {var}: the variable is not set")))
}

/// The account currency a provider's webhook reader needs where its refund objects carry none:
/// `given`, else `<PREFIX>_CURRENCY`.
fn account_currency(
    descriptor: &Descriptor,
    kit: &WebhookKit,
    given: Option<&str>,
) -> Result<Option<Currency>, Failure> {
    let var = descriptor.spec.env_var("CURRENCY");
    let code = match given {
        Some(code) => code.to_owned(),
        None if !kit.needs_currency => return Ok(None),
        None => std::env::var(&var).map_err(|_| {
            Failure::invalid(format!(
                "{}: --currency is required (or {var}): its refund objects carry no currency",
                descriptor.id()
            ))
        })?,
    };
    Ok(Some(Currency::from_code(code.trim())?))
}

fn verifier(args: &VerifyArgs, secret: String) -> Result<Box<dyn WebhookVerifier>, Failure> {
    let (descriptor, kit) = kit(&args.provider, "verify")?;
    let settings = WebhookSettings::new()
        .tolerance(args.tolerance.unwrap_or(DEFAULT_TOLERANCE))
        .clock(args.at.map_or_else(Clock::system, Clock::fixed))
        .currency(account_currency(&descriptor, &kit, args.currency.as_deref())?);
    Ok(kit.verifier(secret, &settings)?)
}

fn event_text(event: &WebhookEvent, format: ReportFormat) -> String {
    let time = output::time_text(event.created_at);
    match format {
        ReportFormat::Table => {
            let mut text = format!(
                "verified    yes\nprovider    {}\nevent       {}\ntype        {}\nkind        {}\n",
                event.provider, event.id, event.event_type, event.kind
            );
            if !time.is_empty() {
                text.push_str(&format!("created     {time}\n"));
            }
            if let Some(live) = event.livemode {
                text.push_str(&format!("livemode    {live}\n"));
            }
            if let Some(payment) = &event.payment {
                text.push_str(&format!("payment     {} {}\n", payment.kind().as_str(), payment.id()));
            }
            if let Some(refund) = &event.refund {
                text.push_str("\nrefund\n");
                text.push_str(&output::detail(refund));
            }
            text
        }
        ReportFormat::Json => {
            let payment = event.payment.as_ref().map_or("null".to_owned(), |p| {
                serde_json::json!({"kind": p.kind().as_str(), "id": p.id()}).to_string()
            });
            let refund = event.refund.as_ref().map_or("null".to_owned(), output::refund_json);
            let created = if time.is_empty() {
                "null".to_owned()
            } else {
                format!("\"{time}\"")
            };
            format!(
                "{{\"verified\":true,\"provider\":{},\"id\":{},\"type\":{},\"kind\":{},\"created_at\":{created},\"livemode\":{},\"payment\":{payment},\"refund\":{refund},\"raw\":{}}}\n",
                serde_json::Value::from(event.provider.as_ref()),
                serde_json::Value::from(event.id.as_str()),
                serde_json::Value::from(event.event_type.as_str()),
                serde_json::Value::from(event.kind.as_str()),
                event.livemode.map_or("null".to_owned(), |l| l.to_string()),
                event.raw.get()
            )
        }
    }
}

/// Verifies the delivery and prints its event; a delivery that does not verify exits 2.
fn verify(args: &VerifyArgs) -> Result<u8, Failure> {
    let headers = headers(&args.header)?;
    let body = body(&args.file)?;
    let verifier = verifier(args, secret(&args.secret_env)?)?;
    let event = verifier.verify_and_parse(&headers, &body).map_err(|e| {
        let what = if e.is_unauthenticated() {
            "rejected"
        } else {
            "unreadable"
        };
        Failure::invalid(format!("{}: webhook {what}: {e}", args.provider))
    })?;
    io::stdout()
        .lock()
        .write_all(event_text(&event, args.format).as_bytes())
        .map_err(|e| Failure::other(format!("stdout: {e}")))?;
    Ok(exit::SUCCESS)
}
