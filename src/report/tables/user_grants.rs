//! `user_grants`: direct grants to users (not through a group).

use super::{Column, Context, held, t};
use crate::model::{EntityKind, Grant, Subject};
use crate::report::table::{Cell, Rows, Table};

fn user_id(g: &Grant) -> &str {
    match &g.subject {
        Subject::User(u) => &u.0,
        Subject::Group(_) => "",
    }
}

const COLUMNS: &[Column<Grant>] = &[
    ("user_id", |_, g| t(user_id(g))),
    ("email", |cx, g| match &g.subject {
        Subject::User(u) => match cx.state.user(u) {
            Some(u) => t(u.email.clone()),
            None => t("(not in snapshot)"),
        },
        Subject::Group(_) => Cell::Empty,
    }),
    ("object_type", |_, g| t(g.object.object_type.as_str())),
    ("object_id", |_, g| t(g.object.id.0.clone())),
    ("object_name", |cx, g| {
        t(cx.index.object_name(g.object.object_type, &g.object.id))
    }),
    ("access_level", |_, g| t(g.level.as_str())),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    let rows: Vec<&Grant> = cx
        .state
        .grants
        .iter()
        .filter(|g| matches!(g.subject, Subject::User(_)))
        .collect();
    held(
        cx,
        (
            "user_grants",
            "Direct user grants",
            "Every grant made to a user directly (API 2.7+), not through a group: with \
             group_permissions' direct rows these are all the collected grants."
                .to_string(),
        ),
        COLUMNS,
        rows,
        cx.not_collected_notice(&[(EntityKind::Grants, "direct user grants may be missing")]),
    )
}
