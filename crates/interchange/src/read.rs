//! Reading input: files or stdin, gzip by magic bytes, and splitting a document
//! into the raw JSON text of each object without copying it.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;
use std::path::Path;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// One input, fully read and decompressed.
#[derive(Debug)]
pub struct Input {
    /// The path as given, or `-` for standard input.
    pub name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{name}: cannot read: {source}")]
    Io {
        name: String,
        source: std::io::Error,
    },
    #[error("{name}: not valid gzip: {source}")]
    Gzip {
        name: String,
        source: std::io::Error,
    },
    #[error(
        "{name}: decompresses to more than {max} bytes, the limit for gzip input \
         (a gzip bomb, or a file to import in parts)"
    )]
    TooLarge { name: String, max: u64 },
    #[error("{name}: empty input")]
    Empty { name: String },
    #[error("{name}: invalid JSON at line {line}, column {column}{near}: {message}")]
    Json {
        name: String,
        line: usize,
        column: usize,
        near: String,
        message: String,
    },
    #[error("{name}: a bundle's `objects` must be a list")]
    BadBundle { name: String },
    #[error("{name}: top-level JSON must be an object or a list of objects, got {got}")]
    TopLevel { name: String, got: &'static str },
}

/// The most bytes gzip input may decompress to by default (4 GiB).
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 4 << 30;

/// Reads `path` (`-` is standard input), decompressing gzip when the data starts
/// with the gzip magic bytes, whatever the file is called (at most
/// [`DEFAULT_MAX_DECOMPRESSED`] bytes; see [`read_input_limited`]).
pub fn read_input(path: &str) -> Result<Input, ReadError> {
    read_input_limited(path, DEFAULT_MAX_DECOMPRESSED)
}

/// As [`read_input`], with gzip input allowed to decompress to at most
/// `max_decompressed` bytes ([`ReadError::TooLarge`] beyond).
pub fn read_input_limited(path: &str, max_decompressed: u64) -> Result<Input, ReadError> {
    let io = |source| ReadError::Io {
        name: path.to_owned(),
        source,
    };
    let mut raw = Vec::new();
    if path == "-" {
        std::io::stdin().lock().read_to_end(&mut raw).map_err(io)?;
    } else {
        raw = std::fs::read(Path::new(path)).map_err(io)?;
    }
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        gunzip(path, &raw, max_decompressed)?
    } else {
        raw
    };
    Ok(Input {
        name: path.to_owned(),
        bytes,
    })
}

/// Decompresses gzip: every member of a multi-member file (what `cat a.gz
/// b.gz` and parallel compressors make), never more than `max` bytes out
/// (a gzip bomb is an error, not an out-of-memory kill). The output buffer
/// grows with what is actually decompressed; the trailer's claimed size is
/// never trusted for an allocation. (libdeflate, faster on whole buffers,
/// decodes only the first member and needs the size up front, so it is not
/// used: decompressing is a small part of an import.)
fn gunzip(name: &str, raw: &[u8], max: u64) -> Result<Vec<u8>, ReadError> {
    let start = raw
        .len()
        .saturating_mul(4)
        .min(usize::try_from(max).unwrap_or(usize::MAX))
        .min(1 << 30);
    let mut out = Vec::with_capacity(start);
    flate2::read::MultiGzDecoder::new(raw)
        .take(max.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|source| ReadError::Gzip {
            name: name.to_owned(),
            source,
        })?;
    if out.len() as u64 > max {
        return Err(ReadError::TooLarge {
            name: name.to_owned(),
            max,
        });
    }
    Ok(out)
}

/// What an input looked like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Bundle,
    Array,
    Object,
    JsonLines,
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Shape::Bundle => "bundle",
            Shape::Array => "JSON array",
            Shape::Object => "single object",
            Shape::JsonLines => "JSON Lines",
        })
    }
}

/// One object of the input: its position and its exact JSON text, or, for a
/// JSON Lines line that is not JSON, why.
#[derive(Debug, Clone)]
pub struct Item<'a> {
    /// 0-based position among the input's objects (for JSON Lines: among its
    /// non-blank lines).
    pub index: usize,
    /// 1-based line number, for JSON Lines input.
    pub line: Option<usize>,
    pub raw: Result<&'a str, String>,
}

/// An input split into objects.
#[derive(Debug)]
pub struct Document<'a> {
    pub shape: Shape,
    /// For a bundle: its `id`, when it has a string one.
    pub bundle_id: Option<String>,
    /// Problems with the bundle envelope itself (STIX 2.1 §8): wrong `id` form,
    /// a `spec_version` (2.0-only), and so on. They do not stop the import.
    pub envelope_warnings: Vec<String>,
    pub items: Vec<Item<'a>>,
}

/// Splits a document into its objects' raw JSON. Bundles (`{"type": "bundle",
/// "objects": [...]}`), arrays of objects, single objects and JSON Lines are
/// recognised by content. The whole input must be well-formed, except JSON
/// Lines, where each bad line becomes an `Item` with an error.
pub fn split_objects<'a>(name: &str, data: &'a [u8]) -> Result<Document<'a>, ReadError> {
    let text_start = data.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = text_start else {
        return Err(ReadError::Empty {
            name: name.to_owned(),
        });
    };
    let data = strip_bom(&data[start..]);
    if looks_like_json_lines(data) {
        return Ok(split_json_lines(data));
    }
    let mut de = serde_json::Deserializer::from_slice(data);
    let top = Top::deserialize_from(&mut de).map_err(|e| json_error(name, data, &e))?;
    de.end().map_err(|e| json_error(name, data, &e))?;
    match top {
        Top::Array(items) => Ok(Document {
            shape: Shape::Array,
            bundle_id: None,
            envelope_warnings: Vec::new(),
            items: enumerate(items),
        }),
        Top::Map {
            is_bundle: true,
            objects,
            id,
            warnings,
        } => Ok(Document {
            shape: Shape::Bundle,
            bundle_id: id,
            envelope_warnings: warnings,
            items: enumerate(objects.unwrap_or_default()),
        }),
        Top::Map { .. } => {
            let text = std::str::from_utf8(data).map_err(|e| ReadError::Json {
                name: name.to_owned(),
                line: 1,
                column: e.valid_up_to() + 1,
                near: String::new(),
                message: "invalid UTF-8".into(),
            })?;
            Ok(Document {
                shape: Shape::Object,
                bundle_id: None,
                envelope_warnings: Vec::new(),
                items: vec![Item {
                    index: 0,
                    line: None,
                    raw: Ok(text.trim_end()),
                }],
            })
        }
        Top::Other(got) => Err(ReadError::TopLevel {
            name: name.to_owned(),
            got,
        }),
    }
}

fn strip_bom(data: &[u8]) -> &[u8] {
    data.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(data)
}

fn enumerate(raws: Vec<&RawValue>) -> Vec<Item<'_>> {
    raws.into_iter()
        .enumerate()
        .map(|(index, r)| Item {
            index,
            line: None,
            raw: Ok(r.get()),
        })
        .collect()
}

/// JSON Lines when the first line is by itself a complete JSON value and more
/// non-blank text follows it. A pretty-printed document's first line never is.
fn looks_like_json_lines(data: &[u8]) -> bool {
    let Some(nl) = data.iter().position(|&b| b == b'\n') else {
        return false;
    };
    let rest_blank = data[nl..].iter().all(u8::is_ascii_whitespace);
    !rest_blank && serde_json::from_slice::<&RawValue>(&data[..nl]).is_ok()
}

fn split_json_lines(data: &[u8]) -> Document<'_> {
    let mut items = Vec::new();
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        let line_trim = line.strip_suffix(b"\r").unwrap_or(line);
        if line_trim.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let raw = match serde_json::from_slice::<&RawValue>(line_trim) {
            Ok(r) => Ok(r.get()),
            Err(e) => Err(format!(
                "invalid JSON at column {}: {}",
                e.column(),
                strip_position(&e)
            )),
        };
        items.push(Item {
            index: items.len(),
            line: Some(i + 1),
            raw,
        });
    }
    Document {
        shape: Shape::JsonLines,
        bundle_id: None,
        envelope_warnings: Vec::new(),
        items,
    }
}

/// serde_json appends " at line L column C"; we report the position ourselves.
fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

fn json_error(name: &str, data: &[u8], e: &serde_json::Error) -> ReadError {
    // Say which object of a bundle or array the error is in: count the objects
    // that parsed completely before the error position.
    let near = object_index_near(data, e.line(), e.column())
        .map(|i| format!(" (in object #{i})"))
        .unwrap_or_default();
    ReadError::Json {
        name: name.to_owned(),
        line: e.line(),
        column: e.column(),
        near,
        message: strip_position(e),
    }
}

/// The 0-based index of the list element holding byte position (line, column),
/// for errors inside a top-level array or a bundle's `objects`. A cheap scan
/// that tracks depth and strings; `None` when the error is not inside such a list.
fn object_index_near(data: &[u8], line: usize, column: usize) -> Option<usize> {
    let mut pos = 0usize;
    let mut l = 1usize;
    while l < line && pos < data.len() {
        if data[pos] == b'\n' {
            l += 1;
        }
        pos += 1;
    }
    let end = (pos + column.saturating_sub(1)).min(data.len());
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    let mut list_depth = None;
    let mut count = 0usize;
    for &b in &data[..end] {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' => {
                depth += 1;
                if list_depth.is_none() && depth <= 2 {
                    list_depth = Some(depth);
                }
            }
            b'{' => depth += 1,
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if Some(depth) == list_depth => count += 1,
            _ => {}
        }
    }
    list_depth.map(|_| count)
}

/// The top level of a document, read in one pass: a bundle's objects are split
/// into raw slices while the envelope's other keys are only inspected.
enum Top<'a> {
    Array(Vec<&'a RawValue>),
    Map {
        is_bundle: bool,
        objects: Option<Vec<&'a RawValue>>,
        id: Option<String>,
        warnings: Vec<String>,
    },
    Other(&'static str),
}

impl<'a> Top<'a> {
    fn deserialize_from(
        de: &mut serde_json::Deserializer<serde_json::de::SliceRead<'a>>,
    ) -> serde_json::Result<Self> {
        de.deserialize_any(TopVisitor)
    }
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a STIX bundle, object or list of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(r) = seq.next_element::<&'de RawValue>()? {
            v.push(r);
        }
        Ok(Top::Array(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut ty, mut objects, mut id, mut spec_version) = (None, None, None, None);
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                // Only a bundle's list is split here; a non-bundle object with an
                // `objects` property (2.0 observed-data) is taken whole later.
                "objects" => match map.next_value::<ObjectsField<'de>>()? {
                    ObjectsField::List(l) => objects = Some(Ok(l)),
                    ObjectsField::NotList => objects = Some(Err(())),
                },
                "type" => {
                    ty = map
                        .next_value::<Option<Cow<'de, str>>>()
                        .ok()
                        .flatten()
                        .map(Cow::into_owned)
                }
                "id" => {
                    id = map
                        .next_value::<serde_json::Value>()?
                        .as_str()
                        .map(str::to_owned)
                }
                "spec_version" => spec_version = Some(map.next_value::<serde_json::Value>()?),
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let is_bundle = ty.as_deref() == Some("bundle");
        if !is_bundle {
            return Ok(Top::Map {
                is_bundle,
                objects: None,
                id,
                warnings: Vec::new(),
            });
        }
        let objects = match objects {
            Some(Ok(l)) => Some(l),
            Some(Err(())) => return Err(de::Error::custom("a bundle's `objects` must be a list")),
            None => None,
        };
        let mut warnings = Vec::new();
        match id.as_deref().map(sightline_stix::StixId::parse) {
            Some(Ok(sid)) if sid.ty == "bundle" => {}
            Some(_) => warnings.push(format!(
                "bundle id {:?} is not of the form bundle--<UUID> (STIX 2.1 §8)",
                id
            )),
            None => warnings.push("bundle has no string `id` (STIX 2.1 §8)".to_owned()),
        }
        if spec_version.is_some() {
            warnings.push(
                "bundle has `spec_version`, a STIX 2.0 property removed in 2.1 (STIX 2.1 §8)"
                    .to_owned(),
            );
        }
        Ok(Top::Map {
            is_bundle,
            objects,
            id,
            warnings,
        })
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Top::Other("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Top::Other("a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Top::Other("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Top::Other("a number"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Top::Other("a string"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Top::Other("null"))
    }
}

/// A bundle's `objects`: split into raw elements when it is a list.
enum ObjectsField<'a> {
    List(Vec<&'a RawValue>),
    NotList,
}

impl<'de> de::Deserialize<'de> for ObjectsField<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ObjectsField<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of objects")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(r) = seq.next_element::<&'de RawValue>()? {
                    v.push(r);
                }
                Ok(ObjectsField::List(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(ObjectsField::NotList)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(ObjectsField::NotList)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(ObjectsField::NotList)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(ObjectsField::NotList)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(ObjectsField::NotList)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(ObjectsField::NotList)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ObjectsField::NotList)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Result<Document<'_>, ReadError> {
        split_objects("t", s.as_bytes())
    }

    #[test]
    fn recognises_shapes() {
        let b = r#"{"type": "bundle", "id": "bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "objects": [ {"type":"x", "a": 1.0} , {"type":"y"}]}"#;
        let d = split(b).expect("bundle");
        assert_eq!(d.shape, Shape::Bundle);
        assert_eq!(d.items.len(), 2);
        assert_eq!(d.items[0].raw.as_deref(), Ok(r#"{"type":"x", "a": 1.0}"#));
        assert!(d.envelope_warnings.is_empty());

        let d = split(r#"[{"a":1},{"b":2}]"#).expect("array");
        assert_eq!((d.shape, d.items.len()), (Shape::Array, 2));

        let d = split("{\n \"type\": \"indicator\"\n}\n").expect("object");
        assert_eq!(d.shape, Shape::Object);
        assert_eq!(
            d.items[0].raw.as_deref(),
            Ok("{\n \"type\": \"indicator\"\n}")
        );

        let d = split("{\"a\":1}\n\nnot json\n{\"b\":2}\n").expect("jsonl");
        assert_eq!(d.shape, Shape::JsonLines);
        assert_eq!(d.items.len(), 3);
        assert!(d.items[1].raw.is_err());
        assert_eq!(d.items[1].line, Some(3));
        assert_eq!(d.items[2].line, Some(4));
    }

    #[test]
    fn errors_name_the_position_and_object() {
        let b = "{\"type\": \"bundle\", \"objects\": [\n{\"a\": 1},\n{\"b\": 2},\n{\"c\": tru}]}";
        match split(b) {
            Err(ReadError::Json { line, near, .. }) => {
                assert_eq!(line, 4);
                assert_eq!(near, " (in object #2)");
            }
            other => panic!("expected a JSON error, got {other:?}"),
        }
        assert!(matches!(
            split("{\"type\": \"bundle\", \"objects\": [{}"),
            Err(ReadError::Json { .. })
        ));
        assert!(matches!(split("   "), Err(ReadError::Empty { .. })));
        assert!(matches!(split("42"), Err(ReadError::TopLevel { .. })));
        assert!(matches!(
            split(r#"{"type":"bundle","objects":{}}"#),
            Err(ReadError::Json { .. })
        ));
    }

    #[test]
    fn deep_nesting_and_bad_utf8_are_errors_not_panics() {
        // Splitting skips over nested values without recursion; parsing the
        // object later hits serde_json's recursion limit, an error, not a crash.
        let deep = format!("[{}{}]", "[".repeat(100_000), "]".repeat(100_000));
        let d = split(&deep).expect("splits");
        let raw = d.items[0].raw.as_deref().expect("raw");
        assert!(serde_json::from_str::<serde_json::Value>(raw).is_err());
        let truncated = format!(
            "{{\"type\":\"bundle\",\"objects\":[{}]}}",
            "[".repeat(100_000)
        );
        assert!(split(&truncated).is_err());
        let bad = b"{\"type\": \"bundle\", \"objects\": [{\"a\": \"\xff\"}]}";
        assert!(split_objects("t", bad).is_err());
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).expect("compress");
        e.finish().expect("compress")
    }

    /// Issue 12 §4: a multi-member gzip file (RFC 1952 §2.2: "a gzip file
    /// consists of a series of members") is read to its end, also when the
    /// members are the same (their trailers then agree with the first alone).
    #[test]
    fn gzip_reads_every_member() {
        let a = b"{\"type\": \"x\", \"n\": 1}\n";
        let b = b"{\"type\": \"x\", \"n\": 2}\n";
        let two = [gz(a), gz(b)].concat();
        let out = gunzip("t", &two, DEFAULT_MAX_DECOMPRESSED).expect("two members");
        assert_eq!(out, [&a[..], &b[..]].concat());
        let same = [gz(a), gz(a)].concat();
        let out = gunzip("t", &same, DEFAULT_MAX_DECOMPRESSED).expect("twice the same");
        assert_eq!(out, [&a[..], &a[..]].concat());

        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("two.jsonl.gz");
        std::fs::write(&path, &two).expect("write");
        let input = read_input(&path.to_string_lossy()).expect("read");
        let doc = split_objects(&input.name, &input.bytes).expect("split");
        assert_eq!((doc.shape, doc.items.len()), (Shape::JsonLines, 2));
    }

    /// A gzip bomb over the cap is a clear error, whatever its trailer
    /// claims, and nothing near its full size is ever allocated.
    #[test]
    fn gzip_bomb_is_capped() {
        let bomb = gz(&vec![b' '; 8 << 20]);
        assert!(bomb.len() < 128 << 10, "{}", bomb.len());
        let err = gunzip("bomb.gz", &bomb, 1 << 20).expect_err("over the cap");
        assert!(matches!(err, ReadError::TooLarge { max, .. } if max == 1 << 20));
        assert!(err.to_string().contains("more than 1048576 bytes"), "{err}");
        assert_eq!(
            gunzip("ok", &bomb, 8 << 20).expect("at the cap").len(),
            8 << 20
        );
        // A forged trailer claiming 4 GiB on a tiny stream.
        let mut forged = gz(b"{}");
        let n = forged.len();
        forged[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            gunzip("forged", &forged, 1 << 20),
            Err(ReadError::Gzip { .. })
        ));
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bomb.gz");
        std::fs::write(&path, &bomb).expect("write");
        let err = read_input_limited(&path.to_string_lossy(), 1 << 20).expect_err("capped");
        assert!(err.to_string().contains("gzip"), "{err}");
    }
}
