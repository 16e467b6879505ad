//! `folders`: the folder inventory, with paths and how much each holds.

use super::{Column, Context, count, held, t};
use crate::analyze::inventory::folder_items;
use crate::model::{EntityKind, Folder};
use crate::report::table::{Cell, Rows, Table};

/// A folder and how many items sit directly in it.
type Row<'r> = (&'r Folder, usize);

fn columns<'r>() -> [Column<Row<'r>>; 7] {
    [
        ("folder_id", |_, (f, _)| t(f.id.0.clone())),
        ("name", |_, (f, _)| t(f.name.clone())),
        ("folder_type", |_, (f, _)| t(f.folder_type.clone())),
        ("parent_id", |_, (f, _)| {
            Cell::opt(f.parent_id.as_ref(), |p| t(p.0.clone()))
        }),
        ("path", |cx, (f, _)| cx.folder_path(Some(&f.id))),
        ("is_system_folder", |_, (f, _)| {
            Cell::Bool(f.is_system_folder)
        }),
        ("items", |_, (_, n)| count(*n)),
    ]
}

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    let items = folder_items(cx.state);
    let rows: Vec<Row<'_>> = cx
        .state
        .folders
        .iter()
        .map(|f| (f, items.get(&f.id).copied().unwrap_or(0)))
        .collect();
    held(
        cx,
        (
            "folders",
            "Folders",
            "Every folder (by id) with its path from the root and how many apps, resources, \
             workflows and folders sit directly in it. A folder grant reaches the items \
             directly inside, not those of its sub-folders."
                .to_string(),
        ),
        &columns(),
        &rows,
        cx.not_collected_notice(&[(EntityKind::Folders, "the inventory is empty")]),
    )
}
