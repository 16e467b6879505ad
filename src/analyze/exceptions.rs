//! Exceptions: everything the other analyses find, joined into the one list a
//! reviewer acts on — one row per (finding, user, subject), with a severity,
//! the evidence that proves it and what to do.
//!
//! The catalogue of findings, their severities and when each applies is the
//! README's "What counts as an exception" (a test keeps it equal to
//! [`Finding::all`]).

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use chrono::{DateTime, Duration, Utc};

use super::access::AccessIndex;
use super::accounts::{
    DisabledAccount, DisabledFinding, OrphanReason, OrphanedAccount, PrivilegeKind, PrivilegedEntry,
};
use super::changes::{ChangeEntity, SeenChange};
use super::roster::Roster;
use super::settings::{active_without_two_factor, security_settings};
use chrono::SecondsFormat;

use crate::model::{
    AccessLevel, CrossCheck, OrgState, TransientAccess, TransientKind, User, UserId,
};

/// How urgently an exception needs action; ordered `Low < Medium < High <
/// Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A finding of the catalogue: its name, severity and recommended action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Finding {
    PrivilegedNotOnRoster,
    ReenabledNotOnRoster,
    NotOnRoster,
    DisabledStillAdmin,
    ReenabledUser,
    PrivilegedWithout2fa,
    NeverActiveWithEdit,
    WriteTokenOwnerGone,
    CrossCheckDisagreement,
    /// Admin or group-admin rights that appeared after the `--since`
    /// snapshot and were gone by the reported one.
    TransientAdmin,
    /// `edit` or `own` granted and taken away again in the period.
    TransientEditAccess,
    /// A security-setting finding, by its name in `security_settings`.
    Setting(&'static str),
    DisabledStillInGroups,
    InactiveWithEdit,
    StalePendingInvite,
    Orphan(OrphanReason),
}

impl Finding {
    /// Every finding of the catalogue, in the order rows are sorted.
    pub fn all() -> Vec<Finding> {
        let mut all = vec![
            Finding::PrivilegedNotOnRoster,
            Finding::ReenabledNotOnRoster,
            Finding::NotOnRoster,
            Finding::DisabledStillAdmin,
            Finding::ReenabledUser,
            Finding::PrivilegedWithout2fa,
            Finding::NeverActiveWithEdit,
            Finding::WriteTokenOwnerGone,
            Finding::CrossCheckDisagreement,
            Finding::TransientAdmin,
            Finding::TransientEditAccess,
        ];
        all.extend(
            crate::analyze::settings::FINDINGS
                .iter()
                .map(|f| Finding::Setting(f)),
        );
        all.extend([
            Finding::DisabledStillInGroups,
            Finding::InactiveWithEdit,
            Finding::StalePendingInvite,
        ]);
        all.extend(
            OrphanReason::ALL
                .into_iter()
                .filter(|r| *r != OrphanReason::NotInRoster)
                .map(Finding::Orphan),
        );
        all
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Finding::PrivilegedNotOnRoster => "privileged_not_on_roster",
            Finding::ReenabledNotOnRoster => "reenabled_not_on_roster",
            Finding::NotOnRoster => "not_on_roster",
            Finding::DisabledStillAdmin => "disabled_still_admin",
            Finding::ReenabledUser => "reenabled_user",
            Finding::PrivilegedWithout2fa => "privileged_without_2fa",
            Finding::NeverActiveWithEdit => "never_active_with_edit",
            Finding::WriteTokenOwnerGone => "write_token_owner_gone",
            Finding::CrossCheckDisagreement => "cross_check_disagreement",
            Finding::TransientAdmin => "transient_admin",
            Finding::TransientEditAccess => "transient_edit_access",
            Finding::Setting(name) => name,
            Finding::DisabledStillInGroups => "disabled_still_in_groups",
            Finding::InactiveWithEdit => "inactive_with_edit",
            Finding::StalePendingInvite => "stale_pending_invite",
            Finding::Orphan(reason) => reason.as_str(),
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Finding::PrivilegedNotOnRoster | Finding::ReenabledNotOnRoster => Severity::Critical,
            Finding::NotOnRoster
            | Finding::DisabledStillAdmin
            | Finding::ReenabledUser
            | Finding::PrivilegedWithout2fa
            | Finding::NeverActiveWithEdit
            | Finding::WriteTokenOwnerGone
            | Finding::CrossCheckDisagreement
            | Finding::TransientAdmin
            | Finding::TransientEditAccess
            | Finding::Setting("two_factor_not_required" | "password_login_allowed_with_sso") => {
                Severity::High
            }
            Finding::Setting(_)
            | Finding::DisabledStillInGroups
            | Finding::InactiveWithEdit
            | Finding::StalePendingInvite => Severity::Medium,
            Finding::Orphan(_) => Severity::Low,
        }
    }

    /// What a reviewer should do about it.
    pub fn action(self) -> &'static str {
        match self {
            Finding::PrivilegedNotOnRoster => {
                "Remove the admin right now and ask HR whether the person has left; disable the account if so."
            }
            Finding::ReenabledNotOnRoster => {
                "Disable the account again unless HR confirms the person is employed; find out who re-enabled it."
            }
            Finding::NotOnRoster | Finding::Orphan(OrphanReason::NotInRoster) => {
                "Ask HR whether the person has left; disable the account if so, or add them to the roster."
            }
            Finding::DisabledStillAdmin => {
                "Remove the admin flag: it comes back with the account if it is re-enabled."
            }
            Finding::ReenabledUser => {
                "Confirm the re-enable was approved (a ticket) and the access is still needed."
            }
            Finding::PrivilegedWithout2fa => {
                "Require a second factor for this account, or remove the privilege."
            }
            Finding::NeverActiveWithEdit => {
                "Remove the edit/own access the user has never used (use, or nothing)."
            }
            Finding::WriteTokenOwnerGone => "Revoke the token, or reissue it to an active owner.",
            Finding::TransientAdmin => {
                "Find who granted the right and whether it was approved; review what the account did while it held it (audit log)."
            }
            Finding::TransientEditAccess => {
                "Find who granted the access and whether it was approved; review the changes made through it in that window."
            }
            Finding::CrossCheckDisagreement => {
                "Compare Retool's permission screen for the object with this report and find which is wrong."
            }
            Finding::Setting("two_factor_not_required") => {
                "Require two-factor authentication for the organization."
            }
            Finding::Setting("password_login_allowed_with_sso") => {
                "Disable e-mail/password login so every login goes through the identity provider."
            }
            Finding::Setting("jit_without_restricted_domain") => {
                "Restrict just-in-time provisioning to the company's domain."
            }
            Finding::Setting(_) => {
                "Keep permission changes in the reviewed groups: turn off app owners managing permissions."
            }
            Finding::DisabledStillInGroups => {
                "Remove the disabled account from the group: it comes back with the account."
            }
            Finding::InactiveWithEdit => {
                "Lower or remove edit/own access the user has not exercised in the inactivity window."
            }
            Finding::StalePendingInvite => "Revoke the invite, or confirm it is still wanted.",
            Finding::Orphan(OrphanReason::NoGroups) => {
                "Confirm the account is needed with default access only; disable it otherwise."
            }
            Finding::Orphan(OrphanReason::Inactive) => {
                "Confirm the account is still needed; disable it otherwise."
            }
            Finding::Orphan(OrphanReason::NeverActive) => {
                "Confirm the account is needed; disable it if it was never used."
            }
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the exceptions list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    pub finding: Finding,
    /// The user concerned; `None` for an organization setting, an invite or
    /// a token whose owner is unknown.
    pub user_id: Option<UserId>,
    /// The user's (or invitee's) e-mail; empty when there is none.
    pub email: String,
    /// What the finding is about: the group, object, role, token, source of
    /// access or setting concerned.
    pub subject: String,
    pub detail: String,
    /// The table and key that prove it, and the snapshot(s).
    pub evidence: String,
}

impl Exception {
    pub fn severity(&self) -> Severity {
        self.finding.severity()
    }
}

/// What the exceptions are computed from: the state and the other analyses'
/// results, which the report has computed already.
pub struct ExceptionInput<'a> {
    pub state: &'a OrgState,
    /// The snapshot's id, for the evidence column.
    pub snapshot_id: i64,
    /// The changes since the previous snapshot (each with the snapshots it
    /// was seen between), when there is one.
    pub changes: Option<&'a [SeenChange]>,
    pub orphans: &'a [OrphanedAccount],
    pub disabled: &'a [DisabledAccount],
    /// [`privileged_access`](super::accounts::privileged_access) of the state.
    pub privileged: &'a [PrivilegedEntry],
    pub roster: Option<&'a Roster>,
    pub cross_check: Option<&'a CrossCheck>,
    /// Access that came and went since the previous snapshot.
    pub transient: &'a [TransientAccess],
    pub index: &'a AccessIndex<'a>,
    /// The snapshot's time.
    pub as_of: DateTime<Utc>,
    pub inactive_days: u32,
    /// The built-in group every user is in (not a finding to be in it).
    pub default_group: &'a str,
}

/// An invite older than this is stale.
pub const STALE_INVITE_DAYS: i64 = 30;

/// Every exception, most severe first, then by finding, e-mail and subject.
pub fn exceptions(input: &ExceptionInput<'_>) -> Vec<Exception> {
    let state = input.state;
    let snap = input.snapshot_id;
    let on_roster = |email: &str| input.roster.is_none_or(|r| r.contains(email));
    let mut out = Vec::new();
    let mut push = |finding, user: Option<&User>, subject: String, detail: String, evidence| {
        out.push(Exception {
            finding,
            user_id: user.map(|u| u.id.clone()),
            email: user.map(|u| u.email.clone()).unwrap_or_default(),
            subject,
            detail,
            evidence,
        })
    };

    // Privileged users: off the roster, without 2FA.
    let privileged = input.privileged;
    // How many entries of one kind a user has: one row says how many.
    let mut per_kind: HashMap<(&UserId, PrivilegeKind), usize> = HashMap::new();
    for p in privileged {
        if let Some(id) = &p.user_id {
            *per_kind.entry((id, p.kind)).or_default() += 1;
        }
    }
    let mut seen_kinds: HashSet<(&UserId, PrivilegeKind)> = HashSet::new();
    for p in privileged {
        let Some(user) = p.user_id.as_ref().and_then(|id| state.user(id)) else {
            continue;
        };
        if matches!(p.kind, PrivilegeKind::Admin | PrivilegeKind::GroupAdmin)
            && !on_roster(&user.email)
        {
            push(
                Finding::PrivilegedNotOnRoster,
                Some(user),
                p.detail.clone(),
                "privileged and not on the HR roster".to_string(),
                format!(
                    "privileged_access: {} {} (snapshot {snap})",
                    user.id, p.kind
                ),
            );
        }
        let counts_for_2fa = !matches!(
            p.kind,
            PrivilegeKind::WriteToken | PrivilegeKind::PendingInvite
        );
        if counts_for_2fa
            && user.two_factor_enabled == Some(false)
            && seen_kinds.insert((&user.id, p.kind))
        {
            let same = per_kind.get(&(&user.id, p.kind)).copied().unwrap_or(1);
            let detail = if same > 1 {
                format!(
                    "{} (and {} more of this kind); no second factor",
                    p.detail,
                    same - 1
                )
            } else {
                format!("{}; no second factor", p.detail)
            };
            push(
                Finding::PrivilegedWithout2fa,
                Some(user),
                p.kind.as_str().to_string(),
                detail,
                format!(
                    "users: {} two_factor_enabled=false (snapshot {snap})",
                    user.id
                ),
            );
        }
    }

    // Tokens with write scopes whose owner is gone.
    let by_legacy = state.users_by_legacy_id();
    for t in &state.access_tokens {
        if t.write_scopes().is_empty() {
            continue;
        }
        let owner = t.owner_legacy_id.and_then(|l| by_legacy.get(&l).copied());
        let why = match owner {
            None => Some("its owner is not in the snapshot".to_string()),
            Some(u) if !u.active => Some("its owner is disabled".to_string()),
            Some(u) if !on_roster(&u.email) => {
                Some("its owner is not on the HR roster".to_string())
            }
            Some(_) => None,
        };
        if let Some(why) = why {
            push(
                Finding::WriteTokenOwnerGone,
                owner,
                format!("token {} (…{})", t.label, t.last4),
                format!("write-scoped API token; {why}"),
                format!("access_tokens: {} (snapshot {snap})", t.id),
            );
        }
    }

    // Re-enabled users, from the changes since the previous snapshot.
    if let Some(changes) = input.changes {
        for (c, previous, seen) in changes
            .iter()
            .map(|s| (&s.change, s.previous, s.seen_in))
            .filter(|(c, _, _)| {
                c.entity_type == ChangeEntity::User
                    && c.field == "status"
                    && c.old_value == "disabled"
                    && c.new_value == "active"
            })
        {
            let Some(user) = state.user(&UserId(c.entity_id.clone())) else {
                continue;
            };
            let finding = if on_roster(&user.email) {
                Finding::ReenabledUser
            } else {
                Finding::ReenabledNotOnRoster
            };
            push(
                finding,
                Some(user),
                "account".to_string(),
                format!("disabled in snapshot {previous}, active in snapshot {seen}"),
                format!(
                    "changes: user {} status (snapshots {previous}→{seen})",
                    user.id
                ),
            );
        }
    }

    // Orphans: not on the roster is high, the other reasons low.
    for o in input.orphans {
        let Some(user) = state.user(&o.user_id) else {
            continue;
        };
        for reason in &o.reasons {
            let finding = match reason {
                OrphanReason::NotInRoster => Finding::NotOnRoster,
                other => Finding::Orphan(*other),
            };
            let detail = match reason {
                OrphanReason::NoGroups => "in no group but the default one".to_string(),
                OrphanReason::NotInRoster => "active, e-mail not on the HR roster".to_string(),
                OrphanReason::Inactive => match user.last_active {
                    Some(t) => format!(
                        "last active {} days before the snapshot",
                        (input.as_of - t).num_days()
                    ),
                    None => "inactive".to_string(),
                },
                OrphanReason::NeverActive => "never signed in".to_string(),
            };
            push(
                finding,
                Some(user),
                "account".to_string(),
                detail,
                format!("orphaned_accounts: {} (snapshot {snap})", user.id),
            );
        }
    }

    // Disabled accounts that keep access.
    for d in input.disabled {
        let Some(user) = state.user(&d.user_id) else {
            continue;
        };
        for f in &d.findings {
            match f {
                DisabledFinding::StillAdmin => push(
                    Finding::DisabledStillAdmin,
                    Some(user),
                    "org admin".to_string(),
                    "disabled and still flagged admin".to_string(),
                    format!("disabled_accounts: {} (snapshot {snap})", user.id),
                ),
                DisabledFinding::StillInGroups => {
                    let default = input.default_group.trim();
                    for g in d
                        .groups
                        .iter()
                        .filter(|g| !g.trim().eq_ignore_ascii_case(default))
                    {
                        push(
                            Finding::DisabledStillInGroups,
                            Some(user),
                            format!("group {g}"),
                            "disabled and still a member".to_string(),
                            format!("group_members: {g} / {} (snapshot {snap})", user.id),
                        );
                    }
                }
            }
        }
    }

    // Edit/own held by users who never signed in or stopped using Retool.
    let cutoff = input.as_of - Duration::days(i64::from(input.inactive_days));
    for user in state.users.iter().filter(|u| u.active) {
        let finding = match user.last_active {
            None => Finding::NeverActiveWithEdit,
            Some(t) if t < cutoff => Finding::InactiveWithEdit,
            Some(_) => continue,
        };
        // One row per user: the sources in `subject`, what each gives in
        // `detail`, in the same order (a row per source was 48 000 rows at
        // 50 000 users for what a reviewer handles as one account).
        let sources = edit_sources(input.index, user);
        if sources.is_empty() {
            continue;
        }
        let subject = sources
            .iter()
            .map(|(source, _)| source.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let detail = sources
            .iter()
            .map(|(source, held)| {
                if sources.len() == 1 {
                    held.clone()
                } else {
                    format!("{source}: {held}")
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        push(
            finding,
            Some(user),
            subject,
            detail,
            format!("effective_access: {} (snapshot {snap})", user.id),
        );
    }

    // Pending invites that carry groups and have waited too long.
    let stale = input.as_of - Duration::days(STALE_INVITE_DAYS);
    for i in &state.user_invites {
        if i.status(input.as_of) != "pending"
            || i.group_ids.is_empty()
            || i.created_at.is_none_or(|c| c >= stale)
        {
            continue;
        }
        let mut groups: Vec<String> = i
            .group_ids
            .iter()
            .map(|g| {
                state
                    .group(*g)
                    .map_or_else(|| format!("group {g}"), |g| g.name.clone())
            })
            .collect();
        groups.sort();
        let days = i.created_at.map_or(0, |c| (input.as_of - c).num_days());
        out.push(Exception {
            finding: Finding::StalePendingInvite,
            user_id: None,
            email: i.email.clone(),
            subject: format!("invite {}", i.id),
            detail: format!("pending for {days} days; groups {}", groups.join(", ")),
            evidence: format!("user_invites: {} (snapshot {snap})", i.id),
        });
    }

    // Privilege and edit/own access that came and went in the period.
    for t in input.transient {
        let finding = match (t.kind, t.level) {
            (TransientKind::Admin | TransientKind::GroupAdmin, _) => Finding::TransientAdmin,
            (
                TransientKind::Grant | TransientKind::Universal | TransientKind::EnvironmentAccess,
                Some(level),
            ) if level >= AccessLevel::Edit => Finding::TransientEditAccess,
            _ => continue,
        };
        let what = match t.level {
            Some(level) => format!("{} {} ({level})", t.kind.as_str(), t.subject),
            None => format!("{} {}", t.kind.as_str(), t.subject),
        };
        out.push(Exception {
            finding,
            user_id: t.user_id.clone(),
            email: t.email.clone(),
            subject: what,
            detail: format!(
                "held from snapshot {} ({}) to snapshot {} ({}), gone by snapshot {snap}",
                t.first_seen.id,
                t.first_seen
                    .taken_at
                    .to_rfc3339_opts(SecondsFormat::Secs, true),
                t.last_seen.id,
                t.last_seen
                    .taken_at
                    .to_rfc3339_opts(SecondsFormat::Secs, true)
            ),
            evidence: format!(
                "transient_access: {} {} (snapshots {}–{})",
                t.kind.as_str(),
                t.subject,
                t.first_seen.id,
                t.last_seen.id
            ),
        });
    }

    // Retool's access list against the computed access.
    if let Some(check) = input.cross_check {
        let names =
            |o: &crate::model::ObjectRef| input.index.object_name(o.object_type, &o.id).to_string();
        for d in &check.disagreements {
            let user = state.user(&UserId(d.user_id.clone()));
            out.push(Exception {
                finding: Finding::CrossCheckDisagreement,
                user_id: Some(UserId(d.user_id.clone())),
                email: user.map(|u| u.email.clone()).unwrap_or_default(),
                subject: format!("{} {}", d.object.object_type, names(&d.object)),
                detail: format!(
                    "Retool: {} ({}); retool-audit: {} ({})",
                    d.retool_level,
                    if d.retool_sources.is_empty() {
                        "not listed"
                    } else {
                        &d.retool_sources
                    },
                    d.computed_level,
                    if d.computed_via.is_empty() {
                        "no source"
                    } else {
                        &d.computed_via
                    }
                ),
                evidence: format!(
                    "cross_check: {}:{} / {} (snapshot {snap})",
                    d.object.object_type, d.object.id, d.user_id
                ),
            });
        }
    }

    // The organization's settings.
    let without_2fa = active_without_two_factor(state);
    for row in security_settings(state) {
        let Some(name) = row.finding else {
            continue;
        };
        let mut detail = format!("{} = {}", row.setting.name, row.setting.value);
        if name == "two_factor_not_required" {
            detail.push_str(&format!(
                "; {without_2fa} active user(s) without a second factor"
            ));
        }
        out.push(Exception {
            finding: Finding::Setting(name),
            user_id: None,
            email: String::new(),
            subject: format!("{}.{}", row.setting.source, row.setting.name),
            detail,
            evidence: format!(
                "security_settings: {}.{} (snapshot {snap})",
                row.setting.source, row.setting.name
            ),
        });
    }

    out.sort_by(|a, b| {
        (
            Reverse(a.severity()),
            a.finding,
            &a.email,
            &a.subject,
            &a.user_id,
        )
            .cmp(&(
                Reverse(b.severity()),
                b.finding,
                &b.email,
                &b.subject,
                &b.user_id,
            ))
    });
    out
}

/// What one source gives a user at edit or own: per kind of object (`app(s)`,
/// `all apps`, ...) how many and the highest level, and a few object names.
type Held = (BTreeMap<&'static str, (usize, AccessLevel)>, Vec<String>);

/// Where a user's edit or own access comes from: per source (the one that
/// sets the level), what it gives, e.g. `group:Eng` → `edit on 3 apps, own
/// on 1 resource (Payments DB, ...)`.
fn edit_sources(index: &AccessIndex<'_>, user: &User) -> Vec<(String, String)> {
    // source → (type → (count, max level)), and a few names.
    let mut by_source: BTreeMap<String, Held> = BTreeMap::new();
    index.for_each_row(user, |row| {
        if row.level < AccessLevel::Edit {
            return;
        }
        let via = row.via();
        let Some(top) = via.iter().find(|v| v.level == row.level) else {
            return;
        };
        let entry = by_source.entry(top.source.to_string()).or_default();
        let what = match (row.object_id, row.object_type) {
            (None, crate::model::ObjectType::App) => "all apps",
            (None, crate::model::ObjectType::Resource) => "all resources",
            (None, _) => "all workflows",
            (Some(_), crate::model::ObjectType::App) => "app(s)",
            (Some(_), crate::model::ObjectType::Resource) => "resource(s)",
            (Some(_), _) => "workflow(s)",
        };
        let e = entry.0.entry(what).or_insert((0, row.level));
        e.0 += 1;
        e.1 = e.1.max(row.level);
        if row.object_id.is_some() && entry.1.len() < 3 {
            entry.1.push(row.object_name.to_string());
        }
    });
    by_source
        .into_iter()
        .map(|(source, (kinds, names))| {
            let mut parts: Vec<String> = kinds
                .into_iter()
                .map(|(what, (n, level))| {
                    if what.starts_with("all ") {
                        format!("{level} on {what}")
                    } else {
                        format!("{level} on {n} {what}")
                    }
                })
                .collect();
            parts.sort();
            let mut held = parts.join(", ");
            if !names.is_empty() {
                held.push_str(&format!(" (e.g. {})", names.join(", ")));
            }
            (source, held)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::accounts::{AccountOptions, disabled_accounts, orphaned_accounts};
    use crate::analyze::changes::{Change, ChangeKind, Risk};
    use crate::analyze::fixtures::*;

    fn run(s: &OrgState, roster: Option<&Roster>, changes: &[Change]) -> Vec<Exception> {
        let as_of = t(2026, 11, 23);
        let options = AccountOptions::default();
        let orphans = orphaned_accounts(s, roster, &options, as_of);
        let disabled = disabled_accounts(s, &BTreeMap::new(), &options);
        let index = AccessIndex::new(s);
        let privileged = crate::analyze::accounts::privileged_access(s, &index, as_of);
        let changes: Vec<SeenChange> = changes
            .iter()
            .map(|c| SeenChange {
                previous: 1,
                seen_in: 2,
                seen_at: as_of,
                change: c.clone(),
            })
            .collect();
        exceptions(&ExceptionInput {
            state: s,
            snapshot_id: 2,
            changes: Some(&changes),
            orphans: &orphans,
            disabled: &disabled,
            privileged: &privileged,
            roster,
            cross_check: None,
            transient: &[],
            index: &index,
            as_of,
            inactive_days: 90,
            default_group: "All Users",
        })
    }

    fn rows(e: &[Exception]) -> Vec<(&str, &str, &str, &str)> {
        e.iter()
            .map(|x| {
                (
                    x.severity().as_str(),
                    x.finding.as_str(),
                    x.email.as_str(),
                    x.subject.as_str(),
                )
            })
            .collect()
    }

    #[test]
    fn findings_are_joined_per_user_and_subject_most_severe_first() {
        let mut s = org();
        // Dave (admin) has no second factor and is off the roster; Bob is
        // off the roster too; Carol never signed in and owns the DB through
        // DBA; Alice was re-enabled.
        s.users[3].two_factor_enabled = Some(false);
        s.users[2].last_active = None;
        let roster = Roster::parse(b"email\nalice@example.com\ncarol@example.com\n").unwrap();
        let reenabled = Change {
            entity_type: ChangeEntity::User,
            change: ChangeKind::Modified,
            entity_id: "u-alice".into(),
            entity_name: "alice@example.com".into(),
            field: "status".into(),
            old_value: "disabled".into(),
            new_value: "active".into(),
            risk: Risk::High,
        };
        let e = run(&s, Some(&roster), &[reenabled]);
        assert_eq!(
            rows(&e),
            vec![
                (
                    "critical",
                    "privileged_not_on_roster",
                    "dave@example.com",
                    "org admin (own on everything)"
                ),
                ("high", "not_on_roster", "bob@example.com", "account"),
                ("high", "not_on_roster", "dave@example.com", "account"),
                ("high", "reenabled_user", "alice@example.com", "account"),
                (
                    "high",
                    "privileged_without_2fa",
                    "dave@example.com",
                    "admin"
                ),
                (
                    "high",
                    "never_active_with_edit",
                    "carol@example.com",
                    "group:DBA"
                ),
                (
                    "medium",
                    "disabled_still_in_groups",
                    "erin@example.com",
                    "group Eng"
                ),
                ("low", "no_groups", "dave@example.com", "account"),
                ("low", "never_active", "carol@example.com", "account"),
            ]
        );
        let carol = &e[5];
        assert_eq!(carol.finding, Finding::NeverActiveWithEdit);
        assert_eq!(carol.detail, "own on 1 resource(s) (e.g. Prod DB)");
        assert_eq!(carol.evidence, "effective_access: u-carol (snapshot 2)");
        assert!(e[3].evidence.contains("snapshots 1→2"), "{:?}", e[3]);
        // Without a roster nobody is judged by it.
        let e = run(&s, None, &[]);
        assert!(e.iter().all(|x| !matches!(
            x.finding,
            Finding::PrivilegedNotOnRoster | Finding::NotOnRoster | Finding::ReenabledNotOnRoster
        )));
    }

    #[test]
    fn a_token_whose_owner_left_and_a_stale_invite_are_exceptions() {
        let mut s = org();
        s.users[4].legacy_id = Some(42); // erin, disabled
        s.access_tokens.push(crate::model::AccessToken {
            id: "tok-1".into(),
            label: "deploy".into(),
            last4: "abcd".into(),
            owner_legacy_id: Some(42),
            scopes: vec!["apps:read".into(), "apps:write".into()],
            ..Default::default()
        });
        s.user_invites.push(crate::model::UserInvite {
            id: 9,
            email: "new@example.com".into(),
            group_ids: vec![crate::model::GroupId(2)],
            created_at: Some(t(2026, 9, 1)),
            ..Default::default()
        });
        let e = run(&s, None, &[]);
        let token = e
            .iter()
            .find(|x| x.finding == Finding::WriteTokenOwnerGone)
            .unwrap();
        assert_eq!(
            (token.email.as_str(), token.subject.as_str()),
            ("erin@example.com", "token deploy (…abcd)")
        );
        assert!(token.detail.contains("disabled"));
        let invite = e
            .iter()
            .find(|x| x.finding == Finding::StalePendingInvite)
            .unwrap();
        assert_eq!(invite.severity(), Severity::Medium);
        assert!(invite.detail.contains("83 days") && invite.detail.contains("Eng"));
    }
}
