//! Issue 4 §4 figures for the compiled matcher (recorded in BENCHMARKS.md):
//! compiling 100,000 indicators (incl. 1,000 multi-observation patterns), and
//! matching pre-built conn/dns-shaped observations on one core.
//!
//!     cargo bench -p sightline-matcher --bench matcher

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use sightline_matcher::compiled::{IndicatorSet, Matcher};
use sightline_matcher::workload;

fn compile(c: &mut Criterion) {
    let specs = workload::indicators(100_000, 1_000);
    let mut g = c.benchmark_group("compile");
    g.sample_size(10);
    g.throughput(Throughput::Elements(specs.len() as u64));
    g.bench_function("100k_indicators", |b| {
        b.iter_batched(
            || specs.clone(),
            |s| IndicatorSet::compile(s).0.len(),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn scan(c: &mut Criterion) {
    let (set, _) = IndicatorSet::compile(workload::indicators(100_000, 1_000));
    let events = workload::events(100_000, 1_000, 100_000);
    let mut g = c.benchmark_group("match");
    g.sample_size(10);
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function("conn_dns_100k_events_vs_100k_indicators", |b| {
        b.iter(|| {
            let mut m = Matcher::new();
            let mut hits = 0usize;
            for e in &events {
                hits += m.scan(&set, e).len();
            }
            hits
        })
    });
    g.finish();
}

criterion_group!(benches, compile, scan);
criterion_main!(benches);
