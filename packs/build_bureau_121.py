#!/usr/bin/env python3
"""Generate the Bureau 121 knowledge pack (a STIX 2.1 bundle) on stdout.

Usage:
    python3 packs/build_bureau_121.py > packs/bureau-121.json

The output is fully deterministic: every id is a UUIDv5 under a fixed project
namespace over a stable per-object key, every timestamp is fixed, objects are
emitted in a fixed order and keys in insertion order. Running the script twice
gives byte-identical output. Standard library only (Python 3.11).

Facts come from the English Wikipedia article "Bureau 121" (read 2026-11-24);
see packs/README.md. Attributions are allegations and are modelled as such.
"""

import json
import sys
import uuid

# --------------------------------------------------------------------------
# Fixed parameters
# --------------------------------------------------------------------------

# Project namespace for all ids in this pack. Deliberately NOT the STIX
# cyber-observable namespace (00abedb4-aa42-466c-9c01-fed23315a9b7).
PACK_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://sightline.example/packs/bureau-121")

TS = "2026-11-24T00:00:00.000Z"  # created / modified / published of every object

WIKI_URL = "https://en.wikipedia.org/wiki/Bureau_121"
WIKI_NAME = "Wikipedia: Bureau 121"

# TLP 2.0 CLEAR, exactly as published by OASIS (cti-stix-common-objects,
# extension-definition-specifications/tlp-2.0). Fixed content: never edit.
TLP_CLEAR_ID = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
TLP_CLEAR = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": TLP_CLEAR_ID,
    "created": "2022-10-01T00:00:00.000Z",
    "name": "TLP:CLEAR",
    "extensions": {
        "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
            "extension_type": "property-extension",
            "tlp_2_0": "clear",
        }
    },
}


def sid(stix_type: str, key: str) -> str:
    """Deterministic STIX id: <type>--uuid5(PACK_NAMESPACE, '<type>/<key>')."""
    return f"{stix_type}--{uuid.uuid5(PACK_NAMESPACE, f'{stix_type}/{key}')}"


SIGHTLINE_ID = sid("identity", "sightline")


def wiki(supports: str) -> dict:
    return {"source_name": WIKI_NAME, "url": WIKI_URL, "description": f"Supports: {supports}"}


def mitre(external_id: str, url: str, supports: str) -> dict:
    return {
        "source_name": "mitre-attack",
        "url": url,
        "external_id": external_id,
        "description": f"Supports: {supports}",
    }


def mitre_technique(tid: str, name: str) -> dict:
    return mitre(tid, f"https://attack.mitre.org/techniques/{tid}/", f"ATT&CK technique {tid} ({name}).")


LAZARUS_REF_URL = "https://attack.mitre.org/groups/G0032/"
WANNACRY_REF_URL = "https://attack.mitre.org/software/S0366/"
APT38_REF_URL = "https://attack.mitre.org/groups/G0082/"

# Objects MITRE ATT&CK already defines are referred to by ATT&CK's own STIX ids
# (ATT&CK v18.1, the same ids in the Enterprise and ICS bundles) instead of
# being copied: importing the pack beside ATT&CK then yields one graph
# (Bureau 121 <- Lazarus Group -> its techniques). Imported alone, the pack
# still validates; its references to these ids point at objects the store
# does not hold, which STIX 2.1 allows (Sightline shows "not in the store").
LAZARUS = "intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a"  # G0032 Lazarus Group
APT38 = "intrusion-set--00f67a77-86a4-4adf-be26-1a54fc713340"  # G0082 APT38
WANNACRY = "malware--75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661"  # S0366 WannaCry
T1189_DRIVE_BY = "attack-pattern--d742a578-d70e-4d0e-96a6-02a9c30204e6"  # Drive-by Compromise
T1486_ENCRYPT = "attack-pattern--b80d107d-fa0d-4b60-9684-b0433e8bdba0"  # Data Encrypted for Impact
T1561_DISK_WIPE = "attack-pattern--1988cc35-ced8-4dad-b2d1-7628488fa967"  # Disk Wipe
T1657_FINANCIAL_THEFT = "attack-pattern--851e071f-208d-4c79-adc6-5974c85c78f3"  # Financial Theft
ATTACK_OBJECTS = [LAZARUS, APT38, WANNACRY, T1189_DRIVE_BY, T1486_ENCRYPT, T1561_DISK_WIPE, T1657_FINANCIAL_THEFT]


class Pack:
    """Collects objects in emission order and keeps ids unique."""

    def __init__(self) -> None:
        self.objects: list[dict] = []
        self.ids: set[str] = set()

    def add(self, obj: dict) -> dict:
        if obj["id"] in self.ids:
            raise ValueError(f"duplicate id {obj['id']}")
        self.ids.add(obj["id"])
        self.objects.append(obj)
        return obj

    def sdo(self, stix_type: str, key: str, props: dict, refs: list[dict]) -> str:
        obj = {
            "type": stix_type,
            "spec_version": "2.1",
            "id": sid(stix_type, key),
            "created_by_ref": SIGHTLINE_ID,
            "created": TS,
            "modified": TS,
        }
        obj.update(props)
        obj["external_references"] = refs
        obj["object_marking_refs"] = [TLP_CLEAR_ID]
        self.add(obj)
        return obj["id"]

    def rel(
        self,
        rel_type: str,
        src: str,
        tgt: str,
        description: str,
        refs: list[dict],
        confidence: int | None = None,
    ) -> str:
        props = {
            "relationship_type": rel_type,
            "description": description,
            "source_ref": src,
            "target_ref": tgt,
        }
        if confidence is not None:
            props["confidence"] = confidence
        return self.sdo("relationship", f"{rel_type}/{src}/{tgt}", props, refs)


def build() -> dict:
    p = Pack()

    # ------------------------------------------------------------------
    # Marking and producer
    # ------------------------------------------------------------------
    p.add(dict(TLP_CLEAR))

    p.add(
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": SIGHTLINE_ID,
            "created_by_ref": SIGHTLINE_ID,
            "created": TS,
            "modified": TS,
            "name": "Sightline",
            "description": (
                "Sightline is a STIX 2.1 threat-intelligence server project. It compiled this "
                "knowledge pack from public sources and is the producer of every object in it "
                "apart from the standard TLP marking definition."
            ),
            "identity_class": "organization",
            "sectors": ["technology"],
            "external_references": [
                wiki("the public source from which Sightline compiled the Bureau 121 knowledge pack.")
            ],
            "object_marking_refs": [TLP_CLEAR_ID],
        }
    )

    # ------------------------------------------------------------------
    # Threat actors: the RGB, Bureau 121 and its 2019 sub-units
    # ------------------------------------------------------------------
    rgb = p.sdo(
        "threat-actor",
        "reconnaissance-general-bureau",
        {
            "name": "Reconnaissance General Bureau",
            "description": (
                "North Korea's military intelligence organisation and the parent body of Bureau 121. "
                "US authorities describe it as the agency behind the country's clandestine operations "
                "and say it is organised into six bureaus, of which Bureau 121 is the principal "
                "cyber unit."
            ),
            "threat_actor_types": ["nation-state"],
            "aliases": ["RGB"],
            "roles": ["director", "sponsor"],
            "resource_level": "government",
            "primary_motivation": "organizational-gain",
        },
        [wiki("the RGB as North Korea's military intelligence body, its six bureaus per US authorities, and its role as Bureau 121's parent.")],
    )

    b121 = p.sdo(
        "threat-actor",
        "bureau-121",
        {
            "name": "Bureau 121",
            "description": (
                "A cyberwarfare agency of North Korea, set up in 1998 and described as the main unit "
                "of the Reconnaissance General Bureau. Its offensive work is reported to cover "
                "intelligence collection and cyber-enabled financial crime, with South Korea, Japan "
                "and the United States as its chief intelligence targets. Reuters reporting calls it "
                "the RGB's largest and most capable unit, staffed by leading computer specialists "
                "under military command; the regime is said to value it as an inexpensive "
                "asymmetric weapon as well as an intelligence source. US authorities think North "
                "Korea may have been behind malicious cyber activity since 2009. Several high-profile "
                "operations (South Korea 2013, Sony Pictures 2014, the SWIFT and Bangladesh Bank "
                "thefts, WannaCry) and repeated GPS jamming have been laid at its door; these are "
                "allegations, and North Korea denies at least the Sony attribution. Headcount "
                "estimates differ widely and are kept as separate notes in this pack. It is often "
                "compared with other states' offensive cyber units such as the US NSA's Tailored "
                "Access Operations and China's PLA Unit 61398."
            ),
            "threat_actor_types": ["nation-state"],
            "aliases": ["121국"],
            "first_seen": "1998-01-01T00:00:00.000Z",
            "roles": ["agent"],
            "goals": ["espionage", "financial crime"],
            "sophistication": "expert",
            "resource_level": "government",
            "primary_motivation": "organizational-gain",
        },
        [
            wiki(
                "name and Korean name, creation in 1998, place within the RGB, mission (espionage and "
                "financial crime), primary targets, Reuters characterisation, alleged operations and "
                "the comparison with Tailored Access Operations and PLA Unit 61398. first_seen has "
                "year precision only."
            )
        ],
    )

    units = {}
    unit_specs = [
        ("lab-110", "Lab 110", "A laboratory-level component directly under Bureau 121 in the 2019 organisational chart; three offices are reported beneath it.", None),
        ("office-98", "Office 98", "An office reported under Lab 110 in the 2019 organisational chart of Bureau 121.", "lab-110"),
        ("office-414", "Office 414", "A liaison office reported under Lab 110 in the 2019 organisational chart of Bureau 121.", "lab-110"),
        ("office-35", "Office 35", "An office reported under Lab 110 in the 2019 organisational chart of Bureau 121.", "lab-110"),
        ("unit-180", "Unit 180", "A unit reported directly under Bureau 121 in its 2019 organisational chart.", None),
        ("liaison-office-91", "Liaison Office 91", "A liaison office reported directly under Bureau 121 in its 2019 organisational chart.", None),
        ("liaison-office-128", "Liaison Office 128", "A liaison office reported directly under Bureau 121 in its 2019 organisational chart.", None),
        ("liaison-office-413", "Liaison Office 413", "A liaison office reported directly under Bureau 121 in its 2019 organisational chart.", None),
    ]
    for key, name, desc, _parent in unit_specs:
        units[key] = p.sdo(
            "threat-actor",
            key,
            {
                "name": name,
                "description": desc + " Little else about its tasks is public.",
                "threat_actor_types": ["nation-state"],
                "resource_level": "government",
            },
            [wiki(f"{name} as a component of Bureau 121 in the structure reported as of 2019.")],
        )

    # ------------------------------------------------------------------
    # Intrusion sets
    # ------------------------------------------------------------------
    lazarus = LAZARUS

    darkseoul_gang = p.sdo(
        "intrusion-set",
        "darkseoul-gang",
        {
            "name": "DarkSeoul Gang",
            "description": (
                "The name under which the group behind the 2013 attacks on South Korea was known at "
                "the time. Symantec put its size at somewhere between 10 and 50 people and noted an "
                "unusual talent for breaking into websites. It is treated here as an earlier "
                "label for activity attributed to Bureau 121."
            ),
            "aliases": ["DarkSeoul"],
            "first_seen": "2013-01-01T00:00:00.000Z",
            "resource_level": "government",
        },
        [wiki("the DarkSeoul Gang name, Symantec's 10-50 member estimate and its website-intrusion skill.")],
    )

    # ------------------------------------------------------------------
    # Campaigns (alleged operations)
    # ------------------------------------------------------------------
    c_darkseoul = p.sdo(
        "campaign",
        "2013-south-korea-cyberattack",
        {
            "name": "2013 South Korea cyberattack",
            "description": (
                "Attacks in 2013 that disabled more than 30,000 computers in South Korea, disrupting "
                "banks and broadcasters, and that also hit the website of President Park Geun-hye. "
                "The attackers were then known as the DarkSeoul Gang. The source dates the campaign "
                "only to 2013; its main wave is commonly dated to March 2013, which first_seen "
                "reflects (month precision), and last_seen is set to the end of 2013. Attribution to "
                "Bureau 121 is an allegation."
            ),
            "aliases": ["DarkSeoul"],
            "first_seen": "2013-03-01T00:00:00.000Z",
            "last_seen": "2013-12-31T23:59:59.999Z",
            "objective": "Disruption of South Korean financial, media and government organisations.",
        },
        [wiki("the 2013 attack on over 30,000 South Korean PCs, the affected banks, broadcasters and presidential website, and the DarkSeoul Gang name.")],
    )

    c_gaming_app = p.sdo(
        "campaign",
        "2013-malicious-gaming-app",
        {
            "name": "2013 malicious gaming app campaign",
            "description": (
                "During 2013 a game application laced with malware is reported to have compromised "
                "thousands of smartphones in South Korea. Only the year is known (year precision in "
                "first_seen/last_seen). Attribution to Bureau 121 is an allegation."
            ),
            "first_seen": "2013-01-01T00:00:00.000Z",
            "last_seen": "2013-12-31T23:59:59.999Z",
            "objective": "Compromise of South Korean smartphones.",
        },
        [wiki("the 2013 infection of thousands of South Korean smartphones through a malicious game app.")],
    )

    c_sony = p.sdo(
        "campaign",
        "sony-pictures-hack-2014",
        {
            "name": "Sony Pictures hack",
            "description": (
                "An attack on Sony Pictures Entertainment in November 2014 (month precision). In "
                "December 2014 the studio called off the opening of the film \"The Interview\". "
                "The attack has been attributed to North Korea and Bureau 121; North Korea denies "
                "responsibility, so the attribution is disputed (see the attached note)."
            ),
            "first_seen": "2014-11-01T00:00:00.000Z",
            "last_seen": "2014-11-30T23:59:59.999Z",
            "objective": "Damage to and disruption of Sony Pictures Entertainment.",
        },
        [
            wiki("the November 2014 Sony Pictures hack, the December 2014 cancellation of The Interview's opening, and North Korea's denial."),
            mitre("G0032", LAZARUS_REF_URL, "the description of the November 2014 Sony Pictures attack as a destructive wiper attack reportedly by the Lazarus Group."),
        ],
    )

    c_swift = p.sdo(
        "campaign",
        "swift-banking-hack-2015-2016",
        {
            "name": "SWIFT banking hack",
            "description": (
                "A series of thefts from banks carried out through the SWIFT interbank messaging "
                "network between 2015 and 2016 (year precision). The Bangladesh Bank robbery is "
                "usually counted as part of it. Attribution to Bureau 121 is an allegation."
            ),
            "first_seen": "2015-01-01T00:00:00.000Z",
            "last_seen": "2016-12-31T23:59:59.999Z",
            "objective": "Theft of funds from banks through fraudulent SWIFT payment orders.",
        },
        [wiki("the SWIFT banking hack dated 2015 to 2016.")],
    )

    c_bangladesh = p.sdo(
        "campaign",
        "bangladesh-bank-robbery-2016",
        {
            "name": "Bangladesh Bank robbery",
            "description": (
                "The theft attempt against Bangladesh Bank, the country's central bank, in February "
                "2016 (month precision), carried out through fraudulent SWIFT transfer orders. "
                "Attribution to Bureau 121 is an allegation."
            ),
            "first_seen": "2016-02-01T00:00:00.000Z",
            "last_seen": "2016-02-29T23:59:59.999Z",
            "objective": "Theft of central-bank funds through fraudulent SWIFT payment orders.",
        },
        [wiki("the Bangladesh Bank robbery of February 2016.")],
    )

    c_wannacry = p.sdo(
        "campaign",
        "wannacry-ransomware-attack-2017",
        {
            "name": "WannaCry ransomware attack",
            "description": (
                "The worldwide outbreak of the WannaCry ransomware in May 2017 (month precision). "
                "Attribution to Bureau 121 is an allegation."
            ),
            "first_seen": "2017-05-01T00:00:00.000Z",
            "last_seen": "2017-05-31T23:59:59.999Z",
            "objective": "Encryption of victims' data for ransom.",
        },
        [
            wiki("the May 2017 WannaCry ransomware attack."),
            mitre("S0366", WANNACRY_REF_URL, "WannaCry as ransomware first seen in a global attack in May 2017."),
        ],
    )

    c_gps = p.sdo(
        "campaign",
        "gps-jamming-south-korea",
        {
            "name": "GPS jamming against South Korea",
            "description": (
                "Repeated jamming of GPS signals aimed at South Korea, which the South Korean "
                "government has blamed on Bureau 121 more than once. The most recent case the source "
                "cites was on 1 April 2016 (day precision in last_seen); when the jamming began is "
                "not given. The attribution comes from South Korea and remains an allegation."
            ),
            "last_seen": "2016-04-01T23:59:59.999Z",
            "objective": "Disruption of satellite navigation in South Korea.",
        },
        [wiki("South Korea's repeated blaming of Bureau 121 for GPS jamming, the latest cited case being 1 April 2016.")],
    )

    # ------------------------------------------------------------------
    # Malware and attack patterns
    # ------------------------------------------------------------------
    m_wannacry = WANNACRY

    ap_driveby = T1189_DRIVE_BY

    ap_mobile_app = p.sdo(
        "attack-pattern",
        "malicious-mobile-application",
        {
            "name": "Malicious mobile application",
            "description": (
                "Distributing a smartphone application, here a game, that carries hidden malicious "
                "code and infects the devices of people who install it."
            ),
        },
        [wiki("the 2013 infection of South Korean smartphones through a malicious gaming application.")],
    )

    ap_wipe = T1561_DISK_WIPE
    ap_swift = T1657_FINANCIAL_THEFT
    ap_ransomware = T1486_ENCRYPT

    ap_gps = p.sdo(
        "attack-pattern",
        "gps-jamming",
        {
            "name": "GPS jamming",
            "description": (
                "Broadcasting radio interference on satellite-navigation frequencies so that "
                "receivers in the affected area lose or misreport their position."
            ),
        },
        [wiki("GPS jamming aimed at South Korea and blamed on Bureau 121.")],
    )

    # ------------------------------------------------------------------
    # Locations
    # ------------------------------------------------------------------
    def country(key: str, name: str, code: str, supports: str) -> str:
        return p.sdo(
            "location",
            key,
            {"name": name, "description": f"{name} (country).", "country": code},
            [wiki(supports)],
        )

    loc_kp = country("north-korea", "North Korea", "KP", "North Korea as the state that runs Bureau 121.")
    loc_kr = country("south-korea", "South Korea", "KR", "South Korea as a primary intelligence target and as the victim of the 2013 attacks and GPS jamming.")
    loc_jp = country("japan", "Japan", "JP", "Japan as a primary intelligence target of Bureau 121.")
    loc_us = country("united-states", "United States", "US", "the United States as a primary intelligence target of Bureau 121.")
    loc_by = country("belarus", "Belarus", "BY", "Belarus as a country where Bureau 121 members reportedly operate (2021 estimate).")
    loc_cn = country("china", "China", "CN", "China as a country where Bureau 121 members reportedly operate (2021 estimate).")
    loc_in = country("india", "India", "IN", "India as a country where Bureau 121 members reportedly operate (2021 estimate).")
    loc_my = country("malaysia", "Malaysia", "MY", "Malaysia as a country where Bureau 121 members reportedly operate (2021 estimate).")
    loc_ru = country("russia", "Russia", "RU", "Russia as a country where Bureau 121 members reportedly operate (2021 estimate).")
    loc_hotel = p.sdo(
        "location",
        "chilbosan-hotel-shenyang",
        {
            "name": "Chilbosan Hotel",
            "description": (
                "A hotel in Shenyang, China, reported as a suspected base of a Bureau 121 cell. "
                "Its use by the bureau is a suspicion, not an established fact."
            ),
            "city": "Shenyang",
            "country": "CN",
        },
        [wiki("the Chilbosan Hotel in Shenyang as a suspected location of a Bureau 121 cell.")],
    )

    # ------------------------------------------------------------------
    # Victim identities
    # ------------------------------------------------------------------
    id_sony = p.sdo(
        "identity",
        "sony-pictures-entertainment",
        {
            "name": "Sony Pictures Entertainment",
            "description": "US film and television studio; victim of the November 2014 attack.",
            "identity_class": "organization",
            "sectors": ["entertainment"],
        },
        [wiki("Sony Pictures as the victim of the 2014 hack and its cancellation of The Interview's opening.")],
    )
    id_bangladesh_bank = p.sdo(
        "identity",
        "bangladesh-bank",
        {
            "name": "Bangladesh Bank",
            "description": "The central bank of Bangladesh; target of the February 2016 theft.",
            "identity_class": "organization",
            "sectors": ["financial-services", "government-national"],
        },
        [wiki("Bangladesh Bank as the target of the February 2016 robbery.")],
    )
    id_swift_banks = p.sdo(
        "identity",
        "banks-using-swift",
        {
            "name": "Banks connected to the SWIFT network",
            "description": "Financial institutions whose SWIFT access was abused in the 2015-2016 thefts (a class, not a single organisation).",
            "identity_class": "class",
            "sectors": ["financial-services"],
        },
        [wiki("banks as the victims of the 2015-2016 SWIFT banking hack.")],
    )
    id_kr_banks = p.sdo(
        "identity",
        "south-korean-banks",
        {
            "name": "South Korean banks",
            "description": "Banks in South Korea whose systems were disrupted in the 2013 attacks (a class of organisations).",
            "identity_class": "class",
            "sectors": ["financial-services"],
        },
        [wiki("South Korean banks as victims of the 2013 attack.")],
    )
    id_kr_broadcasters = p.sdo(
        "identity",
        "south-korean-broadcasters",
        {
            "name": "South Korean broadcasters",
            "description": "Television and radio broadcasters in South Korea hit in the 2013 attacks (a class of organisations).",
            "identity_class": "class",
            "sectors": ["communications"],
        },
        [wiki("South Korean broadcasters as victims of the 2013 attack.")],
    )
    id_kr_president = p.sdo(
        "identity",
        "office-of-president-park-geun-hye",
        {
            "name": "Office of President Park Geun-hye",
            "description": "The South Korean presidential office under Park Geun-hye, whose website was attacked in 2013.",
            "identity_class": "organization",
            "sectors": ["government-national"],
        },
        [wiki("the website of President Park Geun-hye as a target of the 2013 attack.")],
    )
    id_kr_smartphone_users = p.sdo(
        "identity",
        "south-korean-smartphone-users",
        {
            "name": "South Korean smartphone users",
            "description": "Owners of smartphones in South Korea who installed the malicious game in 2013 (a class of individuals).",
            "identity_class": "class",
        },
        [wiki("the thousands of South Korean smartphones infected in 2013.")],
    )

    # ------------------------------------------------------------------
    # Relationships: organisational tree (part-of is not in the STIX 2.1
    # relationship list; the validator only warns about it)
    # ------------------------------------------------------------------
    struct_ref = [wiki("the organisational structure of Bureau 121 as of 2019.")]
    for key, name, _desc, parent in unit_specs:
        parent_id = units[parent] if parent else b121
        parent_name = "Lab 110" if parent else "Bureau 121"
        p.rel(
            "part-of",
            units[key],
            parent_id,
            f"{name} is reported as a component of {parent_name} in the 2019 structure of the bureau.",
            struct_ref,
            confidence=60,
        )
    p.rel(
        "part-of",
        b121,
        rgb,
        "Bureau 121 is described as the main unit of North Korea's Reconnaissance General Bureau.",
        [wiki("Bureau 121 as the main unit of the RGB.")],
        confidence=70,
    )

    # ------------------------------------------------------------------
    # Relationships: locations of the actors
    # ------------------------------------------------------------------
    p.rel("located-at", b121, loc_kp, "Bureau 121 is a North Korean state agency; North Korea is its country of origin.",
          [wiki("Bureau 121 as a North Korean agency.")], confidence=85)
    p.rel("located-at", rgb, loc_kp, "The Reconnaissance General Bureau is North Korea's military intelligence organisation.",
          [wiki("the RGB as North Korea's military intelligence body.")], confidence=85)
    for loc, name in ((loc_by, "Belarus"), (loc_cn, "China"), (loc_in, "India"), (loc_my, "Malaysia"), (loc_ru, "Russia")):
        p.rel(
            "located-at",
            b121,
            loc,
            f"A 2021 estimate says many Bureau 121 members work abroad, including in {name}.",
            [wiki(f"{name} among the countries where members reportedly operate, per a 2021 estimate.")],
            confidence=40,
        )
    p.rel("located-at", b121, loc_hotel,
          "The Chilbosan Hotel in Shenyang is reported as a suspected base of one of the bureau's cells abroad.",
          [wiki("the Chilbosan Hotel as a suspected cell location.")], confidence=30)

    for loc, name in ((loc_kr, "South Korea"), (loc_jp, "Japan"), (loc_us, "the United States")):
        p.rel("targets", b121, loc, f"{name} is named as one of the bureau's primary intelligence targets.",
              [wiki(f"{name} as a primary intelligence target.")], confidence=70)

    # ------------------------------------------------------------------
    # Relationships: attribution (allegations)
    # ------------------------------------------------------------------
    attributions = []

    def attrib(src: str, tgt: str, desc: str, refs: list[dict], conf: int) -> str:
        rid = p.rel("attributed-to", src, tgt, desc, refs, confidence=conf)
        attributions.append(rid)
        return rid

    attrib(c_darkseoul, b121, "Alleged: the 2013 attacks on South Korea are attributed to Bureau 121, then known as the DarkSeoul Gang. Not an established fact.",
           [wiki("the attribution of the 2013 South Korea cyberattack to Bureau 121.")], 50)
    attrib(c_gaming_app, b121, "Alleged: the 2013 malicious gaming app is listed among operations attributed to Bureau 121. Not an established fact.",
           [wiki("the attribution of the 2013 smartphone infections to Bureau 121.")], 35)
    sony_attr = attrib(c_sony, b121, "Alleged and disputed: the Sony Pictures hack is attributed to Bureau 121, but North Korea denies it. Not an established fact.",
                       [wiki("the attribution of the Sony Pictures hack and North Korea's denial.")], 50)
    attrib(c_swift, b121, "Alleged: the 2015-2016 SWIFT thefts are attributed to Bureau 121. Not an established fact.",
           [wiki("the attribution of the SWIFT banking hack to Bureau 121.")], 50)
    attrib(c_bangladesh, b121, "Alleged: the February 2016 Bangladesh Bank robbery is attributed to Bureau 121. Not an established fact.",
           [wiki("the attribution of the Bangladesh Bank robbery to Bureau 121.")], 50)
    attrib(c_wannacry, b121, "Alleged: the May 2017 WannaCry outbreak is attributed to Bureau 121. Not an established fact.",
           [wiki("the attribution of the WannaCry attack to Bureau 121.")], 50)
    attrib(c_gps, b121, "Alleged by the South Korean government, which has repeatedly blamed Bureau 121 for GPS jamming. Not an established fact.",
           [wiki("South Korea's repeated blaming of Bureau 121 for GPS jamming.")], 40)

    laz_ref = mitre("G0032", LAZARUS_REF_URL, "the Lazarus Group's links to the Sony Pictures attack and to DarkSeoul-era activity.")
    attrib(c_darkseoul, darkseoul_gang, "Alleged: the 2013 attacks on South Korea were credited to the group then called the DarkSeoul Gang.",
           [wiki("the DarkSeoul Gang as the group behind the 2013 attack.")], 60)
    attrib(c_darkseoul, lazarus, "Alleged: the DarkSeoul activity is commonly grouped under the Lazarus Group intrusion set.",
           [wiki("the Lazarus Group as the intrusion set these operations are commonly attributed to."), laz_ref], 45)
    attrib(c_sony, lazarus, "Alleged and disputed: the Sony Pictures attack is commonly attributed to the Lazarus Group; North Korea denies involvement.",
           [wiki("the Lazarus Group as the intrusion set these operations are commonly attributed to."), laz_ref], 50)
    attrib(c_swift, lazarus, "Alleged: the SWIFT thefts are commonly attributed to the Lazarus Group.",
           [wiki("the Lazarus Group as the intrusion set these operations are commonly attributed to.")], 45)
    attrib(c_bangladesh, lazarus, "Alleged: the Bangladesh Bank robbery is commonly attributed to the Lazarus Group.",
           [wiki("the Lazarus Group as the intrusion set these operations are commonly attributed to.")], 45)
    attrib(c_wannacry, lazarus, "Alleged: the WannaCry outbreak is commonly attributed to the Lazarus Group.",
           [wiki("the Lazarus Group as the intrusion set these operations are commonly attributed to.")], 45)
    attrib(lazarus, b121, "Alleged: the Lazarus Group activity cluster is commonly linked to Bureau 121 of the RGB. Not an established fact.",
           [wiki("the Lazarus Group as the intrusion set behind the operations attributed to Bureau 121."),
            mitre("G0032", LAZARUS_REF_URL, "MITRE's note that the Lazarus Group has been attributed to the Reconnaissance General Bureau.")], 50)
    attrib(darkseoul_gang, b121, "Alleged: DarkSeoul Gang is the name under which Bureau 121 was known at the time of the 2013 attacks.",
           [wiki("the group being called the DarkSeoul Gang at the time of the 2013 attack.")], 50)
    apt38_ref = mitre("G0082", APT38_REF_URL, "APT38 as a North Korean group specialised in financial operations, "
                      "attributed to the Reconnaissance General Bureau, and the 2016 Bangladesh Bank heist among its operations.")
    attrib(c_bangladesh, APT38, "Alleged: MITRE ATT&CK counts the 2016 Bangladesh Bank heist among APT38's significant operations.",
           [apt38_ref], 45)
    attrib(APT38, rgb, "Alleged: MITRE ATT&CK reports that APT38 has been attributed to the Reconnaissance General Bureau.",
           [apt38_ref], 50)

    # ------------------------------------------------------------------
    # Relationships: uses
    # ------------------------------------------------------------------
    p.rel("uses", c_darkseoul, ap_driveby, "The 2013 attackers compromised websites, including that of President Park Geun-hye.",
          [wiki("the attack on the presidential website and the group's skill at infiltrating websites.")], confidence=50)
    p.rel("uses", c_darkseoul, ap_wipe, "More than 30,000 South Korean computers were put out of action in the 2013 attacks.",
          [wiki("the more than 30,000 PCs hit in 2013.")], confidence=50)
    p.rel("uses", c_gaming_app, ap_mobile_app, "A malware-laden game was the infection vector for the smartphones.",
          [wiki("the malicious gaming application of 2013.")], confidence=50)
    p.rel("uses", c_sony, ap_wipe, "The November 2014 Sony Pictures attack is described by MITRE ATT&CK as a destructive wiper attack.",
          [wiki("the Sony Pictures hack of November 2014."),
           mitre("G0032", LAZARUS_REF_URL, "the description of the Sony Pictures attack as a destructive wiper attack.")], confidence=50)
    p.rel("uses", c_swift, ap_swift, "The thefts moved money by sending fraudulent SWIFT payment messages.",
          [wiki("the SWIFT banking hack.")], confidence=60)
    p.rel("uses", c_bangladesh, ap_swift, "The robbery relied on fraudulent SWIFT transfer orders issued in the bank's name.",
          [wiki("the Bangladesh Bank robbery.")], confidence=60)
    p.rel("uses", c_wannacry, m_wannacry, "The May 2017 outbreak was carried out with the WannaCry ransomware.",
          [wiki("the WannaCry ransomware attack of May 2017."), mitre("S0366", WANNACRY_REF_URL, "WannaCry's global attack of May 2017.")], confidence=90)
    p.rel("uses", c_wannacry, ap_ransomware, "Victims' files were encrypted and a ransom demanded.",
          [wiki("the WannaCry ransomware attack of May 2017.")], confidence=90)
    p.rel("uses", m_wannacry, ap_ransomware, "WannaCry encrypts victims' files and demands payment for their recovery.",
          [wiki("WannaCry as ransomware."), mitre("S0366", WANNACRY_REF_URL, "WannaCry as ransomware.")], confidence=95)
    p.rel("uses", c_gps, ap_gps, "The campaign consists of jamming satellite-navigation signals aimed at South Korea.",
          [wiki("GPS jamming aimed at South Korea.")], confidence=70)
    p.rel("uses", darkseoul_gang, ap_driveby, "Symantec singled out the group's unusual skill at infiltrating websites.",
          [wiki("Symantec's remark on the DarkSeoul Gang's website-intrusion skill.")], confidence=60)
    # Lazarus Group's use of WannaCry is ATT&CK's own relationship (G0032 uses
    # S0366); the pack does not restate it.

    # ------------------------------------------------------------------
    # Relationships: campaign targets and victim locations
    # ------------------------------------------------------------------
    p.rel("targets", c_darkseoul, id_kr_banks, "South Korean banks were among the organisations disrupted in 2013.",
          [wiki("banks affected by the 2013 attack.")], confidence=80)
    p.rel("targets", c_darkseoul, id_kr_broadcasters, "South Korean broadcasters were among the organisations disrupted in 2013.",
          [wiki("broadcasters affected by the 2013 attack.")], confidence=80)
    p.rel("targets", c_darkseoul, id_kr_president, "The website of President Park Geun-hye was attacked in 2013.",
          [wiki("the attack on President Park Geun-hye's website.")], confidence=80)
    p.rel("targets", c_darkseoul, loc_kr, "The 2013 attacks were aimed at South Korea.",
          [wiki("the 2013 South Korea cyberattack.")], confidence=85)
    p.rel("targets", c_gaming_app, id_kr_smartphone_users, "Thousands of South Korean smartphones were infected through the game.",
          [wiki("the infected South Korean smartphones.")], confidence=75)
    p.rel("targets", c_gaming_app, loc_kr, "The infected smartphones were in South Korea.",
          [wiki("the infected South Korean smartphones.")], confidence=75)
    p.rel("targets", c_sony, id_sony, "Sony Pictures Entertainment was the victim of the November 2014 attack.",
          [wiki("the Sony Pictures hack.")], confidence=90)
    p.rel("targets", c_sony, loc_us, "The victim studio is a US company; the United States is a primary target of the bureau.",
          [wiki("the Sony Pictures hack and the United States as a primary target.")], confidence=70)
    p.rel("targets", c_swift, id_swift_banks, "Banks with SWIFT access were the victims of the 2015-2016 thefts.",
          [wiki("the SWIFT banking hack.")], confidence=80)
    p.rel("targets", c_bangladesh, id_bangladesh_bank, "Bangladesh Bank was the target of the February 2016 theft.",
          [wiki("the Bangladesh Bank robbery.")], confidence=90)
    p.rel("targets", c_gps, loc_kr, "The jamming was directed at South Korea.",
          [wiki("GPS jamming aimed at South Korea.")], confidence=80)

    p.rel("related-to", c_bangladesh, c_swift, "The Bangladesh Bank robbery is one of the thefts in the wider SWIFT banking hack.",
          [wiki("the SWIFT banking hack and the Bangladesh Bank robbery.")], confidence=70)

    for ident, desc in (
        (id_kr_banks, "These banks operate in South Korea."),
        (id_kr_broadcasters, "These broadcasters operate in South Korea."),
        (id_kr_president, "The presidential office is in South Korea."),
        (id_kr_smartphone_users, "The affected smartphone users were in South Korea."),
    ):
        p.rel("located-at", ident, loc_kr, desc, [wiki("South Korean victims of the 2013 operations.")], confidence=95)
    p.rel("located-at", id_sony, loc_us, "Sony Pictures Entertainment is a US-based studio.",
          [wiki("Sony Pictures as the victim of the 2014 hack.")], confidence=95)

    # ------------------------------------------------------------------
    # Notes: staffing estimates (one per source) and attribution caveats
    # ------------------------------------------------------------------
    def note(key: str, abstract: str, content: str, refs: list[dict], object_refs: list[str]) -> str:
        return p.sdo(
            "note",
            key,
            {"abstract": abstract, "content": content, "authors": ["Sightline"], "object_refs": object_refs},
            refs,
        )

    note(
        "staffing-reuters",
        "Staffing estimate (Reuters): more than 600 hackers",
        "Source: Reuters, as cited by the Wikipedia article (read 2026-11-24). Date of the estimate: not "
        "given in Sightline's source notes. Reuters described Bureau 121 as the biggest unit of the "
        "Reconnaissance General Bureau, with more than 600 hackers, drawn from the country's best computer "
        "experts and run by the military. One of several estimates that disagree; treat as indicative only.",
        [
            wiki("the Reuters estimate of more than 600 hackers and its characterisation of the unit."),
            {"source_name": "Reuters", "description": "Original source of the estimate, as cited by Wikipedia; not consulted directly by Sightline."},
        ],
        [b121],
    )
    note(
        "staffing-defector",
        "Staffing estimate (North Korean defector): about 1,800 specialists",
        "Source: a North Korean defector, as cited by the Wikipedia article (read 2026-11-24). Date of "
        "the estimate: not given in Sightline's source notes. The defector put the unit's strength at "
        "roughly 1,800 specialists. A single-witness figure that cannot be checked independently.",
        [
            wiki("the defector's estimate of about 1,800 specialists."),
            {"source_name": "North Korean defector", "description": "Original source of the estimate, as cited by Wikipedia; not consulted directly by Sightline."},
        ],
        [b121],
    )
    note(
        "staffing-2021",
        "Staffing estimate (2021): more than 6,000 members, many abroad",
        "Source: an estimate dated 2021, as cited by the Wikipedia article (read 2026-11-24). It counts "
        "more than 6,000 members, a large share of them working outside North Korea, among other places "
        "in Belarus, China, India, Malaysia and Russia, while their families at home receive special "
        "privileges. The estimate also mentions cells around the world, one suspected to be at the "
        "Chilbosan Hotel in Shenyang, China.",
        [
            wiki("the 2021 estimate of over 6,000 members, the countries they operate from, family privileges and the Chilbosan Hotel cell."),
            {"source_name": "2021 estimate", "description": "Original source of the 2021 estimate, as cited by Wikipedia; not consulted directly by Sightline."},
        ],
        [b121, loc_by, loc_cn, loc_in, loc_my, loc_ru, loc_hotel],
    )
    note(
        "staffing-university-of-automation",
        "Recruitment: graduates of the University of Automation, Pyongyang",
        "Source: the Wikipedia article (read 2026-11-24); date of the claim not given in Sightline's "
        "source notes. Many of the bureau's staff are said to be selected by hand from graduates of "
        "Pyongyang's University of Automation after a five-year course of study there.",
        [wiki("recruitment of hand-picked University of Automation graduates after five years of training.")],
        [b121],
    )
    note(
        "sony-attribution-disputed",
        "Disputed attribution: North Korea denies the Sony Pictures hack",
        "The attribution of the November 2014 Sony Pictures hack to Bureau 121 (and to the Lazarus Group) "
        "is contested: North Korea denies any involvement. Sightline records the attribution as an "
        "allegation with moderate confidence and has not verified it.",
        [wiki("North Korea's denial of the Sony attribution.")],
        [c_sony, sony_attr, b121],
    )
    note(
        "attribution-caveat",
        "Caveat: attributions in this pack are allegations",
        "Every attributed-to relationship in this pack restates claims made by governments, companies or "
        "journalists as reported by the Wikipedia article (read 2026-11-24). None has been independently "
        "verified by Sightline. Confidence values express how firmly the claim is reported, not proof.",
        [wiki("the attributions recorded in this pack, each of which it reports as a claim.")],
        list(attributions),
    )

    p.sdo(
        "opinion",
        "attribution-opinion",
        {
            "explanation": (
                "Sightline neither confirms nor rejects these attributions: they are reported claims, "
                "one of them (Sony Pictures) explicitly denied by North Korea, and Sightline has no "
                "independent evidence either way."
            ),
            "authors": ["Sightline"],
            "opinion": "neutral",
            "object_refs": list(attributions),
        },
        [wiki("the attributions to which this opinion applies.")],
    )

    # ------------------------------------------------------------------
    # Report grouping everything
    # ------------------------------------------------------------------
    # The report also names the ATT&CK objects the pack refers to (not in the
    # bundle: resolved when ATT&CK is imported too).
    all_ids = [o["id"] for o in p.objects] + ATTACK_OBJECTS
    p.sdo(
        "report",
        "bureau-121-pack",
        {
            "name": "Bureau 121 (North Korea) knowledge pack",
            "description": (
                "Sightline's knowledge pack on Bureau 121, the principal cyber unit of North Korea's "
                "Reconnaissance General Bureau: its parent and 2019 sub-units, where it and its "
                "members are reported to be, the operations attributed to it, their methods and "
                "victims, related intrusion sets and the differing staffing estimates. Compiled from "
                "the English Wikipedia article read on 2026-11-24. All attributions are allegations."
            ),
            "report_types": ["threat-actor"],
            "published": TS,
            "object_refs": all_ids,
        },
        [wiki("the content of this knowledge pack as a whole.")],
    )

    return {"type": "bundle", "id": sid("bundle", "bureau-121"), "objects": p.objects}


def main() -> None:
    sys.stdout.write(json.dumps(build(), indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
