//! `retool-audit doctor`: check every selected target before the first night —
//! settings, address, token, version and each endpoint with its scope.

use anyhow::anyhow;

use super::targets::{check, select};
use super::{CmdResult, CommandError, Output};
use crate::cli::DoctorArgs;
use crate::config::{Config, Tuning};
use crate::doctor::{Diagnosis, diagnose};
use crate::retool::Client;

/// `doctor`: diagnoses every selected target; exit 0 only when each can read
/// users and groups.
pub(super) async fn run(config: Option<&Config>, args: &DoctorArgs, out: Output) -> CmdResult {
    let mut targets = select(config, &args.target)?;
    for t in &mut targets {
        // Answer in seconds, not minutes: one retry, short timeouts unless asked otherwise.
        t.tuning = Tuning {
            max_retries: Some(1),
            connect_timeout_secs: Some(5),
            timeout_secs: Some(20),
            ..Tuning::default()
        }
        .overridden_by(&t.tuning);
    }
    let checked = targets.iter().map(check).collect::<CmdResult<Vec<_>>>()?;
    let mut not_ready = Vec::new();
    for c in &checked {
        let diagnosis = match c.client_config().await {
            Ok((client_config, note)) => match Client::new(client_config) {
                Ok(client) => {
                    let mut d = diagnose(&c.name, &client).await;
                    if let Some(note) = note {
                        d.steps.insert(0, ("space".to_string(), note, true));
                    }
                    d
                }
                Err(e) => Diagnosis::stopped(&c.name, &c.source(), "client", e.to_string()),
            },
            Err(e) => Diagnosis::stopped(&c.name, &c.source(), "space", format!("{:#}", e.error)),
        };
        if !diagnosis.ready() {
            not_ready.push(c.name.clone());
        }
        out.line(format!("{}\n", diagnosis.render()));
    }
    if not_ready.is_empty() {
        Ok(())
    } else {
        Err(CommandError::failed(anyhow!(
            "not ready for snapshots: {}",
            not_ready.join(", ")
        )))
    }
}
