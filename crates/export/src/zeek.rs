//! Zeek Intelligence Framework input file (integrations digest §1.2, §1.5).
//!
//! One line per exact single-value comparison: `indicator`,
//! `indicator_type` (`Intel::ADDR`, ...), `meta.source` (the indicator id,
//! the one metadata field `intel.log` shows, so hits map back), `meta.desc`
//! (the name) and `meta.url` (the object's UI page when a base URL is given).
//! Fields are escaped as Zeek's ASCII reader unescapes them: `\xHH` for TAB,
//! newline, carriage return and backslash, a value that is exactly `-` (the
//! unset marker) and a `#` that would start a line (a comment); an absent
//! optional field is `-`. Comment lines (the report) come before `#fields`;
//! a `#types` line follows it, which Zeek skips as a comment and log readers
//! such as zat require.

use crate::terms::{HashAlgo, Prop, Term, TermValue};
use crate::Indicator;

pub(crate) const FIELDS: &str =
    "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url";
pub(crate) const TYPES: &str = "#types\tstring\tenum\tstring\tstring\tstring";

/// `(indicator text, Intel type)` for one alternative, or why there is none.
pub(crate) fn intel(terms: &[Term]) -> Result<(String, &'static str), String> {
    let [t] = terms else {
        return Err(format!(
            "AND of {} comparisons: a Zeek Intel item is one value",
            terms.len()
        ));
    };
    let s = || t.text();
    Ok(match (&t.prop, &t.value) {
        (Prop::Addr, TermValue::Addr(a)) => (a.to_string(), "Intel::ADDR"),
        (Prop::Addr, TermValue::Net(n)) => (n.to_string(), "Intel::SUBNET"),
        (Prop::DstAddr | Prop::SrcAddr, _) => {
            return Err(
                "Zeek Intel ignores direction: an address item would also match the other side"
                    .into(),
            )
        }
        (Prop::Domain, _) => (domain(&s())?, "Intel::DOMAIN"),
        (Prop::Url, _) => (url(&s())?, "Intel::URL"),
        (Prop::FileHash(HashAlgo::Md5 | HashAlgo::Sha1 | HashAlgo::Sha256), _) => {
            (hex(&s())?, "Intel::FILE_HASH")
        }
        (Prop::FileHash(a), _) => {
            return Err(format!(
                "Zeek computes MD5, SHA-1 and SHA-256 file hashes, not {}",
                a.stix_key()
            ))
        }
        (Prop::FileName, _) => (s(), "Intel::FILE_NAME"),
        (Prop::Email, _) => (s(), "Intel::EMAIL"),
        (Prop::CertHash(HashAlgo::Sha1), _) => (hex(&s())?, "Intel::CERT_HASH"),
        (Prop::CertHash(a), _) => {
            return Err(format!("Zeek's CERT_HASH is SHA-1, not {}", a.stix_key()))
        }
        (Prop::UserAgent, _) => (s(), "Intel::SOFTWARE"),
        (Prop::AccountLogin, _) => (s(), "Intel::USER_NAME"),
        (Prop::DstPort | Prop::SrcPort | Prop::Protocol, _) => {
            return Err("Zeek Intel has no port or protocol items".into())
        }
        (Prop::Other(p), _) => return Err(format!("{p}: no Zeek Intel type")),
        (Prop::Addr, _) => return Err("not an address".into()),
    })
}

/// Zeek sees DNS names in wire form: ASCII (an IDN would need punycode).
fn domain(d: &str) -> Result<String, String> {
    if !d.is_ascii() || d.is_empty() {
        return Err(format!(
            "{d:?} is not an ASCII DNS name (Zeek sees punycode)"
        ));
    }
    Ok(d.to_ascii_lowercase())
}

fn hex(h: &str) -> Result<String, String> {
    if h.is_empty() || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{h:?} is not a hex digest"));
    }
    Ok(h.to_ascii_lowercase())
}

/// `http://host[:port]/path` as Zeek's `HTTP::build_url` writes it: no
/// scheme, port only when not 80, `/` for an empty path.
pub(crate) fn url(u: &str) -> Result<String, String> {
    let Some(rest) = u
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("http://"))
        .map(|_| &u[7..])
    else {
        return Err(
            if u.get(..8)
                .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
            {
                "an https URL is encrypted on the wire: Zeek never sees it".to_owned()
            } else {
                "only http:// URLs can be seen by Zeek".to_owned()
            },
        );
    };
    let (host, path) = split_url(rest)?;
    Ok(format!("{host}{path}"))
}

/// Splits `host[:port]/path?q` into the host (lower case, `:80` dropped)
/// and the request target (`/` when empty). Refuses user info, fragments
/// (never sent) and non-ASCII text (sent percent-encoded).
pub(crate) fn split_url(rest: &str) -> Result<(String, String), String> {
    if !rest.is_ascii() {
        return Err("a URL with non-ASCII text is sent percent-encoded".into());
    }
    if rest.contains('#') {
        return Err("a URL fragment is never sent on the wire".into());
    }
    let cut = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(cut);
    if authority.contains('@') {
        return Err("a URL with user info".into());
    }
    if authority.is_empty() {
        return Err("a URL without a host".into());
    }
    let mut host = authority.to_ascii_lowercase();
    if let Some(h) = host.strip_suffix(":80") {
        host = h.to_owned();
    }
    let target = if target.is_empty() {
        "/".to_owned()
    } else if target.starts_with('?') {
        format!("/{target}")
    } else {
        target.to_owned()
    };
    Ok((host, target))
}

/// A field as Zeek's ASCII reader reads it back (`get_unescaped_string`).
pub(crate) fn escape(s: &str) -> String {
    if s == "-" {
        return "\\x2d".into();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\x09"),
            '\n' => out.push_str("\\x0a"),
            '\r' => out.push_str("\\x0d"),
            '\\' => out.push_str("\\x5c"),
            c => out.push(c),
        }
    }
    out
}

/// An optional field: `-` when absent or empty (Zeek's unset marker).
fn optional(s: Option<&str>) -> String {
    match s {
        None | Some("") => "-".into(),
        Some(s) => escape(s),
    }
}

/// Appends one line.
pub(crate) fn line(
    out: &mut String,
    value: &str,
    ty: &str,
    ind: &Indicator,
    base_url: Option<&str>,
) {
    let mut v = escape(value);
    // A first field starting with '#' would make the line a comment.
    if v.starts_with('#') {
        v.replace_range(..1, "\\x23");
    }
    let url = base_url.map(|b| crate::ui_link(b, &ind.id));
    out.push_str(&v);
    out.push('\t');
    out.push_str(ty);
    out.push('\t');
    out.push_str(&escape(&ind.id));
    out.push('\t');
    out.push_str(&optional(ind.name.as_deref()));
    out.push('\t');
    out.push_str(&optional(url.as_deref()));
    out.push('\n');
}
