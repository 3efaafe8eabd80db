//! `refunds sandbox serve`: the embedded sandboxes as a server until Ctrl-C or SIGTERM, described on
//! stdout (a table, or one JSON line a test harness reads), stopped cleanly (webhook deliveries
//! drained, the state file complete).

use std::io::{self, Write};

use refunds_registry::sandbox::{ServeOptions, Served, serve};

use crate::args::{ServeArgs, Source};
use crate::exit::{self, Failure};
use crate::output::ReportFormat;

/// Serves until a signal; exit 0 after a clean stop.
pub async fn run(args: &ServeArgs, source: &Source) -> Result<u8, Failure> {
    if source.sandbox || source.config.is_some() || !source.sandbox_fault.is_empty() || source.sandbox_state.is_some() {
        return Err(Failure::invalid(
            "sandbox serve takes its own --fault and --state (not --sandbox, --config or --sandbox-*)",
        ));
    }
    let mut options = ServeOptions::new();
    options.providers = args.provider.clone();
    options.ports = args.port.clone();
    options.base_port = args.base_port;
    options.state = args.state.clone();
    options.fixtures = args.fixtures.clone();
    options.faults = args.fault.iter().map(|f| (f.fault.clone(), f.times)).collect();
    options.webhook_urls = args.webhook_url.clone();
    options.settle_after = args.settle_after;
    // Listening for the signals first: one that arrives as soon as the description is printed stops
    // the server cleanly rather than killing it.
    let stop = stopped()?;
    let served = serve(options).await?;
    let described = match args.format {
        ReportFormat::Json => served.to_json().to_string(),
        ReportFormat::Table => table(&served),
    };
    let mut out = io::stdout().lock();
    writeln!(out, "{described}")
        .and_then(|()| out.flush())
        .map_err(|e| Failure::other(format!("stdout: {e}")))?;
    drop(out);
    stop.await?;
    served.stop().await?;
    Ok(exit::SUCCESS)
}

fn table(served: &Served) -> String {
    let mut lines = vec![format!(
        "{:<10} {:<24} {:<38} {:<8} demo payment",
        "provider", "url", "test key", "currency"
    )];
    for s in served.iter() {
        let (payment, captured) = s.demo_payment;
        lines.push(format!(
            "{:<10} {:<24} {:<38} {:<8} {payment} {}",
            s.provider,
            s.url,
            s.api_key,
            s.currency.code(),
            captured
        ));
    }
    for s in served.iter() {
        if let Some(secret) = &s.webhook_secret {
            lines.push(format!("{} signs its webhooks with {secret}", s.provider));
        }
    }
    lines.push("control API: <url>/_sandbox (GET it for the world's state); Ctrl-C stops".to_owned());
    lines.join("\n")
}

/// Listens for Ctrl-C, and SIGTERM where there is one; the future ends at the first. On Unix both
/// are registered before this returns.
fn stopped() -> Result<impl std::future::Future<Output = Result<(), Failure>>, Failure> {
    let failed = |e: io::Error| Failure::other(format!("cannot wait for a signal: {e}"));
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).map_err(failed)?;
        let mut interrupt = signal(SignalKind::interrupt()).map_err(failed)?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
            Ok(())
        })
    }
    #[cfg(not(unix))]
    Ok(async move { tokio::signal::ctrl_c().await.map_err(failed) })
}
