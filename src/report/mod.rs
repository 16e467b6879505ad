//! Reports: analysis results as format-neutral tables ([`table`]), rendered by one
//! writer per format.

pub mod table;

pub use table::*;
