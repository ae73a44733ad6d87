#!/usr/bin/env python3
"""Differential test: `sightline validate` against the OASIS stix2-validator.

Builds the corpus of tests/interop/corpus.py (a clean object of every STIX 2.1 type
plus one-rule mutations), validates each case in-process with the OASIS
stix2-validator 3.3.2 (`validate_instance`, STIX 2.1) and, in one run, with
`sightline validate --format jsonl`, and compares the verdicts (valid / invalid).

The verdicts must agree, except for the deliberate differences listed in
EXPECTED_DIFFERENCES below, where Sightline must give the verdict of the STIX 2.1
specification (the section is named) whatever OASIS says. Cases in OASIS_GAPS are
spec violations the OASIS tool does not detect and that are not (yet) agreed
deliberate differences: they are reported, not judged.

Usage:
    validator_diff.py [--sightline PATH] [--keep DIR] [-v]
    validator_diff.py --self-check     # OASIS side only: checks the corpus itself

Exit status: 0 when every judged case agrees, 1 otherwise, 2 on a harness error
(the binary is missing, its output is malformed, ...).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

# case name -> (the verdict Sightline must give: True = valid, spec section, why).
# These are the deliberate differences from the OASIS validator. Where OASIS
# happens to agree with the spec on one of them, that is fine too.
EXPECTED_DIFFERENCES: dict[str, tuple[bool, str, str]] = {
    "campaign/created-by-ref-not-identity": (
        False, "§3.2 (common properties: created_by_ref)",
        "created_by_ref MUST be the id of an identity; OASIS only checks it is an identifier"),
    "campaign/object-marking-refs-not-marking": (
        False, "§7.2.2 (object markings)",
        "object_marking_refs MUST refer to marking-definition objects; OASIS only checks identifiers"),
    "marking-definition-tlp2-clear/name-does-not-match-id": (
        False, "TLP 2.0 extension (extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d)",
        "the TLP 2.0 marking-definitions are fixed objects: name MUST match the id's TLP level"),
    "extension-definition/missing-created-by-ref": (
        False, "§7.3 (extension definition: created_by_ref is required)",
        "created_by_ref is REQUIRED on extension-definition; the OASIS schema omits it"),
    "granular-markings/both-marking-ref-and-lang": (
        False, "§7.2.3 (granular markings)",
        "marking_ref and lang are mutually exclusive: exactly one MUST be present"),
    "granular-markings/lang-only": (
        True, "§7.2.3 (granular markings)",
        "a granular marking with lang and no marking_ref is valid; OASIS wrongly requires marking_ref"),
}

# case name -> (spec section, why). Spec MUSTs that OASIS 3.3.2 does not check and
# that are not in the agreed list above: reported with both verdicts, not judged.
OASIS_GAPS: dict[str, tuple[str, str]] = {
    "malware/sample-refs-not-file-or-artifact": (
        "§4.11 (malware: sample_refs)", "sample_refs MUST refer to file or artifact objects"),
    "marking-definition-tlp2-clear/tlp-value-does-not-match-id": (
        "TLP 2.0 extension", "tlp_2_0 MUST match the fixed TLP 2.0 marking-definition the id names"),
}

# Every STIX 2.1 type the corpus must cover (19 SDOs, 2 SROs, 18 SCOs, 3 meta types).
REQUIRED_TYPES = set(corpus.SDO_TYPES) | set(corpus.SCO_TYPES) | {
    "relationship", "sighting", "marking-definition", "language-content", "extension-definition"}
MIN_CASES = 150


@dataclass
class Verdict:
    valid: bool
    detail: str  # first error, or a note


def oasis_verdict(obj: object) -> Verdict:
    from stix2validator import ValidationOptions, validate_instance

    opts = ValidationOptions(version="2.1")
    # stix2validator prints some best-practice notes to stdout; keep ours clean.
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            r = validate_instance(obj, opts)
        except Exception as e:  # noqa: BLE001 - OASIS raises on some malformed input
            # ValidationError is its way of rejecting input without id/type; other
            # exceptions are crashes on malformed input. Either way: not accepted.
            return Verdict(False, f"raised {type(e).__name__}: {e}")
    if r.is_valid:
        return Verdict(True, "; ".join(str(w) for w in r.warnings)[:200])
    return Verdict(False, str(r.errors[0]) if r.errors else "invalid")


def run_sightline(binary: str, cases: list[corpus.Case]) -> tuple[list[Verdict], list[str]]:
    """Validate all cases in one `sightline validate --format jsonl` run.

    Returns (verdicts in case order, harness problems). One extra non-JSON line is
    appended to check the JSON Lines contract (`"id": null, "valid": false`).
    """
    problems: list[str] = []
    lines = [json.dumps(c.obj, ensure_ascii=False, separators=(",", ":")) for c in cases]
    lines.append("this line is not JSON")
    with tempfile.TemporaryDirectory(prefix="sightline-vdiff-") as tmp:
        src = Path(tmp) / "input.jsonl"
        src.write_text("\n".join(lines) + "\n", encoding="utf-8")
        proc = subprocess.run([binary, "validate", "--format", "jsonl", str(src)],
                              capture_output=True, text=True, timeout=600)
    if proc.returncode not in (0, 1):
        raise HarnessError(f"sightline validate exited {proc.returncode}; stderr:\n{proc.stderr[-2000:]}")
    out = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if len(out) != len(lines):
        raise HarnessError(f"sightline printed {len(out)} lines for {len(lines)} input lines "
                           f"(JSON Lines input must give exactly one line per input line); "
                           f"exit {proc.returncode}, stderr:\n{proc.stderr[-2000:]}")
    verdicts: list[Verdict] = []
    for i, (case, raw) in enumerate(zip(cases, out)):
        try:
            rec = json.loads(raw)
        except json.JSONDecodeError as e:
            raise HarnessError(f"output line {i + 1} is not JSON ({e}): {raw[:200]}") from e
        if not isinstance(rec, dict) or not isinstance(rec.get("valid"), bool):
            raise HarnessError(f"output line {i + 1} lacks a boolean 'valid': {raw[:200]}")
        want_id = case.obj.get("id") if isinstance(case.obj, dict) else None
        if isinstance(want_id, str) and rec.get("id") != want_id:
            problems.append(f"line {i + 1} ({case.name}): output id {rec.get('id')!r} != input id {want_id!r}")
        errs = rec.get("errors") or []
        verdicts.append(Verdict(rec["valid"], str(errs[0]) if errs else ""))
    try:
        last = json.loads(out[-1])
        if last.get("id") is not None or last.get("valid") is not False:
            problems.append(f"non-JSON input line must give id null, valid false; got {out[-1][:200]}")
    except json.JSONDecodeError:
        problems.append(f"output for the non-JSON input line is not JSON: {out[-1][:200]}")
    # The non-JSON line is always invalid, so the run as a whole must exit 1.
    if proc.returncode != 1:
        problems.append(f"exit status {proc.returncode}, want 1 (some input is invalid)")
    return verdicts, problems


class HarnessError(Exception):
    pass


def import_consistency(binary: str, cases: list[corpus.Case], ours: list[Verdict]) -> list[str]:
    """`sightline import` must accept every object that `sightline validate` accepts.

    The cases Sightline judged valid go, as one bundle, into a fresh store; nothing
    may be rejected. Mutations of one base share its id+modified: an equal one is a
    duplicate, one with other content a conflict (kept out, reported, exit 1: issue
    12 §1), and their count must be exactly that.
    """
    accepted = [c.obj for c, v in zip(cases, ours) if v.valid]
    with tempfile.TemporaryDirectory(prefix="sightline-vdiff-import-") as tmp:
        src = Path(tmp) / "valid.json"
        src.write_text(json.dumps({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
                                   "objects": accepted}), encoding="utf-8")
        proc = subprocess.run([binary, "--data", str(Path(tmp) / "store"), "import", "--json", str(src)],
                              capture_output=True, text=True, timeout=600)
    try:
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return [f"import --json of the objects validate accepts printed no summary (exit {proc.returncode}): "
                f"{proc.stderr.strip()[-500:]}"]
    problems = []
    firsts: dict[tuple, dict] = {}
    want_conflicts = 0
    for o in accepted:
        k = (o.get("id"), o.get("modified", o.get("created", "")))
        if k in firsts:
            want_conflicts += o != firsts[k]
        else:
            firsts[k] = o
    if summary.get("conflicts", 0) != want_conflicts:
        problems.append(f"import reports {summary.get('conflicts')} conflicts, want {want_conflicts} "
                        "(objects whose id+modified came before with other content)")
    want_exit = 1 if want_conflicts else 0
    if proc.returncode != want_exit or summary.get("rejected", 0) != 0:
        details = "".join(f"\n    import rejected {r.get('id')}: {'; '.join(map(str, r.get('errors') or []))[:300]}"
                          for r in (summary.get("rejections") or [])[:10])
        problems.append(f"import rejects {summary.get('rejected')} of the {len(accepted)} objects that validate "
                        f"accepts (exit {proc.returncode}){details}")
    return problems


def check_corpus(cases: list[corpus.Case], oasis: list[Verdict]) -> list[str]:
    """The corpus itself: big enough, every type covered, every base object clean."""
    problems = []
    if len(cases) < MIN_CASES:
        problems.append(f"only {len(cases)} cases (want >= {MIN_CASES})")
    covered = {c.obj.get("type") for c in cases if c.name.endswith("/base")}
    if REQUIRED_TYPES - covered:
        problems.append(f"types not covered by a base object: {sorted(REQUIRED_TYPES - covered)}")
    names = {c.name for c in cases}
    for table in (EXPECTED_DIFFERENCES, OASIS_GAPS):
        for name in table:
            if name not in names:
                problems.append(f"table names a case that does not exist: {name}")
    for c, v in zip(cases, oasis):
        if c.name.endswith("/base") and not v.valid:
            problems.append(f"base object {c.name} is not valid under OASIS: {v.detail}")
    return problems


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    widths = [min(w, 90) for w in widths]
    fmt = " | ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header), "-+-".join("-" * w for w in widths)]
    for r in rows:
        lines.append(fmt.format(*(s if len(s) <= 90 else s[:87] + "..." for s in r)))
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sightline", default=os.environ.get("SIGHTLINE_BIN", str(ROOT / "target/release/sightline")))
    ap.add_argument("--self-check", action="store_true", help="check the corpus against OASIS only")
    ap.add_argument("--keep", type=Path, help="write the corpus (corpus.jsonl, cases.json) to this directory")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every case")
    args = ap.parse_args()

    cases = corpus.cases()
    oasis = [oasis_verdict(c.obj) for c in cases]
    problems = check_corpus(cases, oasis)
    n_types = len({c.obj.get("type") for c in cases if c.name.endswith("/base")})
    print(f"validator_diff: {len(cases)} cases, {sum(c.name.endswith('/base') for c in cases)} base objects "
          f"of {n_types} types; OASIS stix2-validator says {sum(v.valid for v in oasis)} valid")

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        (args.keep / "corpus.jsonl").write_text(
            "".join(json.dumps(c.obj, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
        (args.keep / "cases.json").write_text(json.dumps(
            [{"name": c.name, "spec_valid": c.spec_valid, "rule": c.rule,
              "oasis_valid": v.valid, "oasis_detail": v.detail} for c, v in zip(cases, oasis)], indent=1))
        print(f"validator_diff: corpus written to {args.keep}/corpus.jsonl and cases.json")

    if args.self_check:
        # Where OASIS and the spec disagree, outside the two tables: the corpus needs work.
        for c, v in zip(cases, oasis):
            known = c.name in EXPECTED_DIFFERENCES or c.name in OASIS_GAPS
            if v.valid != c.spec_valid and not known:
                problems.append(f"OASIS says {'valid' if v.valid else 'invalid'} for {c.name} "
                                f"but the spec says {'valid' if c.spec_valid else 'invalid'} ({c.rule}): {v.detail}")
        for p in problems:
            print(f"  PROBLEM: {p}")
        print(f"self-check: {len(cases) - len(problems)} passed, {len(problems)} failed")
        return 1 if problems else 0

    if not Path(args.sightline).is_file():
        print(f"validator_diff: ERROR: sightline binary not found at {args.sightline} "
              f"(build it with: cargo build --release -p sightline)")
        return 2
    try:
        ours, contract = run_sightline(args.sightline, cases)
    except (HarnessError, subprocess.TimeoutExpired, OSError) as e:
        print(f"validator_diff: ERROR: {e}")
        return 2
    problems += contract
    problems += import_consistency(args.sightline, cases, ours)

    passed = failed = 0
    unexpected: list[tuple[str, ...]] = []
    documented: list[tuple[str, ...]] = []
    gaps: list[tuple[str, ...]] = []
    vv = lambda b: "valid" if b else "INVALID"  # noqa: E731
    for c, o, s in zip(cases, oasis, ours):
        if c.name in EXPECTED_DIFFERENCES:
            must, section, why = EXPECTED_DIFFERENCES[c.name]
            ok = s.valid == must
            documented.append((c.name, vv(o.valid), vv(s.valid), vv(must), "ok" if ok else "WRONG", section))
        elif c.name in OASIS_GAPS:
            section, why = OASIS_GAPS[c.name]
            gaps.append((c.name, vv(o.valid), vv(s.valid), vv(c.spec_valid), section, why))
            continue  # not judged
        else:
            ok = s.valid == o.valid
            if not ok:
                unexpected.append((c.name, vv(o.valid), vv(s.valid), c.rule,
                                   (s.detail if not s.valid else o.detail).replace("\n", " ")))
        if args.verbose:
            print(f"  {'ok  ' if ok else 'FAIL'} {c.name}: oasis {vv(o.valid)}, sightline {vv(s.valid)}")
        passed += ok
        failed += not ok

    print("\nDeliberate differences (Sightline must give the spec's verdict):")
    print(table(documented, ("case", "OASIS", "sightline", "spec", "result", "spec section")))
    if gaps:
        print("\nSpec rules OASIS does not check (reported, not judged):")
        print(table(gaps, ("case", "OASIS", "sightline", "spec", "section", "rule")))
    if unexpected:
        print(f"\nUNEXPECTED DISAGREEMENTS ({len(unexpected)}):")
        print(table(unexpected, ("case", "OASIS", "sightline", "rule", "first error (of the side that rejects)")))
    else:
        print("\nNo unexpected disagreements.")
    for p in problems:
        print(f"PROBLEM: {p}")
    failed += len(problems)
    print(f"validator_diff: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
