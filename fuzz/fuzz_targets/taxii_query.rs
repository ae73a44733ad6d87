//! TAXII query strings (TAXII 2.1 §3.4: match[id|type|version|spec_version],
//! added_after, limit, next): any text after `?` is parsed into filters
//! exactly as every TAXII GET does, and a `next` token is checked as a
//! cursor. Must never panic; a bad query is a 400, never anything else.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = sightline_taxii::fuzz_parse_query(query) {
        assert_eq!(e.status().as_u16(), 400, "{query:?}: {e}");
    }
});
