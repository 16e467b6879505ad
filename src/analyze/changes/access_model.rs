//! Changes to roles, role grants, security settings, access requests and
//! per-environment resource access.
//!
//! Risk: a role grant that gives a custom role with a privileged organization
//! scope, or edit/own on objects, is `high` (`medium` for any other role); a
//! role that gains a privileged organization scope or a mapped edit/own
//! object scope is `high`; a setting change that brings a security finding
//! (`two_factor_not_required`, ...) is `high`. Everything else — removals,
//! renames, other settings, access requests — is `low`.

use std::collections::{BTreeMap, HashMap};

use super::{ChangeKind, Diff, Risk, compared_fields, object_names, walk};
use crate::analyze::roles::{is_privileged_org_scope, object_scope_level, privileged_scopes};
use crate::analyze::settings::security_settings;
use crate::model::{AccessLevel, OrgState, Role, RoleGrant};

/// Whether holding `role` is privileged: a custom role with a privileged
/// organization scope, or any role whose object scopes give edit or own.
fn powerful(role: &Role) -> bool {
    let org = !role.is_default_role && !privileged_scopes(role).is_empty();
    let objects = role
        .object_scopes
        .iter()
        .filter_map(|s| object_scope_level(s))
        .any(|(_, l)| l >= AccessLevel::Edit);
    org || objects
}

pub(super) fn roles(d: &mut Diff, old: &OrgState, new: &OrgState) {
    fn map(s: &OrgState) -> BTreeMap<&str, &Role> {
        s.roles.iter().map(|r| (r.id.as_str(), r)).collect()
    }
    walk(&map(old), &map(new), |id, o, n| match (o, n) {
        (None, Some(n)) => {
            let risk = if powerful(n) { Risk::Medium } else { Risk::Low };
            d.push(
                ChangeKind::Added,
                id,
                &n.name,
                "",
                String::new(),
                String::new(),
                risk,
            );
        }
        (Some(o), None) => {
            d.push(
                ChangeKind::Removed,
                id,
                &o.name,
                "",
                String::new(),
                String::new(),
                Risk::Low,
            );
        }
        (Some(o), Some(n)) if o == n => {}
        (Some(o), Some(n)) => {
            let gained_org = n
                .organization_scopes
                .iter()
                .any(|s| is_privileged_org_scope(s) && !o.organization_scopes.contains(s));
            let level = |r: &Role| {
                r.object_scopes
                    .iter()
                    .filter_map(|s| object_scope_level(s))
                    .map(|(_, l)| l)
                    .max()
                    .unwrap_or(AccessLevel::None)
            };
            let gained_objects = level(n) >= AccessLevel::Edit && level(n) > level(o);
            d.fields(
                id,
                &n.name,
                compared_fields(*o),
                compared_fields(*n),
                |field, _, _| match field {
                    "organization_scopes_json" if gained_org && !n.is_default_role => Risk::High,
                    "object_scopes_json" if gained_objects => Risk::High,
                    _ => Risk::Low,
                },
            );
        }
        (None, None) => {}
    });
}

/// `<role_id>:<subject_type>:<subject_id>`, then `:<object_type>:<object_id>`
/// for a grant on an object.
pub(crate) fn grant_id(g: &RoleGrant) -> String {
    let mut id = format!("{}:{}:{}", g.role_id, g.subject_type, g.subject_id);
    if !g.object_type.is_empty() || !g.object_id.is_empty() {
        id.push_str(&format!(":{}:{}", g.object_type, g.object_id));
    }
    id
}

pub(super) fn role_grants(d: &mut Diff, old: &OrgState, new: &OrgState) {
    let roles: HashMap<&str, &Role> = new
        .roles
        .iter()
        .chain(&old.roles)
        .map(|r| (r.id.as_str(), r))
        .collect();
    let (new_names, old_names) = (object_names(new), object_names(old));
    let subject = |g: &RoleGrant| -> String {
        let state_name = |s: &OrgState| {
            if let Some(u) = g.user() {
                s.user(&u).map(|u| u.email.clone())
            } else {
                g.group().and_then(|id| s.group(id)).map(|g| g.name.clone())
            }
        };
        state_name(new)
            .or_else(|| state_name(old))
            .unwrap_or_else(|| format!("{} {}", g.subject_type, g.subject_id))
    };
    let name = |g: &RoleGrant| {
        let role = roles
            .get(g.role_id.as_str())
            .map_or(g.role_id.as_str(), |r| r.name.as_str());
        let mut name = format!("{role} → {}", subject(g));
        if let Some(o) = g.object() {
            let key = (o.object_type, &o.id);
            let label = new_names.get(&key).or_else(|| old_names.get(&key));
            name.push_str(&format!(
                " on {} {}",
                g.object_type,
                label.unwrap_or(&g.object_id.as_str())
            ));
        } else if !g.object_id.is_empty() {
            name.push_str(&format!(" on {} {}", g.object_type, g.object_id));
        }
        name
    };
    fn set(s: &OrgState) -> BTreeMap<String, &RoleGrant> {
        s.role_grants.iter().map(|g| (grant_id(g), g)).collect()
    }
    walk(&set(old), &set(new), |id, o, n| match (o, n) {
        (None, Some(g)) => {
            let risk = match roles.get(g.role_id.as_str()) {
                Some(r) if powerful(r) => Risk::High,
                _ => Risk::Medium,
            };
            d.push(
                ChangeKind::Added,
                id,
                &name(g),
                "",
                String::new(),
                String::new(),
                risk,
            );
        }
        (Some(g), None) => {
            d.push(
                ChangeKind::Removed,
                id,
                &name(g),
                "",
                String::new(),
                String::new(),
                Risk::Low,
            );
        }
        _ => {}
    });
}

pub(super) fn settings(d: &mut Diff, old: &OrgState, new: &OrgState) {
    fn map(s: &OrgState) -> BTreeMap<String, (String, Option<&'static str>)> {
        security_settings(s)
            .into_iter()
            .map(|r| {
                let id = format!("{}.{}", r.setting.source, r.setting.name);
                (id, (r.setting.value, r.finding))
            })
            .collect()
    }
    walk(&map(old), &map(new), |id, o, n| match (o, n) {
        (None, Some((value, finding))) => {
            let risk = if finding.is_some() {
                Risk::High
            } else {
                Risk::Low
            };
            d.push(
                ChangeKind::Added,
                id,
                id,
                "",
                String::new(),
                value.clone(),
                risk,
            );
        }
        (Some((value, _)), None) => {
            d.push(
                ChangeKind::Removed,
                id,
                id,
                "",
                value.clone(),
                String::new(),
                Risk::Low,
            );
        }
        (Some((ov, of)), Some((nv, nf))) if ov != nv => {
            let risk = if nf.is_some() && of.is_none() {
                Risk::High
            } else {
                Risk::Low
            };
            d.push(
                ChangeKind::Modified,
                id,
                id,
                "value",
                ov.clone(),
                nv.clone(),
                risk,
            );
        }
        _ => {}
    });
}

pub(super) fn access_requests(d: &mut Diff, old: &OrgState, new: &OrgState) {
    fn map(s: &OrgState) -> BTreeMap<i64, &crate::model::AccessRequest> {
        s.access_requests.iter().map(|r| (r.id, r)).collect()
    }
    walk(&map(old), &map(new), |id, o, n| {
        let id = id.to_string();
        match (o, n) {
            (None, Some(n)) => d.push(
                ChangeKind::Added,
                &id,
                &n.requesting_email,
                "",
                String::new(),
                n.status.to_lowercase(),
                Risk::Low,
            ),
            (Some(o), None) => d.push(
                ChangeKind::Removed,
                &id,
                &o.requesting_email,
                "",
                o.status.to_lowercase(),
                String::new(),
                Risk::Low,
            ),
            (Some(o), Some(n)) if o != n => d.fields(
                &id,
                &n.requesting_email,
                compared_fields(*o),
                compared_fields(*n),
                |_, _, _| Risk::Low,
            ),
            _ => {}
        }
    });
}

/// Groups' access to one environment's configuration of a resource. Gaining
/// edit or own is `high`, gaining use `medium`; losing access `low`.
pub(super) fn environment_access(d: &mut Diff, old: &OrgState, new: &OrgState) {
    use crate::analyze::environments::{EnvironmentAccess, environment_access};
    let (old_rows, new_rows) = (environment_access(old), environment_access(new));
    fn map<'r, 'a>(
        rows: &'r [EnvironmentAccess<'a>],
    ) -> BTreeMap<String, &'r EnvironmentAccess<'a>> {
        rows.iter()
            .map(|r| (format!("{}:{}", r.group_id, r.configuration_id), r))
            .collect()
    }
    let group = |id: crate::model::GroupId| {
        new.group(id)
            .or_else(|| old.group(id))
            .map_or_else(|| format!("group {id}"), |g| g.name.clone())
    };
    let name = |r: &EnvironmentAccess<'_>| {
        format!(
            "{} → {} ({})",
            group(r.group_id),
            r.resource_name,
            r.environment
        )
    };
    let gain = |level: AccessLevel| {
        if level >= AccessLevel::Edit {
            Risk::High
        } else {
            Risk::Medium
        }
    };
    walk(&map(&old_rows), &map(&new_rows), |id, o, n| match (o, n) {
        (None, Some(n)) => d.push(
            ChangeKind::Added,
            id,
            &name(n),
            "access_level",
            String::new(),
            n.access_level.as_str().to_string(),
            gain(n.access_level),
        ),
        (Some(o), None) => d.push(
            ChangeKind::Removed,
            id,
            &name(o),
            "access_level",
            o.access_level.as_str().to_string(),
            String::new(),
            Risk::Low,
        ),
        (Some(o), Some(n)) if o.access_level != n.access_level => d.push(
            ChangeKind::Modified,
            id,
            &name(n),
            "access_level",
            o.access_level.as_str().to_string(),
            n.access_level.as_str().to_string(),
            if n.access_level > o.access_level {
                gain(n.access_level)
            } else {
                Risk::Low
            },
        ),
        _ => {}
    });
}
