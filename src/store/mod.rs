//! The SQLite history: snapshots of organizations stored as versioned rows, read
//! back exactly (`state_at`), listed, resolved, and verified through a per-org
//! SHA-256 chain. SQL lives here only.
//!
//! # Schema (`PRAGMA user_version` = the number of migrations applied)
//!
//! The file is marked as ours with `PRAGMA application_id = 0x52744175`. All
//! times are RFC 3339 text in UTC with as many sub-second digits as needed
//! (`2026-11-01T02:00:00.123Z`). Booleans are `0`/`1`.
//!
//! - `snapshots (id, org, started_at, finished_at, source_url, dialect,
//!   api_version, tool_version, counts_json, not_collected_json, info_json,
//!   sha256, prev_sha256)` — one row per successful collection. `id` grows with
//!   time across the whole file; `finished_at` is the snapshot's time;
//!   `info_json` is the complete collection evidence (endpoints, request counts,
//!   durations, expected totals, notes). `sha256` is the hex SHA-256 of
//!   `prev_sha256` (or nothing) followed by the canonical JSON of the collection
//!   info and of the state; `prev_sha256` is the same org's previous snapshot's
//!   `sha256` (chains are per org).
//! - `runs (id, org, source_url, started_at, finished_at, status, error,
//!   snapshot_id)` — every attempt; `status` is `ok` (with its `snapshot_id`) or
//!   `failed` (with its `error`, no snapshot).
//! - One versioned table per kind: `users`, `groups`, `memberships`, `folders`,
//!   `apps`, `resources`, `workflows`, `grants`, `user_invites`,
//!   `access_tokens`, and since version 4 `roles`, `role_grants`,
//!   `access_requests`, `settings`. Each row is one version of one record of
//!   one `org`, with the record's key columns (`user_id`; `group_id`;
//!   `group_id, user_id`; `folder_id`; `app_id`; `resource_id`;
//!   `workflow_id`; `subject_type, subject_id, object_type, object_id,
//!   access_level`; `invite_id`; `token_id`; `role_id`; every column of a role
//!   grant; `request_id`; `source, name`), one typed column per model field (`email`, `active`,
//!   `is_admin`, `user_type`, `last_active`, `name`, `universal_app_access`,
//!   `is_group_admin`, `folder_id`, `protected`, ...), `raw` (the record as
//!   received, JSON text; memberships and grants have none), `row_hash` (a
//!   fingerprint of the record), `valid_from` (the snapshot that first saw this
//!   version) and `valid_to` (the first snapshot that no longer saw it; `NULL`
//!   while it is current). A version is part of snapshot `S` iff
//!   `valid_from <= S AND (valid_to IS NULL OR valid_to > S)`, within its org.
//!   A grant's level is part of its key: a level change ends one version and
//!   starts another. Group ids in `grants.subject_id` are decimal text.
//! - Views `current_<kind>` (for example `current_users`) hold the versions that
//!   are still current, i.e. the latest snapshot of every org.
//! - `pruned_snapshots (id, org, started_at, finished_at, counts_json, sha256,
//!   prev_sha256, pruned_at)` (migration `0003_prune.sql`) — one row per
//!   snapshot `prune` removed, copied from `snapshots` in the same transaction;
//!   `verify` walks an org's stored snapshots and these rows in id order, so the
//!   chain stays checkable across a gap. A removed snapshot's versions that no
//!   kept snapshot contains are deleted, and `valid_from`/`valid_to` naming a
//!   removed snapshot move to the next kept one (see `prune.rs`).
//!
//! - Review campaigns (version 2): `review_campaigns (id, org, name,
//!   snapshot_id, snapshot_sha256, created_at, reviewer_by, settings_json,
//!   population_sha256)` — one quarterly review frozen on one snapshot, unique
//!   by `(org, name)`; `review_items (campaign_id, row_key, kind, user_id, email,
//!   group_id, is_group_admin, object_type, object_id, access_level, workbook,
//!   context_json, suggested, suggested_reason)` — the frozen population, one
//!   row per membership (`m:<group>:<user>`), direct grant
//!   (`g:<user>:<type>:<object>`) or bare account (`a:<user>`);
//!   `review_decisions (id, campaign_id, row_key, decision, reason, reviewer,
//!   reviewed_at, imported_at, source_file, source_sha256, superseded_by)` —
//!   every decision ever imported; a row's current decision is the one with
//!   `superseded_by IS NULL`.
//!
//! Storage grows with change, not with time: an unchanged record costs nothing
//! in a new snapshot.
//!
//! Example queries:
//!
//! ```sql
//! -- users of org 'default' as of snapshot 42
//! SELECT email, active, is_admin FROM users
//!  WHERE org = 'default' AND valid_from <= 42 AND (valid_to IS NULL OR valid_to > 42);
//! -- admins right now
//! SELECT org, email, last_active FROM current_users WHERE is_admin = 1;
//! -- memberships that appeared in snapshot 42
//! SELECT group_id, user_id FROM memberships WHERE org = 'default' AND valid_from = 42;
//! -- everything that ever happened to one user
//! SELECT * FROM users WHERE org = 'default' AND user_id = 'u_123' ORDER BY valid_from;
//! ```

mod copy;
mod db;
mod error;
mod history;
mod lock;
mod period;
pub mod postgres;
mod prune;
mod read;
mod review;
mod rows;
mod transient;
mod verify;
mod window;
mod write;

#[cfg(test)]
pub(crate) mod fixtures;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use db::{Begin, Db};

pub use copy::CopyOutcome;
pub use error::StoreError;
pub use history::Version;
pub use lock::{RunLock, lock_path};
pub use period::Step;
pub use prune::{KeepReason, OrgPrune, PruneOutcome, RetentionPolicy};
pub use read::{ParseSelectorError, SnapshotSelector};
pub use review::population_hash;
pub use verify::{VerifyProblem, VerifyReport, content_hash};
pub use window::{Scope, Touched, Window};

use error::SqlContext;

/// The numbered migrations, applied in order; migration `n` (1-based) brings the
/// schema to `user_version = n`. A shipped migration is never edited.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_review.sql"),
    include_str!("migrations/0003_prune.sql"),
    include_str!("migrations/0004_roles_settings.sql"),
    include_str!("migrations/0005_usage.sql"),
    include_str!("migrations/0006_environments_app_usage.sql"),
    include_str!("migrations/0007_valid_to.sql"),
    include_str!("migrations/0008_valid_to_partial.sql"),
];

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Marks a SQLite file as a retool-audit history ("RtAu").
const APPLICATION_ID: i64 = 0x5274_4175;

/// How long to wait for another process's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// An open history database: a SQLite file, or a PostgreSQL database.
pub struct Store {
    conn: Db,
    /// The file, or for PostgreSQL the URL as shown (`postgres://user@host:port/db`,
    /// never the password): what messages name.
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens the history at `path` for writing, creating it (mode 0600 on unix)
    /// if it does not exist, and migrating it to the current schema. A file
    /// SQLite can only open read-only is refused here, before any collection.
    /// A `postgres://` URL opens that database instead (see [`postgres`]).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(url) = postgres_url(path) {
            return Self::open_postgres(url);
        }
        if !path.exists() {
            create_private_file(path)?;
        }
        let store = Self::open_file(path)?;
        if store.is_read_only() {
            return Err(StoreError::ReadOnly {
                path: path.to_path_buf(),
            });
        }
        Ok(store)
    }

    /// Opens an existing history for reading commands; never creates a file.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        if let Some(url) = postgres_url(path) {
            return Self::open_postgres(url);
        }
        if !path.is_file() {
            return Err(StoreError::Missing {
                path: path.to_path_buf(),
            });
        }
        Self::open_file(path)
    }

    /// The file this store reads and writes (for PostgreSQL, the URL as shown).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this history is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        !self.conn.is_sqlite()
    }

    fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let sources = postgres::PasswordSources::from_env(None);
        let target = postgres::PgTarget::parse(url, &sources)?;
        let client = db::blocking(|| target.open())?;
        Ok(Store {
            conn: Db::postgres(client),
            path: PathBuf::from(target.to_string()),
        })
    }

    fn open_file(path: &Path) -> Result<Store, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let mut conn = Connection::open_with_flags(path, flags).ctx(path, "opening the history")?;
        conn.set_prepared_statement_cache_capacity(64);
        let mode = configure(&conn, path)?;
        migrate(&mut conn, path)?;
        // Only once the file is known to be ours: switching the journal mode
        // rewrites the header of a file that belongs to another program.
        if !mode.eq_ignore_ascii_case("wal") && !is_read_only(&conn) {
            conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
                .ctx(path, "switching to WAL")?;
        }
        Ok(Store {
            conn: Db::Sqlite(conn),
            path: path.to_path_buf(),
        })
    }

    fn is_read_only(&self) -> bool {
        self.conn.sqlite().is_some_and(is_read_only)
    }

    /// Begins a transaction on the history.
    fn begin(&self, how: Begin) -> Result<db::Tx<'_>, StoreError> {
        self.conn
            .begin(how)
            .ctx(&self.path, "starting a transaction")
    }
}

/// Every connection setting but the journal mode, in one place; returns the
/// journal mode the file has.
fn configure(conn: &Connection, path: &Path) -> Result<String, StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT)
        .ctx(path, "setting the busy timeout")?;
    // The first read of the file: a non-SQLite file fails here.
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .ctx(path, "reading the journal mode")?;
    conn.pragma_update(None, "foreign_keys", true)
        .ctx(path, "enabling foreign keys")?;
    // A first snapshot of a large org writes ~80 MiB of pages in one
    // transaction: with SQLite's default 2 MiB cache it spills and rewrites
    // pages mid-transaction. Up to 128 MiB, allocated only as used.
    conn.pragma_update(None, "cache_size", -131_072)
        .ctx(path, "setting the page cache size")?;
    Ok(mode)
}

fn is_read_only(conn: &Connection) -> bool {
    conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false)
}

/// Applies missing migrations in one transaction; refuses files that are not
/// ours or are newer than this build.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let (version, app_id, tables) = schema_facts(conn, path)?;
    if version == SCHEMA_VERSION && app_id == APPLICATION_ID {
        return Ok(());
    }
    let path = path.to_path_buf();
    if version == 0 && app_id == 0 && tables > 0 {
        return Err(StoreError::Foreign { path });
    }
    if version != 0 && app_id != APPLICATION_ID {
        return Err(StoreError::Foreign { path });
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path,
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if is_read_only(conn) {
        return Err(StoreError::ReadOnly { path });
    }
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .ctx(&path, "starting the migration")?;
    // Another process may have migrated while we waited for the lock.
    let current: i64 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .ctx(&path, "reading the schema version")?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let target = i as i64 + 1;
        if target <= current {
            continue;
        }
        tx.execute_batch(sql)
            .ctx(&path, &format!("applying migration {target}"))?;
        tx.pragma_update(None, "user_version", target)
            .ctx(&path, "recording the schema version")?;
    }
    tx.commit().ctx(&path, "committing the migration")
}

/// (`user_version`, `application_id`, number of tables).
fn schema_facts(conn: &Connection, path: &Path) -> Result<(i64, i64, i64), StoreError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .ctx(path, "reading the schema version")?;
    let app_id: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .ctx(path, "reading the application id")?;
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .ctx(path, "listing tables")?;
    Ok((version, app_id, tables))
}

/// History `db` as messages show it: the file's path, or the PostgreSQL URL
/// without its password (`postgres://user@host:port/db`).
pub fn shown(db: &Path) -> String {
    match postgres_url(db) {
        Some(url) => postgres::redact(url),
        None => db.display().to_string(),
    }
}

/// The URL, when `path` is a `postgres://` or `postgresql://` URL.
fn postgres_url(path: &Path) -> Option<&str> {
    path.to_str().filter(|s| postgres::is_postgres_url(s))
}

/// Creates an empty file readable only by its owner, before SQLite opens it, so
/// the history (and its WAL, which SQLite creates with the same mode) is never
/// readable by others, not even for a moment.
fn create_private_file(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        // Someone created it in between: open it as it is.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(StoreError::ReadOnly {
            path: path.to_path_buf(),
        }),
        Err(source) => Err(StoreError::Create {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    /// The store's whole test suite again, every fixture history a database
    /// on the PostgreSQL test server: the same guarantees on both backends.
    /// (This module's tests are about SQLite files and are not repeated.)
    #[test]
    fn the_store_suite_passes_on_postgres() {
        if on_postgres() {
            return; // the child run itself
        }
        let Some((_, password)) = test_server() else {
            return;
        };
        let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
        let out = std::process::Command::new(exe)
            .args(["store::", "--skip", "store::tests::", "--test-threads", "2"])
            .env(SUITE_BACKEND, "postgres")
            .env("PGPASSWORD", password)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "the store suite failed on PostgreSQL:\n{stdout}\n{stderr}"
        );
        let passed = stdout
            .lines()
            .find_map(|l| l.strip_prefix("test result: ok. "))
            .and_then(|l| l.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok());
        assert!(
            passed.is_some_and(|n| n >= 50),
            "too few store tests ran on PostgreSQL: {passed:?}\n{stdout}"
        );
    }

    #[test]
    fn open_creates_a_private_file_and_open_existing_does_not_create() {
        let dir = tmp();
        let path = dir.path().join("h.db");
        let missing = Store::open_existing(&path);
        assert!(matches!(missing, Err(StoreError::Missing { .. })));
        assert!(!path.exists(), "open_existing must not create a file");

        let store = Store::open(&path);
        assert!(store.is_ok(), "{store:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o600));
        }
        drop(store);
        assert!(Store::open_existing(&path).is_ok());
        // Re-opening does not re-apply migrations (it would fail on CREATE TABLE).
        assert!(Store::open(&path).is_ok());
    }

    #[test]
    fn a_text_file_is_refused_as_not_a_database_and_left_alone() {
        let dir = tmp();
        let path = dir.path().join("notes.db");
        let content = "this is not a database, it is my notes\n".repeat(100);
        assert!(std::fs::write(&path, &content).is_ok());
        let err = Store::open(&path).err();
        assert!(
            matches!(err, Some(StoreError::NotADatabase { .. })),
            "{err:?}"
        );
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("not a retool-audit database"), "{msg}");
        assert_eq!(std::fs::read_to_string(&path).ok(), Some(content));
    }

    #[test]
    fn a_newer_schema_is_refused_with_both_versions() {
        let dir = tmp();
        let path = dir.path().join("h.db");
        drop(Store::open(&path));
        let newer = SCHEMA_VERSION + 1;
        raw_sql(&path, &format!("PRAGMA user_version = {newer}"));
        match Store::open_existing(&path) {
            Err(StoreError::NewerSchema {
                found, supported, ..
            }) => {
                assert_eq!(found, newer);
                assert_eq!(supported, SCHEMA_VERSION);
            }
            other => panic!("expected NewerSchema, got {other:?}"),
        }
    }

    #[test]
    fn another_programs_sqlite_file_is_refused_and_not_modified() {
        let dir = tmp();
        let path = dir.path().join("other.db");
        raw_sql(
            &path,
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT)",
        );
        let err = Store::open(&path).err();
        assert!(matches!(err, Some(StoreError::Foreign { .. })), "{err:?}");
        let conn = Connection::open(&path).ok();
        let tables: Option<i64> = conn.and_then(|c| {
            c.query_row(
                "SELECT count(*) FROM sqlite_master WHERE type='table'",
                [],
                |r| r.get(0),
            )
            .ok()
        });
        assert_eq!(tables, Some(1), "no tables of ours were added");

        // Another program that uses user_version too.
        let path2 = dir.path().join("other2.db");
        raw_sql(&path2, "CREATE TABLE t (x); PRAGMA user_version = 1;");
        let err = Store::open(&path2).err();
        assert!(matches!(err, Some(StoreError::Foreign { .. })), "{err:?}");
    }
}
