//! TAXII status resources (`statuses`, migration V3). Written inside the
//! objects' transaction ([`crate::write`]); the server purges expired rows
//! periodically, so the table holds about one TTL's worth.

use rusqlite::{params, OptionalExtension};
use sightline_store::{Result, StatusStore, StoredStatus};

use crate::{Ctx, SqliteStore};

impl StatusStore for SqliteStore {
    fn status(&self, id: &str, now: u64) -> Result<Option<StoredStatus>> {
        let conn = self.reader()?;
        conn.prepare_cached(
            "SELECT id, api_root, owner, expires, body FROM statuses WHERE id = ?1 AND expires >= ?2",
        )
        .and_then(|mut s| {
            s.query_row(params![id, clamp(now)], status_row)
            .optional()
        })
        .ctx(&self.path)
    }

    fn purge_statuses(&self, now: u64) -> Result<u64> {
        let conn = self.lock_writer();
        purge(&conn, now).ctx(&self.path)
    }

    fn statuses_of_root(&self, api_root: &str) -> Result<Vec<StoredStatus>> {
        let conn = self.reader()?;
        conn.prepare_cached(
            "SELECT id, api_root, owner, expires, body FROM statuses WHERE api_root = ?1 ORDER BY id",
        )
        .and_then(|mut s| {
            s.query_map(params![api_root], status_row)?
            .collect()
        })
        .ctx(&self.path)
    }
}

pub(crate) fn put(conn: &rusqlite::Connection, s: &StoredStatus) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO statuses (id, api_root, owner, expires, body) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![s.id, s.api_root, s.owner, clamp(s.expires), s.body])?;
    Ok(())
}

fn purge(conn: &rusqlite::Connection, now: u64) -> rusqlite::Result<u64> {
    let n = conn
        .prepare_cached("DELETE FROM statuses WHERE expires < ?1")?
        .execute([clamp(now)])?;
    Ok(n as u64)
}

fn clamp(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

/// A `statuses` row (`id, api_root, owner, expires, body`).
fn status_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredStatus> {
    Ok(StoredStatus {
        id: r.get(0)?,
        api_root: r.get(1)?,
        owner: r.get(2)?,
        expires: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
        body: r.get(4)?,
    })
}
