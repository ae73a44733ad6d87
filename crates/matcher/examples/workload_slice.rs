//! For bench/matcher/run: measures the compiled matcher on the benchmark
//! workload (100,000 indicators, 100,000 conn/dns events, one core) and writes
//! a slice of the same workload for the OASIS matcher to time in the same run:
//! `DIR/patterns.jsonl` (one pattern per line), `DIR/events.jsonl` (one STIX 2.1
//! bundle per line: observed-data + SCOs), and prints a JSON summary.
//!
//!     cargo run --release -p sightline-matcher --example workload_slice -- DIR [EVERY] [EVENTS]

use std::io::Write;
use std::time::Instant;

use serde_json::json;
use sightline_matcher::compiled::{IndicatorSet, Matcher};
use sightline_matcher::workload;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(
        args.get(1)
            .ok_or("usage: workload_slice DIR [EVERY] [EVENTS]")?,
    );
    // 101: the slice walks through every indicator kind (index % 100).
    let every: usize = args.get(2).map_or(Ok(101), |s| s.parse())?;
    let slice_events: usize = args.get(3).map_or(Ok(50), |s| s.parse())?;
    std::fs::create_dir_all(&dir)?;

    let specs = workload::indicators(100_000, 1_000);
    let t = Instant::now();
    let (set, _) = IndicatorSet::compile(specs.clone());
    let compile_s = t.elapsed().as_secs_f64();
    let events = workload::events(100_000, 1_000, 100_000);
    let mut runs = Vec::new();
    let mut matches = 0;
    for _ in 0..5 {
        let mut m = Matcher::new();
        let t = Instant::now();
        matches = events.iter().map(|e| m.scan(&set, e).len()).sum::<usize>();
        runs.push(t.elapsed().as_secs_f64());
    }
    runs.sort_by(f64::total_cmp);
    let median = runs[runs.len() / 2];

    // The slice: every EVERY-th indicator (all kinds), the first events with hits.
    let slice: Vec<_> = specs.iter().step_by(every).cloned().collect();
    let picked: Vec<u64> = (0..specs.len() as u64).step_by(every).collect();
    // Every second event names a slice indicator, so both sides have matches to find.
    let hot = workload::events_naming(slice_events, 2, &picked);
    let (slice_set, _) = IndicatorSet::compile(slice.clone());
    let mut m = Matcher::new();
    // Pairs that match one event on its own (what the OASIS matcher answers per pair).
    let mut slice_pairs = 0;
    for e in &hot {
        m.reset();
        slice_pairs += m.scan(&slice_set, e).len();
    }
    let mut pf = std::io::BufWriter::new(std::fs::File::create(dir.join("patterns.jsonl"))?);
    for s in &slice {
        writeln!(pf, "{}", json!(s.pattern))?;
    }
    let mut ef = std::io::BufWriter::new(std::fs::File::create(dir.join("events.jsonl"))?);
    for (k, e) in hot.iter().enumerate() {
        let mut objects = vec![json!({
            "type": "observed-data", "spec_version": "2.1",
            "id": format!("observed-data--00000000-0000-4000-8000-{k:012x}"),
            "created": "2023-11-14T22:13:20Z", "modified": "2023-11-14T22:13:20Z",
            "first_observed": "2023-11-14T22:13:20Z", "last_observed": "2023-11-14T22:13:20Z",
            "number_observed": 1,
            "object_refs": e.objects.iter().map(|(key, _)| format!("x--{k}-{key}")).collect::<Vec<_>>(),
        })];
        for (key, o) in &e.objects {
            let mut o = o.to_json();
            o["id"] = json!(format!("x--{k}-{key}"));
            for r in ["src_ref", "dst_ref"] {
                if let Some(v) = o.get(r).and_then(|v| v.as_str()).map(str::to_owned) {
                    o[r] = json!(format!("x--{k}-{v}"));
                }
            }
            if let Some(list) = o
                .get("resolves_to_refs")
                .and_then(|v| v.as_array())
                .cloned()
            {
                o["resolves_to_refs"] = json!(list
                    .iter()
                    .filter_map(|v| v.as_str())
                    .map(|v| format!("x--{k}-{v}"))
                    .collect::<Vec<_>>());
            }
            objects.push(o);
        }
        writeln!(
            ef,
            "{}",
            json!({"type": "bundle", "id": format!("bundle--00000000-0000-4000-8000-{k:012x}"), "objects": objects})
        )?;
    }
    pf.flush()?;
    ef.flush()?;
    println!(
        "{}",
        json!({
            "indicators": set.len(), "compile_s": compile_s,
            "events": events.len(), "match_median_s": median, "match_runs": runs.len(),
            "events_per_s": events.len() as f64 / median, "matches": matches,
            "slice_indicators": slice.len(), "slice_events": hot.len(), "slice_matching_pairs": slice_pairs,
        })
    );
    Ok(())
}
