//! The review workbooks (`review-<campaign>-<workbook>.xlsx`) and the files of
//! `review start`.
//!
//! Each workbook has three sheets, whose names `review import` relies on:
//! - `Review`: a header row, then one row per population item: a hidden, locked
//!   `row_key`; the locked context columns ([`CONTEXT_COLUMNS`]); the locked
//!   suggestion columns; the unlocked decision columns `decision` (a list:
//!   keep, revoke, modify), `reason`, `reviewer`, `reviewed_at` (a date).
//! - `Privileged`: the privileged access of the workbook's users (locked).
//! - `Campaign`: which campaign, snapshot and population the workbook belongs
//!   to, as `key | value` rows, and the instructions for reviewers.
//!
//! Every sheet is protected WITHOUT a password: protection prevents accidental
//! edits of the context (filtering, sorting and resizing stay allowed), and it
//! is not a security boundary — `review import` compares every context cell
//! with the frozen population and refuses any edit, so a password would only
//! keep reviewers from sorting in Excel (which refuses to sort locked cells on
//! a protected sheet) without making the evidence any stronger.
//!
//! The `Review` and `Privileged` sheets use rust_xlsxwriter's constant-memory
//! mode (rows go straight to a temporary file), which supports data
//! validation, protection and autofilters; a 250 000-row population does not
//! have to fit in memory as cell objects.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::Path;

use chrono::{DateTime, Utc};
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, DataValidationRule, ExcelDateTime, Format,
    FormatBorder, ProtectionOptions, Workbook, Worksheet, XlsxError,
};
use serde::{Deserialize, Serialize};

use super::population::{CONTEXT_COLUMNS, NUMERIC_CONTEXT_COLUMN, Population, WorkbookPlan};
use super::{Campaign, Decision, ReviewItem};
use crate::analyze::PrivilegedEntry;
use crate::model::SnapshotMeta;
use crate::output::{WriteError, create_private_file, safe_file_name};
use crate::report::format_time;

pub const REVIEW_SHEET: &str = "Review";
pub const PRIVILEGED_SHEET: &str = "Privileged";
pub const CAMPAIGN_SHEET: &str = "Campaign";
/// Every sheet a review workbook must have, in order.
pub const SHEETS: [&str; 3] = [REVIEW_SHEET, PRIVILEGED_SHEET, CAMPAIGN_SHEET];

/// The hidden first column of the `Review` sheet.
pub const ROW_KEY_COLUMN: &str = "row_key";
/// The tool's suggestions (locked; ignored by import).
pub const SUGGESTION_COLUMNS: [&str; 2] = ["suggested_decision", "suggestion_reason"];
/// The columns reviewers fill in.
pub const DECISION_COLUMN: &str = "decision";
pub const REASON_COLUMN: &str = "reason";
pub const REVIEWER_COLUMN: &str = "reviewer";
pub const REVIEWED_AT_COLUMN: &str = "reviewed_at";
pub const DECISION_COLUMNS: [&str; 4] = [
    DECISION_COLUMN,
    REASON_COLUMN,
    REVIEWER_COLUMN,
    REVIEWED_AT_COLUMN,
];

/// Keys of the `Campaign` sheet that import reads.
pub const KEY_CAMPAIGN: &str = "campaign";
pub const KEY_CAMPAIGN_ID: &str = "campaign_id";
pub const KEY_ORG: &str = "org";
pub const KEY_WORKBOOK: &str = "workbook";
pub const KEY_POPULATION_SHA256: &str = "population_sha256";

/// The header row of the `Review` sheet.
pub fn review_columns() -> Vec<&'static str> {
    std::iter::once(ROW_KEY_COLUMN)
        .chain(CONTEXT_COLUMNS)
        .chain(SUGGESTION_COLUMNS)
        .chain(DECISION_COLUMNS)
        .collect()
}

/// The roster a campaign was started with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterInfo {
    /// The file name as given (no directories).
    pub file: String,
    pub sha256: String,
    pub emails: usize,
}

/// The settings a campaign records (`review_campaigns.settings_json`) and its
/// workbooks show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignSettings {
    pub inactive_days: u32,
    pub default_group: String,
    pub roster: Option<RosterInfo>,
    pub tool_version: String,
    pub workbooks: Vec<WorkbookPlan>,
}

/// What every file of one campaign shows.
pub struct CampaignFiles<'a> {
    pub campaign: &'a Campaign,
    pub settings: &'a CampaignSettings,
    pub population: &'a Population,
    pub snapshot: &'a SnapshotMeta,
    /// The organization as reports name it (the label or the instance host).
    pub org_label: &'a str,
    pub generated_at: DateTime<Utc>,
}

/// `review-<campaign>-<workbook>.xlsx`, safe as a file name.
pub fn workbook_file_name(campaign: &str, workbook: &str) -> String {
    format!(
        "review-{}.xlsx",
        safe_file_name(&format!("{campaign}-{workbook}"))
    )
}

/// `review-<campaign>.html`, safe as a file name.
pub fn companion_file_name(campaign: &str) -> String {
    format!("review-{}.html", safe_file_name(campaign))
}

/// Writes every workbook and the HTML companion into `dir` (which must exist)
/// and returns the file names, workbooks first. Files are `0600` on unix.
pub fn write_campaign_files(
    dir: &Path,
    files: &CampaignFiles<'_>,
) -> Result<Vec<String>, WriteError> {
    let mut by_workbook: HashMap<&str, Vec<&ReviewItem>> = HashMap::new();
    for item in &files.population.items {
        by_workbook
            .entry(item.workbook.as_str())
            .or_default()
            .push(item);
    }
    let mut names = Vec::new();
    for plan in &files.settings.workbooks {
        let items = by_workbook
            .get(plan.name.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let name = workbook_file_name(&files.campaign.name, &plan.name);
        let path = dir.join(&name);
        let xlsx_err = |e: XlsxError| WriteError::Xlsx {
            path: path.clone(),
            detail: e.to_string(),
        };
        let mut workbook = build_workbook(files, plan, items, dir).map_err(xlsx_err)?;
        let mut file = create_private_file(&path)?;
        workbook.save_to_writer(&mut file).map_err(xlsx_err)?;
        file.sync_all().map_err(|e| WriteError::io(&path, e))?;
        names.push(name);
    }
    let report = super::companion::companion_report(files);
    let html = crate::report::html::render_html(&report).map_err(|e| WriteError::Template {
        detail: e.to_string(),
    })?;
    let name = companion_file_name(&files.campaign.name);
    let path = dir.join(&name);
    let mut file = create_private_file(&path)?;
    file.write_all(html.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| WriteError::io(&path, e))?;
    names.push(name);
    Ok(names)
}

/// Writes text to a cell in `format` (or none); formula-like text gets the
/// quote-prefix style as well, so it stays text with its value unchanged.
fn write_text(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    text: &str,
    format: Option<&Format>,
) -> Result<(), XlsxError> {
    if crate::output::starts_like_formula(text) {
        let quoted = format.cloned().unwrap_or_default().set_quote_prefix();
        ws.write_string_with_format(row, col, text, &quoted)?;
    } else if let Some(format) = format {
        ws.write_string_with_format(row, col, text, format)?;
    } else {
        ws.write_string(row, col, text)?;
    }
    Ok(())
}

struct Formats {
    header: Format,
    header_suggestion: Format,
    header_decision: Format,
    suggestion: Format,
    decision: Format,
    date: Format,
    bold: Format,
    wrap: Format,
}

impl Formats {
    fn new() -> Formats {
        let header = Format::new()
            .set_bold()
            .set_background_color(Color::RGB(0xD9D9D9))
            .set_border_bottom(FormatBorder::Thin);
        let decision = Format::new()
            .set_unlocked()
            .set_background_color(Color::RGB(0xFFF2CC));
        Formats {
            header_suggestion: header
                .clone()
                .set_italic()
                .set_background_color(Color::RGB(0xDDEBF7)),
            header_decision: header.clone().set_background_color(Color::RGB(0xFFD966)),
            header,
            suggestion: Format::new()
                .set_italic()
                .set_font_color(Color::RGB(0x595959)),
            date: decision.clone().set_num_format("yyyy-mm-dd"),
            decision,
            bold: Format::new().set_bold(),
            wrap: Format::new().set_text_wrap(),
        }
    }
}

fn protect(ws: &mut Worksheet) {
    let options = ProtectionOptions {
        format_columns: true,
        format_rows: true,
        sort: true,
        use_autofilter: true,
        ..ProtectionOptions::new()
    };
    ws.protect_with_options(&options);
}

fn row_num(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

fn col_num(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}

/// Builds one review workbook; `scratch` holds the constant-memory sheets'
/// temporary files.
fn build_workbook(
    files: &CampaignFiles<'_>,
    plan: &WorkbookPlan,
    items: &[&ReviewItem],
    scratch: &Path,
) -> Result<Workbook, XlsxError> {
    let users: HashSet<&str> = items.iter().map(|i| i.user_id.0.as_str()).collect();
    let admins_workbook = plan.name == super::population::ADMINS_WORKBOOK
        || plan.name == super::population::SINGLE_WORKBOOK;
    let privileged: Vec<&PrivilegedEntry> = files
        .population
        .privileged
        .iter()
        .filter(|p| match &p.user_id {
            Some(u) => users.contains(u.0.as_str()),
            None => admins_workbook,
        })
        .collect();

    let formats = Formats::new();
    let mut workbook = Workbook::new();
    workbook.set_tempdir(scratch)?;
    write_review_sheet(
        workbook.add_worksheet_with_constant_memory()?,
        items,
        &formats,
    )?;
    write_privileged_sheet(
        workbook.add_worksheet_with_constant_memory()?,
        &privileged,
        &formats,
    )?;
    write_campaign_sheet(workbook.add_worksheet(), files, plan, &formats)?;
    Ok(workbook)
}

fn write_review_sheet(
    ws: &mut Worksheet,
    items: &[&ReviewItem],
    f: &Formats,
) -> Result<(), XlsxError> {
    ws.set_name(REVIEW_SHEET)?;
    ws.set_active(true);
    let columns = review_columns();
    let first_suggestion = 1 + CONTEXT_COLUMNS.len();
    let first_decision = first_suggestion + SUGGESTION_COLUMNS.len();
    for (i, name) in columns.iter().enumerate() {
        let width = match *name {
            ROW_KEY_COLUMN => 20.0,
            "email" | "name" | "group_or_grant" => 30.0,
            "access_at_edit_or_own" | "suggestion_reason" | REASON_COLUMN => 45.0,
            "last_active" => 21.0,
            "flags" => 28.0,
            REVIEWER_COLUMN => 28.0,
            _ => (name.len() + 3).max(10) as f64,
        };
        ws.set_column_width(col_num(i), width)?;
        let header = if i >= first_decision {
            &f.header_decision
        } else if i >= first_suggestion {
            &f.header_suggestion
        } else {
            &f.header
        };
        ws.write_string_with_format(0, col_num(i), *name, header)?;
    }
    ws.set_column_hidden(0)?;
    let numeric = CONTEXT_COLUMNS
        .iter()
        .position(|c| *c == NUMERIC_CONTEXT_COLUMN);
    for (n, item) in items.iter().enumerate() {
        let r = row_num(n + 1);
        ws.write_string(r, 0, &item.key)?;
        for (j, (_, value)) in item.context.iter().enumerate() {
            let c = col_num(1 + j);
            if value.is_empty() {
                continue;
            }
            match value.parse::<i64>() {
                Ok(v) if Some(j) == numeric => {
                    ws.write_number(r, c, v as f64)?;
                }
                _ => write_text(ws, r, c, value, None)?,
            }
        }
        if let Some(s) = item.suggested {
            ws.write_string_with_format(r, col_num(first_suggestion), s.as_str(), &f.suggestion)?;
        }
        if let Some(why) = &item.suggested_reason {
            write_text(
                ws,
                r,
                col_num(first_suggestion + 1),
                why,
                Some(&f.suggestion),
            )?;
        }
        for (k, column) in DECISION_COLUMNS.iter().enumerate() {
            let format = if *column == REVIEWED_AT_COLUMN {
                &f.date
            } else {
                &f.decision
            };
            ws.write_blank(r, col_num(first_decision + k), format)?;
        }
    }
    let last_row = row_num(items.len());
    let last_col = col_num(columns.len() - 1);
    if !items.is_empty() {
        let words: Vec<&str> = Decision::ALL.iter().map(|d| d.as_str()).collect();
        let decision = DataValidation::new()
            .allow_list_strings(&words)?
            .set_input_title("Decision")?
            .set_input_message("keep, revoke or modify. Revoke and modify need a reason.")?
            .set_error_title("Not a decision")?
            .set_error_message("Choose keep, revoke or modify from the list.")?
            .set_error_style(DataValidationErrorStyle::Stop);
        let dc = col_num(first_decision);
        ws.add_data_validation(1, dc, last_row, dc, &decision)?;
        let reason = DataValidation::new()
            .allow_any_value()
            .set_input_title("Reason")?
            .set_input_message(
                "Required for revoke and modify: why, and for modify what to change.",
            )?;
        ws.add_data_validation(1, dc + 1, last_row, dc + 1, &reason)?;
        let reviewer = DataValidation::new()
            .allow_any_value()
            .set_input_title("Reviewer")?
            .set_input_message("Your email address.")?;
        ws.add_data_validation(1, dc + 2, last_row, dc + 2, &reviewer)?;
        let reviewed_at = DataValidation::new()
            .allow_date(DataValidationRule::Between(
                ExcelDateTime::from_ymd(2000, 1, 1)?,
                ExcelDateTime::from_ymd(2099, 12, 31)?,
            ))
            .set_input_title("Reviewed at")?
            .set_input_message("The date of your decision, e.g. 2026-11-20.")?
            .set_error_title("Not a date")?
            .set_error_message("Enter a date such as 2026-11-20.")?;
        ws.add_data_validation(1, dc + 3, last_row, dc + 3, &reviewed_at)?;
    }
    ws.autofilter(0, 0, last_row, last_col)?;
    ws.set_freeze_panes(1, 2)?;
    protect(ws);
    Ok(())
}

fn write_privileged_sheet(
    ws: &mut Worksheet,
    entries: &[&PrivilegedEntry],
    f: &Formats,
) -> Result<(), XlsxError> {
    use super::population::cell_text;
    ws.set_name(PRIVILEGED_SHEET)?;
    let columns = ["kind", "email", "user_id", "detail"];
    for (i, (name, width)) in columns.iter().zip([18.0, 32.0, 28.0, 90.0]).enumerate() {
        ws.set_column_width(col_num(i), width)?;
        ws.write_string_with_format(0, col_num(i), *name, &f.header)?;
    }
    for (n, p) in entries.iter().enumerate() {
        let r = row_num(n + 1);
        ws.write_string(r, 0, p.kind.as_str())?;
        write_text(ws, r, 1, &cell_text(&p.email), None)?;
        if let Some(u) = &p.user_id {
            write_text(ws, r, 2, &cell_text(&u.0), None)?;
        }
        write_text(ws, r, 3, &cell_text(&p.detail), None)?;
    }
    ws.autofilter(0, 0, row_num(entries.len()), col_num(columns.len() - 1))?;
    ws.set_freeze_panes(1, 0)?;
    protect(ws);
    Ok(())
}

/// The reviewers' instructions on the `Campaign` sheet.
pub const INSTRUCTIONS: [&str; 8] = [
    "1. On the Review sheet, fill `decision` for every row: keep, revoke or modify (pick from the list).",
    "2. `reason` is required for revoke and modify (for modify, say what to change).",
    "3. Put your email in `reviewer` and the date in `reviewed_at` (e.g. 2026-11-20).",
    "4. The grey columns are the frozen context and the tool's suggestions: do not edit them; import refuses a workbook whose context changed.",
    "5. `suggested_decision` is only a suggestion (revoke: terminated or disabled but still holding access; review: inactive, never active or privileged).",
    "6. Do not rename sheets or add rows. Deleting a row just leaves it undecided. An empty decision is undecided.",
    "7. Save as Excel Workbook (.xlsx) and send the file back; it is imported with `retool-audit review import`.",
    "8. The sheets are protected without a password against accidental edits; filtering works; to sort in Excel, unprotect the sheet (Review > Unprotect Sheet).",
];

fn write_campaign_sheet(
    ws: &mut Worksheet,
    files: &CampaignFiles<'_>,
    plan: &WorkbookPlan,
    f: &Formats,
) -> Result<(), XlsxError> {
    use super::population::cell_text;
    ws.set_name(CAMPAIGN_SHEET)?;
    ws.set_column_width(0, 24)?;
    ws.set_column_width(1, 100)?;
    let c = files.campaign;
    let s = files.settings;
    let rows: Vec<(&str, String)> = vec![
        (KEY_CAMPAIGN, c.name.clone()),
        (KEY_CAMPAIGN_ID, c.id.to_string()),
        (KEY_ORG, c.org.clone()),
        (KEY_WORKBOOK, plan.name.clone()),
        ("workbook_for", plan.title.clone()),
        ("workbook_rows", plan.rows.to_string()),
        ("reviewers", plan.reviewers.join(", ")),
        ("reviewer_note", plan.note.clone().unwrap_or_default()),
        ("campaign_created_at", format_time(&c.created_at)),
        ("snapshot_id", c.snapshot_id.to_string()),
        ("snapshot_taken_at", format_time(&files.snapshot.taken_at())),
        ("snapshot_sha256", c.snapshot_sha256.clone()),
        ("snapshot_source", files.snapshot.info.source_url.clone()),
        (KEY_POPULATION_SHA256, c.population_sha256.clone()),
        ("population_rows", c.items.to_string()),
        ("reviewer_by", c.reviewer_by.as_str().to_string()),
        ("inactive_days", s.inactive_days.to_string()),
        ("default_group", s.default_group.clone()),
        (
            "roster",
            s.roster
                .as_ref()
                .map(|r| format!("{} ({} emails, sha256 {})", r.file, r.emails, r.sha256))
                .unwrap_or_else(|| "none".to_string()),
        ),
        ("generated_at", format_time(&files.generated_at)),
        ("tool_version", format!("retool-audit {}", s.tool_version)),
    ];
    ws.write_string_with_format(0, 0, "key", &f.header)?;
    ws.write_string_with_format(0, 1, "value", &f.header)?;
    let mut r = 1;
    for (key, value) in rows {
        ws.write_string_with_format(r, 0, key, &f.bold)?;
        if !value.is_empty() {
            write_text(ws, r, 1, &cell_text(&value), None)?;
        }
        r += 1;
    }
    r += 1;
    ws.write_string_with_format(r, 0, "Instructions", &f.bold)?;
    for line in INSTRUCTIONS {
        ws.write_string_with_format(r, 1, line, &f.wrap)?;
        r += 1;
    }
    protect(ws);
    Ok(())
}
