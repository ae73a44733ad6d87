#!/usr/bin/env python3
"""Real-data interop test: public STIX 2.1 files through the real `sightline` binary.

Data: $SIGHTLINE_TEST_DATA (default ../shared/data/real relative to the repo root):
oasis-examples, attack (ics, mobile, enterprise .json.gz), attack-flow, opencti-datasets.
Where the directory is absent this prints "realdata: NOT RUN: ..." and exits 0.

1. `sightline validate FILE` on every file: exit 0 for the valid ones, exit 1 for the
   8 invalid Attack Flow files that SOURCES.md lists (stix2-validator's verdicts);
   `--format jsonl` gives one line per object in input order, and on the files under
   1 MB each object's verdict equals the OASIS validator's.
2. `sightline --data TMP import --json` of all valid files into a fresh store: exit 0,
   and the summary counts add up; `import` of the invalid files into another store
   exits 1 and rejects something.
3. `sightline --data TMP export --all-versions`: every imported object comes back
   JSON-equal (both sides parsed, compared as dicts per (id, modified)), and nothing
   comes back that was not imported.

Usage: realdata.py [--sightline PATH] [--data-dir DIR] [--keep]
Exit status: 0 all checks passed (or data absent), 1 a check failed, 2 harness error.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed: list[str] = []

    def check(self, ok: bool, what: str) -> bool:
        if ok:
            self.passed += 1
        else:
            self.failed.append(what)
            print(f"  FAIL: {what}")
        return ok


def load_objects(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        doc = json.load(f)
    if isinstance(doc, dict) and doc.get("type") == "bundle":
        return list(doc.get("objects") or [])
    if isinstance(doc, list):
        return doc
    return [doc]


def invalid_files_from_sources(data: Path) -> list[str]:
    """The stems listed after 'Invalid:' in SOURCES.md (may span lines, ends with '.')."""
    text = (data / "SOURCES.md").read_text(encoding="utf-8")
    m = re.search(r"Invalid:\s*(.*?)\.\s*$", text, re.S | re.M)
    if not m:
        return []
    return [s.strip() for s in re.split(r",\s*", " ".join(m.group(1).split())) if s.strip()]


def key(obj: dict) -> tuple[str, str]:
    return (str(obj.get("id")), str(obj.get("modified") or obj.get("created") or ""))


def run(cmd: list[str], timeout: int = 1200) -> tuple[subprocess.CompletedProcess, float]:
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p, time.monotonic() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sightline", default=os.environ.get("SIGHTLINE_BIN", str(ROOT / "target/release/sightline")))
    ap.add_argument("--data-dir", default=os.environ.get("SIGHTLINE_TEST_DATA", str(ROOT.parent / "shared/data/real")))
    ap.add_argument("--keep", action="store_true", help="keep the temporary stores and export")
    args = ap.parse_args()

    data = Path(args.data_dir)
    if not data.is_dir():
        print(f"realdata: NOT RUN: {data} does not exist (set SIGHTLINE_TEST_DATA to the real-data folder)")
        return 0
    binary = args.sightline
    if not Path(binary).is_file():
        print(f"realdata: ERROR: sightline binary not found at {binary}")
        return 2

    c = Checks()
    files = sorted(p for p in data.rglob("*") if p.is_file() and (p.name.endswith(".json") or p.name.endswith(".json.gz")))
    invalid_stems = invalid_files_from_sources(data)
    c.check(len(invalid_stems) == 8, f"SOURCES.md lists 8 invalid Attack Flow files (found {len(invalid_stems)}: {invalid_stems})")
    by_stem = {p.name.removesuffix(".gz").removesuffix(".json"): p for p in files}
    for s in invalid_stems:
        c.check(s in by_stem, f"invalid file {s} listed in SOURCES.md exists")
    invalid = {by_stem[s] for s in invalid_stems if s in by_stem}
    valid = [p for p in files if p not in invalid]
    print(f"realdata: {len(files)} files under {data} ({len(valid)} valid, {len(invalid)} known invalid)")

    # 1. validate
    print("\n1. sightline validate FILE")
    print(f"  {'file':<72} {'objects':>7} {'want':>5} {'exit':>5} {'secs':>6}")
    expected_objects: dict[tuple[str, str], list[dict]] = {}
    n_input = 0
    for p in files:
        want = 1 if p in invalid else 0
        proc, secs = run([binary, "validate", str(p)])
        try:
            objs = load_objects(p)
        except (OSError, ValueError) as e:
            print(f"realdata: ERROR: cannot parse {p}: {e}")
            return 2
        rel = str(p.relative_to(data))
        print(f"  {rel:<72} {len(objs):>7} {want:>5} {proc.returncode:>5} {secs:>6.2f}")
        if not c.check(proc.returncode == want, f"validate {rel}: exit {proc.returncode}, want {want}"):
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-6:]
            for ln in tail:
                print(f"      | {ln[:200]}")
        if p not in invalid:
            n_input += len(objs)
            for o in objs:
                expected_objects.setdefault(key(o), []).append(o)

    # 1b. per-object verdicts: --format jsonl gives one line per object, in order;
    # on the files under 1 MB (all but ATT&CK, for time) each verdict must equal the
    # OASIS validator's, object by object.
    print("\n1b. sightline validate --format jsonl, per object (vs OASIS on files < 1 MB)")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from validator_diff import oasis_verdict

    n_cmp = 0
    disagreements: list[str] = []
    for p in files:
        rel = str(p.relative_to(data))
        proc, _ = run([binary, "validate", "--format", "jsonl", str(p)])
        objs = load_objects(p)
        lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
        if not c.check(len(lines) == len(objs), f"validate --format jsonl {rel}: {len(lines)} lines for {len(objs)} objects"):
            continue
        try:
            recs = [json.loads(ln) for ln in lines]
        except json.JSONDecodeError as e:
            c.check(False, f"validate --format jsonl {rel}: output is JSON Lines ({e})")
            continue
        c.check([r.get("id") for r in recs] == [o.get("id") for o in objs], f"validate --format jsonl {rel}: ids in input order")
        if p.stat().st_size < 1_000_000:
            for o, r in zip(objs, recs):
                n_cmp += 1
                v = oasis_verdict(o)
                if v.valid != r.get("valid"):
                    first = (r.get("errors") or [v.detail])[0]
                    disagreements.append(f"{rel} {o.get('id')}: OASIS {'valid' if v.valid else 'invalid'}, "
                                         f"sightline {'valid' if r.get('valid') else 'invalid'}: {str(first)[:160]}")
    print(f"  {len(files)} files: line counts and id order checked; {n_cmp} objects compared with OASIS, "
          f"{len(disagreements)} differ")
    for dline in disagreements[:30]:
        print(f"      {dline}")
    c.check(not disagreements, f"per-object verdicts equal OASIS's on {n_cmp} objects ({len(disagreements)} differ)")

    tmp = Path(tempfile.mkdtemp(prefix="sightline-realdata-"))
    try:
        # 2. import
        print("\n2. sightline import")
        store = tmp / "store"
        proc, secs = run([binary, "--data", str(store), "import", "--json", *map(str, valid)])
        print(f"  import of {len(valid)} files ({n_input} objects, {len(expected_objects)} distinct id+modified): "
              f"exit {proc.returncode} in {secs:.2f}s")
        # An id+modified read again with other content is a conflict: never
        # stored over the first (issue 12 §1), reported, and the import exits 1.
        # Equal JSON in other formatting is a duplicate.
        expected_conflicts = sum(1 for v in expected_objects.values() for x in v[1:] if x != v[0])
        want_exit = 1 if expected_conflicts else 0
        c.check(proc.returncode == want_exit,
                f"import of the valid files exits {want_exit} (got {proc.returncode}): {proc.stderr.strip()[-500:]}")
        try:
            summary = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {}
        except json.JSONDecodeError:
            summary = {}
        print(f"  summary: {json.dumps(summary)[:300]}")
        if c.check(all(isinstance(summary.get(k), int) for k in ("new", "duplicate", "rejected")),
                   "import --json prints {new, duplicate, rejected}"):
            c.check(summary["rejected"] == 0, f"nothing rejected (rejected={summary['rejected']})")
            c.check(summary["new"] == len(expected_objects),
                    f"new ({summary['new']}) == distinct id+modified in the input ({len(expected_objects)})")
            conflicts = summary.get("conflicts", 0)
            c.check(conflicts == expected_conflicts,
                    f"conflicts ({conflicts}) == objects whose id+modified came before with other content "
                    f"({expected_conflicts})")
            total = summary["new"] + summary["duplicate"] + conflicts + summary["rejected"]
            c.check(total == n_input, f"new+duplicate+conflicts+rejected ({total}) == objects read ({n_input})")

        if invalid:
            bad_store = tmp / "store-invalid"
            proc, _ = run([binary, "--data", str(bad_store), "import", "--json", *map(str, sorted(invalid))])
            c.check(proc.returncode == 1, f"import of the invalid Attack Flow files exits 1 (got {proc.returncode})")
            try:
                s2 = json.loads(proc.stdout.strip().splitlines()[-1])
                c.check(s2.get("rejected", 0) > 0, f"import of the invalid files rejects something ({s2})")
            except (json.JSONDecodeError, IndexError):
                c.check(False, f"import --json of the invalid files prints a summary (stdout: {proc.stdout[-300:]!r})")

        # 3. export and compare
        print("\n3. sightline export --all-versions")
        out = tmp / "export.json"
        proc, secs = run([binary, "--data", str(store), "export", "--all-versions", "-o", str(out)])
        c.check(proc.returncode == 0, f"export exits 0 (got {proc.returncode}): {proc.stderr.strip()[-500:]}")
        exported: list[dict] = []
        if out.is_file():
            try:
                bundle = json.loads(out.read_text(encoding="utf-8"))
                c.check(isinstance(bundle, dict) and bundle.get("type") == "bundle", "export writes a bundle")
                exported = list(bundle.get("objects") or [])
            except json.JSONDecodeError as e:
                c.check(False, f"export output is JSON ({e})")
        else:
            c.check(False, "export -o FILE writes FILE")
        print(f"  exported {len(exported)} objects in {secs:.2f}s")
        got: dict[tuple[str, str], dict] = {}
        dup = 0
        for o in exported:
            k = key(o)
            dup += k in got
            got[k] = o
        c.check(dup == 0, f"export has no duplicate id+modified ({dup} duplicates)")
        missing = [k for k in expected_objects if k not in got]
        extra = [k for k in got if k not in expected_objects]
        differ = [k for k, variants in expected_objects.items() if k in got and got[k] not in variants]
        conflicting = sum(1 for v in expected_objects.values() if any(x != v[0] for x in v))
        if conflicting:
            print(f"  note: {conflicting} id+modified pairs occur with different content in different files")
        c.check(not missing, f"every imported object is exported ({len(missing)} missing, e.g. {missing[:3]})")
        c.check(not extra, f"nothing is exported that was not imported ({len(extra)} extra, e.g. {extra[:3]})")
        if not c.check(not differ, f"exported objects are JSON-equal to the input ({len(differ)} differ)"):
            for k in differ[:5]:
                a, b = expected_objects[k][0], got[k]
                diffs = sorted(p for p in set(a) | set(b) if a.get(p) != b.get(p))
                print(f"      {k[0]} {k[1]}: properties differ: {diffs[:10]}")
                for p in diffs[:3]:
                    print(f"        {p}: in {json.dumps(a.get(p))[:120]}  out {json.dumps(b.get(p))[:120]}")
        print(f"  {len(got) - len(extra) - len(differ)} of {len(expected_objects)} objects round-tripped")
    finally:
        if args.keep:
            print(f"  kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print(f"realdata: {c.passed} passed, {len(c.failed)} failed")
    return 0 if not c.failed else 1


if __name__ == "__main__":
    sys.exit(main())
