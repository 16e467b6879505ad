//! What the simulated Retool answers: which route a request hits in each
//! dialect, the query parameters it reads, paging in the v2 (`limit`,
//! `next_token`) and v1 (`page`, `pageSize`) shapes, and the answer of every
//! read route.

use axum::body::Bytes;
use axum::http::{Method, StatusCode, Uri};
use serde_json::{Value, json};

use super::Shared;
use super::inject::has_fault;
use crate::fake::faults::Fault;
use crate::fake::org::FakeOrg;
use crate::model::{Dialect, GroupId, ObjectType, Subject, UserId};

pub(in crate::fake) type Answer = Result<Value, (StatusCode, String)>;

/// Which route a request hit, after the dialect prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::fake) enum Route {
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
    V2Roles,
    V2RoleGrants,
    V2AccessRequests,
    V2Organization,
    V2SsoConfig,
    V2Usage,
    V2AppDetails,
    V2Environments,
    V2ResourceConfigurations,
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
    pub(super) fn scope(&self) -> Option<&'static str> {
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
            Route::V2Spaces | Route::V2SsoConfig => "spaces:read",
            Route::V2Roles | Route::V2RoleGrants => "permissions:read",
            Route::V2AccessRequests => "users:read",
            Route::V2Organization => "organization:read",
            Route::V2Usage | Route::V2AppDetails => "usage",
            Route::V2Environments => "environments:read",
            Route::V2ResourceConfigurations => "resources:read",
            Route::V2ListObjects | Route::V2AccessList(..) => "permissions:read",
            Route::V2RemoveMember(..) | Route::V2AddMembers(_) => "groups:write",
            Route::V2Revoke => "permissions:write",
            Route::V2PatchUser(_) => "users:write",
        })
    }

    /// Whether the route changes the organization.
    pub(super) fn writes(&self) -> bool {
        matches!(
            self,
            Route::V2RemoveMember(..)
                | Route::V2AddMembers(_)
                | Route::V2Revoke
                | Route::V2PatchUser(_)
        )
    }
}

pub(super) fn route(method: &Method, path: &str) -> Option<(Dialect, Route)> {
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
            (Method::GET, ["role_permissions", "roles"]) => Route::V2Roles,
            (Method::GET, ["role_permissions", "role_grants"]) => Route::V2RoleGrants,
            (Method::GET, ["access_requests"]) => Route::V2AccessRequests,
            (Method::GET, ["organization"]) => Route::V2Organization,
            (Method::GET, ["sso", "config"]) => Route::V2SsoConfig,
            (Method::GET, ["usage", "user_summary"]) => Route::V2Usage,
            (Method::GET, ["usage", "app_details"]) => Route::V2AppDetails,
            (Method::GET, ["environments"]) => Route::V2Environments,
            (Method::GET, ["resource_configurations"]) => Route::V2ResourceConfigurations,
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

pub(super) fn dialect_of(path: &str) -> Dialect {
    if path.starts_with("/api/v1") {
        Dialect::V1
    } else {
        Dialect::V2
    }
}

/// Query parameters, percent-decoded.
pub(super) fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub(in crate::fake) fn bad(message: impl Into<String>) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, message.into())
}

pub(super) fn envelope(data: Vec<Value>, total: usize, next_token: Option<String>) -> Value {
    json!({
        "success": true,
        "data": data,
        "total_count": total,
        "has_more": next_token.is_some(),
        "next_token": next_token,
    })
}

pub(super) fn encode_token(offset: usize) -> String {
    format!("ofs_{:x}", offset ^ 0x5f5f)
}

pub(super) fn decode_token(token: &str) -> Option<usize> {
    let hex = token.strip_prefix("ofs_")?;
    usize::from_str_radix(hex, 16).ok().map(|v| v ^ 0x5f5f)
}

/// v2 `limit`/`next_token` pagination over `items` (rendered lazily).
pub(super) fn paginate_v2<T>(
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
pub(super) fn paginate_v1<T>(
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

pub(super) fn everything(data: Vec<Value>) -> Value {
    let n = data.len();
    envelope(data, n, None)
}

pub(super) fn answer_value(
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
        Route::V2Roles => Ok(everything(org.roles.iter().map(FakeOrg::role_v2).collect())),
        Route::V2RoleGrants => Ok(everything(
            org.role_grants.iter().map(FakeOrg::role_grant_v2).collect(),
        )),
        Route::V2AccessRequests => paginate_v2(
            shared,
            uri,
            path,
            &org.access_requests,
            FakeOrg::access_request_v2,
            false,
        ),
        Route::V2Organization => Ok(json!({"success": true, "data": org.settings.organization})),
        Route::V2SsoConfig => Ok(json!({"success": true, "data": org.settings.sso})),
        Route::V2Usage => {
            let pairs = query_pairs(uri);
            let date = |name: &str| {
                param(&pairs, name)
                    .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            };
            let Some(start) = date("start_date") else {
                return Err(bad("start_date is required (YYYY-MM-DD)"));
            };
            if date("end_date").is_some_and(|end| end < start) {
                return Err(bad("end_date is before start_date"));
            }
            Ok(everything(
                org.usage.iter().map(FakeOrg::usage_v2).collect(),
            ))
        }
        Route::V2AppDetails => {
            let pairs = query_pairs(uri);
            let Some(name) = param(&pairs, "app_name") else {
                return Err(bad("app_name is required"));
            };
            if param(&pairs, "start_date").is_none() {
                return Err(bad("start_date is required (YYYY-MM-DD)"));
            }
            Ok(json!({"success": true, "data": org.app_details_v2(name)}))
        }
        Route::V2Environments => Ok(everything(
            org.environments
                .iter()
                .map(FakeOrg::environment_v2)
                .collect(),
        )),
        Route::V2ResourceConfigurations => paginate_v2(
            shared,
            uri,
            path,
            &org.configurations,
            |c| org.configuration_v2(c),
            false,
        ),
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
                Some("resource_configuration") => {
                    return match subject {
                        Subject::Group(g) if org.groups.iter().any(|x| x.id == g.0) => {
                            Ok(everything(org.configuration_objects(g)))
                        }
                        Subject::Group(_) => {
                            Err((StatusCode::NOT_FOUND, "Subject not found".to_string()))
                        }
                        Subject::User(_) => Err(bad(
                            "resource_configuration access is listed for groups only",
                        )),
                    };
                }
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
