#!/usr/bin/env python3
"""`sightline export` checked by the sensors' own tools (issue 15 §2).

Imports the Bureau 121 pack plus generated indicators of every kind the
exporters map (addresses, CIDRs, directed traffic with ports and protocols,
domains, http/https URLs, file hashes and names, e-mail, certificates, user
agents, accounts, the inexpressible shapes, a sigma-language indicator), linked
by `indicates` to ATT&CK techniques and a group, then exports every sensor
format and checks:
  - Sigma: every rule passes `sigma check --fail-on-issues` (sigma-cli; the
    ATT&CK tags against the real ATT&CK Enterprise data when
    SIGHTLINE_TEST_DATA has it, as pySigma would otherwise fetch it) and
    converts with pysigma-backend-splunk and pysigma-backend-elasticsearch;
  - Suricata (rules and datasets): every rule parses with suricataparser and
    idstools, uses only keywords the integrations digest (§2.4) lists, has a
    unique SID in the range asked for and names its indicator in metadata;
    the set files hold what their type says (base64 strings, addresses, hex);
  - Zeek Intel: a strict reader written from the digest (§1.2: `#fields` header,
    TAB separation, `\\xHH` escapes, `-` unset only in optional fields, full
    `Intel::` enum names, no empty required field) reads every line, and zat's
    ZeekLogReader reads the same rows;
  - CSV: Python's csv module reads it; every value is a constant of its
    indicator's pattern;
  - the report: every generated inexpressible indicator is named on stderr.

    tests/interop/export_tools.py --sightline target/release/sightline
"""
import argparse
import base64
import csv
import gzip
import io
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NS = uuid.UUID("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9")
AT = "2026-06-01T00:00:00Z"

# Digest §2.4 (buffers, transforms, file keywords, meta keywords) and §2.1
# (dataset): the keywords a Sightline rule may use. Written from the digest,
# not from the exporter's own list.
DIGEST_KEYWORDS = {
    "dns.query", "tls.sni", "http.host", "http.host.raw", "http.uri", "http.uri.raw",
    "ip.src", "ip.dst", "filemd5", "filesha1", "filesha256", "ja3.hash", "ja4.hash",
    "email.from", "smtp.mail_from", "content", "nocase", "bsize", "dotprefix",
    "endswith", "to_lowercase", "flow", "dataset", "datarep", "iprep", "msg", "sid",
    "rev", "gid", "classtype", "priority", "reference", "metadata", "target", "requires",
}
# Digest §1.1.
INTEL_TYPES = {
    "Intel::ADDR", "Intel::SUBNET", "Intel::URL", "Intel::SOFTWARE", "Intel::EMAIL",
    "Intel::DOMAIN", "Intel::USER_NAME", "Intel::CERT_HASH", "Intel::PUBKEY_HASH",
    "Intel::FILE_HASH", "Intel::FILE_NAME",
}
TECHNIQUES = [("T1071.001", "Web Protocols"), ("T1566.001", "Spearphishing Attachment"),
              ("T1105", "Ingress Tool Transfer"), ("T1041", "Exfiltration Over C2 Channel")]


def sid(n):
    return str(uuid.uuid5(NS, n))


def ts(i=0):
    return f"2026-0{1 + i % 5}-1{i % 10}T10:00:00.000Z"


def generate():
    """(objects, ids of indicators no format can carry)."""
    objs = []
    aps = []
    for tid, name in TECHNIQUES:
        ap = {"type": "attack-pattern", "spec_version": "2.1", "id": f"attack-pattern--{sid(tid)}",
              "created": ts(), "modified": ts(), "name": name,
              "external_references": [{"source_name": "mitre-attack", "external_id": tid}]}
        aps.append(ap)
        objs.append(ap)
    group = {"type": "intrusion-set", "spec_version": "2.1", "id": f"intrusion-set--{sid('G0032')}",
             "created": ts(), "modified": ts(), "name": "Lazarus Group",
             "external_references": [{"source_name": "mitre-attack", "external_id": "G0032"}]}
    objs.append(group)
    pats = []
    for i in range(40):
        pats += [
            f"[ipv4-addr:value = '45.{i}.{i * 3 % 250}.{1 + i}']",
            f"[ipv4-addr:value ISSUBSET '91.{i}.0.0/16']",
            f"[ipv6-addr:value = '2a0{i % 9}:1450:4001:{i:x}::200e']",
            f"[network-traffic:dst_ref.value = '185.{i}.1.2' AND network-traffic:dst_port = {1000 + i}]",
            f"[network-traffic:src_ref.value = '193.{i}.2.0/24' AND network-traffic:protocols[*] = 'tcp']",
            f"[domain-name:value = 'c2-{i}.evil-corp.test']",
            f"[domain-name:value IN ('a{i}.bad.test', 'B{i}.Bad.test')]",
            f"[url:value = 'http://gate{i}.evil-corp.test/p/{i}.php?a=1&b=\"{i}\"']",
            f"[url:value = 'http://gate{i}.evil-corp.test:8{i:03d}/x;y']",
            f"[file:hashes.MD5 = '{uuid.uuid5(NS, 'md5' + str(i)).hex}']",
            f"[file:hashes.'SHA-256' = '{uuid.uuid5(NS, 'a' + str(i)).hex}{uuid.uuid5(NS, 'b' + str(i)).hex}']",
            f"[file:hashes.'SHA-1' = '{uuid.uuid5(NS, 's1' + str(i)).hex}{i:08x}'"
            f" OR file:name = 'payload{i}.exe']",
            f"[email-addr:value = 'billing{i}@evil-corp.test']",
            f"[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'Evil*Agent/{i}.0 (x?)']",
            f"[x509-certificate:hashes.'SHA-1' = '{uuid.uuid5(NS, 'x' + str(i)).hex}{i:08x}']",
            f"[user-account:account_login = 'svc_{i}']",
        ]
    never = [
        "[ipv4-addr:value = '45.200.1.1'] REPEATS 5 TIMES WITHIN 60 SECONDS",
        "[domain-name:value = 's1.evil-corp.test'] FOLLOWEDBY [domain-name:value = 's2.evil-corp.test']",
        "[domain-name:value = 'o.evil-corp.test'] AND [ipv4-addr:value = '45.200.1.2']",
        "[domain-name:value LIKE '%.evil-corp.test']",
        "[url:value MATCHES '^http://[a-z]+\\\\.evil-corp\\\\.test/']",
        "[domain-name:value != 'good.test']",
        "[file:name = 'a.exe' AND file:hashes.MD5 = '0cc175b9c0f1b6a831c399e269772661']",
        "[mutex:name = 'Global\\\\EvilMutex'] WITHIN 5 SECONDS",
    ]
    never_ids = []
    for i, p in enumerate(pats + never):
        ind = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{sid('gen' + str(i))}",
               "created": ts(i), "modified": ts(i).replace("T10:", "T11:"), "name": f"Generated {i}: it's \"quoted\"\tand\\tabbed",
               "pattern": p, "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
               "confidence": 20 + i % 80, "indicator_types": ["malicious-activity"]}
        if i % 7 == 0:
            ind["kill_chain_phases"] = [{"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"}]
        if i % 11 == 0:
            ind["valid_until"] = "2026-02-01T00:00:00Z"  # expired at AT
        objs.append(ind)
        if i >= len(pats):
            never_ids.append(ind["id"])
        targets = [aps[i % len(aps)]["id"]] + ([group["id"]] if i % 3 == 0 else [])
        for t in targets:
            objs.append({"type": "relationship", "spec_version": "2.1",
                         "id": f"relationship--{sid(ind['id'] + t)}", "created": ts(), "modified": ts(),
                         "relationship_type": "indicates", "source_ref": ind["id"], "target_ref": t})
    objs.append({"type": "indicator", "spec_version": "2.1", "id": f"indicator--{sid('sigma')}",
                 "created": ts(), "modified": ts(), "name": "Own Sigma rule", "pattern_type": "sigma",
                 "pattern_version": "2.1.0", "valid_from": "2026-01-01T00:00:00Z", "confidence": 90,
                 "pattern": "title: Certutil URL cache download\nid: 7d0c2a51-3c5e-4a0e-9a51-1d2f9e3b4c5d\n"
                            "status: experimental\nlogsource:\n    category: process_creation\n"
                            "    product: windows\ndetection:\n    selection:\n"
                            "        Image|endswith: '\\certutil.exe'\n        CommandLine|contains: 'urlcache'\n"
                            "    condition: selection\nlevel: high\n"})
    return objs, never_ids


class Checks:
    def __init__(self):
        self.failures = []
        self.passed = 0

    def ok(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failures.append(what)
            print("FAIL:", what)


def sightline(bin_, data, *args):
    return subprocess.run([bin_, "--data", str(data), *args], capture_output=True, text=True)


# ---------------------------------------------------------------------------
# Zeek: a strict reader from the digest (§1.2)

def unescape(field):
    """get_unescaped_string: \\xHH is that byte; nothing else is special."""
    out = bytearray()
    b = field.encode("utf-8")
    i = 0
    while i < len(b):
        if b[i] == 0x5C and i + 3 < len(b) + 0 and b[i + 1:i + 2] == b"x" and re.fullmatch(rb"[0-9a-fA-F]{2}", b[i + 2:i + 4]):
            out.append(int(b[i + 2:i + 4], 16))
            i += 4
        else:
            out.append(b[i])
            i += 1
    return out.decode("utf-8")


def read_intel(text, ch):
    rows = []
    fields = None
    required = {"indicator", "indicator_type", "meta.source"}
    for n, line in enumerate(text.split("\n"), 1):
        if line.endswith("\r"):
            line = line[:-1]
        if not line:
            continue
        if line.startswith("#fields\t"):
            ch.ok(fields is None, f"zeek: line {n}: a second #fields line")
            fields = line.split("\t")[1:]
            for f in required | {"meta.desc", "meta.url"}:
                ch.ok(f in fields, f"zeek: #fields lacks {f}")
            continue
        if line.startswith("#"):
            continue
        ch.ok(fields is not None, f"zeek: line {n}: data before #fields")
        parts = line.split("\t")
        if len(parts) != len(fields):
            ch.ok(False, f"zeek: line {n}: {len(parts)} fields, #fields has {len(fields)}: {line!r}")
            continue
        row = {}
        for name, raw in zip(fields, parts):
            if raw == "-":
                ch.ok(name not in required, f"zeek: line {n}: required {name} unset")
                row[name] = None
                continue
            ch.ok(raw != "", f"zeek: line {n}: empty {name} (an unset field must be '-')")
            v = unescape(raw)
            ch.ok("\t" not in raw and "\n" not in raw, f"zeek: line {n}: raw control character")
            row[name] = v
        ty = row["indicator_type"]
        ch.ok(ty in INTEL_TYPES, f"zeek: line {n}: bad enum {ty}")
        v = row["indicator"]
        if ty == "Intel::ADDR":
            ipaddress.ip_address(v)
        elif ty == "Intel::SUBNET":
            ch.ok(str(ipaddress.ip_network(v)) == v, f"zeek: line {n}: subnet {v} not canonical")
        elif ty in ("Intel::FILE_HASH", "Intel::CERT_HASH"):
            ch.ok(re.fullmatch(r"[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}", v) is not None, f"zeek: line {n}: hash {v}")
        elif ty == "Intel::URL":
            ch.ok("://" not in v and "/" in v, f"zeek: line {n}: URL {v} has a scheme or no path")
        elif ty == "Intel::DOMAIN":
            ch.ok(v == v.lower() and v.isascii(), f"zeek: line {n}: domain {v}")
        ch.ok(row["meta.source"].startswith("indicator--"), f"zeek: line {n}: meta.source")
        rows.append(row)
    ch.ok(fields is not None, "zeek: no #fields line")
    return rows


def check_zeek(path, active, ch):
    text = path.read_text(encoding="utf-8")
    rows = read_intel(text, ch)
    print(f"zeek-intel: {len(rows)} lines read by the strict reader")
    ch.ok(len(rows) > 100, "zeek: too few lines")
    for r in rows:
        ch.ok(r["meta.source"] in active, f"zeek: {r['meta.source']} is not an active indicator")
        ch.ok(r["meta.url"] == f"https://hub.example/ui/objects/{r['meta.source']}", f"zeek: meta.url {r['meta.url']}")
    from zat.zeek_log_reader import ZeekLogReader
    zrows = list(ZeekLogReader(str(path)).readrows())
    ch.ok(len(zrows) == len(rows), f"zat read {len(zrows)} rows, the strict reader {len(rows)}")
    for z, r in zip(zrows, rows):
        # zat does not unescape; compare the raw column text.
        ch.ok(z["meta.source"] == r["meta.source"] and z["indicator_type"] == r["indicator_type"],
              f"zat row differs: {z} vs {r}")
    print(f"zeek-intel: zat ZeekLogReader read {len(zrows)} rows")


# ---------------------------------------------------------------------------
# Suricata

def check_rules(path, lo, hi, ch, names):
    from suricataparser import parse_file
    import idstools.rule

    text = path.read_text(encoding="utf-8")
    lines = [l for l in text.splitlines() if l.startswith("alert")]
    parsed = parse_file(str(path))
    ch.ok(len(parsed) == len(lines), f"{path.name}: suricataparser parsed {len(parsed)} of {len(lines)} rules")
    ids = idstools.rule.parse_file(str(path))
    ch.ok(len(ids) == len(lines), f"{path.name}: idstools parsed {len(ids)} of {len(lines)} rules")
    sids = set()
    for r in parsed:
        kws = {o.name for o in r.options}
        extra = kws - DIGEST_KEYWORDS
        ch.ok(not extra, f"{path.name}: sid {r.sid}: keywords outside the digest: {extra}")
        n = int(r.sid)
        ch.ok(lo <= n <= hi, f"{path.name}: sid {n} outside {lo}..{hi}")
        ch.ok(n not in sids, f"{path.name}: sid {n} twice")
        sids.add(n)
    for r in ids:
        md = " ".join(r["metadata"])
        ch.ok(md.startswith("sightline_id indicator--") or md.startswith("sightline_list "),
              f"{path.name}: sid {r['sid']}: metadata {md!r}")
        m = re.match(r"sightline_id (indicator--\S+)", md)
        if m:
            names.add(m.group(1))
    print(f"{path.name}: {len(lines)} rules parsed by suricataparser and idstools, SIDs unique in range")
    return len(lines)


def check_sets(d, ch):
    n = 0
    for f in sorted(d.iterdir()):
        if f.name == "sightline.rules":
            continue
        for line in f.read_text().splitlines():
            n += 1
            if f.suffix == ".lst" and f.name.startswith("sl-domains"):
                v = base64.b64decode(line, validate=True).decode()
                ch.ok(v == v.lower() and v.isascii(), f"{f.name}: {v}")
            elif f.name.startswith("sl-ips"):
                ipaddress.ip_address(line)
            else:
                width = {"sl-md5.txt": 32, "sl-sha1.txt": 40, "sl-sha256.txt": 64}[f.name]
                ch.ok(re.fullmatch(f"[0-9a-f]{{{width}}}", line) is not None, f"{f.name}: {line}")
        # Every set file is loaded by some rule.
        ch.ok(f.name in (d / "sightline.rules").read_text(), f"{f.name} is loaded by no rule")
    print(f"suricata-datasets: {n} set entries in {len(list(d.iterdir())) - 1} files")


# ---------------------------------------------------------------------------
# Sigma

def attack_data(tmp):
    """The real ATT&CK Enterprise bundle, unpacked, or None."""
    base = Path(os.environ.get("SIGHTLINE_TEST_DATA", ROOT.parent / "shared/data/real")) / "attack"
    found = sorted(base.glob("enterprise-attack-*.json*")) if base.is_dir() else []
    if not found:
        return None
    src = found[-1]
    dst = tmp / "enterprise-attack.json"
    with (gzip.open(src, "rb") if src.suffix == ".gz" else open(src, "rb")) as f, open(dst, "wb") as o:
        shutil.copyfileobj(f, o)
    return dst


def check_sigma(d, tmp, ch):
    files = sorted(d.glob("*.yml"))
    attack = attack_data(tmp)
    # pySigma fetches ATT&CK and D3FEND data from the network for its tag
    # validators: ATT&CK is given from the test data; the D3FEND validator is
    # left out (Sightline writes no d3fend tags). escaped_wildcard flags the
    # `\*`/`\?` that IOC values need (a literal `*` must be escaped, §3.2).
    exclude = ["d3_fendtag", "escaped_wildcard"]
    if attack is None:
        exclude.append("attacktag")
        print("sigma check: no ATT&CK data under SIGHTLINE_TEST_DATA: attack tags NOT checked against ATT&CK")
    code = (
        "import sys\nimport sigma.data.mitre_attack as m\n"
        f"m.set_cache_dir({str(tmp / 'pysigma-cache')!r})\n"
        + (f"m.set_url({str(attack)!r})\n" if attack else "")
        + "from sigma.cli.main import main\nsys.argv = ['sigma'] + sys.argv[1:]\nmain()\n"
    )
    args = [sys.executable, "-c", code, "check", "--fail-on-error", "--fail-on-issues"]
    for e in exclude:
        args += ["--exclude", e]
    r = subprocess.run(args + [str(d)], capture_output=True, text=True)
    ch.ok(r.returncode == 0, f"sigma check failed:\n{r.stdout[-4000:]}\n{r.stderr[-2000:]}")
    print(f"sigma check: {len(files)} rules, exit {r.returncode} (excluded validators: {', '.join(exclude)})")

    from sigma.collection import SigmaCollection
    from sigma.backends.splunk import SplunkBackend
    from sigma.backends.elasticsearch import LuceneBackend

    converted = 0
    for f in files:
        rules = SigmaCollection.from_yaml(f.read_text(encoding="utf-8"))
        for backend in (SplunkBackend(), LuceneBackend()):
            try:
                q = backend.convert(rules)
                ch.ok(len(q) == 1 and q[0], f"{f.name}: {type(backend).__name__} gave {q!r}")
                converted += 1
            except Exception as e:  # noqa: BLE001 - any failure is the finding
                ch.ok(False, f"{f.name}: {type(backend).__name__}: {e}")
    print(f"sigma: {converted} conversions (Splunk SPL, Elasticsearch Lucene) of {len(files)} rules")
    return files


# ---------------------------------------------------------------------------

def constants(pattern):
    """The string constants of a pattern, unescaped, addresses canonical."""
    out = set()
    for c in re.findall(r"'((?:[^'\\]|\\.)*)'", pattern):
        c = c.replace("\\'", "'").replace("\\\\", "\\")
        out.add(c)
        try:
            out.add(str(ipaddress.ip_network(c, strict=False)))
            out.add(str(ipaddress.ip_address(c)))
        except ValueError:
            pass
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sightline", required=True)
    args = ap.parse_args()
    ch = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "data"
        objs, never = generate()
        gen = tmp / "generated.json"
        gen.write_text(json.dumps({"type": "bundle", "id": f"bundle--{sid('b')}", "objects": objs}))
        for f in (ROOT / "packs/bureau-121.json", gen):
            r = sightline(args.sightline, data, "import", str(f))
            ch.ok(r.returncode == 0, f"import {f.name}: {r.stderr[-2000:]}")
        patterns = {o["id"]: o["pattern"] for o in objs if o["type"] == "indicator"}
        active = {o["id"] for o in objs if o["type"] == "indicator" and "valid_until" not in o}
        # About the formats: the lifecycle (on by default, issue 16) would
        # decay most generated indicators out by AT (IPs live 47 days).
        common = ["--at", AT, "--base-url", "https://hub.example", "--lifecycle", "off"]

        out = tmp / "intel.dat"
        r = sightline(args.sightline, data, "export", "--format", "zeek-intel", *common, "-o", str(out))
        ch.ok(r.returncode == 0, f"zeek export: {r.stderr[-2000:]}")
        for i in never:
            ch.ok(f"not expressible: {i}" in r.stderr, f"zeek: {i} not reported on stderr")
        check_zeek(out, active, ch)

        names = set()
        out = tmp / "sightline.rules"
        r = sightline(args.sightline, data, "export", "--format", "suricata", *common, "--sid-start", "1900000", "-o", str(out))
        ch.ok(r.returncode == 0, f"suricata export: {r.stderr[-2000:]}")
        n = check_rules(out, 1_900_000, 1_999_999, ch, names)
        ch.ok(n > 100, "suricata: too few rules")
        ds = tmp / "datasets"
        r = sightline(args.sightline, data, "export", "--format", "suricata-datasets", *common, "-o", str(ds))
        ch.ok(r.returncode == 0, f"datasets export: {r.stderr[-2000:]}")
        check_rules(ds / "sightline.rules", 1_000_000, 1_999_999, ch, names)
        check_sets(ds, ch)
        ch.ok(names <= active, f"suricata: inactive indicators in metadata: {sorted(names - active)[:5]}")

        sg = tmp / "sigma"
        r = sightline(args.sightline, data, "export", "--format", "sigma", *common, "-o", str(sg))
        ch.ok(r.returncode == 0, f"sigma export: {r.stderr[-2000:]}")
        for i in never:
            ch.ok(f"not expressible: {i}" in r.stderr, f"sigma: {i} not reported on stderr")
        files = check_sigma(sg, tmp, ch)
        ch.ok(len(files) > 100, "sigma: too few rules")
        own = [f for f in files if "Certutil URL cache download" in f.read_text()]
        ch.ok(len(own) == 1, "sigma: the sigma-language indicator is not exported as its own rule")

        r = sightline(args.sightline, data, "export", "--format", "csv", *common)
        ch.ok(r.returncode == 0, f"csv export: {r.stderr[-2000:]}")
        body = "\n".join(l for l in r.stdout.split("\n") if not l.startswith("#"))
        rows = list(csv.DictReader(io.StringIO(body)))
        for row in rows:
            p = patterns.get(row["indicator_id"], "")
            ok = row["value"] in constants(p)
            ch.ok(ok, f"csv: {row['value']!r} is not a constant of {row['indicator_id']}")
            ch.ok(row["indicator_id"] in active, f"csv: {row['indicator_id']} is not active")
        print(f"csv: {len(rows)} rows read by Python's csv module")
        ch.ok(len(rows) > 400, "csv: too few rows")

    print(f"{ch.passed} passed, {len(ch.failures)} failed")
    return 1 if ch.failures else 0


if __name__ == "__main__":
    sys.exit(main())
