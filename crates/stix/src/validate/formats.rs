//! Hand-written format checks (no regexes): URIs, IP/MAC addresses, domain
//! names, e-mail addresses, base64, hex, MIME types, character sets, CPE 2.3,
//! ISO 639-2 codes and external-reference ids.

/// RFC 3986 `URI` (absolute, with a scheme), ASCII only. This mirrors the
/// `format: uri` check the OASIS schemas apply (rfc3987, rule `URI`).
pub fn is_uri(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(colon) = b.iter().position(|&c| c == b':') else {
        return false;
    };
    let scheme = &b[..colon];
    if scheme.is_empty()
        || !scheme[0].is_ascii_alphabetic()
        || !scheme
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
    {
        return false;
    }
    let rest = &b[colon + 1..];
    // All remaining bytes: unreserved / sub-delims / ":" "@" "/" "?" "#" / pct-encoded,
    // and "[" "]" only around an IP literal host.
    let mut i = 0;
    while i < rest.len() {
        let c = rest[i];
        if c == b'%' {
            if !(rest.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && rest.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return false;
            }
            i += 3;
            continue;
        }
        if !URI_CHAR[c as usize] {
            return false;
        }
        i += 1;
    }
    // Authority: `//` userinfo@host:port
    let (hier, _) = split_at_any(rest, b"?#");
    if let Some(auth_rest) = hier.strip_prefix(b"//") {
        let (authority, path) = split_at_any(auth_rest, b"/");
        let host_port = match authority.iter().rposition(|&c| c == b'@') {
            Some(at) => {
                if authority[..at].iter().any(|&c| c == b'[' || c == b']') {
                    return false;
                }
                &authority[at + 1..]
            }
            None => authority,
        };
        let port = if host_port.first() == Some(&b'[') {
            let Some(close) = host_port.iter().position(|&c| c == b']') else {
                return false;
            };
            let lit = &host_port[1..close];
            if lit.is_empty() || !(lit.contains(&b':') || lit[0] == b'v' || lit[0] == b'V') {
                return false;
            }
            if lit.iter().any(|&c| c == b'[' || c == b'/') {
                return false;
            }
            match &host_port[close + 1..] {
                [] => &[][..],
                [b':', p @ ..] => p,
                _ => return false,
            }
        } else {
            if host_port.iter().any(|&c| c == b'[' || c == b']') {
                return false;
            }
            match host_port.iter().position(|&c| c == b':') {
                Some(p) => &host_port[p + 1..],
                None => &[][..],
            }
        };
        if !port.iter().all(u8::is_ascii_digit) {
            return false;
        }
        if path.iter().any(|&c| c == b'[' || c == b']') {
            return false;
        }
    } else if hier.iter().any(|&c| c == b'[' || c == b']') {
        return false;
    }
    // "[" and "]" are not allowed in query or fragment either (RFC 3986 §3.4, §3.5).
    let tail = &rest[hier.len()..];
    let tail_ok = !tail.iter().any(|&c| c == b'[' || c == b']');
    // Only one '#'.
    tail_ok && tail.iter().filter(|&&c| c == b'#').count() <= 1
}

/// The bytes RFC 3986 allows in a URI outside percent-encodings.
static URI_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric();
        c += 1;
    }
    let extra = b"-._~!$&'()*+,;=:@/?#[]";
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
};

fn split_at_any<'a>(b: &'a [u8], set: &[u8]) -> (&'a [u8], &'a [u8]) {
    match b.iter().position(|c| set.contains(c)) {
        Some(p) => b.split_at(p),
        None => (b, &[]),
    }
}

/// An IPv4 address with an optional `/prefix` (0–32) (STIX 2.1 §6.8).
pub fn is_ipv4_cidr(s: &str) -> bool {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    if let Some(p) = prefix {
        if p.is_empty()
            || p.len() > 2
            || !p.bytes().all(|c| c.is_ascii_digit())
            || p.parse::<u8>().map_or(true, |n| n > 32)
        {
            return false;
        }
    }
    addr.parse::<std::net::Ipv4Addr>().is_ok()
}

/// An IPv6 address with an optional `/prefix` (0–128) (STIX 2.1 §6.9).
pub fn is_ipv6_cidr(s: &str) -> bool {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    if let Some(p) = prefix {
        if p.is_empty()
            || p.len() > 3
            || !p.bytes().all(|c| c.is_ascii_digit())
            || p.parse::<u8>().map_or(true, |n| n > 128)
        {
            return false;
        }
    }
    addr.parse::<std::net::Ipv6Addr>().is_ok()
}

/// A MAC-48/EUI-64 address, lowercase, colon-delimited, two digits per octet (STIX 2.1 §6.10).
pub fn is_mac(s: &str) -> bool {
    let b = s.as_bytes();
    let n = (b.len() + 1) / 3;
    (b.len() == 17 || b.len() == 23)
        && (0..n).all(|i| {
            let o = &b[i * 3..i * 3 + 2];
            o.iter()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
                && (i + 1 == n || b[i * 3 + 2] == b':')
        })
}

/// A domain name: 1–253 characters, no whitespace or control characters,
/// non-empty labels (internationalised names are allowed).
pub fn is_domain_name(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty()
        && s.len() <= 253
        && s.split('.')
            .all(|l| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-'))
        && s.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"/\\:@[]()<>\"',;".contains(c))
}

/// An RFC 5322 addr-spec, loosely: `local@domain` without whitespace.
pub fn is_email_addr(s: &str) -> bool {
    match s.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !local.chars().any(|c| c.is_whitespace() || c.is_control())
                && is_domain_name(domain)
        }
        None => false,
    }
}

/// RFC 4648 base64 (the standard alphabet with padding; STIX 2.1 §2.1
/// `binary`): whatever [`crate::encoding::decode_base64`] decodes.
pub fn is_base64(s: &str) -> bool {
    crate::encoding::decode_base64(s).is_some()
}

/// An even number of hex digits (STIX 2.1 §2.4 `hex`).
pub fn is_hex(s: &str) -> bool {
    crate::encoding::decode_hex(s).is_some()
}

/// `type/subtype` with an IANA top-level type (the OASIS validator's offline check).
pub fn is_mime_type(s: &str) -> bool {
    let Some((top, sub)) = s.split_once('/') else {
        return false;
    };
    matches!(
        top,
        "application"
            | "audio"
            | "font"
            | "image"
            | "message"
            | "model"
            | "multipart"
            | "text"
            | "video"
    ) && !sub.is_empty()
        && sub
            .bytes()
            .take_while(|&c| c != b';')
            .all(|c| c.is_ascii_alphanumeric() || b".+_-".contains(&c))
}

/// An IANA character-set name: `[a-zA-Z0-9_()-]+` (with `:`/`.` used by registered names).
pub fn is_charset(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"_()-:.+".contains(&c))
}

/// CPE 2.3 formatted string: `cpe:2.3:` then 11 more colon-separated components
/// (backslash escapes allowed), part one of `a`, `o`, `h` or `*`.
pub fn is_cpe23(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("cpe:2.3:") else {
        return false;
    };
    let mut parts = Vec::with_capacity(11);
    let mut start = 0;
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b':' => {
                parts.push(&rest[start..i]);
                start = i + 1;
                i += 1;
            }
            c if c.is_ascii_graphic() => i += 1,
            _ => return false,
        }
    }
    if start <= rest.len() {
        parts.push(rest.get(start..).unwrap_or(""));
    }
    parts.len() == 11
        && matches!(parts[0], "a" | "o" | "h" | "*" | "-")
        && parts.iter().all(|p| !p.is_empty())
}

/// An ISO 639 code as the OASIS list holds them: two or three lowercase letters
/// (optionally with a `-XX` region).
pub fn is_iso639_2(s: &str) -> bool {
    let (lang, region) = match s.split_once('-') {
        Some((l, r)) => (l, Some(r)),
        None => (s, None),
    };
    (2..=3).contains(&lang.len())
        && lang.bytes().all(|c| c.is_ascii_lowercase())
        && region.is_none_or(|r| {
            (2..=3).contains(&r.len()) && r.bytes().all(|c| c.is_ascii_alphanumeric())
        })
}

/// `CVE-YYYY-NNNN…` (4 digits, or more without a leading zero).
pub fn is_cve_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, num)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|c| c.is_ascii_digit())
        && num.len() >= 4
        && num.bytes().all(|c| c.is_ascii_digit())
        && (num.len() == 4 || !num.starts_with('0'))
}

/// `CAPEC-n`.
pub fn is_capec_id(s: &str) -> bool {
    s.strip_prefix("CAPEC-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
}

/// The required form of a hash value for the algorithms whose form is fixed
/// (hex digest lengths; `SSDEEP`), else `None`.
pub fn hash_value_ok(algo: &str, v: &str) -> Option<bool> {
    let hex_len = |n: usize| v.len() == n && v.bytes().all(|c| c.is_ascii_hexdigit());
    Some(match algo {
        "MD5" => hex_len(32),
        "SHA-1" | "RIPEMD-160" => hex_len(40),
        "SHA-224" | "SHA3-224" => hex_len(56),
        "SHA-256" | "SHA3-256" => hex_len(64),
        "SHA-384" | "SHA3-384" => hex_len(96),
        "SHA-512" | "SHA3-512" | "WHIRLPOOL" => hex_len(128),
        "SSDEEP" | "ssdeep" => {
            (1..=148).contains(&v.len())
                && v.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"/+:.".contains(&c))
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// STIX 2.1 §6.14 url `value`: an RFC 3986 URI; defanged values are not URIs.
    #[test]
    fn uris() {
        for ok in [
            "http://example.com/",
            "https://a.b/c?d=e#f",
            "http://[2001:db8::1]:8080/x",
            "http://84.38.133.149/img/icon.gif",
            "mailto:a@b.c",
            "urn:isbn:0451450523",
            "https://x.org/%20a",
        ] {
            assert!(is_uri(ok), "{ok}");
        }
        for bad in [
            "http://84.38.133[.]149/img/icon.gif",
            "hxxps://ptpb[.]pw/OAZG",
            "tunnel.us.ngrok[.]com",
            "4a5ikol.ru\u{a0}",
            "korgn.su.lennut[.]com ",
            "http://a b",
            "",
            "1http://x",
            "http://x/%zz",
            "http://x/%",
        ] {
            assert!(!is_uri(bad), "{bad:?}");
        }
    }

    #[test]
    fn addresses() {
        assert!(is_ipv4_cidr("198.51.100.3") && is_ipv4_cidr("10.0.0.0/8"));
        assert!(
            !is_ipv4_cidr("10.0.0.0/33") && !is_ipv4_cidr("256.1.1.1") && !is_ipv4_cidr("1.2.3")
        );
        assert!(is_ipv6_cidr("2001:db8::/32") && !is_ipv6_cidr("2001:db8::/129"));
        assert!(
            is_mac("d2:fb:49:24:37:18") && !is_mac("D2:FB:49:24:37:18") && !is_mac("d2fb49243718")
        );
        assert!(
            is_domain_name("example.com")
                && !is_domain_name("example.com ")
                && !is_domain_name("a..b")
        );
        assert!(is_email_addr("john@example.com") && !is_email_addr("john"));
    }

    #[test]
    fn encodings() {
        assert!(is_base64("aGVsbG8=") && !is_base64("aGVsbG8") && !is_base64("a$=="));
        assert!(is_hex("00ff") && !is_hex("0ff") && !is_hex("zz"));
        assert!(is_mime_type("application/zip") && !is_mime_type("zip"));
        assert!(is_cpe23("cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*"));
        assert!(!is_cpe23("cpe:/a:microsoft:word:2000"));
        assert!(is_iso639_2("eng") && is_iso639_2("en") && !is_iso639_2("english"));
        assert!(
            is_cve_id("CVE-2016-1234")
                && is_cve_id("CVE-2016-12345")
                && !is_cve_id("CVE-2016-0123x")
        );
        assert!(!is_cve_id("CVE-2016-01234"));
        assert!(is_capec_id("CAPEC-163") && !is_capec_id("CAPEC-"));
        assert_eq!(
            hash_value_ok("MD5", "d41d8cd98f00b204e9800998ecf8427e"),
            Some(true)
        );
        assert_eq!(hash_value_ok("MD5", "xyz"), Some(false));
        assert_eq!(hash_value_ok("x_custom", "xyz"), None);
    }
}
