#!/usr/bin/env python3
"""Helpers for bench/taxii (standard library only; run with the venv's python).

    taxii_helpers.py medallion-data BUNDLE DATA.json CONFIG.json USER PASSWORD
        Medallion memory-backend data (one API root `api1`, one collection holding
        the bundle's objects with one manifest entry each, date_added strictly
        increasing) and its config; prints the collection id.
    taxii_helpers.py walk URL AUTH LIMIT
        Follows `next` from URL?limit=LIMIT until `more` is false. Prints JSON:
        pages, objects, the last `next` token used (the one that fetched the last
        page) and the first and last page's latency (ms).
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

import json
import re
import statistics
import sys
import time
import urllib.parse
import urllib.request
import uuid

ACCEPT = "application/taxii+json;version=2.1"


def http_get(url: str, auth: str, timeout: float = 900.0) -> tuple[int, bytes, float]:
    req = urllib.request.Request(url, headers={"Accept": ACCEPT, "Authorization": auth})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        body = e.read()
        status = e.code
    return status, body, (time.perf_counter() - t0) * 1000.0


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
                "can_write": False,
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
    while True:
        page_url = with_params(url, limit=str(limit)) if token is None else with_params(url, limit=str(limit), next=token)
        status, body, ms = http_get(page_url, auth)
        if status != 200:
            print(json.dumps({"error": f"HTTP {status} on page {pages + 1}", "body": body[:300].decode("utf-8", "replace")}))
            return 1
        env = json.loads(body)
        pages += 1
        n = len(env.get("objects", []))
        objects += n
        latencies.append(round(ms, 3))
        last_token = token
        if not env.get("more"):
            break
        token = env.get("next")
        if not token:
            print(json.dumps({"error": f"more without next on page {pages}"}))
            return 1
    print(json.dumps({"pages": pages, "objects": objects, "last_next": last_token,
                      "first_page_ms": latencies[0], "last_page_ms": latencies[-1],
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
    out: dict = {"rps": None, "p50_ms": None, "p99_ms": None, "errors": 0, "requests": None}
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
        out["errors"] += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["errors"] += sum(int(x) for x in m.groups())
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
      f"server RSS after the runs {meta['rss_mib']:.0f} MiB.")
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
    p("Targets (issue 3, section 5):")
    p("")
    p(f"- page of 100 from {n:,}: >= 5,000 req/s: best {fmt_rps(page_rps)} -> {ok(page_rps and page_rps >= 5000)}; "
      f"p99 <= 20 ms at {loaded[0]} connections: {fmt_ms(page_p99)} -> {ok(page_p99 and page_p99 <= 20)}")
    if f1 and d1:
        p(f"- deep page via `next` within 2x of the first page (p50, one connection): {d1 / f1:.2f}x -> {ok(d1 <= 2 * f1)}")
    p(f"- one object by id: >= 20,000 req/s: best {fmt_rps(id_rps)} -> {ok(id_rps and id_rps >= 20000)}")
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
    if cmd == "first-id":
        return first_id(args[0], args[1])
    if cmd == "report":
        return report(*args)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
