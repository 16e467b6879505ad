//! `retool-audit man`: roff man pages generated from the clap definition.

use std::path::Path;

use anyhow::anyhow;
use clap::CommandFactory;

use super::common::write_stdout;
use super::{CmdResult, CommandError, Output};
use crate::cli::Cli;

/// Writes the top-level man page to stdout, or every page (`retool-audit.1`,
/// `retool-audit-report.1`, ...) into `dir`.
pub(super) fn run(dir: Option<&Path>, out: Output) -> CmdResult {
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
