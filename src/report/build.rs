//! Builds the format-neutral [`Report`] from snapshots: runs the analyses and
//! lays their results out as the public tables (names and columns are a
//! contract), the summary, the evidence and the charts. Renders nothing.

use std::collections::{BTreeMap, HashMap};
use std::ops::{ControlFlow, Range};

use chrono::{DateTime, Utc};

use super::table::{
    Cell, Chart, ChartKind, EvidenceItem, Report, RowSource, Series, StreamedReport, SummaryItem,
    Table, format_time,
};
use crate::analyze::access::{
    ACCESS_OBJECT_TYPES, AccessIndex, all_objects_name, effective_access_users,
};
use crate::analyze::accounts::{
    AccountOptions, DisabledFinding, OrphanReason, disabled_accounts, orphaned_accounts,
    privileged_access,
};
use crate::analyze::changes::{Risk, changes};
use crate::analyze::roster::Roster;
use crate::model::{
    AccessLevel, EntityKind, GroupId, OrgState, RunRecord, SnapshotMeta, SnapshotRef, Subject,
    User, UserId,
};

/// How to build a report.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Users last active more than this many days before the snapshot are
    /// `inactive`.
    pub inactive_days: u32,
    /// The built-in group every user is in (`All Users`).
    pub default_group: String,
    /// The HR roster; without one `not_in_roster` is not checked.
    pub roster: Option<Roster>,
    pub generated_at: DateTime<Utc>,
    /// The command line that produced the report (for the evidence; never
    /// contains the token, which comes from the environment or a file).
    pub command_line: String,
    /// At most this many group columns in `access_matrix` (the groups with the
    /// most members); all memberships are always in `group_members`.
    pub matrix_max_groups: usize,
}

impl ReportOptions {
    /// Defaults: 90 inactive days, `All Users`, no roster, 200 matrix groups.
    pub fn new(generated_at: DateTime<Utc>, command_line: impl Into<String>) -> Self {
        ReportOptions {
            inactive_days: 90,
            default_group: "All Users".to_string(),
            roster: None,
            generated_at,
            command_line: command_line.into(),
            matrix_max_groups: 200,
        }
    }
}

/// What a report is built from: snapshots read from the store, never the API.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    pub org: &'a str,
    pub current: &'a SnapshotMeta,
    pub current_state: &'a OrgState,
    /// The snapshot to compare with (changes), when there is one.
    pub previous: Option<(&'a SnapshotMeta, &'a OrgState)>,
    /// The org's snapshots up to `current`, oldest first, for charts.
    pub history: &'a [SnapshotMeta],
    /// Failed collection attempts since the previous snapshot.
    pub failed_runs: &'a [RunRecord],
    /// The first snapshot that saw each currently disabled user disabled.
    pub disabled_since: &'a BTreeMap<UserId, SnapshotRef>,
}

fn t(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn time(v: Option<DateTime<Utc>>) -> Cell {
    Cell::opt(v, Cell::Time)
}

fn status(active: bool) -> &'static str {
    if active { "active" } else { "disabled" }
}

fn count(n: usize) -> Cell {
    Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn cols(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// How a kind is named in sentences.
fn kind_label(k: EntityKind) -> &'static str {
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
    }
}

/// "X were not collected: why — consequence" for each listed kind that is
/// missing, joined; `None` when all were collected.
fn not_collected_notice(
    nc: &BTreeMap<EntityKind, String>,
    kinds: &[(EntityKind, &str)],
) -> Option<String> {
    let parts: Vec<String> = kinds
        .iter()
        .filter_map(|(k, consequence)| {
            nc.get(k).map(|why| {
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

fn table(
    name: &str,
    title: &str,
    description: &str,
    columns: &[&str],
    rows: Vec<Vec<Cell>>,
    notice: Option<String>,
) -> Table {
    Table {
        name: name.to_string(),
        title: title.to_string(),
        description: description.to_string(),
        columns: cols(columns),
        rows,
        notice,
    }
}

/// Group names by id; a name shared by two groups gets its id appended, so
/// matrix columns and lists stay unambiguous.
fn group_labels(state: &OrgState) -> HashMap<GroupId, String> {
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

/// Builds the whole report with every row held in memory. Pure: the same input
/// gives the same report. For large organizations prefer [`build_streamed`].
pub fn build(input: &ReportInput, options: &ReportOptions) -> Report {
    build_streamed(input, options).into_report()
}

/// Builds the report with its two largest tables, `access_matrix` and
/// `effective_access`, streamed: their rows are produced per user while a writer
/// reads them (`report::write::write_report(&streamed, ...)`), so memory stays
/// flat however many users × objects there are. Pure, like [`build`].
pub fn build_streamed<'a>(input: &ReportInput<'a>, options: &ReportOptions) -> StreamedReport<'a> {
    let state = input.current_state;
    let mut nc = input.current.not_collected.clone();
    for (k, v) in &state.not_collected {
        nc.entry(*k).or_insert_with(|| v.clone());
    }
    let as_of = input.current.taken_at();
    let account_options = AccountOptions {
        default_group: options.default_group.clone(),
        inactive_days: options.inactive_days,
    };
    let labels = group_labels(state);
    let label = |g: GroupId| {
        labels
            .get(&g)
            .cloned()
            .unwrap_or_else(|| format!("group {g}"))
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

    let mut tables = Vec::new();
    let mut produced: Vec<(usize, Box<dyn RowSource + 'a>)> = Vec::new();

    // users
    let rows = users_sorted
        .iter()
        .map(|u| {
            let mut groups: Vec<String> = user_groups
                .get(&u.id)
                .into_iter()
                .flatten()
                .map(|(g, _)| label(*g))
                .collect();
            groups.sort();
            groups.dedup();
            vec![
                t(u.id.0.clone()),
                t(u.email.clone()),
                Cell::opt(u.first_name.clone(), Cell::Text),
                Cell::opt(u.last_name.clone(), Cell::Text),
                t(u.user_type.clone()),
                Cell::Bool(u.is_admin),
                t(status(u.active)),
                Cell::opt(u.two_factor_enabled, Cell::Bool),
                time(u.created_at),
                time(u.last_active),
                t(groups.join(";")),
            ]
        })
        .collect();
    tables.push(table(
        "users",
        "Users",
        "Every user account in the snapshot, active and disabled, with the groups it is in \
         (`;`-separated). An empty two_factor_enabled or last_active means the API did not say \
         or the user never logged in.",
        &[
            "user_id",
            "email",
            "first_name",
            "last_name",
            "user_type",
            "is_admin",
            "status",
            "two_factor_enabled",
            "created_at",
            "last_active",
            "groups",
        ],
        rows,
        None,
    ));

    // group_members
    let membership_notice = not_collected_notice(
        &nc,
        &[(
            EntityKind::Memberships,
            "group membership below is incomplete",
        )],
    );
    let mut members: Vec<(String, GroupId, String, &UserId, bool, &str)> = state
        .memberships
        .iter()
        .map(|m| {
            let (email, st) = match state.user(&m.user_id) {
                Some(u) => (u.email.clone(), status(u.active)),
                None => (String::new(), "not in snapshot"),
            };
            (
                label(m.group_id),
                m.group_id,
                email,
                &m.user_id,
                m.is_group_admin,
                st,
            )
        })
        .collect();
    members.sort();
    let rows = members
        .into_iter()
        .map(|(gname, gid, email, uid, admin, st)| {
            vec![
                Cell::Int(gid.0),
                t(gname),
                t(uid.0.clone()),
                t(email),
                Cell::Bool(admin),
                t(st),
            ]
        })
        .collect();
    tables.push(table(
        "group_members",
        "Group members",
        "One row per membership of a user in a permission group, including the built-in \
         default group. user_status `not in snapshot` marks a member the user list does not hold.",
        &[
            "group_id",
            "group_name",
            "user_id",
            "email",
            "is_group_admin",
            "user_status",
        ],
        rows,
        membership_notice.clone(),
    ));

    // access_matrix
    let mut member_count: HashMap<GroupId, usize> = HashMap::new();
    for m in &state.memberships {
        *member_count.entry(m.group_id).or_default() += 1;
    }
    let mut matrix_groups: Vec<GroupId> = state.groups.iter().map(|g| g.id).collect();
    let mut matrix_notice = membership_notice.clone();
    if matrix_groups.len() > options.matrix_max_groups {
        matrix_groups.sort_by(|a, b| {
            let (ca, cb) = (member_count.get(a), member_count.get(b));
            cb.cmp(&ca).then_with(|| label(*a).cmp(&label(*b)))
        });
        let total = matrix_groups.len();
        matrix_groups.truncate(options.matrix_max_groups);
        let msg = format!(
            "The organization has {total} groups; the matrix shows the {} with the most members. \
             Every membership is listed in group_members.",
            matrix_groups.len()
        );
        matrix_notice = Some(match matrix_notice {
            Some(n) => format!("{n}. {msg}"),
            None => msg,
        });
    }
    matrix_groups.sort_by_key(|g| (label(*g), *g));
    let mut matrix_cols = cols(&["email", "status", "is_admin"]);
    matrix_cols.extend(matrix_groups.iter().map(|g| label(*g)));
    let width = matrix_cols.len();
    produced.push((
        tables.len(),
        Box::new(MatrixRows {
            columns: matrix_groups
                .iter()
                .enumerate()
                .map(|(i, g)| (*g, 3 + i))
                .collect(),
            users: users_sorted,
            user_groups,
            width,
        }),
    ));
    tables.push(Table {
        name: "access_matrix".into(),
        title: "Access matrix".into(),
        description: "One row per user, one column per group: `member`, `group admin` or empty."
            .into(),
        columns: matrix_cols,
        rows: Vec::new(),
        notice: matrix_notice,
    });

    // group_permissions
    let index = AccessIndex::new(state);
    let mut perms: Vec<(String, GroupId, &str, String, String, AccessLevel, &str)> = Vec::new();
    for g in &state.groups {
        for ot in ACCESS_OBJECT_TYPES {
            let level = g.universal_access(ot);
            if level > AccessLevel::None {
                perms.push((
                    label(g.id),
                    g.id,
                    ot.as_str(),
                    "*".into(),
                    all_objects_name(ot).into(),
                    level,
                    "universal",
                ));
            }
        }
    }
    for gr in &state.grants {
        if let Subject::Group(gid) = gr.subject {
            perms.push((
                label(gid),
                gid,
                gr.object.object_type.as_str(),
                gr.object.id.0.clone(),
                index
                    .object_name(gr.object.object_type, &gr.object.id)
                    .to_string(),
                gr.level,
                "direct",
            ));
        }
    }
    perms.sort();
    let rows = perms
        .into_iter()
        .map(|(gname, gid, ot, oid, oname, level, scope)| {
            vec![
                Cell::Int(gid.0),
                t(gname),
                t(ot),
                t(oid),
                t(oname),
                t(level.as_str()),
                t(scope),
            ]
        })
        .collect();
    tables.push(table(
        "group_permissions",
        "Group permissions",
        "Every grant a group holds: `direct` rows are grants on one folder, app, resource or \
         workflow; `universal` rows (object_id `*`) are the group's level on every app, resource \
         or workflow. A folder grant reaches the items directly inside that folder.",
        &[
            "group_id",
            "group_name",
            "object_type",
            "object_id",
            "object_name",
            "access_level",
            "scope",
        ],
        rows,
        not_collected_notice(
            &nc,
            &[
                (
                    EntityKind::Grants,
                    "only universal access is listed below, not grants on single objects",
                ),
                (EntityKind::Folders, "folder names are missing below"),
                (EntityKind::Apps, "app names are missing below"),
                (EntityKind::Resources, "resource names are missing below"),
                (EntityKind::Workflows, "workflow names are missing below"),
            ],
        ),
    ));

    // effective_access
    produced.push((
        tables.len(),
        Box::new(EffectiveAccessRows::new(index, state)),
    ));
    tables.push(table(
        "effective_access",
        "Effective access",
        "Active users only. For each user and object type (app, resource, workflow) one row with \
         object_id `*` states the level the user holds on ALL objects of that type (from admin \
         and universal group access); further rows list only the single objects where group, \
         folder or direct grants give MORE than that baseline. A user's level on any object not \
         listed is the `*` row's level. `via` names every source that grants anything, highest \
         level first: admin, universal:<group>, group:<group>, folder:<folder> via group:<group> \
         (a folder grant reaches items directly inside the folder, not its subfolders), direct.",
        &[
            "user_id",
            "email",
            "object_type",
            "object_id",
            "object_name",
            "access_level",
            "via",
        ],
        Vec::new(),
        not_collected_notice(
            &nc,
            &[
                (
                    EntityKind::Grants,
                    "effective access below omits group, folder and direct grants",
                ),
                (
                    EntityKind::Memberships,
                    "effective access below omits access through groups",
                ),
                (EntityKind::Folders, "folder names are missing below"),
                (
                    EntityKind::Apps,
                    "folder grants could not be expanded to apps",
                ),
                (
                    EntityKind::Resources,
                    "folder grants could not be expanded to resources",
                ),
                (
                    EntityKind::Workflows,
                    "folder grants could not be expanded to workflows",
                ),
            ],
        ),
    ));

    // orphaned_accounts
    let orphans = orphaned_accounts(state, options.roster.as_ref(), &account_options, as_of);
    let rows = orphans
        .iter()
        .map(|o| {
            vec![
                t(o.user_id.0.clone()),
                t(o.email.clone()),
                t(status(o.active)),
                Cell::Bool(o.is_admin),
                time(o.last_active),
                t(o.reasons
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(";")),
            ]
        })
        .collect();
    let roster_note = match &options.roster {
        Some(r) => format!("the HR roster holds {} emails", r.len()),
        None => "no HR roster was given".to_string(),
    };
    tables.push(table(
        "orphaned_accounts",
        "Orphaned accounts",
        &format!(
            "Accounts with at least one reason: no_groups (in no group but `{}`), not_in_roster \
             (active, email not on the HR roster; {roster_note}), inactive (last active more than \
             {} days before the snapshot, {}), never_active (never logged in).",
            options.default_group,
            options.inactive_days,
            format_time(&as_of)
        ),
        &[
            "user_id",
            "email",
            "status",
            "is_admin",
            "last_active",
            "reasons",
        ],
        rows,
        options.roster.is_none().then(|| {
            "No HR roster was given: accounts were not checked against it (not_in_roster)."
                .to_string()
        }),
    ));

    // disabled_accounts
    let disabled = disabled_accounts(state, input.disabled_since, &account_options);
    let rows = disabled
        .iter()
        .map(|d| {
            vec![
                t(d.user_id.0.clone()),
                t(d.email.clone()),
                Cell::Bool(d.is_admin),
                t(d.groups.join(";")),
                time(d.disabled_since.map(|s| s.taken_at)),
                t(d.findings
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(";")),
            ]
        })
        .collect();
    tables.push(table(
        "disabled_accounts",
        "Disabled accounts",
        &format!(
            "Every disabled account with the groups it is still in. disabled_since is the time of \
             the first snapshot that saw it disabled (empty when not known). Findings: \
             still_admin, still_in_groups (a group other than `{}`).",
            options.default_group
        ),
        &[
            "user_id",
            "email",
            "is_admin",
            "groups",
            "disabled_since",
            "findings",
        ],
        rows,
        membership_notice.clone(),
    ));

    // privileged_access
    let privileged = privileged_access(state, as_of);
    let rows = privileged
        .iter()
        .map(|p| {
            vec![
                Cell::opt(p.user_id.as_ref(), |u| t(u.0.clone())),
                t(p.email.clone()),
                t(p.kind.as_str()),
                t(p.detail.clone()),
            ]
        })
        .collect();
    tables.push(table(
        "privileged_access",
        "Privileged access",
        "Active admins (admin), group admins (group_admin), universal edit/own through a group \
         (universal_access), own on a resource (resource_owner), API tokens with a `:write` scope \
         (write_token; user_id is the owner when known) and unclaimed, unexpired invitations that \
         carry group membership (pending_invite; no user_id yet).",
        &["user_id", "email", "kind", "detail"],
        rows,
        not_collected_notice(
            &nc,
            &[
                (EntityKind::Grants, "resource owners are not listed below"),
                (EntityKind::AccessTokens, "API tokens are not listed below"),
                (
                    EntityKind::UserInvites,
                    "pending invitations are not listed below",
                ),
            ],
        ),
    ));

    // changes
    let change_cols = [
        "from_snapshot",
        "to_snapshot",
        "entity_type",
        "change",
        "entity_id",
        "entity_name",
        "field",
        "old_value",
        "new_value",
        "risk",
    ];
    let mut high_risk: Option<usize> = None;
    let changes_table = match input.previous {
        None => table(
            "changes",
            "Changes",
            "Changes since the previous snapshot.",
            &change_cols,
            Vec::new(),
            Some(format!(
                "Only one snapshot (id {}): no earlier snapshot to compare with; take another \
                 snapshot to see changes.",
                input.current.id
            )),
        ),
        Some((prev_meta, prev_state)) => {
            let list = changes(prev_state, state);
            high_risk = Some(list.iter().filter(|c| c.risk == Risk::High).count());
            let rows = list
                .into_iter()
                .map(|c| {
                    vec![
                        Cell::Int(prev_meta.id),
                        Cell::Int(input.current.id),
                        t(c.entity_type.as_str()),
                        t(c.change.as_str()),
                        t(c.entity_id),
                        t(c.entity_name),
                        t(c.field),
                        t(c.old_value),
                        t(c.new_value),
                        t(c.risk.as_str()),
                    ]
                })
                .collect();
            let mut skipped: Vec<String> = Vec::new();
            for k in [
                EntityKind::Users,
                EntityKind::Groups,
                EntityKind::Memberships,
                EntityKind::Grants,
                EntityKind::Apps,
                EntityKind::Folders,
                EntityKind::Resources,
                EntityKind::Workflows,
            ] {
                let why = nc
                    .get(&k)
                    .map(|w| format!("not collected in snapshot {}: {}", input.current.id, w))
                    .or_else(|| {
                        prev_state
                            .not_collected
                            .get(&k)
                            .or_else(|| prev_meta.not_collected.get(&k))
                            .map(|w| format!("not collected in snapshot {}: {}", prev_meta.id, w))
                    });
                if let Some(why) = why {
                    skipped.push(format!("{} ({})", kind_label(k), why.trim()));
                }
            }
            table(
                "changes",
                "Changes",
                &format!(
                    "Changes from snapshot {} ({}) to snapshot {} ({}): one row per added or \
                     removed record and per changed field. Risk: high for admin grants, new \
                     edit/own access, re-enabled users and raised universal access; medium for \
                     other access gains; low otherwise. last_active is not compared (it changes \
                     daily). Permission entity_id is <group_id>:<object_type>:<object_id>, or \
                     user:<user_id>:<object_type>:<object_id> for a direct user grant.",
                    prev_meta.id,
                    format_time(&prev_meta.taken_at()),
                    input.current.id,
                    format_time(&as_of)
                ),
                &change_cols,
                rows,
                (!skipped.is_empty()).then(|| format!("Not compared: {}.", skipped.join("; "))),
            )
        }
    };
    tables.push(changes_table);

    // Summary
    let mut summary = Vec::new();
    let mut add = |section: &str, label: &str, value: Cell| {
        summary.push(SummaryItem {
            section: section.to_string(),
            label: label.to_string(),
            value,
        })
    };
    let active = state.users.iter().filter(|u| u.active).count();
    let kind_count = |k: EntityKind, n: usize| {
        if nc.contains_key(&k) {
            t("not collected")
        } else {
            count(n)
        }
    };
    add("Headline", "Users", count(state.users.len()));
    add("Headline", "Active users", count(active));
    add(
        "Headline",
        "Admins",
        count(
            state
                .users
                .iter()
                .filter(|u| u.active && u.is_admin)
                .count(),
        ),
    );
    add(
        "Headline",
        "Disabled users",
        count(state.users.len() - active),
    );
    add("Headline", "Groups", count(state.groups.len()));
    add(
        "Headline",
        "Apps",
        kind_count(EntityKind::Apps, state.apps.len()),
    );
    add(
        "Headline",
        "Resources",
        kind_count(EntityKind::Resources, state.resources.len()),
    );
    add(
        "Headline",
        "Workflows",
        kind_count(EntityKind::Workflows, state.workflows.len()),
    );
    add(
        "Headline",
        "High-risk changes",
        match high_risk {
            Some(n) => count(n),
            None => t("n/a (one snapshot)"),
        },
    );
    for reason in OrphanReason::ALL {
        if reason == OrphanReason::NotInRoster && options.roster.is_none() {
            add(
                "Findings",
                "Orphaned accounts: not_in_roster",
                t("not checked (no roster)"),
            );
            continue;
        }
        let n = orphans
            .iter()
            .filter(|o| o.reasons.contains(&reason))
            .count();
        add(
            "Findings",
            &format!("Orphaned accounts: {}", reason.as_str()),
            count(n),
        );
    }
    for (finding, label) in [
        (DisabledFinding::StillAdmin, "Disabled accounts still admin"),
        (
            DisabledFinding::StillInGroups,
            "Disabled accounts still in groups",
        ),
    ] {
        let n = disabled
            .iter()
            .filter(|d| d.findings.contains(&finding))
            .count();
        add("Findings", label, count(n));
    }
    let dangling = state.dangling_references();
    add("Findings", "Dangling references", count(dangling.len()));
    add(
        "Findings",
        "Kinds not collected",
        t(if nc.is_empty() {
            "none".to_string()
        } else {
            // A kind collected in part (e.g. group grants without direct user
            // grants) says so, so nobody reads it as entirely missing.
            nc.iter()
                .map(|(k, why)| {
                    if why.starts_with("partial") {
                        format!("{k} (partial)")
                    } else {
                        k.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        }),
    );
    for (i, tb) in tables.iter().enumerate() {
        let rows = match produced.iter().find(|(p, _)| *p == i) {
            Some((_, source)) => source.len(),
            None => tb.rows.len(),
        };
        add("Rows per table", &tb.name, count(rows));
    }

    let mut streamed = StreamedReport::new(Report {
        org: input.org.to_string(),
        title: format!("Retool access review — {}", input.org),
        snapshot_date: as_of.format("%Y-%m-%d").to_string(),
        generated_at: options.generated_at,
        summary,
        evidence: evidence(input, options, &nc, &dangling),
        charts: charts(input, state),
        tables,
    });
    for (i, source) in produced {
        streamed.produce(i, source);
    }
    streamed
}

fn set_text(cell: &mut Cell, s: &str) {
    match cell {
        Cell::Text(t) => {
            t.clear();
            t.push_str(s);
        }
        other => *other = Cell::Text(s.to_string()),
    }
}

/// The `access_matrix` rows: one per user, produced on demand.
struct MatrixRows<'a> {
    users: Vec<&'a User>,
    user_groups: HashMap<&'a UserId, Vec<(GroupId, bool)>>,
    /// The column of each group shown.
    columns: HashMap<GroupId, usize>,
    width: usize,
}

impl RowSource for MatrixRows<'_> {
    fn len(&self) -> usize {
        self.users.len()
    }

    fn for_each_row(&self, range: Range<usize>, f: &mut dyn FnMut(&[Cell]) -> ControlFlow<()>) {
        let end = range.end.min(self.users.len());
        let mut row = Vec::with_capacity(self.width);
        for u in &self.users[range.start.min(end)..end] {
            row.clear();
            row.extend([
                t(u.email.clone()),
                t(status(u.active)),
                Cell::Bool(u.is_admin),
            ]);
            row.resize(self.width, Cell::Empty);
            for (g, admin) in self.user_groups.get(&u.id).into_iter().flatten() {
                if let Some(&c) = self.columns.get(g) {
                    row[c] = t(if *admin { "group admin" } else { "member" });
                }
            }
            if f(&row).is_break() {
                return;
            }
        }
    }
}

/// The `effective_access` rows, produced user by user from the access index.
struct EffectiveAccessRows<'a> {
    index: AccessIndex<'a>,
    users: Vec<&'a User>,
    /// `starts[i]` is the first row of `users[i]`; the last entry is the total.
    starts: Vec<usize>,
}

impl<'a> EffectiveAccessRows<'a> {
    fn new(index: AccessIndex<'a>, state: &'a OrgState) -> Self {
        let users = effective_access_users(state);
        let mut starts = Vec::with_capacity(users.len() + 1);
        let mut total = 0;
        starts.push(total);
        for u in &users {
            total += index.row_count(u);
            starts.push(total);
        }
        EffectiveAccessRows {
            index,
            users,
            starts,
        }
    }
}

impl RowSource for EffectiveAccessRows<'_> {
    fn len(&self) -> usize {
        self.starts.last().copied().unwrap_or(0)
    }

    fn for_each_row(&self, range: Range<usize>, f: &mut dyn FnMut(&[Cell]) -> ControlFlow<()>) {
        // The user whose rows include `range.start`.
        let first = self
            .starts
            .partition_point(|&s| s <= range.start)
            .saturating_sub(1);
        let mut cells: Vec<Cell> = (0..7).map(|_| Cell::Text(String::new())).collect();
        for (u, &start) in self.users.iter().zip(&self.starts).skip(first) {
            if start >= range.end {
                break;
            }
            set_text(&mut cells[0], &u.id.0);
            set_text(&mut cells[1], &u.email);
            let mut n = start;
            let mut stopped = false;
            self.index.for_each_row(u, |row| {
                if !stopped && range.contains(&n) {
                    set_text(&mut cells[2], row.object_type.as_str());
                    set_text(&mut cells[3], row.object_id.map_or("*", |o| o.0.as_str()));
                    set_text(&mut cells[4], row.object_name);
                    set_text(&mut cells[5], row.level.as_str());
                    if let Cell::Text(via) = &mut cells[6] {
                        via.clear();
                        row.write_via(via);
                    }
                    stopped = f(&cells).is_break();
                }
                n += 1;
            });
            if stopped {
                return;
            }
        }
    }
}

fn evidence(
    input: &ReportInput,
    options: &ReportOptions,
    nc: &BTreeMap<EntityKind, String>,
    dangling: &[crate::model::DanglingReference],
) -> Vec<EvidenceItem> {
    let mut ev = Vec::new();
    let mut add = |section: &str, key: &str, value: String| {
        ev.push(EvidenceItem {
            section: section.to_string(),
            key: key.to_string(),
            value,
        })
    };
    add("Report", "Tool version", crate::VERSION.to_string());
    add("Report", "Generated at", format_time(&options.generated_at));
    add("Report", "Command line", options.command_line.clone());
    add("Report", "Organization", input.org.to_string());

    let cur = input.current;
    let info = &cur.info;
    let sec = format!("Snapshot {}", cur.id);
    add(&sec, "Snapshot id", cur.id.to_string());
    add(&sec, "Organization", cur.org.clone());
    add(&sec, "Source URL", info.source_url.clone());
    add(&sec, "Dialect", info.dialect.as_str().to_string());
    add(
        &sec,
        "API version",
        info.api_version
            .clone()
            .unwrap_or_else(|| "not reported".into()),
    );
    add(&sec, "Collection started", format_time(&info.started_at));
    add(&sec, "Collection finished", format_time(&info.finished_at));
    add(&sec, "Collected by", info.tool_version.clone());
    add(&sec, "Content SHA-256", cur.sha256.clone());
    add(
        &sec,
        "Previous SHA-256",
        cur.prev_sha256
            .clone()
            .unwrap_or_else(|| "none (first snapshot in the chain)".into()),
    );
    let counts = if cur.counts.is_empty() {
        input.current_state.counts()
    } else {
        cur.counts.clone()
    };
    for (k, n) in &counts {
        let value = match (nc.get(k), info.expected_totals.get(k)) {
            (Some(_), _) => format!("{n} (not collected)"),
            (None, Some(expected)) => format!("{n} (API reported {expected})"),
            (None, None) => n.to_string(),
        };
        add(&sec, &format!("Records: {}", k.as_str()), value);
    }
    add(&sec, "Requests", info.total_requests().to_string());
    add(&sec, "Retries", info.total_retries().to_string());
    for e in &info.endpoints {
        add(
            &sec,
            &format!("Endpoint {}", e.endpoint),
            format!(
                "{} requests, {} retries, {} pages, {} records, {} ms",
                e.requests, e.retries, e.pages, e.records, e.duration_ms
            ),
        );
    }
    if nc.is_empty() {
        add(
            &sec,
            "Not collected",
            "nothing: every kind was collected".into(),
        );
    }
    for (k, why) in nc {
        add(&sec, &format!("Not collected: {}", k.as_str()), why.clone());
    }
    for (i, note) in info.notes.iter().enumerate() {
        add(&sec, &format!("Collector note {}", i + 1), note.clone());
    }
    if !dangling.is_empty() {
        add(
            &sec,
            "Dangling references",
            format!(
                "{} references to records the snapshot does not hold (kept, not dropped)",
                dangling.len()
            ),
        );
    }

    if let Some((prev, _)) = input.previous {
        let sec = format!("Previous snapshot {}", prev.id);
        add(&sec, "Snapshot id", prev.id.to_string());
        add(&sec, "Taken at", format_time(&prev.taken_at()));
        add(&sec, "Content SHA-256", prev.sha256.clone());
    }

    let failed: Vec<&RunRecord> = input
        .failed_runs
        .iter()
        .filter(|r| r.status != "ok")
        .collect();
    if failed.is_empty() {
        add(
            "Failed runs",
            "Failed runs since the previous snapshot",
            "none".into(),
        );
    }
    for r in failed {
        add(
            "Failed runs",
            &format!("Run {} at {}", r.id, format_time(&r.started_at)),
            format!(
                "{}: {}",
                r.source_url,
                r.error
                    .clone()
                    .unwrap_or_else(|| "no error recorded".into())
            ),
        );
    }
    ev
}

fn charts(input: &ReportInput, state: &OrgState) -> Vec<Chart> {
    let mut charts = Vec::new();

    // Users over time, from each snapshot's record counts.
    let mut points: Vec<(i64, DateTime<Utc>, f64)> = input
        .history
        .iter()
        .filter(|m| m.id <= input.current.id)
        .map(|m| {
            let users = m.counts.get(&EntityKind::Users).copied().unwrap_or(0);
            (m.id, m.taken_at(), users as f64)
        })
        .collect();
    if !points.iter().any(|p| p.0 == input.current.id) {
        points.push((
            input.current.id,
            input.current.taken_at(),
            state.users.len() as f64,
        ));
    }
    points.sort_by_key(|p| p.0);
    let dates: Vec<String> = points
        .iter()
        .map(|p| p.1.format("%Y-%m-%d").to_string())
        .collect();
    let unique = {
        let mut d = dates.clone();
        d.dedup();
        d.len() == dates.len()
    };
    let x_labels = if unique {
        dates
    } else {
        points
            .iter()
            .map(|p| format!("#{} {}", p.0, p.1.format("%Y-%m-%d")))
            .collect()
    };
    charts.push(Chart {
        title: "Users per snapshot".into(),
        kind: ChartKind::Line,
        x_labels,
        series: vec![Series {
            name: "users".into(),
            values: points.iter().map(|p| p.2).collect(),
        }],
    });

    // Grants per group by level, the 20 groups with the most grants.
    let mut per_group: BTreeMap<GroupId, [usize; 3]> = BTreeMap::new();
    for g in &state.grants {
        if let Subject::Group(gid) = g.subject {
            let slot = match g.level {
                AccessLevel::Use => 0,
                AccessLevel::Edit => 1,
                AccessLevel::Own => 2,
                AccessLevel::None => continue,
            };
            per_group.entry(gid).or_default()[slot] += 1;
        }
    }
    if !per_group.is_empty() {
        let labels = group_labels(state);
        let mut groups: Vec<(GroupId, [usize; 3], String)> = per_group
            .into_iter()
            .map(|(g, c)| {
                let name = labels
                    .get(&g)
                    .cloned()
                    .unwrap_or_else(|| format!("group {g}"));
                (g, c, name)
            })
            .collect();
        groups.sort_by(|a, b| {
            let (ta, tb): (usize, usize) = (a.1.iter().sum(), b.1.iter().sum());
            tb.cmp(&ta).then_with(|| a.2.cmp(&b.2))
        });
        groups.truncate(20);
        let series = ["use", "edit", "own"]
            .iter()
            .enumerate()
            .map(|(i, name)| Series {
                name: (*name).to_string(),
                values: groups.iter().map(|g| g.1[i] as f64).collect(),
            })
            .collect();
        charts.push(Chart {
            title: "Grants per group by access level (top 20 groups)".into(),
            kind: ChartKind::StackedBar,
            x_labels: groups.into_iter().map(|g| g.2).collect(),
            series,
        });
    }
    charts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::fixtures::{group_grant, org, t};
    use crate::model::{CollectionInfo, ObjectType};

    fn meta(id: i64, state: &OrgState, day: u32) -> SnapshotMeta {
        SnapshotMeta {
            id,
            org: "acme".into(),
            info: CollectionInfo {
                source_url: "https://acme.retool.com/api/v2".into(),
                started_at: t(2026, 11, day),
                finished_at: t(2026, 11, day),
                tool_version: "0.1.0".into(),
                ..Default::default()
            },
            counts: state.counts(),
            not_collected: state.not_collected.clone(),
            sha256: format!("sha{id}"),
            prev_sha256: (id > 1).then(|| format!("sha{}", id - 1)),
        }
    }

    fn header(report: &Report, name: &str) -> Vec<String> {
        report
            .table(name)
            .map(|t| t.columns.clone())
            .unwrap_or_default()
    }

    fn run(
        state: &OrgState,
        previous: Option<(&SnapshotMeta, &OrgState)>,
        options: &ReportOptions,
    ) -> Report {
        let current = meta(2, state, 23);
        let since = BTreeMap::new();
        let history = vec![meta(1, state, 22), current.clone()];
        build(
            &ReportInput {
                org: "acme",
                current: &current,
                current_state: state,
                previous,
                history: &history,
                failed_runs: &[],
                disabled_since: &since,
            },
            options,
        )
    }

    fn options() -> ReportOptions {
        ReportOptions::new(t(2026, 11, 24), "retool-audit report")
    }

    #[test]
    fn partly_collected_kinds_are_called_partial_in_the_findings() {
        let mut s = org();
        s.not_collected.insert(
            EntityKind::Grants,
            "partial: direct user grants not collected (too many users); group grants are complete"
                .into(),
        );
        s.not_collected
            .insert(EntityKind::Workflows, "missing scope workflows:read".into());
        let r = run(&s, None, &options());
        let item = r
            .summary
            .iter()
            .find(|i| i.label == "Kinds not collected")
            .map(|i| i.value.to_plain());
        assert_eq!(item.as_deref(), Some("workflows, grants (partial)"));
    }

    #[test]
    fn every_table_has_its_exact_name_and_header_in_order() {
        let s = org();
        let r = run(&s, None, &options());
        let names: Vec<&str> = r.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "users",
                "group_members",
                "access_matrix",
                "group_permissions",
                "effective_access",
                "orphaned_accounts",
                "disabled_accounts",
                "privileged_access",
                "changes"
            ]
        );
        let expect: [(&str, &[&str]); 8] = [
            (
                "users",
                &[
                    "user_id",
                    "email",
                    "first_name",
                    "last_name",
                    "user_type",
                    "is_admin",
                    "status",
                    "two_factor_enabled",
                    "created_at",
                    "last_active",
                    "groups",
                ],
            ),
            (
                "group_members",
                &[
                    "group_id",
                    "group_name",
                    "user_id",
                    "email",
                    "is_group_admin",
                    "user_status",
                ],
            ),
            (
                "access_matrix",
                &["email", "status", "is_admin", "All Users", "DBA", "Eng"],
            ),
            (
                "group_permissions",
                &[
                    "group_id",
                    "group_name",
                    "object_type",
                    "object_id",
                    "object_name",
                    "access_level",
                    "scope",
                ],
            ),
            (
                "effective_access",
                &[
                    "user_id",
                    "email",
                    "object_type",
                    "object_id",
                    "object_name",
                    "access_level",
                    "via",
                ],
            ),
            (
                "orphaned_accounts",
                &[
                    "user_id",
                    "email",
                    "status",
                    "is_admin",
                    "last_active",
                    "reasons",
                ],
            ),
            (
                "disabled_accounts",
                &[
                    "user_id",
                    "email",
                    "is_admin",
                    "groups",
                    "disabled_since",
                    "findings",
                ],
            ),
            (
                "changes",
                &[
                    "from_snapshot",
                    "to_snapshot",
                    "entity_type",
                    "change",
                    "entity_id",
                    "entity_name",
                    "field",
                    "old_value",
                    "new_value",
                    "risk",
                ],
            ),
        ];
        for (name, cols) in expect {
            assert_eq!(header(&r, name), cols.to_vec(), "{name}");
        }
        assert_eq!(
            header(&r, "privileged_access"),
            vec!["user_id", "email", "kind", "detail"]
        );
        for tb in &r.tables {
            for row in &tb.rows {
                assert_eq!(row.len(), tb.columns.len(), "{}", tb.name);
            }
        }
        assert_eq!(r.title, "Retool access review — acme");
        assert_eq!(r.snapshot_date, "2026-11-23");
    }

    #[test]
    fn rows_are_typed_and_sorted() {
        let s = org();
        let r = run(&s, None, &options());
        let users = r.table("users").map(|t| t.rows.clone()).unwrap_or_default();
        assert_eq!(users.len(), 5);
        assert_eq!(users[0][1], Cell::text("alice@example.com"));
        assert_eq!(users[0][5], Cell::Bool(false));
        assert_eq!(users[0][6], Cell::text("active"));
        assert_eq!(users[0][9], Cell::Time(t(2026, 11, 20)));
        assert_eq!(users[0][10], Cell::text("All Users;Eng"));
        assert_eq!(users[4][6], Cell::text("disabled"));

        let matrix = r
            .table("access_matrix")
            .map(|t| t.rows.clone())
            .unwrap_or_default();
        assert_eq!(
            matrix[0],
            vec![
                Cell::text("alice@example.com"),
                Cell::text("active"),
                Cell::Bool(false),
                Cell::text("member"),
                Cell::Empty,
                Cell::text("member")
            ]
        );

        let perms = r
            .table("group_permissions")
            .map(|t| t.rows.clone())
            .unwrap_or_default();
        assert_eq!(
            perms[0],
            vec![
                Cell::Int(1),
                Cell::text("All Users"),
                Cell::text("app"),
                Cell::text("*"),
                Cell::text("(all apps)"),
                Cell::text("use"),
                Cell::text("universal")
            ]
        );
        assert_eq!(perms.len(), 3);

        let eff = r
            .table("effective_access")
            .map(|t| t.rows.clone())
            .unwrap_or_default();
        assert_eq!(eff[1][3], Cell::text("a-ops"));
        assert_eq!(
            eff[1][6],
            Cell::text("folder:Ops via group:Eng;universal:All Users")
        );
        assert!(
            r.table("effective_access")
                .is_some_and(|t| t.description.contains("`*`"))
        );
    }

    #[test]
    fn notices_for_one_snapshot_no_roster_and_missing_grants() {
        let mut s = org();
        s.not_collected
            .insert(EntityKind::Grants, "missing scope permissions:read".into());
        let r = run(&s, None, &options());
        let notice = |n: &str| {
            r.table(n)
                .and_then(|t| t.notice.clone())
                .unwrap_or_default()
        };
        assert_eq!(
            notice("changes"),
            "Only one snapshot (id 2): no earlier snapshot to compare with; take another snapshot to see changes."
        );
        assert!(r.table("changes").is_some_and(|t| t.rows.is_empty()));
        assert!(notice("effective_access").starts_with(
            "Permission grants were not collected: missing scope permissions:read — effective access below omits"
        ));
        assert!(notice("group_permissions").contains("permissions:read"));
        assert!(notice("orphaned_accounts").contains("No HR roster"));
        assert_eq!(notice("users"), "");
        let high = r
            .summary
            .iter()
            .find(|i| i.label == "High-risk changes")
            .map(|i| i.value.clone());
        assert_eq!(high, Some(Cell::text("n/a (one snapshot)")));
    }

    #[test]
    fn changes_summary_and_evidence_with_a_previous_snapshot() {
        let old = org();
        let mut new = org();
        new.users[0].is_admin = true;
        new.grants
            .push(group_grant(1, ObjectType::App, "a-top", AccessLevel::Use));
        new.normalize();
        let prev = meta(1, &old, 22);
        let mut opts = options();
        opts.roster = Roster::parse(b"email\nalice@example.com\n").ok();
        let r = run(&new, Some((&prev, &old)), &opts);
        let ch = r.table("changes").cloned();
        assert_eq!(ch.as_ref().and_then(|t| t.notice.clone()), None);
        let rows = ch.map(|t| t.rows).unwrap_or_default();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0][..4],
            [
                Cell::Int(1),
                Cell::Int(2),
                Cell::text("user"),
                Cell::text("modified")
            ]
        );
        assert_eq!(rows[0][9], Cell::text("high"));
        let value = |label: &str| {
            r.summary
                .iter()
                .find(|i| i.label == label)
                .map(|i| i.value.clone())
        };
        assert_eq!(value("High-risk changes"), Some(Cell::Int(1)));
        assert_eq!(value("Users"), Some(Cell::Int(5)));
        assert_eq!(value("Active users"), Some(Cell::Int(4)));
        assert_eq!(value("Admins"), Some(Cell::Int(2)));
        // bob, carol and the admin dave are not on the roster; erin is disabled.
        assert_eq!(
            value("Orphaned accounts: not_in_roster"),
            Some(Cell::Int(3))
        );
        assert_eq!(
            value("Disabled accounts still in groups"),
            Some(Cell::Int(1))
        );
        assert_eq!(value("changes"), Some(Cell::Int(2)));
        let ev = |section: &str, key: &str| {
            r.evidence
                .iter()
                .find(|e| e.section == section && e.key == key)
                .map(|e| e.value.clone())
        };
        assert_eq!(ev("Snapshot 2", "Content SHA-256").as_deref(), Some("sha2"));
        assert_eq!(
            ev("Snapshot 2", "Previous SHA-256").as_deref(),
            Some("sha1")
        );
        assert_eq!(
            ev("Previous snapshot 1", "Content SHA-256").as_deref(),
            Some("sha1")
        );
        assert_eq!(ev("Snapshot 2", "Records: users").as_deref(), Some("5"));
        assert_eq!(
            ev("Report", "Tool version").as_deref(),
            Some(crate::VERSION)
        );
        assert_eq!(r.charts.len(), 2);
        assert_eq!(r.charts[0].x_labels, vec!["2026-11-22", "2026-11-23"]);
        assert_eq!(r.charts[1].x_labels, vec!["All Users", "DBA", "Eng"]);
    }

    #[test]
    fn matrix_is_capped_to_the_largest_groups_with_a_notice() {
        let s = org();
        let mut opts = options();
        opts.matrix_max_groups = 2;
        let r = run(&s, None, &opts);
        // All Users has 5 members, Eng 3, DBA 1.
        assert_eq!(
            header(&r, "access_matrix")[3..],
            ["All Users".to_string(), "Eng".to_string()]
        );
        assert!(
            r.table("access_matrix")
                .and_then(|t| t.notice.clone())
                .is_some_and(|n| n.contains("3 groups"))
        );
    }
}
