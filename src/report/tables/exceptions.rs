//! `exceptions`: every finding in one list, most severe first, with the
//! evidence that proves it and what to do (see [`crate::analyze::exceptions`]
//! for the catalogue).

use super::{Column, Context, held, t};
use crate::analyze::exceptions::{Exception, ExceptionInput, exceptions};
use crate::report::table::{Expansion, Rows, Table};

const COLUMNS: &[Column<Exception>] = &[
    ("severity", |_, e| t(e.severity().as_str())),
    ("finding", |_, e| t(e.finding.as_str())),
    ("user_id", |_, e| {
        t(e.user_id.as_ref().map_or(String::new(), |u| u.0.clone()))
    }),
    ("email", |_, e| t(e.email.clone())),
    ("subject", |_, e| t(e.subject.clone())),
    ("detail", |_, e| t(e.detail.clone())),
    ("evidence", |_, e| t(e.evidence.clone())),
    ("recommended_action", |_, e| t(e.finding.action())),
];

/// The exceptions of the report's snapshot, computed once into
/// `Context::exceptions` (the table and the per-user cards read them).
pub(super) fn rows(cx: &Context<'_, '_>) -> Vec<Exception> {
    let changes = cx.changes.as_ref().map(|(_, _, changes)| &changes[..]);
    let cross_check = match &cx.input.current.info.cross_check {
        Some(Ok(c)) => Some(c),
        _ => None,
    };
    let mut rows = exceptions(&ExceptionInput {
        state: cx.state,
        snapshot_id: cx.input.current.id,
        changes,
        orphans: &cx.orphans,
        disabled: &cx.disabled,
        privileged: &cx.privileged,
        roster: cx.options.roster.as_ref(),
        cross_check,
        transient: cx.input.transient,
        index: &cx.index,
        as_of: cx.as_of,
        inactive_days: cx.options.inactive_days,
        default_group: &cx.options.default_group,
    });
    if let Expansion::Omitted { .. } = cx.expansion {
        // effective_access is not in this set: point at the tables that are.
        for e in &mut rows {
            if let Some(rest) = e.evidence.strip_prefix("effective_access: ") {
                e.evidence = format!(
                    "group_members, group_permissions, user_grants, role_grants (the sources in \
                     subject; effective_access with --full-effective-access): {rest}"
                );
            }
        }
    }
    rows
}

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    held(
        cx,
        (
            "exceptions",
            "Exceptions",
            "What needs action, most severe first: one row per finding, user and subject, \
             joined from every other table. `evidence` names the table, key and snapshot that \
             prove the row; `recommended_action` says what to do. The catalogue of findings and \
             severities is in the README."
                .to_string(),
        ),
        COLUMNS,
        &cx.exceptions,
        cx.options.roster.is_none().then(|| {
            "No HR roster was given: nobody was checked against it (privileged_not_on_roster, \
             not_on_roster, reenabled_not_on_roster)."
                .to_string()
        }),
    )
}
