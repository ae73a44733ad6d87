//! The help text, as a new user meets it (issue 17 §4): `sightline --help`
//! and each command's `--help` must print `tests/golden/help/help.out` byte
//! for byte (`SIGHTLINE_BLESS=1` rewrites it: review the diff). Beyond the
//! text: the global options are described once, at the top, and `serve
//! --help` does not point to itself. (That no option lacks a help text is
//! checked on clap's model, in `src/main.rs`.)

use std::path::Path;

use crate::common;

/// Every command and subcommand, as given on the command line.
const COMMANDS: &[&str] = &[
    "",
    "validate",
    "import",
    "export",
    "get",
    "search",
    "stats",
    "related",
    "matrix",
    "check",
    "collection",
    "collection add",
    "collection list",
    "collection remove",
    "serve",
    "user",
    "user add",
    "user remove",
    "user list",
    "token",
    "token create",
    "token revoke",
    "token list",
    "healthcheck",
    "migrate",
    "copy",
    "pattern",
    "match",
    "sightings",
    "warninglist",
    "verdict",
    "report",
    "report quality",
    "retire",
    "feed",
    "feed add",
    "feed list",
    "feed sync",
    "feed status",
    "feed remove",
];

fn help(command: &str) -> String {
    let mut args: Vec<&str> = command.split_whitespace().collect();
    args.push("--help");
    // A fixed width: clap wraps at COLUMNS when output is not a terminal.
    let width = [("COLUMNS", std::ffi::OsStr::new("100"))];
    common::ok(&common::sightline_with_env(&width, &[], &args, None))
}

/// Lines that describe an option (not prose that mentions one).
fn describes(text: &str, flag: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with(&format!("{flag} ")) || l == flag
    })
}

#[test]
fn help_golden() {
    let mut all = String::new();
    for c in COMMANDS {
        let text = help(c);
        let shown = format!("sightline {c} --help").replace("  ", " ");
        all.push_str(&format!("$ {shown}\n{text}\n"));
        let top = c.is_empty();
        for flag in ["--data", "--store", "--log-format"] {
            assert_eq!(describes(&text, flag), top, "{shown}: {flag}\n{text}");
        }
        if !top {
            assert!(text.contains("Global options: --data, --store"), "{shown}");
        }
    }
    let serve = help("serve");
    assert!(
        !serve.contains("serve --") && !serve.contains("`serve"),
        "{serve}"
    );
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/help/help.out");
    if std::env::var_os("SIGHTLINE_BLESS").is_some() {
        std::fs::write(&golden, &all).expect("bless");
        return;
    }
    let want = std::fs::read_to_string(&golden).unwrap_or_default();
    assert!(
        want == all,
        "{} differs (SIGHTLINE_BLESS=1 rewrites it):\n{all}",
        golden.display()
    );
}
