//! `sightline-detect`: the detection run behind `sightline match` (and,
//! later, the server's), as a library.
//!
//! Indicators come from the store (latest versions of `indicator` objects
//! with `pattern_type: stix`) or a STIX file and are compiled into one
//! `IndicatorSet` ([`indicators`]). Events are read line by line through the
//! telemetry adapters (`sightline_interchange::telemetry`). Each observation
//! is first probed (the stateless half of matching: indexes, verification),
//! on the parsing threads when there are several, then fed in input order to
//! one `Matcher`, which keeps the state of multi-observation patterns
//! ([`run`]). Matches whose values are on a warninglist are suppressed and
//! counted ([`suppress`]). A Suricata alert of a rule `sightline export`
//! wrote names its indicator in its metadata and is taken as a match of
//! that indicator as it stands (no pattern is evaluated for it). With
//! recording, matches are folded into STIX sightings written to the store
//! ([`sightings`]); while following, also when the log is quiet.
//!
//! Nothing here writes to the terminal: results go to a [`Sink`], problems
//! come back as [`DetectError`].

pub mod error;
pub mod indicators;
pub mod listing;
pub mod lists;
pub mod reload;
pub mod run;
pub mod sightings;
pub mod suppress;

pub use error::DetectError;
pub use indicators::{Decay, Inactive, Indicated, Known, Loaded, Selection, Source};
pub use listing::{ListFilter, SightingRow};
pub use reload::ListSource;
pub use run::{format, Counts, Detector, Found, Options, Sink, Summary};
pub use sightings::{Flushed, Position, Sightings, DEFAULT_COLLECTION, MAX_REFS};
pub use suppress::{suppressed_by, Suppression};
