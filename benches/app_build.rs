//! The build row: a one-provider application written with the SDK (`refunds`, `refunds-fourgeeks`
//! and tokio) against the same application written by hand with reqwest, serde and tokio. Both are
//! built with `cargo build --release` into their own empty target directory, in turns, from one lock
//! of versions (the workspace's `Cargo.lock`), and both binaries are run against the 4Geeks sandbox
//! to check that they make the same three calls.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use refunds::Money;

use super::{Row, median};

/// The SDK app: the normal use, a client from the environment, a create, a read-back and a list.
const SDK_MAIN: &str = r#"use refunds::{CreateRefund, Currency, ListRefunds, Money, PaymentRef, RefundProvider};
use refunds_fourgeeks::FourGeeksClient;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = FourGeeksClient::from_env()?;
    let payment = PaymentRef::payment(std::env::var("FOURGEEKS_PAYMENT_ID")?)?;
    let currency = client.currency().unwrap_or(Currency::USD);
    let request = CreateRefund::new(payment).amount(Money::from_minor(2500, currency));
    let refund = client.create_refund(&request).await?;
    println!("created {} {} {} {}", refund.id, refund.payment, refund.amount, refund.status);
    let refund = client.get_refund(&refund.id).await?;
    println!("read back {} {} {} {}", refund.id, refund.payment, refund.amount, refund.status);
    let page = client.list_refunds(&ListRefunds::new().limit(10)).await?;
    for refund in &page.items {
        println!("listed {} {} {} {}", refund.id, refund.payment, refund.amount, refund.status);
    }
    Ok(())
}
"#;

/// The anchor: the same application by hand, plain serde structs of 4Geeks' wire format.
const HAND_MAIN: &str = r#"use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct CreateRefund<'a> {
    payment_id: &'a str,
    amount: i64,
}

#[derive(Deserialize)]
struct Refund {
    id: String,
    payment_id: String,
    amount: i64,
    status: String,
}

#[derive(Deserialize)]
struct RefundList {
    items: Vec<Refund>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = std::env::var("FOURGEEKS_API_KEY")?;
    let base = std::env::var("FOURGEEKS_BASE_URL").unwrap_or_else(|_| "https://api.4geeks.io".into());
    let payment = std::env::var("FOURGEEKS_PAYMENT_ID")?;
    let mut headers = reqwest::header::HeaderMap::new();
    let mut key = reqwest::header::HeaderValue::from_str(&key)?;
    key.set_sensitive(true);
    headers.insert("x-api-key", key);
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .timeout(Duration::from_secs(60))
        .build()?;
    let body = CreateRefund { payment_id: &payment, amount: 2500 };
    let refund: Refund =
        http.post(format!("{base}/v1/refunds")).json(&body).send().await?.error_for_status()?.json().await?;
    println!("created {} {} {} {}", refund.id, refund.payment_id, refund.amount, refund.status);
    let refund: Refund =
        http.get(format!("{base}/v1/refunds/{}/", refund.id)).send().await?.error_for_status()?.json().await?;
    println!("read back {} {} {} {}", refund.id, refund.payment_id, refund.amount, refund.status);
    let page: RefundList =
        http.get(format!("{base}/v1/refunds?limit=10")).send().await?.error_for_status()?.json().await?;
    for refund in &page.items {
        println!("listed {} {} {} {}", refund.id, refund.payment_id, refund.amount, refund.status);
    }
    Ok(())
}
"#;

struct App {
    name: &'static str,
    dir: PathBuf,
}

/// One clean build: wall seconds, CPU seconds (user + system of cargo and everything it ran), bytes.
struct Build {
    wall: f64,
    cpu: f64,
    size: u64,
}

impl App {
    fn new(parent: &Path, name: &'static str, dependencies: &str, main: &str, lock: &Path) -> App {
        let dir = parent.join(name);
        std::fs::create_dir_all(dir.join("src")).expect("mkdir");
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
                 [dependencies]\n{dependencies}\n[workspace]\n"
            ),
        )
        .expect("manifest");
        std::fs::write(dir.join("src/main.rs"), main).expect("main");
        // The workspace's versions: cargo keeps every locked version the app still uses.
        std::fs::copy(lock, dir.join("Cargo.lock")).expect("Cargo.lock");
        let fetched = cargo(&dir).args(["fetch", "--quiet"]).status().expect("cargo fetch");
        assert!(fetched.success(), "{name}: cargo fetch");
        App { name, dir }
    }

    fn target(&self) -> PathBuf {
        self.dir.join("target")
    }

    fn binary(&self) -> PathBuf {
        self.target().join("release").join(self.name)
    }

    /// `cargo build --release` into an empty target directory, nothing fetched while timed.
    fn build(&self, clock_ticks: f64) -> Build {
        let _ = std::fs::remove_dir_all(self.target());
        let cpu_before = children_cpu_ticks();
        let t = Instant::now();
        let status = cargo(&self.dir)
            .args(["build", "--release", "--frozen", "--quiet"])
            .status()
            .expect("cargo build");
        let wall = t.elapsed().as_secs_f64();
        let cpu = (children_cpu_ticks() - cpu_before) as f64 / clock_ticks;
        assert!(status.success(), "{}: cargo build --release", self.name);
        let size = std::fs::metadata(self.binary()).expect("binary").len();
        Build { wall, cpu, size }
    }

    /// The crates of its normal dependency tree (itself excluded), deduplicated.
    fn crates(&self) -> Vec<String> {
        let tree = cargo(&self.dir)
            .args(["tree", "-e", "normal", "--prefix", "none", "--frozen"])
            .output()
            .expect("cargo tree");
        let mut deps: Vec<String> = String::from_utf8_lossy(&tree.stdout)
            .lines()
            .skip(1)
            .map(|l| l.trim_end_matches(" (*)").to_owned())
            .filter(|l| !l.is_empty())
            .collect();
        deps.sort();
        deps.dedup();
        deps
    }

    /// Runs the built app against a 4Geeks sandbox with one payment: true when it created a refund,
    /// read it back and listed it.
    fn runs_against(&self, base_url: &str) -> bool {
        let out = Command::new(self.binary())
            .env("FOURGEEKS_API_KEY", refunds_fourgeeks::sandbox::API_KEY)
            .env("FOURGEEKS_BASE_URL", base_url)
            .env("FOURGEEKS_PAYMENT_ID", "pay_build_check")
            .env_remove("FOURGEEKS_CURRENCY")
            .output()
            .expect("run app");
        let text = String::from_utf8_lossy(&out.stdout);
        print!("{}: {text}", self.name);
        let id = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("created "))
            .and_then(|l| l.split(' ').next())
            .unwrap_or("-");
        out.status.success() && text.contains(&format!("read back {id} ")) && text.contains(&format!("listed {id} "))
    }
}

fn cargo(dir: &Path) -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(dir).env("CARGO_TARGET_DIR", dir.join("target"));
    c
}

/// User + system clock ticks of this process's waited-for children and their own waited-for
/// children (`cutime` + `cstime` of `/proc/self/stat`): cargo, rustc, build scripts and the linker.
fn children_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rfind(')').map_or("", |i| &stat[i + 1..]);
    // Field 3 (state) is the first after the name, so fields 16 and 17 are the 14th and 15th.
    after_name
        .split_whitespace()
        .skip(13)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum()
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

fn mib(bytes: u64) -> String {
    format!("{:.2} MiB", bytes as f64 / 1_048_576.0)
}

/// Medians of wall, CPU and size, and each build listed as CPU/wall seconds.
fn summary(builds: &[Build]) -> (f64, f64, u64, String) {
    let listed: Vec<String> = builds.iter().map(|b| format!("{:.0}/{:.0}", b.cpu, b.wall)).collect();
    let mut sizes: Vec<u64> = builds.iter().map(|b| b.size).collect();
    sizes.sort_unstable();
    (
        median(builds.iter().map(|b| b.wall).collect()),
        median(builds.iter().map(|b| b.cpu).collect()),
        sizes[sizes.len() / 2],
        listed.join(", "),
    )
}

/// `turns` clean release builds of each app, taking turns (SDK, anchor, SDK, anchor, ...).
pub(crate) fn build(rows: &mut Vec<Row>, runtime: &tokio::runtime::Runtime, turns: usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace");
    let parent = std::env::temp_dir().join(format!("refunds-build-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&parent);
    let lock = root.join("Cargo.lock");
    let tokio = "tokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }\n";
    let sdk = App::new(
        &parent,
        "sdk-app",
        &format!(
            "refunds = {{ path = \"{0}\" }}\nrefunds-fourgeeks = {{ path = \"{0}/providers/fourgeeks\" }}\n{tokio}",
            root.display()
        ),
        SDK_MAIN,
        &lock,
    );
    // The same reqwest features as the workspace's.
    let hand = App::new(
        &parent,
        "hand-app",
        &format!(
            "reqwest = {{ version = \"0.12\", default-features = false, features = [\"rustls-tls\", \"json\"] }}\n\
             serde = {{ version = \"1\", features = [\"derive\"] }}\n{tokio}"
        ),
        HAND_MAIN,
        &lock,
    );
    let ticks = clock_ticks_per_second();
    let (mut sdk_builds, mut hand_builds) = (Vec::new(), Vec::new());
    for turn in 1..=turns {
        for (app, builds) in [(&sdk, &mut sdk_builds), (&hand, &mut hand_builds)] {
            let b = app.build(ticks);
            println!(
                "  turn {turn}: {} {:.1} s CPU, {:.1} s wall, {} bytes",
                app.name, b.cpu, b.wall, b.size
            );
            builds.push(b);
        }
    }

    // Both binaries make the same three calls to the same API: checked against the 4Geeks sandbox.
    let sandbox = runtime.block_on(refunds_fourgeeks::sandbox::start()).expect("sandbox");
    sandbox.ledger().seed_payment(
        "pay_build_check",
        Money::from_minor(100_000, refunds_fourgeeks::sandbox::CURRENCY),
    );
    let both_run = sdk.runs_against(&sandbox.base_url()) & hand.runs_against(&sandbox.base_url());

    let (sdk_crates, hand_crates) = (sdk.crates(), hand.crates());
    let heavy: Vec<&str> = ["openssl", "aws-lc", "native-tls", "h2 "]
        .into_iter()
        .filter(|h| sdk_crates.iter().any(|d| d.starts_with(h.trim())))
        .collect();
    let (s_wall, s_cpu, s_size, s_list) = summary(&sdk_builds);
    let (h_wall, h_cpu, h_size, h_list) = summary(&hand_builds);
    let (cpu_ratio, size_ratio, wall_ratio) = (s_cpu / h_cpu, s_size as f64 / h_size as f64, s_wall / h_wall);
    rows.push(Row {
        name: "build: one-provider app (refunds + refunds-fourgeeks + tokio)".into(),
        sdk: format!(
            "{s_cpu:.0} s CPU (user + sys), {s_wall:.0} s wall, binary {} ({s_size} bytes), {} crates; \
             each build CPU/wall s: {s_list}; {}",
            mib(s_size),
            sdk_crates.len(),
            if heavy.is_empty() {
                "no OpenSSL / aws-lc / native-tls / HTTP/2".to_owned()
            } else {
                format!("PRESENT: {}", heavy.join(", "))
            }
        ),
        anchor: format!(
            "{h_cpu:.0} s CPU, {h_wall:.0} s wall, binary {} ({h_size} bytes), {} crates; each build CPU/wall s: \
             {h_list} (the same app by hand: reqwest + serde + tokio)",
            mib(h_size),
            hand_crates.len()
        ),
        ratio: format!(
            "time (CPU) {cpu_ratio:.2}×, size {size_ratio:.2}× (wall {wall_ratio:.2}×; medians of {turns} clean \
             builds each, in turns){}",
            if both_run {
                ""
            } else {
                "; an app FAILED its run against the sandbox"
            }
        ),
        target: "≤ 1.15× time (CPU) and size".into(),
        met: both_run && cpu_ratio <= 1.15 && size_ratio <= 1.15,
    });
    drop(sandbox);
    let _ = std::fs::remove_dir_all(&parent);
}
