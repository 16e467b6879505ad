//! `effective_access`: per active user and object type the level held on every
//! object, and the single objects where more is held; rows produced user by
//! user while written.

use std::ops::{ControlFlow, Range};
use std::sync::Arc;

use super::Context;
use crate::analyze::access::{AccessIndex, AccessRow, effective_access_users};
use crate::model::{EntityKind, User};
use crate::report::table::{Cell, RowSource, Rows, Table};

/// A column and how it is filled from the user and one of the user's access
/// rows (the cell is reused from row to row).
type Fill = fn(&User, &AccessRow<'_>, &mut String);

const COLUMNS: [(&str, Fill); 8] = [
    ("user_id", |u, _, c| c.push_str(&u.id.0)),
    ("email", |u, _, c| c.push_str(&u.email)),
    ("object_type", |_, r, c| c.push_str(r.object_type.as_str())),
    ("object_id", |_, r, c| {
        c.push_str(r.object_id.map_or("*", |o| o.0.as_str()))
    }),
    ("object_name", |_, r, c| c.push_str(r.object_name)),
    ("access_level", |_, r, c| c.push_str(r.level.as_str())),
    ("determining_source", |_, r, c| {
        r.write_determining_source(c)
    }),
    ("via", |_, r, c| r.write_via(c)),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    Table {
        name: "effective_access".into(),
        title: "Effective access".into(),
        description: "Active users only, access only (no row says `none`). For each user and \
                      object type (app, resource, workflow) one row with object_id `*` states \
                      the level the user holds on ALL objects of that type (from admin, universal \
                      group access and roles granted on no object), when there is one; further \
                      rows list only the single objects where group, folder, direct or role \
                      grants give MORE than that. A user's level on an object not listed is the \
                      `*` row's level, or none without one. `determining_source` is the source \
                      that sets the level; `via` names every source that grants anything, \
                      highest level first: admin, universal:<group>, group:<group>, folder:<folder> via \
                      group:<group> (a folder grant reaches items directly inside the folder, \
                      not its subfolders), direct, role:<role> or role:<role> via group:<group> \
                      (at the level the role's object scopes give; see the roles table)."
            .into(),
        columns: COLUMNS.iter().map(|(name, _)| name.to_string()).collect(),
        rows: Rows::Streamed(Box::new(EffectiveAccessRows::new(
            Arc::clone(&cx.index),
            effective_access_users(cx.state),
        ))),
        notice: cx.not_collected_notice(&[
            (
                EntityKind::Grants,
                "effective access below omits group, folder and direct grants",
            ),
            (
                EntityKind::RoleGrants,
                "effective access below omits access through roles",
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
        ]),
    }
}

/// The rows, produced user by user from the access index.
struct EffectiveAccessRows<'a> {
    index: Arc<AccessIndex<'a>>,
    users: Vec<&'a User>,
    /// `starts[i]` is the first row of `users[i]`; the last entry is the total.
    starts: Vec<usize>,
}

impl<'a> EffectiveAccessRows<'a> {
    fn new(index: Arc<AccessIndex<'a>>, users: Vec<&'a User>) -> Self {
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
        let mut cells: Vec<Cell> = COLUMNS.iter().map(|_| Cell::Text(String::new())).collect();
        for (u, &start) in self.users.iter().zip(&self.starts).skip(first) {
            if start >= range.end {
                break;
            }
            let mut n = start;
            let mut stopped = false;
            self.index.for_each_row(u, |row| {
                if !stopped && range.contains(&n) {
                    for (cell, (_, fill)) in cells.iter_mut().zip(&COLUMNS) {
                        if let Cell::Text(text) = cell {
                            text.clear();
                            fill(u, row, text);
                        }
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
