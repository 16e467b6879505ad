//! Operator experience: the config file with several orgs and a child space,
//! bad config files, `doctor` against the simulated Retool with scopes and
//! endpoints removed, `--json` summaries and JSON logs.

use std::collections::BTreeSet;
use std::path::PathBuf;

use retool_audit::fake::{FakeConfig, FakeOrg, FakeServer, FakeSpace, OrgSpec};
use retool_audit::model::EntityKind;
use serde_json::Value;

use crate::common::{Run, TOKEN, World, fixed_now};

/// Every scope the collector uses (the catalogue's) but `missing`.
fn scopes_without(missing: &[&str]) -> Option<BTreeSet<String>> {
    Some(
        retool_audit::retool::endpoints::CATALOGUE
            .iter()
            .map(|e| e.scope)
            .filter(|s| !missing.contains(s))
            .map(|s| s.to_string())
            .collect(),
    )
}

/// A second simulated Retool in the world's runtime, accepting `token`.
fn second_server(w: &World, users: usize, token: &str) -> FakeServer {
    let org = FakeOrg::generate(&OrgSpec::with_users(users, 11, fixed_now()));
    let config = FakeConfig {
        token: token.to_string(),
        ..FakeConfig::default()
    };
    w.rt.block_on(FakeServer::start(org, config))
        .expect("start second fake server")
}

fn write_config(w: &World, text: &str) -> PathBuf {
    let path = w.path("retool-audit.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// The binary with `--config FILE` and the given environment.
fn run_with_config(w: &World, config: &PathBuf, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = w.cmd();
    cmd.arg("--config").arg(config);
    for (k, v) in env {
        cmd.env(k, v);
    }
    crate::common::run(cmd.args(args))
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

#[test]
fn snapshot_all_stores_every_target_that_works_and_names_the_one_that_failed() {
    let w = World::new(120);
    let space_server = second_server(&w, 40, "space-token");
    let down = second_server(&w, 10, "other-token");
    let down_url = down.base_url();
    w.rt.block_on(down.shutdown()); // nothing listens there any more
    let space_domain = space_server.addr().to_string();
    w.server().update_org(|o| {
        o.spaces.push(FakeSpace {
            id: "5f0c-sales".to_string(),
            name: "Sales".to_string(),
            domain: space_domain.clone(),
            created_at: fixed_now(),
            updated_at: fixed_now(),
        })
    });
    let token_file = w.path("space.token");
    std::fs::write(&token_file, "space-token\n").unwrap();
    let config = write_config(
        &w,
        &format!(
            r#"
[defaults]
max_retries = 0
connect_timeout_secs = 2

[[org]]
name = "acme-prod"
base_url = "{a}"
token_env = "TOKEN_ACME"

[[org.space]]
name = "sales"
space = "Sales"
token_file = "{tf}"

[[org]]
name = "acme-old"
base_url = "{down_url}"
token_env = "TOKEN_ACME"

[[org]]
name = "acme-wrong-token"
base_url = "{a}"
token_env = "TOKEN_WRONG"
"#,
            a = w.base_url(),
            tf = token_file.display(),
        ),
    );
    let env = [("TOKEN_ACME", TOKEN), ("TOKEN_WRONG", "not-the-token")];
    let run = run_with_config(&w, &config, &env, &["snapshot", "--all"]);
    run.fails_with(1)
        .stderr_has("snapshot of acme-old failed")
        .stderr_has("snapshot of acme-wrong-token failed")
        .stderr_has("2 of 4 targets failed: acme-old, acme-wrong-token");
    assert!(!run.stderr.contains("not-the-token"), "{}", run.stderr);
    assert!(
        run.stdout.contains("(acme-prod): 120 users"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("(acme-prod/sales): 40 users"),
        "{}",
        run.stdout
    );

    let store = w.store();
    let stored: Vec<String> = store
        .snapshots(None)
        .unwrap()
        .into_iter()
        .map(|m| m.org)
        .collect();
    assert_eq!(stored, ["acme-prod", "acme-prod/sales"]);
    let sales = store.snapshots(Some("acme-prod/sales")).unwrap();
    assert_eq!(sales.len(), 1);
    assert!(
        sales[0]
            .info
            .source_url
            .starts_with(&space_server.base_url()),
        "the space is collected from its own domain: {}",
        sales[0].info.source_url
    );
    assert_eq!(sales[0].prev_sha256, None, "a space has its own chain");
    let failed: Vec<String> = store
        .runs(None)
        .unwrap()
        .into_iter()
        .filter(|r| r.status != "ok")
        .map(|r| r.org)
        .collect();
    assert_eq!(failed, ["acme-old", "acme-wrong-token"]);
    w.run(&["verify"]).ok();

    // One configured org by name; reports take the same name.
    let run = run_with_config(&w, &config, &env, &["snapshot", "--org", "acme-prod/sales"]);
    run.ok();
    assert!(
        run.stdout.starts_with("snapshot 3 (acme-prod/sales)"),
        "{}",
        run.stdout
    );
    let out = w.path("sales-report");
    run_with_config(
        &w,
        &config,
        &env,
        &[
            "report",
            "--org",
            "acme-prod/sales",
            "--out",
            out.to_str().unwrap(),
            "--format",
            "csv",
        ],
    )
    .ok();
    assert!(out.join("csv").join("users.csv").exists());

    // doctor says where the space was found and checks it with its own token.
    let run = run_with_config(&w, &config, &env, &["doctor", "--org", "acme-prod/sales"]);
    run.ok();
    assert!(
        run.stdout.contains(&format!(
            "space        ok: \"Sales\" is the child space 5f0c-sales at {space_domain}"
        )),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("ok (40 users)"), "{}", run.stdout);

    // A space the parent does not list: the fix is in the config file.
    let wrong = std::fs::read_to_string(&config)
        .unwrap()
        .replace("space = \"Sales\"", "space = \"Marketing\"");
    std::fs::write(&config, wrong).unwrap();
    run_with_config(&w, &config, &env, &["snapshot", "--org", "acme-prod/sales"])
        .fails_with(2)
        .stderr_has("has no child space named \"Marketing\"; it has: ")
        .stderr_has(&format!("\"Sales\" ({space_domain})"));
    w.rt.block_on(space_server.shutdown());
}

#[test]
fn bad_config_files_exit_2_naming_the_file_the_line_and_the_fix() {
    let w = World::new(5);
    let base = w.base_url();
    let org = |extra: &str| {
        format!(
            "[[org]]\nname = \"acme\"\nbase_url = \"{base}\"\ntoken_env = \"TOKEN_ACME\"\n{extra}"
        )
    };
    let shared_file = w.path("shared.token");
    std::fs::write(&shared_file, TOKEN).unwrap();
    let cases: Vec<(&str, String, Vec<&str>, &str)> = vec![
        (
            "unknown key",
            org("tokn_file = \"/x\"\n"),
            vec!["snapshot"],
            "line 5: unknown field `tokn_file`",
        ),
        (
            "duplicate org name",
            format!("{}\n{}", org(""), org("")),
            vec!["snapshot", "--all"],
            "line 7: the org name \"acme\" is used twice",
        ),
        (
            "a token in the file",
            org("token = \"retool_01hsecret\"\n"),
            vec!["snapshot"],
            "line 5: a `token` key is not allowed",
        ),
        (
            "TOML syntax error",
            "[[org]\nname = \"acme\"\n".to_string(),
            vec!["snapshot"],
            "line 1",
        ),
        (
            "org not in the config",
            org(""),
            vec!["snapshot", "--org", "acme-staging"],
            "no org or space named \"acme-staging\" is configured; use one of: acme",
        ),
        (
            "token variable not set",
            org("").replace("TOKEN_ACME", "TOKEN_UNSET_ANYWHERE"),
            vec!["snapshot"],
            "TOKEN_UNSET_ANYWHERE named by token_env (org acme, config file",
        ),
        (
            "token file missing",
            org("").replace(
                "token_env = \"TOKEN_ACME\"",
                "token_file = \"/nonexistent/acme.token\"",
            ),
            vec!["doctor"],
            "cannot read the token file /nonexistent/acme.token (org acme, config file",
        ),
        (
            "flags that the file owns",
            org(""),
            vec!["snapshot", "--base-url", "https://other.example.com"],
            "cannot be combined with the config file",
        ),
    ];
    for (name, text, args, needle) in cases {
        let config = write_config(&w, &text);
        let run = run_with_config(&w, &config, &[("TOKEN_ACME", TOKEN)], &args);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains(&config.display().to_string()),
            "{name}: names the file: {}",
            run.stderr
        );
        assert!(run.stderr.contains(needle), "{name}: {}", run.stderr);
        assert!(!run.stderr.contains("retool_01hsecret"), "{}", run.stderr);
        assert!(!w.db.exists(), "{name}: nothing written");
    }
    // --all without a config file is a usage error too.
    w.run(&["snapshot", "--all"])
        .fails_with(2)
        .stderr_has("--all needs a config file");

    // A token file others can read still works, with a warning.
    let config = write_config(
        &w,
        &org("").replace(
            "token_env = \"TOKEN_ACME\"",
            &format!("token_file = \"{}\"", shared_file.display()),
        ),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shared_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        run_with_config(&w, &config, &[], &["snapshot"])
            .ok()
            .stderr_has("chmod 600");
    }
}

#[test]
fn config_db_is_used_when_no_db_flag_is_given() {
    let w = World::new(5);
    let db = w.path("from-config.db");
    let config = write_config(
        &w,
        &format!(
            "db = \"{}\"\n[[org]]\nname = \"acme\"\nbase_url = \"{}\"\ntoken_env = \"TOKEN_ACME\"\n",
            db.display(),
            w.base_url()
        ),
    );
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_retool-audit"));
    cmd.env_remove("RETOOL_AUDIT_DB")
        .env_remove("RETOOL_BASE_URL")
        .env("TOKEN_ACME", TOKEN)
        .arg("--config")
        .arg(&config)
        .arg("snapshot");
    crate::common::run(&mut cmd).ok();
    assert!(db.exists(), "the history went where the config file says");
    assert!(!w.db.exists());
}

fn doctor_world(config: FakeConfig) -> World {
    World::with_org(OrgSpec::with_users(30, 7, fixed_now()), config)
}

/// The doctor table row of `endpoint`.
fn row<'a>(run: &'a Run, endpoint: &str) -> &'a str {
    run.stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{endpoint} ")))
        .unwrap_or_else(|| panic!("no row for {endpoint}:\n{}", run.stdout))
}

#[test]
fn doctor_passes_when_every_endpoint_works() {
    let w = doctor_world(FakeConfig::default());
    let run = w.run(&["doctor", "--base-url", &w.base_url()]);
    run.ok();
    assert!(
        run.stdout.contains("version      ok: Retool 3.148.0-test"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("token        ok: accepted"),
        "{}",
        run.stdout
    );
    assert!(row(&run, "GET /users").contains("ok (30 users)"));
    assert!(row(&run, "POST /permissions/listObjects (user)").contains("ok ("));
    assert!(row(&run, "GET /role_permissions/roles").contains("ok (5 roles)"));
    assert!(row(&run, "GET /role_permissions/role_grants").contains("ok (4 role grants)"));
    assert!(row(&run, "GET /access_requests").contains("ok (4 access requests)"));
    assert!(row(&run, "GET /organization/").contains("ok (7 settings read)"));
    assert!(row(&run, "GET /sso/config").contains("ok (6 SSO settings read)"));
    assert!(row(&run, "GET /usage/user_summary").contains("users with usage yesterday"));
    assert!(
        row(&run, "GET /permissions/accessList").contains("users with access to the first app")
    );
    assert!(run.stdout.contains("=> ready"), "{}", run.stdout);
    assert!(!run.stdout.contains(retool_audit::fake::SSO_CLIENT_SECRET));
    assert!(!run.stdout.contains(TOKEN));
    // Only cheap requests: users are read with limit=1, never paged through.
    let users: Vec<_> = w
        .server()
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/users"))
        .collect();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].query.as_deref(), Some("limit=1"));
}

#[test]
fn doctor_names_missing_scopes_and_missing_endpoints() {
    let w = doctor_world(FakeConfig {
        scopes: scopes_without(&["workflows:read", "permissions:read"]),
        missing_endpoints: vec!["/access_tokens".to_string()],
        ..FakeConfig::default()
    });
    let run = w.run(&["doctor", "--base-url", &w.base_url()]);
    run.ok(); // users and groups work: a snapshot succeeds
    let wf = row(&run, "GET /workflows");
    assert!(
        wf.contains("workflows:read") && wf.contains("missing scope"),
        "{wf}"
    );
    assert!(wf.contains("workflows"), "{wf}");
    let grants = row(&run, "POST /permissions/listObjects (group)");
    assert!(
        grants.contains("missing scope") && grants.contains("all grants"),
        "{grants}"
    );
    let tokens = row(&run, "GET /access_tokens");
    assert!(tokens.contains("not available on this version"), "{tokens}");
    assert!(row(&run, "GET /apps").contains("ok ("));
    // Roles, role grants and access lists need permissions:read too.
    for endpoint in [
        "GET /role_permissions/roles",
        "GET /role_permissions/role_grants",
        "GET /permissions/accessList",
        "POST /permissions/listObjects (resource_configuration)",
    ] {
        let r = row(&run, endpoint);
        assert!(
            r.contains("permissions:read") && r.contains("missing scope"),
            "{r}"
        );
    }
    assert!(row(&run, "GET /access_requests").contains("ok ("));
    assert!(
        run.stdout
            .contains("8 optional endpoint(s) will be recorded as not collected"),
        "{}",
        run.stdout
    );

    // Without groups:read a snapshot would fail: exit 1.
    let w = doctor_world(FakeConfig {
        scopes: scopes_without(&["groups:read"]),
        ..FakeConfig::default()
    });
    let run = w.run(&["doctor", "--base-url", &w.base_url()]);
    run.fails_with(1)
        .stderr_has("not ready for snapshots: default");
    assert!(row(&run, "GET /groups").contains("missing scope"));
    assert!(row(&run, "POST /permissions/listObjects (group)").contains("not checked"));
    assert!(run.stdout.contains("NOT READY"), "{}", run.stdout);
}

#[test]
fn doctor_reports_a_rejected_token_and_an_unreachable_host() {
    let w = doctor_world(FakeConfig::default());
    let mut cmd = w.cmd();
    cmd.env("RETOOL_API_TOKEN", "wrong-token");
    let run = crate::common::run(cmd.args(["doctor", "--base-url", &w.base_url()]));
    run.fails_with(1);
    assert!(
        run.stdout.contains("token        FAILED: rejected (401)"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("wrong-token") && !run.stderr.contains("wrong-token"));

    let gone = second_server(&w, 5, TOKEN);
    let url = gone.base_url();
    w.rt.block_on(gone.shutdown());
    let run = w.run(&["doctor", "--base-url", &url]);
    run.fails_with(1);
    assert!(run.stdout.contains("connection   FAILED"), "{}", run.stdout);
}

#[test]
fn snapshot_and_report_json_match_the_history() {
    let w = World::new(60);
    let run = w.snapshot(&["--json"]);
    run.ok();
    let v = json(&run.stdout);
    assert_eq!(v["collected"], 1);
    assert_eq!(v["failed"], 0);
    let t = &v["targets"][0];
    let meta = w.store().snapshots(None).unwrap().remove(0);
    assert_eq!(t["id"], meta.id);
    assert_eq!(t["org"], "default");
    assert_eq!(t["status"], "ok");
    assert_eq!(t["sha256"], meta.sha256.as_str());
    assert_eq!(t["counts"]["users"], meta.counts[&EntityKind::Users]);
    assert_eq!(t["counts"]["users"], 60);
    assert_eq!(t["requests"], meta.info.total_requests());
    assert!(t["not_collected"].is_object());

    w.snapshot(&[]).ok();
    let out = w.path("reports");
    let run = w.run(&[
        "report",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv,json",
        "--json",
    ]);
    run.ok();
    let v = json(&run.stdout);
    assert_eq!(v["snapshot_id"], 2);
    assert_eq!(v["since_snapshot_id"], 1);
    let files = v["files"].as_array().expect("files");
    assert!(!files.is_empty());
    for f in files {
        assert!(PathBuf::from(f.as_str().unwrap()).exists(), "{f}");
    }
    let (_, users) = crate::common::read_csv(&out, "users");
    assert_eq!(v["tables"]["users"], users.len());
    assert!(
        v["findings"]["Disabled accounts still admin"].is_number(),
        "{v}"
    );

    // A failing snapshot still prints its JSON, with the error.
    let mut cmd = w.cmd();
    cmd.env("RETOOL_API_TOKEN", "wrong-token");
    let base = w.base_url();
    let run = crate::common::run(cmd.args(["snapshot", "--base-url", &base, "--json"]));
    run.fails_with(1);
    let v = json(&run.stdout);
    assert_eq!(v["failed"], 1);
    assert_eq!(v["targets"][0]["status"], "failed");
    assert!(v["targets"][0]["error"].as_str().unwrap().contains("401"));
}

#[test]
fn json_logs_are_one_object_a_line_and_cron_output_is_one_line() {
    let w = World::new(20);
    let run = w.snapshot(&["-vv", "--log-format", "json"]);
    run.ok();
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(!lines.is_empty(), "-v logs something");
    for l in lines {
        let v = json(l);
        assert!(v["level"].is_string() && v["fields"].is_object(), "{l}");
    }
    // Not a terminal (as under cron): the summary line and nothing else.
    let run = w.snapshot(&[]);
    run.ok();
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    assert_eq!(run.stderr, "");
}
