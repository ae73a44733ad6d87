use super::*;

fn wl(kind: ListType, entries: &[&str]) -> WarningList {
    WarningList {
        name: format!("{} list", kind.as_str()),
        version: None,
        description: String::new(),
        kind,
        list: entries.iter().map(|s| (*s).to_owned()).collect(),
        matching_attributes: Vec::new(),
        category: None,
    }
}

fn names(w: &WarningLists, v: &str) -> Vec<String> {
    w.lookup(None, v)
        .into_iter()
        .map(|i| w.lists()[i].name.clone())
        .collect()
}

#[test]
fn builtin_covers_the_usual_suspects() {
    let w = WarningLists::builtin();
    for (v, list) in [
        ("8.8.8.8", "sightline: public DNS resolvers"),
        ("2606:4700:4700::1111", "sightline: public DNS resolvers"),
        ("9.9.9.9", "sightline: public DNS resolvers"),
        ("10.20.30.40", "sightline: reserved IP ranges"),
        ("172.31.255.255", "sightline: reserved IP ranges"),
        ("127.0.0.1", "sightline: reserved IP ranges"),
        ("fe80::1", "sightline: reserved IP ranges"),
        ("169.254.169.254", "sightline: reserved IP ranges"),
        ("198.51.100.7", "sightline: documentation IP ranges"),
        ("2001:db8::1", "sightline: documentation IP ranges"),
        ("example.com", "sightline: example domains"),
        ("www.EXAMPLE.org.", "sightline: example domains"),
        (
            "http://user@a.b.example.net:8080/x?y",
            "sightline: example domains",
        ),
        ("10.0.0.0/16", "sightline: reserved IP ranges"),
    ] {
        assert_eq!(w.first(None, v), Some(list), "{v}");
    }
    for v in [
        "8.8.8.9",
        "172.32.0.1",
        "notexample.com",
        "example.com.evil.net",
        "2001:db9::1",
        "10.0.0.0/7",
    ] {
        assert_eq!(w.first(None, v), None, "{v}");
    }
    assert!(w.lists().iter().all(|l| l.skipped == 0));
}

#[test]
fn each_list_type() {
    let w = WarningLists::new([
        wl(ListType::String, &["exact.example", "1.2.3.4"]),
        wl(ListType::Substring, &["google", "tracker"]),
        wl(ListType::Hostname, &[".cdn.example", "*.static.test"]),
        wl(
            ListType::Cidr,
            &["203.0.113.0/25", "2001:db8:1::/48", "not-a-cidr", "1.2.3.4"],
        ),
        wl(ListType::Regex, &["^ad[0-9]+\\.", "/^x{2}$/", "(?<=a)b"]),
    ]);
    assert_eq!(names(&w, "exact.example"), ["string list"]);
    assert!(
        names(&w, "EXACT.example").is_empty(),
        "string lists are exact"
    );
    assert_eq!(names(&w, "www.google.com"), ["substring list"]);
    assert_eq!(names(&w, "a.cdn.example"), ["hostname list"]);
    assert_eq!(names(&w, "cdn.example"), ["hostname list"]);
    assert_eq!(names(&w, "static.test"), ["hostname list"]);
    assert!(names(&w, "xcdn.example").is_empty());
    assert_eq!(names(&w, "203.0.113.127"), ["cidr list"]);
    assert!(names(&w, "203.0.113.128").is_empty());
    assert_eq!(names(&w, "2001:db8:1:ffff::1"), ["cidr list"]);
    assert_eq!(names(&w, "1.2.3.4"), ["string list", "cidr list"]);
    assert_eq!(names(&w, "ad12.example"), ["regex list"]);
    assert_eq!(names(&w, "xx"), ["regex list"]);
    let cidr = &w.lists()[3];
    assert_eq!((cidr.entries, cidr.skipped), (3, 1));
    assert_eq!(cidr.skipped_examples[0].0, "not-a-cidr");
    // Look-behind is not in the regex crate: skipped, and said so.
    let re = &w.lists()[4];
    assert_eq!((re.entries, re.skipped), (2, 1));
}

#[test]
fn hostile_regexes_are_bounded() {
    // Huge counted repetition exceeds the size limit and is skipped; the
    // catastrophic-backtracking classic is linear in the regex crate.
    let w = WarningLists::new([wl(ListType::Regex, &["(a+)+$", "a{1000}{1000}"])]);
    assert_eq!(w.lists()[0].skipped, 1);
    let long = "a".repeat(100_000);
    assert_eq!(names(&w, &long), ["regex list"]);
    assert!(names(&w, &format!("{long}!")).is_empty());
}

#[test]
fn matching_attributes_scope_lookups() {
    let mut l = wl(ListType::String, &["d41d8cd98f00b204e9800998ecf8427e"]);
    l.matching_attributes = vec!["md5".into(), "filename|md5".into()];
    let w = WarningLists::new([l]);
    assert_eq!(
        w.lookup(Some(ValueKind::Hash), "d41d8cd98f00b204e9800998ecf8427e"),
        [0]
    );
    assert!(w
        .lookup(Some(ValueKind::Domain), "d41d8cd98f00b204e9800998ecf8427e")
        .is_empty());
    assert_eq!(ValueKind::of_sco("file", "hashes.MD5"), ValueKind::Hash);
    let w = WarningLists::builtin();
    assert!(w.lookup(Some(ValueKind::Hash), "8.8.8.8").is_empty());
    assert!(!w.lookup(Some(ValueKind::Ip), "8.8.8.8").is_empty());
}

#[test]
fn parses_misp_list_json() {
    let text = r#"{
      "description": "Event contains one or more public DNS resolvers as attribute with an IDS flag set",
      "list": ["8.8.8.8", "2001:4860:4860::8888", "9.9.9.0/24"],
      "matching_attributes": ["ip-src", "ip-dst", "domain|ip"],
      "name": "List of known IPv4 public DNS resolvers",
      "type": "cidr",
      "version": 20240115,
      "category": "false-positive"
    }"#;
    let l = WarningList::from_json(text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(l.kind, ListType::Cidr);
    assert_eq!(l.version, Some(serde_json::json!(20240115)));
    let back = WarningList::from_json(&serde_json::to_string(&l).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, l);
    assert!(matches!(
        WarningList::from_json(r#"{"name":"x","type":"bogus","list":[]}"#),
        Err(WarninglistError::Format(_))
    ));
    assert!(matches!(
        WarningList::from_json(r#"{"name":" ","list":[]}"#),
        Err(WarninglistError::NoName)
    ));
    assert!(matches!(
        WarningList::from_json("[]"),
        Err(WarninglistError::Format(_))
    ));
}

#[test]
fn guessing_the_kind_keeps_other_lists_out() {
    for (v, k) in [
        ("10.1.2.3", ValueKind::Ip),
        ("2001:db8::/32", ValueKind::Ip),
        ("http://a.example/x", ValueKind::Url),
        ("a@b.example", ValueKind::Email),
        ("d41d8cd98f00b204e9800998ecf8427e", ValueKind::Hash),
        ("www.example.com", ValueKind::Domain),
        ("+1 555 0100", ValueKind::Other),
    ] {
        assert_eq!(ValueKind::guess(v), k, "{v}");
    }
    // A phone-number regex list (as MISP has) must not suppress an address.
    let mut l = wl(ListType::Regex, &["^[0-9.+ -]{7,}$"]);
    l.matching_attributes = vec!["phone-number".into()];
    let w = WarningLists::new([l]);
    assert_eq!(w.lookup(None, "10.1.2.3"), [0]);
    assert!(w
        .lookup(Some(ValueKind::guess("10.1.2.3")), "10.1.2.3")
        .is_empty());
}
