#!/usr/bin/env python3
"""bench/gen-telemetry's promise, checked with the real binary (issue 4 §4):
`sightline match` finds exactly the manifest's matching events, in the Zeek and
the STIX form of the same stream, and every planted multi-observation sequence.

    tests/interop/gen_telemetry.py --sightline target/release/sightline
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sightline", required=True)
    args = ap.parse_args()
    failures = []
    checks = 0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for fmt in ("zeek", "stix"):
            out = tmp / fmt
            subprocess.run(
                [sys.executable, str(ROOT / "bench/gen-telemetry"), "--events", "20000", "--indicators", "6000",
                 "--seed", "5", "--format", fmt, "--out", str(out)],
                check=True, capture_output=True,
            )
            manifest = json.loads((out / "manifest.json").read_text())
            r = subprocess.run(
                [args.sightline, "--data", str(out / "data"), "match", "--indicators", str(out / "indicators.json"),
                 "--input", str(out / "events.jsonl"), "--format", fmt,
                 # The generator's indicators (valid from 2024-01-01, no confidence) are
                 # decayed by its events' time; this checks matching, not the lifecycle.
                 "--decay", "off"],
                capture_output=True, text=True,
            )
            if r.returncode not in (0, 1):
                failures.append(f"{fmt}: match exit {r.returncode}: {r.stderr[-500:]}")
                continue
            ms = [json.loads(l) for l in r.stdout.splitlines()]
            single = {m["line"] for m in ms if not m["name"].startswith("Staged C2")}
            multi = {m["name"] for m in ms if m["name"].startswith("Staged C2")}
            for what, got, want in [
                ("single-observation matching events", len(single), manifest["matching_events_single_observation"]),
                ("multi-observation patterns matched", len(multi), manifest["planted_multi_observation_sequences"]),
            ]:
                checks += 1
                if got != want:
                    failures.append(f"{fmt}: {what}: {got}, manifest says {want}")
                else:
                    print(f"{fmt}: {what}: {got}")
    for f in failures:
        print("FAIL:", f)
    print(f"{checks - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
