//! `resources`: the resource inventory.

use super::{Column, Context, held, t, time};
use crate::model::{EntityKind, Resource};
use crate::report::table::{Cell, Rows, Table};

const COLUMNS: &[Column<Resource>] = &[
    ("resource_id", |_, r| t(r.id.0.clone())),
    ("name", |_, r| t(r.name.clone())),
    ("resource_type", |_, r| t(r.resource_type.clone())),
    ("folder_id", |_, r| {
        Cell::opt(r.folder_id.as_ref(), |f| t(f.0.clone()))
    }),
    ("folder_path", |cx, r| cx.folder_path(r.folder_id.as_ref())),
    ("protected", |_, r| Cell::Bool(r.protected)),
    ("created_at", |_, r| time(r.created_at)),
    ("updated_at", |_, r| time(r.updated_at)),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    held(
        cx,
        (
            "resources",
            "Resources",
            "Every resource (database, API, ...) the snapshot holds, by id; its connection \
             settings are never read."
                .to_string(),
        ),
        COLUMNS,
        &cx.state.resources,
        cx.not_collected_notice(&[(EntityKind::Resources, "the inventory is empty")]),
    )
}
