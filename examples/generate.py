#!/usr/bin/env python3
"""Writes the example files the README's commands use (run from anywhere).

A made-up intrusion: workstation 10.20.30.40 looks up cdn-update.lazarus-demo.net
once a minute for 30 minutes (beaconing), fetches a stager over HTTP, then opens
a connection to 185.220.101.45:8443. The indicators in indicators.json describe
it; the Zeek (JSON and TSV) and Suricata logs record it amid normal traffic.
Every value here is fictitious; nothing is contacted.
"""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
T0 = 1767261600.0  # 2026-01-01T10:00:00Z
HOST, DNS_SERVER = "10.20.30.40", "10.20.30.1"
C2, C2_IP, STAGE_IP = "cdn-update.lazarus-demo.net", "45.77.12.9", "185.220.101.45"
URL_PATH = "/check.php"


def ts(t):
    return round(T0 + t, 6)


def dns_rows():
    rows = []
    for i in range(30):  # one lookup a minute: the beacon
        rows.append(dict(ts=ts(60 * i), uid=f"CDns{i:03d}", orig_p=50000 + i, query=C2, answers=[C2_IP]))
    rows.append(dict(ts=ts(15), uid="CDnsNorm1", orig_p=51999, query="intranet.corp.local", answers=["10.20.0.5"]))
    rows.append(dict(ts=ts(75), uid="CDnsNorm2", orig_p=51998, query="mail.corp.local", answers=["10.20.0.6"]))
    return sorted(rows, key=lambda r: r["ts"])


def conn_rows():
    return [
        dict(ts=ts(61), uid="CConn1", orig_p=49200, resp_h=C2_IP, resp_p=80, proto="tcp", service="http", duration=0.4, ob=310, rb=20480),
        dict(ts=ts(90), uid="CConn2", orig_p=49201, resp_h="10.20.0.5", resp_p=443, proto="tcp", service="ssl", duration=1.2, ob=900, rb=5000),
        dict(ts=ts(300), uid="CConn3", orig_p=49202, resp_h=STAGE_IP, resp_p=8443, proto="tcp", service=None, duration=120.0, ob=48000, rb=3100),
    ]


def http_rows():
    return [
        dict(ts=ts(61), uid="CConn1", orig_p=49200, resp_h=C2_IP, host=C2, uri=URL_PATH, method="GET", status=200, ua="Mozilla/5.0 (Windows NT 10.0; Win64; x64)"),
        dict(ts=ts(95), uid="CHttpNorm", orig_p=49203, resp_h="10.20.0.5", host="intranet.corp.local", uri="/", method="GET", status=200, ua="Mozilla/5.0 (Windows NT 10.0; Win64; x64)"),
    ]


def zeek_json():
    out = {}
    out["dns.log"] = [
        {"_path": "dns", "ts": r["ts"], "uid": r["uid"], "id.orig_h": HOST, "id.orig_p": r["orig_p"],
         "id.resp_h": DNS_SERVER, "id.resp_p": 53, "proto": "udp", "query": r["query"], "qtype_name": "A",
         "rcode_name": "NOERROR", "answers": r["answers"]}
        for r in dns_rows()
    ]
    out["conn.log"] = [
        {k: v for k, v in {"_path": "conn", "ts": r["ts"], "uid": r["uid"], "id.orig_h": HOST, "id.orig_p": r["orig_p"],
         "id.resp_h": r["resp_h"], "id.resp_p": r["resp_p"], "proto": r["proto"], "service": r["service"],
         "duration": r["duration"], "orig_bytes": r["ob"], "resp_bytes": r["rb"], "conn_state": "SF"}.items() if v is not None}
        for r in conn_rows()
    ]
    out["http.log"] = [
        {"_path": "http", "ts": r["ts"], "uid": r["uid"], "id.orig_h": HOST, "id.orig_p": r["orig_p"],
         "id.resp_h": r["resp_h"], "id.resp_p": 80, "trans_depth": 1, "method": r["method"], "host": r["host"],
         "uri": r["uri"], "version": "1.1", "user_agent": r["ua"], "status_code": r["status"]}
        for r in http_rows()
    ]
    for name, rows in out.items():
        (HERE / "zeek" / name).write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))


def tsv(path, fields, types, rows):
    head = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-",
            f"#path\t{path}", "#open\t2026-01-01-10-00-00", "#fields\t" + "\t".join(fields), "#types\t" + "\t".join(types)]
    body = ["\t".join(r) for r in rows]
    return "\n".join(head + body + ["#close\t2026-01-01-11-00-00"]) + "\n"


def zeek_tsv():
    d = HERE / "zeek" / "tsv"
    d.mkdir(exist_ok=True)
    f = lambda t: f"{t:.6f}"
    dns = [[f(r["ts"]), r["uid"], HOST, str(r["orig_p"]), DNS_SERVER, "53", "udp", r["query"], "A", "NOERROR",
            ",".join(r["answers"]) or "(empty)"] for r in dns_rows()]
    (d / "dns.log").write_text(tsv("dns", ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "query", "qtype_name", "rcode_name", "answers"],
                                   ["time", "string", "addr", "port", "addr", "port", "enum", "string", "string", "string", "vector[string]"], dns))
    conn = [[f(r["ts"]), r["uid"], HOST, str(r["orig_p"]), r["resp_h"], str(r["resp_p"]), r["proto"], r["service"] or "-",
             f(r["duration"]), str(r["ob"]), str(r["rb"]), "SF"] for r in conn_rows()]
    (d / "conn.log").write_text(tsv("conn", ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration", "orig_bytes", "resp_bytes", "conn_state"],
                                    ["time", "string", "addr", "port", "addr", "port", "enum", "string", "interval", "count", "count", "string"], conn))
    http = [[f(r["ts"]), r["uid"], HOST, str(r["orig_p"]), r["resp_h"], "80", "1", r["method"], r["host"], r["uri"], "1.1", r["ua"], str(r["status"])] for r in http_rows()]
    (d / "http.log").write_text(tsv("http", ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "trans_depth", "method", "host", "uri", "version", "user_agent", "status_code"],
                                    ["time", "string", "addr", "port", "addr", "port", "count", "string", "string", "string", "string", "string", "count"], http))


def iso(t):
    import datetime
    return datetime.datetime.fromtimestamp(T0 + t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def suricata():
    rows = []
    for i, r in enumerate(dns_rows()[:5]):
        rows.append({"timestamp": iso(r["ts"] - T0).replace("Z", "+0000"), "flow_id": 1000 + i, "event_type": "dns", "src_ip": HOST,
                     "src_port": r["orig_p"], "dest_ip": DNS_SERVER, "dest_port": 53, "proto": "UDP",
                     "dns": {"type": "query", "id": 100 + i, "rrname": r["query"], "rrtype": "A", "tx_id": 0}})
    rows.append({"timestamp": iso(61).replace("Z", "+0000"), "flow_id": 2000, "event_type": "http", "src_ip": HOST, "src_port": 49200,
                 "dest_ip": C2_IP, "dest_port": 80, "proto": "TCP",
                 "http": {"hostname": C2, "url": URL_PATH, "http_method": "GET", "protocol": "HTTP/1.1", "status": 200, "length": 20480}})
    rows.append({"timestamp": iso(300).replace("Z", "+0000"), "flow_id": 3000, "event_type": "flow", "src_ip": HOST, "src_port": 49202,
                 "dest_ip": STAGE_IP, "dest_port": 8443, "proto": "TCP",
                 "flow": {"pkts_toserver": 40, "pkts_toclient": 30, "bytes_toserver": 48000, "bytes_toclient": 3100,
                          "start": iso(300).replace("Z", "+0000"), "end": iso(420).replace("Z", "+0000"), "state": "closed"}})
    (HERE / "suricata" / "eve.json").write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))


def stix_id(ty, n):
    return f"{ty}--5a1e{n:04x}-0000-4000-8000-00000000b121"


def indicators():
    created = "2026-01-01T00:00:00.000Z"
    ident = {"type": "identity", "spec_version": "2.1", "id": stix_id("identity", 1), "created": created, "modified": created,
             "name": "Example CERT", "identity_class": "organization"}
    iset = {"type": "intrusion-set", "spec_version": "2.1", "id": stix_id("intrusion-set", 2), "created": created, "modified": created,
            "created_by_ref": ident["id"], "name": "Lazarus Group (example)", "aliases": ["HIDDEN COBRA (example)"]}
    pats = [
        ("C2 domain", f"[domain-name:value = '{C2}']"),
        ("C2 address", f"[ipv4-addr:value = '{C2_IP}']"),
        ("Stager URL", f"[url:value = 'http://{C2}{URL_PATH}']"),
        ("Beaconing to the C2 domain", f"[domain-name:value = '{C2}'] REPEATS 20 TIMES WITHIN 3600 SECONDS"),
        ("Stager fetched, then the second stage", f"[url:value = 'http://{C2}{URL_PATH}'] FOLLOWEDBY [ipv4-addr:value = '{STAGE_IP}'] WITHIN 600 SECONDS"),
        ("Second stage on 8443", f"[network-traffic:dst_ref.value = '{STAGE_IP}' AND network-traffic:dst_port = 8443]"),
    ]
    objs = [ident, iset]
    for n, (name, p) in enumerate(pats, start=10):
        ind = {"type": "indicator", "spec_version": "2.1", "id": stix_id("indicator", n), "created": created, "modified": created,
               "created_by_ref": ident["id"], "name": name, "indicator_types": ["malicious-activity"], "pattern": p,
               "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z", "confidence": 80}
        rel = {"type": "relationship", "spec_version": "2.1", "id": stix_id("relationship", n + 100), "created": created, "modified": created,
               "relationship_type": "indicates", "source_ref": ind["id"], "target_ref": iset["id"]}
        objs += [ind, rel]
    bundle = {"type": "bundle", "id": "bundle--5a1e0000-0000-4000-8000-00000000b121", "objects": objs}
    (HERE / "indicators.json").write_text(json.dumps(bundle, indent=1) + "\n")


def pattern_cases():
    obs = lambda n, t, refs, objs: [{"type": "observed-data", "spec_version": "2.1", "id": f"observed-data--5a1e{n:04x}-0000-4000-8000-0000000000{n:02x}",
                                     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                                     "first_observed": t, "last_observed": t, "number_observed": 1, "object_refs": refs}] + objs
    dom = {"type": "domain-name", "spec_version": "2.1", "id": "domain-name--5a1e0001-0000-4000-8000-000000000001", "value": C2}
    cases = [
        {"id": "c2-domain", "pattern": f"[domain-name:value = '{C2}']", "observed": obs(1, "2026-01-01T10:00:00Z", [dom["id"]], [dom])},
        {"id": "other-domain", "pattern": "[domain-name:value = 'mail.corp.local']", "observed": obs(2, "2026-01-01T10:00:00Z", [dom["id"]], [dom])},
        {"id": "suffix", "pattern": "[domain-name:value LIKE '%.lazarus-demo.net']", "observed": obs(3, "2026-01-01T10:00:00Z", [dom["id"]], [dom])},
    ]
    (HERE / "pattern-cases.jsonl").write_text("".join(json.dumps(c, separators=(",", ":")) + "\n" for c in cases))


def warninglist():
    wl = {"name": "Corporate allowlist (example)", "version": 1, "description": "Our own domains: never an indicator.",
          "type": "hostname", "matching_attributes": ["domain", "hostname"], "list": ["corp.local"]}
    (HERE / "warninglists" / "corp-allowlist" / "list.json").write_text(json.dumps(wl, indent=1) + "\n")


def feed_csv():
    """An abuse.ch-style list: comments, a header, defanged values (refanged on sync)."""
    lines = ["# Example blocklist (fictitious): id,first_seen,url,threat",
             "id,dateadded,url,threat",
             "1,2026-01-01 09:00:00,hxxp://stage2[.]lazarus-demo[.]net/p.bin,malware_download",
             "2,2026-01-01 09:05:00,hxxps://cdn-update(.)lazarus-demo(.)net/u,malware_download"]
    (HERE / "feeds").mkdir(exist_ok=True)
    (HERE / "feeds" / "blocklist.csv").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    feed_csv()
    zeek_json()
    zeek_tsv()
    suricata()
    indicators()
    pattern_cases()
    warninglist()
