//! `retool-audit review ...`: the thin command layer of the quarterly access
//! review. The work is in [`crate::review`]; each subcommand has its own file.

use std::path::Path;

use super::{CmdResult, Output};
use crate::cli::ReviewCommand;

mod import;
mod plan;
mod start;
mod status;

pub(super) fn run(db: &Path, command: &ReviewCommand, out: Output) -> CmdResult {
    match command {
        ReviewCommand::Start(args) => start::run(db, args, out),
        ReviewCommand::Import(args) => import::run(db, args, out),
        ReviewCommand::Status(args) => status::run(db, args, out),
        ReviewCommand::Plan(args) => plan::run(db, args, out),
    }
}
