//! `refunds journal list | show | resume` and `refunds create --intent ID`: creates recorded in a
//! journal before they are sent (SQLite file by default, PostgreSQL with `--journal postgres://...`),
//! resumed after a crash or a Ctrl-C, each account behind its own rate limit.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use refunds::{RecoveryOptions, RefundProvider};
use refunds_journal::{
    Account, Accounts, Intent, IntentId, Journal, JournalError, JournalOptions, Limited, Location, NewIntent,
    ResumeOptions, ResumeReport, State, Unreadable,
};
use refunds_ratelimit::{Limits, RateLimited};
use serde_json::json;

use crate::args::{CreateArgs, parse_duration};
use crate::commands::create_request;
use crate::context::Context;
use crate::exit::{self, Failure};
use crate::output::ReportFormat;

/// How long a claim holds an intent: longer than a create (60 s by default) or a recovery walk takes.
const LEASE: &str = "120s";

/// Where the journal is.
#[derive(Debug, Args, Clone)]
pub struct JournalArg {
    /// The journal: a SQLite file (a path, or sqlite:PATH) or postgres://USER@HOST/DB; default
    /// journal.db in the user's state directory ($XDG_STATE_HOME/refunds, or ~/.local/state/refunds).
    #[arg(long, value_name = "URL")]
    pub journal: Option<String>,
}

impl JournalArg {
    fn location(&self) -> Result<String, Failure> {
        if let Some(location) = &self.journal {
            return Ok(location.clone());
        }
        let base = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
            .ok_or_else(|| Failure::invalid("no state directory (set HOME or XDG_STATE_HOME, or pass --journal)"))?;
        let dir = base.join("refunds");
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&dir)
            .map_err(|e| Failure::other(format!("{}: {e}", dir.display())))?;
        Ok(dir.join("journal.db").to_string_lossy().into_owned())
    }

    /// Opens a journal that must exist already (`list`, `show`: reading never creates a file).
    pub async fn open_existing(&self) -> Result<Journal, Failure> {
        let location = self.location()?;
        if let Location::Sqlite(path) = Location::parse(&location).map_err(journal_failure)? {
            if !path.exists() {
                return Err(Failure::invalid(format!("no journal at {}", path.display())));
            }
        }
        self.open(lease_default()).await
    }

    /// Opens the journal; this process's claims hold an intent for `lease`. No error repeats the
    /// location (a PostgreSQL URL holds a password).
    pub async fn open(&self, lease: Duration) -> Result<Journal, Failure> {
        let location = self.location()?;
        Journal::open_with(&location, JournalOptions::new().lease(lease))
            .await
            .map_err(journal_failure)
    }
}

/// Each account's rate limit, the calls in flight, and how long a run waits and holds its intents.
#[derive(Debug, Args, Clone)]
pub struct LimitArgs {
    /// Requests a second to each provider account, shared by every call (creates, recovery's
    /// re-sends and look-ups); a 429 pauses the account for its Retry-After (at most 60 s).
    #[arg(long, default_value_t = 25, value_name = "PER_SECOND")]
    pub rate_limit: u32,
    /// Intents worked on at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// How long a claim holds an intent. A process that dies leaves the intents it held to others
    /// (and to the next run) once this has passed; longer than a create or a recovery walk takes.
    #[arg(long, default_value = LEASE, value_parser = parse_duration)]
    pub lease: Duration,
    /// How long to wait for intents that are not due yet (retries after a backoff, recoveries inside
    /// the settle window) before stopping; what is left stays in the journal for the next run.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub wait: Duration,
    /// How long after a create's last attempt the provider is given to apply it before "not
    /// applied" may be answered.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub settle: Duration,
}

impl LimitArgs {
    /// How `journal resume` and `bulk` work on the intents.
    pub fn resume_options(&self) -> ResumeOptions {
        ResumeOptions::new()
            .recovery(RecoveryOptions::new().settle(self.settle))
            .concurrency(self.concurrency)
            .wait(self.wait)
    }
}

fn lease_default() -> Duration {
    parse_duration(LEASE).unwrap_or(Duration::from_secs(120))
}

/// `refunds journal ...`.
#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// The journal's intents, in id order.
    List(ListArgs),
    /// One intent: its request as sent, its state and answer, and every recorded event.
    Show(ShowArgs),
    /// Work on every unresolved intent: send the recorded ones, recover the ones a crash or an
    /// ambiguous answer left, and record every answer.
    Resume(ResumeArgs),
}

/// `refunds journal list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The journal.
    #[command(flatten)]
    pub journal: JournalArg,
    /// Only intents in this state: recorded, sending, pending, applied, differs, failed, candidates,
    /// unknown.
    #[arg(long, value_parser = parse_state)]
    pub state: Option<State>,
    /// Only intents of this batch (a bulk file's name).
    #[arg(long)]
    pub batch: Option<String>,
    /// Only intents after this id (paging).
    #[arg(long, value_name = "INTENT_ID")]
    pub after: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// table or json (one object per line).
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

/// `refunds journal show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The journal.
    #[command(flatten)]
    pub journal: JournalArg,
    /// The intent id.
    pub id: String,
    /// table or json.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

/// `refunds journal resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The journal.
    #[command(flatten)]
    pub journal: JournalArg,
    /// Only intents of this batch.
    #[arg(long)]
    pub batch: Option<String>,
    /// Rate limit, concurrency and how long to wait.
    #[command(flatten)]
    pub limits: LimitArgs,
    /// table or json.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

/// A state by name.
pub fn parse_state(text: &str) -> Result<State, String> {
    State::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = State::ALL.iter().map(State::as_str).collect();
        format!("{text:?} is not a state ({})", names.join(", "))
    })
}

/// Text from a provider or a stored answer, safe for a terminal: control characters (bidi controls
/// too) are shown as escapes, never sent to it.
pub fn printable(text: &str) -> String {
    crate::output::shown(text).into_owned()
}

/// The accounts `names` of the context, each behind its own limiter, under its name (and its
/// provider's id where it is that provider's only account). An account that cannot be built is left
/// out with a note (its intents wait); one in live mode needs `--live`.
pub fn accounts(context: &Context, limits: &LimitArgs, names: &[String]) -> Result<Arc<dyn Accounts>, Failure> {
    let mut map: HashMap<String, Arc<dyn Account>> = HashMap::new();
    let mut by_provider: HashMap<&'static str, Vec<String>> = HashMap::new();
    for name in names {
        let account = match context.account(name) {
            Ok(account) => account,
            Err(failure) => {
                eprintln!("refunds: {}: left out: {}", printable(name), failure.message);
                continue;
            }
        };
        context.may_move_money(&account)?;
        by_provider.entry(account.provider_id()).or_default().push(name.clone());
        let provider = account.provider();
        // A burst of a tenth of a second's worth: a call that left late (a timer's overshoot, a busy
        // machine) is made up for instead of lost, far inside a provider's own burst.
        let burst = (limits.rate_limit / 10).max(1);
        let limit = Limits::per_second(limits.rate_limit)
            .burst(burst)
            .concurrency(limits.concurrency);
        let limited: Arc<dyn Account> = Arc::new(Limited::new(Arc::new(RateLimited::new(provider.clone(), limit))));
        map.insert(name.clone(), limited);
    }
    for (id, names) in by_provider {
        if let ([only], false) = (names.as_slice(), map.contains_key(id)) {
            let account = map[only].clone();
            map.insert(id.to_owned(), account);
        }
    }
    Ok(Arc::new(map))
}

/// Resumes with a progress bar on a terminal; the first Ctrl-C stops claiming (the intents in flight
/// finish and record their answers), the second exits at once (the journal resumes them later).
pub async fn resume(
    journal: &Journal,
    accounts: Arc<dyn Accounts>,
    options: ResumeOptions,
) -> Result<ResumeReport, Failure> {
    let stop = Arc::new(AtomicBool::new(false));
    let options = options.stop(stop.clone());
    let batch = options.batch.clone();
    let bar = progress(journal, batch.clone()).await;
    let watcher = {
        let (stop, bar) = (stop.clone(), bar.clone());
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Ordering::SeqCst);
                let note =
                    "refunds: stopping after the creates in flight (Ctrl-C again to leave them to the next resume)";
                if bar.is_hidden() {
                    eprintln!("{note}");
                } else {
                    bar.println(note);
                }
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(i32::from(exit::AMBIGUOUS));
                }
            }
        })
    };
    let ticker = {
        let (journal, bar) = (journal.clone(), bar.clone());
        tokio::spawn(async move {
            loop {
                if let Ok(counts) = journal.counts(batch.as_deref()).await {
                    bar.set_position(settled(&counts));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let report = journal.resume(accounts, options).await;
    ticker.abort();
    watcher.abort();
    bar.finish_and_clear();
    report.map_err(|e| Failure::other(e.to_string()))
}

fn settled(counts: &BTreeMap<String, i64>) -> u64 {
    let n: i64 = counts
        .iter()
        .filter(|(state, _)| State::from_name(state).is_some_and(|s| s.is_settled()))
        .map(|(_, n)| *n)
        .sum();
    u64::try_from(n).unwrap_or(0)
}

async fn progress(journal: &Journal, batch: Option<String>) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let counts = journal.counts(batch.as_deref()).await.unwrap_or_default();
    let total: i64 = counts.values().sum();
    let bar = ProgressBar::with_draw_target(Some(u64::try_from(total).unwrap_or(0)), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} settled  {elapsed} ({eta} left)") {
        bar.set_style(style);
    }
    bar
}

/// The exit code an intent's state stands for.
pub fn exit_for(state: State) -> u8 {
    match state {
        State::Applied => exit::SUCCESS,
        State::Failed => exit::INVALID_OR_REJECTED,
        State::Differs => exit::CREATED,
        _ => exit::AMBIGUOUS,
    }
}

/// The exit code of a run that left `counts`: the worst of its states.
pub fn exit_for_counts(counts: &BTreeMap<String, i64>) -> u8 {
    let worst = |state: State| counts.get(state.as_str()).copied().unwrap_or(0) > 0;
    // A row in a state this build does not know (a hand-edited file) is nobody's success.
    let odd = counts
        .iter()
        .any(|(name, n)| *n > 0 && State::from_name(name).is_none());
    if odd
        || State::ALL.iter().any(|s| !s.is_settled() && worst(*s))
        || worst(State::Unknown)
        || worst(State::Candidates)
    {
        exit::AMBIGUOUS
    } else if worst(State::Differs) {
        exit::CREATED
    } else if worst(State::Failed) {
        exit::INVALID_OR_REJECTED
    } else {
        exit::SUCCESS
    }
}

/// What an intent's answer says, in a line.
pub fn answer_line(intent: &Intent) -> String {
    let Some(answer) = &intent.answer else {
        return String::new();
    };
    let text = ["because", "reason", "error"]
        .iter()
        .find_map(|k| answer[*k].as_str())
        .map(str::to_owned)
        .or_else(|| answer["differs"]["error"].as_str().map(str::to_owned))
        .or_else(|| {
            answer["verdict"]["because"]
                .as_str()
                .map(|b| format!("new attempt: {b}"))
        })
        .unwrap_or_default();
    printable(&text)
}

fn intent_json(intent: &Intent) -> serde_json::Value {
    json!({
        "id": intent.id.as_str(),
        "account": intent.account,
        "provider": intent.provider,
        "batch": intent.batch,
        "state": intent.state.as_str(),
        "attempt": intent.attempt,
        "tries": intent.tries,
        "refund_id": intent.refund_id,
        "sent": intent.sent,
        "marker": intent.marker,
        "answer": intent.answer,
        "created_at": crate::output::time_text(Some(intent.created_at)),
        "updated_at": crate::output::time_text(Some(intent.updated_at)),
    })
}

/// The table's header and one line per intent.
pub fn intent_table(intents: &[Intent]) -> String {
    let mut text = format!(
        "{:<24} {:<10} {:<11} {:>7} {:<28} {}\n",
        "intent", "account", "state", "attempt", "refund", "answer"
    );
    for intent in intents {
        text.push_str(&format!(
            "{:<24} {:<10} {:<11} {:>7} {:<28} {}\n",
            printable(intent.id.as_str()),
            printable(&intent.account),
            intent.state.as_str(),
            intent.attempt,
            intent.refund_id.as_deref().map(printable).unwrap_or_else(|| "-".into()),
            answer_line(intent)
        ));
    }
    text
}

/// One line per row that does not read back: its id and why (escaped), so the rest stay visible.
pub fn unreadable_lines(rows: &[Unreadable]) -> String {
    rows.iter()
        .map(|u| {
            format!(
                "{:<24} {:<10} {:<11} {:>7} {:<28} {}\n",
                printable(&u.id),
                "-",
                "unreadable",
                "-",
                "-",
                printable(&u.reason)
            )
        })
        .collect()
}

fn write_out(text: &str) -> Result<(), Failure> {
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::other(format!("stdout: {e}")))
}

/// A journal error as the command's failure: input refused (exit 2) or anything else.
pub fn journal_failure(e: JournalError) -> Failure {
    match e {
        JournalError::Invalid(message) => Failure::invalid(message),
        e @ JournalError::Conflict { .. } => Failure::invalid(e.to_string()),
        other => Failure::other(other.to_string()),
    }
}

/// `journal list` and `journal show` read the journal only: they run without providers (no
/// credentials needed to look at what was recorded). `None` for the commands that need them.
pub async fn without_providers(command: &JournalCommand) -> Option<Result<u8, Failure>> {
    match command {
        JournalCommand::List(args) => Some(list(args).await),
        JournalCommand::Show(args) => Some(show(args).await),
        JournalCommand::Resume(_) => None,
    }
}

async fn list(args: &ListArgs) -> Result<u8, Failure> {
    let journal = args.journal.open_existing().await?;
    let after = args
        .after
        .clone()
        .map(IntentId::new)
        .transpose()
        .map_err(journal_failure)?;
    let entries = journal
        .entries(args.state, args.batch.as_deref(), after.as_ref(), args.limit)
        .await
        .map_err(journal_failure)?;
    let (mut intents, mut unreadable) = (Vec::new(), Vec::new());
    for entry in entries {
        match entry {
            Ok(intent) => intents.push(intent),
            Err(odd) => unreadable.push(odd),
        }
    }
    let text = match args.format {
        ReportFormat::Table => intent_table(&intents) + &unreadable_lines(&unreadable),
        ReportFormat::Json => intents
            .iter()
            .map(intent_json)
            .chain(
                unreadable
                    .iter()
                    .map(|u| json!({"id": u.id, "state": "unreadable", "reason": u.reason})),
            )
            .map(|v| format!("{v}\n"))
            .collect(),
    };
    write_out(&text)?;
    for odd in &unreadable {
        eprintln!(
            "refunds: intent {} does not read back (left out of every run; a person looks): {}",
            printable(&odd.id),
            printable(&odd.reason)
        );
    }
    Ok(exit::SUCCESS)
}

async fn show(args: &ShowArgs) -> Result<u8, Failure> {
    let journal = args.journal.open_existing().await?;
    let id = IntentId::new(args.id.clone()).map_err(journal_failure)?;
    let intent = journal
        .get(&id)
        .await
        .map_err(journal_failure)?
        .ok_or_else(|| Failure::invalid(format!("no intent {id} in the journal")))?;
    let events = journal.events(&id).await.map_err(journal_failure)?;
    write_out(&show_text(&intent, &events, args.format))?;
    Ok(exit_for(intent.state))
}

/// `refunds journal ...`.
pub async fn run(context: &Context, command: JournalCommand) -> Result<u8, Failure> {
    match command {
        JournalCommand::List(args) => list(&args).await,
        JournalCommand::Show(args) => show(&args).await,
        JournalCommand::Resume(args) => {
            let journal = args.journal.open(args.limits.lease).await?;
            let mut options = args.limits.resume_options();
            if let Some(batch) = &args.batch {
                options = options.batch(batch.clone());
            }
            let report = resume(&journal, accounts(context, &args.limits, &context.names())?, options).await?;
            write_out(&report_text(&report, args.format))?;
            Ok(exit_for_counts(&report.states))
        }
    }
}

fn show_text(intent: &Intent, events: &[refunds_journal::Event], format: ReportFormat) -> String {
    if format == ReportFormat::Json {
        let events: Vec<serde_json::Value> = events
            .iter()
            .map(|e| json!({"seq": e.seq, "attempt": e.attempt, "at": crate::output::time_text(Some(e.at)), "owner": e.owner, "kind": e.kind, "detail": e.detail}))
            .collect();
        let mut value = intent_json(intent);
        value["events"] = serde_json::Value::Array(events);
        return format!("{value}\n");
    }
    let mut text = String::new();
    let mut line = |k: &str, v: String| text.push_str(&format!("{k:<12}{v}\n"));
    line("intent", printable(intent.id.as_str()));
    line("account", printable(&intent.account));
    line("state", intent.state.to_string());
    line("attempt", intent.attempt.to_string());
    line(
        "refund",
        intent.refund_id.as_deref().map(printable).unwrap_or_else(|| "-".into()),
    );
    line("payment", printable(intent.sent.payment().id()));
    line(
        "amount",
        intent
            .sent
            .amount_requested()
            .map_or("everything left".into(), |m| m.to_string()),
    );
    line(
        "key",
        intent
            .sent
            .idempotency_key_given()
            .map_or("-".into(), |k| k.as_str().to_owned()),
    );
    line("marker", intent.marker.clone().unwrap_or_else(|| "-".into()));
    line("answer", answer_line(intent));
    for e in events {
        let detail = printable(&e.detail.to_string());
        line(
            "event",
            format!(
                "{} #{} {} {}: {detail}",
                crate::output::time_text(Some(e.at)),
                e.attempt,
                e.owner,
                e.kind
            ),
        );
    }
    text
}

/// The counts after a run, as JSON.
pub fn report_json(report: &ResumeReport) -> serde_json::Value {
    json!({"sent": report.sent, "recovered": report.recovered, "skipped": report.skipped, "late": report.late, "states": report.states})
}

/// The counts after a run, as a table or JSON.
pub fn report_text(report: &ResumeReport, format: ReportFormat) -> String {
    if format == ReportFormat::Json {
        return format!("{}\n", report_json(report));
    }
    let mut text = format!("{:<12} {:>8}\n", "state", "intents");
    for state in State::ALL {
        text.push_str(&format!("{:<12} {:>8}\n", state.as_str(), report.count(state)));
    }
    let odd: i64 = report
        .states
        .iter()
        .filter(|(name, _)| State::from_name(name).is_none())
        .map(|(_, n)| n)
        .sum();
    if odd > 0 {
        text.push_str(&format!("{:<12} {:>8}\n", "unreadable", odd));
    }
    text.push_str(&format!(
        "sent {} creates, ran {} recoveries this run\n",
        report.sent, report.recovered
    ));
    text
}

/// `refunds create --intent ID`: the create recorded in the journal, then sent; the same intent id
/// again prints what the journal holds and sends nothing.
pub async fn create(context: &Context, args: CreateArgs, intent: String) -> Result<u8, Failure> {
    let named = context.account(&args.provider)?;
    context.may_move_money(&named)?;
    let provider = named.provider().clone();
    let request = create_request(&args, provider.as_ref()).map_err(|f| f.with_provider(&args.provider))?;
    let journal = JournalArg {
        journal: args.journal.clone(),
    }
    .open(lease_default())
    .await?;
    let id = IntentId::new(intent).map_err(journal_failure)?;
    let account: Arc<dyn RefundProvider> = provider.clone();
    // Under the account's name, which resume sends it through.
    let new = NewIntent::new(id.clone(), named.name(), request);
    // The same id recorded with another account or request is refused by the journal, nothing sent.
    let done = journal.submit(&account, new).await.map_err(journal_failure)?;
    let events = journal.events(&id).await.map_err(journal_failure)?;
    write_out(&show_text(&done, &events, ReportFormat::Table))?;
    let code = exit_for(done.state);
    if code == exit::AMBIGUOUS {
        eprintln!(
            "refunds: intent {id} is {}: `refunds journal resume` resolves it",
            done.state
        );
    }
    Ok(code)
}
