#!/usr/bin/env python3
"""The demo pack packs/bureau-121.json, checked by three independent tools.

1. the OASIS stix2-validator 3.3.2 (STIX 2.1, default options): no errors;
2. `sightline validate packs/bureau-121.json`: exit 0;
3. the OASIS stix2 library: `stix2.parse(text, allow_custom=True)` loads it, with
   the same number of objects;
4. `sightline --data TMP import --demo --json`: exit 0, every pack object new.

Usage: pack.py [--sightline PATH] [--pack FILE]
Exit status: 0 all passed, 1 a check failed, 2 harness error.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sightline", default=os.environ.get("SIGHTLINE_BIN", str(ROOT / "target/release/sightline")))
    ap.add_argument("--pack", default=str(ROOT / "packs/bureau-121.json"))
    args = ap.parse_args()

    passed, failed = 0, []

    def check(ok: bool, what: str) -> None:
        nonlocal passed
        print(f"  {'ok  ' if ok else 'FAIL'} {what}")
        if ok:
            passed += 1
        else:
            failed.append(what)

    pack = Path(args.pack)
    if not pack.is_file():
        check(False, f"the pack {pack} exists")
        print(f"pack: {passed} passed, {len(failed)} failed")
        return 1
    text = pack.read_text(encoding="utf-8")
    doc = json.loads(text)
    objects = doc.get("objects", []) if isinstance(doc, dict) else doc
    print(f"pack: {pack} ({len(objects)} objects)")

    # 1. OASIS validator
    from stix2validator import ValidationOptions, validate_file

    with contextlib.redirect_stdout(io.StringIO()):
        results = validate_file(str(pack), ValidationOptions(version="2.1"))
    errors, warnings = [], []
    for r in results.object_results:
        errors += [f"{r.object_id}: {e}" for e in r.errors]
        warnings += [f"{r.object_id}: {w}" for w in r.warnings]
    if results.fatal:
        errors.append(f"fatal: {results.fatal}")
    check(results.is_valid and not errors, f"stix2-validator: no errors ({len(errors)} errors, {len(warnings)} warnings)")
    for e in errors[:20]:
        print(f"      {e[:240]}")

    # 2. sightline validate
    binary = args.sightline
    if Path(binary).is_file():
        p = subprocess.run([binary, "validate", str(pack)], capture_output=True, text=True, timeout=300)
        check(p.returncode == 0, f"sightline validate exits 0 (got {p.returncode})")
        if p.returncode != 0:
            for ln in (p.stdout + p.stderr).strip().splitlines()[-20:]:
                print(f"      | {ln[:240]}")
    else:
        check(False, f"sightline binary exists at {binary}")

    # 3. stix2.parse
    import stix2

    try:
        parsed = stix2.parse(text, allow_custom=True)
        n = len(parsed.objects) if hasattr(parsed, "objects") else 1
        check(n == len(objects), f"stix2.parse(allow_custom=True) loads it ({n} objects)")
    except Exception as e:  # noqa: BLE001 - any failure to load is the finding
        check(False, f"stix2.parse(allow_custom=True) loads it: {type(e).__name__}: {str(e)[:300]}")

    # 4. sightline import --demo
    if Path(binary).is_file():
        with tempfile.TemporaryDirectory(prefix="sightline-pack-") as tmp:
            # --demo finds the pack relative to the repo: run from the root.
            p = subprocess.run([binary, "--data", tmp, "import", "--demo", "--json"],
                               capture_output=True, text=True, timeout=300, cwd=ROOT)
            check(p.returncode == 0, f"sightline import --demo exits 0 (got {p.returncode}) {p.stderr.strip()[-300:]}")
            try:
                s = json.loads(p.stdout.strip().splitlines()[-1])
                distinct = len({(o.get("id"), o.get("modified") or o.get("created")) for o in objects})
                check(s.get("new") == distinct and s.get("rejected") == 0,
                      f"import --demo: every pack object new, none rejected ({s}; want new={distinct})")
            except (json.JSONDecodeError, IndexError):
                check(False, f"import --demo --json prints a summary (stdout: {p.stdout[-300:]!r})")

    print(f"pack: {passed} passed, {len(failed)} failed")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
