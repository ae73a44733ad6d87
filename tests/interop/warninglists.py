#!/usr/bin/env python3
"""The real MISP warninglists through `sightline warninglist import` (issue 4 §2).

Fetches the pinned pymispwarninglists wheel (BSD-3; it ships the lists) with
`pip download` into a temporary directory, unpacks it, imports every list.json
into a fresh data directory, and checks that:
  - every list imports (none rejected) and `warninglist list` shows them all;
  - well-known values are on the right lists (8.8.8.8 on the public DNS
    resolvers list, RFC 1918 addresses, google.com on the Google list, ...);
  - the first entry of every string, hostname and CIDR list is found on that list;
  - a value on no list is reported as such (exit 1).
The lists are never committed.

    tests/interop/warninglists.py --sightline target/release/sightline
"""
import argparse
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PIN = "pymispwarninglists==1.7.0"

KNOWN = [
    ("8.8.8.8", "List of known IPv4 public DNS resolvers"),
    ("1.1.1.1", "List of known IPv4 public DNS resolvers"),
    ("2001:4860:4860::8888", "List of known IPv6 public DNS resolvers"),
    ("10.1.2.3", "List of RFC 1918 CIDR blocks"),
    ("192.168.0.1", "List of RFC 1918 CIDR blocks"),
    ("google.com", "List of known google domains"),
    ("www.google.com", "List of known google domains"),
]
NOWHERE = "zz-no-such-host-7f3a9c.invalid"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sightline", required=True)
    args = ap.parse_args()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(tmp / "dl"), PIN],
            check=True,
        )
        wheel = next((tmp / "dl").glob("*.whl"))
        with zipfile.ZipFile(wheel) as z:
            z.extractall(tmp / "wheel")
        lists_dir = next((tmp / "wheel").rglob("misp-warninglists")) / "lists"
        files = sorted(lists_dir.glob("*/list.json"))
        print(f"{wheel.name}: {len(files)} lists")
        data = tmp / "data"

        def sl(*a):
            return subprocess.run(
                [args.sightline, "--data", str(data), "warninglist", *a],
                capture_output=True,
                text=True,
            )

        r = sl("import", str(lists_dir))
        print(r.stdout.strip())
        if r.returncode != 0 or f"imported {len(files)} warninglists" not in r.stdout:
            failures.append(f"import: exit {r.returncode}: {r.stdout}{r.stderr}")

        r = sl("list", "--json")
        rows = [json.loads(l) for l in r.stdout.splitlines()]
        imported = {row["name"] for row in rows if row["source"] == "imported"}
        lists = [json.loads(f.read_text(encoding="utf-8")) for f in files]
        names = {l["name"] for l in lists}
        if imported != names:
            failures.append(f"list: missing {sorted(names - imported)[:5]}")
        skipped = sum(row["skipped"] for row in rows)
        print(f"{len(rows)} lists loaded, {sum(row['entries'] for row in rows)} entries, {skipped} unusable")

        # Known values, and each list's own first entry.
        want = list(KNOWN)
        for l in lists:
            if l.get("type", "string") in ("string", "hostname", "cidr"):
                first = next((e.strip() for e in l["list"] if e.strip()), None)
                if first and l.get("type") == "hostname":
                    # A hostname entry matches itself and its subdomains.
                    first = first.removeprefix("*.").lstrip(".")
                if first:
                    want.append((first, l["name"]))
        values = sorted({v for v, _ in want})
        r = sl("check", "--", *values)
        if r.returncode not in (0, 1):
            failures.append(f"check: exit {r.returncode}: {r.stderr[-500:]}")
        found = {}
        for line in r.stdout.splitlines():
            v, _, name = line.partition(": ")
            found.setdefault(v, set()).add(name)
        for v, name in want:
            if name not in found.get(v, set()):
                failures.append(f"{v!r} not reported on {name!r} (got {sorted(found.get(v, []))[:4]})")
        print(f"{len(want)} value/list pairs checked")

        r = sl("check", NOWHERE)
        if r.returncode != 1 or "not on any list" not in r.stdout:
            failures.append(f"{NOWHERE}: expected no list, got exit {r.returncode}: {r.stdout}")

    for f in failures:
        print("FAIL:", f)
    print(f"{len(want) + 3 - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
