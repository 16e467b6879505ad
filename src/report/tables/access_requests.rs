//! `access_requests`: requests to join the organization and who decided them.

use super::{Column, Context, held, t, time};
use crate::model::{AccessRequest, EntityKind, UserId};
use crate::report::table::{Cell, Rows, Table};

const COLUMNS: &[Column<AccessRequest>] = &[
    ("request_id", |_, r| Cell::Int(r.id)),
    ("requesting_email", |_, r| t(r.requesting_email.clone())),
    ("status", |_, r| t(r.status.to_lowercase())),
    ("created_at", |_, r| time(r.created_at)),
    ("updated_at", |_, r| time(r.updated_at)),
    ("decided_by_id", |_, r| {
        Cell::opt(r.updated_by_id.clone(), Cell::Text)
    }),
    ("decided_by_email", |cx, r| {
        let by = r
            .updated_by_id
            .as_ref()
            .and_then(|id| cx.state.user(&UserId(id.clone())));
        Cell::opt(by, |u| t(u.email.clone()))
    }),
    ("user_id", |cx, r| {
        let email = r.requesting_email.to_lowercase();
        let user = cx
            .users_sorted
            .iter()
            .find(|u| u.email.to_lowercase() == email);
        Cell::opt(user, |u| t(u.id.0.clone()))
    }),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    held(
        cx,
        (
            "access_requests",
            "Access requests",
            "Every request to join the organization (API 2.3+), newest first: `pending`, \
             `approved` or `denied`, who decided it (decided_by_id, and the e-mail when that \
             user is in the snapshot) and, in user_id, the account the requester holds now."
                .to_string(),
        ),
        COLUMNS,
        {
            let mut requests: Vec<&AccessRequest> = cx.state.access_requests.iter().collect();
            requests.sort_by_key(|r| std::cmp::Reverse((r.created_at, r.id)));
            requests
        },
        cx.not_collected_notice(&[(
            EntityKind::AccessRequests,
            "the approval trail is not shown",
        )]),
    )
}
