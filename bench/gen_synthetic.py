#!/usr/bin/env python3
"""Deterministic synthetic STIX 2.1 bundle for the import benchmark (bench/run).

    gen_synthetic.py [-n 1000000] [--seed 121] OUT.json

Writes a bundle with one object per line (as the ATT&CK release files are laid
out): a mix of identities (20%), indicators (50%) and relationships (30%), each
small, valid and with a distinct id. Relationships link an earlier indicator to an
earlier identity, and every object after the first identity has created_by_ref,
so references resolve inside the file. Same n and seed -> byte-identical output.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import uuid


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("-n", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=121)
    args = ap.parse_args()

    rng = random.Random(args.seed)

    def new_uuid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    identities: list[str] = []
    indicators: list[str] = []
    counts = {"identity": 0, "indicator": 0, "relationship": 0}
    with open(args.out, "w", encoding="utf-8") as f:
        f.write('{"type":"bundle","id":"bundle--%s","objects":[\n' % new_uuid())
        for i in range(args.n):
            day = 1 + i % 28
            ts = f"2025-{1 + (i // 28) % 12:02d}-{day:02d}T{(i // 336) % 24:02d}:{(i // 8064) % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z"
            r = i % 10
            if r < 2 or not identities or not indicators and r >= 7:
                kind = "identity" if r < 2 or not identities else "indicator"
            else:
                kind = "indicator" if r < 7 else "relationship"
            oid = f"{kind}--{new_uuid()}"
            obj: dict = {"type": kind, "spec_version": "2.1", "id": oid, "created": ts, "modified": ts}
            if identities:
                obj["created_by_ref"] = identities[rng.randrange(len(identities))]
            if kind == "identity":
                obj["name"] = f"Synthetic org {i}"
                obj["identity_class"] = "organization"
                identities.append(oid)
            elif kind == "indicator":
                a, b, c, d = (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255
                obj["name"] = f"Synthetic C2 {i}"
                obj["indicator_types"] = ["malicious-activity"]
                obj["pattern"] = f"[ipv4-addr:value = '10.{b}.{c}.{d}']" if a == 0 else f"[ipv4-addr:value = '{a}.{b}.{c}.{d}']"
                obj["pattern_type"] = "stix"
                obj["valid_from"] = ts
                indicators.append(oid)
            else:
                obj["relationship_type"] = "related-to"
                obj["source_ref"] = indicators[rng.randrange(len(indicators))]
                obj["target_ref"] = identities[rng.randrange(len(identities))]
            counts[kind] += 1
            f.write(dumps(obj))
            f.write(",\n" if i + 1 < args.n else "\n")
        f.write("]}\n")
    print(f"gen_synthetic: {args.n} objects ({', '.join(f'{k} {v}' for k, v in counts.items())}) -> {args.out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
