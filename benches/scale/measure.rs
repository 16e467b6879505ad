//! Measuring a stage: wall and CPU time, peak RSS, sizes on disk, and one
//! line of figures per stage.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;

/// utime + stime of this process, from `/proc/self/stat` (USER_HZ = 100 on Linux).
pub(crate) fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // The command name is in parentheses and may contain spaces: split after it.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of the whole line are the 12th and 13th after the name.
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((tick(11) + tick(12)) * 10)
}

pub(crate) fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0); false when not allowed.
pub(crate) fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

pub(crate) struct Measure {
    pub(crate) wall: Instant,
    pub(crate) cpu: Duration,
}

pub(crate) struct Figures {
    pub(crate) wall: Duration,
    pub(crate) cpu: Duration,
    pub(crate) peak_mib: f64,
}

impl Measure {
    pub(crate) fn start() -> Measure {
        reset_peak();
        Measure {
            wall: Instant::now(),
            cpu: cpu_time(),
        }
    }

    pub(crate) fn stop(self) -> Figures {
        Figures {
            wall: self.wall.elapsed(),
            cpu: cpu_time().saturating_sub(self.cpu),
            peak_mib: status_kib("VmHWM:") as f64 / 1024.0,
        }
    }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "wall {:>8.3} s  cpu {:>8.2} s  peak RSS {:>7.0} MiB",
            self.wall.as_secs_f64(),
            self.cpu.as_secs_f64(),
            self.peak_mib
        )
    }
}

pub(crate) fn line(size: &str, stage: &str, what: &str, figures: &Figures, extra: &str) {
    println!("{size:<3} {stage:<8} {what:<34} {figures}  {extra}");
}

pub(crate) fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// The history file plus its WAL (and shared-memory index, which is tiny).
pub(crate) fn db_bytes(db: &Path) -> u64 {
    let mut total = file_size(db);
    for suffix in ["-wal", "-shm"] {
        let mut s = db.as_os_str().to_owned();
        s.push(suffix);
        total += file_size(Path::new(&s));
    }
    total
}

/// db + wal after `PRAGMA wal_checkpoint(TRUNCATE)` from a second connection:
/// the pages the history really uses (the store's own connection stays open,
/// so the WAL is not removed, only emptied).
pub(crate) fn checkpointed_bytes(db: &Path) -> Result<u64> {
    let conn = rusqlite::Connection::open(db)?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    drop(conn);
    Ok(db_bytes(db))
}

pub(crate) fn dir_bytes(p: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(p) else {
        return file_size(p);
    };
    entries
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                dir_bytes(&path)
            } else {
                file_size(&path)
            }
        })
        .sum()
}

pub(crate) fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
