//! Object queries: TAXII 2.1 §3.4 filters and keyset paging by `date_added`.

use crate::{DateAdded, ObjectReader, StoreError, StoredObject};

/// Which versions of each object a query returns (TAXII 2.1 §3.4.1 `match[version]`).
/// Several may be combined, as `match[version]=first,last` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionFilter {
    pub first: bool,
    pub last: bool,
    pub all: bool,
    /// Exact versions, as [`sightline_stix::Timestamp::sort_key`]s.
    pub at: Vec<String>,
}

impl VersionFilter {
    /// The TAXII default: the latest version only.
    pub fn last() -> Self {
        Self {
            first: false,
            last: true,
            all: false,
            at: Vec::new(),
        }
    }
    pub fn all() -> Self {
        Self {
            first: false,
            last: false,
            all: true,
            at: Vec::new(),
        }
    }
}

impl Default for VersionFilter {
    fn default() -> Self {
        Self::last()
    }
}

/// Up to this many distinct `types` in one query, backends may answer with
/// one index range per type, merged (a filter that matches nothing then
/// costs a probe per type: issue 12 §3); beyond it, they scan in
/// `date_added` order and filter, as for no type filter. Above any real
/// query (STIX 2.1 defines 38 object types) and below SQLite's limit of 500
/// terms in a compound SELECT.
pub const MAX_TYPE_ARMS: usize = 64;

/// A query over objects. Empty lists mean "no filter on this field". Filters on
/// different fields are AND-ed, values within one field OR-ed (TAXII 2.1 §3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectQuery {
    /// Only versions in this collection (id or alias); `date_added` is then the
    /// time each version was added to the collection.
    pub collection: Option<String>,
    pub ids: Vec<String>,
    pub types: Vec<String>,
    pub versions: VersionFilter,
    pub spec_versions: Vec<String>,
    /// Only versions added strictly after this (TAXII `added_after`).
    pub added_after: Option<DateAdded>,
    /// The keyset cursor: the `date_added` of the last item of the previous page.
    pub after: Option<DateAdded>,
    /// At most this many items (backends may cap it).
    pub limit: usize,
}

impl Default for ObjectQuery {
    fn default() -> Self {
        Self {
            collection: None,
            ids: Vec::new(),
            types: Vec::new(),
            versions: VersionFilter::last(),
            spec_versions: Vec::new(),
            added_after: None,
            after: None,
            limit: 1000,
        }
    }
}

/// One page of results, ascending by `date_added`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub items: Vec<StoredObject>,
    /// Whether more items match after the last one.
    pub more: bool,
}

impl Page {
    /// The cursor for the next page (`ObjectQuery::after`), when there is one.
    pub fn next_cursor(&self) -> Option<DateAdded> {
        if self.more {
            self.items.last().map(|o| o.date_added)
        } else {
            None
        }
    }
}

/// One stored row, borrowed: what [`crate::ObjectReader::query_each`] hands its
/// callback, so a caller streaming a page (the TAXII envelope) copies each
/// object's JSON once, into its output, and allocates nothing per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectRow<'a> {
    pub id: &'a str,
    pub ty: &'a str,
    pub spec_version: &'a str,
    pub version: Option<&'a str>,
    pub version_key: &'a str,
    pub date_added: DateAdded,
    pub revoked: bool,
    pub raw: &'a str,
}

impl ObjectRow<'_> {
    pub fn to_stored(&self) -> StoredObject {
        StoredObject {
            id: self.id.to_owned(),
            ty: self.ty.to_owned(),
            spec_version: self.spec_version.to_owned(),
            version: self.version.map(str::to_owned),
            version_key: self.version_key.to_owned(),
            date_added: self.date_added,
            revoked: self.revoked,
            raw: self.raw.to_owned(),
        }
    }
}

impl StoredObject {
    pub fn as_row(&self) -> ObjectRow<'_> {
        ObjectRow {
            id: &self.id,
            ty: &self.ty,
            spec_version: &self.spec_version,
            version: self.version.as_deref(),
            version_key: &self.version_key,
            date_added: self.date_added,
            revoked: self.revoked,
            raw: &self.raw,
        }
    }
}

/// What [`crate::ObjectReader::query_each`] saw: the rows of a [`Page`]
/// without the rows themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageSummary {
    /// Rows handed to the callback (at most the query's limit).
    pub count: usize,
    pub more: bool,
    pub first: Option<DateAdded>,
    pub last: Option<DateAdded>,
}

impl PageSummary {
    /// Counts one row (in order).
    pub fn saw(&mut self, date_added: DateAdded) {
        self.count += 1;
        self.first.get_or_insert(date_added);
        self.last = Some(date_added);
    }

    /// The cursor for the next page, as [`Page::next_cursor`].
    pub fn next_cursor(&self) -> Option<DateAdded> {
        if self.more {
            self.last
        } else {
            None
        }
    }
}

/// The latest version of each of `ids` (those stored; in `collection` when
/// given), in id chunks of 500
/// so the query stays within every backend's bound on bound parameters,
/// each chunk read with [`for_each_page`]. Returns how many rows `each`
/// accepted. The one home for "the latest of these ids" (names, targets,
/// sightings and opinions to score, merge candidates).
pub fn for_each_latest_of<R, E>(
    reader: &R,
    collection: Option<&str>,
    ids: &[String],
    mut each: impl FnMut(&ObjectRow<'_>) -> Result<(), E>,
) -> Result<u64, E>
where
    R: ObjectReader + ?Sized,
    E: From<StoreError>,
{
    let mut n = 0;
    for chunk in ids.chunks(500) {
        let q = ObjectQuery {
            collection: collection.map(str::to_owned),
            ids: chunk.to_vec(),
            versions: VersionFilter::last(),
            limit: 5000,
            ..ObjectQuery::default()
        };
        n += for_each_page(reader, &q, &mut each)?;
    }
    Ok(n)
}

/// Every row `query` matches, page after page: keyset pages of `query.limit`
/// rows (the page size; 0 reads nothing) from `query.after` on, each handed
/// borrowed to `each`, in `date_added` order, until a page has no next
/// cursor. Stops at the first error `each` returns (the rest of that page is
/// skipped). Returns how many rows `each` accepted.
///
/// The one "page until there is no next cursor" loop (export, copy, ...):
/// the cursor contract ([`PageSummary::next_cursor`]) lives here only.
pub fn for_each_page<R, E>(
    reader: &R,
    query: &ObjectQuery,
    mut each: impl FnMut(&ObjectRow<'_>) -> Result<(), E>,
) -> Result<u64, E>
where
    R: ObjectReader + ?Sized,
    E: From<StoreError>,
{
    let mut q = query.clone();
    let mut n = 0u64;
    loop {
        let mut failed = None;
        let summary = reader.query_each(&q, &mut |row| {
            if failed.is_none() {
                match each(row) {
                    Ok(()) => n += 1,
                    Err(e) => failed = Some(e),
                }
            }
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        match summary.next_cursor() {
            Some(c) => q.after = Some(c),
            None => return Ok(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::sdo;
    use crate::{MemoryStore, ObjectWriter};

    /// Pages of 3 over 10 rows: every row once, in order, from the cursor
    /// given; an error from the callback stops the walk at once.
    #[test]
    fn for_each_page_walks_every_page_and_stops_on_error() {
        let s = MemoryStore::new();
        let mut t = s.begin().expect("begin");
        for n in 0..10 {
            t.put(&sdo("tool", n, 1), None).expect("put");
        }
        t.commit().expect("commit");
        let q = ObjectQuery {
            limit: 3,
            ..ObjectQuery::default()
        };
        let mut seen = Vec::new();
        let n = for_each_page(&s, &q, |r| {
            seen.push(r.date_added);
            Ok::<_, StoreError>(())
        })
        .expect("walk");
        assert_eq!(n, 10);
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
        let from_fourth = ObjectQuery {
            after: Some(seen[3]),
            ..q.clone()
        };
        let rest = for_each_page(&s, &from_fourth, |_| Ok::<_, StoreError>(())).expect("rest");
        assert_eq!(rest, 6);
        let mut calls = 0;
        let e = for_each_page(&s, &q, |_| {
            calls += 1;
            if calls == 5 {
                Err(StoreError::Invalid("stop".into()))
            } else {
                Ok(())
            }
        });
        assert!(matches!(e, Err(StoreError::Invalid(_))));
        assert_eq!(calls, 5);
    }

    /// 1,200 ids (three chunks), two versions each, some ids not stored:
    /// each stored id once, at its latest version.
    #[test]
    fn for_each_latest_of_reads_the_latest_of_every_chunk() {
        let s = MemoryStore::new();
        let mut t = s.begin().expect("begin");
        for n in 0..1200 {
            t.put(&sdo("tool", n, 1), None).expect("put");
            t.put(&sdo("tool", n, 2), None).expect("put");
        }
        t.commit().expect("commit");
        let mut ids: Vec<String> = (0..1200)
            .map(|n| crate::conformance::sid("tool", n))
            .collect();
        ids.push(crate::conformance::sid("tool", 5000));
        let mut seen = std::collections::HashMap::new();
        let n = for_each_latest_of(&s, None, &ids, |r| {
            *seen.entry(r.id.to_owned()).or_insert(0) += 1;
            assert!(r.raw.contains("00:00:02"), "{}", r.raw);
            Ok::<_, StoreError>(())
        })
        .expect("walk");
        assert_eq!(n, 1200);
        assert_eq!(seen.len(), 1200);
        assert!(seen.values().all(|&c| c == 1));
    }
}
