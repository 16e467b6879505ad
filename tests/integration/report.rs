//! `report` and `demo`: every table checked against what the simulated org and
//! its scripted changes imply, the XLSX read back with calamine, the HTML parsed,
//! hostile text neutralized, bad input refused before anything is written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use calamine::{Data, Reader, Xlsx, open_workbook};
use retool_audit::fake::ScriptedChanges;
use retool_audit::model::{AccessLevel, ObjectType, OrgState, Subject};

use crate::common::{World, csv_maps, read_csv};

type Row = BTreeMap<String, String>;

/// Two snapshots of the demo org with the scripted changes in between, and a
/// roster that leaves out two active users.
struct History {
    w: World,
    before: OrgState,
    after: OrgState,
    changes: ScriptedChanges,
    left_out_of_roster: Vec<String>,
}

fn history() -> History {
    let w = World::demo();
    w.snapshot(&[]).ok();
    let before = w.expected();
    let changes = w.server().update_org(|o| o.apply_scripted_changes());
    let after = w.expected();
    w.snapshot(&[]).ok();
    let active: Vec<&str> = after
        .users
        .iter()
        .filter(|u| u.active)
        .map(|u| u.email.as_str())
        .collect();
    let left_out: Vec<String> = active.iter().take(2).map(|s| s.to_string()).collect();
    let mut roster = String::from("\u{feff}Name;EMAIL;Department\n");
    for e in active.iter().skip(2) {
        // Upper-case some emails: the roster match is case-insensitive.
        roster.push_str(&format!("someone;{};ops\n", e.to_uppercase()));
    }
    std::fs::write(w.path("roster.csv"), roster).unwrap();
    History {
        w,
        before,
        after,
        changes,
        left_out_of_roster: left_out,
    }
}

fn report(h: &History, out: &str, formats: &str) -> std::path::PathBuf {
    let dir = h.w.path(out);
    let roster = h.w.path("roster.csv");
    let args = vec![
        "report",
        "--out",
        dir.to_str().unwrap(),
        "--format",
        formats,
        "--roster",
        roster.to_str().unwrap(),
    ];
    h.w.run(&args).ok();
    dir
}

fn find(rows: &[Row], pred: impl Fn(&Row) -> bool) -> Vec<&Row> {
    rows.iter().filter(|r| pred(r)).collect()
}

#[test]
fn every_table_matches_the_org_and_its_changes() {
    let h = history();
    let dir = report(&h, "out", "csv,xlsx,html,json");
    let after = &h.after;
    let email = |id: &retool_audit::model::UserId| after.user(id).map(|u| u.email.clone());

    // users: one row per user, exact header.
    let (header, _) = read_csv(&dir, "users");
    assert_eq!(
        header,
        [
            "user_id",
            "email",
            "first_name",
            "last_name",
            "user_type",
            "is_admin",
            "status",
            "two_factor_enabled",
            "created_at",
            "last_active",
            "groups"
        ]
    );
    let users = csv_maps(&dir, "users");
    assert_eq!(users.len(), after.users.len());
    for id in &h.changes.disabled_users {
        let row = find(&users, |r| r["user_id"] == id.0);
        assert_eq!(row.len(), 1);
        assert_eq!(row[0]["status"], "disabled");
    }

    // changes: each scripted change shows up with its risk.
    let changes = csv_maps(&dir, "changes");
    assert_eq!(
        read_csv(&dir, "changes").0,
        [
            "from_snapshot",
            "to_snapshot",
            "seen_in_snapshot",
            "seen_at",
            "entity_type",
            "change",
            "entity_id",
            "entity_name",
            "field",
            "old_value",
            "new_value",
            "risk"
        ]
    );
    assert!(changes.iter().all(|r| r["from_snapshot"] == "1"
        && r["to_snapshot"] == "2"
        && r["seen_in_snapshot"] == "2"));
    for id in &h.changes.added_users {
        let rows = find(&changes, |r| {
            r["entity_type"] == "user" && r["change"] == "added" && r["entity_id"] == id.0
        });
        assert_eq!(rows.len(), 1, "added user {id}");
    }
    for id in &h.changes.removed_users {
        let rows = find(&changes, |r| {
            r["entity_type"] == "user" && r["change"] == "removed" && r["entity_id"] == id.0
        });
        assert_eq!(rows.len(), 1, "removed user {id}");
    }
    for id in &h.changes.disabled_users {
        let rows = find(&changes, |r| {
            r["entity_type"] == "user" && r["entity_id"] == id.0 && r["field"] == "status"
        });
        assert_eq!(rows.len(), 1, "disabled user {id}");
        assert_eq!(rows[0]["old_value"], "active");
        assert_eq!(rows[0]["new_value"], "disabled");
        assert_eq!(rows[0]["risk"], "low");
    }
    for id in &h.changes.re_enabled_users {
        let rows = find(&changes, |r| {
            r["entity_type"] == "user" && r["entity_id"] == id.0 && r["field"] == "status"
        });
        assert_eq!(rows.len(), 1, "re-enabled user {id}");
        assert_eq!(rows[0]["new_value"], "active");
        assert_eq!(
            rows[0]["risk"], "high",
            "a disabled user re-enabled is high risk"
        );
    }
    for id in &h.changes.promoted_admins {
        let rows = find(&changes, |r| {
            r["entity_type"] == "user" && r["entity_id"] == id.0 && r["field"] == "is_admin"
        });
        assert_eq!(rows.len(), 1, "promoted {id}");
        assert_eq!(
            (rows[0]["old_value"].as_str(), rows[0]["new_value"].as_str()),
            ("false", "true")
        );
        assert_eq!(rows[0]["risk"], "high");
    }
    for (g, u) in &h.changes.memberships_added {
        let id = format!("{g}:{u}");
        let rows = find(&changes, |r| {
            r["entity_type"] == "membership" && r["entity_id"] == id
        });
        assert_eq!(rows.len(), 1, "membership added {id}");
        assert_eq!(rows[0]["change"], "added");
        assert!(rows[0]["risk"] == "medium" || rows[0]["risk"] == "high");
    }
    for (g, u) in &h.changes.memberships_removed {
        let id = format!("{g}:{u}");
        let rows = find(&changes, |r| {
            r["entity_type"] == "membership" && r["entity_id"] == id
        });
        // A removed user's memberships go with them; the row is there either way.
        assert_eq!(rows.len(), 1, "membership removed {id}");
        assert_eq!(rows[0]["change"], "removed");
        assert_eq!(rows[0]["risk"], "low");
    }
    for (g, obj, old, new) in &h.changes.grants_raised {
        let id = format!("{g}:{}:{}", obj.object_type, obj.id);
        let rows = find(&changes, |r| {
            r["entity_type"] == "permission" && r["entity_id"] == id && r["field"] == "access_level"
        });
        assert_eq!(rows.len(), 1, "grant raised {id}");
        assert_eq!(rows[0]["old_value"], old.as_str());
        assert_eq!(rows[0]["new_value"], new.as_str());
        if *new >= AccessLevel::Edit {
            assert_eq!(rows[0]["risk"], "high", "new {new} access is high risk");
        }
    }
    for (g, obj, level) in &h.changes.grants_added {
        let id = format!("{g}:{}:{}", obj.object_type, obj.id);
        let rows = find(&changes, |r| {
            r["entity_type"] == "permission" && r["entity_id"] == id
        });
        assert_eq!(rows.len(), 1, "grant added {id}");
        assert_eq!(rows[0]["change"], "added");
        let want = if *level >= AccessLevel::Edit {
            "high"
        } else {
            "medium"
        };
        assert_eq!(rows[0]["risk"], want);
    }
    for (g, obj, _) in &h.changes.grants_removed {
        let id = format!("{g}:{}:{}", obj.object_type, obj.id);
        let rows = find(&changes, |r| {
            r["entity_type"] == "permission" && r["entity_id"] == id
        });
        assert_eq!(rows.len(), 1, "grant removed {id}");
        assert_eq!(rows[0]["change"], "removed");
        assert_eq!(rows[0]["risk"], "low");
    }
    for (g, kind, _, _) in &h.changes.universal_raised {
        let field = format!("universal_{}_access", kind.as_str());
        let rows = find(&changes, |r| {
            r["entity_type"] == "group" && r["entity_id"] == g.to_string() && r["field"] == field
        });
        assert_eq!(rows.len(), 1, "universal raised on group {g}");
        assert_eq!(rows[0]["risk"], "high");
    }
    for (app, _old, new) in &h.changes.apps_renamed {
        let rows = find(&changes, |r| {
            r["entity_type"] == "app" && r["entity_id"] == app.0 && r["field"] == "name"
        });
        assert_eq!(rows.len(), 1, "renamed app {app}");
        assert_eq!(rows[0]["new_value"].trim_start_matches('\''), new.as_str());
    }

    // disabled_accounts: every disabled user; newly disabled ones since snapshot 2.
    let disabled = csv_maps(&dir, "disabled_accounts");
    let disabled_ids: BTreeSet<&str> = disabled.iter().map(|r| r["user_id"].as_str()).collect();
    let want: BTreeSet<&str> = after
        .users
        .iter()
        .filter(|u| !u.active)
        .map(|u| u.id.0.as_str())
        .collect();
    assert_eq!(disabled_ids, want);
    let second_taken = h.w.store().snapshot(2).unwrap().taken_at();
    for id in &h.changes.disabled_users {
        let row = find(&disabled, |r| r["user_id"] == id.0)[0];
        assert_eq!(
            row["disabled_since"],
            retool_audit::report::format_time(&second_taken)
        );
    }
    for u in after.users.iter().filter(|u| !u.active) {
        let was_disabled = h.before.user(&u.id).is_some_and(|b| !b.active);
        let row = find(&disabled, |r| r["user_id"] == u.id.0)[0];
        if was_disabled {
            assert_eq!(
                row["disabled_since"], "",
                "disabled in the first snapshot: unknown since when"
            );
        }
        let in_groups = after
            .memberships
            .iter()
            .filter(|m| m.user_id == u.id)
            .any(|m| {
                after
                    .group(m.group_id)
                    .is_some_and(|g| g.name != "All Users")
            });
        assert_eq!(
            row["findings"].contains("still_in_groups"),
            in_groups,
            "{}",
            u.id
        );
        assert_eq!(
            row["findings"].contains("still_admin"),
            u.is_admin,
            "{}",
            u.id
        );
    }
    assert!(
        disabled
            .iter()
            .any(|r| r["findings"].contains("still_in_groups")),
        "the demo org has a disabled user still in a group"
    );

    // orphaned_accounts: reasons follow the roster, activity and groups.
    let orphans = csv_maps(&dir, "orphaned_accounts");
    for e in &h.left_out_of_roster {
        let row = find(&orphans, |r| {
            r["email"].trim_start_matches('\'') == e.as_str()
        });
        assert_eq!(row.len(), 1, "{e} is not in the roster");
        assert!(row[0]["reasons"].contains("not_in_roster"));
    }
    let never: Vec<_> = after
        .users
        .iter()
        .filter(|u| u.last_active.is_none())
        .collect();
    assert!(
        !never.is_empty(),
        "the demo org has users who never logged in"
    );
    for u in never {
        let row = find(&orphans, |r| r["user_id"] == u.id.0);
        assert_eq!(row.len(), 1);
        assert!(row[0]["reasons"].contains("never_active"));
    }
    for r in &orphans {
        if r["reasons"].contains("not_in_roster") {
            assert_eq!(
                r["status"], "active",
                "only active users can be missing from the roster"
            );
        }
    }

    // group_members and access_matrix agree with the memberships.
    let members = csv_maps(&dir, "group_members");
    assert_eq!(members.len(), after.memberships.len());
    let (matrix_header, matrix) = read_csv(&dir, "access_matrix");
    assert_eq!(&matrix_header[..3], ["email", "status", "is_admin"]);
    assert_eq!(matrix.len(), after.users.len());
    assert_eq!(matrix_header.len(), 3 + after.groups.len());

    // effective_access: admin, universal, group and folder sources all show.
    let access = csv_maps(&dir, "effective_access");
    let admin = after.users.iter().find(|u| u.active && u.is_admin).unwrap();
    let admin_rows = find(&access, |r| {
        r["user_id"] == admin.id.0 && r["object_id"] == "*"
    });
    assert!(!admin_rows.is_empty());
    assert!(
        admin_rows
            .iter()
            .all(|r| r["access_level"] == "own" && r["via"].contains("admin"))
    );
    assert!(
        access
            .iter()
            .any(|r| r["via"].contains("universal:All Users"))
    );
    assert!(access.iter().any(|r| r["via"].contains("group:")));
    // A folder grant reaches an app in that folder for a non-admin member.
    let folder_case = after.grants.iter().find_map(|g| {
        let Subject::Group(gid) = g.subject else {
            return None;
        };
        if g.object.object_type != ObjectType::Folder || g.level <= AccessLevel::Use {
            return None;
        }
        let app = after
            .apps
            .iter()
            .find(|a| a.folder_id.as_ref() == Some(&g.object.id))?;
        let member = after.memberships.iter().find(|m| {
            m.group_id == gid
                && after
                    .user(&m.user_id)
                    .is_some_and(|u| u.active && !u.is_admin)
        })?;
        Some((app.id.clone(), member.user_id.clone()))
    });
    let (app, user) = folder_case.expect("the demo org has an edit/own folder grant with a member");
    let rows = find(&access, |r| {
        r["user_id"] == user.0 && r["object_id"] == app.0
    });
    assert_eq!(rows.len(), 1, "folder grant reaches app {app} for {user}");
    assert!(rows[0]["via"].contains("folder:"), "{:?}", rows[0]);
    // Disabled users hold no effective access.
    for u in after.users.iter().filter(|u| !u.active) {
        assert!(
            find(&access, |r| r["user_id"] == u.id.0).is_empty(),
            "{}",
            u.id
        );
    }
    let _ = email;

    // group_permissions: every group grant, plus universal levels as `*`.
    let perms = csv_maps(&dir, "group_permissions");
    let group_grants = after
        .grants
        .iter()
        .filter(|g| matches!(g.subject, Subject::Group(_)))
        .count();
    assert_eq!(find(&perms, |r| r["scope"] == "direct").len(), group_grants);
    assert!(
        find(&perms, |r| r["scope"] == "universal")
            .iter()
            .all(|r| r["object_id"] == "*")
    );
}

/// Calamine's view of a cell, spelled the way the CSV spells it.
fn xlsx_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Bool(b) => b.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::DateTime(dt) => dt
            .as_datetime()
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default(),
        other => other.to_string(),
    }
}

#[test]
fn the_workbook_holds_the_same_rows_as_the_csv_files() {
    let h = history();
    let dir = report(&h, "out", "csv,xlsx,html,json");
    let xlsx = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "xlsx"))
        .expect("an xlsx file");
    let name = xlsx.file_name().unwrap().to_string_lossy().to_string();
    assert!(name.starts_with("retool-audit_"), "{name}");
    let mut wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
    let sheets = wb.sheet_names().to_vec();
    assert_eq!(sheets.first().map(String::as_str), Some("Summary"));
    assert!(sheets.iter().any(|s| s == "Evidence"));
    for table in [
        "users",
        "group_members",
        "access_matrix",
        "group_permissions",
        "effective_access",
        "orphaned_accounts",
        "disabled_accounts",
        "changes",
    ] {
        let (header, rows) = read_csv(&dir, table);
        let range = wb
            .worksheet_range(table)
            .unwrap_or_else(|e| panic!("sheet {table}: {e}"));
        let got: Vec<Vec<String>> = range
            .rows()
            .map(|r| r.iter().map(xlsx_text).collect())
            .collect();
        let header: Vec<String> = header.iter().map(|v| csv_value(v).to_string()).collect();
        assert_eq!(got[0], header, "{table} header");
        assert_eq!(got.len() - 1, rows.len(), "{table} row count");
        for (i, (x, c)) in got[1..].iter().zip(&rows).enumerate() {
            // The CSV's neutralizing `'` is not in the workbook, which keeps
            // the value and holds it as text by style.
            let c: Vec<String> = c.iter().map(|v| csv_value(v).to_string()).collect();
            let x: Vec<String> = x
                .iter()
                .cloned()
                .chain(std::iter::repeat(String::new()))
                .take(c.len())
                .collect();
            assert_eq!(x, c, "{table} row {}", i + 2);
        }
    }
    let evidence = wb.worksheet_range("Evidence").unwrap();
    let text: String = evidence
        .rows()
        .flat_map(|r| r.iter().map(xlsx_text))
        .collect::<Vec<_>>()
        .join("\n");
    let meta = h.w.store().snapshot(2).unwrap();
    assert!(
        text.contains(&meta.sha256),
        "evidence carries the content hash"
    );
    assert!(
        text.contains(&meta.info.source_url),
        "evidence carries the source"
    );
    assert!(!text.contains(crate::common::TOKEN));
}

fn html_file(dir: &Path) -> String {
    let path = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "html"))
        .expect("an html file");
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn html_is_self_contained_and_hostile_names_stay_text() {
    let h = history();
    let dir = report(&h, "out", "csv,xlsx,html,json");
    let html = html_file(&dir);
    let doc = scraper::Html::parse_document(&html);
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    // No external references of any kind.
    for el in doc.select(&sel("[src], link[href], [href]")) {
        for attr in ["src", "href"] {
            if let Some(v) = el.value().attr(attr) {
                assert!(
                    v.starts_with('#') || v.starts_with("data:"),
                    "external reference {attr}={v}"
                );
            }
        }
    }
    assert!(
        doc.select(&sel("script")).count() <= 1,
        "only the report's own script"
    );
    assert!(doc.select(&sel("script[src]")).next().is_none());
    // Hostile text from Retool is present as text, never as markup.
    let body_text: String = doc.root_element().text().collect();
    let hostile = h
        .after
        .users
        .iter()
        .filter_map(|u| u.first_name.clone())
        .chain(h.after.apps.iter().map(|a| a.name.clone()))
        .find(|n| n.contains("<script>"))
        .expect("the demo org carries a <script> name");
    assert!(
        body_text.contains(hostile.trim()),
        "hostile name shown as text"
    );
    assert!(!html.contains("<script>alert"), "never raw markup");
    // Each table is there with a row per record (within the display cap).
    let users_rows = doc.select(&sel("#t-users tbody tr")).count();
    assert_eq!(users_rows, h.after.users.len());
    // Summary cards and an inline SVG chart.
    assert!(doc.select(&sel("svg")).next().is_some(), "inline svg chart");
}

#[test]
fn csv_neutralizes_formulas_and_is_byte_identical_on_rerun() {
    let h = history();
    let a = report(&h, "a", "csv,json");
    let b = report(&h, "b", "csv,json");
    // Every table file is byte-identical; the evidence differs exactly in
    // what records the run (its generation time and command line).
    for entry in std::fs::read_dir(a.join("csv")).unwrap() {
        let p = entry.unwrap().path();
        let other = b.join("csv").join(p.file_name().unwrap());
        if p.ends_with("evidence.csv") {
            let lines = |p: &std::path::Path| -> Vec<String> {
                std::fs::read_to_string(p)
                    .unwrap()
                    .lines()
                    .map(String::from)
                    .collect()
            };
            let (x, y) = (lines(&p), lines(&other));
            assert_eq!(x.len(), y.len());
            let differing: Vec<&str> = x
                .iter()
                .zip(&y)
                .filter(|(l, r)| l != r)
                .map(|(l, _)| l.split(',').take(2).collect::<Vec<_>>().join(","))
                .map(|k| {
                    if k.starts_with("Report,Generated at") {
                        "generated"
                    } else if k.starts_with("Report,Command line") {
                        "command"
                    } else {
                        "other"
                    }
                })
                .collect();
            assert!(differing.iter().all(|d| *d != "other"), "{differing:?}");
            continue;
        }
        assert_eq!(
            std::fs::read(&p).unwrap(),
            std::fs::read(&other).unwrap(),
            "{}",
            p.display()
        );
    }
    let users = csv_maps(&a, "users");
    let apps_csv = std::fs::read_to_string(a.join("csv").join("group_permissions.csv")).unwrap()
        + &std::fs::read_to_string(a.join("csv").join("users.csv")).unwrap();
    for cell in users.iter().flat_map(|r| r.values()) {
        if let Some(c) = cell.chars().next() {
            assert!(
                !matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'),
                "unneutralized cell {cell:?}"
            );
        }
    }
    assert!(
        apps_csv.contains("'="),
        "a formula-looking name is neutralized with a quote"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("report.json")).unwrap()).unwrap();
    assert!(json["tables"].as_array().unwrap().len() >= 8);
}

#[test]
fn only_one_snapshot_still_reports_and_says_so() {
    let w = World::demo();
    w.snapshot(&[]).ok();
    let dir = w.path("out");
    w.run(&[
        "report",
        "--out",
        dir.to_str().unwrap(),
        "--format",
        "csv,json",
    ])
    .ok();
    let (header, rows) = read_csv(&dir, "changes");
    assert_eq!(header[0], "from_snapshot");
    assert!(rows.is_empty());
    let json = std::fs::read_to_string(dir.join("report.json")).unwrap();
    assert!(
        json.contains("Only one snapshot"),
        "the change table says why it is empty"
    );
}

#[test]
fn bad_report_requests_fail_before_anything_is_written() {
    let h = history();
    let out = h.w.path("never");
    let out_s = out.to_str().unwrap();
    // Unknown snapshot id.
    h.w.run(&["report", "--out", out_s, "--snapshot", "99"])
        .fails_with(2)
        .stderr_has("99");
    // --since newer than --snapshot.
    h.w.run(&["report", "--out", out_s, "--snapshot", "1", "--since", "2"])
        .fails_with(2)
        .stderr_has("not older");
    // A roster without an email column.
    let bad = h.w.path("bad-roster.csv");
    std::fs::write(&bad, "name,department\nAda,ops\n").unwrap();
    h.w.run(&["report", "--out", out_s, "--roster", bad.to_str().unwrap()])
        .fails_with(2)
        .stderr_has("email");
    // An unknown format word.
    h.w.run(&["report", "--out", out_s, "--format", "csv,pdf"])
        .fails_with(2)
        .stderr_has("pdf");
    assert!(!out.exists(), "nothing was written");
    // An output path that cannot be a directory.
    let file = h.w.path("a-file");
    std::fs::write(&file, "x").unwrap();
    let under_file = file.join("reports");
    h.w.run(&["report", "--out", under_file.to_str().unwrap()])
        .fails_with(2);
    // No snapshots at all.
    let empty = World::demo();
    empty.run(&["snapshots"]).fails_with(2);
}

/// A CSV cell's value: without the `'` put before text that starts like a
/// formula.
fn csv_value(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => s,
    }
}

/// `--full-effective-access` on a small organization: the expansion stays in
/// every format and is also written as JSON Lines, row for row the CSV, each
/// line a JSON object with the CSV's columns; the manifest vouches for it.
#[test]
fn full_effective_access_adds_json_lines_equal_to_the_csv() {
    let w = World::new(30);
    w.snapshot(&[]).ok();
    let out = w.path("full");
    w.run(&[
        "report",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv,json",
        "--full-effective-access",
    ])
    .ok();
    for table in ["effective_access", "access_matrix"] {
        let csv = csv_maps(&out, table);
        let jsonl = std::fs::read_to_string(out.join(format!("jsonl/{table}.jsonl"))).unwrap();
        let lines: Vec<serde_json::Value> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), csv.len(), "{table}");
        for (row, line) in csv.iter().zip(&lines) {
            for (column, value) in row {
                let got = match &line[column] {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                };
                // The CSV neutralizes formula-like text with a leading '.
                assert_eq!(
                    value.strip_prefix('\'').unwrap_or(value),
                    got.as_str(),
                    "{table}.{column}"
                );
            }
        }
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert!(
        json["tables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "effective_access")
    );
    let evidence = csv_maps(&out, "evidence");
    assert!(
        evidence
            .iter()
            .any(|e| e["value"].contains("JSON Lines in jsonl/"))
    );
    w.run(&["verify-report", out.to_str().unwrap()]).ok();

    // Written again into the same directory without the flag and without JSON:
    // what the earlier report wrote and this one does not is gone (it would pass
    // for current); a file of the user's own stays.
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    w.run(&["report", "--out", out.to_str().unwrap(), "--format", "csv"])
        .ok();
    assert!(!out.join("jsonl/effective_access.jsonl").exists());
    assert!(!out.join("report.json").exists());
    assert!(out.join("csv/effective_access.csv").exists());
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    let verified = w.run(&["verify-report", out.to_str().unwrap()]);
    verified.ok();
    assert!(
        verified
            .stdout
            .contains("1 file(s) in the directory are not in the manifest")
            && verified.stdout.contains("notes.txt"),
        "{}",
        verified.stdout
    );
}

/// The trend charts of a four-snapshot history (scripted changes twice, then
/// a quiet night) against each snapshot's own report: active admins and group
/// admins from its `users` and `group_members`, exceptions by severity from
/// its `exceptions`, records changed from its `changes` (one per access record
/// named there).
#[test]
fn trend_charts_agree_with_each_snapshot_s_own_report() {
    let w = World::demo();
    w.snapshot(&[]).ok();
    w.server().update_org(|o| o.apply_scripted_changes());
    w.snapshot(&[]).ok();
    w.server().update_org(|o| o.apply_scripted_changes());
    w.snapshot(&[]).ok();
    w.snapshot(&[]).ok();
    let ids: Vec<i64> = w
        .store()
        .snapshots(None)
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids.len(), 4);

    let mut admins = Vec::new();
    let mut group_admins = Vec::new();
    let mut changed = Vec::new();
    let mut severities: Vec<Vec<f64>> = vec![Vec::new(); 4];
    for id in &ids {
        let out = w.path(&format!("r{id}"));
        let args = ["report", "--snapshot", &id.to_string(), "--format", "csv"];
        let mut args: Vec<&str> = args.to_vec();
        args.extend(["--out", out.to_str().unwrap()]);
        w.run(&args).ok();
        let users = csv_maps(&out, "users");
        let active: BTreeSet<&str> = users
            .iter()
            .filter(|u| u["status"] == "active")
            .map(|u| u["user_id"].as_str())
            .collect();
        admins.push(
            users
                .iter()
                .filter(|u| u["status"] == "active" && u["is_admin"] == "true")
                .count() as f64,
        );
        let members = csv_maps(&out, "group_members");
        let admins_of_groups: BTreeSet<&str> = members
            .iter()
            .filter(|m| m["is_group_admin"] == "true" && active.contains(m["user_id"].as_str()))
            .map(|m| m["user_id"].as_str())
            .collect();
        group_admins.push(admins_of_groups.len() as f64);
        let exceptions = csv_maps(&out, "exceptions");
        for (i, sev) in ["critical", "high", "medium", "low"].iter().enumerate() {
            severities[i].push(exceptions.iter().filter(|e| e["severity"] == *sev).count() as f64);
        }
        let access = [
            "user",
            "group",
            "membership",
            "permission",
            "role",
            "role_grant",
            "setting",
            "environment_access",
        ];
        let records: BTreeSet<(String, String)> = csv_maps(&out, "changes")
            .iter()
            .filter(|c| access.contains(&c["entity_type"].as_str()))
            .map(|c| (c["entity_type"].clone(), c["entity_id"].clone()))
            .collect();
        changed.push(records.len() as f64);
    }
    assert!(changed[1] > 0.0 && changed[3] == 0.0, "{changed:?}");
    assert_ne!(
        admins[0], admins[1],
        "the scripted changes promote an admin"
    );

    let out = w.path("latest");
    w.run(&["report", "--format", "json", "--out", out.to_str().unwrap()])
        .ok();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let chart = |title: &str| -> Vec<Vec<Option<f64>>> {
        let chart = json["charts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["title"].as_str().unwrap().starts_with(title))
            .unwrap_or_else(|| panic!("no chart {title}"));
        assert_eq!(chart["x_labels"].as_array().unwrap().len(), 4, "{chart}");
        chart["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                s["values"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64())
                    .collect()
            })
            .collect()
    };
    let some = |v: &[f64]| v.iter().map(|x| Some(*x)).collect::<Vec<_>>();
    assert_eq!(
        chart("Active admins and group admins per snapshot"),
        vec![some(&admins), some(&group_admins)]
    );
    let mut expected_changes = some(&changed);
    expected_changes[0] = None;
    assert_eq!(
        chart("Access records changed per snapshot"),
        vec![expected_changes]
    );
    let by_severity: Vec<Vec<Option<f64>>> = severities.iter().map(|s| some(s)).collect();
    assert_eq!(chart("Exceptions per snapshot by severity"), by_severity);
}
