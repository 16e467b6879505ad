//! `review status` and `review plan` end to end: campaigns built through the
//! library on real snapshots of the simulated Retool, changes made to the
//! simulated org (directly, or by carrying out the plan's calls over HTTP),
//! new snapshots, and the evidence report read back as CSV, XLSX, HTML and JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use calamine::{Data, Reader, Xlsx, open_workbook};
use chrono::Utc;
use retool_audit::fake::FakeOrg;
use retool_audit::model::{
    AccessLevel, Grant, GroupId, ObjectType, OrgState, Subject, User, UserId,
};
use retool_audit::review::{
    Campaign, Decision, DecisionInput, ItemKind, NewCampaign, ReviewItem, ReviewerBy,
};

use crate::common::{TOKEN, World, csv_maps};

/// A population row with a one-cell context.
fn row(key: String, kind: ItemKind, user: &User) -> ReviewItem {
    ReviewItem {
        key,
        kind,
        user_id: user.id.clone(),
        email: user.email.clone(),
        group_id: None,
        is_group_admin: None,
        object: None,
        access_level: None,
        workbook: "all".into(),
        context: vec![("email".into(), user.email.clone())],
        suggested: None,
        suggested_reason: None,
    }
}

/// Every membership and direct grant of `state`, plus an account row per
/// user (what `review start` freezes, give or take context).
fn population(state: &OrgState) -> Vec<ReviewItem> {
    let mut items = Vec::new();
    for m in &state.memberships {
        let u = state.user(&m.user_id).expect("member is a user");
        let mut i = row(
            ReviewItem::membership_key(m.group_id, &m.user_id),
            ItemKind::Membership,
            u,
        );
        i.group_id = Some(m.group_id);
        i.is_group_admin = Some(m.is_group_admin);
        items.push(i);
    }
    for g in &state.grants {
        if let Subject::User(uid) = &g.subject {
            let u = state.user(uid).expect("grantee is a user");
            let mut i = row(
                ReviewItem::direct_grant_key(uid, &g.object),
                ItemKind::DirectGrant,
                u,
            );
            i.object = Some(g.object.clone());
            i.access_level = Some(g.level);
            items.push(i);
        }
    }
    for u in &state.users {
        items.push(row(ReviewItem::account_key(&u.id), ItemKind::Account, u));
    }
    items
}

fn start_campaign(w: &World, name: &str) -> (Campaign, OrgState) {
    let mut store = w.store();
    let snap = store
        .resolve(None, &retool_audit::store::SnapshotSelector::Latest)
        .unwrap();
    let state = store.state_at(snap.id).unwrap();
    let new = NewCampaign {
        org: snap.org.clone(),
        name: name.into(),
        snapshot_id: snap.id,
        snapshot_sha256: snap.sha256.clone(),
        created_at: Utc::now(),
        reviewer_by: ReviewerBy::Single,
        settings: serde_json::json!({"inactive_days": 90}),
    };
    let c = store.create_campaign(&new, &population(&state)).unwrap();
    (c, state)
}

fn decide(w: &World, c: &Campaign, decisions: &[(String, Decision, &str, &str)], file: &str) {
    let inputs: Vec<DecisionInput> = decisions
        .iter()
        .map(|(key, decision, reason, reviewer)| DecisionInput {
            key: key.clone(),
            decision: *decision,
            reason: (!reason.is_empty()).then(|| reason.to_string()),
            reviewer: Some(reviewer.to_string()),
            reviewed_at: Some("2026-11-21".into()),
            source_file: file.into(),
            source_sha256: format!("sha-of-{file}"),
        })
        .collect();
    w.store()
        .import_decisions(c.id, &inputs, Utc::now())
        .unwrap();
}

/// Memberships of team groups whose user is in no other group but All Users,
/// not an admin, with no direct grant: removing one leaves nothing the group
/// brought, so its revocation is plainly `done`.
fn simple_memberships(state: &OrgState) -> Vec<(GroupId, UserId)> {
    let mut groups: BTreeMap<&UserId, Vec<GroupId>> = BTreeMap::new();
    for m in &state.memberships {
        groups.entry(&m.user_id).or_default().push(m.group_id);
    }
    let direct: BTreeSet<&UserId> = state
        .grants
        .iter()
        .filter_map(|g| match &g.subject {
            Subject::User(u) => Some(u),
            Subject::Group(_) => None,
        })
        .collect();
    state
        .memberships
        .iter()
        .filter(|m| m.group_id.0 >= 3 && !m.is_group_admin)
        .filter(|m| groups.get(&m.user_id).is_some_and(|g| g.len() == 2))
        .filter(|m| !direct.contains(&m.user_id))
        .filter(|m| {
            state
                .user(&m.user_id)
                .is_some_and(|u| u.active && !u.is_admin)
        })
        .map(|m| (m.group_id, m.user_id.clone()))
        .collect()
}

fn mkey(g: GroupId, u: &UserId) -> String {
    ReviewItem::membership_key(g, u)
}

fn by_key(rows: Vec<BTreeMap<String, String>>) -> BTreeMap<String, BTreeMap<String, String>> {
    rows.into_iter()
        .map(|r| (r["row_key"].clone(), r))
        .collect()
}

fn find_file(dir: &Path, ext: &str) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == ext))
        .unwrap_or_else(|| panic!("a .{ext} file in {}", dir.display()))
}

#[test]
fn status_follows_the_history_done_pending_regranted_and_partial() {
    let w = World::demo();
    w.snapshot(&[]).ok();
    let (c, s1) = start_campaign(&w, "2026-Q4");
    let simple = simple_memberships(&s1);
    assert!(
        simple.len() >= 4,
        "the demo org has plain members: {simple:?}"
    );
    let (a, b, cc, d) = (&simple[0], &simple[1], &simple[2], &simple[3]);
    // P: a membership of a group that brings an app at edit or own, of a
    // plain user; they will get a direct grant on that app after removal.
    let index = retool_audit::analyze::AccessIndex::new(&s1);
    let (p, app) = simple[4..]
        .iter()
        .find_map(|(g, u)| {
            index
                .objects_of_group(*g, AccessLevel::Edit)
                .into_iter()
                .find(|(o, _)| o.object_type == ObjectType::App)
                .map(|(o, _)| ((*g, u.clone()), o))
        })
        .expect("a plain member of a group that brings an app at edit");
    let revoke: Vec<(String, Decision, &str, &str)> = [a, b, cc, d, &p]
        .iter()
        .map(|(g, u)| {
            (
                mkey(*g, u),
                Decision::Revoke,
                "no longer needed",
                "rita@example.com",
            )
        })
        .collect();
    decide(&w, &c, &revoke, "review_all.xlsx");

    // No snapshot since the campaign: everything pending, exit 0.
    let run = w.run(&["review", "status"]);
    run.ok();
    assert!(
        run.stdout
            .contains("5 revoke, 0 modify: 0 done, 0 partially done, 5 pending"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("no snapshot since the campaign"),
        "{}",
        run.stdout
    );

    // Snapshot 2: A, B, C and P removed; P gets a direct edit grant on the app.
    w.server().update_org(|o: &mut FakeOrg| {
        for (g, u) in [a, b, cc, &p] {
            assert!(o.revoke_membership(*g, u));
        }
        o.grants.push(Grant {
            subject: Subject::User(p.1.clone()),
            object: app.clone(),
            level: AccessLevel::Edit,
        });
    });
    w.snapshot(&[]).ok();
    // Snapshot 3: C is back.
    w.server()
        .update_org(|o| assert!(o.set_member(cc.0, &cc.1, false)));
    w.snapshot(&[]).ok();
    let snaps = w.store().snapshots(None).unwrap();
    let (s2, s3) = (&snaps[1], &snaps[2]);

    let out = w.path("evidence");
    w.run(&[
        "review",
        "status",
        "--campaign",
        "2026-Q4",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv",
    ])
    .ok();
    let rem = by_key(csv_maps(&out, "review_remediation"));
    assert_eq!(rem.len(), 5);
    for x in [a, b] {
        let r = &rem[&mkey(x.0, &x.1)];
        assert_eq!(r["status"], "done", "{r:?}");
        assert_eq!(r["proof_snapshot_id"], s2.id.to_string());
        assert_eq!(r["proof_snapshot_sha256"], s2.sha256);
    }
    let r = &rem[&mkey(cc.0, &cc.1)];
    assert_eq!(
        (r["status"].as_str(), r["proof_snapshot_id"].clone()),
        ("pending", s3.id.to_string())
    );
    assert!(
        r["detail"].contains(&format!("re-granted in snapshot {}", s3.id)),
        "{r:?}"
    );
    let r = &rem[&mkey(d.0, &d.1)];
    assert_eq!(r["status"], "pending");
    assert!(r["detail"].starts_with("still a member"), "{r:?}");
    let r = &rem[&mkey(p.0, &p.1)];
    assert_eq!(r["status"], "partially done", "{r:?}");
    let app_name = s1
        .apps
        .iter()
        .find(|x| x.id == app.id)
        .unwrap()
        .name
        .clone();
    assert!(
        r["detail"].contains(&app_name) && r["detail"].contains("via direct"),
        "{r:?}"
    );

    // The plan: DELETE for the pending ones, a manual step for P, nothing for done.
    let plan = w.run(&["review", "plan", "--format", "json"]);
    plan.ok();
    let entries: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let keys: BTreeSet<String> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["row_key"].as_str().unwrap().to_string())
        .collect();
    let want: BTreeSet<String> = [cc, d, &p].iter().map(|(g, u)| mkey(*g, u)).collect();
    assert_eq!(keys, want);
}

/// Decisions of every kind the plan can carry out, on snapshot 1.
fn plan_campaign(w: &World, reason: &str, reviewer: &str) -> Vec<String> {
    let (c, s1) = start_campaign(w, "2026-Q4");
    let simple = simple_memberships(&s1);
    let admin = s1
        .memberships
        .iter()
        .find(|m| m.group_id.0 >= 3 && m.is_group_admin)
        .expect("a group admin");
    let direct = s1
        .grants
        .iter()
        .find(|g| matches!(g.subject, Subject::User(_)) && g.object.object_type == ObjectType::App)
        .expect("a direct app grant");
    let Subject::User(grantee) = &direct.subject else {
        unreachable!()
    };
    let account = s1
        .users
        .iter()
        .find(|u| u.active && !u.is_admin && !simple.iter().any(|(_, x)| x == &u.id))
        .expect("an active user");
    let mut decisions: Vec<(String, Decision, &str, &str)> = simple[..3]
        .iter()
        .map(|(g, u)| (mkey(*g, u), Decision::Revoke, reason, reviewer))
        .collect();
    decisions.push((
        mkey(admin.group_id, &admin.user_id),
        Decision::Modify,
        reason,
        reviewer,
    ));
    decisions.push((
        ReviewItem::direct_grant_key(grantee, &direct.object),
        Decision::Revoke,
        reason,
        reviewer,
    ));
    decisions.push((
        ReviewItem::account_key(&account.id),
        Decision::Revoke,
        reason,
        reviewer,
    ));
    decisions.push((
        mkey(simple[3].0, &simple[3].1),
        Decision::Keep,
        "",
        reviewer,
    ));
    decide(w, &c, &decisions, "review_all.xlsx");
    decisions
        .iter()
        .filter(|d| d.1 != Decision::Keep)
        .map(|d| d.0.clone())
        .collect()
}

#[test]
fn carrying_out_the_plan_json_over_http_makes_every_row_done() {
    let w = World::demo();
    w.snapshot(&[]).ok();
    let keys = plan_campaign(&w, "left the team", "rita@example.com");
    let dir = w.path("plan");
    let run = w.run(&["review", "plan", "--out", dir.to_str().unwrap()]);
    run.ok();
    assert!(
        run.stdout.contains("6 API call(s), 0 manual step(s)"),
        "{}",
        run.stdout
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap();
    let entries = json.as_array().unwrap();
    let got: BTreeSet<String> = entries
        .iter()
        .map(|e| e["row_key"].as_str().unwrap().into())
        .collect();
    assert_eq!(got, keys.iter().cloned().collect());
    let methods: Vec<&str> = entries
        .iter()
        .map(|e| e["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods.iter().filter(|m| **m == "DELETE").count(), 3);
    assert_eq!(methods.iter().filter(|m| **m == "PATCH").count(), 1);
    assert_eq!(methods.iter().filter(|m| **m == "POST").count(), 2);
    let script = std::fs::read_to_string(dir.join("plan.sh")).unwrap();
    assert!(!script.contains(TOKEN) && !json.to_string().contains(TOKEN));

    // Carry out the calls as an operator's tool would.
    let base = w.base_url();
    w.rt.block_on(async {
        let client = reqwest::Client::new();
        for e in entries {
            let method: reqwest::Method = e["method"].as_str().unwrap().parse().unwrap();
            let url = format!("{base}{}", e["path"].as_str().unwrap());
            let mut req = client.request(method, &url).bearer_auth(TOKEN);
            if !e["body"].is_null() {
                req = req.json(&e["body"]);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status();
            assert!(
                status.is_success(),
                "{url}: {status} {}",
                resp.text().await.unwrap_or_default()
            );
        }
    });
    w.snapshot(&[]).ok();
    let latest = w.store().snapshots(None).unwrap().pop().unwrap();

    let out = w.path("evidence");
    let run = w.run(&[
        "review",
        "status",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    run.ok();
    assert!(
        run.stdout.contains("6 done, 0 partially done, 0 pending"),
        "{}",
        run.stdout
    );
    let rem = csv_maps(&out, "review_remediation");
    assert_eq!(rem.len(), 6);
    for r in &rem {
        assert_eq!(r["status"], "done", "{r:?}");
        assert_eq!(r["proof_snapshot_id"], latest.id.to_string());
    }
    // Nothing left to plan.
    let plan = w.run(&["review", "plan", "--format", "json"]);
    assert_eq!(plan.ok().stdout.trim(), "[]");
}

#[test]
fn the_plan_script_runs_with_bash_and_curl_and_hostile_text_stays_text() {
    for tool in ["bash", "curl"] {
        if std::process::Command::new(tool)
            .arg("--version")
            .output()
            .is_err()
        {
            crate::common::skip_or_fail(
                "the_plan_script_runs_with_bash_and_curl",
                &format!("`{tool}` is not installed"),
                "install bash and curl (.ci/run does this as root)",
            );
            return;
        }
    }
    let w = World::demo();
    w.snapshot(&[]).ok();
    let marker = w.path("pwned");
    let m = marker.display();
    let reason = format!("'; touch {m}1 # $(touch {m}2) `touch {m}3`\ntouch {m}4");
    let reviewer = format!("\"; touch {m}5; echo \"");
    plan_campaign(&w, &reason, &reviewer);
    let dir = w.path("plan");
    w.run(&["review", "plan", "--out", dir.to_str().unwrap()])
        .ok();
    let script = dir.join("plan.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .env("RETOOL_BASE_URL", format!("{}/", w.base_url()))
        .env("RETOOL_API_TOKEN", TOKEN)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "plan.sh failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stderr.contains("every call succeeded"), "{stderr}");
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
    for i in 1..=5 {
        assert!(
            !Path::new(&format!("{m}{i}")).exists(),
            "hostile text ran: {m}{i}"
        );
    }
    // Without the environment the script refuses before any call.
    let before = w.server().request_count();
    let out = std::process::Command::new("bash")
        .arg(&script)
        .env_remove("RETOOL_API_TOKEN")
        .env("RETOOL_BASE_URL", w.base_url())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("RETOOL_API_TOKEN"));
    assert_eq!(w.server().request_count(), before);

    w.snapshot(&[]).ok();
    let run = w.run(&["review", "status"]);
    assert!(
        run.ok()
            .stdout
            .contains("6 done, 0 partially done, 0 pending"),
        "{}",
        run.stdout
    );
}

fn xlsx_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}

#[test]
fn the_evidence_report_in_every_format_carries_decisions_proof_and_completeness() {
    let w = World::demo();
    w.snapshot(&[]).ok();
    let (c, s1) = start_campaign(&w, "2026-Q4");
    let simple = simple_memberships(&s1);
    let hostile_reason = "=HYPERLINK(\"http://evil.example\",\"click\")";
    let hostile_reviewer = "<script>alert(1)</script>";
    let (g0, u0) = &simple[0];
    let (g1, u1) = &simple[1];
    decide(
        &w,
        &c,
        &[
            (mkey(*g0, u0), Decision::Keep, "", "rita@example.com"),
            (
                mkey(*g1, u1),
                Decision::Revoke,
                hostile_reason,
                hostile_reviewer,
            ),
        ],
        "first.xlsx",
    );
    // A second import changes the first decision: the old one is kept as superseded.
    decide(
        &w,
        &c,
        &[(
            mkey(*g0, u0),
            Decision::Revoke,
            "changed my mind",
            "rita@example.com",
        )],
        "second.xlsx",
    );
    w.server()
        .update_org(|o| assert!(o.revoke_membership(*g0, u0)));
    w.snapshot(&[]).ok();
    let latest = w.store().snapshots(None).unwrap().pop().unwrap();

    let out = w.path("evidence");
    w.run(&[
        "review",
        "status",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv,xlsx,html,json",
    ])
    .ok();

    // CSV
    let population = csv_maps(&out, "review_population");
    assert_eq!(population.len(), c.items);
    let decisions = csv_maps(&out, "review_decisions");
    assert_eq!(decisions.len(), 3, "every decision ever imported");
    let superseded: Vec<_> = decisions
        .iter()
        .filter(|d| d["current"] == "false")
        .collect();
    assert_eq!(superseded.len(), 1);
    assert_eq!(
        (
            superseded[0]["decision"].as_str(),
            superseded[0]["source_file"].as_str()
        ),
        ("keep", "first.xlsx")
    );
    assert!(!superseded[0]["superseded_by"].is_empty());
    let hostile_row = decisions
        .iter()
        .find(|d| d["row_key"] == mkey(*g1, u1))
        .unwrap();
    assert_eq!(
        hostile_row["reason"],
        format!("'{hostile_reason}"),
        "neutralized in CSV"
    );
    let rem = by_key(csv_maps(&out, "review_remediation"));
    assert_eq!(rem[&mkey(*g0, u0)]["status"], "done");
    assert_eq!(rem[&mkey(*g1, u1)]["status"], "pending");
    let completeness = csv_maps(&out, "review_completeness");
    let campaign = completeness
        .iter()
        .find(|r| r["scope"] == "campaign")
        .unwrap();
    assert_eq!(campaign["rows"], c.items.to_string());
    assert_eq!(campaign["decided"], "2");
    assert_eq!(campaign["undecided"], (c.items - 2).to_string());
    assert_eq!(
        (
            campaign["revoke"].as_str(),
            campaign["done"].as_str(),
            campaign["pending"].as_str()
        ),
        ("2", "1", "1")
    );
    let reviewers: BTreeSet<&str> = completeness
        .iter()
        .filter(|r| r["scope"] == "reviewer")
        .map(|r| r["name"].as_str())
        .collect();
    assert_eq!(
        reviewers,
        ["rita@example.com", hostile_reviewer].into_iter().collect()
    );

    // XLSX: the same rows, no formulas, the evidence sheet names hashes and proof.
    let mut wb: Xlsx<_> = open_workbook(find_file(&out, "xlsx")).unwrap();
    let range = wb.worksheet_range("review_decisions").unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(xlsx_text).collect())
        .collect();
    assert_eq!(rows.len(), 4);
    // The value itself (the XLSX holds formula-like text as text by style).
    assert!(rows.iter().flatten().any(|c| c == hostile_reason));
    let formulas = wb.worksheet_formula("review_decisions").unwrap();
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no formula in the workbook"
    );
    let evidence: String = wb
        .worksheet_range("Evidence")
        .unwrap()
        .rows()
        .flat_map(|r| r.iter().map(xlsx_text).collect::<Vec<_>>())
        .collect::<Vec<_>>()
        .join("\n");
    for needle in [
        &c.population_sha256,
        &c.snapshot_sha256,
        &latest.sha256,
        &c.name,
    ] {
        assert!(
            evidence.contains(needle.as_str()),
            "evidence lacks {needle}"
        );
    }
    assert!(!evidence.contains(TOKEN));

    // HTML: hostile reviewer text is text.
    let html = std::fs::read_to_string(find_file(&out, "html")).unwrap();
    assert!(!html.contains("<script>alert"));
    let doc = scraper::Html::parse_document(&html);
    let sel = scraper::Selector::parse("#t-review_decisions tbody tr").unwrap();
    let text: Vec<String> = doc.select(&sel).map(|tr| tr.text().collect()).collect();
    assert_eq!(text.len(), 3);
    assert!(
        text.iter().any(|t| t.contains(hostile_reviewer)),
        "{text:?}"
    );
    let sel = scraper::Selector::parse("#t-review_remediation tbody tr").unwrap();
    assert_eq!(doc.select(&sel).count(), 2);

    // JSON: every table.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let names: Vec<&str> = json["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "review_population",
            "review_decisions",
            "review_remediation",
            "review_completeness"
        ]
    );

    // The evidence travels like a report's: a manifest naming the campaign's
    // snapshot and the later ones it was judged on, which verify-report checks
    // against the history.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["kind"], "review evidence");
    assert_eq!(manifest["parameters"]["campaign"], c.name.as_str());
    let snapshots = manifest["snapshots"].as_array().unwrap();
    assert_eq!(snapshots[0]["role"], "campaign");
    assert_eq!(snapshots[0]["id"], c.snapshot_id);
    let last = snapshots.last().unwrap();
    assert_eq!(
        (last["id"].as_i64(), last["sha256"].as_str()),
        (Some(latest.id), Some(latest.sha256.as_str()))
    );
    let verified = w.run(&["verify-report", out.to_str().unwrap()]);
    verified.ok();
    assert!(
        verified.stdout.contains("the hash chain verifies"),
        "{}",
        verified.stdout
    );
}

#[test]
fn missing_campaigns_and_bad_formats_are_usage_errors() {
    let w = World::demo();
    w.run(&["review", "status"]).fails_with(2);
    w.snapshot(&[]).ok();
    w.run(&["review", "status"])
        .fails_with(2)
        .stderr_has("no review campaign");
    w.run(&["review", "plan"])
        .fails_with(2)
        .stderr_has("review start");
    start_campaign(&w, "2026-Q4");
    w.run(&["review", "status", "--campaign", "2025-Q1"])
        .fails_with(2)
        .stderr_has("2026-Q4");
    let out = w.path("ev");
    w.run(&[
        "review",
        "status",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "pdf",
    ])
    .fails_with(2)
    .stderr_has("pdf");
    assert!(!out.exists(), "nothing written");
    w.run(&["review", "status", "--sign-key", "audit.key"])
        .fails_with(2)
        .stderr_has("give --out DIR too");
    w.run(&[
        "review",
        "status",
        "--out",
        out.to_str().unwrap(),
        "--sign-key",
        w.path("missing.key").to_str().unwrap(),
    ])
    .fails_with(2)
    .stderr_has("cannot read the signing key");
    assert!(!out.exists(), "nothing written");
    w.run(&["review", "status"]).ok();
}

/// The loop the issue asks for: `review start` on snapshot 1, decisions typed
/// into the generated workbook, `review import`, half of the revocations
/// carried out (the plan's own calls, over HTTP), snapshot 2, and `review
/// status` reports exactly those as done and the rest as pending.
#[test]
fn the_whole_review_loop_on_the_simulated_org() {
    use crate::common::{CellValue, decision_cells, fill_review, review_layout};
    let w = World::demo();
    w.snapshot(&[]).ok();
    let s1 = w.store().state_at(1).unwrap();
    let dir = w.path("q4");
    w.run(&[
        "review",
        "start",
        "--out",
        dir.to_str().unwrap(),
        "--name",
        "2026-Q4",
    ])
    .ok();
    let book = dir.join("review-2026-Q4-all.xlsx");
    let layout = review_layout(&book);

    let revoke: Vec<String> = simple_memberships(&s1)
        .iter()
        .take(6)
        .map(|(g, u)| mkey(*g, u))
        .collect();
    assert_eq!(revoke.len(), 6);
    let keep: Vec<String> = layout
        .rows
        .keys()
        .filter(|k| !revoke.contains(k))
        .take(4)
        .cloned()
        .collect();
    let mut fills: Vec<(&str, Vec<(&str, CellValue)>)> = Vec::new();
    for k in &revoke {
        fills.push((
            k.as_str(),
            decision_cells(
                "revoke",
                "no longer on the team",
                "rita@example.com",
                CellValue::Text("2026-11-21".into()),
            ),
        ));
    }
    for k in &keep {
        fills.push((
            k.as_str(),
            decision_cells("keep", "", "sam@example.com", CellValue::Number(46347.0)),
        ));
    }
    fill_review(&book, &fills);
    let run = w.run(&["review", "import", book.to_str().unwrap()]);
    assert!(
        run.ok().stdout.contains("imported: 10 new"),
        "{}",
        run.stdout
    );

    // Carry out half of the revocations with the plan's calls.
    let plan = w.run(&["review", "plan", "--format", "json"]);
    let entries: serde_json::Value = serde_json::from_str(&plan.ok().stdout).unwrap();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 6);
    let (applied, left): (Vec<_>, Vec<_>) =
        entries.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let base = w.base_url();
    w.rt.block_on(async {
        let client = reqwest::Client::new();
        for (_, e) in &applied {
            assert_eq!(e["method"], "DELETE");
            let url = format!("{base}{}", e["path"].as_str().unwrap());
            let resp = client.delete(&url).bearer_auth(TOKEN).send().await.unwrap();
            assert!(resp.status().is_success(), "{url}: {}", resp.status());
        }
    });
    w.snapshot(&[]).ok();
    let s2 = w.store().snapshots(None).unwrap().pop().unwrap();

    let out = w.path("evidence");
    let run = w.run(&["review", "status", "--out", out.to_str().unwrap()]);
    assert!(
        run.ok()
            .stdout
            .contains("6 revoke, 0 modify: 3 done, 0 partially done, 3 pending"),
        "{}",
        run.stdout
    );
    let rem = by_key(csv_maps(&out, "review_remediation"));
    let key = |e: &serde_json::Value| e["row_key"].as_str().unwrap().to_string();
    let done: BTreeSet<String> = rem
        .values()
        .filter(|r| r["status"] == "done")
        .map(|r| r["row_key"].clone())
        .collect();
    let pending: BTreeSet<String> = rem
        .values()
        .filter(|r| r["status"] == "pending")
        .map(|r| r["row_key"].clone())
        .collect();
    assert_eq!(done, applied.iter().map(|(_, e)| key(e)).collect());
    assert_eq!(pending, left.iter().map(|(_, e)| key(e)).collect());
    for r in rem.values() {
        assert_eq!(r["proof_snapshot_id"], s2.id.to_string());
        assert_eq!(r["reviewer"], "rita@example.com");
    }
    let population = csv_maps(&out, "review_population");
    let decided = population
        .iter()
        .filter(|r| !r["decision"].is_empty())
        .count();
    assert_eq!(decided, 10);
    let completeness = csv_maps(&out, "review_completeness");
    let all = completeness
        .iter()
        .find(|r| r["scope"] == "campaign")
        .unwrap();
    assert_eq!(
        (
            all["decided"].as_str(),
            all["done"].as_str(),
            all["pending"].as_str()
        ),
        ("10", "3", "3")
    );
    assert!(find_file(&out, "xlsx").exists() && find_file(&out, "html").exists());
}
