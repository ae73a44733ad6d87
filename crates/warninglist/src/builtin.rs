//! The built-in lists: values no detection should fire on, available with no
//! download. Small on purpose; the MISP lists (`sightline warninglist
//! import`) cover far more.

use crate::{ListType, WarningList};

fn list(
    name: &str,
    description: &str,
    kind: ListType,
    attrs: &[&str],
    entries: &[&str],
) -> WarningList {
    WarningList {
        name: name.to_owned(),
        version: None,
        description: description.to_owned(),
        kind,
        list: entries.iter().map(|s| (*s).to_owned()).collect(),
        matching_attributes: attrs.iter().map(|s| (*s).to_owned()).collect(),
        category: Some("false-positive".to_owned()),
    }
}

const IP_ATTRS: &[&str] = &[
    "ip-src",
    "ip-dst",
    "domain|ip",
    "ip-src|port",
    "ip-dst|port",
];

/// Public DNS resolvers, reserved address ranges, documentation ranges and
/// the example domains.
pub fn builtin_lists() -> Vec<WarningList> {
    vec![
        list(
            "sightline: public DNS resolvers",
            "Anycast addresses of the large public DNS resolvers (Google, Cloudflare, Quad9, \
             OpenDNS, AdGuard, Verisign)",
            ListType::Cidr,
            IP_ATTRS,
            &[
                "8.8.8.8",
                "8.8.4.4",
                "2001:4860:4860::8888",
                "2001:4860:4860::8844",
                "1.1.1.1",
                "1.0.0.1",
                "2606:4700:4700::1111",
                "2606:4700:4700::1001",
                "9.9.9.9",
                "149.112.112.112",
                "2620:fe::fe",
                "2620:fe::9",
                "208.67.222.222",
                "208.67.220.220",
                "2620:119:35::35",
                "2620:119:53::53",
                "94.140.14.14",
                "94.140.15.15",
                "64.6.64.6",
                "64.6.65.6",
            ],
        ),
        list(
            "sightline: reserved IP ranges",
            "Private (RFC 1918), shared (RFC 6598), loopback, link-local, multicast, \
             benchmarking and reserved IPv4 ranges (RFC 6890); IPv6 unspecified, loopback, \
             unique-local, link-local and multicast (RFC 4291, RFC 4193)",
            ListType::Cidr,
            IP_ATTRS,
            &[
                "0.0.0.0/8",
                "10.0.0.0/8",
                "100.64.0.0/10",
                "127.0.0.0/8",
                "169.254.0.0/16",
                "172.16.0.0/12",
                "192.0.0.0/24",
                "192.168.0.0/16",
                "198.18.0.0/15",
                "224.0.0.0/4",
                "240.0.0.0/4",
                "255.255.255.255/32",
                "::/128",
                "::1/128",
                "fc00::/7",
                "fe80::/10",
                "ff00::/8",
            ],
        ),
        list(
            "sightline: documentation IP ranges",
            "Address blocks reserved for documentation (RFC 5737, RFC 3849)",
            ListType::Cidr,
            IP_ATTRS,
            &[
                "192.0.2.0/24",
                "198.51.100.0/24",
                "203.0.113.0/24",
                "2001:db8::/32",
            ],
        ),
        list(
            "sightline: example domains",
            "Domains reserved for documentation (RFC 2606, RFC 6761), with their subdomains",
            ListType::Hostname,
            &[
                "domain",
                "hostname",
                "domain|ip",
                "url",
                "email-src",
                "email-dst",
            ],
            &["example.com", "example.net", "example.org"],
        ),
    ]
}
