//! Roles: what a role's scopes mean for access, and who holds a role.
//!
//! # The mapping this version implements
//!
//! Retool documents a role's scopes only by their names in the settings UI, so
//! retool-audit maps what it can read unambiguously and lists the rest as
//! unmapped instead of guessing:
//!
//! - An **object scope** `<type>:<level>` — `<type>` one of `app`, `folder`,
//!   `resource`, `workflow` (or their plurals), `<level>` one of `use`, `edit`,
//!   `own` — gives that level on objects of that type. A role grant that names
//!   an object gives the role's level for the object's type on that object; a
//!   grant that names no object gives it on every object of the type (the
//!   "all apps" variant). Effective access shows it as `role:<name>` (held
//!   directly) or `role:<name> via group:<group>`. Grants on folders do not
//!   flow to the folder's items (Retool does not document that they do).
//!   Every other object scope is unmapped: the roles table lists the role, and
//!   the effective-access notice names the scopes it could not place.
//! - An **organization scope** `<area>:<action>` is privileged unless its
//!   action is `view`, `read` or `use` (`users:manage`, `sso:manage`,
//!   `query_library:edit` are; `user_list:view` is not). A user who holds a
//!   role that is not a default role and has a privileged organization scope
//!   is listed in `privileged_access` with kind `role`. Default roles mirror
//!   the built-in groups (Admin, Editor, Viewer), whose access the `admin` and
//!   `universal_access` rows already cover.

use std::collections::HashMap;

use crate::model::{AccessLevel, GroupId, ObjectType, OrgState, Role, RoleGrant, UserId};

/// The object type and level an object scope gives, when this version maps it.
pub fn object_scope_level(scope: &str) -> Option<(ObjectType, AccessLevel)> {
    let (kind, action) = scope.split_once(':')?;
    let object_type =
        ObjectType::parse(kind).or_else(|| ObjectType::parse(kind.strip_suffix('s')?))?;
    let level = match action {
        "use" => AccessLevel::Use,
        "edit" => AccessLevel::Edit,
        "own" => AccessLevel::Own,
        _ => return None,
    };
    Some((object_type, level))
}

/// Whether an organization scope lets its holder change something.
pub fn is_privileged_org_scope(scope: &str) -> bool {
    let action = scope.rsplit(':').next().unwrap_or(scope);
    !matches!(action, "view" | "read" | "use")
}

/// The highest level the role gives on objects of `object_type`.
pub fn role_level(role: &Role, object_type: ObjectType) -> AccessLevel {
    role.object_scopes
        .iter()
        .filter_map(|s| object_scope_level(s))
        .filter(|(t, _)| *t == object_type)
        .map(|(_, l)| l)
        .max()
        .unwrap_or(AccessLevel::None)
}

/// The role's object scopes this version does not map to a level.
pub fn unmapped_object_scopes(role: &Role) -> Vec<&str> {
    role.object_scopes
        .iter()
        .map(String::as_str)
        .filter(|s| object_scope_level(s).is_none())
        .collect()
}

/// The role's privileged organization scopes.
pub fn privileged_scopes(role: &Role) -> Vec<&str> {
    role.organization_scopes
        .iter()
        .map(String::as_str)
        .filter(|s| is_privileged_org_scope(s))
        .collect()
}

/// One user holding one role through one grant: directly, or as a member of
/// the group the grant names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding<'a> {
    pub user: &'a UserId,
    pub role: &'a Role,
    pub grant: &'a RoleGrant,
    /// The group the role reaches the user through; `None` when held directly.
    pub via_group: Option<GroupId>,
}

/// Every (user, role, grant) of the state: user grants as they are, group
/// grants expanded to the group's members. Grants of a role the state does
/// not hold, and subjects that are neither users nor groups, give nothing.
/// Sorted by user, role name, grant.
pub fn holdings(state: &OrgState) -> Vec<Holding<'_>> {
    let roles: HashMap<&str, &Role> = state.roles.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut members: HashMap<GroupId, Vec<&UserId>> = HashMap::new();
    for m in &state.memberships {
        members.entry(m.group_id).or_default().push(&m.user_id);
    }
    let mut out = Vec::new();
    for grant in &state.role_grants {
        let Some(role) = roles.get(grant.role_id.as_str()) else {
            continue;
        };
        if let Some(user) = grant.user() {
            if let Some(user) = state.user(&user) {
                out.push(Holding {
                    user: &user.id,
                    role,
                    grant,
                    via_group: None,
                });
            }
        } else if let Some(g) = grant.group() {
            for user in members.get(&g).into_iter().flatten() {
                out.push(Holding {
                    user,
                    role,
                    grant,
                    via_group: Some(g),
                });
            }
        }
    }
    out.sort_by(|a, b| {
        (a.user, &a.role.name, a.grant, a.via_group).cmp(&(
            b.user,
            &b.role.name,
            b.grant,
            b.via_group,
        ))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_scopes_map_only_type_and_level_pairs() {
        assert_eq!(
            object_scope_level("app:edit"),
            Some((ObjectType::App, AccessLevel::Edit))
        );
        assert_eq!(
            object_scope_level("resources:own"),
            Some((ObjectType::Resource, AccessLevel::Own))
        );
        assert_eq!(
            object_scope_level("workflow:use"),
            Some((ObjectType::Workflow, AccessLevel::Use))
        );
        for unmapped in ["app:view", "apps", "agent:edit", "app:edit:extra", ""] {
            assert_eq!(object_scope_level(unmapped), None, "{unmapped}");
        }
    }

    #[test]
    fn only_scopes_that_change_something_are_privileged() {
        for p in [
            "users:manage",
            "sso:manage",
            "query_library:edit",
            "billing:manage",
        ] {
            assert!(is_privileged_org_scope(p), "{p}");
        }
        for n in ["user_list:view", "query_library:view", "audit_logs:read"] {
            assert!(!is_privileged_org_scope(n), "{n}");
        }
    }

    #[test]
    fn group_grants_reach_every_member_and_user_grants_their_user() {
        let org = crate::fake::FakeOrg::generate(&crate::fake::OrgSpec::demo(
            chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 20, 12, 0, 0)
                .single()
                .unwrap_or_default(),
        ));
        let s = org.expected_state();
        let h = holdings(&s);
        let manager: Vec<&Holding> = h.iter().filter(|h| h.role.name == "User Manager").collect();
        assert_eq!(manager.len(), 1);
        assert_eq!(manager[0].via_group, None);
        let viewers = h.iter().filter(|h| h.role.name == "Viewer").count();
        let all_users = s
            .memberships
            .iter()
            .filter(|m| m.group_id == crate::fake::ALL_USERS_GROUP)
            .count();
        assert_eq!(viewers, all_users);
    }
}
