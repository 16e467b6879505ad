//! The review population: from one frozen snapshot, one row per (user, group)
//! membership (the default group included: it is the account's own row), per
//! direct user grant, and an `account` row for a user with neither; each with
//! its locked context cells, flags and the tool's suggestion, assigned to a
//! workbook (reviewer set). Pure: no I/O.
//!
//! Context cells are computed here exactly as the workbook holds them (line
//! breaks normalized, length bounded; formula-like text is kept as it is and
//! the workbook holds it as text by the quote-prefix style), so the stored
//! [`ReviewItem::context`] is byte-for-byte what a reviewer sees and what
//! `review import` compares against. Campaigns started before held such text
//! with a leading `'` in the cell and in the stored context alike; their
//! workbooks import unchanged.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{ItemKind, ReviewItem, ReviewerBy, Suggestion};
use crate::analyze::access::AccessIndex;
use crate::analyze::{PrivilegedEntry, Roster, privileged_access};
use crate::model::{
    AccessLevel, Grant, GroupId, ObjectId, ObjectType, OrgState, Subject, User, UserId,
};
use crate::output::safe_file_name;

/// The locked context columns, in workbook order (documented in docs/review.md, "The review workbook").
pub const CONTEXT_COLUMNS: [&str; 16] = [
    "email",
    "name",
    "status",
    "is_admin",
    "user_type",
    "two_factor_enabled",
    "last_active",
    "days_inactive",
    "app_views",
    "app_saves",
    "roster_match",
    "row_type",
    "group_or_grant",
    "is_group_admin",
    "access_at_edit_or_own",
    "flags",
];

/// The context columns a campaign started before usage was read lacks.
pub const USAGE_CONTEXT_COLUMNS: [&str; 2] = ["app_views", "app_saves"];

/// The context column holding a number (written as a number so it sorts).
pub const NUMERIC_CONTEXT_COLUMN: &str = "days_inactive";

/// The workbook of every row with `--reviewer-by single`.
pub const SINGLE_WORKBOOK: &str = "all";
/// With `--reviewer-by group-admin`: org admins' rows, direct grants and users
/// in no group but the default one.
pub const ADMINS_WORKBOOK: &str = "admins-and-ungrouped";

/// The flags a row can carry (`flags` column), in the order they are listed.
pub const FLAGS: [&str; 6] = [
    "terminated",
    "inactive",
    "never_active",
    "unused",
    "disabled",
    "privileged",
];

/// Rows carrying each of [`FLAGS`], in that order.
pub fn flag_counts(items: &[ReviewItem]) -> Vec<(&'static str, usize)> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for item in items {
        let text = item
            .context
            .iter()
            .find(|(c, _)| c == "flags")
            .map_or("", |(_, v)| v.as_str());
        for flag in text.split(", ") {
            *counts.entry(flag).or_default() += 1;
        }
    }
    FLAGS
        .iter()
        .map(|f| (*f, counts.get(f).copied().unwrap_or(0)))
        .collect()
}

/// Longest context text, in characters; longer names are cut with `…`.
pub const MAX_TEXT_CHARS: usize = 500;
/// Entries listed in `access_at_edit_or_own` before `+N more`.
const MAX_ACCESS_ENTRIES: usize = 5;
/// Characters of one object name inside `access_at_edit_or_own`.
const MAX_ACCESS_NAME_CHARS: usize = 60;

/// What to build the population from, besides the state.
#[derive(Debug, Clone)]
pub struct PopulationOptions<'a> {
    /// The snapshot's time: `days_inactive` and `inactive` are relative to it.
    pub as_of: DateTime<Utc>,
    pub inactive_days: u32,
    /// The built-in group every user is in (matched case-insensitively).
    pub default_group: String,
    pub reviewer_by: ReviewerBy,
    pub roster: Option<&'a Roster>,
}

/// One workbook (reviewer set) of a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkbookPlan {
    /// The workbook id rows carry in [`ReviewItem::workbook`].
    pub name: String,
    /// Who it is for, in words (`group Finance (id 12)`).
    pub title: String,
    /// The reviewers' emails (the group's active group admins).
    pub reviewers: Vec<String>,
    /// A warning for whoever sends the workbooks out (no group admin, ...).
    pub note: Option<String>,
    pub rows: usize,
}

/// The frozen population of one campaign.
#[derive(Debug, Clone)]
pub struct Population {
    /// Sorted by workbook, email, user id, row kind, then group or object.
    pub items: Vec<ReviewItem>,
    /// The privileged access at the snapshot (see [`privileged_access`]).
    pub privileged: Vec<PrivilegedEntry>,
    /// Every workbook that has rows, in name order (`admins-and-ungrouped`
    /// first with `group-admin`); a group without members has no workbook,
    /// since it has nothing to review.
    pub workbooks: Vec<WorkbookPlan>,
}

/// Text as it is written to a locked cell: line breaks normalized to `\n`,
/// other control characters (except tab) replaced by a space, cut to
/// [`MAX_TEXT_CHARS`]. Formula-like text is left as it is: the workbook
/// writes it with the quote-prefix style, so it stays text. Spreadsheet
/// programs keep such text exactly, so import can compare it byte for byte.
pub fn cell_text(s: &str) -> String {
    let normalized = s.replace("\r\n", "\n").replace('\r', "\n");
    let mut out: String = normalized
        .chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                ' '
            } else {
                c
            }
        })
        .take(MAX_TEXT_CHARS)
        .collect();
    if normalized.chars().count() > MAX_TEXT_CHARS {
        out.push('…');
    }
    out
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut cut: String = s.chars().take(max).collect();
        cut.push('…');
        cut
    }
}

/// Per-user facts shared by all of the user's rows.
struct UserFacts<'a> {
    user: &'a User,
    name: String,
    days_inactive: Option<i64>,
    inactive: bool,
    /// App views and saves over the usage window; `None`: not collected.
    usage: Option<(i64, i64)>,
    /// Active and not on the roster (only with a roster).
    terminated: bool,
    roster_match: &'static str,
    /// Reasons that make every row of the user privileged.
    privileged: Vec<String>,
    /// In a group other than the default one.
    grouped: bool,
    /// The apps the user saved in the usage window; `None`: per-app usage
    /// was not collected.
    saved_apps: Option<HashSet<ObjectId>>,
}

/// Per-group facts shared by all of the group's membership rows.
struct GroupFacts {
    name: String,
    default: bool,
    /// The compact text of what the group brings at edit or own.
    access: String,
    /// Why membership of the group is privileged in itself.
    privilege: Vec<String>,
    /// The apps the group gives at edit or own (only with per-app usage,
    /// which is what they are compared with).
    edit_apps: Vec<ObjectId>,
}

fn group_facts(
    state: &OrgState,
    index: &AccessIndex<'_>,
    options: &PopulationOptions<'_>,
) -> HashMap<GroupId, GroupFacts> {
    let mut grants: HashMap<GroupId, Vec<&Grant>> = HashMap::new();
    for g in &state.grants {
        if let Subject::Group(id) = g.subject {
            grants.entry(id).or_default().push(g);
        }
    }
    let folders_with_resources: HashSet<&ObjectId> = state
        .resources
        .iter()
        .filter_map(|r| r.folder_id.as_ref())
        .collect();
    let app_usage = !state
        .not_collected
        .contains_key(&crate::model::EntityKind::AppUsage);
    let mut out = HashMap::new();
    for g in &state.groups {
        let edit_apps = if app_usage {
            index
                .objects_of_group(g.id, AccessLevel::Edit)
                .into_iter()
                .filter(|(o, _)| o.object_type == ObjectType::App)
                .map(|(o, _)| o.id)
                .collect()
        } else {
            Vec::new()
        };
        let mine = grants.get(&g.id).map(Vec::as_slice).unwrap_or(&[]);
        let mut entries: Vec<(AccessLevel, String)> = Vec::new();
        for (what, level) in [
            ("all apps", g.universal_app_access),
            ("all resources", g.universal_resource_access),
            ("all workflows", g.universal_workflow_access),
            ("query library", g.universal_query_library_access),
        ] {
            if level >= AccessLevel::Edit {
                entries.push((level, format!("{what} ({level})")));
            }
        }
        let universal = !entries.is_empty();
        let mut specific: Vec<(AccessLevel, String)> = mine
            .iter()
            .filter(|gr| gr.level >= AccessLevel::Edit)
            .map(|gr| {
                let name = index.object_name(gr.object.object_type, &gr.object.id);
                let text = format!(
                    "{}:{} ({})",
                    gr.object.object_type,
                    short(name, MAX_ACCESS_NAME_CHARS),
                    gr.level
                );
                (gr.level, text)
            })
            .collect();
        specific.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        entries.extend(specific);
        let more = entries.len().saturating_sub(MAX_ACCESS_ENTRIES);
        let mut access = entries
            .into_iter()
            .take(MAX_ACCESS_ENTRIES)
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join("; ");
        if more > 0 {
            access.push_str(&format!(" +{more} more"));
        }
        let mut privilege = Vec::new();
        if universal {
            privilege.push("universal edit/own through this group".to_string());
        }
        let owns_resource = mine.iter().any(|gr| {
            gr.level == AccessLevel::Own
                && match gr.object.object_type {
                    ObjectType::Resource => true,
                    ObjectType::Folder => folders_with_resources.contains(&gr.object.id),
                    _ => false,
                }
        });
        if owns_resource {
            privilege.push("own on a resource through this group".to_string());
        }
        out.insert(
            g.id,
            GroupFacts {
                name: g.name.clone(),
                default: is_default(options, &g.name),
                access,
                privilege,
                edit_apps,
            },
        );
    }
    out
}

fn is_default(options: &PopulationOptions<'_>, name: &str) -> bool {
    name.trim()
        .eq_ignore_ascii_case(options.default_group.trim())
}

/// The workbook id of a group: `group-<id>-<name>`, safe as a file name part.
pub fn group_workbook(group: GroupId, name: &str) -> String {
    let slug: String = safe_file_name(&name.to_lowercase())
        .chars()
        .take(40)
        .collect();
    format!("group-{group}-{slug}")
}

/// Builds the population of `state` (see the module docs).
pub fn population(state: &OrgState, options: &PopulationOptions<'_>) -> Population {
    let index = AccessIndex::new(state);
    let cutoff = options.as_of - Duration::days(i64::from(options.inactive_days));
    let privileged = privileged_access(state, &index, options.as_of);

    let groups = group_facts(state, &index, options);
    let unknown_group = |id: GroupId| GroupFacts {
        name: format!("group {id}"),
        default: false,
        access: String::new(),
        privilege: Vec::new(),
        edit_apps: Vec::new(),
    };
    let write_token_owners: Vec<&UserId> = privileged
        .iter()
        .filter(|p| p.kind == crate::analyze::PrivilegeKind::WriteToken)
        .filter_map(|p| p.user_id.as_ref())
        .collect();

    let usage = (!state
        .not_collected
        .contains_key(&crate::model::EntityKind::Usage))
    .then(|| crate::analyze::usage::UsageIndex::new(state));
    let saves = (!state
        .not_collected
        .contains_key(&crate::model::EntityKind::AppUsage))
    .then(|| crate::analyze::usage::saves_by_user_and_app(state));
    let mut saved_apps: HashMap<&UserId, HashSet<ObjectId>> = HashMap::new();
    for ((user, app), n) in saves.iter().flatten() {
        if *n > 0 {
            if let Some(u) = state.user(user) {
                saved_apps.entry(&u.id).or_default().insert(app.clone());
            }
        }
    }
    let mut facts: HashMap<&UserId, UserFacts<'_>> = HashMap::new();
    for u in &state.users {
        let grouped = index
            .groups_of(&u.id)
            .iter()
            .any(|g| groups.get(g).is_none_or(|f| !f.default));
        let days_inactive = u.last_active.map(|t| (options.as_of - t).num_days().max(0));
        let on_roster = options.roster.map(|r| r.contains(&u.email));
        let mut privileged = Vec::new();
        if u.is_admin {
            privileged.push("org admin".to_string());
        }
        if write_token_owners.contains(&&u.id) {
            privileged.push("owns an API token with write scopes".to_string());
        }
        let name = [u.first_name.as_deref(), u.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        facts.insert(
            &u.id,
            UserFacts {
                user: u,
                name,
                days_inactive,
                inactive: u.last_active.is_some_and(|t| t < cutoff),
                usage: usage
                    .as_ref()
                    .map(|index| index.of(u).map_or((0, 0), |f| (f.app_views, f.app_saves))),
                terminated: u.active && on_roster == Some(false),
                roster_match: match on_roster {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "no roster",
                },
                privileged,
                grouped,
                saved_apps: saves
                    .as_ref()
                    .map(|_| saved_apps.remove(&u.id).unwrap_or_default()),
            },
        );
    }

    let mut items = Vec::new();
    let mut has_row: HashSet<&UserId> = HashSet::new();

    // Memberships of users the snapshot does not hold are dangling references
    // (the report lists them); there is no account to review them on.
    for m in &state.memberships {
        let Some(f) = facts.get(&m.user_id) else {
            continue;
        };
        let fallback;
        let g = match groups.get(&m.group_id) {
            Some(g) => g,
            None => {
                fallback = unknown_group(m.group_id);
                &fallback
            }
        };
        let mut row_privilege = Vec::new();
        if m.is_group_admin {
            row_privilege.push("group admin".to_string());
        }
        row_privilege.extend(g.privilege.iter().cloned());
        let workbook = match options.reviewer_by {
            ReviewerBy::Single => SINGLE_WORKBOOK.to_string(),
            ReviewerBy::GroupAdmin if f.user.is_admin || !f.grouped => ADMINS_WORKBOOK.to_string(),
            ReviewerBy::GroupAdmin => group_workbook(m.group_id, &g.name),
        };
        let row = Row {
            kind: ItemKind::Membership,
            label: g.name.clone(),
            is_group_admin: Some(m.is_group_admin),
            access: g.access.clone(),
            row_privilege,
            holds_access: !g.default,
            edit_apps: &g.edit_apps,
        };
        let mut item = build_item(f, &row, workbook);
        item.key = ReviewItem::membership_key(m.group_id, &m.user_id);
        item.group_id = Some(m.group_id);
        item.is_group_admin = Some(m.is_group_admin);
        items.push(item);
        has_row.insert(&m.user_id);
    }

    for g in &state.grants {
        let Subject::User(uid) = &g.subject else {
            continue;
        };
        let Some(f) = facts.get(uid) else {
            continue;
        };
        let object_name = index.object_name(g.object.object_type, &g.object.id);
        let mut row_privilege = Vec::new();
        if g.level == AccessLevel::Own {
            row_privilege.push(format!("own on this {}", g.object.object_type));
        }
        let row = Row {
            kind: ItemKind::DirectGrant,
            label: format!(
                "{}: {} ({})",
                g.object.object_type,
                short(object_name, MAX_ACCESS_NAME_CHARS),
                g.level
            ),
            is_group_admin: None,
            access: String::new(),
            row_privilege,
            holds_access: true,
            edit_apps: if g.object.object_type == ObjectType::App && g.level >= AccessLevel::Edit {
                std::slice::from_ref(&g.object.id)
            } else {
                &[]
            },
        };
        let workbook = match options.reviewer_by {
            ReviewerBy::Single => SINGLE_WORKBOOK.to_string(),
            ReviewerBy::GroupAdmin => ADMINS_WORKBOOK.to_string(),
        };
        let mut item = build_item(f, &row, workbook);
        item.key = ReviewItem::direct_grant_key(uid, &g.object);
        item.object = Some(g.object.clone());
        item.access_level = Some(g.level);
        items.push(item);
        has_row.insert(uid);
    }

    for u in &state.users {
        if has_row.contains(&u.id) {
            continue;
        }
        let Some(f) = facts.get(&u.id) else {
            continue;
        };
        let row = Row {
            kind: ItemKind::Account,
            label: String::new(),
            is_group_admin: None,
            access: String::new(),
            row_privilege: Vec::new(),
            holds_access: false,
            edit_apps: &[],
        };
        let workbook = match options.reviewer_by {
            ReviewerBy::Single => SINGLE_WORKBOOK.to_string(),
            ReviewerBy::GroupAdmin => ADMINS_WORKBOOK.to_string(),
        };
        let mut item = build_item(f, &row, workbook);
        item.key = ReviewItem::account_key(&u.id);
        items.push(item);
    }

    items.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    // Two records with one key (a duplicated membership) would be refused by
    // the store; the collector deduplicates, this keeps the population a set.
    items.dedup_by(|a, b| a.key == b.key);
    let workbooks = plan_workbooks(state, &items);
    Population {
        items,
        privileged,
        workbooks,
    }
}

/// What distinguishes one row of a user from another.
struct Row<'r> {
    kind: ItemKind,
    /// The group name, or the direct grant in words.
    label: String,
    is_group_admin: Option<bool>,
    access: String,
    row_privilege: Vec<String>,
    /// The row gives access beyond the default group (a disabled user should
    /// not keep it).
    holds_access: bool,
    /// The apps the row gives at edit or own (filled only when per-app usage
    /// was collected).
    edit_apps: &'r [ObjectId],
}

fn build_item(f: &UserFacts<'_>, row: &Row<'_>, workbook: String) -> ReviewItem {
    let u = f.user;
    let privileged: Vec<&str> = f
        .privileged
        .iter()
        .chain(&row.row_privilege)
        .map(String::as_str)
        .collect();
    let mut flags = Vec::new();
    let mut revoke = Vec::new();
    let mut modify = Vec::new();
    let mut review = Vec::new();
    if f.terminated {
        flags.push("terminated");
        revoke.push("terminated: active but not in the HR roster".to_string());
    }
    if f.inactive {
        flags.push("inactive");
        review.push(format!(
            "inactive: last active {} days before the snapshot",
            f.days_inactive.unwrap_or(0)
        ));
    }
    if u.last_active.is_none() {
        flags.push("never_active");
        review.push("never active".to_string());
    }
    if u.active && f.usage.is_some_and(|(views, _)| views == 0) {
        flags.push("unused");
        if row.holds_access {
            revoke.push("no app views in the usage window".to_string());
        }
    }
    if let (true, Some(saved)) = (u.active && !row.edit_apps.is_empty(), &f.saved_apps) {
        if !row.edit_apps.iter().any(|a| saved.contains(a)) {
            flags.push("edit_unused");
            modify.push(format!(
                "edit/own on {} app(s) here, none saved in the usage window: use may be enough",
                row.edit_apps.len()
            ));
        }
    }
    if !u.active {
        flags.push("disabled");
        if row.holds_access {
            revoke.push("disabled account still holds this access".to_string());
        }
    }
    if !privileged.is_empty() {
        flags.push("privileged");
        review.push(format!("privileged: {}", privileged.join(", ")));
    }
    let suggested = if !revoke.is_empty() {
        Some(Suggestion::Revoke)
    } else if !modify.is_empty() {
        Some(Suggestion::Modify)
    } else if !review.is_empty() {
        Some(Suggestion::Review)
    } else {
        None
    };
    let reasons: Vec<String> = revoke.into_iter().chain(modify).chain(review).collect();
    let context = [
        u.email.clone(),
        f.name.clone(),
        crate::model::account_status(u.active).to_string(),
        yes_no(u.is_admin).to_string(),
        u.user_type.clone(),
        u.two_factor_enabled.map_or("unknown", yes_no).to_string(),
        u.last_active
            .map_or("never".to_string(), |t| crate::report::format_time(&t)),
        f.days_inactive.map(|d| d.to_string()).unwrap_or_default(),
        f.usage
            .map_or("not collected".to_string(), |(v, _)| v.to_string()),
        f.usage
            .map_or("not collected".to_string(), |(_, s)| s.to_string()),
        f.roster_match.to_string(),
        row.kind.as_str().to_string(),
        row.label.clone(),
        row.is_group_admin
            .map(|b| yes_no(b).to_string())
            .unwrap_or_default(),
        row.access.clone(),
        flags.join(", "),
    ];
    ReviewItem {
        key: String::new(),
        kind: row.kind,
        user_id: u.id.clone(),
        email: u.email.clone(),
        group_id: None,
        is_group_admin: None,
        object: None,
        access_level: None,
        workbook,
        context: CONTEXT_COLUMNS
            .iter()
            .zip(context)
            .map(|(c, v)| (c.to_string(), cell_text(&v)))
            .collect(),
        suggested,
        suggested_reason: suggested.map(|_| cell_text(&reasons.join("; "))),
    }
}

fn sort_key(item: &ReviewItem) -> (&str, &str, &str, ItemKind, &str, &str) {
    let label = item
        .context
        .iter()
        .find(|(c, _)| c == "group_or_grant")
        .map_or("", |(_, v)| v.as_str());
    (
        item.workbook.as_str(),
        item.email.as_str(),
        item.user_id.0.as_str(),
        item.kind,
        label,
        item.key.as_str(),
    )
}

fn plan_workbooks(state: &OrgState, items: &[ReviewItem]) -> Vec<WorkbookPlan> {
    let mut rows: BTreeMap<&str, usize> = BTreeMap::new();
    for item in items {
        *rows.entry(item.workbook.as_str()).or_default() += 1;
    }
    let by_workbook: HashMap<String, &crate::model::Group> = state
        .groups
        .iter()
        .map(|g| (group_workbook(g.id, &g.name), g))
        .collect();
    let mut admins: HashMap<GroupId, Vec<String>> = HashMap::new();
    for m in state.memberships.iter().filter(|m| m.is_group_admin) {
        if let Some(u) = state.user(&m.user_id).filter(|u| u.active) {
            admins.entry(m.group_id).or_default().push(u.email.clone());
        }
    }
    for emails in admins.values_mut() {
        emails.sort();
        emails.dedup();
    }
    let mut plans = Vec::new();
    for (name, n) in rows {
        let (title, reviewers, note) = if name == SINGLE_WORKBOOK {
            (
                "the whole population".to_string(),
                Vec::new(),
                Some("one workbook for everyone: assign the reviewers".to_string()),
            )
        } else if name == ADMINS_WORKBOOK {
            (
                "org admins, direct grants and users in no group but the default one".to_string(),
                Vec::new(),
                Some(
                    "assign a reviewer who is not an org admin (admins' own access is in here)"
                        .to_string(),
                ),
            )
        } else {
            let group = by_workbook.get(name).copied();
            let reviewers = group
                .and_then(|g| admins.get(&g.id).cloned())
                .unwrap_or_default();
            let title = match group {
                Some(g) => format!("group {} (id {})", g.name, g.id),
                None => name.to_string(),
            };
            let note = reviewers
                .is_empty()
                .then(|| "no group admin: assign a reviewer".to_string());
            (title, reviewers, note)
        };
        plans.push(WorkbookPlan {
            name: name.to_string(),
            title,
            reviewers,
            note,
            rows: n,
        });
    }
    plans
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::fixtures::*;
    use crate::model::ObjectType;

    fn options(reviewer_by: ReviewerBy, roster: Option<&Roster>) -> PopulationOptions<'_> {
        PopulationOptions {
            as_of: t(2026, 11, 23),
            inactive_days: 90,
            default_group: "All Users".into(),
            reviewer_by,
            roster,
        }
    }

    fn ctx<'a>(item: &'a ReviewItem, column: &str) -> &'a str {
        item.context
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no column {column}"))
    }

    fn find<'a>(p: &'a Population, key: &str) -> &'a ReviewItem {
        p.items
            .iter()
            .find(|i| i.key == key)
            .unwrap_or_else(|| panic!("no row {key}"))
    }

    #[test]
    fn one_row_per_membership_direct_grant_and_lonely_account() {
        let mut s = org();
        s.grants.push(user_grant(
            "u-bob",
            ObjectType::Resource,
            "r-db",
            AccessLevel::Own,
        ));
        s.users.push(user("u-zed", "zed@example.com"));
        s.normalize();
        let p = population(&s, &options(ReviewerBy::Single, None));
        let keys: Vec<&str> = p.items.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            vec![
                "m:1:u-alice",
                "m:2:u-alice",
                "m:1:u-bob",
                "m:2:u-bob",
                "g:u-bob:resource:r-db",
                "m:1:u-carol",
                "m:3:u-carol",
                "m:1:u-dave",
                "m:1:u-erin",
                "m:2:u-erin",
                "a:u-zed",
            ]
        );
        assert!(p.items.iter().all(|i| i.workbook == "all"));
        assert!(p.items.iter().all(|i| {
            i.context
                .iter()
                .map(|(c, _)| c.as_str())
                .eq(CONTEXT_COLUMNS)
        }));
        let grant = find(&p, "g:u-bob:resource:r-db");
        assert_eq!(grant.kind, ItemKind::DirectGrant);
        assert_eq!(grant.access_level, Some(AccessLevel::Own));
        assert_eq!(ctx(grant, "group_or_grant"), "resource: Prod DB (own)");
        assert_eq!(ctx(grant, "flags"), "privileged");
        let dba = find(&p, "m:3:u-carol");
        assert_eq!(ctx(dba, "group_or_grant"), "DBA");
        assert_eq!(ctx(dba, "access_at_edit_or_own"), "resource:Prod DB (own)");
        assert_eq!(ctx(dba, "is_group_admin"), "no");
        assert_eq!(dba.suggested, Some(Suggestion::Review));
        assert_eq!(
            dba.suggested_reason.as_deref(),
            Some("privileged: own on a resource through this group")
        );
        assert_eq!(
            ctx(find(&p, "m:2:u-alice"), "access_at_edit_or_own"),
            "folder:Ops (edit)"
        );
        assert_eq!(find(&p, "m:2:u-alice").suggested, None);
        assert_eq!(
            p.workbooks,
            vec![WorkbookPlan {
                name: "all".into(),
                title: "the whole population".into(),
                reviewers: vec![],
                note: Some("one workbook for everyone: assign the reviewers".into()),
                rows: 11,
            }]
        );
    }

    #[test]
    fn no_app_views_in_the_window_flags_unused_and_suggests_revoke() {
        let mut s = org();
        s.usage.retain(|u| u.user_id != "u-bob");
        let p = population(&s, &options(ReviewerBy::Single, None));
        let bob = find(&p, "m:2:u-bob");
        assert_eq!(ctx(bob, "app_views"), "0");
        assert_eq!(ctx(bob, "flags"), "unused");
        assert_eq!(bob.suggested, Some(Suggestion::Revoke));
        assert_eq!(
            bob.suggested_reason.as_deref(),
            Some("no app views in the usage window")
        );
        let alice = find(&p, "m:2:u-alice");
        assert_eq!(
            (ctx(alice, "app_views"), ctx(alice, "app_saves")),
            ("5", "1")
        );
        assert_eq!(alice.suggested, None);
        // Usage not collected: nobody is judged by it.
        s.not_collected.insert(
            crate::model::EntityKind::Usage,
            "missing scope usage".into(),
        );
        let p = population(&s, &options(ReviewerBy::Single, None));
        let bob = find(&p, "m:2:u-bob");
        assert_eq!(ctx(bob, "app_views"), "not collected");
        assert_eq!(bob.suggested, None);
    }

    /// With per-app usage, edit or own on apps the user saved none of is a
    /// `modify` suggestion; a save on one of them, or no per-app usage, is not.
    #[test]
    fn edit_on_apps_never_saved_suggests_modify() {
        let mut s = org();
        s.not_collected.remove(&crate::model::EntityKind::AppUsage);
        // Alice saved the Ops console (Eng gives edit on the Ops folder);
        // Bob only viewed it.
        for (user, email, saves) in [
            ("u-alice", "alice@example.com", 2),
            ("u-bob", "bob@example.com", 0),
        ] {
            s.app_usage.push(crate::model::AppUsage {
                app_id: "a-ops".into(),
                user_id: user.into(),
                email: email.into(),
                views: 9,
                saves,
            });
        }
        s.normalize();
        let p = population(&s, &options(ReviewerBy::Single, None));
        let bob = find(&p, "m:2:u-bob");
        assert_eq!(ctx(bob, "flags"), "edit_unused");
        assert_eq!(bob.suggested, Some(Suggestion::Modify));
        assert!(
            bob.suggested_reason
                .as_deref()
                .is_some_and(|r| r.contains("none saved in the usage window")),
            "{:?}",
            bob.suggested_reason
        );
        let alice = find(&p, "m:2:u-alice");
        assert_eq!(alice.suggested, None);
        // All Users gives use only: nothing to lower.
        assert_eq!(find(&p, "m:1:u-bob").suggested, None);
        // Without per-app usage nobody is judged by it.
        let p = population(&org(), &options(ReviewerBy::Single, None));
        assert_eq!(find(&p, "m:2:u-bob").suggested, None);
    }

    #[test]
    fn flags_and_suggestions_follow_roster_activity_and_status() {
        let mut s = org();
        let as_of = t(2026, 11, 23);
        s.users[1].last_active = Some(as_of - Duration::days(120)); // bob
        s.users[2].last_active = None; // carol
        let roster =
            Roster::parse(b"email\nalice@example.com\nbob@example.com\ncarol@example.com\n")
                .unwrap();
        let p = population(&s, &options(ReviewerBy::Single, Some(&roster)));
        let bob = find(&p, "m:2:u-bob");
        assert_eq!(ctx(bob, "flags"), "inactive");
        assert_eq!(ctx(bob, "days_inactive"), "120");
        assert_eq!(ctx(bob, "roster_match"), "yes");
        assert_eq!(bob.suggested, Some(Suggestion::Review));
        assert_eq!(
            bob.suggested_reason.as_deref(),
            Some("inactive: last active 120 days before the snapshot")
        );
        let carol = find(&p, "m:1:u-carol");
        assert_eq!(ctx(carol, "last_active"), "never");
        assert_eq!(ctx(carol, "days_inactive"), "");
        assert!(ctx(carol, "flags").starts_with("never_active"));
        // dave (admin) is not on the roster: terminated, revoke, and privileged.
        let dave = find(&p, "m:1:u-dave");
        assert_eq!(ctx(dave, "roster_match"), "no");
        assert_eq!(ctx(dave, "flags"), "terminated, privileged");
        assert_eq!(dave.suggested, Some(Suggestion::Revoke));
        assert_eq!(
            dave.suggested_reason.as_deref(),
            Some("terminated: active but not in the HR roster; privileged: org admin")
        );
        // erin is disabled: not `terminated` (already off), revoke Eng, not All Users.
        let erin_eng = find(&p, "m:2:u-erin");
        assert_eq!(ctx(erin_eng, "status"), "disabled");
        assert_eq!(ctx(erin_eng, "flags"), "disabled");
        assert_eq!(erin_eng.suggested, Some(Suggestion::Revoke));
        assert_eq!(find(&p, "m:1:u-erin").suggested, None);
        // Without a roster nobody is terminated.
        let p = population(&s, &options(ReviewerBy::Single, None));
        assert_eq!(ctx(find(&p, "m:1:u-dave"), "roster_match"), "no roster");
        assert_eq!(ctx(find(&p, "m:1:u-dave"), "flags"), "privileged");
    }

    #[test]
    fn group_admin_mode_makes_one_workbook_per_group_plus_admins_and_ungrouped() {
        let mut s = org();
        for m in &mut s.memberships {
            if m.user_id.0 == "u-bob" && m.group_id.0 == 2 {
                m.is_group_admin = true;
            }
        }
        s.memberships
            .retain(|m| !(m.user_id.0 == "u-carol" && m.group_id.0 == 3));
        let p = population(&s, &options(ReviewerBy::GroupAdmin, None));
        let by_key = |k: &str| find(&p, k).workbook.as_str();
        assert_eq!(by_key("m:2:u-alice"), "group-2-eng");
        assert_eq!(by_key("m:1:u-alice"), "group-1-all_users");
        assert_eq!(by_key("m:1:u-carol"), "admins-and-ungrouped", "ungrouped");
        assert_eq!(by_key("m:1:u-dave"), "admins-and-ungrouped", "org admin");
        let plans: Vec<(&str, Vec<&str>, Option<&str>, usize)> = p
            .workbooks
            .iter()
            .map(|w| {
                (
                    w.name.as_str(),
                    w.reviewers.iter().map(String::as_str).collect(),
                    w.note.as_deref(),
                    w.rows,
                )
            })
            .collect();
        assert_eq!(
            plans,
            vec![
                (
                    "admins-and-ungrouped",
                    vec![],
                    Some(
                        "assign a reviewer who is not an org admin (admins' own access is in here)"
                    ),
                    2
                ),
                (
                    "group-1-all_users",
                    vec![],
                    Some("no group admin: assign a reviewer"),
                    3
                ),
                ("group-2-eng", vec!["bob@example.com"], None, 3),
            ]
        );
        assert_eq!(
            ctx(find(&p, "m:2:u-bob"), "flags"),
            "privileged",
            "a group admin's own membership is privileged"
        );
    }

    #[test]
    fn hostile_text_is_kept_normalized_and_bounded() {
        let mut s = org();
        s.users[0].first_name = Some("=HYPERLINK(\"http://x\",\"y\")".into());
        s.users[0].last_name = None;
        s.users[1].first_name = Some("a\r\nb\rc\u{7}d".into());
        s.users[1].last_name = None;
        s.groups[1].name = "x".repeat(2_000);
        let p = population(&s, &options(ReviewerBy::Single, None));
        // Kept as it is: the workbook holds it as text by its style.
        assert_eq!(
            ctx(find(&p, "m:1:u-alice"), "name"),
            "=HYPERLINK(\"http://x\",\"y\")"
        );
        assert_eq!(ctx(find(&p, "m:1:u-bob"), "name"), "a\nb\nc d");
        let long = ctx(find(&p, "m:2:u-alice"), "group_or_grant");
        assert_eq!(long.chars().count(), MAX_TEXT_CHARS + 1);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn many_grants_are_summarized_with_a_count() {
        let mut s = org();
        for i in 0..8 {
            let id = format!("a-{i}");
            s.apps.push(app(&id, &format!("App {i}"), None));
            s.grants
                .push(group_grant(3, ObjectType::App, &id, AccessLevel::Edit));
        }
        s.groups[2].universal_resource_access = AccessLevel::Own;
        s.normalize();
        let p = population(&s, &options(ReviewerBy::Single, None));
        assert_eq!(
            ctx(find(&p, "m:3:u-carol"), "access_at_edit_or_own"),
            "all resources (own); resource:Prod DB (own); app:App 0 (edit); app:App 1 (edit); \
             app:App 2 (edit) +5 more"
        );
    }
}
