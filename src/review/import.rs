//! Reading filled-in review workbooks back (calamine) and checking them
//! against the campaign's frozen population before anything is imported.
//!
//! Rules (docs/review.md, "review import", repeats them for reviewers):
//! - the file must be an XLSX workbook with the sheets `Review`, `Privileged`
//!   and `Campaign` (renamed sheets are refused);
//! - its `Campaign` sheet must name the campaign being imported (id, name,
//!   org and population hash), and every workbook given at once must belong
//!   to the same campaign;
//! - every `Review` row must carry a `row_key` of that campaign's population
//!   AND of this workbook; a key may appear only once across all the
//!   workbooks given; rows cannot be added;
//! - every context cell must be exactly as written (the column, the old and
//!   the new value are named otherwise);
//! - `decision` is keep, revoke or modify (case and surrounding space are
//!   forgiven); empty means undecided, which is not an error;
//! - `reason` is required for revoke and modify;
//! - `reviewed_at`, when given, is a date (an Excel date — or its serial
//!   number, if the cell lost its date format — or text `YYYY-MM-DD` or
//!   RFC 3339);
//! - deleted rows are simply undecided.
//!
//! Every problem is collected, each as `<file>: sheet <name> row <n>: <what>`
//! (rows numbered as the spreadsheet shows them), so a reviewer can fix them
//! all in one pass.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Cursor;
use std::path::Path;

use calamine::{
    Data, ExcelDateTime, ExcelDateTimeType, Range, Reader, Xlsx, open_workbook_from_rs,
};
use chrono::{NaiveDate, Timelike};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::population::{CONTEXT_COLUMNS, USAGE_CONTEXT_COLUMNS};
use super::workbook::{
    CAMPAIGN_SHEET, DECISION_COLUMN, KEY_CAMPAIGN, KEY_CAMPAIGN_ID, KEY_ORG, KEY_POPULATION_SHA256,
    KEY_WORKBOOK, REASON_COLUMN, REVIEW_SHEET, REVIEWED_AT_COLUMN, REVIEWER_COLUMN, ROW_KEY_COLUMN,
    SHEETS,
};
use super::{Campaign, Decision, DecisionInput, ImportOutcome, ReviewItem, StoredDecision};

/// One problem found in a workbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The workbook's file name.
    pub file: String,
    pub sheet: Option<String>,
    /// The row as the spreadsheet numbers it (1 = the header row).
    pub row: Option<u32>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(sheet) = &self.sheet {
            write!(f, ": sheet {sheet}")?;
        }
        if let Some(row) = self.row {
            write!(f, " row {row}")?;
        }
        write!(f, ": {}", self.message)
    }
}

fn problem(file: &str, sheet: Option<&str>, row: Option<u32>, message: String) -> Problem {
    Problem {
        file: file.to_string(),
        sheet: sheet.map(str::to_string),
        row,
        message,
    }
}

/// What a workbook says about itself on its `Campaign` sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkbookIdentity {
    pub campaign: String,
    pub campaign_id: i64,
    pub org: String,
    pub workbook: String,
    pub population_sha256: String,
}

impl fmt::Display for WorkbookIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "campaign `{}` (id {}, org {})",
            self.campaign, self.campaign_id, self.org
        )
    }
}

/// A workbook read from disk, its sheets present and its identity known.
pub struct OpenedWorkbook {
    /// The file name (no directories).
    pub file: String,
    pub sha256: String,
    pub identity: WorkbookIdentity,
    review: Range<Data>,
}

/// Reads `path`: an XLSX with the review sheets and a readable `Campaign`
/// sheet. Every problem found is returned.
pub fn open_workbook(path: &Path) -> Result<OpenedWorkbook, Vec<Problem>> {
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let fail = |message: String| vec![problem(&file, None, None, message)];
    let bytes = std::fs::read(path).map_err(|e| {
        fail(format!(
            "cannot read {}: {e}; check the path and its permissions",
            path.display()
        ))
    })?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let mut xlsx: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| {
        fail(format!(
            "not an XLSX workbook ({e}); open it in Excel or LibreOffice and save it as \
             Excel Workbook (.xlsx)"
        ))
    })?;
    let names = xlsx.sheet_names();
    let missing: Vec<Problem> = SHEETS
        .iter()
        .filter(|s| !names.iter().any(|n| n == *s))
        .map(|s| {
            problem(
                &file,
                Some(s),
                None,
                format!(
                    "is missing (the workbook has: {}); sheets must keep their names: \
                     rename it back or use the workbook `review start` wrote",
                    names.join(", ")
                ),
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    let read = |xlsx: &mut Xlsx<_>, sheet: &str| {
        xlsx.worksheet_range(sheet).map_err(|e| {
            vec![problem(
                &file,
                Some(sheet),
                None,
                format!("cannot be read: {e}"),
            )]
        })
    };
    let campaign = read(&mut xlsx, CAMPAIGN_SHEET)?;
    let identity = read_identity(&file, &campaign)?;
    let review = read(&mut xlsx, REVIEW_SHEET)?;
    Ok(OpenedWorkbook {
        file,
        sha256,
        identity,
        review,
    })
}

fn read_identity(file: &str, sheet: &Range<Data>) -> Result<WorkbookIdentity, Vec<Problem>> {
    let mut values: HashMap<String, String> = HashMap::new();
    for row in sheet.rows() {
        if let (Some(k), Some(v)) = (row.first(), row.get(1)) {
            values
                .entry(cell_string(k).trim().to_string())
                .or_insert_with(|| cell_string(v).trim().to_string());
        }
    }
    let mut problems = Vec::new();
    let mut get = |key: &str| match values.get(key).filter(|v| !v.is_empty()) {
        Some(v) => v.clone(),
        None => {
            problems.push(problem(
                file,
                Some(CAMPAIGN_SHEET),
                None,
                format!(
                    "`{key}` is missing: this is not a review workbook of retool-audit, \
                     or its Campaign sheet was edited"
                ),
            ));
            String::new()
        }
    };
    let campaign = get(KEY_CAMPAIGN);
    let id_text = get(KEY_CAMPAIGN_ID);
    let org = get(KEY_ORG);
    let workbook = get(KEY_WORKBOOK);
    let population_sha256 = get(KEY_POPULATION_SHA256);
    let campaign_id = match id_text.parse::<i64>() {
        Ok(id) => id,
        Err(_) if id_text.is_empty() => 0,
        Err(_) => {
            problems.push(problem(
                file,
                Some(CAMPAIGN_SHEET),
                None,
                format!("`{KEY_CAMPAIGN_ID}` is `{id_text}`, not a number"),
            ));
            0
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(WorkbookIdentity {
        campaign,
        campaign_id,
        org,
        workbook,
        population_sha256,
    })
}

/// Whether a Campaign-sheet cell holds `stored`: as it is (held as text by
/// the quote-prefix style), or with the leading `'` that workbooks written
/// before that style put in front of formula-like text.
fn same_text(cell: &str, stored: &str) -> bool {
    cell == stored || cell == crate::output::neutralize_formula(stored)
}

/// A cell as text, the way the context was written: text as is, whole numbers
/// without a decimal point.
fn cell_string(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => (if *b { "TRUE" } else { "FALSE" }).to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => dt.as_f64().to_string(),
        },
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Excel serial numbers of the dates the `reviewed_at` validation allows
/// (2000-01-01 to 2099-12-31).
const EXCEL_SERIALS: std::ops::RangeInclusive<f64> = 36_526.0..=73_050.0;

fn excel_date(dt: &ExcelDateTime) -> Result<Option<String>, String> {
    match dt.as_datetime() {
        Some(t) if t.time().num_seconds_from_midnight() == 0 => {
            Ok(Some(t.format("%Y-%m-%d").to_string()))
        }
        Some(t) => Ok(Some(t.format("%Y-%m-%dT%H:%M:%SZ").to_string())),
        None => Err("reviewed_at is not a valid date".to_string()),
    }
}

/// A `reviewed_at` cell as stored: `YYYY-MM-DD` for a date, RFC 3339 for a
/// date and time; `Err` says what is wrong.
fn reviewed_at(d: &Data) -> Result<Option<String>, String> {
    let parse_text = |s: &str| -> Result<Option<String>, String> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        if NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
            || chrono::DateTime::parse_from_rfc3339(s).is_ok()
        {
            return Ok(Some(s.to_string()));
        }
        Err(format!(
            "reviewed_at `{s}` is not a date: enter a date such as 2026-11-20"
        ))
    };
    match d {
        Data::Empty => Ok(None),
        Data::String(s) | Data::DateTimeIso(s) => parse_text(s),
        Data::DateTime(dt) if dt.is_datetime() => excel_date(dt),
        // A date whose cell lost its date format arrives as its serial number.
        Data::Float(f) if EXCEL_SERIALS.contains(f) => {
            excel_date(&ExcelDateTime::new(*f, ExcelDateTimeType::DateTime, false))
        }
        Data::Int(i) if EXCEL_SERIALS.contains(&(*i as f64)) => excel_date(&ExcelDateTime::new(
            *i as f64,
            ExcelDateTimeType::DateTime,
            false,
        )),
        other => Err(format!(
            "reviewed_at `{}` is not a date: enter a date such as 2026-11-20",
            cell_string(other)
        )),
    }
}

/// The result of checking workbooks: the decisions to import, or the problems.
#[derive(Debug, Default)]
pub struct Checked {
    pub decisions: Vec<DecisionInput>,
    pub problems: Vec<Problem>,
    /// Review rows read (decided or not).
    pub rows: usize,
}

/// Checks every workbook against `campaign` and its population (`items`) and
/// collects the decisions. Nothing may be imported unless `problems` is empty.
pub fn check_workbooks(
    workbooks: &[OpenedWorkbook],
    campaign: &Campaign,
    items: &[ReviewItem],
) -> Checked {
    let by_key: HashMap<&str, &ReviewItem> = items.iter().map(|i| (i.key.as_str(), i)).collect();
    let mut seen: HashMap<String, (String, u32)> = HashMap::new();
    let mut checked = Checked::default();
    for wb in workbooks {
        if let Some(p) = identity_problem(wb, campaign) {
            checked.problems.push(p);
            continue;
        }
        check_review_sheet(wb, &by_key, &mut seen, &mut checked);
    }
    checked
}

fn identity_problem(wb: &OpenedWorkbook, campaign: &Campaign) -> Option<Problem> {
    let id = &wb.identity;
    let at = |message: String| Some(problem(&wb.file, Some(CAMPAIGN_SHEET), None, message));
    if id.campaign_id != campaign.id {
        return at(format!(
            "this workbook belongs to {id}, not to campaign `{}` (id {}, org {}) being imported; \
             import each campaign's workbooks separately",
            campaign.name, campaign.id, campaign.org
        ));
    }
    if !same_text(&id.campaign, &campaign.name)
        || !same_text(&id.org, &campaign.org)
        || id.population_sha256 != campaign.population_sha256
    {
        return at(format!(
            "this workbook belongs to {id} with population sha256 {}, but campaign {} in this \
             history is `{}` (org {}, population sha256 {}): it was started with another \
             history database; pass that one with --db",
            id.population_sha256,
            campaign.id,
            campaign.name,
            campaign.org,
            campaign.population_sha256
        ));
    }
    None
}

/// Column positions of the `Review` sheet, found by header name.
struct Columns {
    row_key: usize,
    /// Every header's position by name: each item's stored context names
    /// its own columns (a campaign started by an earlier version has fewer).
    context: std::collections::HashMap<String, usize>,
    decision: usize,
    reason: usize,
    reviewer: usize,
    reviewed_at: usize,
}

fn find_columns(wb: &OpenedWorkbook, header_row: u32) -> Result<Columns, Vec<Problem>> {
    let width = wb.review.end().map_or(0, |(_, c)| c + 1);
    let headers: Vec<String> = (0..width)
        .map(|c| {
            wb.review
                .get_value((header_row, c))
                .map(cell_string)
                .unwrap_or_default()
                .trim()
                .to_string()
        })
        .collect();
    let mut missing = Vec::new();
    let mut find = |name: &str| match headers.iter().position(|h| h == name) {
        Some(i) => i,
        None => {
            missing.push(name.to_string());
            0
        }
    };
    let columns = Columns {
        row_key: find(ROW_KEY_COLUMN),
        context: {
            // Every campaign's workbook has these; the usage columns came later.
            for c in CONTEXT_COLUMNS
                .iter()
                .filter(|c| !USAGE_CONTEXT_COLUMNS.contains(c))
            {
                find(c);
            }
            headers.iter()
        }
        .enumerate()
        .map(|(i, h)| (h.clone(), i))
        .collect(),
        decision: find(DECISION_COLUMN),
        reason: find(REASON_COLUMN),
        reviewer: find(REVIEWER_COLUMN),
        reviewed_at: find(REVIEWED_AT_COLUMN),
    };
    if missing.is_empty() {
        Ok(columns)
    } else {
        Err(missing
            .into_iter()
            .map(|name| {
                problem(
                    &wb.file,
                    Some(REVIEW_SHEET),
                    Some(header_row + 1),
                    format!(
                        "column `{name}` is missing from the header row; columns must keep \
                         their names"
                    ),
                )
            })
            .collect())
    }
}

fn check_review_sheet(
    wb: &OpenedWorkbook,
    by_key: &HashMap<&str, &ReviewItem>,
    seen: &mut HashMap<String, (String, u32)>,
    checked: &mut Checked,
) {
    let sheet = Some(REVIEW_SHEET);
    let Some((last_row, last_col)) = wb.review.end() else {
        checked.problems.push(problem(
            &wb.file,
            sheet,
            None,
            "is empty: the header row and the population rows are gone".to_string(),
        ));
        return;
    };
    let columns = match find_columns(wb, 0) {
        Ok(c) => c,
        Err(problems) => {
            checked.problems.extend(problems);
            return;
        }
    };
    let empty = Data::Empty;
    for r in 1..=last_row {
        let cell = |c: usize| {
            wb.review
                .get_value((r, u32::try_from(c).unwrap_or(u32::MAX)))
                .unwrap_or(&empty)
        };
        let row_no = Some(r + 1);
        let mut report = |message: String| {
            checked
                .problems
                .push(problem(&wb.file, sheet, row_no, message));
        };
        let all_empty = (0..=last_col as usize).all(|c| cell_string(cell(c)).trim().is_empty());
        if all_empty {
            continue;
        }
        checked.rows += 1;
        let key = cell_string(cell(columns.row_key)).trim().to_string();
        if key.is_empty() {
            report(
                "has no row_key: rows cannot be added to a review workbook; put decisions on \
                 the rows it was generated with"
                    .to_string(),
            );
            continue;
        }
        let Some(item) = by_key.get(key.as_str()) else {
            report(format!(
                "row_key `{key}` is not in the campaign's population (rows cannot be added \
                 or copied between campaigns)"
            ));
            continue;
        };
        if item.workbook != wb.identity.workbook {
            report(format!(
                "row_key `{key}` belongs to workbook `{}`, not to this workbook `{}`: rows \
                 cannot be copied between workbooks",
                item.workbook, wb.identity.workbook
            ));
            continue;
        }
        if let Some((file, row)) = seen.get(&key) {
            report(format!(
                "row_key `{key}` appears twice: also in {file} row {row}; keep one of the rows"
            ));
            continue;
        }
        seen.insert(key.clone(), (wb.file.clone(), r + 1));
        let mut edited = false;
        for (column, written) in &item.context {
            let Some(&at) = columns.context.get(column) else {
                edited = true;
                report(format!(
                    "context column `{column}` is missing from the sheet; context columns must \
                     stay as generated"
                ));
                continue;
            };
            let now = cell_string(cell(at));
            if &now != written {
                edited = true;
                report(format!(
                    "context column `{column}` was edited: it was `{written}`, it is now \
                     `{now}`; context columns must stay as generated"
                ));
            }
        }
        let word = cell_string(cell(columns.decision));
        if word.trim().is_empty() {
            continue; // undecided
        }
        let Some(decision) = Decision::parse(&word) else {
            report(format!(
                "decision `{}` is not one of keep, revoke, modify",
                word.trim()
            ));
            continue;
        };
        let text = |c: usize| {
            let s = cell_string(cell(c)).trim().to_string();
            (!s.is_empty()).then_some(s)
        };
        let reason = text(columns.reason);
        if decision.needs_remediation() && reason.is_none() {
            report(format!(
                "decision `{decision}` needs a reason: say why (and for modify, what to change)"
            ));
            continue;
        }
        let reviewed_at = match reviewed_at(cell(columns.reviewed_at)) {
            Ok(v) => v,
            Err(message) => {
                report(message);
                continue;
            }
        };
        if edited {
            continue;
        }
        checked.decisions.push(DecisionInput {
            key,
            decision,
            reason,
            reviewer: text(columns.reviewer),
            reviewed_at,
            source_file: wb.file.clone(),
            source_sha256: wb.sha256.clone(),
        });
    }
}

/// What an import would do, computed from the current decisions (for
/// `--dry-run`; the store computes the same when it imports).
pub fn preview(current: &[StoredDecision], inputs: &[DecisionInput]) -> ImportOutcome {
    let by_key: HashMap<&str, &StoredDecision> =
        current.iter().map(|d| (d.key.as_str(), d)).collect();
    let mut outcome = ImportOutcome::default();
    for input in inputs {
        match by_key.get(input.key.as_str()) {
            None => outcome.added += 1,
            Some(d) if d.same_as(input) => outcome.unchanged += 1,
            Some(_) => outcome.replaced += 1,
        }
    }
    outcome
}

/// Decided rows of one workbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkbookProgress {
    pub workbook: String,
    pub rows: usize,
    pub decided: usize,
}

/// How far a campaign is: decided rows overall, per workbook, per reviewer and
/// per decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub population: usize,
    pub decided: usize,
    pub by_decision: BTreeMap<Decision, usize>,
    pub by_workbook: Vec<WorkbookProgress>,
    /// Reviewer as entered (`(no reviewer)` when left empty) → rows decided.
    pub by_reviewer: BTreeMap<String, usize>,
}

/// The label of decisions whose reviewer cell was empty.
pub const NO_REVIEWER: &str = "(no reviewer)";

/// Progress of a population given each row's current decision and reviewer.
pub fn progress<'a>(
    items: &[ReviewItem],
    current: impl IntoIterator<Item = (&'a str, Decision, Option<&'a str>)>,
) -> Progress {
    let mut decided: HashMap<&str, (Decision, Option<&str>)> = HashMap::new();
    for (key, decision, reviewer) in current {
        decided.insert(key, (decision, reviewer));
    }
    let mut by_workbook: BTreeMap<&str, WorkbookProgress> = BTreeMap::new();
    let mut by_decision = BTreeMap::new();
    let mut by_reviewer = BTreeMap::new();
    let mut total = 0;
    for item in items {
        let wb = by_workbook
            .entry(item.workbook.as_str())
            .or_insert_with(|| WorkbookProgress {
                workbook: item.workbook.clone(),
                rows: 0,
                decided: 0,
            });
        wb.rows += 1;
        if let Some((decision, reviewer)) = decided.get(item.key.as_str()) {
            wb.decided += 1;
            total += 1;
            *by_decision.entry(*decision).or_default() += 1;
            *by_reviewer
                .entry(reviewer.unwrap_or(NO_REVIEWER).to_string())
                .or_default() += 1;
        }
    }
    Progress {
        population: items.len(),
        decided: total,
        by_decision,
        by_workbook: by_workbook.into_values().collect(),
        by_reviewer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_back_as_the_text_that_was_written() {
        assert_eq!(cell_string(&Data::Float(120.0)), "120");
        assert_eq!(cell_string(&Data::Float(1.5)), "1.5");
        assert_eq!(cell_string(&Data::Int(7)), "7");
        assert_eq!(cell_string(&Data::String("'=x".into())), "'=x");
        // A Campaign-sheet value as written now, and as written before the
        // quote-prefix style; nothing else.
        assert!(same_text("=org", "=org"));
        assert!(same_text("'=org", "=org"));
        assert!(!same_text("'org", "org"));
        assert!(!same_text("=org2", "=org"));
        assert_eq!(cell_string(&Data::Empty), "");
    }

    #[test]
    fn reviewed_at_accepts_dates_as_text_and_rejects_the_rest() {
        assert_eq!(
            reviewed_at(&Data::String(" 2026-11-20 ".into())),
            Ok(Some("2026-11-20".into()))
        );
        assert_eq!(
            reviewed_at(&Data::String("2026-11-20T10:00:00Z".into())),
            Ok(Some("2026-11-20T10:00:00Z".into()))
        );
        assert_eq!(reviewed_at(&Data::Empty), Ok(None));
        assert_eq!(reviewed_at(&Data::String("  ".into())), Ok(None));
        let err = reviewed_at(&Data::String("20/11/2026".into())).unwrap_err();
        assert!(err.contains("`20/11/2026` is not a date"), "{err}");
        let err = reviewed_at(&Data::Float(12.0)).unwrap_err();
        assert!(err.contains("`12` is not a date"), "{err}");
        // A date that lost its cell format arrives as its serial number.
        assert_eq!(
            reviewed_at(&Data::Float(46346.0)),
            Ok(Some("2026-11-20".into()))
        );
        // An Excel date: 2026-11-20 is serial 46346.
        let dt =
            calamine::ExcelDateTime::new(46346.0, calamine::ExcelDateTimeType::DateTime, false);
        assert_eq!(
            reviewed_at(&Data::DateTime(dt)),
            Ok(Some("2026-11-20".into()))
        );
        let dt =
            calamine::ExcelDateTime::new(46346.5, calamine::ExcelDateTimeType::DateTime, false);
        assert_eq!(
            reviewed_at(&Data::DateTime(dt)),
            Ok(Some("2026-11-20T12:00:00Z".into()))
        );
    }

    #[test]
    fn problems_name_file_sheet_and_row() {
        let p = problem("a.xlsx", Some("Review"), Some(7), "bad".into());
        assert_eq!(p.to_string(), "a.xlsx: sheet Review row 7: bad");
        let p = problem("a.xlsx", Some("Campaign"), None, "bad".into());
        assert_eq!(p.to_string(), "a.xlsx: sheet Campaign: bad");
        let p = problem("a.xlsx", None, None, "not an XLSX".into());
        assert_eq!(p.to_string(), "a.xlsx: not an XLSX");
    }
}
