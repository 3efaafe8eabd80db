//! The command line's arguments (clap derive), parsed into typed values before anything is sent.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use refunds::{OffsetDateTime, PaymentRefKind, RefundStatus};
use time::format_description::well_known::Rfc3339;

use crate::output::{Format, ReportFormat};
use crate::sandbox::FaultSpec;

/// One command line for refunds across payment providers.
///
/// Providers come from the environment (REFUNDS_PROVIDERS, a comma-separated list of provider ids,
/// and each provider's <PREFIX>_API_KEY), from a TOML file (--config), or from the embedded sandboxes
/// (--sandbox: every provider offline, seeded with demo payments and refunds).
///
/// Exit codes: 0 success; 2 invalid input or rejected (nothing applied); 3 ambiguous (a pending create
/// was saved, or recover could not tell); 4 provider unavailable or timed out; 5 created, not confirmed
/// (the refund exists and is printed: not yet final, or not as asked); 1 anything else.
#[derive(Debug, Parser)]
#[command(name = "refunds", version, propagate_version = true)]
pub struct Cli {
    /// Where the providers come from.
    #[command(flatten)]
    pub source: Source,
    /// Log every HTTP attempt (method, path, status, retry, time) to stderr. API keys, request
    /// bodies and server messages are never logged.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// Let a command that can move money (create, recover, bulk, journal resume, create --intent)
    /// go ahead through an account in live mode. Without it such a command stops before sending,
    /// naming the account and how its mode is known (the config's `mode`, the key, the host).
    #[arg(long, global = true)]
    pub live: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Where the providers come from (global: accepted before or after the subcommand).
#[derive(Debug, Args)]
#[command(next_help_heading = "Where the providers come from (any command)")]
pub struct Source {
    /// All five providers on their embedded sandboxes (127.0.0.1), seeded with demo payments and
    /// refunds: no credentials, no network.
    #[arg(long, global = true, conflicts_with = "config")]
    pub sandbox: bool,
    /// A TOML file listing the providers ([providers.<id>] tables naming the variables that hold the
    /// keys); default: the environment (REFUNDS_PROVIDERS).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// With --sandbox: inject a fault into the next request(s) of every sandbox. KIND is
    /// response-lost (applied, answer lost), unavailable (503), rate-limited (429), reset, or another
    /// of `refunds sandbox serve --help`; :N repeats it N times. Repeatable.
    #[arg(long, global = true, value_name = "KIND[:N]")]
    pub sandbox_fault: Vec<FaultSpec>,
    /// With --sandbox: keep the sandbox's state in FILE. The creates a command applies are saved there
    /// and replayed when the next command starts, so `create` then `recover` in two runs see the same
    /// refunds.
    #[arg(long, global = true, value_name = "FILE")]
    pub sandbox_state: Option<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The configured providers and what each supports.
    Providers {
        /// How to print.
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
    },
    /// Refund a payment, fully or in part.
    Create(CreateArgs),
    /// One refund by id.
    Get {
        /// The provider holding it.
        #[arg(long, short)]
        provider: String,
        /// The refund id.
        id: String,
        /// How to print the refund(s).
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// One page of a provider's refunds, filtered.
    List(ListArgs),
    /// Poll a refund until it is final (succeeded, failed or canceled).
    Wait {
        /// The provider holding it.
        #[arg(long, short)]
        provider: String,
        /// The refund id.
        id: String,
        /// How long to wait in all (90s, 5m, 1h; a bare number is seconds). Exit 4 if it is not final
        /// by then.
        #[arg(long, default_value = "5m", value_parser = parse_duration)]
        timeout: Duration,
        /// How to print the refund(s).
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Every refund of every configured provider (or those named), streamed.
    Export(ExportArgs),
    /// Resolve an ambiguous create from the pending create `create` saved: applied, not applied,
    /// candidates, or unknown.
    Recover(RecoverArgs),
    /// Webhooks.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// The embedded sandboxes as a server.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Refund many payments from a CSV file: every row recorded in a journal before it is sent, each
    /// account rate limited, resumable after Ctrl-C or a crash; a re-run changes nothing settled.
    Bulk(crate::bulk::BulkArgs),
    /// The refund journal: list, show and resume the creates it recorded.
    #[command(subcommand)]
    Journal(crate::journal::JournalCommand),
    /// Print a completion script for SHELL: `refunds completions bash > /etc/bash_completion.d/refunds`,
    /// `refunds completions zsh > "${fpath[1]}/_refunds"`, `refunds completions fish >
    /// ~/.config/fish/completions/refunds.fish`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `refunds sandbox ...`.
#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Run every provider's sandbox (or those named) on 127.0.0.1 until Ctrl-C or SIGTERM: prints
    /// each base URL and test key, then serves the providers' APIs and each sandbox's control API
    /// under /_sandbox/ (seed payments, settle, queue faults, read the ledger) for tests in any
    /// language.
    Serve(ServeArgs),
}

/// `refunds sandbox serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Only this provider (repeatable); default: all five.
    #[arg(long, short, value_name = "ID")]
    pub provider: Vec<String>,
    /// A fixed port for one provider, ID=PORT (repeatable).
    #[arg(long, value_name = "ID=PORT", value_parser = parse_port)]
    pub port: Vec<(String, u16)>,
    /// The first port: the providers without --port take it and the next ones, in the order of
    /// `refunds providers`; default: ports the system picks.
    #[arg(long, value_name = "PORT")]
    pub base_port: Option<u16>,
    /// Keep the sandboxes' world in FILE (JSON lines): every change is appended as it happens and
    /// replayed when the next serve starts on the same file.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Seed the payments of a JSON file: {"payments": [{"provider", "id", "amount", "currency",
    /// "state"?}]}.
    #[arg(long, value_name = "FILE")]
    pub fixtures: Option<PathBuf>,
    /// Inject a fault into the next request(s) of every sandbox: KIND[=ARG][:N] (response-lost,
    /// unavailable, rate-limited[=SECS], reset, delay=MS, slow-commit=MS, applied-then=STATUS,
    /// list-total-overstated=N, list-short-page, list-repeat-item, list-repeat-cursor). Repeatable.
    #[arg(long, value_name = "KIND[:N]")]
    pub fault: Vec<FaultSpec>,
    /// Send signed webhooks (from the providers that sign them) for every refund change to URL, a loopback
    /// URL (repeatable); the signing secrets are printed.
    #[arg(long, value_name = "URL")]
    pub webhook_url: Vec<String>,
    /// Refunds settle by themselves this long after their creation (1s, 5m); default: only when
    /// settled through the control API.
    #[arg(long, value_parser = parse_duration)]
    pub settle_after: Option<Duration>,
    /// How to print what is served (json: one line with the base URLs, keys, environment variables
    /// and demo payments).
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

/// `refunds recover`.
#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// The pending create (JSON) that `create` wrote.
    pub file: PathBuf,
    /// The account the create went through, where its provider has several (the pending create
    /// names the provider only); default: the provider's one account.
    #[arg(long, short = 'p', value_name = "NAME")]
    pub account: Option<String>,
    /// A refund of the same payment you have already booked for another create (repeatable): never
    /// taken for this one.
    #[arg(long, value_name = "REFUND_ID")]
    pub booked: Vec<String>,
    /// Declares that nobody else refunds this payment: every other refund of it is given with
    /// --booked, and no other create of it is unresolved. Only then can a provider that echoes no
    /// marker answer `applied` by looking the refund up.
    #[arg(long)]
    pub exclusive: bool,
    /// How long after the create's last attempt the provider is given to apply it before "not
    /// applied" may be answered.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub settle: Duration,
    /// How to print.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

/// `refunds create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The provider to refund through.
    #[arg(long, short)]
    pub provider: String,
    /// The payment (or charge, or payment intent) to refund.
    #[arg(long)]
    pub payment: String,
    /// The kind of --payment; default: the first kind the provider accepts.
    #[arg(long, value_enum)]
    pub payment_kind: Option<KindArg>,
    /// The amount in major units (12.50); default: everything left. Exact: more decimals than the
    /// currency has is an error, never a rounding.
    #[arg(long, requires = "currency")]
    pub amount: Option<String>,
    /// The ISO 4217 currency of --amount.
    #[arg(long, requires = "amount")]
    pub currency: Option<String>,
    /// requested_by_customer, duplicate, fraudulent, ... (where the provider carries a reason).
    #[arg(long)]
    pub reason: Option<String>,
    /// Your own reference for the refund.
    #[arg(long)]
    pub merchant_reference: Option<String>,
    /// Free text.
    #[arg(long)]
    pub description: Option<String>,
    /// KEY=VALUE metadata (repeatable).
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub metadata: Vec<(String, String)>,
    /// The idempotency key (where the provider de-duplicates creates; one is generated otherwise).
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// Where to save the pending create if the outcome is ambiguous (exit 3); default
    /// refunds-pending-<provider>-<unix ms>.json in the current directory. Never overwritten.
    #[arg(long, value_name = "FILE")]
    pub pending_file: Option<PathBuf>,
    /// Then poll the refund until it is final. The created refund's id is printed on stderr at once;
    /// if it is not seen final within --wait-timeout (or a poll fails), the last refund seen is
    /// printed and the exit code is 5: created, not yet final.
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub wait_timeout: Duration,
    /// How to print the refund(s).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Print the exact request that would be sent (method, URL, headers with the key redacted, body)
    /// after every check a create makes, and send nothing. Exit 0, or 2 if the request is refused.
    #[arg(long, conflicts_with_all = ["intent", "wait", "pending_file"])]
    pub dry_run: bool,
    /// Journal this create under your business key ID (an order id): recorded before it is sent,
    /// never sent twice for one ID, resolved by `refunds journal resume` after a crash.
    #[arg(long, value_name = "ID", conflicts_with_all = ["pending_file", "wait"])]
    pub intent: Option<String>,
    /// With --intent: the journal (a SQLite path, or postgres://USER@HOST/DB); default journal.db in
    /// the user's state directory.
    #[arg(long, value_name = "URL", requires = "intent")]
    pub journal: Option<String>,
}

/// Filters shared by `list` and `export`.
#[derive(Debug, Args)]
pub struct Filters {
    /// Only refunds with this status: pending, processing, requires_action, succeeded, failed,
    /// canceled.
    #[arg(long, value_parser = parse_status)]
    pub status: Option<RefundStatus>,
    /// Only refunds of this payment (its kind: the provider's first, or --payment-kind).
    #[arg(long)]
    pub payment: Option<String>,
    /// The kind of --payment.
    #[arg(long, value_enum, requires = "payment")]
    pub payment_kind: Option<KindArg>,
    /// Only refunds created at or after this time (RFC 3339, or a date: 2024-01-31 is midnight UTC).
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    pub created_after: Option<OffsetDateTime>,
    /// Only refunds created before this time (RFC 3339 or a date).
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    pub created_before: Option<OffsetDateTime>,
}

/// `refunds list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The provider to list.
    #[arg(long, short)]
    pub provider: String,
    /// The filters.
    #[command(flatten)]
    pub filters: Filters,
    /// Page size (the provider's default when absent).
    #[arg(long)]
    pub limit: Option<u32>,
    /// Where the page starts: the cursor the previous page printed on stderr.
    #[arg(long)]
    pub cursor: Option<String>,
    /// How to print the refund(s).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `refunds export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Only these providers (repeatable); default: every configured provider.
    #[arg(long, short)]
    pub provider: Vec<String>,
    /// The filters.
    #[command(flatten)]
    pub filters: Filters,
    /// How to print the refund(s).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE (complete or not at all: written aside, renamed at the end) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `refunds webhook ...`.
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Verify a saved webhook delivery (its raw body in FILE, its signature header given with
    /// --header) and print the typed event. Exit 2 if it does not verify.
    Verify(VerifyArgs),
    /// Sign one event in a provider's scheme and POST it to a local URL, as the provider would
    /// deliver it (what `stripe trigger` does for Stripe). Exit 0 on a 2xx answer, 2 on a 4xx, 4 on
    /// anything else or no answer.
    Trigger(TriggerArgs),
}

/// `refunds webhook trigger`.
#[derive(Debug, Args)]
pub struct TriggerArgs {
    /// The provider id (one that signs its webhooks).
    #[arg(long, short)]
    pub provider: String,
    /// The environment variable holding the endpoint's webhook secret (never printed).
    #[arg(long, value_name = "VAR")]
    pub secret_env: String,
    /// Where to POST it: an http(s) URL on this machine (localhost, 127.0.0.0/8, [::1]).
    #[arg(long)]
    pub url: String,
    /// The provider's event type (default: its refund-succeeded event, else its refund-updated one).
    pub event: Option<String>,
    /// Send this body (the raw bytes of FILE, `-` for stdin) instead of a generated event.
    #[arg(long, value_name = "FILE")]
    pub body: Option<PathBuf>,
    /// Sign in the provider's legacy form, where it has one (SyncgramPay: the X-Bachs-Timestamp and
    /// X-Bachs-Signature pair instead of X-Bachs-Signature-V2).
    #[arg(long)]
    pub legacy: bool,
    /// The generated refund's currency (default USD).
    #[arg(long)]
    pub currency: Option<String>,
    /// Sign (and date the generated event) at this time (RFC 3339) instead of now.
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    pub at: Option<OffsetDateTime>,
    /// How to print.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

/// `refunds webhook verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The provider id (one that signs its webhooks).
    #[arg(long, short)]
    pub provider: String,
    /// The environment variable holding the endpoint's webhook secret (never printed).
    #[arg(long, value_name = "VAR")]
    pub secret_env: String,
    /// A header of the delivery, "Name: value" (repeatable): the signature header at least.
    #[arg(long, value_name = "NAME: VALUE", required = true)]
    pub header: Vec<String>,
    /// The body exactly as received (`-` for stdin).
    pub file: PathBuf,
    /// The account's currency, for a provider whose refund objects carry none (SyncgramPay); default
    /// the provider's <PREFIX>_CURRENCY variable.
    #[arg(long)]
    pub currency: Option<String>,
    /// The largest distance allowed between the signature's timestamp and the clock (default 5m).
    #[arg(long, value_parser = parse_duration)]
    pub tolerance: Option<Duration>,
    /// Check the signature's timestamp against this time (RFC 3339) instead of now: for a delivery
    /// saved earlier, its receipt time.
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    pub at: Option<OffsetDateTime>,
    /// How to print.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

/// A payment reference kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// A payment (`pay_...`).
    Payment,
    /// A charge (`ch_...`).
    Charge,
    /// A payment intent (`pi_...`).
    PaymentIntent,
}

impl From<KindArg> for PaymentRefKind {
    fn from(kind: KindArg) -> PaymentRefKind {
        match kind {
            KindArg::Payment => PaymentRefKind::Payment,
            KindArg::Charge => PaymentRefKind::Charge,
            KindArg::PaymentIntent => PaymentRefKind::PaymentIntent,
        }
    }
}

/// `90s`, `5m`, `1h`, `250ms`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (90s, 5m, 1h, 250ms)"))?;
    let per = match unit {
        "" | "s" => Duration::from_secs(1),
        "ms" => Duration::from_millis(1),
        "m" => Duration::from_secs(60),
        "h" => Duration::from_secs(3_600),
        _ => return Err(format!("{text:?} is not a duration (90s, 5m, 1h, 250ms)")),
    };
    per.checked_mul(u32::try_from(n).map_err(|_| format!("{text:?} is too long"))?)
        .ok_or_else(|| format!("{text:?} is too long"))
}

/// A duration as [`parse_duration`] reads it: `250ms`, `90s`, `5m`, `2h`, in the largest unit that
/// is exact (so 250 ms is never "0 s").
pub fn duration_text(d: Duration) -> String {
    let ms = d.as_millis();
    match ms {
        0 => "0s".to_owned(),
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        ms if ms % 1_000 == 0 => format!("{}s", ms / 1_000),
        ms => format!("{ms}ms"),
    }
}

/// RFC 3339 (`2024-01-31T12:00:00Z`) or a date (`2024-01-31`, midnight UTC).
pub fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(at);
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &date_format)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| format!("{text:?} is not an RFC 3339 time (2024-01-31T12:00:00Z) or a date (2024-01-31)"))
}

/// A status by its SDK name.
pub fn parse_status(text: &str) -> Result<RefundStatus, String> {
    match RefundStatus::from_name(text) {
        RefundStatus::Unknown(_) => Err(format!(
            "{text:?} is not a status (pending, processing, requires_action, succeeded, failed, canceled)"
        )),
        status => Ok(status),
    }
}

/// `ID=PORT`.
pub fn parse_port(text: &str) -> Result<(String, u16), String> {
    let (id, port) = parse_pair(text).map_err(|_| format!("{text:?} is not ID=PORT"))?;
    let port = port.parse::<u16>().map_err(|_| format!("{port:?} is not a port"))?;
    Ok((id, port))
}

/// `KEY=VALUE`.
pub fn parse_pair(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{text:?} is not KEY=VALUE"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_and_times() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("1.5s").is_err());
        assert!(parse_duration("soon").is_err());
        for text in ["250ms", "90s", "5m", "2h", "0s", "1500ms"] {
            assert_eq!(parse_duration(text).map(duration_text).as_deref(), Ok(text));
        }
        assert_eq!(parse_time("2024-01-31").map(|t| t.unix_timestamp()), Ok(1_706_659_200));
        assert!(parse_time("2024-01-31T00:00:00Z").is_ok());
        assert!(parse_time("yesterday").is_err());
    }
}
