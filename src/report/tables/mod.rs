//! The public tables of a report, one module each. A module declares its
//! columns next to the cell that fills each of them (a [`Column`] list), so a
//! header cannot drift from its values, and lays its rows out from the
//! analyses' results in [`Context`]. Adding a table is one new module and one
//! line in [`ALL`]; the writers render whatever is listed.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::build::{ReportInput, ReportOptions};
use super::table::{Cell, Expansion, Rows, Table};
use crate::analyze::access::{AccessIndex, effective_access_users};
use crate::analyze::accounts::{
    AccountOptions, DisabledAccount, OrphanedAccount, PrivilegedEntry, disabled_accounts,
    orphaned_accounts, privileged_access,
};
use crate::analyze::changes::{SeenChange, changes};
use crate::analyze::exceptions::Exception;
use crate::analyze::inventory::folder_paths;
use crate::model::{EntityKind, GroupId, ObjectId, OrgState, SnapshotMeta, User, UserId};

mod access_added;
mod access_matrix;
mod access_requests;
mod access_tokens;
mod app_usage;
mod apps;
mod changes;
pub(crate) mod cross_check;
mod deprovisioning;
mod disabled_accounts;
mod effective_access;
pub(crate) mod exceptions;
mod folders;
mod group_members;
mod group_permissions;
mod groups;
mod object_access;
mod orphaned_accounts;
mod privileged_access;
mod resource_configurations;
mod resource_environment_access;
mod resources;
mod role_grants;
mod roles;
mod security_settings;
mod transient_access;
mod usage;
mod user_grants;
mod user_invites;
mod users;
mod workflows;

/// Builds one table from the context.
pub(crate) type BuildTable = for<'b, 'c, 'a> fn(&'b Context<'c, 'a>) -> Table<Rows<'a>>;

/// Every table of the report, in report order (the order of the CSV files'
/// listing, the XLSX sheets, the HTML sections and the JSON `tables`).
pub(crate) const ALL: [BuildTable; 31] = [
    exceptions::table,
    users::table,
    groups::table,
    group_members::table,
    access_matrix::table,
    group_permissions::table,
    user_grants::table,
    effective_access::table,
    object_access::table,
    orphaned_accounts::table,
    disabled_accounts::table,
    deprovisioning::table,
    privileged_access::table,
    roles::table,
    role_grants::table,
    resource_environment_access::table,
    security_settings::table,
    access_requests::table,
    usage::table,
    app_usage::table,
    cross_check::table,
    folders::table,
    apps::table,
    resources::table,
    workflows::table,
    resource_configurations::table,
    access_tokens::table,
    user_invites::table,
    changes::table,
    transient_access::table,
    access_added::table,
];

/// One column of a held table: its header and what fills its cell from the
/// row's item (with the context, for what the item does not hold).
pub(crate) type Column<T> = (&'static str, fn(&Context<'_, '_>, &T) -> Cell);

/// What every table is built from: the input, the options, and what several
/// tables and the summary share (computed once).
pub(crate) struct Context<'c, 'a> {
    pub input: &'c ReportInput<'a>,
    pub state: &'a OrgState,
    pub options: &'c ReportOptions,
    /// What was not collected, from the snapshot's record and the state.
    pub not_collected: BTreeMap<EntityKind, String>,
    /// The snapshot's time: "now" for every judgement of the report.
    pub as_of: DateTime<Utc>,
    /// Group labels by id (see [`group_labels`]).
    pub labels: HashMap<GroupId, String>,
    /// Each user's memberships: (group, is group admin).
    pub user_groups: HashMap<&'a UserId, Vec<(GroupId, bool)>>,
    /// Every user, by email then id.
    pub users_sorted: Vec<&'a User>,
    /// Who reaches what; shared by `group_permissions` (names) and
    /// `effective_access` (its rows).
    pub index: Arc<AccessIndex<'a>>,
    pub orphans: Vec<OrphanedAccount>,
    pub disabled: Vec<DisabledAccount>,
    /// Privileged access of the snapshot (the table, and the exceptions).
    pub privileged: Vec<PrivilegedEntry>,
    /// The changes since the previous snapshot, when there is one: walked
    /// snapshot by snapshot or between the two.
    pub changes: Option<(&'a SnapshotMeta, &'a OrgState, Cow<'a, [SeenChange]>)>,
    /// How many references point at records the snapshot does not hold.
    pub dangling_references: usize,
    /// Every folder's path from the root (see [`folder_paths`]).
    pub folder_paths: HashMap<&'a ObjectId, String>,
    /// Whether and where the per-user expansion is written.
    pub expansion: Expansion,
    /// Every exception of the snapshot (the table, the per-user cards).
    pub exceptions: Vec<Exception>,
}

impl<'c, 'a> Context<'c, 'a> {
    pub fn new(input: &'c ReportInput<'a>, options: &'c ReportOptions) -> Self {
        let state = input.current_state;
        let mut not_collected = input.current.not_collected.clone();
        for (k, v) in &state.not_collected {
            not_collected.entry(*k).or_insert_with(|| v.clone());
        }
        let as_of = input.current.taken_at();
        let account_options = AccountOptions {
            default_group: options.default_group.clone(),
            inactive_days: options.inactive_days,
        };
        let mut user_groups: HashMap<&UserId, Vec<(GroupId, bool)>> = HashMap::new();
        for m in &state.memberships {
            user_groups
                .entry(&m.user_id)
                .or_default()
                .push((m.group_id, m.is_group_admin));
        }
        let mut users_sorted: Vec<&User> = state.users.iter().collect();
        users_sorted.sort_by(|a, b| (&a.email, &a.id).cmp(&(&b.email, &b.id)));
        let orphans = orphaned_accounts(state, options.roster.as_ref(), &account_options, as_of);
        let disabled = disabled_accounts(state, input.disabled_since, &account_options);
        let changes = input.previous.map(|(meta, previous)| {
            let list = match input.walked {
                Some(walked) => Cow::Borrowed(walked),
                None => Cow::Owned(SeenChange::all(
                    meta.id,
                    input.current,
                    changes(previous, state),
                )),
            };
            (meta, previous, list)
        });
        let index = Arc::new(AccessIndex::new(state));
        let mut cx = Context {
            input,
            state,
            options,
            not_collected,
            as_of,
            labels: group_labels(state),
            user_groups,
            users_sorted,
            privileged: privileged_access(state, &index, as_of),
            index,
            orphans,
            disabled,
            changes,
            dangling_references: state.dangling_references().len(),
            folder_paths: folder_paths(state),
            expansion: Expansion::plan(
                effective_access_users(state).len(),
                options.full_effective_access,
            ),
            exceptions: Vec::new(),
        };
        cx.exceptions = exceptions::rows(&cx);
        cx
    }

    /// The group's label, or `group <id>` for a group the snapshot does not hold.
    pub fn label(&self, g: GroupId) -> String {
        self.labels
            .get(&g)
            .cloned()
            .unwrap_or_else(|| format!("group {g}"))
    }

    /// The record counts the snapshot recorded (those of its state for a
    /// snapshot that recorded none): what the Evidence lists.
    pub fn recorded_counts(&self) -> crate::model::Counts {
        let cur = self.input.current;
        if cur.counts.is_empty() {
            self.state.counts()
        } else {
            cur.counts.clone()
        }
    }

    /// The path of the folder `id`, empty for none.
    pub fn folder_path(&self, id: Option<&ObjectId>) -> Cell {
        match id {
            None => Cell::Empty,
            Some(id) => t(self
                .folder_paths
                .get(id)
                .cloned()
                .unwrap_or_else(|| format!("(folder {id})"))),
        }
    }

    /// The notice of every table built from memberships.
    pub fn membership_notice(&self) -> Option<String> {
        self.not_collected_notice(&[(
            EntityKind::Memberships,
            "group membership below is incomplete",
        )])
    }

    /// "X were not collected: why — consequence" for each listed kind that is
    /// missing, joined; `None` when all were collected.
    pub fn not_collected_notice(&self, kinds: &[(EntityKind, &str)]) -> Option<String> {
        let parts: Vec<String> = kinds
            .iter()
            .filter_map(|(k, consequence)| {
                self.not_collected.get(k).map(|why| {
                    format!(
                        "{} were not collected: {} — {}",
                        kind_label(*k),
                        why.trim(),
                        consequence
                    )
                })
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join(". "))
    }
}

/// A held table: the header from `columns`, one row per item.
pub(crate) fn held<'a, 'i, T: 'i>(
    cx: &Context<'_, '_>,
    (name, title, description): (&str, &str, String),
    columns: &[Column<T>],
    items: impl IntoIterator<Item = &'i T>,
    notice: Option<String>,
) -> Table<Rows<'a>> {
    let rows = items
        .into_iter()
        .map(|item| columns.iter().map(|(_, cell)| cell(cx, item)).collect())
        .collect();
    Table {
        name: name.to_string(),
        title: title.to_string(),
        description,
        columns: columns.iter().map(|(name, _)| name.to_string()).collect(),
        rows: Rows::Held(rows),
        notice,
    }
}

pub(crate) fn t(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

pub(crate) fn time(v: Option<DateTime<Utc>>) -> Cell {
    Cell::opt(v, Cell::Time)
}

pub(crate) use crate::model::account_status as status;

pub(crate) fn count(n: usize) -> Cell {
    Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// Names joined by `;`, the list spelling of every table.
pub(crate) fn list<T: AsRef<str>>(items: impl IntoIterator<Item = T>) -> Cell {
    let mut out = String::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(item.as_ref());
    }
    Cell::Text(out)
}

/// How a kind is named in sentences.
pub(crate) fn kind_label(k: EntityKind) -> &'static str {
    match k {
        EntityKind::Users => "Users",
        EntityKind::Groups => "Groups",
        EntityKind::Memberships => "Group memberships",
        EntityKind::Folders => "Folders",
        EntityKind::Apps => "Apps",
        EntityKind::Resources => "Resources",
        EntityKind::Workflows => "Workflows",
        EntityKind::Grants => "Permission grants",
        EntityKind::UserInvites => "User invites",
        EntityKind::AccessTokens => "Access tokens",
        EntityKind::Roles => "Roles",
        EntityKind::RoleGrants => "Role grants",
        EntityKind::AccessRequests => "Access requests",
        EntityKind::Settings => "Security settings",
        EntityKind::Usage => "Usage figures",
        EntityKind::Environments => "Environments",
        EntityKind::ResourceConfigurations => "Resource configurations",
        EntityKind::ConfigurationGrants => "Per-environment resource grants",
        EntityKind::AppUsage => "Per-app usage",
    }
}

/// Group names by id; a name shared by two groups gets its id appended, so
/// matrix columns and lists stay unambiguous.
pub(crate) fn group_labels(state: &OrgState) -> HashMap<GroupId, String> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for g in &state.groups {
        *seen.entry(g.name.as_str()).or_default() += 1;
    }
    state
        .groups
        .iter()
        .map(|g| {
            let label = if seen.get(g.name.as_str()).copied().unwrap_or(0) > 1 {
                format!("{} ({})", g.name, g.id)
            } else {
                g.name.clone()
            };
            (g.id, label)
        })
        .collect()
}
