//! The POST floor on an LSM engine (issue 3: POST >= 50,000 objects/s).
//!
//!     lsm-floor DIR PREFILL ENVELOPES
//!
//! The counterpart of `bench/post_floor.py` (SQLite alone under the store's
//! schema) on fjall 2.11: the same rows as key/value pairs, one partition per
//! SQLite table or index (`versions` by date_added, `versions_id`,
//! `versions_latest`/`_first`/`_type`/`_type_latest`, `members`,
//! `members_latest`/`_first`, `members_version`; no full-text index), the same
//! lookup by id before each put, one atomic batch per envelope of 1,000, and
//! `persist(SyncAll)` (fsync) before the envelope counts as acknowledged, as
//! SQLite's `synchronous = FULL` commit does. Prints one JSON line.
//!
//! `LSM_LOOKUP` picks the lookup before each put: `prefix` (default; what the
//! store needs: every version of the id), `get` (one exact key, where bloom
//! filters answer most misses), or `none` (no lookup: what an in-memory
//! filter of known ids would leave for a new id).

use std::time::Instant;

use fjall::{Batch, Config, Keyspace, PartitionCreateOptions, PartitionHandle, PersistMode};

const VK: &str = "2026-11-25T10:00:00.000Z";
const CID: u64 = 1;

struct Store {
    ks: Keyspace,
    versions: PartitionHandle,
    ids: PartitionHandle,
    latest: PartitionHandle,
    first: PartitionHandle,
    by_type: PartitionHandle,
    type_latest: PartitionHandle,
    members: PartitionHandle,
    members_latest: PartitionHandle,
    members_first: PartitionHandle,
    members_version: PartitionHandle,
    lookup: Lookup,
    next: u64,
}

/// The lookup by id before each put (`LSM_LOOKUP`, read once).
#[derive(Clone, Copy, Debug)]
enum Lookup {
    Prefix,
    Get,
    None,
}

impl Lookup {
    fn from_env() -> Result<Self, String> {
        match std::env::var("LSM_LOOKUP").as_deref() {
            Err(_) | Ok("prefix") => Ok(Lookup::Prefix),
            Ok("get") => Ok(Lookup::Get),
            Ok("none") => Ok(Lookup::None),
            Ok(other) => Err(format!(
                "LSM_LOOKUP={other:?}: expected prefix, get or none"
            )),
        }
    }
}

fn be(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

impl Store {
    fn open(dir: &str, lookup: Lookup) -> fjall::Result<Self> {
        let ks = Config::new(dir).open()?;
        let p = |name: &str| ks.open_partition(name, PartitionCreateOptions::default());
        Ok(Store {
            versions: p("versions")?,
            ids: p("versions_id")?,
            latest: p("versions_latest")?,
            first: p("versions_first")?,
            by_type: p("versions_type")?,
            type_latest: p("versions_type_latest")?,
            members: p("members")?,
            members_latest: p("members_latest")?,
            members_first: p("members_first")?,
            members_version: p("members_version")?,
            ks,
            lookup,
            next: 1,
        })
    }

    /// One new indicator: the lookup by id (a put must know the id's other
    /// versions), then its rows into `batch`.
    fn put(&mut self, batch: &mut Batch, id: &str, raw: &str) -> fjall::Result<()> {
        let key = cat(&[id.as_bytes(), &[0]]);
        let exact = cat(&[&key, VK.as_bytes()]);
        let known = match self.lookup {
            Lookup::None => false,
            Lookup::Get => self.ids.get(&exact)?.is_some(),
            Lookup::Prefix => self.ids.prefix(&key).next().transpose()?.is_some(),
        };
        if known {
            return Ok(()); // a known id: not in this workload
        }
        let d = be(self.next);
        self.next += 1;
        batch.insert(&self.versions, d, raw);
        batch.insert(&self.ids, exact, d);
        batch.insert(&self.latest, d, []);
        batch.insert(&self.first, d, []);
        batch.insert(&self.by_type, cat(&[b"indicator\0", &d]), []);
        batch.insert(&self.type_latest, cat(&[b"indicator\0", &d]), []);
        let m = cat(&[&be(CID), &d]);
        batch.insert(&self.members, &m, cat(&[&d, id.as_bytes()]));
        batch.insert(&self.members_latest, &m, []);
        batch.insert(&self.members_first, &m, []);
        batch.insert(&self.members_version, cat(&[&d, &be(CID)]), d);
        Ok(())
    }

    fn envelope(&mut self, objects: &[(String, String)], sync: bool) -> fjall::Result<()> {
        let mut batch = self.ks.batch();
        for (id, raw) in objects {
            self.put(&mut batch, id, raw)?;
        }
        batch.commit()?;
        if sync {
            self.ks.persist(PersistMode::SyncAll)?;
        }
        Ok(())
    }
}

fn objects(n: usize, seq: &mut u64) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            *seq += 1;
            let id = format!("indicator--{}", uuid::Uuid::new_v4());
            let raw = format!(
                r#"{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"{VK}","modified":"{VK}","name":"bench post {i}","indicator_types":["malicious-activity"],"pattern":"[domain-name:value = 'c2-{:010x}.example.net']","pattern_type":"stix","valid_from":"{VK}"}}"#,
                *seq
            );
            (id, raw)
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, prefill, envelopes] = args.as_slice() else {
        return Err("usage: lsm-floor DIR PREFILL ENVELOPES".into());
    };
    let (prefill, envelopes): (usize, usize) = (prefill.parse()?, envelopes.parse()?);
    let lookup = Lookup::from_env()?;
    let mut s = Store::open(dir, lookup)?;
    let mut seq = 0;
    let t = Instant::now();
    let mut left = prefill;
    while left > 0 {
        let n = left.min(50_000);
        s.envelope(&objects(n, &mut seq), false)?;
        left -= n;
    }
    s.ks.persist(PersistMode::SyncAll)?;
    let prefill_s = t.elapsed().as_secs_f64();
    let work: Vec<_> = (0..envelopes).map(|_| objects(1000, &mut seq)).collect();
    let t = Instant::now();
    for e in &work {
        s.envelope(e, true)?;
    }
    let secs = t.elapsed().as_secs_f64();
    let n = envelopes * 1000;
    let lookup = format!("{lookup:?}").to_lowercase();
    println!(
        r#"{{"engine": "fjall 2.11.0", "lookup": "{lookup}", "prefill": {prefill}, "prefill_s": {prefill_s:.1}, "objects": {n}, "objects_per_s": {:.0}}}"#,
        n as f64 / secs
    );
    Ok(())
}
