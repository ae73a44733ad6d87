"""Generators for the bad-input tests: deterministic, standard library only."""
import json
import sys


def identity(i):
    return {
        "type": "identity", "spec_version": "2.1",
        "id": f"identity--{i:08x}-2222-4222-8222-222222222222",
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "name": f"Organisation {i}", "identity_class": "organization",
    }


def main():
    what, path = sys.argv[1], sys.argv[2]
    with open(path, "w", encoding="utf-8") as f:
        if what == "huge-string":
            o = identity(0)
            o["description"] = "A" * (500 * 1024 * 1024)
            json.dump({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
                       "objects": [identity(1), o]}, f)
        elif what == "million-one-bad":
            n, bad = 1_000_000, 654_321
            f.write('{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [\n')
            for i in range(n):
                o = identity(i)
                if i == bad:
                    o["confidence"] = 101
                f.write(json.dumps(o, separators=(",", ":")))
                f.write(",\n" if i + 1 < n else "\n")
            f.write("]}\n")
        else:
            sys.exit(f"unknown generator {what}")


if __name__ == "__main__":
    main()
