//! Telemetry adapters: each input line (Zeek JSON log, Suricata EVE JSON, any
//! JSON with a field mapping, or STIX observed-data) becomes zero or more
//! [`Observation`]s, the matcher's one input, with SCOs as STIX 2.1 §6
//! defines them. Events are parsed into borrowed serde structs (no
//! `serde_json::Value` of the whole line) for the throughput issue 4 asks for;
//! only the SCOs built are `Value`s, since that is what the matcher reads.
//!
//! A bad line is an [`EventError`] naming what is wrong; [`reader::EventReader`]
//! counts it, keeps its line number and goes on.

mod de;
pub mod mapping;
pub mod parallel;
pub mod reader;
mod sco;
mod stix;
pub mod suricata;
pub mod time;
pub mod tsv;
mod zeek;

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
pub use sightline_matcher::{EventTime, Observation};

pub use mapping::{Mapping, MappingError};
pub use parallel::{Keep, ParallelReader, Stage};
pub use reader::{
    follow, follow_path, EventReader, Follow, Idle, LineEvent, SkipSummary, Skipped,
    DEFAULT_MAX_LINE,
};
pub use tsv::{TsvHeader, TsvState};
pub use zeek::ZeekKind;

/// What is wrong with one input line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("not UTF-8: invalid byte at offset {at}")]
    NotUtf8 { at: usize },
    #[error("truncated JSON: the line ends at column {column} inside a value")]
    Truncated { column: usize },
    #[error("invalid JSON: {message}")]
    Json { message: String },
    #[error("the line is not a JSON object")]
    NotAnObject,
    #[error("field `{field}` has the wrong type: {message}")]
    WrongType { field: String, message: String },
    #[error("missing field `{field}`")]
    Missing { field: String },
    #[error("field `{field}`: {message}")]
    BadValue { field: String, message: String },
    #[error("unsupported {what}")]
    Unsupported { what: String },
    #[error("line longer than {limit} bytes")]
    TooLong { limit: usize },
}

impl EventError {
    /// A short stable name for the summary's per-reason counts.
    pub fn kind(&self) -> &'static str {
        match self {
            EventError::NotUtf8 { .. } => "not UTF-8",
            EventError::Truncated { .. } => "truncated JSON",
            EventError::Json { .. } => "invalid JSON",
            EventError::NotAnObject => "not a JSON object",
            EventError::WrongType { .. } => "wrongly typed field",
            EventError::Missing { .. } => "missing field",
            EventError::BadValue { .. } => "bad field value",
            EventError::Unsupported { .. } => "unsupported event",
            EventError::TooLong { .. } => "line too long",
        }
    }

    pub(crate) fn missing(field: &str) -> Self {
        EventError::Missing {
            field: field.to_owned(),
        }
    }

    pub(crate) fn bad(field: &str, message: impl fmt::Display) -> Self {
        EventError::BadValue {
            field: field.to_owned(),
            message: message.to_string(),
        }
    }
}

/// Deserialises one line into `T`, turning serde's error into an
/// [`EventError`]. Only on failure is the line parsed again, through
/// serde_path_to_error, to name the offending field: the fast path pays nothing.
pub(crate) fn parse_json<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, EventError> {
    match serde_json::from_str::<T>(text) {
        Ok(v) => Ok(v),
        Err(e) => Err(json_error::<T>(text, e)),
    }
}

fn json_error<'a, T: Deserialize<'a>>(text: &'a str, e: serde_json::Error) -> EventError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => EventError::Truncated { column: e.column() },
        Category::Syntax | Category::Io => EventError::Json {
            message: e.to_string(),
        },
        Category::Data => {
            let trimmed = text.trim_start();
            if !trimmed.starts_with('{') {
                return EventError::NotAnObject;
            }
            let mut d = serde_json::Deserializer::from_str(text);
            match serde_path_to_error::deserialize::<_, T>(&mut d) {
                Err(pe) => {
                    let field = pe.path().to_string();
                    EventError::WrongType {
                        field,
                        message: pe.into_inner().to_string(),
                    }
                }
                Ok(_) => EventError::Json {
                    message: e.to_string(),
                },
            }
        }
    }
}

/// Input formats (`sightline match --format`).
#[derive(Debug, Clone)]
pub enum Format {
    /// STIX observed-data with its SCOs, a bundle, or 2.0 embedded `objects`.
    Stix,
    /// Zeek logs, JSON or TSV (a line is TSV once a `#fields` header has
    /// been read); the log kind from `_path` (`#path`), else from the fields.
    Zeek,
    /// Zeek logs all of one kind (`zeek:conn`), whatever `_path` says.
    ZeekLog(ZeekKind),
    /// Suricata EVE JSON.
    Suricata,
    /// Any JSON object, mapped by a [`Mapping`].
    Json(Mapping),
}

/// A format name that is not one of `stix`, `zeek`, `suricata`, `json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format `{0}` (expected stix, zeek, zeek:KIND, suricata or json)")]
pub struct UnknownFormat(pub String);

/// The format names; `json` needs a mapping, so parsing it gives an empty
/// [`Mapping`] that the caller replaces.
impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "stix" => Ok(Format::Stix),
            "zeek" => Ok(Format::Zeek),
            "zeek:conn" => Ok(Format::ZeekLog(ZeekKind::Conn)),
            "zeek:dns" => Ok(Format::ZeekLog(ZeekKind::Dns)),
            "zeek:http" => Ok(Format::ZeekLog(ZeekKind::Http)),
            "zeek:files" => Ok(Format::ZeekLog(ZeekKind::Files)),
            "zeek:ssl" => Ok(Format::ZeekLog(ZeekKind::Ssl)),
            "zeek:x509" => Ok(Format::ZeekLog(ZeekKind::X509)),
            "suricata" | "eve" => Ok(Format::Suricata),
            "json" => Ok(Format::Json(Mapping::default())),
            other => Err(UnknownFormat(other.to_owned())),
        }
    }
}

/// Turns lines of one format into observations. Immutable, so one adapter can
/// be shared by threads.
#[derive(Debug, Clone)]
pub struct Adapter {
    format: Format,
}

impl Adapter {
    pub fn new(format: Format) -> Self {
        Self { format }
    }

    pub fn format(&self) -> &Format {
        &self.format
    }

    /// Whether lines starting with `#` are headers (Zeek TSV) rather than
    /// events.
    pub fn has_headers(&self) -> bool {
        matches!(self.format, Format::Zeek | Format::ZeekLog(_))
    }

    /// Parses one line (without its newline) and appends its observations to
    /// `out`. On error nothing is appended.
    pub fn parse_line(&self, line: &[u8], out: &mut Vec<Observation>) -> Result<(), EventError> {
        self.parse_line_in(line, None, out)
    }

    /// [`Adapter::parse_line`] under a Zeek TSV header: a line that is not a
    /// JSON object is read as tab-separated values.
    pub fn parse_line_in(
        &self,
        line: &[u8],
        tsv: Option<&TsvHeader>,
        out: &mut Vec<Observation>,
    ) -> Result<(), EventError> {
        if let (Some(h), true) = (tsv, self.has_headers()) {
            if !line.trim_ascii_start().starts_with(b"{") {
                // Zeek escapes what is not printable; the values are
                // decoded as they are read.
                let json = tsv::to_json(h, line)?;
                return self.parse_str(&json, out);
            }
        }
        let text = std::str::from_utf8(line).map_err(|e| EventError::NotUtf8 {
            at: e.valid_up_to(),
        })?;
        self.parse_str(text, out)
    }

    /// [`Adapter::parse_line`] for text already known to be UTF-8.
    pub fn parse_str(&self, text: &str, out: &mut Vec<Observation>) -> Result<(), EventError> {
        match &self.format {
            Format::Zeek => out.push(zeek::parse(text, None)?),
            Format::ZeekLog(k) => out.push(zeek::parse(text, Some(*k))?),
            Format::Suricata => out.push(suricata::parse(text)?),
            Format::Json(m) => out.push(m.apply(text)?),
            Format::Stix => stix::parse(text, out)?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_problem() {
        let a = Adapter::new(Format::Zeek);
        let mut out = Vec::new();
        let e = a.parse_line(b"{\"ts\":1.0,\"id.orig_h\":\"10.0.0", &mut out);
        assert!(matches!(e, Err(EventError::Truncated { .. })), "{e:?}");
        let e = a.parse_line(b"{\"ts\":1.0,\xff}", &mut out);
        assert_eq!(e, Err(EventError::NotUtf8 { at: 10 }));
        let e = a.parse_line(b"[1,2]", &mut out);
        assert_eq!(e, Err(EventError::NotAnObject));
        let e = a.parse_line(br#"{"_path":"conn","ts":1.0,"id.orig_p":"80"}"#, &mut out);
        match e {
            Err(EventError::WrongType { field, .. }) => assert_eq!(field, "id.orig_p"),
            other => panic!("{other:?}"),
        }
        let e = a.parse_line(br#"{"_path":"conn","ts":"noon"}"#, &mut out);
        match e {
            Err(EventError::WrongType { field, message }) => {
                assert_eq!(field, "ts");
                assert!(message.contains("noon"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(out.is_empty());
    }

    #[test]
    fn format_names() {
        assert!(matches!("zeek".parse::<Format>(), Ok(Format::Zeek)));
        assert!(matches!("eve".parse::<Format>(), Ok(Format::Suricata)));
        assert!(matches!(
            "zeek:x509".parse::<Format>(),
            Ok(Format::ZeekLog(ZeekKind::X509))
        ));
        assert!("csv".parse::<Format>().is_err());
    }
}
