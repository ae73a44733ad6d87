//! `sightline copy --from SPEC --to SPEC`: move a whole store to another
//! backend (`sqlite:DIR` ↔ `postgres://…`), e.g. when a hub outgrows one
//! machine.
//!
//! Copied: accounts (users with their password hashes, tokens with their
//! revoked flags), collections, every stored row (object versions and their
//! variants: other bytes under a key, kept for the collections they were put
//! into) with its `date_added`, and every collection membership, naming its
//! row by id, version key and raw text, with its own `date_added`, so TAXII
//! clients' `added_after` bookmarks and the paging order stay valid on the
//! new store, and the feeds' records (`sightline_feeds::registry`: feed
//! definitions and each feed's state, its cursor among them), so every feed
//! goes on pulling from where it was instead of from the start. Not copied:
//! TAXII status resources (short-lived by design).
//!
//! The target must be empty (a fresh store). Versions and memberships are
//! written in ONE transaction: a copy that fails leaves no objects behind.
//! Afterwards the counts of both stores are compared.

use std::path::PathBuf;

use anyhow::Context;
use sightline_server::store::StoreSpec;
use sightline_stix::ObjectMeta;
use sightline_store::{NewObject, ObjectQuery, Store, VersionFilter};

use crate::output::with_stdout;
use crate::{Failure, Outcome};

/// Items read per page from the source.
const PAGE: usize = 5_000;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The store to read: `sqlite:DIR`, a directory, or `postgres://…`.
    #[arg(long, value_name = "SPEC")]
    from: String,
    /// The store to write (must be empty): `sqlite:DIR`, a directory, or `postgres://…`.
    #[arg(long, value_name = "SPEC")]
    to: String,
}

/// What was copied.
#[derive(Debug, Default)]
struct Copied {
    users: u64,
    tokens: u64,
    collections: u64,
    versions: u64,
    memberships: u64,
    feed_records: u64,
}

pub fn run(args: Args) -> Result<Outcome, Failure> {
    let parse = |what: &str, s: &str| {
        StoreSpec::parse(s).map_err(|e| Failure::Input(format!("--{what}: {e}")))
    };
    let (from, to) = (parse("from", &args.from)?, parse("to", &args.to)?);
    if from == to {
        return Err(Failure::Input("--from and --to name the same store".into()));
    }
    if let StoreSpec::Sqlite(d) = &from {
        if !d.join(sightline_store_sqlite::DB_FILE).exists() {
            return Err(Failure::Store(format!(
                "--from {from}: no store there ({} is missing)",
                PathBuf::from(d)
                    .join(sightline_store_sqlite::DB_FILE)
                    .display()
            )));
        }
    }
    let src = from
        .open()
        .map_err(|e| Failure::Store(format!("--from {from}: {e}")))?;
    let dst = to
        .open()
        .map_err(|e| Failure::Store(format!("--to {to}: {e}")))?;
    let stats = dst.stats()?;
    if stats.versions > 0 || stats.collections > 0 || !dst.users()?.is_empty() {
        return Err(Failure::Store(format!(
            "--to {to}: not empty ({} versions, {} collections); copy only into a new store",
            stats.versions, stats.collections
        )));
    }
    let n = copy(src.as_ref(), dst.as_ref()).map_err(|e| {
        match e.downcast::<sightline_store::StoreError>() {
            Ok(s) => Failure::Store(format!("copying {from} to {to}: {s}")),
            Err(e) => Failure::Other(e.context(format!("copying {from} to {to}"))),
        }
    })?;
    // The copy must be whole: compare what both stores count.
    let (a, b) = (src.stats()?, dst.stats()?);
    if a != b {
        return Err(Failure::Store(format!(
            "the copy differs from the source: {a:?} vs {b:?}"
        )));
    }
    with_stdout(|w| {
        writeln!(
            w,
            "copied {from} to {to}: {} versions ({} objects), {} collections, {} memberships, {} users, {} tokens, {} feed records",
            n.versions, b.objects, n.collections, n.memberships, n.users, n.tokens, n.feed_records
        )
    })
    .map_err(|e| Failure::Other(e.into()))?;
    Ok(Outcome::Ok)
}

fn copy(src: &dyn Store, dst: &dyn Store) -> anyhow::Result<Copied> {
    let mut n = Copied::default();
    for u in src.users()? {
        dst.add_user(&u)?;
        n.users += 1;
    }
    for t in src.tokens(None)? {
        dst.create_token(&t)?;
        n.tokens += 1;
    }
    let collections = src.collections()?;
    for c in &collections {
        dst.create_collection(c)?;
        n.collections += 1;
    }
    let mut txn = dst.begin()?;
    // Every row, oldest date_added first (so each key's first arrival comes
    // before its variants), with its date.
    for_each(src, None, &mut |o| {
        let v: serde_json::Value = serde_json::from_str(&o.raw)
            .with_context(|| format!("{}: the stored JSON does not parse", o.id))?;
        let meta = ObjectMeta::extract(&v)
            .with_context(|| format!("{}: the stored object has no valid metadata", o.id))?;
        txn.restore_version(&NewObject { meta, raw: o.raw }, o.date_added)?;
        n.versions += 1;
        Ok(())
    })?;
    // Every membership, with the date it joined its collection.
    for c in &collections {
        for_each(src, Some(&c.id), &mut |o| {
            txn.restore_membership(&c.id, &o.id, &o.version_key, &o.raw, o.date_added)?;
            n.memberships += 1;
            Ok(())
        })?;
    }
    // The feeds' definitions and cursors, in the objects' transaction: the
    // new store's cursors never run ahead of the objects it holds.
    let feeds = sightline_feeds::registry::records(src)?;
    sightline_feeds::registry::restore(&mut *txn, &feeds)?;
    n.feed_records = feeds.len() as u64;
    txn.commit()?;
    Ok(n)
}

/// Calls `f` on every version (in `collection`, when given), by keyset pages.
fn for_each(
    s: &dyn Store,
    collection: Option<&str>,
    f: &mut dyn FnMut(sightline_store::StoredObject) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let q = ObjectQuery {
        collection: collection.map(str::to_owned),
        versions: VersionFilter::all(),
        limit: PAGE,
        ..ObjectQuery::default()
    };
    sightline_store::for_each_page(s, &q, |o| f(o.to_stored())).map(drop)
}
