//! Collections and import (`/ui/collections`, issue 14 §3): the collections
//! the caller may read or write, with its two rights, and for each it may
//! write a form that uploads a bundle into it.
//!
//! An upload is refused or admitted exactly as a TAXII POST of the same
//! bytes to that collection (§5.5) would be:
//! - the right is the server's [`AccessPolicy::can_write`] (a collection the
//!   caller may neither read nor write is a 404, one it may only read a 403
//!   page saying so), checked before the body is read;
//! - the body is bounded by the `max_content_length` of the API roots serving
//!   the collection, and the file passes [`sightline_taxii::check_envelope`]
//!   (UTF-8, [`InputLimits`], an object with an `objects` list of at most
//!   `max_objects_per_envelope`): the same 400/413/422;
//! - each object passes the server's validator (the ingest gate
//!   `Validator::admit`, pattern checks included), and everything is stored in
//!   one transaction (`sightline_interchange::import`, as `sightline import`
//!   does), so the page can list each refused object with its diagnostics
//!   (codes, JSON pointers, messages), not a summary line;
//! - a write-only caller is not told which objects the collection already
//!   held (new and already stored are one count), as in TAXII's status;
//! - the server's audit log gets a `post` line, as for TAXII (its
//!   [`sightline_taxii::AuditNote`], with `ui` as the API root).
//!
//! The form carries the session's CSRF token like every other; a POST
//! without it is a 403 and stores nothing.

use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup};
use sightline_interchange::{import, ImportError, ImportOptions, ImportReport, Input};
use sightline_stix::Validator;
use sightline_store::CollectionInfo;
use sightline_taxii::{ApiRootConfig, InputLimits};

use crate::pages::{enc, layout};
use crate::routes::{html, SignedIn};
use crate::session::same;
use crate::{UiError, UiState};

/// Room for the multipart framing and the CSRF field beyond the file.
const FORM_SLACK: usize = 64 * 1024;
/// The file's limit when no API root serves the collection (TAXII's default).
pub(crate) const DEFAULT_MAX_UPLOAD: usize = 10 * 1024 * 1024;

/// What uploads need from the server: its validator and TAXII's bounds.
pub(crate) struct ImportSettings {
    validator: Arc<Validator>,
    limits: InputLimits,
    /// `(collections served, max_content_length)` per API root.
    roots: Vec<(Vec<String>, usize)>,
}

impl ImportSettings {
    /// The largest body TAXII accepts for `collection`: the largest
    /// `max_content_length` among the API roots serving it (a client may
    /// POST through any of them); for a collection no root serves, the
    /// smallest of all roots (none: [`DEFAULT_MAX_UPLOAD`]).
    pub(crate) fn max_body(&self, collection: &str) -> usize {
        let serving = self
            .roots
            .iter()
            .filter(|(cs, _)| cs.iter().any(|c| c == collection))
            .map(|(_, n)| *n)
            .max();
        serving
            .or_else(|| self.roots.iter().map(|(_, n)| *n).min())
            .unwrap_or(DEFAULT_MAX_UPLOAD)
    }
}

impl UiState {
    /// Enables uploads: objects are checked by `validator` (the server's,
    /// the one TAXII POSTs pass) within `limits` and the body sizes of
    /// `roots` (TAXII's API roots). Without it the collections page offers
    /// no upload form and an upload is a 503.
    pub fn with_import(
        mut self,
        validator: Arc<Validator>,
        limits: InputLimits,
        roots: &[ApiRootConfig],
    ) -> Self {
        self.import = Some(Arc::new(ImportSettings {
            validator,
            limits,
            roots: roots
                .iter()
                .map(|r| (r.collections.clone(), r.max_content_length))
                .collect(),
        }));
        self
    }
}

/// One collection as listed.
struct Listed {
    info: CollectionInfo,
    can_read: bool,
    can_write: bool,
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// `GET /ui/collections`.
pub(crate) async fn collections(
    State(state): State<UiState>,
    me: SignedIn,
) -> Result<Response, UiError> {
    let store = state.store.clone();
    let all = tokio::task::spawn_blocking(move || store.collections())
        .await
        .map_err(|e| UiError::internal(format!("store task: {e}")))??;
    let who = Some(&me.principal);
    let listed: Vec<Listed> = all
        .into_iter()
        .map(|info| Listed {
            can_read: state.policy.can_read(who, &info.id),
            can_write: state.policy.can_write(who, &info.id),
            info,
        })
        .filter(|l| l.can_read || l.can_write)
        .collect();
    let import = state.import.as_deref();
    Ok(html(layout(
        "Collections",
        Some(&me),
        html! {
            h1 { "Collections" }
            @if listed.is_empty() {
                p { "You may neither read nor write any collection. Ask an administrator for rights." }
            }
            table #collections {
                thead { tr {
                    th scope="col" { "Collection" } th scope="col" { "Id" }
                    th scope="col" { "Can read" } th scope="col" { "Can write" }
                    th scope="col" { "Import a bundle" }
                } }
                tbody {
                    @for l in &listed {
                        tr {
                            th scope="row" {
                                (l.info.title)
                                @if let Some(a) = &l.info.alias { " (" code { (a) } ")" }
                                @if let Some(d) = &l.info.description { br; span.hint { (d) } }
                            }
                            td { code { (l.info.id) } }
                            td.can-read { (yes_no(l.can_read)) }
                            td.can-write { (yes_no(l.can_write)) }
                            td {
                                @match (l.can_write, import) {
                                    (true, Some(s)) => { (upload_form(&me, &l.info, s.max_body(&l.info.id))) }
                                    (true, None) => { span.hint { "Uploads are not enabled on this server." } }
                                    (false, _) => { span.hint { "Read only" } }
                                }
                            }
                        }
                    }
                }
            }
        },
    )))
}

fn upload_form(me: &SignedIn, c: &CollectionInfo, max: usize) -> Markup {
    let input_id = format!("bundle-{}", c.id);
    html! {
        form.upload method="post" enctype="multipart/form-data"
            action=(format!("/ui/collections/{}/upload", enc(&c.id))) {
            input type="hidden" name="csrf" value=(me.csrf);
            label for=(input_id) { "STIX bundle for " (c.title) }
            " "
            input id=(input_id) type="file" name="bundle" accept=".json,application/json,application/stix+json" required;
            " "
            button type="submit" { "Upload" }
            " " span.hint { "up to " (max / 1024) " KiB" }
        }
    }
}

/// An error page with `status` (the session's header is not needed).
fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        Html(crate::pages::error(status, message).into_string()),
    )
        .into_response()
}

/// What an upload form sent.
#[derive(Default)]
struct Sent {
    csrf: String,
    file_name: Option<String>,
    bundle: Option<Vec<u8>>,
}

/// Reads the form: the CSRF field and the file, at most `max` bytes of
/// file; any other field is read and dropped. A refusal is a response.
async fn read_form(mut form: Multipart, max: usize) -> Result<Sent, Response> {
    let broken = |e: axum::extract::multipart::MultipartError| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            refuse(
                status,
                &format!("The upload is larger than the {max} bytes this collection accepts."),
            )
        } else {
            refuse(
                status,
                &format!("The upload could not be read: {}", e.body_text()),
            )
        }
    };
    let mut sent = Sent::default();
    while let Some(mut field) = form.next_field().await.map_err(broken)? {
        let name = field.name().unwrap_or("").to_owned();
        let limit = if name == "bundle" { max } else { 1024 };
        if name == "bundle" {
            sent.file_name = field.file_name().map(str::to_owned);
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(broken)? {
            if bytes.len() + chunk.len() > limit {
                return Err(refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("The field {name:?} is larger than the {limit} bytes accepted."),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf" => sent.csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "bundle" => sent.bundle = Some(bytes),
            _ => {}
        }
    }
    Ok(sent)
}

/// `POST /ui/collections/{id}/upload` (multipart: `csrf`, `bundle`).
pub(crate) async fn upload(
    State(state): State<UiState>,
    me: SignedIn,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, UiError> {
    let store = state.store.clone();
    let key = id.clone();
    let info = tokio::task::spawn_blocking(move || store.collection(&key))
        .await
        .map_err(|e| UiError::internal(format!("store task: {e}")))??;
    let who = Some(&me.principal);
    let (info, can_read) = match info {
        Some(i) => {
            let r = state.policy.can_read(who, &i.id);
            let w = state.policy.can_write(who, &i.id);
            if !r && !w {
                // Never revealed, as in TAXII.
                return Err(UiError::not_found("no such collection"));
            }
            if !w {
                return Err(UiError::Forbidden(format!(
                    "You may read the collection {:?} but not write to it: uploads need the write right. Ask an administrator.",
                    i.title
                )));
            }
            (i, r)
        }
        None => return Err(UiError::not_found("no such collection")),
    };
    let Some(settings) = state.import.clone() else {
        return Err(sightline_api::ApiError::Unavailable(
            "uploads are not enabled on this server".into(),
        )
        .into());
    };
    let max = settings.max_body(&info.id);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > (max + FORM_SLACK) as u64) {
        return Ok(refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("The upload is larger than the {max} bytes this collection accepts."),
        ));
    }
    // The body is cut off past the bound whatever it declared (chunked).
    let (parts, body) = req.into_parts();
    let limited = axum::body::Body::new(http_body_util::Limited::new(body, max + FORM_SLACK));
    let req = Request::from_parts(parts, limited);
    let form = match Multipart::from_request(req, &state).await {
        Ok(f) => f,
        Err(e) => return Ok(refuse(e.status(), &e.body_text())),
    };
    let sent = match read_form(form, max).await {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    if !same(&me.csrf, &sent.csrf) {
        return Err(UiError::Forbidden(
            "the form did not come from this session: reload the page and try again".into(),
        ));
    }
    let Some(bytes) = sent.bundle.filter(|b| !b.is_empty()) else {
        return Ok(refuse(
            StatusCode::BAD_REQUEST,
            "Choose a bundle file to upload.",
        ));
    };
    // TAXII's checks of a POST body, before any object is validated.
    if let Err(e) = sightline_taxii::check_envelope(&bytes, &settings.limits) {
        return Ok(refuse(e.status(), &e.to_string()));
    }
    let file = sent.file_name.unwrap_or_else(|| "upload".into());
    let store = state.store.clone();
    let collection = info.id.clone();
    let name = file.clone();
    let report = tokio::task::spawn_blocking(move || {
        let opts = ImportOptions {
            collection: Some(collection),
            ..ImportOptions::default()
        };
        import(
            &*store,
            &settings.validator,
            &[Input { name, bytes }],
            &opts,
            &|_| {},
        )
    })
    .await
    .map_err(|e| UiError::internal(format!("import task: {e}")))?;
    let report = match report {
        Ok(r) => r,
        Err(ImportError::Read(e)) => return Ok(refuse(StatusCode::BAD_REQUEST, &e.to_string())),
        Err(ImportError::Store(e)) => return Err(e.into()),
    };
    tracing::info!(
        user = %me.principal.name,
        collection = %info.id,
        new = report.new_count(),
        duplicate = report.duplicate_count(),
        conflicts = report.conflict_count(),
        rejected = report.rejected_count(),
        "web UI upload"
    );
    let mut resp = html(result_page(&me, &info, &file, &report, can_read));
    // The server's audit log records it as it does a TAXII POST ("ui" in
    // place of an API root).
    resp.extensions_mut().insert(sightline_taxii::AuditNote {
        action: "post",
        user: Some(me.principal.name.clone()),
        api_root: "ui".into(),
        collection: info.id.clone(),
        total: report.object_count(),
        success: report.new_count() + report.duplicate_count(),
        failure: report.rejected_count() + report.conflict_count(),
        status_id: None,
        object: None,
    });
    Ok(resp)
}

fn result_page(
    me: &SignedIn,
    c: &CollectionInfo,
    file: &str,
    r: &ImportReport,
    reveal: bool,
) -> Markup {
    layout(
        "Import",
        Some(me),
        html! {
            h1 { "Import into " (c.title) }
            section #import-summary aria-labelledby="h-summary" {
                h2 #h-summary { "Summary of " (file) }
                table {
                    tbody {
                        tr { th scope="row" { "Objects in the file" } td.num.objects { (r.object_count()) } }
                        @if reveal {
                            tr { th scope="row" { "New" } td.num.new { (r.new_count()) } }
                            tr { th scope="row" { "Already stored" } td.num.duplicate { (r.duplicate_count()) } }
                        } @else {
                            // Write-only: the collection's content is not told.
                            tr { th scope="row" { "Stored" } td.num.stored { (r.new_count() + r.duplicate_count()) } }
                        }
                        tr { th scope="row" { "Conflicting (other content under a stored id and version)" } td.num.conflicts { (r.conflict_count()) } }
                        tr { th scope="row" { "Rejected" } td.num.rejected { (r.rejected_count()) } }
                    }
                }
                p { a href="/ui/collections" { "Back to the collections" } }
            }
            section #rejected aria-labelledby="h-rejected" {
                h2 #h-rejected { "Rejected objects" }
                @if r.rejections.is_empty() && r.conflict_ids.is_empty() {
                    p { "None." }
                } @else {
                    table {
                        thead { tr {
                            th scope="col" { "#" } th scope="col" { "Object" }
                            th scope="col" { "Code" } th scope="col" { "Where" } th scope="col" { "Why" }
                        } }
                        tbody {
                            @for x in &r.rejections {
                                @let n = x.diagnostics.len().max(1);
                                @for i in 0..n {
                                    tr.rejection {
                                        @if i == 0 {
                                            td.num rowspan=(n) { (x.index) }
                                            td rowspan=(n) { code.object-id { (x.id.as_deref().unwrap_or("(no id)")) } }
                                        }
                                        @match x.diagnostics.get(i) {
                                            Some(d) => {
                                                td { code.code { (d.code) } }
                                                td { code { (if d.pointer().is_empty() { "/" } else { d.pointer() }) } }
                                                td { (d.message) }
                                            }
                                            None => {
                                                td { "—" } td { "—" }
                                                td { (x.errors.join("; ")) }
                                            }
                                        }
                                    }
                                }
                            }
                            @for (id, version) in &r.conflict_ids {
                                tr.conflict {
                                    td.num { "—" }
                                    td { code.object-id { (id) } @if let Some(v) = version { " " (v) } }
                                    td { "—" } td { "—" }
                                    td { "A different object with this id and modified is already in this collection; it was not replaced." }
                                }
                            }
                        }
                    }
                    @if (r.conflict_ids.len() as u64) < r.conflict_count() {
                        p.hint { "The first " (r.conflict_ids.len()) " conflicts are listed." }
                    }
                }
            }
        },
    )
}
