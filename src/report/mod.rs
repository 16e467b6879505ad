//! Reports: analysis results as format-neutral tables ([`table`]), built by
//! [`build`] and rendered by one writer per format (`csv`, `xlsx`, `html`,
//! `json`); `write` writes any set of formats to a directory atomically.

pub mod build;
pub mod csv;
pub mod fail_on;
pub mod html;
pub mod json;
pub mod table;
pub mod write;
pub mod xlsx;

pub use table::*;
