//! Suricata rules and datasets (integrations digest §2.1, §2.4).
//!
//! `suricata`: one rule per exact alternative (a domain gets a DNS, a TLS SNI
//! and an HTTP Host rule; an address or CIDR an IP-only rule whose header
//! carries the direction, ports and protocol; an http URL a host + raw URI
//! rule on port 80 or the URL's port), each with `metadata: sightline_id
//! <indicator id>` so an EVE alert maps back. `suricata-datasets`: bulk
//! values (domains, addresses, MD5/SHA-1/SHA-256 file hashes) go into set
//! files that a few fixed rules load; the rest stays one rule each.
//!
//! SIDs come from the local range (1,000,000-1,999,999 by default): each
//! rule's SID is a hash of its key (indicator id, alternative text, rule
//! kind) into the range, probing forward past taken SIDs in key order, so a
//! rule keeps its SID when other indicators come and go (a collision moves
//! it, deterministically). `rev` is the indicator's `modified` in seconds,
//! so a new version of an indicator raises it. Only keywords listed in the
//! digest are used ([`KEYWORDS`]).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::terms::{HashAlgo, Prop, Term, TermValue};
use crate::{ExportError, Indicator};

/// Every rule keyword the exporter writes (all from the digest's §2.4 lists).
pub const KEYWORDS: &[&str] = &[
    "msg",
    "flow",
    "dns.query",
    "tls.sni",
    "http.host",
    "http.uri.raw",
    "content",
    "nocase",
    "bsize",
    "to_lowercase",
    "dataset",
    "ip.src",
    "ip.dst",
    "filemd5",
    "filesha1",
    "filesha256",
    "classtype",
    "metadata",
    "requires",
    "sid",
    "rev",
];

/// The local SID range of Suricata's `rules/README.md`.
pub const DEFAULT_SID_START: u32 = 1_000_000;
pub const DEFAULT_SID_END: u32 = 1_999_999;

/// A rule before its SID is known.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    key: String,
    /// Everything before `sid:`.
    text: String,
    rev: u32,
}

/// The dataset and list files of `suricata-datasets`.
#[derive(Debug, Default)]
pub(crate) struct Sets {
    pub domains: BTreeSet<String>,
    pub ips: BTreeSet<String>,
    pub ips_src: BTreeSet<String>,
    pub ips_dst: BTreeSet<String>,
    pub md5: BTreeSet<String>,
    pub sha1: BTreeSet<String>,
    pub sha256: BTreeSet<String>,
}

impl Sets {
    /// Moves `other`'s values into these (a slice formatted on another thread).
    pub(crate) fn append(&mut self, other: &mut Sets) {
        self.domains.append(&mut other.domains);
        self.ips.append(&mut other.ips);
        self.ips_src.append(&mut other.ips_src);
        self.ips_dst.append(&mut other.ips_dst);
        self.md5.append(&mut other.md5);
        self.sha1.append(&mut other.sha1);
        self.sha256.append(&mut other.sha256);
    }
}

fn rev_of(ind: &Indicator) -> u32 {
    let t = ind
        .modified
        .as_deref()
        .or(ind.created.as_deref())
        .and_then(|t| sightline_stix::Timestamp::parse(t).ok())
        .map(|t| t.micros() / 1_000_000)
        .unwrap_or(1);
    u32::try_from(t.max(1)).unwrap_or(u32::MAX)
}

/// A `content` string: printable ASCII except `"`, `;`, `\` and `|` as is,
/// everything else as `|hh|` bytes.
fn content(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for b in s.bytes() {
        if (0x20..0x7f).contains(&b) && !matches!(b, b'"' | b';' | b'\\' | b'|') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "|{b:02x}|");
        }
    }
    out
}

/// A `msg` text: `"`, `;` and `\` escaped with a backslash, control
/// characters dropped, long values cut (a message, not the match).
fn msg(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i >= 120 {
            out.push_str("...");
            break;
        }
        match c {
            '"' | ';' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A rule's `metadata` value: the indicator id (`sightline match --format
/// suricata` maps EVE alerts back by it), then its lifecycle score when the
/// export scored (issue 16), each a `key value` pair Suricata copies into
/// `alert.metadata` as `key: [value]`.
fn metadata(ind: &Indicator) -> String {
    match ind.scored {
        Some(s) => format!("sightline_id {}, sightline_score {}", ind.id, s.score),
        None => format!("sightline_id {}", ind.id),
    }
}

impl Rule {
    fn new(
        ind: &Indicator,
        alt: &str,
        kind: &str,
        header: String,
        m: String,
        options: String,
    ) -> Rule {
        Rule {
            key: format!("{}|{alt}|{kind}", ind.id),
            text: Rule::text(&header, &m, &options, &metadata(ind)),
            rev: rev_of(ind),
        }
    }

    fn text(header: &str, m: &str, options: &str, metadata: &str) -> String {
        let mut t =
            String::with_capacity(header.len() + m.len() + options.len() + metadata.len() + 64);
        let _ = write!(
            t,
            "{header} (msg:\"{}\"; {options}{}classtype:trojan-activity; metadata: {metadata}; ",
            msg(m),
            if options.is_empty() { "" } else { " " },
        );
        t
    }

    fn bulk(name: &str, header: &str, m: &str, options: String) -> Rule {
        Rule {
            key: format!("bulk|{name}"),
            text: Rule::text(header, m, &options, &format!("sightline_list {name}")),
            rev: 1,
        }
    }

    fn write(&self, out: &mut String, sid: u32) {
        out.push_str(&self.text);
        let _ = writeln!(out, "sid:{sid}; rev:{};)", self.rev);
    }
}

fn domain_rules(ind: &Indicator, alt: &str, d: &str, out: &mut Vec<Rule>) {
    let c = content(d);
    let n = d.len();
    out.push(Rule::new(
        ind,
        alt,
        "dns",
        "alert dns any any -> any any".into(),
        format!("SIGHTLINE IOC DNS {d}"),
        format!("dns.query; content:\"{c}\"; nocase; bsize:{n};"),
    ));
    out.push(Rule::new(
        ind,
        alt,
        "tls",
        "alert tls any any -> any any".into(),
        format!("SIGHTLINE IOC TLS SNI {d}"),
        format!("flow:established,to_server; tls.sni; content:\"{c}\"; nocase; bsize:{n};"),
    ));
    // http.host is normalised to lower case; `nocase` is not allowed on it.
    out.push(Rule::new(
        ind,
        alt,
        "http",
        "alert http any any -> any any".into(),
        format!("SIGHTLINE IOC HTTP host {d}"),
        format!("flow:established,to_server; http.host; content:\"{c}\"; bsize:{n};"),
    ));
}

fn url_rule(ind: &Indicator, alt: &str, u: &str) -> Result<Rule, String> {
    let Some(rest) = u
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("http://"))
        .map(|_| &u[7..])
    else {
        return Err(
            "only http:// URLs are visible to Suricata (https: the host alone would widen)".into(),
        );
    };
    let (authority, target) = crate::zeek::split_url(rest)?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') || h.ends_with(']') => match p.parse::<u16>() {
            Ok(p) => (h.to_owned(), p),
            Err(_) => return Err(format!("{p:?} is not a port")),
        },
        _ => (authority.clone(), 80),
    };
    Ok(Rule::new(
        ind,
        alt,
        "url",
        format!("alert http any any -> any {port}"),
        format!("SIGHTLINE IOC URL {host}{target}"),
        format!(
            "flow:established,to_server; http.host; content:\"{}\"; bsize:{}; http.uri.raw; content:\"{}\"; bsize:{};",
            content(&host),
            host.len(),
            content(&target),
            target.len()
        ),
    ))
}

fn net(v: &TermValue) -> Option<String> {
    match v {
        TermValue::Addr(a) => Some(a.to_string()),
        TermValue::Net(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Network-traffic terms as one or more rule headers.
fn ip_rules(ind: &Indicator, alt: &str, terms: &[Term]) -> Result<Vec<Rule>, String> {
    let mut any = None;
    let mut src = None;
    let mut dst = None;
    let mut sport = None;
    let mut dport = None;
    let mut proto = None;
    for t in terms {
        let slot = match t.prop {
            Prop::Addr => &mut any,
            Prop::SrcAddr => &mut src,
            Prop::DstAddr => &mut dst,
            Prop::SrcPort => &mut sport,
            Prop::DstPort => &mut dport,
            Prop::Protocol => &mut proto,
            _ => {
                return Err(format!(
                    "{} cannot be joined with addresses in one rule",
                    t.path
                ))
            }
        };
        if slot.is_some() {
            return Err(format!("two values for {} in one observation", t.path));
        }
        *slot = Some(t);
    }
    let addr = |t: Option<&Term>| -> Result<String, String> {
        match t {
            None => Ok("any".into()),
            Some(t) => net(&t.value)
                .map(|n| format!("[{n}]"))
                .ok_or_else(|| format!("{} is not an address", t.text())),
        }
    };
    let port = |t: Option<&Term>| t.map_or("any".to_owned(), Term::text);
    if any.is_some() && (src.is_some() || dst.is_some() || sport.is_some() || dport.is_some()) {
        return Err("an address of either direction joined with a directed property".into());
    }
    let protos: Vec<String> = match proto.map(Term::text) {
        Some(p) if matches!(p.as_str(), "tcp" | "udp" | "icmp" | "sctp" | "ip") => vec![p],
        Some(p) => return Err(format!("protocol {p:?} has no Suricata rule header")),
        // Ports need a transport: TCP and UDP, the two that carry them here.
        None if sport.is_some() || dport.is_some() => vec!["tcp".into(), "udp".into()],
        None => vec!["ip".into()],
    };
    if protos[0] == "icmp" && (sport.is_some() || dport.is_some()) {
        return Err("ICMP has no ports".into());
    }
    let (header_tail, what) = match any {
        Some(t) => (format!("any any <> {} any", addr(Some(t))?), t.text()),
        None => (
            format!(
                "{} {} -> {} {}",
                addr(src)?,
                port(sport),
                addr(dst)?,
                port(dport)
            ),
            terms.iter().map(Term::text).collect::<Vec<_>>().join(" "),
        ),
    };
    Ok(protos
        .into_iter()
        .map(|p| {
            Rule::new(
                ind,
                alt,
                &format!("ip-{p}"),
                format!("alert {p} {header_tail}"),
                format!("SIGHTLINE IOC IP {what}"),
                String::new(),
            )
        })
        .collect())
}

/// The rules of one alternative; with `sets`, bulk values go there instead.
pub(crate) fn alternative(
    ind: &Indicator,
    alt: &str,
    terms: &[Term],
    sets: Option<&mut Sets>,
    out: &mut Vec<Rule>,
) -> Result<usize, String> {
    let n = out.len();
    let network = terms.iter().all(|t| {
        matches!(
            t.prop,
            Prop::Addr
                | Prop::SrcAddr
                | Prop::DstAddr
                | Prop::SrcPort
                | Prop::DstPort
                | Prop::Protocol
        )
    });
    if let (Some(sets), [t]) = (sets, terms) {
        let addr = match &t.value {
            TermValue::Addr(a) => Some(a.to_string()),
            _ => None,
        };
        let set = match (&t.prop, addr) {
            (Prop::Domain, _) => Some((&mut sets.domains, domain(&t.text())?)),
            (Prop::Addr, Some(a)) => Some((&mut sets.ips, a)),
            (Prop::SrcAddr, Some(a)) => Some((&mut sets.ips_src, a)),
            (Prop::DstAddr, Some(a)) => Some((&mut sets.ips_dst, a)),
            (Prop::FileHash(HashAlgo::Md5), _) => Some((&mut sets.md5, hex(&t.text(), 32)?)),
            (Prop::FileHash(HashAlgo::Sha1), _) => Some((&mut sets.sha1, hex(&t.text(), 40)?)),
            (Prop::FileHash(HashAlgo::Sha256), _) => Some((&mut sets.sha256, hex(&t.text(), 64)?)),
            _ => None,
        };
        if let Some((set, v)) = set {
            set.insert(v);
            return Ok(1);
        }
    }
    if network {
        out.extend(ip_rules(ind, alt, terms)?);
        return Ok(out.len() - n);
    }
    let [t] = terms else {
        return Err(format!(
            "AND of {} comparisons on properties Suricata does not see in one buffer",
            terms.len()
        ));
    };
    match &t.prop {
        Prop::Domain => domain_rules(ind, alt, &domain(&t.text())?, out),
        Prop::Url => out.push(url_rule(ind, alt, &t.text())?),
        Prop::FileHash(HashAlgo::Md5 | HashAlgo::Sha1 | HashAlgo::Sha256) => {
            return Err("file hashes need list files: use --format suricata-datasets".into())
        }
        Prop::FileHash(a) => {
            return Err(format!(
                "Suricata matches MD5, SHA-1 and SHA-256 file hashes, not {}",
                a.stix_key()
            ))
        }
        p => {
            return Err(format!(
                "{}: no Suricata keyword in the digest matches it exactly",
                match p {
                    Prop::Other(p) => p.as_str(),
                    _ => t.path.as_str(),
                }
            ))
        }
    }
    Ok(out.len() - n)
}

fn domain(d: &str) -> Result<String, String> {
    if !d.is_ascii() || d.is_empty() {
        return Err(format!(
            "{d:?} is not an ASCII DNS name (the wire carries punycode)"
        ));
    }
    Ok(d.to_ascii_lowercase())
}

fn hex(h: &str, len: usize) -> Result<String, String> {
    if h.len() != len || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{h:?} is not a {len}-digit hex digest"));
    }
    Ok(h.to_ascii_lowercase())
}

/// The fixed rules that load the non-empty sets, and the set files.
pub(crate) fn bulk(sets: &Sets, rules: &mut Vec<Rule>) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    if !sets.domains.is_empty() {
        let load = "dataset:isset,sl-domains, type string, load sl-domains.lst;";
        let req = "requires: version >= 8.0.0;";
        rules.push(Rule::bulk(
            "sl-domains-dns",
            "alert dns any any -> any any",
            "SIGHTLINE IOC DNS dataset",
            format!("{req} dns.query; to_lowercase; {load}"),
        ));
        rules.push(Rule::bulk(
            "sl-domains-tls",
            "alert tls any any -> any any",
            "SIGHTLINE IOC TLS SNI dataset",
            format!("{req} flow:established,to_server; tls.sni; to_lowercase; {load}"),
        ));
        rules.push(Rule::bulk(
            "sl-domains-http",
            "alert http any any -> any any",
            "SIGHTLINE IOC HTTP host dataset",
            format!("flow:established,to_server; http.host; {load}"),
        ));
        let mut f = String::new();
        for d in &sets.domains {
            f.push_str(&sightline_stix::encoding::encode_base64(d.as_bytes()));
            f.push('\n');
        }
        files.push(("sl-domains.lst".to_owned(), f.into_bytes()));
    }
    for (name, set, keys) in [
        ("sl-ips", &sets.ips, &["ip.src", "ip.dst"][..]),
        ("sl-ips-src", &sets.ips_src, &["ip.src"][..]),
        ("sl-ips-dst", &sets.ips_dst, &["ip.dst"][..]),
    ] {
        if set.is_empty() {
            continue;
        }
        for k in keys {
            rules.push(Rule::bulk(
                &format!("{name}-{k}"),
                "alert ip any any -> any any",
                &format!("SIGHTLINE IOC IP dataset {name} {k}"),
                format!("{k}; dataset:isset,{name}, type ip, load {name}.lst;"),
            ));
        }
        files.push((format!("{name}.lst"), lines(set)));
    }
    for (name, set, kw) in [
        ("sl-md5", &sets.md5, "filemd5"),
        ("sl-sha1", &sets.sha1, "filesha1"),
        ("sl-sha256", &sets.sha256, "filesha256"),
    ] {
        if set.is_empty() {
            continue;
        }
        for proto in ["http", "smtp", "smb", "ftp-data", "nfs"] {
            rules.push(Rule::bulk(
                &format!("{name}-{proto}"),
                &format!("alert {proto} any any -> any any"),
                &format!("SIGHTLINE IOC file {name} {proto}"),
                format!("{kw}:{name}.txt;"),
            ));
        }
        files.push((format!("{name}.txt"), lines(set)));
    }
    files
}

fn lines(set: &BTreeSet<String>) -> Vec<u8> {
    let mut f = String::new();
    for v in set {
        f.push_str(v);
        f.push('\n');
    }
    f.into_bytes()
}

/// SIDs for `rules` in `start..=end` (see the module doc) and the rules'
/// text, in key order.
pub(crate) fn write_rules(
    mut rules: Vec<Rule>,
    start: u32,
    end: u32,
    out: &mut String,
) -> Result<(), ExportError> {
    if end < start {
        return Err(ExportError::Usage(format!(
            "SID range {start}..={end} is empty"
        )));
    }
    let count = (end - start) as usize + 1;
    if rules.len() > count {
        return Err(ExportError::SidRange {
            needed: rules.len(),
            start,
            end,
        });
    }
    rules.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    out.reserve(rules.iter().map(|r| r.text.len() + 32).sum());
    let mut taken = vec![false; count];
    let ns = uuid::Uuid::from_u128(0x5a1c_7e0e_2f4b_4c1a_9d3e_51d1_17e5_0001);
    for r in &rules {
        let h = uuid::Uuid::new_v5(&ns, r.key.as_bytes()).as_u128();
        let mut slot = (h % count as u128) as usize;
        while taken[slot] {
            slot = (slot + 1) % count;
        }
        taken[slot] = true;
        r.write(out, start + slot as u32);
    }
    Ok(())
}
