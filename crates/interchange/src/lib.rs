//! Moving STIX content in and out: reading bundles, arrays, single objects and
//! JSON Lines (plain or gzip), validating and storing them in one transaction,
//! and streaming a store back out as a bundle.
//!
//! Objects are never re-serialised on the way in: the exact JSON text of each
//! object (a slice of the input) is what gets stored and exported.

pub mod export;
pub mod import;
pub mod merge;
pub mod read;
pub mod telemetry;

pub use export::{export_bundle, ExportError};
pub use import::{
    import, too_big, FileReport, ImportError, ImportOptions, ImportReport, Rejection,
    DEFAULT_MAX_OBJECT_BYTES,
};
pub use merge::{merge_by_external_id, MergeBy, MergeReport, MERGE_IDENTITY};
pub use read::{
    read_input, read_input_limited, split_objects, Document, Input, Item, ReadError, Shape,
    DEFAULT_MAX_DECOMPRESSED,
};
