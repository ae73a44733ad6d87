//! Warninglist suppression: a match whose matched value is on a list of
//! known-benign values (public resolvers, documentation ranges, …) is not
//! reported as a detection.

use sightline_matcher::Match;
use sightline_warninglist::{ValueKind, WarningLists};

/// Why a match was suppressed: the list and the value found on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub list: String,
    pub value: String,
}

/// The warninglist that one of the match's values is on, and that value.
pub fn suppressed_by(lists: &WarningLists, m: &Match) -> Option<Suppression> {
    if lists.is_empty() {
        return None;
    }
    for r in &m.reasons {
        let Some(sightline_matcher::Value::String(value)) = &r.value else {
            continue;
        };
        // `type:prop` says what kind of value it is (`file:hashes.MD5` too);
        // through a `_ref` the object's type is not known here, so the value's
        // shape decides (an IP is never checked against a phone-number list).
        let kind = match r.path.split_once(':') {
            Some((ty, prop)) if !prop.contains("_ref") => ValueKind::of_sco(ty, prop),
            _ => ValueKind::guess(value),
        };
        if let Some(name) = lists.first(Some(kind), value) {
            return Some(Suppression {
                list: name.to_owned(),
                value: value.to_string(),
            });
        }
    }
    None
}
