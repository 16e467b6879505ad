//! Reconciliation: every record count of the Evidence against the rows of
//! the table that lists those records, so a reader can check that nothing
//! collected is missing from the report (and nothing is counted twice).

use std::ops::ControlFlow;

use super::table::{Cell, RowSource, Rows, Section, SummaryItem, Table};
use super::tables::{Context, t};
use crate::model::EntityKind;

/// A table that lists records, and, when only some of its rows count, the
/// column and value that select them.
type Place = (&'static str, Option<(&'static str, &'static str)>);

/// Where a kind's records are listed.
fn listed_in(kind: EntityKind) -> Option<&'static [Place]> {
    Some(match kind {
        EntityKind::Users => &[("users", None)],
        EntityKind::Groups => &[("groups", None)],
        EntityKind::Memberships => &[("group_members", None)],
        EntityKind::Folders => &[("folders", None)],
        EntityKind::Apps => &[("apps", None)],
        EntityKind::Resources => &[("resources", None)],
        EntityKind::Workflows => &[("workflows", None)],
        EntityKind::Grants => &[
            ("group_permissions", Some(("scope", "direct"))),
            ("user_grants", None),
        ],
        EntityKind::UserInvites => &[("user_invites", None)],
        EntityKind::AccessTokens => &[("access_tokens", None)],
        EntityKind::Roles => &[("roles", None)],
        EntityKind::RoleGrants => &[("role_grants", None)],
        EntityKind::AccessRequests => &[("access_requests", None)],
        EntityKind::Settings => &[("security_settings", None)],
        EntityKind::ResourceConfigurations => &[("resource_configurations", None)],
        EntityKind::ConfigurationGrants => &[("resource_environment_access", None)],
        EntityKind::AppUsage => &[("app_usage", None)],
        // Listed per user, zeros included / named inside other tables.
        EntityKind::Usage | EntityKind::Environments => return None,
    })
}

/// Rows of `table` (those whose `column` holds `value`, when given); `None`
/// when the table or column is missing.
fn rows_of(tables: &[Table<Rows<'_>>], table: &str, filter: Option<(&str, &str)>) -> Option<usize> {
    let t = tables.iter().find(|x| x.name == table)?;
    let Some((column, value)) = filter else {
        return Some(t.rows.len());
    };
    let i = t.columns.iter().position(|c| c == column)?;
    let mut n = 0;
    t.rows.for_each_row(0..t.rows.len(), &mut |row: &[Cell]| {
        if row.get(i).is_some_and(|c| c.to_plain() == value) {
            n += 1;
        }
        ControlFlow::Continue(())
    });
    Some(n)
}

/// One summary line per kind (`61 collected = 61 rows in users`), then the
/// verdict.
pub(crate) fn reconciliation(cx: &Context<'_, '_>, tables: &[Table<Rows<'_>>]) -> Vec<SummaryItem> {
    let counts = cx.recorded_counts();
    let mut items = Vec::new();
    let mut mismatches = 0;
    for (kind, n) in &counts {
        let label = format!("Reconciliation: {kind}");
        let value = if cx.not_collected.contains_key(kind) {
            format!("{n} (not collected)")
        } else if let Some(places) = listed_in(*kind) {
            let mut rows = 0;
            let mut missing = None;
            for (table, filter) in places {
                match rows_of(tables, table, *filter) {
                    Some(r) => rows += r,
                    None => missing = Some(*table),
                }
            }
            let names: Vec<String> = places
                .iter()
                .map(|(table, filter)| match filter {
                    Some((c, v)) => format!("{table} ({c} {v})"),
                    None => table.to_string(),
                })
                .collect();
            match missing {
                Some(table) => {
                    mismatches += 1;
                    format!("{n} collected; table {table} is missing from this report")
                }
                None if rows as u64 == *n => {
                    format!("{n} collected = {rows} rows in {}", names.join(" + "))
                }
                None => {
                    mismatches += 1;
                    format!("{n} collected ≠ {rows} rows in {}", names.join(" + "))
                }
            }
        } else if *kind == EntityKind::Usage {
            format!("{n} users with activity, shown per user in usage (every user; zeros for none)")
        } else {
            format!("{n}, named in resource_configurations and resource_environment_access")
        };
        items.push(SummaryItem::new(Section::Reconciliation, &label, t(value)));
    }
    items.push(SummaryItem::new(
        Section::Reconciliation,
        "Reconciliation",
        t(if mismatches == 0 {
            "every collected count equals the rows of its table".to_string()
        } else {
            format!("{mismatches} count(s) do not reconcile")
        }),
    ));
    items
}
