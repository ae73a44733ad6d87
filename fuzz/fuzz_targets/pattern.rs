//! STIX Patterning: parse and check any text; printing a parsed pattern must
//! give text that parses again. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(p) = sightline_pattern::parse(s) {
            let printed = p.to_string();
            assert!(sightline_pattern::parse(&printed).is_ok(), "printed pattern does not parse: {printed}");
        }
    }
});
