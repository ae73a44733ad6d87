//! Property kinds and the table-driven checks of property values.

use serde_json::{Map, Value};

use super::ctx::{json_type, show, Cx, Node, Ptr};
use super::formats;
use crate::diag::Code;
use crate::ids::{StixId, StixIdError};
use crate::object::{DOMAIN_TYPES, META_TYPES, OBSERVABLE_TYPES, RELATIONSHIP_TYPES};
use crate::time::Timestamp;
use crate::vocab::{self, Vocab};

/// Which object types a reference may point to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum R {
    /// Exactly these types.
    T(&'static [&'static str]),
    /// Any STIX object.
    Any,
    /// An SDO or SCO (relationship endpoints, STIX 2.1 §5.1); custom types allowed.
    SdoOrSco,
    /// An SDO (sighting_of_ref, §5.2); custom types allowed.
    Sdo,
    /// An SCO; custom types allowed.
    Sco,
    /// An SCO or SRO (observed-data object_refs, §4.14); custom types allowed.
    ScoOrSro,
}

impl R {
    fn allows(self, ty: &str) -> bool {
        let sdo = DOMAIN_TYPES.contains(&ty);
        let sro = RELATIONSHIP_TYPES.contains(&ty);
        let sco = OBSERVABLE_TYPES.contains(&ty);
        let meta = META_TYPES.contains(&ty);
        match self {
            R::T(ts) => ts.contains(&ty),
            R::Any => true,
            R::SdoOrSco => !sro && !meta && ty != "bundle",
            R::Sdo => !sro && !meta && !sco && ty != "bundle",
            R::Sco => !sro && !meta && !sdo && ty != "bundle",
            R::ScoOrSro => !sdo && !meta && ty != "bundle",
        }
    }

    fn describe(self) -> String {
        match self {
            R::T(ts) => ts.join(" or "),
            R::Any => "any object".into(),
            R::SdoOrSco => "an SDO or SCO".into(),
            R::Sdo => "an SDO".into(),
            R::Sco => "an SCO".into(),
            R::ScoOrSro => "an SCO or SRO".into(),
        }
    }
}

/// The declared type of a property.
#[derive(Debug, Clone, Copy)]
pub(crate) enum K {
    Str,
    StrList,
    /// A timestamp (STIX 2.1 §2.13).
    Ts,
    /// `created`/`modified`: a timestamp with at least millisecond precision (§3.2).
    TsMs,
    Bool,
    Int(i64, i64),
    Num(f64, f64),
    Ref(R),
    Refs(R),
    /// A value that SHOULD come from an open vocabulary.
    Ov(Vocab),
    OvList(Vocab),
    /// A value that MUST come from an enumeration.
    Enum(Vocab),
    EnumList(Vocab),
    Hashes,
    KillChain,
    ExtRefs,
    Granular,
    Extensions,
    /// A STIX dictionary (§2.6).
    Dict,
    /// Any JSON object.
    Obj,
    Bin,
    Hex,
    Lang,
    Url,
    Ipv4,
    Ipv6,
    Mac,
    Domain,
    Email,
    Mime,
    Charset,
    Cpe,
    Iso639List,
    /// An object with its own property table.
    Embedded(&'static [P]),
    EmbeddedList(&'static [P]),
}

/// A property of a table: name, kind, and whether it is required.
#[derive(Debug, Clone, Copy)]
pub(crate) struct P {
    pub name: &'static str,
    pub kind: K,
    pub req: bool,
}

pub(crate) const fn p(name: &'static str, kind: K) -> P {
    P {
        name,
        kind,
        req: false,
    }
}
pub(crate) const fn req(name: &'static str, kind: K) -> P {
    P {
        name,
        kind,
        req: true,
    }
}

pub(crate) fn find<'t>(tables: &[&'t [P]], name: &str) -> Option<&'t P> {
    tables
        .iter()
        .flat_map(|t| t.iter())
        .find(|p| p.name == name)
}

/// Property names MUST be 3–250 of `a-z 0-9 _` (STIX 2.1 §3.1, §11.1).
pub(crate) fn is_property_name(s: &str) -> bool {
    (3..=250).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Property names reserved by STIX 2.1 (§3.1 / §4 notes) that MUST NOT be used.
pub(crate) const RESERVED: &[&str] = &[
    "severity",
    "action",
    "username",
    "usernames",
    "phone_numbers",
    "addresses",
    "first_seen_precision",
    "last_seen_precision",
    "valid_from_precision",
    "valid_until_precision",
];

fn expect(cx: &mut Cx, v: &Value, ptr: Ptr<'_>, what: &str) -> bool {
    cx.err(
        Code::E105,
        ptr,
        format!("must be {what}, got {}", json_type(v)),
    );
    let _ = v;
    false
}

fn str_of<'v>(cx: &mut Cx, v: &'v Value, ptr: Ptr<'_>) -> Option<&'v str> {
    match v {
        Value::String(s) => Some(s),
        _ => {
            expect(cx, v, ptr, "a string");
            None
        }
    }
}

/// A non-empty list (§2.1 "lists MUST NOT be empty"); reports and returns None otherwise.
fn list_of<'v>(cx: &mut Cx, v: &'v Value, ptr: Ptr<'_>) -> Option<&'v [Value]> {
    match v {
        Value::Array(a) if a.is_empty() => {
            cx.err(Code::E106, ptr, "empty lists are prohibited");
            None
        }
        Value::Array(a) => Some(a),
        _ => {
            expect(cx, v, ptr, "a list");
            None
        }
    }
}

fn obj_of<'v>(cx: &mut Cx, v: &'v Value, ptr: Ptr<'_>) -> Option<&'v Map<String, Value>> {
    match v {
        Value::Object(m) => Some(m),
        _ => {
            expect(cx, v, ptr, "an object");
            None
        }
    }
}

fn each_in_list(cx: &mut Cx, v: &Value, ptr: Ptr<'_>, mut f: impl FnMut(&mut Cx, &Value, Ptr<'_>)) {
    if let Some(items) = list_of(cx, v, ptr) {
        for (i, item) in items.iter().enumerate() {
            let n = Node::idx(ptr, i);
            f(cx, item, Some(&n));
        }
    }
}

/// Whether `s` is a legal type name (the rule of [`crate::ids::is_valid_type_name`],
/// as one pass over the bytes).
pub(crate) fn is_type_name(s: &str) -> bool {
    let b = s.as_bytes();
    if !(3..=250).contains(&b.len()) || b[0] == b'-' || b[b.len() - 1] == b'-' {
        return false;
    }
    let mut prev_dash = false;
    for &c in b {
        let dash = c == b'-';
        if !(c.is_ascii_lowercase() || c.is_ascii_digit() || dash) || (dash && prev_dash) {
            return false;
        }
        prev_dash = dash;
    }
    true
}

/// [`StixId::parse`] on the fast path (same verdicts, no substring search), also
/// accepting upper-case hex digits in the UUID (RFC 4122 §3 reads them
/// case-insensitively, and so do the OASIS schemas); the flag tells whether any
/// were present, which is worth a warning.
pub(crate) fn parse_id(s: &str) -> Result<(StixId<'_>, bool), StixIdError> {
    let b = s.as_bytes();
    if b.len() >= 41 && &b[b.len() - 38..b.len() - 36] == b"--" {
        let (ty, u) = (&s[..s.len() - 38], &s[s.len() - 36..]);
        if is_type_name(ty) {
            if let Ok(uuid) = uuid::Uuid::try_parse(u) {
                if uuid.get_variant() == uuid::Variant::RFC4122
                    && (1..=8).contains(&uuid.get_version_num())
                {
                    return Ok((
                        StixId { ty, uuid },
                        u.bytes().any(|c| c.is_ascii_uppercase()),
                    ));
                }
            }
        }
    }
    // Slow path: the reference parser, for its error message.
    StixId::parse(s).map(|id| (id, false))
}

pub(crate) fn check_ref(cx: &mut Cx, r: R, v: &Value, ptr: Ptr<'_>) {
    let Some(s) = str_of(cx, v, ptr) else { return };
    match parse_id(s) {
        Err(e) => cx.err(Code::E116, ptr, format!("must be a STIX identifier: {e}")),
        Ok((id, _)) if !r.allows(id.ty) => {
            cx.err(
                Code::E115,
                ptr,
                format!("must reference {}, got {}", r.describe(), show(v)),
            );
        }
        Ok((_, upper)) => {
            if upper {
                cx.warn(
                    Code::W214,
                    ptr,
                    "identifiers should be written in lower case",
                );
            }
        }
    }
}

fn check_str_fmt(
    cx: &mut Cx,
    v: &Value,
    ptr: Ptr<'_>,
    ok: fn(&str) -> bool,
    code: Code,
    what: &str,
) {
    if let Some(s) = str_of(cx, v, ptr) {
        if !ok(s) {
            cx.err(code, ptr, format!("must be {what}, got {}", show(v)));
        }
    }
}

/// Checks `v` against `kind`. `ptr` points at `v`.
pub(crate) fn check_kind(cx: &mut Cx, kind: K, v: &Value, ptr: Ptr<'_>) {
    if v.is_null() {
        cx.err(
            Code::E117,
            ptr,
            "must not be null (omit the property instead)",
        );
        return;
    }
    match kind {
        K::Str => {
            str_of(cx, v, ptr);
        }
        K::StrList => each_in_list(cx, v, ptr, |cx, item, p| {
            str_of(cx, item, p);
        }),
        K::Ts | K::TsMs => {
            if let Some(s) = str_of(cx, v, ptr) {
                match Timestamp::parse(s) {
                    Err(e) => cx.err(
                        Code::E107,
                        ptr,
                        format!("must be an RFC 3339 UTC timestamp: {e}"),
                    ),
                    Ok(t) if matches!(kind, K::TsMs) && t.fraction_digits() < 3 => cx.err(
                        Code::E108,
                        ptr,
                        format!(
                            "must be precise to at least the millisecond, got {}",
                            show(v)
                        ),
                    ),
                    Ok(_) => {}
                }
            }
        }
        K::Bool => {
            if !v.is_boolean() {
                expect(cx, v, ptr, "a boolean");
            }
        }
        K::Int(lo, hi) => match v.as_i64() {
            Some(n) if (lo..=hi).contains(&n) => {}
            Some(_) => cx.err(
                Code::E113,
                ptr,
                format!("must be an integer {lo}..={hi}, got {}", show(v)),
            ),
            None if v.is_u64() => cx.err(
                Code::E113,
                ptr,
                format!("must be an integer {lo}..={hi}, got {}", show(v)),
            ),
            None => {
                expect(cx, v, ptr, "an integer");
            }
        },
        K::Num(lo, hi) => match v.as_f64() {
            Some(n) if (lo..=hi).contains(&n) => {}
            Some(_) => cx.err(
                Code::E113,
                ptr,
                format!("must be a number {lo}..={hi}, got {}", show(v)),
            ),
            None => {
                expect(cx, v, ptr, "a number");
            }
        },
        K::Ref(r) => check_ref(cx, r, v, ptr),
        K::Refs(r) => each_in_list(cx, v, ptr, |cx, item, p| check_ref(cx, r, item, p)),
        K::Ov(voc) => {
            if let Some(s) = str_of(cx, v, ptr) {
                ov_check(cx, voc, s, ptr);
            }
        }
        K::OvList(voc) => each_in_list(cx, v, ptr, |cx, item, p| {
            if let Some(s) = str_of(cx, item, p) {
                ov_check(cx, voc, s, p);
            }
        }),
        K::Enum(voc) => {
            if let Some(s) = str_of(cx, v, ptr) {
                enum_check(cx, voc, s, ptr);
            }
        }
        K::EnumList(voc) => each_in_list(cx, v, ptr, |cx, item, p| {
            if let Some(s) = str_of(cx, item, p) {
                enum_check(cx, voc, s, p);
            }
        }),
        K::Hashes => check_hashes(cx, v, ptr),
        K::KillChain => each_in_list(cx, v, ptr, check_kill_chain_phase),
        K::ExtRefs => each_in_list(cx, v, ptr, check_external_reference),
        K::Granular => each_in_list(cx, v, ptr, check_granular_marking),
        K::Extensions => {} // checked by the object walker, which knows the type
        K::Dict => {
            if let Some(m) = obj_of(cx, v, ptr) {
                for (k, val) in m {
                    let n = Node::key(ptr, k);
                    if k.is_empty() || k.len() > 250 || !k.is_ascii() {
                        cx.err(
                            Code::E159,
                            Some(&n),
                            "dictionary keys must be 1-250 ASCII characters",
                        );
                    }
                    check_custom_value(cx, val, Some(&n));
                }
            }
        }
        K::Obj => {
            obj_of(cx, v, ptr);
        }
        K::Bin => check_str_fmt(
            cx,
            v,
            ptr,
            formats::is_base64,
            Code::E131,
            "base64 (RFC 4648)",
        ),
        K::Hex => check_str_fmt(
            cx,
            v,
            ptr,
            formats::is_hex,
            Code::E132,
            "an even number of hex digits",
        ),
        K::Lang => check_str_fmt(
            cx,
            v,
            ptr,
            is_lang_tag,
            Code::E114,
            "a valid RFC 5646 language tag (registered subtags)",
        ),
        K::Url => check_str_fmt(cx, v, ptr, formats::is_uri, Code::E130, "an RFC 3986 URI"),
        K::Ipv4 => check_str_fmt(
            cx,
            v,
            ptr,
            formats::is_ipv4_cidr,
            Code::E137,
            "an IPv4 address or CIDR block",
        ),
        K::Ipv6 => check_str_fmt(
            cx,
            v,
            ptr,
            formats::is_ipv6_cidr,
            Code::E137,
            "an IPv6 address or CIDR block",
        ),
        K::Mac => check_str_fmt(
            cx,
            v,
            ptr,
            formats::is_mac,
            Code::E137,
            "a lowercase colon-delimited MAC address",
        ),
        K::Domain => check_str_fmt(
            cx,
            v,
            ptr,
            formats::is_domain_name,
            Code::E137,
            "a domain name",
        ),
        K::Email => check_str_fmt(
            cx,
            v,
            ptr,
            formats::is_email_addr,
            Code::E137,
            "an e-mail address (addr-spec)",
        ),
        K::Mime => check_str_fmt(
            cx,
            v,
            ptr,
            formats::is_mime_type,
            Code::E133,
            "an IANA media type (type/subtype)",
        ),
        K::Charset => check_str_fmt(
            cx,
            v,
            ptr,
            formats::is_charset,
            Code::E134,
            "an IANA character set name",
        ),
        K::Cpe => check_str_fmt(
            cx,
            v,
            ptr,
            formats::is_cpe23,
            Code::E135,
            "a CPE 2.3 formatted string",
        ),
        K::Iso639List => each_in_list(cx, v, ptr, |cx, item, p| {
            check_str_fmt(
                cx,
                item,
                p,
                formats::is_iso639_2,
                Code::E136,
                "an ISO 639-2 language code",
            )
        }),
        K::Embedded(props) => {
            if let Some(m) = obj_of(cx, v, ptr) {
                check_embedded(cx, props, m, ptr);
            }
        }
        K::EmbeddedList(props) => each_in_list(cx, v, ptr, |cx, item, p| {
            if let Some(m) = obj_of(cx, item, p) {
                check_embedded(cx, props, m, p);
            }
        }),
    }
}

/// A *valid* RFC 5646 tag (§2.2.9), not only a well-formed one: every
/// subtag is in the IANA Language Subtag Registry. `english` has the shape of
/// a language subtag but is not one (the OASIS validator rejects it too).
pub(crate) fn is_lang_tag(s: &str) -> bool {
    language_tags::LanguageTag::parse(s).is_ok_and(|t| t.validate().is_ok())
}

fn ov_check(cx: &mut Cx, voc: Vocab, s: &str, ptr: Ptr<'_>) {
    if !voc.contains(s) {
        cx.warn(
            Code::W201,
            ptr,
            format!("{s:?} is not in the open vocabulary {}", voc.name),
        );
    }
}

fn enum_check(cx: &mut Cx, voc: Vocab, s: &str, ptr: Ptr<'_>) {
    if !voc.contains(s) {
        cx.err(
            Code::E126,
            ptr,
            format!("{s:?} is not a value of {}", voc.name),
        );
    }
}

/// An embedded object with its own table (e.g. a kill chain phase, a MIME part):
/// declared properties are type-checked, required ones must be present, others
/// follow the custom-property rules.
pub(crate) fn check_embedded(cx: &mut Cx, props: &[P], m: &Map<String, Value>, ptr: Ptr<'_>) {
    for (k, v) in m {
        let n = Node::key(ptr, k);
        match props.iter().find(|p| p.name == k) {
            Some(p) => check_kind(cx, p.kind, v, Some(&n)),
            None => check_custom_property(cx, k, v, Some(&n)),
        }
    }
    for p in props.iter().filter(|p| p.req) {
        if !m.contains_key(p.name) {
            let n = Node::key(ptr, p.name);
            cx.err(
                Code::E101,
                Some(&n),
                format!("required property {} is missing", p.name),
            );
        }
    }
}

/// Rules every property that the spec does not define must follow (§11.1):
/// a legal name and a value of a STIX type (not null, not an empty list).
pub(crate) fn check_custom_property(cx: &mut Cx, k: &str, v: &Value, ptr: Ptr<'_>) {
    if !is_property_name(k) {
        cx.err(
            Code::E111,
            ptr,
            format!("property name {k:?} must be 3-250 characters of a-z, 0-9 and _"),
        );
    }
    check_custom_value(cx, v, ptr);
}

pub(crate) fn check_custom_value(cx: &mut Cx, v: &Value, ptr: Ptr<'_>) {
    match v {
        Value::Null => cx.err(
            Code::E117,
            ptr,
            "must not be null (omit the property instead)",
        ),
        Value::Array(a) if a.is_empty() => cx.err(Code::E106, ptr, "empty lists are prohibited"),
        _ => {}
    }
}

/// `hashes` (STIX 2.1 §2.7): a non-empty dictionary of algorithm → string, keys of
/// 3–250 `[a-zA-Z0-9_-]`, digests of the known algorithms in their fixed form;
/// algorithm names SHOULD come from hash-algorithm-ov.
pub(crate) fn check_hashes(cx: &mut Cx, v: &Value, ptr: Ptr<'_>) {
    let Some(m) = obj_of(cx, v, ptr) else { return };
    if m.is_empty() {
        cx.err(Code::E120, ptr, "hashes must contain at least one hash");
    }
    for (k, hv) in m {
        let n = Node::key(ptr, k);
        let p = Some(&n);
        if !(3..=250).contains(&k.len())
            || !k
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            cx.err(
                Code::E120,
                p,
                format!(
                    "hash algorithm name {k:?} must be 3-250 characters of a-z, A-Z, 0-9, _ and -"
                ),
            );
        }
        let Some(s) = str_of(cx, hv, p) else { continue };
        if formats::hash_value_ok(k, s) == Some(false) {
            cx.err(
                Code::E120,
                p,
                format!("is not a valid {k} digest, got {}", show(hv)),
            );
        }
        if !vocab::HASH_ALGORITHM.contains(k) && !k.starts_with("x_") {
            cx.warn(
                Code::W209,
                p,
                format!("hash algorithm {k:?} is not in hash-algorithm-ov"),
            );
        }
    }
}

const KILL_CHAIN_PHASE: &[P] = &[req("kill_chain_name", K::Str), req("phase_name", K::Str)];

/// kill-chain-phase (§2.8): kill_chain_name and phase_name, both strings.
fn check_kill_chain_phase(cx: &mut Cx, v: &Value, ptr: Ptr<'_>) {
    if let Some(m) = obj_of(cx, v, ptr) {
        check_embedded(cx, KILL_CHAIN_PHASE, m, ptr);
    }
}

const EXTERNAL_REFERENCE: &[P] = &[
    req("source_name", K::Str),
    p("description", K::Str),
    p("url", K::Url),
    p("hashes", K::Hashes),
    p("external_id", K::Str),
];

/// external-reference (§2.5): source_name required; one of description, url,
/// external_id; capec and cve ids in their fixed form.
fn check_external_reference(cx: &mut Cx, v: &Value, ptr: Ptr<'_>) {
    let Some(m) = obj_of(cx, v, ptr) else { return };
    check_embedded(cx, EXTERNAL_REFERENCE, m, ptr);
    if !["description", "url", "external_id"]
        .iter()
        .any(|k| m.contains_key(*k))
    {
        cx.err(
            Code::E118,
            ptr,
            "an external reference must have at least one of description, url, external_id",
        );
    }
    let source = m.get("source_name").and_then(Value::as_str);
    let (check, what): (fn(&str) -> bool, &str) = match source {
        Some("cve") => (formats::is_cve_id, "CVE-YYYY-NNNN"),
        Some("capec") => (formats::is_capec_id, "CAPEC-n"),
        _ => return,
    };
    let n = Node::key(ptr, "external_id");
    match m.get("external_id") {
        None => cx.err(
            Code::E119,
            Some(&n),
            format!(
                "external_id is required for source_name {:?}",
                source.unwrap_or("")
            ),
        ),
        Some(Value::String(s)) if !check(s) => cx.err(
            Code::E119,
            Some(&n),
            format!("must have the form {what}, got {s:?}"),
        ),
        _ => {}
    }
}

const GRANULAR_MARKING: &[P] = &[
    req("selectors", K::StrList),
    p("lang", K::Lang),
    p("marking_ref", K::Ref(R::T(&["marking-definition"]))),
];

/// granular-marking (§7.2.3): selectors plus exactly one of marking_ref and lang.
fn check_granular_marking(cx: &mut Cx, v: &Value, ptr: Ptr<'_>) {
    let Some(m) = obj_of(cx, v, ptr) else { return };
    check_embedded(cx, GRANULAR_MARKING, m, ptr);
    if m.contains_key("marking_ref") == m.contains_key("lang") {
        cx.err(
            Code::E122,
            ptr,
            "a granular marking must have exactly one of marking_ref and lang",
        );
    }
}

/// Resolves each granular-marking selector against the object (§7.2.3.1).
pub(crate) fn check_selectors(cx: &mut Cx, obj: &Map<String, Value>, gm: &Value) {
    let Some(list) = gm.as_array() else { return };
    let top = Node::key(None, "granular_markings");
    for (i, marking) in list.iter().enumerate() {
        let Some(sels) = marking.get("selectors").and_then(Value::as_array) else {
            continue;
        };
        let mi = Node::idx(Some(&top), i);
        let ms = Node::key(Some(&mi), "selectors");
        for (j, sel) in sels.iter().enumerate() {
            let Some(sel) = sel.as_str() else { continue };
            if !selector_resolves(obj, sel) {
                let n = Node::idx(Some(&ms), j);
                cx.err(Code::E123, Some(&n), format!("selector {sel:?} does not resolve to a property or list item of this object"));
            }
        }
    }
}

fn selector_resolves(obj: &Map<String, Value>, sel: &str) -> bool {
    let mut cur: Option<&Value> = None;
    for (i, seg) in sel.split('.').enumerate() {
        let idx = seg.strip_prefix('[').and_then(|s| s.strip_suffix(']'));
        let next = match (i, idx) {
            (0, None) => obj.get(seg),
            (0, Some(_)) => None,
            (_, Some(n)) => match (cur, n.parse::<usize>()) {
                (Some(Value::Array(a)), Ok(n)) => a.get(n),
                _ => None,
            },
            (_, None) => match cur {
                Some(Value::Object(m)) => m.get(seg),
                _ => None,
            },
        };
        match next {
            Some(v) => cur = Some(v),
            None => return false,
        }
    }
    cur.is_some()
}

/// The predefined SCO extensions (STIX 2.1 §6) per type.
pub(crate) fn predefined_extension(ty: &str, name: &str) -> Option<&'static [P]> {
    use super::types::*;
    Some(match (ty, name) {
        ("file", "archive-ext") => ARCHIVE_EXT,
        ("file", "ntfs-ext") => NTFS_EXT,
        ("file", "pdf-ext") => PDF_EXT,
        ("file", "raster-image-ext") => RASTER_IMAGE_EXT,
        ("file", "windows-pebinary-ext") => WINDOWS_PEBINARY_EXT,
        ("network-traffic", "http-request-ext") => HTTP_REQUEST_EXT,
        ("network-traffic", "icmp-ext") => ICMP_EXT,
        ("network-traffic", "socket-ext") => SOCKET_EXT,
        ("network-traffic", "tcp-ext") => TCP_EXT,
        ("process", "windows-process-ext") => WINDOWS_PROCESS_EXT,
        ("process", "windows-service-ext") => WINDOWS_SERVICE_EXT,
        ("user-account", "unix-account-ext") => UNIX_ACCOUNT_EXT,
        _ => return None,
    })
}

/// What the `extensions` of an object declare, for the custom-property rules.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ExtInfo {
    /// A toplevel-property-extension or new-sdo/sco/sro extension is present, so
    /// top-level properties outside the spec are extension-defined.
    pub defines_toplevel: bool,
    pub defines_new_type: bool,
}

/// `extensions` (§7.3): keys are extension-definition ids or `*-ext` names;
/// values are non-empty objects; extension-definition entries carry a valid
/// `extension_type`.
pub(crate) fn check_extensions(cx: &mut Cx, ty: &str, v: &Value, ptr: Ptr<'_>) -> ExtInfo {
    let mut info = ExtInfo::default();
    let Some(m) = obj_of(cx, v, ptr) else {
        return info;
    };
    if m.is_empty() {
        cx.err(Code::E125, ptr, "extensions must not be empty");
    }
    for (k, ev) in m {
        let n = Node::key(ptr, k);
        let p = Some(&n);
        let Some(em) = obj_of(cx, ev, p) else {
            continue;
        };
        if em.is_empty() {
            cx.err(Code::E125, p, "an extension must not be empty");
        }
        if k.starts_with("extension-definition--") {
            match StixId::parse(k) {
                Ok(id) if id.ty == "extension-definition" => {}
                _ => cx.err(
                    Code::E125,
                    p,
                    format!("extension key {k:?} is not a valid extension-definition id"),
                ),
            }
            match em.get("extension_type") {
                None => {
                    let t = Node::key(p, "extension_type");
                    cx.err(
                        Code::E125,
                        Some(&t),
                        "an extension-definition extension must have extension_type",
                    );
                }
                Some(et) => {
                    let t = Node::key(p, "extension_type");
                    check_kind(cx, K::Enum(vocab::EXTENSION_TYPE), et, Some(&t));
                    match et.as_str() {
                        Some("toplevel-property-extension") => info.defines_toplevel = true,
                        Some("new-sdo" | "new-sco" | "new-sro") => {
                            info.defines_toplevel = true;
                            info.defines_new_type = true;
                        }
                        _ => {}
                    }
                }
            }
            for (ik, iv) in em {
                if ik != "extension_type" {
                    let nn = Node::key(p, ik);
                    check_custom_value(cx, iv, Some(&nn));
                }
            }
        } else if k.ends_with("-ext")
            && k.len() <= 250
            && k.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            match predefined_extension(ty, k) {
                Some(props) => check_embedded(cx, props, em, p),
                None => {
                    for (ik, iv) in em {
                        let nn = Node::key(p, ik);
                        check_custom_property(cx, ik, iv, Some(&nn));
                    }
                }
            }
        } else {
            cx.err(
                Code::E125,
                p,
                format!("extension key {k:?} must be an extension-definition id or end in -ext"),
            );
        }
    }
    info
}
