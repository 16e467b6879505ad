//! `groups`: the permission groups, their size and universal levels.

use std::collections::HashMap;

use super::{Column, Context, count, held, t, time};
use crate::model::{Group, GroupId};
use crate::report::table::{Rows, Table};

/// A group with its members and group admins counted.
type Row<'r> = (&'r Group, usize, usize);

fn columns<'r>() -> [Column<Row<'r>>; 10] {
    [
        ("group_id", |_, (g, _, _)| {
            crate::report::table::Cell::Int(g.id.0)
        }),
        ("name", |_, (g, _, _)| t(g.name.clone())),
        ("members", |_, (_, n, _)| count(*n)),
        ("group_admins", |_, (_, _, n)| count(*n)),
        ("universal_app_access", |_, (g, _, _)| {
            t(g.universal_app_access.as_str())
        }),
        ("universal_resource_access", |_, (g, _, _)| {
            t(g.universal_resource_access.as_str())
        }),
        ("universal_workflow_access", |_, (g, _, _)| {
            t(g.universal_workflow_access.as_str())
        }),
        ("universal_query_library_access", |_, (g, _, _)| {
            t(g.universal_query_library_access.as_str())
        }),
        ("created_at", |_, (g, _, _)| time(g.created_at)),
        ("updated_at", |_, (g, _, _)| time(g.updated_at)),
    ]
}

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    let mut sizes: HashMap<GroupId, (usize, usize)> = HashMap::new();
    for m in &cx.state.memberships {
        let e = sizes.entry(m.group_id).or_default();
        e.0 += 1;
        e.1 += usize::from(m.is_group_admin);
    }
    let rows: Vec<Row<'_>> = cx
        .state
        .groups
        .iter()
        .map(|g| {
            let (members, admins) = sizes.get(&g.id).copied().unwrap_or_default();
            (g, members, admins)
        })
        .collect();
    held(
        cx,
        (
            "groups",
            "Groups",
            "Every permission group with its number of members and group admins and its \
             universal levels (what every member holds on every app, resource, workflow \
             and the query library)."
                .to_string(),
        ),
        &columns(),
        &rows,
        cx.membership_notice(),
    )
}
