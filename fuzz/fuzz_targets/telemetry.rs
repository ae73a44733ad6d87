//! Telemetry adapters: every format on arbitrary bytes, one line at a time and
//! as a whole input through the line reader. Must never panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sightline_interchange::telemetry::{Adapter, EventReader, Format, Mapping};

const MAPPING: &str = r#"
time = "ts"
[fields]
"src.ip" = "network-traffic:src_ref.value"
"dst.port" = "network-traffic:dst_port"
"id.orig_h" = "ipv4-addr:value"
"a.0.b" = "file:hashes.'SHA-256'"
"url" = "url:value"
"#;

fn adapters() -> &'static [Adapter] {
    static A: OnceLock<Vec<Adapter>> = OnceLock::new();
    A.get_or_init(|| {
        let mapping = Mapping::parse("fuzz.toml", MAPPING).expect("the fuzz mapping is valid");
        let mut v: Vec<Adapter> = [
            "zeek",
            "zeek:conn",
            "zeek:dns",
            "zeek:http",
            "zeek:files",
            "zeek:ssl",
            "zeek:x509",
            "suricata",
            "stix",
        ]
        .iter()
        .map(|f| Adapter::new(f.parse::<Format>().expect("known format")))
        .collect();
        v.push(Adapter::new(Format::Json(mapping)));
        v
    })
}

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    for a in adapters() {
        let before = out.len();
        if a.parse_line(data, &mut out).is_err() {
            assert_eq!(out.len(), before, "a failed line must add nothing");
        }
        for o in &out {
            assert!(o.first_observed <= o.last_observed);
        }
        out.clear();
    }
    let mut r = EventReader::new(data, adapters()[0].clone()).with_max_line(4096);
    while let Ok(Some(_)) = r.next_into(&mut out) {
        out.clear();
    }
    let s = r.summary();
    assert!(s.parsed + s.skipped <= s.lines);
});
