//! Embedded references as every backend indexes them for
//! [`crate::ObjectReader::referrers_of`]: [`sightline_stix::ObjectMeta::refs`],
//! extracted with the other indexed fields (here for backends and the graph).

pub use sightline_stix::refs::{embedded_refs, indexed_refs, indexed_refs_of};
