//! STIX ingest: split any bytes into objects, then validate and extract each,
//! exactly as `sightline import` does. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = sightline_interchange::split_objects("fuzz", data) else {
        return;
    };
    let validator = sightline_stix::Validator::new();
    for item in &doc.items {
        let Ok(raw) = item.raw else { continue };
        let Ok(value) = serde_json::from_str::<serde_json::Value>(raw) else { continue };
        let _ = validator.validate(&value);
        let _ = sightline_stix::ObjectMeta::extract(&value);
    }
});
