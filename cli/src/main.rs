//! `refunds`: the command line over every refunds provider (the library's [`refunds_cli::main_with`]
//! with the built-in providers alone).

use std::process::ExitCode;

fn main() -> ExitCode {
    refunds_cli::main_with(&[])
}
