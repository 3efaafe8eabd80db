//! The whole shared suite on the provider of `examples/custom_provider.rs`, written outside the
//! repository's providers with only the public API, on its own sandbox skin.

#[path = "../custom_provider.rs"]
mod custom_provider;

refunds_testkit::provider_suite!(custom_provider::Acme, include_str!("custom_provider.json"));

/// The example itself: registered at run time and driven through the registry.
#[test]
fn the_example_runs_through_the_registry() {
    custom_provider::main().expect("the example runs");
}

/// The command line's library entry point takes it beside the built-in providers: listed, and a
/// refund created and read back on its sandbox by the `refunds-acme` binary.
#[test]
fn the_command_line_takes_it_through_main_with() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_refunds-acme"))
            .args(args)
            .output()
            .expect("the binary runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let providers = run(&["--sandbox", "providers"]);
    assert!(providers.lines().any(|l| l.starts_with("acme")), "{providers}");
    let created = run(&[
        "--sandbox",
        "create",
        "-p",
        "acme",
        "--payment",
        "pay_acme_1",
        "--amount",
        "12.50",
        "--currency",
        "GBP",
        "--format",
        "json",
    ]);
    assert!(created.contains("\"provider\":\"acme\""), "{created}");
    assert!(created.contains("\"amount\":\"12.50\""), "{created}");
}
