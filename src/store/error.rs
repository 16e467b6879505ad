//! The errors of the SQLite history, with variants a caller can act on.

use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

use super::db::{DbError, DbResult};

/// Why a history operation failed. Messages name the file or snapshot and say
/// what to do; none of them ever contains the API token (the store never sees it).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `open_existing` was asked for a file that is not there.
    #[error(
        "history database {} does not exist; run `retool-audit snapshot` first or pass the right --db path",
        path.display()
    )]
    Missing { path: PathBuf },

    #[error("{} is not a retool-audit database (not SQLite); pass the right --db path", path.display())]
    NotADatabase { path: PathBuf },

    /// A SQLite file that some other program owns (it has other tables or another
    /// application id). It is never modified.
    #[error(
        "{} is a SQLite database but not a retool-audit history (it belongs to another program); choose another --db path",
        path.display()
    )]
    Foreign { path: PathBuf },

    #[error(
        "{} was written by a newer retool-audit (schema version {found}, this version supports up to {supported}); upgrade retool-audit",
        path.display()
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error("history database {} is read-only; check the file's and its directory's permissions", path.display())]
    ReadOnly { path: PathBuf },

    #[error(
        "history database {} is locked by another process (another snapshot running?); try again later",
        path.display()
    )]
    Locked { path: PathBuf },

    /// The run lock file beside the database cannot be opened or locked.
    #[error(
        "cannot take the run lock {}: {detail}; the history's directory must be writable by this user",
        path.display()
    )]
    LockFile { path: PathBuf, detail: String },

    /// Another `snapshot` run holds the whole-run lock ([`super::RunLock`]).
    #[error(
        "another retool-audit run holds the lock on {} ({}){}; nothing was collected or written: let it finish, or pass --lock-timeout SECS to wait for it",
        path.display(),
        holder.map_or_else(|| "pid unknown".to_string(), |p| format!("pid {p}")),
        if waited.is_zero() { String::new() } else { format!(" after waiting {}s", waited.as_secs()) }
    )]
    RunLocked {
        path: PathBuf,
        holder: Option<u32>,
        waited: std::time::Duration,
    },

    #[error(
        "the disk holding history database {} is full; free some space and run again",
        path.display()
    )]
    DiskFull { path: PathBuf },

    #[error("snapshot {id} does not exist; list snapshots with `retool-audit snapshots`")]
    SnapshotNotFound { id: i64 },

    #[error("no snapshots of organization `{org}` yet; run `retool-audit snapshot` first")]
    NoSnapshots { org: String },

    #[error(
        "no snapshot was taken on or before {when}; list snapshots with `retool-audit snapshots`"
    )]
    NoSnapshotBefore { when: String },

    /// The state to write holds two records with the same key; the collector
    /// should have deduplicated them. Nothing was written.
    #[error("refusing to store {kind}: two records have the same key {key}; nothing was written")]
    DuplicateRecord { kind: &'static str, key: String },

    #[error(
        "organization `{org}` already has a review campaign named `{name}`; choose another --name (see `retool-audit review status`)"
    )]
    CampaignExists { org: String, name: String },

    #[error(
        "no review campaign named `{name}`{}; start one with `retool-audit review start`",
        known_list(known)
    )]
    CampaignNotFound { name: String, known: Vec<String> },

    #[error(
        "several organizations have a review campaign named `{name}` ({}); pass --org",
        orgs.join(", ")
    )]
    CampaignAmbiguous { name: String, orgs: Vec<String> },

    /// A decision for a row that is not in the campaign's frozen population.
    #[error("review row {key} is not in the campaign's population; nothing was imported")]
    UnknownReviewRow { key: String },

    /// The PostgreSQL backend could not be reached or prepared.
    #[error(transparent)]
    Postgres(#[from] super::postgres::PgError),

    /// Another run holds the PostgreSQL advisory lock of the organization.
    #[error(
        "another retool-audit run ({}) is writing organization `{org}` to {target}{}; nothing was collected or written: let it finish, or pass --lock-timeout SECS to wait for it",
        holder.as_deref().unwrap_or("holder unknown"),
        if waited.is_zero() { String::new() } else { format!(" (waited {}s)", waited.as_secs()) }
    )]
    OrgLocked {
        target: String,
        org: String,
        holder: Option<String>,
        waited: std::time::Duration,
    },

    /// `copy-history` into a store that holds another history.
    #[error(
        "cannot copy into {target}: {detail}; copy into an empty database or file (nothing was written)"
    )]
    CopyConflict { target: String, detail: String },

    #[error("PostgreSQL error while {context} on {target}: {detail}")]
    PostgresSql {
        target: String,
        context: String,
        detail: String,
    },

    #[error("SQLite error while {context}: {source}")]
    Sqlite {
        context: String,
        #[source]
        source: rusqlite::Error,
    },

    #[error(
        "the history database is corrupt: {detail}; run `retool-audit verify` and restore from a backup"
    )]
    Corrupt { detail: String },

    #[error("could not create history database {}: {source}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        String::new()
    } else {
        format!(" (campaigns: {})", known.join(", "))
    }
}

impl StoreError {
    /// [`StoreError::from_sqlite`] for either engine: a PostgreSQL error that
    /// is a lock timeout, a full disk or a read-only server gets its variant.
    pub(crate) fn from_db(path: &Path, context: &str, e: DbError) -> StoreError {
        match e {
            DbError::Sqlite(e) => StoreError::from_sqlite(path, context, e),
            DbError::Pg(e) => {
                let state = e.code().map(|c| c.code().to_string()).unwrap_or_default();
                match state.as_str() {
                    "55P03" | "40P01" => StoreError::Locked {
                        path: path.to_path_buf(),
                    },
                    "53100" => StoreError::DiskFull {
                        path: path.to_path_buf(),
                    },
                    "25006" => StoreError::ReadOnly {
                        path: path.to_path_buf(),
                    },
                    _ => StoreError::PostgresSql {
                        target: path.display().to_string(),
                        context: context.to_string(),
                        detail: super::db::pg_detail(&e),
                    },
                }
            }
            other => StoreError::Corrupt {
                detail: format!("{context}: {other}"),
            },
        }
    }

    /// Maps a SQLite error to the variant a caller can act on (locked, read-only,
    /// corrupt, not a database), keeping `context` for the rest.
    pub(crate) fn from_sqlite(path: &Path, context: &str, e: rusqlite::Error) -> StoreError {
        if let rusqlite::Error::SqliteFailure(f, _) = &e {
            match f.code {
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                    return StoreError::Locked {
                        path: path.to_path_buf(),
                    };
                }
                ErrorCode::ReadOnly => {
                    return StoreError::ReadOnly {
                        path: path.to_path_buf(),
                    };
                }
                ErrorCode::DiskFull => {
                    return StoreError::DiskFull {
                        path: path.to_path_buf(),
                    };
                }
                ErrorCode::NotADatabase => {
                    return StoreError::NotADatabase {
                        path: path.to_path_buf(),
                    };
                }
                ErrorCode::DatabaseCorrupt => {
                    return StoreError::Corrupt {
                        detail: format!("{context}: {e}"),
                    };
                }
                _ => {}
            }
        }
        StoreError::Sqlite {
            context: context.to_string(),
            source: e,
        }
    }
}

/// Attaches the file and what was being done to a SQLite result.
pub(crate) trait SqlContext<T> {
    fn ctx(self, path: &Path, context: &str) -> Result<T, StoreError>;
}

impl<T> SqlContext<T> for rusqlite::Result<T> {
    fn ctx(self, path: &Path, context: &str) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::from_sqlite(path, context, e))
    }
}

impl<T> SqlContext<T> for DbResult<T> {
    fn ctx(self, path: &Path, context: &str) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::from_db(path, context, e))
    }
}

/// A missing, foreign or newer database, an unknown snapshot or campaign are
/// the user's to fix (2); a database that cannot be written, is locked, full
/// or corrupt is a failed run (1).
impl crate::exit::Classify for StoreError {
    fn exit(&self) -> crate::exit::Exit {
        use crate::exit::Exit::{Failed, Usage};
        match self {
            StoreError::Missing { .. }
            | StoreError::NotADatabase { .. }
            | StoreError::Foreign { .. }
            | StoreError::NewerSchema { .. }
            | StoreError::SnapshotNotFound { .. }
            | StoreError::NoSnapshots { .. }
            | StoreError::NoSnapshotBefore { .. }
            | StoreError::CampaignExists { .. }
            | StoreError::CampaignNotFound { .. }
            | StoreError::CampaignAmbiguous { .. } => Usage,
            StoreError::Postgres(e) => match e {
                super::postgres::PgError::Unreachable { .. }
                | super::postgres::PgError::Sql { .. } => Failed,
                _ => Usage,
            },
            StoreError::OrgLocked { .. } | StoreError::PostgresSql { .. } => Failed,
            StoreError::CopyConflict { .. } => Usage,
            StoreError::ReadOnly { .. }
            | StoreError::Locked { .. }
            | StoreError::LockFile { .. }
            | StoreError::RunLocked { .. }
            | StoreError::DiskFull { .. }
            | StoreError::DuplicateRecord { .. }
            | StoreError::UnknownReviewRow { .. }
            | StoreError::Sqlite { .. }
            | StoreError::Corrupt { .. }
            | StoreError::Create { .. } => Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_maps_to_locked_naming_the_file() {
        let e = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        let err = StoreError::from_sqlite(Path::new("/x/h.db"), "writing", e);
        assert!(matches!(err, StoreError::Locked { .. }));
        assert!(err.to_string().contains("/x/h.db"));
    }

    #[test]
    fn full_maps_to_disk_full_naming_the_file() {
        let e = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        let err = StoreError::from_sqlite(Path::new("/x/h.db"), "writing", e);
        assert!(matches!(err, StoreError::DiskFull { .. }));
        assert!(err.to_string().contains("/x/h.db is full"));
    }
}
