//! `object_access`: who can reach each app, resource and workflow, subject
//! by subject (see [`crate::analyze::object_access`]).

use super::{Column, Context, count, held, t};
use crate::analyze::access::all_objects_name;
use crate::analyze::object_access::{ObjectAccess, object_access};
use crate::model::EntityKind;
use crate::report::table::{Rows, Table};

const COLUMNS: &[Column<ObjectAccess>] = &[
    ("object_type", |_, r| t(r.object_type.as_str())),
    ("object_id", |_, r| {
        t(r.object.as_ref().map_or("*", |o| o.0.as_str()))
    }),
    ("object_name", |cx, r| match &r.object {
        Some(id) => t(cx.index.object_name(r.object_type, id)),
        None => t(all_objects_name(r.object_type)),
    }),
    ("subject_type", |_, r| t(r.subject_type.as_str())),
    ("subject_id", |_, r| t(r.subject_id.clone())),
    ("subject_name", |_, r| t(r.subject_name.clone())),
    ("access_level", |_, r| t(r.access_level.as_str())),
    ("through", |_, r| t(r.through.clone())),
    ("active_users_reached", |_, r| count(r.active_users_reached)),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    held(
        cx,
        (
            "object_access",
            "Who can reach each object",
            "Per app, resource and workflow, every subject that reaches it, as Retool's \
             permission screen lists them: org admins (own), a group's universal level, a \
             group's grant on the object or on the folder directly containing it (`through` \
             folder:<name>), a direct user grant, a role (`<role> → <holder>`). What reaches \
             every object of a type — admins, universal levels, roles granted on no object — \
             is one row with object_id `*`. `active_users_reached` counts the active users the \
             subject stands for; effective_access has the per-user result."
                .to_string(),
        ),
        COLUMNS,
        &object_access(cx.state),
        cx.not_collected_notice(&[
            (
                EntityKind::Grants,
                "grants on objects and folders are missing below",
            ),
            (
                EntityKind::RoleGrants,
                "access through roles is missing below",
            ),
        ]),
    )
}
