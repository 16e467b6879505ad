//! One integration test binary: the real `retool-audit` binary against the
//! simulated Retool over loopback HTTP, with real SQLite files in temp dirs.

mod api_faults;
mod common;
mod hostile;
mod reliability;
mod report;
mod samples;
mod snapshot;
mod tampering;
