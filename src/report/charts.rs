//! The report's charts: users per snapshot, and grants per group by access
//! level.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::table::{Chart, ChartKind, Series};
use super::tables::Context;
use crate::model::{AccessLevel, EntityKind, GroupId, Subject};

/// The charts of a report built from `cx`.
pub(crate) fn charts(cx: &Context<'_, '_>) -> Vec<Chart> {
    let (input, state) = (cx.input, cx.state);
    let mut charts = Vec::new();

    // Users over time, from each snapshot's record counts.
    let mut points: Vec<(i64, DateTime<Utc>, f64)> = input
        .history
        .iter()
        .filter(|m| m.id <= input.current.id)
        .map(|m| {
            let users = m.counts.get(&EntityKind::Users).copied().unwrap_or(0);
            (m.id, m.taken_at(), users as f64)
        })
        .collect();
    if !points.iter().any(|p| p.0 == input.current.id) {
        points.push((
            input.current.id,
            input.current.taken_at(),
            state.users.len() as f64,
        ));
    }
    points.sort_by_key(|p| p.0);
    let dates: Vec<String> = points
        .iter()
        .map(|p| p.1.format("%Y-%m-%d").to_string())
        .collect();
    let unique = {
        let mut d = dates.clone();
        d.dedup();
        d.len() == dates.len()
    };
    let x_labels = if unique {
        dates
    } else {
        points
            .iter()
            .map(|p| format!("#{} {}", p.0, p.1.format("%Y-%m-%d")))
            .collect()
    };
    charts.push(Chart {
        title: "Users per snapshot".into(),
        kind: ChartKind::Line,
        x_labels,
        series: vec![Series {
            name: "users".into(),
            values: points.iter().map(|p| p.2).collect(),
        }],
    });

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
