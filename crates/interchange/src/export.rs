//! Export: stream a store's objects out as one bundle, page by page (keyset),
//! writing each object's stored JSON unchanged.

use std::io::Write;

use sightline_stix::StixId;
use sightline_store::{ObjectQuery, Store, StoreError};

/// Objects fetched per page; each page is one cheap index range scan.
const PAGE: usize = 5000;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes `{"type": "bundle", "id": ..., "objects": [...]}` with every object
/// matching `query` (its `after` and `limit` are managed here), one per line.
/// Returns the number of objects written.
pub fn export_bundle(
    store: &dyn Store,
    query: &ObjectQuery,
    out: &mut dyn Write,
) -> Result<u64, ExportError> {
    let mut q = query.clone();
    q.limit = PAGE;
    q.after = None;
    write!(
        out,
        "{{\"type\": \"bundle\", \"id\": \"{}\", \"objects\": [",
        StixId::new_v4("bundle")
    )?;
    let mut first = true;
    let n = sightline_store::for_each_page(store, &q, |o| {
        out.write_all(if first { b"\n" } else { b",\n" })?;
        first = false;
        out.write_all(o.raw.as_bytes())?;
        Ok::<_, ExportError>(())
    })?;
    out.write_all(b"\n]}\n")?;
    out.flush()?;
    Ok(n)
}
