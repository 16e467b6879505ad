//! Hostile data (issue 5, item 6): an organization whose names and emails are
//! written by an attacker — formula prefixes, HTML and script, quotes,
//! newlines, control characters, right-to-left marks, very long strings,
//! emoji — is collected through the real client and reported in every format.
//! JSON keeps every value exactly; CSV and XLSX give back the same values once
//! the neutralizing `'` is removed (XLSX cuts cells over Excel's limit with a
//! marker); HTML parses, no value becomes markup, and every cell's text is the
//! value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use calamine::{Data, Reader, Xlsx, open_workbook};
use retool_audit::fake::{FakeConfig, OrgSpec};
use serde_json::Value;

use crate::common::{World, fixed_now, read_csv};

/// Excel's limit on the characters (UTF-16 units) of one cell.
const EXCEL_MAX_CELL: usize = 32_767;

fn hostile_strings() -> Vec<String> {
    vec![
        "=HYPERLINK(\"http://evil.example\",\"click\")".into(),
        "+cmd|' /C calc'!A0".into(),
        "-2+3+cmd|' /C notepad'!A0".into(),
        "@SUM(1+1)*cmd|' /C calc'!A0".into(),
        "\t=1+1 after a tab".into(),
        "\r=1+1 after a carriage return".into(),
        "<script>alert(1)</script>".into(),
        "\"><img src=x onerror=alert(1)>".into(),
        "</td></tr></table><h1>injected</h1>".into(),
        "O'Brien \"The Hammer\" `tick`".into(),
        "Line one\nLine two\r\nLine three".into(),
        "controls \u{0}\u{1}\u{7}\u{8}\u{b}\u{c}\u{1b}[31m\u{7f} end".into(),
        "_x0041_ looks like an OOXML escape".into(),
        "Mallory\u{202E}gpj.exe and \u{200F}mark\u{200E}".into(),
        "emoji 🦀🎉👩‍👩‍👧‍👦 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢".into(),
        "x".repeat(10_000),
        format!("={}", "long ".repeat(8_000)),
    ]
}

/// The org with every name, email and label hostile, snapshotted through the
/// real client and reported in every format into `out`.
struct Hostile {
    w: World,
    out: PathBuf,
    strings: Vec<String>,
}

fn hostile_history() -> Hostile {
    let w = World::with_org(
        OrgSpec::with_users(40, 11, fixed_now()),
        FakeConfig::default(),
    );
    let strings = hostile_strings();
    let s = strings.clone();
    w.server().update_org(move |o| {
        let pick = |i: usize| s[i % s.len()].clone();
        for (i, u) in o.users.iter_mut().enumerate() {
            u.first_name = Some(pick(i));
            u.last_name = Some(pick(i + 7));
            if i < s.len() {
                u.email = format!("{}.{i}@example.com", pick(i));
            }
        }
        // Groups 1 and 2 are Retool's built-ins (All Users, admin).
        for (i, g) in o.groups.iter_mut().enumerate().skip(2) {
            g.name = pick(i + 3);
        }
        for (i, f) in o.folders.iter_mut().enumerate().skip(1) {
            f.name = pick(i + 5);
        }
        for (i, a) in o.apps.iter_mut().enumerate() {
            a.name = pick(i + 9);
            a.description = Some(pick(i + 2));
        }
        for (i, r) in o.resources.iter_mut().enumerate() {
            r.display_name = pick(i + 4);
        }
        for (i, wf) in o.workflows.iter_mut().enumerate() {
            wf.name = pick(i + 6);
        }
    });
    w.snapshot(&[]).ok();
    let out = w.path("out");
    w.run(&[
        "report",
        "--out",
        out.to_str().expect("utf-8 path"),
        "--format",
        "csv,xlsx,html,json",
    ])
    .ok();
    Hostile { w, out, strings }
}

/// The JSON report's tables: name → (columns, rows of JSON cells).
fn json_tables(out: &Path) -> BTreeMap<String, (Vec<String>, Vec<Vec<Value>>)> {
    let text = std::fs::read_to_string(out.join("report.json")).expect("report.json");
    let v: Value = serde_json::from_str(&text).expect("report.json parses");
    let mut tables = BTreeMap::new();
    for t in v["tables"].as_array().expect("tables") {
        let name = t["name"].as_str().expect("name").to_string();
        let columns = t["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .map(|c| c.as_str().expect("column name").to_string())
            .collect();
        let rows = t["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r.as_array().expect("row").clone())
            .collect();
        tables.insert(name, (columns, rows));
    }
    tables
}

/// Undoes CSV formula neutralization: a `'` the writer put before text that
/// starts like a formula.
fn unneutralize(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => s,
    }
}

fn starts_like_formula(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// The JSON string cells of `row`, by column index.
fn text_cells(row: &[Value]) -> impl Iterator<Item = (usize, &str)> {
    row.iter()
        .enumerate()
        .filter_map(|(i, v)| v.as_str().map(|s| (i, s)))
}

#[test]
fn json_keeps_every_hostile_value_exactly() {
    let h = hostile_history();
    let tables = json_tables(&h.out);
    let (columns, rows) = &tables["users"];
    let col = |name: &str| columns.iter().position(|c| c == name).expect(name);
    let (id, first, last, email) = (
        col("user_id"),
        col("first_name"),
        col("last_name"),
        col("email"),
    );
    let org_users = h.w.server().with_org(|o| o.users.clone());
    assert_eq!(rows.len(), org_users.len());
    for u in &org_users {
        let row = rows
            .iter()
            .find(|r| r[id] == u.id.as_str())
            .unwrap_or_else(|| panic!("user {} reported", u.id));
        assert_eq!(row[first].as_str(), u.first_name.as_deref());
        assert_eq!(row[last].as_str(), u.last_name.as_deref());
        assert_eq!(row[email].as_str(), Some(u.email.as_str()));
    }
    // Every hostile string is somewhere in the report, verbatim.
    let all: Vec<&str> = tables
        .values()
        .flat_map(|(cols, rows)| {
            cols.iter()
                .map(String::as_str)
                .chain(rows.iter().flat_map(|r| text_cells(r).map(|(_, s)| s)))
        })
        .collect();
    for s in &h.strings {
        assert!(
            all.contains(&s.as_str()),
            "{:?} in the JSON report",
            short(s)
        );
    }
    // Group names are column headers of the access matrix.
    let group_names =
        h.w.server()
            .with_org(|o| o.groups.iter().map(|g| g.name.clone()).collect::<Vec<_>>());
    let matrix = &tables["access_matrix"].0;
    for g in &group_names {
        assert!(matrix.contains(g), "{:?} heads a matrix column", short(g));
    }
}

#[test]
fn csv_gives_back_every_value_once_neutralization_is_removed() {
    let h = hostile_history();
    for (table, (columns, rows)) in json_tables(&h.out) {
        let (header, csv_rows) = read_csv(&h.out, &table);
        for cell in &header {
            assert!(
                !starts_like_formula(cell),
                "{table} header: a formula reaches the spreadsheet: {:?}",
                short(cell)
            );
        }
        let header: Vec<&str> = header.iter().map(|c| unneutralize(c)).collect();
        assert_eq!(header, columns, "{table} header");
        assert_eq!(csv_rows.len(), rows.len(), "{table} rows");
        for (r, (json_row, csv_row)) in rows.iter().zip(&csv_rows).enumerate() {
            for (c, value) in text_cells(json_row) {
                let cell = &csv_row[c];
                assert!(
                    !starts_like_formula(cell),
                    "{table} row {r} col {c}: a formula reaches the spreadsheet: {:?}",
                    short(cell)
                );
                assert_eq!(
                    unneutralize(cell),
                    value,
                    "{table} row {r} col {c}: {:?}",
                    short(value)
                );
            }
        }
    }
}

fn xlsx_path(out: &Path) -> PathBuf {
    std::fs::read_dir(out)
        .expect("out dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|x| x == "xlsx"))
        .expect("an xlsx file")
}

/// What the workbook should hold for a JSON text value: the value itself
/// (formula-like text is held as text by its style, checked separately), cut
/// with a marker past Excel's cell limit.
fn check_xlsx_text(got: &str, want: &str, context: &str) {
    if want.encode_utf16().count() <= EXCEL_MAX_CELL {
        assert_eq!(got, want, "{context}: {:?}", short(want));
        return;
    }
    let marker = format!("… [truncated, {} chars]", want.chars().count());
    assert!(got.ends_with(&marker), "{context}: cut with a marker");
    assert!(
        got.encode_utf16().count() <= EXCEL_MAX_CELL,
        "{context}: fits"
    );
    let kept = got.strip_suffix(&marker).unwrap_or(got);
    assert!(
        want.starts_with(kept) && !kept.is_empty(),
        "{context}: the cut text is the start of the value"
    );
}

#[test]
fn xlsx_reads_back_every_value_unchanged_and_formula_like_text_quote_prefixed() {
    let h = hostile_history();
    let path = xlsx_path(&h.out);
    let mut wb: Xlsx<_> = open_workbook(&path).expect("open xlsx");
    let sheet_names = wb.sheet_names();
    let mut cut = 0;
    let mut quoted_checked = 0;
    for (table, (columns, rows)) in json_tables(&h.out) {
        let range = wb
            .worksheet_range(&table)
            .unwrap_or_else(|e| panic!("sheet {table}: {e}"));
        let sheet: Vec<&[Data]> = range.rows().collect();
        // Formula-like text, and only that, carries the quote-prefix style.
        let number = 1 + sheet_names
            .iter()
            .position(|s| s == &table)
            .expect("the sheet");
        let quoted = crate::common::quote_prefixed_cells(&path, number);
        let mut want_quoted: std::collections::BTreeSet<(u32, u32)> = columns
            .iter()
            .enumerate()
            .filter(|(_, name)| starts_like_formula(name))
            .map(|(c, _)| (0, c as u32))
            .collect();
        for (r, json_row) in rows.iter().enumerate() {
            for (c, value) in text_cells(json_row) {
                if starts_like_formula(value) {
                    want_quoted.insert((r as u32 + 1, c as u32));
                }
            }
        }
        assert_eq!(quoted, want_quoted, "{table}: quote-prefixed cells");
        quoted_checked += want_quoted.len();
        assert_eq!(sheet.len(), rows.len() + 1, "{table}: header and rows");
        for (c, name) in columns.iter().enumerate() {
            let got = sheet[0].get(c).map(ToString::to_string).unwrap_or_default();
            check_xlsx_text(&got, name, &format!("{table} header {c}"));
        }
        for (r, json_row) in rows.iter().enumerate() {
            for (c, value) in text_cells(json_row) {
                let context = format!("{table} row {r} col {c}");
                match sheet[r + 1].get(c) {
                    Some(Data::String(got)) => {
                        if value.encode_utf16().count() >= EXCEL_MAX_CELL {
                            cut += 1;
                        }
                        check_xlsx_text(got, value, &context);
                    }
                    // Times are real dates in the workbook.
                    Some(Data::DateTime(_) | Data::DateTimeIso(_)) => {}
                    Some(Data::Empty) | None if value.is_empty() => {}
                    other => panic!("{context}: {other:?} for {:?}", short(value)),
                }
            }
        }
    }
    assert!(cut > 0, "the 40 000-character value was cut, not refused");
    assert!(
        quoted_checked > 0,
        "hostile formula-like names were checked"
    );
    // The Summary counts the cut cells.
    let summary = wb.worksheet_range("Summary").expect("Summary sheet");
    let text: Vec<String> = summary
        .rows()
        .flat_map(|r| r.iter().map(ToString::to_string))
        .collect();
    assert!(
        text.iter().any(|t| t.contains("truncated")),
        "the Summary says cells were cut"
    );
}

/// What an HTML parser gives back for a text: line breaks normalized to `\n`
/// and NUL dropped, as the HTML standard prescribes.
/// How a value reads in the parsed HTML: line breaks as the HTML parser
/// normalizes them, and every invisible or reordering character (control
/// characters but tab and line breaks; bidirectional marks, embeddings,
/// overrides and isolates; zero-width space, word joiner, BOM, soft hyphen)
/// written out as `⟦U+XXXX⟧` so a name cannot pose as another.
fn as_parsed(s: &str) -> String {
    let hidden = |c: char| {
        (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            || matches!(c as u32,
                0x00AD | 0x061C | 0x180E | 0x200B | 0x200E | 0x200F
                | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF)
    };
    s.chars()
        .map(|c| {
            if hidden(c) {
                format!("⟦U+{:04X}⟧", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .replace("\r\n", "\n")
        .replace('\r', "\n")
}

#[test]
fn html_parses_and_no_value_becomes_markup() {
    let h = hostile_history();
    let path = std::fs::read_dir(&h.out)
        .expect("out dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|x| x == "html"))
        .expect("an html file");
    let html = std::fs::read_to_string(path).expect("read html");
    let doc = scraper::Html::parse_document(&html);
    let sel = |s: &str| scraper::Selector::parse(s).expect("selector");
    assert_eq!(doc.select(&sel("img")).count(), 0, "no injected <img>");
    assert!(
        doc.select(&sel("h1"))
            .all(|h| !h.text().collect::<String>().contains("injected")),
        "no injected <h1>"
    );
    let scripts: Vec<_> = doc.select(&sel("script")).collect();
    assert!(scripts.len() <= 1, "only the report's own script");
    for s in &scripts {
        let code: String = s.text().collect();
        assert!(!code.contains("alert(1)"), "no injected script");
    }
    for el in doc.select(&sel("*")) {
        for (name, _) in el.value().attrs() {
            assert!(!name.starts_with("on"), "event handler attribute {name}");
        }
    }
    let tables = json_tables(&h.out);
    for (table, (columns, rows)) in &tables {
        let section = doc
            .select(&sel("section.table-section"))
            .find(|s| {
                s.select(&sel("code.name"))
                    .next()
                    .is_some_and(|c| c.text().collect::<String>() == *table)
            })
            .unwrap_or_else(|| panic!("a section for {table}"));
        let heads: Vec<String> = section
            .select(&sel("thead th"))
            .map(|th| th.text().collect())
            .collect();
        let want: Vec<String> = columns.iter().map(|c| as_parsed(c)).collect();
        assert_eq!(heads, want, "{table} header");
        let body: Vec<Vec<String>> = section
            .select(&sel("tbody tr"))
            .map(|tr| {
                tr.select(&sel("td"))
                    .map(|td| td.text().collect())
                    .collect()
            })
            .collect();
        assert_eq!(body.len(), rows.len(), "{table} rows");
        for (r, (json_row, tds)) in rows.iter().zip(&body).enumerate() {
            assert_eq!(tds.len(), json_row.len(), "{table} row {r}: cells");
            for (c, value) in text_cells(json_row) {
                assert_eq!(
                    tds[c],
                    as_parsed(value),
                    "{table} row {r} col {c}: {:?}",
                    short(value)
                );
            }
        }
    }
}

/// A value shortened for an assertion message.
fn short(s: &str) -> String {
    s.chars().take(60).collect()
}
