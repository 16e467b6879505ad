//! Shell integration generated from the clap definition: completion scripts
//! (`completions SHELL`) and roff man pages (`man`).

use std::io::Write;
use std::path::Path;

use anyhow::anyhow;
use clap::CommandFactory;

use super::{CmdResult, CommandError, Output};
use crate::cli::Cli;

/// Writes the completion script for `shell` to stdout.
pub(super) fn completions(shell: clap_complete::Shell) -> CmdResult {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "retool-audit", &mut buf);
    write_stdout(&buf)
}

/// Writes the top-level man page to stdout, or every page (`retool-audit.1`,
/// `retool-audit-report.1`, ...) into `dir`.
pub(super) fn man(dir: Option<&Path>, out: Output) -> CmdResult {
    let cmd = Cli::command();
    match dir {
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut buf)
                .map_err(|e| CommandError::failed(anyhow!("could not render the man page: {e}")))?;
            write_stdout(&buf)
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                CommandError::usage(anyhow!("cannot create {}: {e}", dir.display()))
            })?;
            clap_mangen::generate_to(cmd, dir).map_err(|e| {
                CommandError::usage(anyhow!(
                    "could not write the man pages into {}: {e}; check that it is a directory you can write to",
                    dir.display()
                ))
            })?;
            out.line(format!(
                "wrote the man pages into {} (try: man -l {}/retool-audit.1)",
                dir.display(),
                dir.display()
            ));
            Ok(())
        }
    }
}

/// Generated text goes to stdout even under `--quiet`: it is the output asked for.
fn write_stdout(bytes: &[u8]) -> CmdResult {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| CommandError::failed(anyhow!("could not write to stdout: {e}")))
}
