//! Property tables of every STIX 2.1 object type (§4–§7) and the predefined
//! SCO extensions (§6).

use super::props::{p, req, K, P, R};
use crate::vocab as v;

const ID: K = K::Str; // the walker checks `id` itself
const IDENTITY: R = R::T(&["identity"]);
const MARKING: R = R::T(&["marking-definition"]);

/// Common properties of SDOs and SROs (§3.2).
pub(crate) const SDO_COMMON: &[P] = &[
    req("type", K::Str),
    req("spec_version", K::Str),
    req("id", ID),
    p("created_by_ref", K::Ref(IDENTITY)),
    req("created", K::TsMs),
    req("modified", K::TsMs),
    p("revoked", K::Bool),
    p("labels", K::StrList),
    p("confidence", K::Int(0, 100)),
    p("lang", K::Lang),
    p("external_references", K::ExtRefs),
    p("object_marking_refs", K::Refs(MARKING)),
    p("granular_markings", K::Granular),
    p("extensions", K::Extensions),
];

/// Common properties of SCOs (§3.2, §6).
pub(crate) const SCO_COMMON: &[P] = &[
    req("type", K::Str),
    p("spec_version", K::Str),
    req("id", ID),
    p("object_marking_refs", K::Refs(MARKING)),
    p("granular_markings", K::Granular),
    p("defanged", K::Bool),
    p("extensions", K::Extensions),
];

/// marking-definition (§7.2.1): no `modified`, no `revoked`, …
pub(crate) const MARKING_DEFINITION: &[P] = &[
    req("type", K::Str),
    req("spec_version", K::Str),
    req("id", ID),
    p("created_by_ref", K::Ref(IDENTITY)),
    req("created", K::TsMs),
    p("external_references", K::ExtRefs),
    p("object_marking_refs", K::Refs(MARKING)),
    p("granular_markings", K::Granular),
    p("extensions", K::Extensions),
    p("name", K::Str),
    p("definition_type", K::Str),
    p("definition", K::Obj),
];

/// extension-definition (§7.3): common properties without lang/confidence/extensions.
pub(crate) const EXTENSION_DEFINITION: &[P] = &[
    req("type", K::Str),
    req("spec_version", K::Str),
    req("id", ID),
    // Required: STIX 2.1 §7.3 (the OASIS validator does not check it).
    req("created_by_ref", K::Ref(IDENTITY)),
    req("created", K::TsMs),
    req("modified", K::TsMs),
    p("revoked", K::Bool),
    p("labels", K::StrList),
    p("external_references", K::ExtRefs),
    p("object_marking_refs", K::Refs(MARKING)),
    p("granular_markings", K::Granular),
    req("name", K::Str),
    p("description", K::Str),
    req("schema", K::Str),
    req("version", K::Str),
    req("extension_types", K::EnumList(v::EXTENSION_TYPE)),
    p("extension_properties", K::StrList),
];

const KCP: K = K::KillChain;
const ALIASES: K = K::StrList;

pub(crate) const ATTACK_PATTERN: &[P] = &[
    req("name", K::Str),
    p("description", K::Str),
    p("aliases", ALIASES),
    p("kill_chain_phases", KCP),
];
pub(crate) const CAMPAIGN: &[P] = &[
    req("name", K::Str),
    p("description", K::Str),
    p("aliases", ALIASES),
    p("first_seen", K::Ts),
    p("last_seen", K::Ts),
    p("objective", K::Str),
];
pub(crate) const COURSE_OF_ACTION: &[P] = &[req("name", K::Str), p("description", K::Str)];
pub(crate) const GROUPING: &[P] = &[
    p("name", K::Str),
    p("description", K::Str),
    req("context", K::Ov(v::GROUPING_CONTEXT)),
    req("object_refs", K::Refs(R::Any)),
];
pub(crate) const IDENTITY_T: &[P] = &[
    req("name", K::Str),
    p("description", K::Str),
    p("roles", K::StrList),
    p("identity_class", K::Ov(v::IDENTITY_CLASS)),
    p("sectors", K::OvList(v::INDUSTRY_SECTOR)),
    p("contact_information", K::Str),
];
pub(crate) const INCIDENT: &[P] = &[
    req("name", K::Str),
    p("description", K::Str),
    p("kill_chain_phases", KCP),
];
pub(crate) const INDICATOR: &[P] = &[
    p("name", K::Str),
    p("description", K::Str),
    p("indicator_types", K::OvList(v::INDICATOR_TYPE)),
    req("pattern", K::Str),
    req("pattern_type", K::Ov(v::PATTERN_TYPE)),
    p("pattern_version", K::Str),
    req("valid_from", K::Ts),
    p("valid_until", K::Ts),
    p("kill_chain_phases", KCP),
];
pub(crate) const INFRASTRUCTURE: &[P] = &[
    req("name", K::Str),
    p("description", K::Str),
    p("infrastructure_types", K::OvList(v::INFRASTRUCTURE_TYPE)),
    p("aliases", ALIASES),
    p("kill_chain_phases", KCP),
    p("first_seen", K::Ts),
    p("last_seen", K::Ts),
];
pub(crate) const INTRUSION_SET: &[P] = &[
    req("name", K::Str),
    p("description", K::Str),
    p("aliases", ALIASES),
    p("first_seen", K::Ts),
    p("last_seen", K::Ts),
    p("goals", K::StrList),
    p("resource_level", K::Ov(v::ATTACK_RESOURCE_LEVEL)),
    p("primary_motivation", K::Ov(v::ATTACK_MOTIVATION)),
    p("secondary_motivations", K::OvList(v::ATTACK_MOTIVATION)),
];
pub(crate) const LOCATION: &[P] = &[
    p("name", K::Str),
    p("description", K::Str),
    p("latitude", K::Num(-90.0, 90.0)),
    p("longitude", K::Num(-180.0, 180.0)),
    p("precision", K::Num(0.0, f64::MAX)),
    p("region", K::Ov(v::REGION)),
    p("country", K::Str),
    p("administrative_area", K::Str),
    p("city", K::Str),
    p("street_address", K::Str),
    p("postal_code", K::Str),
];
pub(crate) const MALWARE: &[P] = &[
    p("name", K::Str),
    p("description", K::Str),
    p("malware_types", K::OvList(v::MALWARE_TYPE)),
    req("is_family", K::Bool),
    p("aliases", ALIASES),
    p("kill_chain_phases", KCP),
    p("first_seen", K::Ts),
    p("last_seen", K::Ts),
    p("operating_system_refs", K::Refs(R::T(&["software"]))),
    p(
        "architecture_execution_envs",
        K::OvList(v::PROCESSOR_ARCHITECTURE),
    ),
    p(
        "implementation_languages",
        K::OvList(v::IMPLEMENTATION_LANGUAGE),
    ),
    p("capabilities", K::OvList(v::MALWARE_CAPABILITIES)),
    p("sample_refs", K::Refs(R::T(&["file", "artifact"]))),
];
pub(crate) const MALWARE_ANALYSIS: &[P] = &[
    req("product", K::Str),
    p("version", K::Str),
    p("host_vm_ref", K::Ref(R::T(&["software"]))),
    p("operating_system_ref", K::Ref(R::T(&["software"]))),
    p("installed_software_refs", K::Refs(R::T(&["software"]))),
    p("configuration_version", K::Str),
    p("modules", K::StrList),
    p("analysis_engine_version", K::Str),
    p("analysis_definition_version", K::Str),
    p("submitted", K::Ts),
    p("analysis_started", K::Ts),
    p("analysis_ended", K::Ts),
    p("result_name", K::Str),
    p("result", K::Ov(v::MALWARE_RESULT)),
    p("analysis_sco_refs", K::Refs(R::Sco)),
    p(
        "sample_ref",
        K::Ref(R::T(&["file", "artifact", "network-traffic"])),
    ),
];
pub(crate) const NOTE: &[P] = &[
    p("abstract", K::Str),
    req("content", K::Str),
    p("authors", K::StrList),
    req("object_refs", K::Refs(R::Any)),
];
pub(crate) const OBSERVED_DATA: &[P] = &[
    req("first_observed", K::Ts),
    req("last_observed", K::Ts),
    req("number_observed", K::Int(1, 999_999_999)),
    p("objects", K::Obj),
    p("object_refs", K::Refs(R::ScoOrSro)),
];
pub(crate) const OPINION: &[P] = &[
    p("explanation", K::Str),
    p("authors", K::StrList),
    req("opinion", K::Enum(v::OPINION)),
    req("object_refs", K::Refs(R::Any)),
];
pub(crate) const REPORT: &[P] = &[
    req("name", K::Str),
    p("description", K::Str),
    p("report_types", K::OvList(v::REPORT_TYPE)),
    req("published", K::Ts),
    req("object_refs", K::Refs(R::Any)),
];
pub(crate) const THREAT_ACTOR: &[P] = &[
    req("name", K::Str),
    p("description", K::Str),
    p("threat_actor_types", K::OvList(v::THREAT_ACTOR_TYPE)),
    p("aliases", ALIASES),
    p("first_seen", K::Ts),
    p("last_seen", K::Ts),
    p("roles", K::OvList(v::THREAT_ACTOR_ROLE)),
    p("goals", K::StrList),
    p("sophistication", K::Ov(v::THREAT_ACTOR_SOPHISTICATION)),
    p("resource_level", K::Ov(v::ATTACK_RESOURCE_LEVEL)),
    p("primary_motivation", K::Ov(v::ATTACK_MOTIVATION)),
    p("secondary_motivations", K::OvList(v::ATTACK_MOTIVATION)),
    p("personal_motivations", K::OvList(v::ATTACK_MOTIVATION)),
];
pub(crate) const TOOL: &[P] = &[
    req("name", K::Str),
    p("description", K::Str),
    p("tool_types", K::OvList(v::TOOL_TYPE)),
    p("aliases", ALIASES),
    p("kill_chain_phases", KCP),
    p("tool_version", K::Str),
];
pub(crate) const VULNERABILITY: &[P] = &[req("name", K::Str), p("description", K::Str)];

pub(crate) const RELATIONSHIP: &[P] = &[
    req("relationship_type", K::Str),
    p("description", K::Str),
    req("source_ref", K::Ref(R::SdoOrSco)),
    req("target_ref", K::Ref(R::SdoOrSco)),
    p("start_time", K::Ts),
    p("stop_time", K::Ts),
];
pub(crate) const SIGHTING: &[P] = &[
    p("description", K::Str),
    p("first_seen", K::Ts),
    p("last_seen", K::Ts),
    p("count", K::Int(0, 999_999_999)),
    req("sighting_of_ref", K::Ref(R::Sdo)),
    p("observed_data_refs", K::Refs(R::T(&["observed-data"]))),
    p(
        "where_sighted_refs",
        K::Refs(R::T(&["identity", "location"])),
    ),
    p("summary", K::Bool),
];
pub(crate) const LANGUAGE_CONTENT: &[P] = &[
    req("object_ref", K::Ref(R::Any)),
    p("object_modified", K::TsMs),
    req("contents", K::Obj),
];

// ---- SCOs (§6) ----

const IP_OR_MAC_OR_DOMAIN: R = R::T(&["ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"]);

pub(crate) const ARTIFACT: &[P] = &[
    p("mime_type", K::Mime),
    p("payload_bin", K::Bin),
    p("url", K::Url),
    p("hashes", K::Hashes),
    p("encryption_algorithm", K::Enum(v::ENCRYPTION_ALGORITHM)),
    p("decryption_key", K::Str),
];
pub(crate) const AUTONOMOUS_SYSTEM: &[P] = &[
    req("number", K::Int(0, u32::MAX as i64)),
    p("name", K::Str),
    p("rir", K::Str),
];
pub(crate) const DIRECTORY: &[P] = &[
    req("path", K::Str),
    p("path_enc", K::Charset),
    p("ctime", K::Ts),
    p("mtime", K::Ts),
    p("atime", K::Ts),
    p("contains_refs", K::Refs(R::T(&["file", "directory"]))),
];
pub(crate) const DOMAIN_NAME: &[P] = &[
    req("value", K::Domain),
    p(
        "resolves_to_refs",
        K::Refs(R::T(&["ipv4-addr", "ipv6-addr", "domain-name"])),
    ),
];
pub(crate) const EMAIL_ADDR: &[P] = &[
    req("value", K::Email),
    p("display_name", K::Str),
    p("belongs_to_ref", K::Ref(R::T(&["user-account"]))),
];
const MIME_PART: &[P] = &[
    p("body", K::Str),
    p("body_raw_ref", K::Ref(R::T(&["artifact", "file"]))),
    p("content_type", K::Str),
    p("content_disposition", K::Str),
];
const EMAIL_ADDR_REF: R = R::T(&["email-addr"]);
pub(crate) const EMAIL_MESSAGE: &[P] = &[
    req("is_multipart", K::Bool),
    p("date", K::Ts),
    p("content_type", K::Str),
    p("from_ref", K::Ref(EMAIL_ADDR_REF)),
    p("sender_ref", K::Ref(EMAIL_ADDR_REF)),
    p("to_refs", K::Refs(EMAIL_ADDR_REF)),
    p("cc_refs", K::Refs(EMAIL_ADDR_REF)),
    p("bcc_refs", K::Refs(EMAIL_ADDR_REF)),
    p("message_id", K::Str),
    p("subject", K::Str),
    p("received_lines", K::StrList),
    p("additional_header_fields", K::Dict),
    p("body", K::Str),
    p("body_multipart", K::EmbeddedList(MIME_PART)),
    p("raw_email_ref", K::Ref(R::T(&["artifact"]))),
];
pub(crate) const FILE: &[P] = &[
    p("hashes", K::Hashes),
    p("size", K::Int(0, i64::MAX)),
    p("name", K::Str),
    p("name_enc", K::Charset),
    p("magic_number_hex", K::Hex),
    p("mime_type", K::Str),
    p("ctime", K::Ts),
    p("mtime", K::Ts),
    p("atime", K::Ts),
    p("parent_directory_ref", K::Ref(R::T(&["directory"]))),
    p("contains_refs", K::Refs(R::Sco)),
    p("content_ref", K::Ref(R::T(&["artifact"]))),
];
pub(crate) const IPV4_ADDR: &[P] = &[
    req("value", K::Ipv4),
    p("resolves_to_refs", K::Refs(R::T(&["mac-addr"]))),
    p("belongs_to_refs", K::Refs(R::T(&["autonomous-system"]))),
];
pub(crate) const IPV6_ADDR: &[P] = &[
    req("value", K::Ipv6),
    p("resolves_to_refs", K::Refs(R::T(&["mac-addr"]))),
    p("belongs_to_refs", K::Refs(R::T(&["autonomous-system"]))),
];
pub(crate) const MAC_ADDR: &[P] = &[req("value", K::Mac)];
pub(crate) const MUTEX: &[P] = &[req("name", K::Str)];
const PORT: K = K::Int(0, 65535);
const COUNT: K = K::Int(0, i64::MAX);
pub(crate) const NETWORK_TRAFFIC: &[P] = &[
    p("start", K::Ts),
    p("end", K::Ts),
    p("is_active", K::Bool),
    p("src_ref", K::Ref(IP_OR_MAC_OR_DOMAIN)),
    p("dst_ref", K::Ref(IP_OR_MAC_OR_DOMAIN)),
    p("src_port", PORT),
    p("dst_port", PORT),
    req("protocols", K::StrList),
    p("src_byte_count", COUNT),
    p("dst_byte_count", COUNT),
    p("src_packets", COUNT),
    p("dst_packets", COUNT),
    p("ipfix", K::Dict),
    p("src_payload_ref", K::Ref(R::T(&["artifact"]))),
    p("dst_payload_ref", K::Ref(R::T(&["artifact"]))),
    p("encapsulates_refs", K::Refs(R::T(&["network-traffic"]))),
    p("encapsulated_by_ref", K::Ref(R::T(&["network-traffic"]))),
];
pub(crate) const PROCESS: &[P] = &[
    p("is_hidden", K::Bool),
    p("pid", K::Int(i64::MIN, i64::MAX)),
    p("created_time", K::Ts),
    p("cwd", K::Str),
    p("command_line", K::Str),
    p("environment_variables", K::Dict),
    p(
        "opened_connection_refs",
        K::Refs(R::T(&["network-traffic"])),
    ),
    p("creator_user_ref", K::Ref(R::T(&["user-account"]))),
    p("image_ref", K::Ref(R::T(&["file"]))),
    p("parent_ref", K::Ref(R::T(&["process"]))),
    p("child_refs", K::Refs(R::T(&["process"]))),
];
pub(crate) const SOFTWARE: &[P] = &[
    req("name", K::Str),
    p("cpe", K::Cpe),
    p("swid", K::Str),
    p("languages", K::Iso639List),
    p("vendor", K::Str),
    p("version", K::Str),
];
pub(crate) const URL: &[P] = &[req("value", K::Url)];
pub(crate) const USER_ACCOUNT: &[P] = &[
    p("user_id", K::Str),
    p("credential", K::Str),
    p("account_login", K::Str),
    p("account_type", K::Ov(v::ACCOUNT_TYPE)),
    p("display_name", K::Str),
    p("is_service_account", K::Bool),
    p("is_privileged", K::Bool),
    p("can_escalate_privs", K::Bool),
    p("is_disabled", K::Bool),
    p("account_created", K::Ts),
    p("account_expires", K::Ts),
    p("credential_last_changed", K::Ts),
    p("account_first_login", K::Ts),
    p("account_last_login", K::Ts),
];
const REGISTRY_VALUE: &[P] = &[
    p("name", K::Str),
    p("data", K::Str),
    p("data_type", K::Enum(v::WINDOWS_REGISTRY_DATATYPE)),
];
pub(crate) const WINDOWS_REGISTRY_KEY: &[P] = &[
    p("key", K::Str),
    p("values", K::EmbeddedList(REGISTRY_VALUE)),
    p("modified_time", K::Ts),
    p("creator_user_ref", K::Ref(R::T(&["user-account"]))),
    p("number_of_subkeys", K::Int(0, i64::MAX)),
];
const X509_V3_EXTENSIONS: &[P] = &[
    p("basic_constraints", K::Str),
    p("name_constraints", K::Str),
    p("policy_constraints", K::Str),
    p("key_usage", K::Str),
    p("extended_key_usage", K::Str),
    p("subject_key_identifier", K::Str),
    p("authority_key_identifier", K::Str),
    p("subject_alternative_name", K::Str),
    p("issuer_alternative_name", K::Str),
    p("subject_directory_attributes", K::Str),
    p("crl_distribution_points", K::Str),
    p("inhibit_any_policy", K::Str),
    p("private_key_usage_period_not_before", K::Ts),
    p("private_key_usage_period_not_after", K::Ts),
    p("certificate_policies", K::Str),
    p("policy_mappings", K::Str),
];
pub(crate) const X509_CERTIFICATE: &[P] = &[
    p("is_self_signed", K::Bool),
    p("hashes", K::Hashes),
    p("version", K::Str),
    p("serial_number", K::Str),
    p("signature_algorithm", K::Str),
    p("issuer", K::Str),
    p("validity_not_before", K::Ts),
    p("validity_not_after", K::Ts),
    p("subject", K::Str),
    p("subject_public_key_algorithm", K::Str),
    p("subject_public_key_modulus", K::Str),
    p("subject_public_key_exponent", K::Int(0, i64::MAX)),
    p("x509_v3_extensions", K::Embedded(X509_V3_EXTENSIONS)),
];

// ---- predefined SCO extensions (§6) ----

pub(crate) const ARCHIVE_EXT: &[P] = &[
    req("contains_refs", K::Refs(R::T(&["file", "directory"]))),
    p("comment", K::Str),
];
const ALTERNATE_DATA_STREAM: &[P] = &[
    req("name", K::Str),
    p("hashes", K::Hashes),
    p("size", COUNT),
];
pub(crate) const NTFS_EXT: &[P] = &[
    p("sid", K::Str),
    p(
        "alternate_data_streams",
        K::EmbeddedList(ALTERNATE_DATA_STREAM),
    ),
];
pub(crate) const PDF_EXT: &[P] = &[
    p("version", K::Str),
    p("is_optimized", K::Bool),
    p("document_info_dict", K::Dict),
    p("pdfid0", K::Str),
    p("pdfid1", K::Str),
];
pub(crate) const RASTER_IMAGE_EXT: &[P] = &[
    p("image_height", COUNT),
    p("image_width", COUNT),
    p("bits_per_pixel", COUNT),
    p("exif_tags", K::Dict),
];
const PE_OPTIONAL_HEADER: &[P] = &[
    p("magic_hex", K::Hex),
    p("major_linker_version", COUNT),
    p("minor_linker_version", COUNT),
    p("size_of_code", COUNT),
    p("size_of_initialized_data", COUNT),
    p("size_of_uninitialized_data", COUNT),
    p("address_of_entry_point", COUNT),
    p("base_of_code", COUNT),
    p("base_of_data", COUNT),
    p("image_base", COUNT),
    p("section_alignment", COUNT),
    p("file_alignment", COUNT),
    p("major_os_version", COUNT),
    p("minor_os_version", COUNT),
    p("major_image_version", COUNT),
    p("minor_image_version", COUNT),
    p("major_subsystem_version", COUNT),
    p("minor_subsystem_version", COUNT),
    p("win32_version_value_hex", K::Hex),
    p("size_of_image", COUNT),
    p("size_of_headers", COUNT),
    p("checksum_hex", K::Hex),
    p("subsystem_hex", K::Hex),
    p("dll_characteristics_hex", K::Hex),
    p("size_of_stack_reserve", COUNT),
    p("size_of_stack_commit", COUNT),
    p("size_of_heap_reserve", COUNT),
    p("size_of_heap_commit", COUNT),
    p("loader_flags_hex", K::Hex),
    p("number_of_rva_and_sizes", COUNT),
    p("hashes", K::Hashes),
];
const PE_SECTION: &[P] = &[
    req("name", K::Str),
    p("entropy", K::Num(f64::MIN, f64::MAX)),
    p("size", COUNT),
    p("hashes", K::Hashes),
];
pub(crate) const WINDOWS_PEBINARY_EXT: &[P] = &[
    req("pe_type", K::Ov(v::WINDOWS_PEBINARY_TYPE)),
    p("imphash", K::Str),
    p("machine_hex", K::Hex),
    p("number_of_sections", COUNT),
    p("time_date_stamp", K::Ts),
    p("pointer_to_symbol_table_hex", K::Hex),
    p("number_of_symbols", COUNT),
    p("size_of_optional_header", COUNT),
    p("characteristics_hex", K::Hex),
    p("file_header_hashes", K::Hashes),
    p("optional_header", K::Embedded(PE_OPTIONAL_HEADER)),
    p("sections", K::EmbeddedList(PE_SECTION)),
];
pub(crate) const HTTP_REQUEST_EXT: &[P] = &[
    req("request_method", K::Str),
    req("request_value", K::Str),
    p("request_version", K::Str),
    p("request_header", K::Dict),
    p("message_body_length", COUNT),
    p("message_body_data_ref", K::Ref(R::T(&["artifact"]))),
];
pub(crate) const ICMP_EXT: &[P] = &[req("icmp_type_hex", K::Hex), req("icmp_code_hex", K::Hex)];
pub(crate) const SOCKET_EXT: &[P] = &[
    req("address_family", K::Enum(v::NETWORK_SOCKET_ADDRESS_FAMILY)),
    p("is_blocking", K::Bool),
    p("is_listening", K::Bool),
    p("options", K::Dict),
    p("socket_type", K::Enum(v::NETWORK_SOCKET_TYPE)),
    p("socket_descriptor", COUNT),
    p("socket_handle", K::Int(i64::MIN, i64::MAX)),
];
pub(crate) const TCP_EXT: &[P] = &[p("src_flags_hex", K::Hex), p("dst_flags_hex", K::Hex)];
pub(crate) const WINDOWS_PROCESS_EXT: &[P] = &[
    p("aslr_enabled", K::Bool),
    p("dep_enabled", K::Bool),
    p("priority", K::Str),
    p("owner_sid", K::Str),
    p("window_title", K::Str),
    p("startup_info", K::Dict),
    p("integrity_level", K::Enum(v::WINDOWS_INTEGRITY_LEVEL)),
];
pub(crate) const WINDOWS_SERVICE_EXT: &[P] = &[
    p("service_name", K::Str),
    p("descriptions", K::StrList),
    p("display_name", K::Str),
    p("group_name", K::Str),
    p("start_type", K::Enum(v::WINDOWS_SERVICE_START_TYPE)),
    p("service_dll_refs", K::Refs(R::T(&["file"]))),
    p("service_type", K::Enum(v::WINDOWS_SERVICE_TYPE)),
    p("service_status", K::Enum(v::WINDOWS_SERVICE_STATUS)),
];
pub(crate) const UNIX_ACCOUNT_EXT: &[P] = &[
    p("gid", K::Int(i64::MIN, i64::MAX)),
    p("groups", K::StrList),
    p("home_dir", K::Str),
    p("shell", K::Str),
];

/// The type-specific property table of a predefined type.
pub(crate) fn table(ty: &str) -> Option<&'static [P]> {
    Some(match ty {
        "attack-pattern" => ATTACK_PATTERN,
        "campaign" => CAMPAIGN,
        "course-of-action" => COURSE_OF_ACTION,
        "grouping" => GROUPING,
        "identity" => IDENTITY_T,
        "incident" => INCIDENT,
        "indicator" => INDICATOR,
        "infrastructure" => INFRASTRUCTURE,
        "intrusion-set" => INTRUSION_SET,
        "location" => LOCATION,
        "malware" => MALWARE,
        "malware-analysis" => MALWARE_ANALYSIS,
        "note" => NOTE,
        "observed-data" => OBSERVED_DATA,
        "opinion" => OPINION,
        "report" => REPORT,
        "threat-actor" => THREAT_ACTOR,
        "tool" => TOOL,
        "vulnerability" => VULNERABILITY,
        "relationship" => RELATIONSHIP,
        "sighting" => SIGHTING,
        "language-content" => LANGUAGE_CONTENT,
        "artifact" => ARTIFACT,
        "autonomous-system" => AUTONOMOUS_SYSTEM,
        "directory" => DIRECTORY,
        "domain-name" => DOMAIN_NAME,
        "email-addr" => EMAIL_ADDR,
        "email-message" => EMAIL_MESSAGE,
        "file" => FILE,
        "ipv4-addr" => IPV4_ADDR,
        "ipv6-addr" => IPV6_ADDR,
        "mac-addr" => MAC_ADDR,
        "mutex" => MUTEX,
        "network-traffic" => NETWORK_TRAFFIC,
        "process" => PROCESS,
        "software" => SOFTWARE,
        "url" => URL,
        "user-account" => USER_ACCOUNT,
        "windows-registry-key" => WINDOWS_REGISTRY_KEY,
        "x509-certificate" => X509_CERTIFICATE,
        _ => return None,
    })
}
