//! Helpers more than one command uses: picking the organization, the label
//! reports show for it, reading the HR roster, the command line for evidence,
//! and how a snapshot is summed up (a line, a JSON object, the headline).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use anyhow::anyhow;

use super::{CmdResult, CommandError};
use crate::analyze::roster::{Roster, RosterSource};
use crate::cli::SignArgs;
use crate::model::{EntityKind, SnapshotMeta};
use crate::report::manifest::Signer;
use crate::report::{Cell, Report, Section};
use crate::store::Store;

/// Picks the organization: the one asked for, or the only one in the history.
pub(super) fn pick_org(store: &Store, asked: Option<&str>) -> CmdResult<String> {
    let orgs = store.orgs()?;
    match asked {
        Some(o) if orgs.iter().any(|x| x == o) => Ok(o.to_string()),
        Some(o) => Err(CommandError::usage(anyhow!(
            "no snapshots of org {o:?} in the history; it holds: {}",
            if orgs.is_empty() {
                "nothing yet (run `retool-audit snapshot`)".to_string()
            } else {
                orgs.join(", ")
            }
        ))),
        None => match orgs.as_slice() {
            [] => Err(CommandError::usage(anyhow!(
                "the history has no snapshots yet: run `retool-audit snapshot` first"
            ))),
            [one] => Ok(one.clone()),
            many => Err(CommandError::usage(anyhow!(
                "the history holds several orgs ({}); pick one with --org",
                many.join(", ")
            ))),
        },
    }
}

/// The label reports use: the `--org` name, or the instance host for the default org.
pub(super) fn org_label(org: &str, source_url: &str) -> String {
    if org != "default" {
        return org.to_string();
    }
    url::Url::parse(source_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| org.to_string())
}

pub(super) fn read_roster(path: &Path) -> CmdResult<Roster> {
    let bytes = std::fs::read(path).map_err(|e| {
        CommandError::usage(anyhow!("cannot read the roster {}: {e}", path.display()))
    })?;
    let mut roster = Roster::parse(&bytes).map_err(|e| {
        CommandError::from(e).context(format!(
            "the roster {} is not usable; nothing was written",
            path.display()
        ))
    })?;
    roster.source = Some(RosterSource {
        file: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
    });
    Ok(roster)
}

/// The command line for the evidence sheet, as `retool-audit <arguments>`.
/// Tokens are never arguments, so the arguments are safe to show; paths are shown
/// as given, a PostgreSQL URL without its password.
pub(super) fn command_line() -> String {
    std::iter::once("retool-audit".to_string())
        .chain(std::env::args().skip(1).map(|arg| {
            match ["postgres://", "postgresql://"]
                .iter()
                .find_map(|s| arg.find(s))
            {
                Some(at) => format!(
                    "{}{}",
                    &arg[..at],
                    crate::store::postgres::redact(&arg[at..])
                ),
                None => arg,
            }
        }))
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn summary_line(meta: &SnapshotMeta) -> String {
    let c = |k: EntityKind| meta.counts.get(&k).copied().unwrap_or(0);
    let secs = (meta.info.finished_at - meta.info.started_at).num_milliseconds() as f64 / 1000.0;
    let mut line = format!(
        "snapshot {} ({}): {} users, {} groups, {} memberships, {} apps, {} folders, {} resources, \
         {} workflows, {} grants in {:.1}s ({} requests, {} retries)",
        meta.id,
        meta.org,
        c(EntityKind::Users),
        c(EntityKind::Groups),
        c(EntityKind::Memberships),
        c(EntityKind::Apps),
        c(EntityKind::Folders),
        c(EntityKind::Resources),
        c(EntityKind::Workflows),
        c(EntityKind::Grants),
        secs,
        meta.info.total_requests(),
        meta.info.total_retries(),
    );
    if !meta.not_collected.is_empty() {
        let missing: Vec<String> = meta
            .not_collected
            .iter()
            .map(|(k, why)| format!("{k} ({why})"))
            .collect();
        let _ = write!(line, "; not collected: {}", missing.join(", "));
    }
    line
}

/// One snapshot as `snapshots --format json` and `snapshot --json` print it.
pub(super) fn snapshot_json(s: &SnapshotMeta) -> serde_json::Value {
    let counts: BTreeMap<&str, u64> = s.counts.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    serde_json::json!({
        "id": s.id,
        "org": s.org,
        "started_at": s.info.started_at,
        "finished_at": s.info.finished_at,
        "status": "ok",
        "source": s.info.source_url,
        "dialect": s.info.dialect,
        "api_version": s.info.api_version,
        "counts": counts,
        "not_collected": s.not_collected,
        "sha256": s.sha256,
        "prev_sha256": s.prev_sha256,
    })
}

/// One line with the report's headline findings.
pub(super) fn headline(report: &Report) -> String {
    let items: Vec<String> = report
        .summary
        .iter()
        .filter(|s| matches!(s.section, Section::Headline | Section::Findings))
        .filter(|s| !matches!(s.value, Cell::Int(0) | Cell::Empty))
        .map(|s| format!("{}: {}", s.label, s.value.to_plain()))
        .collect();
    format!("findings: {}", items.join(", "))
}

/// Generated text goes to stdout even under `--quiet`: it is the output asked for.
pub(super) fn write_stdout(bytes: &[u8]) -> CmdResult {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| CommandError::failed(anyhow!("could not write to stdout: {e}")))
}

/// The minisign key `--sign-key` names, unlocked with the password from
/// `--sign-password-file` or `RETOOL_AUDIT_SIGN_PASSWORD`; `None` without the
/// flag. Called before anything is written: a key that cannot be used is a
/// usage error (exit 2).
pub(super) fn load_signer(args: &SignArgs) -> CmdResult<Option<Signer>> {
    let Some(path) = &args.sign_key else {
        return Ok(None);
    };
    let password = match &args.sign_password_file {
        Some(file) => {
            let text = std::fs::read_to_string(file).map_err(|e| {
                CommandError::usage(anyhow!(
                    "cannot read the signing key's password file {}: {e}",
                    file.display()
                ))
            })?;
            Some(text.lines().next().unwrap_or_default().to_string())
        }
        None => std::env::var("RETOOL_AUDIT_SIGN_PASSWORD").ok(),
    };
    let signer = Signer::load(path, password)
        .map_err(|e| CommandError::usage(anyhow!("{e}; no report file was written")))?;
    Ok(Some(signer))
}
