//! The OpenAPI 3.1 description served at `/api/v1/openapi.json`, built from
//! [`ROUTES`], the table the router's tests check route by route (a route
//! missing from either fails them).

use serde_json::{json, Map, Value};

/// One query or path parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    /// `query` or `path`.
    pub place: &'static str,
    pub required: bool,
    pub description: &'static str,
}

/// One route.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// `get` or `post`.
    pub method: &'static str,
    /// OpenAPI path template (`{id}`), also axum's.
    pub path: &'static str,
    pub summary: &'static str,
    pub params: &'static [Param],
}

const fn q(name: &'static str, required: bool, description: &'static str) -> Param {
    Param {
        name,
        place: "query",
        required,
        description,
    }
}

const ID: Param = Param {
    name: "id",
    place: "path",
    required: true,
    description:
        "A STIX id, or an external id (ATT&CK `G0032`, `T1566`; `CVE-…`) naming one object",
};

/// Every route of the API.
pub const ROUTES: &[Route] = &[
    Route {
        method: "get",
        path: "/api/v1/search",
        summary: "Full-text search over names, aliases, descriptions and external ids, with facets by type; indicators carry score_state",
        params: &[
            q("q", true, "The text to search for (an external id matches exactly first)"),
            q("type", false, "Comma-separated STIX types to keep"),
            q("limit", false, "Results per page, 1-100 (20)"),
            q("cursor", false, "`next_cursor` of the previous page"),
        ],
    },
    Route {
        method: "get",
        path: "/api/v1/objects/{id}",
        summary: "The latest version as received, every version with a field-level diff, markings, external references, relationship counts by type; for an indicator, x_sightline_score beside the object (value, rounded, state, reason, rule, verdicts, conflict)",
        params: &[ID],
    },
    Route {
        method: "get",
        path: "/api/v1/objects/{id}/relationships",
        summary: "Neighbours through relationship objects and embedded *_ref(s) properties, with names; sightings of an indicator",
        params: &[
            ID,
            q("direction", false, "in, out or both (both)"),
            q("type", false, "Comma-separated relationship types or reference properties"),
            q("target_type", false, "Comma-separated types of the neighbour"),
        ],
    },
    Route {
        method: "get",
        path: "/api/v1/graph",
        summary: "Nodes and edges of a neighbourhood, bounded, with a truncated flag",
        params: &[
            q("seed", true, "The object to start from (id or external id)"),
            q("depth", false, "Hops from the seed, 1-3 (1)"),
            q("types", false, "Comma-separated node types to keep (the seed always is)"),
            q("edge_types", false, "Comma-separated relationship types or reference properties to follow"),
            q("limit", false, "Nodes at most, 1-2000 (2000)"),
        ],
    },
    Route {
        method: "get",
        path: "/api/v1/attack-matrix",
        summary: "ATT&CK techniques by tactic for an intrusion set, threat actor, campaign or malware, with the path linking each",
        params: &[q("subject", true, "The subject's id or external id")],
    },
    Route {
        method: "post",
        path: "/api/v1/verdicts",
        summary: "Records the caller's verdict on a sighting or indicator as a STIX opinion (analyst = the caller). JSON body {target, verdict: true-positive|false-positive|benign, note?, warninglist?: false}. The caller must read the target (else 404) and write a collection holding its indicator (else 403); the opinion goes to the first such collection by id. 201 with the opinion id, the collection and the indicator's score; bad input is a 400 naming the field, nothing written",
        params: &[],
    },
    Route {
        method: "get",
        path: "/api/v1/openapi.json",
        summary: "This description",
        params: &[],
    },
];

/// The OpenAPI document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for r in ROUTES {
        let params: Vec<Value> = r
            .params
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "in": p.place,
                    "required": p.required,
                    "description": p.description,
                    "schema": {"type": "string"},
                })
            })
            .collect();
        let mut op = json!({
            "summary": r.summary,
            "parameters": params,
            "security": [{}, {"basic": []}, {"bearer": []}],
            "responses": {
                "200": {"description": "JSON", "content": {"application/json": {}}},
                "400": {"$ref": "#/components/responses/Error"},
                "401": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"},
                "503": {"$ref": "#/components/responses/Error"},
            },
        });
        if r.method == "post" {
            op["security"] = json!([{"basic": []}, {"bearer": []}]);
            op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {
                "type": "object",
                "required": ["target", "verdict"],
                "properties": {
                    "target": {"type": "string", "description": "A sighting or indicator id"},
                    "verdict": {"enum": ["true-positive", "false-positive", "benign"]},
                    "note": {"type": "string", "maxLength": crate::verdict::MAX_NOTE_CHARS},
                    "warninglist": {"type": "boolean", "default": false},
                },
            }}}});
            let responses = &mut op["responses"];
            if let Some(m) = responses.as_object_mut() {
                m.remove("200");
            }
            responses["201"] =
                json!({"description": "Recorded", "content": {"application/json": {}}});
            responses["403"] = json!({"$ref": "#/components/responses/Error"});
            responses["413"] = json!({"$ref": "#/components/responses/Error"});
        }
        paths.insert(r.path.to_owned(), json!({ r.method: op }));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Sightline graph API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Objects, relationships, neighbourhoods and ATT&CK matrices over the collections the caller may read (the same accounts and rights as TAXII). An object the caller may not read is a 404, and shows no name when something it may read refers to it.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
            "responses": {"Error": {
                "description": "{\"error\": {\"status\", \"title\", \"message\"}}",
                "content": {"application/json": {}},
            }},
        },
    })
}
