//! Test support for the workspace's tests: a dev-dependency only, never a
//! normal one (`scripts/check-layers` fails if a crate depends on it otherwise).
//!
//! - [`pg`]: a fresh PostgreSQL database per test ([`pg::TestDb`]) on the
//!   cluster named by `SIGHTLINE_TEST_PG`, or, when that is unset, on a
//!   private cluster testkit starts itself (with `scripts/pg`) when PostgreSQL
//!   is installed; otherwise the test fails saying how to get PostgreSQL.
//! - [`http`]: the blocking TAXII client and the `Authorization` values the
//!   server and binary tests send.
//! - [`config`]: the one-API-root, one-collection server config the server
//!   and binary tests start from.
//!
//! Test code: it panics (with a message) where a test cannot go on.

#![allow(clippy::missing_panics_doc)]

pub mod config;
pub mod http;
pub mod pg;
