//! The binary's integration tests in one test binary (one link instead of
//! one per file, as ripgrep's tests/integration): each module was a
//! `tests/<name>.rs` of its own. `common` is what they share.
//!
//! Run one module with `cargo nextest run -p sightline -E 'binary(it) & test(/^serve::/)'`
//! or `cargo test -p sightline --test it serve::`.

mod common;

mod accounts;
mod cli;
mod cli_edges;
mod edge;
mod export_formats;
mod faults;
mod feeds;
mod golden;
mod help;
mod matching;
mod pattern_eval;
mod postgres;
mod report;
mod serve;
mod suricata_alerts;
mod verdict;
mod warninglist;
mod workbench;
