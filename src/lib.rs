//! retool-audit: who can reach what in a Retool organization, and since when.
//!
//! The pipeline runs one way; each module imports only those to its left:
//!
//! ```text
//! model ─┬─ retool ── collect ──┐
//!        ├─ store ──────────────┤
//!        ├─ analyze ── report ──┼── review ──┐
//!        └─ output ─────────────┘            ├── commands ── main
//!          config, doctor, fake, progress ───┘
//! ```
//!
//! - [`model`]: the records of an organization and of a review, plain data.
//! - [`retool`] (the wire) → [`collect`] (one complete [`model::OrgState`]).
//! - [`store`]: the SQLite history of snapshots and review campaigns.
//! - [`analyze`]: pure functions over states (effective access, accounts,
//!   changes).
//! - [`report`]: analysis results as tables, rendered as CSV, XLSX, HTML, JSON.
//! - [`review`]: the quarterly review loop (populations, workbooks, decisions,
//!   proof of revocation), built on the store, the analyses and the report
//!   writers.
//! - [`output`]: how files reach the disk safely (formula neutralizing, safe
//!   names, atomic staging), for report and review alike.
//! - [`fake`]: a simulated Retool served over real HTTP on loopback for tests
//!   and the demo.
//! - [`cli`], [`config`] and [`commands`]: the thin layer the binary calls.
//! - [`exit`]: the exit codes; every error type of the modules above says
//!   which one it means (a leaf every module may use).
//!
//! `tests/integration/layering.rs` fails on any import cycle between these.
//!
//! # Where a new feature goes
//!
//! - A Retool endpoint: one entry in [`retool::endpoints`] (path, paging per
//!   dialect, mandatory or not, scope, decoders); `doctor` probes it and a test
//!   holds the scope table of `docs/collection.md` to it.
//! - A field of a stored record: the struct in [`model`], its wire decoder in
//!   `retool`, one line in [`model::fields`] (the store's column and the change
//!   report's comparison come from it) and a migration.
//! - A report table: one file in `report/tables/` and one line in its `ALL` list.
//! - A subcommand: one file in `commands/`, its arguments in [`cli`].
//! - A new error: its type implements [`exit::Classify`] with an exhaustive
//!   `match`, and `?` carries the exit code to `main`.
//! - What the simulated Retool serves: `fake/org/` (generation, wire, the
//!   expected state, mutations) and `fake/server/routes.rs`.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod analyze;
pub mod cli;
pub mod collect;
pub mod commands;
pub mod config;
pub mod doctor;
pub mod exit;
pub mod fake;
pub mod model;
pub mod output;
pub mod progress;
pub mod report;
pub mod retool;
pub mod review;
pub mod store;

/// The tool's version, recorded in every snapshot and report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What `--version` prints after the name: the version and, when built from a
/// git checkout, the revision (`0.1.0 (git 1a2b3c4)`, `-dirty` when the tracked
/// files differed from that commit). A build without git prints the version only.
/// Set by `build.rs`.
pub const LONG_VERSION: &str = env!("RETOOL_AUDIT_LONG_VERSION");

/// The git revision the tool was built from (`1a2b3c4`, `1a2b3c4-dirty`), when
/// it was built from a git checkout; recorded in report manifests.
pub const GIT_REVISION: Option<&str> = match env!("RETOOL_AUDIT_GIT_REVISION").as_bytes() {
    [] => None,
    _ => Some(env!("RETOOL_AUDIT_GIT_REVISION")),
};
