//! The report's summary: headline numbers, finding totals and rows per table.

use super::table::{Cell, Expansion, RowSource, Rows, Section, SummaryItem, Table};
use super::tables::{Context, count, t};
use crate::analyze::accounts::{DisabledFinding, OrphanReason};
use crate::analyze::changes::Risk;
use crate::model::EntityKind;

/// The summary of a report built from `cx` with `tables`.
pub(crate) fn summary(
    cx: &Context<'_, '_>,
    tables: &[Table<Rows<'_>>],
    expansion: Expansion,
) -> Vec<SummaryItem> {
    let state = cx.state;
    let nc = &cx.not_collected;
    let mut summary = Vec::new();
    let mut add = |section: Section, label: &str, value: Cell| {
        summary.push(SummaryItem::new(section, label, value))
    };
    let kind_count = |k: EntityKind, n: usize| {
        if nc.contains_key(&k) {
            t("not collected")
        } else {
            count(n)
        }
    };

    let active = state.users.iter().filter(|u| u.active).count();
    let admins = state
        .users
        .iter()
        .filter(|u| u.active && u.is_admin)
        .count();
    // Events, not rows: a promotion is one event even when it changes two
    // fields of the user (and two events when it happens twice).
    let high_risk = match &cx.changes {
        Some((_, _, list)) => count(
            list.iter()
                .filter(|c| c.change.risk == Risk::High)
                .map(|c| (c.seen_in, c.change.entity_type, c.change.entity_id.as_str()))
                .collect::<std::collections::HashSet<_>>()
                .len(),
        ),
        None => t("n/a (one snapshot)"),
    };
    for (label, value) in [
        ("Users", count(state.users.len())),
        ("Active users", count(active)),
        ("Active admins", count(admins)),
        ("Disabled users", count(state.users.len() - active)),
        ("Groups", count(state.groups.len())),
        ("Apps", kind_count(EntityKind::Apps, state.apps.len())),
        (
            "Resources",
            kind_count(EntityKind::Resources, state.resources.len()),
        ),
        (
            "Workflows",
            kind_count(EntityKind::Workflows, state.workflows.len()),
        ),
        ("High-risk change events", high_risk),
    ] {
        add(Section::Headline, label, value);
    }

    // The exceptions by severity, counted from the table a reader sees.
    if let Some(table) = tables.iter().find(|t| t.name == "exceptions") {
        let mut by_severity = std::collections::HashMap::new();
        table
            .rows
            .for_each_row(0..table.rows.len(), &mut |row: &[Cell]| {
                if let Some(cell) = row.first() {
                    *by_severity.entry(cell.to_plain()).or_insert(0usize) += 1;
                }
                std::ops::ControlFlow::Continue(())
            });
        for severity in crate::analyze::exceptions::Severity::ALL {
            let n = by_severity.get(severity.as_str()).copied().unwrap_or(0);
            add(
                Section::Findings,
                &format!("Exceptions: {severity}"),
                count(n),
            );
        }
    }
    add(
        Section::Findings,
        "Orphaned accounts (distinct)",
        count(cx.orphans.len()),
    );
    for reason in OrphanReason::ALL {
        if reason == OrphanReason::NotInRoster && cx.options.roster.is_none() {
            add(
                Section::Findings,
                "Orphaned accounts: not_in_roster",
                t("not checked (no roster)"),
            );
            continue;
        }
        let n = cx
            .orphans
            .iter()
            .filter(|o| o.reasons.contains(&reason))
            .count();
        add(
            Section::Findings,
            &format!("Orphaned accounts: {}", reason.as_str()),
            count(n),
        );
    }
    for (finding, label) in [
        (DisabledFinding::StillAdmin, "Disabled accounts still admin"),
        (
            DisabledFinding::StillInGroups,
            "Disabled accounts still in groups",
        ),
    ] {
        let n = cx
            .disabled
            .iter()
            .filter(|d| d.findings.contains(&finding))
            .count();
        add(Section::Findings, label, count(n));
    }
    if nc.contains_key(&EntityKind::Settings) {
        add(
            Section::Findings,
            "Security settings findings",
            t("not collected"),
        );
    } else {
        let findings = crate::analyze::settings::security_settings(state)
            .into_iter()
            .filter(|r| r.finding.is_some())
            .count();
        add(
            Section::Findings,
            "Security settings findings",
            count(findings),
        );
    }
    if state.users.iter().any(|u| u.two_factor_enabled.is_some()) {
        add(
            Section::Findings,
            "Active users without 2FA",
            count(crate::analyze::settings::active_without_two_factor(state)),
        );
    }
    match &cx.input.current.info.cross_check {
        Some(Ok(c)) => add(
            Section::Findings,
            "Cross-check disagreements",
            count(usize::try_from(c.disagreement_count()).unwrap_or(usize::MAX)),
        ),
        Some(Err(_)) | None => add(Section::Findings, "Cross-check disagreements", t("not run")),
    }
    add(
        Section::Findings,
        "Dangling references",
        count(cx.dangling_references),
    );
    add(
        Section::Findings,
        "Kinds not collected",
        t(if nc.is_empty() {
            "none".to_string()
        } else {
            // A kind collected in part (e.g. group grants without direct user
            // grants) says so, so nobody reads it as entirely missing.
            nc.iter()
                .map(|(k, why)| {
                    if why.starts_with("partial") {
                        format!("{k} (partial)")
                    } else if why.starts_with("not requested")
                        || why.starts_with("disabled for this run")
                    {
                        // Opt-in reads left off on purpose.
                        format!("{k} (not requested)")
                    } else {
                        k.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        }),
    );
    for table in tables {
        add(Section::RowsPerTable, &table.name, count(table.rows.len()));
    }
    if let Expansion::Omitted { .. } = expansion {
        for name in Expansion::TABLES {
            add(
                Section::RowsPerTable,
                name,
                Cell::text("not written (large organization; --full-effective-access writes it)"),
            );
        }
    }
    summary.extend(super::reconcile::reconciliation(cx, tables));
    summary
}
