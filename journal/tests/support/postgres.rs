//! A throwaway PostgreSQL cluster for tests: initdb and pg_ctl in a temporary directory, on a free
//! port of 127.0.0.1, stopped and removed when dropped. Run as the `postgres` user when the tests run
//! as root (initdb refuses root), as CI does.
//!
//! The server binaries are found in `REFUNDS_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`,
//! else `PATH`. Missing binaries fail the test (CI installs Debian's `postgresql`); set
//! `REFUNDS_SKIP_POSTGRES=1` to skip on a machine without them (never honoured under `CI`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A running cluster.
pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    port: u16,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub url: String,
}

fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("REFUNDS_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let found = Command::new("initdb").arg("--version").stdout(Stdio::null()).status();
    found.ok().filter(|s| s.success()).map(|_| PathBuf::new())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Cluster {
    /// Starts a cluster, or `None` where skipping was asked for and PostgreSQL is missing.
    pub fn start() -> Option<Cluster> {
        let Some(bin) = bin_dir() else {
            let skip = std::env::var_os("REFUNDS_SKIP_POSTGRES").is_some() && std::env::var_os("CI").is_none();
            assert!(
                skip,
                "PostgreSQL's server binaries are missing (initdb, pg_ctl): install Debian's `postgresql` package \
                 (apt-get install postgresql), or point REFUNDS_PG_BIN at them; REFUNDS_SKIP_POSTGRES=1 skips \
                 these tests outside CI"
            );
            eprintln!("PostgreSQL missing: skipped (REFUNDS_SKIP_POSTGRES)");
            return None;
        };
        let as_postgres = is_root();
        let dir = std::env::temp_dir().join(format!(
            "refunds-pg-{}-{:08x}",
            std::process::id(),
            refunds::adapter::random_u64() & 0xffff_ffff
        ));
        std::fs::create_dir_all(&dir).expect("cluster dir");
        let mut cluster = Cluster {
            dir,
            bin,
            as_postgres,
            port: 0,
            url: String::new(),
        };
        if as_postgres {
            let status = Command::new("chown")
                .arg("postgres")
                .arg(&cluster.dir)
                .status()
                .expect("chown");
            assert!(status.success(), "chown postgres {}", cluster.dir.display());
        }
        let data = cluster.dir.join("data");
        cluster.run(
            "initdb",
            &["-D", path(&data), "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        let port = free_port();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            cluster.dir.display()
        );
        let log = cluster.dir.join("log");
        cluster.run(
            "pg_ctl",
            &["-D", path(&data), "-o", &options, "-l", path(&log), "-w", "start"],
        );
        cluster.port = port;
        cluster.url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        Some(cluster)
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let program = if self.bin.as_os_str().is_empty() {
            PathBuf::from(tool)
        } else {
            self.bin.join(tool)
        };
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let output = command
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
        assert!(
            output.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// A new empty database on the cluster, as a URL.
    pub fn database(&self, name: &str) -> String {
        let port = self.port.to_string();
        self.run("createdb", &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", name]);
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("addr").port()
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        if data.exists() {
            let _ = std::panic::catch_unwind(|| self.run("pg_ctl", &["-D", path(&data), "-m", "immediate", "stop"]));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
