//! `transient_access`: access that appeared after the `--since` snapshot and
//! was gone again by the reported one, seen in the snapshots in between.

use super::{Column, Context, held, t, time};
use crate::model::{AccessLevel, TransientAccess, TransientKind};
use crate::report::table::{Cell, Rows, Table};

/// How much a transient access matters: admin rights and edit/own are
/// `high`, as for the same access granted and kept.
fn risk(a: &TransientAccess) -> &'static str {
    match (a.kind, a.level) {
        (TransientKind::Admin | TransientKind::GroupAdmin, _) => "high",
        (
            TransientKind::Grant | TransientKind::Universal | TransientKind::EnvironmentAccess,
            Some(level),
        ) if level >= AccessLevel::Edit => "high",
        _ => "medium",
    }
}

const COLUMNS: &[Column<TransientAccess>] = &[
    ("user_id", |_, a| {
        Cell::opt(a.user_id.as_ref(), |u| t(u.0.clone()))
    }),
    ("email", |_, a| t(a.email.clone())),
    ("kind", |_, a| t(a.kind.as_str())),
    ("subject", |_, a| t(a.subject.clone())),
    ("access_level", |_, a| Cell::opt(a.level, |l| t(l.as_str()))),
    ("first_seen_snapshot", |_, a| Cell::Int(a.first_seen.id)),
    ("first_seen_at", |_, a| time(Some(a.first_seen.taken_at))),
    ("last_seen_snapshot", |_, a| Cell::Int(a.last_seen.id)),
    ("last_seen_at", |_, a| time(Some(a.last_seen.taken_at))),
    ("duration_hours", |_, a| {
        Cell::Int((a.last_seen.taken_at - a.first_seen.taken_at).num_hours())
    }),
    ("risk", |_, a| t(risk(a))),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    let default_group = &cx.options.default_group;
    // A membership of the default group comes and goes with the account:
    // the account's other rows say what it held.
    let rows = cx.input.transient.iter().filter(|a| {
        !(a.kind == TransientKind::Membership && a.subject.eq_ignore_ascii_case(default_group))
    });
    let since = cx.changes.as_ref().map(|(m, _, _)| m.id);
    let notice = match since {
        None => Some("No --since snapshot: nothing to walk.".to_string()),
        Some(_) => None,
    };
    held(
        cx,
        (
            "transient_access",
            "Access that came and went",
            format!(
                "Access that appeared after the --since snapshot{} and was gone again by the \
                 reported one, found by walking every snapshot in between: an admin flag, a \
                 group-admin flag, a membership (not of `{default_group}`), a grant (per \
                 level), a role, a group's universal level on an object type or its access to \
                 an environment's configuration of a resource (per level). duration_hours is the time between the first and the last \
                 snapshot that saw it (whole hours): the access lasted at least that long, and \
                 at most until the snapshots around it. Access that came and went between two \
                 consecutive snapshots is invisible.",
                since.map(|s| format!(" ({s})")).unwrap_or_default()
            ),
        ),
        COLUMNS,
        rows,
        notice,
    )
}
