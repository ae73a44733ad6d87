//! The open vocabularies (STIX 2.1 §10) and closed enumerations of STIX 2.1.
//!
//! Open vocabularies are SHOULD-level (a value outside one is a warning);
//! enumerations are MUST-level. Each list is a plain slice: they are short, so a
//! linear scan costs less than hashing.

/// An open vocabulary or enumeration: its spec name and its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vocab {
    pub name: &'static str,
    pub values: &'static [&'static str],
}

impl Vocab {
    pub fn contains(&self, v: &str) -> bool {
        self.values.contains(&v)
    }
}

macro_rules! vocab {
    ($(#[$m:meta])* $id:ident = $name:literal [$($v:literal),* $(,)?]) => {
        $(#[$m])*
        pub const $id: Vocab = Vocab { name: $name, values: &[$($v),*] };
    };
}

vocab!(ACCOUNT_TYPE = "account-type-ov" [
    "facebook", "ldap", "nis", "openid", "radius", "skype", "tacacs", "twitter", "unix",
    "windows-local", "windows-domain",
]);
vocab!(ATTACK_MOTIVATION = "attack-motivation-ov" [
    "accidental", "coercion", "dominance", "ideology", "notoriety", "organizational-gain",
    "personal-gain", "personal-satisfaction", "revenge", "unpredictable",
]);
vocab!(ATTACK_RESOURCE_LEVEL = "attack-resource-level-ov" [
    "individual", "club", "contest", "team", "organization", "government",
]);
vocab!(GROUPING_CONTEXT = "grouping-context-ov" ["suspicious-activity", "malware-analysis", "unspecified"]);
vocab!(HASH_ALGORITHM = "hash-algorithm-ov" [
    "MD5", "SHA-1", "SHA-256", "SHA-512", "SHA3-256", "SHA3-512", "SSDEEP", "TLSH",
]);
vocab!(IDENTITY_CLASS = "identity-class-ov" [
    "individual", "group", "system", "organization", "class", "unknown",
]);
vocab!(IMPLEMENTATION_LANGUAGE = "implementation-language-ov" [
    "applescript", "bash", "c", "c++", "c#", "go", "java", "javascript", "lua", "objective-c",
    "perl", "php", "powershell", "python", "ruby", "scala", "swift", "typescript",
    "visual-basic", "x86-32", "x86-64",
]);
vocab!(INDICATOR_TYPE = "indicator-type-ov" [
    "anomalous-activity", "anonymization", "benign", "compromised", "malicious-activity",
    "attribution", "unknown",
]);
vocab!(INDUSTRY_SECTOR = "industry-sector-ov" [
    "agriculture", "aerospace", "automotive", "chemical", "commercial", "communications",
    "construction", "defense", "education", "energy", "entertainment", "financial-services",
    "government", "government-national", "government-regional", "government-local",
    "government-public-services", "healthcare", "hospitality-leisure", "infrastructure", "dams",
    "nuclear", "water", "insurance", "manufacturing", "mining", "non-profit", "pharmaceuticals",
    "retail", "technology", "telecommunications", "transportation", "utilities",
]);
vocab!(INFRASTRUCTURE_TYPE = "infrastructure-type-ov" [
    "amplification", "anonymization", "botnet", "command-and-control", "control-system",
    "exfiltration", "firewall", "hosting-malware", "hosting-target-lists", "phishing",
    "reconnaissance", "routers-switches", "staging", "workstation", "unknown",
]);
vocab!(MALWARE_CAPABILITIES = "malware-capabilities-ov" [
    "accesses-remote-machines", "anti-debugging", "anti-disassembly", "anti-emulation",
    "anti-memory-forensics", "anti-sandbox", "anti-vm", "captures-input", "captures-output",
    "communicates-with-c2", "compromises-data-availability", "compromises-data-integrity",
    "compromises-system-availability", "controls-local-machine", "degrades-security-software",
    "degrades-system-updates", "determines-c2-server", "emails-spam", "escalates-privileges",
    "evades-av", "exfiltrates-data", "fingerprints-host", "hides-artifacts",
    "hides-executing-code", "infects-files", "infects-remote-machines",
    "installs-other-components", "persists-after-system-reboot", "prevents-artifact-access",
    "prevents-artifact-deletion", "probes-network-environment", "self-modifies",
    "steals-authentication-credentials", "violates-system-operational-integrity",
]);
vocab!(MALWARE_RESULT = "malware-result-ov" ["malicious", "suspicious", "benign", "unknown"]);
vocab!(MALWARE_TYPE = "malware-type-ov" [
    "adware", "backdoor", "bot", "bootkit", "ddos", "downloader", "dropper", "exploit-kit",
    "keylogger", "ransomware", "remote-access-trojan", "resource-exploitation",
    "rogue-security-software", "rootkit", "screen-capture", "spyware", "trojan", "unknown",
    "virus", "webshell", "wiper", "worm",
]);
vocab!(PATTERN_TYPE = "pattern-type-ov" ["stix", "pcre", "sigma", "snort", "suricata", "yara"]);
vocab!(PROCESSOR_ARCHITECTURE = "processor-architecture-ov" [
    "alpha", "arm", "ia-64", "mips", "powerpc", "sparc", "x86", "x86-64",
]);
vocab!(REGION = "region-ov" [
    "africa", "eastern-africa", "middle-africa", "northern-africa", "southern-africa",
    "western-africa", "americas", "caribbean", "central-america", "latin-america-caribbean",
    "northern-america", "south-america", "asia", "central-asia", "eastern-asia", "southern-asia",
    "south-eastern-asia", "western-asia", "europe", "eastern-europe", "northern-europe",
    "southern-europe", "western-europe", "oceania", "antarctica", "australia-new-zealand",
    "melanesia", "micronesia", "polynesia",
]);
vocab!(REPORT_TYPE = "report-type-ov" [
    "attack-pattern", "campaign", "identity", "indicator", "intrusion-set", "malware",
    "observed-data", "threat-actor", "threat-report", "tool", "vulnerability",
]);
vocab!(THREAT_ACTOR_TYPE = "threat-actor-type-ov" [
    "activist", "competitor", "crime-syndicate", "criminal", "hacker", "insider-accidental",
    "insider-disgruntled", "nation-state", "sensationalist", "spy", "terrorist", "unknown",
]);
vocab!(THREAT_ACTOR_ROLE = "threat-actor-role-ov" [
    "agent", "director", "independent", "infrastructure-architect", "infrastructure-operator",
    "malware-author", "sponsor",
]);
vocab!(THREAT_ACTOR_SOPHISTICATION = "threat-actor-sophistication-ov" [
    "none", "minimal", "intermediate", "advanced", "expert", "innovator", "strategic",
]);
vocab!(TOOL_TYPE = "tool-type-ov" [
    "denial-of-service", "exploitation", "information-gathering", "network-capture",
    "credential-exploitation", "remote-access", "vulnerability-scanning", "unknown",
]);
vocab!(WINDOWS_PEBINARY_TYPE = "windows-pebinary-type-ov" ["dll", "exe", "sys"]);

// ---- closed enumerations (MUST) ----

vocab!(ENCRYPTION_ALGORITHM = "encryption-algorithm-enum" [
    "AES-256-GCM", "ChaCha20-Poly1305", "mime-type-indicated",
]);
vocab!(EXTENSION_TYPE = "extension-type-enum" [
    "new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension",
]);
vocab!(NETWORK_SOCKET_ADDRESS_FAMILY = "network-socket-address-family-enum" [
    "AF_UNSPEC", "AF_INET", "AF_IPX", "AF_APPLETALK", "AF_NETBIOS", "AF_INET6", "AF_IRDA", "AF_BTH",
]);
vocab!(NETWORK_SOCKET_TYPE = "network-socket-type-enum" [
    "SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET",
]);
vocab!(OPINION = "opinion-enum" ["strongly-disagree", "disagree", "neutral", "agree", "strongly-agree"]);
vocab!(WINDOWS_INTEGRITY_LEVEL = "windows-integrity-level-enum" ["low", "medium", "high", "system"]);
vocab!(WINDOWS_REGISTRY_DATATYPE = "windows-registry-datatype-enum" [
    "REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD", "REG_DWORD_BIG_ENDIAN",
    "REG_DWORD_LITTLE_ENDIAN", "REG_LINK", "REG_MULTI_SZ", "REG_RESOURCE_LIST",
    "REG_FULL_RESOURCE_DESCRIPTION", "REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD",
    "REG_INVALID_TYPE",
]);
vocab!(WINDOWS_SERVICE_START_TYPE = "windows-service-start-type-enum" [
    "SERVICE_AUTO_START", "SERVICE_BOOT_START", "SERVICE_DEMAND_START", "SERVICE_DISABLED",
    "SERVICE_SYSTEM_ALERT",
]);
vocab!(WINDOWS_SERVICE_TYPE = "windows-service-type-enum" [
    "SERVICE_KERNEL_DRIVER", "SERVICE_FILE_SYSTEM_DRIVER", "SERVICE_WIN32_OWN_PROCESS",
    "SERVICE_WIN32_SHARE_PROCESS",
]);
vocab!(WINDOWS_SERVICE_STATUS = "windows-service-status-enum" [
    "SERVICE_CONTINUE_PENDING", "SERVICE_PAUSE_PENDING", "SERVICE_PAUSED", "SERVICE_RUNNING",
    "SERVICE_START_PENDING", "SERVICE_STOP_PENDING", "SERVICE_STOPPED",
]);

/// All open vocabularies of STIX 2.1 §10.
pub const OPEN_VOCABULARIES: &[Vocab] = &[
    ACCOUNT_TYPE,
    ATTACK_MOTIVATION,
    ATTACK_RESOURCE_LEVEL,
    GROUPING_CONTEXT,
    HASH_ALGORITHM,
    IDENTITY_CLASS,
    IMPLEMENTATION_LANGUAGE,
    INDICATOR_TYPE,
    INDUSTRY_SECTOR,
    INFRASTRUCTURE_TYPE,
    MALWARE_CAPABILITIES,
    MALWARE_RESULT,
    MALWARE_TYPE,
    PATTERN_TYPE,
    PROCESSOR_ARCHITECTURE,
    REGION,
    REPORT_TYPE,
    THREAT_ACTOR_TYPE,
    THREAT_ACTOR_ROLE,
    THREAT_ACTOR_SOPHISTICATION,
    TOOL_TYPE,
    WINDOWS_PEBINARY_TYPE,
];

/// The relationship types every SDO/SCO pair may use (STIX 2.1 §5.1).
pub const COMMON_RELATIONSHIP_TYPES: &[&str] = &["derived-from", "duplicate-of", "related-to"];

const ALL_SCOS: &[&str] = &crate::object::OBSERVABLE_TYPES;

/// The relationships STIX 2.1 §4 defines: (source type, relationship type, target types).
pub const SPEC_RELATIONSHIPS: &[(&str, &str, &[&str])] = &[
    ("attack-pattern", "delivers", &["malware"]),
    (
        "attack-pattern",
        "targets",
        &["identity", "location", "vulnerability"],
    ),
    ("attack-pattern", "uses", &["malware", "tool"]),
    (
        "campaign",
        "attributed-to",
        &["intrusion-set", "threat-actor"],
    ),
    ("campaign", "compromises", &["infrastructure"]),
    ("campaign", "originates-from", &["location"]),
    (
        "campaign",
        "targets",
        &["identity", "location", "vulnerability"],
    ),
    (
        "campaign",
        "uses",
        &["attack-pattern", "infrastructure", "malware", "tool"],
    ),
    ("course-of-action", "investigates", &["indicator"]),
    (
        "course-of-action",
        "mitigates",
        &[
            "attack-pattern",
            "indicator",
            "malware",
            "tool",
            "vulnerability",
        ],
    ),
    (
        "course-of-action",
        "remediates",
        &["malware", "vulnerability"],
    ),
    ("identity", "located-at", &["location"]),
    (
        "indicator",
        "indicates",
        &[
            "attack-pattern",
            "campaign",
            "infrastructure",
            "intrusion-set",
            "malware",
            "threat-actor",
            "tool",
        ],
    ),
    ("indicator", "based-on", &["observed-data"]),
    (
        "infrastructure",
        "communicates-with",
        &[
            "infrastructure",
            "ipv4-addr",
            "ipv6-addr",
            "domain-name",
            "url",
        ],
    ),
    (
        "infrastructure",
        "consists-of",
        &["infrastructure", "observed-data"],
    ),
    ("infrastructure", "consists-of", ALL_SCOS),
    ("infrastructure", "controls", &["infrastructure", "malware"]),
    ("infrastructure", "delivers", &["malware"]),
    ("infrastructure", "has", &["vulnerability"]),
    ("infrastructure", "hosts", &["tool", "malware"]),
    ("infrastructure", "located-at", &["location"]),
    ("infrastructure", "uses", &["infrastructure"]),
    ("intrusion-set", "attributed-to", &["threat-actor"]),
    ("intrusion-set", "compromises", &["infrastructure"]),
    ("intrusion-set", "hosts", &["infrastructure"]),
    ("intrusion-set", "owns", &["infrastructure"]),
    ("intrusion-set", "originates-from", &["location"]),
    (
        "intrusion-set",
        "targets",
        &["identity", "location", "vulnerability"],
    ),
    (
        "intrusion-set",
        "uses",
        &["attack-pattern", "infrastructure", "malware", "tool"],
    ),
    ("malware", "authored-by", &["threat-actor", "intrusion-set"]),
    ("malware", "beacons-to", &["infrastructure"]),
    ("malware", "exfiltrates-to", &["infrastructure"]),
    (
        "malware",
        "communicates-with",
        &["ipv4-addr", "ipv6-addr", "domain-name", "url"],
    ),
    ("malware", "controls", &["malware"]),
    ("malware", "downloads", &["malware", "tool", "file"]),
    ("malware", "drops", &["malware", "tool", "file"]),
    ("malware", "exploits", &["vulnerability"]),
    ("malware", "originates-from", &["location"]),
    (
        "malware",
        "targets",
        &["identity", "infrastructure", "location", "vulnerability"],
    ),
    (
        "malware",
        "uses",
        &["attack-pattern", "infrastructure", "malware", "tool"],
    ),
    ("malware", "variant-of", &["malware"]),
    ("malware-analysis", "characterizes", &["malware"]),
    ("malware-analysis", "analysis-of", &["malware"]),
    ("malware-analysis", "static-analysis-of", &["malware"]),
    ("malware-analysis", "dynamic-analysis-of", &["malware"]),
    ("threat-actor", "attributed-to", &["identity"]),
    ("threat-actor", "compromises", &["infrastructure"]),
    ("threat-actor", "hosts", &["infrastructure"]),
    ("threat-actor", "owns", &["infrastructure"]),
    ("threat-actor", "impersonates", &["identity"]),
    ("threat-actor", "located-at", &["location"]),
    (
        "threat-actor",
        "targets",
        &["identity", "location", "vulnerability"],
    ),
    (
        "threat-actor",
        "uses",
        &["attack-pattern", "infrastructure", "malware", "tool"],
    ),
    ("tool", "delivers", &["malware"]),
    ("tool", "drops", &["malware"]),
    ("tool", "has", &["vulnerability"]),
    (
        "tool",
        "targets",
        &["identity", "infrastructure", "location", "vulnerability"],
    ),
    ("tool", "uses", &["infrastructure"]),
];

/// Whether STIX 2.1 defines `rel` from `source` to `target` (or it is a common type).
pub fn is_spec_relationship(source: &str, rel: &str, target: &str) -> bool {
    COMMON_RELATIONSHIP_TYPES.contains(&rel)
        || SPEC_RELATIONSHIPS
            .iter()
            .any(|(s, r, ts)| *s == source && *r == rel && ts.contains(&target))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// STIX 2.1 §10: vocabularies hold distinct values.
    #[test]
    fn vocabularies_have_no_duplicates() {
        for v in OPEN_VOCABULARIES {
            let mut vals = v.values.to_vec();
            vals.sort_unstable();
            vals.dedup();
            assert_eq!(vals.len(), v.values.len(), "{}", v.name);
        }
        assert!(MALWARE_TYPE.contains("ransomware"));
        assert!(!MALWARE_TYPE.contains("Ransomware"));
    }

    /// STIX 2.1 §4: relationship summary tables.
    #[test]
    fn relationship_table() {
        assert!(is_spec_relationship("intrusion-set", "uses", "malware"));
        assert!(is_spec_relationship("x-anything", "related-to", "malware"));
        assert!(is_spec_relationship(
            "infrastructure",
            "consists-of",
            "ipv4-addr"
        ));
        assert!(!is_spec_relationship(
            "attack-pattern",
            "subtechnique-of",
            "attack-pattern"
        ));
    }
}
