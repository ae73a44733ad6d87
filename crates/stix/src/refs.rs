//! Embedded references (STIX 2.1 §3.1 "Reference properties": `*_ref` and
//! `*_refs`): [`crate::ObjectMeta::refs`], which every store backend indexes
//! for `referrers_of`.

use serde_json::Value;

/// Top-level properties a store's `relationships_of` covers.
const RELATIONSHIP_ENDS: [&str; 3] = ["source_ref", "target_ref", "sighting_of_ref"];

/// Every embedded reference of an object: `(property, id)` for each `*_ref`
/// string and each string of a `*_refs` list of strings, at any depth
/// (granular markings, extensions), in document order. Only STIX ids
/// (`type--…`) count.
pub fn embedded_refs(v: &Value) -> Vec<(String, String)> {
    fn walk(v: &Value, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k.ends_with("_ref") {
                        if let Some(s) = x.as_str() {
                            out.push((k.clone(), s.to_owned()));
                            continue;
                        }
                    } else if k.ends_with("_refs") {
                        if let Some(a) = x.as_array() {
                            if a.iter().all(Value::is_string) {
                                out.extend(
                                    a.iter()
                                        .filter_map(Value::as_str)
                                        .map(|s| (k.clone(), s.to_owned())),
                                );
                                continue;
                            }
                        }
                    }
                    walk(x, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out.retain(|(_, id)| id.contains("--"));
    out
}

/// The ids a stored version is indexed under for `referrers_of`: its
/// embedded references except the top-level relationship ends, distinct,
/// sorted. Text that does not parse has none.
pub fn indexed_refs(raw: &str) -> Vec<String> {
    match serde_json::from_str::<Value>(raw) {
        Ok(v) => indexed_refs_of(&v),
        Err(_) => Vec::new(),
    }
}

/// [`indexed_refs`] of a parsed object.
pub fn indexed_refs_of(v: &Value) -> Vec<String> {
    let top = v.as_object();
    let mut out: Vec<String> = embedded_refs(v)
        .into_iter()
        .filter(|(k, id)| {
            !(RELATIONSHIP_ENDS.contains(&k.as_str())
                && top.and_then(|m| m.get(k.as_str())).and_then(Value::as_str) == Some(id.as_str()))
        })
        .map(|(_, id)| id)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refs_at_any_depth_but_not_relationship_ends() {
        let rel = json!({"type": "relationship", "source_ref": "a--1", "target_ref": "b--2",
            "created_by_ref": "identity--3", "object_marking_refs": ["marking-definition--4"],
            "granular_markings": [{"marking_ref": "marking-definition--5", "selectors": ["x"]}],
            "x_note_ref": "not an id"});
        assert_eq!(
            indexed_refs(&rel.to_string()),
            vec![
                "identity--3",
                "marking-definition--4",
                "marking-definition--5"
            ]
        );
        let report = json!({"type": "report", "object_refs": ["a--1", "b--2", "a--1"]});
        assert_eq!(indexed_refs(&report.to_string()), vec!["a--1", "b--2"]);
        assert!(indexed_refs("not json").is_empty());
    }
}
