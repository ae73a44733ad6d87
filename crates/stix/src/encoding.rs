//! STIX 2.1 `hex` (§2.4) and `binary` (§2.1, RFC 4648 base64) values: the
//! one decoder the validator, the pattern parser and the matcher share, so a
//! value that passes validation is a value the matcher can compare.

use base64::Engine;

/// Standard alphabet, padding required; trailing bits that are not zero are
/// accepted (as most encoders' consumers do): rejecting them in the matcher
/// only, as before, made valid `payload_bin` values uncomparable.
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireCanonical),
);

/// The bytes of an even number of hex digits (either case); `None` otherwise.
pub fn decode_hex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s).ok()
}

/// The bytes of an RFC 4648 base64 value (padded, standard alphabet); `None`
/// otherwise. The empty string is the empty value.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    BASE64.decode(s).ok()
}

/// Base64 text of `bytes`, padded.
pub fn encode_base64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        assert_eq!(decode_hex("00ffAb"), Some(vec![0, 255, 0xab]));
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("zz"), None);
        assert_eq!(decode_base64("YQ=="), Some(b"a".to_vec()));
        assert_eq!(decode_base64("YR=="), Some(b"a".to_vec()), "trailing bits");
        assert_eq!(decode_base64("YQ="), None);
        assert_eq!(decode_base64("YQ"), None, "padding is required");
        assert_eq!(decode_base64("!!!!"), None);
        assert_eq!(decode_base64(""), Some(Vec::new()));
    }

    proptest! {
        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(decode_base64(&encode_base64(&bytes)), Some(bytes.clone()));
            prop_assert_eq!(decode_hex(&hex::encode(&bytes)), Some(bytes));
        }
    }
}
