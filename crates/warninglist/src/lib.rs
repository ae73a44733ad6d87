//! MISP warninglists: lists of well-known benign values (public resolvers,
//! reserved ranges, top sites, cloud ranges) that should not raise detections.
//!
//! A list (`list.json` in the MISP format) has a `name`, a `type` saying how
//! its entries match, the entries (`list`) and the MISP attribute types it
//! applies to (`matching_attributes`). [`WarningLists`] compiles any number of
//! lists into indexes answering "is this value on a list, and which" without
//! scanning lists one by one:
//!
//! | type | matches when | index |
//! |---|---|---|
//! | `string` | the value equals an entry | hash set |
//! | `hostname` | the value (or a URL's host) is an entry or a subdomain of one | hash set of suffixes |
//! | `cidr` | the IP address (or network) is inside an entry | per-prefix-length hash tables |
//! | `substring` | an entry occurs in the value | Aho-Corasick |
//! | `regex` | an entry matches the value | one `RegexSet`, size-limited |
//!
//! Entries that cannot be used (an invalid CIDR, a regex the `regex` crate
//! does not accept or that is too big) are skipped and reported per list.
//! Pure: no I/O; the binary reads and stores the files.

mod builtin;

use std::collections::HashMap;
use std::net::IpAddr;

use aho_corasick::AhoCorasick;
use ipnet::IpNet;
use regex::{RegexBuilder, RegexSet, RegexSetBuilder};
use serde::{Deserialize, Serialize};

pub use builtin::builtin_lists;

/// Largest compiled size of one regex entry; bigger ones are skipped.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Largest compiled size of all regex entries together.
pub const REGEX_SET_SIZE_LIMIT: usize = 64 << 20;
/// How many skipped entries each list keeps with their reason.
const SKIPPED_KEPT: usize = 10;

/// How a list's entries match a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ListType {
    #[default]
    String,
    Substring,
    Hostname,
    Cidr,
    Regex,
}

impl ListType {
    pub fn as_str(self) -> &'static str {
        match self {
            ListType::String => "string",
            ListType::Substring => "substring",
            ListType::Hostname => "hostname",
            ListType::Cidr => "cidr",
            ListType::Regex => "regex",
        }
    }
}

/// One warninglist as MISP writes it (`lists/<name>/list.json`). Unknown
/// members are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarningList {
    pub name: String,
    /// MISP writes an integer (a date like 20240115); kept as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<serde_json::Value>,
    #[serde(default)]
    pub description: String,
    #[serde(rename = "type", default)]
    pub kind: ListType,
    pub list: Vec<String>,
    /// MISP attribute types (`ip-dst`, `domain`, `url`, `md5`, …); empty means
    /// every kind of value.
    #[serde(default)]
    pub matching_attributes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// A file that is not a usable warninglist.
#[derive(Debug, thiserror::Error)]
pub enum WarninglistError {
    #[error("not a MISP warninglist: {0}")]
    Format(String),
    #[error("the warninglist has an empty `name`")]
    NoName,
}

impl WarningList {
    /// Parses a `list.json`.
    pub fn from_json(text: &str) -> Result<Self, WarninglistError> {
        let l: WarningList =
            serde_json::from_str(text).map_err(|e| WarninglistError::Format(e.to_string()))?;
        if l.name.trim().is_empty() {
            return Err(WarninglistError::NoName);
        }
        Ok(l)
    }
}

/// What kind of value is being looked up, so that a list only answers for
/// the MISP attribute types it names (a list of resolver IPs says nothing
/// about a file hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Ip,
    Domain,
    Url,
    Email,
    Hash,
    Other,
}

impl ValueKind {
    fn bit(self) -> u8 {
        1 << self as u8
    }

    /// The kind of value an SCO property holds (`ipv4-addr`, `value`), for
    /// callers that look up STIX values.
    pub fn of_sco(sco_type: &str, property: &str) -> ValueKind {
        match (sco_type, property) {
            ("ipv4-addr" | "ipv6-addr", _) => ValueKind::Ip,
            ("domain-name", _) => ValueKind::Domain,
            ("url", _) => ValueKind::Url,
            ("email-addr", _) => ValueKind::Email,
            (_, p) if p.starts_with("hashes") => ValueKind::Hash,
            _ => ValueKind::Other,
        }
    }
}

impl ValueKind {
    /// The kind of a bare value, for when the property it came from does
    /// not say (a `*_ref.value` path): an IP address or CIDR, a URL, an email
    /// address, a hex digest (MD5/SHA-1/SHA-256/SHA-512 length), a host name,
    /// else other. Asking with no kind at all lets lists for other attribute
    /// types answer (MISP's phone-number regexes match IPv4 addresses).
    pub fn guess(value: &str) -> ValueKind {
        let v = value.trim();
        if v.parse::<IpAddr>().is_ok() || v.parse::<IpNet>().is_ok() {
            ValueKind::Ip
        } else if v.contains("://") {
            ValueKind::Url
        } else if v.contains('@') {
            ValueKind::Email
        } else if matches!(v.len(), 32 | 40 | 64 | 128) && v.bytes().all(|c| c.is_ascii_hexdigit())
        {
            ValueKind::Hash
        } else if v.contains('.')
            && v.split('.').all(|l| {
                !l.is_empty()
                    && l.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c >= 0x80)
            })
        {
            ValueKind::Domain
        } else {
            ValueKind::Other
        }
    }
}

/// The kinds of value a MISP attribute type holds.
fn kinds_of_attribute(attr: &str) -> u8 {
    use ValueKind::*;
    let a = attr.to_ascii_lowercase();
    let mut m = 0;
    for part in a.split('|') {
        m |= match part {
            "ip-src" | "ip-dst" | "ip" => Ip.bit(),
            "domain" | "hostname" => Domain.bit(),
            "url" | "uri" | "link" => Url.bit(),
            p if p.contains("email") => Email.bit(),
            p if p.starts_with("sha")
                || p.starts_with("md5")
                || matches!(
                    p,
                    "ssdeep" | "imphash" | "tlsh" | "authentihash" | "impfuzzy" | "pehash"
                ) =>
            {
                Hash.bit()
            }
            "port" => 0,
            _ => Other.bit(),
        };
    }
    m
}

/// A compiled list's description.
#[derive(Debug, Clone, PartialEq)]
pub struct ListInfo {
    pub name: String,
    pub description: String,
    pub kind: ListType,
    pub category: Option<String>,
    /// Entries in the index.
    pub entries: usize,
    /// Entries left out, and the first few with why.
    pub skipped: usize,
    pub skipped_examples: Vec<(String, String)>,
    /// Bit set of [`ValueKind`]s the list answers for.
    kinds: u8,
}

impl ListInfo {
    fn skip(&mut self, entry: &str, why: impl Into<String>) {
        self.skipped += 1;
        if self.skipped_examples.len() < SKIPPED_KEPT {
            self.skipped_examples.push((entry.to_owned(), why.into()));
        }
    }
}

type Ids = Vec<u32>;

/// Many warninglists compiled for lookup. Immutable; build a new one to change it.
#[derive(Debug, Default)]
pub struct WarningLists {
    infos: Vec<ListInfo>,
    exact: HashMap<Box<str>, Ids>,
    hosts: HashMap<Box<str>, Ids>,
    /// Per prefix length, the masked network addresses.
    v4: Vec<(u8, HashMap<u32, Ids>)>,
    v6: Vec<(u8, HashMap<u128, Ids>)>,
    substr: Option<(AhoCorasick, Ids)>,
    regex: Option<(RegexSet, Ids)>,
}

fn add_id<K: std::hash::Hash + Eq>(m: &mut HashMap<K, Ids>, k: K, id: u32) {
    let ids = m.entry(k).or_default();
    if !ids.contains(&id) {
        ids.push(id);
    }
}

/// A hostname entry or value: lower case, without a leading `*.`/`.` or a
/// trailing dot.
fn norm_host(s: &str) -> String {
    let s = s.trim();
    let s = s.strip_prefix("*.").unwrap_or(s);
    let s = s.strip_prefix('.').unwrap_or(s);
    let s = s.strip_suffix('.').unwrap_or(s);
    s.to_ascii_lowercase()
}

/// The host of a URL (`scheme://[user@]host[:port]/…`), else the value itself.
fn host_of(value: &str) -> &str {
    let Some((_, rest)) = value.split_once("://") else {
        return value;
    };
    let auth = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let auth = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    if let Some(v6) = auth.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    auth.split(':').next().unwrap_or(auth)
}

fn mask4(a: u32, len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        a & (u32::MAX << (32 - u32::from(len)))
    }
}

fn mask6(a: u128, len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        a & (u128::MAX << (128 - u32::from(len)))
    }
}

impl WarningLists {
    /// Compiles `lists`. Never fails: unusable entries are skipped and shown
    /// in each list's [`ListInfo`].
    pub fn new(lists: impl IntoIterator<Item = WarningList>) -> Self {
        let mut w = WarningLists::default();
        let mut substr_pats: Vec<String> = Vec::new();
        let mut substr_ids: Ids = Vec::new();
        let mut regex_pats: Vec<String> = Vec::new();
        let mut regex_ids: Ids = Vec::new();
        let mut v4: HashMap<u8, HashMap<u32, Ids>> = HashMap::new();
        let mut v6: HashMap<u8, HashMap<u128, Ids>> = HashMap::new();
        for l in lists {
            let id = w.infos.len() as u32;
            let mut kinds = l
                .matching_attributes
                .iter()
                .fold(0, |m, a| m | kinds_of_attribute(a));
            if kinds == 0 {
                kinds = u8::MAX;
            }
            let mut info = ListInfo {
                name: l.name,
                description: l.description,
                kind: l.kind,
                category: l.category,
                entries: 0,
                skipped: 0,
                skipped_examples: Vec::new(),
                kinds,
            };
            for e in &l.list {
                let entry = e.trim();
                if entry.is_empty() {
                    continue;
                }
                match l.kind {
                    ListType::String => add_id(&mut w.exact, entry.into(), id),
                    ListType::Hostname => {
                        let h = norm_host(entry);
                        if h.is_empty() {
                            info.skip(e, "empty hostname");
                            continue;
                        }
                        add_id(&mut w.hosts, h.into(), id);
                    }
                    ListType::Cidr => {
                        let net = entry
                            .parse::<IpNet>()
                            .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from));
                        match net {
                            Ok(IpNet::V4(n)) => add_id(
                                v4.entry(n.prefix_len()).or_default(),
                                mask4(u32::from(n.addr()), n.prefix_len()),
                                id,
                            ),
                            Ok(IpNet::V6(n)) => add_id(
                                v6.entry(n.prefix_len()).or_default(),
                                mask6(u128::from(n.addr()), n.prefix_len()),
                                id,
                            ),
                            Err(_) => {
                                info.skip(e, "not an IP address or CIDR");
                                continue;
                            }
                        }
                    }
                    ListType::Substring => {
                        substr_pats.push(entry.to_owned());
                        substr_ids.push(id);
                    }
                    ListType::Regex => {
                        // MISP writes some regexes between slashes, PHP style.
                        let pat = entry
                            .strip_prefix('/')
                            .and_then(|p| p.strip_suffix('/'))
                            .unwrap_or(entry);
                        match RegexBuilder::new(pat).size_limit(REGEX_SIZE_LIMIT).build() {
                            Ok(_) => {
                                regex_pats.push(pat.to_owned());
                                regex_ids.push(id);
                            }
                            Err(err) => {
                                info.skip(e, first_line(&err.to_string()));
                                continue;
                            }
                        }
                    }
                }
                info.entries += 1;
            }
            w.infos.push(info);
        }
        let mut v4: Vec<_> = v4.into_iter().collect();
        v4.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
        w.v4 = v4;
        let mut v6: Vec<_> = v6.into_iter().collect();
        v6.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
        w.v6 = v6;
        if !substr_pats.is_empty() {
            match AhoCorasick::new(&substr_pats) {
                Ok(ac) => w.substr = Some((ac, substr_ids)),
                Err(err) => {
                    for (p, id) in substr_pats.iter().zip(&substr_ids) {
                        w.infos[*id as usize].skip(p, err.to_string());
                    }
                }
            }
        }
        if !regex_pats.is_empty() {
            match RegexSetBuilder::new(&regex_pats)
                .size_limit(REGEX_SET_SIZE_LIMIT)
                .build()
            {
                Ok(set) => w.regex = Some((set, regex_ids)),
                Err(err) => {
                    let why = format!(
                        "the lists' regexes together: {}",
                        first_line(&err.to_string())
                    );
                    for (p, id) in regex_pats.iter().zip(&regex_ids) {
                        let info = &mut w.infos[*id as usize];
                        info.entries -= 1;
                        info.skip(p, why.clone());
                    }
                }
            }
        }
        w
    }

    /// The built-in lists (public resolvers, reserved and documentation
    /// ranges, example domains), which need no download.
    pub fn builtin() -> Self {
        Self::new(builtin_lists())
    }

    /// Every compiled list, in the order given.
    pub fn lists(&self) -> &[ListInfo] {
        &self.infos
    }

    pub fn is_empty(&self) -> bool {
        self.infos.is_empty()
    }

    /// The lists `value` is on, as indexes into [`WarningLists::lists`],
    /// ascending. `kind` limits the answer to lists whose
    /// `matching_attributes` cover that kind of value; `None` asks them all.
    pub fn lookup(&self, kind: Option<ValueKind>, value: &str) -> Vec<usize> {
        let mut hits: Vec<u32> = Vec::new();
        let mut take = |ids: &Ids| hits.extend_from_slice(ids);
        if let Some(ids) = self.exact.get(value) {
            take(ids);
        }
        if !self.hosts.is_empty() {
            let h = norm_host(host_of(value));
            let mut suffix = h.as_str();
            loop {
                if let Some(ids) = self.hosts.get(suffix) {
                    take(ids);
                }
                match suffix.split_once('.') {
                    Some((_, rest)) if !rest.is_empty() => suffix = rest,
                    _ => break,
                }
            }
        }
        if !self.v4.is_empty() || !self.v6.is_empty() {
            let ip = value
                .parse::<IpAddr>()
                .map(IpNet::from)
                .or_else(|_| value.parse::<IpNet>());
            match ip {
                Ok(IpNet::V4(n)) => {
                    let a = u32::from(n.network());
                    for (len, table) in &self.v4 {
                        if *len <= n.prefix_len() {
                            if let Some(ids) = table.get(&mask4(a, *len)) {
                                take(ids);
                            }
                        }
                    }
                }
                Ok(IpNet::V6(n)) => {
                    let a = u128::from(n.network());
                    for (len, table) in &self.v6 {
                        if *len <= n.prefix_len() {
                            if let Some(ids) = table.get(&mask6(a, *len)) {
                                take(ids);
                            }
                        }
                    }
                }
                Err(_) => {}
            }
        }
        if let Some((ac, ids)) = &self.substr {
            for m in ac.find_overlapping_iter(value) {
                hits.push(ids[m.pattern().as_usize()]);
            }
        }
        if let Some((set, ids)) = &self.regex {
            for i in set.matches(value).iter() {
                hits.push(ids[i]);
            }
        }
        hits.sort_unstable();
        hits.dedup();
        hits.into_iter()
            .map(|i| i as usize)
            .filter(|&i| kind.is_none_or(|k| self.infos[i].kinds & k.bit() != 0))
            .collect()
    }

    /// The name of the first list `value` is on, if any.
    pub fn first(&self, kind: Option<ValueKind>, value: &str) -> Option<&str> {
        self.lookup(kind, value)
            .first()
            .map(|&i| self.infos[i].name.as_str())
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests;
