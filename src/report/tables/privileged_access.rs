//! `privileged_access`: admins, group admins, broad universal access, resource
//! owners, write tokens and pending invitations.

use super::{Column, Context, held, t};
use crate::analyze::accounts::PrivilegedEntry;
use crate::model::EntityKind;
use crate::report::table::{Cell, Rows, Table};

const COLUMNS: &[Column<PrivilegedEntry>] = &[
    ("user_id", |_, p| {
        Cell::opt(p.user_id.as_ref(), |u| t(u.0.clone()))
    }),
    ("email", |_, p| t(p.email.clone())),
    ("kind", |_, p| t(p.kind.as_str())),
    ("group_id", |_, p| Cell::opt(p.group_id, |g| Cell::Int(g.0))),
    ("detail", |_, p| t(p.detail.clone())),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    held(
        cx,
        (
            "privileged_access",
            "Privileged access",
            "Active admins (admin), group admins (group_admin), universal edit/own through a \
             group (universal_access), own on a resource (resource_owner), API tokens with a \
             `:write` scope (write_token; user_id is the owner when known), unclaimed, \
             unexpired invitations that carry group membership (pending_invite; no user_id yet) \
             and custom roles with an organization scope that changes something (role: e.g. \
             users:manage, held directly or through a group). `group_id` is the group the \
             privilege comes through, when it comes through one."
                .to_string(),
        ),
        COLUMNS,
        &cx.privileged,
        cx.not_collected_notice(&[
            (EntityKind::Grants, "resource owners are not listed below"),
            (EntityKind::AccessTokens, "API tokens are not listed below"),
            (
                EntityKind::UserInvites,
                "pending invitations are not listed below",
            ),
            (
                EntityKind::RoleGrants,
                "privilege through custom roles is not listed below",
            ),
            (
                EntityKind::Roles,
                "privilege through custom roles is not listed below",
            ),
        ]),
    )
}
