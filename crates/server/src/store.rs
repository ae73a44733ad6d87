//! Choosing the store from one string, as `--store` and the config's `store`
//! give it:
//!
//! | spec | store |
//! |---|---|
//! | `postgres://…` or `postgresql://…` | PostgreSQL (`sightline-store-postgres`), migrated on open |
//! | `sqlite:DIR` | the embedded SQLite store in `DIR` (created when missing) |
//! | `host=… dbname=…` (libpq key=value) | refused: not a directory; use a `postgres://` URL |
//! | any other text | a directory path: SQLite, as `sqlite:DIR` |
//!
//! A PostgreSQL password (`user:pw@` or `?password=`) never appears in a
//! message or log: [`redact`] for the spec itself, and every error of opening
//! the store has the password's text replaced (issue 12 §4).
//!
//! Everything above this module holds an `Arc<dyn Store>` and never names a
//! backend.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sightline_store::{Store, StoreError};
use sightline_store_postgres::PgStore;
use sightline_store_sqlite::SqliteStore;

/// Where a store lives.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// The embedded store's data directory.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string.
    Postgres(String),
}

// The URL may carry a password: Debug and Display show it redacted.
impl fmt::Debug for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreSpec({self})")
    }
}

impl fmt::Display for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreSpec::Sqlite(d) => write!(f, "sqlite:{}", d.display()),
            StoreSpec::Postgres(u) => f.write_str(&redact(u)),
        }
    }
}

impl StoreSpec {
    /// Parses a spec (see the module doc). An empty one is refused.
    pub fn parse(spec: &str) -> Result<StoreSpec, StoreError> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(StoreError::Invalid(
                "an empty store: give a directory, sqlite:DIR or postgres://…".into(),
            ));
        }
        if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            return Ok(StoreSpec::Postgres(spec.to_owned()));
        }
        if looks_like_key_value(spec) {
            return Err(StoreError::Invalid(format!(
                "{}: this looks like a PostgreSQL key=value connection string, not a \
                 directory; give a postgres://USER@HOST/DB URL (or sqlite:DIR for a \
                 directory with such a name)",
                redact(spec)
            )));
        }
        if let Some(dir) = spec.strip_prefix("sqlite:") {
            if dir.is_empty() {
                return Err(StoreError::Invalid(
                    "sqlite: needs a directory (sqlite:DIR)".into(),
                ));
            }
            return Ok(StoreSpec::Sqlite(PathBuf::from(dir)));
        }
        Ok(StoreSpec::Sqlite(PathBuf::from(spec)))
    }

    /// The SQLite store in `dir`.
    pub fn sqlite(dir: &Path) -> StoreSpec {
        StoreSpec::Sqlite(dir.to_owned())
    }

    /// Opens the store, migrating its schema.
    pub fn open(&self) -> Result<Arc<dyn Store>, StoreError> {
        match self {
            StoreSpec::Sqlite(dir) => Ok(Arc::new(
                SqliteStore::open(dir).map_err(|e| in_dir(e, dir))?,
            )),
            StoreSpec::Postgres(url) => {
                Ok(Arc::new(PgStore::open(url).map_err(|e| scrub(e, url))?))
            }
        }
    }

    /// Runs the schema migrations alone (`sightline migrate`). Returns a
    /// line saying what was done.
    pub fn migrate(&self) -> Result<String, StoreError> {
        match self {
            StoreSpec::Sqlite(dir) => {
                SqliteStore::open(dir).map_err(|e| in_dir(e, dir))?;
                Ok(format!("{self}: schema is current"))
            }
            StoreSpec::Postgres(url) => {
                let hide = |e| scrub(e, url);
                let s = PgStore::connect(url).map_err(hide)?;
                let applied = s.migrate().map_err(hide)?;
                let (v, _) = s.schema_version().map_err(hide)?;
                Ok(if applied.is_empty() {
                    format!("{}: schema version {v} is current", s.label())
                } else {
                    format!(
                        "{}: applied migrations {applied:?}; schema version {v}",
                        s.label()
                    )
                })
            }
        }
    }
}

/// Opens the store named by `spec` (see [`StoreSpec::parse`]).
pub fn open_store(spec: &str) -> Result<Arc<dyn Store>, StoreError> {
    StoreSpec::parse(spec)?.open()
}

/// libpq connection keywords, as in `host=db.example password=…`.
const PG_KEYWORDS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "user",
    "password",
    "passfile",
    "dbname",
    "sslmode",
    "sslrootcert",
    "application_name",
    "connect_timeout",
    "options",
    "target_session_attrs",
];

/// Whether `spec` is a key=value connection string (some word is a libpq
/// keyword followed by `=`), which must not be taken for a directory.
fn looks_like_key_value(spec: &str) -> bool {
    spec.split_whitespace().any(|w| {
        w.split_once('=')
            .is_some_and(|(k, _)| PG_KEYWORDS.contains(&k.to_ascii_lowercase().as_str()))
    })
}

/// `spec` with any PostgreSQL password replaced by `***`: the `user:pw@`
/// of a URL (up to its last `@` before the query, so a password holding
/// `@` or `/` is hidden whole), a `password=` query parameter, and the
/// `password=` of a key=value string (quoted or not). Other text is kept.
pub fn redact(spec: &str) -> String {
    let mut out = String::with_capacity(spec.len());
    let mut from = 0;
    for r in password_spans(spec) {
        out.push_str(&spec[from..r.start]);
        out.push_str("***");
        from = r.end;
    }
    out.push_str(&spec[from..]);
    out
}

/// Where the passwords are in `spec`, in order, not overlapping.
fn password_spans(spec: &str) -> Vec<std::ops::Range<usize>> {
    let mut spans = Vec::new();
    let Some(rest) = spec
        .strip_prefix("postgres://")
        .or_else(|| spec.strip_prefix("postgresql://"))
    else {
        key_value_spans(spec, &mut spans);
        return spans;
    };
    let base = spec.len() - rest.len();
    let query_at = rest.find('?').unwrap_or(rest.len());
    let mut query_from = query_at;
    if let Some(at) = rest[..query_at].rfind('@').or_else(|| rest.rfind('@')) {
        if let Some(colon) = rest[..at].find(':') {
            spans.push(base + colon + 1..base + at);
        }
        if at > query_at {
            query_from = rest[at..].find('?').map_or(rest.len(), |q| at + q);
        }
    }
    if query_from < rest.len() {
        let mut pos = query_from + 1;
        for kv in rest[query_from + 1..].split('&') {
            if let Some((k, _)) = kv.split_once('=') {
                if k.eq_ignore_ascii_case("password") {
                    spans.push(base + pos + k.len() + 1..base + pos + kv.len());
                }
            }
            pos += kv.len() + 1;
        }
    }
    spans
}

/// The key=value form: `password = 'it\'s secret'` or `password=x`.
fn key_value_spans(spec: &str, spans: &mut Vec<std::ops::Range<usize>>) {
    let lower = spec.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("password") {
        let key = from + i;
        from = key + "password".len();
        if key > 0 && !lower[..key].ends_with(char::is_whitespace) {
            continue;
        }
        let after = &spec[from..];
        let Some(eq) = after.trim_start().strip_prefix('=') else {
            continue;
        };
        let value = eq.trim_start();
        let start = spec.len() - value.len();
        let end = match value.strip_prefix('\'') {
            // A quoted value ends at an unescaped quote (libpq: \' and \\).
            Some(q) => {
                let mut end = spec.len();
                let mut escaped = false;
                for (j, c) in q.char_indices() {
                    match c {
                        _ if escaped => escaped = false,
                        '\\' => escaped = true,
                        '\'' => {
                            end = start + 1 + j + 1;
                            break;
                        }
                        _ => {}
                    }
                }
                end
            }
            None => start + value.find(char::is_whitespace).unwrap_or(value.len()),
        };
        spans.push(start..end);
        from = end;
    }
}

/// The password texts in `spec` (as written, percent-decoded and unquoted),
/// longest first, to scrub from messages a lower layer built from it.
fn secrets(spec: &str) -> Vec<String> {
    let mut found = Vec::new();
    for r in password_spans(spec) {
        let text = &spec[r];
        let unquoted = text
            .strip_prefix('\'')
            .and_then(|t| t.strip_suffix('\''))
            .unwrap_or(text);
        for t in [
            text.to_owned(),
            unquoted.to_owned(),
            percent_decode(unquoted),
        ] {
            if !t.is_empty() {
                found.push(t);
            }
        }
    }
    found.sort_by_key(|s| std::cmp::Reverse(s.len()));
    found.dedup();
    found
}

/// `%XX` escapes decoded (a malformed one is kept as written).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `e` with every password text of `spec` replaced by `***`: in its message
/// and in its cause, which is then kept as text only.
fn scrub(e: StoreError, spec: &str) -> StoreError {
    let secrets = secrets(spec);
    if secrets.is_empty() {
        return e;
    }
    e.map_text(|m| secrets.iter().fold(m, |m, s| m.replace(s.as_str(), "***")))
}

/// SQLite messages name the file; make sure they name the directory too.
fn in_dir(e: StoreError, dir: &Path) -> StoreError {
    match e {
        StoreError::Io { message, source } if !message.contains(&*dir.to_string_lossy()) => {
            StoreError::Io {
                message: format!("{}: {message}", dir.display()),
                source,
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(
            StoreSpec::parse("sqlite:/tmp/x").expect("ok"),
            StoreSpec::Sqlite("/tmp/x".into())
        );
        assert_eq!(
            StoreSpec::parse("./data").expect("ok"),
            StoreSpec::Sqlite("./data".into())
        );
        assert!(matches!(
            StoreSpec::parse("postgresql://u:pw@h/db").expect("ok"),
            StoreSpec::Postgres(_)
        ));
        assert_eq!(
            StoreSpec::parse("postgres://u:pw@h/db")
                .expect("ok")
                .to_string(),
            "postgres://u:***@h/db",
            "the password never shows"
        );
        assert!(StoreSpec::parse("").is_err());
        assert!(StoreSpec::parse("sqlite:").is_err());
    }

    /// Issue 12 §4: a password never shows, in any form a connection
    /// string can carry it.
    #[test]
    fn passwords_are_redacted_everywhere() {
        for (spec, want) in [
            ("postgres://u:pw@h/db", "postgres://u:***@h/db"),
            (
                "postgresql://u@h/db?password=s3cret&sslmode=require",
                "postgresql://u@h/db?password=***&sslmode=require",
            ),
            (
                "postgres://u:p@ss/w0rd@h:5432/db?application_name=a",
                "postgres://u:***@h:5432/db?application_name=a",
            ),
            (
                "postgres://u:a@h/db?PASSWORD=b",
                "postgres://u:***@h/db?PASSWORD=***",
            ),
            ("postgres://h/db", "postgres://h/db"),
            (
                "host=h password=secret user=u",
                "host=h password=*** user=u",
            ),
            (
                "host=h password = 'it\\'s secret' dbname=d",
                "host=h password = *** dbname=d",
            ),
            ("dbname=d Password=x", "dbname=d Password=***"),
        ] {
            assert_eq!(redact(spec), want, "{spec}");
        }
        let e = StoreError::Invalid(
            "postgres://u:p%40ss@h/db?password=zz: connection refused; p@ss zz".into(),
        );
        let m = scrub(e, "postgres://u:p%40ss@h/db?password=zz").to_string();
        assert!(
            !m.contains("p%40ss") && !m.contains("p@ss") && !m.contains("zz"),
            "{m}"
        );
        assert!(m.contains("connection refused"), "{m}");
        // The cause is scrubbed too, in its text and its Debug form.
        let cause = std::io::Error::other("server said: password zz for p@ss is wrong");
        let e = StoreError::busy("h:5432: refused").caused_by(cause);
        let e = scrub(e, "postgres://u:p%40ss@h/db?password=zz");
        let source = std::error::Error::source(&e).map(ToString::to_string);
        let all = format!("{e} {source:?} {e:?}");
        assert!(!all.contains("p@ss") && !all.contains("zz"), "{all}");
        assert!(all.contains("is wrong"), "{all}");
        let spec = StoreSpec::parse("postgres://u:hunter2@h/db?password=hunter3").expect("ok");
        assert!(!format!("{spec} {spec:?}").contains("hunter"));
    }

    /// A key=value connection string is refused, not made a directory (and
    /// the message does not repeat its password).
    #[test]
    fn key_value_strings_are_not_directories() {
        let e = StoreSpec::parse("host=db.example dbname=intel password=topsecret")
            .expect_err("refused");
        let m = e.to_string();
        assert!(m.contains("postgres://") && !m.contains("topsecret"), "{m}");
        assert!(StoreSpec::parse("dbname=intel").is_err());
        assert_eq!(
            StoreSpec::parse("sqlite:host=odd").expect("explicit"),
            StoreSpec::Sqlite("host=odd".into())
        );
        assert_eq!(
            StoreSpec::parse("./a=b").expect("not a keyword"),
            StoreSpec::Sqlite("./a=b".into())
        );
    }
}
