//! What the collector reads: the list endpoints of the catalogue
//! ([`crate::retool::endpoints`]) through one paging loop for both dialects (v2
//! cursors, v1 page numbers), the grants of one subject and the server version.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::SemaphorePermit;
use url::Url;

use super::{Call, Client, Listed, PAGE_CAP_WITHOUT_TOTAL, PAGE_SIZE, PAGE_SLACK, Priority};
use crate::model::{
    AccessLevel, AccessRequest, AccessToken, App, AppUsage, ConfigurationGrant, Dialect,
    Environment, Folder, Grant, Group, GroupId, Membership, ObjectId, ObjectRef, ObjectType,
    Resource, ResourceConfiguration, Role, RoleGrant, Setting, Subject, User, UserInvite, Workflow,
};
use crate::retool::decode::{DecodeFailure, V1Envelope, V2Envelope, decode_body, truncate};
use crate::retool::endpoints::{
    ACCESS_REQUESTS, ACCESS_TOKENS, APP_DETAILS, APPS, About, CONFIGURATION_GRANTS, Decode,
    ENVIRONMENTS, Endpoint, FOLDERS, GROUP_GRANTS, GROUPS, ORGANIZATION, Paging,
    RESOURCE_CONFIGURATIONS, RESOURCES, ROLE_GRANTS, ROLES, SPACES, SSO_CONFIG, USAGE,
    USER_INVITES, USERS, WORKFLOWS,
};
use crate::retool::error::ApiError;
use crate::retool::{Space, rbac, v2};

impl Client {
    /// All users (`GET /users`, paginated in both dialects).
    pub async fn users(&self) -> Result<Listed<User>, ApiError> {
        self.list(&USERS).await
    }

    /// All groups and the memberships listed in them (`GET /groups`).
    pub async fn groups(&self) -> Result<(Listed<Group>, Vec<Membership>), ApiError> {
        let listed = self.list(&GROUPS).await?;
        let mut groups = Vec::with_capacity(listed.items.len());
        let mut memberships = Vec::new();
        for (g, m) in listed.items {
            groups.push(g);
            memberships.extend(m);
        }
        memberships.sort();
        memberships.dedup_by(|a, b| a.group_id == b.group_id && a.user_id == b.user_id);
        Ok((
            Listed {
                endpoint: listed.endpoint,
                items: groups,
                reported_total: listed.reported_total,
                received: listed.received,
            },
            memberships,
        ))
    }

    pub async fn folders(&self) -> Result<Listed<Folder>, ApiError> {
        self.list(&FOLDERS).await
    }

    pub async fn apps(&self) -> Result<Listed<App>, ApiError> {
        self.list(&APPS).await
    }

    pub async fn resources(&self) -> Result<Listed<Resource>, ApiError> {
        self.list(&RESOURCES).await
    }

    /// Workflows (v2 only; v1 answers [`ApiError::Unsupported`]).
    pub async fn workflows(&self) -> Result<Listed<Workflow>, ApiError> {
        self.list(&WORKFLOWS).await
    }

    /// User invites, without their invite links (v2 only).
    pub async fn user_invites(&self) -> Result<Listed<UserInvite>, ApiError> {
        self.list(&USER_INVITES).await
    }

    /// API access token metadata (v2 only).
    pub async fn access_tokens(&self) -> Result<Listed<AccessToken>, ApiError> {
        self.list(&ACCESS_TOKENS).await
    }

    /// The child spaces of this space (v2 only; needs the Spaces > Read scope).
    pub async fn spaces(&self) -> Result<Listed<Space>, ApiError> {
        self.list(&SPACES).await
    }

    /// Roles, default and custom (v2, API 2.9+).
    pub async fn roles(&self) -> Result<Listed<Role>, ApiError> {
        self.list(&ROLES).await
    }

    /// The organization's environments (v2, API 2.4+).
    pub async fn environments(&self) -> Result<Listed<Environment>, ApiError> {
        self.list(&ENVIRONMENTS).await
    }

    /// Every resource configuration: which resource and environment it joins,
    /// never its options (v2, API 2.4+; paged).
    pub async fn resource_configurations(&self) -> Result<Listed<ResourceConfiguration>, ApiError> {
        self.list(&RESOURCE_CONFIGURATIONS).await
    }

    /// Who viewed and who saved the app named `app_name` over the days
    /// `first..=last` (UTC), from `GET /usage/app_details` (v2): one request.
    /// The rows carry `app_id`.
    pub async fn app_details(
        &self,
        app_name: &str,
        app_id: &str,
        first: chrono::NaiveDate,
        last: chrono::NaiveDate,
    ) -> Result<Vec<AppUsage>, ApiError> {
        let endpoint = APP_DETAILS.name;
        self.v2_only(endpoint)?;
        let mut url = self.url(APP_DETAILS.path);
        url.query_pairs_mut()
            .append_pair("app_name", app_name)
            .append_pair("start_date", &first.format("%Y-%m-%d").to_string())
            .append_pair("end_date", &last.format("%Y-%m-%d").to_string());
        let bytes = self.get(endpoint, url, Priority::Bulk).await?;
        let body: Value = decode_body(&bytes).map_err(|f| shape_error(endpoint, f))?;
        let data = body.get("data").ok_or_else(|| ApiError::Decode {
            endpoint: endpoint.to_string(),
            path: "data".to_string(),
            detail: "unrecognised response shape".to_string(),
        })?;
        let rows = crate::retool::environments::app_details(data, app_id)
            .map_err(|f| shape_error(endpoint, f))?;
        self.count_records(endpoint, rows.len());
        Ok(rows)
    }

    /// Requests to join the organization (v2, API 2.3+; paged).
    pub async fn access_requests(&self) -> Result<Listed<AccessRequest>, ApiError> {
        self.list(&ACCESS_REQUESTS).await
    }

    /// Who holds which role (v2, API 2.9+). The list's answer is not
    /// documented: a `{data: [...]}` envelope or a bare array is accepted, and
    /// each record in any of the usual spellings (snake_case, camelCase, nested
    /// `subject`/`object`).
    /// Duplicates are dropped. A shape that is none of these is
    /// [`ApiError::Decode`], naming the field path but never a value.
    pub async fn role_grants(&self) -> Result<Listed<RoleGrant>, ApiError> {
        let body = self.get_json(&ROLE_GRANTS).await?;
        let endpoint = ROLE_GRANTS.name;
        let records = rbac::role_grant_records(&body).ok_or_else(|| ApiError::Decode {
            endpoint: endpoint.to_string(),
            path: "data".to_string(),
            detail: "unrecognised response shape (neither a list nor {data: [...]})".to_string(),
        })?;
        let mut items = Vec::with_capacity(records.len());
        for (i, v) in records.iter().enumerate() {
            items.push(rbac::role_grant(v, i).map_err(|f| shape_error(endpoint, f))?);
        }
        let received = items.len() as u64;
        items.sort();
        items.dedup();
        let records = items.len() as u64;
        self.with_stats(endpoint, |s| {
            s.pages += 1;
            s.records += records;
            s.duplicates_dropped += received - records;
        });
        let reported_total = body.get("total_count").and_then(Value::as_u64);
        Ok(Listed {
            endpoint: endpoint.to_string(),
            items,
            reported_total,
            received,
        })
    }

    /// The organization's allow-listed security settings (v2):
    /// `GET /organization/`. Nothing but the allow-list is kept.
    pub async fn organization_settings(&self) -> Result<Vec<Setting>, ApiError> {
        let body = self.get_json(&ORGANIZATION).await?;
        let settings =
            rbac::organization_settings(&body).map_err(|f| shape_error(ORGANIZATION.name, f))?;
        self.count_records(ORGANIZATION.name, settings.len());
        Ok(settings)
    }

    /// The single sign-on settings (v2): `GET /sso/config`, allow-listed; the
    /// client secrets it carries are never kept.
    pub async fn sso_settings(&self) -> Result<Vec<Setting>, ApiError> {
        let body = self.get_json(&SSO_CONFIG).await?;
        let settings = rbac::sso_settings(&body).map_err(|f| shape_error(SSO_CONFIG.name, f))?;
        self.count_records(SSO_CONFIG.name, settings.len());
        Ok(settings)
    }

    /// App usage per user over the days `first..=last` (UTC), from
    /// `GET /usage/user_summary` (v2). Retool lists users with activity only.
    pub async fn usage(
        &self,
        first: chrono::NaiveDate,
        last: chrono::NaiveDate,
    ) -> Result<Vec<crate::model::UserUsage>, ApiError> {
        let endpoint = USAGE.name;
        self.v2_only(endpoint)?;
        let mut url = self.url(USAGE.path);
        url.query_pairs_mut()
            .append_pair("start_date", &first.format("%Y-%m-%d").to_string())
            .append_pair("end_date", &last.format("%Y-%m-%d").to_string());
        let bytes = self.get(endpoint, url, Priority::Interactive).await?;
        let env: V2Envelope = decode_body(&bytes).map_err(|f| shape_error(endpoint, f))?;
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(env.data.len());
        let mut duplicates = 0u64;
        for (i, v) in env.data.iter().enumerate() {
            let u =
                crate::retool::usage::user_summary(v, i).map_err(|f| shape_error(endpoint, f))?;
            if seen.insert(u.user_id.clone()) {
                out.push(u);
            } else {
                duplicates += 1;
            }
        }
        let records = out.len() as u64;
        self.with_stats(endpoint, |s| {
            s.pages += 1;
            s.records += records;
            s.duplicates_dropped += duplicates;
        });
        Ok(out)
    }

    /// Retool's own list of the users with access to `object`, with their
    /// level and sources (`GET /permissions/accessList/{type}/{id}`, v2).
    pub async fn access_list(
        &self,
        object: &ObjectRef,
    ) -> Result<Vec<crate::retool::ListedUser>, ApiError> {
        let about = &crate::retool::endpoints::ACCESS_LIST;
        self.v2_only(about.name)?;
        let mut url = self.url(about.path);
        if let Ok(mut segments) = url.path_segments_mut() {
            segments
                .push(object.object_type.as_str())
                .push(&object.id.0);
        }
        let bytes = self.get(about.name, url, Priority::Bulk).await?;
        let body: Value = decode_body(&bytes).map_err(|f| shape_error(about.name, f))?;
        let users = crate::retool::access_list::listed_users(&body)
            .map_err(|f| shape_error(about.name, f))?;
        self.count_records(about.name, users.len());
        Ok(users)
    }

    fn count_records(&self, endpoint: &str, n: usize) {
        self.with_stats(endpoint, |s| {
            s.pages += 1;
            s.records += n as u64;
        });
    }

    /// One v2 `GET` of `about`'s path, parsed as JSON (v1 answers
    /// [`ApiError::Unsupported`]).
    async fn get_json(&self, about: &About) -> Result<Value, ApiError> {
        self.v2_only(about.name)?;
        let bytes = self
            .get(about.name, self.url(about.path), Priority::Interactive)
            .await?;
        decode_body(&bytes).map_err(|f| shape_error(about.name, f))
    }

    /// [`ApiError::Unsupported`] for an endpoint only API v2 has.
    fn v2_only(&self, endpoint: &str) -> Result<(), ApiError> {
        match self.dialect() {
            Dialect::V2 => Ok(()),
            Dialect::V1 => Err(ApiError::Unsupported {
                endpoint: endpoint.to_string(),
                dialect: Dialect::V1.as_str().to_string(),
            }),
        }
    }

    /// One authenticated `GET` of `url`.
    async fn get(&self, endpoint: &str, url: Url, priority: Priority) -> Result<Vec<u8>, ApiError> {
        self.execute(Call {
            endpoint,
            method: Method::GET,
            url,
            body: None,
            priority,
            auth: true,
        })
        .await
    }

    /// The first user only (one request with a page size of 1): what `doctor`
    /// reads to check the endpoint and the token without listing everyone.
    pub async fn first_user(&self) -> Result<Listed<User>, ApiError> {
        self.first_page(&USERS).await
    }

    /// The first resource only (one request with a page size of 1).
    pub async fn first_resource(&self) -> Result<Listed<Resource>, ApiError> {
        self.first_page(&RESOURCES).await
    }

    /// How this client's dialect serves `e`, or [`ApiError::Unsupported`].
    fn route<T>(&self, e: &Endpoint<T>) -> Result<(Paging, Decode<T>), ApiError> {
        let dialect = self.dialect();
        e.served(dialect).ok_or_else(|| ApiError::Unsupported {
            endpoint: e.about.name.to_string(),
            dialect: dialect.as_str().to_string(),
        })
    }

    async fn first_page<T>(&self, e: &Endpoint<T>) -> Result<Listed<T>, ApiError> {
        let (_, convert) = self.route(e)?;
        let endpoint = e.about.name.to_string();
        let mut url = self.url(e.about.path);
        match self.dialect() {
            Dialect::V2 => url.query_pairs_mut().append_pair("limit", "1"),
            Dialect::V1 => url
                .query_pairs_mut()
                .append_pair("page", "1")
                .append_pair("pageSize", "1"),
        };
        let bytes = self.get(&endpoint, url, Priority::Interactive).await?;
        let page = Page::decode(self.dialect(), &bytes).map_err(|f| decode_error(&endpoint, f))?;
        let items = page
            .data
            .iter()
            .take(1)
            .enumerate()
            .map(|(i, v)| convert(v, i))
            .collect::<Result<Vec<T>, _>>()
            .map_err(|f| decode_error(&endpoint, f))?;
        let received = items.len() as u64;
        Ok(Listed {
            endpoint,
            items,
            reported_total: page.total,
            received,
        })
    }

    /// Every record of a list endpoint, page after page when it pages: the
    /// same loop for both dialects; [`Cursor`] says where the next page starts
    /// and when the list is complete. Duplicates across pages are dropped, a
    /// looping cursor and a server that never stops paging are errors.
    async fn list<T>(&self, e: &Endpoint<T>) -> Result<Listed<T>, ApiError> {
        let (paging, convert) = self.route(e)?;
        let paged = paging == Paging::Paged;
        let endpoint = e.about.name.to_string();
        let dialect = self.dialect();
        let mut cursor = Cursor::new(dialect, self.inner.config.page_size);
        let mut items = Vec::new();
        let mut seen_ids = HashSet::new();
        let mut reported_total = None;
        let mut pages = 0u64;
        let (_lane, priority) = self.lane(paged).await;
        loop {
            let mut url = self.url(e.about.path);
            if paged {
                cursor.ask(&mut url);
            }
            let bytes = self.get(&endpoint, url, priority).await?;
            pages += 1;
            let page = Page::decode(dialect, &bytes).map_err(|f| decode_error(&endpoint, f))?;
            if page.total.is_some() {
                reported_total = page.total;
            }
            let (added, dups) = add_page(&mut items, &mut seen_ids, &page.data, convert, e.key)
                .map_err(|f| page_decode_error(&endpoint, f, pages))?;
            self.with_stats(&endpoint, |s| {
                s.pages += 1;
                s.records += added;
                s.duplicates_dropped += dups;
            });
            self.report_page(&endpoint, added, reported_total);
            if !paged {
                break;
            }
            let more = cursor
                .advance(page, pages, added, items.len() as u64, reported_total)
                .map_err(|detail| ApiError::Pagination {
                    endpoint: endpoint.clone(),
                    detail,
                })?;
            if !more {
                break;
            }
            check_page_cap(&endpoint, pages, cursor.page_size(), reported_total)?;
        }
        let received = items.len() as u64;
        Ok(Listed {
            endpoint,
            items,
            reported_total,
            received,
        })
    }

    /// The objects of one type a group (or user, API 2.7+) holds a grant on,
    /// from `POST /permissions/listObjects` (v2 only; folders, apps, resources).
    pub async fn grants(
        &self,
        subject: &Subject,
        object_type: ObjectType,
    ) -> Result<Listed<Grant>, ApiError> {
        const ENDPOINT: &str = "POST /permissions/listObjects";
        self.v2_only(ENDPOINT)?;
        if object_type == ObjectType::Workflow {
            return Err(ApiError::Unsupported {
                endpoint: ENDPOINT.to_string(),
                dialect: "v2 (listObjects has no workflow object type)".to_string(),
            });
        }
        let listed = self
            .list_objects(ENDPOINT, subject, object_type.as_str())
            .await?;
        Ok(listed.map(|(id, level)| Grant {
            subject: subject.clone(),
            object: ObjectRef { object_type, id },
            level,
        }))
    }

    /// The resource configurations (a resource in one environment) a group
    /// holds a grant on: `listObjects` with `resource_configuration` (v2,
    /// Retool 3.37+).
    pub async fn configuration_grants(
        &self,
        group: GroupId,
    ) -> Result<Listed<ConfigurationGrant>, ApiError> {
        let endpoint = CONFIGURATION_GRANTS.name;
        self.v2_only(endpoint)?;
        let listed = self
            .list_objects(endpoint, &Subject::Group(group), "resource_configuration")
            .await?;
        Ok(listed.map(|(id, access_level)| ConfigurationGrant {
            group_id: group,
            configuration_id: id.0,
            access_level,
        }))
    }

    /// One `listObjects` answer: the `(id, level)` of every item of
    /// `wire_type` (other types, such as screens, are not modelled). Counted
    /// under `endpoint`.
    async fn list_objects(
        &self,
        endpoint: &'static str,
        subject: &Subject,
        wire_type: &str,
    ) -> Result<Listed<(ObjectId, AccessLevel)>, ApiError> {
        let subject_json = match subject {
            Subject::Group(g) => json!({"type": "group", "id": g.0}),
            Subject::User(u) => json!({"type": "user", "id": u.0}),
        };
        let body = json!({"subject": subject_json, "object_type": wire_type});
        let bytes = self
            .execute(Call {
                endpoint,
                method: Method::POST,
                url: self.url(GROUP_GRANTS.path),
                body: Some(&body),
                priority: Priority::Bulk,
                auth: true,
            })
            .await?;
        let env: V2Envelope = decode_body(&bytes).map_err(|f| decode_error(endpoint, f))?;
        let mut seen = HashSet::new();
        let mut items = Vec::new();
        let mut received = 0u64;
        let mut duplicates = 0u64;
        for (i, value) in env.data.iter().enumerate() {
            let item_type = value.get("type").and_then(Value::as_str).unwrap_or("");
            let wire_id = value.get("id").map(Value::to_string).unwrap_or_default();
            received += 1; // total_count counts every item in the response
            if !seen.insert((item_type.to_string(), wire_id)) {
                duplicates += 1;
                continue;
            }
            if item_type != wire_type {
                continue; // screens and other types: not modelled
            }
            let (_, id, level) = v2::grant_item(value, i).map_err(|f| decode_error(endpoint, f))?;
            items.push((id, level));
        }
        let records = items.len() as u64;
        self.with_stats(endpoint, |s| {
            s.pages += 1;
            s.records += records;
            s.duplicates_dropped += duplicates;
        });
        self.report_page(endpoint, records, None);
        Ok(Listed {
            endpoint: endpoint.to_string(),
            items,
            reported_total: env.total_count,
            received,
        })
    }

    /// The Retool version from `GET /api/checkHealth` at the instance root.
    /// `Ok(None)` when there is no instance root, the endpoint is absent (404)
    /// or the answer names no version.
    pub async fn server_version(&self) -> Result<Option<String>, ApiError> {
        const ENDPOINT: &str = "GET /api/checkHealth";
        let Some(root) = &self.inner.config.instance_root else {
            return Ok(None);
        };
        let mut url = root.clone();
        let joined = format!("{}/api/checkHealth", url.path().trim_end_matches('/'));
        url.set_path(&joined);
        let result = self
            .execute(Call {
                endpoint: ENDPOINT,
                method: Method::GET,
                url,
                body: None,
                priority: Priority::Interactive,
                auth: false,
            })
            .await;
        let bytes = match result {
            Ok(b) => b,
            Err(
                ApiError::NotFound { .. }
                | ApiError::Unauthorized { .. }
                | ApiError::MissingScope { .. },
            ) => return Ok(None),
            Err(e) => return Err(e),
        };
        let version = serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| {
            v.get("version")
                .and_then(Value::as_str)
                .map(|s| truncate(s, 64))
        });
        Ok(version)
    }

    // ----- pagination --------------------------------------------------------

    /// A paginated list is a chain: each page needs the previous one, so its
    /// pages are the critical path of a collection (50 000 users = 500 pages in
    /// a row). The chain holds one permit for its whole run, so no page queues
    /// behind the `listObjects` fan-out; bulk requests share the other permits
    /// meanwhile and all of them once the chain is done. The requests in flight
    /// never exceed the concurrency.
    async fn lane(&self, paged: bool) -> (Option<SemaphorePermit<'_>>, Priority) {
        if !paged {
            return (None, Priority::Interactive);
        }
        match self.inner.permits.acquire().await.ok() {
            Some(permit) => (Some(permit), Priority::Lane),
            None => (None, Priority::Interactive),
        }
    }
}

/// One page of a list, in either dialect's envelope.
struct Page {
    data: Vec<Value>,
    /// v2 `total_count`, v1 `total`.
    total: Option<u64>,
    /// v2 only.
    has_more: Option<bool>,
    /// v2 only.
    next_token: Option<String>,
}

impl Page {
    fn decode(dialect: Dialect, bytes: &[u8]) -> Result<Page, DecodeFailure> {
        Ok(match dialect {
            Dialect::V2 => {
                let env: V2Envelope = decode_body(bytes)?;
                Page {
                    data: env.data,
                    total: env.total_count,
                    has_more: env.has_more,
                    next_token: env.next_token,
                }
            }
            Dialect::V1 => {
                let env: V1Envelope = decode_body(bytes)?;
                Page {
                    data: env.data,
                    total: env.total,
                    has_more: None,
                    next_token: None,
                }
            }
        })
    }
}

/// Where the next page of a paged list starts.
enum Cursor {
    /// v2: the page size asked for (`None`: the whole list, as the API answers
    /// without `limit`), the `next_token` to follow and every token followed.
    V2 {
        page_size: Option<u64>,
        next_token: Option<String>,
        followed: HashSet<String>,
    },
    /// v1: the number of the next page (pages of [`PAGE_SIZE`]).
    V1 { page: u64 },
}

impl Cursor {
    fn new(dialect: Dialect, page_size: Option<u64>) -> Cursor {
        match dialect {
            Dialect::V2 => Cursor::V2 {
                page_size: page_size.map(|n| n.clamp(1, PAGE_SIZE)),
                next_token: None,
                followed: HashSet::new(),
            },
            Dialect::V1 => Cursor::V1 { page: 1 },
        }
    }

    /// The records per page the cap on pages assumes.
    fn page_size(&self) -> u64 {
        match self {
            Cursor::V2 { page_size, .. } => page_size.unwrap_or(PAGE_SIZE),
            Cursor::V1 { .. } => PAGE_SIZE,
        }
    }

    /// Puts the next page's position into the query.
    fn ask(&self, url: &mut Url) {
        match self {
            Cursor::V2 {
                page_size,
                next_token,
                ..
            } => {
                // A server that pages an unlimited request anyway is followed
                // with full pages (`next_token` is only valid with `limit`).
                let limit = page_size.or(next_token.as_ref().map(|_| PAGE_SIZE));
                if let Some(limit) = limit {
                    let mut q = url.query_pairs_mut();
                    q.append_pair("limit", &limit.to_string());
                    if let Some(t) = next_token {
                        q.append_pair("next_token", t);
                    }
                }
            }
            Cursor::V1 { page } => {
                url.query_pairs_mut()
                    .append_pair("page", &page.to_string())
                    .append_pair("pageSize", &PAGE_SIZE.to_string());
            }
        }
    }

    /// After page number `pages` (which added `added` new records, `received`
    /// in all): whether another page follows, or why the paging is broken.
    fn advance(
        &mut self,
        page: Page,
        pages: u64,
        added: u64,
        received: u64,
        reported_total: Option<u64>,
    ) -> Result<bool, String> {
        match self {
            Cursor::V2 {
                next_token,
                followed,
                ..
            } => match (page.has_more, page.next_token.filter(|t| !t.is_empty())) {
                (Some(false), _) | (None, None) => Ok(false),
                (Some(true) | None, Some(token)) => {
                    if !followed.insert(token.clone()) {
                        return Err(format!(
                            "page {pages} repeated a next_token already followed; the server's cursor is looping"
                        ));
                    }
                    *next_token = Some(token);
                    Ok(true)
                }
                (Some(true), None) => Err(format!(
                    "page {pages} says has_more but gives no next_token to continue with"
                )),
            },
            Cursor::V1 { page: number } => {
                if page.data.is_empty() {
                    return Ok(false);
                }
                if added == 0 {
                    return Err(format!(
                        "page {pages} returned only records already seen; the server seems to ignore `page`"
                    ));
                }
                let done = match reported_total {
                    Some(total) => received >= total,
                    None => (page.data.len() as u64) < PAGE_SIZE,
                };
                *number += 1;
                Ok(!done)
            }
        }
    }
}

fn decode_error(endpoint: &str, f: DecodeFailure) -> ApiError {
    ApiError::Decode {
        endpoint: endpoint.to_string(),
        path: f.path,
        detail: f.detail,
    }
}

fn page_decode_error(endpoint: &str, f: DecodeFailure, page: u64) -> ApiError {
    ApiError::Decode {
        endpoint: endpoint.to_string(),
        path: f.path,
        detail: format!("{} (page {page})", f.detail),
    }
}

/// Converts one page's records, keeping the first of each id; returns how many
/// were added and how many were duplicates.
fn add_page<T>(
    items: &mut Vec<T>,
    seen: &mut HashSet<String>,
    data: &[Value],
    convert: fn(&Value, usize) -> Result<T, DecodeFailure>,
    key: fn(&T) -> String,
) -> Result<(u64, u64), DecodeFailure> {
    let (mut added, mut dups) = (0u64, 0u64);
    for (i, value) in data.iter().enumerate() {
        let item = convert(value, i)?;
        if seen.insert(key(&item)) {
            items.push(item);
            added += 1;
        } else {
            dups += 1;
        }
    }
    Ok((added, dups))
}

fn check_page_cap(
    endpoint: &str,
    pages: u64,
    page_size: u64,
    reported_total: Option<u64>,
) -> Result<(), ApiError> {
    let cap = reported_total
        .map(|t| t / page_size.max(1) + PAGE_SLACK)
        .unwrap_or(PAGE_CAP_WITHOUT_TOTAL);
    if pages >= cap {
        return Err(ApiError::Pagination {
            endpoint: endpoint.to_string(),
            detail: format!(
                "gave up after {pages} pages for {} records; the server keeps returning more pages",
                reported_total.map_or("an unknown number of".to_string(), |t| t.to_string())
            ),
        });
    }
    Ok(())
}

/// A decoding failure of an answer that may carry secrets or whose shape is
/// undocumented: the field path is named, the value never is (a serde message
/// can quote the value it rejected).
fn shape_error(endpoint: &str, f: DecodeFailure) -> ApiError {
    ApiError::Decode {
        endpoint: endpoint.to_string(),
        path: f.path,
        detail: "unrecognised response shape".to_string(),
    }
}
