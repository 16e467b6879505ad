//! `usage`: each user's app views and saves over the usage window.

use super::{Column, Context, held, status, t, time};
use crate::analyze::usage::{UsageRow, usage_rows};
use crate::model::EntityKind;
use crate::report::table::{Cell, Rows, Table};

fn window(cx: &Context<'_, '_>, end: bool) -> Cell {
    let w = cx.input.current.info.usage_window;
    Cell::opt(w, |(first, last)| {
        t(if end { last } else { first }
            .format("%Y-%m-%d")
            .to_string())
    })
}

const COLUMNS: &[Column<UsageRow>] = &[
    ("user_id", |_, r| t(r.user_id.clone())),
    ("email", |_, r| t(r.email.clone())),
    ("status", |_, r| match r.active {
        Some(active) => t(status(active)),
        None => t("(not in snapshot)"),
    }),
    ("app_views", |_, r| Cell::Int(r.app_views())),
    ("app_saves", |_, r| Cell::Int(r.app_saves())),
    ("unique_apps", |_, r| {
        Cell::Int(r.usage.as_ref().map_or(0, |u| u.unique_apps))
    }),
    ("usage_last_active", |_, r| {
        time(r.usage.as_ref().and_then(|u| u.last_active))
    }),
    ("window_start", |cx, _| window(cx, false)),
    ("window_end", |cx, _| window(cx, true)),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    let collected = !cx.not_collected.contains_key(&EntityKind::Usage);
    let rows = if collected {
        usage_rows(cx.state)
    } else {
        Vec::new()
    };
    held(
        cx,
        (
            "usage",
            "Usage",
            "Every user's app views, app saves and distinct apps over the usage window \
             (window_start to window_end, whole UTC days; `GET /usage/user_summary`), and \
             the last activity Retool's usage data saw. Zeros: no activity in the window. \
             Figures Retool sent for a user the snapshot does not hold are listed last."
                .to_string(),
        ),
        COLUMNS,
        &rows,
        cx.not_collected_notice(&[(EntityKind::Usage, "no usage figures are shown")]),
    )
}
