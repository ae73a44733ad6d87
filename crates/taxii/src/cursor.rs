//! `next` tokens (TAXII 2.1 §3.5): stateless keyset cursors.
//!
//! A token is URL-safe base64 (no padding) of
//! `version (1) | last date_added (8, big endian) | SHA-256(collection id)[..16]
//! | filter fingerprint[..16] | HMAC-SHA256(key, all before) (32)`.
//! The MAC is checked first, in constant time (`hmac`'s `verify_slice`), so a
//! forged or tampered token is a 400 whatever it claims; then the token must
//! belong to this collection and to the same normalised filters, else 400.
//! Being stateless, a token works on every replica sharing the key and can be
//! replayed; it never expires (it names a position, not a snapshot).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use sightline_store::DateAdded;
use subtle::ConstantTimeEq;

use crate::error::TaxiiError;

const VERSION: u8 = 1;
const BODY_LEN: usize = 1 + 8 + 16 + 16;
const TOKEN_LEN: usize = BODY_LEN + 32;

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; this cannot fail.
    <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

fn collection_hash(collection_id: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"sightline-taxii collection\n");
    h.update(collection_id.as_bytes());
    h.finalize().into()
}

/// Signs a cursor for the page after `last`.
pub(crate) fn sign(
    key: &[u8],
    last: DateAdded,
    collection_id: &str,
    fingerprint: &[u8; 32],
) -> String {
    let mut body = Vec::with_capacity(TOKEN_LEN);
    body.push(VERSION);
    body.extend_from_slice(&last.to_be_bytes());
    body.extend_from_slice(&collection_hash(collection_id)[..16]);
    body.extend_from_slice(&fingerprint[..16]);
    let mut m = mac(key);
    m.update(&body);
    body.extend_from_slice(&m.finalize().into_bytes());
    URL_SAFE_NO_PAD.encode(body)
}

/// Checks a cursor and returns the `date_added` to continue after.
pub(crate) fn verify(
    key: &[u8],
    token: &str,
    collection_id: &str,
    fingerprint: &[u8; 32],
) -> Result<DateAdded, TaxiiError> {
    let invalid = || TaxiiError::bad("next: not a valid cursor issued by this server");
    if token.len() > 4 * TOKEN_LEN {
        return Err(invalid());
    }
    let raw = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| invalid())?;
    if raw.len() != TOKEN_LEN || raw[0] != VERSION {
        return Err(invalid());
    }
    let (body, tag) = raw.split_at(BODY_LEN);
    let mut m = mac(key);
    m.update(body);
    m.verify_slice(tag).map_err(|_| invalid())?;
    let mut last = [0u8; 8];
    last.copy_from_slice(&body[1..9]);
    if !bool::from(body[9..25].ct_eq(&collection_hash(collection_id)[..16])) {
        return Err(TaxiiError::bad(
            "next: this cursor belongs to another collection or resource",
        ));
    }
    if !bool::from(body[25..41].ct_eq(&fingerprint[..16])) {
        return Err(TaxiiError::bad(
            "next: this cursor was issued for other filters; repeat the original match[...] and added_after parameters",
        ));
    }
    Ok(DateAdded::from_be_bytes(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let fp = [7u8; 32];
        let t = sign(b"k", 1_700_000_000_123_456, "c1", &fp);
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(verify(b"k", &t, "c1", &fp), Ok(1_700_000_000_123_456));
        assert!(verify(b"other key", &t, "c1", &fp).is_err());
        assert!(verify(b"k", &t, "c2", &fp).is_err());
        assert!(verify(b"k", &t, "c1", &[8u8; 32]).is_err());
        let mut bytes = URL_SAFE_NO_PAD.decode(&t).expect("b64");
        bytes[3] ^= 1;
        assert!(verify(b"k", &URL_SAFE_NO_PAD.encode(&bytes), "c1", &fp).is_err());
        for junk in ["", "!!!", "AAAA", &"A".repeat(10_000)] {
            assert!(verify(b"k", junk, "c1", &fp).is_err());
        }
    }
}
