#!/usr/bin/env python3
"""`sightline serve` against the OASIS TAXII 2.1 client (taxii2-client, pinned in
requirements.txt) and the stix2 library's TAXII data source and sink.

Starts the real binary on 127.0.0.1 (a free port) over a temporary data directory
holding the Bureau 121 pack in collection `shared` and an empty `inbox`, with Basic
auth, then checks: discovery, API root, collections (and that anonymous and
wrong-password callers are refused), get objects with every filter (type, id,
version first/last/all/timestamp, spec_version, added_after), paging to the end
with `next` (objects and manifest) and with `added_after` (X-TAXII-Date-Added-Last),
get object, versions, manifest, add objects and poll the status (valid, invalid and
duplicate objects), delete, and stix2.TAXIICollectionSource / TAXIICollectionSink
reading and writing. Stops the server with SIGTERM (by PID) and expects exit 0.

Exit status: 0 when every check passes, 1 otherwise, 2 when it cannot run.

Usage: taxii_client.py [--sightline PATH]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "interop-Password-1"
TAXII = "application/taxii+json;version=2.1"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sightline", default=os.environ.get("SIGHTLINE_BIN", str(ROOT / "target/release/sightline")))
    args = ap.parse_args()
    binary = args.sightline
    if not Path(binary).is_file():
        print(f"taxii_client: ERROR: sightline binary not found at {binary}")
        return 2
    try:
        import requests
        import stix2
        from stix2.datastore.filters import Filter
        from taxii2client.v21 import ApiRoot, Collection, Server, as_pages
    except ImportError as e:
        print(f"taxii_client: ERROR: {e} (run scripts/setup-venv)")
        return 2

    passed, failed = 0, []

    def check(what: str, fn) -> object:
        """Runs one check; an exception or a False result is a failure."""
        nonlocal passed
        try:
            r = fn()
            ok = r is not False
        except Exception as e:  # noqa: BLE001 - every failure is reported, then we go on
            ok, r = False, None
            what = f"{what}: {type(e).__name__}: {e}"
            traceback.print_exc(limit=2, file=sys.stdout)
        print(f"  {'ok  ' if ok else 'FAIL'} {what}")
        if ok:
            passed += 1
        else:
            failed.append(what)
        return r

    with tempfile.TemporaryDirectory(prefix="sightline-taxii-") as tmp:
        t = Path(tmp)
        data = t / "data"

        def sl(*a: str, stdin: str | None = None) -> subprocess.CompletedProcess:
            return subprocess.run([binary, "--data", str(data), *a], input=stdin, capture_output=True,
                                  text=True, timeout=300, check=True)

        sl("collection", "add", "shared", "--title", "Shared intelligence")
        sl("collection", "add", "inbox", "--title", "Inbox")
        sl("import", "--demo", "--collection", "shared")
        sl("user", "add", "alice", "--group", "analysts", "--password-stdin", stdin=PASSWORD + "\n")
        sl("user", "add", "reader", "--password-stdin", stdin=PASSWORD + "\n")
        config = t / "sightline.toml"
        config.write_text(f"""
title = "Sightline interop"
default_api_root = "api1"
[limits]
default_page_size = 50
max_page_size = 100
[[api_roots]]
path = "api1"
title = "Interop root"
max_content_length = 1048576
collections = ["shared", "inbox"]
[collections.shared]
can_read = ["group:analysts", "reader"]
can_write = ["alice"]
[collections.inbox]
can_read = ["alice"]
can_write = ["alice"]
can_delete = ["alice"]
""")
        proc = subprocess.Popen([binary, "--data", str(data), "serve", "--listen", "127.0.0.1:0",
                                 "--config", str(config)], stdout=subprocess.PIPE, text=True)
        try:
            base = None
            deadline = time.time() + 30
            while time.time() < deadline:
                line = proc.stdout.readline() if proc.stdout else ""
                if not line:
                    break
                if line.startswith("listening on "):
                    base = line.split()[-1]
                    break
            if base is None:
                print("taxii_client: ERROR: the server did not start")
                return 2
            subprocess.run([binary, "healthcheck", "--url", f"{base}/healthz"], check=True, capture_output=True)
            print(f"taxii_client: server at {base}")
            run_checks(check, base, requests, stix2, Filter, ApiRoot, Collection, Server, as_pages)
        finally:
            # Stop by PID with SIGTERM: graceful shutdown must exit 0.
            os.kill(proc.pid, signal.SIGTERM)
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = -1
            check("SIGTERM: the server exits 0", lambda: code == 0)

    print(f"taxii_client: {passed} passed, {len(failed)} failed")
    for f in failed:
        print(f"  FAILED: {f}")
    return 1 if failed else 0


def run_checks(check, base, requests, stix2, Filter, ApiRoot, Collection, Server, as_pages) -> None:
    url = f"{base}/taxii2/"

    # --- Discovery and API root (TAXII 2.1 sections 4.1, 4.2)
    server = Server(url, user="alice", password=PASSWORD)
    check("discovery: title", lambda: server.title == "Sightline interop")
    check("discovery: one API root, the default", lambda: len(server.api_roots) == 1
          and server.default is not None and server.default.url.endswith("/api1/"))
    root = server.api_roots[0]
    check("API root: title and max_content_length",
          lambda: root.title == "Interop root" and root.max_content_length == 1048576)
    check("API root: versions", lambda: "application/taxii+json;version=2.1" in root.versions)
    names = {c.title: c for c in root.collections}
    check("collections: shared and inbox listed", lambda: set(names) == {"Shared intelligence", "Inbox"})
    shared: Collection = names["Shared intelligence"]
    inbox: Collection = names["Inbox"]
    check("collection ids are UUIDv4", lambda: all(uuid.UUID(c.id).version == 4 for c in names.values()))
    check("shared: can_read and can_write", lambda: shared.can_read and shared.can_write)

    reader_root = ApiRoot(root.url, user="reader", password=PASSWORD)
    check("reader sees only shared, read-only", lambda: [(c.title, c.can_read, c.can_write)
                                                          for c in reader_root.collections]
          == [("Shared intelligence", True, False)])

    def refused(user, password):
        r = requests.get(root.url + "collections/", headers={"Accept": TAXII},
                         auth=(user, password) if user else None, timeout=30)
        return r.status_code == 401 and r.headers.get("WWW-Authenticate", "").startswith("Basic")

    check("no credentials: 401 with a Basic challenge", lambda: refused(None, None))
    check("wrong password: 401", lambda: refused("alice", "wrong"))

    # --- Objects and filters (section 5.3)
    everything = []
    env = shared.get_objects(limit=100)
    everything += env.get("objects", [])
    while env.get("more"):
        env = shared.get_objects(limit=100, next=env["next"])
        everything += env.get("objects", [])
    ids = [o["id"] for o in everything]
    check(f"get objects: the pack's {len(ids)} objects, latest versions, no repeats",
          lambda: len(ids) > 100 and len(ids) == len(set(ids)))
    by_type: dict[str, list] = {}
    for o in everything:
        by_type.setdefault(o["type"], []).append(o)

    def only(env, pred):
        objs = env.get("objects", [])
        return bool(objs) and all(pred(o) for o in objs)

    check("match[type]=intrusion-set", lambda: only(shared.get_objects(type="intrusion-set"),
                                                    lambda o: o["type"] == "intrusion-set"))
    # Two types the pack holds (its malware and tools are ATT&CK's, referred to by id).
    check("match[type]=threat-actor,location",
          lambda: {o["type"] for o in shared.get_objects(type=["threat-actor", "location"], limit=100)["objects"]}
          == {"threat-actor", "location"})
    # None of these: an envelope with no "objects" list (TAXII 2.1 §3.7: lists are never empty).
    check("match[type]=malware,tool: none in the pack alone",
          lambda: "objects" not in shared.get_objects(type=["malware", "tool"], limit=100))
    some = ids[:3]
    check("match[id]= three ids", lambda: sorted(o["id"] for o in shared.get_objects(id=some)["objects"]) == sorted(some))
    check("match[spec_version]=2.1", lambda: only(shared.get_objects(spec_version="2.1", limit=10),
                                                  lambda o: o.get("spec_version") == "2.1"))
    check("match[spec_version]=2.0: nothing", lambda: not shared.get_objects(spec_version="2.0").get("objects"))
    check("match[version]=first", lambda: only(shared.get_objects(version="first", limit=10), lambda o: True))
    check("match[version]=last", lambda: only(shared.get_objects(version="last", limit=10), lambda o: True))
    check("match[version]=all: at least the latest versions", lambda: len(
        collect(as_pages, shared.get_objects, 100, version="all")) >= len(ids))
    with_modified = next(o for o in everything if "modified" in o)
    check("match[version]=<timestamp>", lambda: [o["id"] for o in shared.get_objects(
        id=with_modified["id"], version=with_modified["modified"])["objects"]] == [with_modified["id"]])
    check("match[id]=unknown: empty envelope", lambda: not shared.get_objects(
        id="indicator--00000000-0000-4000-8000-000000000000").get("objects"))

    # --- Paging with next (objects and manifest)
    paged = collect(as_pages, shared.get_objects, 7)
    check("paging objects with next (7 per page) to the end: same set, no repeats",
          lambda: [o["id"] for o in paged] == ids)
    manifest = collect(as_pages, shared.get_manifest, 9, key="objects")
    check("paging manifest with next (9 per page): every object",
          lambda: sorted(m["id"] for m in manifest) == sorted(ids))
    check("manifest: date_added, version, media_type",
          lambda: all("date_added" in m and "version" in m and m.get("media_type", "").startswith("application/stix+json")
                      for m in manifest))

    # --- Paging with added_after (the X-TAXII-Date-Added-Last header)
    def by_added_after():
        got, after, session = [], None, requests.Session()
        session.auth = ("alice", PASSWORD)
        for _ in range(1000):
            params = {"limit": 10}
            if after:
                params["added_after"] = after
            r = session.get(shared.url + "objects/", params=params, headers={"Accept": TAXII}, timeout=30)
            r.raise_for_status()
            objs = r.json().get("objects", [])
            if not objs:
                break
            got += objs
            after = r.headers["X-TAXII-Date-Added-Last"]
            if not r.json().get("more"):
                break
        return [o["id"] for o in got]

    check("paging with added_after = X-TAXII-Date-Added-Last: same objects, same order",
          lambda: by_added_after() == ids)

    # --- Object, versions (sections 5.5, 5.7)
    one = ids[0]
    check("get object by id", lambda: [o["id"] for o in shared.get_object(one)["objects"]] == [one])
    check("versions of an object", lambda: len(shared.object_versions(one).get("versions", [])) >= 1)

    # --- Add objects, status (sections 5.4, 4.3)
    indicators = [stix2.Indicator(name=f"interop {i}", pattern=f"[ipv4-addr:value = '198.51.100.{i}']",
                                  pattern_type="stix", valid_from="2026-01-01T00:00:00Z") for i in range(3)]
    bad = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
           "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
           "pattern": "not a pattern", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}
    envelope = {"objects": [json_of(i) for i in indicators] + [bad]}
    status = check("add objects: status returned", lambda: inbox.add_objects(envelope, wait_for_completion=True,
                                                                               poll_interval=0.2, timeout=20))
    if status is not None:
        check("status: complete, 3 successes, 1 failure with a reason",
              lambda: status.status == "complete" and status.success_count == 3 and status.failure_count == 1
              and status.pending_count == 0 and status.total_count == 4
              and (status.failures or [{}])[0].get("id") == bad["id"])
        check("status: polled by id", lambda: root.get_status(status.id).success_count == 3)
    again = check("add the same objects again", lambda: inbox.add_objects({"objects": [json_of(i) for i in indicators]},
                                                                           poll_interval=0.2, timeout=20))
    if again is not None:
        check("duplicates count as success", lambda: again.success_count == 3 and again.failure_count == 0)
    check("added objects readable", lambda: sorted(o["id"] for o in inbox.get_objects()["objects"])
          == sorted(i.id for i in indicators))
    check("reader may not write shared (403)", lambda: write_refused(requests, reader_root, PASSWORD))

    # --- Delete (section 5.6)
    gone = indicators[0].id
    check("delete an object", lambda: inbox.delete_object(gone) is not False)
    check("deleted object: 404", lambda: not_found(requests, lambda: inbox.get_object(gone)))

    # --- stix2 data source and sink
    source = stix2.TAXIICollectionSource(shared)
    groups = check("TAXIICollectionSource: query intrusion sets",
                   lambda: source.query([Filter("type", "=", "intrusion-set")]))
    check("TAXIICollectionSource: found intrusion sets", lambda: bool(groups))
    if groups:
        check("TAXIICollectionSource: get by id", lambda: source.get(groups[0].id).id == groups[0].id)
    sink = stix2.TAXIICollectionSink(inbox)
    new = stix2.Malware(name="interop malware", is_family=True)
    check("TAXIICollectionSink: add", lambda: sink.add(new) is None)
    check("TAXIICollectionSource: reads back what the sink wrote",
          lambda: stix2.TAXIICollectionSource(inbox).get(new.id).name == "interop malware")


def json_of(obj) -> dict:
    import json
    return json.loads(obj.serialize())


def collect(as_pages, func, per_request, key="objects", **kwargs) -> list:
    out = []
    for env in as_pages(func, per_request=per_request, **kwargs):
        out += env.get(key, [])
    return out


def not_found(requests, fn) -> bool:
    try:
        fn()
    except requests.exceptions.HTTPError as e:
        return e.response is not None and e.response.status_code == 404
    return False


def write_refused(requests, reader_root, password) -> bool:
    c = reader_root.collections[0]
    r = requests.post(c.url + "objects/", json={"objects": []}, auth=("reader", password), timeout=30,
                      headers={"Accept": TAXII, "Content-Type": TAXII})
    return r.status_code == 403


if __name__ == "__main__":
    sys.exit(main())
