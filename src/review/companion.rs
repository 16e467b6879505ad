//! The HTML companion of a campaign (`review-<campaign>.html`): the same
//! population as the workbooks, the privileged access, the workbooks and their
//! reviewers, and the campaign's evidence, for auditors. It is a
//! [`Report`] rendered by the report HTML writer, so it is escaped,
//! self-contained and locked down by the same Content-Security-Policy.

use super::Suggestion;
use super::population::{CONTEXT_COLUMNS, flag_counts};
use super::workbook::{CampaignFiles, SUGGESTION_COLUMNS, workbook_file_name};
use crate::report::html::MAX_ROWS;
use crate::report::{Cell, EvidenceItem, Report, Section, SummaryItem, Table, format_time};

fn item(section: Section, label: &str, value: Cell) -> SummaryItem {
    SummaryItem::new(section, label, value)
}

fn evidence(section: &str, key: &str, value: impl Into<String>) -> EvidenceItem {
    EvidenceItem::new(section, key, value)
}

fn count(n: usize) -> Cell {
    Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The companion report of a campaign.
pub fn companion_report(files: &CampaignFiles<'_>) -> Report {
    let c = files.campaign;
    let items = &files.population.items;
    let suggested = |s: Suggestion| items.iter().filter(|i| i.suggested == Some(s)).count();
    let mut summary = vec![
        item(Section::Headline, "Rows to review", count(items.len())),
        item(
            Section::Headline,
            "Workbooks",
            count(files.settings.workbooks.len()),
        ),
        item(
            Section::Headline,
            "Suggested revoke",
            count(suggested(Suggestion::Revoke)),
        ),
        item(
            Section::Headline,
            "Suggested modify",
            count(suggested(Suggestion::Modify)),
        ),
        item(
            Section::Headline,
            "Suggested review",
            count(suggested(Suggestion::Review)),
        ),
    ];
    for (flag, n) in flag_counts(items) {
        summary.push(item(
            Section::Findings,
            &format!("Rows flagged {flag}"),
            count(n),
        ));
    }

    let s = files.settings;
    let mut ev = vec![
        evidence("Campaign", "name", &c.name),
        evidence("Campaign", "id", c.id.to_string()),
        evidence("Campaign", "org", &c.org),
        evidence("Campaign", "created at", format_time(&c.created_at)),
        evidence("Campaign", "reviewer by", c.reviewer_by.as_str()),
        evidence("Campaign", "population rows", c.items.to_string()),
        evidence("Campaign", "population sha256", &c.population_sha256),
        evidence("Campaign", "inactive days", s.inactive_days.to_string()),
        evidence("Campaign", "default group", &s.default_group),
        evidence(
            "Campaign",
            "roster",
            s.roster
                .as_ref()
                .map(|r| format!("{} ({} emails, sha256 {})", r.file, r.emails, r.sha256))
                .unwrap_or_else(|| "none".to_string()),
        ),
        evidence(
            "Campaign",
            "tool version",
            format!("retool-audit {}", s.tool_version),
        ),
        evidence("Campaign", "generated at", format_time(&files.generated_at)),
    ];
    let snap = files.snapshot;
    let section = format!("Snapshot {}", snap.id);
    ev.push(evidence(
        &section,
        "taken at",
        format_time(&snap.taken_at()),
    ));
    ev.push(evidence(&section, "sha256", &snap.sha256));
    ev.push(evidence(&section, "source", &snap.info.source_url));
    ev.push(evidence(
        &section,
        "api version",
        snap.info.api_version.clone().unwrap_or_default(),
    ));
    for (kind, why) in &snap.not_collected {
        ev.push(evidence("Not collected", kind.as_str(), why));
    }

    let mut columns = vec!["workbook".to_string(), "row_key".to_string()];
    columns.extend(CONTEXT_COLUMNS.iter().map(|c| c.to_string()));
    columns.extend(SUGGESTION_COLUMNS.iter().map(|c| c.to_string()));
    let rows: Vec<Vec<Cell>> = items
        .iter()
        .take(MAX_ROWS)
        .map(|i| {
            let mut row = vec![Cell::text(&i.workbook), Cell::text(&i.key)];
            row.extend(i.context.iter().map(|(_, v)| Cell::text(v)));
            row.push(Cell::opt(i.suggested, |s| Cell::text(s.as_str())));
            row.push(Cell::opt(i.suggested_reason.as_ref(), Cell::text));
            row
        })
        .collect();
    let population = Table {
        name: "population".into(),
        title: "Review population".into(),
        description: "One row per membership (the default group included), per direct user \
                      grant, and per user with neither, exactly as the workbooks show it. \
                      The suggestion columns are the tool's suggestions, not decisions."
            .into(),
        columns,
        rows,
        notice: (items.len() > MAX_ROWS).then(|| {
            format!(
                "showing the first {MAX_ROWS} of {} rows; the workbooks hold every row",
                items.len()
            )
        }),
    };
    let privileged = Table {
        name: "privileged".into(),
        title: "Privileged access".into(),
        description: "Admins, group admins, universal edit/own, own on resources, API tokens \
                      with write scopes and pending invites with group access, at the snapshot."
            .into(),
        columns: ["kind", "email", "user_id", "detail"]
            .map(String::from)
            .to_vec(),
        rows: files
            .population
            .privileged
            .iter()
            .map(|p| {
                vec![
                    Cell::text(p.kind.as_str()),
                    Cell::text(&p.email),
                    Cell::opt(p.user_id.as_ref(), |u| Cell::text(&u.0)),
                    Cell::text(&p.detail),
                ]
            })
            .collect(),
        notice: None,
    };
    let workbooks = Table {
        name: "workbooks".into(),
        title: "Workbooks and reviewers".into(),
        description: "One workbook per reviewer set; reviewers are the group's group admins."
            .into(),
        columns: ["workbook", "file", "for", "reviewers", "rows", "note"]
            .map(String::from)
            .to_vec(),
        rows: s
            .workbooks
            .iter()
            .map(|w| {
                vec![
                    Cell::text(&w.name),
                    Cell::text(workbook_file_name(&c.name, &w.name)),
                    Cell::text(&w.title),
                    Cell::text(w.reviewers.join(", ")),
                    count(w.rows),
                    Cell::opt(w.note.as_ref(), Cell::text),
                ]
            })
            .collect(),
        notice: None,
    };
    Report {
        org: files.org_label.to_string(),
        title: format!("Access review {}", c.name),
        snapshot_date: snap.taken_at().format("%Y-%m-%d").to_string(),
        generated_at: files.generated_at,
        summary,
        evidence: ev,
        charts: Vec::new(),
        tables: vec![workbooks, population, privileged],
        provenance: Default::default(),
        drilldown: Default::default(),
        expansion: Default::default(),
    }
}
