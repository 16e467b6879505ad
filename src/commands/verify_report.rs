//! `retool-audit verify-report DIR`: check a report directory against its
//! manifest, `SHA256SUMS`, the minisign signature (`--pubkey`) and the history
//! it was computed from (`--db`). Exit 1 naming the first file or snapshot that
//! differs; 2 for usage errors.

use std::path::Path;

use anyhow::anyhow;

use super::{CmdResult, CommandError, Output};
use crate::cli::VerifyReportArgs;
use crate::report::manifest::{Manifest, read_public_key, verify_dir};
use crate::store::{Store, StoreError};

pub(super) fn run(db: Option<&Path>, args: &VerifyReportArgs, out: Output) -> CmdResult {
    let dir = &args.dir;
    if !dir.is_dir() {
        return Err(CommandError::usage(anyhow!(
            "{} is not a directory; give the directory `retool-audit report --out` wrote",
            dir.display()
        )));
    }
    let pubkey = args
        .pubkey
        .as_deref()
        .map(read_public_key)
        .transpose()
        .map_err(|e| CommandError::usage(anyhow!(e)))?;
    let mut check = verify_dir(dir, pubkey.as_ref());
    let mut snapshots_checked = Vec::new();
    if let (Some(db), Some(manifest)) = (db, &check.manifest) {
        let store = Store::open_existing(db)?;
        let problems = history_problems(&store, db, manifest, &mut snapshots_checked)?;
        check.problems.extend(problems);
    }

    if args.json {
        let value = serde_json::json!({
            "ok": check.problems.is_empty(),
            "dir": dir,
            "files_checked": check.files_ok,
            "signature_key_id": check.signature,
            "snapshots_checked": snapshots_checked,
            "problems": check.problems,
            "notes": check.notes,
        });
        println!("{value:#}");
    } else if check.problems.is_empty() {
        out.line(format!(
            "verified {}: {} file(s) match manifest.json and SHA256SUMS",
            dir.display(),
            check.files_ok
        ));
        if let Some(id) = &check.signature {
            out.line(format!("signature: good, by minisign key {id}"));
        }
        if let Some(db) = db.filter(|_| !snapshots_checked.is_empty()) {
            let ids: Vec<String> = snapshots_checked.iter().map(i64::to_string).collect();
            out.line(format!(
                "history {}: snapshot(s) {} present with the same SHA-256; the hash chain verifies",
                crate::store::shown(db),
                ids.join(", ")
            ));
        }
    }
    if !args.json {
        for note in &check.notes {
            out.line(format!("note: {note}"));
        }
    }
    if check.problems.is_empty() {
        return Ok(());
    }
    let mut msg = format!("{} does not verify: {}", dir.display(), check.problems[0]);
    for p in &check.problems[1..] {
        msg.push_str(&format!("\n  also: {p}"));
    }
    msg.push_str(
        "\nthe files are not what retool-audit wrote (or the history changed since); get the report again from its source",
    );
    Err(CommandError::failed(anyhow!(msg)))
}

/// The snapshots the manifest names, looked up in the history; then the
/// history's own verification for the manifest's organizations.
fn history_problems(
    store: &Store,
    db: &Path,
    manifest: &Manifest,
    checked: &mut Vec<i64>,
) -> CmdResult<Vec<String>> {
    let mut problems = Vec::new();
    for s in &manifest.provenance.snapshots {
        match store.snapshot(s.id) {
            Ok(meta) if meta.sha256 == s.sha256 && meta.org == s.org => checked.push(s.id),
            Ok(meta) => problems.push(format!(
                "snapshot {} ({}): the history {} holds it for org {} with SHA-256 {}; the report was computed from org {} with SHA-256 {}",
                s.id,
                s.role,
                crate::store::shown(db),
                meta.org,
                meta.sha256,
                s.org,
                s.sha256
            )),
            Err(StoreError::SnapshotNotFound { .. }) => problems.push(format!(
                "snapshot {} ({}, taken {}): not in the history {} (another history, or pruned since)",
                s.id,
                s.role,
                s.taken_at,
                crate::store::shown(db)
            )),
            Err(e) => return Err(e.into()),
        }
    }
    let orgs: Vec<&str> = manifest
        .provenance
        .snapshots
        .iter()
        .map(|s| s.org.as_str())
        .collect();
    let verified = store.verify()?;
    if let Some(p) = verified
        .problems
        .iter()
        .find(|p| orgs.contains(&p.org.as_str()) || p.snapshot_id.is_none())
    {
        let count = verified.problems.len();
        problems.push(format!(
            "the history {} does not verify ({count} problem(s); run `retool-audit verify`): {p}",
            crate::store::shown(db)
        ));
    }
    Ok(problems)
}
