//! Writes a [`Report`] to a directory in any set of formats, atomically: every
//! file is rendered into a temporary file beside its destination and renamed into
//! place only once every requested format rendered completely (staging and
//! formula neutralizing live in [`crate::output`]). Also owns the output format
//! list (`--format csv,xlsx`).
//!
//! Layout of `DIR`:
//! - CSV: `DIR/csv/<table>.csv`, one file a table;
//! - XLSX: `DIR/<file_stem>.xlsx`;
//! - HTML: `DIR/<file_stem>.html`;
//! - JSON: `DIR/report.json`;
//! - with `--full-effective-access`: `DIR/jsonl/<table>.jsonl` for the per-user
//!   expansion ([`Expansion`]);
//! - always: `DIR/manifest.json` and `DIR/SHA256SUMS` (and the signature), see
//!   [`super::manifest`].
//!
//! Directories this creates are `0700` and files `0600` on unix: reports list who
//! can reach what, which is sensitive.

use std::collections::HashSet;
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Serialize;

use super::manifest::{SIGNATURE, Signer, seal};
use super::{Expansion, Report, RowSource};
use crate::output::{
    Staged, create_private_dir, persist_all, safe_file_name, stage, stage_buffered,
};
pub use crate::output::{WriteError, neutralize_formula};

/// One output format of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Csv,
    Xlsx,
    Html,
    Json,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Csv, Format::Xlsx, Format::Html, Format::Json];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Html => "html",
            Format::Json => "json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    /// Parses `csv`, `xlsx`, `html` or `json` (case-insensitive, surrounding
    /// blanks ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let word = s.trim();
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(word))
            .ok_or_else(|| {
                format!("unknown report format `{word}`: expected one of csv, xlsx, html, json")
            })
    }
}

/// Parses a comma-separated format list such as `csv,xlsx,html`, keeping the
/// first occurrence of each format. An empty list or an unknown word is an error
/// that names the word.
pub fn parse_formats(s: &str) -> Result<Vec<Format>, String> {
    let mut formats = Vec::new();
    for word in s.split(',') {
        if word.trim().is_empty() {
            continue;
        }
        let format: Format = word.parse()?;
        if !formats.contains(&format) {
            formats.push(format);
        }
    }
    if formats.is_empty() {
        return Err(format!(
            "no report format in `{}`: expected a comma-separated list of csv, xlsx, html, json",
            s.trim()
        ));
    }
    Ok(formats)
}

/// The file stem the XLSX and HTML files share: `retool-audit_<org>_<snapshot
/// date>`, the org made safe for a file name.
fn file_stem<R>(report: &Report<R>) -> String {
    format!(
        "retool-audit_{}_{}",
        safe_file_name(&report.org),
        report.snapshot_date
    )
}

/// Renders one format into temporary files beside their destinations.
fn stage_format<R: RowSource + Serialize>(
    report: &Report<R>,
    out_dir: &Path,
    format: Format,
) -> Result<Vec<Staged>, WriteError> {
    let mut staged = Vec::new();
    match format {
        Format::Csv => {
            let csv_dir = out_dir.join("csv");
            create_private_dir(&csv_dir)?;
            let mut names: HashSet<String> =
                ["summary.csv".to_string(), "evidence.csv".to_string()].into();
            for table in &report.tables {
                let stem = safe_file_name(&table.name);
                let mut name = format!("{stem}.csv");
                let mut n = 2;
                while !names.insert(name.clone()) {
                    name = format!("{stem}_{n}.csv");
                    n += 1;
                }
                staged.push(stage_buffered(csv_dir.join(name), |w| {
                    super::csv::write_table(table, w).map_err(csv_error_to_io)
                })?);
            }
            // The summary and the evidence travel with the tables.
            let summary: Vec<(String, String, String)> = report
                .summary
                .iter()
                .map(|i| {
                    (
                        i.section.as_str().to_string(),
                        i.label.clone(),
                        i.value.to_plain(),
                    )
                })
                .collect();
            staged.push(stage_buffered(csv_dir.join("summary.csv"), |w| {
                super::csv::write_rows(
                    &["section", "label", "value"],
                    summary
                        .iter()
                        .map(|(s, l, v)| [s.as_str(), l.as_str(), v.as_str()]),
                    w,
                )
                .map_err(csv_error_to_io)
            })?);
            staged.push(stage_buffered(csv_dir.join("evidence.csv"), |w| {
                super::csv::write_rows(
                    &["section", "key", "value"],
                    report
                        .evidence
                        .iter()
                        .map(|e| [e.section.as_str(), e.key.as_str(), e.value.as_str()]),
                    w,
                )
                .map_err(csv_error_to_io)
            })?);
        }
        Format::Xlsx => {
            let dest = out_dir.join(format!("{}.xlsx", file_stem(report)));
            let path = dest.clone();
            staged.push(stage(dest, |file| {
                let xlsx_err = |e: rust_xlsxwriter::XlsxError| WriteError::Xlsx {
                    path: path.clone(),
                    detail: e.to_string(),
                };
                let mut workbook =
                    super::xlsx::build_workbook(report, Some(out_dir)).map_err(xlsx_err)?;
                workbook.save_to_writer(file).map_err(xlsx_err)
            })?);
        }
        Format::Html => {
            let html = super::html::render_html(report).map_err(|e| WriteError::Template {
                detail: e.to_string(),
            })?;
            let dest = out_dir.join(format!("{}.html", file_stem(report)));
            staged.push(stage_buffered(dest, |w| w.write_all(html.as_bytes()))?);
        }
        Format::Json => {
            staged.push(stage_buffered(out_dir.join("report.json"), |w| {
                super::json::write_json(report, w).map_err(io::Error::from)
            })?);
        }
    }
    Ok(staged)
}

fn csv_error_to_io(e: ::csv::Error) -> io::Error {
    match e.into_kind() {
        ::csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Writes `report` into `out_dir` in each of `formats` (see the module docs for
/// the layout) and returns the paths written, in format order. Creates `out_dir`
/// if needed. Every file is complete or absent: all formats are rendered to
/// temporary files first and renamed into place only when all succeeded, so an
/// error leaves no partial or new file behind (a previous report's files at the
/// same paths are replaced only on success).
///
/// `report` is a `&Report` or a `&StreamedReport`: the rows of a streamed table
/// are produced while each format is written, never all held.
pub fn write_report<R: RowSource + Serialize>(
    report: &Report<R>,
    out_dir: &Path,
    formats: &[Format],
    signer: Option<&Signer>,
) -> Result<Vec<PathBuf>, WriteError> {
    create_private_dir(out_dir)?;
    let mut wanted: Vec<Format> = Vec::new();
    for &format in formats {
        if !wanted.contains(&format) {
            wanted.push(format);
        }
    }
    // The XLSX workbook takes longest (cells, then deflate): it is written on its
    // own thread while the other formats are written on this one.
    let mut results = std::thread::scope(|scope| {
        let xlsx = wanted
            .contains(&Format::Xlsx)
            .then(|| scope.spawn(|| stage_format(report, out_dir, Format::Xlsx)));
        let mut results = Vec::new();
        for &format in wanted.iter().filter(|f| **f != Format::Xlsx) {
            let result = stage_format(report, out_dir, format);
            let failed = result.is_err();
            results.push((format, result));
            if failed {
                break;
            }
        }
        if let Some(thread) = xlsx {
            let result = thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            results.push((Format::Xlsx, result));
        }
        results
    });
    // In the order asked: the first failure is reported, and nothing is renamed.
    results.sort_by_key(|(format, _)| wanted.iter().position(|f| f == format));
    let mut staged = Vec::new();
    for (_, result) in results {
        staged.extend(result?);
    }
    if let Expansion::Full { .. } = report.expansion {
        let dir = out_dir.join("jsonl");
        create_private_dir(&dir)?;
        for table in report
            .tables
            .iter()
            .filter(|t| Expansion::TABLES.contains(&t.name.as_str()))
        {
            let dest = dir.join(format!("{}.jsonl", safe_file_name(&table.name)));
            staged.push(stage_buffered(dest, |w| {
                super::json::write_jsonl(table, w)
            })?);
        }
    }
    let sealed = seal(
        out_dir,
        &staged,
        &report.provenance,
        report.generated_at,
        signer,
    )?;
    staged.extend(sealed);
    // What an earlier report in this directory wrote, read before its manifest
    // is replaced.
    let earlier = previous_files(out_dir);
    let written = persist_all(staged)?;
    // Files an earlier report wrote that this one did not (an effective_access
    // no longer written at this size, a format not asked for again, a
    // signature) would pass for current: they go. Only files the earlier
    // manifest vouched for are touched.
    let mut stale: Vec<PathBuf> = earlier
        .into_iter()
        .map(|rel| out_dir.join(rel))
        .filter(|p| !written.contains(p))
        .collect();
    if signer.is_none() {
        stale.push(out_dir.join(SIGNATURE));
    }
    for path in stale {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(WriteError::io(&path, e)),
        }
    }
    Ok(written)
}

/// The files the manifest already in `out_dir` lists (relative paths that stay
/// inside the directory); none when there is no readable manifest.
fn previous_files(out_dir: &Path) -> Vec<String> {
    std::fs::read(out_dir.join(super::manifest::MANIFEST))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<super::manifest::Manifest>(&bytes).ok())
        .map(|m| {
            m.files
                .into_iter()
                .map(|f| f.path)
                .filter(|p| super::manifest::safe_relative(p) && !p.contains('\\'))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::report::{
        Cell, Chart, ChartKind, EvidenceItem, Report, Section, Series, SummaryItem, Table,
    };
    use chrono::{TimeZone, Utc};
    use std::fs;

    pub(crate) const LONG_LEN: usize = 40_000;

    /// Hostile text every writer must survive.
    pub(crate) fn hostile_texts() -> Vec<String> {
        vec![
            "<script>alert(1)</script>".into(),
            "=HYPERLINK(\"http://x\",\"y\")".into(),
            "+1".into(),
            "-2".into(),
            "@x".into(),
            "\tx".into(),
            "\rx".into(),
            "she said \"hi\" & 'bye'".into(),
            "line one\nline two\r\nline three".into(),
            "\u{200F}rtl mark".into(),
            "emoji 🔐👩‍💻".into(),
            "日本語".into(),
            "x".repeat(LONG_LEN),
        ]
    }

    pub(crate) fn t0() -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
            .single()
            .unwrap_or_default()
    }

    /// A report with a hostile `users` table, a small `groups` table with a
    /// notice, an empty table, charts and evidence.
    pub(crate) fn sample_report() -> Report {
        let mut rows = Vec::new();
        for (i, text) in hostile_texts().into_iter().enumerate() {
            rows.push(vec![
                Cell::text(format!("u{i}")),
                Cell::Text(text),
                Cell::Int(i as i64 - 5),
                Cell::Bool(i % 2 == 0),
                Cell::Time(t0() + chrono::Duration::hours(i as i64)),
                Cell::Empty,
            ]);
        }
        Report {
            org: "acme <corp>".into(),
            title: "Access review <b>Q4</b>".into(),
            snapshot_date: "2026-11-23".into(),
            generated_at: t0(),
            summary: vec![
                SummaryItem {
                    section: Section::Headline,
                    label: "Active users".into(),
                    value: Cell::Int(12),
                },
                SummaryItem {
                    section: Section::Headline,
                    label: "<img src=x onerror=alert(1)>".into(),
                    value: Cell::text("=1+1"),
                },
                SummaryItem {
                    section: Section::Findings,
                    label: "Disabled but admin".into(),
                    value: Cell::Int(2),
                },
            ],
            evidence: vec![EvidenceItem {
                section: "Report".into(),
                key: "source".into(),
                value: "https://retool.example.com/api/v2".into(),
            }],
            provenance: Default::default(),
            drilldown: Default::default(),
            expansion: Default::default(),
            charts: vec![
                Chart {
                    title: "Users <over> time".into(),
                    kind: ChartKind::Line,
                    x_labels: vec!["2026-11-01".into(), "<x>".into(), "2026-11-23".into()],
                    series: vec![
                        Series {
                            name: "active \"users\"".into(),
                            values: vec![10.0, 11.0, 12.0],
                        },
                        Series {
                            name: "admins".into(),
                            values: vec![1.0, f64::NAN, 2.0],
                        },
                    ],
                },
                Chart {
                    title: "Access by group".into(),
                    kind: ChartKind::StackedBar,
                    x_labels: vec!["Admins".into(), "<script>".into()],
                    series: vec![
                        Series {
                            name: "own".into(),
                            values: vec![3.0, 1.0],
                        },
                        Series {
                            name: "use".into(),
                            values: vec![5.0, -1.0],
                        },
                    ],
                },
            ],
            tables: vec![
                Table {
                    name: "users".into(),
                    title: "Users".into(),
                    description: "One row per user.".into(),
                    columns: vec![
                        "id".into(),
                        "name".into(),
                        "score".into(),
                        "active".into(),
                        "created_at".into(),
                        "last_active".into(),
                    ],
                    rows,
                    notice: None,
                },
                Table {
                    name: "groups".into(),
                    title: "Groups".into(),
                    description: "One row per group.".into(),
                    columns: vec!["id".into(), "name".into()],
                    rows: vec![
                        vec![Cell::Int(1), Cell::text("All Users")],
                        vec![Cell::Int(2), Cell::text("@admins")],
                    ],
                    notice: Some("grants not collected: <scope> missing".into()),
                },
                Table {
                    name: "changes".into(),
                    title: "Changes".into(),
                    description: "What changed.".into(),
                    columns: vec!["kind".into(), "what".into()],
                    rows: vec![],
                    notice: Some("only one snapshot: no changes to report".into()),
                },
            ],
        }
    }

    #[test]
    fn formats_parse_dedupe_and_name_the_bad_word() {
        assert_eq!(
            parse_formats("csv, XLSX,html,csv"),
            Ok(vec![Format::Csv, Format::Xlsx, Format::Html])
        );
        assert_eq!("json".parse::<Format>(), Ok(Format::Json));
        let err = parse_formats("csv,pdf").unwrap_err();
        assert!(err.contains("`pdf`"), "{err}");
        assert!(parse_formats(" , ").is_err());
    }

    #[test]
    fn neutralizes_only_formula_starts() {
        for s in ["=1", "+1", "-2", "@x", "\tx", "\rx"] {
            assert_eq!(neutralize_formula(s), format!("'{s}"));
        }
        for s in ["", "a=1", "1-2", " =1", "日本語", "'quoted"] {
            assert_eq!(neutralize_formula(s), s);
        }
    }

    #[test]
    fn writes_every_format_to_the_documented_paths() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("new").join("reports");
        let report = sample_report();
        let paths = write_report(&report, &out, &Format::ALL, None).unwrap();
        let stem = file_stem(&report);
        assert_eq!(stem, "retool-audit_acme__corp__2026-11-23");
        let expected: Vec<PathBuf> = vec![
            out.join("csv/users.csv"),
            out.join("csv/groups.csv"),
            out.join("csv/changes.csv"),
            out.join("csv/summary.csv"),
            out.join("csv/evidence.csv"),
            out.join(format!("{stem}.xlsx")),
            out.join(format!("{stem}.html")),
            out.join("report.json"),
            out.join("manifest.json"),
            out.join("SHA256SUMS"),
        ];
        assert_eq!(paths, expected);
        for p in &paths {
            assert!(p.is_file(), "{}", p.display());
        }
        // No temporary files left behind.
        let leftovers: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for p in &paths {
                let mode = fs::metadata(p).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{}", p.display());
            }
            for d in [&out, &out.join("csv")] {
                let mode = fs::metadata(d).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o700, "{}", d.display());
            }
        }
    }

    #[test]
    fn csv_and_json_are_byte_identical_across_runs() {
        let report = sample_report();
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let pa = write_report(&report, a.path(), &[Format::Csv, Format::Json], None).unwrap();
        let pb = write_report(&report, b.path(), &[Format::Csv, Format::Json], None).unwrap();
        // The manifest too: it records the report's generation time, not the
        // time it was written.
        assert_eq!(pa.len(), 8);
        for (x, y) in pa.iter().zip(&pb) {
            assert_eq!(
                fs::read(x).unwrap(),
                fs::read(y).unwrap(),
                "{}",
                x.display()
            );
        }
    }

    #[test]
    fn unwritable_output_dir_errors_with_the_path_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("a-file");
        fs::write(&blocker, b"not a directory").unwrap();
        let out = blocker.join("reports");
        let err = write_report(&sample_report(), &out, &Format::ALL, None).unwrap_err();
        assert!(matches!(err, WriteError::Io { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains(&out.display().to_string()), "{msg}");
        assert!(msg.contains("write to"), "{msg}");
        assert_eq!(fs::read(&blocker).unwrap(), b"not a directory");
        let entries: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(entries.len(), 1);
    }

    #[test]
    fn a_failing_format_leaves_no_file_of_any_format() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        fs::create_dir(&out).unwrap();
        // `csv` is a file, so the CSV directory cannot be created; JSON comes first
        // in the list and must not appear either.
        fs::write(out.join("csv"), b"x").unwrap();
        let err =
            write_report(&sample_report(), &out, &[Format::Json, Format::Csv], None).unwrap_err();
        assert!(err.to_string().contains("csv"), "{err}");
        let names: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["csv".to_string()]);
    }

    /// The CSV set stands on its own: the summary and the evidence are files
    /// beside the tables, formula-like values neutralized like every cell.
    #[test]
    fn the_csv_set_carries_the_summary_and_the_evidence() {
        let report = sample_report();
        let dir = tempfile::tempdir().unwrap();
        write_report(&report, dir.path(), &[Format::Csv], None).unwrap();
        let read = |name: &str| {
            let mut r = ::csv::Reader::from_path(dir.path().join("csv").join(name)).unwrap();
            let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
            let rows: Vec<Vec<String>> = r
                .records()
                .map(|x| x.unwrap().iter().map(String::from).collect())
                .collect();
            (header, rows)
        };
        let (header, rows) = read("evidence.csv");
        assert_eq!(header, ["section", "key", "value"]);
        let want: Vec<Vec<String>> = report
            .evidence
            .iter()
            .map(|e| {
                vec![
                    e.section.clone(),
                    e.key.clone(),
                    neutralize_formula(&e.value).into_owned(),
                ]
            })
            .collect();
        assert_eq!(rows, want);
        let (header, rows) = read("summary.csv");
        assert_eq!(header, ["section", "label", "value"]);
        assert_eq!(rows.len(), report.summary.len());
        assert!(rows.iter().any(|r| r[2] == "'=1+1"), "{rows:?}");
    }

    #[test]
    fn table_names_become_safe_unique_file_names() {
        assert_eq!(safe_file_name("../etc/passwd"), "_._etc_passwd");
        assert_eq!(safe_file_name(""), "table");
        let mut report = sample_report();
        report.tables[1].name = "users".into();
        report.tables[2].name = "../x".into();
        let dir = tempfile::tempdir().unwrap();
        let paths = write_report(&report, dir.path(), &[Format::Csv], None).unwrap();
        let names: Vec<_> = paths
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            names,
            vec![
                PathBuf::from("csv/users.csv"),
                PathBuf::from("csv/users_2.csv"),
                PathBuf::from("csv/_._x.csv"),
                PathBuf::from("csv/summary.csv"),
                PathBuf::from("csv/evidence.csv"),
                PathBuf::from("manifest.json"),
                PathBuf::from("SHA256SUMS"),
            ]
        );
    }
}
