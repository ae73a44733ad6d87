//! `sightline token create|revoke|list`

use std::path::Path;

use super::parse_duration;
use crate::output::with_stdout;
use crate::{Failure, Outcome};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create an API token for USER (sent as `Authorization: Bearer TOKEN`). The token is
    /// printed once on standard output and cannot be shown again; its id goes to standard error.
    Create {
        /// The user the token signs in as (`sightline user add` made it).
        user: String,
        /// Refuse the token after this long: a number and a unit, `d` (days) or `h` (hours),
        /// e.g. `90d`. Unset: it works until revoked.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        expires: Option<std::time::Duration>,
    },
    /// Revoke a token by id (exit 1 when there is no such active token).
    Revoke {
        /// The token's id, as `token create` and `token list` show it.
        id: String,
    },
    /// List tokens (of USER, when given), tab-separated: id, user, created, expires, last
    /// use (RFC 3339 UTC, `-` for never), state (active, expired or revoked).
    List {
        /// Only this user's tokens.
        user: Option<String>,
    },
}

/// Seconds since the epoch as RFC 3339 UTC; `-` for none.
fn time(secs: Option<u64>) -> String {
    secs.and_then(|s| i64::try_from(s).ok())
        .and_then(|s| s.checked_mul(1_000_000))
        .map_or_else(
            || "-".to_owned(),
            |micros| {
                // YYYY-MM-DDTHH:MM:SS.000000Z → whole seconds.
                let t = sightline_store::format_date_added(micros);
                format!("{}Z", &t[..19])
            },
        )
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
        Command::Create { user, expires } => {
            if store.user(&user)?.is_none() {
                eprintln!("sightline: no user {user:?}");
                return Ok(Outcome::Findings);
            }
            let t = sightline_server::create_token_expiring(store.as_ref(), &user, expires)?;
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
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            with_stdout(|w| {
                for t in &tokens {
                    let state = if t.revoked {
                        "revoked"
                    } else if t.expired(now) {
                        "expired"
                    } else {
                        "active"
                    };
                    writeln!(
                        w,
                        "{}\t{}\t{}\t{}\t{}\t{state}",
                        t.id,
                        t.user,
                        time(Some(t.created)),
                        time(t.expires),
                        time(t.last_used),
                    )?;
                }
                Ok(())
            })
            .map_err(io)?;
        }
    }
    Ok(Outcome::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("90d"),
            Ok(std::time::Duration::from_secs(90 * 86_400))
        );
        assert_eq!(
            parse_duration("12h"),
            Ok(std::time::Duration::from_secs(12 * 3_600))
        );
        for bad in ["", "d", "0d", "90", "90m", "-1d", "1.5d", "99999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(time(None), "-");
        assert_eq!(time(Some(0)), "1970-01-01T00:00:00Z");
    }
}
