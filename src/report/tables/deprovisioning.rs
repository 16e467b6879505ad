//! `deprovisioning`: the leavers of `--terminations`, when their Retool access
//! was removed, whether within the SLA, and whether they used Retool after
//! their last day.

use super::{Column, Context, held, t, time};
use crate::analyze::deprovisioning::Deprovisioning;
use crate::report::table::{Cell, Rows, Table};

const COLUMNS: &[Column<Deprovisioning>] = &[
    ("email", |_, d| t(d.leaver.email.clone())),
    ("user_id", |_, d| {
        Cell::opt(d.user_id.as_ref(), |u| t(u.0.clone()))
    }),
    ("termination_date", |_, d| {
        t(d.leaver.termination_date.clone())
    }),
    ("last_seen_with_access_snapshot", |_, d| {
        Cell::opt(d.last_seen_with_access, |s| Cell::Int(s.id))
    }),
    ("last_seen_with_access_at", |_, d| {
        time(d.last_seen_with_access.map(|s| s.taken_at))
    }),
    ("access_removed_snapshot", |_, d| {
        Cell::opt(d.access_removed, |s| Cell::Int(s.id))
    }),
    ("access_removed_at", |_, d| {
        time(d.access_removed.map(|s| s.taken_at))
    }),
    ("hours_to_remove", |_, d| {
        Cell::opt(d.hours_to_remove, Cell::Int)
    }),
    ("sla_hours", |_, d| Cell::Int(i64::from(d.sla_hours))),
    ("sla_met", |_, d| t(d.sla_met.as_str())),
    ("note", |_, d| t(d.note.clone())),
    ("retool_last_active", |_, d| time(d.retool_last_active)),
    ("active_after_termination", |_, d| {
        Cell::opt(d.active_after_termination, Cell::Bool)
    }),
    ("finding", |_, d| t(d.finding())),
    ("evidence_snapshot_sha256", |_, d| {
        t(d.evidence_sha256.clone())
    }),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    let rows = cx.input.deprovisioning.unwrap_or(&[]);
    let notice = cx
        .input
        .deprovisioning
        .is_none()
        .then(|| "No --terminations file: the deprovisioning test was not run.".to_string());
    held(
        cx,
        (
            "deprovisioning",
            "Deprovisioning test",
            "Each leaver of the --terminations file: the last snapshot that saw the account \
             with access (active, and an admin, in a group other than the default one, or holding a direct grant or role), the \
             first after it without (disabled, deleted, or left with the default group only), \
             the hours from the termination to that snapshot, and whether that met the SLA: \
             `true` when access was gone by a snapshot taken before the deadline, `false` when \
             a snapshot after the deadline still shows it, `unknown` when no snapshot brackets \
             the deadline (note says why). active_after_termination: Retool's last_active is \
             later than the termination. finding: sla_missed, active_after_termination."
                .to_string(),
        ),
        COLUMNS,
        rows,
        notice,
    )
}
