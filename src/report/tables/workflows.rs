//! `workflows`: the workflow inventory.

use super::{Column, Context, held, t, time};
use crate::model::{EntityKind, Workflow};
use crate::report::table::{Cell, Rows, Table};

const COLUMNS: &[Column<Workflow>] = &[
    ("workflow_id", |_, w| t(w.id.0.clone())),
    ("name", |_, w| t(w.name.clone())),
    ("folder_id", |_, w| {
        Cell::opt(w.folder_id.as_ref(), |f| t(f.0.clone()))
    }),
    ("folder_path", |cx, w| cx.folder_path(w.folder_id.as_ref())),
    ("is_enabled", |_, w| Cell::Bool(w.is_enabled)),
    ("protected", |_, w| Cell::Bool(w.protected)),
    ("created_at", |_, w| time(w.created_at)),
    ("updated_at", |_, w| time(w.updated_at)),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    held(
        cx,
        (
            "workflows",
            "Workflows",
            "Every workflow the snapshot holds, by id.".to_string(),
        ),
        COLUMNS,
        &cx.state.workflows,
        cx.not_collected_notice(&[(EntityKind::Workflows, "the inventory is empty")]),
    )
}
