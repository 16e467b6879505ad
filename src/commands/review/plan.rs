//! `retool-audit review plan`. PLACEHOLDER: being written; replaced before landing.

use std::path::Path;

use anyhow::anyhow;

use crate::cli::ReviewPlanArgs;
use crate::commands::{CmdResult, CommandError, Output};

pub(super) fn run(_db: &Path, _args: &ReviewPlanArgs, _out: Output) -> CmdResult {
    Err(CommandError::failed(anyhow!(
        "review plan is not implemented yet"
    )))
}
