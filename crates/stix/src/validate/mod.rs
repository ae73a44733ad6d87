//! The STIX 2.1 validator: MUST rules are errors, SHOULD rules warnings.
//! Every finding has a stable code (see `docs/diagnostics.md`).

use serde_json::Value;

use crate::diag::{Diagnostic, Severity};

/// Checks `indicator.pattern` when `pattern_type` is `stix`. The patterning
/// crate implements it; the validator stays independent of it.
pub trait PatternChecker: Send + Sync {
    /// `Err(message)` when the pattern is not valid STIX Patterning.
    fn check(&self, pattern: &str) -> Result<(), String>;
}

/// A configured validator. Cheap to share between threads.
#[derive(Default)]
pub struct Validator {
    pattern_checker: Option<Box<dyn PatternChecker>>,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator").field("pattern_checker", &self.pattern_checker.is_some()).finish()
    }
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_pattern_checker(mut self, checker: Box<dyn PatternChecker>) -> Self {
        self.pattern_checker = Some(checker);
        self
    }

    /// All findings for one object, errors and warnings, in a stable order.
    pub fn validate(&self, obj: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        if !obj.is_object() {
            out.push(Diagnostic::error("E001", "", "not a JSON object"));
        }
        out
    }
}

/// Whether `diags` contains no error.
pub fn is_valid(diags: &[Diagnostic]) -> bool {
    diags.iter().all(|d| d.severity != Severity::Error)
}
