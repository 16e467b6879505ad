//! Evidence that travels (issue 14, item 4): every report directory carries
//! `manifest.json` and `SHA256SUMS` (checked with the real `sha256sum -c`), an
//! optional minisign signature (checked with the real `minisign -V`), and
//! `verify-report` catches a changed byte in any file, an edited history and a
//! wrong key.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::common::{World, every_file, retool_audit, run, skip_or_fail};

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Two snapshots with the scripted day between them, a roster, and a report in
/// every format written into `out`.
fn reported_world() -> (World, PathBuf) {
    let w = World::new(40);
    w.snapshot(&[]).ok();
    w.server().update_org(|o| o.apply_scripted_changes());
    w.snapshot(&[]).ok();
    let s = w.expected();
    let mut roster = String::from("email\n");
    // Everyone but the first user.
    for u in s.users.iter().skip(1) {
        roster.push_str(&format!("{}\n", u.email));
    }
    std::fs::write(w.path("hr.csv"), &roster).unwrap();
    let out = w.path("out");
    w.run(&[
        "report",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv,xlsx,html,json",
        "--roster",
        w.path("hr.csv").to_str().unwrap(),
        "--inactive-days",
        "45",
    ])
    .ok();
    (w, out)
}

fn relative(dir: &Path, files: Vec<PathBuf>) -> BTreeSet<String> {
    files
        .into_iter()
        .map(|p| {
            p.strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    for f in every_file(from) {
        let dest = to.join(f.strip_prefix(from).unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&f, &dest).unwrap();
    }
}

#[test]
fn a_report_directory_carries_a_manifest_and_sums_sha256sum_accepts() {
    let (w, out) = reported_world();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();

    // Every file the report wrote is listed with its real size and SHA-256.
    let listed: BTreeMap<String, (u64, String)> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                (
                    f["size"].as_u64().unwrap(),
                    f["sha256"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    let mut on_disk = relative(&out, every_file(&out));
    for sealed in ["manifest.json", "SHA256SUMS"] {
        assert!(on_disk.remove(sealed), "{sealed} written");
    }
    assert_eq!(
        listed.keys().cloned().collect::<BTreeSet<_>>(),
        on_disk,
        "the manifest lists exactly the files written"
    );
    assert!(listed.contains_key("csv/users.csv") && listed.contains_key("report.json"));
    for (path, (size, sha)) in &listed {
        let bytes = std::fs::read(out.join(path)).unwrap();
        assert_eq!(
            (bytes.len() as u64, &sha256_hex(&bytes)),
            (*size, sha),
            "{path}"
        );
    }

    // The snapshots are the history's, with their hashes; the parameters are the
    // ones given.
    let store = w.store();
    let metas = store.snapshots(None).unwrap();
    let roles: Vec<(String, i64, String)> = manifest["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["role"].as_str().unwrap().to_string(),
                s["id"].as_i64().unwrap(),
                s["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        vec![
            ("reported".to_string(), metas[1].id, metas[1].sha256.clone()),
            ("since".to_string(), metas[0].id, metas[0].sha256.clone()),
        ]
    );
    let p = &manifest["parameters"];
    assert_eq!(p["inactive_days"], 45);
    assert_eq!(p["default_group"], "All Users");
    let roster_bytes = std::fs::read(w.path("hr.csv")).unwrap();
    assert_eq!(p["roster"]["file"], "hr.csv");
    assert_eq!(p["roster"]["sha256"], sha256_hex(&roster_bytes).as_str());
    let roster_rows = String::from_utf8_lossy(&roster_bytes).lines().count() - 1;
    assert_eq!(p["roster"]["rows"], roster_rows);
    assert_eq!(manifest["kind"], "report");
    assert_eq!(manifest["tool"]["version"], retool_audit::VERSION);
    assert!(
        manifest["command_line"]
            .as_str()
            .unwrap()
            .contains("--inactive-days 45")
    );
    // The Evidence carries the same parameters.
    let evidence = crate::common::csv_maps(&out, "evidence");
    let param = |k: &str| {
        evidence
            .iter()
            .find(|r| r["section"] == "Parameters" && r["key"] == k)
            .map(|r| r["value"].clone())
    };
    assert_eq!(param("inactive_days").as_deref(), Some("45"));
    assert!(
        param("roster")
            .unwrap()
            .contains(&sha256_hex(&roster_bytes))
    );

    // `sha256sum -c` (coreutils) accepts the list as written.
    let check = Command::new("sha256sum")
        .args(["-c", "--strict", "SHA256SUMS"])
        .current_dir(&out)
        .output()
        .expect("sha256sum runs");
    assert!(
        check.status.success(),
        "sha256sum -c: {}",
        String::from_utf8_lossy(&check.stdout)
    );
    let ok_lines = String::from_utf8_lossy(&check.stdout)
        .lines()
        .filter(|l| l.ends_with(": OK"))
        .count();
    assert_eq!(ok_lines, listed.len() + 1, "every file and the manifest");

    // verify-report agrees, without and with the history.
    let alone = run(Command::new(env!("CARGO_BIN_EXE_retool-audit"))
        .env_remove("RETOOL_AUDIT_DB")
        .arg("verify-report")
        .arg(&out));
    alone.ok();
    assert!(
        alone
            .stdout
            .contains(&format!("{} file(s) match", listed.len()))
    );
    assert!(!alone.stdout.contains("hash chain"));
    let with_db = w.run(&["verify-report", out.to_str().unwrap()]);
    with_db.ok();
    assert!(
        with_db.stdout.contains("the hash chain verifies"),
        "{}",
        with_db.stdout
    );
}

#[test]
fn verify_report_fails_after_one_byte_of_any_file_changes() {
    let (w, out) = reported_world();
    let files = relative(&out, every_file(&out));
    assert!(files.len() > 30);
    for rel in &files {
        let copy = w.path(&format!("copy-{}", rel.replace('/', "_")));
        copy_dir(&out, &copy);
        let path = copy.join(rel);
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x01;
        std::fs::write(&path, bytes).unwrap();
        let r = run(Command::new(env!("CARGO_BIN_EXE_retool-audit"))
            .env_remove("RETOOL_AUDIT_DB")
            .args(["verify-report"])
            .arg(&copy));
        r.fails_with(1);
        // The first line names the file changed (a changed manifest is caught
        // through SHA256SUMS's line for it).
        let first = r.stderr.lines().next().unwrap_or_default();
        assert!(first.contains(rel.as_str()), "{rel}: {}", r.stderr);
        std::fs::remove_dir_all(&copy).unwrap();
    }
    // A file the manifest names, removed.
    std::fs::remove_file(out.join("csv/groups.csv")).unwrap();
    let r = w.run(&["verify-report", out.to_str().unwrap()]);
    r.fails_with(1);
    assert!(
        r.stderr
            .contains("csv/groups.csv: listed in the manifest but cannot be read")
    );
    // No manifest at all; not a directory.
    std::fs::remove_file(out.join("manifest.json")).unwrap();
    let r = w.run(&["verify-report", out.to_str().unwrap()]);
    r.fails_with(1);
    assert!(
        r.stderr.contains("manifest.json: cannot be read"),
        "{}",
        r.stderr
    );
    w.run(&["verify-report", w.path("nowhere").to_str().unwrap()])
        .fails_with(2);
}

#[test]
fn verify_report_checks_the_snapshots_against_the_history() {
    let (w, out) = reported_world();
    let dir = out.to_str().unwrap();
    w.run(&["verify-report", dir]).ok();

    // Another history (a fresh one of the same org) does not hold the snapshots
    // with these hashes.
    let other = w.path("other.db");
    run(retool_audit(&other).args(["snapshot", "--base-url", &w.base_url()])).ok();
    let r = run(retool_audit(&other).args(["verify-report", dir]));
    r.fails_with(1);
    assert!(
        r.stderr
            .lines()
            .next()
            .unwrap()
            .contains("snapshot 2 (reported"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("snapshot 1 (since)"), "{}", r.stderr);

    // One stored row edited by SQL: the chain no longer verifies.
    let conn = rusqlite::Connection::open(&w.db).unwrap();
    let edited = conn
        .execute(
            "UPDATE users SET email = 'mallory@evil.example' WHERE rowid = (SELECT min(rowid) FROM users)",
            [],
        )
        .unwrap();
    assert_eq!(edited, 1);
    drop(conn);
    let r = w.run(&["verify-report", dir]);
    r.fails_with(1);
    assert!(r.stderr.contains("does not verify"), "{}", r.stderr);
    assert!(
        r.stderr.contains("run `retool-audit verify`"),
        "{}",
        r.stderr
    );

    // The snapshot's own hash edited: named as differing.
    let conn = rusqlite::Connection::open(&w.db).unwrap();
    conn.execute(
        "UPDATE snapshots SET sha256 = 'ab' || substr(sha256, 3) WHERE id = 2",
        [],
    )
    .unwrap();
    drop(conn);
    let r = w.run(&["verify-report", dir]);
    r.fails_with(1);
    assert!(
        r.stderr
            .lines()
            .next()
            .unwrap()
            .contains("snapshot 2 (reported)"),
        "{}",
        r.stderr
    );
}

fn minisign_tool(test: &str) -> bool {
    let found = Command::new("minisign").arg("-v").output().is_ok();
    if !found {
        skip_or_fail(
            test,
            "the minisign tool is not installed",
            "apt-get install minisign",
        );
    }
    found
}

/// A key pair made by the minisign tool itself: without a password (`-W`), or
/// with `password`.
fn tool_keypair(dir: &Path, name: &str, password: Option<&str>) -> (PathBuf, PathBuf) {
    use std::io::Write;
    let (pk, sk) = (
        dir.join(format!("{name}.pub")),
        dir.join(format!("{name}.key")),
    );
    let mut cmd = Command::new("minisign");
    cmd.args(["-G", "-f", "-p"]).arg(&pk).arg("-s").arg(&sk);
    if password.is_none() {
        cmd.arg("-W");
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("minisign -G");
    if let Some(pw) = password {
        writeln!(child.stdin.as_mut().unwrap(), "{pw}\n{pw}").unwrap();
    }
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success(), "minisign -G");
    (pk, sk)
}

#[test]
fn a_signed_report_verifies_with_the_minisign_tool_and_not_with_another_key() {
    if !minisign_tool("a_signed_report_verifies_with_the_minisign_tool_and_not_with_another_key") {
        return;
    }
    let w = World::new(20);
    w.snapshot(&[]).ok();
    let keys = w.path("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let (pk, sk) = tool_keypair(&keys, "audit", None);
    let (other_pk, _) = tool_keypair(&keys, "other", None);
    let out = w.path("signed");
    w.run(&[
        "report",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv,json",
        "--sign-key",
        sk.to_str().unwrap(),
    ])
    .ok();
    assert!(out.join("SHA256SUMS.minisig").exists());

    // The standard tool accepts the signature and shows what was signed.
    let v = Command::new("minisign")
        .args(["-V", "-m", "SHA256SUMS", "-p"])
        .arg(&pk)
        .current_dir(&out)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&v.stdout);
    assert!(
        v.status.success(),
        "minisign -V: {said} {}",
        String::from_utf8_lossy(&v.stderr)
    );
    assert!(
        said.contains("Trusted comment: retool-audit report of"),
        "{said}"
    );
    let wrong = Command::new("minisign")
        .args(["-V", "-m", "SHA256SUMS", "-p"])
        .arg(&other_pk)
        .current_dir(&out)
        .output()
        .unwrap();
    assert!(!wrong.status.success(), "another key must not verify");

    let dir = out.to_str().unwrap();
    let good = w.run(&["verify-report", dir, "--pubkey", pk.to_str().unwrap()]);
    good.ok();
    assert!(good.stdout.contains("signature: good"), "{}", good.stdout);
    let r = w.run(&["verify-report", dir, "--pubkey", other_pk.to_str().unwrap()]);
    r.fails_with(1);
    assert!(
        r.stderr.contains("SHA256SUMS.minisig: does not verify"),
        "{}",
        r.stderr
    );
    // Without --pubkey the signature is present but not vouched for, and said so.
    let unchecked = w.run(&["verify-report", dir]);
    unchecked.ok();
    assert!(
        unchecked.stdout.contains("was not checked"),
        "{}",
        unchecked.stdout
    );
    // A public key that is not one is a usage error.
    w.run(&["verify-report", dir, "--pubkey", sk.to_str().unwrap()])
        .fails_with(2);

    // Rewritten without a key, the stale signature goes; asking for it then fails.
    w.run(&["report", "--out", dir, "--format", "csv,json"])
        .ok();
    assert!(!out.join("SHA256SUMS.minisig").exists());
    let r = w.run(&["verify-report", dir, "--pubkey", pk.to_str().unwrap()]);
    r.fails_with(1);
    assert!(
        r.stderr.contains("the report was not signed"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_signing_key_that_cannot_be_used_stops_the_report_before_any_file() {
    if !minisign_tool("a_signing_key_that_cannot_be_used_stops_the_report_before_any_file") {
        return;
    }
    let w = World::new(10);
    w.snapshot(&[]).ok();
    let keys = w.path("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let (pk, sk) = tool_keypair(&keys, "locked", Some("correct horse"));
    std::fs::write(w.path("not-a-key"), "hello\n").unwrap();
    let out = w.path("out");
    let report = |extra: &[&str], password: Option<&str>| {
        let mut cmd = w.cmd();
        cmd.args(["report", "--out", out.to_str().unwrap(), "--format", "csv"])
            .args(extra)
            .env_remove("RETOOL_AUDIT_SIGN_PASSWORD");
        if let Some(pw) = password {
            cmd.env("RETOOL_AUDIT_SIGN_PASSWORD", pw);
        }
        run(&mut cmd)
    };
    let sk = sk.to_str().unwrap();
    for (extra, password, says) in [
        (vec!["--sign-key", sk], None, "protected by a password"),
        (vec!["--sign-key", sk], Some("wrong"), "could not be opened"),
        (
            vec!["--sign-key", w.path("missing.key").to_str().unwrap()],
            None,
            "cannot read the signing key",
        ),
        (
            vec!["--sign-key", w.path("not-a-key").to_str().unwrap()],
            None,
            "is not a minisign secret key",
        ),
    ] {
        let r = report(&extra, password);
        r.fails_with(2);
        assert!(r.stderr.contains(says), "{says}: {}", r.stderr);
        assert!(!r.stderr.contains("correct horse") && !r.stdout.contains("correct horse"));
        assert!(
            !out.exists(),
            "nothing written before the key was usable ({says})"
        );
    }
    // The password from a file (its first line) opens it.
    std::fs::write(w.path("pw"), "correct horse\n").unwrap();
    report(
        &[
            "--sign-key",
            sk,
            "--sign-password-file",
            w.path("pw").to_str().unwrap(),
        ],
        None,
    )
    .ok();
    w.run(&[
        "verify-report",
        out.to_str().unwrap(),
        "--pubkey",
        pk.to_str().unwrap(),
    ])
    .ok();
}
