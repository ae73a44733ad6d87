#!/usr/bin/env python3
"""Differential check: `sightline pattern validate` against the OASIS pattern
validator (stix2-patterns, `run_validator`, STIX 2.1) on a few hundred patterns
covering every operator, path form, constant, qualifier and observation
operator, valid and invalid.

Each disagreement is either documented (docs/pattern-diagnostics.md,
"Differences from the OASIS pattern validator": Sightline follows the spec) or
unexpected. Exit status 0 when there is no unexpected disagreement, 1 otherwise,
2 on a harness error.

Usage (from the workspace root):
    .venv/bin/python crates/pattern/tests/oasis_diff.py [--sightline PATH] [-v]
"""

from __future__ import annotations

import argparse
import itertools
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Codes by which Sightline is deliberately stricter than OASIS (spec rules the
# OASIS validator does not check; see docs/pattern-diagnostics.md).
STRICTER = {
    "P020": "object type is not a STIX type name",
    "P021": "AND of comparisons on different object types (§9.5)",
    "P025": "MATCHES regex does not compile",
    "P026": "ISSUBSET/ISSUPERSET constant is not an IP or CIDR",
    "P027": "set of mixed types",
    "P028": "timestamp is not a real calendar date",
    "P029": "WITHIN 0",
    "P030": "REPEATS 0",
    "P031": "STOP not after START",
    "P032": "duplicate qualifier on a parenthesised group",
    "P012": "nesting beyond 100 levels",
}

HASH_PATH = re.compile(r"hashes\.")


def lenient_reason(p: str) -> str | None:
    """Why Sightline may accept a pattern OASIS rejects (documented cases)."""
    s = p.lstrip()
    if s.startswith("/*") or s.startswith("//"):
        return "leading comment (OASIS bracket pre-check)"
    if HASH_PATH.search(p) and re.search(r"\b(IN|LIKE|MATCHES)\b", p):
        return "IN/LIKE/MATCHES on a hash path"
    if re.search(r"\[-\d+\]", p):
        return "negative list index (OASIS crashes)"
    return None


def cases() -> list[str]:
    out: list[str] = []
    consts = ["'x'", "5", "-5", "+5", "1.5", "-.5", "true", "t'2020-01-01T00:00:00Z'",
              "h'00ff'", "b'AAAA'", "('a', 'b')", "(1, 2.5)", "()", "'10.0.0.0/8'"]
    ops = ["=", "==", "!=", "<>", "<", ">", "<=", ">=", "LIKE", "MATCHES", "ISSUBSET",
           "ISSUPERSET", "IN"]
    for op, c, neg in itertools.product(ops, consts, ["", "NOT "]):
        out.append(f"[x-thing:prop {neg}{op} {c}]")
    out += [
        "[EXISTS file:name]", "[NOT EXISTS file:name]", "[file:name EXISTS]",
        "[file:name NOT EXISTS]", "[EXISTS file:name = 'x']", "[NOT file:name = 'x']",
        "NOT [file:name = 'x']", "[file:name NOT NOT = 'x']", "[file:name = 'x' OR NOT EXISTS file:size]",
    ]
    # Paths.
    for path in ["file:name", "file:hashes.'SHA-256'", "file:hashes.SHA-256", "file:'name'",
                 "file:extensions.'windows-pebinary-ext'.sections[*].entropy",
                 "network-traffic:src_ref.value", "email-message:to_refs[*].value",
                 "email-message:to_refs[0].value", "x-a:b[+1]", "x-a:b[-1]", "x-a:b[-0]", "x-a:b[01]", "x-a:b.[*]",
                 "x-a:b[*][*]", "x-a:b.c.d.e", "x-a:b.'c d'", "x-a:b.c-d", "x-a:_b", "_x:b",
                 "x-a:\"b\"", "x-a:AND", "x-a:b.5", "x-a:", "x-a", "ipv4-addr", "x-a:b[1.5]",
                 "File:name", "fi:name", "x--y:name", "file-:name", "x_y:name", "1ab:name",
                 "x-a:true", "x-a:b.IN"]:
        out.append(f"[{path} = 'v']")
    # Constants.
    for c in ["0", "-0", "01", "1.", "1e3", "0x10", "00.5", ".5", "+.5", "99999999999999999999999999999999999999999",
              "TRUE", "True", "false", "null", "''", "'it\\'s'", "'C:\\\\Windows'", "'C:\\Windows'",
              "'a\\n'", "'unterminated", "'é ü 漢'", "'multi\nline'",
              "t'2024-01-01T00:00:00Z'", "t'2024-01-01T00:00:00.123456789Z'", "t'2016-12-31T23:59:60Z'",
              "t'2024-02-30T00:00:00Z'", "t'2023-02-29T00:00:00Z'", "t'2024-02-29T00:00:00Z'",
              "t'2024-13-01T00:00:00Z'", "t'2024-01-01T24:00:00Z'", "t'2024-01-01T00:00:61Z'",
              "t'2024-01-01t00:00:00Z'", "t'2024-01-01T00:00:00+01:00'", "t'2024-01-01T00:00:00.Z'",
              "t'yesterday'", "h''", "h'0aFF'", "h'abc'", "h'zz'", "b''", "b'YQ=='", "b'YQ='",
              "b'YWI='", "b'YWJj'", "b'Y==='", "b'YQ==YQ=='", "- 1"]:
        out.append(f"[x-a:b = {c}]")
    # Sets.
    for s in ["()", "( )", "('a')", "('a', 'b')", "('a',)", "('a' 'b')", "(1, 'a')", "(true, false)",
              "(t'2024-01-01T00:00:00Z', 'x')", "(h'00', b'AAAA')", "'a'", "1", "(1, (2))"]:
        out.append(f"[x-a:b IN {s}]")
    # Regexes and CIDRs.
    for r in ["^evil\\\\d+$", "(", "[z-a]", "(a)\\\\1", "(?<=a)b", "(a+)+$", "[[:alpha:]]+", "(?i)abc",
              "a{2,1}", "\\\\"]:
        out.append(f"[file:name MATCHES '{r}']")
    for c in ["10.0.0.0/8", "10.0.0.1", "0.0.0.0/0", "::/0", "2001:db8::/32", "10.0.0.0/33",
              "10.0.0/8", "foo", "2001:db8::/129", "10.0.0.0/"]:
        out.append(f"[ipv4-addr:value ISSUBSET '{c}']")
    # Hashes.
    md5 = "0123456789abcdef0123456789abcdef"
    sha256 = "fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db"
    for path, v in [("MD5", md5), ("MD5", md5.upper()), ("MD5", "abc"), ("md5", "abc"), ("'SHA-256'", sha256),
                    ("'SHA-256'", "abc"), ("SHA256", sha256), ("'SHA-1'", "zz"), ("SHA1", md5 + "01234567"),
                    ("TLSH", "anything"), ("SSDEEP", "3:ab+c:d"), ("'SHA3-256'", sha256), ("MD5", 5)]:
        val = v if isinstance(v, int) else f"'{v}'"
        out.append(f"[file:hashes.{path} = {val}]")
    out += [f"[file:hashes[*] = 'abc']", f"[file:x.hashes.MD5 = 'zz']",
            f"[file:hashes.MD5 != '{md5}']", f"[file:hashes.MD5 IN ('{md5}')]",
            f"[file:hashes.MD5 LIKE 'ab%']"]
    # Object-type mixing.
    out += [
        "[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'x.com']",
        "[ipv4-addr:value = '1.2.3.4' OR domain-name:value = 'x.com']",
        "[(ipv4-addr:value = '1.2.3.4' OR domain-name:value = 'x.com') AND domain-name:value = 'y']",
        "[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'x.com']",
        "[file:name = 'a' AND file:size = 5 OR process:pid = 4]",
    ]
    # Observation operators and precedence.
    o = "[x-a:b = 1]"
    for a, b in itertools.product(["AND", "OR", "FOLLOWEDBY", "and", "or", "followedby", ""], repeat=2):
        out.append(f"{o} {a} {o} {b} {o}".replace("  ", " "))
    out += [f"({o})", f"(({o}))", f"[({o[1:-1]})]", f"[(({o[1:-1]}))]", f"({o} AND {o}) OR {o}",
            f"{o} AND ({o} OR {o})", f"({o}", f"{o})", f"{o}]", f"[{o}]", "[]", "()", "",
            "   ", f"{o} FOLLOWEDBY", f"FOLLOWEDBY {o}", f"{o} AND", "x-a:b = 1",
            f"[x-a:b = 1 AND]", f"[x-a:b = 1 OR x-a:c = 2 AND x-a:d = 3]",
            f"[(x-a:b = 1 OR x-a:c = 2) AND x-a:d = 3]", f"[x-a:b = 1 AND (x-a:c = 2)]"]
    # Qualifiers.
    ts1, ts2 = "t'2024-01-01T00:00:00Z'", "t'2024-01-02T00:00:00Z'"
    quals = ["WITHIN 5 SECONDS", "WITHIN 0 SECONDS", "WITHIN 0.0 SECONDS", "WITHIN 1.5 SECONDS",
             "WITHIN .5 SECONDS", "WITHIN +1 SECONDS", "WITHIN -5 SECONDS", "WITHIN 5 SECOND",
             "WITHIN 99999999999999999999999 SECONDS", "within 5 SECONDS", "WITHIN SECONDS",
             "REPEATS 3 TIMES", "REPEATS 0 TIMES", "REPEATS 1.5 TIMES", "REPEATS -1 TIMES", "REPEATS 3",
             f"START {ts1} STOP {ts2}", f"START {ts2} STOP {ts1}", f"START {ts1} STOP {ts1}",
             f"START {ts1}", f"STOP {ts2}", "START '2024-01-01T00:00:00Z' STOP '2024-01-02T00:00:00Z'",
             f"START t'2024-02-30T00:00:00Z' STOP {ts2}",
             "REPEATS 2 TIMES WITHIN 5 SECONDS", "WITHIN 5 SECONDS WITHIN 5 SECONDS",
             "REPEATS 2 TIMES REPEATS 3 TIMES", "WITHIN 5 SECONDS REPEATS 2 TIMES WITHIN 3 SECONDS",
             f"START {ts1} STOP {ts2} WITHIN 5 SECONDS", f"START {ts1} STOP {ts2} START {ts1} STOP {ts2}"]
    for q in quals:
        out.append(f"{o} {q}")
        out.append(f"({o} AND {o}) {q}")
    out += [f"({o} WITHIN 5 SECONDS) WITHIN 10 SECONDS", f"{o} AND {o} WITHIN 5 SECONDS",
            f"{o} OR ({o} FOLLOWEDBY {o}) REPEATS 2 TIMES", "WITHIN 5 SECONDS"]
    # White space and comments.
    out += [f"{o} // c", f"{o} /* c */", f"/* c */ {o}", f"// c\n{o}", f"{o} /* open",
            f"[x-a:b /* in */ = 1]", f"[x-a:b = 1]\n// line\n AND {o}", "\u00a0[\u2003x-a:b\u3000=\u20281\u202f]",
            f"\t\r\n{o}", f"{o} / 2", f"\ufeff{o}", f"{o}\u0085", f"{o}\u1680AND\u205f{o}"]
    # Nesting.
    for d in [10, 50, 99, 150]:
        out.append("(" * d + o + ")" * d)
        out.append("[" + "(" * d + "x-a:b = 1" + ")" * d + "]")
    # The interop corpus's pattern cases.
    out += [
        "[ipv4-addr:value = '198.51.100.3']",
        "[file:hashes.'SHA-256' = 'fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db']",
        "([ipv4-addr:value = '198.51.100.3'] FOLLOWEDBY [domain-name:value = 'evil.example']) WITHIN 300 SECONDS",
        "[url:value LIKE '%evil%' OR url:value MATCHES '^https?://x'] REPEATS 3 TIMES",
        "[network-traffic:dst_port IN (80, 443, 8080)]", "[x-sightline-ticket:x_queue = 'soc']",
        "[ipv4-addr:value = '198.51.100.3'] START t'yesterday' STOP t'2024-01-01T00:00:00Z'",
    ]
    seen: set[str] = set()
    return [p for p in out if not (p in seen or seen.add(p))]


def oasis(p: str) -> tuple[bool, str]:
    from stix2patterns.validator import run_validator
    try:
        errs = run_validator(p, "2.1")
    except Exception as e:  # the OASIS tool crashes on some inputs
        return False, f"crash: {type(e).__name__}"
    return (not errs), (errs[0] if errs else "")


def sightline(binary: str, p: str) -> tuple[bool, str]:
    r = subprocess.run([binary, "pattern", "validate", p], capture_output=True, text=True)
    if r.returncode == 0:
        return True, ""
    if r.returncode == 1:
        return False, r.stdout.splitlines()[0] if r.stdout else ""
    raise SystemExit(f"harness error: exit {r.returncode} on {p!r}: {r.stderr}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sightline", default=str(ROOT / "target/release/sightline"))
    ap.add_argument("-v", action="store_true", help="list the documented differences too")
    a = ap.parse_args()
    if not Path(a.sightline).exists():
        print(f"harness error: {a.sightline} missing (cargo build --release -p sightline)")
        return 2
    agree = documented = 0
    unexpected: list[str] = []
    notes: list[str] = []
    all_cases = cases()
    for p in all_cases:
        ov, omsg = oasis(p)
        sv, smsg = sightline(a.sightline, p)
        if ov == sv:
            agree += 1
            continue
        code = smsg.removeprefix("error: ")[:4]
        if not sv and code in STRICTER:
            documented += 1
            notes.append(f"stricter  {code} {STRICTER[code]}: {p!r}")
        elif sv and (why := lenient_reason(p)):
            documented += 1
            notes.append(f"lenient   {why}: {p!r}  (OASIS: {omsg})")
        else:
            unexpected.append(f"{p!r}\n    OASIS: {'valid' if ov else omsg}\n    sightline: {'valid' if sv else smsg}")
    if a.v:
        print("\n".join(notes))
    for u in unexpected:
        print("UNEXPECTED", u)
    print(f"oasis_diff: {len(all_cases)} patterns, {agree} agree, {documented} documented differences, "
          f"{len(unexpected)} unexpected")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
