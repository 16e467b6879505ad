//! `retool-audit completions SHELL`: the shell completion script, generated
//! from the clap definition.

use clap::CommandFactory;

use super::CmdResult;
use super::common::write_stdout;
use crate::cli::Cli;

/// Writes the completion script for `shell` to stdout.
pub(super) fn run(shell: clap_complete::Shell) -> CmdResult {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "retool-audit", &mut buf);
    write_stdout(&buf)
}
