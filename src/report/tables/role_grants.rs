//! `role_grants`: who holds which role, organization-wide or on one object.

use super::{Column, Context, held, t};
use crate::model::{EntityKind, ObjectId, ObjectType, RoleGrant};
use crate::report::table::{Cell, Rows, Table};

fn role_name(cx: &Context<'_, '_>, g: &RoleGrant) -> Cell {
    match cx.state.roles.iter().find(|r| r.id == g.role_id) {
        Some(r) => t(r.name.clone()),
        None => t("(role not in snapshot)"),
    }
}

fn subject_name(cx: &Context<'_, '_>, g: &RoleGrant) -> Cell {
    if let Some(u) = g.user() {
        return match cx.state.user(&u) {
            Some(u) => t(u.email.clone()),
            None => t("(user not in snapshot)"),
        };
    }
    match g.group() {
        Some(id) => t(cx.label(id)),
        None => Cell::Empty,
    }
}

fn object_name(cx: &Context<'_, '_>, g: &RoleGrant) -> Cell {
    match ObjectType::parse(&g.object_type) {
        Some(ot) if !g.object_id.is_empty() => {
            t(cx.index.object_name(ot, &ObjectId(g.object_id.clone())))
        }
        _ if g.object_type.is_empty() && g.object_id.is_empty() => t("(organization)"),
        _ => Cell::Empty,
    }
}

const COLUMNS: &[Column<RoleGrant>] = &[
    ("role_id", |_, g| t(g.role_id.clone())),
    ("role_name", role_name),
    ("subject_type", |_, g| t(g.subject_type.clone())),
    ("subject_id", |_, g| t(g.subject_id.clone())),
    ("subject_name", subject_name),
    ("object_type", |_, g| t(g.object_type.clone())),
    ("object_id", |_, g| t(g.object_id.clone())),
    ("object_name", object_name),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    held(
        cx,
        (
            "role_grants",
            "Role grants",
            "Every grant of a role to a user or group (API 2.9+): organization-wide (object \
             `(organization)`) or on one object. A group's grant reaches every member; \
             effective_access shows what object roles give as `role:<name>`."
                .to_string(),
        ),
        COLUMNS,
        &cx.state.role_grants,
        cx.not_collected_notice(&[
            (
                EntityKind::RoleGrants,
                "access through roles is not shown here or in effective_access",
            ),
            (EntityKind::Roles, "role names are unknown"),
        ]),
    )
}
