//! Operating the tool from cron and a shell: `report --fail-on` exit codes,
//! `prune` through the real binary, completions, man pages and `--version`.

use std::process::Command;

use crate::common::{World, csv_maps};

/// The demo org with two snapshots and the scripted changes in between.
fn two_snapshots() -> World {
    two_snapshots_on(None)
}

fn two_snapshots_on(db: Option<&crate::postgres::Database>) -> World {
    let mut w = World::demo();
    if let Some(db) = db {
        w = w.on_postgres(db);
    }
    w.snapshot(&[]).ok();
    w.server().update_org(|o| o.apply_scripted_changes());
    w.snapshot(&[]).ok();
    w
}

#[test]
fn fail_on_exits_3_after_writing_the_whole_report_and_names_the_counts() {
    let w = two_snapshots();
    let out = w.path("weekly");
    let r = w.run(&[
        "--quiet",
        "report",
        "--format",
        "csv,html",
        "--out",
        out.to_str().unwrap(),
        "--fail-on",
        "high-risk-changes,disabled-with-access",
    ]);
    r.fails_with(3);
    // Every file is there and complete: the alert does not cut the report short.
    let high = csv_maps(&out, "changes")
        .iter()
        .filter(|r| r["risk"] == "high")
        .count();
    let disabled = csv_maps(&out, "disabled_accounts")
        .iter()
        .filter(|r| !r["findings"].is_empty())
        .count();
    assert!(
        high > 0 && disabled > 0,
        "the scripted changes produce both"
    );
    assert!(
        std::fs::read_dir(&out)
            .unwrap()
            .any(|e| { e.unwrap().path().extension().is_some_and(|x| x == "html") })
    );
    r.stderr_has(&format!(
        "--fail-on: found {high} high-risk-changes, {disabled} disabled-with-access"
    ));
    assert!(
        !r.stderr.contains("error:"),
        "findings are an alert, not an error: {}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "--quiet: {}", r.stdout);

    // With --json (a wrapper that parses stdout) the alert still exits 3, after
    // the JSON summary is printed in full.
    let json_out = w.path("weekly-json");
    let r = w.run(&[
        "report",
        "--format",
        "csv",
        "--out",
        json_out.to_str().unwrap(),
        "--json",
        "--fail-on",
        "high-risk-changes",
    ]);
    r.fails_with(3)
        .stderr_has(&format!("--fail-on: found {high} high-risk-changes"));
    let summary: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON on stdout");
    assert!(summary["files"].as_array().is_some_and(|f| !f.is_empty()));

    // Listed findings that are absent: exit 0.
    let w1 = World::demo();
    w1.snapshot(&[]).ok();
    let out1 = w1.path("first");
    w1.run(&[
        "report",
        "--format",
        "csv",
        "--out",
        out1.to_str().unwrap(),
        "--fail-on",
        "high-risk-changes",
    ])
    .ok();
}

#[test]
fn an_unknown_fail_on_word_is_a_usage_error_before_anything_is_written() {
    let w = two_snapshots();
    let out = w.path("nope");
    w.run(&[
        "report",
        "--out",
        out.to_str().unwrap(),
        "--fail-on",
        "orphans,privileged",
    ])
    .fails_with(2)
    .stderr_has("unknown --fail-on finding `privileged`")
    .stderr_has("high-risk-changes, orphans, disabled-with-access");
    assert!(!out.exists(), "nothing may be written on a usage error");
}

#[test]
fn prune_keeps_the_latest_snapshot_and_verify_passes_through_the_gap() {
    prune_flow(two_snapshots());
}

/// The same prune with the history in PostgreSQL.
#[test]
fn prune_runs_on_postgres() {
    let Some(db) = crate::postgres::Database::fresh() else {
        return;
    };
    prune_flow(two_snapshots_on(Some(&db)));
}

fn prune_flow(w: World) {
    w.snapshot(&[]).ok();
    let ids = |w: &World| -> Vec<i64> {
        w.store()
            .snapshots(None)
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect()
    };
    assert_eq!(ids(&w), vec![1, 2, 3]);
    let latest = w.store().state_at(3).unwrap();

    let dry = w.run(&["prune", "--keep-days", "0", "--dry-run"]);
    dry.ok();
    assert!(
        dry.stdout
            .contains("org default: would remove 2 snapshot(s): 1-2"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("kept 1: 3 (latest)"), "{}", dry.stdout);
    assert_eq!(ids(&w), vec![1, 2, 3], "a dry run changes nothing");

    let r = w.run(&["prune", "--keep-days", "0", "--vacuum"]);
    r.ok();
    assert!(r.stdout.contains("removed 2 snapshot(s)"), "{}", r.stdout);
    assert_eq!(ids(&w), vec![3]);
    assert_eq!(w.store().state_at(3).unwrap(), latest);
    let v = w.run(&["verify"]);
    v.ok();
    assert!(
        v.stdout.contains("verified 1 snapshot(s)")
            && v.stdout.contains("through 2 pruned snapshot(s)"),
        "{}",
        v.stdout
    );
    // The next night chains onto the kept snapshot.
    w.snapshot(&[]).ok();
    w.run(&["verify"]).ok();

    w.run(&["prune", "--keep-days", "30", "--org", "nobody"])
        .fails_with(2)
        .stderr_has("nobody");
    w.run(&["prune"]).fails_with(2).stderr_has("--keep-days");
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_retool-audit"));
    c.env_remove("RETOOL_AUDIT_DB");
    c
}

fn stdout_of(args: &[&str]) -> String {
    let out = bin().args(args).output().expect("run retool-audit");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Runs `shell` with `args` and `script` if the shell is installed; says so when not.
fn syntax_check(shell: &str, args: &[&str], script: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("completion");
    std::fs::write(&file, script).unwrap();
    match Command::new(shell).args(args).arg(&file).output() {
        Ok(out) => assert!(
            out.status.success(),
            "{shell} rejects the completion script: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => eprintln!("SKIP {shell} syntax check of the completion script: {shell}: {e}"),
    }
}

#[test]
fn completions_for_every_shell_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = stdout_of(&["completions", shell]);
        for sub in ["snapshot", "snapshots", "verify", "report", "prune", "man"] {
            assert!(script.contains(sub), "{shell} completions lack {sub}");
        }
        assert!(script.contains("--fail-on") || script.contains("fail-on"));
        match shell {
            "bash" => syntax_check("bash", &["-n"], &script),
            "zsh" => syntax_check("zsh", &["-n"], &script),
            "fish" => syntax_check("fish", &["--no-execute"], &script),
            _ => {}
        }
    }
    bin()
        .args(["completions", "tcsh"])
        .output()
        .map(|o| assert_eq!(o.status.code(), Some(2)))
        .unwrap();
}

#[test]
fn the_man_page_has_the_standard_sections() {
    let page = stdout_of(&["man"]);
    assert!(
        page.starts_with(".ie") || page.contains(".TH retool-audit"),
        "{page}"
    );
    for needle in [
        ".TH retool-audit",
        ".SH NAME",
        ".SH SYNOPSIS",
        "prune",
        "Exit codes",
    ] {
        assert!(page.contains(needle), "man page lacks {needle}");
    }
    let dir = tempfile::tempdir().unwrap();
    stdout_of(&["man", "--out", dir.path().to_str().unwrap()]);
    for f in [
        "retool-audit.1",
        "retool-audit-report.1",
        "retool-audit-prune.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert!(text.contains(".SH SYNOPSIS"), "{f}");
    }
}

#[test]
fn version_names_the_git_revision_when_built_from_git() {
    let v = stdout_of(&["--version"]);
    let re =
        regex::Regex::new(r"^retool-audit \d+\.\d+\.\d+( \(git [0-9a-f]{4,40}(-dirty)?\))?\n$")
            .unwrap();
    assert!(re.is_match(&v), "{v:?}");
    let dir = env!("CARGO_MANIFEST_DIR");
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let top = git(&["rev-parse", "--show-toplevel"]);
    let same_dir = top.as_deref().and_then(|t| std::fs::canonicalize(t).ok())
        == std::fs::canonicalize(dir).ok();
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(rev) if same_dir => assert!(v.contains(&format!("(git {rev}")), "{v:?} vs {rev}"),
        _ => eprintln!(
            "SKIP the git revision check of --version: {dir} is not a git checkout (a tarball build prints the version alone)"
        ),
    }
}
