//! `access_tokens`: the API token inventory — labels, scopes and owners,
//! never a token.

use super::{Column, Context, held, list, t, time};
use crate::model::{AccessToken, EntityKind, User};
use crate::report::table::{Cell, Rows, Table};

/// A token and its owner, when the snapshot holds them.
type Row<'r> = (&'r AccessToken, Option<&'r User>);

fn columns<'r>() -> [Column<Row<'r>>; 10] {
    [
        ("token_id", |_, (tk, _)| t(tk.id.clone())),
        ("label", |_, (tk, _)| t(tk.label.clone())),
        ("last4", |_, (tk, _)| t(tk.last4.clone())),
        ("owner_user_id", |_, (_, u)| {
            Cell::opt(*u, |u| t(u.id.0.clone()))
        }),
        ("owner_email", |_, (tk, u)| match (u, tk.owner_legacy_id) {
            (Some(u), _) => t(u.email.clone()),
            (None, Some(l)) => t(format!("(legacy id {l} not in snapshot)")),
            (None, None) => Cell::Empty,
        }),
        ("owner_status", |_, (_, u)| {
            Cell::opt(*u, |u| t(super::status(u.active)))
        }),
        ("scopes", |_, (tk, _)| list(&tk.scopes)),
        ("write_scopes", |_, (tk, _)| {
            Cell::Bool(!tk.write_scopes().is_empty())
        }),
        ("created_at", |_, (tk, _)| time(tk.created_at)),
        ("updated_at", |_, (tk, _)| time(tk.updated_at)),
    ]
}

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    let by_legacy = cx.state.users_by_legacy_id();
    let rows: Vec<Row<'_>> = cx
        .state
        .access_tokens
        .iter()
        .map(|tk| {
            (
                tk,
                tk.owner_legacy_id.and_then(|l| by_legacy.get(&l).copied()),
            )
        })
        .collect();
    held(
        cx,
        (
            "access_tokens",
            "API access tokens",
            "Every API access token's metadata: label, last four characters, owner and \
             scopes (`write_scopes` when any ends in `:write`). The token itself is never \
             read."
                .to_string(),
        ),
        &columns(),
        &rows,
        cx.not_collected_notice(&[(EntityKind::AccessTokens, "the inventory is empty")]),
    )
}
