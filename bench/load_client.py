#!/usr/bin/env python3
"""The load driver of bench/load (issue 5 §4); standard library only (asyncio).

    load_client.py seed OUT.json N
        A bundle of N new, valid STIX 2.1 indicators (the collection's starting
        content, so walkers have pages to follow from the first second).
    load_client.py run --replica URL [--replica URL ...] --collection ID
                       --auth USER:PASSWORD --clients N --seconds S --out RESULT.json
        [--mix W,N,A,G]
        N concurrent keep-alive clients for S seconds against the objects endpoint
        of collection ID under /api1/ on every replica (each request goes to the
        next replica in turn, so every client talks to all of them). Client kinds,
        in the percentages of --mix (default 20,30,10,40):
          writer     POSTs envelopes of 10 new indicators (TAXII 2.1 §5.4); each
                     answer must be 202 with success_count 10; the (id, version)
                     pairs of the status's successes are "acknowledged".
          walker     pages from the start with `next` (§3.5) until `more` is false,
                     then walks what came after (`added_after` then `next`), every
                     fourth walk from the start again.
          poller     pages with `added_after` (§3.4.1) from the last
                     X-TAXII-Date-Added-Last it saw, over the whole run.
        Pages hold up to --page objects (default 1000, the server's largest): with
        smaller pages one reader cannot keep up with all the writers together and
        would never reach `more: false`, where skips are checked.
          getter     GET by id (§5.6) of an acknowledged or seeded object: must be
                     200 holding that object, whichever replica answers.
        Every walker and poller checks that it never sees one (id, version) twice,
        that date_added headers only go up from page to page, and, whenever a
        page says `more: false`, that it has seen every object acknowledged
        before that page was requested (no skip of anything committed earlier).
        After the run: a full walk with `next` through the first replica yields
        every seeded and acknowledged object exactly once, and nothing else.
        Writes RESULT.json (counts, errors, throughput and p50/p99 latency per
        kind) and exits 1 on any error, loss, duplicate or skip, or when no full
        walk or no poll ever caught up (nothing was checked for skips).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import sys
import time
import urllib.parse
import uuid

ACCEPT = "application/taxii+json;version=2.1"
PER_ENVELOPE = 10
PAGE = 1000


def indicator(n: int) -> dict:
    oid = f"indicator--{uuid.uuid4()}"
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": oid,
        "created": now,
        "modified": now,
        "name": f"load {n}",
        "pattern": f"[ipv4-addr:value = '10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}']",
        "pattern_type": "stix",
        "valid_from": now.replace(".000Z", "Z"),
    }


# ---------------------------------------------------------------- a small HTTP/1.1 client


class HttpError(Exception):
    pass


class Conn:
    """One keep-alive HTTP/1.1 connection to host:port (reopened when closed)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.r: asyncio.StreamReader | None = None
        self.w: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.w is not None:
            self.w.close()
            try:
                await self.w.wait_closed()
            except OSError:
                pass
        self.r = self.w = None

    async def request(self, method: str, path: str, headers: dict, body: bytes = b""):
        fresh = self.w is None
        if fresh:
            self.r, self.w = await asyncio.open_connection(self.host, self.port)
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        head.append(f"Content-Length: {len(body)}")
        try:
            self.w.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            await self.w.drain()
            line = await self.r.readline()
        except (ConnectionError, OSError):
            line = b""
        if not line:
            # A reused connection the server closed while idle: one fresh retry.
            await self.close()
            if fresh:
                raise HttpError("connection closed before any answer")
            return await self.request(method, path, headers, body)
        try:
            return await self._response(line)
        except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError) as e:
            await self.close()
            raise HttpError(f"broken answer: {e!r}") from e

    async def _response(self, line: bytes):
        parts = line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise HttpError(f"bad status line {line!r}")
        status = int(parts[1])
        hdrs: dict[str, str] = {}
        while True:
            h = await self.r.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.decode("latin-1").partition(":")
            hdrs[k.strip().lower()] = v.strip()
        if "content-length" in hdrs:
            body = await self.r.readexactly(int(hdrs["content-length"]))
        elif hdrs.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.r.readline()).split(b";")[0].strip(), 16)
                if size == 0:
                    while (await self.r.readline()) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(await self.r.readexactly(size))
                await self.r.readexactly(2)
            body = b"".join(chunks)
        else:
            body = await self.r.read()
            await self.close()
        if hdrs.get("connection", "").lower() == "close":
            await self.close()
        return status, hdrs, body


# ---------------------------------------------------------------- shared state


class State:
    def __init__(self, replicas: list[str], collection: str, auth: str):
        self.targets = []
        for base in replicas:
            u = urllib.parse.urlsplit(base)
            self.targets.append((u.hostname, u.port))
        self.objects = f"/api1/collections/{collection}/objects/"
        self.headers = {
            "Accept": ACCEPT,
            "Authorization": "Basic " + base64.b64encode(auth.encode()).decode(),
        }
        # (id, version) -> small int, so seen-sets are bitmaps.
        self.index: dict[tuple[str, str], int] = {}
        self.acked: list[int] = []  # in acknowledgement order
        self.acked_ids: list[str] = []
        self.seeded: list[int] = []
        self.next_n = 0
        self.lat: dict[str, list[float]] = {}
        self.counts: dict[str, int] = {}
        self.errors: list[str] = []
        self.error_count = 0
        self.walks_done = 0
        self.full_walks_done = 0
        self.polls_caught_up = 0
        self.page = PAGE
        self.objects_written = 0
        self.stop = False

    def key(self, oid: str, version: str) -> int:
        k = (oid, version)
        i = self.index.get(k)
        if i is None:
            i = len(self.index)
            self.index[k] = i
        return i

    def error(self, what: str) -> None:
        self.error_count += 1
        if len(self.errors) < 20:
            self.errors.append(what)

    def record(self, kind: str, ms: float) -> None:
        self.lat.setdefault(kind, []).append(ms)
        self.counts[kind] = self.counts.get(kind, 0) + 1


class Seen:
    """What one walker or poller saw: a bitmap of keys, the last date_added."""

    def __init__(self) -> None:
        self.bits = bytearray()
        self.last: str | None = None
        self.count = 0
        self.checked = 0  # acknowledgements [0, checked) already found here
        self.seed_checked = False

    def add(self, i: int) -> bool:
        """False when i was already seen."""
        if i >= len(self.bits):
            self.bits.extend(b"\0" * max(i + 1 - len(self.bits), 4096))
        if self.bits[i]:
            return False
        self.bits[i] = 1
        self.count += 1
        return True

    def has(self, i: int) -> bool:
        return i < len(self.bits) and self.bits[i] == 1


class Client:
    def __init__(self, st: State, n: int):
        self.st = st
        self.conns = [Conn(h, p) for (h, p) in st.targets]
        self.turn = n  # which replica the next request goes to

    def conn(self) -> Conn:
        c = self.conns[self.turn % len(self.conns)]
        self.turn += 1
        return c

    async def close(self) -> None:
        for c in self.conns:
            await c.close()

    async def call(self, kind: str, method: str, path: str, body: bytes = b"", ctype=None):
        h = dict(self.st.headers)
        if ctype:
            h["Content-Type"] = ctype
        t0 = time.perf_counter()
        try:
            status, hdrs, data = await self.conn().request(method, path, h, body)
        except (HttpError, ConnectionError, OSError) as e:
            self.st.error(f"{kind} {method} {path}: {e}")
            return None
        self.st.record(kind, (time.perf_counter() - t0) * 1000.0)
        return status, hdrs, data


def page_items(st: State, data: bytes):
    v = json.loads(data)
    items = [(o["id"], o.get("modified") or o.get("created") or "") for o in v.get("objects", [])]
    return items, bool(v.get("more")), v.get("next")


def check_page(st: State, who: str, seen: Seen, hdrs: dict, items) -> None:
    first = hdrs.get("x-taxii-date-added-first")
    if seen.last is not None and first is not None and not first > seen.last:
        st.error(f"{who}: date_added went back: {seen.last} then {first}")
    if hdrs.get("x-taxii-date-added-last"):
        seen.last = hdrs["x-taxii-date-added-last"]
    for oid, ver in items:
        if not seen.add(st.key(oid, ver)):
            st.error(f"{who}: ({oid}, {ver}) seen twice")


def check_complete(st: State, who: str, seen: Seen, acked_before: int) -> None:
    """Everything acknowledged before the last page was requested was seen."""
    if not seen.seed_checked:
        seen.seed_checked = True
        if not all(seen.has(i) for i in st.seeded):
            st.error(f"{who}: skipped a seeded object")
    # Seen-sets only grow: only the acknowledgements not yet checked need a look.
    for i in st.acked[seen.checked : acked_before]:
        if not seen.has(i):
            st.error(f"{who}: skipped an object acknowledged before its page")
            break
    seen.checked = max(seen.checked, acked_before)


async def writer(c: Client) -> None:
    st = c.st
    while not st.stop:
        objs = []
        for _ in range(PER_ENVELOPE):
            objs.append(indicator(st.next_n))
            st.next_n += 1
        body = json.dumps({"objects": objs}).encode()
        r = await c.call("post", "POST", st.objects, body, ACCEPT)
        if r is None:
            continue
        status, _, data = r
        if status != 202:
            st.error(f"POST: {status} {data[:200]!r}")
            continue
        s = json.loads(data)
        if s.get("success_count") != PER_ENVELOPE or s.get("failure_count") or s.get("pending_count"):
            st.error(f"POST: status {s}")
        sent = {o["id"] for o in objs}
        for d in s.get("successes", []):
            if d.get("id") not in sent:
                st.error(f"POST: status names an id not sent: {d}")
                continue
            st.acked.append(st.key(d["id"], d["version"]))
            st.acked_ids.append(d["id"])
            st.objects_written += 1


async def walker(c: Client, who: str) -> None:
    """Walks with `next`: a full walk from the start, then walks of what came
    after the last date_added it saw (`added_after` on the first page, then
    `next`), every fourth walk a full one again. One seen-set from each full
    walk on, so an increment repeating or skipping anything is caught."""
    st = c.st
    seen = Seen()
    walk = 0
    while not st.stop:
        full = walk % 4 == 0
        if full:
            seen = Seen()
        walk += 1
        nxt = None
        # A `next` token holds for the filters it was issued with: repeat them.
        after = seen.last if not full else None
        while not st.stop:
            q = {"limit": st.page}
            if after:
                q["added_after"] = after
            if nxt:
                q["next"] = nxt
            before = len(st.acked)
            r = await c.call("page-next", "GET", st.objects + "?" + urllib.parse.urlencode(q))
            if r is None:
                break
            status, hdrs, data = r
            if status != 200:
                st.error(f"{who}: GET page {status} {data[:200]!r}")
                break
            items, more, nxt = page_items(st, data)
            check_page(st, who, seen, hdrs, items)
            if not more:
                check_complete(st, who, seen, before)
                st.walks_done += 1
                if full:
                    st.full_walks_done += 1
                if not items:
                    await asyncio.sleep(0.05)  # caught up: as a real client would
                break
            if not nxt:
                st.error(f"{who}: more without next")
                break


async def poller(c: Client, who: str) -> None:
    st = c.st
    seen = Seen()
    while not st.stop:
        q = {"limit": st.page}
        if seen.last:
            q["added_after"] = seen.last
        before = len(st.acked)
        r = await c.call("page-added-after", "GET", st.objects + "?" + urllib.parse.urlencode(q))
        if r is None:
            continue
        status, hdrs, data = r
        if status != 200:
            st.error(f"{who}: GET page {status} {data[:200]!r}")
            continue
        items, more, _ = page_items(st, data)
        check_page(st, who, seen, hdrs, items)
        if not more:
            check_complete(st, who, seen, before)
            st.polls_caught_up += 1
            # Caught up: poll again shortly, as a real client would.
            await asyncio.sleep(0.05)


async def getter(c: Client, seed_ids: list[str]) -> None:
    st = c.st
    rng = random.Random()
    while not st.stop:
        pool = st.acked_ids if st.acked_ids and rng.random() < 0.8 else seed_ids
        oid = pool[rng.randrange(len(pool))]
        r = await c.call("get-id", "GET", f"{st.objects}{oid}/")
        if r is None:
            continue
        status, _, data = r
        if status != 200:
            st.error(f"GET {oid}: {status} {data[:200]!r}")
            continue
        v = json.loads(data)
        if [o.get("id") for o in v.get("objects", [])] != [oid]:
            st.error(f"GET {oid}: wrong objects {data[:200]!r}")


async def full_walk(st: State) -> dict:
    c = Client(st, 0)
    c.conns = c.conns[:1]
    seen = Seen()
    nxt, pages, total = None, 0, 0
    dup = 0
    while True:
        q = {"limit": 1000}
        if nxt:
            q["next"] = nxt
        r = await c.call("final-walk", "GET", st.objects + "?" + urllib.parse.urlencode(q))
        if r is None or r[0] != 200:
            st.error(f"final walk: {r and r[0]}")
            break
        items, more, nxt = page_items(st, r[2])
        pages += 1
        for oid, ver in items:
            total += 1
            if not seen.add(st.key(oid, ver)):
                dup += 1
        if not more:
            break
    await c.close()
    expected = set(st.seeded) | set(st.acked)
    lost = sum(1 for i in expected if not seen.has(i))
    extra = seen.count - (len(expected) - lost)
    if dup:
        st.error(f"final walk: {dup} duplicated (id, version)")
    if lost:
        st.error(f"final walk: {lost} acknowledged or seeded objects lost")
    if extra:
        st.error(f"final walk: {extra} objects nobody acknowledged")
    return {"pages": pages, "objects": total, "expected": len(expected), "lost": lost, "duplicated": dup, "unexpected": extra}


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


async def run(args) -> int:
    st = State(args.replica, args.collection, args.auth)
    st.page = args.page
    with open(args.seed) as f:
        seed = json.load(f)["objects"]
    seed_ids = [o["id"] for o in seed]
    st.seeded = [st.key(o["id"], o["modified"]) for o in seed]
    st.next_n = len(seed)
    # The mix: percentages of writers, walkers, pollers (getters get the rest),
    # interleaved so every replica and every stretch of clients gets each kind.
    mix = [int(x) for x in args.mix.split(",")]
    if len(mix) != 4 or sum(mix) != 100 or min(mix) < 0:
        raise SystemExit(f"--mix {args.mix}: four percentages adding up to 100")
    bounds = [mix[0], mix[0] + mix[1], mix[0] + mix[1] + mix[2]]
    tasks, clients = [], []
    kinds = {"writer": 0, "walker": 0, "poller": 0, "getter": 0}
    for n in range(args.clients):
        c = Client(st, n)
        clients.append(c)
        slot = (n * 37) % 100  # 37 is coprime to 100: slots spread evenly
        if slot < bounds[0]:
            kinds["writer"] += 1
            tasks.append(writer(c))
        elif slot < bounds[1]:
            kinds["walker"] += 1
            tasks.append(walker(c, f"walker {n}"))
        elif slot < bounds[2]:
            kinds["poller"] += 1
            tasks.append(poller(c, f"poller {n}"))
        else:
            kinds["getter"] += 1
            tasks.append(getter(c, seed_ids))

    async def timer():
        await asyncio.sleep(args.seconds)
        st.stop = True

    t0 = time.perf_counter()
    await asyncio.gather(timer(), *tasks)
    elapsed = time.perf_counter() - t0
    for c in clients:
        await c.close()
    final = await full_walk(st)
    kinds_out = {}
    for k, xs in sorted(st.lat.items()):
        if k == "final-walk":
            continue
        kinds_out[k] = {
            "requests": len(xs),
            "per_s": round(len(xs) / elapsed, 1),
            "p50_ms": round(pct(xs, 50), 2),
            "p99_ms": round(pct(xs, 99), 2),
        }
    allx = [x for k, xs in st.lat.items() if k != "final-walk" for x in xs]
    out = {
        "replicas": len(args.replica),
        "clients": args.clients,
        "client_kinds": kinds,
        "mix": args.mix,
        "seconds": round(elapsed, 1),
        "requests": len(allx),
        "requests_per_s": round(len(allx) / elapsed, 1),
        "p50_ms": round(pct(allx, 50), 2),
        "p99_ms": round(pct(allx, 99), 2),
        "by_kind": kinds_out,
        "objects_written": st.objects_written,
        "objects_per_s": round(st.objects_written / elapsed, 1),
        "page_limit": st.page,
        "walks_completed": st.walks_done,
        "full_walks_completed": st.full_walks_done,
        "polls_caught_up": st.polls_caught_up,
        "final_walk": final,
        "errors": st.error_count,
        "first_errors": st.errors,
    }
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps(out, indent=1))
    # A run where no walk or poll ever caught up checked no skip: that is a failure too.
    if st.full_walks_done == 0 or st.polls_caught_up == 0:
        print("no full walk or no poll caught up with the writers: nothing was checked for skips",
              file=sys.stderr)
        return 1
    return 0 if st.error_count == 0 and st.objects_written > 0 else 1


def main() -> int:
    if len(sys.argv) >= 2 and sys.argv[1] == "seed":
        out, n = sys.argv[2], int(sys.argv[3])
        objs = [indicator(i) for i in range(n)]
        with open(out, "w") as f:
            json.dump({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objs}, f)
        return 0
    p = argparse.ArgumentParser(prog="load_client.py run")
    p.add_argument("cmd", choices=["run"])
    p.add_argument("--replica", action="append", required=True)
    p.add_argument("--collection", required=True)
    p.add_argument("--auth", required=True)
    p.add_argument("--clients", type=int, default=500)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--mix", default="20,30,10,40", help="%% writers,walkers,pollers,getters")
    p.add_argument("--page", type=int, default=PAGE, help="limit of walkers' and pollers' pages")
    p.add_argument("--seed", required=True, help="the seed bundle imported before the run")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
