//! `retool-audit review start`. PLACEHOLDER: being written; replaced before landing.

use std::path::Path;

use anyhow::anyhow;

use crate::cli::ReviewStartArgs;
use crate::commands::{CmdResult, CommandError, Output};

pub(super) fn run(_db: &Path, _args: &ReviewStartArgs, _out: Output) -> CmdResult {
    Err(CommandError::failed(anyhow!(
        "review start is not implemented yet"
    )))
}
