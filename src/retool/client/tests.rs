//! Client tests against small axum handlers on 127.0.0.1:0.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::Query;
use axum::http::{HeaderMap as AxHeaders, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::*;
use crate::model::{AccessLevel, GroupId, ObjectId, ObjectType, Subject, UserId};
use crate::retool::test_server::{
    TEST_TOKEN, TestServer, fast_config, v2_envelope, v2_group, v2_resource, v2_user,
};

type Q = Query<HashMap<String, String>>;

fn respond(status: u16, headers: &[(&str, &str)], body: impl Into<String>) -> Response<Body> {
    let mut b = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    match b.body(Body::from(body.into())) {
        Ok(r) => r,
        Err(e) => panic!("test response: {e}"),
    }
}

fn ok_json(v: Value) -> Response<Body> {
    respond(200, &[], v.to_string())
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

/// `/api/v2/users` serving `total` users in pages of 100 with opaque cursors.
fn paged_users(total: usize) -> Router {
    Router::new().route(
        "/api/v2/users",
        get(move |Query(q): Q| async move {
            let start: usize = q
                .get("next_token")
                .and_then(|t| t.strip_prefix("cur-"))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(total);
            let end = (start + limit).min(total);
            let data = (start..end).map(v2_user).collect();
            let next = (end < total).then(|| format!("cur-{end}"));
            ok_json(v2_envelope(data, total as u64, next.as_deref()))
        }),
    )
}

fn stat(client: &Client, endpoint: &str) -> EndpointStats {
    client
        .stats()
        .into_iter()
        .find(|s| s.endpoint == endpoint)
        .unwrap_or_default()
}

#[tokio::test]
async fn asks_for_the_whole_list_in_one_request_by_default() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let router = Router::new().route(
        "/api/v2/users",
        get(move |Query(q): Q| {
            let log = log.clone();
            async move {
                log.lock().map(|mut l| l.push(q.clone())).ok();
                let data = (0..2_450).map(v2_user).collect();
                ok_json(v2_envelope(data, 2_450, None))
            }
        }),
    );
    let server = TestServer::start(router).await;
    let client = server.client(Dialect::V2);
    let listed = client.users().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(listed.items.len(), 2_450);
    assert_eq!(listed.shortfall(), None);
    let queries = seen.lock().map(|q| q.clone()).unwrap_or_default();
    assert_eq!(queries.len(), 1, "one request: {queries:?}");
    assert!(
        queries[0].is_empty(),
        "no limit, no cursor: {:?}",
        queries[0]
    );
}

#[tokio::test]
async fn a_server_that_pages_an_unlimited_request_is_followed_with_full_pages() {
    // The cursor server answers an unlimited request with everything; this one
    // caps it at 100 anyway and hands out a cursor, as a proxy or an older
    // Retool might.
    let router = Router::new().route(
        "/api/v2/users",
        get(|Query(q): Q| async move {
            let start: usize = q
                .get("next_token")
                .and_then(|t| t.strip_prefix("cur-"))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            if start > 0 && q.get("limit").map(String::as_str) != Some("100") {
                return respond(
                    400,
                    &[],
                    r#"{"success":false,"message":"next_token needs limit"}"#,
                );
            }
            let end = (start + 100).min(250);
            let next = (end < 250).then(|| format!("cur-{end}"));
            ok_json(v2_envelope(
                (start..end).map(v2_user).collect(),
                250,
                next.as_deref(),
            ))
        }),
    );
    let server = TestServer::start(router).await;
    let client = server.client(Dialect::V2);
    let listed = client.users().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(listed.items.len(), 250);
    assert_eq!(stat(&client, "GET /users").pages, 3);
}

#[tokio::test]
async fn follows_cursor_across_many_pages() {
    let server = TestServer::start(paged_users(2_450)).await;
    let client = server.client_with(Dialect::V2, |c| c.page_size = Some(100));
    let listed = client.users().await.map_err(|e| e.to_string());
    let listed = listed.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(listed.items.len(), 2_450);
    assert_eq!(listed.reported_total, Some(2_450));
    assert_eq!(listed.shortfall(), None);
    assert_eq!(listed.items[2_449].id, UserId("user_2449".into()));
    let s = stat(&client, "GET /users");
    assert_eq!(
        (s.requests, s.pages, s.records, s.retries),
        (25, 25, 2_450, 0)
    );
}

#[tokio::test]
async fn duplicates_across_pages_are_dropped_and_counted() {
    let router = Router::new().route(
        "/api/v2/users",
        get(|Query(q): Q| async move {
            if !q.contains_key("next_token") {
                ok_json(v2_envelope((0..5).map(v2_user).collect(), 7, Some("p2")))
            } else {
                // Records 3 and 4 shifted onto page 2 as well.
                ok_json(v2_envelope((3..7).map(v2_user).collect(), 7, None))
            }
        }),
    );
    let server = TestServer::start(router).await;
    let client = server.client(Dialect::V2);
    let listed = client.users().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(listed.items.len(), 7);
    assert_eq!(listed.shortfall(), None);
    assert_eq!(stat(&client, "GET /users").duplicates_dropped, 2);
}

#[tokio::test]
async fn a_looping_cursor_is_an_error_not_a_hang() {
    let router = Router::new().route(
        "/api/v2/users",
        get(|Query(q): Q| async move {
            let n = if q.contains_key("next_token") { 1 } else { 0 };
            ok_json(v2_envelope(vec![v2_user(n)], 1_000, Some("same-token")))
        }),
    );
    let server = TestServer::start(router).await;
    let err = server.client(Dialect::V2).users().await.err();
    match err {
        Some(ApiError::Pagination { endpoint, detail }) => {
            assert_eq!(endpoint, "GET /users");
            assert!(detail.contains("looping"), "{detail}");
        }
        other => panic!("expected a pagination error, got {other:?}"),
    }
}

#[tokio::test]
async fn has_more_without_a_cursor_is_an_error() {
    let router = Router::new().route(
        "/api/v2/resources",
        get(|| async {
            ok_json(
                json!({"success": true, "data": [v2_resource("r1")], "total_count": 5,
                           "next_token": null, "has_more": true}),
            )
        }),
    );
    let server = TestServer::start(router).await;
    let err = server.client(Dialect::V2).resources().await.err();
    assert!(
        matches!(&err, Some(ApiError::Pagination { detail, .. }) if detail.contains("next_token")),
        "{err:?}"
    );
}

#[tokio::test]
async fn retry_after_is_honoured_then_the_request_succeeds() {
    let hits = counter();
    let h = hits.clone();
    let router = Router::new().route(
        "/api/v2/apps",
        get(move || {
            let h = h.clone();
            async move {
                if h.fetch_add(1, Ordering::SeqCst) == 0 {
                    respond(
                        429,
                        &[("retry-after", "1")],
                        r#"{"success":false,"message":"slow down"}"#,
                    )
                } else {
                    ok_json(v2_envelope(vec![], 0, None))
                }
            }
        }),
    );
    let server = TestServer::start(router).await;
    let client = server.client_with(Dialect::V2, |c| c.max_backoff = Duration::from_secs(3));
    let started = Instant::now();
    let listed = client.apps().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(listed.items.is_empty());
    // Jittered backoff alone would wait at most a few milliseconds here.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    let s = stat(&client, "GET /apps");
    assert_eq!((s.requests, s.retries), (2, 1));
}

/// Tells the test when the client starts waiting out a 429.
struct OnRetry(tokio::sync::mpsc::UnboundedSender<Instant>);

impl Progress for OnRetry {
    fn page(&self, _: &str, _: u64, _: Option<u64>) {}
    fn retry_wait(&self, _: &str, _: Duration, _: &str) {
        let _ = self.0.send(Instant::now());
    }
}

/// `GET /apps` answers 429 (`Retry-After: 1`) once, after `delay`; `GET
/// /groups` records when it arrives. Returns the router and that record.
fn rate_limited_apps(delay: Duration) -> (Router, Arc<std::sync::Mutex<Option<Instant>>>) {
    let hits = counter();
    let groups_arrived = Arc::new(std::sync::Mutex::new(None));
    let arrived = groups_arrived.clone();
    let router = Router::new()
        .route(
            "/api/v2/apps",
            get(move || {
                let hits = hits.clone();
                async move {
                    if hits.fetch_add(1, Ordering::SeqCst) == 0 {
                        tokio::time::sleep(delay).await;
                        respond(
                            429,
                            &[("retry-after", "1")],
                            r#"{"success":false,"message":"slow down"}"#,
                        )
                    } else {
                        ok_json(v2_envelope(vec![], 0, None))
                    }
                }
            }),
        )
        .route(
            "/api/v2/groups",
            get(move || {
                let arrived = arrived.clone();
                async move {
                    arrived.lock().map(|mut a| *a = Some(Instant::now())).ok();
                    ok_json(v2_envelope(vec![], 0, None))
                }
            }),
        );
    (router, groups_arrived)
}

/// Runs `GET /apps` (429 once) and `GET /groups` on one client: `/groups` is
/// started `queued` (right away, behind `/apps`' only permit) or after the
/// 429. Returns how long after the client began waiting out the 429
/// `/groups` reached the server.
async fn groups_after_a_429(queued: bool) -> Duration {
    let (router, groups_arrived) =
        rate_limited_apps(Duration::from_millis(if queued { 300 } else { 0 }));
    let server = TestServer::start(router).await;
    let mut cfg = fast_config(server.api_root(Dialect::V2), Dialect::V2);
    cfg.max_backoff = Duration::from_secs(3);
    cfg.concurrency = 1;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let client =
        Client::with_progress(cfg, Some(Arc::new(OnRetry(tx)))).unwrap_or_else(|e| panic!("{e}"));
    let apps = tokio::spawn({
        let client = client.clone();
        async move { client.apps().await.map(|l| l.items.len()) }
    });
    let groups = {
        let client = client.clone();
        async move { client.groups().await.map(|(l, _)| l.items.len()) }
    };
    let (waiting_since, groups) = if queued {
        tokio::task::yield_now().await; // `/apps` holds the permit
        let groups = tokio::spawn(groups);
        let waiting_since = rx.recv().await;
        (waiting_since, groups.await.map_err(|e| e.to_string()))
    } else {
        let waiting_since = rx.recv().await;
        (waiting_since, Ok(groups.await))
    };
    let Some(waiting_since) = waiting_since else {
        panic!("the client never reported a retry");
    };
    assert_eq!(groups.map(|g| g.map_err(|e| e.to_string())), Ok(Ok(0)));
    let apps = apps.await.map_err(|e| e.to_string());
    assert_eq!(apps.map(|r| r.map_err(|e| e.to_string())), Ok(Ok(0)));
    let arrived = groups_arrived.lock().ok().and_then(|a| *a);
    let Some(arrived) = arrived else {
        panic!("GET /groups never reached the server");
    };
    arrived.saturating_duration_since(waiting_since)
}

#[tokio::test]
async fn a_429_pauses_requests_made_after_it() {
    let after = groups_after_a_429(false).await;
    assert!(
        after >= Duration::from_millis(950),
        "GET /groups went out {after:?} into another request's Retry-After"
    );
}

#[tokio::test]
async fn a_429_pauses_requests_already_queued_for_a_permit() {
    let after = groups_after_a_429(true).await;
    assert!(
        after >= Duration::from_millis(950),
        "GET /groups, queued behind the rate-limited request, went out {after:?} into its Retry-After"
    );
}

#[test]
fn retry_after_parses_seconds_and_http_dates() {
    let mut h = HeaderMap::new();
    h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
    assert_eq!(parse_retry_after(&h), Some(Duration::from_secs(7)));
    let later = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
    h.insert(
        RETRY_AFTER,
        HeaderValue::from_str(&later).unwrap_or(HeaderValue::from_static("x")),
    );
    let d = parse_retry_after(&h).unwrap_or_default();
    assert!(
        d > Duration::from_secs(25) && d <= Duration::from_secs(30),
        "{d:?}"
    );
    h.insert(
        RETRY_AFTER,
        HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
    );
    assert_eq!(
        parse_retry_after(&h),
        Some(Duration::ZERO),
        "a past date means now"
    );
    h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
    assert_eq!(parse_retry_after(&h), None);
}

#[test]
fn backoff_grows_but_stays_under_the_cap() {
    for attempt in 1..30 {
        let d = full_jitter(Duration::from_millis(500), Duration::from_secs(30), attempt);
        assert!(d <= Duration::from_secs(30));
        if attempt == 1 {
            assert!(d <= Duration::from_millis(500));
        }
    }
}

#[tokio::test]
async fn a_burst_of_server_errors_is_survived() {
    let hits = counter();
    let h = hits.clone();
    let router = Router::new().route(
        "/api/v2/folders",
        get(move || {
            let h = h.clone();
            async move {
                match h.fetch_add(1, Ordering::SeqCst) {
                    0 => respond(500, &[], "{}"),
                    1 => respond(502, &[], "<html>bad gateway</html>"),
                    2 => respond(503, &[], r#"{"message":"maintenance"}"#),
                    _ => ok_json(v2_envelope(
                        vec![crate::retool::test_server::v2_folder("app_1")],
                        1,
                        None,
                    )),
                }
            }
        }),
    );
    let server = TestServer::start(router).await;
    let client = server.client(Dialect::V2);
    let listed = client.folders().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(listed.items.len(), 1);
    assert_eq!(stat(&client, "GET /folders").retries, 3);
}

#[tokio::test]
async fn an_exhausted_retry_budget_names_endpoint_and_status() {
    let hits = counter();
    let h = hits.clone();
    let router = Router::new().route(
        "/api/v2/groups",
        get(move || {
            h.fetch_add(1, Ordering::SeqCst);
            async {
                respond(
                    503,
                    &[],
                    r#"{"success":false,"message":"upstream unavailable"}"#,
                )
            }
        }),
    );
    let server = TestServer::start(router).await;
    let client = server.client_with(Dialect::V2, |c| c.max_retries = 3);
    let err = client.groups().await.err();
    let msg = err.as_ref().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        matches!(
            err,
            Some(ApiError::Server {
                status: 503,
                attempts: 4,
                ..
            })
        ),
        "{msg}"
    );
    assert!(
        msg.contains("GET /groups") && msg.contains("503") && msg.contains("upstream unavailable"),
        "{msg}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn endless_429_ends_as_rate_limited() {
    let router = Router::new().route("/api/v2/apps", get(|| async { respond(429, &[], "{}") }));
    let server = TestServer::start(router).await;
    let err = server.client(Dialect::V2).apps().await.err();
    assert!(
        matches!(err, Some(ApiError::RateLimited { attempts: 5, .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn unauthorized_says_to_check_the_token_and_is_not_retried() {
    let hits = counter();
    let h = hits.clone();
    let router = Router::new().route(
        "/api/v2/users",
        get(move || {
            h.fetch_add(1, Ordering::SeqCst);
            async { respond(401, &[], r#"{"success":false,"message":"Invalid token"}"#) }
        }),
    );
    let server = TestServer::start(router).await;
    let err = server.client(Dialect::V2).users().await.err();
    let msg = err.as_ref().map(|e| e.to_string()).unwrap_or_default();
    assert!(matches!(err, Some(ApiError::Unauthorized { .. })), "{msg}");
    assert!(
        msg.contains("GET /users") && msg.contains("RETOOL_API_TOKEN"),
        "{msg}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn forbidden_names_the_missing_scope() {
    let router = Router::new().route(
        "/api/v2/workflows",
        get(|| async {
            respond(
                403,
                &[],
                r#"{"success":false,"message":"This API token does not have the required scope: workflows:read."}"#,
            )
        }),
    );
    let server = TestServer::start(router).await;
    let err = server.client(Dialect::V2).workflows().await.err();
    match &err {
        Some(ApiError::MissingScope {
            endpoint, scope, ..
        }) => {
            assert_eq!(endpoint, "GET /workflows");
            assert_eq!(scope.as_deref(), Some("workflows:read"));
        }
        other => panic!("expected MissingScope, got {other:?}"),
    }
    assert_eq!(
        err.and_then(|e| e.is_optional_skip()).as_deref(),
        Some("missing scope workflows:read")
    );
    assert_eq!(scope_in("Forbidden"), None);
    assert_eq!(
        scope_in("Required scopes: groups:read, users:read"),
        Some("groups:read".into())
    );
}

#[tokio::test]
async fn a_truncated_body_is_retried_then_reported_as_decode_error() {
    let hits = counter();
    let h = hits.clone();
    let router = Router::new().route(
        "/api/v2/apps",
        get(move || {
            h.fetch_add(1, Ordering::SeqCst);
            async { respond(200, &[], r#"{"success":true,"data":[{"id":"a1","na"#) }
        }),
    );
    let server = TestServer::start(router).await;
    let err = server.client(Dialect::V2).apps().await.err();
    let msg = err.as_ref().map(|e| e.to_string()).unwrap_or_default();
    assert!(matches!(err, Some(ApiError::Decode { .. })), "{msg}");
    assert!(
        msg.contains("GET /apps") && msg.contains("truncated"),
        "{msg}"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        5,
        "truncation is treated as transient"
    );
}

#[tokio::test]
async fn an_html_page_is_reported_as_not_json() {
    let router = Router::new().route(
        "/api/v2/apps",
        get(|| async { respond(200, &[], "<!doctype html><title>Sign in</title>") }),
    );
    let server = TestServer::start(router).await;
    let err = server.client(Dialect::V2).apps().await.err();
    let msg = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("GET /apps") && msg.contains("HTML"), "{msg}");
}

#[tokio::test]
async fn a_wrong_field_type_names_the_field_path() {
    let router = Router::new().route(
        "/api/v2/users",
        get(|| async {
            let mut bad = v2_user(1);
            bad["is_admin"] = json!("yes");
            ok_json(v2_envelope(vec![v2_user(0), bad], 2, None))
        }),
    );
    let server = TestServer::start(router).await;
    let err = server.client(Dialect::V2).users().await.err();
    match err {
        Some(ApiError::Decode { endpoint, path, .. }) => {
            assert_eq!(endpoint, "GET /users");
            assert_eq!(path, "data[1].is_admin");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn the_token_never_appears_in_errors_even_if_the_server_echoes_it() {
    let router = Router::new()
        .route(
            "/api/v2/users",
            get(|headers: AxHeaders| async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                respond(
                    400,
                    &[],
                    json!({"message": format!("bad request with {auth}")}).to_string(),
                )
            }),
        )
        .route(
            "/api/v2/groups",
            get(|headers: AxHeaders| async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                respond(
                    403,
                    &[],
                    json!({"message": format!("forbidden for {auth}")}).to_string(),
                )
            }),
        );
    let server = TestServer::start(router).await;
    let client = server.client(Dialect::V2);
    let e1 = client.users().await.err();
    let e2 = client.groups().await.err();
    // The bearer header did reach the server (the echo proves it) ...
    assert!(format!("{e1:?}").contains("Bearer [redacted]"), "{e1:?}");
    // ... but no message, Display or Debug, carries the token.
    for text in [
        format!("{e1:?}"),
        e1.map(|e| e.to_string()).unwrap_or_default(),
        format!("{e2:?}"),
        e2.map(|e| e.to_string()).unwrap_or_default(),
        format!("{client:?}"),
    ] {
        assert!(!text.contains(TEST_TOKEN), "token leaked: {text}");
    }
    let bad = Client::new(ClientConfig::new(
        server.api_root(Dialect::V2),
        Dialect::V2,
        Secret::new(format!("{TEST_TOKEN}\n")),
    ));
    let msg = bad.err().map(|e| format!("{e} {e:?}")).unwrap_or_default();
    assert!(msg.contains("token") && !msg.contains(TEST_TOKEN), "{msg}");
}

#[tokio::test]
async fn a_refused_connection_is_not_retried_and_names_the_host() {
    // Bind then drop a listener to get a port nobody listens on.
    let port = match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(a) => a.port(),
        Err(e) => panic!("{e}"),
    };
    let root =
        Url::parse(&format!("http://127.0.0.1:{port}/api/v2")).unwrap_or_else(|e| panic!("{e}"));
    let mut cfg = crate::retool::test_server::fast_config(root, Dialect::V2);
    cfg.max_retries = 3;
    let client = Client::new(cfg).unwrap_or_else(|e| panic!("{e}"));
    let err = client.users().await.err();
    let msg = err.as_ref().map(|e| e.to_string()).unwrap_or_default();
    assert!(matches!(err, Some(ApiError::Unreachable { .. })), "{msg}");
    assert!(
        msg.contains(&format!("cannot reach 127.0.0.1:{port}")) && msg.contains("refused"),
        "{msg}"
    );
    let stats = client.stats();
    let users = stats.iter().find(|s| s.endpoint == "GET /users");
    assert_eq!(
        users.map(|s| (s.requests, s.retries)),
        Some((1, 0)),
        "not retried"
    );
}

#[tokio::test]
async fn grants_send_the_subject_and_ignore_screens() {
    let router = Router::new().route(
        "/api/v2/permissions/listObjects",
        post(|axum::Json(body): axum::Json<Value>| async move {
            let subject = &body["subject"];
            let data = match (subject["type"].as_str(), body["object_type"].as_str()) {
                (Some("group"), Some("app")) if subject["id"] == json!(7) => json!([
                    {"type": "app", "id": "a1", "access_level": "edit"},
                    {"type": "screen", "id": "s1", "access_level": "own"},
                    {"type": "app", "id": "a2", "access_level": "use"}
                ]),
                (Some("user"), Some("resource")) if subject["id"] == json!("user_1") => {
                    json!([{"type": "resource", "id": "r1", "access_level": "own"}])
                }
                _ => json!([]),
            };
            let n = data.as_array().map_or(0, Vec::len) as u64;
            ok_json(json!({"success": true, "data": data, "total_count": n, "next_token": null, "has_more": false}))
        }),
    );
    let server = TestServer::start(router).await;
    let client = server.client(Dialect::V2);
    let g = client
        .grants(&Subject::Group(GroupId(7)), ObjectType::App)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let levels: Vec<(ObjectId, AccessLevel)> = g
        .items
        .iter()
        .map(|g| (g.object.id.clone(), g.level))
        .collect();
    assert_eq!(
        levels,
        vec![
            (ObjectId("a1".into()), AccessLevel::Edit),
            (ObjectId("a2".into()), AccessLevel::Use)
        ]
    );
    assert_eq!(
        g.shortfall(),
        None,
        "screens count against total_count but are not grants"
    );
    let u = client
        .grants(
            &Subject::User(UserId("user_1".into())),
            ObjectType::Resource,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(u.items.len(), 1);
    assert_eq!(u.items[0].subject, Subject::User(UserId("user_1".into())));
}

#[tokio::test]
async fn v1_pages_by_number_and_maps_camel_case() {
    let router = Router::new().route(
        "/api/v1/users",
        get(|Query(q): Q| async move {
            let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
            let size: usize = q.get("pageSize").and_then(|p| p.parse().ok()).unwrap_or(100);
            let total = 250;
            let start = (page - 1) * size;
            let data: Vec<Value> = (start..(start + size).min(total))
                .map(|n| {
                    json!({"id": format!("u-{n:03}"), "email": format!("u{n}@x.io"), "firstName": "A",
                           "lastName": "B", "isAdmin": false, "isDisabled": n == 3,
                           "userType": "default", "groups": [], "createdAt": "2023-01-01T00:00:00Z"})
                })
                .collect();
            ok_json(json!({"data": data, "total": total, "page": page, "pageSize": size}))
        }),
    );
    let server = TestServer::start(router).await;
    let client = server.client(Dialect::V1);
    let listed = client.users().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(listed.items.len(), 250);
    assert_eq!(listed.shortfall(), None);
    assert!(!listed.items[3].active && listed.items[4].active);
    assert_eq!(stat(&client, "GET /users").pages, 3);
}

#[tokio::test]
async fn v1_server_ignoring_page_is_a_pagination_error() {
    let router = Router::new().route(
        "/api/v1/apps",
        get(|| async {
            let data: Vec<Value> = (0..100)
                .map(|n| json!({"id": format!("a{n}"), "name": "x"}))
                .collect();
            ok_json(json!({"data": data, "total": 500}))
        }),
    );
    let server = TestServer::start(router).await;
    let err = server.client(Dialect::V1).apps().await.err();
    assert!(
        matches!(&err, Some(ApiError::Pagination { detail, .. }) if detail.contains("ignore")),
        "{err:?}"
    );
}

#[tokio::test]
async fn v1_has_no_workflows_or_grants() {
    let server = TestServer::start(Router::new()).await;
    let client = server.client(Dialect::V1);
    let err = client.workflows().await.err();
    assert_eq!(
        err.and_then(|e| e.is_optional_skip()).as_deref(),
        Some("not available in the v1 API")
    );
    let err = client
        .grants(&Subject::Group(GroupId(1)), ObjectType::App)
        .await
        .err();
    assert!(matches!(err, Some(ApiError::Unsupported { .. })));
}

#[tokio::test]
async fn check_health_version_or_none() {
    let router = Router::new().route(
        "/api/checkHealth",
        get(|| async { ok_json(json!({"version": "3.148.0", "status": "HEALTHY"})) }),
    );
    let server = TestServer::start(router).await;
    let v = server.client(Dialect::V2).server_version().await;
    assert_eq!(v.ok().flatten().as_deref(), Some("3.148.0"));

    let empty = TestServer::start(Router::new()).await;
    let v = empty.client(Dialect::V2).server_version().await;
    assert_eq!(v.ok(), Some(None), "404 means unknown, not an error");
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let in_flight = counter();
    let peak = counter();
    let (f, p) = (in_flight.clone(), peak.clone());
    let router = Router::new().route(
        "/api/v2/permissions/listObjects",
        post(move || {
            let (f, p) = (f.clone(), p.clone());
            async move {
                let now = f.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(15)).await;
                f.fetch_sub(1, Ordering::SeqCst);
                ok_json(v2_envelope(vec![], 0, None))
            }
        }),
    );
    let server = TestServer::start(router).await;
    let client = server.client_with(Dialect::V2, |c| c.concurrency = 3);
    let mut tasks = tokio::task::JoinSet::new();
    for g in 0..24 {
        let c = client.clone();
        tasks.spawn(async move { c.grants(&Subject::Group(GroupId(g)), ObjectType::App).await });
    }
    while let Some(r) = tasks.join_next().await {
        assert!(matches!(r, Ok(Ok(_))));
    }
    let peak = peak.load(Ordering::SeqCst);
    assert!(peak <= 3, "peak in flight {peak}");
    assert!(peak >= 2, "requests should overlap, peak {peak}");
    assert_eq!(stat(&client, "POST /permissions/listObjects").requests, 24);
}

#[tokio::test]
async fn groups_yield_memberships_with_admin_flags() {
    let router = Router::new().route(
        "/api/v2/groups",
        get(|| async {
            ok_json(v2_envelope(
                vec![
                    v2_group(
                        1,
                        "All Users",
                        &[("user_0000", false), ("user_0001", false)],
                    ),
                    v2_group(2, "Admins", &[("user_0000", true)]),
                ],
                2,
                None,
            ))
        }),
    );
    let server = TestServer::start(router).await;
    let (groups, members) = server
        .client(Dialect::V2)
        .groups()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(groups.items.len(), 2);
    assert_eq!(members.len(), 3);
    assert!(
        members
            .iter()
            .any(|m| m.group_id == GroupId(2) && m.is_group_admin)
    );
}

#[tokio::test]
async fn a_slow_server_ends_as_a_timeout() {
    let router = Router::new().route(
        "/api/v2/apps",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            ok_json(v2_envelope(vec![], 0, None))
        }),
    );
    let server = TestServer::start(router).await;
    let client = server.client_with(Dialect::V2, |c| {
        c.request_timeout = Duration::from_millis(100);
        c.max_retries = 1;
    });
    let err = client.apps().await.err();
    let msg = err.as_ref().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        matches!(err, Some(ApiError::Timeout { attempts: 2, .. })),
        "{msg}"
    );
    assert!(msg.contains("GET /apps"), "{msg}");
}

#[tokio::test]
async fn max_rps_spaces_out_requests() {
    let router = Router::new().route(
        "/api/v2/permissions/listObjects",
        post(|| async { ok_json(v2_envelope(vec![], 0, None)) }),
    );
    let server = TestServer::start(router).await;
    let client = server.client_with(Dialect::V2, |c| c.max_rps = Some(50.0));
    let started = Instant::now();
    for g in 0..6 {
        let r = client
            .grants(&Subject::Group(GroupId(g)), ObjectType::Folder)
            .await;
        assert!(r.is_ok(), "{r:?}");
    }
    // Six starts at 50/s need at least five 20 ms intervals.
    assert!(
        started.elapsed() >= Duration::from_millis(95),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn only_failures_retrying_cannot_fix_end_a_run_at_once() {
    let permanent = [
        (
            "client error (Connect): dns error: failed to lookup address information: Name or service not known",
            "DNS",
        ),
        (
            "dns error: failed to lookup address information: Temporary failure in name resolution",
            "DNS",
        ),
        (
            "tcp connect error: Connection refused (os error 111)",
            "refused",
        ),
        (
            "client error (Connect): invalid peer certificate: UnknownIssuer",
            "certificate",
        ),
        ("invalid peer certificate: NotValidForName", "certificate"),
    ];
    for (chain, what) in permanent {
        let found = permanent_transport_failure(chain);
        assert!(
            found.is_some_and(|f| f.contains(what)),
            "{chain}: {found:?}"
        );
    }
    for transient in [
        "connection reset by peer (os error 104)",
        "operation timed out",
        "error reading a body from connection: unexpected EOF",
        "tls handshake eof",
    ] {
        assert_eq!(permanent_transport_failure(transient), None, "{transient}");
    }
}
