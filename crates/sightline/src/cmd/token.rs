//! `sightline token create|revoke|list`

use std::path::Path;

use crate::output::with_stdout;
use crate::{Failure, Outcome};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create an API token for USER (sent as `Authorization: Bearer TOKEN`). The token is
    /// printed once on standard output and cannot be shown again; its id goes to standard error.
    Create { user: String },
    /// Revoke a token by id (exit 1 when there is no such active token).
    Revoke { id: String },
    /// List tokens (of USER, when given): id, user, created (Unix seconds), state.
    List { user: Option<String> },
}

/// One audit line per token change (never the token's secret).
fn record(event: &'static str, user: Option<String>, token_id: String) {
    sightline_server::audit::record_cli(sightline_server::audit::AuditEvent {
        event,
        user,
        token_id: Some(token_id),
        ..Default::default()
    });
}

pub fn run(data: &Path, cmd: Command) -> Result<Outcome, Failure> {
    let store = super::open_store(data)?;
    let io = |e: std::io::Error| Failure::Other(e.into());
    match cmd {
        Command::Create { user } => {
            if store.user(&user)?.is_none() {
                eprintln!("sightline: no user {user:?}");
                return Ok(Outcome::Findings);
            }
            let t = sightline_server::create_token(store.as_ref(), &user)?;
            eprintln!("sightline: created token {} for {user}", t.id);
            record("token_create", Some(user), t.id.clone());
            with_stdout(|w| writeln!(w, "{}", t.text)).map_err(io)?;
        }
        Command::Revoke { id } => {
            if !store.revoke_token(&id)? {
                eprintln!("sightline: no active token {id:?}");
                return Ok(Outcome::Findings);
            }
            eprintln!("sightline: revoked token {id}");
            record("token_revoke", None, id);
        }
        Command::List { user } => {
            let tokens = store.tokens(user.as_deref())?;
            with_stdout(|w| {
                for t in &tokens {
                    writeln!(
                        w,
                        "{}\t{}\t{}\t{}",
                        t.id,
                        t.user,
                        t.created,
                        if t.revoked { "revoked" } else { "active" }
                    )?;
                }
                Ok(())
            })
            .map_err(io)?;
        }
    }
    Ok(Outcome::Ok)
}
