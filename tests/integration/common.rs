//! A small fluent helper for the integration tests: a simulated Retool on
//! loopback (in this process), a temp dir with a real SQLite file, and the real
//! `retool-audit` binary run as a child process against both.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, TimeZone, Utc};
use retool_audit::fake::{FakeConfig, FakeOrg, FakeServer, OrgSpec};
use retool_audit::model::OrgState;
use retool_audit::store::Store;

pub const TOKEN: &str = "rt-test-0123456789-SECRET-abcdef";

/// A test that cannot run here because `what` is missing: under CI (the `CI`
/// variable set, as `.ci/run` does) that is a failure saying what to install,
/// so a green run always means the test ran; elsewhere it prints a SKIP line.
pub fn skip_or_fail(test: &str, what: &str, install: &str) {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{test} cannot run under CI: {what}; {install}");
    }
    eprintln!("SKIP {test}: {what}; {install}");
}

/// A fixed clock for generated orgs, so expectations do not drift with time.
pub fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

pub struct World {
    pub rt: tokio::runtime::Runtime,
    pub server: Option<FakeServer>,
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
}

/// What a finished command printed and returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn fails_with(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit code {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr should mention {needle:?}\nstderr:\n{}",
            self.stderr
        );
        self
    }
}

impl World {
    /// A world serving a generated org of `users` users (seed 7) with `config`.
    pub fn with_org(spec: OrgSpec, config: FakeConfig) -> World {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let org = FakeOrg::generate(&spec);
        let config = FakeConfig {
            token: TOKEN.to_string(),
            version: config.version.or(Some("3.148.0-test".to_string())),
            ..config
        };
        let server = rt
            .block_on(FakeServer::start(org, config))
            .expect("start fake server");
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("history.db");
        World {
            rt,
            server: Some(server),
            dir,
            db,
        }
    }

    pub fn new(users: usize) -> World {
        World::with_org(
            OrgSpec::with_users(users, 7, fixed_now()),
            FakeConfig::default(),
        )
    }

    pub fn demo() -> World {
        World::with_org(OrgSpec::demo(fixed_now()), FakeConfig::default())
    }

    pub fn server(&self) -> &FakeServer {
        self.server.as_ref().expect("server running")
    }

    pub fn base_url(&self) -> String {
        self.server().base_url()
    }

    pub fn expected(&self) -> OrgState {
        self.server().update_org(|o| o.expected_state())
    }

    pub fn expected_v1(&self) -> OrgState {
        self.server().update_org(|o| o.expected_state_v1())
    }

    /// The binary with `--db` set and the token in the environment.
    pub fn cmd(&self) -> Command {
        retool_audit(&self.db)
    }

    pub fn run(&self, args: &[&str]) -> Run {
        run(self.cmd().args(args))
    }

    pub fn snapshot(&self, extra: &[&str]) -> Run {
        let base = self.base_url();
        let mut args = vec!["snapshot", "--base-url", base.as_str()];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    pub fn store(&self) -> Store {
        Store::open_existing(&with_test_password(&self.db)).expect("open history")
    }

    /// This world with its history in `db`, a database on the PostgreSQL
    /// test server (kept while the guard lives).
    pub fn on_postgres(mut self, db: &crate::postgres::Database) -> World {
        self.db = PathBuf::from(&db.url);
        self
    }

    /// Makes an active user (whose e-mail is not formula-like) an admin in
    /// the simulated org; their e-mail.
    pub fn promote_someone(&self) -> String {
        self.server().update_org(|o| {
            let u = o
                .users
                .iter_mut()
                .find(|u| u.active && !u.is_admin && !u.email.starts_with(['=', '+']))
                .expect("an active non-admin");
            u.is_admin = true;
            u.email.clone()
        })
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

/// `db` with the PostgreSQL test server's password in it when it is a URL
/// (for this process's own `Store`; the binary gets `PGPASSWORD`).
pub fn with_test_password(db: &Path) -> PathBuf {
    let text = db.to_string_lossy();
    match std::env::var("RETOOL_AUDIT_TEST_POSTGRES_PASSWORD") {
        Ok(p) if text.starts_with("postgres://retool_audit@") => {
            PathBuf::from(text.replacen("retool_audit@", &format!("retool_audit:{p}@"), 1))
        }
        _ => db.to_path_buf(),
    }
}

/// The binary with `--db db`, the test token in the environment, and no
/// inherited configuration (and for the PostgreSQL test server, its password).
pub fn retool_audit(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_retool-audit"));
    c.arg("--db").arg(db);
    c.env("RETOOL_API_TOKEN", TOKEN);
    if db.to_string_lossy().starts_with("postgres")
        && let Ok(password) = std::env::var("RETOOL_AUDIT_TEST_POSTGRES_PASSWORD")
    {
        c.env("PGPASSWORD", password);
    }
    c.env_remove("RUST_LOG");
    c.env_remove("RETOOL_AUDIT_DB");
    c.env_remove("RETOOL_BASE_URL");
    c
}

pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("run retool-audit");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The size of the database including its WAL, as a user would see on disk.
pub fn db_bytes(db: &Path) -> u64 {
    let main = std::fs::metadata(db).map(|m| m.len()).unwrap_or(0);
    let wal = std::fs::metadata(format!("{}-wal", db.display()))
        .map(|m| m.len())
        .unwrap_or(0);
    main + wal
}

/// Reads `DIR/csv/<table>.csv` as header + rows of strings.
pub fn read_csv(dir: &Path, table: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let path = dir.join("csv").join(format!("{table}.csv"));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("row").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// Rows of a CSV table as maps from column name to value.
pub fn csv_maps(dir: &Path, table: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let (header, rows) = read_csv(dir, table);
    rows.into_iter()
        .map(|r| header.iter().cloned().zip(r).collect())
        .collect()
}

/// A value a reviewer types into a cell of a review workbook.
#[derive(Debug, Clone)]
pub enum CellValue {
    Text(String),
    /// A number, e.g. an Excel date serial (2026-11-20 is 46346) in the
    /// date-formatted `reviewed_at` column.
    Number(f64),
}

/// A decision as a reviewer types it: `decision`, `reason`, `reviewer`,
/// `reviewed_at` (empty strings leave a cell empty).
pub fn decision_cells(
    decision: &str,
    reason: &str,
    reviewer: &str,
    reviewed_at: CellValue,
) -> Vec<(&'static str, CellValue)> {
    vec![
        ("decision", CellValue::Text(decision.to_string())),
        ("reason", CellValue::Text(reason.to_string())),
        ("reviewer", CellValue::Text(reviewer.to_string())),
        ("reviewed_at", reviewed_at),
    ]
}

/// Where each column and each row key is on a workbook's `Review` sheet
/// (0-based column, 1-based spreadsheet row).
pub struct ReviewLayout {
    pub columns: std::collections::BTreeMap<String, usize>,
    pub rows: std::collections::BTreeMap<String, u32>,
}

pub fn review_layout(path: &Path) -> ReviewLayout {
    use calamine::{Reader, Xlsx, open_workbook};
    let mut wb: Xlsx<_> = open_workbook(path).expect("open review workbook");
    let range = wb.worksheet_range("Review").expect("Review sheet");
    let mut rows_iter = range.rows();
    let header = rows_iter.next().expect("header row");
    let columns: std::collections::BTreeMap<String, usize> = header
        .iter()
        .enumerate()
        .map(|(i, c)| (c.to_string(), i))
        .collect();
    let key_col = columns["row_key"];
    let start = range.start().map_or(0, |(r, _)| r);
    let rows = range
        .rows()
        .enumerate()
        .skip(1)
        .map(|(i, r)| (r[key_col].to_string(), start + i as u32 + 1))
        .collect();
    ReviewLayout { columns, rows }
}

/// The spreadsheet column letters of a 0-based column index.
pub fn column_letters(mut col: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Reads every entry of a zip (an XLSX) as (name, bytes), in order.
pub fn zip_entries(path: &Path) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let file = std::fs::File::open(path).expect("open xlsx");
    let mut zip = zip::ZipArchive::new(file).expect("an xlsx is a zip");
    (0..zip.len())
        .map(|i| {
            let mut entry = zip.by_index(i).expect("zip entry");
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).expect("read zip entry");
            (entry.name().expect("entry name").to_string(), bytes)
        })
        .collect()
}

/// The text of one entry of an XLSX, e.g. `xl/worksheets/sheet1.xml`.
pub fn zip_text(path: &Path, name: &str) -> String {
    zip_entries(path)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, b)| String::from_utf8(b).expect("utf-8 xml"))
        .unwrap_or_else(|| panic!("{} has no {name}", path.display()))
}

/// Writes `entries` as a zip (an XLSX) to `path`, replacing it.
pub fn write_zip(path: &Path, entries: &[(String, Vec<u8>)]) {
    use std::io::Write;
    let file = std::fs::File::create(path).expect("create xlsx");
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(name.as_str(), options).expect("zip entry");
        zip.write_all(bytes).expect("write zip entry");
    }
    zip.finish().expect("finish zip");
}

/// Rewrites the `Review` sheet's XML (the first worksheet) of a workbook.
pub fn edit_review_xml(path: &Path, edit: impl FnOnce(String) -> String) {
    let mut entries = zip_entries(path);
    let sheet = entries
        .iter_mut()
        .find(|(n, _)| n == "xl/worksheets/sheet1.xml")
        .expect("the Review sheet is sheet1");
    let xml = String::from_utf8(std::mem::take(&mut sheet.1)).expect("utf-8 xml");
    sheet.1 = edit(xml).into_bytes();
    write_zip(path, &entries);
}

/// Fills cells of a review workbook the way a reviewer does in Excel: for each
/// row key, the named columns get the values, and the workbook is saved. The
/// sheet XML inside the XLSX is edited in place (cell styles, validation and
/// protection are kept), which is what a spreadsheet program does on save.
pub fn fill_review(path: &Path, fills: &[(&str, Vec<(&str, CellValue)>)]) {
    let layout = review_layout(path);
    let cell_re = regex::Regex::new(r#"(?s)<c r="([A-Z]+)(\d+)"([^>]*?)(?:/>|>(.*?)</c>)"#)
        .expect("cell regex");
    let style_re = regex::Regex::new(r#" s="(\d+)""#).expect("style regex");
    edit_review_xml(path, |mut xml| {
        for (key, cells) in fills {
            let row = *layout
                .rows
                .get(*key)
                .unwrap_or_else(|| panic!("no row with row_key {key}"));
            let row_re =
                regex::Regex::new(&format!(r#"(?s)<row r="{row}"[^>]*?(?:/>|>.*?</row>)"#))
                    .expect("row regex");
            let row_xml = row_re
                .find(&xml)
                .unwrap_or_else(|| panic!("row {row} not in the sheet XML"))
                .as_str()
                .to_string();
            let open_end = row_xml.find('>').expect("row tag");
            let open_tag = row_xml[..=open_end]
                .trim_end_matches("/>")
                .trim_end_matches('>');
            // (column index, xml) of every cell of the row.
            let mut row_cells: Vec<(usize, String)> = cell_re
                .captures_iter(&row_xml)
                .map(|c| {
                    let letters = c.get(1).unwrap().as_str();
                    let idx = (0..16384)
                        .find(|i| column_letters(*i) == letters)
                        .expect("column letters");
                    (idx, c.get(0).unwrap().as_str().to_string())
                })
                .collect();
            for (column, value) in cells {
                let col = *layout
                    .columns
                    .get(*column)
                    .unwrap_or_else(|| panic!("no column {column}"));
                let r = format!("{}{row}", column_letters(col));
                let style = row_cells
                    .iter()
                    .find(|(c, _)| *c == col)
                    .and_then(|(_, x)| style_re.captures(x).map(|c| format!(r#" s="{}""#, &c[1])))
                    .unwrap_or_default();
                let cell = match value {
                    CellValue::Text(t) if t.is_empty() => format!(r#"<c r="{r}"{style}/>"#),
                    CellValue::Text(t) => format!(
                        r#"<c r="{r}"{style} t="inlineStr"><is><t xml:space="preserve">{}</t></is></c>"#,
                        xml_escape(t)
                    ),
                    CellValue::Number(n) => format!(r#"<c r="{r}"{style}><v>{n}</v></c>"#),
                };
                row_cells.retain(|(c, _)| *c != col);
                row_cells.push((col, cell));
            }
            row_cells.sort_by_key(|(c, _)| *c);
            let body: String = row_cells.into_iter().map(|(_, x)| x).collect();
            let new_row = format!("{open_tag}>{body}</row>");
            xml = xml.replacen(&row_xml, &new_row, 1);
        }
        xml
    });
}

/// Removes the row with `key` from the `Review` sheet (a reviewer deleting it).
pub fn delete_review_row(path: &Path, key: &str) {
    let row = review_layout(path).rows[key];
    edit_review_xml(path, |xml| {
        let row_re =
            regex::Regex::new(&format!(r#"(?s)<row r="{row}"[^>]*?(?:/>|>.*?</row>)"#)).unwrap();
        row_re.replace(&xml, "").into_owned()
    });
}

/// Copies the row with `key` to a new row below the last one (a reviewer
/// pasting a duplicate).
pub fn duplicate_review_row(path: &Path, key: &str) {
    let layout = review_layout(path);
    let row = layout.rows[key];
    let last = layout.rows.values().max().copied().unwrap_or(1);
    let new = last + 1;
    edit_review_xml(path, |xml| {
        let row_re =
            regex::Regex::new(&format!(r#"(?s)<row r="{row}"[^>]*?(?:/>|>.*?</row>)"#)).unwrap();
        let copy = row_re.find(&xml).expect("row").as_str().to_string();
        let copy = copy.replace(&format!(r#"<row r="{row}""#), &format!(r#"<row r="{new}""#));
        let cell_ref = regex::Regex::new(&format!(r#"<c r="([A-Z]+){row}""#)).unwrap();
        let copy = cell_ref
            .replace_all(&copy, format!(r#"<c r="${{1}}{new}""#).as_str())
            .into_owned();
        xml.replacen("</sheetData>", &format!("{copy}</sheetData>"), 1)
    });
}

/// Every file under `dir`, recursively: all bytes a run wrote (the history,
/// its WAL, the report files).
pub fn every_file(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read a directory") {
            let p = e.expect("a directory entry").path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The cells of a workbook's `n`th sheet (1-based, in workbook order) whose
/// style sets `quotePrefix` (text kept as text even when edited), as 0-based
/// (row, column), read from the package's XML.
pub fn quote_prefixed_cells(path: &Path, n: usize) -> std::collections::BTreeSet<(u32, u32)> {
    let styles = zip_text(path, "xl/styles.xml");
    let sheet = zip_text(path, &format!("xl/worksheets/sheet{n}.xml"));
    let xfs = styles
        .split("<cellXfs")
        .nth(1)
        .and_then(|x| x.split("</cellXfs>").next())
        .expect("cellXfs in styles.xml");
    let quoted: Vec<bool> = xfs
        .split("<xf ")
        .skip(1)
        .map(|xf| {
            xf.split('>')
                .next()
                .unwrap_or_default()
                .contains("quotePrefix=\"1\"")
        })
        .collect();
    let mut out = std::collections::BTreeSet::new();
    for c in sheet.split("<c ").skip(1) {
        let head = c.split('>').next().unwrap_or_default();
        let attr = |name: &str| {
            head.split(&format!("{name}=\""))
                .nth(1)
                .and_then(|v| v.split('"').next())
        };
        let Some(style) = attr("s").and_then(|s| s.parse::<usize>().ok()) else {
            continue;
        };
        if !quoted.get(style).copied().unwrap_or(false) {
            continue;
        }
        let r = attr("r").expect("a cell reference");
        let letters: String = r.chars().take_while(char::is_ascii_alphabetic).collect();
        let row: u32 = r[letters.len()..].parse().expect("a row number");
        let col = letters
            .bytes()
            .fold(0u32, |acc, b| acc * 26 + u32::from(b - b'A' + 1));
        out.insert((row - 1, col - 1));
    }
    out
}

/// None of `needles` is in any byte of `files` or in `printed`.
#[track_caller]
pub fn assert_nowhere(needles: &[&str], files: &[PathBuf], printed: &str) {
    for f in files {
        let bytes = std::fs::read(f).expect("read a written file");
        for needle in needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} found in {}",
                f.display()
            );
        }
    }
    for needle in needles {
        assert!(!printed.contains(needle), "{needle} printed");
    }
}
