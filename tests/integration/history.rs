//! The questions only a history answers (`access-at`), over several snapshots
//! of the simulated org with scripted changes, checked against each
//! snapshot's own `report`.

use std::collections::BTreeMap;

use chrono::SecondsFormat;
use retool_audit::fake::ScriptedChanges;
use retool_audit::model::SnapshotMeta;

use crate::common::{World, csv_maps, read_csv};

type Row = BTreeMap<String, String>;

/// Four snapshots: the demo org, the scripted changes, a user made admin by
/// hand, and a quiet night.
fn history() -> (World, Vec<SnapshotMeta>, String) {
    let (w, metas, promoted, _) = history_with_changes();
    (w, metas, promoted)
}

fn history_with_changes() -> (World, Vec<SnapshotMeta>, String, ScriptedChanges) {
    let w = World::demo();
    w.snapshot(&[]).ok();
    let changes = w.server().update_org(|o| o.apply_scripted_changes());
    w.snapshot(&[]).ok();
    let promoted = w.promote_someone();
    w.snapshot(&[]).ok();
    w.snapshot(&[]).ok();
    let metas = w.store().snapshots(None).unwrap();
    assert_eq!(metas.len(), 4);
    (w, metas, promoted, changes)
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

/// `timeline --format json`'s rows.
fn timeline(w: &World, args: &[&str]) -> Vec<Row> {
    let mut all = vec!["timeline", "--format", "json"];
    all.extend_from_slice(args);
    let run = w.run(&all);
    let v = json(&run.ok().stdout);
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn timeline_lists_each_change_once_in_the_window_it_happened() {
    let (w, metas, promoted, ch) = history_with_changes();
    let ids: Vec<String> = metas.iter().map(|m| m.id.to_string()).collect();
    let users = csv_maps(&report_at(&w, metas[0].id, "r1"), "users");
    let email_of = |id: &str| {
        users
            .iter()
            .find(|u| u["user_id"] == id)
            .map(|u| u["email"].trim_start_matches('\'').to_string())
            .unwrap()
    };
    let window = |r: &Row| {
        (
            r["seen_in_snapshot"].clone(),
            r["previous_snapshot"].clone(),
        )
    };

    // Made admin by hand before snapshot 3: once, in the window 2 → 3, high.
    let rows = timeline(&w, &["--user", &promoted]);
    let admin: Vec<&Row> = rows.iter().filter(|r| r["field"] == "is_admin").collect();
    assert_eq!(admin.len(), 1, "{rows:?}");
    assert_eq!(window(admin[0]), (ids[2].clone(), ids[1].clone()));
    assert_eq!(
        (
            admin[0]["old_value"].as_str(),
            admin[0]["new_value"].as_str(),
            admin[0]["risk"].as_str()
        ),
        ("false", "true", "high")
    );
    assert!(
        rows.iter().any(|r| r["kind"] == "effective_access"
            && r["entity"] == "app (all apps)"
            && r["new_value"] == "own (admin)"
            && r["seen_in_snapshot"] == ids[2]),
        "{rows:?}"
    );
    // Nothing happened on the quiet night.
    assert!(
        rows.iter().all(|r| r["seen_in_snapshot"] != ids[3]),
        "{rows:?}"
    );
    // Every row's hash is its snapshot's.
    for r in &rows {
        let m = metas
            .iter()
            .find(|m| m.id.to_string() == r["seen_in_snapshot"])
            .unwrap();
        assert_eq!(r["snapshot_sha256"], m.sha256);
    }
    // A range that leaves the promotion out shows none of it.
    let early = timeline(&w, &["--user", &promoted, "--to", &ids[1]]);
    assert!(early.iter().all(|r| r["field"] != "is_admin"), "{early:?}");
    let only = timeline(
        &w,
        &["--user", &promoted, "--from", &ids[1], "--to", &ids[2]],
    );
    assert_eq!(only.iter().filter(|r| r["field"] == "is_admin").count(), 1);

    // A membership the scripted changes add: once, in the window 1 → 2.
    let (group, user) = &ch.memberships_added[0];
    let rows = timeline(&w, &["--user", &user.0]);
    let joined: Vec<&Row> = rows
        .iter()
        .filter(|r| r["kind"] == "membership" && r["old_value"].is_empty())
        .collect();
    assert!(!joined.is_empty(), "{rows:?}");
    assert!(
        joined
            .iter()
            .all(|r| window(r) == (ids[1].clone(), ids[0].clone())),
        "{joined:?}"
    );
    // The same change seen from the group.
    let from_group = timeline(&w, &["--group", &group.0.to_string()]);
    let added = email_of_any(&w, &metas, &user.0);
    assert_eq!(
        from_group
            .iter()
            .filter(|r| r["kind"] == "member" && r["entity"] == added && r["old_value"].is_empty())
            .map(window)
            .collect::<Vec<_>>(),
        vec![(ids[1].clone(), ids[0].clone())],
        "{from_group:?}"
    );
    // A raised group grant, seen from the group: old and new level.
    let (g, object, old, new) = &ch.grants_raised[0];
    let rows = timeline(&w, &["--group", &g.0.to_string()]);
    assert!(
        rows.iter().any(|r| r["kind"] == "grant"
            && r["old_value"] == old.as_str()
            && r["new_value"] == new.as_str()
            && window(r) == (ids[1].clone(), ids[0].clone())),
        "{object:?} {rows:?}"
    );

    // A user the scripted changes delete: still answered, gone in 1 → 2.
    let removed = &ch.removed_users[0];
    let rows = timeline(&w, &["--user", &email_of(&removed.0)]);
    let status: Vec<&Row> = rows.iter().filter(|r| r["field"] == "status").collect();
    assert_eq!(status.len(), 1, "{rows:?}");
    assert_eq!(
        (status[0]["new_value"].as_str(), window(status[0])),
        ("", (ids[1].clone(), ids[0].clone()))
    );

    // The object: the promoted user reaches the app at own from snapshot 3.
    let (_, apps) = read_csv(&report_at(&w, metas[2].id, "r3"), "apps");
    let rows = timeline(&w, &["--object", &format!("app:{}", apps[0][0])]);
    assert!(
        rows.iter().any(|r| r["kind"] == "user_access"
            && r["entity"] == promoted
            && r["new_value"] == "own (admin)"
            && window(r) == (ids[2].clone(), ids[1].clone())),
        "{rows:?}"
    );

    // Bad input.
    w.run(&[
        "timeline", "--user", &promoted, "--from", &ids[2], "--to", &ids[1],
    ])
    .fails_with(2)
    .stderr_has("swap them");
    w.run(&["timeline", "--group", "no such group"])
        .fails_with(2)
        .stderr_has("no group");
    w.run(&["timeline"]).fails_with(2);
}

/// A user's e-mail from whichever snapshot holds them.
fn email_of_any(w: &World, metas: &[SnapshotMeta], id: &str) -> String {
    for m in metas.iter().rev() {
        let users = csv_maps(&report_at(w, m.id, &format!("u{}", m.id)), "users");
        if let Some(u) = users.iter().find(|u| u["user_id"] == id) {
            return u["email"].trim_start_matches('\'').to_string();
        }
    }
    panic!("no user {id}")
}

/// Seven snapshots: a user is admin in 3 and 4 (demoted in 5), joins a team
/// in 3 only, and a team gets edit on an app from 2 to 5; nothing else moves.
#[test]
fn transient_access_finds_what_a_two_state_diff_cannot_see() {
    use retool_audit::fake::FakeMember;
    use retool_audit::model::{
        AccessLevel, Grant, GroupId, ObjectId, ObjectRef, ObjectType, Subject,
    };
    let w = World::demo();
    let pick = w.server().update_org(|o| {
        let u = o
            .users
            .iter()
            .find(|u| u.active && !u.is_admin && !u.email.starts_with(['=', '+']))
            .unwrap();
        let team = o
            .groups
            .iter()
            .find(|g| {
                g.id >= 3
                    && g.name.chars().all(|c| c.is_alphanumeric() || c == ' ')
                    && !g.members.iter().any(|m| m.user_id == u.id)
            })
            .unwrap();
        let app = o
            .apps
            .iter()
            .find(|a| {
                a.name.chars().all(|c| c.is_alphanumeric() || c == ' ')
                    && !o.grants.iter().any(|g| {
                        g.object.id.0 == a.id && g.subject == Subject::Group(GroupId(team.id))
                    })
            })
            .unwrap();
        (
            u.id.clone(),
            u.email.clone(),
            team.id,
            team.name.clone(),
            app.id.clone(),
            app.name.clone(),
        )
    });
    let (uid, email, team, team_name, app, app_name) = pick;
    let grant = Grant {
        subject: Subject::Group(GroupId(team)),
        object: ObjectRef {
            object_type: ObjectType::App,
            id: ObjectId(app.clone()),
        },
        level: AccessLevel::Edit,
    };
    let set_admin = |on: bool| {
        let uid = uid.clone();
        w.server().update_org(move |o| {
            o.users.iter_mut().find(|u| u.id == uid).unwrap().is_admin = on;
        })
    };
    let membership = |on: bool| {
        let uid = uid.clone();
        w.server().update_org(move |o| {
            let g = o.groups.iter_mut().find(|g| g.id == team).unwrap();
            g.members.retain(|m| m.user_id != uid);
            if on {
                g.members.push(FakeMember {
                    user_id: uid.clone(),
                    is_group_admin: false,
                });
            }
        })
    };
    // For one snapshot the team also holds own on every workflow and edit on
    // one environment's configuration of a resource.
    let (before_workflows, configuration) = w.server().update_org(|o| {
        let g = o.groups.iter().find(|g| g.id == team).unwrap();
        let configuration = o
            .configurations
            .iter()
            .find(|c| {
                !o.configuration_grants
                    .iter()
                    .any(|g| g.group_id == team && g.configuration_id == c.id)
            })
            .unwrap()
            .id
            .clone();
        (g.universal_workflow, configuration)
    });
    assert!(before_workflows < AccessLevel::Own);
    let powers = |on: bool| {
        let configuration = configuration.clone();
        w.server().update_org(move |o| {
            let g = o.groups.iter_mut().find(|g| g.id == team).unwrap();
            g.universal_workflow = if on {
                AccessLevel::Own
            } else {
                before_workflows
            };
            o.configuration_grants
                .retain(|g| !(g.group_id == team && g.configuration_id == configuration));
            if on {
                o.configuration_grants
                    .push(retool_audit::fake::FakeConfigurationGrant {
                        group_id: team,
                        configuration_id: configuration,
                        level: AccessLevel::Edit,
                    });
            }
        })
    };
    w.snapshot(&[]).ok(); // 1
    w.server().update_org(|o| o.grants.push(grant.clone()));
    w.snapshot(&[]).ok(); // 2: the team gets edit
    set_admin(true);
    membership(true);
    powers(true);
    w.snapshot(&[]).ok(); // 3: admin, member, the team's powers
    membership(false);
    powers(false);
    w.snapshot(&[]).ok(); // 4: still admin
    set_admin(false);
    w.snapshot(&[]).ok(); // 5: demoted
    w.server().update_org(|o| o.grants.retain(|g| g != &grant));
    w.snapshot(&[]).ok(); // 6: the grant is gone
    w.snapshot(&[]).ok(); // 7
    let ids: Vec<String> = w
        .store()
        .snapshots(None)
        .unwrap()
        .iter()
        .map(|m| m.id.to_string())
        .collect();
    assert_eq!(ids.len(), 7);

    let out = w.path("period");
    w.run(&[
        "report",
        "--since",
        &ids[0],
        "--snapshot",
        &ids[6],
        "--format",
        "csv",
        "--out",
        out.to_str().unwrap(),
    ])
    .ok();
    let rows = csv_maps(&out, "transient_access");
    let find = |kind: &str| -> Vec<&Row> { rows.iter().filter(|r| r["kind"] == kind).collect() };
    let span = |r: &Row| {
        (
            r["first_seen_snapshot"].clone(),
            r["last_seen_snapshot"].clone(),
            r["risk"].clone(),
        )
    };
    let admin = find("admin");
    assert_eq!(admin.len(), 1, "{rows:?}");
    assert_eq!(
        (admin[0]["email"].as_str(), admin[0]["user_id"].as_str()),
        (email.as_str(), uid.as_str())
    );
    assert_eq!(
        span(admin[0]),
        (ids[2].clone(), ids[3].clone(), "high".into())
    );
    let member = find("membership");
    assert_eq!(member.len(), 1, "{rows:?}");
    assert_eq!(member[0]["subject"], team_name);
    assert_eq!(
        span(member[0]),
        (ids[2].clone(), ids[2].clone(), "medium".into())
    );
    let grants = find("grant");
    assert_eq!(grants.len(), 1, "{rows:?}");
    assert_eq!(
        grants[0]["subject"],
        format!("app {app_name} via group {team_name}")
    );
    assert_eq!(
        (
            grants[0]["user_id"].as_str(),
            grants[0]["access_level"].as_str()
        ),
        ("", "edit")
    );
    assert_eq!(
        span(grants[0]),
        (ids[1].clone(), ids[4].clone(), "high".into())
    );
    let universal = find("universal");
    assert_eq!(universal.len(), 1, "{rows:?}");
    assert_eq!(
        (
            universal[0]["subject"].as_str(),
            universal[0]["access_level"].as_str()
        ),
        (
            format!("all workflows via group {team_name}").as_str(),
            "own"
        )
    );
    assert_eq!(
        span(universal[0]),
        (ids[2].clone(), ids[2].clone(), "high".into())
    );
    let environment = find("environment_access");
    assert_eq!(environment.len(), 1, "{rows:?}");
    assert!(
        environment[0]["subject"].ends_with(&format!(" via group {team_name}")),
        "{environment:?}"
    );
    assert_eq!(
        span(environment[0]),
        (ids[2].clone(), ids[2].clone(), "high".into())
    );
    assert_eq!(rows.len(), 5, "nothing else came and went: {rows:?}");

    // `changes` walks every snapshot from 1 to 7 (the default when they are
    // not adjacent): each step is a row in the snapshot that first showed it.
    let changes = csv_maps(&out, "changes");
    let seen: Vec<(&str, &str, &str, &str, &str)> = changes
        .iter()
        .map(|c| {
            (
                c["seen_in_snapshot"].as_str(),
                c["entity_type"].as_str(),
                c["change"].as_str(),
                c["field"].as_str(),
                c["risk"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (ids[1].as_str(), "permission", "added", "", "high"),
            (ids[2].as_str(), "user", "modified", "is_admin", "high"),
            (
                ids[2].as_str(),
                "group",
                "modified",
                "universal_workflow_access",
                "high"
            ),
            (ids[2].as_str(), "membership", "added", "", "high"),
            (
                ids[2].as_str(),
                "environment_access",
                "added",
                "access_level",
                "high"
            ),
            (
                ids[3].as_str(),
                "group",
                "modified",
                "universal_workflow_access",
                "low"
            ),
            (ids[3].as_str(), "membership", "removed", "", "low"),
            (
                ids[3].as_str(),
                "environment_access",
                "removed",
                "access_level",
                "low"
            ),
            (ids[4].as_str(), "user", "modified", "is_admin", "low"),
            (ids[5].as_str(), "permission", "removed", "", "low"),
        ],
        "{changes:#?}"
    );
    assert!(
        changes
            .iter()
            .all(|c| c["from_snapshot"] == ids[0] && c["to_snapshot"] == ids[6])
    );
    // seen_at is that snapshot's time, as the transient table gives it.
    assert_eq!(changes[1]["seen_at"], admin[0]["first_seen_at"]);
    assert_eq!(changes[5]["seen_at"], admin[0]["last_seen_at"]);

    // The plain two-state diff from 1 to 7 sees none of it.
    let endpoints = w.path("endpoints");
    w.run(&[
        "report",
        "--since",
        &ids[0],
        "--snapshot",
        &ids[6],
        "--endpoints-only",
        "--format",
        "csv",
        "--out",
        endpoints.to_str().unwrap(),
    ])
    .ok();
    let plain = csv_maps(&endpoints, "changes");
    assert!(plain.is_empty(), "{plain:#?}");
    // The manifest says which comparison each report made.
    let compared = |dir: &std::path::Path| {
        let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        json["parameters"]["changes_compared"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(
        compared(&out),
        "every snapshot in between, each with the next"
    );
    assert_eq!(compared(&endpoints), "the two snapshots");
    // The exceptions list the admin right and the edit/own access that came
    // and went: the grant, the universal level, the environment access.
    let exceptions = csv_maps(&out, "exceptions");
    let mut transient: Vec<(&str, &str, &str, &str)> = exceptions
        .iter()
        .filter(|e| e["finding"].starts_with("transient_"))
        .map(|e| {
            (
                e["severity"].as_str(),
                e["finding"].as_str(),
                e["email"].as_str(),
                e["subject"].split(' ').next().unwrap_or(""),
            )
        })
        .collect();
    transient.sort();
    assert_eq!(
        transient,
        vec![
            ("high", "transient_admin", email.as_str(), "admin"),
            ("high", "transient_edit_access", "", "environment_access"),
            ("high", "transient_edit_access", "", "grant"),
            ("high", "transient_edit_access", "", "universal"),
        ]
    );

    // Consecutive snapshots: nothing in between to walk.
    let out = w.path("night");
    w.run(&["report", "--format", "csv", "--out", out.to_str().unwrap()])
        .ok();
    assert!(csv_maps(&out, "transient_access").is_empty());
}

/// Leavers removed in time, late, at an unknown moment, never, and one who
/// used Retool after the last day; one who never had an account.
#[test]
fn the_deprovisioning_test_judges_each_leaver_from_the_snapshots() {
    let w = World::demo();
    // Four active, non-admin users in a team group (access beyond All Users).
    let people: Vec<(String, String)> = w.server().update_org(|o| {
        let in_team = |id: &str| {
            o.groups
                .iter()
                .any(|g| g.id >= 3 && g.members.iter().any(|m| m.user_id == id))
        };
        o.users
            .iter()
            .filter(|u| {
                u.active && !u.is_admin && !u.email.starts_with(['=', '+']) && in_team(&u.id)
            })
            .take(4)
            .map(|u| (u.id.clone(), u.email.clone()))
            .collect()
    });
    assert_eq!(people.len(), 4);
    let [(a, a_mail), (b, b_mail), (c, c_mail), (d, d_mail)] =
        <[(String, String); 4]>::try_from(people).unwrap();
    // C signs in now: after any termination below.
    let now = chrono::Utc::now();
    w.server().update_org(|o| {
        for u in o.users.iter_mut() {
            if u.id == c {
                u.last_active = Some(now);
            } else if [&a, &b, &d].contains(&&u.id) {
                u.last_active = Some(now - chrono::Duration::days(30));
            }
        }
    });
    let disable = |id: &str| {
        let id = id.to_string();
        w.server().update_org(move |o| {
            o.users.iter_mut().find(|u| u.id == id).unwrap().active = false;
        })
    };
    w.snapshot(&[]).ok(); // 1
    disable(&a);
    w.snapshot(&[]).ok(); // 2: A gone
    disable(&b);
    disable(&d);
    w.snapshot(&[]).ok(); // 3: B and D gone
    w.snapshot(&[]).ok(); // 4: C still there
    let m = w.store().snapshots(None).unwrap();
    let at = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Nanos, true);
    let hours = chrono::Duration::hours;
    let mid = m[1].taken_at() + (m[2].taken_at() - m[1].taken_at()) / 2;
    let file = w.path("leavers.csv");
    std::fs::write(
        &file,
        format!(
            "\u{feff}Name;Email;Termination_Date\n\
             a;{a_mail};{}\n\
             b;{b_mail};{}\n\
             c;{c_mail};{}\n\
             d;{d_mail};{}\n\
             x;nobody@example.com;2020-01-31\n",
            at(m[0].taken_at() - hours(1)), // removed by 2, well within 24 h
            at(m[1].taken_at() - hours(25)), // 2 still shows access after the deadline
            at(m[3].taken_at() - hours(30)), // never removed
            at(mid - hours(24)),            // the deadline falls between 2 and 3
        ),
    )
    .unwrap();
    let out = w.path("deprov");
    let run = w.run(&[
        "report",
        "--format",
        "csv",
        "--terminations",
        file.to_str().unwrap(),
        "--fail-on",
        "deprovisioning",
        "--out",
        out.to_str().unwrap(),
    ]);
    run.fails_with(3).stderr_has("2 deprovisioning");
    let rows = csv_maps(&out, "deprovisioning");
    let get = |mail: &str| {
        rows.iter()
            .find(|r| r["email"] == mail)
            .unwrap_or_else(|| panic!("{mail}: {rows:?}"))
    };
    let verdict = |mail: &str| {
        let r = get(mail);
        (
            r["sla_met"].clone(),
            r["active_after_termination"].clone(),
            r["finding"].clone(),
        )
    };
    assert_eq!(verdict(&a_mail), ("true".into(), "false".into(), "".into()));
    assert_eq!(get(&a_mail)["access_removed_snapshot"], m[1].id.to_string());
    assert_eq!(
        get(&a_mail)["last_seen_with_access_snapshot"],
        m[0].id.to_string()
    );
    assert_eq!(get(&a_mail)["hours_to_remove"], "1");
    assert_eq!(get(&a_mail)["evidence_snapshot_sha256"], m[1].sha256);
    assert_eq!(
        verdict(&b_mail),
        ("false".into(), "false".into(), "sla_missed".into())
    );
    assert_eq!(
        verdict(&c_mail),
        (
            "false".into(),
            "true".into(),
            "sla_missed; active_after_termination".into()
        )
    );
    assert_eq!(get(&c_mail)["access_removed_snapshot"], "");
    assert_eq!(verdict(&d_mail).0, "unknown");
    assert!(
        get(&d_mail)["note"].contains("brackets the deadline"),
        "{rows:?}"
    );
    assert_eq!(verdict("nobody@example.com").0, "true");
    assert!(get("nobody@example.com")["note"].contains("no account"));

    // Bad files: exit 2, the problem named, nothing written.
    for (text, says) in [
        (
            "email,left_on\nx@y,2026-01-01\n",
            "no `termination_date` column",
        ),
        ("email,termination_date\nx@y,next tuesday\n", "line 2"),
        ("email,termination_date\n", "no rows"),
    ] {
        std::fs::write(&file, text).unwrap();
        let out = w.path("bad");
        w.run(&[
            "report",
            "--format",
            "csv",
            "--terminations",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .fails_with(2)
        .stderr_has(says);
        assert!(!out.exists(), "{says}: something was written");
    }
}

/// Access added in a period, next to what approved it: an approved request to
/// join for one user's e-mail, a review `keep` for another's membership, and
/// nothing for a third — whose membership is gone again by the report.
#[test]
fn access_added_names_the_approval_of_each_new_access() {
    use retool_audit::fake::{FakeAccessRequest, FakeMember};
    use retool_audit::review::{
        Decision, DecisionInput, ItemKind, NewCampaign, ReviewItem, ReviewerBy,
    };

    let w = World::demo();
    // Three active non-admin users outside one team group, and an admin.
    let (team, people, admin) = w.server().update_org(|o| {
        let team = o.groups.iter().find(|g| g.id >= 3).unwrap();
        let outside: Vec<(String, String)> = o
            .users
            .iter()
            .filter(|u| {
                u.active
                    && !u.is_admin
                    && !u.email.starts_with(['=', '+'])
                    && !team.members.iter().any(|m| m.user_id == u.id)
            })
            .take(3)
            .map(|u| (u.id.clone(), u.email.clone()))
            .collect();
        let admin = o.users.iter().find(|u| u.active && u.is_admin).unwrap();
        (team.id, outside, (admin.id.clone(), admin.email.clone()))
    });
    let [(a, a_mail), (b, b_mail), (c, _)] = <[(String, String); 3]>::try_from(people).unwrap();
    w.snapshot(&[]).ok(); // 1
    let decided = chrono::Utc::now() - chrono::Duration::hours(1);
    w.server().update_org(|o| {
        let g = o.groups.iter_mut().find(|g| g.id == team).unwrap();
        for u in [&a, &b, &c] {
            g.members.push(FakeMember {
                user_id: u.clone(),
                is_group_admin: false,
            });
        }
        o.access_requests.push(FakeAccessRequest {
            id: 9001,
            status: "APPROVED".into(),
            requesting_email: a_mail.to_uppercase(),
            updated_by_id: Some(admin.0.clone()),
            created_at: decided,
            updated_at: decided,
        });
    });
    w.snapshot(&[]).ok(); // 2
    // A review of snapshot 2 keeps B's membership.
    let snap2 = w.store().snapshots(None).unwrap()[1].clone();
    let key = format!("m:{team}:{b}");
    let item = ReviewItem {
        key: key.clone(),
        kind: ItemKind::Membership,
        user_id: retool_audit::model::UserId(b.clone()),
        email: b_mail.clone(),
        group_id: Some(retool_audit::model::GroupId(team)),
        is_group_admin: Some(false),
        object: None,
        access_level: None,
        workbook: "all".into(),
        context: vec![("email".into(), b_mail.clone())],
        suggested: None,
        suggested_reason: None,
    };
    let campaign = w
        .store()
        .create_campaign(
            &NewCampaign {
                org: snap2.org.clone(),
                name: "q4".into(),
                snapshot_id: snap2.id,
                snapshot_sha256: snap2.sha256.clone(),
                created_at: chrono::Utc::now(),
                reviewer_by: ReviewerBy::Single,
                settings: serde_json::json!({"inactive_days": 90}),
            },
            &[item],
        )
        .unwrap();
    w.store()
        .import_decisions(
            campaign.id,
            &[DecisionInput {
                key: key.clone(),
                decision: Decision::Keep,
                reason: None,
                reviewer: Some("carol.reviewer@example.com".into()),
                reviewed_at: Some("2026-11-21".into()),
                source_file: "q4.xlsx".into(),
                source_sha256: "sha".into(),
            }],
            chrono::Utc::now(),
        )
        .unwrap();
    // C leaves the team again.
    w.server().update_org(|o| {
        let g = o.groups.iter_mut().find(|g| g.id == team).unwrap();
        g.members.retain(|m| m.user_id != c);
    });
    w.snapshot(&[]).ok(); // 3
    let ids: Vec<String> = w
        .store()
        .snapshots(None)
        .unwrap()
        .iter()
        .map(|m| m.id.to_string())
        .collect();

    let out = w.path("period");
    w.run(&[
        "report",
        "--since",
        &ids[0],
        "--snapshot",
        &ids[2],
        "--format",
        "csv",
        "--out",
        out.to_str().unwrap(),
    ])
    .ok();
    let rows = csv_maps(&out, "access_added");
    let got: Vec<(&str, &str, &str, &str, &str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["seen_in_snapshot"].as_str(),
                r["kind"].as_str(),
                r["user_id"].as_str(),
                r["held_now"].as_str(),
                r["approval"].as_str(),
                r["approval_ref"].as_str(),
                r["approved_by"].as_str(),
            )
        })
        .collect();
    let review = format!("review q4 (snapshot {})", ids[1]);
    let mut want = vec![
        (
            ids[1].as_str(),
            "membership",
            a.as_str(),
            "yes",
            "access_request",
            "access request 9001",
            admin.1.as_str(),
        ),
        (
            ids[1].as_str(),
            "membership",
            b.as_str(),
            "yes",
            "review_keep",
            review.as_str(),
            "carol.reviewer@example.com",
        ),
        (
            ids[1].as_str(),
            "membership",
            c.as_str(),
            "no",
            "none",
            "",
            "",
        ),
    ];
    want.sort_by_key(|r| format!("{team}:{}", r.2));
    assert_eq!(got, want, "{rows:#?}");
    let a_row = rows.iter().find(|r| r["user_id"] == a).unwrap();
    assert_eq!(a_row["email"], a_mail);
    assert_eq!(
        a_row["approved_at"],
        decided.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    // The access request itself is not access: no row for it, nor for the
    // quiet removal.
    assert!(rows.iter().all(|r| r["kind"] == "membership"));
}

/// `--out DIR` writes a history answer as a report directory: its CSV is the
/// answer's CSV, the workbook holds the same rows, the HTML names the
/// subject, and `verify-report` (with the history) accepts it.
#[test]
fn history_answers_write_report_directories_that_verify() {
    use calamine::{Reader, Xlsx, open_workbook};

    let (w, metas, promoted) = history();
    for (name, args) in [
        ("timeline", vec!["timeline", "--user", promoted.as_str()]),
        (
            "access_at",
            vec!["access-at", "--at", "3", "--user", promoted.as_str()],
        ),
    ] {
        let dir = w.path(name);
        let mut with_out = args.clone();
        with_out.extend(["--out", dir.to_str().unwrap()]);
        let wrote = w.run(&with_out);
        wrote.ok();
        assert!(
            wrote.stdout.contains(&format!("csv/{name}.csv")),
            "{}",
            wrote.stdout
        );
        let mut as_csv = args.clone();
        as_csv.extend(["--format", "csv"]);
        let stdout = w.run(&as_csv).ok().stdout.clone();
        // The report's CSV ends lines with CRLF (RFC 4180), stdout with LF.
        let written = std::fs::read_to_string(dir.join(format!("csv/{name}.csv"))).unwrap();
        assert_eq!(written.replace("\r\n", "\n"), stdout, "{name}");
        let rows = stdout.lines().count() - 1;
        assert!(rows > 0, "{name}");

        let file = |ext: &str| {
            std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.extension().is_some_and(|x| x == ext))
                .unwrap_or_else(|| panic!("no .{ext} in {}", dir.display()))
        };
        let mut wb: Xlsx<_> = open_workbook(file("xlsx")).unwrap();
        let sheet = wb.worksheet_range(name).unwrap();
        assert_eq!(sheet.height(), rows + 1, "{name}: header and rows");
        let html = std::fs::read_to_string(file("html")).unwrap();
        assert!(html.contains(&promoted), "{name}");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap())
                .unwrap();
        let snapshots = json["snapshots"].as_array().unwrap();
        assert!(
            snapshots.iter().all(|s| metas
                .iter()
                .any(|m| m.sha256 == s["sha256"].as_str().unwrap())),
            "{json:#}"
        );
        let verified = w.run(&["verify-report", dir.to_str().unwrap()]);
        verified.ok();
        assert!(
            verified.stdout.contains("the hash chain verifies"),
            "{}",
            verified.stdout
        );
    }
    // Either a report directory or a format on stdout.
    w.run(&[
        "timeline", "--user", &promoted, "--format", "csv", "--out", "x",
    ])
    .fails_with(2);
}
