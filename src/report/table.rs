//! The format-neutral report: named tables of typed cells, a summary, evidence
//! and chart series. Analyses produce it (`report::build`); one writer per format
//! renders any of it. Adding a table never touches a writer.

use std::fmt;
use std::ops::{ControlFlow, Range};

use chrono::{DateTime, Utc};
use serde::ser::SerializeSeq;
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
    /// Serialized as [`format_time`] (seconds): every format spells a time
    /// the same way.
    #[serde(serialize_with = "serialize_time")]
    Time(DateTime<Utc>),
}

fn serialize_time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(t))
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

/// The rows a table holds in memory: one `Vec` of cells per row.
pub type HeldRows = Vec<Vec<Cell>>;

/// One table of the public contract: `name` is the file/sheet stem (`users`,
/// `access_matrix`, ...), `columns` the exact header row. `R` says where the rows
/// are: held in memory ([`HeldRows`], the default) or, in a built report,
/// [`Rows`]: held or produced on demand by a [`RowSource`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table<R = HeldRows> {
    pub name: String,
    pub title: String,
    /// One or two sentences for the reader: what a row is, what is left out.
    pub description: String,
    pub columns: Vec<String>,
    pub rows: R,
    /// Set when the table could not be computed completely or at all (for
    /// example "only one snapshot: no changes to report", or "grants not
    /// collected: scope missing"). Writers show it prominently.
    pub notice: Option<String>,
}

/// A headline number or finding total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryItem {
    pub section: Section,
    pub label: String,
    pub value: Cell,
}

impl SummaryItem {
    pub fn new(section: Section, label: impl Into<String>, value: Cell) -> Self {
        SummaryItem {
            section,
            label: label.into(),
            value,
        }
    }
}

/// The part of the summary an item belongs to; writers place each part
/// (the HTML shows headlines as cards, then findings, then the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Section {
    /// The headline numbers, shown as cards.
    Headline,
    /// Finding totals: what a reviewer acts on.
    Findings,
    /// How many rows each table has.
    #[serde(rename = "Rows per table")]
    RowsPerTable,
    /// Each collected count against the rows of the table that lists it.
    Reconciliation,
}

impl Section {
    /// The section's name as the summary shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Headline => "Headline",
            Section::Findings => "Findings",
            Section::RowsPerTable => "Rows per table",
            Section::Reconciliation => "Reconciliation",
        }
    }
}

/// One fact of provenance, for the Evidence sheet and section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceItem {
    /// `Report`, `Snapshot 12`, `Previous snapshot 11`, `Not collected`, ...
    pub section: String,
    pub key: String,
    pub value: String,
}

impl EvidenceItem {
    pub fn new(
        section: impl Into<String>,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        EvidenceItem {
            section: section.into(),
            key: key.into(),
            value: value.into(),
        }
    }
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

/// Everything one `report` run renders. `R` is where the tables' rows are (see
/// [`Table`]); a built report is a [`StreamedReport`].
#[derive(Debug, Clone, PartialEq)]
pub struct Report<R = HeldRows> {
    /// The organization label (the config name, or the host of the source URL).
    pub org: String,
    pub title: String,
    /// The snapshot's date, for file names (`2026-11-23`).
    pub snapshot_date: String,
    pub generated_at: DateTime<Utc>,
    pub summary: Vec<SummaryItem>,
    pub evidence: Vec<EvidenceItem>,
    pub charts: Vec<Chart>,
    pub tables: Vec<Table<R>>,
    /// What the files are evidence of, for `manifest.json` (not part of
    /// `report.json`).
    pub provenance: super::manifest::Provenance,
    /// The per-user cards of the HTML report (not part of `report.json`).
    pub drilldown: super::drilldown::Drilldown,
    /// Where the per-user expansion tables go ([`Expansion`]).
    pub expansion: Expansion,
}

/// The per-user expansion: `effective_access` (every active user × every
/// object type, and the objects where more is held) and `access_matrix`
/// (every user × every group). Millions of rows at scale, so a small
/// organization gets them in every format, a large one only on request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Expansion {
    /// At most [`Expansion::INLINE_MAX_USERS`] active users: ordinary tables
    /// in every format.
    #[default]
    Inline,
    /// More active users and no `--full-effective-access`: not written; the
    /// Summary and the Evidence say so.
    Omitted { active_users: usize },
    /// `--full-effective-access`: as CSV and as JSON Lines
    /// (`jsonl/<table>.jsonl`), streamed; in XLSX, HTML and `report.json` too
    /// when the organization is small enough for [`Expansion::Inline`].
    Full { everywhere: bool },
}

impl Expansion {
    /// The expansion tables.
    pub const TABLES: [&'static str; 2] = ["access_matrix", "effective_access"];
    /// Active users up to which the expansion is in every format by default.
    pub const INLINE_MAX_USERS: usize = 5_000;

    /// The plan for an organization with `active_users`.
    pub fn plan(active_users: usize, full: bool) -> Expansion {
        let small = active_users <= Self::INLINE_MAX_USERS;
        match (full, small) {
            (true, everywhere) => Expansion::Full { everywhere },
            (false, true) => Expansion::Inline,
            (false, false) => Expansion::Omitted { active_users },
        }
    }

    /// Whether the expansion tables are in the XLSX, HTML and JSON files.
    pub fn in_every_format(self) -> bool {
        matches!(
            self,
            Expansion::Inline | Expansion::Full { everywhere: true }
        )
    }

    /// Whether `table` goes to the XLSX, HTML and JSON files.
    pub fn beyond_csv(self, table: &str) -> bool {
        self.in_every_format() || !Self::TABLES.contains(&table)
    }

    /// What the Evidence says about it.
    pub fn describe(self) -> String {
        match self {
            Expansion::Inline => format!(
                "in every format (at most {} active users)",
                Self::INLINE_MAX_USERS
            ),
            Expansion::Omitted { active_users } => format!(
                "not written: {active_users} active users (more than {}); object_access, \
                 privileged_access, exceptions and the HTML's per-user cards answer who can \
                 reach what; `report --full-effective-access` writes effective_access and \
                 access_matrix as CSV and JSON Lines",
                Self::INLINE_MAX_USERS
            ),
            Expansion::Full { everywhere: true } => {
                "in every format, and as JSON Lines in jsonl/ (--full-effective-access)".to_string()
            }
            Expansion::Full { everywhere: false } => {
                "csv/ and jsonl/ only (--full-effective-access; too large for XLSX, HTML and \
                 report.json)"
                    .to_string()
            }
        }
    }
}

impl<R> Report<R> {
    pub fn table(&self, name: &str) -> Option<&Table<R>> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The tables the XLSX, HTML and JSON files hold: all but the expansion
    /// when [`Expansion`] keeps it to CSV and JSON Lines.
    pub fn tables_beyond_csv(&self) -> impl Iterator<Item = &Table<R>> {
        self.tables
            .iter()
            .filter(|t| self.expansion.beyond_csv(&t.name))
    }

    /// The same report with each table's rows mapped by `f`.
    pub fn map_rows<S>(self, mut f: impl FnMut(R) -> S) -> Report<S> {
        Report {
            org: self.org,
            title: self.title,
            snapshot_date: self.snapshot_date,
            generated_at: self.generated_at,
            summary: self.summary,
            evidence: self.evidence,
            charts: self.charts,
            provenance: self.provenance,
            drilldown: self.drilldown,
            expansion: self.expansion,
            tables: self
                .tables
                .into_iter()
                .map(|t| t.map_rows(&mut f))
                .collect(),
        }
    }
}

/// Rows produced on demand, for a table too large to hold in memory
/// (`effective_access` of a large organization has millions). Every row is
/// exactly as wide as the table's header. `Sync`: formats are written on several
/// threads at once.
pub trait RowSource: Sync {
    /// How many rows there are.
    fn len(&self) -> usize;

    /// Calls `f` with the rows in `range` (cut to [`RowSource::len`]), in order,
    /// until `f` breaks. The slice is only valid during the call.
    fn for_each_row(&self, range: Range<usize>, f: &mut dyn FnMut(&[Cell]) -> ControlFlow<()>);

    /// The widest row, when it may be wider than the header (held rows); a
    /// produced row is never wider, so 0.
    fn widest(&self) -> usize {
        0
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl RowSource for HeldRows {
    fn len(&self) -> usize {
        self.as_slice().len()
    }

    fn for_each_row(&self, range: Range<usize>, f: &mut dyn FnMut(&[Cell]) -> ControlFlow<()>) {
        let end = range.end.min(self.as_slice().len());
        for row in &self[range.start.min(end)..end] {
            if f(row).is_break() {
                return;
            }
        }
    }

    fn widest(&self) -> usize {
        self.iter().map(Vec::len).max().unwrap_or(0)
    }
}

/// The rows of a table in a built report: held, or produced by a [`RowSource`]
/// while a writer reads them. Serializes as the list of rows either way.
pub enum Rows<'s> {
    Held(HeldRows),
    Streamed(Box<dyn RowSource + 's>),
}

impl Rows<'_> {
    /// Every row in memory.
    pub fn into_held(self) -> HeldRows {
        match self {
            Rows::Held(rows) => rows,
            Rows::Streamed(source) => {
                let mut rows = Vec::with_capacity(source.len());
                source.for_each_row(0..source.len(), &mut |row| {
                    rows.push(row.to_vec());
                    ControlFlow::Continue(())
                });
                rows
            }
        }
    }
}

impl RowSource for Rows<'_> {
    fn len(&self) -> usize {
        match self {
            Rows::Held(rows) => rows.as_slice().len(),
            Rows::Streamed(source) => source.len(),
        }
    }

    fn for_each_row(&self, range: Range<usize>, f: &mut dyn FnMut(&[Cell]) -> ControlFlow<()>) {
        match self {
            Rows::Held(rows) => rows.for_each_row(range, f),
            Rows::Streamed(source) => source.for_each_row(range, f),
        }
    }

    fn widest(&self) -> usize {
        match self {
            Rows::Held(rows) => rows.widest(),
            Rows::Streamed(source) => source.widest(),
        }
    }
}

impl fmt::Debug for Rows<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rows::Held(rows) => f.debug_tuple("Held").field(rows).finish(),
            Rows::Streamed(source) => write!(f, "Streamed({} rows)", source.len()),
        }
    }
}

impl Serialize for Rows<'_> {
    /// The rows as a list, produced rows written as they come.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Rows::Held(rows) => rows.serialize(serializer),
            Rows::Streamed(source) => {
                let mut seq = serializer.serialize_seq(Some(source.len()))?;
                let mut failed = None;
                source.for_each_row(
                    0..source.len(),
                    &mut |row| match seq.serialize_element(row) {
                        Ok(()) => ControlFlow::Continue(()),
                        Err(e) => {
                            failed = Some(e);
                            ControlFlow::Break(())
                        }
                    },
                );
                match failed {
                    Some(e) => Err(e),
                    None => seq.end(),
                }
            }
        }
    }
}

impl<R> Table<R> {
    /// The same table with its rows mapped by `f`.
    pub fn map_rows<S>(self, f: impl FnOnce(R) -> S) -> Table<S> {
        Table {
            name: self.name,
            title: self.title,
            description: self.description,
            columns: self.columns,
            rows: f(self.rows),
            notice: self.notice,
        }
    }
}

impl<R: RowSource> Table<R> {
    /// The number of columns: the header's, or the longest held row's.
    pub fn width(&self) -> usize {
        self.rows.widest().max(self.columns.len())
    }

    /// Calls `f` with each row in `range` (cut to the number of rows), in order,
    /// stopping at the first error.
    pub fn try_for_each<E>(
        &self,
        range: Range<usize>,
        mut f: impl FnMut(&[Cell]) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut failed = None;
        self.rows.for_each_row(range, &mut |row| match f(row) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                failed = Some(e);
                ControlFlow::Break(())
            }
        });
        failed.map_or(Ok(()), Err)
    }
}

/// A built report: its largest tables produce their rows while being written,
/// so no writer needs them all in memory. [`StreamedReport::into_report`] gives
/// the plain [`Report`] with every row held.
pub type StreamedReport<'s> = Report<Rows<'s>>;

impl Report<Rows<'_>> {
    /// The plain report, every produced row collected into its table.
    pub fn into_report(self) -> Report {
        self.map_rows(Rows::into_held)
    }

    /// The report without the rows of its streamed tables, for what is read
    /// after writing (the summary, the held tables): a streamed table keeps its
    /// header and notice and holds no rows.
    pub fn detach(self) -> Report {
        self.map_rows(|rows| match rows {
            Rows::Held(rows) => rows,
            Rows::Streamed(_) => Vec::new(),
        })
    }
}
