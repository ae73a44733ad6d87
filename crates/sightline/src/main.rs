//! `sightline`: the command-line front end. Parses flags, calls the library
//! crates, prints results and maps outcomes to exit codes. Nothing else.

mod cmd;
mod log;
mod output;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

// serde_json's Value allocates a node per property; mimalloc makes parsing and
// validating large bundles markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  some object is invalid or was rejected (validate, import), or nothing was found (get)
  2  unreadable input: a missing file, malformed or truncated JSON, bad gzip, bad usage
  3  the store failed: cannot open, read-only, disk full, corrupt";

/// Sightline: a STIX 2.1 threat-intelligence store, TAXII 2.1 server and detection engine.
#[derive(Debug, Parser)]
#[command(name = "sightline", version, after_help = EXIT_CODES)]
pub struct Cli {
    // The help names each variable, never its value: SIGHTLINE_STORE may
    // carry a password, and the help should read the same everywhere.
    /// Data directory of the embedded store.
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_DATA",
        hide_env_values = true,
        default_value = "./sightline-data"
    )]
    data: PathBuf,
    /// The store, instead of the embedded one in --data: `postgres://USER:PW@HOST:PORT/DB`
    /// (shared by several `serve` replicas), `sqlite:DIR` or a directory. Overrides the
    /// config file's `store`.
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_STORE",
        hide_env_values = true,
        value_name = "SPEC"
    )]
    store: Option<String>,
    /// Log lines on standard error (the server's one line per request among them): text or
    /// one JSON object per line. What is logged: SIGHTLINE_LOG (e.g. `info`).
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_LOG_FORMAT",
        hide_env_values = true,
        value_enum,
        default_value = "text"
    )]
    log_format: log::LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check STIX 2.1 content against the spec's MUST (errors) and SHOULD (warnings) rules.
    Validate(cmd::validate::Args),
    /// Validate and store objects; every version is kept. One transaction per run.
    Import(cmd::import::Args),
    /// Write stored objects as one STIX bundle, or the active indicators for a sensor (Zeek Intel, Suricata, Sigma, CSV).
    Export(cmd::export::Args),
    /// Show an object by STIX id or external id (e.g. G0032).
    Get(cmd::get::Args),
    /// Full-text search over names, aliases and descriptions.
    Search(cmd::search::Args),
    /// Counts of objects, versions and collections.
    Stats(cmd::stats::Args),
    /// The neighbours of an object (relationships and embedded references), or
    /// its neighbourhood with --depth 2..3: `sightline related G0032 --type uses`.
    Related(cmd::related::Args),
    /// The ATT&CK matrix of an intrusion set, threat actor, campaign or malware:
    /// techniques by tactic, each with the path linking it.
    Matrix(cmd::related::MatrixArgs),
    /// Verify the store's integrity; exit 1 when a problem is found.
    Check,
    /// Manage TAXII collections.
    #[command(subcommand)]
    Collection(cmd::collection::Command),
    /// Partner feeds pulled into the store: TAXII 2.1 collections, CSV and plain IOC lists.
    #[command(subcommand)]
    Feed(cmd::feed::Command),
    /// Run the TAXII 2.1 server (with --demo: a ready demo on the Bureau 121 pack).
    Serve(cmd::serve::Args),
    /// Manage users who sign in with HTTP Basic.
    #[command(subcommand)]
    User(cmd::user::Command),
    /// Manage API tokens (HTTP Bearer).
    #[command(subcommand)]
    Token(cmd::token::Command),
    /// Check a running server's /healthz; exit 0 when it answers 200.
    Healthcheck(cmd::healthcheck::Args),
    /// Apply the store's schema migrations and exit (servers also migrate on start).
    Migrate,
    /// Copy a whole store (every version, collection membership with its date, account)
    /// into an empty one: `copy --from sqlite:DIR --to postgres://…` and back.
    Copy(cmd::copy::Args),
    /// Work with STIX patterns.
    #[command(subcommand)]
    Pattern(cmd::pattern::Command),
    /// Match telemetry (STIX, Zeek, Suricata EVE, mapped JSON) against the
    /// indicators' STIX patterns: one JSON line per match, with why; `--record`
    /// writes STIX sightings into the store.
    Match(cmd::matching::Args),
    /// List the sightings `match --record` wrote: counts, first/last seen,
    /// indicator and sensor (a table, or JSON lines with --json).
    Sightings(cmd::sightings::Args),
    /// Manage warninglists of benign values (MISP format) that suppress matches.
    #[command(subcommand)]
    Warninglist(cmd::warninglist::Command),
    /// Record an analyst's verdict on a sighting or indicator (a STIX opinion):
    /// true-positive renews it, false-positive and benign retire it.
    Verdict(cmd::verdict::Args),
    /// Reports over the store: `report quality` (matches, verdicts and
    /// precision per feed and per indicator type).
    #[command(subcommand)]
    Report(cmd::report::Command),
    /// Write a retiring version (`revoked`, or `valid_until` now) of each
    /// indicator Sightline created that decayed below the revoke threshold or
    /// was judged a false positive, so TAXII consumers learn it too.
    Retire(cmd::retire::Args),
}

/// What a subcommand reports back; only `main` turns it into an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Some object invalid or rejected, or nothing found.
    Findings,
}

/// Errors that end a command, by their exit code.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Store(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sightline_store::StoreError> for Failure {
    fn from(e: sightline_store::StoreError) -> Self {
        Failure::Store(e.to_string())
    }
}

impl From<sightline_interchange::ReadError> for Failure {
    fn from(e: sightline_interchange::ReadError) -> Self {
        Failure::Input(e.to_string())
    }
}

/// Where subcommands' help points for the global options it leaves out.
const GLOBALS_NOTE: &str =
    "Global options: --data, --store, --log-format (see `sightline --help`).";

/// The command line as clap builds it, with the global options (`--data`,
/// `--store`, `--log-format`) described once, in the top-level help: every
/// subcommand accepts them but its help only points there (issue 17 §4).
fn command() -> clap::Command {
    let mut cmd = Cli::command();
    let globals: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    hide_in_subcommands(&mut cmd, &globals);
    cmd
}

/// Gives every subcommand its own hidden copy of each global option before
/// clap builds the command (building then skips them as present; a built
/// command's options cannot be changed safely).
fn hide_in_subcommands(cmd: &mut clap::Command, globals: &[clap::Arg]) {
    for sc in cmd.get_subcommands_mut() {
        let mut c = std::mem::take(sc);
        for a in globals {
            c = c.arg(a.clone().hide(true));
        }
        if c.get_after_help().is_none() {
            c = c.after_help(GLOBALS_NOTE);
        }
        hide_in_subcommands(&mut c, globals);
        *sc = c;
    }
}

fn main() -> ExitCode {
    let cli = match Cli::from_arg_matches(&command().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let _log = log::init(cli.log_format);
    cmd::set_store_spec(cli.store.clone());
    let result = match cli.command {
        Command::Validate(a) => cmd::validate::run(a),
        Command::Import(a) => cmd::import::run(&cli.data, a),
        Command::Export(a) => cmd::export::run(&cli.data, a),
        Command::Get(a) => cmd::get::run(&cli.data, a),
        Command::Search(a) => cmd::search::run(&cli.data, a),
        Command::Stats(a) => cmd::stats::run(&cli.data, a),
        Command::Related(a) => cmd::related::run(&cli.data, a),
        Command::Matrix(a) => cmd::related::matrix(&cli.data, a),
        Command::Check => cmd::check::run(&cli.data),
        Command::Collection(c) => cmd::collection::run(&cli.data, c),
        Command::Feed(c) => cmd::feed::run(&cli.data, c),
        Command::Serve(a) => cmd::serve::run(&cli.data, a),
        Command::User(c) => cmd::user::run(&cli.data, c),
        Command::Token(c) => cmd::token::run(&cli.data, c),
        Command::Healthcheck(a) => cmd::healthcheck::run(a),
        Command::Migrate => cmd::migrate::run(&cli.data),
        Command::Copy(a) => cmd::copy::run(a),
        Command::Pattern(c) => cmd::pattern::run(c),
        Command::Match(a) => cmd::matching::run(&cli.data, a),
        Command::Sightings(a) => cmd::sightings::run(&cli.data, a),
        Command::Warninglist(c) => cmd::warninglist::run(&cli.data, c),
        Command::Verdict(a) => cmd::verdict::run(&cli.data, a),
        Command::Report(c) => cmd::report::run(&cli.data, c),
        Command::Retire(a) => cmd::retire::run(&cli.data, a),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(e) => {
            eprintln!("sightline: error: {e}");
            ExitCode::from(match e {
                Failure::Input(_) => 2,
                Failure::Store(_) => 3,
                Failure::Other(_) => 3,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every option and subcommand a user can see, with its path.
    fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<(String, clap::Command)>) {
        out.push((path.to_owned(), cmd.clone()));
        for sc in cmd.get_subcommands() {
            walk(sc, &format!("{path} {}", sc.get_name()), out);
        }
    }

    fn all() -> Vec<(String, clap::Command)> {
        let mut out = Vec::new();
        walk(&command(), "sightline", &mut out);
        out
    }

    /// Issue 17 §4: no empty help text, on any subcommand or visible option.
    #[test]
    fn nothing_shown_without_help() {
        let mut bare = Vec::new();
        for (path, c) in all() {
            if c.get_name() != "help" && c.get_about().is_none() && path != "sightline" {
                bare.push(path.clone());
            }
            for a in c.get_arguments().filter(|a| !a.is_hide_set()) {
                let text = a.get_help().or(a.get_long_help()).map(ToString::to_string);
                if text.is_none_or(|t| t.trim().is_empty()) {
                    bare.push(format!("{path} {}", a.get_id()));
                }
            }
        }
        assert!(bare.is_empty(), "no help text: {bare:#?}");
    }

    /// Issue 17 §4: --data and --store are described once, at the top; each
    /// subcommand still takes them.
    #[test]
    fn global_options_are_shown_once() {
        for (path, c) in all() {
            // clap's own `help` subcommands take no options.
            if path.split(' ').any(|w| w == "help") {
                continue;
            }
            for id in ["data", "store", "log_format"] {
                let a = c.get_arguments().find(|a| a.get_id() == id);
                let a = a.unwrap_or_else(|| panic!("{path} lacks {id}"));
                assert_eq!(a.is_hide_set(), path != "sightline", "{path} {id}");
            }
        }
        let m = command()
            .try_get_matches_from(["sightline", "collection", "list", "--data", "/x"])
            .expect("parses");
        let cli = Cli::from_arg_matches(&m).expect("cli");
        assert_eq!(cli.data, PathBuf::from("/x"));
    }

    /// `serve --help` says what serve does without pointing to itself.
    #[test]
    fn serve_help_does_not_refer_to_itself() {
        let mut serve = command();
        let help = serve
            .find_subcommand_mut("serve")
            .expect("serve")
            .render_long_help()
            .to_string();
        assert!(!help.contains("serve --"), "{help}");
        assert!(!help.contains("`serve"), "{help}");
    }
}
