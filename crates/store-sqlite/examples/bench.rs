//! Store-time measurements (not a test): `cargo run --release -p
//! sightline-store-sqlite --example bench -- [bundle.json[.gz]] [synthetic-count]`.
//! Times putting every object of the bundle in one transaction, re-putting
//! them (all duplicates), exporting everything in pages of 5,000, a deep
//! page, and optionally a synthetic import of N objects.

use std::io::Read;
use std::time::Instant;

use serde_json::value::RawValue;
use sightline_stix::ObjectMeta;
use sightline_store::{NewObject, ObjectQuery, ObjectReader, PutOutcome, Store, VersionFilter};
use sightline_store_sqlite::SqliteStore;

fn load(path: &str) -> Vec<NewObject> {
    let mut text = String::new();
    let f = std::fs::File::open(path).expect("open bundle");
    if path.ends_with(".gz") {
        flate2::read::GzDecoder::new(f)
            .read_to_string(&mut text)
            .expect("gunzip");
    } else {
        std::io::BufReader::new(f)
            .read_to_string(&mut text)
            .expect("read");
    }
    #[derive(serde::Deserialize)]
    struct Bundle<'a> {
        #[serde(borrow)]
        objects: Vec<&'a RawValue>,
    }
    let b: Bundle<'_> = serde_json::from_str(&text).expect("bundle");
    b.objects
        .iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_str(r.get()).expect("json");
            NewObject {
                meta: ObjectMeta::extract(&v).expect("meta"),
                raw: r.get().to_owned(),
            }
        })
        .collect()
}

/// Seconds this thread has been on a CPU (load-independent, unlike wall time).
fn cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|n| n.parse::<f64>().ok())
        })
        .map_or(0.0, |ns| ns / 1e9)
}

fn import(store: &dyn Store, objs: &[NewObject]) -> (f64, usize) {
    let t = Instant::now();
    let c0 = cpu();
    let mut txn = store.begin().expect("begin");
    let mut added = 0;
    for o in objs {
        if matches!(txn.put(o, None).expect("put"), PutOutcome::Added { .. }) {
            added += 1;
        }
    }
    let c = Instant::now();
    txn.commit().expect("commit");
    println!(
        "  (commit {:.3} s wall; import on-CPU {:.3} s)",
        c.elapsed().as_secs_f64(),
        cpu() - c0
    );
    (t.elapsed().as_secs_f64(), added)
}

fn export(store: &dyn Store) -> (f64, usize, usize) {
    let t = Instant::now();
    let q = ObjectQuery {
        versions: VersionFilter::all(),
        limit: 5000,
        ..ObjectQuery::default()
    };
    let (mut n, mut bytes) = (0, 0);
    sightline_store::for_each_page(store, &q, |o| {
        n += 1;
        bytes += o.raw.len();
        Ok::<_, sightline_store::StoreError>(())
    })
    .expect("query");
    (t.elapsed().as_secs_f64(), n, bytes)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bundle = args.get(1).map_or(
        "/work/shared/data/real/attack/enterprise-attack-18.1.json.gz",
        String::as_str,
    );
    let dir = tempfile::tempdir().expect("tmp");
    let keep = std::env::var("BENCH_DIR").ok();
    let store =
        SqliteStore::open(keep.as_deref().map_or(dir.path(), std::path::Path::new)).expect("open");
    let objs = load(bundle);
    let raw: usize = objs.iter().map(|o| o.raw.len()).sum();
    println!("{} objects, {:.1} MB raw", objs.len(), raw as f64 / 1e6);
    let (s, added) = import(&store, &objs);
    println!(
        "import: {added} added in {s:.3} s ({:.1} µs/object)",
        s * 1e6 / objs.len() as f64
    );
    if std::env::var_os("BENCH_IMPORT_ONLY").is_some() {
        return;
    }
    let (s, added) = import(&store, &objs);
    println!("re-import: {added} added in {s:.3} s");
    let (s, n, bytes) = export(&store);
    println!(
        "export all versions: {n} objects, {:.1} MB in {s:.3} s ({:.0} objects/s)",
        bytes as f64 / 1e6,
        n as f64 / s
    );
    let t = Instant::now();
    let hits = store.search("lazarus", 20).expect("search");
    println!(
        "search 'lazarus': {} hits in {:.2} ms",
        hits.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let ids = store.lookup_external_id("G0032").expect("lookup");
    println!(
        "lookup G0032: {ids:?} in {:.2} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let problems = store.check().expect("check");
    println!(
        "check: {} problems in {:.3} s",
        problems.len(),
        t.elapsed().as_secs_f64()
    );
    let size = std::fs::metadata(store.path())
        .map(|m| m.len())
        .unwrap_or(0);
    println!("db file {:.1} MB", size as f64 / 1e6);

    if let Some(n) = args.get(2).and_then(|s| s.parse::<usize>().ok()) {
        let dir = tempfile::tempdir().expect("tmp");
        let store = SqliteStore::open(dir.path()).expect("open");
        // Synthetic objects shaped like ATT&CK's, cycling its raw texts under new ids.
        let synth: Vec<NewObject> = (0..n)
            .map(|i| {
                let o = &objs[i % objs.len()];
                let id = format!(
                    "{}--{:08x}-0000-4000-8000-{:012x}",
                    o.meta.ty,
                    i >> 16,
                    i & 0xffff
                );
                let mut meta = o.meta.clone();
                let raw = o.raw.replacen(&meta.id, &id, 1);
                meta.id = id;
                NewObject { meta, raw }
            })
            .collect();
        let (s, added) = import(&store, &synth);
        println!(
            "synthetic import: {added} in {s:.3} s ({:.1} µs/object)",
            s * 1e6 / n as f64
        );
        let (s, n, _) = export(&store);
        println!(
            "synthetic export: {n} in {s:.3} s ({:.0} objects/s)",
            n as f64 / s
        );
        for depth in [0usize, n / 2, n - 6000] {
            let after = store
                .query(&ObjectQuery {
                    versions: VersionFilter::all(),
                    limit: 1,
                    after: None,
                    ..ObjectQuery::default()
                })
                .expect("q")
                .items[0]
                .date_added
                + depth as i64;
            let t = Instant::now();
            for _ in 0..100 {
                store
                    .query(&ObjectQuery {
                        after: Some(after),
                        limit: 1000,
                        ..ObjectQuery::default()
                    })
                    .expect("q");
            }
            println!(
                "page of 1000 'last' after ~{depth}: {:.2} ms",
                t.elapsed().as_secs_f64() * 10.0
            );
        }
    }
}
