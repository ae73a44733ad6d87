//! Zeek's default log format (`LogAscii` without `use_json`): tab-separated
//! values under a header that names the separators, the fields and their
//! types:
//!
//! ```text
//! #separator \x09
//! #set_separator<TAB>,
//! #empty_field<TAB>(empty)
//! #unset_field<TAB>-
//! #path<TAB>conn
//! #fields<TAB>ts<TAB>uid<TAB>id.orig_h<TAB>…
//! #types<TAB>time<TAB>string<TAB>addr<TAB>…
//! ```
//!
//! A data line is turned into the JSON object Zeek would have written with
//! `use_json=T` (unset fields left out, `(empty)` an empty string or list,
//! `set[…]`/`vector[…]` split on the set separator, numbers and booleans
//! typed by `#types`), which the JSON adapter then reads: both forms give
//! the same observations by construction. Header lines change the state for
//! the lines after them (a log concatenated or rotated in starts a new
//! header); [`TsvState`] follows them in input order.

use std::sync::Arc;

use super::EventError;

/// How one field's values are written in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scalar {
    Number,
    Bool,
    Str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    One(Scalar),
    /// `set[T]` or `vector[T]`.
    List(Scalar),
}

fn scalar(t: &str) -> Scalar {
    match t {
        "time" | "interval" | "double" | "count" | "int" | "port" => Scalar::Number,
        "bool" => Scalar::Bool,
        _ => Scalar::Str,
    }
}

fn kind(t: &str) -> Kind {
    let inner = t
        .strip_prefix("set[")
        .or_else(|| t.strip_prefix("vector["))
        .and_then(|r| r.strip_suffix(']'));
    match inner {
        Some(i) => Kind::List(scalar(i)),
        None => Kind::One(scalar(t)),
    }
}

/// A complete header: what a data line needs to be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsvHeader {
    separator: Vec<u8>,
    set_separator: Vec<u8>,
    empty: Vec<u8>,
    unset: Vec<u8>,
    /// `#path`: the log kind (`conn`, `dns`, …).
    path: Option<String>,
    fields: Vec<String>,
    /// One per field; without `#types`, values that are numbers are written
    /// as numbers, everything else as strings.
    kinds: Option<Vec<Kind>>,
}

/// The header lines seen so far, in input order.
#[derive(Debug, Clone)]
pub struct TsvState {
    separator: Vec<u8>,
    set_separator: Vec<u8>,
    empty: Vec<u8>,
    unset: Vec<u8>,
    path: Option<String>,
    fields: Vec<String>,
    types: Vec<String>,
    current: Option<Arc<TsvHeader>>,
}

impl Default for TsvState {
    fn default() -> Self {
        Self {
            separator: b"\t".to_vec(),
            set_separator: b",".to_vec(),
            empty: b"(empty)".to_vec(),
            unset: b"-".to_vec(),
            path: None,
            fields: Vec::new(),
            types: Vec::new(),
            current: None,
        }
    }
}

/// `\xNN` escapes decoded (Zeek escapes separators and unprintable bytes so).
fn unescape(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\' && v.get(i + 1) == Some(&b'x') {
            let hex = v
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 4;
                continue;
            }
        }
        out.push(v[i]);
        i += 1;
    }
    out
}

fn split<'a>(line: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    if sep.is_empty() {
        parts.push(line);
        return parts;
    }
    let mut rest = line;
    while let Some(i) = memchr::memmem::find(rest, sep) {
        parts.push(&rest[..i]);
        rest = &rest[i + sep.len()..];
    }
    parts.push(rest);
    parts
}

fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

impl TsvState {
    /// Whether `line` is a header line (it starts with `#`); if so, takes it
    /// into account.
    pub fn header_line(&mut self, line: &[u8]) -> bool {
        let Some(rest) = line.strip_prefix(b"#") else {
            return false;
        };
        // `#separator` is always written with a space, as the separator is
        // not known yet.
        if let Some(v) = rest.strip_prefix(b"separator ") {
            // A new log starts: its own header follows.
            *self = TsvState {
                separator: unescape(v.trim_ascii()),
                ..TsvState::default()
            };
            return true;
        }
        let parts = split(rest, &self.separator);
        let (name, values) = match parts.split_first() {
            Some((n, v)) => (*n, v),
            None => return true,
        };
        let one = || values.first().map(|v| unescape(v)).unwrap_or_default();
        match name {
            b"set_separator" => self.set_separator = one(),
            b"empty_field" => self.empty = one(),
            b"unset_field" => self.unset = one(),
            b"path" => self.path = Some(text(&one())),
            b"fields" => {
                self.fields = values.iter().map(|v| text(v)).collect();
                self.types.clear();
            }
            b"types" => self.types = values.iter().map(|v| text(v)).collect(),
            // #open, #close and any comment.
            _ => return true,
        }
        self.current = (!self.fields.is_empty()).then(|| {
            Arc::new(TsvHeader {
                separator: self.separator.clone(),
                set_separator: self.set_separator.clone(),
                empty: self.empty.clone(),
                unset: self.unset.clone(),
                path: self.path.clone(),
                fields: self.fields.clone(),
                kinds: (self.types.len() == self.fields.len())
                    .then(|| self.types.iter().map(|t| kind(t)).collect()),
            })
        });
        true
    }

    /// The header data lines are read with: `None` before `#fields`.
    pub fn current(&self) -> Option<Arc<TsvHeader>> {
        self.current.clone()
    }
}

/// Whether `t` is a JSON number (RFC 8259 §6): `-? int frac? exp?`.
fn is_json_number(t: &[u8]) -> bool {
    let digits = |i: &mut usize| {
        let start = *i;
        while t.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    let mut i = 0;
    if t.first() == Some(&b'-') {
        i += 1;
    }
    match t.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if t.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(t.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(t.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == t.len()
}

/// `v` as a JSON string literal.
fn push_json_str(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_scalar(out: &mut String, field: &str, s: Scalar, v: &[u8]) -> Result<(), EventError> {
    // Most values hold no escape: no copy for them.
    let v: std::borrow::Cow<[u8]> = if memchr::memchr(b'\\', v).is_some() {
        std::borrow::Cow::Owned(unescape(v))
    } else {
        std::borrow::Cow::Borrowed(v)
    };
    match s {
        Scalar::Number => {
            // Only what JSON accepts as a number goes out unquoted.
            match std::str::from_utf8(&v) {
                Ok(t) if is_json_number(&v) => out.push_str(t),
                _ => {
                    return Err(EventError::bad(
                        field,
                        format!("{:?} is not a number", text(&v)),
                    ))
                }
            }
        }
        Scalar::Bool => match &*v {
            b"T" => out.push_str("true"),
            b"F" => out.push_str("false"),
            other => {
                return Err(EventError::bad(
                    field,
                    format!("{:?} is not T or F", text(other)),
                ))
            }
        },
        Scalar::Str => push_json_str(out, &String::from_utf8_lossy(&v)),
    }
    Ok(())
}

/// The JSON object Zeek would have written for the data line `line`.
pub fn to_json(h: &TsvHeader, line: &[u8]) -> Result<String, EventError> {
    let values = split(line, &h.separator);
    if values.len() != h.fields.len() {
        return Err(EventError::bad(
            "#fields",
            format!("{} values for {} fields", values.len(), h.fields.len()),
        ));
    }
    let mut out = String::with_capacity(line.len() * 2);
    out.push('{');
    let mut first = true;
    let mut sep = |out: &mut String| {
        if !first {
            out.push(',');
        }
        first = false;
    };
    if let Some(p) = &h.path {
        if !h.fields.iter().any(|f| f == "_path") {
            sep(&mut out);
            out.push_str("\"_path\":");
            out.push_str(&serde_json::to_string(p).unwrap_or_default());
        }
    }
    for (i, (field, v)) in h.fields.iter().zip(values).enumerate() {
        if v == h.unset.as_slice() {
            continue;
        }
        let k = match &h.kinds {
            Some(k) => k[i],
            // No #types: numbers by their look.
            None if std::str::from_utf8(v).is_ok_and(|t| t.parse::<f64>().is_ok()) => {
                Kind::One(Scalar::Number)
            }
            None => Kind::One(Scalar::Str),
        };
        let empty = v == h.empty.as_slice();
        if empty && k == Kind::One(Scalar::Number) {
            continue;
        }
        sep(&mut out);
        push_json_str(&mut out, field);
        out.push(':');
        match k {
            Kind::One(_) if empty => out.push_str("\"\""),
            Kind::One(s) => push_scalar(&mut out, field, s, v)?,
            Kind::List(_) if empty => out.push_str("[]"),
            Kind::List(s) => {
                out.push('[');
                for (j, e) in split(v, &h.set_separator).into_iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    push_scalar(&mut out, field, s, e)?;
                }
                out.push(']');
            }
        }
    }
    out.push('}');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(lines: &[&str]) -> Arc<TsvHeader> {
        let mut s = TsvState::default();
        for l in lines {
            assert!(s.header_line(l.as_bytes()));
        }
        s.current().unwrap_or_else(|| panic!("no header"))
    }

    #[test]
    fn values_typed_by_the_header() {
        let h = header(&[
            "#separator \\x09",
            "#set_separator\t,",
            "#empty_field\t(empty)",
            "#unset_field\t-",
            "#path\tdns",
            "#fields\tts\tuid\tid.orig_p\tquery\tAA\tanswers\tTTLs\trcode\ttags",
            "#types\ttime\tstring\tport\tstring\tbool\tvector[string]\tvector[interval]\tcount\tset[string]",
        ]);
        let j = to_json(
            &h,
            b"1705312801.500000\tC1\t51515\ta\\x09b.example\tF\tx.example,1.2.3.4\t300.000000,20.000000\t-\t(empty)",
        );
        assert_eq!(
            j.as_deref(),
            Ok(
                r#"{"_path":"dns","ts":1705312801.500000,"uid":"C1","id.orig_p":51515,"query":"a\u0009b.example","AA":false,"answers":["x.example","1.2.3.4"],"TTLs":[300.000000,20.000000],"tags":[]}"#
            )
        );
        let bad = to_json(&h, b"x\tC1\t1\tq\tF\t-\t-\t-\t-");
        assert!(
            matches!(bad, Err(EventError::BadValue { ref field, .. }) if field == "ts"),
            "{bad:?}"
        );
        let short = to_json(&h, b"1.0\tC1");
        assert!(matches!(short, Err(EventError::BadValue { ref field, .. }) if field == "#fields"));
    }

    #[test]
    fn json_numbers_and_strings() {
        for ok in ["0", "-1", "1.5", "1705312801.500000", "1e9", "2.5E-3"] {
            assert!(is_json_number(ok.as_bytes()), "{ok}");
        }
        for bad in ["", "-", "01", "1.", ".5", "1e", "NaN", "inf", "0x10", "1 "] {
            assert!(!is_json_number(bad.as_bytes()), "{bad}");
        }
        let mut out = String::new();
        push_json_str(&mut out, "a\"b\\c\u{1}d\u{e9}");
        assert_eq!(out, "\"a\\\"b\\\\c\\u0001d\u{e9}\"");
        assert_eq!(
            serde_json::from_str::<String>(&out).ok().as_deref(),
            Some("a\"b\\c\u{1}d\u{e9}")
        );
    }

    #[test]
    fn other_separators_and_a_new_header() {
        let mut s = TsvState::default();
        for l in [
            "#separator ,",
            "#set_separator,;",
            "#fields,a,b",
            "#types,count,set[string]",
        ] {
            s.header_line(l.as_bytes());
        }
        let h = s.current().unwrap_or_else(|| panic!("header"));
        assert_eq!(
            to_json(&h, b"1,x;y").as_deref(),
            Ok(r#"{"a":1,"b":["x","y"]}"#)
        );
        // A new #separator starts a new log: no fields until its #fields.
        s.header_line(b"#separator \\x09");
        assert!(s.current().is_none());
        assert!(!s.header_line(b"1\t2"));
    }
}
