//! `access_requests`: requests to join the organization and who decided them.

use std::collections::HashMap;

use super::{Column, Context, held, t, time};
use crate::model::{AccessRequest, EntityKind, UserId};
use crate::report::table::{Cell, Rows, Table};

/// A request with the requester's account, found once per table (by
/// e-mail, case-insensitively) rather than by a scan of every user per row.
struct Request {
    request: AccessRequest,
    account: Option<UserId>,
}

const COLUMNS: &[Column<Request>] = &[
    ("request_id", |_, r| Cell::Int(r.request.id)),
    ("requesting_email", |_, r| {
        t(r.request.requesting_email.clone())
    }),
    ("status", |_, r| t(r.request.status.to_lowercase())),
    ("created_at", |_, r| time(r.request.created_at)),
    ("updated_at", |_, r| time(r.request.updated_at)),
    ("decided_by_id", |_, r| {
        Cell::opt(r.request.updated_by_id.clone(), Cell::Text)
    }),
    ("decided_by_email", |cx, r| {
        let by = r
            .request
            .updated_by_id
            .as_ref()
            .and_then(|id| cx.state.user(&UserId(id.clone())));
        Cell::opt(by, |u| t(u.email.clone()))
    }),
    ("user_id", |_, r| {
        Cell::opt(r.account.as_ref(), |u| t(u.0.clone()))
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
        &requests(cx),
        cx.not_collected_notice(&[(
            EntityKind::AccessRequests,
            "the approval trail is not shown",
        )]),
    )
}

/// The requests, newest first, each with the account its e-mail holds now.
fn requests(cx: &Context<'_, '_>) -> Vec<Request> {
    // The first user by e-mail, then id, when two share an address.
    let mut by_email: HashMap<String, &UserId> = HashMap::new();
    for u in &cx.users_sorted {
        by_email.entry(u.email.to_lowercase()).or_insert(&u.id);
    }
    let mut out: Vec<Request> = cx
        .state
        .access_requests
        .iter()
        .map(|r| Request {
            request: r.clone(),
            account: by_email
                .get(&r.requesting_email.to_lowercase())
                .map(|id| (*id).clone()),
        })
        .collect();
    out.sort_by_key(|r| std::cmp::Reverse((r.request.created_at, r.request.id)));
    out
}
