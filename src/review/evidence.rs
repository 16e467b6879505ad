//! The campaign's evidence report (`review status --out`): the population, every
//! decision ever imported, the remediation status with proof snapshots and the
//! completeness figures, as a [`Report`] the existing writers render (so
//! formula neutralization, HTML escaping, the Evidence sheet and atomic writes
//! come with it).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::status::{Remediation, StatusCounts, StatusData};
use super::{Decision, StoredDecision};
use crate::report::evidence::report_provenance;
use crate::report::manifest::{Provenance, SourceSnapshot};
use crate::report::{Cell, EvidenceItem, Report, Section, SummaryItem, Table, format_time};

/// The evidence tables, in order.
pub const TABLES: [&str; 4] = [
    "review_population",
    "review_decisions",
    "review_remediation",
    "review_completeness",
];

fn t(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn opt_text(s: &Option<String>) -> Cell {
    Cell::opt(s.clone(), Cell::Text)
}

fn table(name: &str, title: &str, description: &str, columns: &[&str]) -> Table {
    Table {
        name: name.to_string(),
        title: title.to_string(),
        description: description.to_string(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows: Vec::new(),
        notice: None,
    }
}

/// Builds the evidence report of one campaign from its data and status rows.
pub fn build_report(
    data: &StatusData,
    remediation: &[Remediation],
    generated_at: DateTime<Utc>,
    command_line: &str,
) -> Report {
    let current = data.current_decisions();
    let latest = data.latest_snapshot();
    let c = &data.campaign;

    let mut population = table(
        "review_population",
        "Review population",
        "Every row of the frozen population (one per membership, direct grant or account), the \
         context the reviewer saw, the tool's suggestion, and the current decision. Empty \
         decision columns mean the row is undecided.",
        &[
            "row_key",
            "kind",
            "workbook",
            "user_id",
            "email",
            "group_id",
            "is_group_admin",
            "object_type",
            "object_id",
            "access_level",
            "context",
            "suggested",
            "suggested_reason",
            "decision",
            "reason",
            "reviewer",
            "reviewed_at",
        ],
    );
    for item in &data.items {
        let d = current.get(item.key.as_str());
        let context = item
            .context
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("; ");
        population.rows.push(vec![
            t(item.key.clone()),
            t(item.kind.as_str()),
            t(item.workbook.clone()),
            t(item.user_id.0.clone()),
            t(item.email.clone()),
            Cell::opt(item.group_id, |g| Cell::Int(g.0)),
            Cell::opt(item.is_group_admin, Cell::Bool),
            Cell::opt(item.object.as_ref(), |o| t(o.object_type.as_str())),
            Cell::opt(item.object.as_ref(), |o| t(o.id.0.clone())),
            Cell::opt(item.access_level, |l| t(l.as_str())),
            t(context),
            Cell::opt(item.suggested, |s| t(s.as_str())),
            opt_text(&item.suggested_reason),
            Cell::opt(d, |d| t(d.decision.as_str())),
            Cell::opt(d.and_then(|d| d.reason.clone()), Cell::Text),
            Cell::opt(d.and_then(|d| d.reviewer.clone()), Cell::Text),
            Cell::opt(d.and_then(|d| d.reviewed_at.clone()), Cell::Text),
        ]);
    }

    let mut decisions = table(
        "review_decisions",
        "Decisions",
        "Every decision ever imported, in import order, with the workbook it came from and that \
         file's SHA-256. A decision replaced by a newer import names the newer one in \
         superseded_by and is not current.",
        &[
            "decision_id",
            "row_key",
            "email",
            "decision",
            "reason",
            "reviewer",
            "reviewed_at",
            "imported_at",
            "source_file",
            "source_sha256",
            "superseded_by",
            "current",
        ],
    );
    let emails: BTreeMap<&str, &str> = data
        .items
        .iter()
        .map(|i| (i.key.as_str(), i.email.as_str()))
        .collect();
    for d in &data.decisions {
        decisions
            .rows
            .push(decision_row(d, emails.get(d.key.as_str())));
    }

    let mut rem = table(
        "review_remediation",
        "Remediation",
        "Each current revoke or modify decision checked against the snapshots taken after the \
         campaign's: done (the access is gone), partially done (gone in part) or pending (still \
         there), with the snapshot that proves it (for done, the first snapshot in which it was \
         gone and stayed gone; for pending, the latest).",
        &[
            "row_key",
            "kind",
            "user_id",
            "email",
            "target",
            "decision",
            "reason",
            "reviewer",
            "status",
            "proof_snapshot_id",
            "proof_snapshot_time",
            "proof_snapshot_sha256",
            "detail",
        ],
    );
    if data.later.is_empty() {
        rem.notice = Some(format!(
            "no snapshot since the campaign's (snapshot {}): every revoke and modify is pending \
             until the next snapshot",
            c.snapshot_id
        ));
    }
    for r in remediation {
        rem.rows.push(vec![
            t(r.key.clone()),
            t(r.kind.as_str()),
            t(r.user_id.clone()),
            t(r.email.clone()),
            t(r.target.clone()),
            t(r.decision.as_str()),
            opt_text(&r.reason),
            opt_text(&r.reviewer),
            t(r.status.as_str()),
            Cell::Int(r.proof.id),
            Cell::Time(r.proof.taken_at),
            t(r.proof.sha256.clone()),
            t(r.detail.clone()),
        ]);
    }

    let figures = completeness(data, remediation);
    let mut comp = table(
        "review_completeness",
        "Completeness",
        "Rows in the population, decided and undecided, with decision and remediation counts: \
         for the whole campaign, per workbook, and per reviewer (of the current decisions).",
        &[
            "scope",
            "name",
            "rows",
            "decided",
            "undecided",
            "keep",
            "revoke",
            "modify",
            "done",
            "partially_done",
            "pending",
        ],
    );
    for ((scope, name), f) in &figures {
        comp.rows.push(vec![
            t(scope.label()),
            t(name.clone()),
            Cell::Int(f.rows as i64),
            Cell::Int(f.decided as i64),
            Cell::Int((f.rows - f.decided) as i64),
            Cell::Int(f.keep as i64),
            Cell::Int(f.revoke as i64),
            Cell::Int(f.modify as i64),
            Cell::Int(f.status.done as i64),
            Cell::Int(f.status.partially_done as i64),
            Cell::Int(f.status.pending as i64),
        ]);
    }

    let all = figures
        .get(&(Scope::Campaign, c.name.clone()))
        .copied()
        .unwrap_or_default();
    let summary = [
        ("Rows in population", all.rows),
        ("Decided", all.decided),
        ("Undecided", all.rows - all.decided),
        ("Revoke", all.revoke),
        ("Modify", all.modify),
        ("Done", all.status.done),
        ("Partially done", all.status.partially_done),
        ("Pending", all.status.pending),
    ]
    .into_iter()
    .map(|(label, n)| SummaryItem::new(Section::Headline, label, Cell::Int(n as i64)))
    .collect();

    Report {
        org: c.org.clone(),
        title: format!("Access review {}: decisions and remediation", c.name),
        snapshot_date: latest.taken_at().format("%Y-%m-%d").to_string(),
        generated_at,
        summary,
        evidence: evidence(data, remediation, generated_at, command_line),
        charts: Vec::new(),
        tables: vec![population, decisions, rem, comp],
        provenance: provenance(data, command_line),
        drilldown: Default::default(),
        expansion: Default::default(),
    }
}

/// What the evidence report is evidence of: the campaign, the snapshot its
/// population was frozen from and every later snapshot its remediation was
/// judged on.
fn provenance(data: &StatusData, command_line: &str) -> Provenance {
    let c = &data.campaign;
    let mut snapshots = vec![SourceSnapshot::new("campaign", &data.campaign_snapshot)];
    snapshots.extend(data.later.iter().map(|m| SourceSnapshot::new("later", m)));
    let parameters = [
        ("campaign", json!(c.name)),
        ("campaign_id", json!(c.id)),
        ("population_sha256", json!(c.population_sha256)),
        ("settings", c.settings.clone()),
    ];
    Provenance {
        kind: "review evidence".to_string(),
        command_line: command_line.to_string(),
        org: c.org.clone(),
        source_url: data.campaign_snapshot.info.source_url.clone(),
        snapshots,
        parameters: parameters
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    }
}

fn decision_row(d: &StoredDecision, email: Option<&&str>) -> Vec<Cell> {
    vec![
        Cell::Int(d.id),
        t(d.key.clone()),
        Cell::opt(email, |e| t(*e)),
        t(d.decision.as_str()),
        opt_text(&d.reason),
        opt_text(&d.reviewer),
        opt_text(&d.reviewed_at),
        Cell::Time(d.imported_at),
        t(d.source_file.clone()),
        t(d.source_sha256.clone()),
        Cell::opt(d.superseded_by, Cell::Int),
        Cell::Bool(d.superseded_by.is_none()),
    ]
}

/// Which rows a completeness line counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Scope {
    Campaign,
    Workbook,
    Reviewer,
}

impl Scope {
    fn label(self) -> &'static str {
        match self {
            Scope::Campaign => "campaign",
            Scope::Workbook => "workbook",
            Scope::Reviewer => "reviewer",
        }
    }
}

/// Decision and remediation counts of one set of rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub rows: usize,
    pub decided: usize,
    pub keep: usize,
    pub revoke: usize,
    pub modify: usize,
    pub status: StatusCounts,
}

/// The reviewer name of a decision without one.
const NO_REVIEWER: &str = "(not named)";

fn completeness(
    data: &StatusData,
    remediation: &[Remediation],
) -> BTreeMap<(Scope, String), Figures> {
    let current = data.current_decisions();
    let statuses: BTreeMap<&str, &Remediation> =
        remediation.iter().map(|r| (r.key.as_str(), r)).collect();
    let mut out: BTreeMap<(Scope, String), Figures> = BTreeMap::new();
    for item in &data.items {
        let d = current.get(item.key.as_str());
        let mut scopes = vec![
            (Scope::Campaign, data.campaign.name.clone()),
            (Scope::Workbook, item.workbook.clone()),
        ];
        if let Some(d) = d {
            let reviewer = d.reviewer.clone().unwrap_or_else(|| NO_REVIEWER.into());
            scopes.push((Scope::Reviewer, reviewer));
        }
        for scope in scopes {
            let f = out.entry(scope).or_default();
            f.rows += 1;
            let Some(d) = d else { continue };
            f.decided += 1;
            match d.decision {
                Decision::Keep => f.keep += 1,
                Decision::Revoke => f.revoke += 1,
                Decision::Modify => f.modify += 1,
            }
            if let Some(r) = statuses.get(item.key.as_str()) {
                f.status.add(r.status);
            }
        }
    }
    out.entry((Scope::Campaign, data.campaign.name.clone()))
        .or_default();
    out
}

/// The campaign's whole-campaign figures (what the compact status prints).
pub fn campaign_figures(data: &StatusData, remediation: &[Remediation]) -> Figures {
    completeness(data, remediation)
        .remove(&(Scope::Campaign, data.campaign.name.clone()))
        .unwrap_or_default()
}

fn evidence(
    data: &StatusData,
    remediation: &[Remediation],
    generated_at: DateTime<Utc>,
    command_line: &str,
) -> Vec<EvidenceItem> {
    let mut ev = report_provenance(generated_at, command_line);
    let mut add =
        |section: &str, key: &str, value: String| ev.push(EvidenceItem::new(section, key, value));

    let c = &data.campaign;
    add("Campaign", "Name", c.name.clone());
    add("Campaign", "Campaign id", c.id.to_string());
    add("Campaign", "Organization", c.org.clone());
    add("Campaign", "Created at", format_time(&c.created_at));
    add("Campaign", "Reviewers", c.reviewer_by.as_str().to_string());
    add("Campaign", "Rows in population", c.items.to_string());
    add(
        "Campaign",
        "Population SHA-256",
        c.population_sha256.clone(),
    );
    add("Campaign", "Settings", c.settings.to_string());

    let s = &data.campaign_snapshot;
    let sec = format!("Campaign snapshot {}", s.id);
    add(&sec, "Snapshot id", s.id.to_string());
    add(&sec, "Taken at", format_time(&s.taken_at()));
    add(&sec, "Source URL", s.info.source_url.clone());
    add(&sec, "Content SHA-256", s.sha256.clone());
    add(
        &sec,
        "Recorded in the campaign",
        if c.snapshot_sha256 == s.sha256 {
            "the same SHA-256 (the snapshot is unchanged since the campaign started)".to_string()
        } else {
            format!(
                "{} — DIFFERENT from the snapshot's current hash: run `retool-audit verify`",
                c.snapshot_sha256
            )
        },
    );

    let proofs: std::collections::BTreeSet<i64> = remediation.iter().map(|r| r.proof.id).collect();
    if data.later.is_empty() {
        add(
            "Proof snapshots",
            "None",
            "no snapshot since the campaign's".to_string(),
        );
    }
    for m in &data.later {
        let used = if proofs.contains(&m.id) {
            "proof"
        } else {
            "checked"
        };
        add(
            "Proof snapshots",
            &format!("Snapshot {}", m.id),
            format!(
                "{used}; taken {}; SHA-256 {}; source {}",
                format_time(&m.taken_at()),
                m.sha256,
                m.info.source_url
            ),
        );
    }
    ev
}
