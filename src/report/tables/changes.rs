//! `changes`: what changed since the previous snapshot, field by field, with a
//! risk rating.

use super::{Column, Context, held, kind_label, t};
use crate::analyze::changes::Change;
use crate::model::EntityKind;
use crate::report::table::{Cell, Rows, Table, format_time};

const COLUMNS: &[Column<Change>] = &[
    ("from_snapshot", |cx, _| {
        Cell::opt(cx.changes.as_ref(), |(previous, _, _)| {
            Cell::Int(previous.id)
        })
    }),
    ("to_snapshot", |cx, _| Cell::Int(cx.input.current.id)),
    ("entity_type", |_, c| t(c.entity_type.as_str())),
    ("change", |_, c| t(c.change.as_str())),
    ("entity_id", |_, c| t(c.entity_id.clone())),
    ("entity_name", |_, c| t(c.entity_name.clone())),
    ("field", |_, c| t(c.field.clone())),
    ("old_value", |_, c| t(c.old_value.clone())),
    ("new_value", |_, c| t(c.new_value.clone())),
    ("risk", |_, c| t(c.risk.as_str())),
];

/// The kinds compared, in the order the notice names those that were not.
const COMPARED: [EntityKind; 8] = [
    EntityKind::Users,
    EntityKind::Groups,
    EntityKind::Memberships,
    EntityKind::Grants,
    EntityKind::Apps,
    EntityKind::Folders,
    EntityKind::Resources,
    EntityKind::Workflows,
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    let current = cx.input.current;
    let Some((prev_meta, prev_state, list)) = &cx.changes else {
        return held(
            cx,
            (
                "changes",
                "Changes",
                "Changes since the previous snapshot.".to_string(),
            ),
            COLUMNS,
            &[],
            Some(format!(
                "Only one snapshot (id {}): no earlier snapshot to compare with; take another \
                 snapshot to see changes.",
                current.id
            )),
        );
    };
    let mut skipped: Vec<String> = Vec::new();
    for k in COMPARED {
        let why = cx
            .not_collected
            .get(&k)
            .map(|w| format!("not collected in snapshot {}: {}", current.id, w))
            .or_else(|| {
                prev_state
                    .not_collected
                    .get(&k)
                    .or_else(|| prev_meta.not_collected.get(&k))
                    .map(|w| format!("not collected in snapshot {}: {}", prev_meta.id, w))
            });
        if let Some(why) = why {
            skipped.push(format!("{} ({})", kind_label(k), why.trim()));
        }
    }
    held(
        cx,
        (
            "changes",
            "Changes",
            format!(
                "Changes from snapshot {} ({}) to snapshot {} ({}): one row per added or removed \
                 record and per changed field. Risk: high for admin grants, new edit/own access, \
                 re-enabled users and raised universal access; medium for other access gains; \
                 low otherwise. last_active is not compared (it changes daily). Permission \
                 entity_id is <group_id>:<object_type>:<object_id>, or \
                 user:<user_id>:<object_type>:<object_id> for a direct user grant.",
                prev_meta.id,
                format_time(&prev_meta.taken_at()),
                current.id,
                format_time(&cx.as_of)
            ),
        ),
        COLUMNS,
        list,
        (!skipped.is_empty()).then(|| format!("Not compared: {}.", skipped.join("; "))),
    )
}
