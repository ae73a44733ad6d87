//! The handlers: parameters in, one [`Graph`] call on the blocking pool, JSON out.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use sightline_graph::{Direction, Graph, NeighbourQuery, NeighbourhoodQuery, DEFAULT_NODE_LIMIT};
use sightline_store::{format_date_added, Store};
use sightline_taxii::RequestUser;

use crate::{ApiError, ApiState, Reader};

type Params = Query<HashMap<String, String>>;

/// Runs `f` with the caller's [`Graph`] on the blocking pool.
async fn with_graph<T, F>(
    state: &ApiState,
    headers: &HeaderMap,
    user: Option<Extension<RequestUser>>,
    f: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Graph<'_>, &dyn Store, Option<&BTreeSet<String>>) -> Result<T, ApiError>
        + Send
        + 'static,
{
    let Reader { readable, .. } = state.reader(headers, user.as_ref().map(|e| &e.0)).await?;
    let store: Arc<dyn Store> = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let g = Graph::new(&*store, readable.as_ref());
        f(&g, &*store, readable.as_ref())
    })
    .await
    .map_err(|e| ApiError::Internal(format!("graph task: {e}")))?
}

/// A comma-separated list parameter (absent or empty: none).
fn list(p: &HashMap<String, String>, key: &str) -> Vec<String> {
    p.get(key)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// A number parameter within `range`, `default` when absent.
fn number(
    p: &HashMap<String, String>,
    key: &str,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, ApiError> {
    match p.get(key) {
        None => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(ApiError::BadRequest(format!(
                "{key} must be a whole number from {} to {}, not {v:?}",
                range.start(),
                range.end()
            ))),
        },
    }
}

/// One object the caller may read, by STIX id or external id (`G0032`).
fn resolve_one(g: &Graph<'_>, id: &str) -> Result<String, ApiError> {
    let mut ids = g.resolve_owners(id)?;
    match ids.len() {
        0 => Err(ApiError::NotFound(format!(
            "no object {id} that you may read"
        ))),
        1 => Ok(ids.remove(0)),
        _ => Err(ApiError::BadRequest(format!(
            "{id} names {} objects ({}): ask for one by its STIX id",
            ids.len(),
            ids.join(", ")
        ))),
    }
}

// ---------------------------------------------------------------- search

#[derive(Serialize)]
struct SearchResult {
    id: String,
    #[serde(rename = "type")]
    ty: String,
    name: Option<String>,
    external_id: Option<String>,
    revoked: bool,
    deprecated: bool,
    /// An indicator's lifecycle state now (`active`, `inactive`, `revoked`;
    /// issue 16); absent for other types.
    #[serde(skip_serializing_if = "Option::is_none")]
    score_state: Option<String>,
}

/// Hits read per search before filtering and paging.
const SEARCH_WINDOW: usize = 1_000;

/// `GET /api/v1/search?q=&type=&limit=&cursor=`.
pub(crate) async fn search(
    State(state): State<ApiState>,
    headers: HeaderMap,
    user: Option<Extension<RequestUser>>,
    Query(p): Params,
) -> Result<Response, ApiError> {
    let q = p.get("q").map(|s| s.trim().to_owned()).unwrap_or_default();
    if q.is_empty() {
        return Err(ApiError::BadRequest(
            "q (the text to search for) is required".into(),
        ));
    }
    let types = list(&p, "type");
    let limit = number(&p, "limit", 20, 1..=100)?;
    let cursor = p.get("cursor").cloned();
    let lifecycle = state.lifecycle.clone();
    let body = with_graph(&state, &headers, user, move |g, store, readable| {
        // External ids first (`T1566` is Phishing), then full-text hits by rank.
        let mut ids: Vec<String> = store.lookup_external_id(&q)?;
        for h in store.search(&q, SEARCH_WINDOW)? {
            ids.push(h.id);
        }
        let mut seen = std::collections::HashSet::new();
        ids.retain(|i| seen.insert(i.clone()));
        let infos = g.infos(&ids)?;
        let visible: Vec<SearchResult> = ids
            .into_iter()
            .filter_map(|id| {
                let info = infos.get(&id)?;
                Some(SearchResult {
                    ty: sightline_graph::type_of_id(&id).to_owned(),
                    name: info.name.clone(),
                    external_id: info.external_id.clone(),
                    revoked: info.revoked,
                    deprecated: info.deprecated,
                    score_state: None,
                    id,
                })
            })
            .collect();
        let mut facets: BTreeMap<String, usize> = BTreeMap::new();
        for r in &visible {
            *facets.entry(r.ty.clone()).or_default() += 1;
        }
        let mut matching: Vec<SearchResult> = visible
            .into_iter()
            .filter(|r| types.is_empty() || types.contains(&r.ty))
            .collect();
        // Keyset over the ranked list: the page after the cursor's id.
        let start = match &cursor {
            None => 0,
            Some(c) => match matching.iter().position(|r| &r.id == c) {
                Some(i) => i + 1,
                None => return Err(ApiError::BadRequest(
                    "cursor is not a result of this search (the store changed, or it was edited)"
                        .into(),
                )),
            },
        };
        let total = matching.len();
        // The state of the page's indicators only, their histories read in
        // one batch (`verdict::states`).
        if let Some(l) = &lifecycle {
            let ids: Vec<String> = matching
                .iter()
                .skip(start)
                .take(limit)
                .filter(|r| r.ty == "indicator")
                .map(|r| r.id.clone())
                .collect();
            let mut states = crate::verdict::states(store, l, readable, &ids)?;
            for r in matching.iter_mut().skip(start).take(limit) {
                r.score_state = states.remove(&r.id);
            }
        }
        let page: Vec<&SearchResult> = matching.iter().skip(start).take(limit).collect();
        let next = (start + page.len() < total)
            .then(|| page.last().map(|r| r.id.clone()))
            .flatten();
        Ok(json!({
            "query": q,
            "total": total,
            "total_is_lower_bound": total >= SEARCH_WINDOW,
            "facets": facets,
            "results": page,
            "next_cursor": next,
        }))
    })
    .await?;
    Ok(Json(body).into_response())
}

// ---------------------------------------------------------------- objects

/// What changed between two versions of an object, by top-level property:
/// `{"added": [key…], "removed": [key…], "changed": {key: {"from", "to"}}}`.
/// The web UI's version list shows the same (`sightline_api::version_diff`).
pub fn diff(old: &Value, new: &Value) -> Value {
    let (Some(a), Some(b)) = (old.as_object(), new.as_object()) else {
        return json!({});
    };
    let added: Vec<&String> = b.keys().filter(|k| !a.contains_key(*k)).collect();
    let removed: Vec<&String> = a.keys().filter(|k| !b.contains_key(*k)).collect();
    let changed: Map<String, Value> = b
        .iter()
        .filter(|(k, v)| a.get(*k).is_some_and(|o| o != *v))
        .map(|(k, v)| (k.clone(), json!({"from": a[k], "to": v})))
        .collect();
    json!({"added": added, "removed": removed, "changed": changed})
}

/// `GET /api/v1/objects/{id}`: the latest readable version as received, every
/// readable version with what changed, markings, external references and
/// relationship counts.
pub(crate) async fn object(
    State(state): State<ApiState>,
    headers: HeaderMap,
    user: Option<Extension<RequestUser>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let lifecycle = state.lifecycle.clone();
    let body = with_graph(&state, &headers, user, move |g, store, readable| {
        let id = resolve_one(g, &id)?;
        let versions = crate::readable_versions(store, &id, readable)?;
        let Some(latest) = versions.last() else {
            return Err(ApiError::NotFound(format!("no object {id} that you may read")));
        };
        // As received, byte for byte.
        let raw = RawValue::from_string(latest.raw.clone())
            .map_err(|e| ApiError::Internal(format!("stored JSON of {id}: {e}")))?;
        let parsed: Vec<Value> = versions
            .iter()
            .map(|v| serde_json::from_str(&v.raw).unwrap_or(Value::Null))
            .collect();
        let history: Vec<Value> = versions
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let mut e = json!({
                    "version": v.version,
                    "date_added": format_date_added(v.date_added),
                    "revoked": v.revoked,
                });
                if i > 0 {
                    e["changes"] = diff(&parsed[i - 1], &parsed[i]);
                }
                e
            })
            .collect();
        let latest_json = parsed.last().cloned().unwrap_or(Value::Null);
        let marking_ids = sightline_graph::str_list(&latest_json, "object_marking_refs");
        let infos = g.infos(&marking_ids)?;
        let markings: Vec<Value> = marking_ids
            .iter()
            .map(|m| json!({"id": m, "name": infos.get(m).and_then(|i| i.name.clone())}))
            .collect();
        let counts: Vec<Value> = g
            .relationship_counts(&id)?
            .into_iter()
            .map(|(t, o, i)| json!({"relationship_type": t, "out": o, "in": i}))
            .collect();
        let mut out = json!({
            "id": id,
            "type": latest.ty,
            "object": raw,
            "versions": history,
            "markings": markings,
            "external_references": latest_json.get("external_references").cloned().unwrap_or(json!([])),
            "relationship_counts": counts,
        });
        // Beside the object, never inside it: the object stays as received.
        if let Some(l) = &lifecycle {
            if let Some(score) = crate::verdict::score(store, l, &latest.raw)? {
                out["x_sightline_score"] = score;
            }
        }
        Ok(out)
    })
    .await?;
    Ok(Json(body).into_response())
}

/// `GET /api/v1/objects/{id}/relationships?direction=&type=&target_type=`.
pub(crate) async fn relationships(
    State(state): State<ApiState>,
    headers: HeaderMap,
    user: Option<Extension<RequestUser>>,
    Path(id): Path<String>,
    Query(p): Params,
) -> Result<Response, ApiError> {
    let direction = match p.get("direction").map(String::as_str) {
        None | Some("both") => Direction::Both,
        Some("out") => Direction::Out,
        Some("in") => Direction::In,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "direction must be in, out or both, not {other:?}"
            )))
        }
    };
    let q = NeighbourQuery {
        direction: Some(direction),
        edge_types: list(&p, "type"),
        target_types: list(&p, "target_type"),
    };
    let body = with_graph(&state, &headers, user, move |g, _, _| {
        let id = resolve_one(g, &id)?;
        let neighbours = g.neighbours(&id, &q)?;
        let sightings = if sightline_graph::type_of_id(&id) == "indicator" {
            serde_json::to_value(g.sightings(&id)?).unwrap_or(Value::Null)
        } else {
            json!([])
        };
        Ok(json!({"id": id, "neighbours": neighbours, "sightings": sightings}))
    })
    .await?;
    Ok(Json(body).into_response())
}

/// `GET /api/v1/graph?seed=&depth=1..3&types=&limit=`.
pub(crate) async fn graph(
    State(state): State<ApiState>,
    headers: HeaderMap,
    user: Option<Extension<RequestUser>>,
    Query(p): Params,
) -> Result<Response, ApiError> {
    let seed = p
        .get("seed")
        .cloned()
        .ok_or_else(|| ApiError::BadRequest("seed (an object id) is required".into()))?;
    let q = NeighbourhoodQuery {
        depth: u32::try_from(number(&p, "depth", 1, 1..=3)?).unwrap_or(1),
        types: list(&p, "types"),
        edge_types: list(&p, "edge_types"),
        node_limit: number(&p, "limit", DEFAULT_NODE_LIMIT, 1..=DEFAULT_NODE_LIMIT)?,
        ..NeighbourhoodQuery::default()
    };
    let body = with_graph(&state, &headers, user, move |g, _, _| {
        let seed = resolve_one(g, &seed)?;
        Ok(serde_json::to_value(g.neighbourhood(&seed, &q)?).unwrap_or(Value::Null))
    })
    .await?;
    Ok(Json(body).into_response())
}

/// `GET /api/v1/attack-matrix?subject=`.
pub(crate) async fn attack_matrix(
    State(state): State<ApiState>,
    headers: HeaderMap,
    user: Option<Extension<RequestUser>>,
    Query(p): Params,
) -> Result<Response, ApiError> {
    let subject = p.get("subject").cloned().ok_or_else(|| {
        ApiError::BadRequest(
            "subject (an intrusion-set, threat-actor, campaign or malware id) is required".into(),
        )
    })?;
    let body = with_graph(&state, &headers, user, move |g, _, _| {
        let subject = resolve_one(g, &subject)?;
        Ok(serde_json::to_value(g.attack_matrix(&subject)?).unwrap_or(Value::Null))
    })
    .await?;
    Ok(Json(body).into_response())
}

/// The largest verdict body read: a note of [`crate::verdict::MAX_NOTE_CHARS`]
/// characters (up to 4 bytes each, escaped) fits.
const MAX_VERDICT_BODY: usize = 64 * 1024;

/// `POST /api/v1/verdicts` (`{"target", "verdict", "note"?, "warninglist"?}`):
/// records the signed-in caller's verdict (rights: [`crate::verdict`]).
pub(crate) async fn verdict(
    State(state): State<ApiState>,
    headers: HeaderMap,
    user: Option<Extension<RequestUser>>,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let Reader { readable, who } = state.reader(&headers, user.as_ref().map(|e| &e.0)).await?;
    let Some(who) = who else {
        return Err(ApiError::Unauthorized(
            "a verdict is given by a signed-in analyst: send credentials".into(),
        ));
    };
    let Some(lifecycle) = state.lifecycle.clone() else {
        return Err(ApiError::Unavailable(
            "the lifecycle settings are not loaded".into(),
        ));
    };
    let bytes = axum::body::to_bytes(body, MAX_VERDICT_BODY)
        .await
        .map_err(|_| {
            ApiError::TooLarge(format!(
                "body: a verdict is at most {MAX_VERDICT_BODY} bytes (note: at most {} characters)",
                crate::verdict::MAX_NOTE_CHARS
            ))
        })?;
    let req: crate::VerdictRequest = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::BadRequest(format!(
            "body: expected {{\"target\", \"verdict\", \"note\"?, \"warninglist\"?}}: {e}"
        ))
    })?;
    let store = state.store.clone();
    let policy = state.policy.clone();
    let out = tokio::task::spawn_blocking(move || {
        crate::verdict::give(&*store, &*policy, &who, readable.as_ref(), &lifecycle, &req)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("verdict task: {e}")))??;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(serde_json::to_value(out).unwrap_or(Value::Null)),
    )
        .into_response())
}

/// `GET /api/v1/openapi.json`: public, like TAXII discovery's shape.
pub(crate) async fn openapi() -> Response {
    Json(crate::openapi::document()).into_response()
}
