//! The whole-run lock: at most one `snapshot` collects into a history at a
//! time. An advisory lock (`flock`) on `<db>.lock`, held from before the first
//! API request until the snapshot is written; the operating system releases it
//! when the process ends, however it ends, so a killed run never leaves a stale
//! lock. The file holds the holder's process id, for the message a second run
//! prints. Reports and `verify` never take it: they read the last complete
//! snapshot while a run is writing.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fs4::TryLockError;

use super::StoreError;
use super::error::SqlContext;

/// How often a waiting run tries the lock again.
const POLL: Duration = Duration::from_millis(100);

/// Held while a snapshot run is in progress; dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// The lock file of history `db`: `<db>.lock` beside it.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl RunLock {
    /// Takes the run lock of history `db`, waiting up to `wait` for another
    /// run to finish. Fails with [`StoreError::RunLocked`] naming the holder's
    /// process id when it is still held after `wait`.
    pub fn acquire(db: &Path, wait: Duration) -> Result<RunLock, StoreError> {
        let path = lock_path(db);
        let io_error = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                StoreError::ReadOnly {
                    path: db.to_path_buf(),
                }
            }
            _ => StoreError::LockFile {
                path: path.clone(),
                detail: e.to_string(),
            },
        };
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(io_error)?;
        let deadline = Instant::now() + wait;
        loop {
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => return Err(io_error(e)),
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StoreError::RunLocked {
                    path: db.to_path_buf(),
                    holder: holder(&mut file),
                    waited: wait,
                });
            }
            std::thread::sleep(POLL.min(deadline - now));
        }
        file.set_len(0).map_err(io_error)?;
        file.seek(SeekFrom::Start(0)).map_err(io_error)?;
        writeln!(file, "{}", std::process::id()).map_err(io_error)?;
        Ok(RunLock { _file: file })
    }
}

impl super::Store {
    /// On PostgreSQL, the equivalent of [`RunLock`] for one organization: its
    /// advisory lock, held by this connection until it closes (the server
    /// releases it when the process ends, however it ends). Runs for other
    /// orgs go on at the same time. Waits up to `wait` for another run, then
    /// fails with [`StoreError::OrgLocked`] naming it (its
    /// `application_name`: host and process id). On SQLite, nothing: the
    /// file's [`RunLock`] is taken before opening.
    pub fn lock_org(&self, org: &str, wait: Duration) -> Result<(), StoreError> {
        if self.conn.is_sqlite() {
            return Ok(());
        }
        let key = super::db::org_lock_key(org);
        let deadline = Instant::now() + wait;
        loop {
            let taken: bool = self
                .conn
                .query_row("SELECT pg_try_advisory_lock(?1)", [key], |r| r.get(0))
                .ctx(&self.path, "taking the organization's run lock")?;
            if taken {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StoreError::OrgLocked {
                    target: self.path.display().to_string(),
                    org: org.to_string(),
                    holder: self.lock_holder(key),
                    waited: wait,
                });
            }
            std::thread::sleep(POLL.min(deadline - now));
        }
    }

    /// The `application_name` of the session holding advisory lock `key`.
    fn lock_holder(&self, key: i64) -> Option<String> {
        self.conn
            .query_row(
                "SELECT a.application_name FROM pg_locks l \
                 JOIN pg_stat_activity a ON a.pid = l.pid \
                 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
                 AND CAST(CAST(l.classid AS TEXT) AS BIGINT) = ?1 \
                 AND CAST(CAST(l.objid AS TEXT) AS BIGINT) = ?2 \
                 AND l.pid <> pg_backend_pid() LIMIT 1",
                [key >> 32, key & 0xFFFF_FFFF],
                |r| r.get::<_, Option<String>>(0),
            )
            .ok()
            .flatten()
            .filter(|name| !name.is_empty())
    }
}

/// The process id the holder wrote into the lock file, when readable.
fn holder(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_naming_the_first_and_gets_it_once_released() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("h.db");
        let first = RunLock::acquire(&db, Duration::ZERO).unwrap();
        let err = RunLock::acquire(&db, Duration::from_millis(250)).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(&format!(
                "another retool-audit run holds the lock on {} (pid {})",
                db.display(),
                std::process::id()
            )),
            "{msg}"
        );
        drop(first);
        let _again = RunLock::acquire(&db, Duration::ZERO).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(lock_path(&db))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_waiting_run_gets_the_lock_when_the_holder_finishes() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("h.db");
        let first = RunLock::acquire(&db, Duration::ZERO).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(first);
        });
        // Generous: the holder lets go after 0.3 s; this only must not fail.
        let second = RunLock::acquire(&db, Duration::from_secs(60));
        releaser.join().unwrap();
        assert!(second.is_ok(), "{second:?}");
    }
}
