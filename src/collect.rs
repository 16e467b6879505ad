//! Collection: one run of the Retool API into one complete, normalized
//! [`OrgState`] plus the evidence of how it was obtained ([`CollectionInfo`]).
//!
//! Users and groups are mandatory; any error reading them fails the run. Every
//! other endpoint that answers 403 (scope missing) or 404 (older version), or
//! does not exist in the dialect, is recorded in [`OrgState::not_collected`] and
//! the run goes on; any other error fails it. A list whose record count differs
//! from the total the API reported fails the run ([`CollectError::Incomplete`]):
//! there is never a silent partial result.
//!
//! Independent lists run concurrently; group grants (`listObjects` for every
//! group × folder/app/resource) are all spawned at once and bounded by the
//! client's concurrency, so their wall time is about requests / concurrency ×
//! latency.
//!
//! Direct user grants cost one request per user and object type (3 × users).
//! They are collected when [`CollectOptions::user_grants`] is set (the default)
//! and the organization has at most [`CollectOptions::user_grants_max_users`]
//! users (default [`DEFAULT_USER_GRANTS_MAX_USERS`]); otherwise grants are
//! recorded as partially collected ("direct user grants not collected: …"), so
//! reports say so instead of implying there are none.

use std::collections::BTreeMap;

use chrono::Utc;
use thiserror::Error;
use tokio::task::JoinSet;

use crate::model::{
    Collected, CollectionInfo, EntityKind, Grant, Group, ObjectType, OrgState, Subject, User,
};
use crate::retool::{ApiError, Client, Listed};

/// Above this many users, direct user grants are skipped by default.
pub const DEFAULT_USER_GRANTS_MAX_USERS: usize = 2_000;

/// How many objects the cross-check asks Retool about by default.
pub const DEFAULT_CROSS_CHECK: usize = 20;

/// How many days of app usage a snapshot reads by default.
pub const DEFAULT_USAGE_DAYS: u32 = 90;

/// Object types whose grants `listObjects` reports.
const GRANT_TYPES: [ObjectType; 3] = [ObjectType::Folder, ObjectType::App, ObjectType::Resource];

/// At most this many dangling references are listed one per note line.
const MAX_DANGLING_NOTES: usize = 50;

/// What to collect beyond the mandatory records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectOptions {
    /// Collect direct user grants (one `listObjects` per user and object type).
    pub user_grants: bool,
    /// Skip direct user grants (recording a partial collection) when the
    /// organization has more users than this; `None` means no limit.
    pub user_grants_max_users: Option<usize>,
    /// Read app usage for the last this many whole days (UTC, ending
    /// yesterday); 0 reads none.
    pub usage_days: u32,
    /// Compare Retool's access list with the computed effective access for
    /// this many objects; 0 turns it off, [`cross_check::ALL_OBJECTS`]
    /// checks every object.
    pub cross_check: usize,
    /// Read who viewed and saved each app (`GET /usage/app_details`, one
    /// request per app) over the usage window.
    pub usage_details: bool,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            user_grants: true,
            user_grants_max_users: Some(DEFAULT_USER_GRANTS_MAX_USERS),
            usage_days: DEFAULT_USAGE_DAYS,
            cross_check: DEFAULT_CROSS_CHECK,
            usage_details: false,
        }
    }
}

/// The days `days` days of usage cover when collected at `now`: whole UTC
/// days ending yesterday (today's figures are not complete yet).
pub fn usage_window(
    now: chrono::DateTime<Utc>,
    days: u32,
) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
    let last = now.date_naive().pred_opt()?;
    let first = last.checked_sub_days(chrono::Days::new(u64::from(days.checked_sub(1)?)))?;
    Some((first, last))
}

/// Usage figures, or why they were not collected. A self-hosted Retool
/// without `USAGE_API_TOKEN` answers the usage API with an error; any error
/// status is therefore "not collected" with that hint, never a failed run.
async fn usage(
    client: &Client,
    window: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
) -> Result<Result<Vec<crate::model::UserUsage>, String>, CollectError> {
    let Some((first, last)) = window else {
        return Ok(Err("disabled for this run (--usage-days 0)".to_string()));
    };
    match client.usage(first, last).await {
        Err(e) => match usage_skip(&e) {
            Some(reason) => Ok(Err(reason)),
            None => lenient(EntityKind::Usage, Err(e)),
        },
        ok => lenient(EntityKind::Usage, ok),
    }
}

/// Why usage was not collected, or `None` when `error` is not one of the
/// answers that mean so (a missing scope; any error status, which is what a
/// self-hosted Retool without `USAGE_API_TOKEN` answers).
fn usage_skip(error: &ApiError) -> Option<String> {
    match error {
        // Retool's name for the scope has no `:read`, so its 403 message
        // may not name it in a form the client recognises.
        ApiError::MissingScope { scope: None, .. } => Some("missing scope usage".to_string()),
        ApiError::Server { status, .. } if *status != 429 => Some(format!(
            "the usage API answered {status}; a self-hosted Retool needs USAGE_API_TOKEN set on the server"
        )),
        _ => None,
    }
}

/// Who viewed and saved each app (`--usage-details`): one `app_details`
/// request per app name, all spawned at once (the client bounds how many
/// run). Apps that share a name cannot be told apart by that API: they are
/// left out and named in a note. The first answer that means "not collected"
/// stops the rest.
async fn app_usage(
    client: &Client,
    options: &CollectOptions,
    apps: &Optional<crate::model::App>,
    window: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
) -> Result<(Result<Vec<crate::model::AppUsage>, String>, Vec<String>), CollectError> {
    if !options.usage_details {
        return Ok((
            Err(crate::model::access_model::APP_USAGE_NOT_REQUESTED.to_string()),
            Vec::new(),
        ));
    }
    let Some((first, last)) = window else {
        return Ok((
            Err("usage is not read in this run (--usage-days 0)".to_string()),
            Vec::new(),
        ));
    };
    let apps = match apps {
        Ok(listed) => &listed.items,
        Err(_) => return Ok((Err("apps were not collected".to_string()), Vec::new())),
    };
    let mut by_name: BTreeMap<&str, Vec<&crate::model::App>> = BTreeMap::new();
    for app in apps {
        by_name.entry(app.name.as_str()).or_default().push(app);
    }
    let mut notes = Vec::new();
    let mut tasks = JoinSet::new();
    for (name, same) in by_name {
        if let [app] = same.as_slice() {
            let client = client.clone();
            let (name, id) = (name.to_string(), app.id.0.clone());
            tasks.spawn(async move { client.app_details(&name, &id, first, last).await });
        } else {
            let ids: Vec<&str> = same.iter().map(|a| a.id.0.as_str()).collect();
            notes.push(format!(
                "per-app usage: {} apps share the name {:?}; GET /usage/app_details is asked by name, so their figures are not attributed ({})",
                same.len(),
                name.chars().take(80).collect::<String>(),
                ids.join(", ")
            ));
        }
    }
    let mut rows = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let result = joined.map_err(|e| CollectError::Task {
            stage: EntityKind::AppUsage,
            detail: e.to_string(),
        })?;
        match result {
            Ok(r) => rows.extend(r),
            Err(e) => match usage_skip(&e).or_else(|| lenient_skip(&e)) {
                Some(reason) => {
                    tasks.abort_all();
                    return Ok((Err(reason), notes));
                }
                None => return Err(api(EntityKind::AppUsage)(e)),
            },
        }
    }
    Ok((Ok(rows), notes))
}

/// Every group's access to resource configurations (one `listObjects` per
/// group), or why it was not collected.
async fn configuration_grants(
    client: &Client,
    groups: &[Group],
) -> Result<Result<Vec<crate::model::ConfigurationGrant>, String>, CollectError> {
    let mut tasks = JoinSet::new();
    for g in groups {
        let client = client.clone();
        let id = g.id;
        tasks.spawn(async move { client.configuration_grants(id).await });
    }
    let mut grants = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let result = joined.map_err(|e| CollectError::Task {
            stage: EntityKind::ConfigurationGrants,
            detail: e.to_string(),
        })?;
        match lenient_list(EntityKind::ConfigurationGrants, result)? {
            Ok(listed) => grants.extend(listed.items),
            Err(reason) => {
                tasks.abort_all();
                return Ok(Err(reason));
            }
        }
    }
    Ok(Ok(grants))
}

/// Why a collection failed; nothing of a failed run may be stored.
#[derive(Debug, Error)]
pub enum CollectError {
    #[error("collecting {stage} failed: {error}")]
    Api { stage: EntityKind, error: ApiError },
    #[error(
        "{endpoint} returned {received} records but reported a total of {reported}; refusing an incomplete snapshot (retry later: the organization may have changed during collection)"
    )]
    Incomplete {
        endpoint: String,
        received: u64,
        reported: u64,
    },
    #[error("collecting {stage} failed: a collection task stopped unexpectedly ({detail})")]
    Task { stage: EntityKind, detail: String },
    /// The instance cannot be reached at all (a name that does not resolve, a
    /// refused connection, a rejected certificate): the run stopped before any
    /// endpoint was read, or at the first one that met it.
    #[error("{0}")]
    Unreachable(ApiError),
}

/// A collection that failed, whatever the cause, is a failed run (1); nothing
/// of it was stored.
impl crate::exit::Classify for CollectError {
    fn exit(&self) -> crate::exit::Exit {
        match self {
            CollectError::Api { error, .. } => error.exit(),
            CollectError::Incomplete { .. }
            | CollectError::Task { .. }
            | CollectError::Unreachable(_) => crate::exit::Exit::Failed,
        }
    }
}

impl CollectError {
    /// The API error behind this failure, if there is one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            CollectError::Api { error, .. } | CollectError::Unreachable(error) => Some(error),
            CollectError::Incomplete { .. } | CollectError::Task { .. } => None,
        }
    }
}

/// A list that was read, or the reason it was not.
type Optional<T> = Result<Listed<T>, String>;

/// Grants of one kind of subject, or why they were not collected.
type GrantsOutcome = Result<Vec<Grant>, String>;

fn api(stage: EntityKind) -> impl FnOnce(ApiError) -> CollectError {
    move |error| match error {
        ApiError::Unreachable { .. } => CollectError::Unreachable(error),
        error => CollectError::Api { stage, error },
    }
}

/// The listing, checked against its reported total.
fn complete<T>(listed: Listed<T>) -> Result<Listed<T>, CollectError> {
    match listed.shortfall() {
        Some((received, reported)) => Err(CollectError::Incomplete {
            endpoint: listed.endpoint,
            received,
            reported,
        }),
        None => Ok(listed),
    }
}

/// An optional endpoint: a 403/404/unsupported answer becomes the reason it was
/// not collected; any other error fails the run.
fn optional<T>(
    stage: EntityKind,
    result: Result<Listed<T>, ApiError>,
) -> Result<Optional<T>, CollectError> {
    match result {
        Ok(listed) => complete(listed).map(Ok),
        Err(e) => match e.is_optional_skip() {
            Some(reason) => {
                tracing::info!(stage = stage.as_str(), %reason, "not collected");
                Ok(Err(reason))
            }
            None => Err(api(stage)(e)),
        },
    }
}

/// A record kind added with API 2.3–2.12 (roles, role grants, access
/// requests, settings): beyond [`optional`], a 400 (an older version that
/// rejects the request) and an answer whose shape is not recognised are "not
/// collected" too — the reason names the field path, never a value.
fn lenient<T>(
    stage: EntityKind,
    result: Result<T, ApiError>,
) -> Result<Result<T, String>, CollectError> {
    match result {
        Ok(v) => Ok(Ok(v)),
        Err(e) => match lenient_skip(&e) {
            Some(reason) => {
                tracing::info!(stage = stage.as_str(), %reason, "not collected");
                Ok(Err(reason))
            }
            None => Err(api(stage)(e)),
        },
    }
}

/// Why [`lenient`] records `error` as "not collected", or `None` when it
/// fails the run.
fn lenient_skip(error: &ApiError) -> Option<String> {
    match error {
        ApiError::Server { status: 400, .. } => {
            Some("not available on this Retool version (400)".to_string())
        }
        ApiError::Decode { path, .. } => Some(format!("unrecognised response shape (at `{path}`)")),
        other => other.is_optional_skip(),
    }
}

/// A lenient list, checked against its reported total.
fn lenient_list<T>(
    stage: EntityKind,
    result: Result<Listed<T>, ApiError>,
) -> Result<Optional<T>, CollectError> {
    match lenient(stage, result)? {
        Ok(listed) => complete(listed).map(Ok),
        Err(reason) => Ok(Err(reason)),
    }
}

/// The organization's and the SSO settings: collected when both answers were
/// read; when one was not, the kind is not collected and says which.
async fn settings(
    client: &Client,
) -> Result<Result<Vec<crate::model::Setting>, String>, CollectError> {
    let (org, sso) = tokio::join!(client.organization_settings(), client.sso_settings());
    let org = lenient(EntityKind::Settings, org)?;
    let sso = lenient(EntityKind::Settings, sso)?;
    Ok(match (org, sso) {
        (Ok(mut org), Ok(sso)) => {
            org.extend(sso);
            Ok(org)
        }
        (Err(reason), Ok(_)) => Err(format!("organization settings: {reason}")),
        (Ok(_), Err(reason)) => Err(format!("SSO settings: {reason}")),
        (Err(a), Err(b)) if a == b => Err(a),
        (Err(a), Err(b)) => Err(format!("organization settings: {a}; SSO settings: {b}")),
    })
}

/// Runs one collection.
pub async fn collect(client: &Client, options: &CollectOptions) -> Result<Collected, CollectError> {
    let started_at = Utc::now();
    // One request before the fan-out: an address that cannot be reached ends
    // the run here with one line, instead of every endpoint failing at once
    // (and an optional one being named as the cause). Without an instance
    // root (`--api-root`) there is no health check; the first request to meet
    // the failure ends the run the same way.
    let version = client.server_version().await;
    if let Err(e @ ApiError::Unreachable { .. }) = version {
        return Err(CollectError::Unreachable(e));
    }

    let users_and_grants = async {
        let users = complete(client.users().await.map_err(api(EntityKind::Users))?)?;
        let user_grants = user_grants(client, options, &users.items).await?;
        Ok::<_, CollectError>((users, user_grants))
    };
    let groups_and_grants = async {
        let (groups, memberships) = client.groups().await.map_err(api(EntityKind::Groups))?;
        let groups = complete(groups)?;
        let (grants, configuration_grants) = tokio::try_join!(
            group_grants(client, &groups.items),
            configuration_grants(client, &groups.items)
        )?;
        Ok::<_, CollectError>((groups, memberships, grants, configuration_grants))
    };
    let folders = async { optional(EntityKind::Folders, client.folders().await) };
    let window = usage_window(started_at, options.usage_days);
    let apps = async {
        let apps = optional(EntityKind::Apps, client.apps().await)?;
        let details = app_usage(client, options, &apps, window).await?;
        Ok::<_, CollectError>((apps, details))
    };
    let resources = async { optional(EntityKind::Resources, client.resources().await) };
    let workflows = async { optional(EntityKind::Workflows, client.workflows().await) };
    let invites = async { optional(EntityKind::UserInvites, client.user_invites().await) };
    let tokens = async { optional(EntityKind::AccessTokens, client.access_tokens().await) };
    let roles = async {
        let roles = lenient_list(EntityKind::Roles, client.roles().await)?;
        let grants = lenient_list(EntityKind::RoleGrants, client.role_grants().await)?;
        Ok::<_, CollectError>((roles, grants))
    };
    let requests =
        async { lenient_list(EntityKind::AccessRequests, client.access_requests().await) };
    let settings = settings(client);
    let usage = usage(client, window);
    let environments = async {
        let (environments, configurations) =
            tokio::join!(client.environments(), client.resource_configurations());
        Ok::<_, CollectError>((
            lenient_list(EntityKind::Environments, environments)?,
            lenient_list(EntityKind::ResourceConfigurations, configurations)?,
        ))
    };

    let (
        (users, user_grants),
        (groups, memberships, group_grants, configuration_grants),
        folders,
        (apps, app_usage),
        resources,
        workflows,
        invites,
        tokens,
        (roles, role_grants),
        requests,
        settings,
        usage,
        (environments, configurations),
    ) = tokio::try_join!(
        users_and_grants,
        groups_and_grants,
        folders,
        apps,
        resources,
        workflows,
        invites,
        tokens,
        roles,
        requests,
        settings,
        usage,
        environments,
    )?;

    let mut state = OrgState::default();
    let mut expected = BTreeMap::new();
    let mut notes = Vec::new();

    let mut take_total = |kind: EntityKind, reported: Option<u64>| {
        if let Some(t) = reported {
            expected.insert(kind, t);
        }
    };
    take_total(EntityKind::Users, users.reported_total);
    state.users = users.items;
    take_total(EntityKind::Groups, groups.reported_total);
    state.groups = groups.items;
    state.memberships = memberships;

    macro_rules! optional_kind {
        ($kind:expr, $result:expr, $field:ident) => {
            match $result {
                Ok(listed) => {
                    take_total($kind, listed.reported_total);
                    state.$field = listed.items;
                }
                Err(reason) => {
                    state.not_collected.insert($kind, reason);
                }
            }
        };
    }
    optional_kind!(EntityKind::Folders, folders, folders);
    optional_kind!(EntityKind::Apps, apps, apps);
    optional_kind!(EntityKind::Resources, resources, resources);
    optional_kind!(EntityKind::Workflows, workflows, workflows);
    optional_kind!(EntityKind::UserInvites, invites, user_invites);
    optional_kind!(EntityKind::AccessTokens, tokens, access_tokens);
    optional_kind!(EntityKind::Roles, roles, roles);
    optional_kind!(EntityKind::RoleGrants, role_grants, role_grants);
    optional_kind!(EntityKind::AccessRequests, requests, access_requests);
    optional_kind!(EntityKind::Environments, environments, environments);
    optional_kind!(
        EntityKind::ResourceConfigurations,
        configurations,
        resource_configurations
    );
    match configuration_grants {
        Ok(g) => state.configuration_grants = g,
        Err(reason) => {
            state
                .not_collected
                .insert(EntityKind::ConfigurationGrants, reason);
        }
    }
    let (app_usage, app_usage_notes) = app_usage;
    notes.extend(app_usage_notes);
    match settings {
        Ok(s) => state.settings = s,
        Err(reason) => {
            state.not_collected.insert(EntityKind::Settings, reason);
        }
    }
    let usage_window = match usage {
        Ok(u) => {
            state.usage = u;
            window
        }
        Err(reason) => {
            state.not_collected.insert(EntityKind::Usage, reason);
            None
        }
    };
    match app_usage {
        // Per-app figures without the summary's window would cover no
        // stated period.
        Ok(_) if usage_window.is_none() => {
            state.not_collected.insert(
                EntityKind::AppUsage,
                "usage was not collected in this run".to_string(),
            );
        }
        Ok(rows) => state.app_usage = rows,
        Err(reason) => {
            state.not_collected.insert(EntityKind::AppUsage, reason);
        }
    }

    match (group_grants, user_grants) {
        (Err(reason), _) => {
            state.not_collected.insert(EntityKind::Grants, reason);
        }
        (Ok(group), Ok(user)) => {
            state.grants = group;
            state.grants.extend(user);
        }
        (Ok(group), Err(reason)) => {
            state.grants = group;
            state.not_collected.insert(
                EntityKind::Grants,
                format!("partial: direct user grants not collected ({reason}); group grants are complete"),
            );
        }
    }
    state.grants.sort();
    state.grants.dedup();

    let api_version = match version {
        Ok(v) => v,
        Err(e) => {
            notes.push(format!("Retool version unknown: {e}"));
            None
        }
    };

    state.normalize();

    // Last: it compares Retool's answers with what the state computes.
    let cross_check = if options.cross_check == 0 {
        None
    } else {
        let seed = format!("{}|{}", client.api_root(), started_at.to_rfc3339());
        Some(cross_check::cross_check(client, &state, options.cross_check, &seed).await)
    };

    let endpoints = client.stats();
    for e in &endpoints {
        if e.duplicates_dropped > 0 {
            notes.push(format!(
                "{}: {} duplicate record(s) across pages dropped (deduplicated by id)",
                e.endpoint, e.duplicates_dropped
            ));
        }
    }
    let dangling = state.dangling_references();
    for d in dangling.iter().take(MAX_DANGLING_NOTES) {
        notes.push(format!(
            "dangling reference kept: {} {} refers to {} which was not returned",
            d.kind, d.key, d.missing
        ));
    }
    if dangling.len() > MAX_DANGLING_NOTES {
        notes.push(format!(
            "dangling reference kept: … and {} more (see the snapshot's dangling references)",
            dangling.len() - MAX_DANGLING_NOTES
        ));
    }
    notes.sort();

    let info = CollectionInfo {
        source_url: client.api_root().to_string(),
        dialect: client.dialect(),
        api_version,
        started_at,
        finished_at: Utc::now(),
        endpoints,
        expected_totals: expected,
        notes,
        tool_version: crate::VERSION.to_string(),
        usage_window,
        cross_check,
    };
    Ok(Collected { state, info })
}

/// Grants of every group on folders, apps and resources.
async fn group_grants(client: &Client, groups: &[Group]) -> Result<GrantsOutcome, CollectError> {
    let subjects = groups.iter().map(|g| Subject::Group(g.id)).collect();
    subject_grants(client, subjects, |e| e.is_optional_skip()).await
}

/// Direct grants of every user, when the options and the org size allow it.
async fn user_grants(
    client: &Client,
    options: &CollectOptions,
    users: &[User],
) -> Result<GrantsOutcome, CollectError> {
    if client.dialect() == crate::model::Dialect::V1 {
        return Ok(Err("not available in the v1 API".to_string()));
    }
    if !options.user_grants {
        return Ok(Err("disabled for this run".to_string()));
    }
    if let Some(max) = options.user_grants_max_users {
        if users.len() > max {
            return Ok(Err(format!(
                "{} users is more than the limit of {max} for per-user requests; raise the limit to collect them",
                users.len()
            )));
        }
    }
    let subjects = users.iter().map(|u| Subject::User(u.id.clone())).collect();
    subject_grants(client, subjects, |e| match e {
        // Versions before 2.7 reject user subjects as a bad request.
        ApiError::Server { status: 400, .. } => {
            Some("this Retool version does not accept user subjects (400)".to_string())
        }
        other => other.is_optional_skip(),
    })
    .await
}

/// `listObjects` for every subject × object type, all spawned at once (the
/// client bounds how many run); the first skippable error stops the rest.
async fn subject_grants(
    client: &Client,
    subjects: Vec<Subject>,
    skip: fn(&ApiError) -> Option<String>,
) -> Result<GrantsOutcome, CollectError> {
    let mut tasks = JoinSet::new();
    for subject in subjects {
        for object_type in GRANT_TYPES {
            let client = client.clone();
            let subject = subject.clone();
            tasks.spawn(async move {
                let result = client.grants(&subject, object_type).await;
                (subject, object_type, result)
            });
        }
    }
    let mut grants = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (subject, object_type, result) = joined.map_err(|e| CollectError::Task {
            stage: EntityKind::Grants,
            detail: e.to_string(),
        })?;
        match result {
            Ok(listed) => {
                if let Some((received, reported)) = listed.shortfall() {
                    return Err(CollectError::Incomplete {
                        endpoint: format!("{} ({subject}, {object_type})", listed.endpoint),
                        received,
                        reported,
                    });
                }
                grants.extend(listed.items);
            }
            Err(e) => match skip(&e) {
                Some(reason) => {
                    tasks.abort_all();
                    return Ok(Err(reason));
                }
                None => return Err(api(EntityKind::Grants)(e)),
            },
        }
    }
    Ok(Ok(grants))
}

pub mod cross_check;

#[cfg(test)]
mod tests;
