//! The STIX 2.1 validator: MUST rules are errors, SHOULD rules warnings.
//! Every finding has a stable code (see `docs/diagnostics.md`).
//!
//! How it works: each object type has a property table ([`types`]) of
//! `(name, kind, required)`; the walker visits every property of the object
//! once, checks declared ones against their kind and undeclared ones against the
//! custom-property rules, then checks required properties and the rules that
//! relate several properties (timestamps order, "one of", TLP, ids). Nothing is
//! allocated unless a finding is reported: JSON pointers are stack frames
//! rendered only on report, and no regex is used.

mod ctx;
mod formats;
mod props;
pub mod schema;
mod types;

#[cfg(test)]
mod real_data;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::diag::{Code, Diagnostic, Severity};
use crate::ids::{sco_deterministic_id, sco_id_contributing_properties, StixId};
use crate::object::{
    category_of, Category, DOMAIN_TYPES, META_TYPES, OBSERVABLE_TYPES, RELATIONSHIP_TYPES,
};
use crate::time::Timestamp;
use crate::tlp;
use crate::vocab;

use ctx::{json_type, Cx, Node};
use props::{
    check_custom_property, check_custom_value, check_extensions, check_kind, check_selectors, find,
    ExtInfo, K, P,
};

/// Checks `indicator.pattern` when `pattern_type` is `stix`. The patterning
/// crate implements it; the validator stays independent of it.
pub trait PatternChecker: Send + Sync {
    /// `Err(message)` when the pattern is not valid STIX Patterning.
    fn check(&self, pattern: &str) -> Result<(), String>;

    /// As [`check`](Self::check), spending `budget` on compiling regular
    /// expressions (and stopping early once it is cancelled). The default
    /// ignores the budget.
    fn check_within(&self, pattern: &str, budget: &crate::RegexBudget) -> Result<(), String> {
        let _ = budget;
        self.check(pattern)
    }

    /// The whole verdict in one pass: the error as [`check`](Self::check)
    /// gives it, and for a valid pattern the warnings that say it can never
    /// match as meant (W215). The default has no warnings.
    fn verdict(&self, pattern: &str, budget: Option<&crate::RegexBudget>) -> PatternVerdict {
        PatternVerdict {
            error: match budget {
                Some(b) => self.check_within(pattern, b),
                None => self.check(pattern),
            }
            .err(),
            warnings: Vec::new(),
        }
    }
}

/// What a [`PatternChecker`] found in one pattern.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatternVerdict {
    /// Why the pattern is not valid (E141), if it is not.
    pub error: Option<String>,
    /// Findings on a valid pattern that can never match as written (W215).
    pub warnings: Vec<String>,
}

/// A configured validator. Cheap to share between threads.
#[derive(Default)]
pub struct Validator {
    pattern_checker: Option<Box<dyn PatternChecker>>,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("pattern_checker", &self.pattern_checker.is_some())
            .finish()
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

    /// The ingest gate shared by every way in (import, TAXII POST): validates
    /// `obj` and extracts what the store indexes. `Ok((meta, warnings))` when it
    /// may be stored; `Err(errors)`, the error-severity findings (never empty),
    /// when not. [`summary`](crate::diag::summary) renders them on one line.
    pub fn admit(&self, obj: &Value) -> Result<(crate::ObjectMeta, usize), Vec<Diagnostic>> {
        self.admit_inner(obj, None)
    }

    /// As [`admit`](Self::admit), with the regex compile budget of the
    /// envelope or import file the object came in (shared by its objects).
    pub fn admit_within(
        &self,
        obj: &Value,
        budget: &crate::RegexBudget,
    ) -> Result<(crate::ObjectMeta, usize), Vec<Diagnostic>> {
        self.admit_inner(obj, Some(budget))
    }

    fn admit_inner(
        &self,
        obj: &Value,
        budget: Option<&crate::RegexBudget>,
    ) -> Result<(crate::ObjectMeta, usize), Vec<Diagnostic>> {
        let mut diags = self.validate_inner(obj, budget);
        if !is_valid(&diags) {
            diags.retain(|d| d.severity == Severity::Error);
            return Err(diags);
        }
        let meta = crate::ObjectMeta::extract(obj).map_err(|e| vec![Diagnostic::from(&e)])?;
        Ok((meta, diags.len()))
    }

    /// All findings for one object, errors and warnings, in a stable order.
    pub fn validate(&self, obj: &Value) -> Vec<Diagnostic> {
        self.validate_inner(obj, None)
    }

    /// As [`validate`](Self::validate), within a shared regex budget.
    pub fn validate_within(&self, obj: &Value, budget: &crate::RegexBudget) -> Vec<Diagnostic> {
        self.validate_inner(obj, Some(budget))
    }

    fn validate_inner(&self, obj: &Value, budget: Option<&crate::RegexBudget>) -> Vec<Diagnostic> {
        let mut cx = Cx {
            out: Vec::new(),
            budget,
        };
        self.check_object(&mut cx, obj);
        cx.out
    }

    /// Validates each object and adds the findings that need the whole bundle:
    /// the same UUID under two types (STIX 2.1 §2.9; a warning, because the
    /// OASIS examples and the Attack Flow corpus do it) and a repeated
    /// `(id, modified)` pair (warning). Result `i` belongs to `objects[i]`.
    /// The objects share one [`RegexBudget`](crate::RegexBudget) (a bundle is one file).
    pub fn validate_bundle_objects(&self, objects: &[Value]) -> Vec<Vec<Diagnostic>> {
        let budget = crate::RegexBudget::default();
        let mut all: Vec<Vec<Diagnostic>> = objects
            .iter()
            .map(|o| self.validate_inner(o, Some(&budget)))
            .collect();
        cross_object_checks(objects, &mut all);
        all
    }

    /// Validates a whole bundle (§8): its own findings, then each object's.
    pub fn validate_bundle(&self, bundle: &Value) -> (Vec<Diagnostic>, Vec<Vec<Diagnostic>>) {
        let mut cx = Cx {
            out: Vec::new(),
            budget: None,
        };
        let Some(b) = bundle.as_object() else {
            cx.err(Code::E001, None, "not a JSON object");
            return (cx.out, Vec::new());
        };
        let tn = Node::key(None, "type");
        match b.get("type") {
            Some(Value::String(s)) if s == "bundle" => {}
            Some(v) => cx.err(
                Code::E160,
                Some(&tn),
                format!("a bundle's type must be \"bundle\", got {}", ctx::show(v)),
            ),
            None => cx.err(Code::E101, Some(&tn), "required property type is missing"),
        }
        let idn = Node::key(None, "id");
        match b.get("id") {
            Some(Value::String(s)) => match StixId::parse(s) {
                Ok(id) if id.ty == "bundle" => {}
                Ok(_) => cx.err(
                    Code::E103,
                    Some(&idn),
                    "the type part of a bundle id must be \"bundle\"",
                ),
                Err(e) => cx.err(Code::E102, Some(&idn), e.to_string()),
            },
            Some(v) => cx.err(
                Code::E105,
                Some(&idn),
                format!("must be a string, got {}", json_type(v)),
            ),
            None => cx.err(Code::E101, Some(&idn), "required property id is missing"),
        }
        let on = Node::key(None, "objects");
        let objects: &[Value] = match b.get("objects") {
            None => &[],
            Some(Value::Array(a)) if a.is_empty() => {
                cx.err(Code::E106, Some(&on), "empty lists are prohibited");
                &[]
            }
            Some(Value::Array(a)) => a,
            Some(v) => {
                cx.err(
                    Code::E105,
                    Some(&on),
                    format!("must be a list, got {}", json_type(v)),
                );
                &[]
            }
        };
        (cx.out, self.validate_bundle_objects(objects))
    }

    fn check_object(&self, cx: &mut Cx, obj: &Value) {
        let Some(o) = obj.as_object() else {
            cx.err(Code::E001, None, "not a JSON object");
            return;
        };
        let type_node = Node::key(None, "type");
        let ty = match o.get("type") {
            None => {
                cx.err(
                    Code::E101,
                    Some(&type_node),
                    "required property type is missing",
                );
                return;
            }
            Some(Value::String(s)) => s.as_str(),
            Some(v) => {
                cx.err(
                    Code::E105,
                    Some(&type_node),
                    format!("must be a string, got {}", json_type(v)),
                );
                return;
            }
        };
        if !props::is_type_name(ty) {
            cx.err(Code::E100, Some(&type_node), format!("{ty:?} is not 3-250 characters of a-z, 0-9 and '-' (no leading, trailing or double '-')"));
            return;
        }
        let category = category_of(ty, Some(o));
        let predefined = DOMAIN_TYPES.contains(&ty)
            || RELATIONSHIP_TYPES.contains(&ty)
            || OBSERVABLE_TYPES.contains(&ty)
            || META_TYPES.contains(&ty);
        let tables: [&[P]; 2] = match ty {
            "marking-definition" => [types::MARKING_DEFINITION, &[]],
            "extension-definition" => [types::EXTENSION_DEFINITION, &[]],
            _ => {
                let own = types::table(ty).unwrap_or(&[]);
                match category {
                    Category::Observable => [types::SCO_COMMON, own],
                    _ => [types::SDO_COMMON, own],
                }
            }
        };

        // id
        let id_node = Node::key(None, "id");
        let id = match o.get("id") {
            None => {
                cx.err(
                    Code::E101,
                    Some(&id_node),
                    "required property id is missing",
                );
                None
            }
            Some(Value::String(s)) => match props::parse_id(s) {
                Ok((id, _)) if id.ty != ty => {
                    cx.err(
                        Code::E103,
                        Some(&id_node),
                        format!("the type part of the id ({}) must equal type ({ty})", id.ty),
                    );
                    None
                }
                Ok((id, upper)) => {
                    if upper {
                        cx.warn(
                            Code::W214,
                            Some(&id_node),
                            "identifiers should be written in lower case",
                        );
                    }
                    Some(id)
                }
                Err(e) => {
                    cx.err(Code::E102, Some(&id_node), e.to_string());
                    None
                }
            },
            Some(v) => {
                cx.err(
                    Code::E105,
                    Some(&id_node),
                    format!("must be a string, got {}", json_type(v)),
                );
                None
            }
        };

        let ext = match o.get("extensions") {
            Some(e) if find(&tables, "extensions").is_some() => {
                let n = Node::key(None, "extensions");
                check_extensions(cx, ty, e, Some(&n))
            }
            _ => ExtInfo::default(),
        };

        let mut required_seen = 0;
        for (k, v) in o {
            let n = Node::key(None, k);
            let ptr = Some(&n);
            let found = find(&tables, k);
            if found.is_some_and(|p| p.req) {
                required_seen += 1;
            }
            match found {
                Some(P {
                    kind: K::Extensions,
                    ..
                }) => {}
                Some(_) if k == "id" || k == "type" => {}
                Some(pp) => check_kind(cx, pp.kind, v, ptr),
                None if props::RESERVED.contains(&k.as_str()) => {
                    cx.err(
                        Code::E112,
                        ptr,
                        format!("{k} is a reserved property name and must not be used"),
                    );
                    check_custom_value(cx, v, ptr);
                }
                None => {
                    check_custom_property(cx, k, v, ptr);
                    if predefined
                        && !ext.defines_toplevel
                        && !k.starts_with("x_")
                        && props::is_property_name(k)
                    {
                        cx.warn(Code::W203, ptr, format!("custom property {k} should start with x_ (or be defined by an extension)"));
                    }
                }
            }
        }
        let required_total: usize = tables
            .iter()
            .map(|t| t.iter().filter(|p| p.req).count())
            .sum();
        for t in tables.iter().filter(|_| required_seen < required_total) {
            // `type` and `id` were reported above.
            for pp in t
                .iter()
                .filter(|p| p.req && p.name != "id" && p.name != "type")
            {
                if !o.contains_key(pp.name) {
                    let n = Node::key(None, pp.name);
                    cx.err(
                        Code::E101,
                        Some(&n),
                        format!("required property {} is missing", pp.name),
                    );
                }
            }
        }

        if let Some(Value::String(sv)) = o.get("spec_version") {
            if sv != "2.1" {
                let n = Node::key(None, "spec_version");
                cx.err(Code::E104, Some(&n), format!("must be \"2.1\", got {sv:?}"));
            }
        }

        check_timestamp_order(cx, ty, o);
        self.type_rules(cx, ty, o);

        if let Some(gm) = o.get("granular_markings") {
            check_selectors(cx, o, gm);
        }
        if let Some(id) = id {
            check_id_version(cx, ty, category, predefined, &id, o);
        }
        if !predefined && !ty.starts_with("x-") && !ext.defines_new_type {
            cx.warn(Code::W204, Some(&type_node), format!("custom object type {ty} should start with x- (or be defined by an extension-definition)"));
        }
    }

    // One arm per type reads like the spec; guards would hide the rules.
    #[allow(clippy::collapsible_match)]
    fn type_rules(&self, cx: &mut Cx, ty: &str, o: &Map<String, Value>) {
        let has = |k: &str| o.contains_key(k);
        let one_of = |cx: &mut Cx, keys: &[&str]| {
            if !keys.iter().any(|k| o.contains_key(*k)) {
                cx.err(
                    Code::E144,
                    None,
                    format!("{ty} must have at least one of {}", keys.join(", ")),
                );
            }
        };
        match ty {
            "indicator" => {
                if let (Some(Value::String(pat)), Some("stix"), Some(ch)) = (
                    o.get("pattern"),
                    o.get("pattern_type").and_then(Value::as_str),
                    self.pattern_checker.as_deref(),
                ) {
                    let verdict = ch.verdict(pat, cx.budget);
                    let n = Node::key(None, "pattern");
                    if let Some(m) = verdict.error {
                        cx.err(
                            Code::E141,
                            Some(&n),
                            format!("not a valid STIX pattern: {m}"),
                        );
                    }
                    for w in verdict.warnings {
                        cx.warn(
                            Code::W215,
                            Some(&n),
                            format!("the pattern cannot match as written: {w}"),
                        );
                    }
                }
            }
            "malware" => {
                if o.get("is_family") == Some(&Value::Bool(true)) && !has("name") {
                    let n = Node::key(None, "name");
                    cx.err(
                        Code::E140,
                        Some(&n),
                        "name is required when is_family is true",
                    );
                }
            }
            "location" => {
                let (lat, lon) = (has("latitude"), has("longitude"));
                if lat != lon {
                    cx.err(
                        Code::E142,
                        None,
                        "latitude and longitude must be given together",
                    );
                }
                if has("precision") && !(lat && lon) {
                    let n = Node::key(None, "precision");
                    cx.err(
                        Code::E142,
                        Some(&n),
                        "precision requires latitude and longitude",
                    );
                }
                if !(has("region") || has("country") || (lat && lon)) {
                    cx.err(
                        Code::E142,
                        None,
                        "a location must have region, country, or latitude and longitude",
                    );
                }
            }
            "observed-data" => {
                match (has("objects"), has("object_refs")) {
                    (true, true) => cx.err(
                        Code::E151,
                        None,
                        "observed-data must not have both objects and object_refs",
                    ),
                    (false, false) => cx.err(
                        Code::E151,
                        None,
                        "observed-data must have object_refs (or the deprecated objects)",
                    ),
                    _ => {}
                }
                if has("objects") {
                    let n = Node::key(None, "objects");
                    cx.warn(
                        Code::W212,
                        Some(&n),
                        "objects is deprecated in STIX 2.1; use object_refs",
                    );
                }
            }
            "malware-analysis" => one_of(cx, &["result", "analysis_sco_refs"]),
            "relationship" => check_relationship(cx, o),
            "language-content" => check_language_content(cx, o),
            "marking-definition" => check_marking(cx, o),
            "artifact" => {
                let n = Node::key(None, "url");
                match (has("payload_bin"), has("url")) {
                    (true, true) => cx.err(
                        Code::E143,
                        None,
                        "artifact must have payload_bin or url, not both",
                    ),
                    (false, false) => {
                        cx.err(Code::E143, None, "artifact must have payload_bin or url")
                    }
                    (false, true) if !has("hashes") => {
                        cx.err(Code::E143, Some(&n), "url requires hashes")
                    }
                    _ => {}
                }
            }
            "file" => one_of(cx, &["hashes", "name"]),
            "network-traffic" => {
                one_of(cx, &["src_ref", "dst_ref"]);
                if o.get("is_active") == Some(&Value::Bool(true)) && has("end") {
                    let n = Node::key(None, "end");
                    cx.err(
                        Code::E145,
                        Some(&n),
                        "end must not be present when is_active is true",
                    );
                }
            }
            "email-message" => match o.get("is_multipart") {
                Some(Value::Bool(true)) if has("body") => {
                    let n = Node::key(None, "body");
                    cx.err(
                        Code::E145,
                        Some(&n),
                        "body must not be present when is_multipart is true",
                    );
                }
                Some(Value::Bool(false)) if has("body_multipart") => {
                    let n = Node::key(None, "body_multipart");
                    cx.err(
                        Code::E145,
                        Some(&n),
                        "body_multipart must not be present when is_multipart is false",
                    );
                }
                _ => {}
            },
            "process" => {
                if !has("extensions") && !types::PROCESS.iter().any(|p| has(p.name)) {
                    cx.err(
                        Code::E144,
                        None,
                        "process must have at least one process property or extension",
                    );
                }
            }
            "x509-certificate" => {
                if !types::X509_CERTIFICATE.iter().any(|p| has(p.name)) {
                    cx.err(
                        Code::E144,
                        None,
                        "x509-certificate must have at least one certificate property",
                    );
                }
            }
            _ => {}
        }
    }
}

/// Whether `diags` contains no error.
pub fn is_valid(diags: &[Diagnostic]) -> bool {
    diags.iter().all(|d| d.severity != Severity::Error)
}

/// A valid timestamp property's text.
fn ts<'a>(o: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    o.get(k)
        .and_then(Value::as_str)
        .filter(|s| Timestamp::parse(s).is_ok())
}

/// Orders two valid timestamps by instant without allocating (the order of
/// [`Timestamp`]): whole seconds, then the fraction with trailing zeros ignored.
fn cmp_ts(a: &str, b: &str) -> std::cmp::Ordering {
    let fa = a
        .get(20..a.len().saturating_sub(1))
        .unwrap_or("")
        .trim_end_matches('0')
        .as_bytes();
    let fb = b
        .get(20..b.len().saturating_sub(1))
        .unwrap_or("")
        .trim_end_matches('0')
        .as_bytes();
    a.get(..19).cmp(&b.get(..19)).then_with(|| {
        // Digit by digit, a missing digit counting as 0.
        (0..fa.len().max(fb.len()))
            .map(|i| fa.get(i).unwrap_or(&b'0').cmp(fb.get(i).unwrap_or(&b'0')))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    })
}

/// modified ≥ created (§3.2) and the windows of §4–§6: `later` ≥ (or >) `earlier`.
fn check_timestamp_order(cx: &mut Cx, ty: &str, o: &Map<String, Value>) {
    let pairs: &[(&str, &str, bool)] = match ty {
        "campaign" | "intrusion-set" | "threat-actor" | "malware" | "infrastructure"
        | "sighting" => &[("first_seen", "last_seen", false)],
        "observed-data" => &[("first_observed", "last_observed", false)],
        "indicator" => &[("valid_from", "valid_until", true)],
        "relationship" => &[("start_time", "stop_time", true)],
        "network-traffic" => &[("start", "end", false)],
        _ => &[],
    };
    if let (Some(c), Some(m)) = (ts(o, "created"), ts(o, "modified")) {
        if cmp_ts(m, c).is_lt() {
            let n = Node::key(None, "modified");
            cx.err(
                Code::E109,
                Some(&n),
                format!("modified ({m}) must not be earlier than created ({c})"),
            );
        }
    }
    for &(early, late, strict) in pairs {
        if let (Some(a), Some(b)) = (ts(o, early), ts(o, late)) {
            let ord = cmp_ts(b, a);
            if ord.is_lt() || (strict && ord.is_eq()) {
                let n = Node::key(None, late);
                let rel = if strict {
                    "later than"
                } else {
                    "later than or equal to"
                };
                cx.err(
                    Code::E110,
                    Some(&n),
                    format!("{late} ({b}) must be {rel} {early} ({a})"),
                );
            }
        }
    }
}

/// §2.9: SDO/SRO/SMO ids SHOULD be UUIDv4; SCO ids SHOULD be the UUIDv5 of their
/// id-contributing properties, and MUST be UUIDv4 when none is present; process
/// ids MUST be UUIDv4.
#[allow(clippy::collapsible_match)]
fn check_id_version(
    cx: &mut Cx,
    ty: &str,
    cat: Category,
    predefined: bool,
    id: &StixId<'_>,
    o: &Map<String, Value>,
) {
    let n = Node::key(None, "id");
    let ver = id.uuid.get_version_num();
    if cat != Category::Observable {
        if ver != 4 {
            cx.warn(
                Code::W205,
                Some(&n),
                format!("SDO/SRO/SMO ids should be UUIDv4, got version {ver}"),
            );
        }
        return;
    }
    if !predefined {
        return;
    }
    if ty == "process" {
        if ver != 4 {
            cx.err(
                Code::E146,
                Some(&n),
                format!("process ids must be UUIDv4, got version {ver}"),
            );
        }
        return;
    }
    if sco_id_contributing_properties(ty).is_none() {
        return;
    }
    match sco_deterministic_id(o) {
        None if ver != 4 => {
            cx.err(Code::E146, Some(&n), format!("with no id-contributing property present the id must be UUIDv4, got version {ver}"));
        }
        None => {}
        Some(_) if ver != 5 => {
            cx.warn(Code::W206, Some(&n), format!("SCO ids should be UUIDv5 over the id-contributing properties, got version {ver}"));
        }
        Some(det) => {
            if o.get("id").and_then(Value::as_str) != Some(det.as_str()) {
                cx.warn(Code::W206, Some(&n), format!("UUIDv5 id differs from the one computed from the id-contributing properties ({det})"));
            }
        }
    }
}

fn check_relationship(cx: &mut Cx, o: &Map<String, Value>) {
    let Some(rel) = o.get("relationship_type").and_then(Value::as_str) else {
        return;
    };
    let n = Node::key(None, "relationship_type");
    if rel.is_empty()
        || !rel
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        cx.err(
            Code::E152,
            Some(&n),
            format!("{rel:?} must contain only a-z, 0-9 and '-'"),
        );
        return;
    }
    let ty_of = |k: &str| {
        o.get(k)
            .and_then(Value::as_str)
            .and_then(|s| props::parse_id(s).ok())
            .map(|i| i.0.ty)
    };
    if let (Some(s), Some(t)) = (ty_of("source_ref"), ty_of("target_ref")) {
        if !vocab::is_spec_relationship(s, rel, t) {
            cx.warn(
                Code::W202,
                Some(&n),
                format!("{rel:?} is not a relationship STIX 2.1 defines from {s} to {t}"),
            );
        }
    }
}

/// language-content `contents` (§7.1): keys are RFC 5646 tags; values map
/// property names of the object to translations.
fn check_language_content(cx: &mut Cx, o: &Map<String, Value>) {
    let Some(Value::Object(contents)) = o.get("contents") else {
        return;
    };
    let cn = Node::key(None, "contents");
    if contents.is_empty() {
        cx.err(Code::E147, Some(&cn), "contents must not be empty");
    }
    for (lang, tr) in contents {
        let ln = Node::key(Some(&cn), lang);
        if !props::is_lang_tag(lang) {
            cx.err(
                Code::E114,
                Some(&ln),
                format!("{lang:?} is not an RFC 5646 language tag"),
            );
        }
        match tr {
            Value::Object(m) => {
                for (k, v) in m {
                    let kn = Node::key(Some(&ln), k);
                    check_custom_property(cx, k, v, Some(&kn));
                }
            }
            v => cx.err(
                Code::E147,
                Some(&ln),
                format!(
                    "must be an object of translated properties, got {}",
                    json_type(v)
                ),
            ),
        }
    }
}

/// marking-definition rules (§7.2): definition_type and definition go together,
/// TLP 1.0/2.0 markings are the fixed objects, no self-marking.
#[allow(clippy::collapsible_match)]
fn check_marking(cx: &mut Cx, o: &Map<String, Value>) {
    let id = o.get("id").and_then(Value::as_str).unwrap_or("");
    let dt = o.get("definition_type").and_then(Value::as_str);
    let def = o.get("definition");
    let dn = Node::key(None, "definition");
    match (dt, def) {
        (Some(_), None) => cx.err(
            Code::E158,
            Some(&dn),
            "definition is required with definition_type",
        ),
        (None, Some(_)) if !o.contains_key("definition_type") => {
            let n = Node::key(None, "definition_type");
            cx.err(
                Code::E158,
                Some(&n),
                "definition_type is required with definition",
            );
        }
        (Some("tlp"), Some(d)) => {
            let level = d.get("tlp").and_then(Value::as_str);
            let tn = Node::key(Some(&dn), "tlp");
            match level.and_then(|l| tlp::TLP1.iter().find(|m| m.level == l)) {
                None => cx.err(
                    Code::E158,
                    Some(&tn),
                    "a tlp definition must have tlp: white, green, amber or red",
                ),
                Some(m) if m.id != id => {
                    let n = Node::key(None, "id");
                    cx.err(
                        Code::E148,
                        Some(&n),
                        format!("the TLP 1.0 {} marking must have id {}", m.name, m.id),
                    );
                }
                Some(_) => {}
            }
        }
        (Some("statement"), Some(d)) => {
            if !d.get("statement").is_some_and(Value::is_string) {
                let n = Node::key(Some(&dn), "statement");
                cx.err(
                    Code::E158,
                    Some(&n),
                    "a statement definition must have a statement string",
                );
            }
        }
        _ => {}
    }
    if let Some(m) = tlp::by_id(id) {
        let n = Node::key(None, "id");
        match m.version {
            1 => {
                let level = def.and_then(|d| d.get("tlp")).and_then(Value::as_str);
                if dt != Some("tlp") || level != Some(m.level) {
                    cx.err(Code::E148, Some(&n), format!("{id} is the TLP 1.0 {} marking: definition_type must be tlp and definition.tlp {}", m.name, m.level));
                }
            }
            _ => {
                if o.get("name").and_then(Value::as_str) != Some(m.name) {
                    let nn = Node::key(None, "name");
                    cx.err(
                        Code::E148,
                        Some(&nn),
                        format!(
                            "{id} is the TLP 2.0 marking {}: name must be {:?}",
                            m.level, m.name
                        ),
                    );
                }
                let lvl = o
                    .get("extensions")
                    .and_then(|e| e.get(tlp::TLP2_EXTENSION_ID))
                    .and_then(|e| e.get("tlp_2_0"))
                    .and_then(Value::as_str);
                if lvl != Some(m.level) {
                    cx.err(Code::E148, Some(&n), format!("{id} is the TLP 2.0 marking {}: it must carry the TLP 2.0 extension with tlp_2_0 {:?}", m.name, m.level));
                }
            }
        }
    } else if let Some(ext) = o
        .get("extensions")
        .and_then(|e| e.get(tlp::TLP2_EXTENSION_ID))
    {
        let n = Node::key(None, "id");
        match ext
            .get("tlp_2_0")
            .and_then(Value::as_str)
            .and_then(|l| tlp::TLP2.iter().find(|m| m.level == l))
        {
            Some(m) => cx.err(
                Code::E148,
                Some(&n),
                format!(
                    "a TLP 2.0 {} marking must be the fixed object {}",
                    m.name, m.id
                ),
            ),
            None => cx.err(
                Code::E148,
                Some(&n),
                "the TLP 2.0 extension needs tlp_2_0: clear, green, amber, amber+strict or red",
            ),
        }
    }
    // §7.2.2 / §7.2.3: a marking definition must not mark itself.
    if let Some(Value::Array(refs)) = o.get("object_marking_refs") {
        if refs.iter().any(|r| r.as_str() == Some(id)) {
            let n = Node::key(None, "object_marking_refs");
            cx.err(
                Code::E124,
                Some(&n),
                "a marking-definition must not reference itself",
            );
        }
    }
    if let Some(Value::Array(gms)) = o.get("granular_markings") {
        if gms
            .iter()
            .any(|g| g.get("marking_ref").and_then(Value::as_str) == Some(id))
        {
            let n = Node::key(None, "granular_markings");
            cx.err(
                Code::E124,
                Some(&n),
                "a marking-definition must not reference itself",
            );
        }
    }
}

fn cross_object_checks(objects: &[Value], all: &mut [Vec<Diagnostic>]) {
    let keys = objects.iter().map(|obj| {
        obj.get("id").and_then(Value::as_str).map(|id| {
            let ver = obj
                .get("modified")
                .or_else(|| obj.get("created"))
                .and_then(Value::as_str)
                .unwrap_or("");
            (id, ver)
        })
    });
    for (i, d) in cross_object_findings(keys) {
        all[i].push(d);
    }
}

/// The findings that need every object of one bundle (or file), given each
/// object's `(id, modified else created)` in order (`None`: no string id):
/// the same UUID under two types (W213) and a repeated `(id, version)` pair
/// (W207). Returns `(object index, finding)`. Works on keys, not parsed
/// objects, so a caller validating a huge file in parallel keeps only these.
pub fn cross_object_findings<'a>(
    keys: impl IntoIterator<Item = Option<(&'a str, &'a str)>>,
) -> Vec<(usize, Diagnostic)> {
    let keys = keys.into_iter();
    let mut by_uuid: HashMap<uuid::Uuid, &str> = HashMap::with_capacity(keys.size_hint().0);
    let mut versions: HashMap<(&str, &str), usize> = HashMap::with_capacity(keys.size_hint().0);
    let mut out = Vec::new();
    for (i, key) in keys.enumerate() {
        let Some((id, ver)) = key else {
            continue;
        };
        let Ok((sid, _)) = props::parse_id(id) else {
            continue;
        };
        match by_uuid.get(&sid.uuid) {
            Some(ty) if *ty != sid.ty => {
                out.push((
                    i,
                    Diagnostic::warning(
                        Code::W213,
                        "/id",
                        format!(
                            "UUID {} is already used by a {ty} object in this bundle",
                            sid.uuid
                        ),
                    ),
                ));
            }
            Some(_) => {}
            None => {
                by_uuid.insert(sid.uuid, sid.ty);
            }
        }
        if let Some(first) = versions.insert((id, ver), i) {
            let what = if ver.is_empty() {
                String::new()
            } else {
                format!(" and modified {ver}")
            };
            out.push((
                i,
                Diagnostic::warning(
                    Code::W207,
                    "/id",
                    format!("duplicate of object {first} of the bundle (same id{what})"),
                ),
            ));
        }
    }
    out
}
