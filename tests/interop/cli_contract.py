#!/usr/bin/env python3
"""The CLI contract other tools rely on, checked against the real binary.

- `validate` reads a bundle, a single object, a JSON array or JSON Lines, plain, .gz
  or stdin (`-`), and `--format jsonl` gives the same records whichever way it came;
- exit codes: 0 all valid, 1 some invalid, 2 unreadable input (missing file,
  truncated JSON, bad gzip), for validate and import alike;
- `import --json` prints {new, duplicate, rejected}; re-importing is idempotent
  (everything duplicate); `export` gives back a bundle; `get` finds an object by id.

Usage: cli_contract.py [--sightline PATH]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sightline", default=os.environ.get("SIGHTLINE_BIN", str(ROOT / "target/release/sightline")))
    args = ap.parse_args()
    binary = args.sightline
    if not Path(binary).is_file():
        print(f"cli_contract: ERROR: sightline binary not found at {binary}")
        return 2

    passed, failed = 0, []

    def check(ok: bool, what: str) -> None:
        nonlocal passed
        print(f"  {'ok  ' if ok else 'FAIL'} {what}")
        if ok:
            passed += 1
        else:
            failed.append(what)

    def sl(*a: str, stdin: bytes | None = None, data: Path | None = None) -> subprocess.CompletedProcess:
        cmd = [binary] + (["--data", str(data)] if data else []) + list(a)
        return subprocess.run(cmd, input=stdin, capture_output=True, timeout=300)

    b = corpus.base_objects()
    good = [b["indicator"], b["campaign"], b["identity"], b["ipv4-addr"], b["relationship"]]
    bad = dict(b["campaign"], confidence=101)
    with tempfile.TemporaryDirectory(prefix="sightline-cli-") as tmp:
        t = Path(tmp)
        bundle = {"type": "bundle", "id": "bundle--0f1e8f7c-3a43-4b8c-9a55-6f2d1c9e4b01", "objects": good}
        (t / "bundle.json").write_text(json.dumps(bundle, indent=2))
        (t / "object.json").write_text(json.dumps(good[0]))
        (t / "array.json").write_text(json.dumps(good))
        (t / "lines.jsonl").write_text("".join(json.dumps(o) + "\n" for o in good))
        with gzip.open(t / "bundle.json.gz", "wt") as f:
            json.dump(bundle, f)
        (t / "mixed.jsonl").write_text(json.dumps(good[0]) + "\n" + json.dumps(bad) + "\n")
        (t / "truncated.json").write_text(json.dumps(bundle)[:-40])
        (t / "bad.json.gz").write_bytes(b"\x1f\x8b\x08\x00not really gzip")

        # validate: the four shapes, .gz and stdin agree record for record
        ref = sl("validate", "--format", "jsonl", str(t / "bundle.json"))
        check(ref.returncode == 0, f"validate bundle: exit 0 (got {ref.returncode})")
        ref_lines = ref.stdout.decode().splitlines()
        check(len(ref_lines) == len(good), f"validate --format jsonl: one line per object ({len(ref_lines)})")
        for name in ("array.json", "lines.jsonl", "bundle.json.gz"):
            p = sl("validate", "--format", "jsonl", str(t / name))
            check(p.returncode == 0 and p.stdout.decode().splitlines() == ref_lines,
                  f"validate {name}: same records as the bundle (exit {p.returncode})")
        p = sl("validate", "--format", "jsonl", "-", stdin=(t / "bundle.json").read_bytes())
        check(p.returncode == 0 and p.stdout.decode().splitlines() == ref_lines, "validate - (stdin): same records")
        p = sl("validate", "--format", "jsonl", str(t / "object.json"))
        check(p.returncode == 0 and len(p.stdout.decode().splitlines()) == 1, "validate a single object: one record")
        p = sl("validate", "--format", "jsonl", str(t / "mixed.jsonl"))
        recs = [json.loads(x) for x in p.stdout.decode().splitlines() if x.strip()]
        check(p.returncode == 1 and [r.get("valid") for r in recs] == [True, False],
              f"validate one valid + one invalid line: exit 1, verdicts [true, false] (exit {p.returncode})")
        if len(recs) == 2:
            errs = recs[1].get("errors") or []
            check(bool(errs) and all(isinstance(e, str) and " /" in e for e in errs),
                  f"errors read 'CODE /pointer: message' ({errs[:1]})")
        p = sl("validate", str(t / "mixed.jsonl"))
        check(p.returncode == 1, f"validate (human format) exit 1 on an invalid object (got {p.returncode})")
        for name in ("no-such-file.json", "truncated.json", "bad.json.gz"):
            p = sl("validate", str(t / name))
            check(p.returncode == 2, f"validate {name}: exit 2, unreadable (got {p.returncode})")

        # import / export / get
        store = t / "store"
        p = sl("import", "--json", str(t / "bundle.json"), data=store)
        s = _summary(p.stdout)
        check(p.returncode == 0 and s.get("new") == len(good) and s.get("rejected") == 0,
              f"import --json: exit 0, new={len(good)}, rejected=0 (exit {p.returncode}, {_short(s)})")
        p = sl("import", "--json", str(t / "bundle.json.gz"), data=store)
        s = _summary(p.stdout)
        check(p.returncode == 0 and s.get("new") == 0 and s.get("duplicate") == len(good),
              f"re-import is idempotent: new=0, duplicate={len(good)} ({_short(s)})")
        p = sl("import", "--json", str(t / "mixed.jsonl"), data=t / "store2")
        s = _summary(p.stdout)
        check(p.returncode == 1 and s.get("rejected") == 1, f"import with an invalid object: exit 1, rejected=1 ({_short(s)})")
        p = sl("import", "--json", str(t / "truncated.json"), data=t / "store3")
        check(p.returncode == 2, f"import of truncated JSON: exit 2 (got {p.returncode})")
        p = sl("export", data=store)
        try:
            out = json.loads(p.stdout)
            got = {o["id"]: o for o in out.get("objects", [])}
            check(p.returncode == 0 and out.get("type") == "bundle" and all(got.get(o["id"]) == o for o in good),
                  f"export: a bundle with every object, JSON-equal ({len(got)} objects)")
        except (json.JSONDecodeError, KeyError, AttributeError) as e:
            check(False, f"export prints a bundle ({e})")
        p = sl("export", "--type", "indicator", data=store)
        try:
            types = {o.get("type") for o in json.loads(p.stdout).get("objects", [])}
            check(p.returncode == 0 and types == {"indicator"}, f"export --type indicator: only indicators ({types})")
        except json.JSONDecodeError as e:
            check(False, f"export --type prints a bundle ({e})")
        p = sl("get", good[1]["id"], data=store)
        check(p.returncode == 0 and good[1]["id"] in p.stdout.decode(), f"get ID finds it (exit {p.returncode})")
        p = sl("get", "campaign--00000000-0000-4000-8000-000000000000", data=store)
        check(p.returncode == 1, f"get of an unknown id: exit 1 (got {p.returncode})")

    print(f"cli_contract: {passed} passed, {len(failed)} failed")
    return 0 if not failed else 1


def _summary(out: bytes) -> dict:
    try:
        return json.loads(out.decode().strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return {}


def _short(s: dict) -> str:
    return json.dumps({k: s.get(k) for k in ("new", "duplicate", "rejected")})


if __name__ == "__main__":
    sys.exit(main())
