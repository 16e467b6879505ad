//! `user_invites`: invitations, pending or not, and the groups they carry
//! (never the invite link).

use super::{Column, Context, held, list, t, time};
use crate::model::{EntityKind, UserInvite};
use crate::report::table::{Cell, Rows, Table};

const COLUMNS: &[Column<UserInvite>] = &[
    ("invite_id", |_, i| Cell::Int(i.id)),
    ("email", |_, i| t(i.email.clone())),
    ("status", |cx, i| t(i.status(cx.as_of))),
    ("groups", |cx, i| {
        list(i.group_ids.iter().map(|g| cx.label(*g)))
    }),
    ("invited_by", |_, i| {
        Cell::opt(i.invited_by.as_ref(), |b| t(b.clone()))
    }),
    ("user_type", |_, i| {
        Cell::opt(i.user_type.as_ref(), |u| t(u.clone()))
    }),
    ("created_at", |_, i| time(i.created_at)),
    ("expires_at", |_, i| time(i.expires_at)),
    ("claimed_by", |_, i| {
        Cell::opt(i.claimed_by.as_ref(), |b| t(b.clone()))
    }),
    ("claimed_at", |_, i| time(i.claimed_at)),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    held(
        cx,
        (
            "user_invites",
            "User invites",
            "Every invitation Retool lists: `pending` (unclaimed and unexpired at the \
             snapshot), `claimed` or `expired`, with the groups it gives on arrival. Invite \
             links are credentials and are never read."
                .to_string(),
        ),
        COLUMNS,
        &cx.state.user_invites,
        cx.not_collected_notice(&[(EntityKind::UserInvites, "the inventory is empty")]),
    )
}
