#!/usr/bin/env python3
"""A stand-in for `sightline validate --format jsonl`, to test the interop harness
(validator_diff.py) before or without the real binary.

It answers with the OASIS validator's verdict, except on the corpus cases listed in
validator_diff.EXPECTED_DIFFERENCES, where it gives the spec's verdict. Set
FAKE_SIGHTLINE_FLIP to a comma-separated list of case names to flip their verdicts
(to check that the harness reports disagreements).

    fake_sightline.py validate --format jsonl FILE
"""
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402
import validator_diff  # noqa: E402


def main() -> int:
    args = sys.argv[1:]
    if len(args) != 4 or args[:3] != ["validate", "--format", "jsonl"]:
        print("fake_sightline: only 'validate --format jsonl FILE' is supported", file=sys.stderr)
        return 2
    by_obj = {json.dumps(c.obj, sort_keys=True): c.name for c in corpus.cases()}
    flip = set(filter(None, os.environ.get("FAKE_SIGHTLINE_FLIP", "").split(",")))
    any_invalid = False
    for line in Path(args[3]).read_text(encoding="utf-8").splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            print(json.dumps({"id": None, "valid": False, "errors": ["E0001 : not JSON"], "warnings": []}))
            any_invalid = True
            continue
        name = by_obj.get(json.dumps(obj, sort_keys=True), "")
        v = validator_diff.oasis_verdict(obj)
        valid = validator_diff.EXPECTED_DIFFERENCES[name][0] if name in validator_diff.EXPECTED_DIFFERENCES else v.valid
        if name in flip:
            valid = not valid
        any_invalid |= not valid
        rec = {"id": obj.get("id") if isinstance(obj, dict) else None, "valid": valid,
               "errors": [] if valid else [f"FAKE /: {v.detail or 'flipped'}"], "warnings": []}
        print(json.dumps(rec))
    return 1 if any_invalid else 0


if __name__ == "__main__":
    sys.exit(main())
