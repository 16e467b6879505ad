//! The questions only a history answers (`access-at`), over several snapshots
//! of the simulated org with scripted changes, checked against each
//! snapshot's own `report`.

use std::collections::BTreeMap;

use chrono::SecondsFormat;
use retool_audit::model::SnapshotMeta;

use crate::common::{World, csv_maps, read_csv};

type Row = BTreeMap<String, String>;

/// Four snapshots: the demo org, the scripted changes, a user made admin by
/// hand, and a quiet night.
fn history() -> (World, Vec<SnapshotMeta>, String) {
    let w = World::demo();
    w.snapshot(&[]).ok();
    w.server().update_org(|o| o.apply_scripted_changes());
    w.snapshot(&[]).ok();
    let promoted = w.server().update_org(|o| {
        let u = o
            .users
            .iter_mut()
            .find(|u| u.active && !u.is_admin && !u.email.starts_with(['=', '+']))
            .unwrap();
        u.is_admin = true;
        u.email.clone()
    });
    w.snapshot(&[]).ok();
    w.snapshot(&[]).ok();
    let metas = w.store().snapshots(None).unwrap();
    assert_eq!(metas.len(), 4);
    (w, metas, promoted)
}

/// `report --snapshot id --format csv` into `out`.
fn report_at(w: &World, id: i64, out: &str) -> std::path::PathBuf {
    let dir = w.path(out);
    let id = id.to_string();
    w.run(&[
        "report",
        "--snapshot",
        &id,
        "--format",
        "csv",
        "--out",
        dir.to_str().unwrap(),
    ])
    .ok();
    dir
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn field(v: &serde_json::Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_string()
}

/// The moment halfway between two snapshots, as RFC 3339 with nanoseconds.
fn between(a: &SnapshotMeta, b: &SnapshotMeta) -> String {
    let mid = a.taken_at() + (b.taken_at() - a.taken_at()) / 2;
    mid.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

#[test]
fn access_at_answers_with_the_state_of_the_last_snapshot_before_the_moment() {
    let (w, metas, promoted) = history();
    let (s3, s4) = (&metas[2], &metas[3]);
    let at = between(s3, s4);
    let r3 = report_at(&w, s3.id, "r3");
    let r2 = report_at(&w, metas[1].id, "r2");
    let effective = csv_maps(&r3, "effective_access");

    // One user: exactly the effective_access rows of snapshot 3, with its proof.
    let run = w.run(&[
        "access-at",
        "--at",
        &at,
        "--user",
        &promoted.to_uppercase(),
        "--format",
        "json",
    ]);
    run.ok();
    let answer = json(&run.stdout);
    assert_eq!(answer["snapshot"]["id"], s3.id);
    assert_eq!(answer["snapshot"]["sha256"], s3.sha256.as_str());
    assert_eq!(answer["user"]["email"], promoted.as_str());
    let cols = [
        "object_type",
        "object_id",
        "object_name",
        "access_level",
        "determining_source",
        "via",
    ];
    let got: Vec<Vec<String>> = answer["access"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| cols.iter().map(|c| field(r, c)).collect())
        .collect();
    let want: Vec<Vec<String>> = effective
        .iter()
        .filter(|r| r["email"] == promoted)
        .map(|r| cols.iter().map(|c| r[*c].clone()).collect())
        .collect();
    assert_eq!(got, want);
    assert!(
        got.iter().all(|r| r[3] == "own"),
        "made admin in snapshot 3: {got:?}"
    );
    // The snapshot before: not admin yet.
    let before = w.run(&[
        "access-at",
        "--at",
        &metas[1].id.to_string(),
        "--user",
        &promoted,
        "--format",
        "json",
    ]);
    let earlier = json(&before.ok().stdout);
    let want2 = csv_maps(&r2, "effective_access")
        .iter()
        .filter(|r| r["email"] == promoted)
        .count();
    assert_eq!(earlier["access"].as_array().unwrap().len(), want2);
    assert_ne!(earlier["access"], answer["access"]);

    // One object: every active user reaching it, at the level effective_access
    // gives (the object's own row, or the type's baseline row).
    let (_, apps) = read_csv(&r3, "apps");
    let app_id = apps[0][0].clone();
    let run = w.run(&[
        "access-at",
        "--at",
        &at,
        "--object",
        &format!("app:{app_id}"),
        "--format",
        "json",
    ]);
    let answer = json(&run.ok().stdout);
    let got: BTreeMap<String, String> = answer["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (field(r, "email"), field(r, "access_level")))
        .collect();
    let mut want: BTreeMap<String, String> = BTreeMap::new();
    let rank = |l: &str| ["use", "edit", "own"].iter().position(|x| *x == l);
    for r in effective.iter().filter(|r| {
        r["object_type"] == "app" && (r["object_id"] == app_id || r["object_id"] == "*")
    }) {
        // The CSV neutralized formula-like e-mails with a leading `'`.
        let email = r["email"].strip_prefix('\'').unwrap_or(&r["email"]);
        let e = want.entry(email.to_string()).or_default();
        if rank(&r["access_level"]) > rank(e) {
            *e = r["access_level"].clone();
        }
    }
    assert_eq!(got, want);
    assert!(got.len() > 10, "{got:?}");

    // CSV: every row carries the snapshot; a formula-like e-mail is neutralized.
    let run = w.run(&[
        "access-at",
        "--at",
        &at,
        "--object",
        &app_id,
        "--format",
        "csv",
    ]);
    let text = run.ok().stdout.clone();
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("snapshot_id,snapshot_taken_at,snapshot_sha256,user_id,email,")
    );
    assert!(lines.clone().all(|l| l.starts_with(&format!("{},", s3.id))));
    assert!(text.contains(",'=1+1."), "{text}");
    // The table names the snapshot and its hash first.
    let run = w.run(&["access-at", "--at", &at, "--object", &app_id]);
    let first = run.ok().stdout.lines().next().unwrap().to_string();
    assert!(
        first.contains(&format!("snapshot #{}", s3.id)) && first.contains(&s3.sha256),
        "{first}"
    );
}

#[test]
fn access_at_refuses_what_the_history_cannot_answer() {
    let (w, metas, promoted) = history();
    let first = &metas[0];
    let run = w.run(&["access-at", "--at", "2001-02-03", "--user", &promoted]);
    run.fails_with(2)
        .stderr_has("before the first snapshot")
        .stderr_has(&format!("#{} taken", first.id));
    w.run(&["access-at", "--at", "2999-01-01", "--user", &promoted])
        .fails_with(2)
        .stderr_has("in the future");
    // A typo: the closest e-mail is suggested.
    let typo = promoted.replacen('.', "", 1);
    w.run(&["access-at", "--at", "latest", "--user", &typo])
        .fails_with(2)
        .stderr_has(&format!("no user {typo:?}"))
        .stderr_has(&promoted);
    // A user added by the scripted changes, asked for before it existed.
    let added = csv_maps(&report_at(&w, metas[1].id, "r2"), "changes")
        .into_iter()
        .find(|c: &Row| c["entity_type"] == "user" && c["change"] == "added")
        .unwrap();
    w.run(&[
        "access-at",
        "--at",
        &first.id.to_string(),
        "--user",
        &added["entity_name"],
    ])
    .fails_with(2)
    .stderr_has(&format!(
        "the history holds it from snapshot #{} on",
        metas[1].id
    ));
    w.run(&[
        "access-at",
        "--at",
        "latest",
        "--object",
        "app:no such app at all",
    ])
    .fails_with(2)
    .stderr_has("no app, resource or workflow");
    w.run(&["access-at", "--at", "latest"]).fails_with(2);
    w.run(&[
        "access-at",
        "--at",
        "latest",
        "--user",
        &promoted,
        "--object",
        "x",
    ])
    .fails_with(2);
    w.run(&["access-at", "--at", "yesterday-ish", "--user", &promoted])
        .fails_with(2)
        .stderr_has("is not a snapshot");
}
