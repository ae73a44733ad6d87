//! STIX 2.1 Patterning evaluation (Part 9): a slow, obviously-correct reference
//! evaluator and a compiled, indexed matcher that must agree with it. Pure: no
//! I/O, no async. Observations arrive as [`Observation`]s, whatever their source
//! (STIX observed-data, Zeek, Suricata: the adapters live in `sightline-interchange`).

pub mod compiled;
pub mod observation;
pub mod prepare;
pub mod reference;
pub mod temporal;
pub mod time;
pub mod value;
#[cfg(any(test, feature = "testing"))]
pub mod workload;

pub use compiled::{
    IndicatorSet, IndicatorSpec, Match, MatchError, Matcher, MatcherConfig, Probe, Probed, Reason,
    Rejected, SetStats,
};
pub use observation::{EventTime, Observation, ObservationError};
pub use prepare::{EvalError, PrepareError, Prepared};
pub use reference::evaluate;
pub use temporal::{ObsRef, TemporalConfig, TemporalStats, TookPart};
pub use value::{Object, Text, Value};
