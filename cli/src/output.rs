//! Refunds written as a table, JSON, JSON lines or CSV: money exactly in major units with the
//! currency code, the provider's raw JSON kept byte for byte in JSON and JSON lines.

use std::borrow::Cow;
use std::io::{self, Write};

use clap::ValueEnum;
use refunds::{Money, OffsetDateTime, Refund};
use serde_json::{Map, Value, json};
use time::format_description::well_known::Rfc3339;

/// How refunds are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns (one refund: a field per line) for people.
    Table,
    /// JSON: one refund object, or an array of them for a page or an export; the provider's raw
    /// JSON under `raw`.
    Json,
    /// One refund object per line (JSON lines), each with `raw`.
    Jsonl,
    /// RFC 4180 CSV with a header line.
    Csv,
}

/// How a report that is not a list of refunds is written (providers, a verdict, a verified event,
/// the sandbox server, the journal): there is no CSV or JSON lines of those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// For people.
    Table,
    /// JSON (one object, or one per line for lists).
    Json,
}

/// The CSV columns, in order.
pub const CSV_HEADER: &[&str] = &[
    "provider",
    "id",
    "payment_kind",
    "payment_id",
    "amount",
    "currency",
    "status",
    "created_at",
    "updated_at",
    "completed_at",
    "reason",
    "merchant_reference",
    "description",
    "failure_reason",
    "fee",
];

/// Whether a character may take over a terminal: C0 and C1 controls, DEL, and the bidirectional
/// overrides that reorder what a person reads.
fn controls_a_terminal(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Text from a server as a person should see it: data, never terminal control. Every control
/// character but the ones in `keep` is written as `\u{..}`, so nothing is lost and nothing acts.
fn escaped<'a>(text: &'a str, keep: &[char]) -> Cow<'a, str> {
    if !text.chars().any(|c| controls_a_terminal(c) && !keep.contains(&c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if controls_a_terminal(c) && !keep.contains(&c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One value on one line: every control character escaped, line breaks too.
pub fn shown(text: &str) -> Cow<'_, str> {
    escaped(text, &[])
}

/// Text of several lines (the program's own line breaks kept), every other control escaped.
pub fn shown_lines(text: &str) -> Cow<'_, str> {
    escaped(text, &['\n'])
}

/// RFC 3339, or empty.
pub fn time_text(at: Option<OffsetDateTime>) -> String {
    at.and_then(|t| t.format(&Rfc3339).ok()).unwrap_or_default()
}

/// A CSV field, quoted when it holds a comma, a quote, a line break or surrounding spaces (RFC 4180).
pub fn csv_field(text: &str) -> Cow<'_, str> {
    // Line breaks and tabs are CSV data (quoted); every other control is escaped, since CSV is often
    // read on a terminal.
    let text = escaped(text, &['\n', '\r', '\t']);
    let needs = text.contains([',', '"', '\n', '\r']) || text.starts_with(' ') || text.ends_with(' ');
    if needs {
        Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    } else {
        text
    }
}

fn csv_line(fields: &[String]) -> String {
    let mut line = fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// A refund's CSV fields, in [`CSV_HEADER`] order.
pub fn csv_fields(r: &Refund) -> Vec<String> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        r.provider.to_string(),
        r.id.as_str().to_owned(),
        r.payment.kind().as_str().to_owned(),
        r.payment.id().to_owned(),
        r.amount.to_major_string(),
        r.amount.currency().code().to_owned(),
        r.status.as_str().to_owned(),
        time_text(r.created_at),
        time_text(r.updated_at),
        time_text(r.completed_at),
        r.reason.as_ref().map(|x| x.as_str().to_owned()).unwrap_or_default(),
        text(&r.merchant_reference),
        text(&r.description),
        text(&r.failure_reason),
        r.fee.map(|f| f.to_string()).unwrap_or_default(),
    ]
}

fn money_json(m: &Money) -> Value {
    json!({"amount": m.to_major_string(), "currency": m.currency().code()})
}

/// A refund as one JSON object: the normalized fields, then `raw`, the provider's object byte for
/// byte as received.
pub fn refund_json(r: &Refund) -> String {
    let opt = |v: &Option<String>| v.as_ref().map_or(Value::Null, |s| Value::String(s.clone()));
    let time = |t: Option<OffsetDateTime>| t.map_or(Value::Null, |_| Value::String(time_text(t)));
    let mut o = Map::new();
    o.insert("provider".into(), r.provider.as_ref().into());
    o.insert("id".into(), r.id.as_str().into());
    o.insert(
        "payment".into(),
        json!({"kind": r.payment.kind().as_str(), "id": r.payment.id()}),
    );
    o.insert("amount".into(), r.amount.to_major_string().into());
    o.insert("currency".into(), r.amount.currency().code().into());
    o.insert("status".into(), r.status.as_str().into());
    o.insert(
        "reason".into(),
        r.reason.as_ref().map_or(Value::Null, |x| x.as_str().into()),
    );
    o.insert("merchant_reference".into(), opt(&r.merchant_reference));
    o.insert("description".into(), opt(&r.description));
    o.insert("failure_reason".into(), opt(&r.failure_reason));
    o.insert("fee".into(), r.fee.as_ref().map_or(Value::Null, money_json));
    o.insert("created_at".into(), time(r.created_at));
    o.insert("updated_at".into(), time(r.updated_at));
    o.insert("completed_at".into(), time(r.completed_at));
    o.insert("livemode".into(), r.livemode.map_or(Value::Null, Value::Bool));
    o.insert("metadata".into(), json!(r.metadata));
    o.insert("reconciliation".into(), json!(r.reconciliation));
    let mut text = Value::Object(o).to_string();
    text.pop(); // the closing brace: `raw` is appended as received, never re-serialized
    text.push_str(",\"raw\":");
    text.push_str(r.raw.get());
    text.push('}');
    text
}

/// The table's header line.
pub fn table_header() -> String {
    format!(
        "{:<10} {:<28} {:<15} {:<26} {:>18} {:<10} created",
        "provider", "id", "payment kind", "payment", "amount", "status"
    )
}

/// One table line.
pub fn table_row(r: &Refund) -> String {
    let created = r.created_at.map_or_else(|| "-".to_owned(), |_| time_text(r.created_at));
    format!(
        "{:<10} {:<28} {:<15} {:<26} {:>18} {:<10} {}",
        r.provider,
        shown(r.id.as_str()),
        r.payment.kind().as_str(),
        shown(r.payment.id()),
        r.amount.to_string(),
        shown(r.status.as_str()),
        created
    )
}

/// One refund for people: a field per line.
pub fn detail(r: &Refund) -> String {
    let mut lines = vec![
        ("provider", r.provider.to_string()),
        ("id", r.id.as_str().to_owned()),
        ("payment", format!("{} {}", r.payment.kind().as_str(), r.payment.id())),
        ("amount", r.amount.to_string()),
        ("status", r.status.as_str().to_owned()),
    ];
    let mut add = |name: &'static str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            lines.push((name, v));
        }
    };
    add("reason", r.reason.as_ref().map(|x| x.as_str().to_owned()));
    add("reference", r.merchant_reference.clone());
    add("description", r.description.clone());
    add("failure", r.failure_reason.clone());
    add("fee", r.fee.map(|f| f.to_string()));
    add("created", Some(time_text(r.created_at)));
    add("updated", Some(time_text(r.updated_at)));
    add("completed", Some(time_text(r.completed_at)));
    add("livemode", r.livemode.map(|l| l.to_string()));
    for (k, v) in &r.metadata {
        add("metadata", Some(format!("{k}={v}")));
    }
    for (k, v) in r.reconciliation.iter() {
        add("fact", Some(format!("{k}={v}")));
    }
    lines
        .into_iter()
        .map(|(k, v)| format!("{k:<12}{}\n", shown(&v)))
        .collect()
}

/// Writes refunds one at a time in a [`Format`]: nothing is held back but the JSON array's brackets.
/// The header (table, CSV) or opening bracket is written with the first refund, or at the end of an
/// empty success: an output that fails before its first refund shows nothing, not a header.
pub struct RefundWriter<W: Write> {
    out: W,
    format: Format,
    count: u64,
    started: bool,
}

impl<W: Write> RefundWriter<W> {
    /// A writer; nothing is written yet.
    pub fn start(out: W, format: Format) -> io::Result<RefundWriter<W>> {
        Ok(RefundWriter {
            out,
            format,
            count: 0,
            started: false,
        })
    }

    fn head(&mut self) -> io::Result<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        match self.format {
            Format::Table => writeln!(self.out, "{}", table_header()),
            Format::Csv => self
                .out
                .write_all(csv_line(&CSV_HEADER.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>()).as_bytes()),
            Format::Json => self.out.write_all(b"["),
            Format::Jsonl => Ok(()),
        }
    }

    /// Writes one refund, and flushes it when it is a table row or a line: a person or a pipe sees
    /// each page as it arrives.
    pub fn write(&mut self, r: &Refund) -> io::Result<()> {
        self.head()?;
        match self.format {
            Format::Table => writeln!(self.out, "{}", table_row(r))?,
            Format::Csv => self.out.write_all(csv_line(&csv_fields(r)).as_bytes())?,
            Format::Jsonl => writeln!(self.out, "{}", refund_json(r))?,
            Format::Json => {
                let sep = if self.count == 0 { "\n" } else { ",\n" };
                write!(self.out, "{sep}{}", refund_json(r))?;
            }
        }
        self.count += 1;
        Ok(())
    }

    /// Flushes what was written so far (at the end of a page).
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// How many refunds were written.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Writes the header of an empty output, closes the JSON array, flushes, and gives the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.head()?;
        if self.format == Format::Json {
            let end = if self.count == 0 { "]\n" } else { "\n]\n" };
            self.out.write_all(end.as_bytes())?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting_is_rfc_4180() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field(" padded"), "\" padded\"");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn server_text_never_controls_the_terminal() {
        assert_eq!(shown("re_1"), "re_1");
        assert_eq!(
            shown("\u{1b}[2J\u{1b}]0;owned\u{7}ok"),
            "\\u{1b}[2J\\u{1b}]0;owned\\u{7}ok"
        );
        assert_eq!(shown("a\nb\rc\u{9b}d\u{7f}"), "a\\u{a}b\\u{d}c\\u{9b}d\\u{7f}");
        assert_eq!(shown("paid\u{202e}dnufer"), "paid\\u{202e}dnufer");
        assert_eq!(shown_lines("one\ntwo\u{1b}"), "one\ntwo\\u{1b}");
        assert_eq!(csv_field("a\u{1b}b"), "a\\u{1b}b");
        let failure = crate::exit::Failure::other("refused: \u{1b}[31mred\nnext");
        assert_eq!(failure.to_string(), "refused: \\u{1b}[31mred next");
    }
}
