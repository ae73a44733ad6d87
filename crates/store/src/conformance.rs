//! The one conformance suite every backend passes.
//!
//! Each check is a `pub fn(&dyn Store)` that panics on a violation, so it reads
//! like the contract it checks. [`conformance_tests!`](crate::conformance_tests)
//! expands to one `#[test]` per check for a backend:
//!
//! ```text
//! sightline_store::conformance_tests!(|| TempSqlite::new());
//! ```
//!
//! where the closure returns a fresh, empty [`Fixture`] (a store plus whatever
//! must live as long as it, such as a temporary directory).
//!
//! Only behaviour every backend can honour is asserted: search checks which
//! ids match distinctive words, not the order of hits.

#![allow(clippy::missing_panics_doc)]

use std::collections::HashSet;

use serde_json::{json, Value};
use sightline_stix::ObjectMeta;

use crate::accounts::{ApiToken, User};
use crate::{
    CollectionInfo, DateAdded, NewObject, ObjectQuery, PutOutcome, Store, StoreError, StoredObject,
    StoredStatus, VersionFilter,
};

/// A fresh, empty store for one check, plus whatever it needs to stay alive.
pub trait Fixture {
    fn store(&self) -> &dyn Store;
}

impl Fixture for crate::MemoryStore {
    fn store(&self) -> &dyn Store {
        self
    }
}

/// Expands to one `#[test]` per conformance check. The argument is an
/// expression callable with no arguments that returns a fresh [`Fixture`].
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@tests $make;
            put_and_duplicate, reimport_is_idempotent, date_added_strictly_increasing,
            versions_and_version_filters, versions_listing, field_filters, added_after_and_cursor,
            paging_in_sevens, paging_while_adding, limit_zero_and_more_flag,
            collections_crud, collection_membership, collection_last_is_within_collection,
            remove_from_collection, remove_collection_keeps_versions, rollback_on_drop,
            uncommitted_is_invisible, raw_is_byte_exact, external_ids, search, search_input_never_errors,
            stats, revoked, relationships, check_is_clean,
            accounts_users, accounts_tokens, accounts_generation, accounts_token_expiry_and_use,
            statuses_with_objects, statuses_expire, statuses_of_root, query_each_matches_query, nul_bytes_find_nothing,
            isolation_read_across, isolation_no_poisoning, isolation_identical_bytes_share,
            isolation_conflict_in_collection, isolation_conflict_without_collection,
            isolation_variants_keep_store_wide_latest, isolation_sco, isolation_remove_variant,
            filtered_paging, nul_in_strings_round_trips, reformatted_json_is_a_duplicate,
            referrers
        );
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let fixture = ($make)();
                $crate::conformance::$name($crate::conformance::Fixture::store(&fixture));
            }
        )*
    };
}

// ---------------------------------------------------------------- helpers

/// An object to put: metadata extracted from `v`, raw text its compact JSON.
pub fn obj(v: &Value) -> NewObject {
    raw_obj(&v.to_string())
}

/// An object to put from its exact JSON text.
pub fn raw_obj(raw: &str) -> NewObject {
    let v: Value = serde_json::from_str(raw).expect("test object is JSON");
    let meta = ObjectMeta::extract(&v).expect("test object has valid metadata");
    NewObject {
        meta,
        raw: raw.to_owned(),
    }
}

/// A deterministic STIX id: `ty--<UUIDv4 numbered n>`.
pub fn sid(ty: &str, n: u64) -> String {
    format!("{ty}--{:08x}-0000-4000-8000-{:012x}", n >> 16, n & 0xffff)
}

/// A timestamp `n` seconds into 2020 (n < 86400).
pub fn ts(n: u32) -> String {
    format!(
        "2020-01-01T{:02}:{:02}:{:02}.000Z",
        n / 3600,
        (n / 60) % 60,
        n % 60
    )
}

/// An SDO version: `ty` object number `n`, modified at second `m`.
pub fn sdo(ty: &str, n: u64, m: u32) -> NewObject {
    obj(&json!({
        "type": ty, "spec_version": "2.1", "id": sid(ty, n),
        "created": ts(0), "modified": ts(m), "name": format!("{ty} {n}")
    }))
}

fn put_all(s: &dyn Store, objs: &[NewObject], coll: Option<&str>) -> Vec<PutOutcome> {
    let mut t = s.begin().expect("begin");
    let out = objs.iter().map(|o| t.put(o, coll).expect("put")).collect();
    t.commit().expect("commit");
    out
}

fn put1(s: &dyn Store, o: &NewObject, coll: Option<&str>) -> PutOutcome {
    put_all(s, std::slice::from_ref(o), coll)[0]
}

fn added(o: PutOutcome) -> DateAdded {
    match o {
        PutOutcome::Added { date_added } => date_added,
        other => panic!("expected Added, got {other:?}"),
    }
}

fn dup(o: PutOutcome) -> DateAdded {
    match o {
        PutOutcome::Duplicate { date_added } => date_added,
        other => panic!("expected Duplicate, got {other:?}"),
    }
}

fn q_all() -> ObjectQuery {
    ObjectQuery {
        versions: VersionFilter::all(),
        limit: 100_000,
        ..ObjectQuery::default()
    }
}

fn with_versions(first: bool, last: bool, at: &[&str]) -> ObjectQuery {
    ObjectQuery {
        versions: VersionFilter {
            first,
            last,
            all: false,
            at: at.iter().map(|s| (*s).to_owned()).collect(),
        },
        limit: 100_000,
        ..ObjectQuery::default()
    }
}

fn run(s: &dyn Store, q: &ObjectQuery) -> Vec<StoredObject> {
    let p = s.query(q).expect("query");
    assert!(!p.more, "expected one page");
    assert_ascending(&p.items);
    p.items
}

fn assert_ascending(items: &[StoredObject]) {
    for w in items.windows(2) {
        assert!(
            w[0].date_added < w[1].date_added,
            "not ascending by date_added: {w:?}"
        );
    }
}

/// `(id, version)` of each item, in order.
fn keys(items: &[StoredObject]) -> Vec<(String, Option<String>)> {
    items
        .iter()
        .map(|o| (o.id.clone(), o.version.clone()))
        .collect()
}

fn key(id: &str, m: u32) -> (String, Option<String>) {
    (id.to_owned(), Some(ts(m)))
}

fn vkey(m: u32) -> String {
    let t = ts(m);
    sightline_stix::Timestamp::parse(&t)
        .expect("valid")
        .sort_key()
}

fn collection(s: &dyn Store, n: u64, title: &str, alias: Option<&str>) -> CollectionInfo {
    let c = CollectionInfo {
        id: format!("{:08x}-aaaa-4bbb-8ccc-{:012x}", n, n),
        title: title.to_owned(),
        description: Some(format!("{title} description")),
        alias: alias.map(str::to_owned),
        media_types: vec!["application/stix+json;version=2.1".to_owned()],
    };
    s.create_collection(&c).expect("create collection");
    c
}

/// Pages through `q` with `limit`, returning every item and checking the
/// cursor contract on the way.
fn page_all(s: &dyn Store, q: &ObjectQuery, limit: usize) -> Vec<StoredObject> {
    let mut q = ObjectQuery { limit, ..q.clone() };
    let mut out: Vec<StoredObject> = Vec::new();
    for _ in 0..100_000 {
        let p = s.query(&q).expect("query");
        assert!(p.items.len() <= limit);
        if p.more {
            assert_eq!(p.items.len(), limit, "a page with more must be full");
        }
        out.extend(p.items.iter().cloned());
        match p.next_cursor() {
            Some(c) => q.after = Some(c),
            None => return out,
        }
    }
    panic!("paging did not terminate");
}

// ---------------------------------------------------------------- checks

pub fn put_and_duplicate(s: &dyn Store) {
    let a = sdo("malware", 1, 10);
    let mut t = s.begin().expect("begin");
    let d = added(t.put(&a, None).expect("put"));
    // A duplicate within the same transaction.
    assert_eq!(dup(t.put(&a, None).expect("put")), d);
    t.commit().expect("commit");
    // And in a later one; different raw text is a conflict: no rewrite.
    let mut changed = a.clone();
    changed.raw = changed.raw.replace("malware 1", "renamed");
    assert_eq!(put1(s, &changed, None), PutOutcome::Conflict);
    assert_eq!(dup(put1(s, &a, None)), d);
    let items = run(s, &q_all());
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].raw, a.raw);
    assert_eq!(items[0].date_added, d);
    assert_eq!(items[0].id, a.meta.id);
    assert_eq!(items[0].ty, "malware");
    assert_eq!(items[0].spec_version, "2.1");
    assert_eq!(items[0].version.as_deref(), Some(ts(10).as_str()));
    assert_eq!(items[0].version_key, vkey(10));
    assert!(!items[0].revoked);
    // The same instant written differently is the same version (so other
    // bytes under it: a conflict, not a second version).
    let mut v = serde_json::from_str::<Value>(&a.raw).expect("json");
    v["modified"] = json!("2020-01-01T00:00:10Z");
    assert_eq!(put1(s, &obj(&v), None), PutOutcome::Conflict);
    assert_eq!(s.stats().expect("stats").versions, 1);
}

pub fn reimport_is_idempotent(s: &dyn Store) {
    let objs: Vec<NewObject> = (0..20)
        .map(|n| sdo("indicator", n, 5 + (n as u32 % 3)))
        .collect();
    let first = put_all(s, &objs, None);
    let before = s.stats().expect("stats");
    let all_before = run(s, &q_all());
    let second = put_all(s, &objs, None);
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(dup(*b), added(*a));
    }
    assert_eq!(s.stats().expect("stats"), before);
    assert_eq!(run(s, &q_all()), all_before);
}

pub fn date_added_strictly_increasing(s: &dyn Store) {
    let mut last = i64::MIN;
    for n in 0..30 {
        let mut t = s.begin().expect("begin");
        for m in 0..3 {
            let d = added(t.put(&sdo("tool", n, m), None).expect("put"));
            assert!(d > last, "date_added {d} not after {last}");
            last = d;
        }
        t.commit().expect("commit");
    }
}

pub fn versions_and_version_filters(s: &dyn Store) {
    let a = sid("malware", 1);
    let b = sid("tool", 2);
    // A's versions arrive out of order: 20, 30, 10.
    put_all(s, &[sdo("malware", 1, 20), sdo("malware", 1, 30)], None);
    put_all(s, &[sdo("tool", 2, 5)], None);
    let sco =
        obj(&json!({"type": "ipv4-addr", "id": sid("ipv4-addr", 3), "value": "198.51.100.3"}));
    put_all(s, &[sdo("malware", 1, 10), sco.clone()], None);
    // An SCO without timestamps has one version only: other bytes under it
    // are a conflict store-wide.
    let mut other = sco.clone();
    other.raw = other.raw.replace("198.51.100.3", "198.51.100.4");
    assert_eq!(put1(s, &other, None), PutOutcome::Conflict);
    let c = sco.meta.id.clone();
    let c_key = (c.clone(), None);

    assert_eq!(
        keys(&run(s, &q_all())),
        vec![
            key(&a, 20),
            key(&a, 30),
            key(&b, 5),
            key(&a, 10),
            c_key.clone()
        ]
    );
    assert_eq!(
        keys(&run(
            s,
            &ObjectQuery {
                limit: 100,
                ..ObjectQuery::default()
            }
        )),
        vec![key(&a, 30), key(&b, 5), c_key.clone()]
    );
    assert_eq!(
        keys(&run(s, &with_versions(false, true, &[]))),
        vec![key(&a, 30), key(&b, 5), c_key.clone()]
    );
    assert_eq!(
        keys(&run(s, &with_versions(true, false, &[]))),
        vec![key(&b, 5), key(&a, 10), c_key.clone()]
    );
    assert_eq!(
        keys(&run(s, &with_versions(true, true, &[]))),
        vec![key(&a, 30), key(&b, 5), key(&a, 10), c_key.clone()]
    );
    assert_eq!(
        keys(&run(s, &with_versions(false, false, &[&vkey(20)]))),
        vec![key(&a, 20)]
    );
    assert_eq!(
        keys(&run(
            s,
            &with_versions(false, false, &[&vkey(20), &vkey(5)])
        )),
        vec![key(&a, 20), key(&b, 5)]
    );
    assert_eq!(
        keys(&run(s, &with_versions(false, true, &[&vkey(20)]))),
        vec![key(&a, 20), key(&a, 30), key(&b, 5), c_key.clone()]
    );
    assert_eq!(
        keys(&run(s, &with_versions(false, false, &[""]))),
        vec![c_key]
    );
    // An empty filter matches nothing.
    assert!(run(s, &with_versions(false, false, &[])).is_empty());
    // A newer version moves "last".
    put1(s, &sdo("malware", 1, 40), None);
    let last = run(
        s,
        &ObjectQuery {
            ids: vec![a.clone()],
            ..ObjectQuery::default()
        },
    );
    assert_eq!(keys(&last), vec![key(&a, 40)]);
    let first = run(
        s,
        &ObjectQuery {
            ids: vec![a.clone()],
            ..with_versions(true, false, &[])
        },
    );
    assert_eq!(keys(&first), vec![key(&a, 10)]);
}

pub fn versions_listing(s: &dyn Store) {
    let a = sid("malware", 1);
    put_all(
        s,
        &[
            sdo("malware", 1, 20),
            sdo("malware", 1, 30),
            sdo("malware", 1, 10),
        ],
        None,
    );
    let vs = s.versions(&a, None).expect("versions");
    assert_eq!(keys(&vs), vec![key(&a, 10), key(&a, 20), key(&a, 30)]);
    assert!(
        vs[0].date_added > vs[1].date_added,
        "date_added is when stored, not version order"
    );
    assert!(s
        .versions(&sid("malware", 99), None)
        .expect("versions")
        .is_empty());
    assert!(matches!(
        s.versions(&a, Some("no-such")),
        Err(StoreError::NoSuchCollection { .. })
    ));
}

pub fn field_filters(s: &dyn Store) {
    let ind = sdo("indicator", 1, 1);
    let mal = sdo("malware", 2, 1);
    let old = obj(
        &json!({"type": "malware", "spec_version": "2.0", "id": sid("malware", 3), "created": ts(1), "modified": ts(1)}),
    );
    put_all(s, &[ind.clone(), mal.clone(), old.clone()], None);
    let ids = |q: ObjectQuery| -> Vec<String> { run(s, &q).into_iter().map(|o| o.id).collect() };
    assert_eq!(
        ids(ObjectQuery {
            types: vec!["malware".into()],
            ..q_all()
        }),
        vec![mal.meta.id.clone(), old.meta.id.clone()]
    );
    assert_eq!(
        ids(ObjectQuery {
            types: vec!["malware".into(), "indicator".into()],
            ..q_all()
        })
        .len(),
        3
    );
    assert_eq!(
        ids(ObjectQuery {
            ids: vec![ind.meta.id.clone(), old.meta.id.clone()],
            ..q_all()
        }),
        vec![ind.meta.id.clone(), old.meta.id.clone()]
    );
    assert_eq!(
        ids(ObjectQuery {
            spec_versions: vec!["2.0".into()],
            ..q_all()
        }),
        vec![old.meta.id.clone()]
    );
    assert_eq!(
        ids(ObjectQuery {
            types: vec!["malware".into()],
            spec_versions: vec!["2.1".into()],
            ..q_all()
        }),
        vec![mal.meta.id.clone()]
    );
    assert!(ids(ObjectQuery {
        types: vec!["indicator".into()],
        ids: vec![mal.meta.id.clone()],
        ..q_all()
    })
    .is_empty());
    assert!(ids(ObjectQuery {
        types: vec!["no-such-type".into()],
        ..q_all()
    })
    .is_empty());
}

pub fn added_after_and_cursor(s: &dyn Store) {
    let outs = put_all(
        s,
        &(0..6).map(|n| sdo("tool", n, 1)).collect::<Vec<_>>(),
        None,
    );
    let d: Vec<DateAdded> = outs.into_iter().map(added).collect();
    let after = |q: ObjectQuery| -> Vec<DateAdded> {
        run(s, &q).into_iter().map(|o| o.date_added).collect()
    };
    assert_eq!(
        after(ObjectQuery {
            added_after: Some(d[2]),
            ..q_all()
        }),
        d[3..].to_vec()
    );
    assert_eq!(
        after(ObjectQuery {
            after: Some(d[3]),
            ..q_all()
        }),
        d[4..].to_vec()
    );
    assert_eq!(
        after(ObjectQuery {
            added_after: Some(d[1]),
            after: Some(d[3]),
            ..q_all()
        }),
        d[4..].to_vec()
    );
    assert_eq!(
        after(ObjectQuery {
            added_after: Some(d[4]),
            after: Some(d[1]),
            ..q_all()
        }),
        d[5..].to_vec()
    );
    assert_eq!(
        after(ObjectQuery {
            added_after: Some(d[0] - 1),
            ..q_all()
        }),
        d.clone()
    );
    assert!(after(ObjectQuery {
        added_after: Some(d[5]),
        ..q_all()
    })
    .is_empty());
}

fn many(s: &dyn Store, coll: Option<&str>) {
    // 60 objects, every fifth with three versions, in several transactions.
    for chunk in 0..4u64 {
        let mut objs = Vec::new();
        for n in chunk * 15..(chunk + 1) * 15 {
            objs.push(sdo("indicator", n, 1));
            if n % 5 == 0 {
                objs.push(sdo("indicator", n, 3));
                objs.push(sdo("indicator", n, 2));
            }
        }
        put_all(s, &objs, coll);
    }
}

pub fn paging_in_sevens(s: &dyn Store) {
    many(s, None);
    let c = collection(s, 1, "Paged", Some("paged"));
    many(s, Some("paged"));
    for coll in [None, Some(c.id.clone()), Some("paged".to_owned())] {
        for q in [
            q_all(),
            with_versions(false, true, &[]),
            with_versions(true, false, &[]),
            with_versions(true, true, &[]),
        ] {
            let q = ObjectQuery {
                collection: coll.clone(),
                ..q
            };
            let whole = run(s, &q);
            let paged = page_all(s, &q, 7);
            assert_eq!(
                paged, whole,
                "paging in sevens differs from one page ({coll:?}, {:?})",
                q.versions
            );
        }
    }
    assert_eq!(run(s, &q_all()).len(), 84);
    assert_eq!(run(s, &with_versions(false, true, &[])).len(), 60);
}

pub fn paging_while_adding(s: &dyn Store) {
    many(s, None);
    let before: Vec<StoredObject> = run(s, &q_all());
    let mut q = ObjectQuery {
        limit: 7,
        ..q_all()
    };
    let mut seen: Vec<StoredObject> = Vec::new();
    let mut n = 1000;
    loop {
        let p = s.query(&q).expect("query");
        seen.extend(p.items.iter().cloned());
        // Between pages: a new object and a new version of an old one.
        put_all(
            s,
            &[
                sdo("indicator", n, 1),
                sdo("indicator", n - 1000, 50 + (n as u32 - 1000)),
            ],
            None,
        );
        n += 1;
        match p.next_cursor() {
            Some(c) => q.after = Some(c),
            None => break,
        }
        assert!(n < 2000, "paging did not terminate");
    }
    assert_ascending(&seen);
    let mut uniq = HashSet::new();
    for o in &seen {
        assert!(
            uniq.insert((o.id.clone(), o.version_key.clone())),
            "repeated {o:?}"
        );
    }
    for o in &before {
        assert!(
            uniq.contains(&(o.id.clone(), o.version_key.clone())),
            "skipped {o:?}"
        );
    }
    // Everything added before the last page was read has been seen too.
    assert_eq!(seen.len(), run(s, &q_all()).len() - 2);
}

pub fn limit_zero_and_more_flag(s: &dyn Store) {
    put_all(
        s,
        &(0..3).map(|n| sdo("tool", n, 1)).collect::<Vec<_>>(),
        None,
    );
    let p = s
        .query(&ObjectQuery {
            limit: 3,
            ..q_all()
        })
        .expect("query");
    assert_eq!((p.items.len(), p.more), (3, false));
    let p = s
        .query(&ObjectQuery {
            limit: 2,
            ..q_all()
        })
        .expect("query");
    assert_eq!((p.items.len(), p.more), (2, true));
    let p = s
        .query(&ObjectQuery {
            limit: 0,
            ..q_all()
        })
        .expect("query");
    assert!(p.items.is_empty());
    let p = s.query(&ObjectQuery {
        collection: Some("nope".into()),
        ..q_all()
    });
    assert!(matches!(p, Err(StoreError::NoSuchCollection { .. })));
}

pub fn collections_crud(s: &dyn Store) {
    assert!(s.collections().expect("list").is_empty());
    let b = collection(s, 2, "Beta", Some("beta"));
    let a = collection(s, 1, "Alpha", None);
    assert_eq!(s.collections().expect("list"), vec![a.clone(), b.clone()]);
    assert_eq!(s.collection(&b.id).expect("get"), Some(b.clone()));
    assert_eq!(s.collection("beta").expect("get"), Some(b.clone()));
    assert_eq!(s.collection("gamma").expect("get"), None);
    let same_id = CollectionInfo {
        alias: Some("other".into()),
        ..a.clone()
    };
    assert!(matches!(
        s.create_collection(&same_id),
        Err(StoreError::CollectionExists { .. })
    ));
    let same_alias = CollectionInfo {
        id: "00000003-aaaa-4bbb-8ccc-000000000003".into(),
        ..b.clone()
    };
    assert!(matches!(
        s.create_collection(&same_alias),
        Err(StoreError::CollectionExists { .. })
    ));
    let bad_id = CollectionInfo {
        id: "not-a-uuid".into(),
        alias: None,
        ..a.clone()
    };
    assert!(matches!(
        s.create_collection(&bad_id),
        Err(StoreError::Invalid(_))
    ));
    let mut t = s.begin().expect("begin");
    assert!(matches!(
        t.put(&sdo("tool", 1, 1), Some("gamma")),
        Err(StoreError::NoSuchCollection { .. })
    ));
    drop(t);
    assert!(s.remove_collection("beta").expect("remove"));
    assert!(!s.remove_collection("beta").expect("remove"));
    assert!(!s.remove_collection(&b.id).expect("remove"));
    assert_eq!(s.collections().expect("list"), vec![a.clone()]);
    assert_eq!(s.stats().expect("stats").collections, 1);
    // The alias is free again.
    collection(s, 4, "Beta again", Some("beta"));
}

pub fn collection_membership(s: &dyn Store) {
    let c = collection(s, 1, "Feed", Some("feed"));
    let o = sdo("malware", 1, 1);
    let d0 = added(put1(s, &o, None));
    // Known version, new to the collection: Added with a new date_added.
    let d1 = added(put1(s, &o, Some("feed")));
    assert!(d1 > d0);
    assert_eq!(dup(put1(s, &o, Some(&c.id))), d1);
    assert_eq!(dup(put1(s, &o, None)), d0);
    // New version straight into the collection.
    let o2 = sdo("malware", 1, 2);
    let d2 = added(put1(s, &o2, Some("feed")));
    assert!(d2 > d1);
    let in_coll = run(
        s,
        &ObjectQuery {
            collection: Some("feed".into()),
            ..q_all()
        },
    );
    assert_eq!(
        in_coll.iter().map(|o| o.date_added).collect::<Vec<_>>(),
        vec![d1, d2]
    );
    let everywhere = run(s, &q_all());
    assert_eq!(everywhere.len(), 2);
    assert_eq!(everywhere[0].date_added, d0);
    let vs = s.versions(&o.meta.id, Some("feed")).expect("versions");
    assert_eq!(
        vs.iter().map(|v| v.date_added).collect::<Vec<_>>(),
        vec![d1, d2]
    );
    // added_after on a collection is on membership dates.
    let later = run(
        s,
        &ObjectQuery {
            collection: Some("feed".into()),
            added_after: Some(d1),
            ..q_all()
        },
    );
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].raw, o2.raw);
    // Another collection is independent.
    collection(s, 2, "Other", Some("other"));
    assert!(run(
        s,
        &ObjectQuery {
            collection: Some("other".into()),
            ..q_all()
        }
    )
    .is_empty());
    assert!(s
        .versions(&o.meta.id, Some("other"))
        .expect("versions")
        .is_empty());
    // Within one transaction: added once, then a duplicate.
    let o3 = sdo("malware", 3, 1);
    let mut t = s.begin().expect("begin");
    let a = added(t.put(&o3, Some("other")).expect("put"));
    assert_eq!(dup(t.put(&o3, Some("other")).expect("put")), a);
    let b = added(t.put(&o3, Some("feed")).expect("put"));
    assert!(b > a);
    t.commit().expect("commit");
}

pub fn collection_last_is_within_collection(s: &dyn Store) {
    collection(s, 1, "Feed", Some("feed"));
    let id = sid("malware", 1);
    put1(s, &sdo("malware", 1, 2), Some("feed"));
    put1(s, &sdo("malware", 1, 3), None);
    put1(s, &sdo("malware", 1, 1), Some("feed"));
    let q = |f: ObjectQuery| {
        keys(&run(
            s,
            &ObjectQuery {
                collection: Some("feed".into()),
                ..f
            },
        ))
    };
    assert_eq!(q(with_versions(false, true, &[])), vec![key(&id, 2)]);
    assert_eq!(q(with_versions(true, false, &[])), vec![key(&id, 1)]);
    assert_eq!(
        keys(&run(s, &with_versions(false, true, &[]))),
        vec![key(&id, 3)]
    );
    // The store-wide newest joins the collection and becomes its latest.
    put1(s, &sdo("malware", 1, 3), Some("feed"));
    assert_eq!(q(with_versions(false, true, &[])), vec![key(&id, 3)]);
    assert_eq!(q(q_all()).len(), 3);
}

pub fn remove_from_collection(s: &dyn Store) {
    collection(s, 1, "Feed", Some("feed"));
    let id = sid("malware", 1);
    put_all(
        s,
        &[
            sdo("malware", 1, 1),
            sdo("malware", 1, 2),
            sdo("malware", 1, 3),
        ],
        Some("feed"),
    );
    let mut t = s.begin().expect("begin");
    assert_eq!(
        t.remove_from_collection("feed", &id, &[vkey(3)])
            .expect("remove"),
        1
    );
    assert_eq!(
        t.remove_from_collection("feed", &id, &[vkey(3)])
            .expect("remove"),
        0
    );
    assert!(matches!(
        t.remove_from_collection("nope", &id, &[]),
        Err(StoreError::NoSuchCollection { .. })
    ));
    t.commit().expect("commit");
    let last = run(
        s,
        &ObjectQuery {
            collection: Some("feed".into()),
            ..with_versions(false, true, &[])
        },
    );
    assert_eq!(
        keys(&last),
        vec![key(&id, 2)],
        "latest in the collection after removing the newest"
    );
    // The version stays in the store.
    assert_eq!(s.versions(&id, None).expect("versions").len(), 3);
    assert_eq!(
        keys(&run(s, &with_versions(false, true, &[]))),
        vec![key(&id, 3)]
    );
    // Remove all, inside a transaction that also adds one back.
    let mut t = s.begin().expect("begin");
    assert_eq!(
        t.remove_from_collection("feed", &id, &[]).expect("remove"),
        2
    );
    let back = added(t.put(&sdo("malware", 1, 1), Some("feed")).expect("put"));
    assert_eq!(
        t.remove_from_collection("feed", &id, &[vkey(2), vkey(1)])
            .expect("remove"),
        1
    );
    let again = added(t.put(&sdo("malware", 1, 1), Some("feed")).expect("put"));
    assert!(again > back);
    t.commit().expect("commit");
    let vs = s.versions(&id, Some("feed")).expect("versions");
    assert_eq!(keys(&vs), vec![key(&id, 1)]);
    assert_eq!(vs[0].date_added, again);
    assert_eq!(s.stats().expect("stats").versions, 3);
    // Removing from a collection an id it never had.
    let mut t = s.begin().expect("begin");
    assert_eq!(
        t.remove_from_collection("feed", &sid("tool", 9), &[])
            .expect("remove"),
        0
    );
    drop(t);
}

pub fn remove_collection_keeps_versions(s: &dyn Store) {
    let c = collection(s, 1, "Feed", Some("feed"));
    put_all(s, &[sdo("malware", 1, 1), sdo("tool", 2, 1)], Some("feed"));
    assert!(s.remove_collection(&c.id).expect("remove"));
    assert_eq!(run(s, &q_all()).len(), 2);
    // A new collection with the same alias starts empty.
    collection(s, 2, "Feed", Some("feed"));
    assert!(run(
        s,
        &ObjectQuery {
            collection: Some("feed".into()),
            ..q_all()
        }
    )
    .is_empty());
    let d = added(put1(s, &sdo("malware", 1, 1), Some("feed")));
    assert!(d > run(s, &q_all())[1].date_added);
    assert!(s.check().expect("check").is_empty());
}

pub fn rollback_on_drop(s: &dyn Store) {
    collection(s, 1, "Feed", Some("feed"));
    let kept = sdo("malware", 1, 1);
    let d0 = added(put1(s, &kept, None));
    {
        let mut t = s.begin().expect("begin");
        t.put(&sdo("malware", 2, 1), None).expect("put");
        t.put(&sdo("malware", 1, 2), Some("feed")).expect("put");
        t.put(&kept, Some("feed")).expect("put");
        // dropped without commit
    }
    let items = run(s, &q_all());
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].date_added, d0);
    assert!(run(
        s,
        &ObjectQuery {
            collection: Some("feed".into()),
            ..q_all()
        }
    )
    .is_empty());
    assert_eq!(s.stats().expect("stats").versions, 1);
    assert!(s
        .search("malware", 10)
        .expect("search")
        .iter()
        .all(|h| h.id == kept.meta.id));
    // A removal rolled back leaves the membership.
    put1(s, &kept, Some("feed"));
    {
        let mut t = s.begin().expect("begin");
        assert_eq!(
            t.remove_from_collection("feed", &kept.meta.id, &[])
                .expect("remove"),
            1
        );
    }
    assert_eq!(
        run(
            s,
            &ObjectQuery {
                collection: Some("feed".into()),
                ..q_all()
            }
        )
        .len(),
        1
    );
    // The store is usable afterwards, and values are never reused.
    let d = added(put1(s, &sdo("malware", 2, 1), None));
    assert!(d > d0);
}

pub fn uncommitted_is_invisible(s: &dyn Store) {
    put1(s, &sdo("malware", 1, 1), None);
    let mut t = s.begin().expect("begin");
    t.put(&sdo("malware", 2, 1), None).expect("put");
    t.put(&sdo("malware", 1, 2), None).expect("put");
    assert_eq!(run(s, &q_all()).len(), 1, "a reader saw uncommitted data");
    assert_eq!(s.stats().expect("stats").versions, 1);
    assert_eq!(
        s.versions(&sid("malware", 1), None)
            .expect("versions")
            .len(),
        1
    );
    t.commit().expect("commit");
    assert_eq!(run(s, &q_all()).len(), 3);
}

pub fn raw_is_byte_exact(s: &dyn Store) {
    let raws = [
        format!(
            "{{ \"type\":\"x-custom-thing\" ,\n\t\"spec_version\": \"2.1\",\"id\":\"{}\",\r\n  \"created\":\"2020-01-01T00:00:00.1Z\",\"modified\":\"2020-01-01T00:00:00.100Z\",\n\"x_big\": 123456789012345678901234567890, \"x_float\": 1.50000000000000000001e-7,\n\"name\":\"caf\\u00e9 \\ud83d\\ude00 \u{1F600} \\\"quoted\\\" \\/ \\n\", \"x_nested\": {{\"a\": [1, 2.0, -0, true, null]}}   }}",
            sid("x-custom-thing", 1)
        ),
        format!("{{\"type\":\"ipv4-addr\",\"id\":\"{}\",\"value\":\"10.0.0.1\"}}", sid("ipv4-addr", 2)),
        format!(
            "{{\"id\":\"{}\",\"type\":\"note\",\"spec_version\":\"2.1\",\"created\":\"2020-01-01T00:00:00Z\",\"modified\":\"2020-01-01T00:00:00Z\",\"content\":\"{}\",\"object_refs\":[]}}",
            sid("note", 3),
            "x".repeat(100_000)
        ),
    ];
    let objs: Vec<NewObject> = raws.iter().map(|r| raw_obj(r)).collect();
    put_all(s, &objs, None);
    let items = run(s, &q_all());
    assert_eq!(items.len(), 3);
    for (o, r) in items.iter().zip(&raws) {
        assert_eq!(&o.raw, r);
    }
    assert_eq!(
        s.versions(&sid("x-custom-thing", 1), None)
            .expect("versions")[0]
            .raw,
        raws[0]
    );
    assert_eq!(
        items[0].version.as_deref(),
        Some("2020-01-01T00:00:00.100Z")
    );
}

pub fn external_ids(s: &dyn Store) {
    let ext = |n: u64, refs: Value| {
        obj(
            &json!({"type": "intrusion-set", "spec_version": "2.1", "id": sid("intrusion-set", n),
            "created": ts(0), "modified": ts(1), "name": format!("set {n}"), "external_references": refs}),
        )
    };
    put_all(
        s,
        &[
            ext(
                2,
                json!([{"source_name": "mitre-attack", "external_id": "G0032"}, {"source_name": "x", "url": "https://e.org"}]),
            ),
            ext(1, json!([{"source_name": "other", "external_id": "G0032"}])),
            ext(
                3,
                json!([{"source_name": "mitre-attack", "external_id": "G0033"}]),
            ),
        ],
        None,
    );
    let want = vec![sid("intrusion-set", 1), sid("intrusion-set", 2)];
    assert_eq!(s.lookup_external_id("G0032").expect("lookup"), want);
    assert_eq!(
        s.lookup_external_id("g0032").expect("lookup"),
        want,
        "external ids match case-insensitively"
    );
    assert!(s.lookup_external_id("G003").expect("lookup").is_empty());
    assert!(s.lookup_external_id("").expect("lookup").is_empty());
    // A new version keeps the object findable, without duplicates.
    let mut v2: Value = serde_json::from_str(
        &ext(
            3,
            json!([{"source_name": "mitre-attack", "external_id": "G0033"}]),
        )
        .raw,
    )
    .expect("json");
    v2["modified"] = json!(ts(2));
    put1(s, &obj(&v2), None);
    assert_eq!(
        s.lookup_external_id("G0033").expect("lookup"),
        vec![sid("intrusion-set", 3)]
    );
}

pub fn search(s: &dyn Store) {
    let o = |ty: &str, n: u64, m: u32, extra: Value| {
        let mut v = json!({"type": ty, "spec_version": "2.1", "id": sid(ty, n), "created": ts(0), "modified": ts(m)});
        if let (Some(v), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            v.extend(e.clone());
        }
        obj(&v)
    };
    put_all(
        s,
        &[
            o(
                "intrusion-set",
                1,
                1,
                json!({"name": "Lazarus Group", "aliases": ["HIDDEN COBRA", "Guardians of Peace"]}),
            ),
            o(
                "malware",
                2,
                1,
                json!({"name": "Bankshot", "description": "Bankshot is a remote access tool used by Lazarus."}),
            ),
            o(
                "tool",
                3,
                1,
                json!({"name": "Mimikatz", "description": "Credential dumper zyxwvu."}),
            ),
            o(
                "tool",
                3,
                2,
                json!({"name": "Mimikatz", "description": "Credential dumper."}),
            ),
            o(
                "indicator",
                4,
                1,
                json!({"name": "Évasion détectée", "pattern": "[x:y = 'z']"}),
            ),
            o(
                "relationship",
                5,
                1,
                json!({"relationship_type": "uses", "source_ref": sid("intrusion-set", 1),
                    "target_ref": sid("malware", 2), "description": "Lazarus used Bankshot qwertyuiop."}),
            ),
        ],
        None,
    );
    let ids = |q: &str| -> Vec<String> {
        let mut v: Vec<String> = s
            .search(q, 50)
            .expect("search")
            .into_iter()
            .map(|h| h.id)
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        ids("lazarus"),
        vec![sid("intrusion-set", 1), sid("malware", 2)]
    );
    assert_eq!(
        ids("LAZAR"),
        vec![sid("intrusion-set", 1), sid("malware", 2)],
        "words are prefixes, any case"
    );
    assert_eq!(
        ids("lazarus remote"),
        vec![sid("malware", 2)],
        "all words are required"
    );
    assert_eq!(
        ids("cobra"),
        vec![sid("intrusion-set", 1)],
        "aliases are searched"
    );
    assert_eq!(ids("mimikatz"), vec![sid("tool", 3)]);
    assert!(
        ids("zyxwvu").is_empty(),
        "only the latest version is searched"
    );
    assert_eq!(ids("détectée"), vec![sid("indicator", 4)]);
    assert!(ids("nothingmatchesthis").is_empty());
    assert!(
        ids("qwertyuiop").is_empty(),
        "relationships are not searched"
    );
    assert!(ids("").is_empty());
    let hits = s.search("bankshot", 10).expect("search");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].ty, "malware");
    assert_eq!(hits[0].name.as_deref(), Some("Bankshot"));
    assert_eq!(
        s.search("lazarus", 1).expect("search").len(),
        1,
        "limit is honoured"
    );
}

pub fn search_input_never_errors(s: &dyn Store) {
    put1(s, &sdo("malware", 1, 1), None);
    for q in [
        "\"",
        "\"\"",
        "*",
        "malware*",
        "(",
        ")",
        "a OR b",
        "AND",
        "NOT x",
        "NEAR(a b)",
        "name:x",
        "-x",
        "^x",
        "+",
        "{a b}",
        "malware \"1",
        "'",
        "\\",
        "\u{0}",
        "   ",
        "x:y:z",
        "🦀",
        "a\"b\"c",
        "[",
        "col:*",
        "ＡＢＣ",
        ".",
    ] {
        if let Err(e) = s.search(q, 10) {
            panic!("search({q:?}) failed: {e}");
        }
    }
}

pub fn stats(s: &dyn Store) {
    assert_eq!(s.stats().expect("stats"), crate::Stats::default());
    collection(s, 1, "Feed", None);
    put_all(
        s,
        &[
            sdo("malware", 1, 1),
            sdo("malware", 1, 2),
            sdo("malware", 2, 1),
            sdo("tool", 3, 1),
        ],
        Some("00000001-aaaa-4bbb-8ccc-000000000001"),
    );
    let st = s.stats().expect("stats");
    assert_eq!(st.objects, 3);
    assert_eq!(st.versions, 4);
    assert_eq!(st.revoked, 0);
    assert_eq!(st.collections, 1);
    assert_eq!(
        st.by_type,
        vec![("malware".to_owned(), 2), ("tool".to_owned(), 1)]
    );
}

pub fn revoked(s: &dyn Store) {
    let id = sid("malware", 1);
    let mut v = json!({"type": "malware", "spec_version": "2.1", "id": id, "created": ts(0), "modified": ts(1), "is_family": false});
    put1(s, &obj(&v), None);
    v["modified"] = json!(ts(2));
    v["revoked"] = json!(true);
    put1(s, &obj(&v), None);
    assert_eq!(s.stats().expect("stats").revoked, 1);
    let last = run(s, &ObjectQuery::default());
    assert_eq!(last.len(), 1);
    assert!(last[0].revoked);
    let first = run(s, &with_versions(true, false, &[]));
    assert!(!first[0].revoked);
    assert_eq!(
        s.versions(&id, None)
            .expect("versions")
            .iter()
            .map(|v| v.revoked)
            .collect::<Vec<_>>(),
        vec![false, true]
    );
}

pub fn relationships(s: &dyn Store) {
    let m = sid("malware", 1);
    let t = sid("tool", 2);
    let rel = |n: u64, src: &str, tgt: &str, mdf: u32| {
        obj(
            &json!({"type": "relationship", "spec_version": "2.1", "id": sid("relationship", n), "created": ts(0),
            "modified": ts(mdf), "relationship_type": "uses", "source_ref": src, "target_ref": tgt}),
        )
    };
    let sighting = obj(
        &json!({"type": "sighting", "spec_version": "2.1", "id": sid("sighting", 9), "created": ts(0),
        "modified": ts(0), "sighting_of_ref": m}),
    );
    put_all(
        s,
        &[
            rel(1, &m, &t, 1),
            rel(2, &t, &m, 1),
            rel(3, &sid("malware", 5), &t, 1),
            sighting,
        ],
        None,
    );
    // A newer version of relationship 3 points elsewhere.
    put1(s, &rel(3, &sid("malware", 5), &sid("tool", 6), 2), None);
    assert_eq!(
        s.relationships_of(&m).expect("rels"),
        vec![
            sid("relationship", 1),
            sid("relationship", 2),
            sid("sighting", 9)
        ]
    );
    assert_eq!(
        s.relationships_of(&t).expect("rels"),
        vec![sid("relationship", 1), sid("relationship", 2)]
    );
    assert!(s
        .relationships_of(&sid("tool", 77))
        .expect("rels")
        .is_empty());
}

/// `referrers_of`: objects whose embedded references (STIX 2.1 §3.1
/// reference properties, at any depth) name an id, latest versions only;
/// relationship ends are not embedded references (`relationships_of` has them).
pub fn referrers(s: &dyn Store) {
    let target = sid("intrusion-set", 1);
    let other = sid("intrusion-set", 2);
    let marking = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
    let report = |n: u64, mdf: u32, refs: &[&str]| {
        obj(
            &json!({"type": "report", "spec_version": "2.1", "id": sid("report", n), "created": ts(0),
            "modified": ts(mdf), "name": "r", "published": ts(0), "object_refs": refs}),
        )
    };
    let note = obj(
        &json!({"type": "note", "spec_version": "2.1", "id": sid("note", 3), "created": ts(0),
        "modified": ts(0), "content": "c", "object_refs": [other],
        "granular_markings": [{"marking_ref": marking, "selectors": ["content"]}],
        "created_by_ref": target}),
    );
    let rel = obj(
        &json!({"type": "relationship", "spec_version": "2.1", "id": sid("relationship", 4),
        "created": ts(0), "modified": ts(0), "relationship_type": "uses",
        "source_ref": target, "target_ref": other}),
    );
    put_all(
        s,
        &[
            report(1, 1, &[&target, &other]),
            report(2, 1, &[&target]),
            note,
            rel,
        ],
        None,
    );
    // A newer version of report 2 no longer names the target.
    put1(s, &report(2, 2, &[&other]), None);
    assert_eq!(
        s.referrers_of(&target, 10).expect("referrers"),
        vec![sid("note", 3), sid("report", 1)]
    );
    assert_eq!(
        s.referrers_of(&other, 10).expect("referrers"),
        vec![sid("note", 3), sid("report", 1), sid("report", 2)]
    );
    assert_eq!(s.referrers_of(&other, 2).expect("referrers").len(), 2);
    // At any depth: a granular marking's marking_ref.
    assert_eq!(
        s.referrers_of(marking, 10).expect("referrers"),
        vec![sid("note", 3)]
    );
    assert!(s
        .referrers_of(&sid("tool", 77), 10)
        .expect("referrers")
        .is_empty());
}

pub fn check_is_clean(s: &dyn Store) {
    assert!(s.check().expect("check").is_empty());
    collection(s, 1, "Feed", Some("feed"));
    many(s, Some("feed"));
    let mut t = s.begin().expect("begin");
    t.remove_from_collection("feed", &sid("indicator", 5), &[vkey(3)])
        .expect("remove");
    t.commit().expect("commit");
    let problems = s.check().expect("check");
    assert!(problems.is_empty(), "{problems:?}");
}

// ---------------------------------------------------------------- accounts

fn user(name: &str, groups: &[&str], admin: bool) -> User {
    User {
        name: name.to_owned(),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$hash-of-{name}"),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        admin,
    }
}

fn token(id: &str, user: &str, created: u64) -> ApiToken {
    ApiToken {
        id: id.to_owned(),
        user: user.to_owned(),
        secret_sha256: [id.len() as u8; 32],
        created,
        revoked: false,
        expires: None,
        last_used: None,
    }
}

/// Expiry is kept as given; `touch_token` records the last use (never moving
/// it back), without changing the accounts generation.
pub fn accounts_token_expiry_and_use(s: &dyn Store) {
    s.add_user(&user("bob", &[], false)).expect("add bob");
    let mut t = token("t1", "bob", 100);
    t.expires = Some(100 + 90 * 86_400);
    s.create_token(&t).expect("create");
    s.create_token(&token("t2", "bob", 100)).expect("create");
    let got = s.token("t1").expect("token").expect("t1");
    assert_eq!(got, t);
    assert!(!got.expired(100 + 90 * 86_400 - 1) && got.expired(100 + 90 * 86_400));
    assert_eq!(s.token("t2").expect("token").expect("t2").expires, None);
    let g = s.accounts_generation().expect("generation");
    s.touch_token("t1", 500).expect("touch");
    s.touch_token("t1", 400).expect("touch older");
    s.touch_token("zz", 500).expect("touch unknown");
    assert_eq!(
        s.accounts_generation().expect("generation"),
        g,
        "a use is no change"
    );
    assert_eq!(
        s.token("t1").expect("token").expect("t1").last_used,
        Some(500)
    );
    assert_eq!(s.token("t2").expect("token").expect("t2").last_used, None);
    let listed = s.tokens(Some("bob")).expect("tokens");
    assert_eq!(listed[0].last_used, Some(500));
    assert_eq!(listed[0].expires, t.expires);
}

pub fn accounts_users(s: &dyn Store) {
    assert!(s.users().expect("users").is_empty());
    let bob = user("bob", &["analysts", "feeders"], false);
    let alice = user("alice", &[], true);
    s.add_user(&bob).expect("add bob");
    s.add_user(&alice).expect("add alice");
    assert!(
        matches!(s.add_user(&bob), Err(StoreError::Invalid(_))),
        "a second user of the same name is refused"
    );
    for bad in ["", "a:b", "a b", "x\n", &"n".repeat(65)] {
        assert!(
            matches!(
                s.add_user(&user(bad, &[], false)),
                Err(StoreError::Invalid(_))
            ),
            "user name {bad:?} is refused"
        );
    }
    assert!(matches!(
        s.add_user(&user("carol", &["two words"], false)),
        Err(StoreError::Invalid(_))
    ));
    let mut unhashed = user("dave", &[], false);
    unhashed.password_hash = "plaintext".into();
    assert!(matches!(s.add_user(&unhashed), Err(StoreError::Invalid(_))));
    // By name; hash, groups (in order) and flag round-trip exactly.
    assert_eq!(s.users().expect("users"), vec![alice.clone(), bob.clone()]);
    assert_eq!(s.user("bob").expect("user"), Some(bob.clone()));
    assert_eq!(s.user("nobody").expect("user"), None);
    assert!(s.remove_user("alice").expect("remove"));
    assert!(!s.remove_user("alice").expect("remove again"));
    assert_eq!(s.users().expect("users"), vec![bob]);
    // A name can be reused after removal.
    s.add_user(&alice).expect("re-add alice");
}

pub fn accounts_tokens(s: &dyn Store) {
    s.add_user(&user("bob", &[], false)).expect("add bob");
    s.add_user(&user("eve", &[], false)).expect("add eve");
    assert!(
        matches!(
            s.create_token(&token("t1", "nobody", 1)),
            Err(StoreError::Invalid(_))
        ),
        "a token needs an existing user"
    );
    assert!(matches!(
        s.create_token(&token("bad id", "bob", 1)),
        Err(StoreError::Invalid(_))
    ));
    let t2 = token("t2", "bob", 5);
    let t1 = token("t1", "bob", 7);
    let t3 = token("t3", "eve", 6);
    for t in [&t2, &t1, &t3] {
        s.create_token(t).expect("create");
    }
    assert!(matches!(s.create_token(&t1), Err(StoreError::Invalid(_))));
    assert_eq!(s.token("t1").expect("token"), Some(t1.clone()));
    assert_eq!(s.token("zz").expect("token"), None);
    assert_eq!(
        s.tokens(None).expect("tokens"),
        vec![t2.clone(), t3.clone(), t1.clone()]
    );
    assert_eq!(s.tokens(Some("bob")).expect("tokens"), vec![t2.clone(), t1]);
    assert!(s.revoke_token("t2").expect("revoke"));
    assert!(!s.revoke_token("t2").expect("revoke again"));
    assert!(!s.revoke_token("zz").expect("revoke unknown"));
    let revoked = s.token("t2").expect("token").expect("still listed");
    assert!(revoked.revoked);
    assert_eq!(revoked.secret_sha256, t2.secret_sha256);
    // Removing a user removes their tokens, not others'.
    assert!(s.remove_user("bob").expect("remove"));
    assert_eq!(s.token("t1").expect("token"), None);
    assert_eq!(s.tokens(None).expect("tokens"), vec![t3]);
}

pub fn accounts_generation(s: &dyn Store) {
    let mut seen = vec![s.accounts_generation().expect("generation")];
    let mut changed = |s: &dyn Store, what: &str| {
        let g = s.accounts_generation().expect("generation");
        assert!(!seen.contains(&g), "generation unchanged after {what}");
        seen.push(g);
    };
    s.add_user(&user("bob", &[], false)).expect("add");
    changed(s, "add_user");
    s.create_token(&token("t1", "bob", 1)).expect("create");
    changed(s, "create_token");
    s.revoke_token("t1").expect("revoke");
    changed(s, "revoke_token");
    s.create_token(&token("t2", "bob", 1)).expect("create");
    changed(s, "create_token");
    s.remove_user("bob").expect("remove");
    changed(s, "remove_user");
    // Reads and failed or no-op changes need not change it, but must not error.
    let before = s.accounts_generation().expect("generation");
    let _ = s.users().expect("users");
    assert!(!s.remove_user("bob").expect("remove again"));
    assert_eq!(s.accounts_generation().expect("generation"), before);
}

// ---------------------------------------------------------------- status resources

fn status_rec(id: &str, owner: Option<&str>, expires: u64) -> StoredStatus {
    StoredStatus {
        id: id.to_owned(),
        api_root: "api1".to_owned(),
        owner: owner.map(str::to_owned),
        expires,
        body: format!(r#"{{"id":"{id}","status":"complete","total_count":1}}"#),
    }
}

/// TAXII 2.1 §4.3: a status is written with the objects it reports on, in one
/// transaction: both or neither.
pub fn statuses_with_objects(s: &dyn Store) {
    let a = status_rec("6b8a8a8e-4f5c-4d7e-9a0b-000000000001", Some("alice"), 2_000);
    {
        let mut t = s.begin().expect("begin");
        t.put(&sdo("indicator", 1, 1), None).expect("put");
        t.put_status(&a).expect("put_status");
        // dropped without commit: neither the object nor the status
    }
    assert_eq!(s.status(&a.id, 1_000).expect("status"), None);
    assert!(run(s, &q_all()).is_empty());
    let mut t = s.begin().expect("begin");
    t.put(&sdo("indicator", 1, 1), None).expect("put");
    t.put_status(&a).expect("put_status");
    t.commit().expect("commit");
    assert_eq!(s.status(&a.id, 1_000).expect("status"), Some(a.clone()));
    assert_eq!(run(s, &q_all()).len(), 1);
    assert_eq!(
        s.status("6b8a8a8e-4f5c-4d7e-9a0b-00000000ffff", 1_000)
            .expect("status"),
        None
    );
    // Anonymous owner and a body with every JSON character class survive.
    let mut b = status_rec("6b8a8a8e-4f5c-4d7e-9a0b-000000000002", None, 2_000);
    b.body = r#"{"failures":[{"id":"x","message":"caf\u00e9 \"quoted\" \n"}]}"#.to_owned();
    let mut t = s.begin().expect("begin");
    t.put_status(&b).expect("put_status");
    t.commit().expect("commit");
    assert_eq!(s.status(&b.id, 1_000).expect("status"), Some(b));
}

/// TAXII 2.1 §4.3 (kept at least 24 h): expired statuses are not returned and
/// purging removes only those.
pub fn statuses_expire(s: &dyn Store) {
    let old = status_rec("6b8a8a8e-4f5c-4d7e-9a0b-000000000011", None, 100);
    let new = status_rec("6b8a8a8e-4f5c-4d7e-9a0b-000000000012", None, 300);
    let mut t = s.begin().expect("begin");
    t.put_status(&old).expect("put_status");
    t.put_status(&new).expect("put_status");
    t.commit().expect("commit");
    assert_eq!(s.status(&old.id, 100).expect("status"), Some(old.clone()));
    assert_eq!(s.status(&old.id, 101).expect("status"), None);
    assert_eq!(s.purge_statuses(200).expect("purge"), 1);
    assert_eq!(s.status(&old.id, 0).expect("status"), None);
    assert_eq!(s.status(&new.id, 200).expect("status"), Some(new));
}

/// Records of one API root, expired ones too, by id, nothing of other roots
/// (`sightline copy` carries the feeds' records this way).
pub fn statuses_of_root(s: &dyn Store) {
    let a = status_rec("6b8a8a8e-4f5c-4d7e-9a0b-000000000022", None, 100);
    let mut b = status_rec(
        "6b8a8a8e-4f5c-4d7e-9a0b-000000000021",
        Some("bob"),
        u64::MAX >> 1,
    );
    b.api_root = "#feeds".to_owned();
    let mut c = status_rec("6b8a8a8e-4f5c-4d7e-9a0b-000000000023", None, 5);
    c.api_root = "#feeds".to_owned();
    let mut t = s.begin().expect("begin");
    for r in [&a, &b, &c] {
        t.put_status(r).expect("put_status");
    }
    t.commit().expect("commit");
    assert_eq!(s.statuses_of_root("#feeds").expect("list"), vec![b, c]);
    assert_eq!(s.statuses_of_root("api1").expect("list"), vec![a]);
    assert!(s.statuses_of_root("none").expect("list").is_empty());
}

/// `query_each` hands over exactly the rows `query` returns, with the same
/// `more`, first/last and next cursor, for every kind of page.
pub fn query_each_matches_query(s: &dyn Store) {
    many(s, None);
    let c = collection(s, 1, "Each", Some("each"));
    many(s, Some("each"));
    for coll in [None, Some(c.id.clone())] {
        for limit in [1, 7, 60, 1000] {
            for q in [
                q_all(),
                with_versions(false, true, &[]),
                with_versions(true, false, &[]),
                ObjectQuery {
                    ids: vec![sid("indicator", 5), sid("indicator", 7)],
                    ..q_all()
                },
            ] {
                let mut q = ObjectQuery {
                    collection: coll.clone(),
                    limit,
                    ..q
                };
                loop {
                    let page = s.query(&q).expect("query");
                    let mut rows = Vec::new();
                    let summary = s
                        .query_each(&q, &mut |r| {
                            rows.push((
                                r.id.to_owned(),
                                r.version_key.to_owned(),
                                r.date_added,
                                r.raw.to_owned(),
                            ));
                        })
                        .expect("query_each");
                    let want: Vec<_> = page
                        .items
                        .iter()
                        .map(|o| {
                            (
                                o.id.clone(),
                                o.version_key.clone(),
                                o.date_added,
                                o.raw.clone(),
                            )
                        })
                        .collect();
                    assert_eq!(rows, want, "{coll:?} limit {limit}");
                    assert_eq!(summary.count, want.len());
                    assert_eq!(summary.more, page.more);
                    assert_eq!(summary.first, page.items.first().map(|o| o.date_added));
                    assert_eq!(summary.last, page.items.last().map(|o| o.date_added));
                    assert_eq!(summary.next_cursor(), page.next_cursor());
                    match summary.next_cursor() {
                        Some(next) => q.after = Some(next),
                        None => break,
                    }
                }
            }
        }
    }
}

/// Lookups with a NUL byte (a `%00` in a URL) find nothing and never fail:
/// some backends cannot even store NUL in text.
pub fn nul_bytes_find_nothing(s: &dyn Store) {
    let c = collection(s, 1, "Nul", Some("nul"));
    put_all(s, &[sdo("indicator", 1, 1)], Some(&c.id));
    assert_eq!(s.collection("nu\0l").expect("collection"), None);
    assert!(matches!(
        s.query(&ObjectQuery {
            collection: Some("\0".into()),
            ..q_all()
        }),
        Err(StoreError::NoSuchCollection { .. })
    ));
    assert!(s
        .versions("indicator--\0", None)
        .expect("versions")
        .is_empty());
    assert!(s
        .versions("indicator--\0", Some(&c.id))
        .expect("versions")
        .is_empty());
    assert!(s.lookup_external_id("T1059\0").expect("lookup").is_empty());
    assert!(!s.remove_collection("nul\0").expect("remove"));
}

// ---------------------------------------------------------------- isolation
//
// ARCHITECTURE.md, invariant 3: a collection returns exactly the bytes put
// into it. The same (id, version_key) with other bytes is kept apart (a
// variant row) or, where one space already holds the key, a conflict.

/// An indicator (version `m`) whose description tells `who` wrote it.
fn marked(n: u64, m: u32, who: &str) -> NewObject {
    obj(&json!({
        "type": "indicator", "spec_version": "2.1", "id": sid("indicator", n),
        "created": ts(0), "modified": ts(m), "name": format!("indicator {n}"),
        "description": who, "pattern": "[ipv4-addr:value = '198.51.100.1']",
        "pattern_type": "stix", "valid_from": ts(0)
    }))
}

fn in_coll(s: &dyn Store, c: &str, q: ObjectQuery) -> Vec<StoredObject> {
    run(
        s,
        &ObjectQuery {
            collection: Some(c.to_owned()),
            ..q
        },
    )
}

fn raws(items: &[StoredObject]) -> Vec<&str> {
    items.iter().map(|o| o.raw.as_str()).collect()
}

/// Everything `c` serves for the object: pages (all, latest, first, by id,
/// at its version) and its version list; each must be exactly `want`.
fn serves_only(s: &dyn Store, c: &str, want: &NewObject) {
    let id = want.meta.id.clone();
    let by_id = |q: ObjectQuery| ObjectQuery {
        ids: vec![id.clone()],
        ..q
    };
    let at = want.meta.version_key.clone();
    for q in [
        q_all(),
        with_versions(false, true, &[]),
        with_versions(true, false, &[]),
        by_id(q_all()),
        by_id(with_versions(false, true, &[])),
        by_id(with_versions(false, false, &[at.as_str()])),
    ] {
        let got = in_coll(s, c, q.clone());
        assert_eq!(raws(&got), vec![want.raw.as_str()], "{c}: {q:?}");
    }
    let vs = s.versions(&id, Some(c)).expect("versions");
    assert_eq!(raws(&vs), vec![want.raw.as_str()], "{c}: versions");
}

/// The read-across attack: a writer of `public` puts `secret`'s id and
/// version with other bytes; `public` must serve its own bytes, never
/// secret's, and the put must look like any new object (no existence oracle).
pub fn isolation_read_across(s: &dyn Store) {
    collection(s, 1, "Secret", Some("secret"));
    collection(s, 2, "Public", Some("public"));
    let a = marked(1, 5, "secret incident notes");
    let b = marked(1, 5, "planted by a public writer");
    added(put1(s, &a, Some("secret")));
    let got = put1(s, &b, Some("public"));
    assert!(matches!(got, PutOutcome::Added { .. }), "{got:?}");
    serves_only(s, "public", &b);
    serves_only(s, "secret", &a);
    // Store-wide (admin): both rows, the first arrival flagged latest.
    assert_eq!(
        raws(&run(s, &q_all())),
        vec![a.raw.as_str(), b.raw.as_str()]
    );
    assert_eq!(
        raws(&run(s, &with_versions(false, true, &[]))),
        vec![a.raw.as_str()]
    );
    let problems = s.check().expect("check");
    assert!(problems.is_empty(), "{problems:?}");
}

/// The overwrite (poisoning) attack: a version planted in `public` first must
/// not be what a later, legitimate put to `secret` serves.
pub fn isolation_no_poisoning(s: &dyn Store) {
    collection(s, 1, "Secret", Some("secret"));
    collection(s, 2, "Public", Some("public"));
    let planted = marked(1, 5, "planted");
    let legit = marked(1, 5, "legitimate");
    added(put1(s, &planted, Some("public")));
    let d = added(put1(s, &legit, Some("secret")));
    serves_only(s, "secret", &legit);
    serves_only(s, "public", &planted);
    // Putting it again is a plain duplicate, in a later transaction too.
    assert_eq!(dup(put1(s, &legit, Some("secret"))), d);
    // The store-wide view keeps the first arrival; the variant is listed.
    assert_eq!(
        raws(&run(s, &with_versions(false, true, &[]))),
        vec![planted.raw.as_str()]
    );
    let all = s.versions(&legit.meta.id, None).expect("versions");
    assert_eq!(raws(&all), vec![planted.raw.as_str(), legit.raw.as_str()]);
    assert_eq!(s.stats().expect("stats").versions, 2);
    assert_eq!(s.stats().expect("stats").objects, 1);
    let problems = s.check().expect("check");
    assert!(problems.is_empty(), "{problems:?}");
}

/// Identical bytes in two collections share one row; both read it back.
pub fn isolation_identical_bytes_share(s: &dyn Store) {
    collection(s, 1, "Secret", Some("secret"));
    collection(s, 2, "Public", Some("public"));
    let a = marked(1, 5, "shared");
    let d1 = added(put1(s, &a, Some("secret")));
    let d2 = added(put1(s, &a, Some("public")));
    assert!(d2 > d1);
    serves_only(s, "secret", &a);
    serves_only(s, "public", &a);
    assert_eq!(s.stats().expect("stats").versions, 1);
    // Store-wide it is one stored version, already there.
    assert_eq!(dup(put1(s, &a, None)), d1);
}

/// Other bytes for a key the collection already holds: a conflict, nothing
/// written, in the same transaction and in a later one.
pub fn isolation_conflict_in_collection(s: &dyn Store) {
    collection(s, 1, "Feed", Some("feed"));
    let a = marked(1, 5, "first");
    let b = marked(1, 5, "second");
    let mut t = s.begin().expect("begin");
    let d = added(t.put(&a, Some("feed")).expect("put"));
    assert_eq!(t.put(&b, Some("feed")).expect("put"), PutOutcome::Conflict);
    t.commit().expect("commit");
    let before = run(s, &q_all());
    let stats = s.stats().expect("stats");
    assert_eq!(put1(s, &b, Some("feed")), PutOutcome::Conflict);
    assert_eq!(run(s, &q_all()), before);
    assert_eq!(s.stats().expect("stats"), stats);
    serves_only(s, "feed", &a);
    assert_eq!(dup(put1(s, &a, Some("feed"))), d);
    // A newer version of the same object is not a conflict.
    added(put1(s, &marked(1, 6, "second"), Some("feed")));
}

/// Other bytes for a key stored without a collection: a conflict (the
/// store-wide view keeps its first bytes); identical bytes a duplicate.
pub fn isolation_conflict_without_collection(s: &dyn Store) {
    collection(s, 1, "Feed", Some("feed"));
    let a = marked(1, 5, "first");
    let b = marked(1, 5, "second");
    let d = added(put1(s, &a, None));
    assert_eq!(put1(s, &b, None), PutOutcome::Conflict);
    assert_eq!(dup(put1(s, &a, None)), d);
    assert_eq!(raws(&run(s, &q_all())), vec![a.raw.as_str()]);
    // A collection may still take the other bytes (a variant row) ...
    added(put1(s, &b, Some("feed")));
    serves_only(s, "feed", &b);
    // ... and the store-wide space then knows them: a duplicate.
    assert!(matches!(put1(s, &b, None), PutOutcome::Duplicate { .. }));
    assert_eq!(
        raws(&run(s, &with_versions(false, true, &[]))),
        vec![a.raw.as_str()]
    );
}

/// The same JSON reformatted (whitespace, indentation) is the same version:
/// a duplicate where that version already stands, never a conflict (a feed
/// pretty-printed in one file and compact in another re-imports cleanly);
/// other content is still a conflict, and a collection that does not hold
/// the version keeps the very bytes it was given (issue 12 §1).
pub fn reformatted_json_is_a_duplicate(s: &dyn Store) {
    collection(s, 1, "A", Some("a"));
    collection(s, 2, "B", Some("b"));
    let a = marked(1, 5, "same");
    let value: serde_json::Value = serde_json::from_str(&a.raw).expect("json");
    let pretty = NewObject {
        meta: a.meta.clone(),
        raw: serde_json::to_string_pretty(&value).expect("json"),
    };
    assert_ne!(a.raw, pretty.raw);
    let d = added(put1(s, &a, None));
    assert_eq!(dup(put1(s, &pretty, None)), d);
    assert_eq!(put1(s, &marked(1, 5, "other"), None), PutOutcome::Conflict);
    added(put1(s, &a, Some("a")));
    assert!(matches!(
        put1(s, &pretty, Some("a")),
        PutOutcome::Duplicate { .. }
    ));
    assert_eq!(
        put1(s, &marked(1, 5, "other"), Some("a")),
        PutOutcome::Conflict
    );
    serves_only(s, "a", &a);
    added(put1(s, &pretty, Some("b")));
    serves_only(s, "b", &pretty);
}

/// Variants never change store-wide latest/first (nor what search and
/// stats see), while each collection's latest is its own.
pub fn isolation_variants_keep_store_wide_latest(s: &dyn Store) {
    collection(s, 1, "A", Some("a"));
    collection(s, 2, "B", Some("b"));
    let id = sid("indicator", 1);
    put1(s, &marked(1, 5, "zebra"), Some("a"));
    put1(s, &marked(1, 3, "zebra"), Some("a"));
    // Variants of both the latest and the first key.
    put1(s, &marked(1, 5, "yak"), Some("b"));
    put1(s, &marked(1, 3, "yak"), Some("b"));
    let latest = run(s, &with_versions(false, true, &[]));
    assert_eq!(raws(&latest), vec![marked(1, 5, "zebra").raw.as_str()]);
    let first = run(s, &with_versions(true, false, &[]));
    assert_eq!(raws(&first), vec![marked(1, 3, "zebra").raw.as_str()]);
    assert_eq!(
        in_coll(s, "b", with_versions(false, true, &[]))[0].raw,
        marked(1, 5, "yak").raw
    );
    assert_eq!(
        in_coll(s, "b", with_versions(true, false, &[]))[0].raw,
        marked(1, 3, "yak").raw
    );
    let st = s.stats().expect("stats");
    assert_eq!((st.objects, st.versions), (1, 4));
    // All versions store-wide: variants too, ordered by key.
    let vs = s.versions(&id, None).expect("versions");
    assert_eq!(vs.len(), 4);
    assert_eq!(run(s, &q_all()).len(), 4);
    let hits: Vec<String> = s
        .search("zebra", 10)
        .expect("search")
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(hits, vec![id.clone()]);
    assert!(s.search("yak", 10).expect("search").is_empty());
    // A newer version arriving later in B moves both latests.
    put1(s, &marked(1, 7, "yak"), Some("b"));
    assert_eq!(
        raws(&run(s, &with_versions(false, true, &[]))),
        vec![marked(1, 7, "yak").raw.as_str()]
    );
    let problems = s.check().expect("check");
    assert!(problems.is_empty(), "{problems:?}");
}

/// SCOs have no version (key ""): their id derives from their value, so the
/// read-across attack is trivial for them and must fail the same way.
pub fn isolation_sco(s: &dyn Store) {
    collection(s, 1, "Secret", Some("secret"));
    collection(s, 2, "Public", Some("public"));
    let id = sid("ipv4-addr", 3);
    let a = raw_obj(&format!(
        r#"{{"type":"ipv4-addr","id":"{id}","value":"198.51.100.3","x_note":"secret"}}"#
    ));
    let b = raw_obj(&format!(
        r#"{{"type":"ipv4-addr","id":"{id}","value":"198.51.100.3"}}"#
    ));
    assert_eq!(a.meta.version_key, "");
    added(put1(s, &a, Some("secret")));
    added(put1(s, &b, Some("public")));
    serves_only(s, "public", &b);
    serves_only(s, "secret", &a);
    assert_eq!(put1(s, &b, Some("secret")), PutOutcome::Conflict);
    assert_eq!(put1(s, &a, Some("public")), PutOutcome::Conflict);
    serves_only(s, "secret", &a);
    let problems = s.check().expect("check");
    assert!(problems.is_empty(), "{problems:?}");
}

/// Removing a variant from its collection removes only that membership; the
/// collection may then take other bytes under the key.
pub fn isolation_remove_variant(s: &dyn Store) {
    collection(s, 1, "Secret", Some("secret"));
    collection(s, 2, "Public", Some("public"));
    let a = marked(1, 5, "secret");
    let b = marked(1, 5, "public");
    put1(s, &a, Some("secret"));
    put1(s, &b, Some("public"));
    let mut t = s.begin().expect("begin");
    assert_eq!(
        t.remove_from_collection("public", &a.meta.id, &[vkey(5)])
            .expect("remove"),
        1
    );
    t.commit().expect("commit");
    assert!(in_coll(s, "public", q_all()).is_empty());
    serves_only(s, "secret", &a);
    assert_eq!(s.stats().expect("stats").versions, 2);
    // Re-adding the variant reuses its row; other bytes would be new.
    added(put1(s, &b, Some("public")));
    serves_only(s, "public", &b);
    assert_eq!(s.stats().expect("stats").versions, 2);
    let mut t = s.begin().expect("begin");
    t.remove_from_collection("secret", &a.meta.id, &[])
        .expect("remove");
    t.commit().expect("commit");
    assert!(in_coll(s, "secret", q_all()).is_empty());
    serves_only(s, "public", &b);
    let problems = s.check().expect("check");
    assert!(problems.is_empty(), "{problems:?}");
}

// ---------------------------------------------------------------- filters

/// Filtered pages (TAXII 2.1 §3.4.1 `match[type]`, `match[id]`,
/// `match[spec_version]`, `match[version]`), one type or several, in the
/// store and in a collection that holds a subset (added later, so membership
/// dates differ from version dates): paging in threes returns exactly the
/// rows of one page, and one page exactly the unfiltered rows that match.
/// Backends answer selective filters through other indexes (issue 12 §3);
/// this pins the answer and the `more`/cursor contract on every path.
pub fn filtered_paging(s: &dyn Store) {
    let types = ["indicator", "malware", "tool"];
    let mut objs = Vec::new();
    for n in 0..24u64 {
        let ty = types[(n % 3) as usize];
        objs.push(sdo(ty, n, 1));
        if n % 4 == 0 {
            objs.push(sdo(ty, n, 3));
            objs.push(sdo(ty, n, 2));
        }
    }
    for n in 0..5u64 {
        objs.push(obj(&json!({"type": "malware", "spec_version": "2.0",
            "id": sid("malware", 100 + n), "created": ts(1), "modified": ts(1 + n as u32)})));
    }
    put_all(s, &objs, None);
    let c = collection(s, 1, "Filtered", Some("filtered"));
    // Every other object, in reverse order: membership order is not version order.
    let subset: Vec<NewObject> = objs.iter().rev().step_by(2).cloned().collect();
    put_all(s, &subset, Some(&c.id));
    let ids = vec![
        sid("malware", 1),
        sid("tool", 2),
        sid("malware", 101),
        sid("x-none", 1),
    ];
    let filters = [
        ObjectQuery {
            types: vec!["malware".into()],
            ..q_all()
        },
        ObjectQuery {
            types: vec!["tool".into(), "malware".into()],
            ..q_all()
        },
        ObjectQuery {
            types: vec!["x-nothing".into()],
            ..q_all()
        },
        ObjectQuery {
            types: vec!["x-nothing".into(), "indicator".into()],
            ..q_all()
        },
        ObjectQuery {
            ids: ids.clone(),
            ..q_all()
        },
        ObjectQuery {
            ids,
            types: vec!["malware".into()],
            ..q_all()
        },
        ObjectQuery {
            spec_versions: vec!["2.0".into()],
            ..q_all()
        },
        ObjectQuery {
            spec_versions: vec!["2.0".into(), "2.1".into()],
            types: vec!["malware".into()],
            ..q_all()
        },
        ObjectQuery {
            spec_versions: vec!["1.0".into()],
            ..q_all()
        },
        ObjectQuery {
            spec_versions: vec!["2.0".into()],
            types: vec!["tool".into()],
            ..q_all()
        },
        // Repeats (TAXII allows them) and more types than backends merge.
        ObjectQuery {
            types: vec!["malware".into(), "tool".into(), "malware".into()],
            ..q_all()
        },
        ObjectQuery {
            types: (0..crate::MAX_TYPE_ARMS + 10)
                .map(|i| format!("x-{i}"))
                .chain(["tool".to_owned(), "tool".to_owned()])
                .collect(),
            ..q_all()
        },
    ];
    let version_filters = [
        VersionFilter::all(),
        VersionFilter::last(),
        with_versions(true, false, &[]).versions,
        with_versions(true, true, &[vkey(2).as_str()]).versions,
    ];
    for coll in [None, Some(c.id.clone())] {
        for versions in &version_filters {
            let everything = run(
                s,
                &ObjectQuery {
                    collection: coll.clone(),
                    versions: versions.clone(),
                    ..q_all()
                },
            );
            for f in &filters {
                let q = ObjectQuery {
                    collection: coll.clone(),
                    versions: versions.clone(),
                    ..f.clone()
                };
                let want: Vec<StoredObject> = everything
                    .iter()
                    .filter(|o| {
                        (q.ids.is_empty() || q.ids.contains(&o.id))
                            && (q.types.is_empty() || q.types.contains(&o.ty))
                            && (q.spec_versions.is_empty()
                                || q.spec_versions.contains(&o.spec_version))
                    })
                    .cloned()
                    .collect();
                assert_eq!(run(s, &q), want, "{q:?}");
                assert_eq!(page_all(s, &q, 3), want, "paging in threes: {q:?}");
                // A cursor past the middle: the rest, in order.
                if let Some(mid) = want.get(want.len() / 2) {
                    let rest = run(
                        s,
                        &ObjectQuery {
                            after: Some(mid.date_added),
                            ..q.clone()
                        },
                    );
                    assert_eq!(rest, want[want.len() / 2 + 1..].to_vec(), "after: {q:?}");
                }
            }
        }
    }
}

/// A NUL character (U+0000, `\u0000` in the JSON text: STIX 2.1 strings may
/// hold any Unicode character) in an object's name, aliases, description and
/// external ids is stored, returned byte for byte and searchable by its other
/// words on every backend, even those whose text columns cannot hold NUL
/// (issue 12 §4); lookups of a status, user or token whose id holds NUL
/// find nothing rather than fail.
pub fn nul_in_strings_round_trips(s: &dyn Store) {
    let c = collection(s, 1, "Nul", Some("nul"));
    let o = obj(&json!({
        "type": "malware", "spec_version": "2.1", "id": sid("malware", 1),
        "created": ts(0), "modified": ts(1), "is_family": true,
        "name": "zeroday\u{0}dropper", "aliases": ["nul\u{0}alias"],
        "description": "a \u{0} in the quokkaware description",
        "external_references": [{"source_name": "x\u{0}y", "external_id": "X\u{0}1"}]
    }));
    assert!(o.raw.contains("\\u0000"), "{}", o.raw);
    for coll in [None, Some(c.id.as_str())] {
        assert!(matches!(put1(s, &o, coll), PutOutcome::Added { .. }));
    }
    for coll in [None, Some(c.id.clone())] {
        let got = run(
            s,
            &ObjectQuery {
                collection: coll,
                ..q_all()
            },
        );
        assert_eq!(raws(&got), vec![o.raw.as_str()]);
    }
    let hits = s.search("quokkaware", 10).expect("search");
    assert_eq!(
        hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
        vec![o.meta.id.as_str()]
    );
    assert_eq!(s.search("zeroday", 10).expect("search").len(), 1);
    assert_eq!(
        s.lookup_external_id("X\u{0}1").expect("lookup"),
        vec![o.meta.id.clone()]
    );
    assert!(s.lookup_external_id("X1").expect("lookup").is_empty());
    assert_eq!(s.status("status\0", 0).expect("status"), None);
    assert_eq!(s.user("ad\0min").expect("user"), None);
    assert_eq!(s.token("tok\0en").expect("token"), None);
    let problems = s.check().expect("check");
    assert!(problems.is_empty(), "{problems:?}");
}
