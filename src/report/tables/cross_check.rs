//! `cross_check`: where Retool's own access list disagrees with the computed
//! effective access, one row per (object, user).

use super::{Column, Context, held, t};
use crate::model::{Disagreement, UserId};
use crate::report::table::{Rows, Table};

const COLUMNS: &[Column<Disagreement>] = &[
    ("object_type", |_, d| t(d.object.object_type.as_str())),
    ("object_id", |_, d| t(d.object.id.0.clone())),
    ("object_name", |cx, d| {
        t(cx.index.object_name(d.object.object_type, &d.object.id))
    }),
    ("subject_type", |_, _| t("user")),
    ("subject_id", |_, d| t(d.user_id.clone())),
    ("subject_name", |cx, d| {
        match cx.state.user(&UserId(d.user_id.clone())) {
            Some(u) => t(u.email.clone()),
            None => t("(not in snapshot)"),
        }
    }),
    ("retool_level", |_, d| t(d.retool_level.as_str())),
    ("retool_sources", |_, d| t(d.retool_sources.clone())),
    ("computed_level", |_, d| t(d.computed_level.as_str())),
    ("computed_via", |_, d| t(d.computed_via.clone())),
];

/// The cross-check in one sentence, for the Summary, the Evidence and the
/// table's notice.
pub(crate) fn outcome(cx: &Context<'_, '_>) -> String {
    match &cx.input.current.info.cross_check {
        None => "not run (--cross-check 0, or a snapshot taken before it existed)".to_string(),
        Some(Err(why)) => format!("not run: {why}"),
        Some(Ok(c)) => {
            let mut s = format!(
                "{} object(s) checked, {} (user, object) pair(s) compared, {} agree, {} disagree",
                c.objects.len() - c.not_checked.len(),
                c.pairs,
                c.agreements,
                c.disagreement_count()
            );
            if !c.not_checked.is_empty() {
                let mut kinds: Vec<&str> = c
                    .not_checked
                    .iter()
                    .map(|(o, _)| o.object_type.as_str())
                    .collect();
                kinds.sort_unstable();
                kinds.dedup();
                s.push_str(&format!(
                    "; {} object(s) not checked ({}: {})",
                    c.not_checked.len(),
                    kinds.join(", "),
                    c.not_checked[0].1
                ));
            }
            if c.disagreements_not_kept > 0 {
                s.push_str(&format!(
                    "; {} disagreement(s) beyond the first {} are counted, not listed",
                    c.disagreements_not_kept,
                    c.disagreements.len()
                ));
            }
            s
        }
    }
}

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    let rows: &[Disagreement] = match &cx.input.current.info.cross_check {
        Some(Ok(c)) => &c.disagreements,
        _ => &[],
    };
    held(
        cx,
        (
            "cross_check",
            "Cross-check with Retool",
            "Retool's own access list (`GET /permissions/accessList`) for a reproducible sample \
             of objects (--cross-check), compared user by user with the effective access this \
             report computes: every user Retool lists and every active user it does not list \
             (level `none`). One row per disagreement, with both sides; an empty table with the \
             totals below means Retool agrees."
                .to_string(),
        ),
        COLUMNS,
        rows,
        Some(format!("Cross-check: {}.", outcome(cx))),
    )
}
