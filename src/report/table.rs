//! The format-neutral report: named tables of typed cells, a summary, evidence
//! and chart series. Analyses produce it (`report::build`); one writer per format
//! renders any of it. Adding a table never touches a writer.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One typed cell. Writers decide the spelling: booleans `true`/`false`, times
/// ISO-8601 UTC (`2026-11-23T09:00:00Z`), empty as an empty cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Bool(bool),
    Time(DateTime<Utc>),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// `Empty` for `None`, else the mapped value.
    pub fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Cell) -> Cell {
        v.map(f).unwrap_or(Cell::Empty)
    }

    /// The cell as plain text (the CSV spelling, before formula neutralizing).
    pub fn to_plain(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Time(t) => format_time(t),
        }
    }
}

/// ISO-8601 UTC with seconds, `Z` suffix: the one time spelling of every report.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// One table of the public contract: `name` is the file/sheet stem (`users`,
/// `access_matrix`, ...), `columns` the exact header row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub name: String,
    pub title: String,
    /// One or two sentences for the reader: what a row is, what is left out.
    pub description: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Set when the table could not be computed completely or at all (for
    /// example "only one snapshot: no changes to report", or "grants not
    /// collected: scope missing"). Writers show it prominently.
    pub notice: Option<String>,
}

/// A headline number or finding total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryItem {
    /// `Headline` (shown as cards), `Findings`, `Rows per table`, ...
    pub section: String,
    pub label: String,
    pub value: Cell,
}

/// One fact of provenance, for the Evidence sheet and section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceItem {
    /// `Report`, `Snapshot 12`, `Previous snapshot 11`, `Not collected`, ...
    pub section: String,
    pub key: String,
    pub value: String,
}

/// A small chart, rendered as inline SVG in HTML (ignored by CSV/XLSX, written
/// in JSON). Each series has one value per x label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    pub title: String,
    pub kind: ChartKind,
    pub x_labels: Vec<String>,
    pub series: Vec<Series>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChartKind {
    Line,
    /// Stacked horizontal bars, one bar per x label.
    StackedBar,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

/// Everything one `report` run renders.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The organization label (the config name, or the host of the source URL).
    pub org: String,
    pub title: String,
    /// The snapshot's date, for file names (`2026-11-23`).
    pub snapshot_date: String,
    pub generated_at: DateTime<Utc>,
    pub summary: Vec<SummaryItem>,
    pub evidence: Vec<EvidenceItem>,
    pub charts: Vec<Chart>,
    pub tables: Vec<Table>,
}

impl Report {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}
