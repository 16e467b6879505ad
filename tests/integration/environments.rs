//! Per-environment resource access and per-app usage (issue 13): the
//! `resource_environment_access` and `app_usage` tables against what the
//! simulated organization holds, the review's `modify` suggestion, no byte of
//! a configuration's options anywhere, and each part missing for its own
//! reason while the run goes on.

use std::collections::{BTreeMap, BTreeSet};

use retool_audit::fake::{FakeConfig, FakeOrg, OrgSpec, RESOURCE_HOST, RESOURCE_PASSWORD};
use retool_audit::model::{AccessLevel, EntityKind, ObjectId, ObjectRef, ObjectType};

use crate::common::{World, fixed_now};

fn org(w: &World) -> FakeOrg {
    w.server().update_org(|o| o.clone())
}

/// `report` in JSON (raw values: no formula neutralizing to undo).
fn report(w: &World, name: &str) -> serde_json::Value {
    let out = w.path(name);
    w.run(&["report", "--out", out.to_str().unwrap(), "--format", "json"])
        .ok();
    serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap()
}

/// A table's rows as maps from column to JSON value, and its notice.
fn table(
    report: &serde_json::Value,
    name: &str,
) -> (Vec<BTreeMap<String, serde_json::Value>>, String) {
    let t = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no table {name}"));
    let columns: Vec<String> = t["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let rows = t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            columns
                .iter()
                .cloned()
                .zip(r.as_array().unwrap().iter().cloned())
                .collect()
        })
        .collect();
    (rows, t["notice"].as_str().unwrap_or_default().to_string())
}

fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[test]
fn per_environment_access_is_the_org_s_own_and_its_changes_are_rated() {
    let w = World::demo();
    w.snapshot(&[]).ok();
    let org = org(&w);
    let (rows, notice) = table(&report(&w, "out1"), "resource_environment_access");
    assert_eq!(notice, "");
    // What the org holds: (group name, resource name, environment, level).
    let expected: BTreeSet<(String, String, String, String)> = org
        .configuration_grants
        .iter()
        .map(|g| {
            let c = org
                .configurations
                .iter()
                .find(|c| c.id == g.configuration_id)
                .unwrap();
            let r = org
                .resources
                .iter()
                .find(|r| r.id == c.resource_id)
                .unwrap();
            let e = org
                .environments
                .iter()
                .find(|e| e.id == c.environment_id)
                .unwrap();
            let group = org.groups.iter().find(|x| x.id == g.group_id).unwrap();
            (
                group.name.clone(),
                r.display_name.clone(),
                e.name.clone(),
                g.level.as_str().to_string(),
            )
        })
        .collect();
    let got: BTreeSet<(String, String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                text(&r["group_name"]),
                text(&r["resource_name"]),
                text(&r["environment"]),
                text(&r["access_level"]),
            )
        })
        .collect();
    assert_eq!(rows.len(), org.configuration_grants.len());
    assert_eq!(got, expected);
    // Both environments appear: production is granted more sparingly.
    assert!(got.iter().any(|r| r.2 == "production") && got.iter().any(|r| r.2 == "staging"));

    // A group gains own on production: a high-risk change naming the
    // group, the resource and the environment.
    let ch = w
        .server()
        .update_org(|o| o.apply_scripted_changes())
        .configuration_grants_changed;
    assert_eq!(ch.len(), 1);
    let (group, config, level) = &ch[0];
    assert_eq!(*level, AccessLevel::Own);
    w.snapshot(&[]).ok();
    let (changes, _) = table(&report(&w, "out2"), "changes");
    let row = changes
        .iter()
        .find(|c| {
            c["entity_type"] == "environment_access"
                && text(&c["entity_id"]) == format!("{}:{config}", group.0)
        })
        .unwrap_or_else(|| panic!("no change for {config}: {changes:?}"));
    assert_eq!(row["new_value"], "own");
    assert_eq!(row["risk"], "high");
    assert!(
        text(&row["entity_name"]).ends_with("(production)"),
        "{row:?}"
    );
}

#[test]
fn an_older_retool_without_environments_records_each_part_as_not_collected() {
    let w = World::with_org(
        OrgSpec::demo(fixed_now()),
        FakeConfig {
            missing_endpoints: vec![
                "/environments".to_string(),
                "/resource_configurations".to_string(),
            ],
            ..FakeConfig::default()
        },
    );
    w.snapshot(&[]).ok();
    let state = w.store().state_at(1).unwrap();
    for kind in [EntityKind::Environments, EntityKind::ResourceConfigurations] {
        let why = state.not_collected.get(&kind).cloned().unwrap_or_default();
        assert!(why.contains("not available"), "{kind}: {why}");
    }
    // The grants themselves were read; the table names what it cannot place.
    assert!(!state.configuration_grants.is_empty());
    let (rows, notice) = table(&report(&w, "out"), "resource_environment_access");
    assert_eq!(rows.len(), state.configuration_grants.len());
    assert!(
        rows.iter()
            .all(|r| text(&r["environment"]).ends_with("(not listed)")),
        "{rows:?}"
    );
    assert!(
        notice.contains("Resource configurations were not collected")
            && notice.contains("Environments were not collected"),
        "{notice}"
    );
    // Users, groups and grants are complete regardless.
    assert_eq!(state.users, w.expected().users);
    assert_eq!(state.grants, w.expected().grants);
}

#[test]
fn no_byte_of_a_configuration_s_options_reaches_the_history_logs_or_reports() {
    let w = World::demo();
    let snap = w.snapshot(&["-v", "--usage-details"]);
    snap.ok();
    let out = w.path("out");
    let rep = w.run(&[
        "-v",
        "report",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv,json,xlsx,html",
    ]);
    rep.ok();
    let doctor = w.run(&["-v", "doctor", "--base-url", &w.base_url()]);
    let printed = [snap, rep, doctor]
        .iter()
        .map(|r| r.stdout.clone() + &r.stderr)
        .collect::<String>();
    let files = crate::common::every_file(w.dir.path());
    assert!(files.iter().any(|f| f.ends_with("history.db")), "{files:?}");
    // The fake's options: host, password, and the database user names
    // (`svc_<n>`).
    let org = org(&w);
    let forbidden = [RESOURCE_PASSWORD, RESOURCE_HOST, "database_options", "svc_"];
    assert!(
        org.configurations
            .iter()
            .all(|c| c.options.to_string().contains("svc_"))
    );
    crate::common::assert_nowhere(&forbidden, &files, &printed);
    // The configurations did arrive.
    let state = w.store().state_at(1).unwrap();
    assert_eq!(
        state.resource_configurations.len(),
        org.configurations.len()
    );
}

#[test]
fn per_app_usage_is_read_on_request_and_feeds_the_modify_suggestion() {
    let w = World::demo();
    // Without the flag: not requested, said so.
    w.snapshot(&[]).ok();
    let state = w.store().state_at(1).unwrap();
    let why = state.not_collected.get(&EntityKind::AppUsage).cloned();
    assert!(
        why.as_deref()
            .is_some_and(|r| r.contains("--usage-details")),
        "{why:?}"
    );
    let plain = report(&w, "plain");
    let (rows, notice) = table(&plain, "app_usage");
    assert!(rows.is_empty());
    assert!(notice.contains("--usage-details"), "{notice}");
    let not_collected = plain["summary"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "Kinds not collected")
        .map(|i| text(&i["value"]))
        .unwrap_or_default();
    assert!(
        not_collected.contains("app_usage (not requested)"),
        "{not_collected}"
    );

    // Two apps share a name: Retool's app_details cannot tell them apart.
    let (a, b) = w.server().update_org(|o| {
        let name = o.apps[0].name.clone();
        o.apps[1].name = name;
        (o.apps[0].id.clone(), o.apps[1].id.clone())
    });
    let run = w.snapshot(&["--usage-details"]);
    run.ok();
    let org = org(&w);
    let state = w.store().state_at(2).unwrap();
    assert_eq!(state.app_usage, org.expected_app_usage());
    assert!(!state.app_usage.is_empty());
    assert!(
        state
            .app_usage
            .iter()
            .all(|u| u.app_id != a && u.app_id != b)
    );
    let info = w.store().snapshot(2).unwrap().info;
    assert!(
        info.notes
            .iter()
            .any(|n| n.contains("share the name") && n.contains(&a) && n.contains(&b)),
        "{:?}",
        info.notes
    );
    // One request per distinct app name, nothing more.
    let names: BTreeSet<&str> = org.apps.iter().map(|x| x.name.as_str()).collect();
    let asked = w
        .server()
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/usage/app_details"))
        .count();
    assert_eq!(asked, names.len() - 1);

    // The table: every figure, named, with the user's effective level.
    let detailed = report(&w, "detailed");
    let (rows, notice) = table(&detailed, "app_usage");
    assert_eq!(notice, "");
    assert_eq!(rows.len(), state.app_usage.len());
    for u in &state.app_usage {
        let row = rows
            .iter()
            .find(|r| r["app_id"] == u.app_id.as_str() && r["email"] == u.email.as_str())
            .unwrap_or_else(|| panic!("no row for {u:?}"));
        assert_eq!(
            (row["views"].as_i64(), row["saves"].as_i64()),
            (Some(u.views), Some(u.saves))
        );
        let app = org.apps.iter().find(|x| x.id == u.app_id).unwrap();
        assert_eq!(row["app_name"], app.name.as_str());
    }
    // The level is the effective_access table's for that user and app.
    let (effective, _) = table(&detailed, "effective_access");
    let row = rows.iter().find(|r| r["access_level"] != "use").unwrap();
    let listed = effective
        .iter()
        .find(|e| {
            e["email"] == row["email"]
                && e["object_type"] == "app"
                && e["object_id"] == row["app_id"]
        })
        .map(|e| text(&e["access_level"]));
    assert_eq!(listed, Some(text(&row["access_level"])));

    // Review: a row giving edit/own on apps none of which the user saved
    // is a modify suggestion, said in the workbook a reviewer opens.
    let cdir = w.path("campaign");
    w.run(&["review", "start", "--out", cdir.to_str().unwrap()])
        .ok();
    let store = w.store();
    let campaign = store.campaigns(Some("default")).unwrap().pop().unwrap();
    let items = store.campaign_items(campaign.id).unwrap();
    let modify: Vec<_> = items
        .iter()
        .filter(|i| i.suggested.map(|s| s.as_str()) == Some("modify"))
        .collect();
    assert!(
        !modify.is_empty(),
        "some edit access is never used in the demo"
    );
    let index = retool_audit::analyze::AccessIndex::new(&state);
    for item in &modify {
        assert!(
            item.suggested_reason
                .as_deref()
                .is_some_and(|r| r.contains("none saved in the usage window")),
            "{item:?}"
        );
        // The apps this row gives at edit or own: none was saved.
        let row_apps: BTreeSet<String> = match (item.group_id, &item.object) {
            (Some(g), _) => index
                .objects_of_group(g, AccessLevel::Edit)
                .into_iter()
                .filter(|(o, _)| o.object_type == ObjectType::App)
                .map(|(o, _)| o.id.0)
                .collect(),
            (None, Some(o)) => BTreeSet::from([o.id.0.clone()]),
            (None, None) => panic!("an account row cannot be modified: {item:?}"),
        };
        assert!(!row_apps.is_empty(), "{item:?}");
        let saved: BTreeSet<String> = state
            .app_usage
            .iter()
            .filter(|u| u.user_id == item.user_id.0 && u.saves > 0)
            .map(|u| u.app_id.clone())
            .collect();
        assert!(saved.is_disjoint(&row_apps), "{item:?}");
    }
    // A user who saved an app they can edit is not told to lower it there.
    let saver = state
        .app_usage
        .iter()
        .find(|u| {
            u.saves > 0
                && index
                    .level(
                        &retool_audit::model::UserId(u.user_id.clone()),
                        &ObjectRef {
                            object_type: ObjectType::App,
                            id: ObjectId(u.app_id.clone()),
                        },
                    )
                    .0
                    >= AccessLevel::Edit
        })
        .expect("a user who edits and saves");
    assert!(
        modify
            .iter()
            .filter(|i| i.user_id.0 == saver.user_id)
            .all(|i| i.object.as_ref().is_none_or(|o| o.id.0 != saver.app_id)),
        "{saver:?}"
    );
    // The reviewer's workbook shows the suggestion and its reason.
    let workbook = std::fs::read_dir(&cdir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "xlsx"))
        .expect("a review workbook");
    use calamine::{Reader, Xlsx, open_workbook};
    let mut wb: Xlsx<_> = open_workbook(&workbook).unwrap();
    let range = wb.worksheet_range("Review").unwrap();
    let header: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (key, suggested) = (col("row_key"), col("suggested_decision"));
    let first = &modify[0];
    let row = range
        .rows()
        .find(|r| r[key].to_string() == first.key)
        .expect("the row in the workbook");
    assert_eq!(row[suggested].to_string(), "modify");
}
