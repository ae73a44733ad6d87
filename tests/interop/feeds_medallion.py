#!/usr/bin/env python3
"""`sightline feed` pulling from medallion (the OASIS TAXII 2.1 server, pinned in
requirements.txt) on 127.0.0.1: another server's paging (`next` sessions that
must be resent with the same parameters), its X-TAXII-Date-Added-Last headers and
its `added_after`, Basic auth.

Starts medallion (memory backend, max_page_size 5) on a free port, POSTs 12
indicators, then checks: the first `feed sync` stores the 12 (several pages); the
objects equal what was posted; 3 more posted are the only new ones of the next
sync (incremental); `--full` re-reads everything and stores nothing twice;
`feed status` records the run; a wrong password is an error in the status.

Exit status: 0 when every check passes, 1 otherwise, 2 when it cannot run.

Usage: feeds_medallion.py [--sightline PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TAXII = "application/taxii+json;version=2.1"
PASSWORD = "medallion-Password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def indicator(n: int) -> dict:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{n:08x}-3333-4333-8333-333333333333",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": f"medallion {n}",
        "pattern": f"[ipv4-addr:value = '10.3.0.{n}']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sightline", default=os.environ.get("SIGHTLINE_BIN", str(ROOT / "target/release/sightline")))
    args = ap.parse_args()
    if not Path(args.sightline).is_file():
        print(f"feeds_medallion: ERROR: sightline binary not found at {args.sightline}")
        return 2
    try:
        import medallion  # noqa: F401
        import requests
    except ImportError as e:
        print(f"feeds_medallion: ERROR: {e} (run scripts/setup-venv)")
        return 2

    passed, failed = 0, []

    def check(what: str, ok: bool, detail: object = "") -> None:
        nonlocal passed
        if ok:
            passed += 1
        else:
            failed.append(what)
            print(f"FAIL {what}: {detail}")

    tmp = Path(tempfile.mkdtemp(prefix="sightline-medallion-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    coll = str(uuid.uuid4())
    data = {
        "/discovery": {"title": "medallion", "default": f"{base}/api1/", "api_roots": [f"{base}/api1/"]},
        "api1": {
            "information": {"title": "api1", "versions": [TAXII], "max_content_length": 9765625},
            "status": [],
            "collections": [
                {"id": coll, "title": "feed", "can_read": True, "can_write": True,
                 "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": []}
            ],
        },
    }
    (tmp / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                    "filename": str(tmp / "data.json")},
        "users": {"bob": PASSWORD},
        "taxii": {"max_page_size": 5},
    }
    (tmp / "config.json").write_text(json.dumps(config))
    server = subprocess.Popen(
        [sys.executable, "-m", "medallion.scripts.run", "--host", "127.0.0.1", "--port", str(port),
         str(tmp / "config.json")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    session = requests.Session()
    session.auth = ("bob", PASSWORD)
    session.headers["Accept"] = TAXII
    try:
        deadline = time.time() + 30
        while True:
            try:
                if session.get(f"{base}/taxii2/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline or server.poll() is not None:
                print("feeds_medallion: ERROR: medallion did not start")
                return 2
            time.sleep(0.2)

        def post(objs: list[dict]) -> None:
            r = session.post(f"{base}/api1/collections/{coll}/objects/", data=json.dumps({"objects": objs}),
                             headers={"Content-Type": TAXII}, timeout=10)
            check(f"POST {len(objs)} objects to medallion", r.status_code == 202, r.text[:200])

        edge = tmp / "edge"
        env = dict(os.environ, MED_PW=PASSWORD)
        env.pop("SIGHTLINE_DATA", None)
        env.pop("SIGHTLINE_STORE", None)

        def sl(*a: str) -> subprocess.CompletedProcess:
            return subprocess.run([args.sightline, "--data", str(edge), *a], env=env,
                                  capture_output=True, text=True, timeout=120)

        def sync(*extra: str) -> dict:
            p = sl("feed", "sync", "med", "--json", *extra)
            try:
                return json.loads(p.stdout)
            except json.JSONDecodeError:
                return {"exit": p.returncode, "stderr": p.stderr}

        post([indicator(n) for n in range(12)])
        url = f"{base}/api1/collections/{coll}/"
        p = sl("feed", "add", "med", "--kind", "taxii", "--url", url, "--user", "bob",
               "--password-env", "MED_PW", "--limit", "5")
        check("feed add", p.returncode == 0, p.stderr)
        r = sync()
        check("first sync: 12 new over several pages",
              r.get("new") == 12 and r.get("pages", 0) >= 3 and r.get("error") is None, r)
        p = sl("get", indicator(4)["id"], "--versions")
        got = json.loads(p.stdout) if p.returncode == 0 else None
        check("a pulled object equals what was posted", got == indicator(4), p.stdout[:300] or p.stderr)

        time.sleep(0.05)  # a later date_added on medallion's clock
        post([indicator(n) for n in range(12, 15)])
        r = sync()
        check("second sync: only the 3 new (added_after)", (r.get("new"), r.get("duplicate")) == (3, 0), r)
        r = sync("--full")
        check("--full: everything again, nothing stored twice",
              (r.get("new"), r.get("duplicate")) == (0, 15), r)
        st = json.loads(sl("feed", "status", "med", "--json").stdout or "[{}]")[0]
        check("status: ok with a cursor from medallion's header",
              st.get("outcome") == "ok" and bool(st.get("cursor")), st)

        env["MED_PW"] = "wrong"
        p = sl("feed", "sync", "med")
        st = json.loads(sl("feed", "status", "med", "--json").stdout or "[{}]")[0]
        check("a refused password fails the sync and is in the status",
              p.returncode == 2 and "401" in (st.get("last_error") or ""), (p.returncode, st))
    except Exception:  # noqa: BLE001 - report and fail, never hang
        traceback.print_exc()
        failed.append("exception")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()

    print(f"feeds_medallion: {passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
