//! The simulated Retool's HTTP side: an axum server on loopback speaking the v2
//! (`/api/v2`) and v1 (`/api/v1`) dialects, with auth, scopes, latency, faults
//! and a request log for tests.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::faults::{Fault, RetryAfter};
use super::org::FakeOrg;
use crate::model::{GroupId, ObjectType, Subject, UserId};

/// How the fake server behaves. `Default`: ephemeral port, token `fake-token`,
/// every scope, no latency, no faults, no version, every endpoint present.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// 0 = an ephemeral port.
    pub port: u16,
    /// The bearer token clients must send.
    pub token: String,
    /// v2 scope names the token holds (`users:read`, ...); `None` = all.
    pub scopes: Option<BTreeSet<String>>,
    /// Added to every response (each request waits on its own).
    pub latency: Duration,
    pub faults: Vec<Fault>,
    /// What `GET /api/checkHealth` reports; `None` = no `version` field.
    pub version: Option<String>,
    /// Paths answered with 404 as an older self-hosted Retool would, relative to
    /// the dialect root: `/workflows`, `/user_invites`, `/permissions`, ...
    pub missing_endpoints: Vec<String>,
    /// Render the v2 lists (`GET /users`, `/groups`, ... without a query) once at
    /// start and serve those bytes, so a benchmark measures the client and not
    /// this server turning 250 000 members into JSON on the same cores. Ignored
    /// when faults are configured; any write drops the rendered answers.
    pub prerendered: bool,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            port: 0,
            token: "fake-token".to_string(),
            scopes: None,
            latency: Duration::ZERO,
            faults: Vec::new(),
            version: None,
            missing_endpoints: Vec::new(),
            prerendered: false,
        }
    }
}

/// One request the server saw (the query never holds the token: it travels in a header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// The status answered; 0 for a request that stalled.
    pub status: u16,
}

struct Shared {
    org: RwLock<FakeOrg>,
    config: FakeConfig,
    fault_uses: Vec<AtomicU32>,
    request_count: AtomicU64,
    log: Mutex<Vec<RequestRecord>>,
    shutdown: watch::Receiver<bool>,
    /// Answers rendered at start by path (see [`FakeConfig::prerendered`]).
    prerendered: Mutex<HashMap<String, Bytes>>,
}

/// A running simulated Retool on loopback. Call [`FakeServer::shutdown`] to stop
/// it and wait; dropping it stops it without waiting.
pub struct FakeServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for FakeServer {
    /// A server dropped without [`FakeServer::shutdown`] (a failing test) still
    /// stops accepting and releases stalled requests.
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl FakeServer {
    /// Binds `127.0.0.1:config.port` and serves `org` until [`FakeServer::shutdown`].
    pub async fn start(org: FakeOrg, config: FakeConfig) -> std::io::Result<FakeServer> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let (stop, shutdown) = watch::channel(false);
        let shared = Arc::new(Shared {
            org: RwLock::new(org),
            fault_uses: config.faults.iter().map(|_| AtomicU32::new(0)).collect(),
            config,
            request_count: AtomicU64::new(0),
            log: Mutex::new(Vec::new()),
            shutdown: shutdown.clone(),
            prerendered: Mutex::new(HashMap::new()),
        });
        if shared.config.prerendered && shared.config.faults.is_empty() {
            prerender(&shared);
        }
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let mut signal = shutdown;
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = signal.wait_for(|stop| *stop).await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "fake Retool server stopped with an error");
            }
        });
        Ok(FakeServer {
            addr,
            shared,
            stop,
            task: Some(task),
        })
    }

    /// The instance root, for example `http://127.0.0.1:41234` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Mutates the live organization (for example to apply scripted changes
    /// between two snapshots). Requests after this call see the change.
    pub fn update_org<R>(&self, f: impl FnOnce(&mut FakeOrg) -> R) -> R {
        let mut org = self
            .shared
            .org
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        f(&mut org)
    }

    /// Reads the live organization (for example `expected_state()`).
    pub fn with_org<R>(&self, f: impl FnOnce(&FakeOrg) -> R) -> R {
        let org = self
            .shared
            .org
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        f(&org)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn request_count(&self) -> u64 {
        self.shared.request_count.load(Ordering::SeqCst)
    }

    /// One line for a startup banner (never includes the token).
    pub fn describe(&self) -> String {
        let counts = self.with_org(FakeOrg::describe);
        format!(
            "fake Retool at {} (API v2 at /api/v2, v1 at /api/v1): {counts}",
            self.base_url()
        )
    }

    /// Stops accepting, releases stalled requests, and waits for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }

    /// Record counts of the live organization, per kind.
    pub fn counts(&self) -> crate::model::Counts {
        self.with_org(FakeOrg::counts)
    }
}

/// Serves until Ctrl-C, then shuts down (for `retool-audit fake-server`).
pub async fn serve_until_ctrl_c(server: FakeServer) -> std::io::Result<()> {
    let waited = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    waited
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = json_body(Body::from(bytes));
    *resp.status_mut() = status;
    resp
}

fn error(dialect: Dialect, status: StatusCode, message: &str) -> Response {
    let body = match dialect {
        Dialect::V2 => json!({"success": false, "message": message}),
        Dialect::V1 => {
            let code = match status.as_u16() {
                400 => "bad_request",
                401 => "unauthorized",
                403 => "forbidden",
                404 => "not_found",
                429 => "rate_limited",
                _ => "internal_error",
            };
            json!({"message": message, "code": code})
        }
    };
    json_response(status, &body)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    V1,
    V2,
}

/// Which route a request hit, after the dialect prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Route {
    Health,
    V2Users,
    V2Resources,
    V2Groups,
    V2Group(String),
    V2Apps,
    V2Folders,
    V2Workflows,
    V2Invites,
    V2Tokens,
    V2Spaces,
    V2ListObjects,
    V2AccessList(String, String),
    V2RemoveMember(String, String),
    V2AddMembers(String),
    V2Revoke,
    V2PatchUser(String),
    V1Users,
    V1Apps,
    V1Groups,
    V1Resources,
    V1Folders,
}

impl Route {
    fn scope(&self) -> Option<&'static str> {
        Some(match self {
            Route::Health => return None,
            Route::V2Users | Route::V1Users => "users:read",
            Route::V2Resources | Route::V1Resources => "resources:read",
            Route::V2Groups | Route::V2Group(_) | Route::V1Groups => "groups:read",
            Route::V2Apps | Route::V1Apps => "apps:read",
            Route::V2Folders | Route::V1Folders => "folders:read",
            Route::V2Workflows => "workflows:read",
            Route::V2Invites => "user_invites:read",
            Route::V2Tokens => "access_tokens:read",
            Route::V2Spaces => "spaces:read",
            Route::V2ListObjects | Route::V2AccessList(..) => "permissions:read",
            Route::V2RemoveMember(..) | Route::V2AddMembers(_) => "groups:write",
            Route::V2Revoke => "permissions:write",
            Route::V2PatchUser(_) => "users:write",
        })
    }

    /// Whether the route changes the organization.
    fn writes(&self) -> bool {
        matches!(
            self,
            Route::V2RemoveMember(..)
                | Route::V2AddMembers(_)
                | Route::V2Revoke
                | Route::V2PatchUser(_)
        )
    }
}

fn route(method: &Method, path: &str) -> Option<(Dialect, Route)> {
    let trimmed = path.trim_end_matches('/');
    if trimmed == "/api/checkHealth" && method == Method::GET {
        return Some((Dialect::V2, Route::Health));
    }
    if let Some(rest) = trimmed.strip_prefix("/api/v2") {
        let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let r = match (method.clone(), segs.as_slice()) {
            (Method::GET, ["users"]) => Route::V2Users,
            (Method::GET, ["resources"]) => Route::V2Resources,
            (Method::GET, ["groups"]) => Route::V2Groups,
            (Method::GET, ["groups", id]) => Route::V2Group((*id).to_string()),
            (Method::GET, ["apps"]) => Route::V2Apps,
            (Method::GET, ["folders"]) => Route::V2Folders,
            (Method::GET, ["workflows"]) => Route::V2Workflows,
            (Method::GET, ["user_invites"]) => Route::V2Invites,
            (Method::GET, ["access_tokens"]) => Route::V2Tokens,
            (Method::GET, ["spaces"]) => Route::V2Spaces,
            (Method::POST, ["permissions", "listObjects"]) => Route::V2ListObjects,
            (Method::GET, ["permissions", "accessList", t, id]) => {
                Route::V2AccessList((*t).to_string(), (*id).to_string())
            }
            (Method::DELETE, ["groups", id, "members", user]) => {
                Route::V2RemoveMember((*id).to_string(), (*user).to_string())
            }
            (Method::POST, ["groups", id, "members"]) => Route::V2AddMembers((*id).to_string()),
            (Method::POST, ["permissions", "revoke"]) => Route::V2Revoke,
            (Method::PATCH, ["users", id]) => Route::V2PatchUser((*id).to_string()),
            _ => return None,
        };
        return Some((Dialect::V2, r));
    }
    if let Some(rest) = trimmed.strip_prefix("/api/v1") {
        let r = match (method.clone(), rest) {
            (Method::GET, "/users") => Route::V1Users,
            (Method::GET, "/apps") => Route::V1Apps,
            (Method::GET, "/groups") => Route::V1Groups,
            (Method::GET, "/resources") => Route::V1Resources,
            (Method::GET, "/folders") => Route::V1Folders,
            _ => return None,
        };
        return Some((Dialect::V1, r));
    }
    None
}

fn dialect_of(path: &str) -> Dialect {
    if path.starts_with("/api/v1") {
        Dialect::V1
    } else {
        Dialect::V2
    }
}

/// Query parameters, percent-decoded.
fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let n = shared.request_count.fetch_add(1, Ordering::SeqCst) + 1;
    let path = uri.path().to_string();
    let log_index = {
        let mut log = shared.log.lock().unwrap_or_else(PoisonError::into_inner);
        log.push(RequestRecord {
            method: method.to_string(),
            path: path.clone(),
            query: uri.query().map(str::to_string),
            status: 0,
        });
        log.len() - 1
    };
    let stalls = shared
        .config
        .faults
        .iter()
        .any(|f| matches!(f.unwrap_path().0, Fault::Stall { at_request } if *at_request == n));
    if stalls {
        let mut stop = shared.shutdown.clone();
        let _ = stop.wait_for(|s| *s).await;
        return error(
            dialect_of(&path),
            StatusCode::SERVICE_UNAVAILABLE,
            "server shutting down",
        );
    }
    if !shared.config.latency.is_zero() {
        tokio::time::sleep(shared.config.latency).await;
    }
    let resp = respond(&shared, &method, &uri, &headers, &body).await;
    if let Some(rec) = shared
        .log
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_mut(log_index)
    {
        rec.status = resp.status().as_u16();
    }
    resp
}

/// Takes one use of the first counted fault of kind `pick` that matches `path`.
fn take_fault<'a>(
    shared: &'a Shared,
    path: &str,
    pick: impl Fn(&Fault) -> bool,
) -> Option<&'a Fault> {
    for (i, f) in shared.config.faults.iter().enumerate() {
        let (inner, filter) = f.unwrap_path();
        if !pick(inner) || !path.contains(filter) {
            continue;
        }
        let Some(times) = f.times() else { continue };
        let used = &shared.fault_uses[i];
        let took = used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |u| {
                (u < times).then_some(u + 1)
            })
            .is_ok();
        if took {
            return Some(inner);
        }
    }
    None
}

/// Whether a permanent fault of kind `pick` applies to `path`.
fn has_fault(shared: &Shared, path: &str, pick: impl Fn(&Fault) -> bool) -> bool {
    shared.config.faults.iter().any(|f| {
        let (inner, filter) = f.unwrap_path();
        pick(inner) && path.contains(filter)
    })
}

fn http_date(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

async fn respond(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let path = uri.path();
    let dialect = dialect_of(path);
    let routed = route(method, path);
    if !matches!(routed, Some((_, Route::Health))) {
        let expected = format!("Bearer {}", shared.config.token);
        let ok = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == expected);
        if !ok {
            return error(
                dialect,
                StatusCode::UNAUTHORIZED,
                "Invalid or missing API token: send `Authorization: Bearer <token>`",
            );
        }
    }
    let missing = shared.config.missing_endpoints.iter().any(|m| {
        let m = m.trim_end_matches('/');
        let rel = path
            .strip_prefix("/api/v2")
            .or_else(|| path.strip_prefix("/api/v1"))
            .unwrap_or(path);
        !m.is_empty() && (rel.starts_with(m) || path.starts_with(m))
    });
    let Some((dialect, route)) = routed.filter(|_| !missing) else {
        return error(
            dialect,
            StatusCode::NOT_FOUND,
            &format!("Not found: {method} {path}"),
        );
    };
    if let (Some(scope), Some(scopes)) = (route.scope(), &shared.config.scopes) {
        if !scopes.contains(scope) {
            return error(
                dialect,
                StatusCode::FORBIDDEN,
                &format!("API token is missing the required scope: {scope}"),
            );
        }
    }
    // Counted faults, in a fixed order.
    if let Some(Fault::RateLimit { retry_after, .. }) =
        take_fault(shared, path, |f| matches!(f, Fault::RateLimit { .. }))
    {
        let mut resp = error(
            dialect,
            StatusCode::TOO_MANY_REQUESTS,
            "Rate limit exceeded",
        );
        let value = match retry_after {
            Some(RetryAfter::Seconds(s)) => Some(s.to_string()),
            Some(RetryAfter::HttpDate) => {
                Some(http_date(chrono::Utc::now() + chrono::Duration::seconds(1)))
            }
            None => None,
        };
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    if let Some(Fault::ServerError { status, .. }) =
        take_fault(shared, path, |f| matches!(f, Fault::ServerError { .. }))
    {
        let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return error(dialect, status, "Internal server error (injected fault)");
    }
    if let Some(Fault::Slow { delay, .. }) =
        take_fault(shared, path, |f| matches!(f, Fault::Slow { .. }))
    {
        tokio::time::sleep(*delay).await;
    }
    if take_fault(shared, path, |f| matches!(f, Fault::NonJson { .. })).is_some() {
        let mut resp = Response::new(Body::from(
            "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>\
             <hr><center>nginx</center></body></html>",
        ));
        *resp.status_mut() = StatusCode::BAD_GATEWAY;
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        return resp;
    }
    if take_fault(shared, path, |f| matches!(f, Fault::Garbage { .. })).is_some() {
        let mut resp = Response::new(Body::from(
            "upstream connect error or disconnect/reset before headers. reset reason: overflow",
        ));
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        return resp;
    }
    let truncate = take_fault(shared, path, |f| matches!(f, Fault::Truncate { .. })).is_some();
    let reset = take_fault(shared, path, |f| matches!(f, Fault::Reset { .. })).is_some();
    if method == Method::GET
        && uri.query().is_none()
        && let Some(bytes) = shared
            .prerendered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(path)
    {
        return json_body(Body::from(bytes.clone()));
    }
    let result = if route.writes() {
        shared
            .prerendered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        let mut org = shared.org.write().unwrap_or_else(PoisonError::into_inner);
        super::writes::answer_write(&mut org, &route, body)
    } else {
        let org = shared.org.read().unwrap_or_else(PoisonError::into_inner);
        answer_value(shared, &org, &route, uri, path, body)
    };
    match result {
        Ok(mut v) => {
            reshape(shared, path, &mut v);
            let mut bytes = serde_json::to_vec(&v).unwrap_or_default();
            corrupt_text(shared, path, &mut bytes);
            if truncate || reset {
                bytes.truncate(bytes.len() / 2);
            }
            let resp = if reset {
                // Hyper sends what the stream yields, then drops the connection
                // when it yields an error: the client sees a body cut mid-way.
                let chunks: [Result<Vec<u8>, std::io::Error>; 2] = [
                    Ok(bytes),
                    Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "injected connection reset",
                    )),
                ];
                Body::from_stream(futures_util::stream::iter(chunks))
            } else {
                Body::from(bytes)
            };
            json_body(resp)
        }
        Err((status, message)) => error(dialect, status, &message),
    }
}

fn json_body(body: Body) -> Response {
    let mut resp = Response::new(body);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

/// Renders the v2 list answers into [`Shared::prerendered`].
fn prerender(shared: &Shared) {
    let org = shared.org.read().unwrap_or_else(PoisonError::into_inner);
    let mut rendered = HashMap::new();
    for list in [
        "users",
        "groups",
        "apps",
        "folders",
        "resources",
        "workflows",
        "user_invites",
        "access_tokens",
    ] {
        let path = format!("/api/v2/{list}");
        let Ok(uri) = path.parse::<Uri>() else {
            continue;
        };
        let Some((_, route)) = route(&Method::GET, &path) else {
            continue;
        };
        if let Ok(v) = answer_value(shared, &org, &route, &uri, &path, &Bytes::new())
            && let Ok(bytes) = serde_json::to_vec(&v)
        {
            rendered.insert(path, Bytes::from(bytes));
        }
    }
    *shared
        .prerendered
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = rendered;
}

/// The records of an answer: a list's `data` items, or a single `data` object.
fn records(v: &mut Value) -> Vec<&mut Value> {
    match v.get_mut("data") {
        Some(Value::Array(items)) => items.iter_mut().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

/// Applies the permanent wire-shape faults that change JSON values.
fn reshape(shared: &Shared, path: &str, v: &mut Value) {
    if has_fault(shared, path, |f| matches!(f, Fault::ExtraFields)) {
        let extra = json!({
            "x_future_field": {"nested": [1, "two", null], "flag": true},
            "x_note": "not in the spec",
        });
        let extend = |target: &mut Value| {
            if let (Some(o), Some(e)) = (target.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
        };
        for r in records(v) {
            extend(r);
        }
        extend(v);
    }
    if has_fault(shared, path, |f| matches!(f, Fault::DropNulls)) {
        for r in records(v) {
            if let Some(o) = r.as_object_mut() {
                o.retain(|_, value| !value.is_null());
            }
        }
    }
    if has_fault(shared, path, |f| matches!(f, Fault::WrongType)) {
        if let Some(Value::Object(first)) = records(v).into_iter().next() {
            for value in first.values_mut() {
                if let Some(b) = value.as_bool() {
                    *value = Value::String(b.to_string());
                }
            }
        }
    }
}

/// Applies the permanent faults that put bad text into the serialized body:
/// the first `"first_name":"` gets invalid UTF-8 or a lone surrogate escape.
fn corrupt_text(shared: &Shared, path: &str, bytes: &mut Vec<u8>) {
    let insert: &[u8] = if has_fault(shared, path, |f| matches!(f, Fault::InvalidUtf8)) {
        b"\xff\xfe"
    } else if has_fault(shared, path, |f| matches!(f, Fault::LoneSurrogate)) {
        b"\\ud83d"
    } else {
        return;
    };
    let needle = b"\"first_name\":\"";
    if let Some(pos) = bytes.windows(needle.len()).position(|w| w == needle) {
        let at = pos + needle.len();
        bytes.splice(at..at, insert.iter().copied());
    }
}

pub(super) type Answer = Result<Value, (StatusCode, String)>;

pub(super) fn bad(message: impl Into<String>) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, message.into())
}

fn envelope(data: Vec<Value>, total: usize, next_token: Option<String>) -> Value {
    json!({
        "success": true,
        "data": data,
        "total_count": total,
        "has_more": next_token.is_some(),
        "next_token": next_token,
    })
}

fn encode_token(offset: usize) -> String {
    format!("ofs_{:x}", offset ^ 0x5f5f)
}

fn decode_token(token: &str) -> Option<usize> {
    let hex = token.strip_prefix("ofs_")?;
    usize::from_str_radix(hex, 16).ok().map(|v| v ^ 0x5f5f)
}

/// v2 `limit`/`next_token` pagination over `items` (rendered lazily).
fn paginate_v2<T>(
    shared: &Shared,
    uri: &Uri,
    path: &str,
    items: &[T],
    render: impl Fn(&T) -> Value,
    users: bool,
) -> Answer {
    let pairs = query_pairs(uri);
    let wrong_total = users && has_fault(shared, path, |f| matches!(f, Fault::WrongTotal));
    let total = items.len() + usize::from(wrong_total);
    let limit = match param(&pairs, "limit") {
        None => {
            if param(&pairs, "next_token").is_some() {
                return Err(bad("next_token is only valid together with limit"));
            }
            return Ok(envelope(items.iter().map(render).collect(), total, None));
        }
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| bad(format!("limit must be an integer from 1 to 100, not `{l}`")))?,
    };
    let offset = match param(&pairs, "next_token") {
        None => 0,
        Some(t) => decode_token(t)
            .filter(|o| *o <= items.len())
            .ok_or_else(|| bad("next_token is invalid or expired"))?,
    };
    let end = (offset + limit).min(items.len());
    let mut data: Vec<Value> = items[offset..end].iter().map(&render).collect();
    let second_page = users && offset > 0 && offset == limit;
    if second_page && has_fault(shared, path, |f| matches!(f, Fault::DuplicateItems)) {
        if let Some(prev) = items.get(offset - 1) {
            data.insert(0, render(prev));
        }
    }
    if second_page
        && has_fault(shared, path, |f| matches!(f, Fault::MissingItems))
        && !data.is_empty()
    {
        data.remove(0);
    }
    let next = if users && has_fault(shared, path, |f| matches!(f, Fault::LoopingNextToken)) {
        Some(encode_token(limit.min(items.len())))
    } else if users
        && end < items.len()
        && has_fault(shared, path, |f| matches!(f, Fault::EmptyNextToken))
    {
        Some(String::new())
    } else if end < items.len() {
        Some(encode_token(end))
    } else {
        None
    };
    Ok(envelope(data, total, next))
}

/// v1 `page`/`pageSize` pagination.
fn paginate_v1<T>(
    shared: &Shared,
    uri: &Uri,
    path: &str,
    items: &[T],
    render: impl Fn(&T) -> Value,
    users: bool,
) -> Answer {
    let pairs = query_pairs(uri);
    let page = match param(&pairs, "page") {
        None => 1,
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| bad(format!("page must be an integer >= 1, not `{p}`")))?,
    };
    let size = match param(&pairs, "pageSize") {
        None => 100,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|s| (1..=100).contains(s))
            .ok_or_else(|| {
                bad(format!(
                    "pageSize must be an integer from 1 to 100, not `{s}`"
                ))
            })?,
    };
    let start = (page - 1).saturating_mul(size).min(items.len());
    let end = start.saturating_add(size).min(items.len());
    let mut data: Vec<Value> = items[start..end].iter().map(&render).collect();
    if users && page == 2 && has_fault(shared, path, |f| matches!(f, Fault::DuplicateItems)) {
        if let Some(prev) = start.checked_sub(1).and_then(|i| items.get(i)) {
            data.insert(0, render(prev));
        }
    }
    let wrong_total = users && has_fault(shared, path, |f| matches!(f, Fault::WrongTotal));
    Ok(json!({
        "data": data,
        "total": items.len() + usize::from(wrong_total),
        "page": page,
        "pageSize": size,
    }))
}

fn everything(data: Vec<Value>) -> Value {
    let n = data.len();
    envelope(data, n, None)
}

fn answer_value(
    shared: &Shared,
    org: &FakeOrg,
    route: &Route,
    uri: &Uri,
    path: &str,
    body: &Bytes,
) -> Answer {
    match route {
        Route::Health => {
            let mut v = json!({"status": "HEALTHY"});
            if let (Some(ver), Some(o)) = (&shared.config.version, v.as_object_mut()) {
                o.insert("version".into(), json!(ver));
            }
            Ok(v)
        }
        Route::V2Users => paginate_v2(shared, uri, path, &org.users, FakeOrg::user_v2, true),
        Route::V2Resources => paginate_v2(
            shared,
            uri,
            path,
            &org.resources,
            FakeOrg::resource_v2,
            false,
        ),
        Route::V2Groups => {
            let emails = org.emails();
            Ok(everything(
                org.groups
                    .iter()
                    .map(|g| org.group_v2(g, &emails))
                    .collect(),
            ))
        }
        Route::V2Group(id) => {
            let gid: i64 = id
                .parse()
                .map_err(|_| bad(format!("group id must be an integer, not `{id}`")))?;
            let g = org
                .groups
                .iter()
                .find(|g| g.id == gid)
                .ok_or_else(|| (StatusCode::NOT_FOUND, format!("Group {gid} not found")))?;
            let emails = org.emails();
            Ok(json!({"success": true, "data": org.group_v2(g, &emails)}))
        }
        Route::V2Apps => Ok(everything(org.apps.iter().map(FakeOrg::app_v2).collect())),
        Route::V2Folders => Ok(everything(
            org.folders.iter().map(FakeOrg::folder_v2).collect(),
        )),
        Route::V2Workflows => Ok(everything(
            org.workflows.iter().map(FakeOrg::workflow_v2).collect(),
        )),
        Route::V2Invites => Ok(everything(
            org.invites
                .iter()
                .map(|i| org.invite_record_v2(i))
                .collect(),
        )),
        Route::V2Tokens => Ok(everything(
            org.tokens.iter().map(FakeOrg::token_v2).collect(),
        )),
        Route::V2Spaces => Ok(everything(
            org.spaces.iter().map(FakeOrg::space_v2).collect(),
        )),
        Route::V2ListObjects => {
            let req: Value = serde_json::from_slice(body)
                .map_err(|e| bad(format!("request body is not valid JSON: {e}")))?;
            let subject = match (
                req.pointer("/subject/type").and_then(Value::as_str),
                req.pointer("/subject/id"),
            ) {
                (Some("group"), Some(id)) => Subject::Group(GroupId(
                    id.as_i64()
                        .ok_or_else(|| bad("subject.id of a group must be a number"))?,
                )),
                (Some("user"), Some(id)) => Subject::User(UserId(
                    id.as_str()
                        .ok_or_else(|| bad("subject.id of a user must be a string"))?
                        .to_string(),
                )),
                _ => return Err(bad("subject must be {type: \"group\"|\"user\", id}")),
            };
            let object_type = match req.get("object_type").and_then(Value::as_str) {
                Some("folder") => ObjectType::Folder,
                Some("app") => ObjectType::App,
                Some("resource") => ObjectType::Resource,
                Some("resource_configuration") => return Ok(everything(Vec::new())),
                _ => return Err(bad("object_type must be folder, app or resource")),
            };
            let exists = match &subject {
                Subject::Group(g) => org.groups.iter().any(|x| x.id == g.0),
                Subject::User(u) => org.users.iter().any(|x| x.id == u.0),
            };
            if !exists {
                return Err((StatusCode::NOT_FOUND, "Subject not found".to_string()));
            }
            Ok(everything(org.list_objects(&subject, object_type)))
        }
        Route::V2AccessList(t, id) => {
            let object_type =
                ObjectType::parse(t).ok_or_else(|| bad(format!("unknown object type `{t}`")))?;
            Ok(json!({"success": true, "data": org.access_list(object_type, id)}))
        }
        Route::V2RemoveMember(..)
        | Route::V2AddMembers(_)
        | Route::V2Revoke
        | Route::V2PatchUser(_) => Err((
            StatusCode::INTERNAL_SERVER_ERROR,
            "write routes are answered by answer_write".to_string(),
        )),
        Route::V1Users => {
            let groups = org.v1_user_groups();
            paginate_v1(
                shared,
                uri,
                path,
                &org.users,
                |u| {
                    let g = groups.get(u.id.as_str()).cloned().unwrap_or_default();
                    org.user_v1_with_groups(u, g)
                },
                true,
            )
        }
        Route::V1Apps => paginate_v1(shared, uri, path, &org.apps, FakeOrg::app_v1, false),
        Route::V1Groups => {
            let emails = org.emails();
            let data: Vec<Value> = org
                .groups
                .iter()
                .map(|g| FakeOrg::group_v1(g, &emails))
                .collect();
            Ok(json!({"data": data}))
        }
        Route::V1Resources => Ok(json!({
            "data": org.resources.iter().map(FakeOrg::resource_v1).collect::<Vec<_>>()
        })),
        Route::V1Folders => {
            let pairs = query_pairs(uri);
            let filter = param(&pairs, "folderType");
            Ok(json!({
                "data": org
                    .folders
                    .iter()
                    .filter(|f| filter.is_none_or(|t| f.folder_type == t))
                    .map(FakeOrg::folder_v1)
                    .collect::<Vec<_>>()
            }))
        }
    }
}
