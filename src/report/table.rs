//! The format-neutral report: named tables of typed cells, a summary, evidence
//! and chart series. Analyses produce it (`report::build`); one writer per format
//! renders any of it. Adding a table never touches a writer.

use std::ops::{ControlFlow, Range};

use chrono::{DateTime, Utc};
use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

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

/// Rows produced on demand, for a table too large to hold in memory as
/// [`Table::rows`] (`effective_access` of a large organization has millions).
/// Every row is exactly as wide as the table's header. `Sync`: formats are
/// written on several threads at once.
pub trait RowSource: Sync {
    /// How many rows there are.
    fn len(&self) -> usize;

    /// Calls `f` with the rows in `range` (cut to [`RowSource::len`]), in order,
    /// until `f` breaks. The slice is only valid during the call.
    fn for_each_row(&self, range: Range<usize>, f: &mut dyn FnMut(&[Cell]) -> ControlFlow<()>);

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One table's rows as a writer sees them: held in [`Table::rows`] or produced
/// by a [`RowSource`].
#[derive(Clone, Copy)]
pub struct TableRows<'a> {
    pub table: &'a Table,
    produced: Option<&'a dyn RowSource>,
}

impl<'a> From<&'a Table> for TableRows<'a> {
    fn from(table: &'a Table) -> Self {
        TableRows {
            table,
            produced: None,
        }
    }
}

impl<'a> TableRows<'a> {
    /// The number of rows.
    pub fn len(&self) -> usize {
        match self.produced {
            Some(source) => source.len(),
            None => self.table.rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of columns: the header's, or the longest held row's.
    pub fn width(&self) -> usize {
        let widest = match self.produced {
            Some(_) => 0,
            None => self.table.rows.iter().map(Vec::len).max().unwrap_or(0),
        };
        widest.max(self.table.columns.len())
    }

    /// Calls `f` with each row in `range` (cut to [`TableRows::len`]), in order,
    /// stopping at the first error.
    pub fn try_for_each<E>(
        &self,
        range: Range<usize>,
        mut f: impl FnMut(&[Cell]) -> Result<(), E>,
    ) -> Result<(), E> {
        let end = range.end.min(self.len());
        let range = range.start.min(end)..end;
        match self.produced {
            None => self.table.rows[range].iter().try_for_each(|row| f(row)),
            Some(source) => {
                let mut failed = None;
                source.for_each_row(range, &mut |row| match f(row) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(e) => {
                        failed = Some(e);
                        ControlFlow::Break(())
                    }
                });
                failed.map_or(Ok(()), Err)
            }
        }
    }
}

impl Serialize for TableRows<'_> {
    /// The same JSON as [`Table`]'s, rows streamed from their source.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Rows<'r>(TableRows<'r>);
        impl Serialize for Rows<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
                self.0
                    .try_for_each(0..self.0.len(), |row| seq.serialize_element(row))?;
                seq.end()
            }
        }
        let t = self.table;
        let mut s = serializer.serialize_struct("Table", 6)?;
        s.serialize_field("name", &t.name)?;
        s.serialize_field("title", &t.title)?;
        s.serialize_field("description", &t.description)?;
        s.serialize_field("columns", &t.columns)?;
        s.serialize_field("rows", &Rows(*self))?;
        s.serialize_field("notice", &t.notice)?;
        s.end()
    }
}

/// A [`Report`] as the writers see it: some tables may take their rows from a
/// [`RowSource`] instead of [`Table::rows`]. `&Report` and `&StreamedReport`
/// both convert into one.
#[derive(Clone)]
pub struct ReportView<'a> {
    pub report: &'a Report,
    /// Per table (same index as `report.tables`), its row source if produced.
    produced: Vec<Option<&'a dyn RowSource>>,
}

impl<'a> From<&'a Report> for ReportView<'a> {
    fn from(report: &'a Report) -> Self {
        ReportView {
            report,
            produced: Vec::new(),
        }
    }
}

impl<'a> ReportView<'a> {
    /// The tables with their rows, in report order.
    pub fn tables(&self) -> impl Iterator<Item = TableRows<'a>> + '_ {
        self.report
            .tables
            .iter()
            .enumerate()
            .map(|(i, table)| TableRows {
                table,
                produced: self.produced.get(i).copied().flatten(),
            })
    }
}

impl Serialize for ReportView<'_> {
    /// The same JSON as [`Report`]'s, produced rows streamed.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Tables<'v, 'a>(&'v ReportView<'a>);
        impl Serialize for Tables<'_, '_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.tables())
            }
        }
        let r = self.report;
        let mut s = serializer.serialize_struct("Report", 8)?;
        s.serialize_field("org", &r.org)?;
        s.serialize_field("title", &r.title)?;
        s.serialize_field("snapshot_date", &r.snapshot_date)?;
        s.serialize_field("generated_at", &r.generated_at)?;
        s.serialize_field("summary", &r.summary)?;
        s.serialize_field("evidence", &r.evidence)?;
        s.serialize_field("charts", &r.charts)?;
        s.serialize_field("tables", &Tables(self))?;
        s.end()
    }
}

/// A built report whose largest tables produce their rows while being written
/// (their [`Table::rows`] stay empty), so no writer needs them all in memory.
/// Write it with `write_report(&streamed, ...)`; [`StreamedReport::into_report`]
/// gives the plain [`Report`] with every row held.
pub struct StreamedReport<'s> {
    pub report: Report,
    /// Per table (same index as `report.tables`), its row source if produced.
    produced: Vec<Option<Box<dyn RowSource + 's>>>,
}

impl<'s> StreamedReport<'s> {
    /// A report whose tables all hold their rows.
    pub fn new(report: Report) -> Self {
        StreamedReport {
            report,
            produced: Vec::new(),
        }
    }

    /// Makes table `index` take its rows from `source`.
    pub fn produce(&mut self, index: usize, source: Box<dyn RowSource + 's>) {
        if self.produced.len() <= index {
            self.produced.resize_with(index + 1, || None);
        }
        self.produced[index] = Some(source);
    }

    /// The table called `name` with its rows.
    pub fn table(&self, name: &str) -> Option<TableRows<'_>> {
        ReportView::from(self)
            .tables()
            .find(|t| t.table.name == name)
    }

    /// The plain report, every produced row collected into its table.
    pub fn into_report(self) -> Report {
        let StreamedReport {
            mut report,
            produced,
        } = self;
        for (table, source) in report.tables.iter_mut().zip(produced) {
            if let Some(source) = source {
                let mut rows = Vec::with_capacity(source.len());
                source.for_each_row(0..source.len(), &mut |row| {
                    rows.push(row.to_vec());
                    ControlFlow::Continue(())
                });
                table.rows = rows;
            }
        }
        report
    }
}

impl<'a> From<&'a StreamedReport<'_>> for ReportView<'a> {
    fn from(streamed: &'a StreamedReport<'_>) -> Self {
        ReportView {
            report: &streamed.report,
            produced: streamed
                .produced
                .iter()
                .map(|p| p.as_deref().map(|s| s as &dyn RowSource))
                .collect(),
        }
    }
}
