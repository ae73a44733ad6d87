//! The server's configuration: a TOML file (see `sightline.example.toml` at
//! the repository root) with command-line overrides applied on top by the
//! binary, which sets the public fields after [`ServerConfig::load`].
//!
//! Everything is checked before the server binds: a config that cannot work
//! is refused with a message naming the setting, never half applied.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::ServerError;

/// The default listen address: plain HTTP on loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8000";

/// Paths the server itself answers (`ui`: the web UI's pages, `api`: the
/// graph API, `feeds`: sensor feeds); an API root may not shadow them.
const RESERVED_PATHS: &[&str] = &["taxii2", "healthz", "metrics", "ui", "api", "feeds"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port to listen on; port 0 picks a free port.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Data directory of the embedded store. Relative paths in a config file
    /// are relative to the file. When unset, the binary's `--data` is used.
    pub data_dir: Option<PathBuf>,
    /// The store, when not the embedded one in `data_dir`: `postgres://…`
    /// (several replicas may share it), `sqlite:DIR` or a directory (see
    /// `sightline_server::store`). `data_dir` still holds `cursor.key`.
    pub store: Option<String>,
    /// Discovery title, description and contact (TAXII 2.1 §4.1).
    #[serde(default = "default_title")]
    pub title: String,
    pub description: Option<String>,
    pub contact: Option<String>,
    /// Path of the API root listed as `default` in discovery.
    pub default_api_root: Option<String>,
    /// Hex, at least 32 bytes: signs `next` cursors. Set it (the same on every
    /// replica) to share cursors; unset, one is generated on first start and
    /// kept in `<data_dir>/cursor.key`, so restarts keep cursors valid.
    pub cursor_key: Option<String>,
    /// Serve plain HTTP on a non-loopback address. Anyone on the network path
    /// then sees passwords and tokens: only behind a TLS-terminating proxy.
    #[serde(default)]
    pub insecure_plain_http_on_network: bool,
    pub tls: Option<TlsConfig>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub api_roots: Vec<ApiRootSection>,
    /// Permissions by collection id or alias.
    #[serde(default)]
    pub collections: BTreeMap<String, CollectionSection>,
    /// Anonymous `GET /taxii2/` and API-root information get a 401 instead
    /// of the server's description. Unset: true unless some collection has
    /// `anonymous_read` (see [`ServerConfig::discovery_private`]).
    #[serde(default)]
    pub discovery_requires_auth: Option<bool>,
    /// `/metrics` without credentials. Unset (false): admins and members of
    /// group `metrics` only.
    #[serde(default)]
    pub metrics_public: bool,
    /// Where audit records go, one JSON line each: `"stderr"` (default) or a
    /// file path (appended to, created 0600).
    pub audit_log: Option<String>,
    /// Indicator lifecycle (issue 16): decay rules, thresholds, what
    /// sightings and verdicts do (`sightline_lifecycle::LifecycleConfig`;
    /// every setting has a built-in default).
    #[serde(default)]
    pub lifecycle: sightline_lifecycle::LifecycleConfig,
    /// Partner feeds (`[[feeds]]`, `sightline_feeds::FeedConfig`): what
    /// `sightline feed ... --config FILE` reads beside the feeds stored by
    /// `feed add` (a name in both: this one).
    #[serde(default)]
    pub feeds: Vec<sightline_feeds::FeedConfig>,
    /// Sensor feeds (`GET /feeds/{collection}/{format}`): how long and how
    /// many computed exports are kept for pollers.
    #[serde(default)]
    pub sensor: SensorSection,
}

/// `[sensor]`: the cache of computed sensor feeds (`crate::sensor`). A kept
/// export is served (200 or 304) while no indicator was added to its
/// collection, no verdict or relationship to the store and no warninglist
/// file changed, and for at most `cache_secs` (scores decay with wall time,
/// and removals, expiry and sightings are noticed only by that bound).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SensorSection {
    /// The longest a computed export is served; 0 computes every request.
    pub cache_secs: u64,
    /// Exports kept at most (least recently used dropped first).
    pub cache_entries: usize,
    /// Bytes of kept exports at most, over all entries.
    pub cache_bytes: usize,
}

impl Default for SensorSection {
    fn default() -> Self {
        SensorSection {
            cache_secs: 60,
            cache_entries: 16,
            cache_bytes: 256 << 20,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Page size when a client gives no `limit`.
    pub default_page_size: usize,
    /// The largest `limit` honoured (larger ones are clamped).
    pub max_page_size: usize,
    /// A request (including reading its body) that takes longer is cut off
    /// with a 408, so slow or stalled clients cannot hold connections forever.
    pub request_timeout_secs: u64,
    /// A client that has not sent its request line and headers this long
    /// after connecting (or after its previous request: idle keep-alive
    /// connections too) is disconnected; a TLS handshake gets as long.
    pub header_read_timeout_secs: u64,
    /// A request body that has not fully arrived this long after the headers
    /// is answered 408 and the connection closed; nothing of it is stored.
    pub body_read_timeout_secs: u64,
    /// On shutdown, in-flight requests get this long to finish.
    pub shutdown_grace_secs: u64,
    /// How long a verified Basic credential or token is trusted without
    /// checking it again (it is dropped sooner when accounts change).
    pub auth_cache_secs: u64,
    /// Objects in one POSTed envelope; more is a 413 and nothing is stored.
    pub max_objects_per_envelope: usize,
    /// Nesting of arrays and objects in a POSTed body (the envelope is depth
    /// 1); deeper is a 400. At most 127, what serde_json's recursion limit lets through.
    pub max_json_depth: usize,
    /// The longest string (value or key, unescaped) in a POSTed body, bytes;
    /// longer is a 413.
    pub max_string_bytes: usize,
    /// JSON values (keys included) in one object of a POSTed envelope; more
    /// is a 413. Bounds the parsed tree validation holds (~50 bytes a value).
    pub max_values_per_object: usize,
    /// Open connections from one client IP address; a connection beyond it is
    /// closed at once (0: no limit). Behind a reverse proxy every client has
    /// the proxy's address: raise it or set 0 there.
    pub max_connections_per_ip: usize,
    /// Open connections in all; a connection beyond it is closed at once.
    /// Unset: the open file limit (raised to its hard limit at start) less
    /// 64, at most 10,000. A larger value is lowered to that.
    pub max_connections: Option<usize>,
    /// A response write that makes no progress this long (a client that
    /// stopped reading) drops the connection and what it held.
    pub write_timeout_secs: u64,
    /// Failed authentications one client address may have at once (a token
    /// bucket): beyond it requests with credentials not already verified get
    /// 429 without a password check. 0: no throttle.
    pub auth_failure_burst: u32,
    /// How fast that bucket refills, failures per second.
    pub auth_failure_per_sec: f64,
    /// POST body bytes being received and processed at once, over all
    /// requests (a semaphore counted in bytes); a POST waits while it would
    /// exceed this, and gets 503 after `post_wait_secs`.
    pub max_inflight_post_bytes: usize,
    /// How long a POST waits for `max_inflight_post_bytes` room.
    pub post_wait_secs: u64,
    /// Bytes of one paged response body (objects, manifest, versions); a
    /// page that would be larger ends early with `more: true` (its first
    /// object always fits).
    pub max_page_bytes: usize,
    /// Bytes of paged response bodies built or being sent at once, over all
    /// requests: pages end early when it is short, and a page with no room
    /// at all gets 503 after waiting up to 10 s. Bounds what clients that
    /// stop reading can pin.
    pub max_inflight_page_bytes: usize,
    /// A web UI session ends after this long without a request.
    pub ui_session_idle_secs: u64,
    /// A web UI session ends this long after sign-in, however busy.
    pub ui_session_max_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            default_page_size: 100,
            max_page_size: 1000,
            request_timeout_secs: 60,
            header_read_timeout_secs: 30,
            body_read_timeout_secs: 60,
            shutdown_grace_secs: 30,
            auth_cache_secs: 300,
            max_objects_per_envelope: 10_000,
            max_json_depth: 64,
            max_string_bytes: 1 << 20,
            max_values_per_object: 1_000_000,
            max_connections_per_ip: 1024,
            max_connections: None,
            write_timeout_secs: 60,
            auth_failure_burst: 10,
            auth_failure_per_sec: 1.0,
            max_inflight_post_bytes: 128 << 20,
            post_wait_secs: 30,
            max_page_bytes: sightline_taxii::PageLimits::default().max_page_bytes,
            max_inflight_page_bytes: sightline_taxii::PageLimits::default().max_inflight_page_bytes,
            ui_session_idle_secs: 30 * 60,
            ui_session_max_secs: 12 * 3600,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiRootSection {
    /// URL path segment: `api1` serves `/api1/`.
    pub path: String,
    pub title: String,
    pub description: Option<String>,
    /// Largest request body in bytes (TAXII 2.1 §4.2 `max_content_length`).
    #[serde(default = "default_max_content_length")]
    pub max_content_length: usize,
    /// Collections served under this root, by id or alias.
    #[serde(default)]
    pub collections: Vec<String>,
}

/// Who may read, write and delete in one collection. Entries are user
/// names, `group:NAME`, or `*` for any signed-in user. Admins may always do
/// everything. The three lists are independent: a writer does not read back
/// (a submission inbox), and only `can_delete` principals who also read and
/// write may delete (TAXII 2.1 §5.7).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionSection {
    #[serde(default)]
    pub can_read: Vec<String>,
    #[serde(default)]
    pub can_write: Vec<String>,
    /// May remove objects, whoever posted them. Default: admins only.
    #[serde(default)]
    pub can_delete: Vec<String>,
    /// Readable without credentials.
    #[serde(default)]
    pub anonymous_read: bool,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8000))
}

fn default_title() -> String {
    "Sightline TAXII 2.1".to_owned()
}

fn default_max_content_length() -> usize {
    100 << 20
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            data_dir: None,
            store: None,
            title: default_title(),
            description: None,
            contact: None,
            default_api_root: None,
            cursor_key: None,
            insecure_plain_http_on_network: false,
            tls: None,
            limits: Limits::default(),
            api_roots: Vec::new(),
            collections: BTreeMap::new(),
            discovery_requires_auth: None,
            metrics_public: false,
            audit_log: None,
            lifecycle: sightline_lifecycle::LifecycleConfig::default(),
            feeds: Vec::new(),
            sensor: SensorSection::default(),
        }
    }
}

impl ServerConfig {
    /// Reads a TOML config file. Relative paths in it (data_dir, TLS files)
    /// are made relative to the file's directory.
    pub fn load(path: &Path) -> Result<ServerConfig, ServerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ServerError::Config(format!("{}: {e}", path.display())))?;
        let mut c = Self::parse(&text)
            .map_err(|e| ServerError::Config(format!("{}: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let rebase = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(d) = &mut c.data_dir {
            rebase(d);
        }
        if let Some(t) = &mut c.tls {
            rebase(&mut t.cert);
            rebase(&mut t.key);
        }
        for f in &mut c.feeds {
            f.rebase(base);
        }
        Ok(c)
    }

    /// Whether anonymous callers are refused discovery and API-root
    /// information: as configured, else true when no collection is readable
    /// without credentials (nothing there for them to discover).
    pub fn discovery_private(&self) -> bool {
        self.discovery_requires_auth
            .unwrap_or_else(|| !self.collections.values().any(|c| c.anonymous_read))
    }

    /// Parses TOML text (no path rebasing).
    pub fn parse(text: &str) -> Result<ServerConfig, ServerError> {
        toml::from_str(text).map_err(|e| ServerError::Config(e.to_string()))
    }

    /// Checks what can be checked without the store: API root paths, limits,
    /// the cursor key, and that plain HTTP stays on loopback unless allowed.
    pub fn validate(&self) -> Result<(), ServerError> {
        let bad = |m: String| Err(ServerError::Config(m));
        for f in &self.feeds {
            f.validate()
                .map_err(|e| ServerError::Config(format!("[[feeds]]: {e}")))?;
        }
        let mut names: Vec<&str> = self.feeds.iter().map(|f| f.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return bad(format!("[[feeds]]: two feeds named {:?}", w[0]));
        }
        if self.tls.is_none()
            && !self.listen.ip().is_loopback()
            && !self.insecure_plain_http_on_network
        {
            return Err(ServerError::InsecureListen(self.listen));
        }
        let l = &self.limits;
        if l.default_page_size == 0 || l.max_page_size == 0 || l.default_page_size > l.max_page_size
        {
            return bad(format!(
                "limits: default_page_size ({}) and max_page_size ({}) must be positive, default <= max",
                l.default_page_size, l.max_page_size
            ));
        }
        for (name, v) in [
            ("request_timeout_secs", l.request_timeout_secs),
            ("header_read_timeout_secs", l.header_read_timeout_secs),
            ("body_read_timeout_secs", l.body_read_timeout_secs),
            ("write_timeout_secs", l.write_timeout_secs),
            ("ui_session_idle_secs", l.ui_session_idle_secs),
            ("ui_session_max_secs", l.ui_session_max_secs),
        ] {
            if v == 0 {
                return bad(format!("limits: {name} must be positive"));
            }
        }
        for (name, v) in [
            ("max_objects_per_envelope", l.max_objects_per_envelope),
            ("max_string_bytes", l.max_string_bytes),
            ("max_values_per_object", l.max_values_per_object),
            ("max_inflight_post_bytes", l.max_inflight_post_bytes),
            ("max_page_bytes", l.max_page_bytes),
            ("max_inflight_page_bytes", l.max_inflight_page_bytes),
            ("max_connections", l.max_connections.unwrap_or(1)),
        ] {
            if v == 0 {
                return bad(format!("limits: {name} must be positive"));
            }
        }
        if l.ui_session_idle_secs > l.ui_session_max_secs {
            return bad(format!(
                "limits: ui_session_idle_secs ({}) must not exceed ui_session_max_secs ({})",
                l.ui_session_idle_secs, l.ui_session_max_secs
            ));
        }
        if !(l.auth_failure_per_sec.is_finite() && l.auth_failure_per_sec > 0.0) {
            return bad("limits: auth_failure_per_sec must be a positive number".to_owned());
        }
        // Below 2 no envelope ({"objects":[{…}]} is 3) could ever pass.
        if !(3..=sightline_taxii::MAX_JSON_DEPTH).contains(&l.max_json_depth) {
            return bad(format!(
                "limits: max_json_depth ({}) must be 3 to {} (serde_json's recursion limit)",
                l.max_json_depth,
                sightline_taxii::MAX_JSON_DEPTH
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for r in &self.api_roots {
            let ok = !r.path.is_empty()
                && r.path.len() <= 64
                && r.path
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
                && !r.path.starts_with('.');
            if !ok {
                return bad(format!(
                    "api_roots: path {:?} must be 1-64 letters, digits, '-', '_' or '.' (not leading)",
                    r.path
                ));
            }
            if RESERVED_PATHS.contains(&r.path.as_str()) {
                return bad(format!("api_roots: path {:?} is reserved", r.path));
            }
            if !seen.insert(r.path.as_str()) {
                return bad(format!("api_roots: path {:?} appears twice", r.path));
            }
            if r.title.trim().is_empty() {
                return bad(format!("api_roots: {:?} needs a title", r.path));
            }
            if r.max_content_length == 0 {
                return bad(format!(
                    "api_roots: {:?} max_content_length must be positive",
                    r.path
                ));
            }
        }
        if let Some(d) = &self.default_api_root {
            if !seen.contains(d.as_str()) {
                return bad(format!(
                    "default_api_root {d:?} is not one of the api_roots"
                ));
            }
        }
        if let Some(k) = &self.cursor_key {
            parse_key(k).map_err(|m| ServerError::Config(format!("cursor_key: {m}")))?;
        }
        for (c, s) in &self.collections {
            for e in s.can_read.iter().chain(&s.can_write).chain(&s.can_delete) {
                crate::policy::Grant::parse(e)
                    .map_err(|m| ServerError::Config(format!("collections.{c}: {m}")))?;
            }
        }
        // Names the field: "lifecycle: rules[0].lifetime_days: …".
        self.lifecycle
            .validate()
            .map_err(|e| ServerError::Config(e.to_string()))?;
        Ok(())
    }
}

/// A cursor key from hex text: at least 32 bytes.
pub(crate) fn parse_key(hex: &str) -> Result<Vec<u8>, String> {
    let hex = hex.trim();
    if hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("must be hexadecimal".into());
    }
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect();
    if bytes.len() < 32 {
        return Err(format!(
            "must be at least 32 bytes (64 hex digits), got {}",
            bytes.len()
        ));
    }
    Ok(bytes)
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The configured cursor key, else the one kept in `<data>/cursor.key`
/// (created with 32 random bytes, readable by the owner only, on first use).
pub(crate) fn cursor_key(config: &ServerConfig, data: &Path) -> Result<Vec<u8>, ServerError> {
    if let Some(k) = &config.cursor_key {
        return parse_key(k).map_err(|m| ServerError::Config(format!("cursor_key: {m}")));
    }
    let path = data.join("cursor.key");
    let io = |e: std::io::Error| ServerError::Io(format!("{}: {e}", path.display()));
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            parse_key(&text).map_err(|m| ServerError::Config(format!("{}: {m}", path.display())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key: [u8; 32] = rand::random();
            std::fs::create_dir_all(data).map_err(io)?;
            // Write then rename, so a crash never leaves a truncated key that
            // would be refused at the next start.
            let tmp = data.join("cursor.key.tmp");
            write_private(&tmp, format!("{}\n", to_hex(&key)).as_bytes()).map_err(io)?;
            std::fs::rename(&tmp, &path).map_err(io)?;
            Ok(key.to_vec())
        }
        Err(e) => Err(io(e)),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_example_shape() {
        let c = ServerConfig::parse(
            r#"
            listen = "127.0.0.1:0"
            default_api_root = "api1"
            [limits]
            max_page_size = 500
            [[api_roots]]
            path = "api1"
            title = "One"
            collections = ["demo"]
            [collections.demo]
            can_read = ["alice", "group:analysts", "*"]
            can_write = ["group:feeders"]
            anonymous_read = true
            "#,
        )
        .expect("parse");
        c.validate().expect("valid");
        assert_eq!(c.limits.max_page_size, 500);
        assert_eq!(c.limits.default_page_size, 100);
        assert_eq!(c.api_roots[0].max_content_length, 100 << 20);
        assert!(c.collections["demo"].anonymous_read);
    }

    /// The server's own paths cannot be API roots: the web UI, the graph
    /// API and the sensor feeds would be shadowed (or shadow TAXII).
    #[test]
    fn api_roots_cannot_take_the_servers_own_paths() {
        for p in ["ui", "api", "feeds", "taxii2"] {
            let e = ServerConfig::parse(&format!(
                "[[api_roots]]\npath = \"{p}\"\ntitle = \"x\"\ncollections = []\n"
            ))
            .and_then(|c| c.validate().map(|()| c))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
            assert!(e.contains("is reserved"), "{p}: {e}");
        }
    }

    /// Issue 16 §4: a `[lifecycle]` that cannot work is refused naming the field.
    #[test]
    fn lifecycle_section_is_checked() {
        let c = ServerConfig::parse("[lifecycle]\nactive_threshold = 40\n").expect("parse");
        c.validate().expect("valid");
        assert_eq!(c.lifecycle.active_threshold, 40.0);
        let bad = "[lifecycle]\n[[lifecycle.rules]]\nname = \"ip\"\nlifetime_days = 0\nspeed = 1\n";
        let c = ServerConfig::parse(bad).expect("parse");
        let err = c
            .validate()
            .expect_err("a lifetime of 0 is refused")
            .to_string();
        assert!(err.contains("lifecycle: rules[0].lifetime_days"), "{err}");
    }

    #[test]
    fn the_example_config_is_valid() {
        let c = ServerConfig::parse(include_str!("../../../sightline.example.toml"))
            .expect("sightline.example.toml parses");
        c.validate().expect("sightline.example.toml is valid");
        assert_eq!(c.api_roots[0].collections, vec!["demo".to_owned()]);
        // The example documents the defaults of the exhaustion limits.
        let (l, d) = (&c.limits, Limits::default());
        assert_eq!(l.max_objects_per_envelope, d.max_objects_per_envelope);
        assert_eq!(l.max_json_depth, d.max_json_depth);
        assert_eq!(l.max_string_bytes, d.max_string_bytes);
        assert_eq!(l.max_connections_per_ip, d.max_connections_per_ip);
        assert_eq!(l.request_timeout_secs, d.request_timeout_secs);
        assert_eq!(l.header_read_timeout_secs, d.header_read_timeout_secs);
        assert_eq!(l.body_read_timeout_secs, d.body_read_timeout_secs);
    }

    #[test]
    fn refuses_bad_configs() {
        let bad = [
            "listen = \"0.0.0.0:8000\"",
            "unknown_key = 1",
            "[[api_roots]]\npath = \"../x\"\ntitle = \"t\"",
            "[[api_roots]]\npath = \"taxii2\"\ntitle = \"t\"",
            "[[api_roots]]\npath = \"ui\"\ntitle = \"t\"",
            "default_api_root = \"nope\"",
            "cursor_key = \"abcd\"",
            "[collections.x]\ncan_read = [\"group:\"]",
            "[collections.x]\ncan_delete = [\"bad name!\"]",
            "discovery_requires_auth = \"yes\"",
            "[limits]\ndefault_page_size = 2000",
            "[limits]\nheader_read_timeout_secs = 0",
            "[limits]\nbody_read_timeout_secs = 0",
            "[limits]\nmax_objects_per_envelope = 0",
            "[limits]\nmax_string_bytes = 0",
            "[limits]\nmax_json_depth = 2",
            "[limits]\nmax_json_depth = 128",
            "[limits]\nui_session_idle_secs = 0",
            "[limits]\nui_session_idle_secs = 7200\nui_session_max_secs = 3600",
        ];
        for text in bad {
            let r = ServerConfig::parse(text).and_then(|c| c.validate());
            assert!(r.is_err(), "accepted: {text}");
        }
        let mut c = ServerConfig::parse("listen = \"0.0.0.0:8000\"").expect("parse");
        assert!(matches!(c.validate(), Err(ServerError::InsecureListen(_))));
        c.insecure_plain_http_on_network = true;
        c.validate().expect("allowed with the flag");
        let v6 = ServerConfig::parse("listen = \"[::1]:8000\"").expect("parse");
        v6.validate().expect("IPv6 loopback is loopback");
    }

    /// Issue 12 §2: private discovery by default unless some collection is
    /// anonymously readable; an explicit setting wins.
    #[test]
    fn discovery_private_default() {
        let parse = |t: &str| ServerConfig::parse(t).expect("parse");
        assert!(parse("").discovery_private(), "nothing anonymous");
        assert!(parse("[collections.a]\ncan_read = [\"*\"]").discovery_private());
        let open = "[collections.a]\nanonymous_read = true";
        assert!(!parse(open).discovery_private());
        let forced = format!("discovery_requires_auth = true\n{open}");
        assert!(parse(&forced).discovery_private());
        assert!(!parse("discovery_requires_auth = false").discovery_private());
    }

    /// The example's commented submission inbox is a valid section.
    #[test]
    fn the_example_inbox_parses() {
        let example = include_str!("../../../sightline.example.toml");
        let start = example
            .find("# [collections.inbox]")
            .expect("inbox example");
        let inbox: String = example[start..]
            .lines()
            .take_while(|l| l.starts_with("# "))
            .map(|l| format!("{}\n", &l[2..]))
            .collect();
        let c = ServerConfig::parse(&inbox).expect("inbox parses");
        c.validate().expect("valid");
        let s = &c.collections["inbox"];
        assert_eq!(s.can_delete, vec!["lead".to_owned()]);
        assert!(!s.can_read.contains(&"group:partners".to_owned()));
    }

    /// A `[[feeds]]` section that cannot work is refused before the server binds.
    #[test]
    fn feeds_are_checked() {
        let ok = "[[feeds]]\nname = \"a\"\nkind = \"csv\"\nurl = \"l.txt\"\ninterval = \"1h\"\n";
        let parse = |t: &str| ServerConfig::parse(t).expect("parses");
        parse(ok).validate().expect("valid feed");
        for bad in [
            ok.replace("1h", "soon"),
            ok.replace("kind = \"csv\"", "kind = \"taxii\""),
            format!("{ok}{ok}"),
        ] {
            assert!(parse(&bad).validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn cursor_key_is_generated_once() {
        let dir = tempfile::tempdir().expect("dir");
        let c = ServerConfig::default();
        let k1 = cursor_key(&c, dir.path()).expect("key");
        let k2 = cursor_key(&c, dir.path()).expect("key again");
        assert_eq!(k1, k2);
        assert_eq!(k1.len(), 32);
    }
}
