//! Validator findings as data: a stable code, a JSON-pointer location and a message.

use std::fmt;

/// How bad a finding is: errors break a MUST of the spec, warnings a SHOULD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding of the validator.
///
/// `code` is stable and never reused (documented in `docs/diagnostics.md`);
/// `pointer` is a JSON pointer (RFC 6901) into the object, `""` for the whole object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub pointer: String,
    pub message: String,
}

impl Diagnostic {
    pub fn error(
        code: &'static str,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Error,
            code,
            pointer: pointer.into(),
            message: message.into(),
        }
    }

    pub fn warning(
        code: &'static str,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            code,
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    /// `E101 /created_by_ref: must reference an identity, got "malware--…"`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ptr = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{} {}: {}", self.code, ptr, self.message)
    }
}
