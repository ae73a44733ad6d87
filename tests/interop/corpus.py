"""Deterministic STIX 2.1 test corpus for tests/interop/validator_diff.py.

`base_objects()` returns one clean, valid object per STIX 2.1 type (19 SDOs,
relationship, sighting, 18 SCOs, marking-definitions incl. TLP 1.0 and TLP 2.0,
language-content, extension-definition) plus custom content (a custom object, custom
properties, a new-SDO extension object). Every base object is valid under the OASIS
stix2-validator with no errors; `validator_diff.py --self-check` verifies that.

`cases()` returns those objects plus one-rule mutations of them: each mutation
breaks exactly one rule of the STIX 2.1 specification (or, for a few marked
`spec_valid=True`, changes something the spec allows). Case names are stable: the
expected-differences table in validator_diff.py refers to them.

Everything here is generated from fixed UUIDs, so runs are reproducible.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass
from typing import Any, Callable

T0 = "2024-01-15T10:00:00.000Z"
T1 = "2024-02-20T12:30:00.000Z"
T2 = "2024-03-25T08:15:00.000Z"

# Namespace for deterministic SCO ids (STIX 2.1 §2.9).
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
# Our own namespace for the UUIDv4-looking ids of SDOs: uuid5 gives stable ids.
_SDO_NS = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")

IDENTITY = "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"
TLP_WHITE = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
TLP_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
TLP_AMBER = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
TLP2_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
TLP2_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
TLP2_EXT = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
EXTDEF = "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e"
PROP_EXTDEF = "extension-definition--a932fcc6-e032-476c-826f-cb970a5a1ade"


def sdo_id(type_: str, name: str) -> str:
    """A stable UUIDv4-shaped id (version nibble 4, RFC 4122 variant)."""
    raw = bytearray(uuid.uuid5(_SDO_NS, f"{type_}/{name}").bytes)
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return f"{type_}--{uuid.UUID(bytes=bytes(raw))}"


def sco_id(obj: dict, props: list[str]) -> str:
    """Deterministic UUIDv5 id from the type's ID contributing properties (§2.9)."""
    contrib = {p: obj[p] for p in props if p in obj}
    canon = json.dumps(contrib, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{obj['type']}--{uuid.uuid5(SCO_NAMESPACE, canon)}"


def _sdo(type_: str, key: str, **props: Any) -> dict:
    obj = {
        "type": type_,
        "spec_version": "2.1",
        "id": sdo_id(type_, key),
        "created": T0,
        "modified": T1,
    }
    obj.update(props)
    return obj


def _sco(type_: str, contrib: list[str], **props: Any) -> dict:
    obj = {"type": type_, "spec_version": "2.1"}
    obj.update(props)
    obj["id"] = sco_id(obj, contrib)
    # keep "id" near the front for readability
    return {"type": obj.pop("type"), "spec_version": obj.pop("spec_version"), "id": obj.pop("id"), **obj}


def base_objects() -> dict[str, dict]:
    """name -> a clean, valid STIX 2.1 object."""
    o: dict[str, dict] = {}

    # ---- SDOs (19) ------------------------------------------------------
    o["attack-pattern"] = _sdo(
        "attack-pattern", "ap", name="Spearphishing Attachment",
        description="Adversaries send emails with a malicious attachment.",
        created_by_ref=IDENTITY,
        external_references=[
            {"source_name": "capec", "external_id": "CAPEC-163"},
            {"source_name": "mitre-attack", "external_id": "T1566.001"},
        ],
        kill_chain_phases=[{"kill_chain_name": "mitre-attack", "phase_name": "initial-access"}],
        object_marking_refs=[TLP_GREEN],
    )
    o["campaign"] = _sdo(
        "campaign", "cmp", name="Operation Dream Job", description="Fake job offers.",
        aliases=["DreamJob"], first_seen=T0, last_seen=T2, objective="Espionage",
        created_by_ref=IDENTITY, confidence=80, lang="en", labels=["espionage"],
    )
    o["course-of-action"] = _sdo("course-of-action", "coa", name="Block macro execution", description="Disable Office macros.")
    o["grouping"] = _sdo(
        "grouping", "grp", name="Suspicious phishing wave", context="suspicious-activity",
        object_refs=[sdo_id("indicator", "ind"), sdo_id("campaign", "cmp")],
    )
    o["identity"] = {
        "type": "identity", "spec_version": "2.1", "id": IDENTITY, "created": T0, "modified": T0,
        "name": "Sightline Test Org", "identity_class": "organization", "sectors": ["technology"],
        "contact_information": "soc@example.org",
    }
    o["incident"] = _sdo("incident", "inc", name="Phishing incident 42", description="Payroll phishing.")
    o["indicator"] = _sdo(
        "indicator", "ind", name="C2 address", description="Known C2 server.", indicator_types=["malicious-activity"],
        pattern="[ipv4-addr:value = '198.51.100.3']", pattern_type="stix", pattern_version="2.1",
        valid_from=T0, valid_until=T2,
        kill_chain_phases=[{"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"}],
    )
    o["infrastructure"] = _sdo(
        "infrastructure", "infra", name="Phishing relay", infrastructure_types=["command-and-control"],
        first_seen=T0, last_seen=T2,
    )
    o["intrusion-set"] = _sdo(
        "intrusion-set", "is", name="Lazarus Group", aliases=["HIDDEN COBRA"], first_seen=T0, last_seen=T2,
        goals=["financial gain"], resource_level="government", primary_motivation="organizational-gain",
    )
    o["location"] = _sdo(
        "location", "loc", name="Pyongyang", latitude=39.0392, longitude=125.7625, precision=1000.0,
        region="eastern-asia", country="KP",
    )
    o["malware"] = _sdo(
        "malware", "mal", name="WannaCry", is_family=True, malware_types=["ransomware", "worm"],
        first_seen=T0, last_seen=T2, architecture_execution_envs=["x86"], implementation_languages=["c"],
        capabilities=["communicates-with-c2"],
    )
    o["malware-analysis"] = _sdo(
        "malware-analysis", "ma", product="example-av", version="1.0", result="malicious",
        analysis_started=T0, analysis_ended=T1,
        sample_ref="file--7f5e9e3c-1c4e-5c7a-9a39-0d0c3b1a6f42",
    )
    o["note"] = _sdo(
        "note", "note", abstract="Triage", content="Confirmed by the SOC.", authors=["analyst"],
        object_refs=[sdo_id("campaign", "cmp")],
    )
    o["observed-data"] = _sdo(
        "observed-data", "od", first_observed=T0, last_observed=T1, number_observed=5,
        object_refs=["ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"],
    )
    o["opinion"] = _sdo(
        "opinion", "op", opinion="strongly-agree", explanation="Seen it ourselves.",
        object_refs=[sdo_id("campaign", "cmp")],
    )
    o["report"] = _sdo(
        "report", "rep", name="Quarterly threat report", report_types=["threat-report"], published=T2,
        object_refs=[sdo_id("campaign", "cmp"), sdo_id("indicator", "ind")],
    )
    o["threat-actor"] = _sdo(
        "threat-actor", "ta", name="Bureau 121", threat_actor_types=["nation-state"], aliases=["RGB Unit 121"],
        first_seen=T0, last_seen=T2, roles=["agent"], sophistication="advanced", resource_level="government",
        primary_motivation="dominance",
    )
    o["tool"] = _sdo("tool", "tool", name="Mimikatz", tool_types=["credential-exploitation"], tool_version="2.2")
    o["vulnerability"] = _sdo(
        "vulnerability", "vuln", name="CVE-2017-0144",
        external_references=[{"source_name": "cve", "external_id": "CVE-2017-0144"}],
    )

    # ---- SROs -----------------------------------------------------------
    o["relationship"] = _sdo(
        "relationship", "rel", relationship_type="uses", source_ref=sdo_id("intrusion-set", "is"),
        target_ref=sdo_id("malware", "mal"), start_time=T0, stop_time=T2,
    )
    o["sighting"] = _sdo(
        "sighting", "sig", sighting_of_ref=sdo_id("indicator", "ind"), first_seen=T0, last_seen=T2, count=3,
        where_sighted_refs=[IDENTITY], observed_data_refs=[sdo_id("observed-data", "od")],
    )

    # ---- SCOs (18) ------------------------------------------------------
    o["artifact"] = _sco("artifact", ["hashes", "payload_bin"], mime_type="text/plain", payload_bin="aGVsbG8gd29ybGQ=")
    o["autonomous-system"] = _sco("autonomous-system", ["number"], number=15139, name="Slime Industries", rir="ARIN")
    o["directory"] = _sco("directory", ["path"], path="C:\\Windows\\System32")
    o["domain-name"] = _sco("domain-name", ["value"], value="example.com")
    o["email-addr"] = _sco("email-addr", ["value"], value="john@example.com", display_name="John Doe")
    o["email-message"] = _sco(
        "email-message", ["from_ref", "subject", "body"], is_multipart=False, subject="Job offer",
        date=T0, body="Please see the attachment.",
    )
    o["file"] = _sco(
        "file", ["hashes", "name", "extension", "parent_directory_ref"], name="invoice.docm", size=25536,
        hashes={"SHA-256": "fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db"},
    )
    o["ipv4-addr"] = _sco("ipv4-addr", ["value"], value="198.51.100.3")
    o["ipv6-addr"] = _sco("ipv6-addr", ["value"], value="2001:db8::1")
    o["mac-addr"] = _sco("mac-addr", ["value"], value="d2:fb:49:24:37:18")
    o["mutex"] = _sco("mutex", ["name"], name="__CLEANSWEEP__")
    o["network-traffic"] = _sco(
        "network-traffic", ["start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions"],
        start=T0, end=T1, src_ref=o["ipv4-addr"]["id"], src_port=49152, dst_port=443, protocols=["ipv4", "tcp", "ssl"],
    )
    o["process"] = _sco("process", [], pid=1221, command_line="./gedit-bin --new-window", created_time=T0)
    o["process"]["id"] = "process--f52a906a-0dfc-40bd-92f1-e7778ead38a9"  # no contributing props: UUIDv4
    o["software"] = _sco(
        "software", ["name", "cpe", "swid", "vendor", "version"], name="Word", vendor="Microsoft", version="2002",
        cpe="cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*", languages=["en"],
    )
    o["url"] = _sco("url", ["value"], value="https://example.com/research/index.html")
    o["user-account"] = _sco(
        "user-account", ["account_type", "user_id", "account_login"], user_id="1001", account_login="jdoe",
        account_type="unix", display_name="John Doe", is_privileged=False,
    )
    o["windows-registry-key"] = _sco(
        "windows-registry-key", ["key", "values"], key="HKEY_LOCAL_MACHINE\\System\\Foo\\Bar",
        values=[{"name": "Foo", "data": "qwerty", "data_type": "REG_SZ"}],
    )
    o["x509-certificate"] = _sco(
        "x509-certificate", ["hashes", "serial_number"], issuer="C=ZA, ST=Western Cape, L=Cape Town, O=Thawte",
        serial_number="36:f7:d4:32:f4:ab:70:ea:d3:ce:98:6e:ea:99:93:49:32:0a:b7:06",
        validity_not_before=T0, validity_not_after=T2, subject="C=US, O=Example",
    )

    # ---- Meta objects ---------------------------------------------------
    o["marking-definition-statement"] = {
        "type": "marking-definition", "spec_version": "2.1",
        "id": sdo_id("marking-definition", "stmt"), "created": T0, "created_by_ref": IDENTITY,
        "name": "Copyright statement", "definition_type": "statement",
        "definition": {"statement": "Copyright 2024, Example Corp"},
    }
    o["marking-definition-tlp-green"] = {
        "type": "marking-definition", "spec_version": "2.1", "id": TLP_GREEN,
        "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "name": "TLP:GREEN",
        "definition": {"tlp": "green"},
    }
    o["marking-definition-tlp2-clear"] = {
        "type": "marking-definition", "spec_version": "2.1", "id": TLP2_CLEAR,
        "created": "2022-10-01T00:00:00.000Z", "name": "TLP:CLEAR",
        "extensions": {TLP2_EXT: {"extension_type": "property-extension", "tlp_2_0": "clear"}},
    }
    o["language-content"] = _sdo(
        "language-content", "lc", object_ref=sdo_id("campaign", "cmp"), object_modified=T1,
        contents={"de": {"name": "Operation Traumjob", "description": "Gefälschte Stellenangebote."},
                  "fr": {"name": "Opération Emploi de Rêve"}},
    )
    o["extension-definition"] = _sdo(
        "extension-definition", "extdef", created_by_ref=IDENTITY, name="Attack-style new SDO",
        description="Defines the x-sightline-playbook object type.",
        schema="https://example.com/schemas/playbook.json", version="1.0.0", extension_types=["new-sdo"],
    )
    o["extension-definition"]["id"] = EXTDEF

    # ---- Custom content ---------------------------------------------------
    o["custom-object"] = {
        "type": "x-sightline-ticket", "spec_version": "2.1", "id": sdo_id("x-sightline-ticket", "t1"),
        "created": T0, "modified": T1, "x_priority": "high", "x_queue": "soc",
    }
    o["custom-properties"] = _sdo(
        "indicator", "ind-custom", name="Custom props", description="Has custom properties.", pattern="[domain-name:value = 'evil.example']",
        pattern_type="stix", valid_from=T0, x_sightline_score=73, x_sightline_tags=["a", "b"],
    )
    o["new-sdo-extension-object"] = {
        "type": "x-sightline-playbook", "spec_version": "2.1", "id": sdo_id("x-sightline-playbook", "pb"),
        "created": T0, "modified": T1, "name": "Contain phishing", "steps": ["isolate", "reset"],
        "extensions": {EXTDEF: {"extension_type": "new-sdo"}},
    }
    o["granular-markings"] = _sdo(
        "report", "rep-gran", name="Marked report", published=T2, object_refs=[sdo_id("campaign", "cmp")],
        description="Contains marked text.",
        granular_markings=[{"marking_ref": TLP_AMBER, "selectors": ["description", "object_refs.[0]"]}],
    )
    return o


# ---------------------------------------------------------------------------
# Mutations
# ---------------------------------------------------------------------------

@dataclass
class Case:
    name: str                 # stable; the expected-differences table refers to it
    obj: Any                  # the object to validate (usually a dict)
    spec_valid: bool          # the verdict STIX 2.1 gives
    rule: str                 # what the case exercises


def _set(**kv: Any) -> Callable[[dict], None]:
    def f(o: dict) -> None:
        o.update(kv)
    return f


def _del(*keys: str) -> Callable[[dict], None]:
    def f(o: dict) -> None:
        for k in keys:
            o.pop(k, None)
    return f


def _both(*fs: Callable[[dict], None]) -> Callable[[dict], None]:
    def f(o: dict) -> None:
        for g in fs:
            g(o)
    return f


# Required properties per type, beyond the common ones (STIX 2.1 §4-§7).
REQUIRED: dict[str, list[str]] = {
    "attack-pattern": ["name"], "campaign": ["name"], "course-of-action": ["name"],
    "grouping": ["context", "object_refs"], "identity": ["name"], "incident": ["name"],
    "indicator": ["pattern", "pattern_type", "valid_from"], "infrastructure": ["name"],
    "intrusion-set": ["name"], "malware": ["is_family"], "malware-analysis": ["product"],
    "note": ["content", "object_refs"],
    "observed-data": ["first_observed", "last_observed", "number_observed"],
    "opinion": ["opinion", "object_refs"], "report": ["name", "published", "object_refs"],
    "threat-actor": ["name"], "tool": ["name"], "vulnerability": ["name"],
    "relationship": ["relationship_type", "source_ref", "target_ref"], "sighting": ["sighting_of_ref"],
    "autonomous-system": ["number"], "directory": ["path"], "domain-name": ["value"],
    "email-addr": ["value"], "email-message": ["is_multipart"], "ipv4-addr": ["value"],
    "ipv6-addr": ["value"], "mac-addr": ["value"], "mutex": ["name"], "software": ["name"],
    "url": ["value"], "network-traffic": ["protocols"],
    "marking-definition-statement": ["definition_type"], "language-content": ["object_ref", "contents"],
    "extension-definition": ["name", "schema", "version", "extension_types"],
}

SDO_TYPES = [
    "attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident", "indicator",
    "infrastructure", "intrusion-set", "location", "malware", "malware-analysis", "note", "observed-data",
    "opinion", "report", "threat-actor", "tool", "vulnerability",
]
SCO_TYPES = [
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file",
    "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url",
    "user-account", "windows-registry-key", "x509-certificate",
]


def _mutations(b: dict[str, dict]) -> list[tuple[str, str, Callable[[dict], None], bool, str]]:
    """(case name, base name, mutate, spec_valid, rule)."""
    m: list[tuple[str, str, Callable[[dict], None], bool, str]] = []

    def bad(name: str, base: str, f: Callable[[dict], None], rule: str) -> None:
        m.append((name, base, f, False, rule))

    def good(name: str, base: str, f: Callable[[dict], None], rule: str) -> None:
        m.append((name, base, f, True, rule))

    # Missing required properties, per type.
    for base, props in REQUIRED.items():
        for p in props:
            bad(f"{base}/missing-{p}", base, _del(p), f"{p} is required on {base}")
    for base in SDO_TYPES + ["relationship", "sighting"]:
        for p in ("type", "spec_version", "id", "created", "modified"):
            if base in ("attack-pattern", "indicator", "relationship") or p in ("spec_version", "created"):
                bad(f"{base}/missing-{p}", base, _del(p), f"common property {p} is required")
    for base in ("ipv4-addr", "file", "url"):
        bad(f"{base}/missing-id", base, _del("id"), "id is required on SCOs")
        bad(f"{base}/missing-type", base, _del("type"), "type is required on SCOs")

    # Identifiers.
    bad("indicator/bad-id-not-uuid", "indicator", _set(id="indicator--not-a-uuid"), "id must be TYPE--UUID")
    bad("indicator/bad-id-no-separator", "indicator", _set(id="indicator-" + b["indicator"]["id"].split("--")[1]),
        "id must use -- separator")
    bad("indicator/wrong-id-type-prefix", "indicator", _set(id="malware--" + b["indicator"]["id"].split("--")[1]),
        "id prefix must equal type")
    bad("ipv4-addr/wrong-id-type-prefix", "ipv4-addr", _set(id="ipv6-addr--" + b["ipv4-addr"]["id"].split("--")[1]),
        "id prefix must equal type")
    bad("campaign/bad-uuid-variant", "campaign", _set(id="campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f".replace("-938f-", "-c38f-")),
        "UUID must have the RFC 4122 variant")
    bad("campaign/bad-uuid-version", "campaign", _set(id="campaign--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f"),
        "UUID version must be 1-5")
    good("campaign/uppercase-uuid-hex", "campaign", _set(id="campaign--8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F"),
         "RFC 4122: UUID hex digits are case-insensitive on input (seen in OASIS infrastructure.json)")
    bad("identity/bad-type-chars", "identity", _set(type="Identity"), "type must be lowercase")
    bad("campaign/created-by-ref-bad-id", "campaign", _set(created_by_ref="identity--xyz"),
        "created_by_ref must be an identifier")

    # spec_version.
    bad("tool/spec-version-number", "tool", _set(spec_version=2.1), "spec_version must be a string")

    # Timestamps.
    for label, ts in [
        ("no-z", "2024-01-15T10:00:00.000"), ("offset", "2024-01-15T10:00:00+01:00"), ("date-only", "2024-01-15"),
        ("space-separator", "2024-01-15 10:00:00Z"), ("month-13", "2024-13-15T10:00:00Z"),
        ("day-32", "2024-01-32T10:00:00Z"), ("hour-25", "2024-01-15T25:00:00Z"), ("feb-30", "2024-02-30T10:00:00Z"),
        ("lowercase-t", "2024-01-15t10:00:00Z"), ("epoch-number", 1705312800),
    ]:
        bad(f"attack-pattern/created-{label}", "attack-pattern", _set(created=ts, modified=T2),
            "created must be an RFC 3339 UTC timestamp")
    bad("attack-pattern/created-not-millisecond-precise", "attack-pattern", _set(created="2024-01-15T10:00:00Z"),
        "created must be precise to the millisecond (§3.2)")
    bad("attack-pattern/modified-not-millisecond-precise", "attack-pattern", _set(modified="2024-02-20T12:30:00.5Z"),
        "modified must be precise to the millisecond (§3.2)")
    good("indicator/valid-from-no-fraction", "indicator", _set(valid_from="2024-01-15T10:00:00Z"),
         "fractional seconds are optional outside created/modified")
    good("attack-pattern/timestamp-nanoseconds", "attack-pattern", _set(created="2024-01-15T10:00:00.123456789Z"),
         "any number of fractional digits")
    bad("indicator/valid-from-bad-format", "indicator", _set(valid_from="15/01/2024"), "timestamp format")
    bad("campaign/modified-before-created", "campaign", _set(created=T1, modified=T0), "modified >= created")
    good("campaign/modified-equals-created", "campaign", _set(created=T1, modified=T1), "modified may equal created")

    # Common properties.
    for v, label in [(101, "101"), (-1, "-1"), ("50", "string")]:
        bad(f"campaign/confidence-{label}", "campaign", _set(confidence=v), "confidence is an integer 0-100")
    good("campaign/confidence-0", "campaign", _set(confidence=0), "confidence 0 is allowed")
    bad("campaign/lang-invalid", "campaign", _set(lang="not a language!"), "lang must be an RFC 5646 tag")
    bad("campaign/lang-number", "campaign", _set(lang=5), "lang must be a string")
    bad("campaign/labels-empty", "campaign", _set(labels=[]), "lists must not be empty")
    bad("campaign/aliases-empty", "campaign", _set(aliases=[]), "lists must not be empty")
    bad("malware/capabilities-empty", "malware", _set(capabilities=[]), "lists must not be empty")
    bad("campaign/labels-string", "campaign", _set(labels="espionage"), "labels is a list of strings")
    bad("campaign/revoked-string", "campaign", _set(revoked="true"), "revoked is a boolean")
    bad("campaign/name-number", "campaign", _set(name=42), "name is a string")
    bad("campaign/external-references-object", "campaign",
        _set(external_references={"source_name": "x"}), "external_references is a list")
    bad("campaign/external-reference-no-source-name", "campaign",
        _set(external_references=[{"url": "https://example.com", "external_id": "X-1"}]),
        "external_references[].source_name is required")
    bad("campaign/external-reference-only-source-name", "campaign",
        _set(external_references=[{"source_name": "x"}]),
        "external reference needs description, url or external_id")
    bad("attack-pattern/capec-id-malformed", "attack-pattern",
        _set(external_references=[{"source_name": "capec", "external_id": "CAPEC-abc"}]), "capec external_id is CAPEC-<n>")
    bad("vulnerability/cve-id-malformed", "vulnerability",
        _set(external_references=[{"source_name": "cve", "external_id": "CVE-17-144"}]), "cve external_id is CVE-YYYY-NNNN+")
    bad("attack-pattern/kill-chain-phase-missing-phase-name", "attack-pattern",
        _set(kill_chain_phases=[{"kill_chain_name": "mitre-attack"}]), "kill_chain_phases[].phase_name required")
    bad("campaign/reserved-property-severity", "campaign", _set(severity="high"), "reserved property name (§3.1)")
    bad("campaign/bad-property-name-uppercase", "campaign", _set(x_Foo="bar"), "property names are lowercase")
    bad("campaign/bad-property-name-too-short", "campaign", _set(xy="bar"), "property names are at least 3 chars")
    bad("campaign/bad-property-name-dash", "campaign", _set(**{"x-foo": "bar"}), "property names use [a-z0-9_]")
    bad("campaign/object-marking-refs-bad-id", "campaign", _set(object_marking_refs=["tlp-green"]),
        "object_marking_refs are identifiers")
    bad("campaign/extensions-empty", "campaign", _set(extensions={}), "extensions must not be empty")

    # Granular markings.
    bad("granular-markings/selector-missing-property", "granular-markings",
        _set(granular_markings=[{"marking_ref": TLP_AMBER, "selectors": ["no_such_property"]}]),
        "selectors must resolve in the object (§7.2.3.1)")
    bad("granular-markings/selector-index-out-of-range", "granular-markings",
        _set(granular_markings=[{"marking_ref": TLP_AMBER, "selectors": ["object_refs.[5]"]}]),
        "selector index must exist")
    bad("granular-markings/selectors-empty", "granular-markings",
        _set(granular_markings=[{"marking_ref": TLP_AMBER, "selectors": []}]), "selectors must not be empty")
    bad("granular-markings/no-marking-ref-or-lang", "granular-markings",
        _set(granular_markings=[{"selectors": ["description"]}]), "marking_ref or lang is required")
    bad("granular-markings/both-marking-ref-and-lang", "granular-markings",
        _set(granular_markings=[{"marking_ref": TLP_AMBER, "lang": "en", "selectors": ["description"]}]),
        "marking_ref and lang are mutually exclusive (§7.2.3)")
    good("granular-markings/lang-only", "granular-markings",
         _set(granular_markings=[{"lang": "en", "selectors": ["description"]}]),
         "a granular marking may carry lang instead of marking_ref (§7.2.3)")

    # References to the wrong kind of object.
    bad("campaign/created-by-ref-not-identity", "campaign", _set(created_by_ref=sdo_id("malware", "mal")),
        "created_by_ref must refer to an identity (§3.2)")
    bad("campaign/object-marking-refs-not-marking", "campaign", _set(object_marking_refs=[IDENTITY]),
        "object_marking_refs must refer to marking-definitions (§7.2.2)")
    bad("relationship/target-is-marking-definition", "relationship", _set(target_ref=TLP_GREEN),
        "relationships may not refer to marking-definitions")
    bad("relationship/source-is-bundle", "relationship", _set(source_ref="bundle--44af6c39-c09b-49c5-9de2-394224b04982"),
        "relationships may not refer to bundles")
    bad("relationship/source-ref-not-id", "relationship", _set(source_ref="Lazarus"), "source_ref is an identifier")
    bad("relationship/type-uppercase", "relationship", _set(relationship_type="Uses"), "relationship_type lowercase/hyphen")
    bad("relationship/stop-before-start", "relationship", _set(start_time=T2, stop_time=T0), "stop_time > start_time")
    bad("relationship/stop-equals-start", "relationship", _set(start_time=T1, stop_time=T1), "stop_time > start_time")
    bad("sighting/sighting-of-marking", "sighting", _set(sighting_of_ref=TLP_GREEN), "sighting_of_ref must be an SDO")
    bad("sighting/where-sighted-not-identity", "sighting", _set(where_sighted_refs=[sdo_id("malware", "mal")]),
        "where_sighted_refs must be identity or location")
    bad("sighting/observed-data-refs-wrong-type", "sighting", _set(observed_data_refs=[IDENTITY]),
        "observed_data_refs must be observed-data")
    bad("sighting/count-too-large", "sighting", _set(count=1000000000), "count is 0-999,999,999")
    bad("sighting/count-negative", "sighting", _set(count=-1), "count is 0-999,999,999")
    good("sighting/count-zero", "sighting", _set(count=0), "count may be 0")
    bad("sighting/last-before-first", "sighting", _set(first_seen=T2, last_seen=T0), "last_seen >= first_seen")

    # Patterns (pattern_type "stix" is parsed; other pattern languages are opaque).
    for label, pat in [
        ("no-brackets", "ipv4-addr:value = '198.51.100.3'"),
        ("unterminated-string", "[ipv4-addr:value = '198.51.100.3]"),
        ("missing-object-path", "[ipv4-addr = '198.51.100.3']"),
        ("negative-within", "[ipv4-addr:value = '198.51.100.3'] WITHIN -5 SECONDS"),
        ("dangling-and", "[ipv4-addr:value = '198.51.100.3' AND]"),
        ("bad-timestamp-literal", "[ipv4-addr:value = '198.51.100.3'] START t'yesterday' STOP t'2024-01-01T00:00:00Z'"),
        ("empty", ""),
    ]:
        bad(f"indicator/pattern-{label}", "indicator", _set(pattern=pat), "a STIX pattern must parse")
    for label, pat in [
        ("hash-path", "[file:hashes.'SHA-256' = 'fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db']"),
        ("followedby-within", "([ipv4-addr:value = '198.51.100.3'] FOLLOWEDBY [domain-name:value = 'evil.example']) WITHIN 300 SECONDS"),
        ("start-stop", "[ipv4-addr:value = '198.51.100.3'] START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z'"),
        ("repeats-or", "[url:value LIKE '%evil%' OR url:value MATCHES '^https?://x'] REPEATS 3 TIMES"),
        ("in-set", "[network-traffic:dst_port IN (80, 443, 8080)]"),
        ("custom-object-path", "[x-sightline-ticket:x_queue = 'soc']"),
    ]:
        good(f"indicator/pattern-valid-{label}", "indicator", _set(pattern=pat), "a valid STIX pattern")
    good("indicator/pattern-type-sigma-opaque", "indicator",
         _set(pattern="title: x\ndetection:\n  sel: {Image: evil.exe}\n  condition: sel", pattern_type="sigma"),
         "patterns in other languages are not parsed as STIX")

    # Valid variants: open vocabularies, optional properties, extensions.
    good("identity/identity-class-custom-value", "identity", _set(identity_class="clan"),
         "identity_class is an open vocabulary")
    good("tool/tool-types-custom-value", "tool", _set(tool_types=["home-grown"]), "tool_types is an open vocabulary")
    good("campaign/all-common-optionals", "campaign",
         _set(revoked=False, object_marking_refs=[TLP_GREEN, TLP2_CLEAR],
              external_references=[{"source_name": "vendor", "description": "Vendor write-up", "url": "https://example.com/r"}]),
         "optional common properties")
    good("campaign/toplevel-property-extension", "campaign",
         _set(x_sightline_rank=3, extensions={PROP_EXTDEF: {"extension_type": "toplevel-property-extension"}}),
         "a toplevel-property-extension")
    good("campaign/property-extension", "campaign",
         _set(extensions={PROP_EXTDEF: {"extension_type": "property-extension", "rank": 3}}),
         "a property-extension")
    good("domain-name/defanged-true", "domain-name", _set(defanged=True), "defanged is a common SCO property")
    good("file/predefined-extension", "file",
         _set(extensions={"ntfs-ext": {"sid": "S-1-5-21-1", "alternate_data_streams": [{"name": "second.stream", "size": 25536}]}}),
         "the predefined ntfs-ext file extension")
    good("email-message/multipart", "email-message",
         _both(_del("body"), _set(is_multipart=True, body_multipart=[{"content_type": "text/plain; charset=utf-8", "body": "Hello"}])),
         "body_multipart with is_multipart true")
    bad("email-message/body-with-multipart", "email-message",
        _set(is_multipart=True, body_multipart=[{"content_type": "text/plain; charset=utf-8", "body": "Hello"}]),
        "body MUST NOT be used when is_multipart is true")
    good("network-traffic/dst-only", "network-traffic", _both(_del("src_ref"), _set(dst_ref=b["ipv4-addr"]["id"])),
         "src_ref or dst_ref: dst alone is enough")
    good("sighting/no-optional", "sighting",
         _del("first_seen", "last_seen", "count", "where_sighted_refs", "observed_data_refs"), "only sighting_of_ref is required")
    good("location/region-only", "location", _del("latitude", "longitude", "precision", "country"), "region alone")
    good("malware/is-family-false-no-types", "malware", _set(is_family=False), "a malware instance")
    good("relationship/custom-relationship-type", "relationship", _set(relationship_type="x-sightline-feeds"),
         "relationship_type is open")
    good("relationship/sco-target", "relationship",
         _set(relationship_type="related-to", target_ref=b["ipv4-addr"]["id"]), "relationships may point to SCOs")

    # Per-type rules.
    bad("indicator/valid-until-before-valid-from", "indicator", _set(valid_from=T2, valid_until=T0), "valid_until > valid_from")
    bad("indicator/valid-until-equals-valid-from", "indicator", _set(valid_from=T1, valid_until=T1), "valid_until > valid_from")
    bad("indicator/pattern-syntax-error", "indicator", _set(pattern="[ipv4-addr:value = '1.2.3.4'"), "pattern must parse")
    bad("indicator/pattern-type-number", "indicator", _set(pattern_type=5), "pattern_type is a string")
    bad("campaign/last-seen-before-first-seen", "campaign", _set(first_seen=T2, last_seen=T0), "last_seen >= first_seen")
    bad("intrusion-set/last-seen-before-first-seen", "intrusion-set", _set(first_seen=T2, last_seen=T0), "last_seen >= first_seen")
    bad("threat-actor/last-seen-before-first-seen", "threat-actor", _set(first_seen=T2, last_seen=T0), "last_seen >= first_seen")
    bad("infrastructure/last-seen-before-first-seen", "infrastructure", _set(first_seen=T2, last_seen=T0), "last_seen >= first_seen")
    bad("malware/last-seen-before-first-seen", "malware", _set(first_seen=T2, last_seen=T0), "last_seen >= first_seen")
    bad("observed-data/last-before-first", "observed-data", _set(first_observed=T2, last_observed=T0),
        "last_observed >= first_observed")
    bad("observed-data/number-observed-0", "observed-data", _set(number_observed=0), "number_observed is 1-999,999,999")
    bad("observed-data/number-observed-too-large", "observed-data", _set(number_observed=1000000000),
        "number_observed is 1-999,999,999")
    bad("observed-data/objects-and-object-refs", "observed-data",
        _set(objects={"0": {"type": "ipv4-addr", "value": "198.51.100.3"}}), "objects and object_refs are exclusive")
    bad("observed-data/neither-objects-nor-refs", "observed-data", _del("object_refs"), "object_refs is required")
    bad("malware/is-family-string", "malware", _set(is_family="true"), "is_family is a boolean")
    bad("malware/is-family-true-without-name", "malware", _del("name"), "name required when is_family is true")
    good("malware/is-family-false-without-name", "malware", _both(_set(is_family=False), _del("name")),
         "name optional when is_family is false")
    bad("malware/sample-refs-not-file-or-artifact", "malware", _set(sample_refs=[IDENTITY]),
        "sample_refs must be file or artifact")
    bad("malware-analysis/no-result-or-sco-refs", "malware-analysis", _del("result"),
        "result or analysis_sco_refs is required")
    bad("location/latitude-without-longitude", "location", _del("longitude"), "latitude requires longitude")
    bad("location/longitude-without-latitude", "location", _del("latitude"), "longitude requires latitude")
    bad("location/latitude-91", "location", _set(latitude=91.0), "latitude is -90..90")
    bad("location/longitude-181", "location", _set(longitude=-181.0), "longitude is -180..180")
    bad("location/precision-without-coordinates", "location", _del("latitude", "longitude"),
        "precision requires latitude and longitude")
    bad("location/no-region-country-or-coordinates", "location",
        _del("latitude", "longitude", "precision", "region", "country"), "one of region, country, lat/long required")
    bad("opinion/value-outside-enum", "opinion", _set(opinion="maybe"), "opinion is from opinion-enum")
    bad("grouping/object-refs-empty", "grouping", _set(object_refs=[]), "object_refs must not be empty")
    bad("report/object-refs-empty", "report", _set(object_refs=[]), "object_refs must not be empty")
    bad("report/published-bad-format", "report", _set(published="yesterday"), "published is a timestamp")
    bad("note/object-refs-not-ids", "note", _set(object_refs=["campaign"]), "object_refs are identifiers")
    bad("identity/identity-class-number", "identity", _set(identity_class=3), "identity_class is a string")
    bad("tool/kill-chain-phases-object", "tool", _set(kill_chain_phases={"kill_chain_name": "x", "phase_name": "y"}),
        "kill_chain_phases is a list")

    # SCOs.
    bad("artifact/payload-bin-and-url", "artifact",
        _set(url="https://example.com/file.bin",
             hashes={"SHA-256": "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"}),
        "payload_bin and url are mutually exclusive")
    bad("artifact/url-without-hashes", "artifact", _both(_del("payload_bin"), _set(url="https://example.com/a.bin")),
        "url requires hashes")
    bad("artifact/payload-bin-not-base64", "artifact", _set(payload_bin="not base64 !!"), "payload_bin is base64")
    bad("autonomous-system/number-string", "autonomous-system", _set(number="AS15139"), "number is an integer")
    bad("domain-name/value-number", "domain-name", _set(value=3), "value is a string")
    bad("email-message/is-multipart-string", "email-message", _set(is_multipart="no"), "is_multipart is a boolean")
    bad("email-message/body-multipart-when-not-multipart", "email-message",
        _set(body_multipart=[{"body": "x", "content_type": "text/plain"}]),
        "body_multipart only when is_multipart is true")
    bad("file/no-hashes-or-name", "file", _del("name", "hashes"), "file needs hashes or name")
    bad("file/sha256-wrong-length", "file", _set(hashes={"SHA-256": "abc123"}), "hash value must fit its algorithm")
    bad("file/hashes-empty", "file", _set(hashes={}), "hashes must not be empty")
    bad("file/size-negative", "file", _set(size=-5), "size is a non-negative integer")
    bad("ipv4-addr/value-list", "ipv4-addr", _set(value=["198.51.100.3"]), "value is a string")
    bad("mac-addr/value-uppercase", "mac-addr", _set(value="D2:FB:49:24:37:18"), "MAC is lowercase colon-delimited")
    bad("network-traffic/no-src-or-dst", "network-traffic", _del("src_ref", "dst_ref"), "src_ref or dst_ref is required")
    bad("network-traffic/end-before-start", "network-traffic", _set(start=T2, end=T0), "end > start")
    bad("network-traffic/port-out-of-range", "network-traffic", _set(dst_port=70000), "ports are 0-65535")
    bad("network-traffic/protocols-empty", "network-traffic", _set(protocols=[]), "protocols must not be empty")
    bad("process/no-properties", "process", _del("pid", "command_line", "created_time"),
        "process needs at least one property")
    bad("process/pid-string", "process", _set(pid="1221"), "pid is an integer")
    bad("software/languages-string", "software", _set(languages="eng"), "languages is a list")
    bad("url/value-number", "url", _set(value=7), "value is a string")
    bad("user-account/no-properties", "user-account",
        _del("user_id", "account_login", "account_type", "display_name", "is_privileged"),
        "user-account needs at least one property")
    bad("windows-registry-key/values-object", "windows-registry-key", _set(values={"name": "Foo"}), "values is a list")
    bad("x509-certificate/no-properties", "x509-certificate",
        _del("issuer", "serial_number", "validity_not_before", "validity_not_after", "subject"),
        "x509-certificate needs at least one property")
    bad("directory/path-number", "directory", _set(path=1), "path is a string")
    bad("mutex/name-number", "mutex", _set(name=1), "name is a string")
    bad("ipv6-addr/value-number", "ipv6-addr", _set(value=6), "value is a string")
    bad("email-addr/value-number", "email-addr", _set(value=1), "value is a string")
    bad("domain-name/defanged-string", "domain-name", _set(defanged="yes"), "defanged is a boolean")

    # Marking definitions.
    bad("marking-definition-statement/definition-missing", "marking-definition-statement", _del("definition"),
        "definition required with definition_type")
    bad("marking-definition-statement/statement-missing", "marking-definition-statement", _set(definition={}),
        "statement marking needs definition.statement")
    bad("marking-definition-tlp-green/wrong-tlp-value", "marking-definition-tlp-green", _set(definition={"tlp": "purple"}),
        "TLP 1.0 definition.tlp is white/green/amber/red")
    bad("marking-definition-tlp-green/definition-does-not-match-id", "marking-definition-tlp-green",
        _set(definition={"tlp": "red"}, name="TLP:RED"), "TLP 1.0 marking-definitions are fixed objects")
    bad("marking-definition-tlp2-clear/name-does-not-match-id", "marking-definition-tlp2-clear",
        _set(name="TLP:RED"), "TLP 2.0 marking name must match its id (TLP 2.0 extension)")
    bad("marking-definition-tlp2-clear/tlp-value-does-not-match-id", "marking-definition-tlp2-clear",
        _set(extensions={TLP2_EXT: {"extension_type": "property-extension", "tlp_2_0": "red"}}),
        "TLP 2.0 tlp_2_0 must match its id (TLP 2.0 extension)")

    # language-content and extension-definition.
    bad("language-content/contents-bad-lang-key", "language-content",
        _set(contents={"not a language!": {"name": "x"}}), "contents keys are RFC 5646 tags")
    bad("language-content/contents-empty", "language-content", _set(contents={}), "contents must not be empty")
    bad("language-content/object-ref-not-id", "language-content", _set(object_ref="campaign"), "object_ref is an identifier")
    bad("extension-definition/missing-created-by-ref", "extension-definition", _del("created_by_ref"),
        "created_by_ref is required on extension-definition (§7.3)")
    bad("extension-definition/bad-extension-type", "extension-definition", _set(extension_types=["new-thing"]),
        "extension_types from extension-type-enum")
    bad("extension-definition/extension-types-empty", "extension-definition", _set(extension_types=[]),
        "extension_types must not be empty")

    # Custom content.
    bad("custom-object/type-too-short", "custom-object",
        _set(type="xy", id="xy--" + b["custom-object"]["id"].split("--")[1]), "type is 3-250 chars")
    bad("custom-object/type-uppercase", "custom-object",
        _set(type="X-Ticket", id="X-Ticket--" + b["custom-object"]["id"].split("--")[1]), "type is lowercase")
    bad("custom-object/missing-created", "custom-object", _del("created"), "custom SDOs have the common properties")
    bad("custom-properties/custom-property-bad-name", "custom-properties", _set(**{"X_Score": 1}),
        "custom property names are lowercase [a-z0-9_]")
    bad("new-sdo-extension-object/extension-key-bad", "new-sdo-extension-object",
        _set(extensions={"not-an-extension": {"extension_type": "new-sdo"}}), "extension keys are ids or -ext names")

    return m


def cases() -> list[Case]:
    b = base_objects()
    out = [Case(f"{name}/base", copy.deepcopy(obj), True, "clean base object") for name, obj in b.items()]
    seen = {c.name for c in out}
    for name, base, f, spec_valid, rule in _mutations(b):
        if name in seen:
            raise ValueError(f"duplicate case name {name}")
        seen.add(name)
        obj = copy.deepcopy(b[base])
        f(obj)
        out.append(Case(name, obj, spec_valid, rule))
    return out


if __name__ == "__main__":
    cs = cases()
    print(f"{len(cs)} cases ({sum(c.name.endswith('/base') for c in cs)} base objects)")
