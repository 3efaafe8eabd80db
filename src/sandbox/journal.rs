//! A sandbox's state in a file: every change to its world, one JSON line each, appended as it
//! happens, and replayed when a sandbox starts on the same file (`refunds sandbox serve --state`).
//!
//! What is journaled is what made the state, not the state: payments seeded through the control API,
//! each API request that the skin answered 2xx and that is not a `GET` (a create, as sent: its body
//! and idempotency key, so a replayed create gets the same id and a later re-send under the same key
//! is still a replay), every status change, and clock moves. Replaying them in order through the
//! same skin rebuilds the same ledger, ids and idempotency records included. The file holds no key
//! but the sandbox's own public test keys (only answered requests are kept, and only a sandbox key
//! is answered).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Ledger, PaymentState, Sandbox, SandboxRequest, SandboxResponse, Skin};
use crate::ledger::ChangeKind;
use crate::{Currency, Money, RefundStatus};

/// One change, as a line of the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum JournalEntry {
    /// A payment seeded through the control API.
    Seed {
        /// The provider whose sandbox it is.
        provider: String,
        /// The sandbox clock then.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// The payment id.
        payment: String,
        /// The captured amount in minor units.
        amount_minor: i64,
        /// Its currency (ISO 4217).
        currency: String,
        /// `succeeded`, `pending` or `failed`.
        state: String,
    },
    /// An API request the skin answered 2xx (not a `GET`).
    Request {
        /// The provider whose sandbox it is.
        provider: String,
        /// The sandbox clock then.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// `POST`.
        method: String,
        /// Path and query as sent.
        target: String,
        /// The headers as sent.
        headers: Vec<(String, String)>,
        /// The body as sent.
        body: String,
    },
    /// A refund's status changed (settled, or forced).
    Status {
        /// The provider whose sandbox it is.
        provider: String,
        /// The sandbox clock then.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// The refund id.
        refund: String,
        /// The new status, by its SDK name.
        status: String,
    },
    /// The clock was moved forward through the control API.
    Clock {
        /// The provider whose sandbox it is.
        provider: String,
        /// The sandbox clock after the move.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl JournalEntry {
    /// The provider whose sandbox made the change.
    pub fn provider(&self) -> &str {
        match self {
            JournalEntry::Seed { provider, .. }
            | JournalEntry::Request { provider, .. }
            | JournalEntry::Status { provider, .. }
            | JournalEntry::Clock { provider, .. } => provider,
        }
    }

    /// The sandbox clock when it happened.
    pub fn at(&self) -> OffsetDateTime {
        match self {
            JournalEntry::Seed { at, .. }
            | JournalEntry::Request { at, .. }
            | JournalEntry::Status { at, .. }
            | JournalEntry::Clock { at, .. } => *at,
        }
    }
}

struct Inner {
    path: PathBuf,
    file: File,
    /// The first write that failed, kept for [`Journal::error`].
    error: Option<String>,
}

/// An open journal file, shared by every sandbox that records into it. Cheap to clone.
#[derive(Clone)]
pub struct Journal {
    inner: Arc<Mutex<Inner>>,
    /// Held while a request is applied and journaled: lines follow the order the ledger applied them.
    order: Arc<Mutex<()>>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("Journal")
            .field("path", &inner.path)
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// Opens (or creates) the journal at `path`: the entries already there, in order, and the journal
    /// that appends new ones. A line that is not an entry is an error naming its line number.
    pub fn open(path: &Path) -> Result<(Journal, Vec<JournalEntry>), String> {
        let shown = path.display();
        let mut entries = Vec::new();
        match File::open(path) {
            Ok(file) => {
                for (n, line) in BufReader::new(file).lines().enumerate() {
                    let line = line.map_err(|e| format!("{shown}: cannot read the sandbox state: {e}"))?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    let entry = serde_json::from_str(&line)
                        .map_err(|e| format!("{shown}:{}: not a sandbox state entry: {e}", n + 1))?;
                    entries.push(entry);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{shown}: cannot read the sandbox state: {e}")),
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("{shown}: cannot write the sandbox state: {e}"))?;
        let inner = Inner {
            path: path.to_owned(),
            file,
            error: None,
        };
        Ok((
            Journal {
                inner: Arc::new(Mutex::new(inner)),
                order: Arc::default(),
            },
            entries,
        ))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends `entry` (one line, flushed). A failure is kept for [`Journal::error`], not raised: the
    /// sandbox keeps answering.
    pub fn record(&self, entry: &JournalEntry) {
        let mut inner = self.lock();
        let written = serde_json::to_string(entry)
            .map_err(|e| e.to_string())
            .and_then(|line| writeln!(inner.file, "{line}").map_err(|e| e.to_string()))
            .and_then(|()| inner.file.flush().map_err(|e| e.to_string()));
        if let Err(e) = written {
            let path = inner.path.display().to_string();
            inner
                .error
                .get_or_insert(format!("{path}: cannot write the sandbox state: {e}"));
        }
    }

    /// The first write that failed, if any.
    pub fn error(&self) -> Option<String> {
        self.lock().error.clone()
    }
}

impl Journal {
    /// Runs `apply` (the skin answering a request, which then journals it) alone among the sandboxes
    /// recording here: two creates at once are written in the order the ledger numbered them, so a
    /// replay gives each its own id again.
    pub(crate) fn in_order<T>(&self, apply: impl FnOnce() -> T) -> T {
        let _turn = self.order.lock().unwrap_or_else(|p| p.into_inner());
        apply()
    }

    /// Journals an API request the skin applied: one that is not a `GET` and was answered 2xx.
    pub(crate) fn request(
        &self,
        provider: &str,
        at: OffsetDateTime,
        request: &SandboxRequest,
        answer: &SandboxResponse,
    ) {
        if request.method == http::Method::GET || !(200..300).contains(&answer.status) {
            return;
        }
        let path: Vec<String> = request.segments.iter().map(|s| encode(s)).collect();
        let mut target = format!("/{}", path.join("/"));
        if !request.query.is_empty() {
            let query: Vec<String> = request
                .query
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            target = format!("{target}?{}", query.join("&"));
        }
        let headers = request
            .headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        self.record(&JournalEntry::Request {
            provider: provider.to_owned(),
            at,
            method: request.method.as_str().to_owned(),
            target,
            headers,
            body: String::from_utf8_lossy(&request.body).into_owned(),
        });
    }
}

/// A path segment or query part, percent-encoded so that [`SandboxRequest::new`] decodes it back.
fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Applies one entry to `ledger` through `skin` (the clock already moved to its time).
pub(crate) fn replay_one(skin: &dyn Skin, ledger: &Ledger, entry: &JournalEntry) -> Result<(), String> {
    match entry {
        JournalEntry::Seed {
            payment,
            amount_minor,
            currency,
            state,
            ..
        } => {
            let currency = Currency::from_code(currency).map_err(|e| e.message().to_owned())?;
            let state = match state.as_str() {
                "pending" => PaymentState::Pending,
                "failed" => PaymentState::Failed,
                _ => PaymentState::Succeeded,
            };
            ledger.seed_payment_in_state(payment, Money::from_minor(*amount_minor, currency), state);
        }
        JournalEntry::Request {
            method,
            target,
            headers,
            body,
            ..
        } => {
            let method = http::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
            let mut map = http::HeaderMap::new();
            for (name, value) in headers {
                if let (Ok(name), Ok(value)) = (
                    http::HeaderName::from_bytes(name.as_bytes()),
                    http::HeaderValue::from_str(value),
                ) {
                    map.append(name, value);
                }
            }
            let request = SandboxRequest::new(method, target, map, body.clone().into_bytes());
            let answer = skin.handle(&request, ledger);
            if !(200..300).contains(&answer.status) {
                return Err(format!("{} {target} is now answered {}", request.method, answer.status));
            }
        }
        JournalEntry::Status { refund, status, .. } => {
            let want = RefundStatus::from_name(status);
            let now = ledger.refund(refund).ok_or_else(|| format!("no refund {refund}"))?;
            if now.status != want {
                if !now.status.is_terminal() {
                    ledger.settle(refund);
                }
                if ledger.refund(refund).is_some_and(|r| r.status != want) {
                    ledger.set_status(refund, want);
                }
            }
        }
        JournalEntry::Clock { .. } => {}
    }
    Ok(())
}

impl Sandbox {
    /// From now on, journals every change of this sandbox's world into `journal`: payments seeded
    /// through the control API, API requests answered 2xx that are not `GET`s, status changes and
    /// clock moves (see [`Journal`]). Replay the file's earlier entries first ([`Sandbox::replay`]). A sandbox records into one journal:
    /// a second call is refused (false).
    pub fn record_to(&self, journal: Journal) -> bool {
        if self.shared.journal.set(journal.clone()).is_err() {
            return false;
        }
        let provider = self.shared.skin.provider();
        let observer_journal = journal.clone();
        self.shared.ledger.on_change(Arc::new(move |record, change| {
            if change == ChangeKind::StatusChanged {
                observer_journal.record(&JournalEntry::Status {
                    provider: provider.to_owned(),
                    at: record.updated_at,
                    refund: record.id.clone(),
                    status: record.status.as_str().to_owned(),
                });
            }
        }));
        true
    }

    /// Replays this provider's entries of a journal, in order, through the skin: the clock moves to
    /// each entry's time, payments are seeded, requests are answered again (the same ids and
    /// idempotency records come out) and statuses are set. An entry that no longer applies (a request
    /// now refused, a status of an unknown refund) is an error: the file is out of step with this
    /// sandbox. Returns how many entries were replayed.
    pub fn replay(&self, entries: &[JournalEntry]) -> Result<usize, String> {
        let mut replayed = 0;
        for entry in entries.iter().filter(|e| e.provider() == self.shared.skin.provider()) {
            let now = self.shared.ledger.now();
            if let Ok(by) = std::time::Duration::try_from(entry.at() - now) {
                self.shared.ledger.advance(by);
            }
            replay_one(self.shared.skin.as_ref(), &self.shared.ledger, entry).map_err(|why| {
                format!(
                    "{}: the sandbox state is out of step: {why}",
                    self.shared.skin.provider()
                )
            })?;
            replayed += 1;
        }
        Ok(replayed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_through_the_file_and_bad_lines_are_named() {
        let dir = std::env::temp_dir().join(format!("refunds-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.jsonl");
        let _ = std::fs::remove_file(&path);
        let at = time::macros::datetime!(2024-01-01 00:00:00 UTC);
        let entry = JournalEntry::Status {
            provider: "bias".into(),
            at,
            refund: "re_000001".into(),
            status: "succeeded".into(),
        };
        let (journal, before) = Journal::open(&path).unwrap();
        assert!(before.is_empty());
        journal.record(&entry);
        journal.record(&JournalEntry::Clock {
            provider: "xpay".into(),
            at,
        });
        let (_, after) = Journal::open(&path).unwrap();
        assert_eq!(after.len(), 2);
        assert_eq!((after[0].clone(), after[1].provider()), (entry, "xpay"));
        std::fs::write(&path, "{\"op\":\"clock\"}\n").unwrap();
        let e = Journal::open(&path).unwrap_err();
        assert!(e.contains("state.jsonl:1: not a sandbox state entry"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
