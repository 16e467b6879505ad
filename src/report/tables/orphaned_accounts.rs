//! `orphaned_accounts`: accounts nobody seems to own any more.

use super::{Column, Context, held, list, status, t, time};
use crate::analyze::accounts::OrphanedAccount;
use crate::report::table::{Cell, Rows, Table, format_time};

const COLUMNS: &[Column<OrphanedAccount>] = &[
    ("user_id", |_, o| t(o.user_id.0.clone())),
    ("email", |_, o| t(o.email.clone())),
    ("status", |_, o| t(status(o.active))),
    ("is_admin", |_, o| Cell::Bool(o.is_admin)),
    ("last_active", |_, o| time(o.last_active)),
    ("reasons", |_, o| list(o.reasons.iter().map(|r| r.as_str()))),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    let options = cx.options;
    let roster_note = match &options.roster {
        Some(r) => format!("the HR roster holds {} emails", r.len()),
        None => "no HR roster was given".to_string(),
    };
    held(
        cx,
        (
            "orphaned_accounts",
            "Orphaned accounts",
            format!(
                "Accounts with at least one reason: no_groups (in no group but `{}`), \
                 not_in_roster (active, email not on the HR roster; {roster_note}), inactive \
                 (last active more than {} days before the snapshot, {}), never_active (never \
                 logged in).",
                options.default_group,
                options.inactive_days,
                format_time(&cx.as_of)
            ),
        ),
        COLUMNS,
        &cx.orphans,
        options.roster.is_none().then(|| {
            "No HR roster was given: accounts were not checked against it (not_in_roster)."
                .to_string()
        }),
    )
}
