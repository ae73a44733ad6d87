//! Issue 16 figure (BENCHMARKS.md): effective scores of 1,000,000
//! indicators at one time, the bulk path an export or a matcher reload
//! takes (`Evaluator::score_all`: per-rule constants computed once, no
//! allocation per indicator), and, for scale, building the subjects from
//! indicator JSON (pattern parsed for its main observable type), 100,000.
//! `bench/lifecycle` runs this beside the same formula in Python.
//!
//!     cargo bench -p sightline-lifecycle --bench lifecycle

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::{json, Value};
use sightline_lifecycle::{Evaluator, LifecycleConfig, Subject};

const DAY_US: i64 = 86_400_000_000;
/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600_000_000;

/// The same mix `bench/lifecycle_peer.py` builds: rule by index (ip, domain,
/// file, default), confidence 0..=100, age 0..=399 days, every 50th
/// revoked, every 7th renewed.
fn subjects(e: &Evaluator, n: usize) -> Vec<Subject> {
    let types = [
        Some("ipv4-addr"),
        Some("domain-name"),
        Some("file"),
        Some("email-addr"),
    ];
    (0..n)
        .map(|i| {
            let from = T0 - (i % 400) as i64 * DAY_US;
            Subject {
                base: (i % 101) as f64,
                rule: e.rule_for(types[i % 4]),
                valid_from_us: from,
                valid_until_us: i64::MAX,
                revoked: i % 50 == 0,
                clock_us: if i % 7 == 0 { from + 3 * DAY_US } else { from },
                verdict: None,
            }
        })
        .collect()
}

fn indicators(n: usize) -> Vec<Value> {
    let patterns = [
        "[ipv4-addr:value = '198.51.100.7']",
        "[domain-name:value = 'bad.example']",
        "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
        "[email-addr:value = 'a@bad.example']",
    ];
    (0..n)
        .map(|i| {
            json!({
                "type": "indicator", "spec_version": "2.1",
                "id": format!("indicator--{:08x}-0000-4000-8000-000000000000", i),
                "created": "2025-06-01T00:00:00Z", "modified": "2025-06-01T00:00:00Z",
                "valid_from": "2025-06-01T00:00:00Z", "confidence": i % 101,
                "pattern": patterns[i % 4], "pattern_type": "stix",
            })
        })
        .collect()
}

fn bulk(c: &mut Criterion) {
    let e = match Evaluator::new(&LifecycleConfig::default()) {
        Ok(e) => e,
        Err(err) => panic!("defaults: {err}"),
    };
    let s = subjects(&e, 1_000_000);
    let mut out = Vec::with_capacity(s.len());
    // bench/lifecycle compares this with the Python peer's sum: the same
    // formula on the same mix.
    e.score_all(&s, T0, &mut out);
    let sum: f64 = out.iter().map(|x| x.value).sum();
    eprintln!("checksum {} scores, sum {sum:.6}", out.len());
    let mut g = c.benchmark_group("lifecycle");
    g.sample_size(10);
    g.throughput(Throughput::Elements(s.len() as u64));
    g.bench_function("score_all_1M", |b| {
        b.iter(|| {
            e.score_all(&s, T0, &mut out);
            out.len()
        })
    });
    let docs = indicators(100_000);
    g.throughput(Throughput::Elements(docs.len() as u64));
    g.bench_function("subjects_from_json_100k", |b| {
        b.iter(|| docs.iter().filter_map(|d| e.subject(d).ok()).count())
    });
    g.finish();
}

criterion_group!(benches, bulk);
criterion_main!(benches);
