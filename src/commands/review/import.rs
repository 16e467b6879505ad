//! `retool-audit review import`. PLACEHOLDER: being written; replaced before landing.

use std::path::Path;

use anyhow::anyhow;

use crate::cli::ReviewImportArgs;
use crate::commands::{CmdResult, CommandError, Output};

pub(super) fn run(_db: &Path, _args: &ReviewImportArgs, _out: Output) -> CmdResult {
    Err(CommandError::failed(anyhow!(
        "review import is not implemented yet"
    )))
}
