//! SQLite-only behaviour: persistence, the clock across restarts, errors on
//! read-only and full disks, schema versions.
