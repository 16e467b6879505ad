//! The HTTP client: auth, timeouts, retries with backoff, bounded concurrency, an
//! optional request-rate limit and per-endpoint statistics. What it reads (the
//! listing functions that return [`crate::model`] types, paging in both
//! dialects) is in `reads`, driven by the endpoint catalogue.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::{Semaphore, SemaphorePermit};
use url::Url;

use super::decode::is_truncated;
use super::error::ApiError;
use super::{Secret, instance_root};
use crate::model::{Dialect, EndpointStats};

/// Records per page requested from paginated endpoints when pages are asked for
/// (the API maximum).
pub const PAGE_SIZE: u64 = 100;
/// Extra pages allowed beyond `total / PAGE_SIZE` before pagination is declared
/// a loop (a server whose cursor never advances must not hang a nightly run).
const PAGE_SLACK: u64 = 100;
/// Page cap when the server reports no total at all.
const PAGE_CAP_WITHOUT_TOTAL: u64 = 100_000;

/// Everything the client needs; build with [`ClientConfig::new`] and adjust.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Where the API lives, for example `https://acme.retool.com/api/v2`.
    pub api_root: Url,
    /// Where `GET /api/checkHealth` lives (`None`: do not ask for the version).
    pub instance_root: Option<Url>,
    pub dialect: Dialect,
    pub token: Secret,
    /// Time allowed to establish a connection (default 10 s).
    pub connect_timeout: Duration,
    /// Time allowed for one whole request, body included (default 60 s).
    pub request_timeout: Duration,
    /// Requests in flight at once, across all tasks sharing the client (default
    /// [`ClientConfig::DEFAULT_CONCURRENCY`]).
    pub concurrency: usize,
    /// Client-side cap on requests started per second, shared (default none).
    pub max_rps: Option<f64>,
    /// Records per page for the v2 lists that page (`/users`, `/resources`):
    /// `None` (the default) asks for the whole list in one response, as the API
    /// does without `limit`, so 50 000 users are one request instead of a
    /// chain of 500 that no concurrency can shorten; `Some(1..=100)` pages.
    pub page_size: Option<u64>,
    /// Retries per request after the first attempt (default 6).
    pub max_retries: u32,
    /// First backoff; doubles per retry, with full jitter (default 500 ms).
    pub initial_backoff: Duration,
    /// Longest wait between attempts, `Retry-After` included (default 30 s).
    pub max_backoff: Duration,
    pub user_agent: String,
}

impl ClientConfig {
    /// Requests in flight at once unless configured (the `--concurrency` default).
    pub const DEFAULT_CONCURRENCY: usize = 16;

    pub fn new(api_root: Url, dialect: Dialect, token: Secret) -> ClientConfig {
        let instance_root = instance_root(&api_root, dialect);
        ClientConfig {
            api_root,
            instance_root,
            dialect,
            token,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            concurrency: Self::DEFAULT_CONCURRENCY,
            max_rps: None,
            page_size: None,
            max_retries: 6,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            user_agent: format!("retool-audit/{}", crate::VERSION),
        }
    }
}

/// Told about every page read and every wait before a retry, as they happen
/// (progress bars). Called on the request path, so it must be cheap and must
/// not block.
pub trait Progress: Send + Sync {
    /// One page (or one `listObjects` answer) of `endpoint` added `records`;
    /// `reported_total` is the API's total for the listing, when it gives one.
    fn page(&self, endpoint: &str, records: u64, reported_total: Option<u64>);
    /// A request to `endpoint` failed transiently and waits `wait` before retrying.
    fn retry_wait(&self, endpoint: &str, wait: Duration, reason: &str);
}

/// A listing's records and what the API said about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed<T> {
    /// The endpoint read (method and path template, for example `GET /users`).
    pub endpoint: String,
    pub items: Vec<T>,
    /// The API's `total_count` (v2) or `total` (v1), when it reports one.
    pub reported_total: Option<u64>,
    /// Records received that count against `reported_total`: distinct records
    /// for entity lists; for grants, every item `listObjects` returned
    /// (including kinds we ignore, such as screens, and repeats).
    pub received: u64,
}

impl<T> Listed<T> {
    /// `Some((received, reported))` when the API reported a total that differs
    /// from what was received.
    pub fn shortfall(&self) -> Option<(u64, u64)> {
        match self.reported_total {
            Some(r) if r != self.received => Some((self.received, r)),
            _ => None,
        }
    }

    /// The same listing with every item converted.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Listed<U> {
        Listed {
            endpoint: self.endpoint,
            items: self.items.into_iter().map(f).collect(),
            reported_total: self.reported_total,
            received: self.received,
        }
    }
}

/// A shareable Retool API client (`Clone` is cheap: one `Arc`).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("api_root", &self.inner.config.api_root.as_str())
            .field("dialect", &self.inner.config.dialect)
            .finish_non_exhaustive()
    }
}

struct Inner {
    http: reqwest::Client,
    config: ClientConfig,
    auth: HeaderValue,
    /// `concurrency` permits; every attempt holds one while it is in flight.
    permits: Semaphore,
    /// Bulk requests pass this one-permit turnstile before queueing for a
    /// permit, so at most one bulk request waits ahead of interactive ones.
    bulk_turnstile: Semaphore,
    /// Next start time allowed by `max_rps`.
    pacer: Option<(Mutex<Instant>, Duration)>,
    /// No request starts before this instant: a 429 pauses every request for
    /// its wait, not just the one that got it, so a rate-limited server sees
    /// the whole client back off instead of a retry storm.
    cooldown: Mutex<Option<Instant>>,
    stats: Mutex<BTreeMap<String, EndpointStats>>,
    /// The (endpoint, cause) pairs whose retries were already warned about:
    /// later retries of the same pair are logged at info level (`-v`).
    warned: Mutex<HashSet<(String, &'static str)>>,
    progress: Option<Arc<dyn Progress>>,
}

/// Interactive requests (single lists) go ahead of bulk ones (the many
/// independent `listObjects` calls); the pages of a paginated list run in a lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Priority {
    Interactive,
    Bulk,
    /// A page of a paginated list whose lane permit is already held (see
    /// [`Client::lane`]): it takes no further permit.
    Lane,
}

struct Call<'a> {
    endpoint: &'a str,
    method: Method,
    url: Url,
    body: Option<&'a Value>,
    priority: Priority,
    auth: bool,
}

enum Retryable {
    RateLimited,
    Status(u16, String),
    Timeout,
    Network(String),
    Truncated(usize),
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client, ApiError> {
        Client::with_progress(config, None)
    }

    /// A client that tells `progress` about pages and retry waits.
    pub fn with_progress(
        config: ClientConfig,
        progress: Option<Arc<dyn Progress>>,
    ) -> Result<Client, ApiError> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.token.expose()))
            .map_err(|_| ApiError::InvalidToken)?;
        auth.set_sensitive(true);
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(config.user_agent.clone())
            .build()
            .map_err(|e| ApiError::Network {
                endpoint: "client setup".to_string(),
                detail: format!("the HTTP client could not be built ({})", e.without_url()),
            })?;
        let concurrency = config.concurrency.max(1);
        let pacer = config
            .max_rps
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| (Mutex::new(Instant::now()), Duration::from_secs_f64(1.0 / r)));
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                auth,
                permits: Semaphore::new(concurrency),
                bulk_turnstile: Semaphore::new(1),
                pacer,
                cooldown: Mutex::new(None),
                stats: Mutex::new(BTreeMap::new()),
                warned: Mutex::new(HashSet::new()),
                progress,
                config,
            }),
        })
    }

    pub fn api_root(&self) -> &Url {
        &self.inner.config.api_root
    }

    pub fn dialect(&self) -> Dialect {
        self.inner.config.dialect
    }

    /// Per-endpoint request statistics so far, sorted by endpoint.
    pub fn stats(&self) -> Vec<EndpointStats> {
        let stats = self.inner.stats.lock().unwrap_or_else(|e| e.into_inner());
        stats.values().cloned().collect()
    }

    fn with_stats(&self, endpoint: &str, f: impl FnOnce(&mut EndpointStats)) {
        let mut stats = self.inner.stats.lock().unwrap_or_else(|e| e.into_inner());
        let entry = stats
            .entry(endpoint.to_string())
            .or_insert_with(|| EndpointStats {
                endpoint: endpoint.to_string(),
                ..EndpointStats::default()
            });
        f(entry);
    }

    fn report_page(&self, endpoint: &str, records: u64, reported_total: Option<u64>) {
        if let Some(p) = &self.inner.progress {
            p.page(endpoint, records, reported_total);
        }
    }

    fn url(&self, path: &str) -> Url {
        let mut url = self.inner.config.api_root.clone();
        let joined = format!("{}{}", url.path().trim_end_matches('/'), path);
        url.set_path(&joined);
        url
    }

    // ----- one request, with retries -----------------------------------------

    async fn acquire(&self, priority: Priority) -> Option<SemaphorePermit<'_>> {
        match priority {
            Priority::Lane => None,
            Priority::Interactive => self.inner.permits.acquire().await.ok(),
            Priority::Bulk => {
                let _turn = self.inner.bulk_turnstile.acquire().await.ok()?;
                self.inner.permits.acquire().await.ok()
            }
        }
    }

    /// Waits out the latest 429's wait. Called with the permit held, right
    /// before sending, so requests already queued for a permit wait too.
    async fn cool_down(&self) {
        let cooldown = *self
            .inner
            .cooldown
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(until) = cooldown {
            tokio::time::sleep_until(until.into()).await;
        }
    }

    async fn pace(&self) {
        let Some((next, interval)) = &self.inner.pacer else {
            return;
        };
        let start = {
            let mut next = next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let start = (*next).max(now);
            *next = start + *interval;
            start
        };
        tokio::time::sleep_until(start.into()).await;
    }

    /// Sends one call, retrying transient failures; returns the body of a
    /// success response, or the typed error for everything else.
    async fn execute(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let cfg = &self.inner.config;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            self.pace().await;
            let permit = self.acquire(call.priority).await;
            self.cool_down().await;
            let started = Instant::now();
            let outcome = self.send_once(&call).await;
            let elapsed = started.elapsed();
            self.with_stats(call.endpoint, |s| {
                s.requests += 1;
                s.duration_ms += elapsed.as_millis() as u64;
            });
            let (retryable, retry_after) = match outcome {
                Ok((status, headers, body)) => {
                    tracing::debug!(
                        endpoint = call.endpoint,
                        status = status.as_u16(),
                        duration_ms = elapsed.as_millis() as u64,
                        "retool request"
                    );
                    if status.is_success() {
                        if is_truncated(&body) {
                            (Retryable::Truncated(body.len()), None)
                        } else {
                            return Ok(body);
                        }
                    } else if status == StatusCode::TOO_MANY_REQUESTS {
                        (Retryable::RateLimited, parse_retry_after(&headers))
                    } else if matches!(status.as_u16(), 500 | 502 | 503 | 504) {
                        let retry_after = parse_retry_after(&headers);
                        (
                            Retryable::Status(status.as_u16(), self.error_message(&body)),
                            retry_after,
                        )
                    } else {
                        return Err(self.error_for_status(call.endpoint, status, &body, attempt));
                    }
                }
                Err(e) => {
                    tracing::debug!(
                        endpoint = call.endpoint,
                        duration_ms = elapsed.as_millis() as u64,
                        "retool request failed in transport"
                    );
                    if let Some(detail) = self.unreachable(&e) {
                        return Err(ApiError::Unreachable {
                            host: host_of(&call.url),
                            detail,
                        });
                    }
                    if e.is_timeout() {
                        (Retryable::Timeout, None)
                    } else {
                        (Retryable::Network(self.describe_transport(&e)), None)
                    }
                }
            };
            if attempt > cfg.max_retries {
                return Err(self.give_up(call.endpoint, retryable, attempt));
            }
            let wait = match retry_after {
                Some(w) => w.min(cfg.max_backoff),
                None => full_jitter(cfg.initial_backoff, cfg.max_backoff, attempt),
            };
            if matches!(retryable, Retryable::RateLimited) {
                let until = Instant::now() + wait;
                let mut cooldown = self
                    .inner
                    .cooldown
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                *cooldown = Some(cooldown.map_or(until, |c| c.max(until)));
            }
            // Released only now, so a request queued for this permit sees
            // the cooldown a 429 just set.
            drop(permit);
            let first = self
                .inner
                .warned
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert((call.endpoint.to_string(), retry_kind(&retryable)));
            if first {
                tracing::warn!(
                    endpoint = call.endpoint,
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    reason = retry_reason(&retryable),
                    "retrying Retool request (further retries of this endpoint for this cause: -v)"
                );
            } else {
                tracing::info!(
                    endpoint = call.endpoint,
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    reason = retry_reason(&retryable),
                    "retrying Retool request"
                );
            }
            self.with_stats(call.endpoint, |s| s.retries += 1);
            if let Some(p) = &self.inner.progress {
                p.retry_wait(call.endpoint, wait, &retry_reason(&retryable));
            }
            tokio::time::sleep(wait).await;
        }
    }

    async fn send_once(
        &self,
        call: &Call<'_>,
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>), reqwest::Error> {
        let mut req = self
            .inner
            .http
            .request(call.method.clone(), call.url.clone())
            .header(ACCEPT, "application/json");
        if call.auth {
            req = req.header(AUTHORIZATION, self.inner.auth.clone());
        }
        if let Some(body) = call.body {
            req = req.json(body);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await?;
        Ok((status, headers, body.to_vec()))
    }
}

/// `Retry-After` as delta-seconds or an HTTP date.
fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(86_400.0)));
        }
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// Exponential backoff with full jitter: uniform in `[0, min(max, initial·2^(n-1))]`.
fn full_jitter(initial: Duration, max: Duration, attempt: u32) -> Duration {
    let exp = initial.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let ceiling = exp.min(max);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    ceiling.mul_f64(random as f64 / u64::MAX as f64)
}

/// The cause of a retry, coarsely: one warning per endpoint and kind.
fn retry_kind(r: &Retryable) -> &'static str {
    match r {
        Retryable::RateLimited => "rate limited",
        Retryable::Status(..) => "server error",
        Retryable::Timeout => "timeout",
        Retryable::Network(_) => "network",
        Retryable::Truncated(_) => "truncated",
    }
}

fn retry_reason(r: &Retryable) -> String {
    match r {
        Retryable::RateLimited => "rate limited (429)".to_string(),
        Retryable::Status(s, _) => format!("server error ({s})"),
        Retryable::Timeout => "timeout".to_string(),
        Retryable::Network(d) => d.clone(),
        Retryable::Truncated(n) => format!("truncated body ({n} bytes)"),
    }
}

mod failures;
mod reads;

use failures::host_of;
#[cfg(test)]
use failures::{permanent_transport_failure, scope_in};
#[cfg(test)]
mod tests;
