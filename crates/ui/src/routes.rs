//! The handlers: the session check, one blocking store task, a page out.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;
use sightline_graph::{
    Graph, NeighbourQuery, Neighbourhood, NeighbourhoodQuery, DEFAULT_NODE_LIMIT,
};
use sightline_store::{format_date_added, Store};
use sightline_taxii::{AuthError, Principal, RequestUser};

use crate::pages;
use crate::session::{cookie, random_token, same, set_cookie, LOGIN_COOKIE, SESSION_COOKIE};
use crate::{UiError, UiState};

/// One file under `/ui/assets/`, compiled in.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

/// Every asset the UI serves (vendored ones: `assets/README.md`). The
/// issue's budget for all its JavaScript and CSS is 600 KB (a test sums
/// this table).
pub const ASSETS: &[Asset] = &[
    Asset {
        name: "htmx.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/htmx.min.js"),
    },
    Asset {
        name: "cytoscape.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/cytoscape.min.js"),
    },
    Asset {
        name: "graph.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/graph.js"),
    },
    Asset {
        name: "style.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../assets/style.css"),
    },
];

/// FNV-1a of an asset: its URL's version, so a changed file is fetched at
/// once despite the year-long cache.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    h
}

/// The versioned URL of asset `name` (`/ui/assets/graph.js?v=…`).
pub(crate) fn asset_url(name: &str) -> String {
    let v = ASSETS
        .iter()
        .find(|a| a.name == name)
        .map_or(0, |a| fnv1a(a.bytes));
    format!("/ui/assets/{name}?v={:08x}", v >> 32)
}

/// A year: assets change only with the binary, and their URLs carry a version.
pub(crate) const ASSET_CACHE: &str = "public, max-age=31536000, immutable";

/// Search hits read before filtering by what the caller may read.
const SEARCH_WINDOW: usize = 1_000;
/// Hits shown on one page.
pub(crate) const SEARCH_SHOWN: usize = 50;

/// A signed-in caller; any other request is sent to the sign-in page.
pub(crate) struct SignedIn {
    pub(crate) principal: Principal,
    pub(crate) csrf: String,
    session: String,
}

impl FromRequestParts<UiState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &UiState) -> Result<Self, Response> {
        let found = cookie(&parts.headers, SESSION_COOKIE)
            .and_then(|id| state.sessions.get(id).map(|s| (id.to_owned(), s)));
        let Some((session, s)) = found else {
            let mut r = Redirect::to("/ui/login").into_response();
            // htmx follows redirects inside the page; tell it to leave.
            if parts.headers.contains_key("hx-request") {
                r.headers_mut()
                    .insert("hx-redirect", HeaderValue::from_static("/ui/login"));
            }
            return Err(r);
        };
        // The account may have changed since: removed, a new password
        // (the session ends), other groups or rights (they apply now).
        let principal = match state.recheck(&session, &s).await {
            Ok(Some(p)) => p,
            Ok(None) => {
                state.sessions.remove(&session);
                let mut r = Redirect::to("/ui/login").into_response();
                if parts.headers.contains_key("hx-request") {
                    r.headers_mut()
                        .insert("hx-redirect", HeaderValue::from_static("/ui/login"));
                }
                return Err(r);
            }
            Err(e) => return Err(e.into_response()),
        };
        // The request log names the user, as for TAXII.
        if let Some(slot) = parts.extensions.get::<RequestUser>() {
            slot.record(&principal.name);
        }
        Ok(SignedIn {
            principal,
            csrf: s.csrf,
            session,
        })
    }
}

/// Runs `f` on the blocking pool with the caller's readable collections
/// (`None`: an administrator) and the store.
pub(crate) async fn with_reader<T, F>(state: &UiState, who: &Principal, f: F) -> Result<T, UiError>
where
    T: Send + 'static,
    F: FnOnce(Option<&BTreeSet<String>>, &dyn Store) -> Result<T, UiError> + Send + 'static,
{
    let store: Arc<dyn Store> = state.store.clone();
    let policy = state.policy.clone();
    let who = who.clone();
    tokio::task::spawn_blocking(move || {
        let readable = sightline_api::readable_collections(&*store, &*policy, Some(&who))?;
        f(readable.as_ref(), &*store)
    })
    .await
    .map_err(|e| UiError::internal(format!("store task: {e}")))?
}

pub(crate) fn html(m: maud::Markup) -> Response {
    Html(m.into_string()).into_response()
}

// ---------------------------------------------------------------- sign-in

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// The sign-in form with a fresh CSRF token, also set as a cookie for the
/// form's POST (double submit).
fn login_page(state: &UiState, user: &str, error: Option<&str>) -> Result<Response, UiError> {
    let token = random_token()?;
    let mut r = html(pages::login(&token, user, error));
    let c = set_cookie(LOGIN_COOKIE, &token, "/ui/login", state.secure, None);
    r.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_str(&c).map_err(|e| UiError::internal(e.to_string()))?,
    );
    Ok(r)
}

/// `GET /ui/login`.
pub(crate) async fn login_form(
    State(state): State<UiState>,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    let signed_in =
        cookie(&headers, SESSION_COOKIE).is_some_and(|id| state.sessions.get(id).is_some());
    if signed_in {
        return Ok(Redirect::to("/ui/").into_response());
    }
    login_page(&state, "", None)
}

/// The client's address, from the accept loop's `ConnectInfo` (absent when
/// the router is called in-process).
pub(crate) struct PeerIp(Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerIp(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// `POST /ui/login`: the form's user and password go to the server's
/// authenticator as a Basic header, exactly as a TAXII client's would.
pub(crate) async fn login(
    State(state): State<UiState>,
    headers: HeaderMap,
    PeerIp(peer): PeerIp,
    user_slot: Option<Extension<RequestUser>>,
    Form(f): Form<LoginForm>,
) -> Result<Response, UiError> {
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if expected.is_empty() || !same(expected, &f.csrf) {
        return Err(UiError::Forbidden(
            "the sign-in form expired or did not come from this site: reload it and try again"
                .into(),
        ));
    }
    let refused = |status: StatusCode, msg: &str| -> Result<Response, UiError> {
        let mut r = login_page(&state, &f.user, Some(msg))?;
        *r.status_mut() = status;
        Ok(r)
    };
    const WRONG: &str = "Wrong user name or password.";
    // Basic cannot carry a user name with a colon; no account has one.
    if f.user.is_empty() || f.user.contains(':') || f.password.is_empty() {
        return refused(StatusCode::UNAUTHORIZED, WRONG);
    }
    let header = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", f.user, f.password))
    );
    let auth = state.auth.clone();
    let who = match auth.authenticate_cached(&header) {
        // A cached answer costs no verification: not throttled.
        Some(p) => Ok(Some(p)),
        None => {
            if let Some(ip) = peer {
                if let Err(wait) = state.throttle.take(ip) {
                    let secs = wait.as_secs().max(1);
                    let mut r = refused(
                        StatusCode::TOO_MANY_REQUESTS,
                        &format!(
                            "Too many failed sign-ins from your address; try again in {secs} s."
                        ),
                    )?;
                    r.headers_mut()
                        .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(secs));
                    return Ok(r);
                }
            }
            let who = tokio::task::spawn_blocking(move || auth.authenticate(Some(&header)))
                .await
                .map_err(|e| UiError::internal(format!("authentication task: {e}")))?;
            let failed = matches!(who, Err(AuthError::Invalid) | Err(AuthError::Malformed));
            if let (Some(ip), false) = (peer, failed) {
                state.throttle.refund(ip);
            }
            who
        }
    };
    let principal = match who {
        Ok(Some(p)) => p,
        Ok(None) | Err(AuthError::Invalid) | Err(AuthError::Malformed) => {
            return refused(StatusCode::UNAUTHORIZED, WRONG)
        }
        Err(AuthError::Unavailable(m)) => {
            tracing::warn!(error = %m, "web UI sign-in: authentication unavailable");
            return refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "Signing in is not possible right now; try again in a moment.",
            );
        }
    };
    if let Some(Extension(slot)) = &user_slot {
        slot.record(&principal.name);
    }
    let account = state.account_stamp(&principal.name).await?;
    let id = state.sessions.create(principal, account)?;
    let mut r = Redirect::to("/ui/").into_response();
    let h = r.headers_mut();
    for c in [
        set_cookie(SESSION_COOKIE, &id, "/ui", state.secure, None),
        set_cookie(LOGIN_COOKIE, "", "/ui/login", state.secure, Some(0)),
    ] {
        h.append(
            SET_COOKIE,
            HeaderValue::from_str(&c).map_err(|e| UiError::internal(e.to_string()))?,
        );
    }
    Ok(r)
}

/// `POST /ui/logout`: ends the session (the server forgets it) and clears the cookie.
pub(crate) async fn logout(
    State(state): State<UiState>,
    me: SignedIn,
    Form(f): Form<CsrfForm>,
) -> Result<Response, UiError> {
    if !same(&me.csrf, &f.csrf) {
        return Err(UiError::Forbidden(
            "the form did not come from this session: reload the page and try again".into(),
        ));
    }
    state.sessions.remove(&me.session);
    let mut r = Redirect::to("/ui/login").into_response();
    let c = set_cookie(SESSION_COOKIE, "", "/ui", state.secure, Some(0));
    r.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_str(&c).map_err(|e| UiError::internal(e.to_string()))?,
    );
    Ok(r)
}

// ---------------------------------------------------------------- pages

/// `GET /ui/`: what the caller may read, and (administrators) the store's counts.
pub(crate) async fn home(State(state): State<UiState>, me: SignedIn) -> Result<Response, UiError> {
    let cache = state.quality.clone();
    let lifecycle = state.lifecycle.clone();
    let all: Arc<dyn Store> = state.store.clone();
    let (stats, collections, activity, quality) =
        with_reader(&state, &me.principal, move |readable, store| {
            let collections: Vec<_> = store
                .collections()?
                .into_iter()
                .filter(|c| readable.is_none_or(|r| r.contains(&c.id)))
                .collect();
            // Counts are store-wide: shown to those who may read the whole store.
            let stats = match readable {
                None => Some(store.stats()?),
                Some(_) => None,
            };
            // The quality report is store-wide: administrators only (quality.rs).
            let quality = match (readable, &lifecycle) {
                (None, Some(l)) => {
                    let l = l.clone();
                    Some(cache.get(move || {
                        let now = sightline_api::verdict::now_micros();
                        let since = now.saturating_sub(crate::quality::DAYS * 86_400_000_000);
                        sightline_lifecycle::quality::report(&*all, &l.evaluator, since, now)
                            .map_err(|e| sightline_api::verdict::lifecycle_error(e).into())
                    })?)
                }
                _ => None,
            };
            Ok((
                stats,
                collections,
                crate::dashboard::gather(store, readable)?,
                quality,
            ))
        })
        .await?;
    let activity = maud::html! {
        (crate::dashboard::markup(&activity))
        (crate::quality::markup(quality.as_ref()))
    };
    Ok(html(pages::home(
        &me,
        stats.as_ref(),
        &collections,
        activity,
    )))
}

#[derive(Deserialize)]
pub(crate) struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default, rename = "type")]
    ty: Option<String>,
}

/// One search result the caller may read.
pub(crate) struct Hit {
    pub(crate) id: String,
    pub(crate) ty: String,
    pub(crate) name: Option<String>,
    pub(crate) external_id: Option<String>,
    pub(crate) revoked: bool,
    pub(crate) deprecated: bool,
}

/// What a search page shows.
pub(crate) struct Results {
    pub(crate) q: String,
    pub(crate) ty: Option<String>,
    /// Visible hits of the selected type (all types when none), ranked.
    pub(crate) hits: Vec<Hit>,
    /// Visible hits by type, before the type filter.
    pub(crate) facets: BTreeMap<String, usize>,
}

/// `GET /ui/search?q=&type=`: the whole page, or (an htmx request) the
/// results alone. Ranked as the API's search: external ids first (`T1566`
/// is Phishing), then full-text hits.
pub(crate) async fn search(
    State(state): State<UiState>,
    me: SignedIn,
    headers: HeaderMap,
    Query(p): Query<SearchParams>,
) -> Result<Response, UiError> {
    let q = p.q.trim().to_owned();
    let ty = p.ty.filter(|t| !t.is_empty());
    let results = if q.is_empty() {
        Results {
            q,
            ty,
            hits: vec![],
            facets: BTreeMap::new(),
        }
    } else {
        with_reader(&state, &me.principal, move |readable, store| {
            let g = Graph::new(store, readable);
            let mut ids: Vec<String> = store.lookup_external_id(&q)?;
            ids.extend(store.search(&q, SEARCH_WINDOW)?.into_iter().map(|h| h.id));
            let mut seen = HashSet::new();
            ids.retain(|i| seen.insert(i.clone()));
            let infos = g.infos(&ids)?;
            let mut facets = BTreeMap::new();
            let mut hits = Vec::new();
            for id in ids {
                let Some(info) = infos.get(&id) else { continue };
                let t = sightline_graph::type_of_id(&id).to_owned();
                *facets.entry(t.clone()).or_insert(0) += 1;
                if ty.as_ref().is_none_or(|want| *want == t) {
                    hits.push(Hit {
                        ty: t,
                        name: info.name.clone(),
                        external_id: info.external_id.clone(),
                        revoked: info.revoked,
                        deprecated: info.deprecated,
                        id,
                    });
                }
            }
            Ok(Results {
                q,
                ty,
                hits,
                facets,
            })
        })
        .await?
    };
    if headers.contains_key("hx-request") {
        Ok(html(pages::results(&results)))
    } else {
        Ok(html(pages::search(&me, &results)))
    }
}

/// One version, as listed.
pub(crate) struct VersionRow {
    pub(crate) version: Option<String>,
    pub(crate) date_added: String,
    pub(crate) revoked: bool,
    /// What changed since the version before (`sightline_api::version_diff`);
    /// none for the first.
    pub(crate) changes: Option<Value>,
    /// This version's JSON (for the values of added properties).
    pub(crate) json: Value,
}

/// What an object page shows.
pub(crate) struct ObjectView {
    pub(crate) id: String,
    pub(crate) ty: String,
    /// The latest readable version.
    pub(crate) json: Value,
    pub(crate) versions: Vec<VersionRow>,
    /// Names of the TLP markings among `object_marking_refs`.
    pub(crate) tlp: Vec<String>,
    pub(crate) neighbours: Vec<sightline_graph::Neighbour>,
    /// Of an indicator (STIX 2.1 §5.2 `sighting_of_ref`), latest first.
    pub(crate) sightings: Vec<sightline_graph::Sighting>,
    /// Of an indicator: its effective score now (`x_sightline_score` of the API).
    pub(crate) score: Option<Value>,
    /// Of an indicator: the kept verdicts the caller may read, oldest first.
    pub(crate) verdicts: Vec<sightline_lifecycle::VerdictRecord>,
    /// Analysts disagree among `verdicts`.
    pub(crate) conflict: bool,
    /// The caller may give verdicts (writes a collection holding it).
    pub(crate) can_verdict: bool,
}

pub(crate) enum ObjectPage {
    One(Box<ObjectView>),
    /// An external id naming several objects: the caller picks one.
    Choice(String, Vec<Hit>),
}

/// `GET /ui/objects/{id}` (a STIX id, or an external id such as `G0032`).
pub(crate) async fn object(
    State(state): State<UiState>,
    me: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let lifecycle = state.lifecycle.clone();
    let policy = state.policy.clone();
    let who = me.principal.clone();
    let page = with_reader(&state, &me.principal, move |readable, store| {
        let g = Graph::new(store, readable);
        let ids = g.resolve_owners(&id)?;
        let one = match ids.as_slice() {
            [] => {
                return Err(UiError::not_found(format!(
                    "no object {id} that you may read"
                )))
            }
            [one] => one.clone(),
            many => {
                let infos = g.infos(many)?;
                let hits = many
                    .iter()
                    .filter_map(|i| {
                        let info = infos.get(i)?;
                        Some(Hit {
                            id: i.clone(),
                            ty: sightline_graph::type_of_id(i).to_owned(),
                            name: info.name.clone(),
                            external_id: info.external_id.clone(),
                            revoked: info.revoked,
                            deprecated: info.deprecated,
                        })
                    })
                    .collect();
                return Ok(ObjectPage::Choice(id, hits));
            }
        };
        let versions = sightline_api::readable_versions(store, &one, readable)?;
        let Some(latest) = versions.last() else {
            return Err(UiError::not_found(format!(
                "no object {one} that you may read"
            )));
        };
        let parsed: Vec<Value> = versions
            .iter()
            .map(|v| serde_json::from_str(&v.raw))
            .collect::<Result<_, _>>()
            .map_err(|e| UiError::internal(format!("stored JSON of {one}: {e}")))?;
        let json = parsed.last().cloned().unwrap_or(Value::Null);
        let marking_ids = sightline_graph::str_list(&json, "object_marking_refs");
        let infos = g.infos(&marking_ids)?;
        // A marking-definition in the store named TLP:…, or one of the
        // predefined TLP markings (STIX 2.1 §7.2.1.4), stored or not.
        let tlp = marking_ids
            .iter()
            .filter_map(|m| {
                infos
                    .get(m)
                    .and_then(|i| i.name.clone())
                    .or_else(|| sightline_stix::tlp::by_id(m).map(|t| t.name.to_owned()))
            })
            .filter(|n| n.starts_with("TLP:"))
            .collect();
        let neighbours = g.neighbours(&one, &NeighbourQuery::default())?;
        let mut sightings = Vec::new();
        let (mut score, mut verdicts, mut conflict, mut can_verdict) =
            (None, Vec::new(), false, false);
        if latest.ty == "indicator" {
            sightings = g.sightings(&one)?;
            if let Some(l) = &lifecycle {
                score = sightline_api::verdict::score(store, l, &latest.raw)?;
            }
            (verdicts, conflict) =
                sightline_api::verdict::readable_verdicts(store, readable, &one)?;
            can_verdict = lifecycle.is_some()
                && sightline_api::verdict::verdict_collection(
                    store, &*policy, &who, readable, &one,
                )?
                .is_some();
        }
        Ok(ObjectPage::One(Box::new(ObjectView {
            score,
            verdicts,
            conflict,
            can_verdict,
            ty: latest.ty.clone(),
            versions: versions
                .iter()
                .enumerate()
                .map(|(i, v)| VersionRow {
                    version: v.version.clone(),
                    date_added: format_date_added(v.date_added),
                    revoked: v.revoked,
                    changes: i
                        .checked_sub(1)
                        .map(|p| sightline_api::version_diff(&parsed[p], &parsed[i])),
                    json: parsed[i].clone(),
                })
                .collect(),
            sightings,
            id: one,
            json,
            tlp,
            neighbours,
        })))
    })
    .await?;
    Ok(html(match &page {
        ObjectPage::One(v) => pages::object(&me, v),
        ObjectPage::Choice(id, hits) => pages::choice(&me, id, hits),
    }))
}

#[derive(Deserialize)]
pub(crate) struct VerdictForm {
    #[serde(default)]
    csrf: String,
    /// The indicator itself or one of its sightings.
    #[serde(default)]
    target: String,
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    note: String,
    /// The checkbox: present (`on`) when ticked.
    #[serde(default)]
    warninglist: Option<String>,
}

/// `POST /ui/objects/{id}/verdict` (`csrf`, `target`, `verdict`, `note`,
/// `warninglist`): the caller's verdict on the indicator `id` or one of its
/// sightings, by the graph API's rule and code (`sightline_api::verdict`):
/// 404 for what the caller may not read, 403 without the write right or the
/// session's CSRF token; then back to the object's verdicts.
pub(crate) async fn verdict(
    State(state): State<UiState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<VerdictForm>,
) -> Result<Response, UiError> {
    if !same(&me.csrf, &f.csrf) {
        return Err(UiError::Forbidden(
            "the form did not come from this session: reload the page and try again".into(),
        ));
    }
    let Some(lifecycle) = state.lifecycle.clone() else {
        return Err(sightline_api::ApiError::Unavailable(
            "the lifecycle settings are not loaded".into(),
        )
        .into());
    };
    let policy = state.policy.clone();
    let who = me.principal.clone();
    let indicator = with_reader(&state, &me.principal, move |readable, store| {
        let g = Graph::new(store, readable);
        let one = resolve_one(&g, &id)?;
        let target = if f.target.trim().is_empty() {
            one.clone()
        } else {
            f.target.trim().to_owned()
        };
        // The form's target belongs to this page: the indicator or one of
        // its sightings.
        if target != one {
            let s = sightline_api::readable_versions(store, &target, readable)?;
            let of = s
                .last()
                .and_then(|o| serde_json::from_str::<Value>(&o.raw).ok())
                .and_then(|v| {
                    v.get("sighting_of_ref")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                });
            if of.as_deref() != Some(one.as_str()) {
                return Err(UiError::not_found(format!(
                    "no sighting {target} of {one} that you may read"
                )));
            }
        }
        let req = sightline_api::VerdictRequest {
            target,
            verdict: f.verdict,
            note: Some(f.note),
            warninglist: f.warninglist.is_some(),
        };
        sightline_api::verdict::give(store, &*policy, &who, readable, &lifecycle, &req)?;
        Ok(one)
    })
    .await?;
    Ok(Redirect::to(&format!("{}#verdicts", pages::object_href(&indicator))).into_response())
}

/// Any other `/ui/…` path: signed in, a 404 page; else the sign-in page.
pub(crate) async fn not_found(me: SignedIn) -> Response {
    let _ = me;
    UiError::not_found("no such page").into_response()
}

// ---------------------------------------------------------------- assets

/// `GET /ui/assets/{name}`: public (the sign-in page needs them), cached.
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => (
            [(CONTENT_TYPE, a.content_type), (CACHE_CONTROL, ASSET_CACHE)],
            a.bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

// ---------------------------------------------------------------- graph

/// One object the caller may read, by STIX id or external id.
pub(crate) fn resolve_one(g: &Graph<'_>, id: &str) -> Result<String, UiError> {
    let mut ids = g.resolve_owners(id)?;
    match ids.len() {
        0 => Err(UiError::not_found(format!(
            "no object {id} that you may read"
        ))),
        1 => Ok(ids.remove(0)),
        n => Err(UiError::Api(sightline_api::ApiError::BadRequest(format!(
            "{id} names {n} objects: open one of them by its STIX id"
        )))),
    }
}

/// Nodes expanded on a page without scripts (`expand`/`expanded`), at most.
const MAX_EXPANDED: usize = 20;
/// The graph view's node bound unless `limit` asks for more (up to the API's
/// 2,000): the readable size, and a page of ~250 KB rather than 1 MB.
pub(crate) const UI_NODE_LIMIT: usize = 500;

/// The graph page's and graph.json's parameters: `depth` (1..=3), `types`
/// (comma-separated) or `type` (repeated: the filter's checkboxes),
/// `expanded` (comma-separated) and `expand` (one more), `limit` (1..=2,000,
/// [`UI_NODE_LIMIT`] by default).
#[derive(Debug, Default)]
pub(crate) struct GraphParams {
    pub(crate) depth: u32,
    /// Types shown; empty: all.
    pub(crate) types: Vec<String>,
    pub(crate) expanded: Vec<String>,
    pub(crate) limit: usize,
}

impl GraphParams {
    fn parse(pairs: &[(String, String)]) -> Result<Self, UiError> {
        let bad = |m: String| UiError::Api(sightline_api::ApiError::BadRequest(m));
        let mut p = GraphParams {
            depth: 1,
            limit: UI_NODE_LIMIT,
            ..Default::default()
        };
        let list = |v: &str, into: &mut Vec<String>| {
            into.extend(
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            )
        };
        for (k, v) in pairs {
            match k.as_str() {
                "depth" => {
                    p.depth = v
                        .parse()
                        .ok()
                        .filter(|d| (1..=3).contains(d))
                        .ok_or_else(|| bad(format!("depth must be 1, 2 or 3, not {v:?}")))?
                }
                "limit" => {
                    p.limit = v
                        .parse()
                        .ok()
                        .filter(|l| (1..=DEFAULT_NODE_LIMIT).contains(l))
                        .ok_or_else(|| {
                            bad(format!(
                                "limit must be a whole number from 1 to {DEFAULT_NODE_LIMIT}, not {v:?}"
                            ))
                        })?
                }
                "types" | "type" => list(v, &mut p.types),
                "expanded" | "expand" => list(v, &mut p.expanded),
                _ => {}
            }
        }
        p.types.sort();
        p.types.dedup();
        let mut seen = HashSet::new();
        p.expanded.retain(|e| seen.insert(e.clone()));
        p.expanded.truncate(MAX_EXPANDED);
        Ok(p)
    }
}

/// What the graph page shows.
pub(crate) struct GraphView {
    pub(crate) seed: String,
    pub(crate) seed_name: String,
    pub(crate) params: GraphParams,
    /// Every node found (the filter hides some).
    pub(crate) graph: Neighbourhood,
    /// Types among the nodes, for the filter.
    pub(crate) types: BTreeSet<String>,
}

/// The neighbourhood of `seed` to `depth`, with the depth-1 neighbourhood of
/// each of `expanded` merged in (nodes new to it one hop further than the
/// node expanded), within `limit` nodes.
fn merged(
    g: &Graph<'_>,
    seed: &str,
    depth: u32,
    types: &[String],
    expanded: &[String],
    limit: usize,
) -> Result<Neighbourhood, UiError> {
    let q = NeighbourhoodQuery {
        depth,
        types: types.to_vec(),
        node_limit: limit,
        ..NeighbourhoodQuery::default()
    };
    let mut n = g.neighbourhood(seed, &q)?;
    let mut edges: BTreeSet<sightline_graph::Edge> =
        std::mem::take(&mut n.edges).into_iter().collect();
    for e in expanded {
        let Some(at) = n.nodes.iter().find(|x| &x.id == e) else {
            continue;
        };
        if at.presence.info().is_none() {
            continue;
        }
        let base = at.depth;
        let more = g.neighbourhood(
            e,
            &NeighbourhoodQuery {
                depth: 1,
                ..q.clone()
            },
        )?;
        n.truncated |= more.truncated;
        let known: HashSet<String> = n.nodes.iter().map(|x| x.id.clone()).collect();
        for mut node in more.nodes {
            if known.contains(&node.id) {
                continue;
            }
            if n.nodes.len() >= limit {
                n.truncated = true;
                break;
            }
            node.depth += base;
            n.nodes.push(node);
        }
        let ids: HashSet<&str> = n.nodes.iter().map(|x| x.id.as_str()).collect();
        edges.extend(
            more.edges
                .into_iter()
                .filter(|x| ids.contains(x.source.as_str()) && ids.contains(x.target.as_str())),
        );
    }
    n.edges = edges.into_iter().collect();
    Ok(n)
}

/// `GET /ui/objects/{id}/graph`: the neighbourhood as a list (works without
/// scripts: expanding and filtering are form submissions), drawn by
/// cytoscape.js (`assets/graph.js`) where scripts run.
pub(crate) async fn graph_page(
    State(state): State<UiState>,
    me: SignedIn,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let params = GraphParams::parse(&pairs)?;
    let view = with_reader(&state, &me.principal, move |readable, store| {
        let g = Graph::new(store, readable);
        let seed = resolve_one(&g, &id)?;
        // Every type is fetched; the filter only hides (so its boxes can be
        // ticked again).
        let graph = merged(&g, &seed, params.depth, &[], &params.expanded, params.limit)?;
        let types = graph.nodes.iter().map(|n| n.ty.clone()).collect();
        let seed_name = graph
            .nodes
            .iter()
            .find(|n| n.id == seed)
            .and_then(|n| n.presence.info())
            .and_then(|i| i.name.clone())
            .unwrap_or_else(|| seed.clone());
        Ok(GraphView {
            seed,
            seed_name,
            params,
            graph,
            types,
        })
    })
    .await?;
    Ok(html(pages::graph(&me, &view)))
}

/// `GET /ui/objects/{id}/graph.json?depth=&types=&limit=`: the API's bounded
/// neighbourhood (`truncated` when the node limit was reached), for the
/// signed-in caller: what `/api/v1/graph` would answer them.
pub(crate) async fn graph_json(
    State(state): State<UiState>,
    me: SignedIn,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let params = GraphParams::parse(&pairs)?;
    let body = with_reader(&state, &me.principal, move |readable, store| {
        let g = Graph::new(store, readable);
        let seed = resolve_one(&g, &id)?;
        let n = merged(
            &g,
            &seed,
            params.depth,
            &params.types,
            &params.expanded,
            params.limit,
        )?;
        serde_json::to_vec(&n).map_err(|e| UiError::internal(format!("graph JSON: {e}")))
    })
    .await?;
    Ok(([(CONTENT_TYPE, "application/json")], body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn graph_parameters() {
        let p = GraphParams::parse(&[]).expect("defaults");
        assert_eq!((p.depth, p.limit), (1, UI_NODE_LIMIT));
        let p = GraphParams::parse(&pairs(&[
            ("type", "malware"),
            ("types", "tool, intrusion-set"),
            ("type", "malware"),
            ("expanded", "a,b"),
            ("expand", "c"),
            ("expand", "a"),
            ("depth", "3"),
            ("limit", "2000"),
        ]))
        .expect("parsed");
        assert_eq!(p.types, ["intrusion-set", "malware", "tool"]);
        assert_eq!(p.expanded, ["a", "b", "c"]);
        assert_eq!((p.depth, p.limit), (3, 2_000));
        for bad in [
            ("depth", "0"),
            ("depth", "4"),
            ("limit", "0"),
            ("limit", "2001"),
        ] {
            assert!(GraphParams::parse(&pairs(&[bad])).is_err(), "{bad:?}");
        }
        let many: Vec<(String, String)> =
            (0..50).map(|i| ("expand".into(), i.to_string())).collect();
        assert_eq!(
            GraphParams::parse(&many).expect("many").expanded.len(),
            MAX_EXPANDED
        );
    }
}
