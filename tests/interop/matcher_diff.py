#!/usr/bin/env python3
"""Differential test: `sightline pattern eval --batch` against the OASIS matcher.

Generates the cases of tests/interop/matcher_cases.py (patterns over every operator,
path form, constant type, qualifier and observation operator, plus invalid patterns,
against STIX 2.1 observed-data with the SCOs alongside), evaluates each in-process
with the OASIS reference matcher stix2-matcher 3.0.0
(`stix2matcher.matcher.match(pattern, [bundle], stix_version="2.1")`) and, in one run,
with `sightline pattern eval --batch`, and compares the answers: matched / not matched /
error (an invalid pattern, or an evaluation the matcher refuses).

The answers must agree, except on cases carrying a tag of KNOWN_DIFFERENCES: classes
where the OASIS matcher contradicts STIX 2.1 Part 9 (each with its section; the same
list is in docs/matcher-differences.md). Those are counted per class and not judged.
A fifth of the cases are given to Sightline as 2.0 observed-data with embedded
`objects` (the same observations), which must not change its answer.

Usage:
    matcher_diff.py [--sightline PATH] [--count N] [--seed S] [--keep DIR] [-v]

Exit status: 0 when every judged case agrees, 1 otherwise, 2 on a harness error.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import matcher_cases  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

# tag -> (class, STIX 2.1 Part 9 section, what the OASIS matcher does instead).
# Keep in step with docs/matcher-differences.md.
KNOWN_DIFFERENCES: dict[str, tuple[str, str, str]] = {
    "cidr-v6": ("D1", "§9.3 ISSUBSET/ISSUPERSET",
                "IPv4 only (inet_aton): any IPv6 value or constant raises; the spec covers IPv6 too"),
    "cidr-superset": ("D2", "§9.3 ISSUPERSET",
                      "needs a '/' in the stored value, so a bare address (a /32) raises instead of comparing"),
    "cidr-bare": ("D2", "§9.3 ISSUBSET", "needs a '/' in the constant; a bare address (a /32) raises"),
    "value-cidr": ("D2", "§9.3 / ipv4-addr value", "a CIDR held in ipv4-addr:value is not an address to it"),
    "cidr-zero": ("D3", "§9.3 ISSUBSET", "prefix /0 is rejected"),
    "exists": ("D4", "§9.3 EXISTS", "EXISTS is not implemented (stix2-matcher#78): NOT ignored, crashes in AND/OR"),
    "exists-compound": ("D4", "§9.3 EXISTS", "EXISTS inside AND/OR raises TypeError"),
    "like-newline": ("D5", "§9.3 LIKE",
                     "LIKE becomes a Python regex without DOTALL and with '$': '%'/'_' skip newlines, "
                     "a trailing newline is ignored"),
    "ts-nanos": ("D6", "§9.4 timestamps", "timestamps truncated to microseconds"),
    "value-nanos": ("D6", "§9.4 timestamps", "timestamps truncated to microseconds"),
    "double-qualifier": ("D7", "§9.6 qualifiers",
                         "two qualifiers of one kind on one expression are accepted (the spec forbids it)"),
    "regex-pcre": ("D8", "§9.3 MATCHES", "Python re, not PCRE: [[:alpha:]], (?<name>..), \\z differ or raise"),
    "cross-type-and": ("D9", "§9.5 comparison expressions",
                       "AND of comparisons on different object types inside one [ ] is accepted and evaluated; "
                       "the spec says it MUST NOT be (Sightline rejects the pattern)"),
}


class Timeout(Exception):
    pass


def _alarm(_sig, _frame):
    raise Timeout()


def oasis_answer(case: dict) -> str:
    """'true', 'false', 'error: ...' or 'timeout'."""
    from stix2matcher.matcher import match

    warnings.filterwarnings("ignore", category=FutureWarning)  # re on '[[:alpha:]]'

    bundle = {"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000",
              "objects": case["observed"]}
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(20)
    try:
        return "true" if match(case["pattern"], [bundle], stix_version="2.1") else "false"
    except Timeout:
        return "timeout"
    except Exception as e:  # the matcher raises many kinds; all mean "refused"
        return f"error: {type(e).__name__}: {str(e)[:120]}"
    finally:
        signal.alarm(0)


def sightline_answers(binary: str, cases: list[dict]) -> dict[str, str]:
    lines = []
    for c in cases:
        observed = c["observed"] if c["form"] == "2.1" else matcher_cases.to_stix20(c["observed"])
        lines.append(json.dumps({"id": c["id"], "pattern": c["pattern"], "observed": observed}))
    proc = subprocess.run([binary, "pattern", "eval", "--batch", "-"], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"sightline exited {proc.returncode}: {proc.stderr.strip()}")
    out = [json.loads(l) for l in proc.stdout.splitlines()]
    if len(out) != len(cases):
        raise RuntimeError(f"sightline printed {len(out)} lines for {len(cases)} cases")
    answers = {}
    for c, o in zip(cases, out):
        if o.get("id") != c["id"]:
            raise RuntimeError(f"line order broken: expected {c['id']}, got {o.get('id')}")
        answers[c["id"]] = ("true" if o["matched"] else "false") if "matched" in o else f"error: {o['error']}"
    return answers


def kind(answer: str) -> str:
    return "error" if answer.startswith("error") else answer


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sightline", default=os.environ.get("SIGHTLINE_BIN", str(ROOT / "target/release/sightline")))
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--keep", type=Path, help="write cases and both answers to DIR/matcher_cases.jsonl")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    if not Path(args.sightline).is_file():
        print(f"matcher_diff: ERROR: sightline binary not found at {args.sightline}")
        return 2
    cases = matcher_cases.generate(args.count, args.seed)
    try:
        ours = sightline_answers(args.sightline, cases)
    except (RuntimeError, subprocess.TimeoutExpired, OSError, json.JSONDecodeError) as e:
        print(f"matcher_diff: ERROR: {e}")
        return 2

    passed = failed = 0
    known = Counter()
    timeouts = 0
    verdicts = Counter()
    unexpected = []
    kept = []
    for c in cases:
        theirs = oasis_answer(c)
        mine = ours[c["id"]]
        verdicts[kind(mine)] += 1
        kept.append({**c, "oasis": theirs, "sightline": mine})
        if theirs == "timeout":
            timeouts += 1
            continue
        if kind(theirs) == kind(mine):
            passed += 1
            continue
        explained = [t for t in c["tags"] if t in KNOWN_DIFFERENCES]
        if explained:
            known[KNOWN_DIFFERENCES[explained[0]][0]] += 1
            continue
        failed += 1
        unexpected.append((c, theirs, mine))

    print(f"matcher_diff: {len(cases)} cases (seed {args.seed}); sightline answers: "
          + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))
    if known:
        print("Disagreements in documented classes (OASIS contradicts the spec; not judged):")
        for cls, n in sorted(known.items()):
            tag = next(t for t, v in KNOWN_DIFFERENCES.items() if v[0] == cls)
            print(f"  {cls} {KNOWN_DIFFERENCES[tag][1]}: {n} cases")
    if timeouts:
        print(f"OASIS matcher took over 20 s on {timeouts} cases (not judged)")
    for c, theirs, mine in unexpected[:40]:
        print(f"UNEXPECTED {c['id']} ({c['form']}): {c['pattern']}\n    oasis: {theirs}\n    sightline: {mine}")
        if args.verbose:
            print("    observed:", json.dumps(c["observed"]))
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        (args.keep / "matcher_cases.jsonl").write_text("".join(json.dumps(k) + "\n" for k in kept))
    print(f"matcher_diff: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
