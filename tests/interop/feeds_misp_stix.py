#!/usr/bin/env python3
"""Differential test of `sightline feed` (kind misp) against misp-stix (MISP's own
MISP -> STIX 2.1 converter, PyPI `misp-stix`), issue 15 §1: one MISP event holding
one `to_ids` attribute of every type the integration digest §4.5 lists; the
indicator pattern Sightline writes for each attribute is compared with the one
misp-stix writes (both reuse the attribute's UUID as the indicator id).

Documented differences (crates/feeds/src/misp.rs) are normalised before
comparing, and listed: misp-stix compares integer properties to quoted strings
(`dst_port = '443'`, `number = '174'`; STIX 2.1 types them as integers, and
Sightline's validator refuses a string there), and wraps sigma/snort/suricata/
yara rules in brackets (Sightline keeps the rule as it is). Any other difference,
or an indicator one side writes and the other does not, fails.

misp-stix pins stix2 3.0.2 while tests/interop/requirements.txt pins 3.0.1, so it
lives in a venv of its own:

    python3 -m venv .venv-misp && .venv-misp/bin/pip install misp-stix==2026.10.12

Exit status: 0 when every pattern agrees, 1 otherwise, 2 when it cannot run.

Usage: feeds_misp_stix.py [--sightline PATH] [--misp-python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EVENT = "5720accd-dd28-45f8-80e5-4605950d210f"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
# Digest §4.5's table, one value each.
ATTRIBUTES = [
    ("ip-src", "1.2.3.4"),
    ("ip-dst", "5.6.7.8"),
    ("ip-dst", "2001:db8::1"),
    ("ip-dst|port", "5.6.7.8|5678"),
    ("ip-src|port", "1.2.3.4|1234"),
    ("domain", "circl.lu"),
    ("hostname", "www.circl.lu"),
    ("domain|ip", "circl.lu|149.13.33.14"),
    ("url", "https://vm.misp-project.org/latest/"),
    ("uri", "/gate.php"),
    ("link", "https://misp-project.org/"),
    ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
    ("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    ("sha256", SHA256),
    ("filename|sha256", f"filename4|{SHA256}"),
    ("filename|md5", "filename5|d41d8cd98f00b204e9800998ecf8427e"),
    ("filename", "evil.exe"),
    ("email-src", "src@email.test"),
    ("email-dst", "dst@email.test"),
    ("user-agent", "Mozilla/5.0 (X11; Linux x86_64)"),
    ("x509-fingerprint-sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    ("AS", "174"),
    ("yara", "rule x { condition: true }"),
    ("sigma", "title: x\nlogsource:\n  product: windows\ndetection:\n  s:\n    Image: x.exe\n  condition: s"),
    ("snort", "alert tcp any any -> any 80 (msg:\"x\"; sid:1;)"),
]

MISP_STIX = r"""
import json, sys
from misp_stix_converter import MISPtoSTIX21Parser
p = MISPtoSTIX21Parser()
p.parse_misp_event(json.load(sys.stdin))
out = {}
for o in p.stix_objects:
    d = json.loads(o.serialize())
    if d.get("type") == "indicator":
        out[d["id"]] = [d["pattern"], d.get("pattern_type")]
print(json.dumps(out))
"""


def event() -> dict:
    attrs = [
        {"uuid": f"572071e4-0000-4000-8000-{i:012d}", "type": t, "category": "Network activity",
         "value": v, "to_ids": True, "timestamp": "1777600000", "comment": "", "distribution": "5",
         "deleted": False, "disable_correlation": False, "object_relation": None}
        for i, (t, v) in enumerate(ATTRIBUTES)
    ]
    org = {"name": "ExampleCERT", "uuid": "55f6ea5e-2c60-40e5-964f-47a8950d210f"}
    return {"Event": {"uuid": EVENT, "info": "every attribute type", "date": "2026-05-01",
                      "threat_level_id": "2", "analysis": "1", "timestamp": "1777600000",
                      "published": True, "publish_timestamp": "1777600100", "distribution": "1",
                      "Orgc": org, "Org": org, "Attribute": attrs}}


def normalise(pattern: str, pattern_type: str) -> str:
    """The documented differences, undone on misp-stix's side."""
    if pattern_type != "stix" and pattern.startswith("[") and pattern.endswith("]"):
        return pattern[1:-1]
    # Quoted integers on integer properties.
    return re.sub(r"(_port|:number) = '(\d+)'", r"\1 = \2", pattern)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sightline", default=os.environ.get("SIGHTLINE_BIN", str(ROOT / "target/release/sightline")))
    ap.add_argument("--misp-python", default=str(ROOT / ".venv-misp/bin/python"))
    args = ap.parse_args()
    if not Path(args.sightline).is_file():
        print(f"feeds_misp_stix: ERROR: sightline binary not found at {args.sightline}")
        return 2
    ev = event()
    conv = subprocess.run([args.misp_python, "-c", MISP_STIX], input=json.dumps(ev),
                          capture_output=True, text=True) if Path(args.misp_python).is_file() else None
    if conv is None or conv.returncode != 0:
        why = conv.stderr.strip().splitlines()[-1:] if conv else ["no interpreter"]
        print(f"feeds_misp_stix: ERROR: misp-stix unavailable at {args.misp_python}: {why} (see --help)")
        return 2
    theirs = json.loads(conv.stdout)

    tmp = Path(tempfile.mkdtemp(prefix="sightline-misp-stix-"))
    feed = tmp / "feed"
    feed.mkdir()
    (feed / "manifest.json").write_text(json.dumps({EVENT: {"info": "x", "timestamp": "1777600000"}}))
    (feed / f"{EVENT}.json").write_text(json.dumps(ev))
    env = {k: v for k, v in os.environ.items() if k not in ("SIGHTLINE_DATA", "SIGHTLINE_STORE")}
    data = ["--data", str(tmp / "data")]
    subprocess.run([args.sightline, *data, "feed", "add", "m", "--kind", "misp", "--url", str(feed)],
                   check=True, capture_output=True, env=env)
    subprocess.run([args.sightline, *data, "feed", "sync", "m"], capture_output=True, env=env)
    out = subprocess.run([args.sightline, *data, "export", "--collection", "feed-m", "--type", "indicator"],
                         capture_output=True, text=True, env=env, check=True).stdout
    ours = {o["id"]: [o["pattern"], o["pattern_type"]] for o in json.loads(out).get("objects", [])}

    failed = 0
    for i, (t, v) in enumerate(ATTRIBUTES):
        iid = f"indicator--572071e4-0000-4000-8000-{i:012d}"
        a, b = theirs.get(iid), ours.get(iid)
        if a is None and b is None:
            print(f"same  {t:24} neither writes an indicator")
            continue
        if a is None or b is None:
            failed += 1
            print(f"DIFF  {t:24} misp-stix: {a}  sightline: {b}")
            continue
        n = normalise(a[0], a[1])
        if (n, a[1]) == (b[0], b[1]):
            note = "" if n == a[0] else "  (documented: " + ("integer unquoted" if a[1] == "stix" else "rule not bracketed") + ")"
            print(f"same  {t:24} {b[0][:90]!r}{note}")
        else:
            failed += 1
            print(f"DIFF  {t:24} misp-stix: {a}\n      {'':24} sightline: {b}")
    print(f"feeds_misp_stix: {len(ATTRIBUTES) - failed} agree, {failed} differ")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
