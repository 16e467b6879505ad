//! `doctor`: checks one org's setup the way a snapshot would use it, with one
//! cheap request per endpoint, and says what a snapshot would be missing.
//!
//! Order: DNS, then reachability and TLS (and the Retool version) with the
//! unauthenticated `GET /api/checkHealth`, then the token with the first user
//! (`limit=1`), then every other endpoint the collector reads. Only users and
//! groups are mandatory, as for a snapshot.

use std::fmt::Write as _;

use url::{Host, Url};

use crate::model::{ObjectType, Subject};
use crate::retool::endpoints::CATALOGUE;
use crate::retool::{ApiError, Client};

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// It works; the detail says what was seen.
    Ok(String),
    /// 403: the token lacks the scope.
    MissingScope,
    /// 404: an older Retool without the endpoint.
    NotOnThisVersion,
    /// The dialect has no such endpoint (v1), or the version refuses user subjects.
    NotAvailable(String),
    /// Not asked, and why.
    NotChecked(String),
    /// Any other failure.
    Error(String),
}

impl Status {
    fn from_error(e: &ApiError) -> Status {
        match e {
            ApiError::MissingScope { .. } => Status::MissingScope,
            ApiError::NotFound { .. } => Status::NotOnThisVersion,
            ApiError::Unsupported { dialect, .. } => {
                Status::NotAvailable(format!("not in the {dialect} API"))
            }
            ApiError::Server { status: 400, .. } => {
                Status::NotAvailable("refused by this version (400)".to_string())
            }
            other => Status::Error(other.to_string()),
        }
    }

    pub fn is_ok(&self) -> bool {
        matches!(self, Status::Ok(_))
    }

    fn label(&self) -> String {
        match self {
            Status::Ok(detail) => format!("ok ({detail})"),
            Status::MissingScope => "missing scope".to_string(),
            Status::NotOnThisVersion => "not available on this version".to_string(),
            Status::NotAvailable(why) => why.clone(),
            Status::NotChecked(why) => format!("not checked: {why}"),
            Status::Error(e) => format!("error: {e}"),
        }
    }
}

/// One endpoint the collector uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub endpoint: &'static str,
    /// The token scope the endpoint needs.
    pub scope: &'static str,
    /// A snapshot fails without it.
    pub mandatory: bool,
    /// What snapshots lack when this endpoint cannot be read.
    pub missing: &'static str,
    pub status: Status,
}

/// Everything `doctor` found for one org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    pub org: String,
    pub api_root: String,
    pub dialect: String,
    /// Lines before the endpoint table: `(what, outcome, ok)`.
    pub steps: Vec<(String, String, bool)>,
    pub checks: Vec<Check>,
}

impl Diagnosis {
    /// A diagnosis that stopped before reaching the API (a space that could
    /// not be looked up, a client that could not be built).
    pub fn stopped(org: &str, api_root: &str, step: &str, why: String) -> Diagnosis {
        Diagnosis {
            org: org.to_string(),
            api_root: api_root.to_string(),
            dialect: String::new(),
            steps: vec![(step.to_string(), why, false)],
            checks: Vec::new(),
        }
    }

    /// Users and groups can be read: a snapshot will succeed.
    pub fn ready(&self) -> bool {
        let mandatory: Vec<&Check> = self.checks.iter().filter(|c| c.mandatory).collect();
        !mandatory.is_empty() && mandatory.iter().all(|c| c.status.is_ok())
    }

    /// The report printed for this org: the steps, the endpoint table and a verdict.
    pub fn render(&self) -> String {
        let mut out = format!("{}  {}", self.org, self.api_root);
        if !self.dialect.is_empty() {
            let _ = write!(out, " (API {})", self.dialect);
        }
        out.push('\n');
        for (what, outcome, ok) in &self.steps {
            let mark = if *ok { "ok" } else { "FAILED" };
            let _ = writeln!(out, "  {what:<12} {mark}: {outcome}");
        }
        if !self.checks.is_empty() {
            let rows: Vec<[String; 4]> = self
                .checks
                .iter()
                .map(|c| {
                    let missing = if c.status.is_ok() {
                        "-".to_string()
                    } else {
                        c.missing.to_string()
                    };
                    [
                        c.endpoint.to_string(),
                        c.scope.to_string(),
                        c.status.label(),
                        missing,
                    ]
                })
                .collect();
            let header = [
                "endpoint".to_string(),
                "scope".to_string(),
                "status".to_string(),
                "missing from snapshots".to_string(),
            ];
            let width = |i: usize| {
                rows.iter()
                    .chain(std::iter::once(&header))
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
            };
            let (w0, w1, w2) = (width(0), width(1), width(2));
            for r in std::iter::once(&header).chain(&rows) {
                let _ = writeln!(
                    out,
                    "  {:<w0$}  {:<w1$}  {:<w2$}  {}",
                    r[0], r[1], r[2], r[3]
                );
            }
        }
        let optional_missing = self
            .checks
            .iter()
            .filter(|c| !c.mandatory && !c.status.is_ok())
            .count();
        if self.ready() {
            let _ = write!(
                out,
                "  => ready: users and groups can be read; {optional_missing} optional endpoint(s) will be recorded as not collected"
            );
        } else {
            let _ = write!(
                out,
                "  => NOT READY: a snapshot of {} would fail; fix the first FAILED line or mandatory endpoint above",
                self.org
            );
        }
        out
    }
}

/// Runs every check against `client` (build it with few retries: doctor
/// should answer quickly).
pub async fn diagnose(org: &str, client: &Client) -> Diagnosis {
    let mut d = Diagnosis {
        org: org.to_string(),
        api_root: client.api_root().to_string(),
        dialect: client.dialect().as_str().to_string(),
        steps: Vec::new(),
        checks: Vec::new(),
    };
    let dns = resolve_host(client.api_root()).await;
    let dns_ok = dns.is_ok();
    d.steps
        .push(("DNS".to_string(), dns.unwrap_or_else(|e| e), dns_ok));
    if !dns_ok {
        return d;
    }
    match client.server_version().await {
        Ok(version) => {
            let tls = if client.api_root().scheme() == "https" {
                "TLS handshake and certificate ok"
            } else {
                "plain http (loopback or allowed explicitly)"
            };
            d.steps
                .push(("connection".to_string(), tls.to_string(), true));
            d.steps.push((
                "version".to_string(),
                version.map_or_else(
                    || "unknown (GET /api/checkHealth gave no version)".to_string(),
                    |v| format!("Retool {v}"),
                ),
                true,
            ));
        }
        Err(e) => {
            d.steps
                .push(("connection".to_string(), e.to_string(), false));
            return d;
        }
    }
    let users = client.first_user().await;
    if let Err(ApiError::Unauthorized { .. }) = &users {
        d.steps.push((
            "token".to_string(),
            "rejected (401): check the token source and that the token has not been revoked"
                .to_string(),
            false,
        ));
        for mut c in catalogue() {
            c.status = Status::NotChecked("the token was rejected".to_string());
            d.checks.push(c);
        }
        return d;
    }
    d.steps
        .push(("token".to_string(), "accepted".to_string(), true));
    let mut checks = catalogue().into_iter();
    let mut next = |status: Status| {
        if let Some(mut c) = checks.next() {
            c.status = status;
            d.checks.push(c);
        }
    };
    let first_user = users.as_ref().ok().and_then(|l| l.items.first().cloned());
    next(match &users {
        Ok(l) => Status::Ok(match l.reported_total {
            Some(t) => format!("{t} users"),
            None => "users listed".to_string(),
        }),
        Err(e) => Status::from_error(e),
    });
    let groups = client.groups().await;
    let first_group = groups
        .as_ref()
        .ok()
        .and_then(|(g, _)| g.items.first().map(|g| g.id));
    next(counted(groups.map(|(g, _)| g.items.len()), "groups"));
    next(counted(
        client.folders().await.map(|l| l.items.len()),
        "folders",
    ));
    let apps = client.apps().await;
    let first_app = apps
        .as_ref()
        .ok()
        .and_then(|l| l.items.first().map(|a| (a.id.clone(), a.name.clone())));
    next(counted(apps.map(|l| l.items.len()), "apps"));
    next(match client.first_resource().await {
        Ok(l) => Status::Ok(match l.reported_total {
            Some(t) => format!("{t} resources"),
            None => "resources listed".to_string(),
        }),
        Err(e) => Status::from_error(&e),
    });
    next(counted(
        client.workflows().await.map(|l| l.items.len()),
        "workflows",
    ));
    next(counted(
        client.user_invites().await.map(|l| l.items.len()),
        "invites",
    ));
    next(counted(
        client.access_tokens().await.map(|l| l.items.len()),
        "tokens",
    ));
    next(counted(
        client.spaces().await.map(|l| l.items.len()),
        "child spaces",
    ));
    next(match first_group {
        Some(g) => grant_status(
            client.grants(&Subject::Group(g), ObjectType::App).await,
            "the first group",
        ),
        None => Status::NotChecked("no group to ask about".to_string()),
    });
    next(match first_user {
        Some(u) => grant_status(
            client.grants(&Subject::User(u.id), ObjectType::App).await,
            "the first user",
        ),
        None => Status::NotChecked("no user to ask about".to_string()),
    });
    next(counted(
        client.roles().await.map(|l| l.items.len()),
        "roles",
    ));
    next(counted(
        client.role_grants().await.map(|l| l.items.len()),
        "role grants",
    ));
    next(counted(
        client.access_requests().await.map(|l| l.items.len()),
        "access requests",
    ));
    next(counted(
        client.organization_settings().await.map(|s| s.len()),
        "settings read",
    ));
    next(counted(
        client.sso_settings().await.map(|s| s.len()),
        "SSO settings read",
    ));
    // One day of usage: cheap, and what a self-hosted Retool without
    // USAGE_API_TOKEN refuses.
    next(match crate::collect::usage_window(chrono::Utc::now(), 1) {
        Some((first, last)) => counted(
            client.usage(first, last).await.map(|u| u.len()),
            "users with usage yesterday",
        ),
        None => Status::NotChecked("no usage window".to_string()),
    });
    next(match first_app.clone() {
        Some((id, _)) => {
            let object = crate::model::ObjectRef {
                object_type: crate::model::ObjectType::App,
                id,
            };
            counted(
                client.access_list(&object).await.map(|u| u.len()),
                "users with access to the first app",
            )
        }
        None => Status::NotChecked("no app to ask about".to_string()),
    });
    next(counted(
        client.environments().await.map(|l| l.items.len()),
        "environments",
    ));
    next(counted(
        client
            .resource_configurations()
            .await
            .map(|l| l.items.len()),
        "resource configurations",
    ));
    next(match first_group {
        Some(g) => counted(
            client.configuration_grants(g).await.map(|l| l.items.len()),
            "configuration grant(s) of the first group",
        ),
        None => Status::NotChecked("no group to ask about".to_string()),
    });
    next(
        match (
            first_app,
            crate::collect::usage_window(chrono::Utc::now(), 1),
        ) {
            (Some((id, name)), Some((first, last))) => counted(
                client
                    .app_details(&name, &id.0, first, last)
                    .await
                    .map(|u| u.len()),
                "users of the first app yesterday",
            ),
            _ => Status::NotChecked("no app to ask about".to_string()),
        },
    );
    d
}

fn counted(result: Result<usize, ApiError>, what: &str) -> Status {
    match result {
        Ok(n) => Status::Ok(format!("{n} {what}")),
        Err(e) => Status::from_error(&e),
    }
}

fn grant_status<T>(result: Result<crate::retool::Listed<T>, ApiError>, whose: &str) -> Status {
    match result {
        Ok(l) => Status::Ok(format!("{whose} has {} app grant(s)", l.items.len())),
        Err(e) => Status::from_error(&e),
    }
}

/// The endpoints of the catalogue, in the order they are probed.
fn catalogue() -> Vec<Check> {
    CATALOGUE
        .iter()
        .map(|e| Check {
            endpoint: e.name,
            scope: e.scope,
            mandatory: e.mandatory,
            missing: e.missing,
            status: Status::NotChecked(String::new()),
        })
        .collect()
}

/// `host → n address(es)`, or why the name does not resolve.
async fn resolve_host(url: &Url) -> Result<String, String> {
    let port = url.port_or_known_default().unwrap_or(443);
    match url.host() {
        Some(Host::Domain(name)) => match tokio::net::lookup_host((name, port)).await {
            Ok(addrs) => {
                let n = addrs.count();
                Ok(format!("{name} resolves to {n} address(es)"))
            }
            Err(e) => Err(format!(
                "{name} does not resolve ({e}); check the host name and the machine's DNS"
            )),
        },
        Some(host) => Ok(format!("{host} is an IP address (no lookup)")),
        None => Err("the URL has no host".to_string()),
    }
}
