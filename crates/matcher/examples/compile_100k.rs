//! Peak memory and time of compiling the benchmark workload (issue 4 §4: 100,000
//! indicators in < 2 s, < 1 GB). Prints the process's peak RSS (Linux).
//!
//!     cargo run --release -p sightline-matcher --example compile_100k

use std::time::Instant;

use sightline_matcher::compiled::IndicatorSet;
use sightline_matcher::workload;

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn main() {
    let specs = workload::indicators(100_000, 1_000);
    let before = peak_rss_kib().unwrap_or(0);
    let t = Instant::now();
    let (set, rejected) = IndicatorSet::compile(specs);
    let took = t.elapsed();
    let after = peak_rss_kib().unwrap_or(0);
    println!(
        "compiled {} indicators ({} rejected) in {:.3} s; peak RSS {} MiB (before compile {} MiB); {:?}",
        set.len(),
        rejected.len(),
        took.as_secs_f64(),
        after / 1024,
        before / 1024,
        set.stats()
    );
}
