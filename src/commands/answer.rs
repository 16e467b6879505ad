//! What the history-question commands (`access-at`, `timeline`) share: the
//! snapshot a moment names, the "not found" message that says where in the
//! history a subject is, and one answer printed as an aligned table, CSV or
//! JSON — each naming the snapshot(s) it rests on.

use anyhow::anyhow;
use chrono::Utc;

use std::path::Path;

use super::common::{command_line, write_stdout};
use super::{CmdResult, CommandError, Output};
use crate::analyze::lookup::LookupError;
use crate::cli::AnswerFormat;
use crate::model::SnapshotMeta;
use crate::output::neutralize_formula;
use crate::report::evidence::report_provenance;
use crate::report::manifest::{Provenance, SourceSnapshot};
use crate::report::write::{Format, write_report};
use crate::report::{Cell, EvidenceItem, Report, Section, SummaryItem, Table, format_time};
use crate::store::{SnapshotSelector, Store};

/// The snapshot `selector` names in `org`: for a moment, the last snapshot
/// taken at or before it. A moment after today, or before the org's first
/// snapshot, is a usage error that names what the history holds.
pub(super) fn resolve_at(
    store: &Store,
    org: &str,
    selector: &SnapshotSelector,
    flag: &str,
) -> CmdResult<SnapshotMeta> {
    if let SnapshotSelector::OnOrBefore(when) = selector {
        let now = Utc::now();
        // A date means the end of that day: today is not in the future.
        if *when > now && when.date_naive() != now.date_naive() {
            return Err(CommandError::usage(anyhow!(
                "{flag} {} is in the future; the history cannot answer for it",
                format_time(when)
            )));
        }
        let snapshots = store.snapshots(Some(org))?;
        if let Some(first) = snapshots.first().filter(|f| f.taken_at() > *when) {
            return Err(CommandError::usage(anyhow!(
                "{flag} {} is before the first snapshot of {org}: #{} taken {}; the history \
                 knows nothing earlier",
                format_time(when),
                first.id,
                format_time(&first.taken_at())
            )));
        }
    }
    Ok(store.resolve(Some(org), selector)?)
}

/// A user or object not found in `meta`: the lookup's message (with the
/// closest names), the snapshot, and for a user the snapshots that do hold it.
pub(super) fn subject_not_found(
    store: &Store,
    org: &str,
    meta: &SnapshotMeta,
    query: &str,
    error: LookupError,
) -> CommandError {
    let at = format!(
        "snapshot #{} (taken {})",
        meta.id,
        format_time(&meta.taken_at())
    );
    let LookupError::NotFound {
        what,
        query: q,
        closest,
    } = error
    else {
        return CommandError::usage(anyhow!("{error} in {at}"));
    };
    let mut message = format!("no {what} {q:?} in {at}");
    if what == "user" {
        match store.user_span(org, query) {
            Ok(Some((from, None))) => {
                message.push_str(&format!("; the history holds it from snapshot #{from} on"))
            }
            Ok(Some((from, Some(to)))) => message.push_str(&format!(
                "; the history holds it from snapshot #{from}, gone by #{to}"
            )),
            Ok(None) | Err(_) => {}
        }
    }
    if !closest.is_empty() {
        message.push_str(&format!("; did you mean {}?", closest.join(", ")));
    }
    CommandError::usage(anyhow!(message))
}

/// Text from Retool made safe for a terminal: control characters (escape
/// sequences, line breaks) and invisible or reordering characters spelled out
/// as `⟦U+…⟧`, as the HTML report does.
pub(super) fn terminal_text(s: &str) -> String {
    let visible = crate::report::html::visible(s);
    if !visible.chars().any(char::is_control) {
        return visible;
    }
    visible
        .chars()
        .map(|c| {
            if c.is_control() {
                format!("⟦U+{:04X}⟧", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// One answer: the snapshot(s) it rests on, what it is about, and its rows.
pub(super) struct Answer {
    /// Printed first in a table; the `snapshot` object (or more) in JSON.
    proof: Vec<String>,
    json: serde_json::Map<String, serde_json::Value>,
    /// Columns every CSV row starts with (the proof of that row).
    csv_prefix: Vec<(&'static str, String)>,
    heading: String,
    columns: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    rows_name: &'static str,
    /// The snapshots the answer rests on, by role (`answered_from`, or
    /// `from` and `to`), for a report directory's provenance.
    snapshots: Vec<(&'static str, SnapshotMeta)>,
}

impl Answer {
    /// An answer read from one snapshot.
    pub(super) fn new(meta: &SnapshotMeta) -> Self {
        let mut json = serde_json::Map::new();
        json.insert("org".into(), meta.org.clone().into());
        json.insert(
            "snapshot".into(),
            serde_json::json!({
                "id": meta.id,
                "taken_at": format_time(&meta.taken_at()),
                "sha256": meta.sha256,
            }),
        );
        Answer {
            proof: vec![format!(
                "org {} · snapshot #{} taken {} · SHA-256 {}",
                meta.org,
                meta.id,
                format_time(&meta.taken_at()),
                meta.sha256
            )],
            json,
            csv_prefix: vec![
                ("snapshot_id", meta.id.to_string()),
                ("snapshot_taken_at", format_time(&meta.taken_at())),
                ("snapshot_sha256", meta.sha256.clone()),
            ],
            heading: String::new(),
            columns: Vec::new(),
            rows: Vec::new(),
            rows_name: "rows",
            snapshots: vec![("answered_from", meta.clone())],
        }
    }

    /// An answer read from the snapshots `from` to `to`: each row names its
    /// own snapshot, so no CSV column is added.
    pub(super) fn between(from: &SnapshotMeta, to: &SnapshotMeta) -> Self {
        let mut answer = Answer::new(to);
        answer.json.remove("snapshot");
        let mut proof = Vec::new();
        for (key, m) in [("from", from), ("to", to)] {
            answer.json.insert(
                key.into(),
                serde_json::json!({
                    "id": m.id,
                    "taken_at": format_time(&m.taken_at()),
                    "sha256": m.sha256,
                }),
            );
            proof.push(format!(
                "{key:<4} snapshot #{} taken {} · SHA-256 {}",
                m.id,
                format_time(&m.taken_at()),
                m.sha256
            ));
        }
        answer.proof = vec![format!("org {}", to.org)];
        answer.proof.extend(proof);
        answer.csv_prefix.clear();
        answer.snapshots = vec![("from", from.clone()), ("to", to.clone())];
        answer
    }

    /// What the answer is about: `key` and `value` in JSON, `heading` in a table.
    pub(super) fn subject(&mut self, key: &str, value: serde_json::Value, heading: String) {
        self.json.insert(key.into(), value);
        self.heading = heading;
    }

    pub(super) fn columns(&mut self, columns: &[&'static str]) {
        self.columns = columns.to_vec();
    }

    pub(super) fn row(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// The JSON key of the rows (`access`, `users`, `changes`).
    pub(super) fn rows_name(&mut self, name: &'static str) {
        self.rows_name = name;
    }
}

/// Writes `answer` as a report directory (`--out`): one table named `name`
/// (the proof columns first, as in its CSV), a Summary naming the subject,
/// the snapshots as Evidence, in every format with `manifest.json` and
/// `SHA256SUMS`, so `verify-report` checks it like any report.
pub(super) fn write_answer_report(
    answer: &Answer,
    dir: &Path,
    name: &str,
    title: &str,
    out: Output,
) -> CmdResult {
    let generated_at = Utc::now();
    let command_line = command_line();
    let Some((_, last)) = answer.snapshots.last() else {
        return Err(CommandError::failed(anyhow!(
            "an answer without a snapshot"
        )));
    };
    let columns: Vec<String> = answer
        .csv_prefix
        .iter()
        .map(|(c, _)| c.to_string())
        .chain(answer.columns.iter().map(|c| c.to_string()))
        .collect();
    let rows: Vec<Vec<Cell>> = answer
        .rows
        .iter()
        .map(|r| {
            answer
                .csv_prefix
                .iter()
                .map(|(_, v)| v)
                .chain(r)
                .zip(&columns)
                .map(|(v, c)| typed(c, v))
                .collect()
        })
        .collect();
    let mut evidence = report_provenance(generated_at, &command_line);
    for (role, m) in &answer.snapshots {
        let section = format!("Snapshot {} ({role})", m.id);
        evidence.push(EvidenceItem::new(
            &section,
            "taken at",
            format_time(&m.taken_at()),
        ));
        evidence.push(EvidenceItem::new(&section, "sha256", &m.sha256));
        evidence.push(EvidenceItem::new(&section, "source", &m.info.source_url));
    }
    let summary = vec![
        SummaryItem::new(Section::Headline, "Subject", Cell::text(&answer.heading)),
        SummaryItem::new(Section::Headline, "Rows", Cell::Int(rows.len() as i64)),
    ];
    let report: Report = Report {
        org: last.org.clone(),
        title: format!("{title}: {}", answer.heading),
        snapshot_date: last.taken_at().format("%Y-%m-%d").to_string(),
        generated_at,
        summary,
        evidence,
        charts: Vec::new(),
        tables: vec![Table {
            name: name.to_string(),
            title: title.to_string(),
            description: answer.proof.join(" · "),
            columns,
            rows,
            notice: None,
        }],
        provenance: Provenance {
            kind: name.to_string(),
            command_line,
            org: last.org.clone(),
            source_url: last.info.source_url.clone(),
            snapshots: answer
                .snapshots
                .iter()
                .map(|(role, m)| SourceSnapshot::new(role, m))
                .collect(),
            parameters: Default::default(),
        },
        drilldown: Default::default(),
        expansion: Default::default(),
    };
    let files = write_report(&report, dir, &Format::ALL, None).map_err(|e| {
        CommandError::from(e).context(format!(
            "could not write the answer to {}; nothing was left half-written",
            dir.display()
        ))
    })?;
    for f in &files {
        out.line(format!("wrote {}", f.display()));
    }
    Ok(())
}

/// A cell of an answer's column: snapshot ids as numbers, `…_at` times as
/// times, everything else as the text it is.
fn typed(column: &str, value: &str) -> Cell {
    if column.ends_with("snapshot") || column == "snapshot_id" {
        if let Ok(n) = value.parse() {
            return Cell::Int(n);
        }
    }
    if column.ends_with("_at") {
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
            return Cell::Time(t.with_timezone(&Utc));
        }
    }
    if value.is_empty() {
        Cell::Empty
    } else {
        Cell::text(value)
    }
}

/// Prints `answer` to stdout (even under `--quiet`: it is the output asked for).
pub(super) fn write_answer(answer: &Answer, format: AnswerFormat) -> CmdResult {
    let text = match format {
        AnswerFormat::Table => table(answer),
        AnswerFormat::Csv => csv(answer)?,
        AnswerFormat::Json => {
            let rows: Vec<serde_json::Value> = answer
                .rows
                .iter()
                .map(|r| {
                    let fields = answer
                        .columns
                        .iter()
                        .zip(r)
                        .map(|(c, v)| ((*c).to_string(), serde_json::Value::from(v.as_str())));
                    serde_json::Value::Object(fields.collect())
                })
                .collect();
            let mut json = answer.json.clone();
            json.insert(answer.rows_name.into(), rows.into());
            let mut text = serde_json::to_string_pretty(&json)
                .map_err(|e| CommandError::failed(anyhow!(e)))?;
            text.push('\n');
            text
        }
    };
    write_stdout(text.as_bytes())
}

/// Columns padded to their widest cell (at most 48 characters; a longer cell
/// overflows its column rather than being cut).
fn table(answer: &Answer) -> String {
    let cells: Vec<Vec<String>> = answer
        .rows
        .iter()
        .map(|r| r.iter().map(|c| short_hash(&terminal_text(c))).collect())
        .collect();
    let mut widths: Vec<usize> = answer.columns.iter().map(|c| c.chars().count()).collect();
    for r in &cells {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count().min(48));
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
        let mut out = String::new();
        for (i, c) in cells.enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            out.push_str(c);
            let pad = widths[i].saturating_sub(c.chars().count());
            out.extend(std::iter::repeat_n(' ', pad));
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
        out
    };
    let mut out = String::new();
    for p in &answer.proof {
        out.push_str(p);
        out.push('\n');
    }
    out.push_str(&terminal_text(&answer.heading));
    out.push('\n');
    if cells.is_empty() {
        out.push_str("(none)\n");
        return out;
    }
    out.push_str(&line(&mut answer.columns.iter().copied()));
    for r in &cells {
        out.push_str(&line(&mut r.iter().map(String::as_str)));
    }
    out.push_str(&format!("{} row(s)\n", cells.len()));
    out
}

/// A SHA-256 cell shortened to its first 12 digits for a table (CSV and
/// JSON keep it whole).
fn short_hash(cell: &str) -> String {
    if cell.len() == 64 && cell.bytes().all(|b| b.is_ascii_hexdigit()) {
        format!("{}…", &cell[..12])
    } else {
        cell.to_string()
    }
}

/// One header line, then every row after the proof columns; formula-like
/// text gets a leading `'` as in the reports' CSV.
fn csv(answer: &Answer) -> CmdResult<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| CommandError::failed(anyhow!(e));
    let header = answer
        .csv_prefix
        .iter()
        .map(|(c, _)| *c)
        .chain(answer.columns.iter().copied());
    w.write_record(header).map_err(fail)?;
    for r in &answer.rows {
        let cells = answer
            .csv_prefix
            .iter()
            .map(|(_, v)| v.as_str())
            .chain(r.iter().map(String::as_str))
            .map(|c| neutralize_formula(c).into_owned());
        w.write_record(cells).map_err(fail)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| CommandError::failed(anyhow!(e.to_string())))?;
    String::from_utf8(bytes).map_err(|e| CommandError::failed(anyhow!(e)))
}
