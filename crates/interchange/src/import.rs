//! Import: split each input into objects, validate them in parallel, and put the
//! valid ones into the store in ONE transaction for the whole import.

use rayon::prelude::*;
use serde_json::Value;
use sightline_stix::Validator;
use sightline_store::{NewObject, PutOutcome, Store, StoreError};

use crate::read::{split_objects, Input, ReadError};

/// Objects validated per parallel batch: large enough to keep both cores busy,
/// small enough that memory stays near the input size (three batches are in
/// flight: one validating, one queued, one being written).
const BATCH: usize = 512;

/// One validated batch: objects ready to store (with their warning count) or rejections.
type Checked = Vec<Result<(NewObject, u64), Rejection>>;

/// The default cap on one object's JSON text. Real objects are kilobytes; a
/// bigger one is an attack or a mistake, and would cost memory many times its size.
pub const DEFAULT_MAX_OBJECT_BYTES: usize = 64 << 20;

/// How many conflicting ids an [`ImportReport`] keeps (the count is exact).
pub const MAX_CONFLICT_IDS: usize = 10;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Add every imported version to this collection (id or alias; must exist).
    pub collection: Option<String>,
    /// Any invalid object rejects the whole import.
    pub strict: bool,
    /// Objects whose JSON text is longer are rejected unparsed.
    pub max_object_bytes: usize,
    /// Entity resolution after the commit (`--merge-by`): see [`crate::merge`].
    pub merge_by: Option<crate::merge::MergeBy>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            collection: None,
            strict: false,
            max_object_bytes: DEFAULT_MAX_OBJECT_BYTES,
            merge_by: None,
        }
    }
}

/// Why one object was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub file: String,
    /// 0-based position of the object in its input.
    pub index: usize,
    /// 1-based line, for JSON Lines input.
    pub line: Option<usize>,
    pub id: Option<String>,
    /// Why, one line each, as the CLI prints it.
    pub errors: Vec<String>,
    /// The validator's findings behind `errors` when it refused the object
    /// (each of `errors` is one's `Display`); empty when the object was
    /// refused before validation (unreadable, too big, not JSON).
    pub diagnostics: Vec<sightline_stix::Diagnostic>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileReport {
    pub name: String,
    pub objects: u64,
    pub new: u64,
    pub duplicate: u64,
    /// Versions not stored: different content under an id and version the
    /// collection (or, without one, the store) already holds.
    pub conflicts: u64,
    pub rejected: u64,
    pub warnings: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub files: Vec<FileReport>,
    pub rejections: Vec<Rejection>,
    /// The first [`MAX_CONFLICT_IDS`] conflicting `(id, version)` pairs, in input order.
    pub conflict_ids: Vec<(String, Option<String>)>,
    /// False when `strict` rejected everything (or nothing was valid to commit).
    pub committed: bool,
    /// What `merge_by` linked (after the import's own commit).
    pub merge: Option<crate::merge::MergeReport>,
}

impl ImportReport {
    pub fn new_count(&self) -> u64 {
        self.files.iter().map(|f| f.new).sum()
    }
    pub fn duplicate_count(&self) -> u64 {
        self.files.iter().map(|f| f.duplicate).sum()
    }
    pub fn conflict_count(&self) -> u64 {
        self.files.iter().map(|f| f.conflicts).sum()
    }
    pub fn rejected_count(&self) -> u64 {
        self.files.iter().map(|f| f.rejected).sum()
    }
    pub fn object_count(&self) -> u64 {
        self.files.iter().map(|f| f.objects).sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Imports `inputs` into `store`. An unreadable input (bad JSON, truncated)
/// aborts the whole import before anything is committed. `progress` is called
/// with the number of objects processed so far.
pub fn import(
    store: &dyn Store,
    validator: &Validator,
    inputs: &[Input],
    opts: &ImportOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ImportReport, ImportError> {
    // Split everything first: a malformed file must fail the import before any
    // write starts.
    let docs = inputs
        .iter()
        .map(|i| split_objects(&i.name, &i.bytes).map(|d| (i.name.as_str(), d)))
        .collect::<Result<Vec<_>, _>>()?;

    let mut report = ImportReport::default();
    // Stored objects that name an ATT&CK/CVE entity, for `merge_by`.
    let mut merge_candidates: Vec<String> = Vec::new();
    let mut txn = store.begin()?;
    let mut done = 0u64;
    // Validation (parallel, rayon) runs one batch ahead of the single-threaded
    // store writes, so the import costs about max(validate, write), not the sum.
    std::thread::scope(|scope| -> Result<(), ImportError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Checked)>(2);
        let docs_ref = &docs;
        scope.spawn(move || {
            for (file_idx, (name, doc)) in docs_ref.iter().enumerate() {
                // One regex compile budget per file (P035), as per TAXII envelope.
                let budget = sightline_stix::RegexBudget::for_input(
                    inputs.get(file_idx).map_or(0, |i| i.bytes.len()),
                );
                for chunk in doc.items.chunks(BATCH) {
                    let checked: Checked = chunk
                        .par_iter()
                        .map(|item| {
                            check_item(validator, &budget, opts.max_object_bytes, name, item)
                        })
                        .collect();
                    if tx.send((file_idx, checked)).is_err() {
                        return; // the writer stopped on an error
                    }
                }
            }
        });
        report.files = docs
            .iter()
            .map(|(name, _)| FileReport {
                name: (*name).to_owned(),
                ..FileReport::default()
            })
            .collect();
        for (file_idx, checked) in rx {
            let fr = &mut report.files[file_idx];
            done += checked.len() as u64;
            for c in checked {
                fr.objects += 1;
                match c {
                    Ok((obj, warns)) => {
                        fr.warnings += warns;
                        let outcome = txn.put(&obj, opts.collection.as_deref())?;
                        if opts.merge_by.is_some()
                            && outcome != PutOutcome::Conflict
                            && crate::merge::is_candidate(&obj.meta)
                        {
                            merge_candidates.push(obj.meta.id.clone());
                        }
                        match outcome {
                            PutOutcome::Added { .. } => fr.new += 1,
                            PutOutcome::Duplicate { .. } => fr.duplicate += 1,
                            PutOutcome::Conflict => {
                                fr.conflicts += 1;
                                if report.conflict_ids.len() < MAX_CONFLICT_IDS {
                                    report
                                        .conflict_ids
                                        .push((obj.meta.id.clone(), obj.meta.version.clone()));
                                }
                            }
                        }
                    }
                    Err(r) => {
                        fr.rejected += 1;
                        report.rejections.push(r);
                    }
                }
            }
            progress(done);
        }
        Ok(())
    })?;
    if opts.strict && !report.rejections.is_empty() {
        drop(txn); // rolls back
        for f in &mut report.files {
            f.new = 0;
            f.duplicate = 0;
            f.conflicts = 0;
        }
        report.conflict_ids.clear();
        return Ok(report);
    }
    txn.commit()?;
    report.committed = true;
    if opts.merge_by.is_some() {
        merge_candidates.sort_unstable();
        merge_candidates.dedup();
        report.merge = Some(crate::merge::merge_by_external_id(
            store,
            &merge_candidates,
            opts.collection.as_deref(),
            now_micros(),
        )?);
    }
    Ok(report)
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn check_item(
    validator: &Validator,
    budget: &sightline_stix::RegexBudget,
    max_bytes: usize,
    file: &str,
    item: &crate::read::Item<'_>,
) -> Result<(NewObject, u64), Rejection> {
    let reject = |id: Option<String>, errors: Vec<String>, diagnostics| Rejection {
        file: file.to_owned(),
        index: item.index,
        line: item.line,
        id,
        errors,
        diagnostics,
    };
    let unread = |why: String| reject(None, vec![why], Vec::new());
    let raw = item.raw.as_ref().map_err(|e| unread(e.clone()))?;
    if raw.len() > max_bytes {
        return Err(unread(too_big(raw.len(), max_bytes)));
    }
    let value: Value = serde_json::from_str(raw).map_err(|e| unread(e.to_string()))?;
    let id = value.get("id").and_then(Value::as_str).map(str::to_owned);
    let (meta, warns) = validator.admit_within(&value, budget).map_err(|diags| {
        let errors = diags.iter().map(ToString::to_string).collect();
        reject(id, errors, diags)
    })?;
    Ok((
        NewObject {
            meta,
            raw: (*raw).to_owned(),
        },
        warns as u64,
    ))
}

/// The rejection message for an object over the size limit.
pub fn too_big(len: usize, max: usize) -> String {
    format!("object is {len} bytes of JSON, above the limit of {max} bytes (--max-object-bytes)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_store::MemoryStore;

    /// A refused object carries the validator's findings as data beside their
    /// text; one refused before validation (not JSON) carries none (issue 17 §2).
    #[test]
    fn rejections_carry_the_validators_diagnostics() {
        let good = r#"{"type":"identity","spec_version":"2.1","id":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"A","identity_class":"organization"}"#;
        // STIX 2.1 §4.5: identity requires `name`.
        let nameless = good.replace(r#""name":"A","#, "");
        let input = Input {
            name: "feed.jsonl".into(),
            bytes: format!("{good}\n{nameless}\n{{\"type\":\n").into_bytes(),
        };
        let store = MemoryStore::new();
        let opts = ImportOptions::default();
        let r = import(&store, &Validator::new(), &[input], &opts, &|_| {}).expect("import");
        assert_eq!(r.rejections.len(), 2, "{r:?}");
        let unparsed = &r.rejections[1];
        assert_eq!(unparsed.line, Some(3));
        assert!(unparsed.diagnostics.is_empty(), "{unparsed:?}");
        assert_eq!(unparsed.errors.len(), 1, "{unparsed:?}");
        let x = &r.rejections[0];
        assert_eq!(x.line, Some(2));
        let d = x
            .diagnostics
            .iter()
            .find(|d| d.code == "E101")
            .expect("E101");
        assert_eq!(d.pointer(), "/name");
        let shown: Vec<String> = x.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(x.errors, shown);
    }
}
