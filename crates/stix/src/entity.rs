//! Which object an external id *names* (rather than merely cites): ATT&CK ids
//! of a `mitre-*-attack` source name objects of the type their kind denotes
//! (`G0032` an intrusion set, `S0366` malware or a tool, `T1486` an attack
//! pattern, …), CVE ids of source `cve` a vulnerability. A campaign citing
//! G0032 as a source is not Lazarus Group. Used by entity resolution on import
//! and by the graph's and CLI's display of an object's external id.

use serde_json::Value;

const ATTACK_SOURCES: [&str; 3] = ["mitre-attack", "mitre-mobile-attack", "mitre-ics-attack"];

/// The object types an external id can name (`None`: not an entity id).
pub fn named_types(source_name: &str, external_id: &str) -> Option<&'static [&'static str]> {
    if source_name.eq_ignore_ascii_case("cve") {
        let rest = external_id.get(..4)?;
        return rest
            .eq_ignore_ascii_case("CVE-")
            .then_some(&["vulnerability"][..]);
    }
    if !ATTACK_SOURCES.contains(&source_name) {
        return None;
    }
    let digits = |s: &str| s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(n) = external_id.strip_prefix("TA") {
        return digits(n).then_some(&["x-mitre-tactic"][..]);
    }
    let (kind, n) = external_id.split_at_checked(1)?;
    let n_ok = match kind {
        // Sub-techniques: T1561.001.
        "T" => match n.split_once('.') {
            Some((a, b)) => digits(a) && b.len() == 3 && b.bytes().all(|c| c.is_ascii_digit()),
            None => digits(n),
        },
        _ => digits(n),
    };
    if !n_ok {
        return None;
    }
    match kind {
        "G" => Some(&["intrusion-set", "threat-actor"]),
        "S" => Some(&["malware", "tool"]),
        "T" => Some(&["attack-pattern"]),
        "C" => Some(&["campaign"]),
        "M" => Some(&["course-of-action"]),
        _ => None,
    }
}

/// The first external id of `v` that names it (see the module docs).
pub fn own_external_id(v: &Value) -> Option<&str> {
    let ty = v.get("type")?.as_str()?;
    v.get("external_references")?
        .as_array()?
        .iter()
        .find_map(|r| {
            let src = r.get("source_name")?.as_str()?;
            let ext = r.get("external_id")?.as_str()?;
            named_types(src, ext)
                .is_some_and(|t| t.contains(&ty))
                .then_some(ext)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_objects_of_their_kind() {
        assert_eq!(
            named_types("mitre-attack", "G0032"),
            Some(&["intrusion-set", "threat-actor"][..])
        );
        assert_eq!(
            named_types("mitre-attack", "T1561.001"),
            Some(&["attack-pattern"][..])
        );
        assert_eq!(
            named_types("mitre-ics-attack", "TA0100"),
            Some(&["x-mitre-tactic"][..])
        );
        assert_eq!(
            named_types("cve", "CVE-2017-0144"),
            Some(&["vulnerability"][..])
        );
        assert_eq!(named_types("capec", "CAPEC-163"), None);
        assert_eq!(named_types("mitre-attack", "G32"), None);
        assert_eq!(named_types("mitre-attack", "DET0001"), None);
        let campaign = serde_json::json!({"type": "campaign", "external_references": [
            {"source_name": "mitre-attack", "external_id": "G0032"}]});
        assert_eq!(own_external_id(&campaign), None);
        let group = serde_json::json!({"type": "intrusion-set", "external_references": [
            {"source_name": "wiki", "external_id": "x"},
            {"source_name": "mitre-attack", "external_id": "G0032"}]});
        assert_eq!(own_external_id(&group), Some("G0032"));
    }
}
