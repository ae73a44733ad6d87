//! Issue 13 figures for the streaming temporal engine (recorded in
//! BENCHMARKS.md, "Issue 13: temporal engine"): 100,000 single-observation
//! indicators with and without 1,000 temporal ones (half REPEATS up to 1,000
//! within up to 1 h, half FOLLOWEDBY within up to 10 min) over conn/dns
//! events with periodic beacons, matched on one core the way `sightline
//! match` does (Probe on every event, Matcher::advance_at on the non-empty
//! probes, in order). Events are pre-built (BENCH_TEMPORAL_BATCH, 250,000)
//! and replayed with their times moved forward until BENCH_TEMPORAL_EVENTS
//! (10,000,000) were matched; BENCH_TEMPORAL_RUNS (3) runs each, interleaved,
//! median and best of the thread's CPU time (so other work on the machine
//! counts less than in wall time).
//!
//!     cargo bench -p sightline-matcher --bench temporal

use std::time::Instant;

use sightline_matcher::compiled::{IndicatorSet, Matcher, Probe};
use sightline_matcher::workload;

/// This thread's time on a CPU (Linux schedstat, ns), so that a busy machine
/// (other builds) does not count; wall time elsewhere.
fn cpu_secs(wall: Instant) -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or_else(|| wall.elapsed().as_secs_f64(), |ns| ns / 1e9)
}

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Outcome {
    secs: f64,
    matches: u64,
    temporal_matches: u64,
    errors: usize,
    stats: sightline_matcher::TemporalStats,
}

#[inline(never)]
fn run(
    set: &IndicatorSet,
    batch: &mut [sightline_matcher::Observation],
    total: usize,
    spacing: i64,
) -> Outcome {
    let mut probe = Probe::new();
    let mut m = Matcher::new();
    let (mut matches, mut temporal_matches, mut errors) = (0u64, 0u64, 0usize);
    let span = spacing * i64::try_from(batch.len()).unwrap_or(0);
    let passes = total.div_ceil(batch.len());
    let mut line = 0u64;
    let mut secs = 0.0;
    for pass in 0..passes {
        if pass > 0 {
            // Outside the clock: the next replay, later in event time.
            for o in batch.iter_mut() {
                o.first_observed += span;
                o.last_observed += span;
            }
        }
        let wall = Instant::now();
        let start = cpu_secs(wall);
        for o in batch.iter() {
            line += 1;
            let p = probe.probe(set, o);
            if p.is_empty() {
                continue;
            }
            for x in m.advance_at(set, o, p, line) {
                matches += 1;
                temporal_matches += u64::from(x.took_part.is_some());
            }
            errors += m.errors().len();
        }
        secs += cpu_secs(wall) - start;
    }
    // Put the batch back for the next run.
    for o in batch.iter_mut() {
        o.first_observed -= span * i64::try_from(passes - 1).unwrap_or(0);
        o.last_observed -= span * i64::try_from(passes - 1).unwrap_or(0);
    }
    Outcome {
        secs,
        matches,
        temporal_matches,
        errors,
        stats: m.temporal_stats(),
    }
}

fn main() {
    // `cargo bench` passes --bench; nothing else is understood.
    let total = knob("BENCH_TEMPORAL_EVENTS", 10_000_000);
    let batch_len = knob("BENCH_TEMPORAL_BATCH", 250_000).min(total);
    let runs = knob("BENCH_TEMPORAL_RUNS", 3).max(1);
    // 10 ms apart: 100 events/s, so an hour's window holds 360,000 events.
    let spacing = 10_000;
    let singles = workload::indicators(100_000, 0);
    let temporal = workload::temporal_indicators(1_000);
    let mut batch = workload::beacon_events(batch_len, 1_000, 100_000, spacing, 1_000);
    let t = Instant::now();
    let (without, _) = IndicatorSet::compile(singles.clone());
    let (with, rejected) = IndicatorSet::compile(singles.into_iter().chain(temporal));
    assert!(rejected.is_empty(), "{:?}", rejected.first());
    eprintln!(
        "compiled 2 sets in {:.1} s; {} events per run ({} replays of {})",
        t.elapsed().as_secs_f64(),
        total,
        total.div_ceil(batch_len),
        batch_len
    );
    // Interleaved (without, with, without, …) so that a busy machine slows
    // both alike; the median and the best of each.
    let sets = [("without temporal", &without), ("with temporal", &with)];
    let mut outs: [Vec<Outcome>; 2] = [Vec::new(), Vec::new()];
    // BENCH_TEMPORAL_ONLY=0 or 1 runs one side only (for `perf stat`), once.
    let only = std::env::var("BENCH_TEMPORAL_ONLY")
        .ok()
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(i) = only {
        let o = run(sets[i.min(1)].1, &mut batch, total, spacing);
        println!(
            "{}: {:.2} s, {} matches, {} errors",
            sets[i.min(1)].0,
            o.secs,
            o.matches,
            o.errors
        );
        return;
    }
    for _ in 0..runs {
        for (i, (_, set)) in sets.iter().enumerate() {
            outs[i].push(run(set, &mut batch, total, spacing));
        }
    }
    let mut medians = Vec::new();
    let mut bests = Vec::new();
    for (i, (label, _)) in sets.iter().enumerate() {
        let os = &mut outs[i];
        os.sort_by(|a, b| a.secs.total_cmp(&b.secs));
        let best = os[0].secs;
        let o = &os[os.len() / 2];
        println!(
            "{label:>17}: {:.2} s median of {runs} (best {best:.2} s), {:.0} events/s, {} matches ({} multi-observation), {} evaluation errors, temporal state {} bytes at the end (peak {}), {} evictions, {} capped, {} late",
            o.secs, total as f64 / o.secs, o.matches, o.temporal_matches, o.errors, o.stats.state_bytes,
            o.stats.peak_state_bytes, o.stats.evictions, o.stats.capped, o.stats.late
        );
        assert_eq!(o.errors, 0, "no evaluation errors");
        medians.push(o.secs);
        bests.push(best);
    }
    println!(
        "ratio with/without: {:.3} (medians), {:.3} (bests)",
        medians[1] / medians[0],
        bests[1] / bests[0]
    );
}
