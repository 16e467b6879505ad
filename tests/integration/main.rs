//! One integration test binary: the real `retool-audit` binary against the
//! simulated Retool over loopback HTTP, with real SQLite files in temp dirs.

mod access_model;
mod api_faults;
mod browser;
mod common;
mod docs;
mod environments;
mod exceptions;
mod history;
mod hostile;
mod housekeeping;
mod layering;
mod manifest;
mod ops;
mod postgres;
mod reliability;
mod report;
mod review;
mod review_status;
mod samples;
mod snapshot;
mod tampering;
