//! The quarterly access review (SOC 2 CC6.1–CC6.3) as a closed loop:
//! `review start` freezes a population from one snapshot and writes review
//! workbooks; `review import` reads the reviewers' decisions back; `review
//! status` proves from later snapshots whether each revocation happened; `review
//! plan` prints the Retool API calls that would carry out the pending ones (the
//! tool itself never writes to Retool).
//!
//! The types every part shares live in the model ([`crate::model::review`],
//! re-exported here): the store persists them (`store::review`) without
//! depending on this module, the workbook writer and reader agree on them, and
//! the status and plan read them.

pub mod evidence;
pub mod plan;
pub mod status;

#[cfg(test)]
pub(crate) mod fixtures;

pub use crate::model::review::*;

pub mod companion;
pub mod import;
pub mod population;
pub mod workbook;
