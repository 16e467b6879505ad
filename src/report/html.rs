//! The HTML writer: one self-contained page (`templates/report.html`, askama)
//! with inline CSS, inline SVG charts and one inline script
//! (`templates/report.js`); it fetches nothing, and its Content-Security-Policy
//! lets run only that script, by its SHA-256.
//!
//! Layout: header (title, organization, the snapshots with their hashes,
//! generation time, tool), "what needs action" (the exceptions by severity and
//! by finding, linking to their first rows), contents, summary cards (section
//! `Headline`), table notices, findings (section `Findings`), other summary
//! items, charts, one `<section>` per table, the per-user cards
//! ([`super::drilldown`], opened by CSS `:target` from any e-mail), Evidence.
//! Tables sort on a header click and filter through a text box when scripts
//! run, and read as plain tables without scripts; printed, the page is compact
//! (landscape, the first rows of each table; see the print CSS).
//!
//! Every text from the report is escaped by askama (`<>&"'`), in text and in
//! attributes; only the script, a constant, is marked safe. Invisible and
//! reordering characters are spelled out (`visible`). The charts are SVG
//! elements of the template whose coordinates are numbers computed here, their
//! labels escaped like any text. The script contains no data: it reads the DOM.
//!
//! Big tables would make an unusable page, so each table shows at most
//! [`MAX_ROWS`] rows and [`MAX_COLUMNS`] columns, with a notice saying so; the
//! CSV and XLSX files have everything.

use std::collections::{HashMap, HashSet};

use askama::Template;

use super::drilldown::UserCard;
use super::{Cell, Chart, ChartKind, EvidenceItem, Report, RowSource, Section, Table, format_time};
use crate::analyze::exceptions::Severity;

/// Rows shown per table.
pub const MAX_ROWS: usize = 1_000;
/// Columns shown per table (a wide `access_matrix` has one per group).
pub const MAX_COLUMNS: usize = 60;
/// Bars shown per stacked bar chart.
const MAX_BARS: usize = 40;
/// Points that get a marker with a tooltip in a line chart.
const MAX_MARKED_POINTS: usize = 60;
const PALETTE: [&str; 8] = [
    "#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563",
];

/// A series' colour: access levels by severity (`own` darkest), others from
/// [`PALETTE`] by position.
fn series_color(name: &str, i: usize) -> &'static str {
    match name {
        "use" => "#93c5fd",
        "edit" => "#f59e0b",
        "own" => "#7f1d1d",
        // Severities, as in the stylesheet's --crit, --high, --med, --low.
        "critical" => "#7f1d1d",
        "high" => "#b91c1c",
        "medium" => "#b45309",
        "low" => "#4b5563",
        _ => PALETTE[i % PALETTE.len()],
    }
}

/// Row and column caps, lowered in tests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HtmlLimits {
    pub max_rows: usize,
    pub max_columns: usize,
}

/// Renders `report` as one self-contained HTML page. Only the rows shown are
/// read from a table (see [`MAX_ROWS`]), so produced rows stay cheap.
pub fn render_html<R: RowSource>(report: &Report<R>) -> Result<String, askama::Error> {
    render_html_with(
        report,
        HtmlLimits {
            max_rows: MAX_ROWS,
            max_columns: MAX_COLUMNS,
        },
    )
}

struct SummaryView {
    section: String,
    label: String,
    value: String,
}

struct NoticeView {
    id: String,
    title: String,
    notice: String,
}

struct CellView {
    text: String,
    /// `n` number, `b` boolean, `t` time, `s` text, `e` empty: the script sorts
    /// `n` cells numerically; `lvl-own`, `lvl-edit`, `lvl-use` colour access levels.
    class: String,
    /// The drill-down card this cell's e-mail opens.
    href: Option<String>,
    /// An anchor the "what needs action" list links to.
    id: Option<String>,
    /// Longer than [`LONG_CELL`] characters: shown in a scrolling box (clipped
    /// when printed).
    long: bool,
}

/// Cells longer than this many characters scroll instead of growing the row.
const LONG_CELL: usize = 300;

struct RowView {
    id: Option<String>,
    cells: Vec<CellView>,
}

/// A piece of a table's description: text, or `code` written between backticks.
struct DescPart {
    code: bool,
    text: String,
}

struct TableView {
    id: String,
    name: String,
    title: String,
    description: Vec<DescPart>,
    notice: Option<String>,
    caps: Vec<String>,
    /// The table's row count, grouped by thousands.
    total_rows: String,
    columns: Vec<String>,
    rows: Vec<RowView>,
}

/// One line of the header: a snapshot the report was computed from.
struct MetaView {
    label: String,
    text: String,
}

struct SeverityView {
    name: &'static str,
    count: usize,
    /// The first exceptions row of that severity.
    anchor: Option<String>,
}

struct FindingView {
    severity: &'static str,
    finding: String,
    count: usize,
    action: String,
    anchor: String,
}

/// "What needs action": the exceptions by severity and by finding, each
/// linking to its first row. `present` when the report has an exceptions table.
#[derive(Default)]
struct ActionView {
    present: bool,
    severities: Vec<SeverityView>,
    findings: Vec<FindingView>,
}

struct CardPart {
    title: &'static str,
    empty: &'static str,
    lines: Vec<String>,
    more: Option<String>,
}

struct CardView {
    id: String,
    user_id: String,
    email: String,
    name: String,
    account: Vec<(String, String)>,
    findings: Vec<(&'static str, String)>,
    parts: Vec<CardPart>,
}

struct TextView {
    x: String,
    y: String,
    anchor: &'static str,
    label: String,
    /// The full label, as a tooltip, when `label` was shortened.
    full: Option<String>,
}

struct LineView {
    x1: String,
    y1: String,
    x2: String,
    y2: String,
}

struct PolylineView {
    points: String,
    color: &'static str,
}

struct MarkView {
    x: String,
    y: String,
    color: &'static str,
    tip: String,
}

struct RectView {
    x: String,
    y: String,
    w: String,
    h: String,
    color: &'static str,
    tip: String,
}

struct LegendView {
    x: String,
    y: String,
    text_x: String,
    text_y: String,
    color: &'static str,
    name: String,
}

struct ChartView {
    id: String,
    title: String,
    width: String,
    height: String,
    axes: Vec<LineView>,
    grid: Vec<LineView>,
    labels: Vec<TextView>,
    polylines: Vec<PolylineView>,
    marks: Vec<MarkView>,
    rects: Vec<RectView>,
    legend: Vec<LegendView>,
    note: Option<String>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    title: String,
    org: String,
    snapshot_date: &'a str,
    snapshots: Vec<MetaView>,
    generated_at: String,
    tool: String,
    action: ActionView,
    headline: Vec<SummaryView>,
    findings: Vec<SummaryView>,
    other_summary: Vec<SummaryView>,
    notices: Vec<NoticeView>,
    charts: Vec<ChartView>,
    tables: Vec<TableView>,
    cards: Vec<CardView>,
    cards_note: Option<String>,
    evidence: Vec<EvidenceItem>,
    script: &'static str,
    script_hash: String,
}

/// The page's one script; the CSP allows exactly this text (by its SHA-256).
const SCRIPT: &str = include_str!("../../templates/report.js");

/// The CSP source of [`SCRIPT`]: `sha256-<base64 of its SHA-256>`.
fn script_hash() -> String {
    use base64::Engine;
    use sha2::Digest;
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(SCRIPT.as_bytes()))
    )
}

/// Whether `c` is invisible or reorders text when rendered: control
/// characters other than tab and line breaks, zero-width characters, and the
/// bidirectional marks, embeddings, overrides and isolates. The zero-width
/// (non-)joiners stay: emoji and several scripts need them, and they reorder
/// nothing.
fn is_invisible(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        || matches!(c,
            '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}' | '\u{200E}' | '\u{200F}'
            | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}' | '\u{FEFF}')
}

/// `s` with every invisible or reordering character (see [`is_invisible`])
/// written out as `⟦U+200F⟧`, so `Mallory\u{200F}gpj.exe` cannot pass for
/// `Malloryexe.jpg`.
pub(crate) fn visible(s: &str) -> String {
    if !s.chars().any(is_invisible) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_invisible(c) {
            out.push_str(&format!("⟦U+{:04X}⟧", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A description with `code` spans: text between backticks becomes code.
fn description(text: &str) -> Vec<DescPart> {
    text.split('`')
        .enumerate()
        .filter(|(_, t)| !t.is_empty())
        .map(|(i, t)| DescPart {
            code: i % 2 == 1,
            text: visible(t),
        })
        .collect()
}

/// `12345` → `12 345`.
fn group_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// An HTML id from untrusted text: `[A-Za-z0-9_-]` only, unique in `used`.
fn unique_id(prefix: &str, name: &str, used: &mut HashSet<String>) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let base = format!("{prefix}{clean}");
    let mut id = base.clone();
    let mut n = 2;
    while used.contains(&id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    used.insert(id.clone());
    id
}

fn cell_view(cell: &Cell) -> CellView {
    let class = match cell {
        Cell::Empty => "e",
        Cell::Text(_) => "s",
        Cell::Int(_) => "n",
        Cell::Bool(_) => "b",
        Cell::Time(_) => "t",
    };
    let text = visible(&cell.to_plain());
    CellView {
        long: text.len() > LONG_CELL && text.chars().nth(LONG_CELL).is_some(),
        text,
        class: class.to_string(),
        href: None,
        id: None,
    }
}

fn summary_view(item: &super::SummaryItem) -> SummaryView {
    SummaryView {
        section: item.section.as_str().to_string(),
        label: visible(&item.label),
        value: visible(&item.value.to_plain()),
    }
}

/// A table's view; `cards` maps each e-mail (as shown) to the id of its
/// drill-down card, which every cell holding it links to.
fn table_view<R: RowSource>(
    table: &Table<R>,
    id: String,
    limits: HtmlLimits,
    cards: &HashMap<String, String>,
) -> TableView {
    let width = table.width();
    let total = table.rows.len();
    let shown_cols = width.min(limits.max_columns);
    let shown_rows = total.min(limits.max_rows);
    let mut caps = Vec::new();
    if shown_rows < total {
        caps.push(format!(
            "Showing the first {} of {} rows; the CSV and XLSX files have all rows.",
            group_thousands(shown_rows),
            group_thousands(total)
        ));
    }
    if shown_cols < width {
        caps.push(format!(
            "Showing the first {} of {} columns; the CSV and XLSX files have all columns.",
            group_thousands(shown_cols),
            group_thousands(width)
        ));
    }
    let columns: Vec<String> = (0..shown_cols)
        .map(|c| table.columns.get(c).cloned().unwrap_or_default())
        .collect();
    let level_cols: Vec<bool> = columns
        .iter()
        .map(|c| {
            matches!(
                c.as_str(),
                "access_level" | "level" | "old_level" | "new_level"
            )
        })
        .collect();
    let exceptions = table.name == "exceptions";
    let col = |name: &str| columns.iter().position(|c| c == name);
    let (severity_col, finding_col) = (col("severity"), col("finding"));
    let mut anchored: HashSet<String> = HashSet::new();
    let mut shown = Vec::with_capacity(shown_rows);
    let all_shown: Result<(), std::convert::Infallible> =
        table.try_for_each(0..shown_rows, |row| {
            let mut cells: Vec<CellView> = (0..shown_cols)
                .map(|c| {
                    let mut view = row
                        .get(c)
                        .map(cell_view)
                        .unwrap_or_else(|| cell_view(&Cell::Empty));
                    if let Some(card) = cards.get(&view.text) {
                        view.href = Some(card.clone());
                    }
                    if level_cols[c] && matches!(view.text.as_str(), "own" | "edit" | "use") {
                        view.class = format!("{} lvl-{}", view.class, view.text);
                    }
                    view
                })
                .collect();
            let mut row_id = None;
            if exceptions {
                let text = |i: Option<usize>| i.and_then(|i| cells.get(i)).map(|c| c.text.clone());
                if let Some(sev) = text(severity_col) {
                    if anchored.insert(format!("s:{sev}")) {
                        row_id = Some(format!("exc-{}", anchor_part(&sev)));
                    }
                }
                if let (Some(f), Some(i)) = (text(finding_col), finding_col) {
                    if anchored.insert(format!("f:{f}")) {
                        cells[i].id = Some(format!("exc-f-{}", anchor_part(&f)));
                    }
                }
            }
            shown.push(RowView { id: row_id, cells });
            Ok(())
        });
    let Ok(()) = all_shown;
    TableView {
        id,
        name: table.name.clone(),
        title: visible(&table.title),
        description: description(&table.description),
        notice: table.notice.as_deref().map(visible),
        caps,
        total_rows: group_thousands(total),
        columns,
        rows: shown,
    }
}

/// `[A-Za-z0-9_-]` only.
fn anchor_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// "What needs action" from the exceptions table: counts by severity and by
/// finding (in the table's order, most severe first), with the action.
fn action_view<R: RowSource>(report: &Report<R>) -> ActionView {
    let Some(table) = report.table("exceptions") else {
        return ActionView::default();
    };
    let col = |name: &str| table.columns.iter().position(|c| c == name);
    let (Some(sev), Some(finding), Some(action)) =
        (col("severity"), col("finding"), col("recommended_action"))
    else {
        return ActionView::default();
    };
    let mut findings: Vec<FindingView> = Vec::new();
    let mut by_severity: HashMap<String, usize> = HashMap::new();
    let _: Result<(), std::convert::Infallible> = table.try_for_each(0..table.rows.len(), |row| {
        let text = |i: usize| row.get(i).map(|c| c.to_plain()).unwrap_or_default();
        let (s, f) = (text(sev), text(finding));
        *by_severity.entry(s.clone()).or_default() += 1;
        match findings.iter_mut().find(|v| v.finding == f) {
            Some(v) => v.count += 1,
            None => findings.push(FindingView {
                severity: Severity::parse(&s).map_or("low", Severity::as_str),
                anchor: format!("exc-f-{}", anchor_part(&f)),
                finding: visible(&f),
                count: 1,
                action: visible(&text(action)),
            }),
        }
        Ok(())
    });
    let severities = Severity::ALL
        .iter()
        .map(|s| {
            let count = by_severity.get(s.as_str()).copied().unwrap_or(0);
            SeverityView {
                name: s.as_str(),
                count,
                anchor: (count > 0).then(|| format!("exc-{}", s.as_str())),
            }
        })
        .collect();
    ActionView {
        present: true,
        severities,
        findings,
    }
}

/// The header's snapshot lines: id, time and short SHA-256 of each snapshot
/// the report was computed from.
fn snapshot_lines(provenance: &super::manifest::Provenance) -> Vec<MetaView> {
    provenance
        .snapshots
        .iter()
        .filter(|s| s.role != "later")
        .map(|s| MetaView {
            label: match s.role.as_str() {
                "reported" => "Snapshot".to_string(),
                "since" => "Compared with".to_string(),
                "campaign" => "Campaign snapshot".to_string(),
                other => other.to_string(),
            },
            text: format!(
                "#{} · {} · SHA-256 {}…",
                s.id,
                s.taken_at,
                s.sha256.get(..12).unwrap_or(&s.sha256)
            ),
        })
        .collect()
}

fn card_view(c: &UserCard, id: String) -> CardView {
    let part = |title, empty, lines: &[String], key: &str| CardPart {
        title,
        empty,
        lines: lines.iter().map(|l| visible(l)).collect(),
        more: c
            .truncated
            .iter()
            .find(|(p, _)| p == key)
            .map(|(_, n)| format!("{n} in all; the tables list every one.")),
    };
    CardView {
        id,
        user_id: visible(&c.user_id),
        email: visible(&c.email),
        name: visible(&c.name),
        account: c
            .account
            .iter()
            .map(|(k, v)| (k.clone(), visible(v)))
            .collect(),
        findings: c
            .findings
            .iter()
            .map(|(s, f)| (s.as_str(), visible(f)))
            .collect(),
        parts: vec![
            part("Groups", "In no group.", &c.groups, "groups"),
            part(
                "Roles",
                "No role held directly or through a group.",
                &c.roles,
                "roles",
            ),
            part(
                "Edit and own access",
                "None (an inactive user holds no effective access).",
                &c.access,
                "edit and own access",
            ),
            part(
                "Changes since the previous snapshot",
                "None.",
                &c.changes,
                "changes",
            ),
        ],
    }
}

/// A coordinate with one decimal, no trailing `.0`.
fn num(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// A value label: integers plainly, others with up to two decimals.
fn value_label(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A "nice" tick step (1, 2 or 5 times a power of ten) for `range` in ~`ticks`.
fn nice_step(range: f64, ticks: f64) -> f64 {
    let raw = (range / ticks).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Tick values covering `lo..=hi`.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let step = nice_step(hi - lo, 4.0);
    let start = (lo / step).floor() * step;
    let mut out = Vec::new();
    let mut v = start;
    while out.len() < 12 {
        out.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        if v >= hi - step * 1e-9 {
            break;
        }
        v += step;
    }
    out
}

/// At most `max` characters of `s`, with `…` when cut.
fn shorten(s: &str, max: usize) -> (String, Option<String>) {
    if s.chars().count() <= max {
        (s.to_string(), None)
    } else {
        let short: String = s.chars().take(max.saturating_sub(1)).collect();
        (format!("{short}…"), Some(s.to_string()))
    }
}

fn text(x: f64, y: f64, anchor: &'static str, label: &str, max_chars: usize) -> TextView {
    let (label, full) = shorten(&visible(label), max_chars);
    TextView {
        x: num(x),
        y: num(y),
        anchor,
        label,
        full,
    }
}

fn legend(chart: &Chart, left: f64, top: f64) -> Vec<LegendView> {
    chart
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let y = top + 18.0 * i as f64;
            LegendView {
                x: num(left),
                y: num(y),
                text_x: num(left + 16.0),
                text_y: num(y + 10.0),
                color: series_color(&s.name, i),
                name: shorten(&visible(&s.name), 60).0,
            }
        })
        .collect()
}

fn empty_chart(id: String, title: &str) -> ChartView {
    ChartView {
        id,
        title: title.to_string(),
        width: "640".into(),
        height: "0".into(),
        axes: vec![],
        grid: vec![],
        labels: vec![],
        polylines: vec![],
        marks: vec![],
        rects: vec![],
        legend: vec![],
        note: Some("No data to chart.".into()),
    }
}

fn line_chart(chart: &Chart, id: String) -> ChartView {
    let n = chart.x_labels.len();
    let finite: Vec<f64> = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter().take(n).copied())
        .filter(|v| v.is_finite())
        .collect();
    if n == 0 || finite.is_empty() {
        return empty_chart(id, &chart.title);
    }
    let (w, plot_h) = (640.0, 200.0);
    let (left, right, top) = (64.0, 24.0, 12.0);
    let lo = finite.iter().copied().fold(0.0f64, f64::min);
    let mut hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if hi <= lo {
        hi = lo + 1.0;
    }
    let ticks = ticks(lo, hi);
    let y_lo = ticks.first().copied().unwrap_or(lo).min(lo);
    let y_hi = ticks.last().copied().unwrap_or(hi).max(hi);
    let plot_w = w - left - right;
    let bottom = top + plot_h;
    let y_of = |v: f64| bottom - (v - y_lo) / (y_hi - y_lo) * plot_h;
    let x_of = |i: usize| {
        if n == 1 {
            left + plot_w / 2.0
        } else {
            left + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let mut grid = Vec::new();
    let mut labels = Vec::new();
    for t in &ticks {
        let y = y_of(*t);
        grid.push(LineView {
            x1: num(left),
            y1: num(y),
            x2: num(w - right),
            y2: num(y),
        });
        labels.push(text(left - 6.0, y + 4.0, "end", &value_label(*t), 12));
    }
    let every = n.div_ceil(8).max(1);
    for (i, label) in chart.x_labels.iter().enumerate() {
        if i % every == 0 || i == n - 1 {
            labels.push(text(x_of(i), bottom + 16.0, "middle", label, 12));
        }
    }
    let mut polylines = Vec::new();
    let mut marks = Vec::new();
    for (si, series) in chart.series.iter().enumerate() {
        let color = series_color(&series.name, si);
        let mut run: Vec<String> = Vec::new();
        for (i, v) in series.values.iter().take(n).enumerate() {
            if v.is_finite() {
                run.push(format!("{},{}", num(x_of(i)), num(y_of(*v))));
                if n <= MAX_MARKED_POINTS {
                    marks.push(MarkView {
                        x: num(x_of(i)),
                        y: num(y_of(*v)),
                        color,
                        tip: format!(
                            "{} — {}: {}",
                            series.name,
                            chart.x_labels[i],
                            value_label(*v)
                        ),
                    });
                }
            } else if !run.is_empty() {
                polylines.push(PolylineView {
                    points: run.join(" "),
                    color,
                });
                run.clear();
            }
        }
        if !run.is_empty() {
            polylines.push(PolylineView {
                points: run.join(" "),
                color,
            });
        }
    }
    let legend_top = bottom + 30.0;
    let legend = legend(chart, left, legend_top);
    let height = legend_top + 18.0 * chart.series.len() as f64 + 4.0;
    ChartView {
        id,
        title: chart.title.clone(),
        width: num(w),
        height: num(height),
        axes: vec![
            LineView {
                x1: num(left),
                y1: num(top),
                x2: num(left),
                y2: num(bottom),
            },
            LineView {
                x1: num(left),
                y1: num(y_of(0.0f64.clamp(y_lo, y_hi))),
                x2: num(w - right),
                y2: num(y_of(0.0f64.clamp(y_lo, y_hi))),
            },
        ],
        grid,
        labels,
        polylines,
        marks,
        rects: vec![],
        legend,
        note: None,
    }
}

fn stacked_bar_chart(chart: &Chart, id: String) -> ChartView {
    let n = chart.x_labels.len().min(MAX_BARS);
    let value = |s: &super::Series, i: usize| {
        s.values
            .get(i)
            .copied()
            .filter(|v| v.is_finite() && *v > 0.0)
            .unwrap_or(0.0)
    };
    let totals: Vec<f64> = (0..n)
        .map(|i| chart.series.iter().map(|s| value(s, i)).sum())
        .collect();
    let max_total = totals.iter().copied().fold(0.0f64, f64::max);
    if n == 0 || chart.series.is_empty() {
        return empty_chart(id, &chart.title);
    }
    let (w, left, right, top, bar_h, gap) = (640.0, 170.0, 24.0, 8.0, 16.0, 6.0);
    let plot_w = w - left - right;
    let ticks = ticks(0.0, max_total.max(1.0));
    let x_hi = ticks.last().copied().unwrap_or(1.0).max(max_total).max(1.0);
    let x_of = |v: f64| left + v / x_hi * plot_w;
    let bottom = top + (bar_h + gap) * n as f64;
    let mut grid = Vec::new();
    let mut labels = Vec::new();
    for t in &ticks {
        grid.push(LineView {
            x1: num(x_of(*t)),
            y1: num(top),
            x2: num(x_of(*t)),
            y2: num(bottom),
        });
        labels.push(text(
            x_of(*t),
            bottom + 14.0,
            "middle",
            &value_label(*t),
            12,
        ));
    }
    let mut rects = Vec::new();
    for i in 0..n {
        let y = top + (bar_h + gap) * i as f64 + gap / 2.0;
        labels.push(text(
            left - 6.0,
            y + bar_h - 4.0,
            "end",
            &chart.x_labels[i],
            24,
        ));
        let mut cum = 0.0;
        for (si, s) in chart.series.iter().enumerate() {
            let v = value(s, i);
            if v > 0.0 {
                rects.push(RectView {
                    x: num(x_of(cum)),
                    y: num(y),
                    w: num(x_of(cum + v) - x_of(cum)),
                    h: num(bar_h),
                    color: series_color(&s.name, si),
                    tip: format!("{} — {}: {}", chart.x_labels[i], s.name, value_label(v)),
                });
                cum += v;
            }
        }
    }
    let legend_top = bottom + 28.0;
    let legend = legend(chart, left, legend_top);
    let height = legend_top + 18.0 * chart.series.len() as f64 + 4.0;
    let note = (chart.x_labels.len() > n).then(|| {
        format!(
            "Showing the first {} of {} bars.",
            n,
            group_thousands(chart.x_labels.len())
        )
    });
    ChartView {
        id,
        title: chart.title.clone(),
        width: num(w),
        height: num(height),
        axes: vec![LineView {
            x1: num(left),
            y1: num(top),
            x2: num(left),
            y2: num(bottom),
        }],
        grid,
        labels,
        polylines: vec![],
        marks: vec![],
        rects,
        legend,
        note,
    }
}

pub(crate) fn render_html_with<R: RowSource>(
    report: &Report<R>,
    limits: HtmlLimits,
) -> Result<String, askama::Error> {
    let mut ids: HashSet<String> = ["action", "summary", "charts", "users", "evidence"]
        .into_iter()
        .map(String::from)
        .collect();
    let mut card_ids: HashMap<String, String> = HashMap::new();
    let cards: Vec<CardView> = report
        .drilldown
        .cards
        .iter()
        .map(|c| {
            let id = unique_id("u-", &c.user_id, &mut ids);
            card_ids.insert(visible(&c.email), id.clone());
            card_view(c, id)
        })
        .collect();
    let cards_note = (report.drilldown.users > cards.len()).then(|| {
        format!(
            "{} of the {} users have a card here: those with exceptions, privileges or changes first; the users table lists everyone.",
            group_thousands(cards.len()),
            group_thousands(report.drilldown.users)
        )
    });
    let tables: Vec<TableView> = report
        .tables_beyond_csv()
        .map(|t| {
            let id = unique_id("t-", &t.name, &mut ids);
            table_view(t, id, limits, &card_ids)
        })
        .collect();
    let notices = tables
        .iter()
        .filter_map(|t| {
            t.notice.as_ref().map(|n| NoticeView {
                id: t.id.clone(),
                title: t.title.clone(),
                notice: n.clone(),
            })
        })
        .collect();
    let charts = report
        .charts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let id = format!("chart-{}", i + 1);
            match c.kind {
                ChartKind::Line => line_chart(c, id),
                ChartKind::StackedBar => stacked_bar_chart(c, id),
            }
        })
        .collect();
    let by_section = |section: Section| -> Vec<SummaryView> {
        report
            .summary
            .iter()
            .filter(|i| i.section == section)
            .map(summary_view)
            .collect()
    };
    let page = ReportPage {
        title: visible(&report.title),
        org: visible(&report.org),
        snapshot_date: &report.snapshot_date,
        snapshots: snapshot_lines(&report.provenance),
        generated_at: format_time(&report.generated_at),
        tool: crate::LONG_VERSION.to_string(),
        action: action_view(report),
        headline: by_section(Section::Headline),
        findings: by_section(Section::Findings),
        other_summary: report
            .summary
            .iter()
            .filter(|i| !matches!(i.section, Section::Headline | Section::Findings))
            .map(summary_view)
            .collect(),
        notices,
        charts,
        tables,
        cards,
        cards_note,
        evidence: report
            .evidence
            .iter()
            .map(|e| EvidenceItem::new(visible(&e.section), visible(&e.key), visible(&e.value)))
            .collect(),
        script: SCRIPT,
        script_hash: script_hash(),
    };
    page.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Report;
    use crate::report::write::tests::{hostile_texts, sample_report};
    use scraper::{Html, Selector};

    fn sel(s: &str) -> Selector {
        Selector::parse(s).unwrap()
    }

    fn render(report: &Report) -> Html {
        Html::parse_document(&render_html(report).unwrap())
    }

    /// The page's Content-Security-Policy.
    fn csp(doc: &Html) -> String {
        doc.select(&sel("meta[http-equiv=Content-Security-Policy]"))
            .next()
            .and_then(|m| m.value().attr("content"))
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn hostile_text_is_text_and_only_our_script_runs() {
        let report = sample_report();
        let html = render_html(&report).unwrap();
        let doc = Html::parse_document(&html);
        assert_eq!(doc.select(&sel("script")).count(), 1);
        let script: String = doc.select(&sel("script")).next().unwrap().text().collect();
        assert!(!script.contains("alert"), "data leaked into the script");
        // No element from the data: the hostile summary label is not an <img>.
        assert_eq!(doc.select(&sel("img")).count(), 0);
        assert_eq!(
            doc.select(&sel("b")).count(),
            0,
            "title markup was not escaped"
        );
        let cells: Vec<String> = doc
            .select(&sel("section#t-users tbody tr td:nth-child(2)"))
            .map(|td| td.text().collect())
            .collect();
        let expected = hostile_texts();
        assert_eq!(cells.len(), expected.len());
        for (got, want) in cells.iter().zip(&expected) {
            // HTML parsing turns CR LF and lone CR into LF, as browsers do; an
            // invisible or reordering character is spelled out.
            let want = want
                .replace("\r\n", "\n")
                .replace('\r', "\n")
                .replace('\u{200F}', "⟦U+200F⟧");
            assert_eq!(*got, want);
        }
        let h1: String = doc.select(&sel("h1")).next().unwrap().text().collect();
        assert_eq!(h1, "Access review <b>Q4</b>");
        // The raw markup never appears unescaped in the page source.
        assert!(!html.contains("<script>alert"));
        assert!(!html.contains("<img"));
        assert!(!html.contains("<b>Q4"));
    }

    #[test]
    fn the_csp_allows_exactly_the_one_script_by_its_hash() {
        use base64::Engine;
        use sha2::Digest;
        let doc = render(&sample_report());
        let csp = csp(&doc);
        let script_src = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"))
            .unwrap_or_default();
        assert!(!script_src.contains("unsafe-inline"), "{csp}");
        let script: String = doc.select(&sel("script")).next().unwrap().text().collect();
        let hash = base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha256::digest(script.as_bytes()));
        assert!(
            csp.contains(&format!("script-src 'sha256-{hash}'")),
            "{csp}"
        );
    }

    #[test]
    fn invisible_and_reordering_characters_are_spelled_out() {
        assert_eq!(visible("Mallory\u{200F}gpj.exe"), "Mallory⟦U+200F⟧gpj.exe");
        assert_eq!(
            visible("a\u{202E}b\u{2066}c\u{200B}d\u{FEFF}"),
            "a⟦U+202E⟧b⟦U+2066⟧c⟦U+200B⟧d⟦U+FEFF⟧"
        );
        assert_eq!(visible("bell\u{7}"), "bell⟦U+0007⟧");
        for kept in ["tab\there", "two\nlines", "日本語 🔐👩‍💻", "plain"] {
            assert_eq!(visible(kept), kept);
        }
        let mut report = sample_report();
        report.org = "evil\u{202E}gro".into();
        report.tables[0].rows[0][1] = Cell::text("Mallory\u{200F}gpj.exe");
        let html = render_html(&report).unwrap();
        assert!(!html.contains('\u{200F}') && !html.contains('\u{202E}'));
        assert!(html.contains("Mallory⟦U+200F⟧gpj.exe"));
    }

    #[test]
    fn descriptions_render_backticks_as_code_and_the_title_names_the_org_once() {
        let mut report = sample_report();
        report.title = "Retool access review".into();
        report.org = "demo".into();
        report.tables[0].description = "Level `none` means no access; `via` lists sources.".into();
        let doc = render(&report);
        let desc = doc.select(&sel("section#t-users p.desc")).next().unwrap();
        let text: String = desc.text().collect();
        assert!(!text.contains('`'), "{text}");
        let code: Vec<String> = desc
            .select(&sel("code"))
            .map(|c| c.text().collect())
            .collect();
        assert_eq!(code, ["none", "via"]);
        let title: String = doc.select(&sel("title")).next().unwrap().text().collect();
        assert_eq!(title.matches("demo").count(), 1, "{title}");
    }

    #[test]
    fn access_levels_are_coloured_by_severity_own_darkest() {
        let luminance = |hex: &str| {
            let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap();
            let (r, g, b) = ((v >> 16) & 255, (v >> 8) & 255, v & 255);
            0.2126 * r as f64 + 0.7152 * g as f64 + 0.0722 * b as f64
        };
        let (u, e, o) = (
            luminance(series_color("use", 0)),
            luminance(series_color("edit", 1)),
            luminance(series_color("own", 2)),
        );
        assert!(u > e && e > o, "use {u}, edit {e}, own {o}");
        let mut report = sample_report();
        report.charts = vec![Chart {
            title: "Grants".into(),
            kind: ChartKind::StackedBar,
            x_labels: vec!["g".into()],
            series: ["use", "edit", "own"]
                .iter()
                .map(|n| super::super::Series {
                    name: n.to_string(),
                    values: vec![1.0],
                })
                .collect(),
        }];
        let doc = render(&report);
        let fills: Vec<String> = doc
            .select(&sel("rect.bar"))
            .filter_map(|r| r.value().attr("fill").map(String::from))
            .collect();
        assert_eq!(fills, ["#93c5fd", "#f59e0b", "#7f1d1d"]);
    }

    #[test]
    fn fetches_nothing_from_the_network() {
        let doc = render(&sample_report());
        for el in doc.select(&sel("[src], [href], [action], [srcset], [data]")) {
            for attr in ["src", "href", "action", "srcset", "data"] {
                if let Some(v) = el.value().attr(attr) {
                    assert!(v.starts_with('#'), "external reference {attr}={v:?}");
                }
            }
        }
        for tag in ["link", "img", "iframe", "object", "embed", "base", "form"] {
            assert_eq!(doc.select(&sel(tag)).count(), 0, "<{tag}> present");
        }
        let csp = csp(&doc);
        assert!(csp.contains("default-src 'none'"), "{csp}");
    }

    #[test]
    fn every_table_has_a_section_toc_entry_and_all_its_rows() {
        let report = sample_report();
        let doc = render(&report);
        for table in &report.tables {
            let id = format!("t-{}", table.name);
            let rows = doc.select(&sel(&format!("section#{id} table tr"))).count();
            assert_eq!(rows, 1 + table.rows.len(), "{id}");
            let ths = doc.select(&sel(&format!("section#{id} thead th"))).count();
            assert_eq!(ths, table.columns.len());
            assert_eq!(
                doc.select(&sel(&format!("nav a[href=\"#{id}\"]"))).count(),
                1
            );
            assert_eq!(
                doc.select(&sel(&format!("section#{id} input.filter")))
                    .count(),
                1
            );
        }
        let notices: Vec<String> = doc
            .select(&sel("section#t-groups .notice"))
            .map(|n| n.text().collect())
            .collect();
        assert_eq!(
            notices,
            vec!["Notice: grants not collected: <scope> missing"]
        );
        assert_eq!(doc.select(&sel("#summary .notices li")).count(), 2);
        let cards = doc.select(&sel(".card")).count();
        assert_eq!(cards, 2);
        assert_eq!(doc.select(&sel("section#evidence tbody tr")).count(), 1);
    }

    #[test]
    fn charts_are_inline_svg_with_escaped_labels() {
        let doc = render(&sample_report());
        let svgs: Vec<_> = doc.select(&sel("svg")).collect();
        assert_eq!(svgs.len(), 2);
        let line_text: String = svgs[0].text().collect();
        assert!(line_text.contains("Users <over> time"));
        assert!(line_text.contains("<x>"));
        assert!(line_text.contains("active \"users\""));
        // The NaN splits the admins line in two single points: 3 polylines.
        assert_eq!(svgs[0].select(&sel("polyline")).count(), 3);
        for p in svgs[0].select(&sel("polyline")) {
            let points = p.value().attr("points").unwrap_or_default();
            assert!(
                points
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ' ' | '-')),
                "{points}"
            );
        }
        // Two bars: own 3 + use 5, own 1 (a negative value draws nothing).
        assert_eq!(svgs[1].select(&sel("rect.bar")).count(), 3);
        assert!(svgs[1].text().collect::<String>().contains("<script>"));
        assert_eq!(svgs[1].select(&sel("script")).count(), 0);
    }

    #[test]
    fn big_tables_are_capped_with_a_notice() {
        let mut report = sample_report();
        let t = &mut report.tables[1];
        t.columns = (0..8).map(|c| format!("c{c}")).collect();
        t.rows = (0..30)
            .map(|r| (0..8).map(|c| Cell::Int(r * 10 + c)).collect())
            .collect();
        let html = render_html_with(
            &report,
            HtmlLimits {
                max_rows: 10,
                max_columns: 5,
            },
        )
        .unwrap();
        let doc = Html::parse_document(&html);
        assert_eq!(doc.select(&sel("section#t-groups tbody tr")).count(), 10);
        assert_eq!(doc.select(&sel("section#t-groups thead th")).count(), 5);
        let caps: Vec<String> = doc
            .select(&sel("section#t-groups .cap"))
            .map(|c| c.text().collect())
            .collect();
        assert_eq!(
            caps,
            vec![
                "Showing the first 10 of 30 rows; the CSV and XLSX files have all rows.",
                "Showing the first 5 of 8 columns; the CSV and XLSX files have all columns.",
            ]
        );
    }

    #[test]
    fn helpers_format_numbers_for_people() {
        assert_eq!(group_thousands(250_000), "250 000");
        assert_eq!(group_thousands(5_000), "5 000");
        assert_eq!(group_thousands(12), "12");
        assert_eq!(value_label(2.5), "2.5");
        assert_eq!(value_label(3.0), "3");
        assert_eq!(ticks(0.0, 12.0), vec![0.0, 5.0, 10.0, 15.0]);
        let mut used: HashSet<String> = ["summary".to_string()].into();
        assert_eq!(unique_id("t-", "a b<c>", &mut used), "t-a_b_c_");
        assert_eq!(unique_id("t-", "a b<c>", &mut used), "t-a_b_c_-2");
    }
}
