//! Timestamps and identifiers: the two hand-written parsers in `sightline-stix`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(t) = sightline_stix::Timestamp::parse(s) {
            let _ = t.sort_key();
        }
        let _ = sightline_stix::StixId::parse(s);
    }
});
