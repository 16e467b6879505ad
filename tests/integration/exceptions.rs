//! The auditor's tables (issue 14): `exceptions` — the rows of the demo org after its
//! scripted day equal what the org, the day's changes and the roster imply,
//! each with its severity; `--fail-on severity>=…` turns them into exit 3;
//! every collected count reconciles with a table; `object_access` lists every
//! group that reaches an object.

use std::collections::BTreeSet;

use retool_audit::model::UserId;

use crate::common::{World, csv_maps};

type Key = (String, String, String);

#[test]
fn the_demo_s_exceptions_are_what_the_org_its_changes_and_the_roster_imply() {
    let w = World::demo();
    w.snapshot(&[]).ok();
    let changes = w.server().update_org(|o| o.apply_scripted_changes());
    w.snapshot(&[]).ok();
    let s = w.expected();

    // The roster leaves out one group admin (not an org admin), one plain
    // active user, and one of the users the day re-enabled.
    let group_admins: BTreeSet<&UserId> = s
        .memberships
        .iter()
        .filter(|m| m.is_group_admin)
        .map(|m| &m.user_id)
        .collect();
    let active = |id: &UserId| s.user(id).is_some_and(|u| u.active);
    let admin_off = *group_admins
        .iter()
        .find(|id| active(id) && s.user(id).is_some_and(|u| !u.is_admin))
        .expect("an active group admin");
    let plain_off = s
        .users
        .iter()
        .find(|u| u.active && !u.is_admin && !group_admins.contains(&u.id))
        .map(|u| &u.id)
        .expect("a plain active user");
    let reenabled = changes
        .re_enabled_users
        .first()
        .expect("the day re-enables a user");
    let off: BTreeSet<&UserId> = [admin_off, plain_off, reenabled].into_iter().collect();
    let mut roster = String::from("email\n");
    for u in s.users.iter().filter(|u| !off.contains(&u.id)) {
        roster.push_str(&format!("{}\n", u.email));
    }
    std::fs::write(w.path("roster.csv"), roster).unwrap();
    let out = w.path("out");
    let roster_path = w.path("roster.csv");
    let run = w.run(&[
        "report",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv",
        "--roster",
        roster_path.to_str().unwrap(),
        "--fail-on",
        "severity>=critical",
    ]);
    run.fails_with(3).stderr_has("severity>=critical");
    let rows = csv_maps(&out, "exceptions");
    let got = |findings: &[&str]| -> BTreeSet<Key> {
        rows.iter()
            .filter(|r| findings.contains(&r["finding"].as_str()))
            .map(|r| {
                (
                    r["severity"].clone(),
                    r["finding"].clone(),
                    r["user_id"].clone(),
                )
            })
            .collect()
    };
    let key = |sev: &str, finding: &str, id: &UserId| -> Key {
        (sev.to_string(), finding.to_string(), id.0.clone())
    };
    let email_of = |id: &UserId| s.user(id).map(|u| u.email.clone()).unwrap_or_default();

    // Off the roster: privileged (critical), re-enabled (critical), others (high).
    let mut want = BTreeSet::new();
    want.insert(key("critical", "privileged_not_on_roster", admin_off));
    want.insert(key("critical", "reenabled_not_on_roster", reenabled));
    for id in &off {
        if active(id) {
            want.insert(key("high", "not_on_roster", id));
        }
    }
    for id in changes
        .re_enabled_users
        .iter()
        .filter(|id| !off.contains(id))
    {
        want.insert(key("high", "reenabled_user", id));
    }
    assert_eq!(
        got(&[
            "privileged_not_on_roster",
            "reenabled_not_on_roster",
            "not_on_roster",
            "reenabled_user"
        ]),
        want
    );
    // One privileged_not_on_roster row per group the left-out admin runs.
    let admin_rows = rows
        .iter()
        .filter(|r| r["finding"] == "privileged_not_on_roster")
        .count();
    let runs = s
        .memberships
        .iter()
        .filter(|m| m.is_group_admin && &m.user_id == admin_off)
        .count();
    assert_eq!(admin_rows, runs);

    // Disabled accounts: still admin (high), still in each non-default group
    // (medium, one row per group).
    let mut want = BTreeSet::new();
    let mut in_groups = 0;
    for u in s.users.iter().filter(|u| !u.active) {
        if u.is_admin {
            want.insert(key("high", "disabled_still_admin", &u.id));
        }
        let groups = s
            .memberships
            .iter()
            .filter(|m| m.user_id == u.id && m.group_id.0 != 1)
            .count();
        if groups > 0 {
            want.insert(key("medium", "disabled_still_in_groups", &u.id));
            in_groups += groups;
        }
    }
    assert_eq!(
        got(&["disabled_still_admin", "disabled_still_in_groups"]),
        want
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r["finding"] == "disabled_still_in_groups")
            .count(),
        in_groups
    );

    // Edit/own held by users who never signed in: only such users.
    let never: Vec<_> = rows
        .iter()
        .filter(|r| r["finding"] == "never_active_with_edit")
        .collect();
    assert!(!never.is_empty());
    for r in &never {
        let u = s.user(&UserId(r["user_id"].clone())).unwrap();
        assert!(u.active && u.last_active.is_none(), "{r:?}");
        assert_eq!(r["severity"], "high");
    }
    // Write-scoped tokens whose owner is disabled, gone or off the roster, and
    // invites carrying groups that have waited more than 30 days: from the
    // org's own tokens and invites.
    let by_legacy = s.users_by_legacy_id();
    let on_roster = |u: &retool_audit::model::User| !off.contains(&u.id);
    let token_owners: BTreeSet<String> = s
        .access_tokens
        .iter()
        .filter(|t| t.scopes.iter().any(|x| x.ends_with(":write")))
        .filter_map(|t| {
            let owner = t.owner_legacy_id.and_then(|l| by_legacy.get(&l));
            match owner {
                Some(u) if u.active && on_roster(u) => None,
                Some(u) => Some(u.id.0.clone()),
                None => Some(String::new()),
            }
        })
        .collect();
    assert!(
        !token_owners.is_empty(),
        "the demo org has a write token whose owner is gone"
    );
    let flagged: BTreeSet<String> = rows
        .iter()
        .filter(|r| r["finding"] == "write_token_owner_gone")
        .map(|r| {
            assert_eq!(r["severity"], "high");
            r["user_id"].clone()
        })
        .collect();
    assert_eq!(flagged, token_owners);
    let as_of = w
        .store()
        .snapshots(None)
        .unwrap()
        .last()
        .unwrap()
        .taken_at();
    let stale: BTreeSet<String> = s
        .user_invites
        .iter()
        .filter(|i| {
            i.claimed_by.is_none()
                && i.expires_at.is_some_and(|e| e > as_of)
                && !i.group_ids.is_empty()
                && i.created_at
                    .is_some_and(|c| c < as_of - chrono::Duration::days(30))
        })
        .map(|i| i.email.clone())
        .collect();
    assert!(!stale.is_empty(), "the demo org has a stale pending invite");
    let flagged: BTreeSet<String> = rows
        .iter()
        .filter(|r| r["finding"] == "stale_pending_invite")
        .map(|r| {
            assert_eq!(r["severity"], "medium");
            r["email"].clone()
        })
        .collect();
    assert_eq!(flagged, stale);

    // Privileged without a second factor: only users without one.
    for r in rows
        .iter()
        .filter(|r| r["finding"] == "privileged_without_2fa")
    {
        let u = s.user(&UserId(r["user_id"].clone())).unwrap();
        assert_eq!(u.two_factor_enabled, Some(false), "{r:?}");
    }
    // The organization's settings: 2FA not required is a high finding.
    let two_fa = s
        .settings
        .iter()
        .any(|x| x.name == "two_factor_auth_required" && x.value == "false");
    assert_eq!(
        rows.iter()
            .any(|r| r["finding"] == "two_factor_not_required" && r["severity"] == "high"),
        two_fa
    );

    // Every row: e-mail of its user, evidence naming the snapshot, an action;
    // most severe first.
    let order = ["critical", "high", "medium", "low"];
    let ranks: Vec<usize> = rows
        .iter()
        .map(|r| order.iter().position(|s| *s == r["severity"]).unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    for r in &rows {
        if !r["user_id"].is_empty() {
            let want = email_of(&UserId(r["user_id"].clone()));
            if !want.is_empty() {
                assert_eq!(
                    r["email"].trim_start_matches('\''),
                    want.trim_start_matches('\'')
                );
            }
        }
        assert!(r["evidence"].contains("snapshot"), "{r:?}");
        assert!(!r["recommended_action"].is_empty(), "{r:?}");
    }

    // With everyone on the roster there is nothing critical left.
    let mut full = String::from("email\n");
    for u in &s.users {
        full.push_str(&format!("{}\n", u.email));
    }
    std::fs::write(w.path("full.csv"), full).unwrap();
    let full_path = w.path("full.csv");
    let out2 = w.path("out2");
    w.run(&[
        "report",
        "--out",
        out2.to_str().unwrap(),
        "--format",
        "csv",
        "--roster",
        full_path.to_str().unwrap(),
        "--fail-on",
        "severity>=critical",
    ])
    .ok();
}

/// Every record count of the Evidence equals the rows of the table that lists
/// those records (issue 14, item 2), also when a kind was not collected.
#[test]
fn every_collected_count_reconciles_with_a_table() {
    let w = World::with_org(
        retool_audit::fake::OrgSpec::demo(crate::common::fixed_now()),
        retool_audit::fake::FakeConfig {
            scopes: Some(
                retool_audit::retool::endpoints::CATALOGUE
                    .iter()
                    .map(|e| e.scope.to_string())
                    .filter(|s| s != "workflows:read")
                    .collect(),
            ),
            ..Default::default()
        },
    );
    w.snapshot(&["--usage-details"]).ok();
    let out = w.path("out");
    w.run(&[
        "report",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json,csv",
    ])
    .ok();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let items: Vec<(String, String)> = json["summary"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["section"] == "Reconciliation")
        .map(|i| {
            (
                i["label"].as_str().unwrap().to_string(),
                i["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let state = w.store().state_at(1).unwrap();
    let counts = state.counts();
    // One line per kind, then the verdict.
    assert_eq!(items.len(), counts.len() + 1, "{items:?}");
    let value = |kind: &str| {
        items
            .iter()
            .find(|(l, _)| l == &format!("Reconciliation: {kind}"))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no line for {kind}: {items:?}"))
    };
    assert_eq!(value("workflows"), "0 (not collected)");
    for (table, kind) in [
        ("users", "users"),
        ("groups", "groups"),
        ("group_members", "memberships"),
        ("apps", "apps"),
        ("folders", "folders"),
        ("resources", "resources"),
        ("access_tokens", "access_tokens"),
        ("user_invites", "user_invites"),
        ("app_usage", "app_usage"),
    ] {
        let rows = csv_maps(&out, table).len();
        let n = counts[&retool_audit::model::EntityKind::parse(kind).unwrap()];
        assert_eq!(rows as u64, n, "{table}");
        assert_eq!(
            value(kind),
            format!("{n} collected = {rows} rows in {table}")
        );
    }
    // Grants: group grants in group_permissions plus direct user grants.
    let direct = csv_maps(&out, "group_permissions")
        .iter()
        .filter(|r| r["scope"] == "direct")
        .count();
    let users = csv_maps(&out, "user_grants").len();
    assert!(users > 0);
    assert_eq!((direct + users) as u64, state.grants.len() as u64);
    assert!(value("grants").starts_with(&format!("{} collected = ", state.grants.len())));
    assert_eq!(
        items.last().map(|(_, v)| v.as_str()),
        Some("every collected count equals the rows of its table")
    );
}

/// `object_access` answers "who can reach X" from the org itself: every
/// group grant on an object and every folder grant on the items directly in
/// the folder, with the group's active members.
#[test]
fn object_access_lists_every_group_that_reaches_an_object() {
    use retool_audit::model::{ObjectType, Subject};
    let w = World::demo();
    w.snapshot(&[]).ok();
    let out = w.path("out");
    w.run(&["report", "--out", out.to_str().unwrap(), "--format", "json"])
        .ok();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let table = json["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "object_access")
        .unwrap();
    let got: BTreeSet<(String, String, String, String, u64)> = table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r[3] == "group")
        .map(|r| {
            (
                r[1].as_str().unwrap().to_string(),
                r[4].as_str().unwrap().to_string(),
                r[6].as_str().unwrap().to_string(),
                r[7].as_str().unwrap().to_string(),
                r[8].as_u64().unwrap(),
            )
        })
        .collect();
    let s = w.expected();
    let active_members = |g: i64| {
        s.memberships
            .iter()
            .filter(|m| m.group_id.0 == g && s.user(&m.user_id).is_some_and(|u| u.active))
            .count() as u64
    };
    let mut want = BTreeSet::new();
    for g in &s.grants {
        let Subject::Group(gid) = g.subject else {
            continue;
        };
        let reached = active_members(gid.0);
        if g.object.object_type == ObjectType::Folder {
            let folder = s.folders.iter().find(|f| f.id == g.object.id).unwrap();
            let inside = s
                .apps
                .iter()
                .filter(|a| a.folder_id.as_ref() == Some(&folder.id))
                .map(|a| a.id.0.clone())
                .chain(
                    s.resources
                        .iter()
                        .filter(|r| r.folder_id.as_ref() == Some(&folder.id))
                        .map(|r| r.id.0.clone()),
                )
                .chain(
                    s.workflows
                        .iter()
                        .filter(|x| x.folder_id.as_ref() == Some(&folder.id))
                        .map(|x| x.id.0.clone()),
                );
            for id in inside {
                want.insert((
                    id,
                    gid.0.to_string(),
                    g.level.as_str().to_string(),
                    format!("folder:{}", folder.name),
                    reached,
                ));
            }
        } else {
            want.insert((
                g.object.id.0.clone(),
                gid.0.to_string(),
                g.level.as_str().to_string(),
                String::new(),
                reached,
            ));
        }
    }
    assert!(!want.is_empty());
    assert_eq!(got, want);
}
