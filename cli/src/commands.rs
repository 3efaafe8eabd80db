//! What each command does: inputs checked first (nothing is sent for a bad argument), then the
//! registry, then the calls.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use refunds::{
    Capabilities, CreateRefund, Currency, IdempotencyKey, ListRefunds, Money, PageCursor, PaymentRef, PendingCreate,
    RecoverExt, Recovery, RecoveryOptions, Refund, RefundId, RefundProvider, RefundProviderExt, RefundReason,
    SettleExt, WaitOptions,
};
use serde_json::json;

use crate::args::{Cli, Command, CreateArgs, ExportArgs, Filters, KindArg, ListArgs, RecoverArgs, duration_text};
use crate::context::Context;
use crate::exit::{self, Failure};
use crate::output::{self, Format, RefundWriter, ReportFormat};

/// Runs the command; `Ok` carries the exit code of an outcome that is not a failure of the command
/// itself (a `recover` verdict, a `wait` that reached its deadline).
pub async fn run(cli: Cli) -> Result<u8, Failure> {
    if let Command::Webhook(command) = &cli.command {
        return crate::webhook::run(command).await;
    }
    if let Command::Sandbox(crate::args::SandboxCommand::Serve(args)) = &cli.command {
        return crate::serve::run(args, &cli.source).await;
    }
    if let Command::Journal(command) = &cli.command {
        if let Some(outcome) = crate::journal::without_providers(command).await {
            return outcome;
        }
    }
    if let Command::Recover(args) = &cli.command {
        // Read before anything starts: a missing or malformed file is invalid input.
        read_pending(&args.file)?;
    }
    let context = Context::open(&cli).await?;
    let outcome = dispatch(&context, cli.command).await;
    context.close(outcome)
}

async fn dispatch(context: &Context, command: Command) -> Result<u8, Failure> {
    match command {
        Command::Providers { format } => providers(context, format),
        Command::Create(mut args) if args.intent.is_some() => {
            let intent = args.intent.take().unwrap_or_default();
            crate::journal::create(context, args, intent).await
        }
        Command::Create(args) => create(context, args).await,
        Command::Get { provider, id, format } => {
            let id = RefundId::new(id)?;
            let provider = context.provider(&provider)?;
            let refund = provider.get_refund(&id).await?;
            print_one(&refund, format)?;
            Ok(exit::SUCCESS)
        }
        Command::List(args) => list(context, args).await,
        Command::Wait {
            provider,
            id,
            timeout,
            format,
        } => {
            let id = RefundId::new(id)?;
            let provider = context.provider(&provider)?;
            wait(provider.as_ref(), &id, timeout, format).await
        }
        Command::Export(args) => export(context, args).await,
        Command::Recover(args) => recover(context, args).await,
        Command::Bulk(args) => crate::bulk::run(context, args).await,
        Command::Journal(command) => crate::journal::run(context, command).await,
        Command::Webhook(_) | Command::Sandbox(_) | Command::Completions { .. } => {
            unreachable!("handled before the registry is built")
        }
    }
}

/// A failed write. A reader that went away (`refunds export | head`) is no failure: the command ends
/// quietly with exit 0.
fn io_failure(what: &str) -> impl Fn(io::Error) -> Failure + '_ {
    move |e| {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::quiet(exit::SUCCESS)
        } else {
            Failure::other(format!("{what}: {e}"))
        }
    }
}

fn print_one(refund: &Refund, format: Format) -> Result<(), Failure> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let written = match format {
        Format::Table => out.write_all(output::detail(refund).as_bytes()),
        Format::Json | Format::Jsonl => writeln!(out, "{}", output::refund_json(refund)),
        Format::Csv => RefundWriter::start(&mut out, Format::Csv)
            .and_then(|mut w| w.write(refund).map(|()| w))
            .and_then(|w| w.finish().map(|_| ())),
    };
    written.map_err(io_failure("stdout"))
}

fn capability_json(id: &str, name: &str, c: &Capabilities) -> serde_json::Value {
    json!({
        "id": id,
        "name": name,
        "partial_refunds": c.partial_refunds,
        "retrieve": c.retrieve,
        "retrieve_by_payment": c.retrieve_by_payment,
        "list": c.list.map(|s| format!("{s:?}").to_lowercase()),
        "list_filters": {"status": c.list_status_filter, "payment": c.list_payment_filter, "created": c.list_created_filter},
        "cancel": c.cancel,
        "idempotency": format!("{:?}", c.idempotency).to_lowercase(),
        "payment_kinds": c.payment_kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "carries": {
            "reason": c.carries.reason,
            "description": c.carries.description,
            "metadata": c.carries.metadata,
            "merchant_reference": c.carries.merchant_reference,
        },
    })
}

fn providers(context: &Context, format: ReportFormat) -> Result<u8, Failure> {
    let mut out = io::stdout().lock();
    let mut lines = Vec::new();
    if format == ReportFormat::Table {
        lines.push(format!(
            "{:<12} {:<10} {:<5} {:<12} {:<12} {:<8} {:<23} {}",
            "account", "provider", "mode", "list", "idempotency", "partial", "payment kinds", "create carries"
        ));
    }
    for account in context.accounts()? {
        let provider = account.provider();
        let info = provider.info();
        let c = &info.capabilities;
        match format {
            ReportFormat::Table => {
                let carries = [
                    ("reason", c.carries.reason),
                    ("description", c.carries.description),
                    ("metadata", c.carries.metadata),
                    ("merchant_reference", c.carries.merchant_reference),
                ]
                .iter()
                .filter(|(_, yes)| *yes)
                .map(|(name, _)| *name)
                .collect::<Vec<_>>();
                lines.push(format!(
                    "{:<12} {:<10} {:<5} {:<12} {:<12} {:<8} {:<23} {}",
                    output::shown(account.name()),
                    info.id,
                    account.mode().mode.as_str(),
                    c.list.map_or("none".to_owned(), |s| format!("{s:?}").to_lowercase()),
                    format!("{:?}", c.idempotency).to_lowercase(),
                    if c.partial_refunds { "yes" } else { "no" },
                    c.payment_kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(","),
                    if carries.is_empty() {
                        "-".to_owned()
                    } else {
                        carries.join(",")
                    },
                ));
            }
            ReportFormat::Json => {
                let mut json = capability_json(info.id, info.name, c);
                json["account"] = json!(account.name());
                json["mode"] = json!(account.mode().mode.as_str());
                lines.push(json.to_string());
            }
        }
    }
    let text = if format == ReportFormat::Json {
        format!("[{}]", lines.join(",\n"))
    } else {
        lines.join("\n")
    };
    writeln!(out, "{text}").map_err(io_failure("stdout"))?;
    Ok(exit::SUCCESS)
}

/// The payment reference: the kind given, or the provider's first.
fn payment_ref(provider: &dyn RefundProvider, id: &str, kind: Option<KindArg>) -> Result<PaymentRef, Failure> {
    let kinds = &provider.info().capabilities.payment_kinds;
    let kind = match kind {
        Some(kind) => kind.into(),
        None => *kinds
            .first()
            .ok_or_else(|| Failure::invalid(format!("{}: accepts no payment kind", provider.info().id)))?,
    };
    Ok(PaymentRef::new(kind, id)?)
}

/// The create request, every argument checked; nothing is sent yet.
pub(crate) fn create_request(args: &CreateArgs, provider: &dyn RefundProvider) -> Result<CreateRefund, Failure> {
    let mut request = CreateRefund::new(payment_ref(provider, &args.payment, args.payment_kind)?);
    if let (Some(amount), Some(currency)) = (&args.amount, &args.currency) {
        let currency = Currency::from_code(&currency.to_ascii_uppercase())?;
        let money = Money::from_major_str(amount, currency).map_err(refunds::Error::from)?;
        if !money.is_positive() {
            return Err(Failure::invalid(format!("--amount {amount}: must be more than zero")));
        }
        request = request.amount(money);
    }
    if let Some(reason) = &args.reason {
        request = request.reason(RefundReason::from_name(reason));
    }
    if let Some(reference) = &args.merchant_reference {
        request = request.merchant_reference(reference.clone());
    }
    if let Some(description) = &args.description {
        request = request.description(description.clone());
    }
    for (k, v) in &args.metadata {
        request = request.metadata(k.clone(), v.clone());
    }
    if let Some(key) = &args.idempotency_key {
        request = request.idempotency_key(IdempotencyKey::new(key.clone())?);
    }
    request.validate()?;
    let info = provider.info();
    if let Some(field) = info.capabilities.carries.first_refused(&request) {
        return Err(Failure::invalid(format!(
            "{}: does not carry `{field}` on a create (see `refunds providers`)",
            info.id
        )));
    }
    Ok(request)
}

async fn create(context: &Context, args: CreateArgs) -> Result<u8, Failure> {
    let provider = context.provider(&args.provider)?;
    let request = create_request(&args, provider.as_ref()).map_err(|f| f.with_provider(&args.provider))?;
    if args.dry_run {
        let preview = provider.preview_create(&request)?;
        let mode = context.account(&args.provider)?.mode();
        eprintln!("refunds: {}: {mode}", output::shown(&args.provider));
        let mut out = io::stdout().lock();
        write!(out, "{}", output::shown_lines(&preview.to_string())).map_err(io_failure("stdout"))?;
        eprintln!("refunds: dry run: nothing was sent");
        return Ok(exit::SUCCESS);
    }
    context.may_move_money(&context.account(&args.provider)?)?;
    let pending_path = args.pending_file.clone();
    if let Some(path) = &pending_path {
        if path.exists() {
            return Err(Failure::invalid(format!(
                "--pending-file {}: exists (a pending create is never overwritten)",
                path.display()
            )));
        }
    }
    let outcome = provider.create_refund(&request).await;
    match outcome {
        Ok(refund) if args.wait => {
            // Said at once: whatever the polls meet, the refund's id is never lost.
            eprintln!(
                "refunds: {}: created {} ({}); waiting up to {} for a final status",
                provider.info().id,
                output::shown(refund.id.as_str()),
                output::shown(refund.status.as_str()),
                duration_text(args.wait_timeout)
            );
            wait_after_create(provider.as_ref(), refund, args.wait_timeout, args.format).await
        }
        Ok(refund) => {
            print_one(&refund, args.format)?;
            Ok(exit::SUCCESS)
        }
        Err(e) => match (e.refund(), e.pending()) {
            // Applied, but not as asked: the refund is printed; the failure says what differs.
            (Some(refund), _) => {
                print_one(refund, args.format)?;
                Err(e.into())
            }
            (None, Some(pending)) => Err(save_pending(pending, pending_path, &e, &args.provider)),
            (None, None) => Err(e.into()),
        },
    }
}

/// `create --wait` after the create succeeded: the final refund (exit 0), or the last one seen and
/// exit 5 (created, not yet final) when a poll fails or the deadline passes. Never the exit code of a
/// failed poll: that would read as "nothing was applied".
async fn wait_after_create(
    provider: &dyn RefundProvider,
    created: Refund,
    timeout: Duration,
    format: Format,
) -> Result<u8, Failure> {
    let options = WaitOptions::new()
        .deadline(timeout)
        .max_interval(Duration::from_secs(10));
    let (last, problem) = match provider.wait_until_final(&created.id, options).await {
        Ok(refund) if refund.status.is_terminal() => {
            print_one(&refund, format)?;
            return Ok(exit::SUCCESS);
        }
        Ok(refund) => {
            let problem = format!("still {} after {}", refund.status, duration_text(timeout));
            (refund, problem)
        }
        Err(e) => (created, format!("polling it failed: {e}")),
    };
    print_one(&last, format)?;
    Err(Failure::new(
        exit::CREATED,
        format!(
            "{}: refund {} was created and is not final ({problem}); never create it again: check it with `refunds get -p {} {}`",
            provider.info().id,
            last.id,
            provider.info().id,
            last.id
        ),
    ))
}

/// Saves an ambiguous create's pending create; the failure says where (exit 3), or prints it on stdout
/// when it cannot be written.
fn save_pending(pending: &PendingCreate, path: Option<PathBuf>, e: &refunds::Error, account: &str) -> Failure {
    let path = path.unwrap_or_else(|| {
        let millis = refunds::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        PathBuf::from(format!("refunds-pending-{}-{millis}.json", pending.provider))
    });
    let text = match serde_json::to_string_pretty(pending) {
        Ok(text) => text,
        Err(err) => return Failure::other(format!("{e}; the pending create could not be written: {err}")),
    };
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    // It names a payment, an amount and the create's idempotency key: readable by its owner only.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.write_all(b"\n")));
    let base = Failure::from(e.clone()).message;
    match written {
        Ok(()) => Failure::new(
            exit::AMBIGUOUS,
            format!(
                "{base}; the refund may exist: pending create saved to {} (resolve with `refunds recover {}{}`)",
                path.display(),
                path.display(),
                // The file names the provider, not the account: recover is told which one.
                if account == pending.provider {
                    String::new()
                } else {
                    format!(" --account {}", output::shown(account))
                }
            ),
        ),
        Err(err) => {
            println!("{text}");
            Failure::new(
                exit::AMBIGUOUS,
                format!(
                    "{base}; the refund may exist: {} could not be written ({err}), the pending create is on stdout",
                    path.display()
                ),
            )
        }
    }
}

async fn wait(provider: &dyn RefundProvider, id: &RefundId, timeout: Duration, format: Format) -> Result<u8, Failure> {
    let refund = provider
        .wait_until_final(
            id,
            WaitOptions::new()
                .deadline(timeout)
                .max_interval(Duration::from_secs(10)),
        )
        .await?;
    print_one(&refund, format)?;
    if refund.status.is_terminal() {
        Ok(exit::SUCCESS)
    } else {
        eprintln!(
            "refunds: {}: refund {} is still {} after {}",
            provider.info().id,
            output::shown(refund.id.as_str()),
            output::shown(refund.status.as_str()),
            duration_text(timeout)
        );
        Ok(exit::UNAVAILABLE)
    }
}

/// The filters as a list request.
fn list_request(filters: &Filters, provider: &dyn RefundProvider) -> Result<ListRefunds, Failure> {
    let mut request = ListRefunds::new();
    if let Some(status) = &filters.status {
        request = request.status(status.clone());
    }
    if let Some(payment) = &filters.payment {
        request = request.payment(payment_ref(provider, payment, filters.payment_kind)?);
    }
    if let Some(at) = filters.created_after {
        request = request.created_after(at);
    }
    if let Some(at) = filters.created_before {
        request = request.created_before(at);
    }
    Ok(request)
}

async fn list(context: &Context, args: ListArgs) -> Result<u8, Failure> {
    if args.limit == Some(0) {
        return Err(Failure::invalid("--limit: must be at least 1"));
    }
    let provider = context.provider(&args.provider)?;
    let caps = &provider.info().capabilities;
    let mut wanted = list_request(&args.filters, provider.as_ref())?;
    if let Some(limit) = args.limit {
        wanted = wanted.limit(limit);
    }
    if let Some(cursor) = &args.cursor {
        wanted = wanted.cursor(PageCursor::from_token(cursor.clone()));
    }
    // The provider applies the filters it has; the rest are applied to the page here.
    let native = wanted.native_part(caps.list_filters());
    let page = provider.list_refunds(&native).await?;
    let stdout = io::stdout();
    let mut writer = RefundWriter::start(stdout.lock(), args.format).map_err(io_failure("stdout"))?;
    for refund in &page.items {
        if wanted.matches(refund)? {
            writer.write(refund).map_err(io_failure("stdout"))?;
        }
    }
    let _stdout = writer.finish().map_err(io_failure("stdout"))?;
    if let Some(next) = &page.next {
        eprintln!("refunds: more: --cursor {}", output::shown(next.as_str()));
    }
    Ok(exit::SUCCESS)
}

/// The progress bar: on stderr when it is a terminal, nothing otherwise.
fn progress() -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {pos} refunds ({elapsed})") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

async fn export(context: &Context, args: ExportArgs) -> Result<u8, Failure> {
    // Every provider named must exist, and every filter must parse, before anything is sent.
    let providers: Vec<Arc<dyn RefundProvider>> = if args.provider.is_empty() {
        context.accounts()?.iter().map(|a| a.provider().clone()).collect()
    } else {
        args.provider
            .iter()
            .map(|id| context.provider(id))
            .collect::<Result<_, _>>()?
    };
    let requests = providers
        .iter()
        .map(|p| list_request(&args.filters, p.as_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    let named = !args.provider.is_empty();
    for provider in &providers {
        let info = provider.info();
        if info.capabilities.list.is_none() && context.world.is_none() && named {
            return Err(info
                .unsupported("listing refunds (no list endpoint): read them with `refunds get`")
                .into());
        }
    }

    let (sink, aside): (Box<dyn Write>, Option<(PathBuf, PathBuf)>) = match &args.output {
        Some(path) => {
            let partial = partial_path(path);
            let file = File::create(&partial).map_err(io_failure(&partial.display().to_string()))?;
            crate::interrupt::remove_on_interrupt(&partial);
            (Box::new(file), Some((partial, path.clone())))
        }
        None => (Box::new(io::stdout().lock()), None),
    };
    let bar = progress();
    crate::interrupt::clear_on_interrupt(&bar);
    let out = BufWriter::new(sink);
    let result = export_into(context, &providers, &requests, out, args.format, &bar, named).await;
    bar.finish_and_clear();
    if let Some((partial, _)) = &aside {
        crate::interrupt::forget(partial);
    }
    match (result, aside) {
        (Ok(count), Some((partial, path))) => {
            std::fs::rename(&partial, &path).map_err(io_failure(&path.display().to_string()))?;
            eprintln!("refunds: {count} refunds written to {}", path.display());
            Ok(exit::SUCCESS)
        }
        (Ok(_), None) => Ok(exit::SUCCESS),
        (Err(failure), aside) => {
            if let Some((partial, _)) = aside {
                let _ = std::fs::remove_file(partial);
            }
            Err(failure)
        }
    }
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    path.with_file_name(name)
}

async fn export_into(
    context: &Context,
    providers: &[Arc<dyn RefundProvider>],
    requests: &[ListRefunds],
    out: impl Write,
    format: Format,
    bar: &ProgressBar,
    named: bool,
) -> Result<u64, Failure> {
    let mut writer = RefundWriter::start(out, format).map_err(io_failure("output"))?;
    for (provider, request) in providers.iter().zip(requests) {
        let info = provider.info();
        bar.set_message(info.id);
        if info.capabilities.list.is_some() {
            let mut stream = provider.refunds_stream(request.clone());
            let mut first = true;
            while let Some(refund) = stream.next().await {
                let refund = match refund {
                    // A filter this provider cannot apply (4Geeks refunds carry no time): across every
                    // provider it is skipped with a note; named with -p it is the error.
                    Err(e) if first && !named && matches!(e.kind(), refunds::ErrorKind::Unsupported) => {
                        bar.suspend(|| eprintln!("refunds: {}: skipped: {}", info.id, output::shown(e.message())));
                        break;
                    }
                    other => other?,
                };
                first = false;
                writer.write(&refund).map_err(io_failure("output"))?;
                bar.inc(1);
            }
            writer.flush().map_err(io_failure("output"))?;
        } else if let Some(world) = &context.world {
            // No list endpoint: on the sandbox, its ledger says which refunds exist, and each is read
            // through the provider's own `get`.
            for id in world.refund_ids(info.id) {
                let refund = provider.get_refund(&RefundId::new(id)?).await?;
                if request.matches(&refund)? {
                    writer.write(&refund).map_err(io_failure("output"))?;
                    bar.inc(1);
                }
            }
        } else {
            bar.suspend(|| {
                eprintln!(
                    "refunds: {}: skipped: no list endpoint (read its refunds one by one with `refunds get`)",
                    info.id
                );
            });
        }
    }
    let count = writer.count();
    writer.finish().map_err(io_failure("output"))?;
    Ok(count)
}

/// A pending create is a few kilobytes; a bigger file is not one (and `/dev/zero` must not fill memory).
const MAX_PENDING_FILE: u64 = 1 << 20;

fn read_pending(path: &Path) -> Result<PendingCreate, Failure> {
    use std::io::Read;
    let cannot =
        |e: std::io::Error| Failure::invalid(format!("{}: cannot read the pending create: {e}", path.display()));
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(cannot)?
        .take(MAX_PENDING_FILE + 1)
        .read_to_string(&mut text)
        .map_err(cannot)?;
    if text.len() as u64 > MAX_PENDING_FILE {
        return Err(Failure::invalid(format!(
            "{}: not a pending create: larger than {MAX_PENDING_FILE} bytes",
            path.display()
        )));
    }
    serde_json::from_str(&text).map_err(|e| Failure::invalid(format!("{}: not a pending create: {e}", path.display())))
}

async fn recover(context: &Context, args: RecoverArgs) -> Result<u8, Failure> {
    let pending = read_pending(&args.file)?;
    let account = match &args.account {
        Some(name) => context.account(name)?,
        None => context.sole_account_of(&pending.provider)?,
    };
    if account.provider_id() != pending.provider {
        return Err(Failure::invalid(format!(
            "account {} is a {} account; the pending create is {}'s",
            output::shown(account.name()),
            account.provider_id(),
            output::shown(&pending.provider)
        )));
    }
    // Recovery may send the pending create again.
    context.may_move_money(&account)?;
    let provider = account.provider().clone();
    let booked = args
        .booked
        .iter()
        .map(|id| RefundId::new(id.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::invalid(format!("--booked: {e}")))?;
    let options = RecoveryOptions::new()
        .settle(args.settle)
        .booked(booked)
        .exclusive(args.exclusive);
    let verdict = provider.recover_with(&pending, options).await;
    let code = match &verdict {
        Recovery::Applied { .. } | Recovery::NotApplied { .. } => exit::SUCCESS,
        _ => exit::AMBIGUOUS,
    };
    let text = match args.format {
        ReportFormat::Table => output::shown_lines(&verdict_text(&verdict)).into_owned(),
        ReportFormat::Json => format!("{}\n", verdict_json(&verdict, &pending.provider)),
    };
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(io_failure("stdout"))?;
    Ok(code)
}

/// A verdict for a person: what it is, what it rests on, what to do.
fn verdict_text(verdict: &Recovery) -> String {
    match verdict {
        Recovery::Applied { refund, evidence } => {
            format!(
                "applied: the refund exists; book it\nevidence: {evidence}\n{}",
                output::detail(refund)
            )
        }
        Recovery::NotApplied { evidence } => {
            format!(
                "not_applied: the create was not applied and never will be; create it again\nevidence: {evidence}\n"
            )
        }
        Recovery::Candidates { refunds, reason } => {
            let mut text = format!(
                "candidates: {} refunds may be this create's: {reason}; choose with your own records, never create again\n{}\n",
                refunds.len(),
                output::table_header()
            );
            for r in refunds {
                text.push_str(&output::table_row(r));
                text.push('\n');
            }
            text
        }
        Recovery::Unknown {
            doubt,
            detail,
            retry_after,
        } => {
            let when = match retry_after {
                Some(wait) => format!("recover again in {}", duration_text(*wait)),
                None => "recover again later".to_owned(),
            };
            format!("unknown ({doubt}): {detail}\n{when}; never create again on an unknown\n")
        }
        other => format!("{}\n", other.name()),
    }
}

/// A verdict as one JSON object; each refund keeps the provider's object byte for byte under `raw`.
fn verdict_json(verdict: &Recovery, provider: &str) -> String {
    let (refunds, reason, doubt, retry_after) = match verdict {
        Recovery::Applied { refund, .. } => (vec![refund.as_ref()], None, None, None),
        Recovery::Candidates { refunds, reason } => (refunds.iter().collect(), Some(reason.clone()), None, None),
        Recovery::Unknown {
            doubt,
            detail,
            retry_after,
        } => (
            Vec::new(),
            Some(detail.clone()),
            Some(doubt.as_str()),
            retry_after.map(|d| d.as_secs()),
        ),
        _ => (Vec::new(), None, None, None),
    };
    let head = json!({
        "verdict": verdict.name(),
        "provider": provider,
        "evidence": verdict.evidence().map(ToString::to_string),
        "doubt": doubt,
        "reason": reason,
        "retry_after_secs": retry_after,
    })
    .to_string();
    let refunds: Vec<String> = refunds.into_iter().map(output::refund_json).collect();
    format!("{},\"refunds\":[{}]}}", head.trim_end_matches('}'), refunds.join(","))
}
