//! `apps`: the app inventory, with each app's folder path.

use super::{Column, Context, held, t, time};
use crate::model::{App, EntityKind};
use crate::report::table::{Cell, Rows, Table};

const COLUMNS: &[Column<App>] = &[
    ("app_id", |_, a| t(a.id.0.clone())),
    ("name", |_, a| t(a.name.clone())),
    ("folder_id", |_, a| {
        Cell::opt(a.folder_id.as_ref(), |f| t(f.0.clone()))
    }),
    ("folder_path", |cx, a| cx.folder_path(a.folder_id.as_ref())),
    ("is_module", |_, a| Cell::Bool(a.is_module)),
    ("protected", |_, a| Cell::Bool(a.protected)),
    ("created_at", |_, a| time(a.created_at)),
    ("updated_at", |_, a| time(a.updated_at)),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    held(
        cx,
        (
            "apps",
            "Apps",
            "Every app the snapshot holds (by id), with the path of its folder: the objects \
             effective_access and group_permissions name."
                .to_string(),
        ),
        COLUMNS,
        &cx.state.apps,
        cx.not_collected_notice(&[(EntityKind::Apps, "the inventory is empty")]),
    )
}
