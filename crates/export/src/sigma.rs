//! Sigma rules (integrations digest §3): one rule per indicator and log
//! source, field names from the digest's §3.3/§3.5 tables.
//!
//! | STIX | logsource | field |
//! |---|---|---|
//! | `domain-name:value` | `category: dns` | `query` |
//! | `url:value`, User-Agent | `category: proxy` | `c-uri`, `c-useragent` |
//! | `ipv4/6-addr:value` | `category: firewall` | `src_ip` or `dst_ip` (`\|cidr` for a range) |
//! | `network-traffic:src_ref/dst_ref.value`, ports | `category: firewall` | `src_ip`, `dst_ip`, `src_port`, `dst_port` |
//! | `file:hashes` MD5/SHA-1/SHA-256 | `product: windows`, `category: process_creation` | `Hashes\|contains: 'SHA256=...'` |
//! | `file:name` | `product: windows`, `category: file_event` | `TargetFilename\|endswith: '\name'` |
//!
//! Comparisons of one observation on one log source are one selection (a
//! map: AND); alternatives are `selection_N` joined by `1 of selection_*`.
//! `id` is UUIDv5 of the indicator id (of `<id>|<logsource>` when one
//! indicator gives several rules, which then name each other in `related`).
//! `pattern_type: sigma` indicators are their own rule text.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::terms::{HashAlgo, Prop, Term, TermValue};
use crate::Indicator;

/// The namespace of the rules' UUIDv5 ids.
pub const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x8d6b_0b5e_6a34_4f0e_b1f2_3c5d_7e9a_1b2c);

/// A log source: its key (for ids and file names) and its YAML lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Source {
    Dns,
    Proxy,
    Firewall,
    ProcessCreation,
    FileEvent,
}

impl Source {
    fn key(self) -> &'static str {
        match self {
            Source::Dns => "dns",
            Source::Proxy => "proxy",
            Source::Firewall => "firewall",
            Source::ProcessCreation => "process_creation",
            Source::FileEvent => "file_event",
        }
    }
    fn yaml(self) -> &'static str {
        match self {
            Source::Dns => "    category: dns\n",
            Source::Proxy => "    category: proxy\n",
            Source::Firewall => "    category: firewall\n",
            Source::ProcessCreation => "    product: windows\n    category: process_creation\n",
            Source::FileEvent => "    product: windows\n    category: file_event\n",
        }
    }
}

/// A selection: field (with modifiers) → values (a list is OR).
pub(crate) type Selection = Vec<(String, Vec<Val>)>;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Str(String),
    Int(u16),
}

/// Sigma's string escaping: `*`, `?` and `\` are wildcards or the escape.
fn sigma_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A YAML single-quoted scalar; control characters cannot be written in
/// one, so the caller refuses them first.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The log source and selections (OR) of one alternative.
pub(crate) fn alternative(terms: &[Term]) -> Result<(Source, Vec<Selection>), String> {
    if let Some(t) = terms
        .iter()
        .find(|t| matches!(&t.value, TermValue::Str(s) if s.chars().any(char::is_control)))
    {
        return Err(format!("{}: a control character in a value", t.path));
    }
    // An address of either direction alone: source OR destination.
    if let [t] = terms {
        if t.prop == Prop::Addr {
            let (field, v) = ip_field(&t.value)?;
            return Ok((
                Source::Firewall,
                vec![
                    vec![(format!("src_ip{field}"), vec![v.clone()])],
                    vec![(format!("dst_ip{field}"), vec![v])],
                ],
            ));
        }
    }
    let mut source = None;
    let mut sel: Selection = Vec::new();
    for t in terms {
        let (s, field, vals) = field_of(t)?;
        if source.is_some_and(|x| x != s) {
            return Err("AND of comparisons that no one Sigma log source holds together".into());
        }
        if sel.iter().any(|(f, _)| *f == field) {
            return Err(format!("two values for {field} in one observation"));
        }
        source = Some(s);
        sel.push((field, vals));
    }
    let source = source.ok_or("an empty observation")?;
    Ok((source, vec![sel]))
}

fn ip_field(v: &TermValue) -> Result<(&'static str, Val), String> {
    match v {
        TermValue::Addr(a) => Ok(("", Val::Str(a.to_string()))),
        TermValue::Net(n) => Ok(("|cidr", Val::Str(n.to_string()))),
        _ => Err("not an address".into()),
    }
}

fn field_of(t: &Term) -> Result<(Source, String, Vec<Val>), String> {
    let s = |v: &str| vec![Val::Str(sigma_str(v))];
    Ok(match (&t.prop, &t.value) {
        (Prop::Domain, TermValue::Str(d)) => (Source::Dns, "query".into(), s(d)),
        (Prop::Url, TermValue::Str(u)) => (Source::Proxy, "c-uri".into(), s(u)),
        (Prop::UserAgent, TermValue::Str(u)) => (Source::Proxy, "c-useragent".into(), s(u)),
        (Prop::DstAddr | Prop::SrcAddr, v) => {
            let (m, v) = ip_field(v)?;
            let f = if t.prop == Prop::DstAddr {
                "dst_ip"
            } else {
                "src_ip"
            };
            (Source::Firewall, format!("{f}{m}"), vec![v])
        }
        (Prop::DstPort, TermValue::Port(p)) => {
            (Source::Firewall, "dst_port".into(), vec![Val::Int(*p)])
        }
        (Prop::SrcPort, TermValue::Port(p)) => {
            (Source::Firewall, "src_port".into(), vec![Val::Int(*p)])
        }
        (Prop::FileHash(a), TermValue::Str(h)) => {
            let key = match a {
                HashAlgo::Md5 => "MD5",
                HashAlgo::Sha1 => "SHA1",
                HashAlgo::Sha256 => "SHA256",
                a => return Err(format!("Sysmon's Hashes field has no {}", a.stix_key())),
            };
            if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("{h:?} is not a hex digest"));
            }
            (
                Source::ProcessCreation,
                "Hashes|contains".into(),
                vec![Val::Str(format!("{key}={}", h.to_ascii_uppercase()))],
            )
        }
        (Prop::FileName, TermValue::Str(n)) => {
            if n.contains(['\\', '/']) {
                return Err("a file name with a path separator".into());
            }
            (
                Source::FileEvent,
                "TargetFilename|endswith".into(),
                vec![Val::Str(sigma_str(&format!("\\{n}")))],
            )
        }
        (Prop::Other(p), _) => {
            return Err(format!("{p}: no field in the digest's Sigma log sources"))
        }
        (p, _) => {
            return Err(format!(
                "{}: no field in the digest's Sigma log sources",
                match p {
                    Prop::Email => "email-addr:value",
                    Prop::CertHash(_) => "x509-certificate:hashes",
                    Prop::AccountLogin => "user-account:account_login",
                    Prop::Protocol => "network-traffic:protocols",
                    _ => t.path.as_str(),
                }
            ))
        }
    })
}

/// The rules of one indicator: per log source, its selections.
#[derive(Debug, Default)]
pub(crate) struct Rules {
    pub by_source: BTreeMap<Source, Vec<Selection>>,
}

fn date(t: Option<&str>) -> Option<&str> {
    t.and_then(|t| t.get(..10)).filter(|d| {
        d.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
    })
}

fn level(c: Option<u8>) -> &'static str {
    match c {
        Some(c) if c >= 80 => "high",
        Some(c) if c >= 50 => "medium",
        Some(_) => "low",
        None => "medium",
    }
}

/// A tag part: lower case, `[a-z0-9_.-]` only.
fn tag(s: &str) -> String {
    s.to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn tags(ind: &Indicator) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in &ind.attack_phases {
        out.push(format!("attack.{}", tag(p)));
    }
    for t in &ind.indicates {
        // Techniques (T), groups (G), software (S) by their ATT&CK id.
        if let Some(a) = &t.attack_id {
            if a.starts_with(['T', 'G', 'S'])
                && a.len() > 1
                && a[1..].bytes().all(|b| b.is_ascii_digit() || b == b'.')
            {
                out.push(format!("attack.{}", tag(a)));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The rule files of one indicator: `(file name, YAML)`.
pub(crate) fn write(
    ind: &Indicator,
    rules: &Rules,
    notes: &[String],
    base_url: Option<&str>,
) -> Vec<(String, String)> {
    let many = rules.by_source.len() > 1;
    let id_of = |s: Source| {
        if many {
            uuid::Uuid::new_v5(&NAMESPACE, format!("{}|{}", ind.id, s.key()).as_bytes())
        } else {
            uuid::Uuid::new_v5(&NAMESPACE, ind.id.as_bytes())
        }
    };
    let uuid_part = ind.id.trim_start_matches("indicator--").replace('-', "_");
    let mut out = Vec::new();
    for (source, selections) in &rules.by_source {
        let mut y = String::with_capacity(1024);
        for n in notes {
            let _ = writeln!(y, "# {}", crate::one_line(n));
        }
        let title = ind.name.as_deref().unwrap_or(&ind.id);
        let _ = writeln!(
            y,
            "title: {}",
            quoted(&crate::one_line(&format!(
                "Sightline IOC: {title} ({})",
                source.key()
            )))
        );
        let _ = writeln!(y, "id: {}", id_of(*source));
        if many {
            y.push_str("related:\n");
            for other in rules.by_source.keys().filter(|s| *s != source) {
                let _ = writeln!(y, "    - id: {}\n      type: similar", id_of(*other));
            }
        }
        y.push_str("status: experimental\n");
        let _ = writeln!(
            y,
            "description: {}",
            quoted(&format!("Generated by Sightline from {}", ind.id))
        );
        let mut refs: Vec<String> = base_url
            .map(|b| crate::ui_link(b, &ind.id))
            .into_iter()
            .collect();
        refs.extend(
            ind.references
                .iter()
                .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
                .map(|u| crate::one_line(u)),
        );
        if !refs.is_empty() {
            y.push_str("references:\n");
            for r in refs {
                let _ = writeln!(y, "    - {}", quoted(&r));
            }
        }
        y.push_str("author: Sightline\n");
        if let Some(d) = date(ind.created.as_deref()) {
            let _ = writeln!(y, "date: {d}");
        }
        if let Some(d) = date(ind.modified.as_deref()) {
            let _ = writeln!(y, "modified: {d}");
        }
        let t = tags(ind);
        if !t.is_empty() {
            y.push_str("tags:\n");
            for t in t {
                let _ = writeln!(y, "    - {t}");
            }
        }
        y.push_str("logsource:\n");
        y.push_str(source.yaml());
        y.push_str("detection:\n");
        for (i, sel) in selections.iter().enumerate() {
            let _ = writeln!(y, "    selection_{}:", i + 1);
            for (field, vals) in sel {
                let v = |v: &Val| match v {
                    Val::Str(s) => quoted(s),
                    Val::Int(i) => i.to_string(),
                };
                match vals.as_slice() {
                    [one] => {
                        let _ = writeln!(y, "        {field}: {}", v(one));
                    }
                    many => {
                        let _ = writeln!(y, "        {field}:");
                        for x in many {
                            let _ = writeln!(y, "            - {}", v(x));
                        }
                    }
                }
            }
        }
        if selections.len() == 1 {
            y.push_str("    condition: selection_1\n");
        } else {
            y.push_str("    condition: 1 of selection_*\n");
        }
        y.push_str("falsepositives:\n    - Unknown\n");
        let _ = writeln!(y, "level: {}", level(ind.confidence));
        let _ = writeln!(y, "x_sightline_indicator: {}", ind.id);
        out.push((format!("sightline_{uuid_part}_{}.yml", source.key()), y));
    }
    out
}

/// A `pattern_type: sigma` indicator's own rule text: one enclosing `[...]`
/// removed (misp-stix writes them so, digest §3.5), a final newline added.
pub(crate) fn own_text(ind: &Indicator) -> (String, String) {
    let t = ind.pattern.trim();
    let t = if t.starts_with('[') && t.ends_with(']') && t.len() >= 2 {
        t[1..t.len() - 1].trim()
    } else {
        t
    };
    let uuid_part = ind.id.trim_start_matches("indicator--").replace('-', "_");
    (format!("sightline_{uuid_part}.yml"), format!("{t}\n"))
}
