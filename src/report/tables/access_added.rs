//! `access_added`: every user, membership, grant and role grant added in the
//! period (and every grant raised), who holds it now, and the approval found
//! for it.

use super::{Column, Context, held, t, time};
use crate::analyze::approvals::{AccessAdded, Approval, access_added};
use crate::model::EntityKind;
use crate::report::table::{Cell, Rows, Table};

const COLUMNS: &[Column<AccessAdded>] = &[
    ("seen_in_snapshot", |_, a| Cell::Int(a.seen.seen_in)),
    ("seen_at", |_, a| Cell::Time(a.seen.seen_at)),
    ("kind", |_, a| t(a.kind.as_str())),
    ("change", |_, a| t(a.how)),
    ("entity_id", |_, a| t(a.seen.change.entity_id.clone())),
    ("entity_name", |_, a| t(a.seen.change.entity_name.clone())),
    ("access", |_, a| t(a.seen.change.new_value.clone())),
    ("user_id", |_, a| {
        Cell::opt(a.user_id.as_ref(), |u| t(u.0.clone()))
    }),
    ("email", |_, a| t(a.email.clone())),
    ("held_now", |_, a| t(a.held_now.clone())),
    ("risk", |_, a| t(a.seen.change.risk.as_str())),
    ("approval", |_, a| t(a.approval.as_str())),
    ("approval_ref", |_, a| match &a.approval {
        Approval::AccessRequest { id, .. } => t(format!("access request {id}")),
        Approval::ReviewKeep(k) => t(format!(
            "review {} (snapshot {})",
            k.campaign, k.snapshot_id
        )),
        Approval::None => Cell::Empty,
    }),
    ("approved_by", |_, a| match &a.approval {
        Approval::AccessRequest { approver, .. } => Cell::opt(approver.clone(), t),
        Approval::ReviewKeep(k) => Cell::opt(k.reviewer.clone(), t),
        Approval::None => Cell::Empty,
    }),
    ("approved_at", |_, a| match &a.approval {
        Approval::AccessRequest { at, .. } => time(*at),
        Approval::ReviewKeep(k) => Cell::opt(k.reviewed_at.clone(), t),
        Approval::None => Cell::Empty,
    }),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    let (rows, mut notes) = match &cx.changes {
        Some((_, _, list)) => (
            access_added(list, cx.state, cx.input.review_keeps),
            Vec::new(),
        ),
        None => (
            Vec::new(),
            vec!["Only one snapshot: nothing was added since an earlier one.".to_string()],
        ),
    };
    if let Some(why) = cx.not_collected.get(&EntityKind::AccessRequests) {
        notes.push(format!(
            "Access requests were not collected ({}): no row can show one as its approval.",
            why.trim()
        ));
    }
    held(
        cx,
        (
            "access_added",
            "Access added and its approval",
            "Every user, membership, grant and role grant that `changes` shows added in the \
             period, and every grant raised, with the snapshot that first showed it, who holds \
             it now (held_now `no`: gone by the reported snapshot; a group's grant or role: the \
             group's members now) and its approval: `access_request` — an approved request to \
             join for the holder's e-mail, decided by seen_at (the latest); `review_keep` — a \
             current keep decision on the access's review row in a campaign whose snapshot held \
             it (the earliest; only memberships, direct grants and accounts have review rows); \
             or `none`."
                .to_string(),
        ),
        COLUMNS,
        &rows,
        (!notes.is_empty()).then(|| notes.join(" ")),
    )
}
