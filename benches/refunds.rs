//! `cargo bench`: measures the SDK against a hand-written client, plain serde, a sequential page loop,
//! and itself at ten times the data, all on 127.0.0.1 in one run, and writes `BENCHMARKS.md`.
//!
//! Run `cargo bench` (everything, about two minutes plus six clean release builds), `cargo bench --
//! --quick` (fewer iterations, no build measurement) or `cargo bench -- build` (the build row alone,
//! written into BENCHMARKS.md in place of the old one).

#![allow(clippy::float_arithmetic)] // timings and ratios, not money

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use refunds::sandbox::{Ledger, Sandbox, SandboxRequest, SandboxResponse, Skin};
use refunds::{CreateRefund, Currency, ListRefunds, Money, PaymentRef, RefundId, RefundProvider, RefundProviderExt};
use serde::{Deserialize, Serialize};
use serde_json::json;

const KEY: &str = "sk_test_bench_0123456789";

/// A 4Geeks-shaped server that makes its answers up: refunds `0..total`, `latency` per request.
struct Synthetic {
    total: usize,
}

fn refund_json(i: usize) -> serde_json::Value {
    json!({"id": format!("ref_{i:07}"), "object": "refund", "payment_id": format!("pay_{i:07}"),
           "amount": 1000 + (i % 5000), "status": if i.is_multiple_of(3) { "pending" } else { "succeeded" }})
}

impl Skin for Synthetic {
    fn provider(&self) -> &'static str {
        "synthetic-fourgeeks"
    }
    fn handle(&self, request: &SandboxRequest, _ledger: &Ledger) -> SandboxResponse {
        if request.is("POST", &["v1", "refunds"]) || request.is("GET", &["v1", "refunds", "*"]) {
            return SandboxResponse::json(200, &refund_json(7));
        }
        let offset: usize = request.query_param("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
        let limit: usize = request.query_param("limit").and_then(|v| v.parse().ok()).unwrap_or(10);
        let items: Vec<_> = (offset..(offset + limit).min(self.total)).map(refund_json).collect();
        SandboxResponse::json(
            200,
            &json!({"items": items, "total_items": self.total, "limit": limit, "offset": offset}),
        )
    }
    fn error_response(&self, status: u16, message: &str) -> SandboxResponse {
        SandboxResponse::json(status, &json!({"detail": message}))
    }
}

async fn synthetic(total: usize) -> Sandbox {
    Sandbox::start(Synthetic { total }, Ledger::default())
        .await
        .expect("bind 127.0.0.1")
}

fn sdk_client(base_url: &str) -> refunds_fourgeeks::FourGeeksClient {
    refunds_fourgeeks::FourGeeksClient::builder()
        .api_key(KEY)
        .base_url(base_url)
        .currency(Currency::USD)
        .build()
        .expect("client")
}

// ---- the hand-written baseline: reqwest + serde, nothing else ----

#[derive(Deserialize)]
#[allow(dead_code)]
struct HandRefund {
    id: String,
    object: String,
    payment_id: String,
    amount: i64,
    status: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct HandPage {
    items: Vec<HandRefund>,
    total_items: u64,
    limit: u64,
    offset: u64,
}

#[derive(Serialize)]
struct HandCreate<'a> {
    payment_id: &'a str,
    amount: i64,
}

/// The whole-call timeout the SDK's builder defaults to, for the hand-written client's requests.
const HAND_TIMEOUT: Duration = Duration::from_secs(60);

struct Hand {
    http: reqwest::Client,
    base: String,
}

impl Hand {
    /// The same HTTP behaviour as the SDK's transport (the headers it sends, no redirects, no proxy
    /// to loopback, TCP_NODELAY, a connect timeout, an idle-pool timeout and a per-request timeout), so
    /// the ratio measures what the SDK's own code adds, not reqwest settings any careful client has.
    fn new(base: &str) -> Hand {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-api-key", reqwest::header::HeaderValue::from_static(KEY));
        headers.insert("accept", reqwest::header::HeaderValue::from_static("application/json"));
        headers.insert(
            "user-agent",
            reqwest::header::HeaderValue::from_static("hand-written/0.1"),
        );
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .no_proxy()
            .build()
            .expect("client");
        Hand {
            http,
            base: base.to_owned(),
        }
    }
    async fn create(&self) -> HandRefund {
        let body = serde_json::to_vec(&HandCreate {
            payment_id: "pay_1",
            amount: 2500,
        })
        .expect("json");
        let r = self
            .http
            .post(format!("{}/v1/refunds", self.base))
            .timeout(HAND_TIMEOUT)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("send");
        serde_json::from_slice(&r.bytes().await.expect("body")).expect("decode")
    }
    async fn get(&self) -> HandRefund {
        let r = self
            .http
            .get(format!("{}/v1/refunds/ref_1", self.base))
            .timeout(HAND_TIMEOUT)
            .send()
            .await
            .expect("send");
        serde_json::from_slice(&r.bytes().await.expect("body")).expect("decode")
    }
    async fn list(&self, offset: usize, limit: usize) -> HandPage {
        let r = self
            .http
            .get(format!("{}/v1/refunds?limit={limit}&offset={offset}", self.base))
            .timeout(HAND_TIMEOUT)
            .send()
            .await
            .expect("send");
        serde_json::from_slice(&r.bytes().await.expect("body")).expect("decode")
    }
}

/// Median of per-round means, in microseconds.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

struct Row {
    name: String,
    sdk: String,
    anchor: String,
    ratio: String,
    target: String,
    met: bool,
}

/// The median of `runs` independent measurements, and the runs themselves for the report.
fn median_of_runs(ratios: &[f64]) -> (f64, String) {
    let listed: Vec<String> = ratios.iter().map(|r| format!("{r:.3}")).collect();
    (median(ratios.to_vec()), listed.join(", "))
}

async fn call_overhead(runs: usize, rounds: usize, per_round: usize, rows: &mut Vec<Row>) {
    let server = synthetic(100_000).await;
    let sdk: Arc<dyn RefundProvider> = Arc::new(sdk_client(&server.base_url()));
    let hand = Hand::new(&server.base_url());
    let create =
        CreateRefund::new(PaymentRef::payment("pay_1").expect("id")).amount(Money::from_minor(2500, Currency::USD));
    let id = RefundId::new("ref_1").expect("id");
    let list = ListRefunds::new().limit(100);
    for op in ["create", "get", "list (100 per page)"] {
        // Warm both connection pools and caches.
        for _ in 0..100 {
            match op {
                "create" => drop((sdk.create_refund(&create).await.expect("sdk"), hand.create().await)),
                "get" => drop((sdk.get_refund(&id).await.expect("sdk"), hand.get().await)),
                _ => drop((sdk.list_refunds(&list).await.expect("sdk"), hand.list(0, 100).await)),
            }
        }
        let (mut ratios, mut sdk_times, mut hand_times) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            let (mut round_ratios, mut s, mut h) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..rounds {
                // The two clients take turns call by call (which goes first alternates too), so a
                // slower or faster spell of this shared machine falls on both alike.
                let (mut sdk_total, mut hand_total) = (Duration::ZERO, Duration::ZERO);
                for i in 0..per_round {
                    for side in [i % 2, 1 - i % 2] {
                        let t = Instant::now();
                        match (side, op) {
                            (0, "create") => drop(sdk.create_refund(&create).await.expect("sdk")),
                            (0, "get") => drop(sdk.get_refund(&id).await.expect("sdk")),
                            (0, _) => drop(sdk.list_refunds(&list).await.expect("sdk")),
                            (_, "create") => drop(hand.create().await),
                            (_, "get") => drop(hand.get().await),
                            _ => drop(hand.list(0, 100).await),
                        }
                        if side == 0 {
                            sdk_total += t.elapsed()
                        } else {
                            hand_total += t.elapsed()
                        }
                    }
                }
                round_ratios.push(sdk_total.as_secs_f64() / hand_total.as_secs_f64());
                s.push(sdk_total.as_secs_f64() * 1e6 / per_round as f64);
                h.push(hand_total.as_secs_f64() * 1e6 / per_round as f64);
            }
            ratios.push(median(round_ratios));
            sdk_times.push(median(s));
            hand_times.push(median(h));
        }
        let (ratio, listed) = median_of_runs(&ratios);
        let (s, h) = (median(sdk_times), median(hand_times));
        rows.push(Row {
            name: format!("call overhead: {op}"),
            sdk: format!("{s:.1} µs/call"),
            anchor: format!("{h:.1} µs/call (reqwest + serde by hand)"),
            ratio: format!("{ratio:.3} (median of {runs} runs: {listed})"),
            target: "≤ 1.03".into(),
            met: ratio <= 1.03,
        });
    }
}

async fn export(total: usize, rows: &mut Vec<Row>) {
    let server = synthetic(total).await;
    server.set_latency(Duration::from_millis(20));
    let client = sdk_client(&server.base_url());

    let t = Instant::now();
    let mut seen = 0usize;
    let mut in_order = true;
    let mut stream = client.refunds_stream(ListRefunds::new().limit(100));
    while let Some(item) = stream.next().await {
        let refund = item.expect("item");
        in_order &= refund.id.as_str() == format!("ref_{seen:07}");
        seen += 1;
    }
    let concurrent = t.elapsed();
    assert!(in_order && seen == total, "each exactly once, in order");

    let t = Instant::now();
    let mut request = ListRefunds::new().limit(100);
    let mut sequential_seen = 0usize;
    loop {
        let page = client.list_refunds(&request).await.expect("page");
        sequential_seen += page.items.len();
        match page.next {
            Some(next) => request = request.cursor(next),
            None => break,
        }
    }
    let sequential = t.elapsed();
    assert_eq!(sequential_seen, total);
    let speedup = sequential.as_secs_f64() / concurrent.as_secs_f64();
    rows.push(Row {
        name: format!("export {total} refunds, 20 ms/page, 100/page"),
        sdk: format!(
            "{:.2} s (stream, 8 pages in flight, in order, each once)",
            concurrent.as_secs_f64()
        ),
        anchor: format!("{:.2} s (page-after-page loop)", sequential.as_secs_f64()),
        ratio: format!("{speedup:.1}× faster"),
        target: "≥ 6× faster".into(),
        met: speedup >= 6.0,
    });
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// Child mode: stream `n` refunds from `base_url` and print the peak RSS.
async fn rss_child(base_url: &str, n: usize) {
    let client = sdk_client(base_url);
    let mut stream = client.refunds_stream(ListRefunds::new().limit(100));
    let mut count = 0;
    while let Some(item) = stream.next().await {
        item.expect("item");
        count += 1;
    }
    assert_eq!(count, n);
    println!("{}", peak_rss_kib());
}

async fn memory(rows: &mut Vec<Row>) {
    // Peak RSS moves by 5% and more from one child to the next with the same code (when each page
    // lands and which allocator arena serves it differ run to run), so each figure is the median of
    // five children.
    const CHILDREN: usize = 5;
    let exe = std::env::current_exe().expect("exe");
    let mut peaks = Vec::new();
    let mut spreads = Vec::new();
    for n in [10_000usize, 100_000] {
        let server = synthetic(n).await;
        let mut runs = Vec::new();
        for _ in 0..CHILDREN {
            let out = tokio::process::Command::new(&exe)
                .args(["--rss-child", &server.base_url(), &n.to_string()])
                .output()
                .await
                .expect("child");
            let kib: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0);
            runs.push(kib);
        }
        runs.sort_unstable();
        peaks.push(runs[CHILDREN / 2]);
        spreads.push(format!("{} to {}", runs[0], runs[CHILDREN - 1]));
    }
    let ratio = peaks[1] as f64 / peaks[0].max(1) as f64;
    rows.push(Row {
        name: "peak RSS streaming 10,000 vs 100,000 refunds".into(),
        sdk: format!(
            "{} KiB vs {} KiB (median of {CHILDREN} runs each: {} KiB and {} KiB)",
            peaks[0], peaks[1], spreads[0], spreads[1]
        ),
        anchor: "the same client at a tenth of the data".into(),
        ratio: format!("{ratio:.2}×"),
        target: "flat (≤ 1.5×)".into(),
        met: ratio <= 1.5,
    });
}

/// Parses and normalizes 1,000 refund objects through each provider's public `refund_from_json`
/// against plain serde into a struct with the same fields: `runs` runs of `iterations` each.
fn decode(rows: &mut Vec<Row>, runs: usize, iterations: usize) {
    for case in decode_cases() {
        let bodies: Vec<Vec<u8>> = (0..1000).map(|i| (case.body)(i).into_bytes()).collect();
        assert!(
            bodies.iter().all(|b| (case.sdk)(b) && (case.plain)(b)),
            "{}: every body decodes both ways",
            case.provider
        );
        let (mut ratios, mut sdk_times, mut plain_times) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            let mut sdk = Vec::new();
            let mut plain = Vec::new();
            for _ in 0..iterations {
                let t = Instant::now();
                for b in &bodies {
                    std::hint::black_box((case.sdk)(b));
                }
                sdk.push(t.elapsed().as_secs_f64() * 1e6);
                let t = Instant::now();
                for b in &bodies {
                    std::hint::black_box((case.plain)(b));
                }
                plain.push(t.elapsed().as_secs_f64() * 1e6);
            }
            let (s, p) = (median(sdk), median(plain));
            ratios.push(s / p);
            sdk_times.push(s);
            plain_times.push(p);
        }
        let (ratio, listed) = median_of_runs(&ratios);
        let (s, p) = (median(sdk_times), median(plain_times));
        rows.push(Row {
            name: format!("decode 1,000 refunds: {}", case.provider),
            sdk: format!("{s:.0} µs (parse + normalize + raw kept)"),
            anchor: format!("{p:.0} µs (plain serde into the wire struct)"),
            ratio: format!("{ratio:.2}× (median of {runs} runs: {listed})"),
            target: "≤ 1.15×".into(),
            met: ratio <= 1.15,
        });
    }
}

/// Parses one body, true when it decoded.
type Parse = Box<dyn Fn(&[u8]) -> bool>;

struct DecodeCase {
    provider: &'static str,
    body: fn(usize) -> String,
    sdk: Parse,
    plain: fn(&[u8]) -> bool,
}

include!("decode_cases.rs");

mod app_build;

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown cpu".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!("{cpu}, {cores} cores")
}

fn today() -> String {
    let now = refunds::OffsetDateTime::now_utc();
    format!("{:04}-{:02}-{:02}", now.year(), u8::from(now.month()), now.day())
}

fn table_row(r: &Row) -> String {
    format!(
        "| {} | {} | {} | {} | {} | {} |",
        r.name,
        r.sdk,
        r.anchor,
        r.ratio,
        r.target,
        if r.met { "yes" } else { "**no**" }
    )
}

fn report_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .join("BENCHMARKS.md")
}

/// The notes and the journal's rows (`cargo bench -p refunds-journal-crash --bench journal`), which
/// are kept as they are in `old`, the file as it was.
fn notes_and_journal(md: &mut String, old: &str) {
    let _ = writeln!(md, "\n{}", include_str!("notes.md").trim_end());
    let (start, end) = ("<!-- journal-bench:start -->", "<!-- journal-bench:end -->");
    if let (Some(a), Some(b)) = (old.find(start), old.find(end))
        && b > a
    {
        let _ = writeln!(md, "\n{}", &old[a..b + end.len()]);
    }
}

fn write_report(rows: &[Row], quick: bool) {
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Written by `cargo bench` ({}) on {}, {}. Everything runs on 127.0.0.1 in one process (the \
         memory figures in child processes), both sides of each ratio in the same run, so the ratios hold on a \
         noisy machine better than the absolute times. The server is the SDK's sandbox HTTP server with a \
         4Geeks-shaped skin that makes its answers up (no ledger work), so the client side dominates.\n",
        if quick { "quick mode" } else { "full" },
        today(),
        machine()
    );
    let _ = writeln!(md, "| measure | refunds SDK | anchor | ratio | target | met |");
    let _ = writeln!(md, "| --- | --- | --- | --- | --- | --- |");
    for r in rows {
        let _ = writeln!(md, "{}", table_row(r));
    }
    let path = report_path();
    notes_and_journal(&mut md, &std::fs::read_to_string(&path).unwrap_or_default());
    std::fs::write(&path, md).expect("write BENCHMARKS.md");
    println!("wrote {}", path.display());
}

/// The line under the table when the build row was measured alone.
const BUILD_ALONE: &str = "The build row was measured on its own";

/// `cargo bench -- build`: the build row of BENCHMARKS.md replaced (the other rows kept as they
/// are), a line under the table saying when, and the notes.
fn write_build_row(row: &Row) {
    let path = report_path();
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let head = &old[..old.find("\n## ").unwrap_or(old.len())];
    let mut lines: Vec<&str> = head.lines().filter(|l| !l.starts_with(BUILD_ALONE)).collect();
    let line = table_row(row);
    match (
        lines.iter().position(|l| l.starts_with("| build:")),
        lines.iter().rposition(|l| l.starts_with("| ")),
    ) {
        (Some(i), _) => lines[i] = &line,
        (None, Some(last)) => lines.insert(last + 1, &line),
        (None, None) => return write_report(std::slice::from_ref(row), false),
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let mut md = lines.join("\n");
    let _ = writeln!(
        md,
        "\n\n{BUILD_ALONE} (`cargo bench -- build`) on {}, {}.",
        today(),
        machine()
    );
    notes_and_journal(&mut md, &old);
    std::fs::write(&path, md).expect("write BENCHMARKS.md");
    println!("wrote the build row into {}", path.display());
}

fn print_rows(rows: &[Row]) {
    for r in rows {
        println!(
            "{:<55} {:<45} {:<45} {:<14} {}",
            r.name,
            r.sdk,
            r.anchor,
            r.ratio,
            if r.met { "met" } else { "MISSED" }
        );
    }
}

/// Clean release builds of each app in the build row (in turns); `--quick` measures it only when
/// asked for by name, once each.
const BUILD_TURNS: usize = 3;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if let Some(i) = args.iter().position(|a| a == "--rss-child") {
        let n = args[i + 2].parse().expect("n");
        runtime.block_on(rss_child(&args[i + 1], n));
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let mut rows = Vec::new();
    if args.iter().skip(1).any(|a| a == "build") {
        // `cargo bench -- build`: the build row alone.
        println!("build (clean release builds of two small apps, in turns) ...");
        app_build::build(&mut rows, &runtime, if quick { 1 } else { BUILD_TURNS });
        print_rows(&rows);
        write_build_row(&rows[0]);
        return;
    }
    runtime.block_on(async {
        println!("call overhead ...");
        call_overhead(3, if quick { 3 } else { 9 }, if quick { 200 } else { 1000 }, &mut rows).await;
        println!("export ...");
        export(if quick { 10_000 } else { 100_000 }, &mut rows).await;
        println!("memory ...");
        memory(&mut rows).await;
    });
    println!("decode ...");
    decode(&mut rows, 3, if quick { 5 } else { 21 });
    if !quick {
        println!("build (clean release builds of two small apps, in turns) ...");
        app_build::build(&mut rows, &runtime, BUILD_TURNS);
    }
    print_rows(&rows);
    write_report(&rows, quick);
}
