//! The `refunds` command line with Acme Pay (the provider of `custom_provider.rs`) beside the
//! built-in providers: `refunds-acme --sandbox create -p acme --payment pay_acme_1 ...`.

#[path = "custom_provider.rs"]
#[allow(dead_code)] // its own `main` is the example's
mod custom_provider;

fn main() -> std::process::ExitCode {
    refunds_cli::main_with(&[custom_provider::DESCRIPTOR])
}
