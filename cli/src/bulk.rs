//! `refunds bulk FILE.csv`: every row checked first (nothing is recorded or sent for a file with a bad
//! row), then every row recorded in the journal, then sent and resolved under each account's rate
//! limit, with a progress bar on a terminal and a summary at the end. Interrupted (Ctrl-C, a crash),
//! the same command resumes; run again after it settled, it changes nothing.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use refunds::RefundProvider;
use refunds_journal::{Intent, IntentId, Journal, NewIntent, ResumeReport, State};

use crate::args::CreateArgs;
use crate::commands::create_request;
use crate::context::Context;
use crate::exit::Failure;
use crate::journal::{
    JournalArg, LimitArgs, accounts, exit_for_counts, intent_table, journal_failure, printable, report_json,
    report_text,
};
use crate::output::{Format, ReportFormat};

/// The columns of a bulk file, in this order.
pub const COLUMNS: [&str; 7] = [
    "intent_id",
    "account",
    "payment",
    "amount",
    "currency",
    "reason",
    "reference",
];

/// `refunds bulk`.
#[derive(Debug, Args)]
pub struct BulkArgs {
    /// The CSV file (RFC 4180, a header line): intent_id,account,payment,amount,currency,reason,
    /// reference. intent_id is your business key (unique: a row already in the journal is never sent
    /// again); account is a provider id; amount in major units (empty: everything left); reason and
    /// reference may be empty.
    pub file: PathBuf,
    /// The journal.
    #[command(flatten)]
    pub journal: JournalArg,
    /// Rate limit, concurrency and how long to wait.
    #[command(flatten)]
    pub limits: LimitArgs,
    /// The batch the rows are recorded under (default: the file's name).
    #[arg(long)]
    pub batch: Option<String>,
    /// table or json.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

/// One row, checked.
struct Row {
    line: u64,
    intent: NewIntent,
}

fn row_args(record: &csv::StringRecord) -> CreateArgs {
    let field = |i: usize| {
        record
            .get(i)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    CreateArgs {
        provider: field(1).unwrap_or_default(),
        payment: field(2).unwrap_or_default(),
        payment_kind: None,
        amount: field(3),
        currency: field(4),
        reason: field(5),
        merchant_reference: field(6),
        description: None,
        metadata: Vec::new(),
        idempotency_key: None,
        pending_file: None,
        wait: false,
        dry_run: false,
        wait_timeout: Duration::ZERO,
        format: Format::Table,
        intent: None,
        journal: None,
    }
}

/// Reads and checks every row; the first bad one fails the whole file, naming its line.
fn read_rows(context: &Context, path: &PathBuf, batch: &str) -> Result<Vec<Row>, Failure> {
    let file = std::fs::File::open(path).map_err(|e| Failure::invalid(format!("{}: {e}", path.display())))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(file);
    let at = |line: u64, message: String| Failure::invalid(format!("{} line {line}: {message}", path.display()));
    let header = reader.headers().map_err(|e| at(1, e.to_string()))?.clone();
    if header.iter().collect::<Vec<_>>() != COLUMNS {
        return Err(at(1, format!("the header must be {}", COLUMNS.join(","))));
    }
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for record in reader.records() {
        let record = record.map_err(|e| at(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != COLUMNS.len() {
            return Err(at(line, format!("{} fields, expected {}", record.len(), COLUMNS.len())));
        }
        let id = IntentId::new(record.get(0).unwrap_or("").trim()).map_err(|e| at(line, e.to_string()))?;
        if !seen.insert(id.clone()) {
            return Err(at(line, format!("intent_id {id} appears twice in the file")));
        }
        let args = row_args(&record);
        if args.amount.is_some() != args.currency.is_some() {
            return Err(at(line, "amount and currency go together".into()));
        }
        let account = context.account(&args.provider).map_err(|f| at(line, f.message))?;
        context.may_move_money(&account).map_err(|f| at(line, f.message))?;
        let provider = account.provider().clone();
        let request = create_request(&args, provider.as_ref()).map_err(|f| at(line, f.message))?;
        // Every check the create makes, nothing sent: a row the provider would refuse fails the file
        // before any row is recorded.
        if let Err(e) = provider.preview_create(&request) {
            if e.kind() != &refunds::ErrorKind::Unsupported {
                return Err(at(line, printable(&e.to_string())));
            }
        }
        // Recorded under the account's name, which resume sends it through (not the provider's id:
        // another account of the same provider would be taken).
        let intent = NewIntent::new(id, account.name(), request).batch(batch);
        rows.push(Row { line, intent });
    }
    if rows.is_empty() {
        return Err(Failure::invalid(format!("{}: no rows", path.display())));
    }
    Ok(rows)
}

/// `refunds bulk FILE.csv`.
pub async fn run(context: &Context, args: BulkArgs) -> Result<u8, Failure> {
    let batch = match &args.batch {
        Some(batch) => batch.clone(),
        None => args
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| Failure::invalid(format!("{}: not a file", args.file.display())))?,
    };
    let rows = read_rows(context, &args.file, &batch)?;
    let mut names: Vec<String> = rows.iter().map(|r| r.intent.account.clone()).collect();
    names.sort();
    names.dedup();
    let journal = args.journal.open(args.limits.lease).await?;
    let (mut recorded, mut conflicts, mut ids, mut batches) = (0, Vec::new(), Vec::new(), BTreeSet::new());
    for row in rows {
        let provider: std::sync::Arc<dyn RefundProvider> = context.provider(&row.intent.account)?;
        let (request, account) = (row.intent.request.clone(), row.intent.account.clone());
        let (intent, fresh) = journal.record(&provider, row.intent).await.map_err(journal_failure)?;
        if fresh {
            recorded += 1;
        } else if intent.account != account || !intent.same_request(&request) {
            conflicts.push(format!(
                "line {}: intent {} was recorded earlier with another {} (left as it is: {})",
                row.line,
                printable(intent.id.as_str()),
                if intent.account == account {
                    "request"
                } else {
                    "account"
                },
                intent.state
            ));
        }
        // The rows of this file are worked on and counted whatever batch first recorded them (a
        // renamed copy of the file, another --batch).
        batches.extend(intent.batch.clone());
        ids.push(intent.id);
    }
    eprintln!(
        "refunds: {recorded} new rows recorded in the journal (batch {})",
        printable(&batch)
    );
    let mut report = ResumeReport::default();
    for batch in &batches {
        let options = args.limits.resume_options().batch(batch.clone());
        let part = crate::journal::resume(&journal, accounts(context, &args.limits, &names)?, options).await?;
        report.sent += part.sent;
        report.recovered += part.recovered;
        report.skipped += part.skipped;
        report.late += part.late;
    }
    let (counts, attention) = file_states(&journal, &ids).await?;
    report.states = counts;
    let text = match args.format {
        ReportFormat::Json => {
            let mut value = report_json(&report);
            value["conflicts"] = serde_json::json!(conflicts);
            format!("{value}\n")
        }
        ReportFormat::Table => {
            let mut text = report_text(&report, args.format);
            if !attention.is_empty() {
                text.push_str("\nrows to look at (at most 50 per state):\n");
                text.push_str(&intent_table(&attention));
            }
            for conflict in &conflicts {
                text.push_str(&format!("{conflict}\n"));
            }
            text
        }
    };
    print!("{text}");
    Ok(exit_for_counts(&report.states))
}

/// The states of this file's intents (an intent that does not read back counts as `unreadable`),
/// and the ones a person should look at, at most 50 per state.
async fn file_states(journal: &Journal, ids: &[IntentId]) -> Result<(BTreeMap<String, i64>, Vec<Intent>), Failure> {
    let (mut counts, mut attention) = (BTreeMap::new(), Vec::new());
    let mut shown: BTreeMap<State, usize> = BTreeMap::new();
    for id in ids {
        let state = match journal.get(id).await {
            Ok(Some(intent)) => {
                let state = intent.state;
                let listed = shown.entry(state).or_default();
                if !matches!(state, State::Applied | State::Recorded | State::Sending) && *listed < 50 {
                    *listed += 1;
                    attention.push(intent);
                }
                state.as_str()
            }
            Ok(None) | Err(_) => "unreadable",
        };
        *counts.entry(state.to_owned()).or_insert(0) += 1;
    }
    Ok((counts, attention))
}
