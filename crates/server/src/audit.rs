//! The audit log: one JSON line per security-relevant event, separate from
//! the diagnostic log so it can be kept, shipped and read by other tools.
//!
//! Events: `post` (objects added to a collection), `delete` (an object
//! removed from one), `auth_failed` (a request whose credentials were
//! refused: 401 with an `Authorization` header), and the account changes the
//! CLI makes (`user_add`, `user_remove`, `token_create`, `token_revoke`).
//! Each line has `time` (RFC 3339, UTC, microseconds) and `event`, then what
//! applies: `user`, `client` (address), `api_root`, `collection`, `object`,
//! `total`/`success`/`failure` (object counts), `status_id`, `token_id`,
//! `http_status`. Never a password, a token's secret or an `Authorization`
//! header: for a refused Basic credential only the claimed user name is
//! kept, for a refused token only its id.
//!
//! The destination is `audit_log` in the config: `"stderr"` (default) or a
//! file, appended to and created readable by its owner only. The CLI's
//! account commands use `SIGHTLINE_AUDIT_LOG` (same syntax).

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use serde::Serialize;
use sightline_taxii::AuditNote;

use crate::ServerError;

/// The environment variable naming the CLI's audit destination.
pub const AUDIT_LOG_ENV: &str = "SIGHTLINE_AUDIT_LOG";

/// One audit record. Fields that do not apply are left out of the line.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct AuditEvent {
    /// Set by [`AuditLog::record`].
    pub time: String,
    pub event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_root: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
}

/// Where audit records go. Lines are written whole under a lock, so
/// concurrent requests never interleave within a line.
pub struct AuditLog {
    out: Mutex<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog").finish_non_exhaustive()
    }
}

impl AuditLog {
    /// `"stderr"`, or a file path (appended to; created mode 0600).
    pub fn open(destination: &str) -> Result<AuditLog, ServerError> {
        if destination == "stderr" {
            return Ok(AuditLog::to(std::io::stderr()));
        }
        let path = Path::new(destination);
        let mut o = std::fs::OpenOptions::new();
        o.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let f = o
            .open(path)
            .map_err(|e| ServerError::Config(format!("audit_log {}: {e}", path.display())))?;
        Ok(AuditLog::to(f))
    }

    /// The CLI's: [`AUDIT_LOG_ENV`] when set, else standard error.
    pub fn from_env() -> Result<AuditLog, ServerError> {
        match std::env::var(AUDIT_LOG_ENV) {
            Ok(d) if !d.is_empty() => AuditLog::open(&d),
            _ => Ok(AuditLog::to(std::io::stderr())),
        }
    }

    /// Any writer (tests).
    pub fn to(w: impl Write + Send + 'static) -> AuditLog {
        AuditLog {
            out: Mutex::new(Box::new(w)),
        }
    }

    /// Writes `event` as one line, stamped with the current time. A failed
    /// write is logged, never fatal: the request it records already happened.
    pub fn record(&self, mut event: AuditEvent) {
        event.time = now_rfc3339();
        let mut line = match serde_json::to_vec(&event) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "audit record not serialisable");
                return;
            }
        };
        line.push(b'\n');
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = out.write_all(&line).and_then(|()| out.flush()) {
            tracing::error!(error = %e, "audit log write failed");
        }
    }
}

/// Records an account change made by the CLI to [`AuditLog::from_env`]; a
/// destination that cannot be opened is reported on standard error.
pub fn record_cli(event: AuditEvent) {
    match AuditLog::from_env() {
        Ok(log) => log.record(event),
        Err(e) => eprintln!("sightline: audit log: {e}"),
    }
}

fn now_rfc3339() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    // YYYY-MM-DDTHH:MM:SS.ssssssZ: RFC 3339 in UTC.
    sightline_store::format_date_added(micros)
}

/// Who a refused `Authorization` header claimed to be, without its secret:
/// the Basic user name (when it is a valid one; else nothing) or the
/// token's id.
fn claimed(value: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(text) = std::str::from_utf8(value) else {
        return (None, None);
    };
    if let Some(b64) = text.strip_prefix("Basic ") {
        let name = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()
            .and_then(|raw| {
                let colon = raw.iter().position(|&b| b == b':')?;
                String::from_utf8(raw[..colon].to_vec()).ok()
            })
            // Only a name that could exist: nothing typed by mistake (a
            // password in the user field) or forged for the log.
            .filter(|n| sightline_store::accounts::validate_user_name(n).is_ok());
        return (name, None);
    }
    if let Some(token) = text.strip_prefix("Bearer ") {
        let id = token
            .trim()
            .strip_prefix(crate::auth::TOKEN_PREFIX)
            .and_then(|rest| rest.split_once('_'))
            .map(|(id, _secret)| id)
            .filter(|id| {
                !id.is_empty()
                    && id.len() <= 64
                    && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
            .map(str::to_owned);
        return (None, id);
    }
    (None, None)
}

/// Middleware (outermost but for the security headers): records what the
/// TAXII handlers noted ([`AuditNote`]) and refused credentials, with the
/// client's address from the accept loop.
pub(crate) async fn middleware(
    State(log): State<Arc<AuditLog>>,
    req: Request,
    next: Next,
) -> Response {
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip().to_string());
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes().to_vec());
    let resp = next.run(req).await;
    if let Some(n) = resp.extensions().get::<AuditNote>() {
        log.record(AuditEvent {
            event: n.action,
            user: n.user.clone(),
            client,
            api_root: Some(n.api_root.clone()),
            collection: Some(n.collection.clone()),
            object: n.object.clone(),
            total: Some(n.total),
            success: Some(n.success),
            failure: Some(n.failure),
            status_id: n.status_id.clone(),
            http_status: Some(resp.status().as_u16()),
            ..AuditEvent::default()
        });
    } else if resp.status() == StatusCode::UNAUTHORIZED {
        if let Some(a) = authorization {
            let (user, token_id) = claimed(&a);
            log.record(AuditEvent {
                event: "auth_failed",
                user,
                token_id,
                client,
                http_status: Some(401),
                ..AuditEvent::default()
            });
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .write(b)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn one_line_per_record_without_absent_fields() {
        let buf = Buf::default();
        let log = AuditLog::to(buf.clone());
        log.record(AuditEvent {
            event: "token_create",
            user: Some("bob".into()),
            token_id: Some("abc".into()),
            ..AuditEvent::default()
        });
        let text = String::from_utf8(buf.0.lock().expect("buf").clone()).expect("utf-8");
        assert_eq!(text.lines().count(), 1);
        let v: serde_json::Value = serde_json::from_str(text.trim()).expect("JSON");
        assert_eq!(v["event"], "token_create");
        assert_eq!(v["user"], "bob");
        assert!(v.get("client").is_none(), "{v}");
        let t = v["time"].as_str().expect("time");
        assert!(t.ends_with('Z') && t.len() == 27, "RFC 3339 UTC: {t}");
    }

    #[test]
    fn claimed_identity_never_holds_the_secret() {
        let b = |s: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(s)
            )
        };
        assert_eq!(
            claimed(b("bob:hunter2").as_bytes()),
            (Some("bob".into()), None)
        );
        assert_eq!(claimed(b("no colon").as_bytes()), (None, None));
        assert_eq!(claimed(b("bad\nname:pw").as_bytes()), (None, None));
        assert_eq!(
            claimed(b"Bearer sl_0123abcd_SECRETSECRET"),
            (None, Some("0123abcd".into()))
        );
        assert_eq!(claimed(b"Bearer whatever"), (None, None));
        assert_eq!(claimed(b"Negotiate x"), (None, None));
    }
}
