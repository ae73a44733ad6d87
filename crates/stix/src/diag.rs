//! Findings as data, for the validator and the pattern checker alike: a
//! stable [`Code`], a severity, where (a JSON pointer into an object, or a
//! span of pattern text) and a message. Codes are listed in
//! `docs/diagnostics.md` (E, W) and `docs/pattern-diagnostics.md` (P) and
//! never reused; a test checks the documents list exactly [`Code::ALL`].

use std::fmt;

/// How bad a finding is: errors break a MUST of the spec, warnings a SHOULD
/// (or, for patterns, say it cannot match as written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// Every diagnostic code. The order is the codes' text order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    E001,
    E100,
    E101,
    E102,
    E103,
    E104,
    E105,
    E106,
    E107,
    E108,
    E109,
    E110,
    E111,
    E112,
    E113,
    E114,
    E115,
    E116,
    E117,
    E118,
    E119,
    E120,
    E122,
    E123,
    E124,
    E125,
    E126,
    E130,
    E131,
    E132,
    E133,
    E134,
    E135,
    E136,
    E137,
    E140,
    E141,
    E142,
    E143,
    E144,
    E145,
    E146,
    E147,
    E148,
    E151,
    E152,
    E158,
    E159,
    E160,
    P001,
    P002,
    P003,
    P004,
    P005,
    P006,
    P007,
    P008,
    P010,
    P011,
    P012,
    P013,
    P014,
    P015,
    P020,
    P021,
    P022,
    P023,
    P024,
    P025,
    P026,
    P027,
    P028,
    P029,
    P030,
    P031,
    P032,
    P033,
    P034,
    P035,
    P036,
    P040,
    P041,
    P042,
    P043,
    W201,
    W202,
    W203,
    W204,
    W205,
    W206,
    W207,
    W209,
    W212,
    W213,
    W214,
    W215,
}

impl Code {
    /// Every code, in order.
    pub const ALL: &'static [Code] = &[
        Code::E001,
        Code::E100,
        Code::E101,
        Code::E102,
        Code::E103,
        Code::E104,
        Code::E105,
        Code::E106,
        Code::E107,
        Code::E108,
        Code::E109,
        Code::E110,
        Code::E111,
        Code::E112,
        Code::E113,
        Code::E114,
        Code::E115,
        Code::E116,
        Code::E117,
        Code::E118,
        Code::E119,
        Code::E120,
        Code::E122,
        Code::E123,
        Code::E124,
        Code::E125,
        Code::E126,
        Code::E130,
        Code::E131,
        Code::E132,
        Code::E133,
        Code::E134,
        Code::E135,
        Code::E136,
        Code::E137,
        Code::E140,
        Code::E141,
        Code::E142,
        Code::E143,
        Code::E144,
        Code::E145,
        Code::E146,
        Code::E147,
        Code::E148,
        Code::E151,
        Code::E152,
        Code::E158,
        Code::E159,
        Code::E160,
        Code::P001,
        Code::P002,
        Code::P003,
        Code::P004,
        Code::P005,
        Code::P006,
        Code::P007,
        Code::P008,
        Code::P010,
        Code::P011,
        Code::P012,
        Code::P013,
        Code::P014,
        Code::P015,
        Code::P020,
        Code::P021,
        Code::P022,
        Code::P023,
        Code::P024,
        Code::P025,
        Code::P026,
        Code::P027,
        Code::P028,
        Code::P029,
        Code::P030,
        Code::P031,
        Code::P032,
        Code::P033,
        Code::P034,
        Code::P035,
        Code::P036,
        Code::P040,
        Code::P041,
        Code::P042,
        Code::P043,
        Code::W201,
        Code::W202,
        Code::W203,
        Code::W204,
        Code::W205,
        Code::W206,
        Code::W207,
        Code::W209,
        Code::W212,
        Code::W213,
        Code::W214,
        Code::W215,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Code::E001 => "E001",
            Code::E100 => "E100",
            Code::E101 => "E101",
            Code::E102 => "E102",
            Code::E103 => "E103",
            Code::E104 => "E104",
            Code::E105 => "E105",
            Code::E106 => "E106",
            Code::E107 => "E107",
            Code::E108 => "E108",
            Code::E109 => "E109",
            Code::E110 => "E110",
            Code::E111 => "E111",
            Code::E112 => "E112",
            Code::E113 => "E113",
            Code::E114 => "E114",
            Code::E115 => "E115",
            Code::E116 => "E116",
            Code::E117 => "E117",
            Code::E118 => "E118",
            Code::E119 => "E119",
            Code::E120 => "E120",
            Code::E122 => "E122",
            Code::E123 => "E123",
            Code::E124 => "E124",
            Code::E125 => "E125",
            Code::E126 => "E126",
            Code::E130 => "E130",
            Code::E131 => "E131",
            Code::E132 => "E132",
            Code::E133 => "E133",
            Code::E134 => "E134",
            Code::E135 => "E135",
            Code::E136 => "E136",
            Code::E137 => "E137",
            Code::E140 => "E140",
            Code::E141 => "E141",
            Code::E142 => "E142",
            Code::E143 => "E143",
            Code::E144 => "E144",
            Code::E145 => "E145",
            Code::E146 => "E146",
            Code::E147 => "E147",
            Code::E148 => "E148",
            Code::E151 => "E151",
            Code::E152 => "E152",
            Code::E158 => "E158",
            Code::E159 => "E159",
            Code::E160 => "E160",
            Code::P001 => "P001",
            Code::P002 => "P002",
            Code::P003 => "P003",
            Code::P004 => "P004",
            Code::P005 => "P005",
            Code::P006 => "P006",
            Code::P007 => "P007",
            Code::P008 => "P008",
            Code::P010 => "P010",
            Code::P011 => "P011",
            Code::P012 => "P012",
            Code::P013 => "P013",
            Code::P014 => "P014",
            Code::P015 => "P015",
            Code::P020 => "P020",
            Code::P021 => "P021",
            Code::P022 => "P022",
            Code::P023 => "P023",
            Code::P024 => "P024",
            Code::P025 => "P025",
            Code::P026 => "P026",
            Code::P027 => "P027",
            Code::P028 => "P028",
            Code::P029 => "P029",
            Code::P030 => "P030",
            Code::P031 => "P031",
            Code::P032 => "P032",
            Code::P033 => "P033",
            Code::P034 => "P034",
            Code::P035 => "P035",
            Code::P036 => "P036",
            Code::P040 => "P040",
            Code::P041 => "P041",
            Code::P042 => "P042",
            Code::P043 => "P043",
            Code::W201 => "W201",
            Code::W202 => "W202",
            Code::W203 => "W203",
            Code::W204 => "W204",
            Code::W205 => "W205",
            Code::W206 => "W206",
            Code::W207 => "W207",
            Code::W209 => "W209",
            Code::W212 => "W212",
            Code::W213 => "W213",
            Code::W214 => "W214",
            Code::W215 => "W215",
        }
    }

    /// `W…` codes and the pattern warnings P040–P043 are warnings; the rest errors.
    pub fn severity(self) -> Severity {
        let s = self.as_str();
        if s.starts_with('W') || ("P040"..="P049").contains(&s) {
            Severity::Warning
        } else {
            Severity::Error
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

/// A byte range `[start, end)` in a text (a STIX pattern).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// From this span's start to `other`'s end.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start, other.end)
    }
}

/// Where a finding is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A JSON pointer (RFC 6901) into the object; `""` is the whole object.
    Pointer(String),
    /// A span of pattern text and the 0-based *character* index of its start
    /// (equal to the byte offset for ASCII).
    Text { span: Span, position: usize },
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub location: Location,
    pub message: String,
}

impl Diagnostic {
    /// An error at a JSON pointer of an object.
    pub fn error(code: Code, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            location: Location::Pointer(pointer.into()),
            message: message.into(),
        }
    }

    /// A warning at a JSON pointer of an object.
    pub fn warning(code: Code, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            code,
            location: Location::Pointer(pointer.into()),
            message: message.into(),
        }
    }

    /// A finding at `span` of the text `src` (its severity is the code's).
    pub fn in_text(src: &str, code: Code, span: Span, message: impl Into<String>) -> Self {
        let start = span.start.min(src.len());
        let position = src
            .get(..start)
            .map_or(start, |prefix| prefix.chars().count());
        Self {
            severity: code.severity(),
            code,
            location: Location::Text { span, position },
            message: message.into(),
        }
    }

    /// The JSON pointer (`""` for a finding in text).
    pub fn pointer(&self) -> &str {
        match &self.location {
            Location::Pointer(p) => p,
            Location::Text { .. } => "",
        }
    }

    /// The span of text (empty at 0 for a finding in an object).
    pub fn span(&self) -> Span {
        match self.location {
            Location::Text { span, .. } => span,
            Location::Pointer(_) => Span::default(),
        }
    }

    /// The character position of the span's start (0 for an object's finding).
    pub fn position(&self) -> usize {
        match self.location {
            Location::Text { position, .. } => position,
            Location::Pointer(_) => 0,
        }
    }
}

impl fmt::Display for Diagnostic {
    /// `E101 /created_by_ref: must reference an identity, got "malware--…"`, or
    /// for pattern text `P010 at 14: expected …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::Pointer(p) => {
                let p = if p.is_empty() { "/" } else { p };
                write!(f, "{} {}: {}", self.code, p, self.message)
            }
            Location::Text { position, .. } => {
                write!(f, "{} at {}: {}", self.code, position, self.message)
            }
        }
    }
}

impl std::error::Error for Diagnostic {}

/// Findings on one line for a message (a TAXII status, a log): the first
/// `max` as `Display` shows them, joined by "; ", then how many were left out.
pub fn summary(diags: &[Diagnostic], max: usize) -> String {
    let mut out = diags
        .iter()
        .take(max)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    if diags.len() > max {
        out.push_str(&format!(" (and {} more)", diags.len() - max));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_in_text_order_and_unique() {
        let text: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        let mut sorted = text.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(text, sorted);
        assert_eq!(Code::W215.severity(), Severity::Warning);
        assert_eq!(Code::P041.severity(), Severity::Warning);
        assert_eq!(Code::P033.severity(), Severity::Error);
        assert_eq!(Code::E101, "E101");
    }

    #[test]
    fn summary_says_how_many_were_left_out() {
        let d = |p: &str| Diagnostic::error(Code::E105, p, "must be a string, got 1");
        let all = [d("/a"), d("/b"), d("/c")];
        assert_eq!(
            summary(&all, 2),
            "E105 /a: must be a string, got 1; E105 /b: must be a string, got 1 (and 1 more)"
        );
        assert_eq!(summary(&all[..1], 2), "E105 /a: must be a string, got 1");
        assert_eq!(summary(&[], 2), "");
    }
}
