//! `group_permissions`: every grant a group holds, on single objects and
//! universal.

use super::{Column, Context, held, t};
use crate::analyze::access::{ACCESS_OBJECT_TYPES, all_objects_name};
use crate::model::{AccessLevel, EntityKind, GroupId, Subject};
use crate::report::table::{Cell, Rows, Table};

/// One grant; the fields in sort order.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Permission {
    group_name: String,
    group_id: GroupId,
    object_type: &'static str,
    object_id: String,
    object_name: String,
    level: AccessLevel,
    scope: &'static str,
}

const COLUMNS: &[Column<Permission>] = &[
    ("group_id", |_, p| Cell::Int(p.group_id.0)),
    ("group_name", |_, p| t(p.group_name.clone())),
    ("object_type", |_, p| t(p.object_type)),
    ("object_id", |_, p| t(p.object_id.clone())),
    ("object_name", |_, p| t(p.object_name.clone())),
    ("access_level", |_, p| t(p.level.as_str())),
    ("scope", |_, p| t(p.scope)),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    let mut perms: Vec<Permission> = Vec::new();
    for g in &cx.state.groups {
        for ot in ACCESS_OBJECT_TYPES {
            let level = g.universal_access(ot);
            if level > AccessLevel::None {
                perms.push(Permission {
                    group_name: cx.label(g.id),
                    group_id: g.id,
                    object_type: ot.as_str(),
                    object_id: "*".into(),
                    object_name: all_objects_name(ot).into(),
                    level,
                    scope: "universal",
                });
            }
        }
    }
    for gr in &cx.state.grants {
        if let Subject::Group(gid) = gr.subject {
            perms.push(Permission {
                group_name: cx.label(gid),
                group_id: gid,
                object_type: gr.object.object_type.as_str(),
                object_id: gr.object.id.0.clone(),
                object_name: cx
                    .index
                    .object_name(gr.object.object_type, &gr.object.id)
                    .to_string(),
                level: gr.level,
                scope: "direct",
            });
        }
    }
    perms.sort();
    held(
        cx,
        (
            "group_permissions",
            "Group permissions",
            "Every grant a group holds: `direct` rows are grants on one folder, app, resource or \
             workflow; `universal` rows (object_id `*`) are the group's level on every app, \
             resource or workflow. A folder grant reaches the items directly inside that folder."
                .to_string(),
        ),
        COLUMNS,
        &perms,
        cx.not_collected_notice(&[
            (
                EntityKind::Grants,
                "only universal access is listed below, not grants on single objects",
            ),
            (EntityKind::Folders, "folder names are missing below"),
            (EntityKind::Apps, "app names are missing below"),
            (EntityKind::Resources, "resource names are missing below"),
            (EntityKind::Workflows, "workflow names are missing below"),
        ]),
    )
}
