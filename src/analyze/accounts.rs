//! Account findings: orphaned accounts (no groups, not in the HR roster,
//! inactive, never active), disabled accounts that still hold access, and the
//! list of privileged access (admins, group admins, broad or owner access, write
//! tokens, pending invites).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use chrono::{DateTime, Duration, Utc};

use super::access::{AccessIndex, join_via};
use super::roster::Roster;
use crate::model::{
    AccessLevel, DisabledWindow, GroupId, ObjectId, ObjectRef, ObjectType, OrgState, SnapshotRef,
    Subject, User, UserId,
};

/// Settings shared by the account analyses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountOptions {
    /// The built-in group every user is in; membership in it alone does not
    /// count as "in a group". Matched case-insensitively. Default `All Users`.
    pub default_group: String,
    /// A user whose last activity is more than this many days before the
    /// snapshot is `inactive`. Default 90.
    pub inactive_days: u32,
}

impl Default for AccountOptions {
    fn default() -> Self {
        AccountOptions {
            default_group: "All Users".to_string(),
            inactive_days: 90,
        }
    }
}

impl AccountOptions {
    fn is_default_group(&self, name: &str) -> bool {
        name.trim().eq_ignore_ascii_case(self.default_group.trim())
    }
}

/// Why an account looks orphaned. The declaration order is the order reasons
/// are listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OrphanReason {
    /// Member of no group other than the default group.
    NoGroups,
    /// Active, and the email is not in the HR roster (only with a roster).
    NotInRoster,
    /// Last active more than `inactive_days` before the snapshot.
    Inactive,
    /// Never active (no `last_active`).
    NeverActive,
}

impl OrphanReason {
    pub fn as_str(self) -> &'static str {
        match self {
            OrphanReason::NoGroups => "no_groups",
            OrphanReason::NotInRoster => "not_in_roster",
            OrphanReason::Inactive => "inactive",
            OrphanReason::NeverActive => "never_active",
        }
    }

    pub const ALL: [OrphanReason; 4] = [
        OrphanReason::NoGroups,
        OrphanReason::NotInRoster,
        OrphanReason::Inactive,
        OrphanReason::NeverActive,
    ];
}

impl fmt::Display for OrphanReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user with at least one [`OrphanReason`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrphanedAccount {
    pub user_id: UserId,
    pub email: String,
    pub active: bool,
    pub is_admin: bool,
    pub last_active: Option<DateTime<Utc>>,
    /// In [`OrphanReason`] order, never empty.
    pub reasons: Vec<OrphanReason>,
}

fn group_names_of(
    state: &OrgState,
    index: &HashMap<&UserId, Vec<GroupId>>,
    user: &UserId,
) -> Vec<String> {
    let mut names: Vec<String> = index
        .get(user)
        .into_iter()
        .flatten()
        .map(|g| match state.group(*g) {
            Some(g) => g.name.clone(),
            None => format!("group {g}"),
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

fn memberships_by_user(state: &OrgState) -> HashMap<&UserId, Vec<GroupId>> {
    let mut m: HashMap<&UserId, Vec<GroupId>> = HashMap::new();
    for ms in &state.memberships {
        m.entry(&ms.user_id).or_default().push(ms.group_id);
    }
    m
}

/// Accounts that look orphaned, with every reason that applies, sorted by
/// email then user id. `no_groups`, `inactive` and `never_active` are checked
/// for every user (the `status` column tells disabled ones apart);
/// `not_in_roster` only for active users and only when a roster is given.
/// `as_of` is the snapshot time (not the wall clock), so a report of the same
/// snapshot always says the same.
pub fn orphaned_accounts(
    state: &OrgState,
    roster: Option<&Roster>,
    options: &AccountOptions,
    as_of: DateTime<Utc>,
) -> Vec<OrphanedAccount> {
    let by_user = memberships_by_user(state);
    let cutoff = as_of - Duration::days(i64::from(options.inactive_days));
    let mut out = Vec::new();
    for u in &state.users {
        let mut reasons = Vec::new();
        let names = group_names_of(state, &by_user, &u.id);
        if names.iter().all(|n| options.is_default_group(n)) {
            reasons.push(OrphanReason::NoGroups);
        }
        if let Some(r) = roster {
            if u.active && !r.contains(&u.email) {
                reasons.push(OrphanReason::NotInRoster);
            }
        }
        match u.last_active {
            Some(t) if t < cutoff => reasons.push(OrphanReason::Inactive),
            Some(_) => {}
            None => reasons.push(OrphanReason::NeverActive),
        }
        if !reasons.is_empty() {
            out.push(OrphanedAccount {
                user_id: u.id.clone(),
                email: u.email.clone(),
                active: u.active,
                is_admin: u.is_admin,
                last_active: u.last_active,
                reasons,
            });
        }
    }
    out.sort_by(|a, b| (&a.email, &a.user_id).cmp(&(&b.email, &b.user_id)));
    out
}

/// What is wrong with a disabled account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DisabledFinding {
    /// Disabled but still flagged as an org admin.
    StillAdmin,
    /// Disabled but still a member of a group other than the default group.
    StillInGroups,
}

impl DisabledFinding {
    pub fn as_str(self) -> &'static str {
        match self {
            DisabledFinding::StillAdmin => "still_admin",
            DisabledFinding::StillInGroups => "still_in_groups",
        }
    }
}

impl fmt::Display for DisabledFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One disabled user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisabledAccount {
    pub user_id: UserId,
    pub email: String,
    pub is_admin: bool,
    /// Every group the user is still in (default group included), sorted.
    pub groups: Vec<String>,
    /// The last snapshot before the disabled run that saw the user active,
    /// when known.
    pub last_seen_active: Option<SnapshotRef>,
    /// The first snapshot that saw the user disabled, when known.
    pub disabled_since: Option<SnapshotRef>,
    pub findings: Vec<DisabledFinding>,
}

/// Every disabled user, sorted by email then user id, with the groups they are
/// still in and what is wrong (`still_admin`, `still_in_groups`).
pub fn disabled_accounts(
    state: &OrgState,
    disabled_since: &BTreeMap<UserId, DisabledWindow>,
    options: &AccountOptions,
) -> Vec<DisabledAccount> {
    let by_user = memberships_by_user(state);
    let mut out: Vec<DisabledAccount> = state
        .users
        .iter()
        .filter(|u| !u.active)
        .map(|u| {
            let groups = group_names_of(state, &by_user, &u.id);
            let mut findings = Vec::new();
            if u.is_admin {
                findings.push(DisabledFinding::StillAdmin);
            }
            if groups.iter().any(|g| !options.is_default_group(g)) {
                findings.push(DisabledFinding::StillInGroups);
            }
            DisabledAccount {
                user_id: u.id.clone(),
                email: u.email.clone(),
                is_admin: u.is_admin,
                groups,
                last_seen_active: disabled_since.get(&u.id).and_then(|w| w.last_seen_active),
                disabled_since: disabled_since.get(&u.id).map(|w| w.disabled_since),
                findings,
            }
        })
        .collect();
    out.sort_by(|a, b| (&a.email, &a.user_id).cmp(&(&b.email, &b.user_id)));
    out
}

/// The kinds of privileged access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PrivilegeKind {
    /// An org admin.
    Admin,
    /// A group admin (can manage the group's members).
    GroupAdmin,
    /// Universal `edit` or `own` on apps, resources, workflows or the query
    /// library, through a group.
    UniversalAccess,
    /// `own` on a resource (through a group, a folder or directly).
    ResourceOwner,
    /// An API access token with a `:write` scope.
    WriteToken,
    /// An unclaimed, unexpired invitation that carries group membership.
    PendingInvite,
    /// A custom role with a privileged organization scope (see
    /// [`super::roles`]), held directly or through a group.
    Role,
}

impl PrivilegeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrivilegeKind::Admin => "admin",
            PrivilegeKind::GroupAdmin => "group_admin",
            PrivilegeKind::UniversalAccess => "universal_access",
            PrivilegeKind::ResourceOwner => "resource_owner",
            PrivilegeKind::WriteToken => "write_token",
            PrivilegeKind::PendingInvite => "pending_invite",
            PrivilegeKind::Role => "role",
        }
    }
}

impl fmt::Display for PrivilegeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One privileged holder. `user_id` is `None` for an invite (no account yet) or
/// a token whose owner is not in the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivilegedEntry {
    pub user_id: Option<UserId>,
    /// The user's or invitee's email; empty for a token with an unknown owner.
    pub email: String,
    pub kind: PrivilegeKind,
    /// The group the privilege comes through (group admin, universal access,
    /// a role held through a group), when it comes through one.
    pub group_id: Option<GroupId>,
    /// Human-readable: which group, object, token or invite.
    pub detail: String,
}

/// Privileged access of ACTIVE users, tokens and pending invites, sorted by
/// kind, email, detail. Disabled users are reported by [`disabled_accounts`].
/// `as_of` is the snapshot time: invites expired by then are not pending.
/// `index` is the state's [`AccessIndex`] (it confirms resource owners).
pub fn privileged_access(
    state: &OrgState,
    index: &AccessIndex<'_>,
    as_of: DateTime<Utc>,
) -> Vec<PrivilegedEntry> {
    let mut out = Vec::new();
    let entry = |u: &User, kind, group_id: Option<GroupId>, detail: String| PrivilegedEntry {
        user_id: Some(u.id.clone()),
        email: u.email.clone(),
        kind,
        group_id,
        detail,
    };
    let group_name = |g: GroupId| match state.group(g) {
        Some(g) => g.name.clone(),
        None => format!("group {g}"),
    };
    let active: HashMap<&UserId, &User> = state
        .users
        .iter()
        .filter(|u| u.active)
        .map(|u| (&u.id, u))
        .collect();

    for u in state.users.iter().filter(|u| u.active && u.is_admin) {
        out.push(entry(
            u,
            PrivilegeKind::Admin,
            None,
            "org admin (own on everything)".into(),
        ));
    }
    for m in &state.memberships {
        let Some(u) = active.get(&m.user_id) else {
            continue;
        };
        if m.is_group_admin {
            out.push(entry(
                u,
                PrivilegeKind::GroupAdmin,
                Some(m.group_id),
                format!("admin of group {}", group_name(m.group_id)),
            ));
        }
        if let Some(g) = state.group(m.group_id) {
            let universal = [
                ("apps", g.universal_app_access),
                ("resources", g.universal_resource_access),
                ("workflows", g.universal_workflow_access),
                ("query library", g.universal_query_library_access),
            ];
            for (what, level) in universal {
                if level >= AccessLevel::Edit {
                    out.push(entry(
                        u,
                        PrivilegeKind::UniversalAccess,
                        Some(g.id),
                        format!("{level} on all {what} via group {}", g.name),
                    ));
                }
            }
        }
    }

    // Resource owners: every (user, resource) reached at own by a group grant,
    // a folder grant or a direct grant. Universal own is listed above.
    let mut folder_resources: HashMap<&ObjectId, Vec<&ObjectId>> = HashMap::new();
    for r in &state.resources {
        if let Some(f) = &r.folder_id {
            folder_resources.entry(f).or_default().push(&r.id);
        }
    }
    let mut group_members: HashMap<GroupId, Vec<&UserId>> = HashMap::new();
    for m in &state.memberships {
        group_members
            .entry(m.group_id)
            .or_default()
            .push(&m.user_id);
    }
    // Candidates: members of groups with an own grant reaching the resource, and
    // direct holders; the index then confirms the level and names the sources.
    let mut candidates: BTreeMap<&ObjectId, Vec<&UserId>> = BTreeMap::new();
    for g in state.grants.iter().filter(|g| g.level == AccessLevel::Own) {
        let reached: Vec<&ObjectId> = match g.object.object_type {
            ObjectType::Resource => vec![&g.object.id],
            ObjectType::Folder => folder_resources
                .get(&g.object.id)
                .cloned()
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let holders: Vec<&UserId> = match &g.subject {
            Subject::Group(gid) => group_members.get(gid).cloned().unwrap_or_default(),
            Subject::User(uid) => vec![uid],
        };
        for rid in reached {
            candidates.entry(rid).or_default().extend(&holders);
        }
    }
    for (rid, mut users) in candidates {
        users.sort();
        users.dedup();
        let object = ObjectRef {
            object_type: ObjectType::Resource,
            id: rid.clone(),
        };
        for uid in users {
            let Some(u) = active.get(uid) else {
                continue;
            };
            if u.is_admin {
                continue; // listed as admin already
            }
            let (level, via) = index.level(uid, &object);
            if level == AccessLevel::Own {
                let own: Vec<_> = via
                    .into_iter()
                    .filter(|v| v.level == AccessLevel::Own)
                    .collect();
                out.push(entry(
                    u,
                    PrivilegeKind::ResourceOwner,
                    None,
                    format!(
                        "own on resource {} ({rid}) via {}",
                        index.object_name(ObjectType::Resource, rid),
                        join_via(&own)
                    ),
                ));
            }
        }
    }

    let by_legacy = state.users_by_legacy_id();
    for t in &state.access_tokens {
        let write = t.write_scopes();
        if write.is_empty() {
            continue;
        }
        let owner = t.owner_legacy_id.and_then(|l| by_legacy.get(&l));
        let detail = format!(
            "token {} (…{}) write scopes: {}",
            t.label,
            t.last4,
            write.join(", ")
        );
        out.push(PrivilegedEntry {
            user_id: owner.map(|u| u.id.clone()),
            email: owner.map(|u| u.email.clone()).unwrap_or_default(),
            kind: PrivilegeKind::WriteToken,
            group_id: None,
            detail,
        });
    }

    for i in &state.user_invites {
        if i.status(as_of) != "pending" || i.group_ids.is_empty() {
            continue;
        }
        let mut groups: Vec<String> = i.group_ids.iter().map(|g| group_name(*g)).collect();
        groups.sort();
        let expires = match i.expires_at {
            Some(e) => e.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            None => "never".to_string(),
        };
        out.push(PrivilegedEntry {
            user_id: None,
            email: i.email.clone(),
            kind: PrivilegeKind::PendingInvite,
            group_id: None,
            detail: format!(
                "invite {} to groups {}; expires {expires}",
                i.id,
                groups.join(", ")
            ),
        });
    }

    // Custom roles with privileged organization scopes, for active users who
    // are not admins already (default roles mirror the built-in groups).
    for h in super::roles::holdings(state) {
        let Some(u) = active.get(h.user) else {
            continue;
        };
        let scopes = super::roles::privileged_scopes(h.role);
        if u.is_admin || h.role.is_default_role || scopes.is_empty() {
            continue;
        }
        let through = match h.via_group {
            Some(g) => format!("via group {}", group_name(g)),
            None => "held directly".to_string(),
        };
        out.push(entry(
            u,
            PrivilegeKind::Role,
            h.via_group,
            format!("role {} ({}) {through}", h.role.name, scopes.join(", ")),
        ));
    }

    out.sort_by(|a, b| (a.kind, &a.email, &a.detail).cmp(&(b.kind, &b.email, &b.detail)));
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::fixtures::*;
    use crate::model::{AccessToken, UserInvite};

    fn reasons(rows: &[OrphanedAccount], user: &str) -> Vec<&'static str> {
        rows.iter()
            .find(|r| r.user_id.0 == user)
            .map(|r| r.reasons.iter().map(|r| r.as_str()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn orphan_reasons_each_apply_and_are_ordered() {
        let mut s = org();
        // carol: only All Users after leaving DBA; never logged in.
        s.memberships
            .retain(|m| !(m.user_id.0 == "u-carol" && m.group_id.0 == 3));
        s.users[2].last_active = None;
        // bob: last active 91 days before the snapshot.
        let as_of = t(2026, 11, 23);
        s.users[1].last_active = Some(as_of - Duration::days(91));
        let roster = Roster::parse(b"email\nALICE@example.com\nbob@example.com\n").ok();
        let rows = orphaned_accounts(&s, roster.as_ref(), &AccountOptions::default(), as_of);
        assert_eq!(reasons(&rows, "u-alice"), Vec::<&str>::new());
        assert_eq!(reasons(&rows, "u-bob"), vec!["inactive"]);
        assert_eq!(
            reasons(&rows, "u-carol"),
            vec!["no_groups", "not_in_roster", "never_active"]
        );
        // The admin is only in All Users; the disabled erin is not checked
        // against the roster.
        assert_eq!(reasons(&rows, "u-dave"), vec!["no_groups", "not_in_roster"]);
        assert_eq!(reasons(&rows, "u-erin"), Vec::<&str>::new());
        // Without a roster nobody is `not_in_roster`; 89 days is not inactive.
        s.users[1].last_active = Some(as_of - Duration::days(89));
        let rows = orphaned_accounts(&s, None, &AccountOptions::default(), as_of);
        assert_eq!(reasons(&rows, "u-carol"), vec!["no_groups", "never_active"]);
        assert_eq!(reasons(&rows, "u-bob"), Vec::<&str>::new());
    }

    #[test]
    fn custom_default_group_counts_as_no_group() {
        let s = org();
        let options = AccountOptions {
            default_group: "eng".into(),
            inactive_days: 90,
        };
        let rows = orphaned_accounts(&s, None, &options, t(2026, 11, 23));
        // alice is in All Users and Eng: with `eng` as default, All Users counts.
        assert_eq!(reasons(&rows, "u-alice"), Vec::<&str>::new());
    }

    #[test]
    fn disabled_accounts_report_groups_since_and_findings() {
        let mut s = org();
        let snap = SnapshotRef {
            id: 4,
            taken_at: t(2026, 10, 1),
        };
        let active = SnapshotRef {
            id: 3,
            taken_at: t(2026, 9, 30),
        };
        let window = DisabledWindow {
            last_seen_active: Some(active),
            disabled_since: snap,
        };
        let since = BTreeMap::from([(UserId("u-erin".into()), window)]);
        let rows = disabled_accounts(&s, &since, &AccountOptions::default());
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].groups, vec!["All Users", "Eng"]);
        assert_eq!(rows[0].disabled_since, Some(snap));
        assert_eq!(rows[0].last_seen_active, Some(active));
        assert_eq!(rows[0].findings, vec![DisabledFinding::StillInGroups]);

        s.users[4].is_admin = true;
        s.memberships
            .retain(|m| !(m.user_id.0 == "u-erin" && m.group_id.0 == 2));
        let rows = disabled_accounts(&s, &BTreeMap::new(), &AccountOptions::default());
        assert_eq!(rows[0].findings, vec![DisabledFinding::StillAdmin]);
        assert_eq!(rows[0].disabled_since, None);
    }

    #[test]
    fn privileged_access_lists_each_kind() {
        let mut s = org();
        s.memberships.iter_mut().for_each(|m| {
            if m.user_id.0 == "u-bob" && m.group_id.0 == 2 {
                m.is_group_admin = true;
            }
        });
        s.groups[1].universal_workflow_access = AccessLevel::Edit;
        s.users[1].legacy_id = Some(42);
        s.access_tokens.push(AccessToken {
            id: "tok".into(),
            label: "ci".into(),
            description: None,
            last4: "abcd".into(),
            owner_legacy_id: Some(42),
            scopes: vec!["users:read".into(), "groups:write".into()],
            created_at: None,
            updated_at: None,
            raw: "{}".into(),
        });
        s.access_tokens.push(AccessToken {
            id: "ro".into(),
            label: "readonly".into(),
            description: None,
            last4: "zzzz".into(),
            owner_legacy_id: None,
            scopes: vec!["users:read".into()],
            created_at: None,
            updated_at: None,
            raw: "{}".into(),
        });
        let invite = |id, expires, claimed: bool| UserInvite {
            id,
            email: format!("new{id}@example.com"),
            invited_by: None,
            user_type: None,
            group_ids: vec![GroupId(2)],
            expires_at: Some(expires),
            claimed_by: claimed.then(|| "x".to_string()),
            claimed_at: None,
            created_at: None,
            raw: "{}".into(),
        };
        let as_of = t(2026, 11, 23);
        s.user_invites = vec![
            invite(1, t(2026, 12, 1), false),
            invite(2, t(2026, 11, 1), false),
            invite(3, t(2026, 12, 1), true),
        ];
        let rows = privileged_access(&s, &AccessIndex::new(&s), as_of);
        let got: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|r| (r.kind.as_str(), r.email.as_str(), r.detail.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("admin", "dave@example.com", "org admin (own on everything)"),
                ("group_admin", "bob@example.com", "admin of group Eng"),
                (
                    "universal_access",
                    "alice@example.com",
                    "edit on all workflows via group Eng"
                ),
                (
                    "universal_access",
                    "bob@example.com",
                    "edit on all workflows via group Eng"
                ),
                (
                    "resource_owner",
                    "carol@example.com",
                    "own on resource Prod DB (r-db) via group:DBA"
                ),
                (
                    "write_token",
                    "bob@example.com",
                    "token ci (…abcd) write scopes: groups:write"
                ),
                (
                    "pending_invite",
                    "new1@example.com",
                    "invite 1 to groups Eng; expires 2026-12-01T09:00:00Z"
                ),
            ]
        );
    }
}
