//! The ATT&CK matrix page of an intrusion set, threat actor, campaign or
//! malware (`/ui/objects/{id}/matrix`): `sightline_graph::attack_matrix` as a
//! heatmap, tactics as columns in ATT&CK's order, each technique coloured by
//! how many paths link it to the subject; and the same as an ATT&CK Navigator
//! layer (format 4.5) to download (`…/matrix/layer.json`).

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde_json::{json, Value};
use sightline_graph::{AttackMatrix, Graph, MatrixTechnique};

use crate::pages::{class_part, layout, object_href};
use crate::routes::{html, resolve_one, with_reader, SignedIn};
use crate::{UiError, UiState};

/// Enterprise ATT&CK's collection object: the same id in every release; its
/// `x_mitre_version` is the release the store holds.
const ENTERPRISE_COLLECTION: &str = "x-mitre-collection--1f5f1533-f617-4ca8-9ab4-6a02367fa019";
/// The Navigator layer format written, and a Navigator that reads it.
const LAYER_FORMAT: &str = "4.5";
const NAVIGATOR_VERSION: &str = "5.1.0";
/// The heat colours, lightest to darkest (`style.css` `.heat-1`…`.heat-4`).
const HEAT_COLOURS: [&str; 4] = ["#fff3c4", "#ffd27f", "#ff9f5a", "#e8613c"];

/// 1..=4: one path, two, three, four or more.
pub(crate) fn heat(paths: usize) -> usize {
    paths.clamp(1, 4)
}

/// `initial-access` → `Initial Access`; "" → `No tactic`.
fn tactic_title(phase: &str) -> String {
    if phase.is_empty() {
        return "No tactic".into();
    }
    phase
        .split('-')
        .enumerate()
        .map(|(i, w)| {
            let mut c = w.chars();
            match c.next() {
                // As ATT&CK writes them: "Command and Control".
                _ if i > 0 && w == "and" => w.to_owned(),
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}

fn paths_text(t: &MatrixTechnique) -> String {
    t.paths
        .iter()
        .map(|p| p.describe())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The ATT&CK release the readable store holds (`"16"` of `"16.1"`), if any.
fn attack_version(
    store: &dyn sightline_store::Store,
    readable: Option<&std::collections::BTreeSet<String>>,
) -> Result<Option<String>, UiError> {
    let versions = sightline_api::readable_versions(store, ENTERPRISE_COLLECTION, readable)?;
    Ok(versions.last().and_then(|v| {
        let json: Value = serde_json::from_str(&v.raw).ok()?;
        let full = json.get("x_mitre_version")?.as_str()?;
        Some(full.split('.').next().unwrap_or(full).to_owned())
    }))
}

/// The matrix as an ATT&CK Navigator layer (format 4.5): one entry per
/// technique and tactic, scored by its number of paths, the paths as its
/// comment. Techniques without an ATT&CK id (`T…`) cannot be placed and are
/// left out (the description says how many).
pub(crate) fn layer(m: &AttackMatrix, attack: Option<&str>) -> Value {
    let name = m.subject_name.as_deref().unwrap_or(&m.subject);
    let mut techniques = Vec::new();
    let mut unplaced = std::collections::BTreeSet::new();
    let mut max = 1;
    for tactic in &m.tactics {
        for t in &tactic.techniques {
            let Some(tid) = t.external_id.as_deref().filter(|e| e.starts_with('T')) else {
                unplaced.insert(t.id.as_str());
                continue;
            };
            let score = t.paths.len();
            max = max.max(score);
            let mut e = json!({
                "techniqueID": tid,
                "score": score,
                "comment": paths_text(t),
                "enabled": true,
                "showSubtechniques": false,
            });
            if !tactic.phase.is_empty() {
                e["tactic"] = json!(tactic.phase);
            }
            techniques.push(e);
        }
    }
    let mut versions = json!({"navigator": NAVIGATOR_VERSION, "layer": LAYER_FORMAT});
    if let Some(a) = attack {
        versions["attack"] = json!(a);
    }
    let mut description = format!(
        "Techniques linked to {} {name} ({}) in Sightline; score: the number of paths \
         (direct use, via a campaign or intrusion set attributed to it, via its malware or tools).",
        m.subject_type, m.subject
    );
    if !unplaced.is_empty() {
        description.push_str(&format!(
            " {} technique(s) without an ATT&CK id are not in this layer.",
            unplaced.len()
        ));
    }
    json!({
        "name": format!("{name} (Sightline)"),
        "versions": versions,
        "domain": "enterprise-attack",
        "description": description,
        "sorting": 3,
        "layout": {"layout": "side", "showID": true, "showName": true},
        "hideDisabled": false,
        "techniques": techniques,
        "gradient": {
            "colors": [HEAT_COLOURS[0], HEAT_COLOURS[3]],
            "minValue": 1,
            "maxValue": max.max(2),
        },
        "legendItems": [],
        "metadata": [{"name": "subject", "value": m.subject}],
        "selectTechniquesAcrossTactics": true,
        "selectSubtechniquesWithParent": false,
    })
}

/// A file name from the subject: its ATT&CK id or name, `[A-Za-z0-9._-]` only.
fn file_name(m: &AttackMatrix, external_id: Option<&str>) -> String {
    let base = external_id
        .or(m.subject_name.as_deref())
        .unwrap_or("sightline");
    let slug: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(60)
        .collect();
    let slug = slug.trim_matches(|c| c == '-' || c == '.');
    format!(
        "{}-attack-layer.json",
        if slug.is_empty() { "sightline" } else { slug }
    )
}

/// The subject's matrix for the caller (and the store's ATT&CK release).
async fn read(
    state: &UiState,
    me: &SignedIn,
    id: String,
) -> Result<(AttackMatrix, Option<String>, Option<String>), UiError> {
    with_reader(state, &me.principal, move |readable, store| {
        let g = Graph::new(store, readable);
        let subject = resolve_one(&g, &id)?;
        let m = g.attack_matrix(&subject)?;
        let ext = g
            .infos(std::slice::from_ref(&subject))?
            .remove(&subject)
            .and_then(|i| i.external_id);
        Ok((m, ext, attack_version(store, readable)?))
    })
    .await
}

/// `GET /ui/objects/{id}/matrix`.
pub(crate) async fn page(
    State(state): State<UiState>,
    me: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let (m, _, _) = read(&state, &me, id).await?;
    Ok(html(markup(&me, &m)))
}

/// `GET /ui/objects/{id}/matrix/layer.json`: a download.
pub(crate) async fn layer_json(
    State(state): State<UiState>,
    me: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let (m, ext, attack) = read(&state, &me, id).await?;
    let body = serde_json::to_vec_pretty(&layer(&m, attack.as_deref()))
        .map_err(|e| UiError::internal(format!("layer JSON: {e}")))?;
    let disposition = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        file_name(&m, ext.as_deref())
    ))
    .map_err(|e| UiError::internal(format!("layer file name: {e}")))?;
    let mut r = ([(CONTENT_TYPE, "application/json")], body).into_response();
    r.headers_mut().insert(CONTENT_DISPOSITION, disposition);
    Ok(r)
}

fn cell(t: &MatrixTechnique) -> Markup {
    let n = t.paths.len();
    let label = t.external_id.as_deref().unwrap_or(&t.id);
    html! {
        td class=(format!("technique heat-{}", heat(n))) data-technique=(label) data-paths=(n)
            title=(paths_text(t)) {
            a href=(object_href(&t.id)) {
                @if let Some(e) = &t.external_id { code { (e) } " " }
                (t.name.as_deref().unwrap_or(&t.id))
            }
            @if t.revoked { " " span.flag { "revoked" } }
            @if t.deprecated { " " span.flag { "deprecated" } }
            br;
            span.paths { (n) @if n == 1 { " path" } @else { " paths" } }
        }
    }
}

pub(crate) fn markup(me: &SignedIn, m: &AttackMatrix) -> Markup {
    let name = m.subject_name.as_deref().unwrap_or(&m.subject);
    let href = object_href(&m.subject);
    let rows = m
        .tactics
        .iter()
        .map(|t| t.techniques.len())
        .max()
        .unwrap_or(0);
    // Each technique once, for the list of paths.
    let mut all: Vec<&MatrixTechnique> = m.tactics.iter().flat_map(|t| &t.techniques).collect();
    all.sort_by(|a, b| (&a.external_id, &a.name, &a.id).cmp(&(&b.external_id, &b.name, &b.id)));
    all.dedup_by(|a, b| a.id == b.id);
    layout(
        &format!("ATT&CK matrix of {name}"),
        Some(me),
        html! {
            h1 { "ATT&CK matrix of " (name) }
            p {
                span class=(format!("badge type-badge type-{}", class_part(&m.subject_type))) { (m.subject_type) }
                " " a href=(href) { "Back to the object page" }
            }
            p {
                (m.technique_count) " techniques, by tactic. The colour says how many paths link a technique to "
                (name) ": its own use, a campaign or intrusion set attributed to it, its malware or tools."
            }
            p {
                a #navigator-layer href=(format!("{href}/matrix/layer.json")) download {
                    "Download as an ATT&CK Navigator layer (JSON)"
                }
            }
            p.legend {
                "Paths: "
                span.heat-sample.heat-1 { "1 path" } " "
                span.heat-sample.heat-2 { "2 paths" } " "
                span.heat-sample.heat-3 { "3 paths" } " "
                span.heat-sample.heat-4 { "4 or more" }
            }
            @if m.tactics.is_empty() {
                p { "No techniques you may read are linked to it." }
            } @else {
                div.matrix-wrap {
                    table #matrix {
                        caption { "Techniques of " (name) " by ATT&CK tactic" }
                        thead {
                            tr {
                                @for t in &m.tactics {
                                    th scope="col" data-tactic=(t.phase) {
                                        (tactic_title(&t.phase)) br;
                                        span.paths { (t.techniques.len()) }
                                    }
                                }
                            }
                        }
                        tbody {
                            @for r in 0..rows {
                                tr {
                                    @for t in &m.tactics {
                                        @match t.techniques.get(r) {
                                            Some(x) => (cell(x)),
                                            None => td.empty {},
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                section #paths aria-labelledby="h-paths" {
                    h2 #h-paths { "How each technique is linked" }
                    ul.results {
                        @for t in &all {
                            li {
                                a href=(object_href(&t.id)) {
                                    @if let Some(e) = &t.external_id { code { (e) } " " }
                                    (t.name.as_deref().unwrap_or(&t.id))
                                }
                                ul {
                                    @for p in &t.paths { li { (p.describe()) } }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_graph::{Step, Tactic, TechniquePath};

    fn technique(ext: Option<&str>, paths: usize) -> MatrixTechnique {
        MatrixTechnique {
            id: format!("attack-pattern--{}", ext.unwrap_or("x")),
            name: Some(format!("name of {ext:?}")),
            external_id: ext.map(str::to_owned),
            revoked: false,
            deprecated: false,
            paths: (0..paths)
                .map(|i| TechniquePath {
                    via: (0..i)
                        .map(|_| Step {
                            id: "malware--1".into(),
                            ty: "malware".into(),
                            name: Some("Bankshot".into()),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// ATT&CK Navigator layer format 4.5: name, versions {attack, navigator,
    /// layer}, domain, techniques [{techniqueID, tactic, score, comment}],
    /// gradient {colors, minValue, maxValue}.
    #[test]
    fn the_layer_has_the_navigator_4_5_shape() {
        let m = AttackMatrix {
            subject: "intrusion-set--1".into(),
            subject_type: "intrusion-set".into(),
            subject_name: Some("Lazarus Group".into()),
            tactics: vec![
                Tactic {
                    phase: "initial-access".into(),
                    techniques: vec![technique(Some("T1566"), 2), technique(None, 1)],
                },
                Tactic {
                    phase: "execution".into(),
                    techniques: vec![technique(Some("T1059.001"), 1)],
                },
            ],
            technique_count: 3,
        };
        let l = layer(&m, Some("16"));
        assert_eq!(l["name"], "Lazarus Group (Sightline)");
        assert_eq!(l["versions"]["layer"], "4.5");
        assert_eq!(l["versions"]["attack"], "16");
        assert!(l["versions"]["navigator"].is_string());
        assert_eq!(l["domain"], "enterprise-attack");
        let t = l["techniques"].as_array().expect("techniques");
        assert_eq!(t.len(), 2, "the one without an ATT&CK id is left out");
        assert_eq!(t[0]["techniqueID"], "T1566");
        assert_eq!(t[0]["tactic"], "initial-access");
        assert_eq!(t[0]["score"], 2);
        assert_eq!(t[0]["comment"], "direct; via malware Bankshot");
        assert_eq!(t[1]["techniqueID"], "T1059.001");
        assert_eq!(t[1]["tactic"], "execution");
        assert_eq!(l["gradient"]["colors"].as_array().map(Vec::len), Some(2));
        assert_eq!(l["gradient"]["minValue"], 1);
        assert_eq!(l["gradient"]["maxValue"], 2);
        assert!(l["description"]
            .as_str()
            .is_some_and(|d| d.contains("1 technique(s) without an ATT&CK id")));
        // Without a known release, no attack version (rather than a guess).
        assert!(layer(&m, None)["versions"].get("attack").is_none());
        assert_eq!(file_name(&m, Some("G0032")), "G0032-attack-layer.json");
        assert_eq!(file_name(&m, None), "Lazarus-Group-attack-layer.json");
    }

    #[test]
    fn heat_levels_and_tactic_titles() {
        assert_eq!([0, 1, 2, 3, 4, 9].map(heat), [1, 1, 2, 3, 4, 4]);
        assert_eq!(tactic_title("command-and-control"), "Command and Control");
        assert_eq!(tactic_title(""), "No tactic");
    }
}
