//! `access_matrix`: one row per user, one column per group (the groups with the
//! most members when there are too many), rows produced while written.

use std::collections::HashMap;
use std::ops::{ControlFlow, Range};

use super::{Context, status, t};
use crate::model::{GroupId, User, UserId};
use crate::report::table::{Cell, RowSource, Rows, Table};

/// A column before the groups' and what fills it from the row's user.
type UserColumn = (&'static str, fn(&User) -> Cell);

const USER_COLUMNS: [UserColumn; 3] = [
    ("email", |u| t(u.email.clone())),
    ("status", |u| t(status(u.active))),
    ("is_admin", |u| Cell::Bool(u.is_admin)),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    let mut member_count: HashMap<GroupId, usize> = HashMap::new();
    for m in &cx.state.memberships {
        *member_count.entry(m.group_id).or_default() += 1;
    }
    let mut groups: Vec<GroupId> = cx.state.groups.iter().map(|g| g.id).collect();
    let mut notice = cx.membership_notice();
    let max_groups = cx.options.matrix_max_groups;
    if groups.len() > max_groups {
        groups.sort_by(|a, b| {
            let (ca, cb) = (member_count.get(a), member_count.get(b));
            cb.cmp(&ca).then_with(|| cx.label(*a).cmp(&cx.label(*b)))
        });
        let total = groups.len();
        groups.truncate(max_groups);
        let msg = format!(
            "The organization has {total} groups; the matrix shows the {} with the most members. \
             Every membership is listed in group_members.",
            groups.len()
        );
        notice = Some(match notice {
            Some(n) => format!("{n}. {msg}"),
            None => msg,
        });
    }
    groups.sort_by_key(|g| (cx.label(*g), *g));
    let mut columns: Vec<String> = USER_COLUMNS.iter().map(|(n, _)| n.to_string()).collect();
    columns.extend(groups.iter().map(|g| cx.label(*g)));
    let width = columns.len();
    Table {
        name: "access_matrix".into(),
        title: "Access matrix".into(),
        description: "One row per user, one column per group: `member`, `group admin` or empty."
            .into(),
        columns,
        rows: Rows::Streamed(Box::new(MatrixRows {
            columns: groups
                .iter()
                .enumerate()
                .map(|(i, g)| (*g, USER_COLUMNS.len() + i))
                .collect(),
            users: cx.users_sorted.clone(),
            user_groups: cx.user_groups.clone(),
            width,
        })),
        notice,
    }
}

/// The rows: one per user, produced on demand.
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
            row.extend(USER_COLUMNS.iter().map(|(_, cell)| cell(u)));
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
