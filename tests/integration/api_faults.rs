//! API faults (issue 5, item 1): every misbehaviour of Retool or of a proxy in
//! front of it that the API faults table of docs/reliability.md lists, served by the
//! simulated Retool over real HTTP to the real binary. Each is either survived
//! (the snapshot equals what a clean run of the same org collects) or fails
//! cleanly: exit 1, a message naming the endpoint, no snapshot written, the
//! attempt logged in `runs`, and the history that was there before untouched.

use retool_audit::fake::{FakeConfig, FakeOrg, OrgSpec, parse_faults};
use retool_audit::model::OrgState;

use crate::common::{Run, World, fixed_now, retool_audit, run};

const USERS: usize = 150;

fn world(faults: &str) -> World {
    World::with_org(
        OrgSpec::with_users(USERS, 7, fixed_now()),
        FakeConfig {
            faults: parse_faults(faults).expect("fault spec"),
            ..FakeConfig::default()
        },
    )
}

/// Users in pages of 100: the faults of a page chain need pages (by default
/// the whole list is one response).
const PAGED: &[&str] = &["--page-size", "100"];

/// Compares kind by kind so a failure names the kind that differs.
#[track_caller]
fn assert_same_state(got: &OrgState, want: &OrgState, context: &str) {
    assert_eq!(got.users.len(), want.users.len(), "{context}: user count");
    for (g, w) in got.users.iter().zip(&want.users) {
        assert_eq!(g, w, "{context}: user {}", w.id);
    }
    assert_eq!(got.groups, want.groups, "{context}: groups");
    assert_eq!(got.memberships, want.memberships, "{context}: memberships");
    assert_eq!(got.folders, want.folders, "{context}: folders");
    assert_eq!(got.apps, want.apps, "{context}: apps");
    assert_eq!(got.resources, want.resources, "{context}: resources");
    assert_eq!(got.workflows, want.workflows, "{context}: workflows");
    assert_eq!(got.grants, want.grants, "{context}: grants");
    assert_eq!(got.user_invites, want.user_invites, "{context}: invites");
    assert_eq!(got.access_tokens, want.access_tokens, "{context}: tokens");
    assert_eq!(got.roles, want.roles, "{context}: roles");
    assert_eq!(got.role_grants, want.role_grants, "{context}: role grants");
    assert_eq!(
        got.access_requests, want.access_requests,
        "{context}: access requests"
    );
    assert_eq!(got.settings, want.settings, "{context}: settings");
    assert_eq!(
        got.not_collected, want.not_collected,
        "{context}: not collected"
    );
    assert!(got == want, "{context}: states differ");
}

/// The state with every `raw` copy emptied: what the typed columns hold.
fn typed(state: &OrgState) -> OrgState {
    let mut s = state.clone();
    s.users.iter_mut().for_each(|r| r.raw.clear());
    s.groups.iter_mut().for_each(|r| r.raw.clear());
    s.folders.iter_mut().for_each(|r| r.raw.clear());
    s.apps.iter_mut().for_each(|r| r.raw.clear());
    s.resources.iter_mut().for_each(|r| r.raw.clear());
    s.workflows.iter_mut().for_each(|r| r.raw.clear());
    s.user_invites.iter_mut().for_each(|r| r.raw.clear());
    s.access_tokens.iter_mut().for_each(|r| r.raw.clear());
    s.roles.iter_mut().for_each(|r| r.raw.clear());
    s.access_requests.iter_mut().for_each(|r| r.raw.clear());
    s
}

/// Runs a snapshot against `w` and returns the one snapshot it wrote.
#[track_caller]
fn survive(w: &World, extra: &[&str], context: &str) -> retool_audit::model::SnapshotMeta {
    let run = w.snapshot(extra);
    assert_eq!(run.code, 0, "{context}: {}", run.stderr);
    let metas = w.store().snapshots(None).expect("snapshots");
    assert_eq!(metas.len(), 1, "{context}: one snapshot");
    metas.into_iter().next().expect("one snapshot")
}

// ------------------------------------------------------------------- survived

/// Transient faults: retried with backoff, the snapshot equals the org exactly,
/// and the retries are recorded in the evidence.
#[test]
fn transient_faults_are_retried_and_the_snapshot_equals_a_clean_run() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "429 storm with Retry-After seconds",
            "429x3:retry-after=1",
            &[],
        ),
        (
            "429 with an HTTP-date Retry-After",
            "429x2:retry-after=date:path=/groups",
            &[],
        ),
        ("429 without Retry-After", "429x3:path=/users", &[]),
        (
            "5xx burst",
            "500x2,502x1:path=/apps,503x1:path=/permissions,504x1",
            &[],
        ),
        ("connection reset mid-body", "resetx2:path=/users", &[]),
        (
            "reset on a grants request",
            "resetx1:path=/permissions",
            &[],
        ),
        (
            "response slower than the timeout",
            "slow=4sx1:path=/groups",
            &["--timeout", "1"],
        ),
        ("truncated JSON body", "truncatex2", &[]),
        (
            "HTML error page from a proxy (502)",
            "non-jsonx2:path=/folders",
            &[],
        ),
    ];
    for (name, spec, extra) in cases {
        let w = world(spec);
        let meta = survive(&w, extra, name);
        let state = w.store().state_at(meta.id).expect("state_at");
        assert_same_state(&state, &w.expected(), name);
        assert!(meta.info.total_retries() >= 1, "{name}: retries recorded");
    }
}

#[test]
fn duplicated_page_items_are_dropped_and_noted() {
    let w = world("dup-items");
    let meta = survive(&w, PAGED, "dup-items");
    assert_same_state(
        &w.store().state_at(meta.id).expect("state"),
        &w.expected(),
        "dup",
    );
    assert!(
        meta.info.notes.iter().any(|n| n.contains("duplicate")),
        "{:?}",
        meta.info.notes
    );
}

/// Fields the spec does not know are accepted and kept in `raw`; everything
/// typed equals a clean run.
#[test]
fn unknown_extra_fields_are_accepted_and_kept_raw() {
    let w = world("extra-fields");
    let meta = survive(&w, &[], "extra-fields");
    let state = w.store().state_at(meta.id).expect("state");
    let want = w.expected();
    assert_same_state(&typed(&state), &typed(&want), "extra-fields");
    for raw in state
        .users
        .iter()
        .map(|r| &r.raw)
        .chain(state.groups.iter().map(|r| &r.raw))
        .chain(state.apps.iter().map(|r| &r.raw))
    {
        assert!(raw.contains("x_future_field"), "kept in raw: {raw}");
    }
}

/// Optional fields sent as `null`, or left out altogether, read as absent.
#[test]
fn missing_optional_fields_and_nulls_read_as_absent() {
    let w = world("drop-nulls");
    let null_everything = |o: &mut FakeOrg| {
        for u in o.users.iter_mut().step_by(3) {
            u.first_name = None;
            u.last_name = None;
            u.last_active = None;
        }
        for a in &mut o.apps {
            a.description = None;
        }
        for r in &mut o.resources {
            r.folder_id = None;
        }
        for wf in &mut o.workflows {
            wf.description = None;
            wf.crontab = None;
            wf.created_by = None;
        }
        for g in &mut o.groups {
            g.landing_page_app_id = None;
        }
    };
    w.server().update_org(null_everything);
    let meta = survive(&w, &[], "drop-nulls");
    let state = w.store().state_at(meta.id).expect("state");
    let want = w.expected();
    assert!(want.users.iter().any(|u| u.first_name.is_none()));
    assert_same_state(&typed(&state), &typed(&want), "drop-nulls");
    let user = &state.users[0];
    assert!(
        !user.raw.contains("null"),
        "null fields were not sent: {}",
        user.raw
    );
}

/// Memberships and grants naming users or objects the lists did not return
/// are kept (never silently dropped) and noted in the evidence.
#[test]
fn dangling_references_are_kept_and_noted() {
    let w = world("");
    w.server().update_org(|o| {
        o.groups[2].members.push(retool_audit::fake::FakeMember {
            user_id: "user_deleted_meanwhile".into(),
            is_group_admin: false,
        });
        let group = o.groups[2].id;
        o.grants.push(retool_audit::model::Grant {
            subject: retool_audit::model::Subject::Group(retool_audit::model::GroupId(group)),
            object: retool_audit::model::ObjectRef {
                object_type: retool_audit::model::ObjectType::App,
                id: retool_audit::model::ObjectId("app-that-is-gone".into()),
            },
            level: retool_audit::model::AccessLevel::Edit,
        });
        o.grants.sort();
    });
    let meta = survive(&w, &[], "dangling");
    assert_same_state(
        &w.store().state_at(meta.id).expect("state"),
        &w.expected(),
        "dangling",
    );
    let notes = meta.info.notes.join("\n");
    assert!(notes.contains("user_deleted_meanwhile"), "{notes}");
    assert!(notes.contains("app-that-is-gone"), "{notes}");
}

/// User ids are opaque strings: numbers, slashes, spaces, non-ASCII and very
/// long ids are collected (and their grants requested) like any other.
#[test]
fn user_ids_in_an_unexpected_format_are_opaque_strings() {
    let w = world("");
    let odd = [
        "12345".to_string(),
        "usr/with/slashes?and=query&x#frag".to_string(),
        "ユーザー 1 with spaces".to_string(),
        "UPPER-CASE-1F2E3D4C-5B6A".to_string(),
        format!("user_{}", "9".repeat(500)),
        "\"quoted\" <id>".to_string(),
    ];
    w.server().update_org(|o| {
        let ids: Vec<String> = o
            .users
            .iter()
            .take(odd.len())
            .map(|u| u.id.clone())
            .collect();
        for (old, new) in ids.iter().zip(&odd) {
            o.rename_user_id(old, new);
        }
    });
    let meta = survive(&w, &[], "odd ids");
    let state = w.store().state_at(meta.id).expect("state");
    assert_same_state(&state, &w.expected(), "odd ids");
    for id in &odd {
        assert!(state.users.iter().any(|u| &u.id.0 == id), "{id} collected");
        assert!(
            state.memberships.iter().any(|m| &m.user_id.0 == id),
            "{id}'s memberships collected"
        );
    }
}

/// Very long and unusual text is stored and read back exactly.
#[test]
fn very_long_and_odd_strings_are_kept_exactly() {
    let w = world("");
    let texts = [
        "x".repeat(100_000),
        "NUL\u{0}inside, bell\u{7}, escape\u{1b}[31m".to_string(),
        "replacement \u{FFFD} and BOM \u{FEFF} and zero-width\u{200B}joiner".to_string(),
        "right-to-left \u{202E}gnp.exe and mark \u{200F}".to_string(),
        "astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🦀👩‍👩‍👧‍👦".to_string(),
        "back\\slash \\u0041 not an escape".to_string(),
    ];
    w.server().update_org(|o| {
        for (u, t) in o.users.iter_mut().zip(&texts) {
            u.first_name = Some(t.clone());
        }
        for (g, t) in o.groups.iter_mut().skip(2).zip(&texts) {
            g.name = t.clone();
        }
        for (a, t) in o.apps.iter_mut().zip(&texts) {
            a.name = t.clone();
        }
    });
    let meta = survive(&w, &[], "odd strings");
    let state = w.store().state_at(meta.id).expect("state");
    assert_same_state(&state, &w.expected(), "odd strings");
    for t in &texts {
        assert!(state.users.iter().any(|u| u.first_name.as_ref() == Some(t)));
        assert!(state.apps.iter().any(|a| &a.name == t));
    }
}

/// Text that is not valid Unicode (bytes that are not UTF-8, or a lone UTF-16
/// surrogate escape as JavaScript writes for a string cut inside an emoji) is
/// kept as U+FFFD rather than failing every nightly run on one name.
#[test]
fn text_that_is_not_unicode_is_kept_as_replacement_characters() {
    for (spec, prefix) in [
        ("bad-utf8:path=/users", "\u{FFFD}\u{FFFD}"),
        ("lone-surrogate:path=/users", "\u{FFFD}"),
    ] {
        let w = world(spec);
        // The fault hits the first user of each page (100 a page).
        let firsts: Vec<String> = w
            .server()
            .with_org(|o| o.users.iter().step_by(100).map(|u| u.id.clone()).collect());
        let mut want = w.expected();
        for u in want.users.iter_mut().filter(|u| firsts.contains(&u.id.0)) {
            u.first_name = u.first_name.as_ref().map(|n| format!("{prefix}{n}"));
        }
        let meta = survive(&w, PAGED, spec);
        let state = w.store().state_at(meta.id).expect("state");
        assert_same_state(&typed(&state), &typed(&want), spec);
    }
}

// -------------------------------------------------------------- failed cleanly

/// Takes a clean snapshot, then runs against a server with `faults`: the run
/// must fail with exit 1 naming `needles`, write nothing, log the attempt, and
/// leave the earlier history byte for byte as it was.
#[track_caller]
fn fails_cleanly(faults: &str, extra: &[&str], needles: &[&str]) -> Run {
    let clean = world("");
    clean.snapshot(&[]).ok();
    let faulty = world(faults);
    let before_sha = clean.store().snapshot(1).expect("snapshot 1").sha256;
    let before_state = clean.store().state_at(1).expect("state 1");
    let base = faulty.base_url();
    let mut args = vec!["snapshot", "--base-url", base.as_str()];
    args.extend_from_slice(extra);
    let failed = run(retool_audit(&clean.db).args(&args));
    failed.fails_with(1).stderr_has("nothing was written");
    for needle in needles {
        failed.stderr_has(needle);
    }
    assert!(
        !failed.stderr.contains("panicked"),
        "{faults}: {}",
        failed.stderr
    );
    let store = clean.store();
    let metas = store.snapshots(None).expect("snapshots");
    assert_eq!(metas.len(), 1, "{faults}: no new snapshot");
    assert_eq!(
        metas[0].sha256, before_sha,
        "{faults}: snapshot 1 untouched"
    );
    assert_eq!(store.state_at(1).expect("state"), before_state);
    let runs = store.runs(None).expect("runs");
    assert_eq!(runs.len(), 2, "{faults}: the failed attempt is logged");
    let last = runs
        .iter()
        .find(|r| r.status == "failed")
        .expect("failed run");
    let error = last.error.as_deref().unwrap_or("");
    assert!(error.contains(needles[0]), "{faults}: logged error {error}");
    drop(store);
    clean.run(&["verify"]).ok();
    failed
}

#[test]
fn total_count_that_disagrees_with_the_records_fails_naming_the_endpoint() {
    fails_cleanly(
        "wrong-total",
        &[],
        &["GET /users", "reported a total of 151"],
    );
}

#[test]
fn missing_page_items_fail_naming_the_endpoint() {
    fails_cleanly(
        "missing-items",
        PAGED,
        &[
            "GET /users",
            "returned 149 records but reported a total of 150",
        ],
    );
}

#[test]
fn a_looping_next_token_fails_naming_the_endpoint() {
    fails_cleanly("loop-token", PAGED, &["GET /users", "looping"]);
}

#[test]
fn an_empty_next_token_with_more_pages_fails_naming_the_endpoint() {
    fails_cleanly("empty-token", PAGED, &["GET /users", "no next_token"]);
}

#[test]
fn a_wrong_type_fails_naming_the_endpoint_and_the_field() {
    fails_cleanly(
        "wrong-type:path=/users",
        &[],
        &["GET /users", "data[0].active", "expected a boolean"],
    );
}

#[test]
fn a_non_json_body_with_status_200_fails_naming_the_endpoint() {
    fails_cleanly(
        "garbage:path=/groups",
        &[],
        &["GET /groups", "not valid JSON"],
    );
}

#[test]
fn persistent_transient_faults_fail_after_the_retry_budget() {
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "429x50",
            &["--max-retries", "2"],
            &["429", "after 3 attempts"],
        ),
        (
            "500x50:path=/apps",
            &["--max-retries", "1"],
            &["GET /apps", "HTTP 500"],
        ),
        (
            "resetx50:path=/users",
            &["--max-retries", "1"],
            &["GET /users", "network error"],
        ),
        (
            "truncatex50:path=/groups",
            &["--max-retries", "1"],
            &["GET /groups", "truncated"],
        ),
        (
            "non-jsonx50:path=/users",
            &["--max-retries", "1"],
            &["GET /users", "HTML page"],
        ),
        (
            "slow=5sx50:path=/folders",
            &["--max-retries", "1", "--timeout", "1"],
            &["GET /folders", "no response within the request timeout"],
        ),
    ];
    for (spec, extra, needles) in cases {
        fails_cleanly(spec, extra, needles);
    }
}

/// Retries are retried as before, but warned about once per endpoint and
/// cause; `-v` shows every attempt.
#[test]
fn retries_are_warned_once_per_endpoint_and_cause() {
    let w = world("503x3:path=/apps,429x2:path=/folders");
    let retry_lines = |run: &Run, endpoint: &str| {
        run.stderr
            .lines()
            .filter(|l| l.contains("retrying Retool request") && l.contains(endpoint))
            .count()
    };
    let quiet = w.snapshot(&[]);
    quiet.ok();
    assert_eq!(retry_lines(&quiet, "GET /apps"), 1, "{}", quiet.stderr);
    assert_eq!(retry_lines(&quiet, "GET /folders"), 1, "{}", quiet.stderr);
    assert_eq!(
        quiet.stderr.matches("WARN").count(),
        2,
        "one warning per endpoint and cause: {}",
        quiet.stderr
    );

    let w = world("503x3:path=/apps,429x2:path=/folders");
    let verbose = run(w
        .cmd()
        .args(["-v", "snapshot", "--base-url", &w.base_url()]));
    verbose.ok();
    assert_eq!(retry_lines(&verbose, "GET /apps"), 3, "{}", verbose.stderr);
    assert_eq!(
        retry_lines(&verbose, "GET /folders"),
        2,
        "{}",
        verbose.stderr
    );
}
