//! One home for time, hex and base64 (issue 13 §5): the validator, the
//! pattern parser, the matcher, the stores' `date_added` and the telemetry
//! adapters read every input the same way. Before, a `payload_bin` the
//! validator accepted could not be compared by the matcher, and a leap second
//! was the next second's start in one place and the end of `:59` in another.

use proptest::prelude::*;
use serde_json::json;
use sightline_interchange::telemetry::time::{parse_iso, to_stix};
use sightline_matcher::{evaluate, Observation, Prepared};
use sightline_stix::{format_micros, Timestamp, Validator};

/// A STIX timestamp (any number of fractional digits, leap seconds included).
fn timestamp() -> impl Strategy<Value = String> {
    (
        1u32..=9999,
        1u32..=12,
        1u32..=28,
        0u32..=23,
        0u32..=59,
        0u32..=60,
        proptest::option::of("[0-9]{1,12}"),
    )
        .prop_map(|(y, mo, d, h, mi, s, frac)| {
            let frac = frac.map_or_else(String::new, |f| format!(".{f}"));
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}Z")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// STIX 2.1 §3.2 timestamps: every reader gives the same instant.
    #[test]
    fn every_reader_agrees_on_a_timestamp(text in timestamp()) {
        let ts = Timestamp::parse(&text).expect("generated timestamps are valid");
        let us = ts.micros();
        prop_assert_eq!(sightline_matcher::time::parse_micros(&text), Ok(us));
        prop_assert_eq!(sightline_store::parse_date_added(&text), Some(us));
        prop_assert_eq!(parse_iso(&text), Some(us));
        // Printing and reading back is the identity at µs precision.
        let printed = format_micros(us);
        prop_assert_eq!(&printed, &to_stix(us));
        prop_assert_eq!(&printed, &sightline_store::format_date_added(us));
        prop_assert_eq!(Timestamp::parse(&printed).map(|t| t.micros()), Ok(us));
    }

    /// STIX 2.1 §2.1 binary: what the validator accepts, the pattern parser
    /// reads and the matcher compares, byte for byte (Part 9 §9.4).
    #[test]
    fn validator_and_matcher_agree_on_base64(bytes in proptest::collection::vec(any::<u8>(), 1..24), flip in any::<u8>()) {
        let good = sightline_stix::encoding::encode_base64(&bytes);
        // The same text with its last data character changed: trailing bits
        // or a different byte, still of base64's shape.
        let mut other = good.clone().into_bytes();
        let last = other.iter().rposition(|&c| c != b'=').expect("non-empty");
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        other[last] = ALPHABET[usize::from(flip) % 64];
        let other = String::from_utf8(other).expect("ascii");
        for text in [good.as_str(), other.as_str()] {
            let decoded = sightline_stix::encoding::decode_base64(text);
            let artifact = json!({
                "type": "artifact", "spec_version": "2.1",
                "id": "artifact--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                "payload_bin": text,
            });
            let valid = !Validator::new().validate(&artifact).iter().any(|d| d.code == "E131");
            prop_assert_eq!(valid, decoded.is_some(), "validator vs decoder on {}", text);
            let Some(decoded) = decoded else { continue };
            // The matcher compares the stored text with the pattern's b'…'.
            let canonical = sightline_stix::encoding::encode_base64(&decoded);
            let p = Prepared::new(&format!("[artifact:payload_bin = b'{canonical}']")).expect("pattern");
            let obs = Observation::from_stix_objects(&[
                json!({"type": "observed-data", "spec_version": "2.1",
                       "id": "observed-data--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                       "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                       "first_observed": "2026-01-01T00:00:00Z", "last_observed": "2026-01-01T00:00:00Z",
                       "number_observed": 1, "object_refs": [artifact["id"]]}),
                artifact,
            ]).expect("observation");
            prop_assert_eq!(evaluate(&p, &obs), Ok(true), "matcher cannot compare {}", text);
        }
    }

    /// STIX 2.1 §2.4 hex: the validator's rule is the decoder's.
    #[test]
    fn validator_and_decoder_agree_on_hex(text in "[0-9a-fA-Fg ]{0,9}") {
        let file = json!({
            "type": "file", "spec_version": "2.1",
            "id": "file--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "name": "a.exe", "magic_number_hex": text,
        });
        let valid = !Validator::new().validate(&file).iter().any(|d| d.code == "E132");
        prop_assert_eq!(valid, sightline_stix::encoding::decode_hex(&text).is_some());
    }
}

#[test]
fn a_leap_second_is_the_next_seconds_start_everywhere() {
    let leap = "2016-12-31T23:59:60Z";
    let next = Timestamp::parse("2017-01-01T00:00:00Z")
        .expect("valid")
        .micros();
    assert_eq!(Timestamp::parse(leap).expect("valid").micros(), next);
    assert_eq!(parse_iso(leap), Some(next));
    assert_eq!(parse_iso("2016-12-31T23:59:60.5Z"), Some(next + 500_000));
    assert_eq!(sightline_matcher::time::parse_micros(leap), Ok(next));
    assert_eq!(sightline_store::parse_date_added(leap), Some(next));
}
