//! The process's exit codes, decided by the error types themselves: each error
//! of the library says whether the user must change something (the command,
//! the configuration, an input file: [`Exit::Usage`]) or the run failed
//! ([`Exit::Failed`]) in an exhaustive `match`, so a new variant does not
//! compile until it is classified. `docs/operations.md` ("Exit codes") is the
//! contract; `commands` only carries the code to `main`.

/// A non-zero exit code of `retool-audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 1: the run failed (API, network, disk, database, integrity).
    Failed,
    /// 2: usage or configuration: the user must change the command, the
    /// configuration or an input file.
    Usage,
    /// 3: `report --fail-on` found a listed finding (the report was written in full).
    Findings,
}

impl Exit {
    /// The number the process exits with.
    pub fn code(self) -> u8 {
        match self {
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::Findings => 3,
        }
    }
}

/// An error that knows which exit code it means.
pub trait Classify {
    /// The exit code this error ends the process with.
    fn exit(&self) -> Exit;
}
