//! TAXII envelopes (TAXII 2.1 §3.7, §5.5): any bytes as the body of an
//! add-objects POST, through the shape limits, the envelope split and each
//! object's validation (patterns included), as the server does before
//! storing. Small limits so the fuzzer reaches them. Must never panic; a
//! refused body is a 400, 413 or 422, never anything else.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sightline_stix::Validator;
use sightline_taxii::InputLimits;

fn validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| {
        Validator::new().with_pattern_checker(Box::new(sightline_pattern::StixPatternChecker))
    })
}

const LIMITS: InputLimits = InputLimits {
    max_objects_per_envelope: 64,
    max_json_depth: 16,
    max_string_bytes: 4096,
    max_values_per_object: 10_000,
};

fuzz_target!(|data: &[u8]| {
    match sightline_taxii::fuzz_prepare_envelope(validator(), data, &LIMITS) {
        Ok((ok, refused)) => assert!(ok + refused <= LIMITS.max_objects_per_envelope),
        Err(e) => {
            let s = e.status().as_u16();
            assert!([400, 413, 422].contains(&s), "status {s}: {e}");
        }
    }
});
