//! The `retool-audit` binary: parse arguments, set up logging, run the command,
//! map the outcome to the documented exit code (0 ok, 1 run failed, 2 usage,
//! 3 `report --fail-on` found a listed finding).

#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use retool_audit::cli::{Cli, LogFormat};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet, cli.log_format);
    match retool_audit::commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Exit code 3 is an alert about the findings, not an error.
            let prefix = if e.code == retool_audit::commands::CommandError::FINDINGS {
                "retool-audit"
            } else {
                "error"
            };
            eprintln!("{prefix}: {:#}", e.error);
            ExitCode::from(e.code)
        }
    }
}

/// Logs go to stderr: `warn` by default, `-v` info, `-vv` debug, `-vvv` trace,
/// `--quiet` errors only; `RUST_LOG` overrides all of these. `--log-format json`
/// writes one JSON object a line (for log shippers).
fn init_logging(verbose: u8, quiet: bool, format: LogFormat) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("retool_audit={level},warn")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder.json().with_ansi(false).init(),
    }
}
