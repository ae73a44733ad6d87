//! Issue 12 §3 (not a test): what a TAXII page whose filter matches nothing
//! costs beside a normal first page. `bench/empty-filter` runs it:
//!
//! ```text
//! cargo run --release -p sightline-store-sqlite --example empty_filter -- DATA_DIR [BUNDLE]
//! ```
//!
//! With BUNDLE (from `bench/gen_synthetic.py`), its objects are first put
//! into collection `bench` of a new store in DATA_DIR, in one transaction.
//! Then each query (collection `bench`, latest versions, limit 100, as a
//! TAXII GET with no `next`) runs RUNS times (env, default 50) through the
//! store (`query_each`, rows dropped) and the median is printed. "before"
//! runs, on the same file, the SQL the page query had before V6 for the
//! filters it then answered by scanning the collection's latest
//! memberships (type and spec version); by id it was already indexed.

use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use sightline_stix::ObjectMeta;
use sightline_store::{
    CollectionInfo, CollectionStore, NewObject, ObjectQuery, ObjectReader, ObjectWriter,
};
use sightline_store_sqlite::SqliteStore;

fn load(store: &SqliteStore, bundle: &str) {
    let text = std::fs::read_to_string(bundle).expect("read bundle");
    #[derive(serde::Deserialize)]
    struct Bundle<'a> {
        #[serde(borrow)]
        objects: Vec<&'a RawValue>,
    }
    let b: Bundle<'_> = serde_json::from_str(&text).expect("bundle");
    store
        .create_collection(&CollectionInfo {
            id: "3f2e1d0c-9b8a-4766-8554-433221100fed".into(),
            title: "Bench".into(),
            description: None,
            alias: Some("bench".into()),
            media_types: vec![],
        })
        .expect("collection");
    let t0 = Instant::now();
    let mut t = store.begin().expect("begin");
    for raw in &b.objects {
        let v: serde_json::Value = serde_json::from_str(raw.get()).expect("object");
        let meta = ObjectMeta::extract(&v).expect("meta");
        t.put(
            &NewObject {
                meta,
                raw: raw.get().to_owned(),
            },
            Some("bench"),
        )
        .expect("put");
    }
    t.commit().expect("commit");
    eprintln!(
        "loaded {} objects in {:.1} s",
        b.objects.len(),
        t0.elapsed().as_secs_f64()
    );
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: empty_filter DATA_DIR [BUNDLE]");
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(50);
    let store = SqliteStore::open(std::path::Path::new(&dir)).expect("open");
    if let Some(bundle) = args.next() {
        load(&store, &bundle);
    }
    let objects = store.stats().expect("stats").objects;
    let page = |f: &dyn Fn(&mut ObjectQuery)| {
        let mut q = ObjectQuery {
            collection: Some("bench".into()),
            limit: 100,
            ..ObjectQuery::default()
        };
        f(&mut q);
        let mut times = Vec::with_capacity(runs);
        let mut rows = 0;
        for _ in 0..runs {
            let t = Instant::now();
            rows = store.query_each(&q, &mut |_| {}).expect("query").count;
            times.push(t.elapsed());
        }
        (median(times), rows)
    };
    // The SQL before V6, for filters then answered by a scan.
    let conn = rusqlite::Connection::open_with_flags(
        std::path::Path::new(&dir).join("sightline.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("raw");
    let before = |filter: &str, values: &[&str]| {
        let marks = vec!["?"; values.len()].join(",");
        let sql = format!(
            "SELECT m.date_added, v.id, v.type, v.spec_version, v.version, v.version_key, v.revoked, v.raw
             FROM members m INDEXED BY members_latest JOIN versions v ON v.date_added = m.version
             WHERE m.cid = (SELECT cid FROM collections WHERE alias = 'bench') AND m.date_added > ?1
             AND {filter} IN ({marks}) AND (m.is_latest = 1) ORDER BY m.date_added LIMIT 101"
        );
        let mut stmt = conn.prepare(&sql).expect("prepare");
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            let mut params = vec![rusqlite::types::Value::Integer(i64::MIN)];
            params.extend(
                values
                    .iter()
                    .map(|v| rusqlite::types::Value::Text((*v).into())),
            );
            let n = stmt
                .query_map(rusqlite::params_from_iter(params), |r| {
                    r.get::<_, String>(7)
                })
                .expect("query")
                .count();
            assert!(n <= 101);
            times.push(t.elapsed());
        }
        median(times)
    };
    let absent = "indicator--00000000-0000-4000-8000-000000000000";
    println!("objects\tquery\tbefore_ms\tafter_ms\trows");
    let (ms, rows) = page(&|_| {});
    println!("{objects}\tfirst page (limit 100)\t{ms:.3}\t{ms:.3}\t{rows}");
    let (ms, rows) = page(&|q| q.types = vec!["x-nothing".into()]);
    let b = before("v.type", &["x-nothing"]);
    println!("{objects}\tmatch[type]=x-nothing\t{b:.3}\t{ms:.3}\t{rows}");
    let (ms, rows) = page(&|q| q.ids = vec![absent.into()]);
    println!("{objects}\tmatch[id]=<absent id>\t{ms:.3}\t{ms:.3}\t{rows}");
    let (ms, rows) = page(&|q| q.spec_versions = vec!["2.0".into()]);
    let b = before("v.spec_version", &["2.0"]);
    println!("{objects}\tmatch[spec_version]=2.0\t{b:.3}\t{ms:.3}\t{rows}");
    let (ms, rows) = page(&|q| q.types = vec!["x-nothing".into(), "x-none".into()]);
    let b = before("v.type", &["x-nothing", "x-none"]);
    println!("{objects}\tmatch[type]=x-nothing,x-none\t{b:.3}\t{ms:.3}\t{rows}");
    let (ms, rows) = page(&|q| q.types = vec!["indicator".into()]);
    let b = before("v.type", &["indicator"]);
    println!("{objects}\tmatch[type]=indicator (dense)\t{b:.3}\t{ms:.3}\t{rows}");
    let (ms, rows) = page(&|q| q.types = vec!["indicator".into(), "identity".into()]);
    let b = before("v.type", &["indicator", "identity"]);
    println!("{objects}\tmatch[type]=indicator,identity\t{b:.3}\t{ms:.3}\t{rows}");
}
