//! End-to-end tests of the TAXII 2.1 router, in process (`tower::ServiceExt::oneshot`)
//! against `MemoryStore`. Each test names the TAXII 2.1 section it checks.
//! One test binary (see Cargo.toml), one module per area.

mod common;

mod auth;
mod authz;
mod bad_input;
mod collections;
mod discovery;
mod isolation;
mod media;
mod objects;
mod paging;
mod single;
