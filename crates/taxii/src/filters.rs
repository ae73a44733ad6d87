//! Query parameters of the TAXII 2.1 endpoints (§3.4): `match[id]`,
//! `match[type]`, `match[version]`, `match[spec_version]`, `added_after`,
//! `limit` and `next`.
//!
//! Every endpoint parses the same way: a malformed value of any of these is a
//! 400 (never a 500, never silently ignored), an unknown `match[...]` field or
//! other parameter is ignored (§3.4 "MAY"). Comma-separated values are OR-ed,
//! a repeated `match[...]` parameter adds to its list; `added_after`, `limit`
//! and `next` take one value each.
//!
//! `match[spec_version]` absent: §3.4.1 asks for only the newest spec
//! version of each object. The store holds STIX 2.1 only (validator code
//! E104 refuses anything else), so each object has a single spec version and
//! that default is no filter at all.

use std::collections::BTreeSet;

use axum::extract::Query;
use axum::http::Uri;
use sha2::{Digest, Sha256};
use sightline_stix::ids::is_valid_type_name;
use sightline_stix::{StixId, Timestamp};
use sightline_store::{parse_date_added, DateAdded, VersionFilter};

use crate::error::TaxiiError;

/// The most `match[...]` values one request may give, all filters together
/// (comma-separated items and repeated parameters alike). More is a 400: a
/// store query with thousands of terms is a denial of service, not a filter,
/// and a client with more ids can split its request.
pub(crate) const MAX_FILTER_VALUES: usize = 1000;

/// The parsed, validated filters of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Filters {
    pub ids: Vec<String>,
    pub types: Vec<String>,
    /// `None` when `match[version]` was not given (each endpoint has its default).
    pub versions: Option<VersionFilter>,
    pub spec_versions: Vec<String>,
    pub added_after: Option<DateAdded>,
    pub limit: Option<usize>,
    pub next: Option<String>,
}

impl Filters {
    pub fn from_uri(uri: &Uri) -> Result<Self, TaxiiError> {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map_err(|e| TaxiiError::bad(format!("malformed query string: {e}")))?;
        Self::parse(&pairs)
    }

    pub fn parse(pairs: &[(String, String)]) -> Result<Self, TaxiiError> {
        let mut f = Filters::default();
        let mut versions: Option<VersionFilter> = None;
        let mut values = 0usize;
        for (k, v) in pairs {
            if k.starts_with("match[") {
                values += v.split(',').count();
                if values > MAX_FILTER_VALUES {
                    return Err(TaxiiError::bad(format!(
                        "too many filter values: at most {MAX_FILTER_VALUES} match[...] values per request"
                    )));
                }
            }
            match k.as_str() {
                "match[id]" => {
                    for id in items(k, v)? {
                        StixId::parse(id).map_err(|e| {
                            TaxiiError::bad(format!("match[id]: {id:?} is not a STIX id: {e}"))
                        })?;
                        f.ids.push(id.to_owned());
                    }
                }
                "match[type]" => {
                    for ty in items(k, v)? {
                        if !is_valid_type_name(ty) {
                            return Err(TaxiiError::bad(format!(
                                "match[type]: {ty:?} is not a STIX type name"
                            )));
                        }
                        f.types.push(ty.to_owned());
                    }
                }
                "match[version]" => {
                    let vf = versions.get_or_insert(VersionFilter {
                        first: false,
                        last: false,
                        all: false,
                        at: Vec::new(),
                    });
                    for item in items(k, v)? {
                        match item {
                            "first" => vf.first = true,
                            "last" => vf.last = true,
                            "all" => vf.all = true,
                            ts => {
                                let t = Timestamp::parse(ts).map_err(|e| {
                                    TaxiiError::bad(format!(
                                        "match[version]: {ts:?} is not first, last, all or a STIX timestamp: {e}"
                                    ))
                                })?;
                                vf.at.push(t.sort_key());
                            }
                        }
                    }
                }
                "match[spec_version]" => {
                    for sv in items(k, v)? {
                        if !is_spec_version(sv) {
                            return Err(TaxiiError::bad(format!(
                                "match[spec_version]: {sv:?} is not a STIX specification version such as 2.1"
                            )));
                        }
                        f.spec_versions.push(sv.to_owned());
                    }
                }
                "added_after" => {
                    once(k, f.added_after.is_some())?;
                    f.added_after = Some(parse_added_after(v).ok_or_else(|| {
                        TaxiiError::bad(format!(
                            "added_after: {v:?} is not a timestamp such as 2024-01-31T12:00:00.000000Z"
                        ))
                    })?);
                }
                "limit" => {
                    once(k, f.limit.is_some())?;
                    let n = v
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| {
                            TaxiiError::bad(format!("limit: {v:?} is not a positive integer"))
                        })?;
                    f.limit = Some(n);
                }
                "next" => {
                    once(k, f.next.is_some())?;
                    if v.is_empty() {
                        return Err(TaxiiError::bad("next: empty value"));
                    }
                    f.next = Some(v.clone());
                }
                _ => {} // Unknown match fields and other parameters are ignored (§3.4).
            }
        }
        f.versions = versions;
        Ok(f)
    }

    /// A hash of the filters that shape a result set (not `limit`, not `next`),
    /// normalised (sorted, deduplicated) so equal filter sets hash equally;
    /// `endpoint` names the resource (e.g. `objects`, `versions/<id>`).
    pub fn fingerprint(&self, endpoint: &str) -> [u8; 32] {
        fn list(h: &mut Sha256, name: &str, items: &[String]) {
            let set: BTreeSet<&str> = items.iter().map(String::as_str).collect();
            h.update(name.as_bytes());
            h.update(b"=");
            for s in set {
                h.update(s.as_bytes());
                h.update(b",");
            }
            h.update(b"\n");
        }
        let mut h = Sha256::new();
        h.update(b"sightline-taxii filters v1\n");
        h.update(endpoint.as_bytes());
        h.update(b"\n");
        list(&mut h, "id", &self.ids);
        list(&mut h, "type", &self.types);
        match &self.versions {
            None => h.update(b"version=default\n"),
            Some(v) => {
                h.update(format!("version={} {} {}\n", v.first, v.last, v.all).as_bytes());
                list(&mut h, "version_at", &v.at);
            }
        }
        list(&mut h, "spec_version", &self.spec_versions);
        match self.added_after {
            None => h.update(b"added_after=\n"),
            Some(a) => h.update(format!("added_after={a}\n").as_bytes()),
        }
        h.finalize().into()
    }
}

/// The comma-separated items of one parameter; an empty item is malformed.
fn items<'a>(key: &str, value: &'a str) -> Result<Vec<&'a str>, TaxiiError> {
    value
        .split(',')
        .map(str::trim)
        .map(|s| {
            if s.is_empty() {
                Err(TaxiiError::bad(format!("{key}: empty value in {value:?}")))
            } else {
                Ok(s)
            }
        })
        .collect()
}

fn once(key: &str, seen: bool) -> Result<(), TaxiiError> {
    if seen {
        Err(TaxiiError::bad(format!("{key} may be given only once")))
    } else {
        Ok(())
    }
}

/// `2.1`, `2.0`, `3.0`...: digits, a dot, digits.
fn is_spec_version(s: &str) -> bool {
    match s.split_once('.') {
        Some((a, b)) => {
            !a.is_empty()
                && !b.is_empty()
                && a.len() <= 3
                && b.len() <= 3
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// `added_after` as microseconds: an RFC 3339 timestamp with any number of
/// fractional digits (beyond six truncated, which keeps "strictly after"
/// exact at microsecond resolution) and `Z` or a numeric offset such as
/// `+00:00` (many clients send one).
pub(crate) fn parse_added_after(s: &str) -> Option<DateAdded> {
    let s = s.trim();
    let b = s.as_bytes();
    let n = b.len();
    if !s.is_ascii() || n < 20 {
        return None;
    }
    let (base, offset_secs) = match b[n - 1] {
        b'Z' | b'z' => (&s[..n - 1], 0i64),
        _ if n >= 25 && (b[n - 6] == b'+' || b[n - 6] == b'-') && b[n - 3] == b':' => {
            let hh: i64 = s[n - 5..n - 3].parse().ok()?;
            let mm: i64 = s[n - 2..].parse().ok()?;
            if !s[n - 5..n - 3].bytes().all(|c| c.is_ascii_digit())
                || !s[n - 2..].bytes().all(|c| c.is_ascii_digit())
                || hh > 23
                || mm > 59
            {
                return None;
            }
            let sign = if b[n - 6] == b'-' { -1 } else { 1 };
            (&s[..n - 6], sign * (hh * 3600 + mm * 60))
        }
        _ => return None,
    };
    let mut text = String::with_capacity(base.len() + 1);
    text.push_str(base);
    text.push('Z');
    // RFC 3339 allows a lower-case `t`; STIX timestamps do not.
    if text.as_bytes().get(10) == Some(&b't') {
        text.replace_range(10..11, "T");
    }
    let us = parse_date_added(&text)?;
    us.checked_sub(offset_secs.checked_mul(1_000_000)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &[(&str, &str)]) -> Result<Filters, TaxiiError> {
        let pairs: Vec<(String, String)> = q
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Filters::parse(&pairs)
    }

    #[test]
    fn added_after_forms() {
        let z = parse_added_after("2024-01-31T12:00:00Z").expect("z");
        assert_eq!(parse_added_after("2024-01-31T12:00:00.000000Z"), Some(z));
        assert_eq!(parse_added_after("2024-01-31T12:00:00.000Z"), Some(z));
        assert_eq!(parse_added_after("2024-01-31T12:00:00+00:00"), Some(z));
        assert_eq!(parse_added_after("2024-01-31t12:00:00z"), Some(z));
        assert_eq!(
            parse_added_after("2024-01-31T14:00:00.000+02:00"),
            Some(z),
            "offsets are applied"
        );
        assert_eq!(
            parse_added_after("2024-01-31T12:00:00.123456789Z"),
            Some(z + 123_456)
        );
        for bad in [
            "",
            "yesterday",
            "2024-01-31",
            "2024-01-31T12:00:00",
            "2024-13-31T12:00:00Z",
            "2024-01-31T12:00:00+0000",
            "2024-01-31T12:00:00+24:00",
            "2024-01-31T12:00:00.Z",
            "2024-01-31T12:00:00é+00:00",
        ] {
            assert_eq!(parse_added_after(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_and_rejects() {
        let f = p(&[
            ("match[type]", "indicator,malware"),
            ("match[type]", "tool"),
            ("match[version]", "first,2020-01-01T00:00:00.1Z"),
            ("match[spec_version]", "2.1"),
            ("limit", "5"),
            ("match[unknown]", "x"),
            ("other", "y"),
        ])
        .expect("valid");
        assert_eq!(f.types, ["indicator", "malware", "tool"]);
        let v = f.versions.expect("versions");
        assert!(v.first && !v.last && !v.all);
        assert_eq!(v.at, ["2020-01-01T00:00:00.100000000"]);
        assert_eq!(f.limit, Some(5));
        for bad in [
            ("limit", "0"),
            ("limit", "-1"),
            ("limit", "ten"),
            ("limit", ""),
            ("match[id]", "indicator"),
            ("match[type]", "Not A Type"),
            ("match[type]", "a,,b"),
            ("match[version]", "latest"),
            ("match[spec_version]", "two"),
            ("added_after", "soon"),
            ("next", ""),
        ] {
            assert!(p(&[bad]).is_err(), "{bad:?}");
        }
        assert!(p(&[("limit", "1"), ("limit", "2")]).is_err());
    }

    #[test]
    fn fingerprint_is_normalised() {
        let a = p(&[("match[type]", "bbb,aaa"), ("limit", "3")]).expect("a");
        let b = p(&[("match[type]", "aaa"), ("match[type]", "bbb,aaa")]).expect("b");
        let c = p(&[("match[type]", "aaa")]).expect("c");
        assert_eq!(a.fingerprint("objects"), b.fingerprint("objects"));
        assert_ne!(a.fingerprint("objects"), c.fingerprint("objects"));
        assert_ne!(a.fingerprint("objects"), a.fingerprint("manifest"));
    }
}
