//! `retool-audit review status`. PLACEHOLDER: being written; replaced before landing.

use std::path::Path;

use anyhow::anyhow;

use crate::cli::ReviewStatusArgs;
use crate::commands::{CmdResult, CommandError, Output};

pub(super) fn run(_db: &Path, _args: &ReviewStatusArgs, _out: Output) -> CmdResult {
    Err(CommandError::failed(anyhow!(
        "review status is not implemented yet"
    )))
}
