//! `refunds`: the command line over every refunds provider, and [`main_with`], its entry point for a
//! binary that adds providers of its own.
//!
//! Look a refund up, list and export refunds for reconciliation, create one and wait for it, resolve a
//! create whose answer never arrived, verify a saved webhook or send a signed one: the same commands
//! for every provider of the `refunds` SDK, configured from the environment (`REFUNDS_PROVIDERS=...`)
//! or a TOML file (`--config FILE`), or offline on the embedded sandboxes (`--sandbox`).
//!
//! Exit codes: 0 success (also when the reader of the output went away), 2 invalid input or rejected,
//! 3 ambiguous (pending create saved), 4 provider unavailable or timed out, 5 created but not
//! confirmed, 130 interrupted (Ctrl-C), 1 anything else. Errors go to stderr, one line, with the provider and
//! the request id.

// The argument docs are clap's help text, read in a terminal: `<PREFIX>_API_KEY` is written plainly
// there, not as Markdown.
#![allow(rustdoc::invalid_html_tags)]

mod args;
mod bulk;
mod commands;
mod context;
mod exit;
mod interrupt;
mod journal;
mod output;
mod sandbox;
mod serve;
mod trigger;
mod webhook;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

/// Runs the command line (the process's arguments) with `providers` known beside the built-in ones:
/// the entry point of a binary that adds providers written elsewhere, as `refunds` itself is
/// `fn main() -> ExitCode { refunds_cli::main_with(&[]) }`. Each descriptor is registered with
/// [`refunds_registry::register`] first; one the registry refuses (an id already known) ends the run
/// with exit code 2.
pub fn main_with(providers: &[refunds::adapter::Descriptor]) -> ExitCode {
    for descriptor in providers {
        if let Err(e) = refunds_registry::register(*descriptor) {
            eprintln!("refunds: {e}");
            return ExitCode::from(exit::INVALID_OR_REJECTED);
        }
    }
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Usage errors exit 2 (invalid input); --help and --version exit 0.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(exit::INVALID_OR_REJECTED));
        }
    };
    if let args::Command::Completions { shell } = cli.command {
        return completions(shell);
    }
    if cli.verbose {
        log_to_stderr();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("refunds: cannot start the async runtime: {e}");
            return ExitCode::from(exit::OTHER);
        }
    };
    // These listen for Ctrl-C themselves: `sandbox serve` stops on it as its way of ending (exit 0);
    // `bulk` and `journal resume` stop claiming at the first and let the creates in flight record
    // their answers.
    let serves = matches!(
        cli.command,
        args::Command::Sandbox(_) | args::Command::Bulk(_) | args::Command::Journal(_)
    );
    let outcome = runtime.block_on(async {
        if serves {
            return commands::run(cli).await;
        }
        tokio::select! {
            outcome = commands::run(cli) => outcome,
            Ok(()) = tokio::signal::ctrl_c() => {
                interrupt::clean_up();
                Err(exit::Failure::new(exit::INTERRUPTED, "interrupted"))
            }
        }
    });
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            if !failure.message.is_empty() {
                eprintln!("refunds: {failure}");
            }
            ExitCode::from(failure.code)
        }
    }
}

/// `refunds completions SHELL`: the script on stdout.
fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut args::Cli::command(), "refunds", &mut script);
    match std::io::Write::write_all(&mut std::io::stdout().lock(), &script) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("refunds: stdout: {e}");
            ExitCode::from(exit::OTHER)
        }
    }
}

/// `--verbose`: the SDK's own events (the `refunds*` crates) at debug level on stderr, without
/// colour codes. The events carry method, path, status and timings, never a key or a body.
fn log_to_stderr() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let only_ours = tracing_subscriber::filter::Targets::new().with_target("refunds", tracing::Level::DEBUG);
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false),
        )
        .with(only_ours)
        .try_init();
}
