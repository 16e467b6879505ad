//! `app_usage`: who viewed and who saved each app over the usage window
//! (`--usage-details`), beside each user's effective level on the app.

use super::{Column, Context, held, t};
use crate::analyze::usage::{AppUsageRow, app_usage_rows};
use crate::model::EntityKind;
use crate::report::table::{Cell, Rows, Table};

/// The columns, for rows borrowing from the state for `'r`.
fn columns<'r>() -> [Column<AppUsageRow<'r>>; 7] {
    [
        ("user_id", |_, r| {
            t(r.user.map_or(r.usage.user_id.as_str(), |u| u.id.0.as_str()))
        }),
        ("email", |_, r| {
            t(r.user.map_or(r.usage.email.as_str(), |u| u.email.as_str()))
        }),
        ("app_id", |_, r| t(r.usage.app_id.clone())),
        ("app_name", |_, r| {
            t(r.app_name.unwrap_or("(app not in snapshot)"))
        }),
        ("views", |_, r| Cell::Int(r.usage.views)),
        ("saves", |_, r| Cell::Int(r.usage.saves)),
        ("access_level", |_, r| match (r.user, r.access_level) {
            (None, _) => t("(user not in snapshot)"),
            (Some(_), Some(level)) => t(level.as_str()),
            (Some(_), None) => Cell::Empty,
        }),
    ]
}

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    let rows = if cx.not_collected.contains_key(&EntityKind::AppUsage) {
        Vec::new()
    } else {
        app_usage_rows(cx.state, &cx.index)
    };
    held(
        cx,
        (
            "app_usage",
            "Usage per app",
            "Each user's views and saves of each app over the usage window (`GET \
             /usage/app_details`, read with --usage-details), beside the user's effective \
             access level on the app: edit or own with no saves is access the user did not \
             exercise. Users with no activity on an app are not listed."
                .to_string(),
        ),
        &columns(),
        &rows,
        cx.not_collected_notice(&[(EntityKind::AppUsage, "no per-app figures are shown")]),
    )
}
