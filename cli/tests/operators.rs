//! What an operator meets around the commands: help that says what each command prints, a
//! suggestion for a mistyped provider, `--dry-run`, `--verbose`, shell completions, and durations
//! said as given. Each drives the real binary on the embedded sandboxes.

mod support;

use support::*;

fn help(args: &[&str]) -> String {
    let o = run(args);
    assert_code(&o, 0);
    stdout(&o)
}

/// The `--format` values a command's help lists.
fn formats(help: &str) -> Vec<String> {
    let start = help.find("--format <FORMAT>").expect("a --format option");
    let end = help[start..].find("[default").map_or(help.len(), |i| start + i);
    help[start..end]
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .map(|l| l.split(':').next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn each_command_s_help_lists_the_formats_it_prints() {
    for command in [
        &["providers", "--help"][..],
        &["recover", "--help"],
        &["webhook", "verify", "--help"],
        &["webhook", "trigger", "--help"],
        &["sandbox", "serve", "--help"],
        &["journal", "list", "--help"],
    ] {
        assert_eq!(formats(&help(command)), ["table", "json"], "{command:?}");
    }
    for command in ["get", "create", "wait", "list", "export"] {
        let text = help(&[command, "--help"]);
        assert_eq!(formats(&text), ["table", "json", "jsonl", "csv"], "{command}");
        assert!(text.contains("one refund object, or an array"), "{command}: {text}");
    }
    // A report has no CSV: asked for one, clap refuses it instead of printing JSON lines.
    let o = run(&["--sandbox", "providers", "--format", "csv"]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("[possible values: table, json]"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
}

#[test]
fn global_options_are_listed_apart_from_the_command_s_own() {
    let text = help(&["create", "--help"]);
    let heading = text
        .find("Where the providers come from")
        .expect("a heading for the global options");
    for own in [
        "--payment <PAYMENT>",
        "--amount <AMOUNT>",
        "--dry-run",
        "--format <FORMAT>",
    ] {
        assert!(
            text.find(own).expect(own) < heading,
            "{own} is under the global heading"
        );
    }
    for global in [
        "--sandbox\n",
        "--config <FILE>",
        "--sandbox-fault",
        "--sandbox-state",
        "--verbose",
    ] {
        assert!(
            text.find(global).expect(global) > heading,
            "{global} is among the command's own"
        );
    }
}

#[test]
fn a_mistyped_provider_is_named_once_with_a_suggestion() {
    let o = run(&["--sandbox", "get", "-p", "xapy", "re_000001"]);
    assert_code(&o, 2);
    let err = stderr(&o);
    assert!(err.contains("did you mean xpay?"), "{err}");
    assert_eq!(err.matches("xapy").count(), 1, "{err}");
    // Nothing near: no suggestion, the configured ones listed.
    let o = run(&["--sandbox", "get", "-p", "stripe", "re_000001"]);
    assert_code(&o, 2);
    assert!(!stderr(&o).contains("did you mean"), "{}", stderr(&o));
    assert!(stderr(&o).contains("configured: fourgeeks, xpay, bias, syncgram, wooshpay"));
}

/// The sandbox journal's requests (with `--sandbox-state`), as (method, target, headers, body).
fn recorded(state: &std::path::Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(state).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a state line"))
        .filter(|op| op["op"] == "request")
        .collect()
}

#[test]
fn a_dry_run_prints_the_request_a_create_sends_and_sends_nothing() {
    let dir = scratch("dry-run");
    let state = dir.join("state.jsonl");
    let state = state.to_str().expect("utf-8 path");
    let create = [
        "--sandbox",
        "--sandbox-state",
        state,
        "create",
        "-p",
        "wooshpay",
        "--payment",
        "pi_1787730829493927936",
        "--amount",
        "1.25",
        "--currency",
        "EUR",
        "--metadata",
        "order=A-1",
        "--idempotency-key",
        "dry-run-key-0001",
    ];
    let o = run_in(&dir, &[&create[..], &["--dry-run"]].concat());
    assert_code(&o, 0);
    assert!(stderr(&o).contains("nothing was sent"), "{}", stderr(&o));
    assert!(
        recorded(dir.join("state.jsonl").as_path()).is_empty(),
        "a dry run sent a request"
    );
    let preview = stdout(&o);
    let mut lines = preview.lines();
    let request_line = lines.next().expect("the request line");
    assert!(request_line.starts_with("POST http://127.0.0.1:"), "{preview}");
    let headers: Vec<(String, String)> = lines
        .by_ref()
        .take_while(|l| !l.is_empty())
        .map(|l| {
            let (name, value) = l.split_once(": ").expect("name: value");
            (name.to_owned(), value.to_owned())
        })
        .collect();
    let body = lines.next().expect("the body");
    assert!(
        headers.contains(&("authorization".to_owned(), "[redacted]".to_owned())),
        "{preview}"
    );
    assert!(!preview.contains("sk_test"), "the key is shown: {preview}");

    // The same create, sent: the sandbox received exactly that body and those headers.
    let o = run_in(&dir, &create);
    assert_code(&o, 0);
    let requests = recorded(dir.join("state.jsonl").as_path());
    let create = requests
        .iter()
        .find(|r| r["method"] == "POST")
        .expect("the create was sent");
    assert_eq!(create["body"].as_str(), Some(body));
    assert!(request_line.ends_with(create["target"].as_str().expect("target")));
    let sent: Vec<(String, String)> = create["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .map(|h| {
            (
                h[0].as_str().unwrap_or_default().to_owned(),
                h[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for (name, value) in headers.iter().filter(|(name, _)| name != "authorization") {
        assert!(
            sent.contains(&(name.clone(), value.clone())),
            "{name}: {value} not sent; sent {sent:?}"
        );
    }

    // A request the create would refuse is refused by the dry run too, naming the field.
    let o = run(&[
        &["--sandbox"][..],
        &support::create("wooshpay", "pi_1", "1.255", "EUR", &["--dry-run"]),
    ]
    .concat());
    assert_code(&o, 2);
    assert!(stderr(&o).contains("amount"), "{}", stderr(&o));
}

#[test]
fn verbose_logs_each_attempt_to_stderr_and_never_a_key() {
    let o = run(&["--sandbox", "-v", "get", "-p", "bias", "re_000001", "--format", "json"]);
    assert_code(&o, 0);
    let err = stderr(&o);
    assert!(
        err.lines()
            .any(|l| l.contains("provider=\"bias\"") && l.contains("method=GET") && l.contains("status=200")),
        "{err}"
    );
    for secret in ["sk_test", "Bearer", "Basic ", "authorization"] {
        assert!(!err.contains(secret), "{secret} in the log: {err}");
    }
    assert!(!err.contains('\u{1b}'), "colour codes in the log");
    // The refund itself is on stdout, alone.
    serde_json::from_str::<serde_json::Value>(&stdout(&o)).expect("stdout is the refund");
    // Without -v, nothing is logged.
    let o = run(&["--sandbox", "get", "-p", "bias", "re_000001"]);
    assert_code(&o, 0);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn completions_load_in_bash_and_name_every_command() {
    let dir = scratch("completions");
    let o = run(&["completions", "bash"]);
    assert_code(&o, 0);
    let script = dir.join("refunds.bash");
    std::fs::write(&script, o.stdout).expect("write the script");
    let bash = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p refunds && COMP_WORDS=(refunds re) COMP_CWORD=1 && _refunds refunds re refunds && echo \"${{COMPREPLY[@]}}\"",
            script.display()
        ))
        .output()
        .expect("bash runs");
    let said = text(&bash.stdout);
    assert!(bash.status.success(), "{said}{}", text(&bash.stderr));
    assert!(said.contains("-F _refunds refunds"), "{said}");
    assert!(said.contains("recover"), "no completion of `re`: {said}");
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let o = run(&["completions", shell]);
        assert_code(&o, 0);
        for command in ["create", "recover", "export", "bulk", "journal"] {
            assert!(stdout(&o).contains(command), "{shell}: {command}");
        }
    }
    let o = run(&["completions", "tcsh"]);
    assert_code(&o, 2);
}

#[test]
fn a_wait_shorter_than_a_second_is_said_as_given() {
    let o = run(&[
        &["--sandbox"][..],
        &create(
            "bias",
            "pay_bias_1",
            "0.1",
            "KWD",
            &["--wait", "--wait-timeout", "250ms"],
        ),
    ]
    .concat());
    assert_code(&o, 5);
    let err = stderr(&o);
    assert!(err.contains("waiting up to 250ms"), "{err}");
    assert!(err.contains("still pending after 250ms"), "{err}");
    assert!(!err.contains(" 0 s"), "{err}");
}

#[test]
fn the_xpay_sandbox_says_what_is_left_in_major_units() {
    let o = run(&[&["--sandbox"][..], &create("xpay", "ch_xyz789", "9999", "EGP", &[])].concat());
    assert_code(&o, 2);
    assert!(stderr(&o).contains("refundable amount of 200.00 EGP"), "{}", stderr(&o));
}

/// A config with two accounts of one provider, one live and one test, on a port nothing listens on
/// (nothing here may reach a server).
fn two_bias_accounts(dir: &std::path::Path) -> std::path::PathBuf {
    let config = dir.join("refunds.toml");
    std::fs::write(
        &config,
        r#"
[accounts.bias-eu]
provider = "bias"
api_key_env = "BIAS_EU_API_KEY"
currency = "KWD"
mode = "live"
base_url = "http://127.0.0.1:9"

[accounts.bias-test]
provider = "bias"
api_key_env = "BIAS_TEST_API_KEY"
currency = "KWD"
mode = "test"
base_url = "http://127.0.0.1:9"
"#,
    )
    .expect("write the config");
    config
}

#[test]
fn a_live_account_moves_money_only_with_live_and_says_which() {
    let dir = scratch("live");
    let config = two_bias_accounts(&dir);
    let config = config.to_str().expect("utf-8 path");
    let create = [
        "--config",
        config,
        "create",
        "-p",
        "bias-eu",
        "--payment",
        "pay_1",
        "--amount",
        "1.000",
        "--currency",
        "KWD",
    ];
    let with_keys = |args: &[&str]| {
        command(&dir, args)
            .env("BIAS_EU_API_KEY", "sk_live_operator_0001")
            .env("BIAS_TEST_API_KEY", "sk_test_operator_0001")
            .output()
            .expect("runs")
    };
    // Refused before anything is sent, naming the account and how its mode is known.
    let o = with_keys(&create);
    assert_code(&o, 2);
    let err = stderr(&o);
    assert!(
        err.contains("account bias-eu (bias), live (set in the config)"),
        "{err}"
    );
    assert!(err.contains("--live"), "{err}");
    assert!(!err.contains("sk_live"), "{err}");
    // With --live it goes ahead (and fails to connect: nothing listens there), saying so first.
    let o = with_keys(&[&create[..], &["--live", "--pending-file", "p.json"]].concat());
    assert_code(&o, 4);
    assert!(stderr(&o).contains("going ahead (--live)"), "{}", stderr(&o));
    // A dry run needs no --live: it sends nothing, and says the mode.
    let o = with_keys(&[&create[..], &["--dry-run"]].concat());
    assert_code(&o, 0);
    assert!(
        stderr(&o).contains("bias-eu: live (set in the config)"),
        "{}",
        stderr(&o)
    );
    // The test account needs none.
    let test = [
        &["--config", config][..],
        &support::create("bias-test", "pay_1", "1.000", "KWD", &["--pending-file", "q.json"]),
    ]
    .concat();
    let o = with_keys(&test);
    assert_code(&o, 4);
    assert!(!stderr(&o).contains("--live"), "{}", stderr(&o));
}

#[test]
fn a_command_needs_only_the_keys_of_the_accounts_it_touches() {
    let dir = scratch("lazy");
    let config = two_bias_accounts(&dir);
    let config = config.to_str().expect("utf-8 path");
    // Only the test account's key is set: a command on it works; one on the other names its variable.
    let run = |args: &[&str]| {
        command(&dir, args)
            .env("BIAS_TEST_API_KEY", "sk_test_operator_0002")
            .output()
            .expect("runs")
    };
    let o = run(&[
        "--config",
        config,
        "create",
        "-p",
        "bias-test",
        "--payment",
        "pay_1",
        "--dry-run",
    ]);
    assert_code(&o, 0);
    let o = run(&["--config", config, "get", "-p", "bias-eu", "re_1"]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("BIAS_EU_API_KEY"), "{}", stderr(&o));
    // The provider's id stands for its account only when it has one.
    let o = run(&["--config", config, "get", "-p", "bias", "re_1"]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("bias-eu, bias-test"), "{}", stderr(&o));
    // From the environment too: a listed provider without a key blocks only the commands using it.
    let o = command(&dir, &create("xpay", "ch_1", "1", "EGP", &["--dry-run"]))
        .env("REFUNDS_PROVIDERS", "xpay,bias")
        .env("XPAY_API_KEY", "sk_test_operator_0003")
        .env("XPAY_BASE_URL", "http://127.0.0.1:9")
        .output()
        .expect("runs");
    assert_code(&o, 0);
}

#[test]
fn providers_lists_each_account_with_its_mode() {
    let dir = scratch("accounts");
    let config = two_bias_accounts(&dir);
    let o = command(&dir, &["--config", config.to_str().expect("utf-8"), "providers"])
        .env("BIAS_EU_API_KEY", "sk_live_operator_0004")
        .env("BIAS_TEST_API_KEY", "sk_test_operator_0004")
        .output()
        .expect("runs");
    assert_code(&o, 0);
    let out = stdout(&o);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().take(3).collect())
        .collect();
    assert_eq!(
        rows,
        [["bias-eu", "bias", "live"], ["bias-test", "bias", "test"]],
        "{out}"
    );
    let o = run(&["--sandbox", "providers", "--format", "json"]);
    let all: Vec<serde_json::Value> = serde_json::from_str(&stdout(&o)).expect("json");
    assert!(
        all.iter().all(|p| p["mode"] == "test" && p["account"] == p["id"]),
        "{all:?}"
    );
}

/// The CLI README's operator example, run as written: the config, the dry run (its output as the
/// README shows it), the live guard's refusal, a verbose run and the completions.
#[test]
fn the_readme_operator_example_runs_as_written() {
    let (out, expected) = run_readme_section("See it before you send it", "readme-operators");
    assert!(
        out.contains(&expected),
        "the README's dry run is not what it prints:\n{out}\nexpected:\n{expected}"
    );
    assert!(out.starts_with("account "), "providers first:\n{out}");
}
