//! `changes`: what changed since the previous snapshot, field by field, with a
//! risk rating.

use super::{Column, Context, held, kind_label, t};
use crate::analyze::changes::SeenChange;
use crate::model::EntityKind;
use crate::report::table::{Cell, Rows, Table, format_time};

const COLUMNS: &[Column<SeenChange>] = &[
    ("from_snapshot", |cx, _| {
        Cell::opt(cx.changes.as_ref(), |(previous, _, _)| {
            Cell::Int(previous.id)
        })
    }),
    ("to_snapshot", |cx, _| Cell::Int(cx.input.current.id)),
    ("seen_in_snapshot", |_, c| Cell::Int(c.seen_in)),
    ("seen_at", |_, c| Cell::Time(c.seen_at)),
    ("entity_type", |_, c| t(c.change.entity_type.as_str())),
    ("change", |_, c| t(c.change.change.as_str())),
    ("entity_id", |_, c| t(c.change.entity_id.clone())),
    ("entity_name", |_, c| t(c.change.entity_name.clone())),
    ("field", |_, c| t(c.change.field.clone())),
    ("old_value", |_, c| t(c.change.old_value.clone())),
    ("new_value", |_, c| t(c.change.new_value.clone())),
    ("risk", |_, c| t(c.change.risk.as_str())),
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
    let between: Vec<&crate::model::SnapshotMeta> = cx
        .input
        .history
        .iter()
        .filter(|m| m.id > prev_meta.id && m.id < current.id)
        .collect();
    // Kinds an in-between snapshot did not collect are compared across it.
    let mut across: Vec<String> = Vec::new();
    let how = if cx.input.walked.is_some() {
        for m in &between {
            for k in COMPARED {
                if let Some(why) = m.not_collected.get(&k) {
                    across.push(format!(
                        "{} in snapshot {} ({})",
                        kind_label(k),
                        m.id,
                        why.trim()
                    ));
                }
            }
        }
        format!(
            "compared snapshot by snapshot across the {} snapshots in between, so access \
             granted and taken away again in between has a row for each; seen_in_snapshot and \
             seen_at name the first snapshot that showed the change",
            between.len()
        )
    } else if between.is_empty() {
        "seen_in_snapshot is the reported snapshot".to_string()
    } else {
        format!(
            "the two snapshots compared directly (--endpoints-only): what changed and changed \
             back in the {} snapshots in between is not listed; seen_in_snapshot is the \
             reported snapshot",
            between.len()
        )
    };
    held(
        cx,
        (
            "changes",
            "Changes",
            format!(
                "Changes from snapshot {} ({}) to snapshot {} ({}), {how}: one row per added or removed \
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
        list.iter(),
        notice(&skipped, &across),
    )
}

/// The table's notice: the kinds not compared, and those compared across
/// snapshots that did not collect them.
fn notice(skipped: &[String], across: &[String]) -> Option<String> {
    let mut parts = Vec::new();
    if !skipped.is_empty() {
        parts.push(format!("Not compared: {}.", skipped.join("; ")));
    }
    if !across.is_empty() {
        parts.push(format!(
            "Compared across the snapshots that did not collect them: {}.",
            across.join("; ")
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}
