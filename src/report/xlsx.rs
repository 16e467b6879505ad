//! The XLSX writer: one workbook with a `Summary` sheet (title, organization,
//! snapshot, generation time, summary items, rows and notices per table, number
//! of truncated cells), one sheet per [`Table`] and an `Evidence` sheet.
//!
//! Table sheets have a bold frozen header row, an autofilter and column widths
//! fitted to their content (capped at 60). Times are real Excel date-times in UTC
//! (`yyyy-mm-dd hh:mm:ss`), booleans real booleans, integers numbers (integers
//! beyond Excel's 15 significant digits are written as text so no digit is lost),
//! text kept exactly as sent, formula-like text held as text by the quote-prefix
//! style (never evaluated, value unchanged).
//!
//! Excel's limits are handled rather than hit:
//! - more than 1 048 576 rows: the table continues on `<name> (2)`, `<name> (3)`…
//!   each with its own header row;
//! - more than 16 384 columns (a wide `access_matrix`): the table continues on
//!   further sheets that repeat the first 3 (key) columns, then the next columns;
//! - more than 32 767 characters (UTF-16 units) in a cell: the text is cut and ends
//!   with `… [truncated, N chars]`, N being the original length in characters;
//!   the Summary sheet says how many cells were cut.
//!
//! Sheet names are the table names with `[]:*?/\` and control characters removed,
//! at most 31 characters, unique (case-insensitively); the Summary sheet lists
//! which sheets hold each table. Table sheets use rust_xlsxwriter's constant-memory
//! mode, so a 250 000-row table does not have to fit in memory as cell objects.
//! The output is deterministic except that it records the report's generation time.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;

use rust_xlsxwriter::{
    ColNum, DocProperties, ExcelDateTime, Format, RowNum, Workbook, Worksheet, XlsxError,
};

use super::{Cell, Report, RowSource, Table, format_time};
use crate::output::starts_like_formula;

/// Excel's rows per sheet, header included.
pub const EXCEL_MAX_ROWS: u32 = 1_048_576;
/// Excel's columns per sheet.
pub const EXCEL_MAX_COLS: u16 = 16_384;
/// Excel's characters (UTF-16 code units) per cell.
pub const EXCEL_MAX_CELL_LEN: usize = 32_767;
/// Columns repeated on every extra sheet of a table split by width.
pub const KEY_COLUMNS: usize = 3;
/// Widest column, in Excel character units.
const MAX_COLUMN_WIDTH: usize = 60;
/// Rows sampled per column to fit its width.
const WIDTH_SAMPLE_ROWS: usize = 2_000;
/// Integers with more digits than this lose precision as Excel numbers.
const MAX_EXACT_INT: u64 = 999_999_999_999_999;

const DATETIME_FORMAT: &str = "yyyy-mm-dd hh:mm:ss";

/// Excel's limits, lowered in tests so overflow can be tested on small tables.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Rows per sheet, header row included.
    pub max_rows: u32,
    pub max_cols: u16,
    /// UTF-16 code units per cell.
    pub max_cell_len: usize,
}

impl Limits {
    pub(crate) const EXCEL: Limits = Limits {
        max_rows: EXCEL_MAX_ROWS,
        max_cols: EXCEL_MAX_COLS,
        max_cell_len: EXCEL_MAX_CELL_LEN,
    };
}

/// Builds the workbook for `report` with Excel's real limits. `scratch_dir` is
/// where the constant-memory sheets keep their (unnamed, self-deleting) temporary
/// files; `None` uses the system temporary directory. Save it with
/// `Workbook::save_to_writer` or `Workbook::save`.
pub fn build_workbook<R: RowSource>(
    report: &Report<R>,
    scratch_dir: Option<&Path>,
) -> Result<Workbook, XlsxError> {
    build_workbook_with(report, scratch_dir, Limits::EXCEL)
}

/// One sheet of a table: which rows and which columns of it.
#[derive(Debug, Clone, PartialEq)]
struct SheetPart {
    name: String,
    rows: Range<usize>,
    cols: Vec<usize>,
    /// A later column chunk: its first [`KEY_COLUMNS`] repeat the first sheet's.
    repeats_keys: bool,
}

/// Claims unique sheet names, case-insensitively as Excel compares them.
#[derive(Default)]
struct SheetNames {
    taken: HashSet<String>,
}

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// The longest prefix of `s` of at most `max` UTF-16 units.
fn prefix_utf16(s: &str, max: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += c.len_utf16();
        if used > max {
            return &s[..i];
        }
    }
    s
}

impl SheetNames {
    fn clean(base: &str) -> String {
        let cleaned: String = base
            .chars()
            .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') && !c.is_control())
            .collect();
        let trimmed = cleaned.trim().trim_matches('\'').trim();
        let name = if trimmed.is_empty() { "Table" } else { trimmed };
        // `History` is reserved by Excel.
        if name.eq_ignore_ascii_case("history") {
            "History_".to_string()
        } else {
            name.to_string()
        }
    }

    fn try_claim(&mut self, name: &str) -> bool {
        self.taken.insert(name.to_lowercase())
    }

    /// A unique name for part `n` (1-based) of the sheets called `base`: part 1
    /// is `base` itself if free, part n is `base (n)`, or the next free number.
    fn claim(&mut self, base: &str, n: usize) -> String {
        let base = Self::clean(base);
        if n <= 1 {
            let name = prefix_utf16(&base, 31).trim_end_matches('\'').to_string();
            if !name.is_empty() && self.try_claim(&name) {
                return name;
            }
        }
        let mut k = n.max(2);
        loop {
            let suffix = format!(" ({k})");
            let stem = prefix_utf16(&base, 31 - suffix.len()).trim_end();
            let name = format!("{stem}{suffix}");
            if self.try_claim(&name) {
                return name;
            }
            k += 1;
        }
    }
}

/// Splits `table` into sheets that respect `limits`, naming them.
fn plan_table<R: RowSource>(
    table: &Table<R>,
    limits: Limits,
    names: &mut SheetNames,
) -> Vec<SheetPart> {
    let width = table.width();
    let max_cols = usize::from(limits.max_cols.max(1));
    let col_chunks: Vec<Vec<usize>> = if width <= max_cols {
        vec![(0..width).collect()]
    } else {
        let keys = KEY_COLUMNS.min(max_cols.saturating_sub(1));
        let per_chunk = max_cols - keys;
        let mut chunks = vec![(0..max_cols).collect::<Vec<_>>()];
        let mut start = max_cols;
        while start < width {
            let end = (start + per_chunk).min(width);
            chunks.push((0..keys).chain(start..end).collect());
            start = end;
        }
        chunks
    };
    let per_sheet = usize::try_from(limits.max_rows.saturating_sub(1).max(1)).unwrap_or(usize::MAX);
    let mut row_chunks = Vec::new();
    let mut start = 0;
    while start < table.rows.len() {
        let end = start.saturating_add(per_sheet).min(table.rows.len());
        row_chunks.push(start..end);
        start = end;
    }
    if row_chunks.is_empty() {
        row_chunks.push(0..0);
    }
    let mut parts = Vec::new();
    for rows in &row_chunks {
        for (k, cols) in col_chunks.iter().enumerate() {
            let n = parts.len() + 1;
            parts.push(SheetPart {
                name: names.claim(&table.name, n),
                rows: rows.clone(),
                cols: cols.clone(),
                repeats_keys: k > 0,
            });
        }
    }
    parts
}

/// Text as written to a cell: the value itself, cut to `max` UTF-16 units
/// with a marker naming the original length. (Formula-like text is kept as
/// it is and protected by the quote-prefix style instead: see
/// [`write_text`].)
fn fit_text(s: &str, max: usize) -> Cow<'_, str> {
    let text = Cow::Borrowed(s);
    // A UTF-16 length never exceeds the UTF-8 length.
    if text.len() <= max || utf16_len(&text) <= max {
        return text;
    }
    let marker = format!("… [truncated, {} chars]", s.chars().count());
    let keep = prefix_utf16(&text, max.saturating_sub(utf16_len(&marker)));
    Cow::Owned(format!("{keep}{marker}"))
}

fn is_truncated(s: &str, max: usize) -> bool {
    s.len() > max && utf16_len(s) > max
}

/// How many summary and evidence values will be cut (table cells are counted
/// while they are written).
fn count_truncations<R>(report: &Report<R>, max: usize) -> usize {
    let in_summary = report
        .summary
        .iter()
        .filter(|i| matches!(&i.value, Cell::Text(s) if is_truncated(s, max)))
        .count();
    let in_evidence = report
        .evidence
        .iter()
        .filter(|e| is_truncated(&e.value, max))
        .count();
    in_summary + in_evidence
}

fn excel_time(t: &chrono::DateTime<chrono::Utc>) -> Option<ExcelDateTime> {
    ExcelDateTime::from_timestamp(t.timestamp()).ok()
}

struct Formats {
    bold: Format,
    title: Format,
    datetime: Format,
}

fn row_num(i: usize) -> RowNum {
    RowNum::try_from(i).unwrap_or(RowNum::MAX)
}

fn col_num(i: usize) -> ColNum {
    ColNum::try_from(i).unwrap_or(ColNum::MAX)
}

/// Writes text, fitted; true when it had to be cut. Text a spreadsheet would
/// read as a formula (`=`, `+`, `-`, `@`, tab or CR first) gets the
/// quote-prefix style: it stays text, also when a person edits the cell, and
/// the value is exactly what Retool sent (no added `'`, so a lookup against
/// the roster still matches).
fn write_text(
    ws: &mut Worksheet,
    row: RowNum,
    col: ColNum,
    s: &str,
    limits: Limits,
    format: Option<&Format>,
) -> Result<bool, XlsxError> {
    let text = fit_text(s, limits.max_cell_len);
    let cut = matches!(text, Cow::Owned(_)) && is_truncated(s, limits.max_cell_len);
    match (format, starts_like_formula(s)) {
        (Some(f), true) => {
            ws.write_string_with_format(row, col, text.as_ref(), &f.clone().set_quote_prefix())?
        }
        (None, true) => {
            ws.write_string_with_format(row, col, text.as_ref(), &Format::new().set_quote_prefix())?
        }
        (Some(f), false) => ws.write_string_with_format(row, col, text.as_ref(), f)?,
        (None, false) => ws.write_string(row, col, text.as_ref())?,
    };
    Ok(cut)
}

fn write_cell(
    ws: &mut Worksheet,
    row: RowNum,
    col: ColNum,
    cell: &Cell,
    limits: Limits,
    formats: &Formats,
) -> Result<bool, XlsxError> {
    match cell {
        Cell::Empty => {}
        Cell::Text(s) => return write_text(ws, row, col, s, limits, None),
        Cell::Int(i) if i.unsigned_abs() <= MAX_EXACT_INT => {
            // Exact: |i| < 2^53.
            ws.write_number(row, col, *i as f64)?;
        }
        Cell::Int(i) => {
            ws.write_string(row, col, i.to_string())?;
        }
        Cell::Bool(b) => {
            ws.write_boolean(row, col, *b)?;
        }
        Cell::Time(t) => match excel_time(t) {
            Some(dt) => {
                ws.write_datetime_with_format(row, col, &dt, &formats.datetime)?;
            }
            None => {
                ws.write_string(row, col, format_time(t))?;
            }
        },
    }
    Ok(false)
}

/// A cell's width in characters, for fitting its column.
fn cell_width(cell: &Cell) -> usize {
    match cell {
        Cell::Empty => 0,
        Cell::Text(s) => s.chars().take(MAX_COLUMN_WIDTH).count(),
        Cell::Int(i) => i.to_string().len(),
        Cell::Bool(_) => 5,
        Cell::Time(_) => DATETIME_FORMAT.len(),
    }
}

/// Writes one sheet of a table; returns how many cells were cut.
fn write_table_part<R: RowSource>(
    ws: &mut Worksheet,
    table: &Table<R>,
    part: &SheetPart,
    limits: Limits,
    formats: &Formats,
) -> Result<usize, XlsxError> {
    ws.set_name(&part.name)?;
    if part.cols.is_empty() {
        return Ok(0);
    }
    let empty = String::new();
    let header = |c: usize| table.columns.get(c).unwrap_or(&empty);
    // Column widths fitted to the header and the first rows of the sheet.
    let mut widest: Vec<usize> = part
        .cols
        .iter()
        .map(|&c| header(c).chars().count())
        .collect();
    let sample = part.rows.start..part.rows.end.min(part.rows.start + WIDTH_SAMPLE_ROWS);
    table.try_for_each(sample, |row| {
        for (w, &c) in widest.iter_mut().zip(&part.cols) {
            if let Some(cell) = row.get(c) {
                *w = (*w).max(cell_width(cell));
            }
        }
        Ok::<(), XlsxError>(())
    })?;
    for (j, w) in widest.iter().enumerate() {
        ws.set_column_width(col_num(j), (w + 2).clamp(8, MAX_COLUMN_WIDTH) as f64)?;
    }
    for (j, &c) in part.cols.iter().enumerate() {
        write_text(ws, 0, col_num(j), header(c), limits, Some(&formats.bold))?;
    }
    let keys = if part.repeats_keys { KEY_COLUMNS } else { 0 };
    let mut cut = 0;
    let mut r: RowNum = 0;
    table.try_for_each(part.rows.clone(), |row| {
        r += 1;
        for (j, &c) in part.cols.iter().enumerate() {
            if let Some(cell) = row.get(c) {
                // A repeated key cell was counted on the first sheet.
                if write_cell(ws, r, col_num(j), cell, limits, formats)? && j >= keys {
                    cut += 1;
                }
            }
        }
        Ok::<(), XlsxError>(())
    })?;
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, row_num(part.rows.len()), col_num(part.cols.len() - 1))?;
    Ok(cut)
}

fn write_summary<R: RowSource>(
    ws: &mut Worksheet,
    report: &Report<R>,
    plans: &[(&Table<R>, Vec<SheetPart>)],
    truncated: usize,
    limits: Limits,
    formats: &Formats,
) -> Result<(), XlsxError> {
    ws.set_name("Summary")?;
    for (col, width) in [(0, 30), (1, 40), (2, 22), (3, 30), (4, 60)] {
        ws.set_column_width(col, width)?;
    }
    write_text(ws, 0, 0, &report.title, limits, Some(&formats.title))?;
    let mut r: RowNum = 2;
    for (label, value) in [
        ("Organization", report.org.as_str()),
        ("Snapshot", report.snapshot_date.as_str()),
    ] {
        ws.write_string_with_format(r, 0, label, &formats.bold)?;
        write_text(ws, r, 1, value, limits, None)?;
        r += 1;
    }
    ws.write_string_with_format(r, 0, "Generated (UTC)", &formats.bold)?;
    write_cell(ws, r, 1, &Cell::Time(report.generated_at), limits, formats)?;
    r += 2;

    if !report.summary.is_empty() {
        for (c, h) in ["Section", "Item", "Value"].into_iter().enumerate() {
            ws.write_string_with_format(r, col_num(c), h, &formats.bold)?;
        }
        r += 1;
        for item in &report.summary {
            write_text(ws, r, 0, item.section.as_str(), limits, None)?;
            write_text(ws, r, 1, &item.label, limits, None)?;
            write_cell(ws, r, 2, &item.value, limits, formats)?;
            r += 1;
        }
        r += 1;
    }

    for (c, h) in ["Table", "Title", "Rows", "Sheets", "Notice"]
        .into_iter()
        .enumerate()
    {
        ws.write_string_with_format(r, col_num(c), h, &formats.bold)?;
    }
    r += 1;
    let mut split_by_width = false;
    for (table, parts) in plans {
        write_text(ws, r, 0, &table.name, limits, None)?;
        write_text(ws, r, 1, &table.title, limits, None)?;
        ws.write_number(r, 2, table.rows.len() as f64)?;
        let sheets: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
        write_text(ws, r, 3, &sheets.join(", "), limits, None)?;
        if let Some(notice) = &table.notice {
            write_text(ws, r, 4, notice, limits, None)?;
        }
        split_by_width |= table.width() > usize::from(limits.max_cols);
        r += 1;
    }
    r += 1;
    ws.write_string_with_format(r, 0, "Truncated cells", &formats.bold)?;
    ws.write_number(r, 1, truncated as f64)?;
    write_text(
        ws,
        r,
        2,
        &format!(
            "cells longer than {} characters are cut and end with \"… [truncated, N chars]\"; the CSV and JSON have the full text",
            limits.max_cell_len
        ),
        limits,
        None,
    )?;
    r += 1;
    ws.write_string(
        r,
        0,
        format!(
            "Tables longer than {} rows continue on sheets named \"<table> (2)\", \"<table> (3)\"…, each with its header row.",
            limits.max_rows.saturating_sub(1)
        ),
    )?;
    if split_by_width {
        r += 1;
        ws.write_string(
            r,
            0,
            format!(
                "Tables wider than {} columns continue on further sheets that repeat the first {KEY_COLUMNS} columns.",
                limits.max_cols
            ),
        )?;
    }
    r += 1;
    ws.write_string(r, 0, "All times are UTC.")?;
    Ok(())
}

fn write_evidence<R>(
    ws: &mut Worksheet,
    report: &Report<R>,
    limits: Limits,
    formats: &Formats,
) -> Result<(), XlsxError> {
    ws.set_name("Evidence")?;
    ws.set_column_width(0, 24)?;
    ws.set_column_width(1, 32)?;
    ws.set_column_width(2, 80)?;
    for (c, h) in ["Section", "Key", "Value"].into_iter().enumerate() {
        ws.write_string_with_format(0, col_num(c), h, &formats.bold)?;
    }
    for (i, item) in report.evidence.iter().enumerate() {
        let r = row_num(i + 1);
        write_text(ws, r, 0, &item.section, limits, None)?;
        write_text(ws, r, 1, &item.key, limits, None)?;
        write_text(ws, r, 2, &item.value, limits, None)?;
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, row_num(report.evidence.len()), 2)?;
    Ok(())
}

pub(crate) fn build_workbook_with<R: RowSource>(
    report: &Report<R>,
    scratch_dir: Option<&Path>,
    limits: Limits,
) -> Result<Workbook, XlsxError> {
    let mut names = SheetNames::default();
    names.try_claim("Summary");
    names.try_claim("Evidence");
    let plans: Vec<(&Table<R>, Vec<SheetPart>)> = report
        .tables_beyond_csv()
        .map(|t| (t, plan_table(t, limits, &mut names)))
        .collect();
    let mut truncated = count_truncations(report, limits.max_cell_len);
    let formats = Formats {
        bold: Format::new().set_bold(),
        title: Format::new().set_bold().set_font_size(14),
        datetime: Format::new().set_num_format(DATETIME_FORMAT),
    };

    let mut workbook = Workbook::new();
    // Deflate dominates saving a large workbook (about 60 % of the time at level
    // 6); level 1 is several times faster for a slightly larger file.
    workbook.set_zip_compression_level(1);
    if let Some(dir) = scratch_dir {
        workbook.set_tempdir(dir)?;
    }
    let mut properties = DocProperties::new()
        .set_title(fit_text(&report.title, 255).as_ref())
        .set_subject(fit_text(&format!("Retool access review: {}", report.org), 255).as_ref())
        .set_comment(format!("Generated by retool-audit {}", crate::VERSION));
    if let Some(created) = excel_time(&report.generated_at) {
        properties = properties.set_creation_datetime(&created);
    }
    workbook.set_properties(&properties);

    // The Summary sheet comes first but is filled last: it counts the cells cut
    // while the table sheets were written (rows are read once, as they stream).
    workbook.add_worksheet();
    for (table, parts) in &plans {
        for part in parts {
            let ws = workbook.add_worksheet_with_constant_memory()?;
            truncated += write_table_part(ws, table, part, limits, &formats)?;
        }
    }
    write_summary(
        workbook.worksheet_from_index(0)?,
        report,
        &plans,
        truncated,
        limits,
        &formats,
    )?;
    write_evidence(workbook.add_worksheet(), report, limits, &formats)?;
    Ok(workbook)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::write::tests::{LONG_LEN, hostile_texts, sample_report, t0};
    use calamine::{Data, Reader, Xlsx};
    use std::io::Cursor;

    fn read_back(report: &Report, limits: Limits) -> Xlsx<Cursor<Vec<u8>>> {
        Xlsx::new(Cursor::new(workbook_bytes(report, limits))).unwrap()
    }

    fn workbook_bytes(report: &Report, limits: Limits) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let mut wb = build_workbook_with(report, Some(dir.path()), limits).unwrap();
        wb.save_to_buffer().unwrap()
    }

    /// The cells (`B3`) of the `n`th sheet (1-based, workbook order) whose
    /// style has `quotePrefix="1"`, read from the package's XML.
    fn quote_prefixed(bytes: &[u8], n: usize) -> Vec<String> {
        use std::io::Read;
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut read = |name: &str| {
            let mut s = String::new();
            zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
            s
        };
        let styles = read("xl/styles.xml");
        let sheet = read(&format!("xl/worksheets/sheet{n}.xml"));
        let xfs = styles.split("<cellXfs").nth(1).unwrap();
        let xfs = xfs.split("</cellXfs>").next().unwrap();
        let quoted: Vec<bool> = xfs
            .split("<xf ")
            .skip(1)
            .map(|xf| xf.split('>').next().unwrap().contains("quotePrefix=\"1\""))
            .collect();
        sheet
            .split("<c ")
            .skip(1)
            .filter_map(|c| {
                let head = c.split('>').next()?;
                let attr = |name: &str| {
                    head.split(&format!("{name}=\""))
                        .nth(1)
                        .and_then(|v| v.split('"').next())
                };
                let style: usize = attr("s")?.parse().ok()?;
                quoted
                    .get(style)
                    .copied()
                    .unwrap_or(false)
                    .then(|| attr("r").unwrap().to_string())
            })
            .collect()
    }

    fn text(d: &Data) -> String {
        match d {
            Data::String(s) => s.clone(),
            other => panic!("expected text, got {other:?}"),
        }
    }

    #[test]
    fn sheets_in_order_with_typed_neutralized_cells() {
        let report = sample_report();
        let mut xlsx = read_back(&report, Limits::EXCEL);
        assert_eq!(
            xlsx.sheet_names(),
            vec!["Summary", "users", "groups", "changes", "Evidence"]
        );
        let users = xlsx.worksheet_range("users").unwrap();
        let hostile = hostile_texts();
        assert_eq!(users.height(), 1 + hostile.len());
        let header: Vec<String> = users.rows().next().unwrap().iter().map(text).collect();
        assert_eq!(header, report.tables[0].columns);
        for (i, row) in users.rows().skip(1).enumerate() {
            let original = &hostile[i];
            let got = text(&row[1]);
            if original.len() > EXCEL_MAX_CELL_LEN {
                assert!(
                    got.ends_with(&format!("… [truncated, {LONG_LEN} chars]")),
                    "{}",
                    &got[got.len() - 40..]
                );
                assert!(utf16_len(&got) <= EXCEL_MAX_CELL_LEN);
                assert!(got.starts_with("xxxx"));
            } else if original.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                // The value itself: the quote-prefix style keeps it text.
                assert_eq!(got, *original);
            } else {
                // calamine normalizes nothing: CR LF inside cells survive.
                assert_eq!(got, *original);
            }
            assert_eq!(row[2], Data::Float((i as i64 - 5) as f64));
            assert_eq!(row[3], Data::Bool(i % 2 == 0));
            match &row[4] {
                Data::DateTime(dt) => {
                    assert!(dt.is_datetime());
                    // Excel serial: days since 1899-12-30, UTC.
                    let ts = (t0() + chrono::Duration::hours(i as i64)).timestamp();
                    let expected = ts as f64 / 86_400.0 + 25_569.0;
                    assert!((dt.as_f64() - expected).abs() < 1e-6, "{dt:?}");
                }
                other => panic!("expected a date-time, got {other:?}"),
            }
            assert_eq!(row.get(5).cloned().unwrap_or(Data::Empty), Data::Empty);
        }

        let groups = xlsx.worksheet_range("groups").unwrap();
        assert_eq!(
            groups.get_value((2, 1)),
            Some(&Data::String("@admins".into()))
        );
        // Exactly the formula-like cells carry the quote prefix: users is the
        // 2nd sheet (column B holds the hostile texts), groups the 3rd.
        let bytes = workbook_bytes(&report, Limits::EXCEL);
        let want: Vec<String> = hostile
            .iter()
            .enumerate()
            .filter(|(_, h)| h.starts_with(['=', '+', '-', '@', '\t', '\r']))
            .map(|(i, _)| format!("B{}", i + 2))
            .collect();
        assert!(!want.is_empty());
        assert_eq!(quote_prefixed(&bytes, 2), want);
        assert_eq!(quote_prefixed(&bytes, 3), vec!["B3".to_string()]);
        let changes = xlsx.worksheet_range("changes").unwrap();
        assert_eq!(changes.height(), 1);

        let evidence = xlsx.worksheet_range("Evidence").unwrap();
        assert_eq!(
            evidence.get_value((1, 2)),
            Some(&Data::String("https://retool.example.com/api/v2".into()))
        );
    }

    #[test]
    fn summary_lists_notices_row_counts_and_truncations() {
        let report = sample_report();
        let mut xlsx = read_back(&report, Limits::EXCEL);
        let summary = xlsx.worksheet_range("Summary").unwrap();
        let rows: Vec<Vec<Data>> = summary.rows().map(|r| r.to_vec()).collect();
        let find = |label: &str| {
            rows.iter()
                .find(|r| r.first() == Some(&Data::String(label.into())))
                .cloned()
                .unwrap_or_else(|| panic!("no row {label}"))
        };
        assert_eq!(find("Organization")[1], Data::String("acme <corp>".into()));
        assert!(matches!(find("Generated (UTC)")[1], Data::DateTime(_)));
        assert_eq!(find("Truncated cells")[1], Data::Float(1.0));
        let users = find("users");
        assert_eq!(users[2], Data::Float(13.0));
        let groups = find("groups");
        assert_eq!(
            groups[4],
            Data::String("grants not collected: <scope> missing".into())
        );
        // A summary value that looks like a formula keeps its value (held as
        // text by its style).
        assert!(
            rows.iter()
                .any(|r| r.get(2) == Some(&Data::String("=1+1".into())))
        );
    }

    #[test]
    fn long_tables_overflow_onto_numbered_sheets() {
        let mut report = sample_report();
        report.tables[1].rows = (0..25)
            .map(|i| vec![Cell::Int(i), Cell::text(format!("g{i}"))])
            .collect();
        let limits = Limits {
            max_rows: 10,
            ..Limits::EXCEL
        };
        let mut xlsx = read_back(&report, limits);
        let names = xlsx.sheet_names();
        assert!(names.contains(&"users (2)".to_string()), "{names:?}");
        let groups: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| n.starts_with("groups"))
            .collect();
        assert_eq!(groups, vec!["groups", "groups (2)", "groups (3)"]);
        let mut seen = Vec::new();
        for name in &groups {
            let range = xlsx.worksheet_range(name).unwrap();
            assert!(range.height() <= 10);
            assert_eq!(range.get_value((0, 0)), Some(&Data::String("id".into())));
            for row in range.rows().skip(1) {
                seen.push(row[0].clone());
            }
        }
        let expected: Vec<Data> = (0..25).map(|i| Data::Float(i as f64)).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn wide_tables_split_columns_repeating_the_key_columns() {
        let mut report = sample_report();
        let cols = 12;
        report.tables[1].columns = (0..cols).map(|c| format!("c{c}")).collect();
        report.tables[1].rows = vec![(0..cols).map(|c| Cell::Int(c as i64)).collect()];
        let limits = Limits {
            max_cols: 5,
            ..Limits::EXCEL
        };
        let mut xlsx = read_back(&report, limits);
        let header = |xlsx: &mut Xlsx<Cursor<Vec<u8>>>, name: &str| -> Vec<String> {
            let range = xlsx.worksheet_range(name).unwrap();
            range.rows().next().unwrap().iter().map(text).collect()
        };
        assert_eq!(header(&mut xlsx, "groups"), ["c0", "c1", "c2", "c3", "c4"]);
        assert_eq!(
            header(&mut xlsx, "groups (2)"),
            ["c0", "c1", "c2", "c5", "c6"]
        );
        assert_eq!(
            header(&mut xlsx, "groups (3)"),
            ["c0", "c1", "c2", "c7", "c8"]
        );
        assert_eq!(
            header(&mut xlsx, "groups (4)"),
            ["c0", "c1", "c2", "c9", "c10"]
        );
        assert_eq!(header(&mut xlsx, "groups (5)"), ["c0", "c1", "c2", "c11"]);
        let last = xlsx.worksheet_range("groups (5)").unwrap();
        assert_eq!(last.get_value((1, 3)), Some(&Data::Float(11.0)));
    }

    #[test]
    fn values_excel_cannot_hold_exactly_are_written_as_text() {
        let mut report = sample_report();
        let old = chrono::DateTime::parse_from_rfc3339("1850-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        report.tables[1].rows = vec![vec![Cell::Int(1_234_567_890_123_456_789), Cell::Time(old)]];
        let mut xlsx = read_back(&report, Limits::EXCEL);
        let groups = xlsx.worksheet_range("groups").unwrap();
        assert_eq!(
            groups.get_value((1, 0)),
            Some(&Data::String("1234567890123456789".into()))
        );
        assert_eq!(
            groups.get_value((1, 1)),
            Some(&Data::String("1850-01-01T00:00:00Z".into()))
        );
    }

    #[test]
    fn same_report_gives_the_same_workbook_bytes() {
        let report = sample_report();
        let build = || {
            build_workbook_with(&report, None, Limits::EXCEL)
                .unwrap()
                .save_to_buffer()
                .unwrap()
        };
        assert_eq!(build(), build());
    }

    #[test]
    fn sheet_names_are_cleaned_shortened_and_unique() {
        let mut names = SheetNames::default();
        names.try_claim("Summary");
        assert_eq!(names.claim("summary", 1), "summary (2)");
        assert_eq!(names.claim("a[b]:c*d?e/f\\g", 1), "abcdefg");
        let long = "access_matrix_with_a_very_long_name_indeed";
        let first = names.claim(long, 1);
        assert_eq!(first.chars().count(), 31);
        let second = names.claim(long, 2);
        assert!(
            second.ends_with(" (2)") && second.chars().count() == 31,
            "{second}"
        );
        assert_eq!(names.claim("'quoted'", 1), "quoted");
        assert_eq!(names.claim("[]", 1), "Table");
        assert_eq!(names.claim("History", 1), "History_");
    }

    #[test]
    fn truncation_respects_utf16_and_keeps_short_text() {
        assert_eq!(fit_text("short", 20), "short");
        let emoji = "🔐".repeat(30);
        let cut = fit_text(&emoji, 40);
        assert!(utf16_len(&cut) <= 40, "{cut}");
        assert!(cut.ends_with("… [truncated, 30 chars]"), "{cut}");
        assert!(cut.starts_with('🔐'));
    }
}
