"""SQLite alone, doing what one TAXII POST of 1,000 objects makes the store do.

    post_floor.py DB VARIANT PREFILL ENVELOPES

DB is `sightline.db` of a fresh store made by `sightline collection add bench`
(so the schema, page size and pragmas are the store's own). Per object, the
SQL of crates/store-sqlite/src/write.rs for a new indicator: the neighbour
SELECT on `versions` by id, INSERT into `versions`, `fts` and `members`; one
transaction (BEGIN IMMEDIATE .. COMMIT, synchronous = FULL) per envelope, a
passive checkpoint every 2 s as the store's checkpointer does. No HTTP, no
JSON, no validation: the floor the store's layout sets.

VARIANT:
  store         the schema as it is (V4: one index keyed by object id,
                `versions_id`; memberships by version)
  v3            the layout before V4: memberships also indexed by
                (collection, id, version_key), a second random-key index
  no-random-id  without `versions_id` either, and so without the neighbour
                SELECT: the upper bound of any layout that keeps ids out of
                per-commit B-tree inserts (an LSM-like id index), all other
                indexes kept

PREFILL objects go in first (50,000 per transaction), then ENVELOPES of
1,000 are timed. Prints one JSON line.
"""

import json
import os
import random
import sys
import time
import uuid

import pysqlite3 as sqlite3

VK = "2026-11-25T10:00:00.000Z"
RAW = (
    '{"type":"indicator","spec_version":"2.1","id":"%s","created":"' + VK + '","modified":"' + VK + '",'
    '"name":"bench post %d","indicator_types":["malicious-activity"],'
    '"pattern":"[domain-name:value = \'c2-%010x.example.net\']","pattern_type":"stix","valid_from":"' + VK + '"}'
)


def main() -> int:
    db, variant, prefill, envelopes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    c = sqlite3.connect(db, isolation_level=None)
    c.executescript(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -65536;"
        "PRAGMA wal_autocheckpoint = 0; PRAGMA foreign_keys = ON;"
    )
    if variant == "no-random-id":
        c.executescript("DROP INDEX versions_id;")
    elif variant == "v3":
        c.executescript(
            "DROP INDEX members_version;"
            "CREATE UNIQUE INDEX members_id ON members (cid, id, version_key);"
        )
    elif variant != "store":
        raise SystemExit(f"unknown variant {variant}")
    cid = c.execute("SELECT cid FROM collections WHERE alias = 'bench'").fetchone()[0]
    nxt = [c.execute("SELECT coalesce(max(date_added), 0) FROM versions").fetchone()[0] + 1]
    last_ckpt = [time.monotonic()]
    select = (
        "SELECT date_added, version_key, is_latest, is_first FROM versions "
        "WHERE id = ? AND (is_latest = 1 OR is_first = 1 OR version_key = ?)"
    )

    def envelope(n: int) -> list[tuple[str, str]]:
        out = []
        for i in range(n):
            oid = f"indicator--{uuid.uuid4()}"
            out.append((oid, RAW % (oid, i, random.getrandbits(40))))
        return out

    def put(objs: list[tuple[str, str]]) -> None:
        c.execute("BEGIN IMMEDIATE")
        vs, fs, ms = [], [], []
        for oid, raw in objs:
            if variant != "no-random-id":
                c.execute(select, (oid, VK)).fetchall()
            d = nxt[0]
            nxt[0] += 1
            vs.append((d, oid, VK, "indicator", "2.1", None, 0, 1, 1, "bench post", None, None, raw))
            fs.append((d, "bench post", "", None))
            ms.append((d, cid, d, oid, VK, 1, 1))
        c.executemany(
            "INSERT INTO versions (date_added, id, version_key, type, spec_version, version, revoked,"
            " is_latest, is_first, name, source_ref, target_ref, raw) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            vs,
        )
        c.executemany("INSERT INTO fts (rowid, name, aliases, description) VALUES (?,?,?,?)", fs)
        c.executemany(
            "INSERT INTO members (date_added, cid, version, id, version_key, is_latest, is_first)"
            " VALUES (?,?,?,?,?,?,?)",
            ms,
        )
        c.execute("COMMIT")
        if time.monotonic() - last_ckpt[0] >= 2.0:
            c.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            last_ckpt[0] = time.monotonic()

    t = time.perf_counter()
    left = prefill
    while left > 0:
        n = min(50_000, left)
        put(envelope(n))
        left -= n
    prefill_s = time.perf_counter() - t
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    work = [envelope(1000) for _ in range(envelopes)]
    t, cpu = time.perf_counter(), time.process_time()
    for e in work:
        put(e)
    secs, cpu = time.perf_counter() - t, time.process_time() - cpu
    objects = envelopes * 1000
    print(json.dumps({
        "variant": variant, "prefill": prefill, "prefill_s": round(prefill_s, 1), "objects": objects,
        "objects_per_s": round(objects / secs), "cpu_us_per_object": round(cpu / objects * 1e6, 1),
        "sqlite": sqlite3.sqlite_version,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
