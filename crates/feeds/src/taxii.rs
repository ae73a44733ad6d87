//! TAXII 2.1 pull (TAXII 2.1 §5.4 Get Objects; the puller of the
//! integration digest §5).
//!
//! One run: `GET {collection}/objects/?match[version]=all&added_after=CURSOR&limit=L`,
//! then pages by `next` (resent with exactly the run's other parameters),
//! or, when `more` comes without `next`, by `added_after` = that page's
//! `X-TAXII-Date-Added-Last`. Each page is validated object by object and
//! committed in ONE store transaction with the feed state, whose cursor is
//! then the page's `X-TAXII-Date-Added-Last` (verbatim, never the local
//! clock): a crash loses at most the pages in flight, and re-reading a page
//! is harmless since a version already held is a duplicate.
//!
//! Fetch-ahead: a thread of the run requests, parses and validates the next
//! page while this one is written, and hands it over through a rendezvous
//! channel; so at most two pages are in flight (the one being written and
//! the one ready), and the store's commit (an fsync) and the server's answer
//! overlap. A feed's `commit_pages` (default 1) commits that many pages per
//! transaction: fewer commits, but a crash loses up to that many pages'
//! work (the cursor is still committed with exactly the pages it covers).
//!
//! Pitfalls handled (digest §5.3): a missing `X-TAXII-Date-Added-Last`
//! (fallback: the largest `date_added` the manifest gives for the page's
//! objects; else the cursor stays and a warning is kept); a server that
//! ignores `added_after` (a page that does not move past the cursor ends the
//! run: no endless loop); a `next` the server forgot (400/404: the run
//! restarts once from the committed cursor); the same `next` twice.

use serde::Deserialize;
use serde_json::value::RawValue;
use sightline_stix::Validator;
use std::collections::HashSet;

use rayon::prelude::*;

use sightline_store::{NewObject, ObjectQuery, PutOutcome, Store, VersionFilter};

use crate::http::{Fetcher, Response};
use crate::registry::{self, FeedState, RejectionNote, RunCounts};
use crate::{FeedConfig, FeedError, Result};

/// The TAXII 2.1 media type (TAXII 2.1 §1.6.8).
pub const TAXII_MEDIA: &str = "application/taxii+json;version=2.1";

const HDR_LAST: &str = "x-taxii-date-added-last";
const HDR_FIRST: &str = "x-taxii-date-added-first";

/// Pages one run reads at most: a server that keeps answering `more` without
/// progress is stopped by the checks below; this bounds anything they miss.
pub const MAX_PAGES_PER_RUN: u64 = 1_000_000;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    more: bool,
    #[serde(default)]
    next: Option<String>,
    #[serde(default, borrow)]
    objects: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    objects: Vec<ManifestEntry>,
}

#[derive(Deserialize)]
struct ManifestEntry {
    id: String,
    date_added: String,
}

/// A timestamp's instant in µs, for comparing cursors (which stay strings).
fn instant(s: &str) -> Option<i64> {
    sightline_stix::Timestamp::parse(s).ok().map(|t| t.micros())
}

/// `a` is strictly after `b` (unparseable: compared as text).
fn after(a: &str, b: &str) -> bool {
    match (instant(a), instant(b)) {
        (Some(x), Some(y)) => x > y,
        _ => a > b,
    }
}

/// The instant 1 µs before `s` (unparseable: `s` itself).
fn just_before(s: &str) -> String {
    match instant(s) {
        Some(us) => sightline_stix::format_micros(us - 1),
        None => s.to_owned(),
    }
}

fn base(feed: &FeedConfig) -> String {
    let u = feed.url.trim_end_matches('/');
    format!("{u}/")
}

/// Checks a TAXII response: 2xx, the TAXII media type, and returns its body.
fn check(resp: &Response) -> Result<()> {
    if !(200..300).contains(&resp.status) {
        let message = String::from_utf8_lossy(&resp.body)
            .chars()
            .take(200)
            .collect::<String>();
        return Err(FeedError::Status {
            url: resp.url.clone(),
            status: resp.status,
            message: message.trim().to_owned(),
        });
    }
    let ct = resp.content_type.as_deref().unwrap_or("");
    let mut parts = ct.split(';').map(str::trim);
    let media_ok = parts
        .next()
        .is_some_and(|m| m.eq_ignore_ascii_case("application/taxii+json"));
    let version_ok = parts.all(|p| {
        !p.to_ascii_lowercase().starts_with("version=") || p.eq_ignore_ascii_case("version=2.1")
    });
    if !media_ok || !version_ok {
        return Err(FeedError::BadBody {
            url: resp.url.clone(),
            message: format!("media type {ct:?} is not {TAXII_MEDIA}"),
        });
    }
    Ok(())
}

/// The state a run works on, and what it has done.
pub(crate) struct Run<'a> {
    pub store: &'a dyn Store,
    pub validator: &'a Validator,
    pub feed: &'a FeedConfig,
    pub collection: String,
    pub state: FeedState,
    pub fetch: Fetcher,
}

/// One page made ready by the fetching side: its checked objects, and the
/// state the feed is in once the page is committed (what a crash right
/// after that commit resumes from).
struct Ready {
    objects: Vec<NewObject>,
    rejections: Vec<RejectionNote>,
    /// Ids among `objects` the collection held when the page was checked.
    known: HashSet<String>,
    cursor: Option<String>,
    pending_next: Option<String>,
    pending_added_after: Option<String>,
    warnings: Vec<String>,
    /// The last page of the run.
    done: bool,
}

/// What the fetching side hands the writer, in page order.
enum Step {
    Page(Box<Ready>),
    /// No more pages: what was noticed since the last one, and why the run
    /// stopped when it failed.
    End {
        warnings: Vec<String>,
        error: Option<FeedError>,
    },
}

/// Time spent by the writer: waiting for pages, and writing them.
#[derive(Default)]
struct Timing {
    waiting: std::time::Duration,
    writing: std::time::Duration,
}

impl Run<'_> {
    /// Pulls until the server has nothing more. The state (cursor, counts)
    /// is committed with every page; on error the caller records it.
    ///
    /// Two threads: this one writes, a fetching one requests the next page,
    /// parses and validates it meanwhile (fetch-ahead). They meet at a
    /// rendezvous channel, so besides the page being written at most one
    /// more is held ready: a crash loses at most those two pages' work
    /// (fetched again by the next run; nothing committed is read again
    /// except the objects sharing the cursor's `date_added`), and memory
    /// stays at two pages.
    pub fn pull(&mut self) -> Result<()> {
        let Run {
            store,
            validator,
            feed,
            collection,
            state,
            fetch,
        } = self;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Step>(0);
        let mut fetching = Fetching {
            store: *store,
            validator,
            feed,
            collection,
            fetch,
            cursor: state.cursor.clone(),
            pending_next: state.pending_next.clone(),
            pending_added_after: state.pending_added_after.clone(),
            warnings: Vec::new(),
            pages: state.run.pages,
        };
        let started = std::time::Instant::now();
        let mut timing = Timing::default();
        let written = std::thread::scope(|s| {
            let fetcher = std::thread::Builder::new()
                .name("feed-fetch".into())
                .spawn_scoped(s, move || {
                    let r = fetching.produce(&tx);
                    let warnings = std::mem::take(&mut fetching.warnings);
                    // The writer may have stopped (a store error): nobody to tell.
                    let _ = tx.send(Step::End {
                        warnings,
                        error: r.err(),
                    });
                });
            let fetcher = match fetcher {
                Ok(f) => f,
                Err(e) => {
                    return Err(FeedError::Io {
                        path: "feed-fetch thread".into(),
                        message: e.to_string(),
                    })
                }
            };
            let r = write_pages(*store, collection, feed, state, &rx, &mut timing);
            // Unblocks a fetcher waiting to hand over a page.
            drop(rx);
            if fetcher.join().is_err() {
                return Err(FeedError::Io {
                    path: "feed-fetch thread".into(),
                    message: "the fetching thread panicked".into(),
                });
            }
            r
        });
        tracing::debug!(
            feed = %feed.name,
            pages = state.run.pages,
            seconds = started.elapsed().as_secs_f64(),
            writer_waiting_s = timing.waiting.as_secs_f64(),
            writer_writing_s = timing.writing.as_secs_f64(),
            "taxii pull"
        );
        written
    }
}

/// The writing side: stores each page the fetcher hands over, in order, and
/// commits it in ONE transaction with the feed state it brings (cursor,
/// pending `next`, counts): every `commit_pages` pages (1 unless the feed
/// asks for more), at the run's end and before an error is returned.
/// `state` is always what the store holds: it only changes at a commit.
fn write_pages(
    store: &dyn Store,
    collection: &str,
    feed: &FeedConfig,
    state: &mut FeedState,
    rx: &std::sync::mpsc::Receiver<Step>,
    timing: &mut Timing,
) -> Result<()> {
    let commit_pages = feed.commit_pages.unwrap_or(1).max(1);
    // The open transaction, the state it will commit, its pages.
    let mut txn: Option<Box<dyn sightline_store::WriteTxn + '_>> = None;
    let mut next = state.clone();
    let mut in_txn = 0u32;
    // New or updated: the fetcher asked which ids the collection held
    // before the writer had committed the previous page (and the pages of
    // the open transaction), so ids stored by those count as known too.
    let mut open_ids: HashSet<String> = HashSet::new();
    let mut just_committed: HashSet<String> = HashSet::new();
    loop {
        let t = std::time::Instant::now();
        let step = rx.recv();
        timing.waiting += t.elapsed();
        let t = std::time::Instant::now();
        let p = match step {
            Ok(Step::Page(p)) => p,
            Ok(Step::End { warnings, error }) => {
                for w in warnings {
                    next.warn(w);
                }
                if let Some(mut open) = txn.take() {
                    registry::put_state(&mut *open, &feed.name, &next)?;
                    open.commit()?;
                }
                *state = next;
                return error.map_or(Ok(()), Err);
            }
            // The fetcher ended without a word (it cannot): what is open is
            // not known to be whole, so it is not committed.
            Err(_) => return Ok(()),
        };
        let mut counts = RunCounts {
            pages: 1,
            rejected: p.rejections.len() as u64,
            ..RunCounts::default()
        };
        for note in p.rejections {
            next.note_rejection(note);
        }
        let open = match &mut txn {
            Some(open) => open,
            None => txn.insert(store.begin()?),
        };
        let mut added = Vec::with_capacity(p.objects.len());
        for obj in &p.objects {
            let id = &obj.meta.id;
            match open.put(obj, Some(collection))? {
                PutOutcome::Added { .. } => {
                    let known = p.known.contains(id)
                        || open_ids.contains(id)
                        || just_committed.contains(id);
                    if known {
                        counts.updated += 1;
                    } else {
                        counts.new += 1;
                    }
                    added.push(id.clone());
                }
                PutOutcome::Duplicate { .. } => counts.duplicate += 1,
                PutOutcome::Conflict => counts.conflicts += 1,
            }
        }
        open_ids.extend(added);
        just_committed.clear();
        next.cursor = p.cursor;
        next.pending_next = p.pending_next;
        next.pending_added_after = p.pending_added_after;
        for w in p.warnings {
            next.warn(w);
        }
        next.run.add(&counts);
        next.total.add(&counts);
        in_txn += 1;
        if in_txn >= commit_pages || p.done {
            if let Some(mut open) = txn.take() {
                registry::put_state(&mut *open, &feed.name, &next)?;
                open.commit()?;
            }
            *state = next.clone();
            in_txn = 0;
            just_committed = std::mem::take(&mut open_ids);
        }
        timing.writing += t.elapsed();
        if p.done {
            return Ok(());
        }
    }
}

/// The fetching side of a run: requests pages, decides the next request
/// from each answer, checks the objects, and hands each page over. It keeps
/// its own copy of the cursor and pending `next`: the values the store will
/// hold once the pages handed over are committed.
struct Fetching<'a> {
    store: &'a dyn Store,
    validator: &'a Validator,
    feed: &'a FeedConfig,
    collection: &'a str,
    fetch: &'a mut Fetcher,
    cursor: Option<String>,
    pending_next: Option<String>,
    pending_added_after: Option<String>,
    /// Noticed since the last page handed over.
    warnings: Vec<String>,
    /// Pages handed over in this run (rejection notes are numbered by it).
    pages: u64,
}

impl Fetching<'_> {
    fn warn(&mut self, w: String) {
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// Pages until the server has nothing more, handing each over. Returns
    /// early (Ok) when the writer stopped listening.
    fn produce(&mut self, tx: &std::sync::mpsc::SyncSender<Step>) -> Result<()> {
        let objects_url = format!("{}objects/", base(self.feed));
        // Resume an interrupted run with its own parameters, else start
        // after the committed cursor.
        let mut sent_after = if self.pending_next.is_some() {
            self.pending_added_after.clone()
        } else {
            self.start_after()
        };
        let mut next = self.pending_next.clone();
        let mut restarted = false;
        let mut first_page = true;
        // A hash of the previous page's objects (a stuck server repeats it).
        let mut prev_page: Option<u64> = None;
        let mut pages = 0u64;
        loop {
            pages += 1;
            if pages > MAX_PAGES_PER_RUN {
                self.warn(format!(
                    "stopped after {MAX_PAGES_PER_RUN} pages in one run"
                ));
                return Ok(());
            }
            let mut query: Vec<(&str, String)> = vec![("match[version]", "all".into())];
            if let Some(a) = &sent_after {
                query.push(("added_after", a.clone()));
            }
            if let Some(l) = self.feed.limit {
                query.push(("limit", l.to_string()));
            }
            if let Some(n) = &next {
                query.push(("next", n.clone()));
            }
            let resp = self.fetch.get(&objects_url, &query, TAXII_MEDIA)?;
            // A forgotten `next` (medallion keeps them 30 s; a restarted
            // server may not know them): once per run, start again from
            // the committed cursor (every page handed over is committed
            // before the next page's state, so this copy is that cursor).
            if next.is_some() && matches!(resp.status, 400 | 404) && !restarted {
                restarted = true;
                self.warn(format!(
                    "the server refused a next token (HTTP {}); restarted from the committed cursor",
                    resp.status
                ));
                next = None;
                sent_after = self.start_after();
                self.pending_next = None;
                self.pending_added_after = None;
                continue;
            }
            check(&resp)?;
            let env: Envelope =
                serde_json::from_slice(&resp.body).map_err(|e| FeedError::BadBody {
                    url: resp.url.clone(),
                    message: format!("not a TAXII envelope: {e}"),
                })?;
            // 200 with no objects: nothing new (TAXII 2.1 §3.7 lets servers
            // answer an empty envelope `{}`).
            if first_page {
                first_page = false;
                if let (Some(cur), Some(first)) = (&sent_after, resp.header(HDR_FIRST)) {
                    if next.is_none() && !after(first, cur) {
                        self.warn(format!(
                            "the server ignores added_after (first date_added {first} is not after {cur}): every run re-reads, duplicates are skipped"
                        ));
                    }
                }
            }
            let mut last = resp.header(HDR_LAST).map(str::to_owned);
            if last.is_none() && !env.objects.is_empty() {
                last = self.manifest_last(&env.objects, sent_after.as_deref());
                if last.is_none() {
                    self.warn(
                        "the server sends no X-TAXII-Date-Added-Last and its manifest did not help: the cursor cannot advance, every run re-reads".into(),
                    );
                }
            }
            let page_no = self.pages + 1;
            // Validation is most of a page's checking: on every core
            // (rayon), as `import` does; refusals are noted in page order.
            let validator = self.validator;
            let results: Vec<std::result::Result<NewObject, RejectionNote>> = env
                .objects
                .par_iter()
                .enumerate()
                .map(|(i, raw)| check_one(validator, raw.get(), page_no, i))
                .collect();
            let mut objects = Vec::with_capacity(results.len());
            let mut rejections = Vec::new();
            for r in results {
                match r {
                    Ok(o) => objects.push(o),
                    Err(note) => rejections.push(note),
                }
            }
            // New or updated: which ids the collection held before this page
            // (one query per page, not per object).
            let known = self.known_ids(&objects)?;
            // Where the next request starts.
            let progressed = match (&last, &sent_after) {
                (Some(l), Some(a)) => after(l, a),
                (Some(_), None) => true,
                (None, _) => false,
            };
            // Mid-run (more pages by `next`), the next page may hold more
            // objects with this same date_added (one POST's objects share
            // it on medallion): the cursor committed with this page stays
            // 1 µs before it, so a restart from it (an expired `next`)
            // re-reads those few and loses none (digest §5.3: round down,
            // dedup). At the run's end it is the header, verbatim.
            if let Some(l) = &last {
                let by_next = env.more && env.next.as_deref().is_some_and(|n| !n.is_empty());
                let c = if by_next { just_before(l) } else { l.clone() };
                if self.cursor.as_deref().is_none_or(|cur| after(&c, cur)) {
                    self.cursor = Some(c);
                }
            }
            let page_hash = {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                for o in &env.objects {
                    o.get().hash(&mut h);
                }
                h.finish()
            };
            let next_tok = env.next.filter(|n| !n.is_empty());
            let mut done = !env.more;
            if env.more {
                match next_tok {
                    // medallion keeps one token for a whole paging session
                    // (and gives one POST's objects one date_added): the
                    // same token is fine while the pages' objects change.
                    Some(n)
                        if next.as_deref() == Some(n.as_str())
                            && (env.objects.is_empty() || prev_page == Some(page_hash)) =>
                    {
                        self.warn(
                            "the server returned the same next token and the same objects again; run stopped"
                                .into(),
                        );
                        done = true;
                    }
                    Some(n) => {
                        self.pending_next = Some(n.clone());
                        self.pending_added_after = sent_after.clone();
                        next = Some(n);
                    }
                    None if progressed => {
                        next = None;
                        sent_after = last.clone();
                        self.pending_next = None;
                        self.pending_added_after = None;
                    }
                    None => {
                        self.warn(
                            "more objects announced but neither next nor a later X-TAXII-Date-Added-Last: run stopped".into(),
                        );
                        done = true;
                    }
                }
            }
            if done {
                self.pending_next = None;
                self.pending_added_after = None;
            }
            prev_page = Some(page_hash);
            self.pages += 1;
            let ready = Ready {
                objects,
                rejections,
                known,
                cursor: self.cursor.clone(),
                pending_next: self.pending_next.clone(),
                pending_added_after: self.pending_added_after.clone(),
                warnings: std::mem::take(&mut self.warnings),
                done,
            };
            // The writer took the previous page once this returns; it
            // stopped listening when this fails.
            if tx.send(Step::Page(Box::new(ready))).is_err() || done {
                return Ok(());
            }
        }
    }

    /// The `added_after` a run starts from: the committed cursor, less the
    /// feed's overlap (digest §5.3: on a hub whose writers commit late, an
    /// object can get a date_added before the cursor after it was set).
    fn start_after(&self) -> Option<String> {
        let cur = self.cursor.clone()?;
        match (self.feed.overlap_secs.filter(|&s| s > 0), instant(&cur)) {
            (Some(s), Some(us)) => {
                let back = i64::try_from(s)
                    .unwrap_or(i64::MAX)
                    .saturating_mul(1_000_000);
                Some(sightline_stix::format_micros(us.saturating_sub(back)))
            }
            _ => Some(cur),
        }
    }

    /// The ids among `objs` the feed's collection already holds.
    fn known_ids(&self, objs: &[NewObject]) -> Result<HashSet<String>> {
        let mut known = HashSet::new();
        let mut ids: Vec<String> = objs.iter().map(|o| o.meta.id.clone()).collect();
        ids.sort_unstable();
        ids.dedup();
        for chunk in ids.chunks(500) {
            let q = ObjectQuery {
                collection: Some(self.collection.to_owned()),
                ids: chunk.to_vec(),
                versions: VersionFilter::last(),
                limit: chunk.len() * 4 + 16,
                ..ObjectQuery::default()
            };
            let mut after = None;
            loop {
                let q = ObjectQuery { after, ..q.clone() };
                let summary = self.store.query_each(&q, &mut |row| {
                    known.insert(row.id.to_owned());
                })?;
                match summary.next_cursor() {
                    Some(c) if summary.more => after = Some(c),
                    _ => break,
                }
            }
        }
        Ok(known)
    }

    /// The largest `date_added` the manifest gives for this page's objects
    /// (digest §5.3: the fallback when `X-TAXII-Date-Added-Last` is missing).
    fn manifest_last(&mut self, objects: &[&RawValue], sent_after: Option<&str>) -> Option<String> {
        #[derive(Deserialize)]
        struct Id {
            id: String,
        }
        let ids: std::collections::HashSet<String> = objects
            .iter()
            .filter_map(|o| serde_json::from_str::<Id>(o.get()).ok().map(|i| i.id))
            .collect();
        let url = format!("{}manifest/", base(self.feed));
        let mut query: Vec<(&str, String)> = vec![("match[version]", "all".into())];
        if let Some(a) = sent_after {
            query.push(("added_after", a.to_owned()));
        }
        let resp = self.fetch.get(&url, &query, TAXII_MEDIA).ok()?;
        check(&resp).ok()?;
        let m: Manifest = serde_json::from_slice(&resp.body).ok()?;
        m.objects
            .into_iter()
            .filter(|e| ids.contains(&e.id))
            .map(|e| e.date_added)
            .reduce(|a, b| if after(&b, &a) { b } else { a })
    }
}

/// Validates one object of a page: the object to store, or why it is refused.
fn check_one(
    validator: &Validator,
    raw: &str,
    page: u64,
    index: usize,
) -> std::result::Result<NewObject, RejectionNote> {
    let at = || format!("page {page} object {index}");
    let value: serde_json::Value = serde_json::from_str(raw).map_err(|e| RejectionNote {
        at: at(),
        id: None,
        errors: vec![e.to_string()],
    })?;
    let budget = sightline_stix::RegexBudget::for_input(raw.len());
    match validator.admit_within(&value, &budget) {
        Ok((meta, _)) => Ok(NewObject {
            meta,
            raw: raw.to_owned(),
        }),
        Err(diags) => Err(RejectionNote {
            at: at(),
            id: value.get("id").and_then(|v| v.as_str()).map(str::to_owned),
            errors: diags.iter().map(ToString::to_string).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_order_is_by_instant() {
        assert!(after(
            "2024-01-01T00:00:00.000002Z",
            "2024-01-01T00:00:00.000001Z"
        ));
        // Same instant written with other precision: not after (TAXII 2.1
        // §3.4.1 compares instants).
        assert!(!after(
            "2024-01-01T00:00:00.100Z",
            "2024-01-01T00:00:00.100000Z"
        ));
    }
}
