//! `sightline user add|remove|list`

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use crate::output::with_stdout;
use crate::{Failure, Outcome};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add a user for HTTP Basic sign-in. The password is prompted for (twice, not echoed), or
    /// read from the first line of standard input with --password-stdin. It must have at least
    /// 12 characters and not be a common password.
    Add {
        /// The user name to sign in with: 1-64 characters, no ':' or spaces.
        name: String,
        /// A group the user belongs to (repeatable); permissions name it as `group:NAME`.
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
        /// May read and write every collection.
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input (one line) instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a user and their API tokens (exit 1 when there is no such user).
    Remove {
        /// The user's name.
        name: String,
    },
    /// List users: name, admin flag, groups. Never prints hashes.
    List,
}

/// One audit line per account change (never the password).
fn audit(event: &'static str, user: String) {
    sightline_server::audit::record_cli(sightline_server::audit::AuditEvent {
        event,
        user: Some(user),
        ..Default::default()
    });
}

pub fn run(data: &Path, cmd: Command) -> Result<Outcome, Failure> {
    let io = |e: std::io::Error| Failure::Other(e.into());
    match cmd {
        Command::Add {
            name,
            groups,
            admin,
            password_stdin,
        } => {
            // Check the name before asking for a password.
            sightline_store::accounts::validate_user_name(&name)
                .map_err(|e| Failure::Input(e.to_string()))?;
            for g in &groups {
                sightline_store::accounts::validate_group_name(g)
                    .map_err(|e| Failure::Input(e.to_string()))?;
            }
            let password = read_password(&name, password_stdin)?;
            // The policy (at least 12 characters, not a common password) is
            // also enforced by add_user; checked here first for a clear
            // input error (exit 2) rather than a store one.
            sightline_server::auth::check_password(&name, &password)
                .map_err(|e| Failure::Input(policy_message(&e)))?;
            let store = super::open_store(data)?;
            sightline_server::add_user(store.as_ref(), &name, &password, groups, admin)?;
            eprintln!("sightline: added user {name}");
            audit("user_add", name);
        }
        Command::Remove { name } => {
            let store = super::open_store(data)?;
            if !store.remove_user(&name)? {
                eprintln!("sightline: no user {name:?}");
                return Ok(Outcome::Findings);
            }
            eprintln!("sightline: removed user {name} and their tokens");
            audit("user_remove", name);
        }
        Command::List => {
            let store = super::open_store(data)?;
            let users = store.users()?;
            with_stdout(|w| {
                for u in &users {
                    writeln!(
                        w,
                        "{}\t{}\t{}",
                        u.name,
                        if u.admin { "admin" } else { "-" },
                        if u.groups.is_empty() {
                            "-".to_owned()
                        } else {
                            u.groups.join(",")
                        }
                    )?;
                }
                Ok(())
            })
            .map_err(io)?;
        }
    }
    Ok(Outcome::Ok)
}

fn read_password(name: &str, from_stdin: bool) -> Result<String, Failure> {
    let input = |m: String| Failure::Input(m);
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| input(format!("reading the password from standard input: {e}")))?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        if !std::io::stdin().is_terminal() {
            return Err(input(
                "no terminal to prompt for a password: use --password-stdin".into(),
            ));
        }
        let prompt = |p: &str| {
            rpassword::prompt_password(p).map_err(|e| input(format!("reading the password: {e}")))
        };
        let first = prompt(&format!("password for {name}: "))?;
        if prompt("again: ")? != first {
            return Err(input("the passwords differ".into()));
        }
        first
    };
    if password.is_empty() {
        return Err(input("the password is empty".into()));
    }
    Ok(password)
}

/// The policy's message without the store error's prefix.
fn policy_message(e: &sightline_store::StoreError) -> String {
    match e {
        sightline_store::StoreError::Invalid(m) => m.clone(),
        other => other.to_string(),
    }
}
