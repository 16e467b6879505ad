//! `users`: every user account with the groups it is in.

use super::{Column, Context, held, list, status, t, time};
use crate::model::User;
use crate::report::table::{Cell, Rows, Table};

const COLUMNS: &[Column<User>] = &[
    ("user_id", |_, u| t(u.id.0.clone())),
    ("email", |_, u| t(u.email.clone())),
    ("first_name", |_, u| {
        Cell::opt(u.first_name.clone(), Cell::Text)
    }),
    ("last_name", |_, u| {
        Cell::opt(u.last_name.clone(), Cell::Text)
    }),
    ("user_type", |_, u| t(u.user_type.clone())),
    ("is_admin", |_, u| Cell::Bool(u.is_admin)),
    ("status", |_, u| t(status(u.active))),
    ("two_factor_enabled", |_, u| {
        Cell::opt(u.two_factor_enabled, Cell::Bool)
    }),
    ("created_at", |_, u| time(u.created_at)),
    ("last_active", |_, u| time(u.last_active)),
    ("groups", |cx, u| {
        let mut groups: Vec<String> = cx
            .user_groups
            .get(&u.id)
            .into_iter()
            .flatten()
            .map(|(g, _)| cx.label(*g))
            .collect();
        groups.sort();
        groups.dedup();
        list(groups)
    }),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    held(
        cx,
        (
            "users",
            "Users",
            "Every user account in the snapshot, active and disabled, with the groups it is in \
             (`;`-separated). An empty two_factor_enabled or last_active means the API did not \
             say or the user never logged in."
                .to_string(),
        ),
        COLUMNS,
        cx.users_sorted.iter().copied(),
        None,
    )
}
