//! Collector tests against a small spec-shaped organization on 127.0.0.1:0.

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::extract::Query;
use axum::http::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::*;
use crate::model::{AccessLevel, Dialect, GroupId, ObjectId, UserId};
use crate::retool::test_server::{
    TestServer, v2_app, v2_envelope, v2_folder, v2_group, v2_resource, v2_user,
};

fn respond(status: u16, body: Value) -> Response<Body> {
    match Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
    {
        Ok(r) => r,
        Err(e) => panic!("test response: {e}"),
    }
}

/// Knobs for the test organization.
#[derive(Clone, Copy, Default)]
struct Org {
    users: usize,
    users_forbidden: bool,
    /// Report this many more users than exist.
    overstate_users: u64,
    /// Answer user subjects of listObjects with 400 (Retool < 2.7).
    no_user_subjects: bool,
}

/// Three groups (All Users, Admins with a member the user list lacks, Empty),
/// two apps, a folder, a resource; workflows need a missing scope, invites are
/// absent (404); group 2 owns app a1, group 1 uses folder app_1, user_0001 has a
/// direct edit grant on resource r1.
fn org(o: Org) -> Router {
    let api = Router::new()
        .route(
            "/users",
            get(move |Query(q): Query<HashMap<String, String>>| async move {
                if o.users_forbidden {
                    return respond(403, json!({"success": false, "message": "missing scope users:read"}));
                }
                let start: usize = q
                    .get("next_token")
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
                let end = (start + 100).min(o.users);
                let next = (end < o.users).then(|| end.to_string());
                respond(
                    200,
                    v2_envelope(
                        (start..end).map(v2_user).collect(),
                        o.users as u64 + o.overstate_users,
                        next.as_deref(),
                    ),
                )
            }),
        )
        .route(
            "/groups",
            get(move || async move {
                let ids: Vec<String> = (0..o.users).map(|n| format!("user_{n:04}")).collect();
                let all: Vec<(&str, bool)> = ids.iter().map(|s| (s.as_str(), false)).collect();
                respond(
                    200,
                    v2_envelope(
                        vec![
                            v2_group(1, "All Users", &all),
                            v2_group(2, "Admins", &[("user_0000", true), ("user_ghost", false)]),
                            v2_group(3, "Empty", &[]),
                        ],
                        3,
                        None,
                    ),
                )
            }),
        )
        .route(
            "/apps",
            get(|| async { respond(200, v2_envelope(vec![v2_app("a1", "app_1"), v2_app("a2", "app_1")], 2, None)) }),
        )
        .route("/folders", get(|| async { respond(200, v2_envelope(vec![v2_folder("app_1")], 1, None)) }))
        .route(
            "/resources",
            get(|| async { respond(200, v2_envelope(vec![v2_resource("r1")], 1, None)) }),
        )
        .route(
            "/workflows",
            get(|| async {
                respond(403, json!({"success": false, "message": "Token is missing the scope workflows:read"}))
            }),
        )
        .route(
            "/access_tokens",
            get(|| async {
                respond(200, v2_envelope(vec![json!({
                    "id": "t1", "label": "audit", "description": null, "last4": "abcd",
                    "owner_legacy_id": 1, "scopes": ["users:read"],
                    "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"
                })], 1, None))
            }),
        )
        .route(
            "/permissions/listObjects",
            post(move |axum::Json(body): axum::Json<Value>| async move {
                let subject = &body["subject"];
                let object_type = body["object_type"].as_str().unwrap_or("");
                let data = match (subject["type"].as_str(), object_type) {
                    (Some("user"), _) if o.no_user_subjects => {
                        return respond(400, json!({"success": false, "message": "subject.type must be group"}));
                    }
                    (Some("group"), "app") if subject["id"] == json!(2) => {
                        json!([{"type": "app", "id": "a1", "access_level": "own"}])
                    }
                    (Some("group"), "folder") if subject["id"] == json!(1) => {
                        json!([{"type": "folder", "id": "app_1", "access_level": "use"}])
                    }
                    (Some("user"), "resource") if subject["id"] == json!("user_0001") => {
                        json!([{"type": "resource", "id": "r1", "access_level": "edit"}])
                    }
                    _ => json!([]),
                };
                let n = data.as_array().map_or(0, Vec::len);
                respond(200, json!({"success": true, "data": data, "total_count": n, "next_token": null, "has_more": false}))
            }),
        );
    Router::new().nest("/api/v2", api).route(
        "/api/checkHealth",
        get(|| async { respond(200, json!({"version": "3.148.0"})) }),
    )
}

async fn run(o: Org, options: CollectOptions) -> Result<Collected, CollectError> {
    let server = TestServer::start(org(o)).await;
    collect(&server.client(Dialect::V2), &options).await
}

#[tokio::test]
async fn a_v2_collection_is_complete_and_says_what_was_not_collected() {
    let org_cfg = Org {
        users: 250,
        ..Org::default()
    };
    let c = run(org_cfg, CollectOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let s = &c.state;
    assert_eq!(s.users.len(), 250);
    assert_eq!(s.groups.len(), 3);
    assert_eq!(s.memberships.len(), 252);
    assert_eq!(
        (
            s.apps.len(),
            s.folders.len(),
            s.resources.len(),
            s.access_tokens.len()
        ),
        (2, 1, 1, 1)
    );
    assert!(s.memberships.iter().any(|m| m.group_id == GroupId(2)
        && m.user_id == UserId("user_0000".into())
        && m.is_group_admin));
    let grants: Vec<(String, String, AccessLevel)> = s
        .grants
        .iter()
        .map(|g| (g.subject.to_string(), g.object.id.0.clone(), g.level))
        .collect();
    assert_eq!(
        grants,
        vec![
            ("group:1".to_string(), "app_1".to_string(), AccessLevel::Use),
            ("group:2".to_string(), "a1".to_string(), AccessLevel::Own),
            (
                "user:user_0001".to_string(),
                "r1".to_string(),
                AccessLevel::Edit
            ),
        ]
    );
    assert_eq!(
        s.not_collected
            .get(&EntityKind::Workflows)
            .map(String::as_str),
        Some("missing scope workflows:read")
    );
    assert_eq!(
        s.not_collected
            .get(&EntityKind::UserInvites)
            .map(String::as_str),
        Some("not available on this Retool version (404)")
    );
    assert!(!s.not_collected.contains_key(&EntityKind::Grants));

    let info = &c.info;
    assert_eq!(info.api_version.as_deref(), Some("3.148.0"));
    assert!(info.source_url.ends_with("/api/v2"), "{}", info.source_url);
    assert_eq!(info.expected_totals.get(&EntityKind::Users), Some(&250));
    assert_eq!(info.expected_totals.get(&EntityKind::Apps), Some(&2));
    assert!(!info.expected_totals.contains_key(&EntityKind::Workflows));
    assert_eq!(info.tool_version, crate::VERSION);
    assert!(info.started_at <= info.finished_at);
    // 3 groups × 3 types + 250 users × 3 types.
    let lo = info
        .endpoints
        .iter()
        .find(|e| e.endpoint == "POST /permissions/listObjects");
    assert_eq!(lo.map(|e| e.requests), Some(9 + 750));
    let names: Vec<&str> = info.endpoints.iter().map(|e| e.endpoint.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "endpoint stats are sorted");
    assert!(
        info.notes.iter().any(|n| n.contains("user user_ghost")),
        "dangling membership is noted: {:?}",
        info.notes
    );
    assert!(
        s.memberships
            .iter()
            .any(|m| m.user_id == UserId("user_ghost".into())),
        "and kept"
    );
}

#[tokio::test]
async fn forbidden_users_fail_the_run() {
    let err = run(
        Org {
            users: 3,
            users_forbidden: true,
            ..Org::default()
        },
        CollectOptions::default(),
    )
    .await
    .err();
    let msg = err.as_ref().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        matches!(
            &err,
            Some(CollectError::Api {
                stage: EntityKind::Users,
                error: ApiError::MissingScope { .. }
            })
        ),
        "{msg}"
    );
    assert!(
        msg.contains("collecting users failed") && msg.contains("GET /users"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_wrong_total_fails_as_incomplete() {
    let err = run(
        Org {
            users: 120,
            overstate_users: 5,
            ..Org::default()
        },
        CollectOptions::default(),
    )
    .await
    .err();
    match err {
        Some(CollectError::Incomplete {
            endpoint,
            received,
            reported,
        }) => {
            assert_eq!(
                (endpoint.as_str(), received, reported),
                ("GET /users", 120, 125)
            );
        }
        other => panic!("expected Incomplete, got {other:?}"),
    }
}

#[tokio::test]
async fn user_grants_over_the_limit_are_recorded_as_partial() {
    let options = CollectOptions {
        user_grants: true,
        user_grants_max_users: Some(10),
        ..CollectOptions::default()
    };
    let c = run(
        Org {
            users: 11,
            ..Org::default()
        },
        options,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let reason = c
        .state
        .not_collected
        .get(&EntityKind::Grants)
        .cloned()
        .unwrap_or_default();
    assert!(
        reason.starts_with("partial") && reason.contains("11 users"),
        "{reason}"
    );
    assert_eq!(c.state.grants.len(), 2, "group grants are still collected");
    let lo = c
        .info
        .endpoints
        .iter()
        .find(|e| e.endpoint == "POST /permissions/listObjects");
    assert_eq!(
        lo.map(|e| e.requests),
        Some(9),
        "no per-user requests were made"
    );
}

#[tokio::test]
async fn old_versions_without_user_subjects_keep_group_grants() {
    let c = run(
        Org {
            users: 4,
            no_user_subjects: true,
            ..Org::default()
        },
        CollectOptions::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let reason = c
        .state
        .not_collected
        .get(&EntityKind::Grants)
        .cloned()
        .unwrap_or_default();
    assert!(
        reason.contains("400") && reason.starts_with("partial"),
        "{reason}"
    );
    assert_eq!(c.state.grants.len(), 2);
}

#[tokio::test]
async fn a_v1_collection_reads_what_v1_has_and_notes_the_rest() {
    let api = Router::new()
        .route(
            "/users",
            get(|| async {
                respond(200, json!({"data": [
                    {"id": "u1", "email": "a@x.io", "isAdmin": true, "isDisabled": false, "userType": "default"},
                    {"id": "u2", "email": "b@x.io", "isAdmin": false, "isDisabled": true, "userType": "endUser"}
                ], "total": 2, "page": 1, "pageSize": 100}))
            }),
        )
        .route(
            "/groups",
            get(|| async { respond(200, json!({"data": [{"id": 1, "name": "All Users", "members": [{"id": "u1", "email": "a@x.io"}, {"id": "u2", "email": "b@x.io"}]}]})) }),
        )
        .route("/apps", get(|| async { respond(200, json!({"data": [{"id": "a1", "name": "App", "folderId": "f1"}], "total": 1})) }))
        .route("/resources", get(|| async { respond(200, json!({"data": [{"id": "r1", "name": "db", "type": "postgresql"}]})) }))
        .route("/folders", get(|| async { respond(200, json!({"data": [{"id": "f1", "name": "F", "folderType": "app"}]})) }));
    let server = TestServer::start(Router::new().nest("/api/v1", api)).await;
    let c = collect(&server.client(Dialect::V1), &CollectOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.info.dialect, Dialect::V1);
    assert_eq!(c.info.api_version, None);
    assert_eq!(
        (
            c.state.users.len(),
            c.state.memberships.len(),
            c.state.apps.len()
        ),
        (2, 2, 1)
    );
    assert_eq!(c.state.resources[0].name, "db");
    assert_eq!(c.state.apps[0].folder_id, Some(ObjectId("f1".into())));
    for kind in [
        EntityKind::Workflows,
        EntityKind::Grants,
        EntityKind::UserInvites,
        EntityKind::AccessTokens,
    ] {
        assert_eq!(
            c.state.not_collected.get(&kind).map(String::as_str),
            Some("not available in the v1 API"),
            "{kind}"
        );
    }
}

/// The catalogue decides which endpoints a snapshot cannot do without: each
/// endpoint in turn answers 403, and the run fails exactly for the mandatory
/// ones (the others are recorded as not collected).
#[tokio::test]
async fn a_forbidden_endpoint_fails_the_run_exactly_when_the_catalogue_says_it_is_mandatory() {
    for e in crate::retool::endpoints::CATALOGUE {
        let forbidden = format!("/api/v2{}", e.path);
        let app = org(Org {
            users: 3,
            ..Org::default()
        })
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let forbidden = forbidden.clone();
                async move {
                    if request.uri().path() == forbidden {
                        return respond(
                            403,
                            json!({"success": false, "message": format!("missing scope {}", e.scope)}),
                        );
                    }
                    next.run(request).await
                }
            },
        ));
        let server = TestServer::start(app).await;
        let result = collect(&server.client(Dialect::V2), &CollectOptions::default()).await;
        match result {
            Ok(_) if !e.mandatory => {}
            Ok(_) => panic!("{}: mandatory, yet the run went on without it", e.name),
            Err(_) if e.mandatory => {}
            Err(err) => panic!("{}: optional, yet the run failed: {err}", e.name),
        }
    }
}
