//! STIX 2.1 model: identifiers, timestamps, object metadata, built-in markings,
//! vocabularies and the validator.
//!
//! Pure: no I/O and no async, so everything here is tested with plain `#[test]`.
//! Objects are handled as `serde_json::Value` plus the raw text they arrived as;
//! [`ObjectMeta`] extracts the few fields the rest of Sightline indexes, so no
//! property (custom or not) can be lost by a typed model that does not know it.

pub mod budget;
pub mod diag;
pub mod encoding;
pub mod entity;
pub mod ids;
pub mod object;
pub mod refs;
pub mod time;
pub mod tlp;
pub mod validate;
pub mod vocab;

pub use budget::RegexBudget;
pub use diag::{Code, Diagnostic, Location, Severity, Span};
pub use ids::{StixId, StixIdError};
pub use object::{category_of, Category, ObjectMeta, ObjectMetaError};
pub use time::{format_micros, Timestamp, TimestampError};
pub use validate::{cross_object_findings, is_valid, PatternChecker, PatternVerdict, Validator};
