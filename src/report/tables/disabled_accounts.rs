//! `disabled_accounts`: disabled accounts and the access they would regain.

use super::{Column, Context, held, list, t, time};
use crate::analyze::accounts::DisabledAccount;
use crate::report::table::{Cell, Rows, Table};

const COLUMNS: &[Column<DisabledAccount>] = &[
    ("user_id", |_, d| t(d.user_id.0.clone())),
    ("email", |_, d| t(d.email.clone())),
    ("is_admin", |_, d| Cell::Bool(d.is_admin)),
    ("groups", |_, d| list(&d.groups)),
    ("last_seen_active", |_, d| {
        time(d.last_seen_active.map(|s| s.taken_at))
    }),
    ("disabled_since", |_, d| {
        time(d.disabled_since.map(|s| s.taken_at))
    }),
    ("findings", |_, d| {
        list(d.findings.iter().map(|f| f.as_str()))
    }),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    held(
        cx,
        (
            "disabled_accounts",
            "Disabled accounts",
            format!(
                "Every disabled account with the groups it is still in. The account was \
                 disabled between last_seen_active (the last snapshot that saw it active) and \
                 disabled_since (the first snapshot of its current disabled run); both are \
                 empty when it was already disabled in the first snapshot the history holds, \
                 last_seen_active alone when it was never seen active. \
                 Findings: still_admin, still_in_groups (a group other than `{}`).",
                cx.options.default_group
            ),
        ),
        COLUMNS,
        &cx.disabled,
        cx.membership_notice(),
    )
}
