#!/usr/bin/env python3
"""Helpers for bench/taxii (standard library only; run with the venv's python).

    taxii_helpers.py medallion-data BUNDLE DATA.json CONFIG.json USER PASSWORD
        Medallion memory-backend data (one API root `api1`, one collection holding
        the bundle's objects with one manifest entry each, date_added strictly
        increasing) and its config; prints the collection id.
    taxii_helpers.py walk URL AUTH LIMIT
        Follows `next` from URL?limit=LIMIT until `more` is false. Prints JSON:
        pages, objects, the last `next` token used (the one that fetched the last
        page), the first and last page's latency (ms) and the last page's
        X-TAXII-Date-Added-Last (the newest date_added in the collection).
    taxii_helpers.py gen-envelopes OUT.jsonl ENVELOPES [PER_ENVELOPE]
        ENVELOPES TAXII envelopes of PER_ENVELOPE (default 1000) new, valid STIX 2.1
        indicators, one envelope a line: fresh random UUIDs, now-ish timestamps,
        patterns on ipv4-addr, domain-name, url and file SHA-256.
    taxii_helpers.py post URL AUTH CONC FILE.jsonl...
        POSTs every envelope of the files to URL (an objects endpoint) from CONC
        keep-alive clients (threads) sharing one queue. Each answer must be 202 with a
        status whose success_count is the envelope's object count and whose
        failure_count and pending_count are 0. Prints JSON: envelopes, objects
        acknowledged, seconds (first send to last answer), objects_per_s, per-envelope
        p50/p99 latency, errors (answers that were not that) and the first error.
    taxii_helpers.py count URL AUTH LIMIT [ADDED_AFTER|-] [FILE.jsonl...]
        Walks URL (objects or manifest endpoint) with `next` (and added_after when
        given) and counts the entries and distinct ids; with envelope files, also
        whether the ids seen are exactly the ids they hold. Prints JSON.
    taxii_helpers.py get-ms URL AUTH [RUNS]
        Sequential GETs of URL; prints JSON {median_ms, min_ms, max_ms, runs, status}.
    taxii_helpers.py wrk-parse FILE
        wrk --latency output -> JSON {rps, p50_ms, p99_ms, errors, requests}.
    taxii_helpers.py first-id URL AUTH
        The id of the first object of a page.
    taxii_helpers.py report RESULTS.jsonl META.json OUT.md
        Medians of the runs and the markdown table.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid

ACCEPT = "application/taxii+json;version=2.1"


def http_get(url: str, auth: str, timeout: float = 900.0) -> tuple[int, bytes, float]:
    status, body, ms, _ = http_get_headers(url, auth, timeout)
    return status, body, ms


def http_get_headers(url: str, auth: str, timeout: float = 900.0):
    """(status, body, ms, headers) of one GET."""
    req = urllib.request.Request(url, headers={"Accept": ACCEPT, "Authorization": auth})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
            status = r.status
            headers = r.headers
    except urllib.error.HTTPError as e:
        body = e.read()
        status = e.code
        headers = e.headers
    return status, body, (time.perf_counter() - t0) * 1000.0, headers


def with_params(url: str, **params: str) -> str:
    sep = "&" if "?" in url else "?"
    return url + sep + urllib.parse.urlencode(params)


def medallion_data(bundle_path: str, data_path: str, config_path: str, user: str, password: str) -> int:
    with open(bundle_path, encoding="utf-8") as f:
        objects = json.load(f)["objects"]
    collection_id = str(uuid.UUID(int=0x121, version=4))
    manifest = []
    base = 1_735_689_600  # 2025-01-01T00:00:00Z
    for i, obj in enumerate(objects):
        t = base + i // 1_000_000
        us = i % 1_000_000
        date_added = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{us:06d}Z"
        manifest.append({
            "id": obj["id"],
            "date_added": date_added,
            "version": obj.get("modified", obj.get("created")),
            "media_type": "application/stix+json;version=2.1",
        })
    data = {
        "/discovery": {
            "title": "medallion (bench/taxii)",
            "default": "http://127.0.0.1/api1/",
            "api_roots": ["http://127.0.0.1/api1/"],
        },
        "api1": {
            "information": {
                "title": "bench",
                "versions": [ACCEPT],
                "max_content_length": 104857600,
            },
            "status": [],
            "collections": [{
                "id": collection_id,
                "title": "bench",
                "can_read": True,
                # Writable for the POST figure (bench/taxii posts into a fresh instance).
                "can_write": True,
                "media_types": ["application/stix+json;version=2.1"],
                "objects": objects,
                "manifest": manifest,
            }],
        },
    }
    with open(data_path, "w", encoding="utf-8") as f:
        json.dump(data, f)
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": data_path,
            # `next` sessions must outlive a slow walk.
            "session_timeout": 3600,
        },
        "users": {user: password},
        "taxii": {"max_page_size": 1000},
    }
    with open(config_path, "w", encoding="utf-8") as f:
        json.dump(config, f)
    print(collection_id)
    return 0


def walk(url: str, auth: str, limit: int) -> int:
    pages, objects, latencies = 0, 0, []
    token = None
    last_token = None
    last_added = None
    while True:
        page_url = with_params(url, limit=str(limit)) if token is None else with_params(url, limit=str(limit), next=token)
        status, body, ms, headers = http_get_headers(page_url, auth)
        if status != 200:
            print(json.dumps({"error": f"HTTP {status} on page {pages + 1}", "body": body[:300].decode("utf-8", "replace")}))
            return 1
        env = json.loads(body)
        pages += 1
        n = len(env.get("objects", []))
        objects += n
        latencies.append(round(ms, 3))
        last_token = token
        last_added = headers.get("X-TAXII-Date-Added-Last") or last_added
        if not env.get("more"):
            break
        token = env.get("next")
        if not token:
            print(json.dumps({"error": f"more without next on page {pages}"}))
            return 1
    print(json.dumps({"pages": pages, "objects": objects, "last_next": last_token,
                      "first_page_ms": latencies[0], "last_page_ms": latencies[-1],
                      "last_date_added": last_added,
                      "page_ms": latencies if len(latencies) <= 50 else None}))
    return 0


def get_ms(url: str, auth: str, runs: int) -> int:
    times, statuses = [], set()
    for _ in range(runs):
        status, _, ms = http_get(url, auth)
        statuses.add(status)
        times.append(ms)
    print(json.dumps({"median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times),
                      "runs": runs, "status": sorted(statuses)}))
    return 0


def gen_envelopes(out_path: str, envelopes: int, per_envelope: int = 1000) -> int:
    rng = random.SystemRandom()
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    now = time.time()
    with open(out_path, "w", encoding="utf-8") as f:
        for e in range(envelopes):
            objs = []
            for i in range(per_envelope):
                t = now - rng.random() * 86400
                ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"
                k = i % 4
                if k == 0:
                    pattern = f"[ipv4-addr:value = '{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}']"
                elif k == 1:
                    pattern = f"[domain-name:value = 'c2-{rng.getrandbits(40):010x}.example.net']"
                elif k == 2:
                    pattern = f"[url:value = 'http://{rng.getrandbits(32):08x}.example.org/{rng.getrandbits(24):06x}']"
                else:
                    pattern = f"[file:hashes.'SHA-256' = '{rng.getrandbits(256):064x}']"
                objs.append({
                    "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
                    "created": ts, "modified": ts, "name": f"bench post {e}.{i}",
                    "indicator_types": ["malicious-activity"], "pattern": pattern,
                    "pattern_type": "stix", "valid_from": ts,
                })
            f.write(dumps({"objects": objs}))
            f.write("\n")
    return 0


def read_envelopes(paths: list[str]) -> list[bytes]:
    out = []
    for path in paths:
        with open(path, "rb") as f:
            out.extend(line.rstrip(b"\n") for line in f if line.strip())
    return out


def envelope_ids(paths: list[str]) -> list[str]:
    return [o["id"] for env in read_envelopes(paths) for o in json.loads(env)["objects"]]


def post(url: str, auth: str, conc: int, paths: list[str]) -> int:
    envelopes = read_envelopes(paths)
    expected = [len(json.loads(e)["objects"]) for e in envelopes]
    parts = urllib.parse.urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Accept": ACCEPT, "Content-Type": ACCEPT, "Authorization": auth}
    lock = threading.Lock()
    queue = iter(range(len(envelopes)))
    acked = [0] * len(envelopes)
    latency = [0.0] * len(envelopes)
    errors: list[str] = []

    def check(i: int, status: int, body: bytes) -> str | None:
        if status != 202:
            return f"envelope {i}: HTTP {status}: {body[:200]!r}"
        try:
            st = json.loads(body)
        except ValueError as e:
            return f"envelope {i}: 202 but not JSON: {e}"
        got = (st.get("success_count"), st.get("failure_count"), st.get("pending_count", 0))
        if got != (expected[i], 0, 0):
            first = (st.get("failures") or [{}])[0]
            return f"envelope {i}: success/failure/pending {got}, expected ({expected[i]}, 0, 0); {first}"
        return None

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
        while True:
            with lock:
                i = next(queue, None)
            if i is None:
                break
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=envelopes[i], headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                err = check(i, resp.status, body)
            except (OSError, http.client.HTTPException) as e:
                err = f"envelope {i}: {type(e).__name__}: {e}"
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
            latency[i] = (time.perf_counter() - t0) * 1000.0
            if err:
                with lock:
                    errors.append(err)
            else:
                acked[i] = expected[i]
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(max(1, conc))]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.perf_counter() - t0
    lat = sorted(latency)
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else None
    print(json.dumps({"envelopes": len(envelopes), "objects": sum(acked), "posted": sum(expected),
                      "seconds": secs, "objects_per_s": sum(acked) / secs if secs else None,
                      "p50_ms": statistics.median(lat) if lat else None, "p99_ms": pct(0.99),
                      "errors": len(errors), "first_error": errors[0] if errors else None}))
    return 0


def count(url: str, auth: str, limit: int, added_after: str | None, paths: list[str]) -> int:
    seen: set[str] = set()
    entries, pages = 0, 0
    params = {"limit": str(limit)}
    if added_after:
        params["added_after"] = added_after
    token = None
    t0 = time.perf_counter()
    while True:
        page_url = with_params(url, **params) if token is None else with_params(url, **params, next=token)
        status, body, _ = http_get(page_url, auth)
        if status != 200:
            print(json.dumps({"error": f"HTTP {status} on page {pages + 1}: {body[:200]!r}"}))
            return 1
        env = json.loads(body)
        pages += 1
        for o in env.get("objects", []):
            entries += 1
            seen.add(o["id"])
        if not env.get("more"):
            break
        token = env.get("next")
        if not token:
            print(json.dumps({"error": f"more without next on page {pages}"}))
            return 1
    out = {"entries": entries, "distinct_ids": len(seen), "pages": pages,
           "seconds": time.perf_counter() - t0, "added_after": added_after}
    if paths:
        posted = envelope_ids(paths)
        want = set(posted)
        out["posted"] = len(posted)
        out["missing"] = len(want - seen)
        out["unexpected"] = len(seen - want)
    print(json.dumps(out))
    return 0


def first_id(url: str, auth: str) -> int:
    status, body, _ = http_get(with_params(url, limit="1"), auth)
    if status != 200:
        print(f"HTTP {status}: {body[:200]!r}", file=sys.stderr)
        return 1
    print(json.loads(body)["objects"][0]["id"])
    return 0


def to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk_parse(path: str) -> int:
    text = open(path, encoding="utf-8", errors="replace").read()
    out: dict = {"rps": None, "p50_ms": None, "p99_ms": None, "errors": 0, "requests": None,
                 "non2xx": 0, "connect": 0, "read": 0, "write": 0, "timeout": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        out["rps"] = float(m.group(1))
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
        if m:
            out[key] = to_ms(m.group(1), m.group(2))
    m = re.search(r"(\d+) requests in", text)
    if m:
        out["requests"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        out["non2xx"] = int(m.group(1))
        out["errors"] += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        for key, v in zip(("connect", "read", "write", "timeout"), m.groups()):
            out[key] = int(v)
        out["errors"] += sum(int(x) for x in m.groups())
    if out["rps"] is None:
        # wrk did not run or died (e.g. out of file descriptors): not a clean run.
        out["errors"] += 1
        out["failed"] = text.strip()[-300:]
    print(json.dumps(out))
    return 0


def report(results_path: str, meta_path: str, out_path: str) -> int:
    meta = json.load(open(meta_path, encoding="utf-8"))
    rows: dict[tuple, list] = {}
    for line in open(results_path, encoding="utf-8"):
        if line.strip():
            r = json.loads(line)
            rows.setdefault((r["side"], r["figure"], r["conc"]), []).append(r)

    def med(side: str, figure: str, conc: int, key: str):
        vals = [r[key] for r in rows.get((side, figure, conc), []) if r.get(key) is not None]
        return statistics.median(vals) if vals else None

    def errs(side: str, figure: str, conc: int) -> int:
        return sum(r.get("errors") or 0 for r in rows.get((side, figure, conc), []))

    def nruns(side: str, figure: str, conc: int) -> int:
        return len(rows.get((side, figure, conc), []))

    fmt_rps = lambda v: "-" if v is None else (f"{v:,.0f}" if v >= 100 else f"{v:.2f}")
    fmt_ms = lambda v: "-" if v is None else (f"{v:.2f} ms" if v < 100 else f"{v / 1000:.2f} s")
    n = meta["n"]
    pn = meta.get("peer_n")
    concs = meta["concs"]
    lines = []
    p = lines.append
    p("# Sightline TAXII 2.1 benchmark (bench/taxii)")
    p("")
    p(f"commit {meta['commit']}; {meta['cores']} cores, {meta['model']}, {meta['ram']} RAM; "
      f"loopback, HTTP Basic auth on both sides; {meta['tool']}, {meta['duration']} s per run, "
      f"{meta['runs']} runs per cell (median shown).")
    p(f"Sightline: {n:,} objects (bench/gen_synthetic.py) in one collection, import {meta['import_s']:.1f} s; "
      f"server RSS after the read runs {meta['rss_mib']:.0f} MiB.")
    if pn:
        p(f"Peer: medallion {meta['peer_version']} (Flask dev server, memory backend) at {pn:,} objects, the largest "
          f"size it served in reasonable time; its first page (limit=100), one request each: "
          + ", ".join(f"{int(k):,} objects {fmt_ms(v)}" for k, v in sorted(meta["peer_sizing"].items(), key=lambda kv: int(kv[0])))
          + ".")
    p("")
    p("| figure | conc | Sightline req/s | p50 | p99 | errors | medallion req/s | p50 | p99 | errors | ratio (req/s) |")
    p("|---|---|---|---|---|---|---|---|---|---|---|")
    labels = {
        "page1": f"GET page of 100 (first page), {n:,}-object collection",
        "deep": f"GET page of 100 deep via `next` (object ~{meta.get('deep_offset', 0):,})",
        "byid": "GET one object by id",
    }
    for fig in ("page1", "deep", "byid"):
        for conc in concs:
            ours = med("ours", fig, conc, "rps")
            peer = med("peer", fig, conc, "rps")
            ratio = f"{ours / peer:,.0f}x" if ours and peer else "-"
            peer_cells = (
                f"{fmt_rps(peer)} | {fmt_ms(med('peer', fig, conc, 'p50_ms'))} | {fmt_ms(med('peer', fig, conc, 'p99_ms'))} | {errs('peer', fig, conc)}"
                if nruns("peer", fig, conc) else "- | - | - | -")
            p(f"| {labels[fig]} | {conc} | {fmt_rps(ours)} | {fmt_ms(med('ours', fig, conc, 'p50_ms'))} | "
              f"{fmt_ms(med('ours', fig, conc, 'p99_ms'))} | {errs('ours', fig, conc)} | {peer_cells} | {ratio} |")
    hc = meta.get("hold_conns")
    post_concs = meta.get("post_concs") or []
    extra = [("post", c, "objects_per_s", " obj/s",
              f"POST envelopes of 1,000 objects (objects/s; p50/p99 per envelope)") for c in post_concs]
    if hc:
        extra.append(("hold", hc, "rps", "", f"{hc:,} connections held {meta['hold_duration']} s (req/s, mixed GETs)"))
    for fig, conc, key, unit, label in extra:
        ours = med("ours", fig, conc, key)
        peer = med("peer", fig, conc, key)
        ratio = f"{ours / peer:,.0f}x" if ours and peer else "-"
        cell = lambda side, v: (
            f"{fmt_rps(v)}{unit} | {fmt_ms(med(side, fig, conc, 'p50_ms'))} | {fmt_ms(med(side, fig, conc, 'p99_ms'))} | "
            f"{errs(side, fig, conc)}" if nruns(side, fig, conc) else "- | - | - | -")
        p(f"| {label} | {conc} | {cell('ours', ours)} | {cell('peer', peer)} | {ratio} |")
    p("")
    # Writes.
    post_ok = None
    if post_concs:
        pc = meta.get("post_check") or {}
        posted = meta.get("posted", 0)
        p(f"Writes: each cell posts {meta['post_envelopes']:,} envelopes (Sightline, {meta['runs']} runs, into the "
          f"{n:,}-object collection, after the reads and the hold) / {meta['peer_post_envelopes']:,} envelopes "
          f"(medallion, {meta.get('peer_post_runs', 1)} run(s), into a fresh instance at {pn or 0:,} objects) "
          f"of 1,000 new indicators, shared by that many keep-alive clients; objects/s counts acknowledged objects "
          f"(202 with success_count 1000, failure_count 0, pending_count 0) over the wall time of the cell. "
          f"Both collections grow by what is posted, cell after cell.")
        for side, name in (("ours", "Sightline"), ("peer", "medallion")):
            cells = [(c, r) for c in post_concs for r in rows.get((side, "post", c), [])]
            if not cells:
                continue
            bad = [r for _, r in cells if r.get("errors")]
            envs = sum(r.get("envelopes") or 0 for _, r in cells)
            acked = sum(r.get("objects") or 0 for _, r in cells)
            line = f"- {name}: {envs:,} envelopes posted, {acked:,} objects acknowledged, {len(bad)} cells with bad answers"
            if bad:
                line += f" (first: {bad[0].get('first_error')})"
            p(line + ".")
        if isinstance(pc, dict) and "entries" in pc:
            exact = pc["entries"] == posted == pc["distinct_ids"] == pc.get("posted") and not pc.get("missing") and not pc.get("unexpected")
            p(f"- Sightline collection afterwards, walked with added_after={pc['added_after']} and `next` (limit=1000): "
              f"{pc['entries']:,} objects, {pc['distinct_ids']:,} distinct ids, {pc.get('missing', '?')} posted ids missing, "
              f"{pc.get('unexpected', '?')} unexpected (posted {posted:,}) -> {'exact' if exact else 'MISMATCH'}.")
        else:
            exact = False
            p(f"- Sightline collection afterwards: count failed: {pc}")
        so = meta.get("store_objects")
        store_ok = so == n + posted
        p(f"- `sightline stats` after the server stopped: {so if so is None else f'{so:,}'} objects, expected "
          f"{n:,} + {posted:,} = {n + posted:,} -> {'exact' if store_ok else 'MISMATCH'}.")
        post_ok = exact and store_ok
        ppc = meta.get("peer_post_check")
        if isinstance(ppc, dict) and "entries" in ppc:
            pexact = ppc["entries"] == ppc.get("posted") == ppc["distinct_ids"] and not ppc.get("missing") and not ppc.get("unexpected")
            p(f"- medallion collection afterwards (manifest walked with added_after={ppc['added_after']}, {ppc['seconds']:.1f} s): "
              f"{ppc['entries']:,} entries, {ppc.get('missing', '?')} posted ids missing, {ppc.get('unexpected', '?')} unexpected "
              f"(posted {ppc.get('posted', 0):,}) -> {'exact' if pexact else 'MISMATCH'}.")
        elif ppc is not None:
            p(f"- medallion collection afterwards: count failed: {ppc}")
        p("")
    # The hold.
    hold_ok = None
    if hc:
        p(f"{hc:,} connections (wrk -t2 -c{hc} -d{meta['hold_duration']}s --timeout {meta['hold_timeout']}s; "
          f"open-files limit {meta['nofile']}), each sending requests back to back; Sightline cycles GET by id / "
          f"first page / deep page, medallion GET by id:")
        p("")
        p("| server | run | requests | req/s | p50 | p99 | non-2xx | connect | read | write | timeout | established at half-time |")
        p("|---|---|---|---|---|---|---|---|---|---|---|---|")
        hold_ok = bool(rows.get(("ours", "hold", hc)))
        for side, name in (("ours", "Sightline"), ("peer", "medallion")):
            for i, r in enumerate(rows.get((side, "hold", hc), []), 1):
                if side == "ours" and (r.get("errors") or r.get("established") != hc):
                    hold_ok = False
                req = "-" if r.get("requests") is None else f"{r['requests']:,}"
                p(f"| {name} | {i} | {req} | {fmt_rps(r.get('rps'))} | {fmt_ms(r.get('p50_ms'))} | "
                  f"{fmt_ms(r.get('p99_ms'))} | {r.get('non2xx', 0)} | {r.get('connect', 0)} | {r.get('read', 0)} | "
                  f"{r.get('write', 0)} | {r.get('timeout', 0)} | {r.get('established')} |")
                if r.get("failed"):
                    p(f"| {name} | {i} | wrk failed: {r['failed']!r} |")
        if meta.get("peer_alive_after_hold") is not None:
            p("")
            p(f"medallion process after its hold: {'still running' if meta['peer_alive_after_hold'] else 'EXITED'}.")
        p("")
    # Memory.
    if meta.get("hwm_mib") is not None:
        p(f"Sightline server memory, {n:,}-object collection (+{meta.get('posted', 0):,} posted): RSS after the read runs "
          f"{meta['rss_mib']:.0f} MiB, after the hold {meta.get('rss_hold_mib', 0):.0f} MiB; after the posts and the count "
          f"walk RSS {meta['rss_end_mib']:.0f} MiB, peak (VmHWM) {meta['hwm_mib']:.0f} MiB.")
        p("")
    # Latency of one request at a time: first page vs deep page.
    f1, d1 = med("ours", "page1", 1, "p50_ms"), med("ours", "deep", 1, "p50_ms")
    f99, d99 = med("ours", "page1", 1, "p99_ms"), med("ours", "deep", 1, "p99_ms")
    p("Latency, one connection (wrk -c1), first page vs deep page (limit=100):")
    p("")
    p("| | first page | deep page | deep / first |")
    p("|---|---|---|---|")
    if f1 and d1:
        p(f"| Sightline p50 | {fmt_ms(f1)} | {fmt_ms(d1)} | {d1 / f1:.2f}x |")
        p(f"| Sightline p99 | {fmt_ms(f99)} | {fmt_ms(d99)} | {d99 / f99:.2f}x |")
    if meta.get("peer_walk"):
        w = meta["peer_walk"]
        p(f"| medallion, one walk with `next` (limit=100, {w['pages']} pages) | {fmt_ms(w['first_page_ms'])} | "
          f"{fmt_ms(w['last_page_ms'])} (last page) | {w['last_page_ms'] / w['first_page_ms']:.2f}x |")
    p("")
    # Targets.
    best = lambda fig, key, f: (lambda vals: f(vals) if vals else None)(
        [v for c in concs if (v := med("ours", fig, c, key)) is not None])
    page_rps = best("page1", "rps", max)
    loaded = [c for c in concs if c > 1] or concs
    page_p99 = med("ours", "page1", loaded[0], "p99_ms")
    id_rps = best("byid", "rps", max)
    ok = lambda b: "met" if b else "MISSED"

    def best_of(fig: str, key: str, cs: list) -> float | None:
        vals = [v for c in cs if (v := med("ours", fig, c, key)) is not None]
        return max(vals) if vals else None
    p("Targets (issue 3, section 5):")
    p("")
    p(f"- page of 100 from {n:,}: >= 5,000 req/s: best {fmt_rps(page_rps)} -> {ok(page_rps and page_rps >= 5000)}; "
      f"p99 <= 20 ms at {loaded[0]} connections: {fmt_ms(page_p99)} -> {ok(page_p99 and page_p99 <= 20)}")
    if f1 and d1:
        p(f"- deep page via `next` within 2x of the first page (p50, one connection): {d1 / f1:.2f}x -> {ok(d1 <= 2 * f1)}")
    p(f"- one object by id: >= 20,000 req/s: best {fmt_rps(id_rps)} -> {ok(id_rps and id_rps >= 20000)}")
    if post_concs:
        post_rps = best_of("post", "objects_per_s", post_concs)
        p(f"- POST envelopes of 1,000: >= 50,000 objects/s stored and acknowledged: best {fmt_rps(post_rps)} -> "
          f"{ok(post_rps and post_rps >= 50000)}; every answer success 1000 / failure 0 and the collection grew by "
          f"exactly the posted objects -> {ok(post_ok and not any(r.get('errors') for c in post_concs for r in rows.get(('ours', 'post', c), [])))}")
    if hc:
        p(f"- {hc:,} concurrent connections held {meta['hold_duration']} s: no error, no failed request, all "
          f"connections established -> {ok(hold_ok)}")
    if meta.get("hwm_mib") is not None:
        p(f"- resident memory serving the collection <= 1 GB (10^9 bytes): peak {meta['hwm_mib']:.0f} MiB -> "
          f"{ok(meta['hwm_mib'] * 1024 * 1024 <= 1e9)}")
    text = "\n".join(lines) + "\n"
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "medallion-data":
        return medallion_data(*args)
    if cmd == "walk":
        return walk(args[0], args[1], int(args[2]))
    if cmd == "get-ms":
        return get_ms(args[0], args[1], int(args[2]) if len(args) > 2 else 5)
    if cmd == "wrk-parse":
        return wrk_parse(args[0])
    if cmd == "gen-envelopes":
        return gen_envelopes(args[0], int(args[1]), int(args[2]) if len(args) > 2 else 1000)
    if cmd == "post":
        return post(args[0], args[1], int(args[2]), args[3:])
    if cmd == "count":
        return count(args[0], args[1], int(args[2]), None if len(args) < 4 or args[3] == "-" else args[3], args[4:])
    if cmd == "first-id":
        return first_id(args[0], args[1])
    if cmd == "report":
        return report(*args)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
