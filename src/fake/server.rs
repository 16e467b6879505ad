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

mod inject;
mod routes;

pub(super) use routes::{Answer, Route, bad};

use super::faults::{Fault, RetryAfter};
use super::org::FakeOrg;
use crate::model::Dialect;
use inject::{corrupt_text, reshape, take_fault};
use routes::{answer_value, dialect_of, route};

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
