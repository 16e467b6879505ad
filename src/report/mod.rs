//! Reports: analysis results as format-neutral tables ([`table`]), built by
//! [`build`] from one module per public table (`tables/`), the summary, the
//! [`evidence`] and the charts, and rendered by one writer per format (`csv`,
//! `xlsx`, `html`, `json`); `write` writes any set of formats to a directory
//! atomically.

pub mod build;
mod charts;
pub mod csv;
pub mod drilldown;
pub mod evidence;
pub mod fail_on;
pub mod html;
pub mod json;
pub mod manifest;
mod reconcile;
mod summary;
pub mod table;
mod tables;
pub mod write;
pub mod xlsx;

pub use table::*;
