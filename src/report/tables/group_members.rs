//! `group_members`: one row per membership of a user in a group.

use super::{Column, Context, held, status, t};
use crate::model::{GroupId, UserId};
use crate::report::table::{Cell, Rows, Table};

/// One membership; the fields in sort order.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Member {
    group_name: String,
    group_id: GroupId,
    email: String,
    user_id: UserId,
    is_group_admin: bool,
    user_status: &'static str,
}

const COLUMNS: &[Column<Member>] = &[
    ("group_id", |_, m| Cell::Int(m.group_id.0)),
    ("group_name", |_, m| t(m.group_name.clone())),
    ("user_id", |_, m| t(m.user_id.0.clone())),
    ("email", |_, m| t(m.email.clone())),
    ("is_group_admin", |_, m| Cell::Bool(m.is_group_admin)),
    ("user_status", |_, m| t(m.user_status)),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    let state = cx.state;
    let mut members: Vec<Member> = state
        .memberships
        .iter()
        .map(|m| {
            let (email, user_status) = match state.user(&m.user_id) {
                Some(u) => (u.email.clone(), status(u.active)),
                None => (String::new(), "not in snapshot"),
            };
            Member {
                group_name: cx.label(m.group_id),
                group_id: m.group_id,
                email,
                user_id: m.user_id.clone(),
                is_group_admin: m.is_group_admin,
                user_status,
            }
        })
        .collect();
    members.sort();
    held(
        cx,
        (
            "group_members",
            "Group members",
            "One row per membership of a user in a permission group, including the built-in \
             default group. user_status `not in snapshot` marks a member the user list does not \
             hold."
                .to_string(),
        ),
        COLUMNS,
        &members,
        cx.membership_notice(),
    )
}
