//! Tests for the simulated Retool: generation, both dialects over real HTTP,
//! auth and scopes, faults, scripted changes.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use super::*;
use crate::model::{AccessLevel, EntityKind, GroupId, ObjectType, Subject, UserId};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 31, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

fn demo() -> FakeOrg {
    FakeOrg::generate(&OrgSpec::demo(now()))
}

async fn start(config: FakeConfig) -> FakeServer {
    FakeServer::start(demo(), config).await.unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn get(server: &FakeServer, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", server.base_url()))
        .bearer_auth("fake-token")
        .send()
        .await
        .unwrap()
}

async fn get_json(server: &FakeServer, path: &str) -> (u16, Value) {
    let r = get(server, path).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

#[test]
fn same_seed_same_org_and_different_seed_differs() {
    let a = FakeOrg::generate(&OrgSpec::demo(now())).expected_state();
    let b = FakeOrg::generate(&OrgSpec::demo(now())).expected_state();
    assert_eq!(a, b);
    let mut spec = OrgSpec::demo(now());
    spec.seed = 43;
    let c = FakeOrg::generate(&spec).expected_state();
    assert_ne!(a.users, c.users);
    assert_ne!(a.apps, c.apps);
}

#[test]
fn sizes_match_the_spec() {
    let org = demo();
    let c = org.counts();
    assert_eq!(c[&EntityKind::Users], 60);
    assert_eq!(c[&EntityKind::Groups], 8);
    assert_eq!(c[&EntityKind::Folders], 6);
    assert_eq!(c[&EntityKind::Apps], 25);
    assert_eq!(c[&EntityKind::Resources], 8);
    assert_eq!(c[&EntityKind::Workflows], 4);
    assert_eq!(org.expected_state().counts(), c);

    let spec = OrgSpec::with_users(600, 7, now());
    assert_eq!((spec.groups, spec.apps, spec.folders), (20, 120, 12));
    assert_eq!((spec.resources, spec.workflows, spec.grants), (20, 6, 240));
    let org = FakeOrg::generate(&spec);
    let s = org.expected_state();
    assert_eq!(s.users.len(), 600);
    assert_eq!(s.groups.len(), 20);
    let group_grants = s
        .grants
        .iter()
        .filter(|g| matches!(g.subject, Subject::Group(_)))
        .count();
    assert_eq!(group_grants, 240);
    // About 5 memberships a user, All Users included.
    let per_user = s.memberships.len() as f64 / 600.0;
    assert!((4.0..6.0).contains(&per_user), "{per_user}");
    assert!(s.dangling_references().is_empty());
}

#[test]
fn large_org_has_the_benchmark_shape() {
    let org = FakeOrg::generate(&OrgSpec::l(now()));
    let c = org.counts();
    assert_eq!(c[&EntityKind::Users], 50_000);
    assert_eq!(c[&EntityKind::Groups], 1_000);
    assert_eq!(c[&EntityKind::Apps], 5_000);
    assert_eq!(c[&EntityKind::Folders], 500);
    assert_eq!(c[&EntityKind::Resources], 1_000);
    assert_eq!(c[&EntityKind::Workflows], 500);
    assert!(c[&EntityKind::Grants] >= 20_000);
    let per_user = c[&EntityKind::Memberships] as f64 / 50_000.0;
    assert!((4.5..5.5).contains(&per_user), "{per_user}");
    let all = &org.groups[0];
    assert_eq!(all.name, "All Users");
    assert_eq!(all.members.len(), 50_000);
    assert_eq!(all.universal_app, AccessLevel::Use);
}

#[test]
fn xl_org_generates() {
    let org = FakeOrg::generate(&OrgSpec::xl(now()));
    assert_eq!(org.users.len(), 100_000);
    assert_eq!(org.expected_state().users.len(), 100_000);
}

#[test]
fn demo_org_has_every_case_a_review_must_catch() {
    let org = demo();
    let s = org.expected_state();
    let all = s.group(GroupId(1)).unwrap();
    assert_eq!(all.name, "All Users");
    assert_eq!(all.universal_app_access, AccessLevel::Use);
    let members_of = |g: i64| -> HashSet<&UserId> {
        s.memberships
            .iter()
            .filter(|m| m.group_id == GroupId(g))
            .map(|m| &m.user_id)
            .collect()
    };
    assert_eq!(
        members_of(1).len(),
        s.users.len(),
        "everyone is in All Users"
    );
    assert_eq!(s.group(GroupId(2)).unwrap().name, "admin");
    let in_team = |u: &UserId| {
        s.memberships
            .iter()
            .any(|m| &m.user_id == u && m.group_id.0 >= 3)
    };
    assert!(
        s.users.iter().any(|u| u.is_admin && !u.active),
        "disabled admin"
    );
    assert!(
        s.users.iter().any(|u| !u.active && in_team(&u.id)),
        "disabled but in a group"
    );
    assert!(
        s.users.iter().any(|u| u.last_active.is_none()),
        "never logged in"
    );
    assert!(
        s.users.iter().any(|u| u
            .last_active
            .is_some_and(|t| now() - t > chrono::Duration::days(90))),
        "inactive > 90 days"
    );
    assert!(
        s.users.iter().any(|u| !in_team(&u.id) && !u.is_admin),
        "only in All Users"
    );
    assert!(s.memberships.iter().any(|m| m.is_group_admin));
    assert!(s.users.iter().any(|u| u.user_type == "mobile"));
    assert!(s.users.iter().any(|u| u.user_type == "embed"));
    assert!(
        s.groups
            .iter()
            .any(|g| g.id.0 >= 3 && g.universal_resource_access == AccessLevel::Edit)
    );
    // Folders: a system folder and nesting deeper than one level.
    assert!(s.folders.iter().any(|f| f.is_system_folder));
    let parent = |id: &crate::model::ObjectId| s.folders.iter().find(|f| &f.id == id);
    assert!(s.folders.iter().any(|f| {
        f.parent_id
            .as_ref()
            .and_then(parent)
            .is_some_and(|p| !p.is_system_folder && p.parent_id.is_some())
    }));
    for t in [ObjectType::Folder, ObjectType::App, ObjectType::Resource] {
        assert!(
            s.grants.iter().any(|g| g.object.object_type == t),
            "{t} grants"
        );
    }
    for l in [AccessLevel::Use, AccessLevel::Edit, AccessLevel::Own] {
        assert!(s.grants.iter().any(|g| g.level == l), "{l} grants");
    }
    assert!(
        s.grants
            .iter()
            .any(|g| matches!(g.subject, Subject::User(_)))
    );
    assert!(!s.user_invites.is_empty() && s.user_invites.iter().all(|i| !i.group_ids.is_empty()));
    assert!(
        s.user_invites
            .iter()
            .all(|i| !i.raw.contains("invite_link"))
    );
    assert!(!s.access_tokens.is_empty() && s.access_tokens.iter().all(|t| t.last4.len() == 4));
    assert!(
        s.dangling_references().is_empty(),
        "{:?}",
        s.dangling_references()
    );
}

#[test]
fn hostile_names_are_present_and_emails_stay_plausible() {
    let s = demo().expected_state();
    let mut texts: Vec<String> = Vec::new();
    for u in &s.users {
        texts.extend(u.first_name.clone());
        texts.extend(u.last_name.clone());
    }
    texts.extend(s.groups.iter().map(|g| g.name.clone()));
    texts.extend(s.apps.iter().map(|a| a.name.clone()));
    texts.extend(s.apps.iter().filter_map(|a| a.description.clone()));
    texts.extend(s.folders.iter().map(|f| f.name.clone()));
    texts.extend(s.resources.iter().map(|r| r.name.clone()));
    for h in [
        HOSTILE_SCRIPT,
        HOSTILE_HYPERLINK,
        HOSTILE_CMD,
        HOSTILE_SUM,
        HOSTILE_QUOTES,
        HOSTILE_NEWLINE,
        HOSTILE_RTL,
        HOSTILE_EMOJI,
        HOSTILE_JAPANESE,
        HOSTILE_GREEK,
    ] {
        assert!(texts.iter().any(|t| t == h), "missing {h:?}");
    }
    assert!(texts.iter().any(|t| t.chars().count() == LONG_NAME_LEN));
    let emails: HashSet<&str> = s.users.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(emails.len(), s.users.len(), "emails are unique");
    for e in emails {
        let (local, domain) = e.split_once('@').unwrap();
        assert!(
            !local.is_empty() && domain.contains('.') && !domain.contains('@'),
            "{e}"
        );
        assert!(!e.chars().any(char::is_whitespace), "{e}");
    }
    assert!(s.users.iter().any(|u| u.email.starts_with('=')));

    let mut plain = OrgSpec::demo(now());
    plain.hostile_names = false;
    let p = FakeOrg::generate(&plain).expected_state();
    assert!(
        !p.users
            .iter()
            .any(|u| u.first_name.as_deref() == Some(HOSTILE_SCRIPT))
    );
}

#[tokio::test]
async fn v2_users_paginate_with_limit_7_and_visit_everyone_once() {
    let server = start(FakeConfig::default()).await;
    let expected = server.with_org(FakeOrg::expected_state);
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &token {
            Some(t) => format!("/api/v2/users?limit=7&next_token={t}"),
            None => "/api/v2/users?limit=7".to_string(),
        };
        let (status, body) = get_json(&server, &q).await;
        assert_eq!(status, 200);
        assert_eq!(body["success"], true);
        assert_eq!(body["total_count"], 60);
        let data = body["data"].as_array().unwrap();
        assert!(data.len() <= 7);
        seen.extend(data.iter().map(|u| u["id"].as_str().unwrap().to_string()));
        pages += 1;
        match body["next_token"].as_str() {
            Some(t) => {
                assert_eq!(body["has_more"], true);
                token = Some(t.to_string());
            }
            None => {
                assert_eq!(body["has_more"], false);
                break;
            }
        }
        assert!(pages < 100, "pagination does not end");
    }
    assert_eq!(pages, 9);
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no user twice");
    let want: BTreeSet<&String> = expected.users.iter().map(|u| &u.id.0).collect();
    assert_eq!(unique, want);

    // Without limit: everything in one envelope.
    let (_, all) = get_json(&server, "/api/v2/users").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 60);
    assert_eq!(all["has_more"], false);
    assert!(all["next_token"].is_null());
    // Bad parameters are 400 with the v2 error shape.
    for q in [
        "limit=0",
        "limit=101",
        "limit=x",
        "limit=5&next_token=garbage",
        "next_token=ofs_1",
    ] {
        let (status, body) = get_json(&server, &format!("/api/v2/users?{q}")).await;
        assert_eq!(status, 400, "{q}");
        assert_eq!(body["success"], false);
        assert!(body["message"].as_str().unwrap().len() > 5);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn v2_wire_records_match_expected_raw() {
    let server = start(FakeConfig::default()).await;
    let expected = server.with_org(FakeOrg::expected_state);
    let raws = |body: &Value, strip: &[&str]| -> BTreeSet<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let mut r = r.clone();
                for k in strip {
                    r.as_object_mut().unwrap().remove(*k);
                }
                serde_json::to_string(&r).unwrap()
            })
            .collect()
    };
    let (_, users) = get_json(&server, "/api/v2/users").await;
    assert_eq!(
        raws(&users, &[]),
        expected.users.iter().map(|u| u.raw.clone()).collect()
    );
    let (_, groups) = get_json(&server, "/api/v2/groups").await;
    assert_eq!(
        raws(&groups, &["members", "user_invites"]),
        expected.groups.iter().map(|g| g.raw.clone()).collect()
    );
    let members: usize = groups["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["members"].as_array().unwrap().len())
        .sum();
    assert_eq!(members, expected.memberships.len());
    let (_, apps) = get_json(&server, "/api/v2/apps").await;
    assert_eq!(
        raws(&apps, &[]),
        expected.apps.iter().map(|a| a.raw.clone()).collect()
    );
    let (_, res) = get_json(&server, "/api/v2/resources?limit=3").await;
    assert_eq!(res["total_count"], 8);
    let (_, folders) = get_json(&server, "/api/v2/folders").await;
    assert_eq!(
        raws(&folders, &[]),
        expected.folders.iter().map(|f| f.raw.clone()).collect()
    );
    let (_, wf) = get_json(&server, "/api/v2/workflows").await;
    assert_eq!(
        raws(&wf, &[]),
        expected.workflows.iter().map(|w| w.raw.clone()).collect()
    );
    let (_, inv) = get_json(&server, "/api/v2/user_invites").await;
    assert!(inv["data"][0]["invite_link"].is_string());
    assert_eq!(
        raws(&inv, &["invite_link"]),
        expected
            .user_invites
            .iter()
            .map(|i| i.raw.clone())
            .collect()
    );
    let (_, tok) = get_json(&server, "/api/v2/access_tokens").await;
    assert_eq!(
        raws(&tok, &[]),
        expected
            .access_tokens
            .iter()
            .map(|t| t.raw.clone())
            .collect()
    );
    let (status, space) = get_json(&server, "/api/v2/spaces").await;
    assert_eq!((status, space["total_count"].as_u64()), (200, Some(1)));
    let (status, one) = get_json(&server, "/api/v2/groups/3").await;
    assert_eq!((status, one["data"]["id"].as_i64()), (200, Some(3)));
    let (status, _) = get_json(&server, "/api/v2/groups/999").await;
    assert_eq!(status, 404);
    // Timestamps are RFC 3339 UTC with Z.
    let t = users["data"][0]["created_at"].as_str().unwrap();
    assert!(
        t.ends_with('Z') && DateTime::parse_from_rfc3339(t).is_ok(),
        "{t}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn list_objects_returns_each_subjects_grants() {
    let server = start(FakeConfig::default()).await;
    let expected = server.with_org(FakeOrg::expected_state);
    let mut got = BTreeSet::new();
    let mut subjects: Vec<Value> = expected
        .groups
        .iter()
        .map(|g| serde_json::json!({"type": "group", "id": g.id.0}))
        .collect();
    subjects.extend(
        expected
            .users
            .iter()
            .map(|u| serde_json::json!({"type": "user", "id": u.id.0})),
    );
    for subject in &subjects {
        for t in ["folder", "app", "resource"] {
            let r = client()
                .post(format!(
                    "{}/api/v2/permissions/listObjects",
                    server.base_url()
                ))
                .bearer_auth("fake-token")
                .json(&serde_json::json!({"subject": subject, "object_type": t}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let body: Value = r.json().await.unwrap();
            for item in body["data"].as_array().unwrap() {
                assert_eq!(item["type"], t);
                got.insert(format!(
                    "{}:{}:{}:{}",
                    subject["type"], subject["id"], item["id"], item["access_level"]
                ));
            }
        }
    }
    let want: BTreeSet<String> = expected
        .grants
        .iter()
        .map(|g| {
            let (ty, id) = match &g.subject {
                Subject::Group(id) => ("\"group\"".to_string(), id.0.to_string()),
                Subject::User(id) => ("\"user\"".to_string(), format!("\"{}\"", id.0)),
            };
            format!("{ty}:{id}:\"{}\":\"{}\"", g.object.id.0, g.level)
        })
        .collect();
    assert_eq!(got, want);
    let bad = client()
        .post(format!(
            "{}/api/v2/permissions/listObjects",
            server.base_url()
        ))
        .bearer_auth("fake-token")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    // accessList: the admin group and All Users show up for any app.
    let app = &expected.apps[0].id.0;
    let (status, acl) = get_json(
        &server,
        &format!("/api/v2/permissions/accessList/app/{app}"),
    )
    .await;
    assert_eq!(status, 200);
    let groups: Vec<&str> = acl["data"]["group"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["subject"]["id"].as_str().unwrap())
        .collect();
    assert!(groups.contains(&"1") && groups.contains(&"2"), "{groups:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn v1_dialect_paginates_with_page_and_page_size() {
    let server = start(FakeConfig::default()).await;
    let expected = server.with_org(FakeOrg::expected_state_v1);
    let mut seen = Vec::new();
    for page in 1..=4 {
        let (status, body) =
            get_json(&server, &format!("/api/v1/users?page={page}&pageSize=25")).await;
        assert_eq!(status, 200);
        assert_eq!(body["total"], 60);
        assert_eq!(body["page"], page);
        assert_eq!(body["pageSize"], 25);
        let data = body["data"].as_array().unwrap();
        assert_eq!(data.len(), [25, 25, 10, 0][page - 1]);
        seen.extend(data.iter().map(|u| serde_json::to_string(u).unwrap()));
    }
    let want: BTreeSet<String> = expected.users.iter().map(|u| u.raw.clone()).collect();
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), want);
    assert_eq!(seen.len(), 60);
    let (_, apps) = get_json(&server, "/api/v1/apps?page=1&pageSize=100").await;
    assert_eq!(apps["data"].as_array().unwrap().len(), 25);
    assert!(apps["data"][0]["folderId"].is_string());
    let (_, groups) = get_json(&server, "/api/v1/groups").await;
    let first = &groups["data"][0];
    assert!(first["members"][0]["email"].is_string() && first["createdAt"].is_string());
    let (_, res) = get_json(&server, "/api/v1/resources").await;
    assert!(res["data"][0]["displayName"].is_string());
    let (_, folders) = get_json(&server, "/api/v1/folders").await;
    assert_eq!(folders["data"].as_array().unwrap().len(), 6);
    let (status, err) = get_json(&server, "/api/v1/users?pageSize=500").await;
    assert_eq!(status, 400);
    assert!(err["message"].is_string() && err["code"].is_string());
    let (status, _) = get_json(&server, "/api/v1/workflows").await;
    assert_eq!(status, 404);
    for k in [
        EntityKind::Workflows,
        EntityKind::Grants,
        EntityKind::UserInvites,
        EntityKind::AccessTokens,
    ] {
        assert_eq!(
            expected.not_collected.get(&k).map(String::as_str),
            Some(NOT_IN_V1)
        );
    }
    assert!(
        expected
            .users
            .iter()
            .all(|u| u.two_factor_enabled.is_none() && u.last_active.is_none())
    );
    assert!(expected.memberships.iter().all(|m| !m.is_group_admin));
    server.shutdown().await;
}

#[tokio::test]
async fn auth_scopes_missing_endpoints_and_health() {
    let config = FakeConfig {
        scopes: Some(["users:read".to_string(), "groups:read".to_string()].into()),
        version: Some("3.148.0".into()),
        missing_endpoints: vec!["/user_invites".into()],
        ..FakeConfig::default()
    };
    let server = start(config).await;
    let url = format!("{}/api/v2/users", server.base_url());
    let none = client().get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let body: Value = none.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert!(body["message"].is_string());
    let wrong = client().get(&url).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let v1 = client()
        .get(format!("{}/api/v1/users", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(v1.status(), 401);
    let v1: Value = v1.json().await.unwrap();
    assert_eq!(v1["code"], "unauthorized");

    let (status, body) = get_json(&server, "/api/v2/workflows").await;
    assert_eq!(status, 403);
    assert_eq!(
        body["message"],
        "API token is missing the required scope: workflows:read"
    );
    let (status, _) = get_json(&server, "/api/v2/users").await;
    assert_eq!(status, 200);
    let (status, body) = get_json(&server, "/api/v2/user_invites").await;
    assert_eq!((status, body["success"].as_bool()), (404, Some(false)));
    let (status, _) = get_json(&server, "/api/v2/nonsense").await;
    assert_eq!(status, 404);

    let health: Value = client()
        .get(format!("{}/api/checkHealth", server.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["version"], "3.148.0");
    let log = server.requests();
    assert_eq!(log.len() as u64, server.request_count());
    assert_eq!(log[0].status, 401);
    assert_eq!(log[0].path, "/api/v2/users");
    assert!(server.describe().contains("60 users"));
    server.shutdown().await;
}

fn with_faults(faults: Vec<Fault>) -> FakeConfig {
    FakeConfig {
        faults,
        ..FakeConfig::default()
    }
}

#[tokio::test]
async fn rate_limit_then_recovers_with_retry_after() {
    let faults =
        parse_faults("429x2:retry-after=1:path=/users,429:retry-after=date:path=/apps").unwrap();
    let server = start(with_faults(faults)).await;
    for _ in 0..2 {
        let r = get(&server, "/api/v2/users").await;
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "1");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["success"], false);
    }
    assert_eq!(get(&server, "/api/v2/users").await.status(), 200);
    assert_eq!(
        get(&server, "/api/v2/groups").await.status(),
        200,
        "path filter"
    );
    let r = get(&server, "/api/v2/apps").await;
    assert_eq!(r.status(), 429);
    let date = r.headers()["retry-after"].to_str().unwrap().to_string();
    let parsed = DateTime::parse_from_rfc2822(&date.replace("GMT", "+0000")).unwrap();
    assert!(parsed.with_timezone(&Utc) > Utc::now() - chrono::Duration::seconds(5));
    assert_eq!(get(&server, "/api/v2/apps").await.status(), 200);
    server.shutdown().await;
}

#[tokio::test]
async fn server_errors_non_json_and_truncation_then_recover() {
    let faults = vec![
        Fault::ServerError {
            times: 2,
            status: 503,
        }
        .on_path("/groups"),
        Fault::NonJson { times: 1 }.on_path("/apps"),
        Fault::Truncate { times: 1 }.on_path("/folders"),
    ];
    let server = start(with_faults(faults)).await;
    for _ in 0..2 {
        let (status, body) = get_json(&server, "/api/v2/groups").await;
        assert_eq!(status, 503);
        assert_eq!(body["success"], false);
    }
    assert_eq!(get(&server, "/api/v2/groups").await.status(), 200);
    let r = get(&server, "/api/v2/apps").await;
    assert_eq!(r.status(), 502);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(serde_json::from_str::<Value>(&r.text().await.unwrap()).is_err());
    assert_eq!(get(&server, "/api/v2/apps").await.status(), 200);
    let r = get(&server, "/api/v2/folders").await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(
        !text.is_empty() && serde_json::from_str::<Value>(&text).is_err(),
        "cut JSON"
    );
    let (status, full) = get_json(&server, "/api/v2/folders").await;
    assert_eq!(
        (status, full["data"].as_array().map(Vec::len)),
        (200, Some(6))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn slow_fault_delays_once() {
    let server = start(with_faults(parse_faults("slow=300msx1").unwrap())).await;
    let t = std::time::Instant::now();
    assert_eq!(get(&server, "/api/v2/apps").await.status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    let t = std::time::Instant::now();
    assert_eq!(get(&server, "/api/v2/apps").await.status(), 200);
    assert!(t.elapsed() < Duration::from_millis(300), "recovered");
    server.shutdown().await;
}

#[tokio::test]
async fn wrong_total_duplicates_and_looping_token() {
    let server = start(with_faults(vec![Fault::WrongTotal, Fault::DuplicateItems])).await;
    let (_, p1) = get_json(&server, "/api/v2/users?limit=10").await;
    assert_eq!(p1["total_count"], 61);
    let token = p1["next_token"].as_str().unwrap().to_string();
    let (_, p2) = get_json(
        &server,
        &format!("/api/v2/users?limit=10&next_token={token}"),
    )
    .await;
    assert_eq!(p2["data"][0], p1["data"][9], "last of page 1 repeated");
    assert_eq!(p2["data"].as_array().unwrap().len(), 11);
    let (_, v1) = get_json(&server, "/api/v1/users?page=2&pageSize=10").await;
    assert_eq!(v1["total"], 61);
    server.shutdown().await;

    let server = start(with_faults(vec![Fault::LoopingNextToken])).await;
    let (_, p1) = get_json(&server, "/api/v2/users?limit=10").await;
    let t1 = p1["next_token"].as_str().unwrap().to_string();
    let (_, p2) = get_json(&server, &format!("/api/v2/users?limit=10&next_token={t1}")).await;
    let (_, p3) = get_json(&server, &format!("/api/v2/users?limit=10&next_token={t1}")).await;
    assert_eq!(p2["next_token"], p1["next_token"]);
    assert_eq!(p3["has_more"], true);
    server.shutdown().await;
}

#[tokio::test]
async fn stall_never_answers_that_request_and_shutdown_still_works() {
    let server = start(with_faults(parse_faults("stall@2").unwrap())).await;
    assert_eq!(get(&server, "/api/v2/apps").await.status(), 200);
    let stalled = client()
        .get(format!("{}/api/v2/apps", server.base_url()))
        .bearer_auth("fake-token")
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(stalled.is_err_and(|e| e.is_timeout()));
    assert_eq!(get(&server, "/api/v2/apps").await.status(), 200);
    assert_eq!(server.request_count(), 3);
    tokio::time::timeout(Duration::from_secs(10), server.shutdown())
        .await
        .unwrap();
}

#[tokio::test]
async fn concurrent_requests_each_wait_their_own_latency() {
    let config = FakeConfig {
        latency: Duration::from_millis(200),
        ..FakeConfig::default()
    };
    let server = start(config).await;
    let t = std::time::Instant::now();
    let (a, b, c, d) = tokio::join!(
        get(&server, "/api/v2/folders"),
        get(&server, "/api/v2/folders"),
        get(&server, "/api/v2/folders"),
        get(&server, "/api/v2/folders"),
    );
    for r in [a, b, c, d] {
        assert_eq!(r.status(), 200);
    }
    let elapsed = t.elapsed();
    assert!(elapsed >= Duration::from_millis(200));
    // Serialized latency would take 800 ms; allow generous slack on a busy machine.
    assert!(elapsed < Duration::from_millis(750), "{elapsed:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn scripted_changes_show_in_expected_state_and_on_the_wire() {
    let server = start(FakeConfig::default()).await;
    let before = server.with_org(FakeOrg::expected_state);
    let ch = server.update_org(FakeOrg::apply_scripted_changes);
    let after = server.with_org(FakeOrg::expected_state);
    assert_eq!(ch.added_users.len(), 2);
    assert_eq!(ch.removed_users.len(), 1);
    assert_eq!(ch.disabled_users.len(), 2);
    assert_eq!(ch.re_enabled_users.len(), 1);
    assert_eq!(ch.promoted_admins.len(), 1);
    assert_eq!(
        (
            ch.grants_raised.len(),
            ch.grants_added.len(),
            ch.universal_raised.len()
        ),
        (1, 1, 1)
    );
    assert!(!ch.grants_removed.is_empty());
    assert!(!ch.memberships_added.is_empty() && !ch.memberships_removed.is_empty());
    assert_eq!(
        (
            ch.apps_renamed.len(),
            ch.apps_added.len(),
            ch.resources_removed.len()
        ),
        (1, 1, 1)
    );

    assert_eq!(after.users.len(), before.users.len() + 1);
    for u in &ch.added_users {
        assert!(before.user(u).is_none() && after.user(u).is_some());
    }
    assert!(after.user(&ch.removed_users[0]).is_none());
    for u in &ch.disabled_users {
        assert!(before.user(u).unwrap().active && !after.user(u).unwrap().active);
    }
    let d0 = &ch.disabled_users[0];
    assert!(
        after
            .memberships
            .iter()
            .any(|m| &m.user_id == d0 && m.group_id.0 >= 3)
    );
    let r = &ch.re_enabled_users[0];
    assert!(!before.user(r).unwrap().active && after.user(r).unwrap().active);
    let p = &ch.promoted_admins[0];
    assert!(!before.user(p).unwrap().is_admin && after.user(p).unwrap().is_admin);
    let has_m = |s: &crate::model::OrgState, g: GroupId, u: &UserId| {
        s.memberships
            .iter()
            .any(|m| m.group_id == g && &m.user_id == u)
    };
    for (g, u) in &ch.memberships_added {
        assert!(!has_m(&before, *g, u) && has_m(&after, *g, u));
    }
    for (g, u) in &ch.memberships_removed {
        assert!(has_m(&before, *g, u) && !has_m(&after, *g, u));
    }
    let level = |s: &crate::model::OrgState, g: GroupId, o: &crate::model::ObjectRef| {
        s.grants
            .iter()
            .find(|x| x.subject == Subject::Group(g) && &x.object == o)
            .map(|x| x.level)
    };
    let (g, o, old, new) = &ch.grants_raised[0];
    assert_eq!(
        (level(&before, *g, o), level(&after, *g, o)),
        (Some(*old), Some(*new))
    );
    assert_eq!(*new, AccessLevel::Own);
    let (g, o, l) = &ch.grants_added[0];
    assert_eq!(
        (level(&before, *g, o), level(&after, *g, o)),
        (None, Some(*l))
    );
    assert_eq!(*l, AccessLevel::Edit);
    for (g, o, l) in &ch.grants_removed {
        assert_eq!(
            (level(&before, *g, o), level(&after, *g, o)),
            (Some(*l), None)
        );
    }
    let (g, t, old, new) = ch.universal_raised[0];
    assert!(new > old);
    assert_eq!(before.group(g).unwrap().universal_access(t), old);
    assert_eq!(after.group(g).unwrap().universal_access(t), new);
    let (id, old_name, new_name) = &ch.apps_renamed[0];
    assert_eq!(
        &before.apps.iter().find(|a| &a.id == id).unwrap().name,
        old_name
    );
    assert_eq!(
        &after.apps.iter().find(|a| &a.id == id).unwrap().name,
        new_name
    );
    assert!(after.apps.iter().any(|a| a.id == ch.apps_added[0]));
    assert!(
        !after
            .resources
            .iter()
            .any(|r| r.id == ch.resources_removed[0])
    );
    assert!(after.dangling_references().is_empty());

    // The server answers from the changed org.
    let (_, users) = get_json(&server, "/api/v2/users").await;
    assert_eq!(
        users["total_count"].as_u64(),
        Some(after.users.len() as u64)
    );
    // A second round changes other things and stays consistent.
    let ch2 = server.update_org(FakeOrg::apply_scripted_changes);
    assert_ne!(ch2.added_users, ch.added_users);
    assert!(server.with_org(|o| o.expected_state().dangling_references().is_empty()));

    // Helpers for review tests.
    let current = server.with_org(FakeOrg::expected_state);
    let m = current
        .memberships
        .iter()
        .find(|m| m.group_id.0 >= 3)
        .cloned()
        .unwrap();
    let (g, u) = (m.group_id, m.user_id);
    assert!(server.update_org(|o| o.revoke_membership(g, &u)));
    assert!(!server.update_org(|o| o.revoke_membership(g, &u)));
    assert!(server.update_org(|o| o.set_user_active(&u, false)));
    assert!(!server.update_org(|o| o.set_user_active(&UserId("user_nobody".into()), false)));
    server.shutdown().await;
}

async fn send(
    server: &FakeServer,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> (u16, Value) {
    let mut req = client().request(method, format!("{}{path}", server.base_url()));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn write_endpoints_change_the_org_and_the_expected_state_follows() {
    use reqwest::Method;
    let server = start(FakeConfig::default()).await;
    let before = server.with_org(FakeOrg::expected_state);
    // A plain member of a team group, and an admin of one.
    let m = before
        .memberships
        .iter()
        .find(|m| m.group_id.0 >= 3 && !m.is_group_admin)
        .unwrap()
        .clone();
    let admin = before
        .memberships
        .iter()
        .find(|m| m.group_id.0 >= 3 && m.is_group_admin)
        .unwrap()
        .clone();
    let direct = before
        .grants
        .iter()
        .find(|g| matches!(g.subject, Subject::User(_)))
        .unwrap()
        .clone();
    let Subject::User(direct_user) = &direct.subject else {
        unreachable!()
    };
    let active = before
        .users
        .iter()
        .find(|u| u.active && !u.is_admin)
        .unwrap()
        .id
        .clone();
    let tok = Some("fake-token");

    let path = format!("/api/v2/groups/{}/members/{}", m.group_id, m.user_id);
    let (status, body) = send(&server, Method::DELETE, &path, None, tok).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"]["members"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["id"] != m.user_id.0)
    );
    let (status, _) = send(&server, Method::DELETE, &path, None, tok).await;
    assert_eq!(status, 404, "no longer a member");

    let path = format!("/api/v2/groups/{}/members", admin.group_id);
    let demote = serde_json::json!({"members": [{"id": admin.user_id.0, "is_group_admin": false}]});
    let (status, body) = send(&server, Method::POST, &path, Some(demote), tok).await;
    assert_eq!(status, 200, "{body}");

    let revoke = serde_json::json!({
        "subject": {"type": "user", "id": direct_user.0},
        "object": {"type": direct.object.object_type.as_str(), "id": direct.object.id.0},
    });
    let (status, body) = send(
        &server,
        Method::POST,
        "/api/v2/permissions/revoke",
        Some(revoke),
        tok,
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let disable =
        serde_json::json!({"operations": [{"op": "replace", "path": "/active", "value": false}]});
    let path = format!("/api/v2/users/{active}");
    let (status, body) = send(&server, Method::PATCH, &path, Some(disable), tok).await;
    assert_eq!(
        (status, &body["data"]["active"]),
        (200, &Value::Bool(false)),
        "{body}"
    );

    let after = server.with_org(FakeOrg::expected_state);
    assert!(
        !after
            .memberships
            .iter()
            .any(|x| x.group_id == m.group_id && x.user_id == m.user_id)
    );
    assert!(
        after
            .memberships
            .iter()
            .any(|x| x.group_id == admin.group_id
                && x.user_id == admin.user_id
                && !x.is_group_admin)
    );
    assert!(!after.grants.contains(&direct));
    assert!(after.user(&active).is_some_and(|u| !u.active));
    assert_eq!(after.users.len(), before.users.len());
    server.shutdown().await;
}

#[tokio::test]
async fn write_endpoints_check_auth_scopes_and_bodies_like_the_real_api() {
    use reqwest::Method;
    let scopes: BTreeSet<String> = ["groups:read", "users:read"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let server = start(FakeConfig {
        scopes: Some(scopes),
        ..FakeConfig::default()
    })
    .await;
    let state = server.with_org(FakeOrg::expected_state);
    let m = state
        .memberships
        .iter()
        .find(|m| m.group_id.0 >= 3)
        .unwrap()
        .clone();
    let path = format!("/api/v2/groups/{}/members/{}", m.group_id, m.user_id);
    let tok = Some("fake-token");
    assert_eq!(
        send(&server, Method::DELETE, &path, None, None).await.0,
        401
    );
    let (status, body) = send(&server, Method::DELETE, &path, None, tok).await;
    assert_eq!(status, 403);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("groups:write")
    );
    server.shutdown().await;

    let server = start(FakeConfig::default()).await;
    let user = &state.users[0].id.0;
    let cases: Vec<(Method, String, Option<Value>, u16)> = vec![
        (
            Method::DELETE,
            format!("/api/v2/groups/abc/members/{user}"),
            None,
            400,
        ),
        (
            Method::DELETE,
            format!("/api/v2/groups/9999/members/{user}"),
            None,
            404,
        ),
        (
            Method::DELETE,
            format!("/api/v2/groups/{}/members/nobody", m.group_id),
            None,
            400,
        ),
        (
            Method::DELETE,
            format!("/api/v2/groups/{}/members/user_0", m.group_id),
            None,
            404,
        ),
        (
            Method::POST,
            format!("/api/v2/groups/{}/members", m.group_id),
            Some(serde_json::json!({"members": [{"id": user}]})),
            400,
        ),
        (
            Method::POST,
            format!("/api/v2/groups/{}/members", m.group_id),
            Some(serde_json::json!({"members": [], "extra": 1})),
            400,
        ),
        (
            Method::POST,
            "/api/v2/permissions/revoke".into(),
            Some(serde_json::json!({"subject": {"type": "user", "id": user},
                                    "object": {"type": "workflow", "id": "w"}})),
            400,
        ),
        (
            Method::POST,
            "/api/v2/permissions/revoke".into(),
            Some(serde_json::json!({"subject": {"type": "group", "id": 9999},
                                    "object": {"type": "app", "id": "a"}})),
            404,
        ),
        (
            Method::PATCH,
            format!("/api/v2/users/{user}"),
            Some(
                serde_json::json!({"operations": [{"op": "replace", "path": "/active", "value": "no"}]}),
            ),
            400,
        ),
        (
            Method::PATCH,
            format!("/api/v2/users/{user}"),
            Some(
                serde_json::json!({"operations": [{"op": "replace", "path": "/email", "value": "x"}]}),
            ),
            400,
        ),
    ];
    for (method, path, body, want) in cases {
        let (status, answer) = send(&server, method.clone(), &path, body, tok).await;
        assert_eq!(status, want, "{method} {path}: {answer}");
        assert_eq!(answer["success"], Value::Bool(false), "{method} {path}");
    }
    assert_eq!(
        server.with_org(FakeOrg::expected_state),
        state,
        "refused writes change nothing"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn prerendered_answers_equal_rendered_ones_and_writes_drop_them() {
    use reqwest::Method;
    let plain = start(FakeConfig::default()).await;
    let fast = start(FakeConfig {
        prerendered: true,
        ..FakeConfig::default()
    })
    .await;
    for list in [
        "users",
        "groups",
        "apps",
        "folders",
        "resources",
        "workflows",
    ] {
        let path = format!("/api/v2/{list}");
        assert_eq!(
            get_json(&fast, &path).await,
            get_json(&plain, &path).await,
            "{path}"
        );
    }
    // Pages and auth are not prerendered answers.
    assert_eq!(
        get_json(&fast, "/api/v2/users?limit=2").await,
        get_json(&plain, "/api/v2/users?limit=2").await
    );
    let (status, _) = send(&fast, Method::GET, "/api/v2/users", None, None).await;
    assert_eq!(status, 401);
    // A write is seen by the next list, as without prerendering.
    let m = fast.with_org(FakeOrg::expected_state).memberships[0].clone();
    let path = format!("/api/v2/groups/{}/members/{}", m.group_id, m.user_id);
    let tok = Some("fake-token");
    assert_eq!(send(&fast, Method::DELETE, &path, None, tok).await.0, 200);
    assert_eq!(send(&plain, Method::DELETE, &path, None, tok).await.0, 200);
    assert_eq!(
        get_json(&fast, "/api/v2/groups").await,
        get_json(&plain, "/api/v2/groups").await
    );
}
