//! `snapshot`, `snapshots` and `verify`: collection is exact in both dialects,
//! failures are clear, the history grows with change and can prove it was not
//! edited, and the token never leaks. API faults: `api_faults.rs`.

use std::time::Duration;

use retool_audit::fake::{FakeConfig, OrgSpec};
use retool_audit::model::{EntityKind, OrgState};

use crate::common::{TOKEN, World, db_bytes, fixed_now};

/// Compares kind by kind so a failure names the kind that differs.
#[track_caller]
fn assert_same_state(got: &OrgState, want: &OrgState) {
    assert_eq!(got.users.len(), want.users.len(), "user count");
    for (g, w) in got.users.iter().zip(&want.users) {
        assert_eq!(g, w, "user {}", w.id);
    }
    assert_eq!(got.groups, want.groups, "groups");
    assert_eq!(got.memberships, want.memberships, "memberships");
    assert_eq!(got.folders, want.folders, "folders");
    assert_eq!(got.apps, want.apps, "apps");
    assert_eq!(got.resources, want.resources, "resources");
    assert_eq!(got.workflows, want.workflows, "workflows");
    assert_eq!(got.grants, want.grants, "grants");
    assert_eq!(got.user_invites, want.user_invites, "user invites");
    assert_eq!(got.access_tokens, want.access_tokens, "access tokens");
    assert_eq!(got.roles, want.roles, "roles");
    assert_eq!(got.role_grants, want.role_grants, "role grants");
    assert_eq!(got.access_requests, want.access_requests, "access requests");
    assert_eq!(got.settings, want.settings, "settings");
    assert_eq!(got.not_collected, want.not_collected, "not collected");
    assert_eq!(got, want);
}

#[test]
fn v2_snapshot_holds_exactly_what_the_org_holds_across_many_pages() {
    let w = World::new(250);
    let run = w.snapshot(&["--page-size", "100"]);
    run.ok();
    assert!(
        run.stdout.starts_with("snapshot 1 (default): 250 users"),
        "summary line: {}",
        run.stdout
    );
    let store = w.store();
    let metas = store.snapshots(None).unwrap();
    assert_eq!(metas.len(), 1);
    let state = store.state_at(metas[0].id).unwrap();
    assert_same_state(&state, &w.expected());
    // 250 users at 100 a page is 3 pages of /users.
    let users_pages = w
        .server()
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/api/v2/users"))
        .count();
    assert_eq!(users_pages, 3, "users are read in pages of 100");
    let meta = &metas[0];
    assert_eq!(meta.counts[&EntityKind::Users], 250);
    assert_eq!(meta.info.dialect.as_str(), "v2");
    assert!(
        meta.info.source_url.ends_with("/api/v2"),
        "{}",
        meta.info.source_url
    );
    assert!(
        meta.info.api_version.is_some(),
        "checkHealth version recorded"
    );
    assert!(meta.info.total_requests() > 3);
}

/// By default each list is one response (the API returns everything without
/// `limit`), and it holds exactly what the pages would.
#[test]
fn v2_reads_all_users_in_one_request_by_default() {
    let w = World::new(250);
    w.snapshot(&[]).ok();
    let state = w.store().state_at(1).unwrap();
    assert_same_state(&state, &w.expected());
    let users: Vec<Option<String>> = w
        .server()
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/api/v2/users"))
        .map(|r| r.query.clone())
        .collect();
    assert_eq!(users, [None], "one request for 250 users, without limit");
}

#[test]
fn v1_snapshot_holds_exactly_what_the_v1_api_exposes() {
    let w = World::new(230);
    w.snapshot(&["--api", "v1"]).ok();
    let store = w.store();
    let state = store.state_at(1).unwrap();
    assert_same_state(&state, &w.expected_v1());
    for kind in [EntityKind::Workflows, EntityKind::Grants] {
        assert!(
            state.not_collected.contains_key(&kind),
            "{kind} must be recorded as not collected in v1"
        );
    }
    let meta = store.snapshot(1).unwrap();
    assert!(meta.info.source_url.ends_with("/api/v1"));
}

#[test]
fn a_failed_night_after_good_ones_changes_nothing() {
    let w = World::new(60);
    w.snapshot(&[]).ok();
    let before = std::fs::read(&w.db).unwrap();
    let sha_before = w.store().snapshot(1).unwrap().sha256;
    // Wrong token: 401.
    let run = crate::common::run(w.cmd().env("RETOOL_API_TOKEN", "wrong-token").args([
        "snapshot",
        "--base-url",
        &w.base_url(),
    ]));
    run.fails_with(1).stderr_has("token was rejected (401)");
    assert!(!run.stderr.contains("wrong-token"));
    let store = w.store();
    assert_eq!(store.snapshots(None).unwrap().len(), 1);
    assert_eq!(store.snapshot(1).unwrap().sha256, sha_before);
    assert_eq!(store.state_at(1).unwrap(), w.expected());
    drop(store);
    assert!(before.len() as u64 <= db_bytes(&w.db));
}

#[test]
fn unreachable_host_and_bad_configuration_get_clear_messages() {
    let w = World::new(20);
    // Nothing listens on port 9 of loopback.
    w.snapshot(&[]).ok();
    let run = w.run(&[
        "snapshot",
        "--base-url",
        "http://127.0.0.1:9",
        "--max-retries",
        "1",
        "--connect-timeout",
        "2",
    ]);
    run.fails_with(1)
        .stderr_has("cannot reach 127.0.0.1:9")
        .stderr_has("refused");
    // Plain http to a non-loopback host is refused before any request.
    w.run(&["snapshot", "--base-url", "http://retool.example.com"])
        .fails_with(2)
        .stderr_has("http");
    // No token at all.
    let run = crate::common::run(w.cmd().env_remove("RETOOL_API_TOKEN").args([
        "snapshot",
        "--base-url",
        &w.base_url(),
    ]));
    run.fails_with(2).stderr_has("RETOOL_API_TOKEN");
    // A database that is not SQLite.
    let bogus = w.path("notes.txt");
    std::fs::write(&bogus, "these are my notes, not a database\n".repeat(200)).unwrap();
    let run = crate::common::run(w.cmd().args(["--db", bogus.to_str().unwrap()]).args([
        "snapshot",
        "--base-url",
        &w.base_url(),
    ]));
    run.fails_with(2);
    assert_eq!(
        std::fs::read_to_string(&bogus).unwrap(),
        "these are my notes, not a database\n".repeat(200),
        "a foreign file is never modified"
    );
    // Reports on a history that does not exist.
    w.run(&["--db", w.path("missing.db").to_str().unwrap(), "snapshots"])
        .fails_with(2);
    assert!(
        !w.path("missing.db").exists(),
        "no empty database is created"
    );
    // Only the first snapshot made it.
    assert_eq!(w.store().snapshots(None).unwrap().len(), 1);
}

#[test]
fn an_unchanged_org_adds_almost_nothing_to_the_history() {
    let w = World::new(2000);
    w.snapshot(&["--no-user-grants"]).ok();
    let first = db_bytes(&w.db);
    w.snapshot(&["--no-user-grants"]).ok();
    let second = db_bytes(&w.db);
    let growth = second.saturating_sub(first);
    assert!(
        (growth as f64) < first as f64 * 0.01,
        "second unchanged snapshot grew the file by {growth} bytes (first snapshot: {first} bytes)"
    );
    let store = w.store();
    assert_eq!(store.snapshots(None).unwrap().len(), 2);
    assert_eq!(store.state_at(1).unwrap(), store.state_at(2).unwrap());
}

#[test]
fn an_older_snapshot_reads_back_exactly_after_later_changes() {
    let w = World::demo();
    w.snapshot(&[]).ok();
    let before = w.expected();
    w.server().update_org(|o| o.apply_scripted_changes());
    let after = w.expected();
    assert_ne!(before, after, "the scripted changes change the org");
    w.snapshot(&[]).ok();
    let store = w.store();
    assert_same_state(&store.state_at(1).unwrap(), &before);
    assert_same_state(&store.state_at(2).unwrap(), &after);
}

#[test]
fn verify_passes_untouched_and_names_the_snapshot_after_an_edit() {
    let w = World::demo();
    w.snapshot(&[]).ok();
    w.server().update_org(|o| o.apply_scripted_changes());
    w.snapshot(&[]).ok();
    let run = w.run(&["verify"]);
    run.ok();
    assert!(run.stdout.contains("verified 2 snapshot"), "{}", run.stdout);

    // Someone "fixes" an email by hand in a version only snapshot 2 holds... or
    // any version: the first snapshot that holds the edited row must be named.
    let conn = rusqlite::Connection::open(&w.db).unwrap();
    let changed = conn
        .execute(
            "UPDATE users SET email = 'someone-else@example.com' \
             WHERE rowid = (SELECT max(rowid) FROM users)",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let valid_from: i64 = conn
        .query_row(
            "SELECT valid_from FROM users WHERE email = 'someone-else@example.com'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    drop(conn);
    let run = w.run(&["verify"]);
    run.fails_with(1)
        .stderr_has(&format!("first broken snapshot: {valid_from}"));
}

#[test]
fn snapshots_lists_ids_counts_and_hashes_as_json() {
    let w = World::demo();
    w.snapshot(&[]).ok();
    let run = w.run(&["snapshots", "--format", "json"]);
    run.ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let first = &v[0];
    assert_eq!(first["id"], 1);
    assert_eq!(first["status"], "ok");
    let users = w.expected().users.len() as u64;
    assert_eq!(first["counts"]["users"], users);
    assert_eq!(first["sha256"].as_str().unwrap().len(), 64);
    let table = w.run(&["snapshots"]);
    table.ok();
    assert!(table.stdout.lines().count() >= 2);
}

#[test]
fn the_token_appears_in_no_output_log_or_database_byte() {
    let w = World::demo();
    let loud = w.snapshot(&["-vvv"]);
    loud.ok();
    // A failing run with the same token, at full verbosity.
    let failing = w.run(&[
        "-vvv",
        "snapshot",
        "--base-url",
        "http://127.0.0.1:9",
        "--max-retries",
        "0",
    ]);
    assert_ne!(failing.code, 0);
    for (name, text) in [
        ("stdout", &loud.stdout),
        ("stderr", &loud.stderr),
        ("failing stderr", &failing.stderr),
    ] {
        assert!(!text.contains(TOKEN), "token leaked in {name}");
    }
    assert!(
        loud.stderr.contains("GET"),
        "-vvv logs requests: {}",
        loud.stderr
    );
    for entry in std::fs::read_dir(w.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes
                .windows(TOKEN.len())
                .any(|win| win == TOKEN.as_bytes()),
            "token found in {}",
            path.display()
        );
    }
}

#[test]
fn a_slow_server_within_the_timeout_is_fine() {
    let w = World::with_org(
        OrgSpec::with_users(40, 3, fixed_now()),
        FakeConfig {
            latency: Duration::from_millis(30),
            ..FakeConfig::default()
        },
    );
    w.snapshot(&[]).ok();
    assert_eq!(w.store().state_at(1).unwrap(), w.expected());
}

#[test]
fn direct_user_grants_above_the_limit_are_recorded_as_partial() {
    let w = World::demo();
    let run = w.snapshot(&["--user-grants-max-users", "10"]);
    run.ok();
    assert!(
        run.stdout.contains("not collected: grants (partial"),
        "{}",
        run.stdout
    );
    let state = w.store().state_at(1).unwrap();
    let why = &state.not_collected[&EntityKind::Grants];
    assert!(why.starts_with("partial"), "{why}");
    // Group grants are all there; direct user grants are not.
    let expected = w.expected();
    let group_grants = |s: &OrgState| {
        s.grants
            .iter()
            .filter(|g| matches!(g.subject, retool_audit::model::Subject::Group(_)))
            .count()
    };
    assert_eq!(group_grants(&state), group_grants(&expected));
    assert!(
        state
            .grants
            .iter()
            .all(|g| matches!(g.subject, retool_audit::model::Subject::Group(_)))
    );
    assert!(
        expected.grants.len() > state.grants.len(),
        "the demo org has direct grants"
    );
}

/// A mistyped host ends the run at once with one line naming the host and the
/// cause: no retries, no warning per endpoint, no optional endpoint named as
/// the cause, nothing written but the failed run in `runs`.
#[test]
fn a_host_that_cannot_be_reached_fails_at_once_with_one_line() {
    let w = World::new(20);
    w.snapshot(&[]).ok();
    for (url, host, cause) in [
        (
            "https://acme.retool.invalid",
            "acme.retool.invalid",
            "does not resolve",
        ),
        ("http://127.0.0.1:9", "127.0.0.1:9", "refused"),
    ] {
        let run = w.run(&["snapshot", "--base-url", url]);
        run.fails_with(1)
            .stderr_has(&format!("cannot reach {host}: the"))
            .stderr_has(cause)
            .stderr_has("nothing was written");
        assert!(
            !run.stderr.contains("WARN") && !run.stderr.contains("retrying"),
            "{url}: nothing is retried: {}",
            run.stderr
        );
        let errors = run
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .count();
        assert_eq!(errors, 1, "{url}: one error line: {}", run.stderr);
        for endpoint in ["user_invites", "access_tokens", "workflows", "GET /"] {
            assert!(
                !run.stderr.contains(endpoint),
                "{url}: no endpoint is blamed ({endpoint}): {}",
                run.stderr
            );
        }
    }
    let store = w.store();
    assert_eq!(
        store.snapshots(None).unwrap().len(),
        1,
        "nothing was written"
    );
    let failed: Vec<_> = store
        .runs(None)
        .unwrap()
        .into_iter()
        .filter(|r| r.status != "ok")
        .collect();
    assert_eq!(failed.len(), 2, "each attempt is in `runs`");
    assert!(failed.iter().all(|r| {
        r.error
            .as_deref()
            .is_some_and(|e| e.contains("cannot reach"))
    }));
}
