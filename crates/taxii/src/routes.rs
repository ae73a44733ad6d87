//! The endpoint handlers (TAXII 2.1 §4 and §5), one function per endpoint.

use axum::body::Body;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;
use sightline_stix::{StixId, Validator};
use sightline_store::{
    format_date_added, DateAdded, NewObject, ObjectQuery, ObjectRow, PageSummary, PutOutcome,
    StoredStatus, VersionFilter,
};

use crate::access::{
    visible_collections, Caller, CollectionDeleter, CollectionReader, CollectionViewer,
    CollectionWriter, PutResult, RowSink,
};
use crate::cursor;
use crate::error::TaxiiError;
use crate::filters::Filters;
use crate::media::{check_content_type, taxii_bytes, taxii_json};
use crate::observe::AuditNote;
use crate::pagebytes::{PageBody, Reservation};
use crate::status::{StatusDetail, StatusResource, STATUS_TTL};
use crate::{blocking, Ctx, InputLimits};

/// The media type announced for every API root (§4.2 `versions`).
const TAXII_21: &str = "application/taxii+json;version=2.1";
const HDR_FIRST: &str = "x-taxii-date-added-first";
const HDR_LAST: &str = "x-taxii-date-added-last";

type Result<T, E = TaxiiError> = std::result::Result<T, E>;

/// axum's `Path` with a TAXII rejection: a segment that is not UTF-8 once
/// percent-decoded (`%FF`) names no resource here, so it is a TAXII 404
/// rather than axum's plain-text 400.
pub(crate) struct TaxiiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for TaxiiPath<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned + Send,
{
    type Rejection = TaxiiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(t)) => Ok(TaxiiPath(t)),
            Err(e) => {
                tracing::debug!(error = %e, "path rejected");
                Err(TaxiiError::not_found(
                    "no such resource (a path segment is not valid UTF-8)",
                ))
            }
        }
    }
}

// ---------------------------------------------------------------- §4.1 discovery

#[derive(Serialize)]
struct Discovery<'a> {
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    api_roots: Vec<String>,
}

/// 401 for an anonymous caller when the server keeps its description
/// private (`discovery_requires_auth`; see `access`).
fn private_to(ctx: &Ctx, caller: &Caller) -> Result<()> {
    if ctx.config().discovery_requires_auth && caller.0.is_none() {
        return Err(TaxiiError::unauthenticated());
    }
    Ok(())
}

/// `GET /taxii2/` (§4.1). API roots are server-relative URLs (`/api1/`).
pub(crate) async fn discovery(State(ctx): State<Ctx>, caller: Caller) -> Result<Response> {
    private_to(&ctx, &caller)?;
    let c = ctx.config();
    let api_roots: Vec<String> = c
        .api_roots
        .iter()
        .map(|r| format!("/{}/", r.path))
        .collect();
    let default = c
        .default_api_root
        .as_deref()
        .filter(|d| c.api_roots.iter().any(|r| r.path == *d))
        .map(|d| format!("/{d}/"));
    Ok(taxii_json(
        StatusCode::OK,
        &Discovery {
            title: &c.title,
            description: c.description.as_deref(),
            contact: c.contact.as_deref(),
            default,
            api_roots,
        },
    ))
}

// ---------------------------------------------------------------- §4.2 API root

#[derive(Serialize)]
struct ApiRootInfo<'a> {
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    versions: [&'static str; 1],
    max_content_length: usize,
}

/// `GET /{root}/` (§4.2).
pub(crate) async fn api_root(
    State(ctx): State<Ctx>,
    caller: Caller,
    TaxiiPath(root): TaxiiPath<String>,
) -> Result<Response> {
    private_to(&ctx, &caller)?;
    let r = ctx
        .root(&root)
        .ok_or_else(|| TaxiiError::not_found("no such API root"))?;
    Ok(taxii_json(
        StatusCode::OK,
        &ApiRootInfo {
            title: &r.title,
            description: r.description.as_deref(),
            versions: [TAXII_21],
            max_content_length: r.max_content_length,
        },
    ))
}

// ---------------------------------------------------------------- §4.3 status

/// `GET /{root}/status/{id}/` (§4.3). Unknown, expired or someone else's → 404.
pub(crate) async fn status(
    State(ctx): State<Ctx>,
    Caller(caller): Caller,
    TaxiiPath((root, id)): TaxiiPath<(String, String)>,
) -> Result<Response> {
    ctx.root(&root)
        .ok_or_else(|| TaxiiError::not_found("no such API root"))?;
    let now = now_micros().div_euclid(1_000_000).max(0) as u64;
    let store = ctx.statuses();
    let found = blocking(move || store.status(&id, now)).await?;
    // Unknown, under another root, or posted by someone else (only they and
    // admins see it; an anonymous post is visible to whoever has the id).
    let s = found
        .filter(|s| s.api_root == root)
        .filter(|s| match &s.owner {
            None => true,
            Some(owner) => caller.as_ref().is_some_and(|c| c.admin || &c.name == owner),
        })
        .ok_or_else(|| TaxiiError::not_found("no such status resource"))?;
    Ok(taxii_bytes(StatusCode::OK, s.body.into_bytes()))
}

// ---------------------------------------------------------------- §5.1/5.2 collections

#[derive(Serialize)]
struct CollectionOut<'a> {
    id: &'a str,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alias: Option<&'a str>,
    can_read: bool,
    can_write: bool,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    media_types: &'a [String],
}

#[derive(Serialize)]
struct Collections<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    collections: Vec<CollectionOut<'a>>,
}

/// `GET /{root}/collections/` (§5.1): only what the caller may read or write.
pub(crate) async fn collections(
    State(ctx): State<Ctx>,
    Caller(caller): Caller,
    TaxiiPath(root): TaxiiPath<String>,
) -> Result<Response> {
    let r = ctx
        .root(&root)
        .ok_or_else(|| TaxiiError::not_found("no such API root"))?;
    let visible = visible_collections(&ctx, caller.as_ref(), r).await?;
    if visible.is_empty() && caller.is_none() {
        return Err(TaxiiError::unauthenticated());
    }
    let body = Collections {
        collections: visible
            .iter()
            .map(|v| collection_out(&v.info, v.can_read, v.can_write))
            .collect(),
    };
    Ok(taxii_json(StatusCode::OK, &body))
}

fn collection_out(
    info: &sightline_store::CollectionInfo,
    can_read: bool,
    can_write: bool,
) -> CollectionOut<'_> {
    CollectionOut {
        id: &info.id,
        title: &info.title,
        description: info.description.as_deref(),
        alias: info.alias.as_deref(),
        can_read,
        can_write,
        media_types: &info.media_types,
    }
}

/// `GET /{root}/collections/{id}/` (§5.2). `{id}` may also be the alias.
pub(crate) async fn collection(viewer: CollectionViewer) -> Response {
    let (r, w) = viewer.rights();
    taxii_json(StatusCode::OK, &collection_out(viewer.info(), r, w))
}

// ---------------------------------------------------------------- paging

/// Which resource a page belongs to (part of the cursor's binding).
enum Endpoint<'a> {
    Objects,
    Manifest,
    Object(&'a str),
    Versions(&'a str),
}

impl Endpoint<'_> {
    fn tag(&self) -> String {
        match self {
            Self::Objects => "objects".into(),
            Self::Manifest => "manifest".into(),
            Self::Object(id) => format!("object/{id}"),
            Self::Versions(id) => format!("versions/{id}"),
        }
    }
}

/// Runs one page of `endpoint` with the request's filters; returns the page
/// and the signed `next` token when more follows.
/// A page of one object's versions (get object, §5.6; versions, §5.8). 404
/// when the collection does not hold the object at all; filters that exclude
/// every version give an empty page.
async fn object_page<S: RowSink>(
    ctx: &Ctx,
    reader: &CollectionReader,
    uri: &Uri,
    endpoint: &Endpoint<'_>,
    sink: S,
) -> Result<(S, Page, Option<String>)> {
    let (Endpoint::Object(object) | Endpoint::Versions(object)) = endpoint else {
        return Err(TaxiiError::not_found("no such object in this collection"));
    };
    object_id(object)?;
    let f = Filters::from_uri(uri)?;
    let (sink, page, next) = run_page(ctx, reader, &f, endpoint, sink).await?;
    if page.summary.count == 0 && f.next.is_none() && reader.versions(object).await?.is_empty() {
        return Err(TaxiiError::not_found("no such object in this collection"));
    }
    Ok((sink, page, next))
}

async fn run_page<S: RowSink>(
    ctx: &Ctx,
    reader: &CollectionReader,
    f: &Filters,
    endpoint: &Endpoint<'_>,
    sink: S,
) -> Result<(S, Page, Option<String>)> {
    // Filters an endpoint does not define are not applied (and not bound).
    let mut f = f.clone();
    match endpoint {
        Endpoint::Objects | Endpoint::Manifest => {}
        Endpoint::Object(id) => {
            f.ids = vec![(*id).to_owned()];
            f.types.clear();
        }
        Endpoint::Versions(id) => {
            f.ids = vec![(*id).to_owned()];
            f.types.clear();
            f.versions = Some(VersionFilter::all());
        }
    }
    let cfg = ctx.config();
    let coll_id = reader.info().id.clone();
    let fingerprint = f.fingerprint(&endpoint.tag());
    let after = match &f.next {
        Some(token) => Some(cursor::verify(
            &cfg.cursor_key,
            token,
            &coll_id,
            &fingerprint,
        )?),
        None => None,
    };
    let max = cfg.max_page_size.max(1);
    let limit = f.limit.unwrap_or(cfg.default_page_size).clamp(1, max);
    let q = ObjectQuery {
        collection: None, // forced by the reader
        ids: f.ids,
        types: f.types,
        versions: f.versions.unwrap_or_default(),
        spec_versions: f.spec_versions,
        added_after: f.added_after,
        after,
        limit,
    };
    // Room for the body first (waiting holds nothing); the page may end
    // before `limit` when its rows do not fit (§3.4 allows fewer).
    let room = ctx.pages().reserve().await?;
    // The backend hands over at most `limit` rows (§3.4: never more).
    let (sink, summary, room) = reader.query_each(q, sink, room).await?;
    let next = summary
        .next_cursor()
        .map(|last| cursor::sign(&cfg.cursor_key, last, &coll_id, &fingerprint));
    Ok((sink, Page { summary, room }, next))
}

/// What a page held and the budget room its body keeps until sent.
struct Page {
    summary: PageSummary,
    room: Reservation,
}

/// Adds `X-TAXII-Date-Added-First/-Last` (§3.2) for a non-empty page; an
/// empty page has no first or last, so both are omitted.
fn date_headers(resp: &mut Response, first: Option<DateAdded>, last: Option<DateAdded>) {
    for (name, v) in [(HDR_FIRST, first), (HDR_LAST, last)] {
        if let Some(v) = v {
            if let Ok(hv) = HeaderValue::from_str(&format_date_added(v)) {
                resp.headers_mut().insert(name, hv);
            }
        }
    }
}

/// A paged answer; its body gives its budget room back once sent.
fn paged_response(page: Page, body: Vec<Vec<u8>>) -> Response {
    let mut resp = taxii_bytes(StatusCode::OK, Vec::new());
    let len: usize = body.iter().map(Vec::len).sum();
    *resp.body_mut() = PageBody::body(body, page.room);
    resp.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    date_headers(&mut resp, page.summary.first, page.summary.last);
    resp
}

/// `{"more":…,"next":…,"<key>":[<items>]}`: the frame every paged endpoint
/// shares (§3.7 envelope, §5.3 manifest, §5.8 versions), as head, items and
/// tail, so the items are sent as the sink wrote them. The list is omitted
/// when empty (§2: lists are never empty).
fn paged_body(more: bool, next: Option<&str>, key: &str, items: Vec<u8>) -> Vec<Vec<u8>> {
    let mut head = Vec::with_capacity(key.len() + 200);
    head.extend_from_slice(if more {
        b"{\"more\":true"
    } else {
        b"{\"more\":false"
    });
    if let Some(n) = next {
        head.extend_from_slice(b",\"next\":");
        head.extend_from_slice(json_string(n).as_bytes());
    }
    if items.is_empty() {
        head.push(b'}');
        return vec![head];
    }
    head.extend_from_slice(b",\"");
    head.extend_from_slice(key.as_bytes());
    head.extend_from_slice(b"\":[");
    vec![head, items, b"]}".to_vec()]
}

/// The envelope's objects (§3.7), each the exact JSON text it was stored as.
#[derive(Default)]
struct EnvelopeObjects(Vec<u8>);

impl RowSink for EnvelopeObjects {
    fn row(&mut self, r: &ObjectRow<'_>) {
        if !self.0.is_empty() {
            self.0.push(b',');
        }
        self.0.extend_from_slice(r.raw.as_bytes());
    }

    fn cost(&self, r: &ObjectRow<'_>) -> usize {
        r.raw.len() + 1
    }
}

impl EnvelopeObjects {
    fn into_response(self, page: Page, next: Option<&str>) -> Response {
        let body = paged_body(page.summary.more, next, "objects", self.0);
        paged_response(page, body)
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The version a manifest, versions list or status shows: `modified`, else
/// `created`; an object with neither (an SCO) is named by its `date_added`,
/// which is consistent for this server (§3.4.1).
fn version_of(o: &ObjectRow<'_>) -> String {
    o.version
        .map_or_else(|| format_date_added(o.date_added), str::to_owned)
}

fn object_id(id: &str) -> Result<()> {
    StixId::parse(id)
        .map(|_| ())
        .map_err(|_| TaxiiError::not_found("no such object"))
}

// ---------------------------------------------------------------- §5.3 manifest

#[derive(Serialize)]
struct ManifestRecord<'a> {
    id: &'a str,
    date_added: String,
    version: String,
    media_type: String,
}

/// The STIX media type of one version, from the collection's list when it
/// names that spec version.
fn media_type(media_types: &[String], spec_version: &str) -> String {
    let want = format!("version={spec_version}");
    media_types
        .iter()
        .find(|m| m.replace(' ', "").contains(&want))
        .cloned()
        .unwrap_or_else(|| format!("application/stix+json;version={spec_version}"))
}

/// Manifest records (§5.3), one per version, written as the rows arrive.
struct ManifestRecords {
    media_types: Vec<String>,
    out: Vec<u8>,
}

impl RowSink for ManifestRecords {
    fn row(&mut self, r: &ObjectRow<'_>) {
        if !self.out.is_empty() {
            self.out.push(b',');
        }
        let rec = ManifestRecord {
            id: r.id,
            date_added: format_date_added(r.date_added),
            version: version_of(r),
            media_type: media_type(&self.media_types, r.spec_version),
        };
        // Writing plain strings into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.out, &rec);
    }

    fn cost(&self, r: &ObjectRow<'_>) -> usize {
        // Keys, quotes, two timestamps and the media type around the id.
        r.id.len() + 160
    }
}

/// `GET /{root}/collections/{id}/manifest/` (§5.3): one record per version.
pub(crate) async fn manifest(
    State(ctx): State<Ctx>,
    reader: CollectionReader,
    uri: Uri,
) -> Result<Response> {
    let f = Filters::from_uri(&uri)?;
    let sink = ManifestRecords {
        media_types: reader.info().media_types.clone(),
        out: Vec::new(),
    };
    let (sink, page, next) = run_page(&ctx, &reader, &f, &Endpoint::Manifest, sink).await?;
    let body = paged_body(page.summary.more, next.as_deref(), "objects", sink.out);
    Ok(paged_response(page, body))
}

// ---------------------------------------------------------------- §5.4 get objects

/// `GET /{root}/collections/{id}/objects/` (§5.4).
pub(crate) async fn get_objects(
    State(ctx): State<Ctx>,
    reader: CollectionReader,
    uri: Uri,
) -> Result<Response> {
    let f = Filters::from_uri(&uri)?;
    let (objs, page, next) = run_page(
        &ctx,
        &reader,
        &f,
        &Endpoint::Objects,
        EnvelopeObjects::default(),
    )
    .await?;
    Ok(objs.into_response(page, next.as_deref()))
}

// ---------------------------------------------------------------- §5.5 add objects

/// One envelope object after validation.
enum Prepared {
    Ok(Box<NewObject>),
    Failed(StatusDetail),
}

/// `id`/version of an object for a failure detail, as far as it has them.
fn detail_of(v: &Value, message: String) -> StatusDetail {
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    StatusDetail {
        id: s("id").unwrap_or_default().to_owned(),
        version: s("modified")
            .or_else(|| s("created"))
            .unwrap_or_default()
            .to_owned(),
        message: Some(message),
    }
}

/// The envelope's objects as raw JSON, once the body passed the checks that
/// come before any validation: UTF-8, the shape bounds of `limits`, a JSON
/// object with an `objects` list of at most `max_objects_per_envelope`
/// (400, 413 or 422 as [`prepare`] documents). Also the web UI's upload
/// gate ([`crate::check_envelope`]).
pub(crate) fn envelope_objects<'a>(
    body: &'a [u8],
    limits: &InputLimits,
) -> Result<Vec<&'a RawValue>> {
    // JSON text is UTF-8 (RFC 8259 §8.1); checked first, since skipping over
    // a string does not look inside it.
    let body = std::str::from_utf8(body).map_err(|e| {
        TaxiiError::bad(format!(
            "the request body is not valid JSON: not UTF-8 at byte {}",
            e.valid_up_to()
        ))
    })?;
    crate::limits::check_body(body, limits)?;
    let top: std::collections::BTreeMap<String, &RawValue> =
        serde_json::from_str(body).map_err(|_| {
            TaxiiError::Unprocessable(
                "the request body is not a TAXII envelope (a JSON object)".into(),
            )
        })?;
    let objects = top
        .get("objects")
        .ok_or_else(|| TaxiiError::Unprocessable("the envelope has no \"objects\" list".into()))?;
    let objects: Vec<&RawValue> = serde_json::from_str(objects.get()).map_err(|_| {
        TaxiiError::Unprocessable("the envelope's \"objects\" is not a list".into())
    })?;
    if objects.len() > limits.max_objects_per_envelope {
        return Err(TaxiiError::TooLarge(format!(
            "the envelope holds {} objects; max_objects_per_envelope is {}: split it into several requests",
            objects.len(),
            limits.max_objects_per_envelope
        )));
    }
    Ok(objects)
}

/// Parses the envelope and validates each object (in parallel). 400 when the
/// body is not JSON or nests deeper than `limits` allow, 413 when it holds a
/// longer string or more objects than they allow, 422 when it is JSON but not
/// an envelope.
fn prepare(
    validator: &Validator,
    body: &[u8],
    limits: &InputLimits,
    budget: &sightline_stix::RegexBudget,
) -> Result<Vec<Prepared>> {
    let objects = envelope_objects(body, limits)?;
    Ok(objects
        .par_iter()
        .enumerate()
        .map(|(i, raw)| {
            // The client went away (issue 12 §3): the rest is not worth checking.
            if budget.is_cancelled() {
                return Prepared::Failed(StatusDetail {
                    id: String::new(),
                    version: String::new(),
                    message: Some(format!(
                        "objects[{i}]: not checked: the request was cancelled"
                    )),
                });
            }
            let v: Value = match serde_json::from_str(raw.get()) {
                Ok(v) => v,
                Err(e) => {
                    return Prepared::Failed(StatusDetail {
                        id: String::new(),
                        version: String::new(),
                        message: Some(format!("objects[{i}]: {e}")),
                    })
                }
            };
            match validator.admit_within(&v, budget) {
                Ok((meta, _warnings)) => Prepared::Ok(Box::new(NewObject {
                    meta,
                    raw: raw.get().to_owned(),
                })),
                Err(errors) => {
                    let msg = sightline_stix::diag::summary(&errors, 5);
                    Prepared::Failed(detail_of(&v, format!("objects[{i}]: invalid STIX: {msg}")))
                }
            }
        })
        .collect())
}

/// [`prepare`] for the fuzz target: (admitted, refused) objects.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn prepare_counts(
    validator: &Validator,
    body: &[u8],
    limits: &InputLimits,
) -> Result<(usize, usize)> {
    let p = prepare(
        validator,
        body,
        limits,
        &sightline_stix::RegexBudget::default(),
    )?;
    let ok = p.iter().filter(|p| matches!(p, Prepared::Ok(_))).count();
    Ok((ok, p.len() - ok))
}

/// Reads the body, never more than `max` bytes: the declared
/// `Content-Length` is checked first, a chunked body while it streams.
async fn read_limited(headers: &HeaderMap, body: Body, max: usize) -> Result<Vec<u8>> {
    let mut declared = None;
    if let Some(len) = headers.get(header::CONTENT_LENGTH) {
        let len = len
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .ok_or_else(|| TaxiiError::bad("malformed Content-Length"))?;
        if len > max as u64 {
            return Err(TaxiiError::PayloadTooLarge(max));
        }
        declared = usize::try_from(len).ok();
    }
    // Frames go straight into one buffer (sized by Content-Length, which the
    // POST byte budget already counts): collecting them and then joining
    // would hold the body two or three times over.
    let mut out = Vec::with_capacity(declared.unwrap_or(0));
    let mut body = Limited::new(body, max);
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Some(data) = f.data_ref() {
                    out.extend_from_slice(data);
                }
            }
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                return Err(TaxiiError::PayloadTooLarge(max))
            }
            Err(e) if timed_out(e.as_ref()) => {
                return Err(TaxiiError::RequestTimeout(format!(
                    "the request body did not arrive in time: {e}"
                )))
            }
            // Usually the client went away mid-upload: nothing is stored.
            Err(e) => {
                return Err(TaxiiError::bad(format!(
                    "reading the request body failed: {e}"
                )))
            }
        }
    }
    Ok(out)
}

/// Whether a body error is (caused by) an I/O timeout: the server's body
/// deadline (`sightline-server`) fails the body with `ErrorKind::TimedOut`.
fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// The status failure message of an object whose id and version the
/// collection already holds with other content (never replaced).
const CONFLICT_MESSAGE: &str =
    "a different object with this id and modified is already in this collection";

/// `POST /{root}/collections/{id}/objects/` (§5.5): validates and stores
/// synchronously, answers 202 with a `complete` status (§4.3).
pub(crate) async fn add_objects(
    State(ctx): State<Ctx>,
    writer: CollectionWriter,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    check_content_type(&headers)?;
    let request_timestamp = format_date_added(now_micros());
    let bytes = read_limited(&headers, body, writer.max_content_length()).await?;
    let validator = ctx.validator().clone();
    let limits = ctx.config().limits;
    // One fixed regex compile budget per envelope (a remote client's work is
    // bounded whatever its size; import files get one that grows with them),
    // cancelled if this handler is dropped (the client closed the connection).
    let budget = std::sync::Arc::new(sightline_stix::RegexBudget::default());
    let _cancel = budget.cancel_on_drop();
    let prepared =
        tokio::task::spawn_blocking(move || prepare(&validator, &bytes, &limits, &budget))
            .await
            .map_err(|e| TaxiiError::Internal(format!("validation task: {e}")))??;

    let total = prepared.len() as u64;
    let mut failures = Vec::new();
    let mut to_put = Vec::new();
    for p in prepared {
        match p {
            Prepared::Ok(o) => to_put.push(*o),
            Prepared::Failed(d) => failures.push(d),
        }
    }
    let names: Vec<(String, Option<String>)> = to_put
        .iter()
        .map(|o| (o.meta.id.clone(), o.meta.version.clone()))
        .collect();
    let root = writer.root().to_owned();
    let owner = writer.caller().map(|c| c.name.clone());
    // Counts and status id are filled in once stored.
    let note = AuditNote {
        action: "post",
        user: owner.clone(),
        api_root: root.clone(),
        collection: writer.info().id.clone(),
        total: 0,
        success: 0,
        failure: 0,
        status_id: None,
        object: None,
    };
    // A write-only caller learns nothing of what the collection held (see
    // `access`): a duplicate reads exactly like a new object.
    let reveal = writer.can_read();
    let posted_at = request_timestamp.clone();
    let expires = now_micros().div_euclid(1_000_000).max(0) as u64 + STATUS_TTL.as_secs();
    // The status is built from the outcomes and stored in the objects'
    // transaction, so a status that says "success" is never ahead of the data.
    let finish = move |outcomes: Vec<PutResult>| {
        let mut successes = Vec::new();
        for ((id, version), r) in names.into_iter().zip(outcomes) {
            // A version-less object (an SCO) is named by its date_added
            // (§3.4.1); for a write-only caller by the request's time, which
            // a duplicate's earlier date_added would otherwise give away.
            let named = |d: DateAdded| {
                version.clone().unwrap_or_else(|| {
                    if reveal {
                        format_date_added(d)
                    } else {
                        posted_at.clone()
                    }
                })
            };
            match r {
                Ok(PutOutcome::Added { date_added }) => successes.push(StatusDetail {
                    version: named(date_added),
                    id,
                    message: None,
                }),
                Ok(PutOutcome::Duplicate { date_added }) if reveal => {
                    successes.push(StatusDetail {
                        version: named(date_added),
                        id,
                        message: Some("already in the collection".into()),
                    })
                }
                Ok(PutOutcome::Duplicate { date_added }) => successes.push(StatusDetail {
                    version: named(date_added),
                    id,
                    message: None,
                }),
                // TAXII 2.1 §4.3: not stored, so a failure that says why.
                Ok(PutOutcome::Conflict) => failures.push(StatusDetail {
                    id,
                    version: version.unwrap_or_default(),
                    message: Some(CONFLICT_MESSAGE.into()),
                }),
                Err(m) => failures.push(StatusDetail {
                    id,
                    version: version.unwrap_or_default(),
                    message: Some(m),
                }),
            }
        }
        let status = StatusResource {
            id: uuid::Uuid::new_v4().to_string(),
            status: "complete",
            request_timestamp,
            total_count: total,
            success_count: successes.len() as u64,
            successes,
            failure_count: failures.len() as u64,
            failures,
            pending_count: 0,
        };
        tracing::info!(
            status_id = %status.id,
            total = status.total_count,
            success = status.success_count,
            failure = status.failure_count,
            "objects added"
        );
        let body = serde_json::to_string(&status)
            .map_err(|e| sightline_store::StoreError::Invalid(format!("status resource: {e}")))?;
        let counts = (status.success_count, status.failure_count);
        let stored = StoredStatus {
            id: status.id,
            api_root: root,
            owner,
            expires,
            body: body.clone(),
        };
        let status_id = stored.id.clone();
        Ok((stored, (body, counts, status_id)))
    };
    let (body, (success, failure), status_id) = writer.put_all_with_status(to_put, finish).await?;
    let mut resp = taxii_bytes(StatusCode::ACCEPTED, body.into_bytes());
    resp.extensions_mut().insert(note);
    if let Some(n) = resp.extensions_mut().get_mut::<AuditNote>() {
        (n.total, n.success, n.failure) = (total, success, failure);
        n.status_id = Some(status_id);
    }
    Ok(resp)
}

fn now_micros() -> DateAdded {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

// ---------------------------------------------------------------- §5.6 get an object

/// `GET /{root}/collections/{id}/objects/{object_id}/` (§5.6): the versions
/// selected by `match[version]` (default `last`) and `match[spec_version]`.
/// 404 when the collection does not hold the object at all; an object whose
/// versions the filters exclude gives an empty envelope.
pub(crate) async fn get_object(
    State(ctx): State<Ctx>,
    reader: CollectionReader,
    TaxiiPath((_, _, object)): TaxiiPath<(String, String, String)>,
    uri: Uri,
) -> Result<Response> {
    let endpoint = Endpoint::Object(&object);
    let (objs, page, next) =
        object_page(&ctx, &reader, &uri, &endpoint, EnvelopeObjects::default()).await?;
    Ok(objs.into_response(page, next.as_deref()))
}

// ---------------------------------------------------------------- §5.7 delete an object

/// `DELETE /{root}/collections/{id}/objects/{object_id}/` (§5.7). Without
/// `match[version]` and `match[spec_version]` every version leaves the
/// collection ("delete the object", what users mean; the versions stay in the
/// store for other collections). With them, only the selected versions.
/// 404 when nothing matches.
pub(crate) async fn delete_object(
    deleter: CollectionDeleter,
    TaxiiPath((root, _, object)): TaxiiPath<(String, String, String)>,
    uri: Uri,
) -> Result<Response> {
    object_id(&object)?;
    let f = Filters::from_uri(&uri)?;
    let versions = deleter.versions(&object).await?;
    if versions.is_empty() {
        return Err(TaxiiError::not_found("no such object in this collection"));
    }
    let keys: Vec<String> = if f.versions.is_none() && f.spec_versions.is_empty() {
        Vec::new() // all
    } else {
        let vf = f.versions.clone().unwrap_or_else(VersionFilter::all);
        // `versions` is ordered by version: first and last are its ends.
        let first = versions.first().map(|v| v.version_key.clone());
        let last = versions.last().map(|v| v.version_key.clone());
        let keys: Vec<String> = versions
            .iter()
            .filter(|v| f.spec_versions.is_empty() || f.spec_versions.contains(&v.spec_version))
            .filter(|v| {
                vf.all
                    || (vf.first && first.as_ref() == Some(&v.version_key))
                    || (vf.last && last.as_ref() == Some(&v.version_key))
                    || vf.at.contains(&v.version_key)
            })
            .map(|v| v.version_key.clone())
            .collect();
        if keys.is_empty() {
            return Err(TaxiiError::not_found(
                "no version of this object matches the filters",
            ));
        }
        keys
    };
    let removed = deleter.remove(&object, keys).await?;
    if removed == 0 {
        // Removed concurrently between the look-up and the transaction.
        return Err(TaxiiError::not_found("no such object in this collection"));
    }
    tracing::info!(object = %object, removed, "object deleted from collection");
    let mut resp = taxii_bytes(StatusCode::OK, Vec::new());
    resp.extensions_mut().insert(AuditNote {
        action: "delete",
        user: deleter.caller().map(|c| c.name.clone()),
        api_root: root,
        collection: deleter.info().id.clone(),
        total: removed,
        success: removed,
        failure: 0,
        status_id: None,
        object: Some(object),
    });
    Ok(resp)
}

// ---------------------------------------------------------------- §5.8 versions

/// The versions list (§5.8): each version as a JSON string.
#[derive(Default)]
struct VersionList(Vec<u8>);

impl RowSink for VersionList {
    fn row(&mut self, r: &ObjectRow<'_>) {
        if !self.0.is_empty() {
            self.0.push(b',');
        }
        self.0
            .extend_from_slice(json_string(&version_of(r)).as_bytes());
    }

    fn cost(&self, r: &ObjectRow<'_>) -> usize {
        r.version.map_or(32, str::len) + 8
    }
}

/// `GET /{root}/collections/{id}/objects/{object_id}/versions/` (§5.8),
/// ascending by `date_added`, paged like objects (`next` too: errata
/// cti-taxii2#110).
pub(crate) async fn versions(
    State(ctx): State<Ctx>,
    reader: CollectionReader,
    TaxiiPath((_, _, object)): TaxiiPath<(String, String, String)>,
    uri: Uri,
) -> Result<Response> {
    let endpoint = Endpoint::Versions(&object);
    let (list, page, next) =
        object_page(&ctx, &reader, &uri, &endpoint, VersionList::default()).await?;
    let body = paged_body(page.summary.more, next.as_deref(), "versions", list.0);
    Ok(paged_response(page, body))
}

// ---------------------------------------------------------------- fallbacks

pub(crate) async fn not_found() -> TaxiiError {
    TaxiiError::not_found("no such TAXII resource (paths end in /)")
}

pub(crate) async fn method_not_allowed() -> TaxiiError {
    TaxiiError::MethodNotAllowed
}
