//! Pulling partner feeds into the store (issue 15 §1): TAXII 2.1 collections
//! ([`taxii`]) and CSV / plain indicator lists ([`csv`]).
//!
//! A feed is a [`FeedConfig`] (name, kind, URL, target collection,
//! credentials by environment variable name, CA file, interval) and a
//! [`FeedState`] (cursor, counts, errors). Both are kept in the store itself
//! ([`registry`]), as opaque records beside the TAXII status resources, so
//! they survive restarts, are shared by every replica on a PostgreSQL store,
//! and the state is written in the SAME transaction as a page's objects: a
//! crash never leaves a cursor ahead of the objects it covers.
//!
//! Provenance: objects pulled over TAXII are stored byte for byte as received
//! (their own `created_by_ref`), so the feed is recorded beside them, not in
//! them: each feed writes into a collection of its own (alias `feed-NAME`
//! unless configured, titled `Feed NAME`), and `feed status` names it.
//! Objects a feed converts (CSV lines into indicators) are ours to write: they
//! carry `created_by_ref` = the feed's identity ([`feed_identity`],
//! a UUIDv5 of the feed name) and `x_sightline_feed` = the feed name.

pub mod csv;
pub mod edge;
pub mod http;
pub mod misp;
pub mod registry;
pub mod schedule;
pub mod sync;
pub mod taxii;

#[cfg(test)]
mod tests_pull;
#[cfg(test)]
mod testserver;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use registry::{FeedState, RejectionNote, RunCounts};
pub use sync::{sync_feed, SyncOptions, SyncReport};

/// What can go wrong pulling a feed. Every variant is also written into the
/// feed's state (`last_error`), so `feed status` shows it.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The feed's definition cannot work (bad URL, missing env variable, ...).
    #[error("feed {feed:?}: {message}")]
    Config { feed: String, message: String },
    /// No usable answer: connection refused, timeout, TLS failure, a body cut off.
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    /// An HTTP error status (after retries for 429/503).
    #[error("{url}: HTTP {status}{}", if .message.is_empty() { String::new() } else { format!(": {}", .message) })]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    /// A body that is not what the protocol promises: garbage JSON, a wrong
    /// media type, an envelope of the wrong shape.
    #[error("{url}: {message}")]
    BadBody { url: String, message: String },
    /// Reading a local file.
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error(transparent)]
    Store(#[from] sightline_store::StoreError),
}

pub type Result<T, E = FeedError> = std::result::Result<T, E>;

/// The kinds of feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedKind {
    /// A TAXII 2.1 collection (its URL: `…/{api-root}/collections/{id}/`).
    Taxii,
    /// A CSV file or plain list, one indicator a line.
    Csv,
    /// A MISP feed (manifest.json + `<uuid>.json` events), a directory or an http(s) base URL.
    Misp,
}

impl FeedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Taxii => "taxii",
            FeedKind::Csv => "csv",
            FeedKind::Misp => "misp",
        }
    }
}

/// One feed's definition: as `sightline feed add` stores it, and as a
/// `[[feeds]]` section of the server's TOML config reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// Unique, short: names the feed's identity, collection and state.
    pub name: String,
    pub kind: FeedKind,
    /// TAXII: the collection's URL (`https://host/api1/collections/ID/`);
    /// CSV: an http(s) URL or a file path.
    pub url: String,
    /// Target collection (id or alias); default `feed-NAME`, created if missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    /// HTTP Basic user; the password is read from `password_env` at each sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// HTTP Bearer token, read from this environment variable at each sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// PEM file of the CA that signed the server's certificate (added to the
    /// built-in roots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<PathBuf>,
    /// How often `serve` syncs it: `90s`, `15m`, `1h`, `1d`. None: on demand only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// TAXII `limit` per page (the server may answer fewer or more).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Seconds one HTTP request may take, body included (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    /// TAXII: each run starts this many seconds before the cursor (re-read
    /// objects are duplicates), for hubs whose concurrent writers can commit
    /// a date_added earlier than one already served (several replicas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap_secs: Option<u64>,
    /// TAXII: pages committed per store transaction (default 1). More makes
    /// a big pull faster (a commit's cost is paid once for several pages)
    /// but a crash loses up to this many pages' work, which the next sync
    /// fetches again; the cursor is always committed with its pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_pages: Option<u32>,
    /// CSV column mapping.
    #[serde(default, skip_serializing_if = "csv::CsvOptions::is_default")]
    pub csv: csv::CsvOptions,
}

impl FeedConfig {
    /// A feed of `kind` at `url` with every option at its default.
    pub fn new(name: &str, kind: FeedKind, url: &str) -> FeedConfig {
        FeedConfig {
            name: name.to_owned(),
            kind,
            url: url.to_owned(),
            collection: None,
            user: None,
            password_env: None,
            token_env: None,
            ca: None,
            interval: None,
            limit: None,
            timeout_secs: None,
            overlap_secs: None,
            commit_pages: None,
            csv: csv::CsvOptions::default(),
        }
    }

    /// Makes relative paths (the CA file, a CSV list's file) relative to
    /// `dir`: a config file's directory, as its other paths.
    pub fn rebase(&mut self, dir: &std::path::Path) {
        if let Some(ca) = self.ca.as_mut().filter(|c| c.is_relative()) {
            *ca = dir.join(&*ca);
        }
        let is_file = !self.url.contains("://");
        let local = matches!(self.kind, FeedKind::Csv | FeedKind::Misp) && is_file;
        if local && std::path::Path::new(&self.url).is_relative() {
            self.url = dir.join(&self.url).display().to_string();
        }
    }

    /// The collection the feed writes into (id or alias).
    pub fn target_collection(&self) -> String {
        self.collection
            .clone()
            .unwrap_or_else(|| format!("feed-{}", self.name))
    }

    /// The schedule in seconds, when one is set.
    pub fn interval_secs(&self) -> Result<Option<u64>> {
        self.interval
            .as_deref()
            .map(|s| {
                parse_interval(s).ok_or_else(|| {
                    self.bad(format!(
                        "interval {s:?} is not a duration such as 90s, 15m, 1h or 1d"
                    ))
                })
            })
            .transpose()
    }

    /// Checks what can be checked without the network.
    pub fn validate(&self) -> Result<()> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !name_ok {
            return Err(self.bad(
                "a feed name is 1-64 characters among letters, digits, '-', '_' and '.'".into(),
            ));
        }
        self.interval_secs()?;
        if self.password_env.is_some() && self.user.is_none() {
            return Err(self.bad("--password-env needs --user".into()));
        }
        if self.user.is_some() && self.token_env.is_some() {
            return Err(self.bad("choose Basic (--user) or Bearer (--token-env), not both".into()));
        }
        match self.kind {
            FeedKind::Taxii => {
                let u = self.url.trim_end_matches('/');
                let is_http = u.starts_with("http://") || u.starts_with("https://");
                let names_collection = u.rsplit('/').nth(1) == Some("collections");
                if !is_http || !names_collection {
                    return Err(self.bad(format!(
                        "a TAXII feed's URL is a collection's: https://HOST/API-ROOT/collections/ID/ (got {:?})",
                        self.url
                    )));
                }
            }
            FeedKind::Csv => self.csv.validate().map_err(|m| self.bad(m))?,
            FeedKind::Misp => {}
        }
        Ok(())
    }

    fn bad(&self, message: String) -> FeedError {
        FeedError::Config {
            feed: self.name.clone(),
            message,
        }
    }
}

/// `90s`, `15m`, `1h`, `2d`, or plain seconds.
pub fn parse_interval(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = num.parse().ok()?;
    let mul = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(mul).filter(|&v| v > 0)
}

/// The namespace of every UUIDv5 this crate makes (feed identities, record
/// ids, converted indicators): a v5 of a fixed URN in the URL namespace.
pub fn namespace() -> uuid::Uuid {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, b"urn:sightline:feeds")
}

/// The id of a feed's identity: `identity--` + UUIDv5 of the feed name.
pub fn feed_identity_id(feed: &str) -> String {
    format!(
        "identity--{}",
        uuid::Uuid::new_v5(&namespace(), format!("feed\n{feed}").as_bytes())
    )
}

/// When every feed identity was "created": fixed, so that the identity's
/// bytes are the same on every write (a duplicate, never a second version).
pub const IDENTITY_CREATED: &str = "2020-01-01T00:00:00.000Z";

/// The feed's identity (STIX 2.1 §4.5), `created_by_ref` of what it converts.
pub fn feed_identity(feed: &str) -> String {
    serde_json::json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": feed_identity_id(feed),
        "created": IDENTITY_CREATED,
        "modified": IDENTITY_CREATED,
        "name": format!("Feed {feed}"),
        "identity_class": "system",
        "description": format!("Objects converted by the Sightline feed {feed:?}."),
        "x_sightline_feed": feed,
    })
    .to_string()
}

/// Now, as µs since the epoch (status timestamps and converted objects'
/// `modified`; never a TAXII cursor, which only the server's dates make).
pub(crate) fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// Now as a STIX timestamp with millisecond precision.
pub(crate) fn now_stamp() -> String {
    let us = now_micros();
    let s = sightline_stix::format_micros(us - us % 1000);
    // 2024-01-15T10:00:00.123000Z -> 2024-01-15T10:00:00.123Z
    format!("{}Z", &s[..23])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("90s"), Some(90));
        assert_eq!(parse_interval("15m"), Some(900));
        assert_eq!(parse_interval("1h"), Some(3600));
        assert_eq!(parse_interval("2d"), Some(172_800));
        assert_eq!(parse_interval("30"), Some(30));
        assert_eq!(parse_interval("0s"), None);
        assert_eq!(parse_interval("1w"), None);
        assert_eq!(parse_interval("h"), None);
    }

    #[test]
    fn identity_is_deterministic_and_valid() {
        assert_eq!(feed_identity("a"), feed_identity("a"));
        assert_ne!(feed_identity_id("a"), feed_identity_id("b"));
        let v: serde_json::Value = serde_json::from_str(&feed_identity("abuse")).expect("json");
        let diags = sightline_stix::Validator::new().validate(&v);
        assert!(sightline_stix::is_valid(&diags), "{diags:?}");
    }

    #[test]
    fn taxii_urls_name_a_collection() {
        let ok = FeedConfig::new("p", FeedKind::Taxii, "https://h/api1/collections/abc/");
        assert!(ok.validate().is_ok());
        for bad in [
            "https://h/api1/",
            "ftp://h/api1/collections/x/",
            "https://h/api1/collections/",
        ] {
            let c = FeedConfig::new("p", FeedKind::Taxii, bad);
            assert!(c.validate().is_err(), "{bad}");
        }
        assert!(FeedConfig::new("bad name", FeedKind::Csv, "x")
            .validate()
            .is_err());
    }
}
