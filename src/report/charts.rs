//! The report's charts: users, admins and group admins, access changes and
//! exceptions per snapshot across the org's history, and grants per group by
//! access level.

use std::collections::{BTreeMap, HashMap};

use super::build::severity_counts;
use super::table::{Chart, ChartKind, Series};
use super::tables::Context;
use crate::analyze::exceptions::Severity;
use crate::model::{AccessLevel, EntityKind, GroupId, SnapshotCounts, SnapshotMeta, Subject};

/// The charts of a report built from `cx`.
pub(crate) fn charts(cx: &Context<'_, '_>) -> Vec<Chart> {
    let (input, state) = (cx.input, cx.state);
    let mut charts = Vec::new();

    // Users over time, from each snapshot's record counts.
    let mut points: Vec<(&SnapshotMeta, f64)> = input
        .history
        .iter()
        .filter(|m| m.id < input.current.id)
        .map(|m| {
            let users = m.counts.get(&EntityKind::Users).copied().unwrap_or(0);
            (m, users as f64)
        })
        .collect();
    points.push((input.current, state.users.len() as f64));
    charts.push(Chart {
        title: "Users per snapshot".into(),
        kind: ChartKind::Line,
        x_labels: x_labels(points.iter().map(|p| p.0)),
        series: vec![series("users", points.iter().map(|p| Some(p.1)))],
    });

    let trend = input.trend;
    let metas: HashMap<i64, &SnapshotMeta> = input.history.iter().map(|m| (m.id, m)).collect();
    let counted: Vec<(&SnapshotMeta, &SnapshotCounts)> = trend
        .counts
        .iter()
        .filter_map(|c| metas.get(&c.snapshot_id).map(|m| (*m, c)))
        .collect();
    if counted.len() > 1 {
        let labels = x_labels(counted.iter().map(|c| c.0));
        charts.push(Chart {
            title: "Active admins and group admins per snapshot".into(),
            kind: ChartKind::Line,
            x_labels: labels.clone(),
            series: vec![
                series(
                    "active admins",
                    counted.iter().map(|c| Some(c.1.admins as f64)),
                ),
                series(
                    "group admins",
                    counted.iter().map(|c| Some(c.1.group_admins as f64)),
                ),
            ],
        });
        charts.push(Chart {
            title: "Access records changed per snapshot".into(),
            kind: ChartKind::Line,
            x_labels: labels,
            series: vec![series(
                "records changed",
                counted.iter().map(|c| c.1.access_changes.map(|n| n as f64)),
            )],
        });
    }

    // Exceptions: the earlier snapshots analysed, then this one.
    let mut severities: Vec<(&SnapshotMeta, [usize; 4])> = trend
        .exceptions
        .iter()
        .filter_map(|(id, counts)| metas.get(id).map(|m| (*m, *counts)))
        .collect();
    if !severities.is_empty() {
        severities.push((input.current, severity_counts(&cx.exceptions)));
        let mut title = "Exceptions per snapshot by severity".to_string();
        if trend.exceptions_left_out > 0 {
            title.push_str(&format!(
                " (the last {} snapshots; {} earlier ones not analysed at this size)",
                severities.len(),
                trend.exceptions_left_out
            ));
        }
        charts.push(Chart {
            title,
            kind: ChartKind::Line,
            x_labels: x_labels(severities.iter().map(|s| s.0)),
            series: Severity::ALL
                .iter()
                .enumerate()
                .map(|(i, sev)| {
                    series(sev.as_str(), severities.iter().map(|s| Some(s.1[i] as f64)))
                })
                .collect(),
        });
    }

    // Grants per group by level, the 20 groups with the most grants.
    let mut per_group: BTreeMap<GroupId, [usize; 3]> = BTreeMap::new();
    for g in &state.grants {
        if let Subject::Group(gid) = g.subject {
            let slot = match g.level {
                AccessLevel::Use => 0,
                AccessLevel::Edit => 1,
                AccessLevel::Own => 2,
                AccessLevel::None => continue,
            };
            per_group.entry(gid).or_default()[slot] += 1;
        }
    }
    if !per_group.is_empty() {
        let mut groups: Vec<(GroupId, [usize; 3], String)> = per_group
            .into_iter()
            .map(|(g, c)| (g, c, cx.label(g)))
            .collect();
        groups.sort_by(|a, b| {
            let (ta, tb): (usize, usize) = (a.1.iter().sum(), b.1.iter().sum());
            tb.cmp(&ta).then_with(|| a.2.cmp(&b.2))
        });
        groups.truncate(20);
        let series = ["use", "edit", "own"]
            .iter()
            .enumerate()
            .map(|(i, name)| Series {
                name: (*name).to_string(),
                values: groups.iter().map(|g| g.1[i] as f64).collect(),
            })
            .collect();
        charts.push(Chart {
            title: "Grants per group by access level (top 20 groups)".into(),
            kind: ChartKind::StackedBar,
            x_labels: groups.into_iter().map(|g| g.2).collect(),
            series,
        });
    }
    charts
}

/// One label per snapshot: its date, or `#id date` when two share a date.
fn x_labels<'m>(snapshots: impl Iterator<Item = &'m SnapshotMeta>) -> Vec<String> {
    let snapshots: Vec<&SnapshotMeta> = snapshots.collect();
    let dates: Vec<String> = snapshots
        .iter()
        .map(|m| m.taken_at().format("%Y-%m-%d").to_string())
        .collect();
    if dates.windows(2).all(|w| w[0] != w[1]) {
        return dates;
    }
    snapshots
        .iter()
        .zip(dates)
        .map(|(m, d)| format!("#{} {d}", m.id))
        .collect()
}

/// A series; `None` (no value for that snapshot) leaves a gap.
fn series(name: &str, values: impl Iterator<Item = Option<f64>>) -> Series {
    Series {
        name: name.to_string(),
        values: values.map(|v| v.unwrap_or(f64::NAN)).collect(),
    }
}
