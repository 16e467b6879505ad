//! Roles, role grants, access requests and security settings (issue 13): each
//! new table against what the simulated organization holds, the SSO secret in
//! no byte of anything written, and each endpoint's failure recorded as not
//! collected while the run goes on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use retool_audit::fake::{FakeConfig, FakeOrg, OrgSpec, SSO_CLIENT_SECRET, parse_faults};
use retool_audit::model::{EntityKind, Subject};

use crate::common::{World, csv_maps, fixed_now};

type Row = BTreeMap<String, String>;

/// A demo-sized org, one snapshot, and a report in every format.
fn reported(w: &World, extra: &[&str]) -> PathBuf {
    w.snapshot(extra).ok();
    let out = w.path("out");
    w.run(&[
        "-v",
        "report",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv,json,xlsx,html",
    ])
    .ok();
    out
}

/// Every scope the collector uses but `missing`.
fn scopes_without(missing: &str) -> std::collections::BTreeSet<String> {
    retool_audit::retool::endpoints::CATALOGUE
        .iter()
        .map(|e| e.scope.to_string())
        .filter(|s| s != missing)
        .collect()
}

/// The demo org behind a token without `missing`.
fn demo_without_scope(missing: &str) -> World {
    World::with_org(
        OrgSpec::demo(fixed_now()),
        FakeConfig {
            scopes: Some(scopes_without(missing)),
            ..FakeConfig::default()
        },
    )
}

/// `state` records `kind` as not collected, for a reason that mentions `why`.
#[track_caller]
fn not_collected_because(state: &retool_audit::model::OrgState, kind: EntityKind, why: &str) {
    let reason = state.not_collected.get(&kind).map(String::as_str);
    assert!(
        reason.is_some_and(|r| r.contains(why)),
        "{kind}: expected a reason mentioning {why:?}, got {reason:?}"
    );
}

/// `report --out out --format formats` plus `extra`.
fn report_to(w: &World, out: &Path, formats: &str, extra: &[&str]) -> crate::common::Run {
    let mut args = vec![
        "report",
        "--out",
        out.to_str().unwrap(),
        "--format",
        formats,
    ];
    args.extend_from_slice(extra);
    w.run(&args)
}

fn org(w: &World) -> FakeOrg {
    w.server().update_org(|o| o.clone())
}

fn report_json(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap()
}

fn notice(out: &Path, table: &str) -> String {
    let json = report_json(out);
    let t = json["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == table)
        .unwrap_or_else(|| panic!("no table {table}"));
    t["notice"].as_str().unwrap_or_default().to_string()
}

#[test]
fn roles_grants_requests_and_settings_are_the_org_s_own() {
    let w = World::demo();
    let out = reported(&w, &[]);
    let org = org(&w);
    let email_of = |id: &str| {
        org.users
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.email.clone())
            .unwrap()
    };

    // roles: one row per role, with its scopes.
    let roles = csv_maps(&out, "roles");
    assert_eq!(roles.len(), org.roles.len());
    for r in &org.roles {
        let row = roles.iter().find(|x| x["role_id"] == r.id).unwrap();
        assert_eq!(row["name"], r.name);
        assert_eq!(row["is_default_role"], r.is_default_role.to_string());
        let mut scopes = r.organization_scopes.clone();
        scopes.sort();
        assert_eq!(row["organization_scopes"], scopes.join(";"));
        assert_eq!(row["object_scopes"], r.object_scopes.join(";"));
    }

    // role_grants: subject and object named.
    let grants = csv_maps(&out, "role_grants");
    assert_eq!(grants.len(), org.role_grants.len());
    for g in &org.role_grants {
        let role = org.roles.iter().find(|r| r.id == g.role_id).unwrap();
        let (subject_type, subject_id, subject_name) = match &g.subject {
            Subject::User(u) => ("user", u.0.clone(), email_of(&u.0)),
            Subject::Group(id) => {
                let group = org.groups.iter().find(|x| x.id == id.0).unwrap();
                ("group", id.0.to_string(), group.name.clone())
            }
        };
        let row: &Row = grants
            .iter()
            .find(|x| x["role_id"] == g.role_id && x["subject_id"] == subject_id)
            .unwrap_or_else(|| panic!("no row for {g:?}"));
        assert_eq!(row["role_name"], role.name);
        assert_eq!(row["subject_type"], subject_type);
        assert_eq!(row["subject_name"], subject_name);
        match &g.object {
            None => assert_eq!(row["object_name"], "(organization)"),
            Some(o) => {
                let app = org.apps.iter().find(|a| a.id == o.id.0).unwrap();
                assert_eq!(row["object_id"], app.id);
                assert_eq!(row["object_name"], app.name);
            }
        }
    }

    // The custom role that manages users makes its non-admin holder privileged.
    let manager = org.roles.iter().find(|r| r.name == "User Manager").unwrap();
    let holder = org
        .role_grants
        .iter()
        .find_map(|g| match &g.subject {
            Subject::User(u) if g.role_id == manager.id => Some(email_of(&u.0)),
            _ => None,
        })
        .unwrap();
    let privileged = csv_maps(&out, "privileged_access");
    let role_rows: Vec<&Row> = privileged.iter().filter(|r| r["kind"] == "role").collect();
    assert_eq!(role_rows.len(), 1, "{role_rows:?}");
    assert_eq!(role_rows[0]["email"], holder);
    assert!(
        role_rows[0]["detail"].contains("User Manager")
            && role_rows[0]["detail"].contains("users:manage")
            && role_rows[0]["detail"].contains("held directly"),
        "{:?}",
        role_rows[0]
    );

    // The object role on one app shows in effective access for the group's
    // members, at edit or above.
    let publisher = org
        .roles
        .iter()
        .find(|r| r.name == "App Publisher")
        .unwrap();
    let grant = org
        .role_grants
        .iter()
        .find(|g| g.role_id == publisher.id)
        .unwrap();
    let (Subject::Group(gid), Some(app)) = (&grant.subject, &grant.object) else {
        panic!("the publisher role is granted to a group on an app")
    };
    let group = org.groups.iter().find(|g| g.id == gid.0).unwrap();
    let source = format!("role:App Publisher via group:{}", group.name);
    let access = csv_maps(&out, "effective_access");
    let via_role: Vec<&Row> = access
        .iter()
        .filter(|r| r["via"].split(';').any(|v| v == source))
        .collect();
    assert!(!via_role.is_empty(), "no effective access via {source}");
    for r in &via_role {
        assert_eq!(r["object_id"], app.id.0);
        assert!(
            r["access_level"] == "edit" || r["access_level"] == "own",
            "{r:?}"
        );
        let member = group.members.iter().any(|m| m.user_id == r["user_id"]);
        assert!(member, "{r:?} is not a member of {}", group.name);
    }

    // access_requests: one row per request, decided by whom, the account now.
    let requests = csv_maps(&out, "access_requests");
    assert_eq!(requests.len(), org.access_requests.len());
    for q in &org.access_requests {
        let row = requests
            .iter()
            .find(|x| x["request_id"] == q.id.to_string())
            .unwrap();
        assert_eq!(row["status"], q.status.to_lowercase());
        assert_eq!(row["requesting_email"], q.requesting_email);
        let by = q.updated_by_id.as_deref().map(email_of).unwrap_or_default();
        assert_eq!(row["decided_by_email"], by);
        let account = org
            .users
            .iter()
            .find(|u| u.email == q.requesting_email)
            .map(|u| u.id.clone())
            .unwrap_or_default();
        assert_eq!(row["user_id"], account, "{row:?}");
    }
    assert!(requests.iter().any(|r| r["status"] == "denied"));
    assert!(requests.iter().any(|r| !r["user_id"].is_empty()));

    // security_settings: the simulated org's weak settings, each named once.
    let settings = csv_maps(&out, "security_settings");
    let mut findings: Vec<(&str, &str)> = settings
        .iter()
        .filter(|r| !r["finding"].is_empty())
        .map(|r| (r["setting"].as_str(), r["finding"].as_str()))
        .collect();
    findings.sort();
    assert_eq!(
        findings,
        [
            (
                "app_owners_permissions_management",
                "app_owners_manage_permissions"
            ),
            (
                "disable_email_password_login",
                "password_login_allowed_with_sso"
            ),
            ("jit_enabled", "jit_without_restricted_domain"),
            ("two_factor_auth_required", "two_factor_not_required"),
        ]
    );
    let config_type = settings
        .iter()
        .find(|r| r["setting"] == "config_type")
        .unwrap();
    assert_eq!(
        (
            config_type["value"].as_str(),
            config_type["source"].as_str()
        ),
        ("oidc", "sso")
    );
    let mapping = settings
        .iter()
        .find(|r| r["setting"] == "roles_mapping")
        .unwrap();
    assert_eq!(mapping["value"], "configured");

    // The summary counts the findings and the users without 2FA.
    let json = report_json(&out);
    let summary = |label: &str| {
        json["summary"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["label"] == label)
            .map(|i| i["value"].to_string())
            .unwrap_or_else(|| panic!("no summary item {label}: {}", json["summary"]))
    };
    assert_eq!(summary("Security settings findings"), "4");
    let without = org
        .users
        .iter()
        .filter(|u| u.active && !u.two_factor)
        .count();
    assert_eq!(summary("Active users without 2FA"), without.to_string());
}

#[test]
fn no_sso_secret_or_unlisted_setting_reaches_any_byte() {
    let w = World::demo();
    let run = w.snapshot(&["-v"]);
    run.ok();
    let out = reported(&w, &[]);
    // The report command ran too; gather what both printed.
    let mut printed = run.stdout.clone() + &run.stderr;
    let doctor = w.run(&["-v", "doctor", "--base-url", &w.base_url()]);
    printed += &doctor.stdout;
    printed += &doctor.stderr;
    let files = crate::common::every_file(w.dir.path());
    assert!(files.iter().any(|f| f.ends_with("history.db")), "{files:?}");
    assert!(files.len() > 10, "{files:?}");
    let forbidden = [
        SSO_CLIENT_SECRET,
        "fake-oidc-client-id",
        "idp.fake.example",
        "retool-admins -> admin",
        "window.fakeAnalytics",
    ];
    crate::common::assert_nowhere(&forbidden, &files, &printed);
    // The settings that are read did arrive.
    assert!(!csv_maps(&out, "security_settings").is_empty());
}

#[test]
fn a_missing_scope_an_old_version_and_an_odd_shape_are_not_collected_and_the_run_goes_on() {
    let w = World::with_org(
        OrgSpec::demo(fixed_now()),
        FakeConfig {
            scopes: Some(scopes_without("organization:read")),
            missing_endpoints: vec!["/access_requests".to_string()],
            faults: parse_faults("odd-shape:path=/role_grants").unwrap(),
            ..FakeConfig::default()
        },
    );
    let run = w.snapshot(&["-v"]);
    run.ok();
    let store = w.store();
    let state = store.state_at(1).unwrap();
    not_collected_because(&state, EntityKind::Settings, "missing scope");
    not_collected_because(&state, EntityKind::AccessRequests, "404");
    not_collected_because(
        &state,
        EntityKind::RoleGrants,
        "unrecognised response shape",
    );
    // Roles were read; what failed left nothing half-read.
    assert_eq!(state.roles.len(), org(&w).roles.len());
    assert!(state.role_grants.is_empty() && state.settings.is_empty());
    // The odd body is named by its path, never echoed into the log.
    let role_id = &org(&w).role_grants[0].role_id;
    assert!(!run.stderr.contains(role_id.as_str()), "{}", run.stderr);

    let out = w.path("out");
    report_to(&w, &out, "json", &[]).ok();
    assert!(
        notice(&out, "security_settings")
            .contains("Security settings were not collected: organization settings: missing scope")
    );
    assert!(notice(&out, "access_requests").contains("not collected"));
    assert!(notice(&out, "effective_access").contains("Role grants were not collected"));
    assert!(notice(&out, "privileged_access").contains("privilege through custom roles"));
}

#[test]
fn fail_on_security_settings_exits_3_after_writing_the_report() {
    let w = World::demo();
    w.snapshot(&[]).ok();
    let out = w.path("out");
    let run = report_to(&w, &out, "csv", &["--fail-on", "security-settings"]);
    run.fails_with(3).stderr_has("found 4 security-settings");
    assert_eq!(
        csv_maps(&out, "security_settings")
            .iter()
            .filter(|r| !r["finding"].is_empty())
            .count(),
        4
    );

    // Fixed in Retool: 2FA required, SSO only, a restricted domain, owners
    // cannot share. The next night is clean.
    w.server().update_org(|o| {
        let org = o.settings.organization.as_object_mut().unwrap();
        org.insert("two_factor_auth_required".into(), true.into());
        org.insert("app_owners_permissions_management".into(), false.into());
        let sso = o.settings.sso.as_mut().unwrap().as_object_mut().unwrap();
        sso.insert("disable_email_password_login".into(), true.into());
        sso.insert("restricted_domain".into(), "example.com".into());
    });
    w.snapshot(&[]).ok();
    let out = w.path("out2");
    report_to(&w, &out, "csv", &["--fail-on", "security-settings"]).ok();
}

#[test]
fn changes_to_roles_grants_settings_and_requests_are_reported_with_their_risk() {
    let w = World::demo();
    w.snapshot(&[]).ok();
    let ch = w.server().update_org(|o| o.apply_scripted_changes());
    w.snapshot(&[]).ok();
    let out = w.path("out");
    report_to(&w, &out, "csv", &[]).ok();
    let changes = csv_maps(&out, "changes");
    let of = |entity: &str| -> Vec<&Row> {
        changes
            .iter()
            .filter(|r| r["entity_type"] == entity)
            .collect()
    };

    let roles = of("role");
    assert_eq!(roles.len(), 1, "{roles:?}");
    assert_eq!(roles[0]["entity_id"], ch.roles_modified[0]);
    assert_eq!(roles[0]["field"], "organization_scopes_json");
    assert!(roles[0]["new_value"].contains("groups:manage"));
    assert_eq!(roles[0]["risk"], "high");

    let grants = of("role_grant");
    assert_eq!(grants.len(), ch.role_grants_added.len(), "{grants:?}");
    let (role_id, Subject::Group(gid)) = &ch.role_grants_added[0] else {
        panic!("a group was granted the object role")
    };
    assert!(grants[0]["entity_id"].starts_with(&format!("{role_id}:group:{}:app:", gid.0)));
    assert!(grants[0]["entity_name"].starts_with("App Publisher → "));
    assert_eq!(
        (grants[0]["change"].as_str(), grants[0]["risk"].as_str()),
        ("added", "high")
    );

    let settings = of("setting");
    assert_eq!(settings.len(), 1, "{settings:?}");
    assert_eq!(settings[0]["entity_id"], ch.settings_changed[0]);
    assert_eq!(
        (
            settings[0]["old_value"].as_str(),
            settings[0]["new_value"].as_str()
        ),
        ("true", "false")
    );
    assert_eq!(settings[0]["risk"], "low", "a finding went away");

    let requests = of("access_request");
    let decided = ch.access_requests_decided[0].to_string();
    let added = ch.access_requests_added[0].to_string();
    assert!(requests.iter().any(|r| r["entity_id"] == decided
        && r["field"] == "status"
        && r["old_value"] == "PENDING"
        && r["new_value"] == "APPROVED"));
    assert!(
        requests.iter().any(|r| r["entity_id"] == added
            && r["change"] == "added"
            && r["new_value"] == "pending")
    );
}

#[test]
fn usage_covers_every_user_over_the_window_and_says_why_when_missing() {
    let w = World::demo();
    let out = reported(&w, &[]);
    let org = org(&w);
    let usage = csv_maps(&out, "usage");
    assert_eq!(usage.len(), org.users.len());
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).date_naive();
    for row in &usage {
        let fig = org.usage.iter().find(|u| u.user_id == row["user_id"]);
        let (views, saves) = fig.map_or((0, 0), |f| (f.app_views, f.app_saves));
        assert_eq!(row["app_views"], views.to_string(), "{row:?}");
        assert_eq!(row["app_saves"], saves.to_string(), "{row:?}");
        // The window the collector asked for (a run across midnight UTC may
        // see the next day).
        let end = chrono::NaiveDate::parse_from_str(&row["window_end"], "%Y-%m-%d").unwrap();
        let start = chrono::NaiveDate::parse_from_str(&row["window_start"], "%Y-%m-%d").unwrap();
        assert!(
            end == yesterday || end == yesterday - chrono::Duration::days(1),
            "{row:?}"
        );
        assert_eq!((end - start).num_days(), 89);
    }
    assert!(
        usage
            .iter()
            .any(|r| r["app_views"] == "0" && r["status"] == "active")
    );
    assert!(usage.iter().any(|r| r["app_saves"] != "0"));
    // The request asked for that window.
    let asked = w
        .server()
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/usage/user_summary"))
        .and_then(|r| r.query)
        .unwrap();
    assert!(
        asked.contains("start_date=") && asked.contains("end_date="),
        "{asked}"
    );

    // --usage-days 0: no request, recorded as disabled.
    let w = World::demo();
    w.snapshot(&["--usage-days", "0"]).ok();
    assert!(
        !w.server()
            .requests()
            .iter()
            .any(|r| r.path.contains("/usage/"))
    );
    let state = w.store().state_at(1).unwrap();
    assert!(state.usage.is_empty());
    assert!(state.not_collected[&EntityKind::Usage].contains("--usage-days 0"));

    // Without the usage scope, and on a self-hosted Retool without
    // USAGE_API_TOKEN (an error status): not collected, the run goes on.
    let w = demo_without_scope("usage");
    w.snapshot(&[]).ok();
    let state = w.store().state_at(1).unwrap();
    assert!(state.not_collected[&EntityKind::Usage].contains("missing scope usage"));
    let w = World::with_org(
        OrgSpec::demo(fixed_now()),
        FakeConfig {
            faults: parse_faults("500x10:path=/usage").unwrap(),
            ..FakeConfig::default()
        },
    );
    w.snapshot(&["--max-retries", "0"]).ok();
    let state = w.store().state_at(1).unwrap();
    let why = &state.not_collected[&EntityKind::Usage];
    assert!(
        why.contains("USAGE_API_TOKEN") && why.contains("500"),
        "{why}"
    );
    assert_eq!(state.users.len(), w.expected().users.len());
}

#[test]
fn the_cross_check_agrees_on_the_demo_and_names_a_planted_disagreement() {
    // Every object, twice: the demo org, then after the scripted changes.
    let w = World::demo();
    w.snapshot(&["--cross-check", "all"]).ok();
    w.server().update_org(|o| {
        o.apply_scripted_changes();
    });
    w.snapshot(&["--cross-check", "all"]).ok();
    let org = org(&w);
    for meta in w.store().snapshots(None).unwrap() {
        let Some(Ok(c)) = &meta.info.cross_check else {
            panic!(
                "snapshot {} has no cross-check: {:?}",
                meta.id, meta.info.cross_check
            )
        };
        let objects: u64 = [
            EntityKind::Apps,
            EntityKind::Resources,
            EntityKind::Workflows,
            EntityKind::Folders,
        ]
        .iter()
        .map(|k| meta.counts[k])
        .sum();
        assert_eq!(c.objects.len() as u64, objects, "every object was checked");
        assert!(c.not_checked.is_empty(), "{:?}", c.not_checked);
        assert_eq!(c.agreements, c.pairs, "{:?}", c.disagreements.first());
        assert!(c.pairs > 1000);
    }

    // Retool "forgets" the first user it lists on one app: the cross_check
    // table names that object and user, with both sides.
    let app = &org.apps[0];
    let forgotten = {
        let list = org.access_list(retool_audit::model::ObjectType::App, &app.id);
        list["user"][0]["subject"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    w.server().update_org(|o| {
        o.access_list_skew
            .push((retool_audit::model::ObjectType::App, app.id.clone()))
    });
    w.snapshot(&["--cross-check", "all"]).ok();
    let out = w.path("out");
    let run = report_to(&w, &out, "csv,json", &["--fail-on", "cross-check"]);
    run.fails_with(3).stderr_has("found 1 cross-check");
    let rows = csv_maps(&out, "cross_check");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(
        (r["object_type"].as_str(), r["object_id"].as_str()),
        ("app", app.id.as_str())
    );
    assert_eq!(r["object_name"], app.name);
    assert_eq!(r["subject_id"], forgotten);
    assert_eq!(r["retool_level"], "none");
    assert_ne!(r["computed_level"], "none");
    assert!(!r["computed_via"].is_empty());
    let email = org
        .users
        .iter()
        .find(|u| u.id == forgotten)
        .unwrap()
        .email
        .clone();
    assert_eq!(r["subject_name"], email);
    assert!(
        notice(&out, "cross_check").contains("1 disagree"),
        "{}",
        notice(&out, "cross_check")
    );
}

#[test]
fn an_object_type_an_older_retool_cannot_list_is_not_checked_and_a_missing_scope_skips_it() {
    let w = World::with_org(
        OrgSpec::demo(fixed_now()),
        FakeConfig {
            missing_endpoints: vec![
                "/permissions/accessList/resource".to_string(),
                "/permissions/accessList/workflow".to_string(),
            ],
            ..FakeConfig::default()
        },
    );
    w.snapshot(&["--cross-check", "all"]).ok();
    let meta = w.store().snapshot(1).unwrap();
    let Some(Ok(c)) = &meta.info.cross_check else {
        panic!("{:?}", meta.info.cross_check)
    };
    let org = org(&w);
    assert_eq!(
        c.not_checked.len(),
        org.resources.len() + org.workflows.len()
    );
    assert!(c.not_checked.iter().all(|(_, why)| why.contains("404")));
    assert!(c.disagreements.is_empty());
    assert_eq!(c.agreements, c.pairs);

    let w = demo_without_scope("permissions:read");
    w.snapshot(&[]).ok();
    let meta = w.store().snapshot(1).unwrap();
    assert!(matches!(&meta.info.cross_check, Some(Err(why)) if why.contains("permissions:read")));
    // --cross-check 0: none at all, no request.
    let w = World::demo();
    w.snapshot(&["--cross-check", "0"]).ok();
    assert_eq!(w.store().snapshot(1).unwrap().info.cross_check, None);
    assert!(
        !w.server()
            .requests()
            .iter()
            .any(|r| r.path.contains("accessList"))
    );
    // A bad value is a usage error before anything is written.
    w.snapshot(&["--cross-check", "some"]).fails_with(2);
}

/// `fake-server`'s scope and endpoint switches and the `odd-shape` fault, as a
/// user trying the collector against a restricted, older Retool would run them.
#[test]
fn fake_server_can_withhold_scopes_and_endpoints_and_send_odd_shapes() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_retool-audit"))
        .args([
            "fake-server",
            "--port",
            "0",
            "--token",
            crate::common::TOKEN,
            "--without-scope",
            "usage",
            "--missing-endpoint",
            "/role_permissions",
            "--faults",
            "odd-shape:path=/sso/config",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_string();
    let db = dir.path().join("h.db");
    let run = crate::common::run(crate::common::retool_audit(&db).args([
        "snapshot",
        "--base-url",
        &url,
        "--cross-check",
        "0",
    ]));
    let _ = server.kill();
    let _ = server.wait();
    run.ok();
    let store = retool_audit::store::Store::open_existing(&db).unwrap();
    let state = store.state_at(1).unwrap();
    not_collected_because(&state, EntityKind::Usage, "missing scope usage");
    not_collected_because(&state, EntityKind::Roles, "404");
    not_collected_because(&state, EntityKind::RoleGrants, "404");
    not_collected_because(
        &state,
        EntityKind::Settings,
        "SSO settings: unrecognised response shape",
    );
    assert!(!state.users.is_empty() && !state.access_requests.is_empty());
}
