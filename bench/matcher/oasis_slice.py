#!/usr/bin/env python3
"""Times the OASIS matcher (stix2-matcher, pinned in tests/interop/requirements.txt)
on a slice of the matcher benchmark workload written by the workload_slice example:
every pattern of DIR/patterns.jsonl against every bundle of DIR/events.jsonl, one
`stix2matcher.matcher.match` call per pair. Prints a JSON summary: pairs, seconds,
microseconds per pair, matching pairs."""

import json
import sys
import time
import warnings
from pathlib import Path

from stix2matcher.matcher import Pattern

warnings.filterwarnings("ignore")
d = Path(sys.argv[1])
patterns = [json.loads(l) for l in (d / "patterns.jsonl").read_text().splitlines() if l.strip()]
events = [json.loads(l) for l in (d / "events.jsonl").read_text().splitlines() if l.strip()]
compiled = [Pattern(p, "2.1") for p in patterns]  # parsing is not counted against the peer
matching = 0
t = time.perf_counter()
for p in compiled:
    for e in events:
        if p.match([e]):
            matching += 1
took = time.perf_counter() - t
pairs = len(patterns) * len(events)
print(json.dumps({"pairs": pairs, "seconds": took, "us_per_pair": took / pairs * 1e6, "matching_pairs": matching}))
