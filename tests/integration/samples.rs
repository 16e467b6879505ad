//! `sample-reports/` is the real output of `retool-audit demo` on its default
//! seed. This test runs the demo afresh and fails when the committed copy
//! differs (times, dates, hashes, durations and the output path normalized), so
//! the samples never go stale. Regenerate with:
//! `cargo run --release -- --quiet demo --out sample-reports`.

use std::path::{Path, PathBuf};

use calamine::{Reader, Xlsx, open_workbook};
use regex::Regex;

fn normalize(text: &str, out: &Path) -> String {
    let text = text.replace(&out.display().to_string(), "<OUT>");
    let rules = [
        // A short hash first: it can end in four digits, like a cut date.
        (r"SHA-256 [0-9a-f]{12}…", "SHA-256 <SHORT>…"),
        (r"\b[0-9a-f]{12}…", "<SHORT>…"),
        (
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?",
            "<TIME>",
        ),
        (r"\d{4}-\d{2}-\d{2}", "<DATE>"),
        // A date cut short by a chart label ("#1 2026-11-…") is still a date.
        (r"\d{4}(-[0-9-]*)?…", "<DATE>…"),
        (r"[0-9a-f]{64}", "<SHA256>"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:<PORT>"),
        // manifest.json: the build's revision, and file sizes (an XLSX's
        // compressed size moves with the times inside it).
        (
            r#""git_revision": (null|"[^"]*")"#,
            r#""git_revision": <REV>"#,
        ),
        (r#""size": \d+"#, r#""size": <N>"#),
        (r"\(git [0-9a-f]+(-dirty)?\)", "(git <REV>)"),
        (r"\b\d+(\.\d+)? ?(ms|s)\b", "<DURATION>"),
        (
            r"(duration_ms|elapsed|seconds)([^0-9]{1,12})\d+(\.\d+)?",
            "$1$2<N>",
        ),
    ];
    let mut text = text.to_string();
    for (pattern, with) in rules {
        text = Regex::new(pattern)
            .unwrap()
            .replace_all(&text, with)
            .into_owned();
    }
    text
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.to_string_lossy().contains(".db") {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

fn xlsx_text(path: &Path, out: &Path) -> String {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let mut text = String::new();
    for name in wb.sheet_names().to_vec() {
        text.push_str(&format!("== {name}\n"));
        let range = wb.worksheet_range(&name).unwrap();
        for row in range.rows() {
            let cells: Vec<String> = row
                .iter()
                .map(|c| match c {
                    calamine::Data::DateTime(dt) => dt
                        .as_datetime()
                        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                        .unwrap_or_default(),
                    other => other.to_string(),
                })
                .collect();
            text.push_str(&cells.join("\t"));
            text.push('\n');
        }
    }
    normalize(&text, out)
}

#[test]
fn sample_reports_are_the_current_output_of_demo() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-reports");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sample-reports");
    let run = crate::common::run(
        std::process::Command::new(env!("CARGO_BIN_EXE_retool-audit"))
            .args(["--quiet", "demo", "--out"])
            .arg(&out),
    );
    run.ok();
    let fresh_files = files(&out);
    let committed_files = files(&committed);
    let names = |v: &[PathBuf]| -> Vec<String> {
        v.iter()
            .map(|p| normalize(&p.display().to_string(), &out))
            .collect()
    };
    assert_eq!(
        names(&committed_files),
        names(&fresh_files),
        "the set of sample files changed: regenerate with `cargo run --release -- --quiet demo --out sample-reports`"
    );
    for (c, f) in committed_files.iter().zip(&fresh_files) {
        let (cp, fp) = (committed.join(c), out.join(f));
        let (a, b) = if c.extension().is_some_and(|x| x == "xlsx") {
            (
                xlsx_text(&cp, &committed).replace("sample-reports", "<OUT>"),
                xlsx_text(&fp, &out),
            )
        } else {
            let a = std::fs::read_to_string(&cp).unwrap();
            let b = std::fs::read_to_string(&fp).unwrap();
            // The committed copy was generated into `sample-reports`; normalize both paths.
            (
                normalize(&a.replace("sample-reports", "<OUT>"), &committed),
                normalize(&b, &out),
            )
        };
        if a != b {
            let line = a
                .lines()
                .zip(b.lines())
                .position(|(x, y)| x != y)
                .unwrap_or(0);
            panic!(
                "{} is stale (first difference at line {}):\n committed: {:?}\n fresh:     {:?}\nregenerate with `cargo run --release -- --quiet demo --out sample-reports`",
                c.display(),
                line + 1,
                a.lines()
                    .nth(line)
                    .map(|l| l.chars().take(300).collect::<String>()),
                b.lines()
                    .nth(line)
                    .map(|l| l.chars().take(300).collect::<String>()),
            );
        }
    }
}

/// The README's tour shows lines of the demo's CSV files (`$ grep ...
/// demo-reports/csv/<table>.csv` and the lines after it): each shown line is a
/// line of that table in `sample-reports/` (times normalized), so the tour
/// cannot drift from what the demo writes.
#[test]
fn the_readme_tour_shows_lines_the_demo_writes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let command = Regex::new(r"^\$ .*demo-reports/csv/([a-z_]+)\.csv").unwrap();
    let time = Regex::new(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?").unwrap();
    let hash = Regex::new(r"[0-9a-f]{64}").unwrap();
    let norm = |s: &str| {
        let s = hash.replace_all(s, "<SHA256>");
        time.replace_all(&s, "<TIME>").into_owned()
    };
    let mut checked = 0;
    let mut table: Option<String> = None;
    for line in readme.lines() {
        if line.starts_with("```") || line.starts_with("$ ") {
            table = command.captures(line).map(|c| c[1].to_string());
            continue;
        }
        let Some(t) = &table else { continue };
        let csv = std::fs::read_to_string(root.join("sample-reports/csv").join(format!("{t}.csv")))
            .unwrap_or_else(|e| panic!("README shows {t}.csv: {e}"));
        let lines: Vec<String> = csv.lines().map(norm).collect();
        assert!(
            lines.contains(&norm(line)),
            "README shows a line sample-reports/csv/{t}.csv does not have:\n{line}"
        );
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} README lines checked");

    // The demo's last line, as the tour shows it: the Summary's headline and
    // findings (zero and empty items left out, as `demo` prints them).
    let mut summary = csv::Reader::from_path(root.join("sample-reports/csv/summary.csv")).unwrap();
    let items: Vec<String> = summary
        .records()
        .map(|r| r.unwrap())
        .filter(|r| matches!(&r[0], "Headline" | "Findings") && !matches!(&r[2], "0" | ""))
        .map(|r| format!("{}: {}", &r[1], &r[2]))
        .collect();
    let findings = format!("findings: {}", items.join(", "));
    assert!(
        readme.lines().any(|l| l == findings),
        "README's tour should end the demo's output with\n{findings}"
    );

    // The files the tour says the demo wrote are the sample's files.
    let date = Regex::new(r"\d{4}-\d{2}-\d{2}").unwrap();
    let shown: std::collections::BTreeSet<String> = readme
        .lines()
        .filter_map(|l| l.strip_prefix("  demo-reports/"))
        .map(|l| date.replace_all(l, "<DATE>").into_owned())
        .collect();
    let sample: std::collections::BTreeSet<String> = files(&root.join("sample-reports"))
        .iter()
        .map(|p| {
            date.replace_all(&p.display().to_string(), "<DATE>")
                .into_owned()
        })
        .filter(|p| p != "demo-roster.csv" && p != "demo-terminations.csv")
        .collect();
    assert_eq!(shown, sample, "the files README's tour lists");
}

/// The README's section `## title`, up to the next section.
fn readme_section(title: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    readme
        .split(&format!("## {title}\n"))
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap_or_else(|| panic!("README has a section \"{title}\""))
        .to_string()
}

/// A fresh demo in a temporary directory: the directory and its
/// `demo-reports`.
fn fresh_demo() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo-reports");
    crate::common::run(
        std::process::Command::new(env!("CARGO_BIN_EXE_retool-audit"))
            .args(["--quiet", "demo", "--out"])
            .arg(&out),
    )
    .ok();
    (tmp, out)
}

/// README's "Questions the history answers" shows commands run on the demo's
/// database and what they print: each is run on a fresh demo and must print
/// the same (times and hashes normalized).
#[test]
fn the_readme_history_answers_are_what_the_commands_print() {
    let section = readme_section("Questions the history answers");
    let (_tmp, out) = fresh_demo();
    let db = out.join("retool-audit-demo.db");
    // (command line, the lines shown after it)
    let mut shown: Vec<(String, Vec<String>)> = Vec::new();
    // Other commands (`$ cat …`, checked by the tour test) end the output.
    let mut open = false;
    for line in section.lines() {
        if let Some(cmd) = line.strip_prefix("$ ") {
            open = cmd.starts_with("retool-audit ");
            if open {
                shown.push((cmd.to_string(), Vec::new()));
            }
        } else if line.starts_with("```") {
            open = false;
        } else if let (true, Some((_, lines))) = (open, shown.last_mut()) {
            lines.push(line.to_string());
        }
    }
    assert!(shown.len() >= 2, "{shown:?}");
    for (cmd, lines) in &shown {
        // Up to the end of the code block: prose after it is not output.
        let expected: Vec<&String> = lines.iter().take_while(|l| !l.is_empty()).collect();
        let args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
        assert_eq!(
            args[..2],
            ["--db", "demo-reports/retool-audit-demo.db"],
            "{cmd}"
        );
        let run = crate::common::run(
            std::process::Command::new(env!("CARGO_BIN_EXE_retool-audit"))
                .arg("--db")
                .arg(&db)
                .args(&args[2..]),
        );
        run.ok();
        let got: Vec<String> = run.stdout.lines().map(|l| normalize(l, &out)).collect();
        let want: Vec<String> = expected.iter().map(|l| normalize(l, &out)).collect();
        assert_eq!(got, want, "README shows other output for `{cmd}`");
    }
}

/// The tour's `retool-audit --db demo-reports/…` commands (`snapshots`,
/// `verify`, `report --fail-on`, `verify-report`) print what the README shows
/// when run on a fresh demo from the directory holding `demo-reports/`: stdout
/// then stderr, `...` standing for any lines, ports, times and hashes
/// normalized; a following `$ echo $?` gives the exit code.
#[test]
fn the_readme_tour_commands_print_what_it_shows() {
    let tour = readme_section("A five-minute tour");
    let (tmp, _) = fresh_demo();
    // (command line, the lines shown after it, the exit code `echo $?` shows)
    let mut shown: Vec<(String, Vec<String>, i32)> = Vec::new();
    let mut lines = tour.lines().peekable();
    let mut open = false;
    while let Some(line) = lines.next() {
        if let Some(cmd) = line.strip_prefix("$ ") {
            if cmd == "echo $?" {
                let code = lines.next().and_then(|l| l.trim().parse().ok()).unwrap();
                shown.last_mut().unwrap().2 = code;
                open = false;
                continue;
            }
            let mut cmd = cmd.to_string();
            while cmd.ends_with('\\') {
                cmd.pop();
                cmd.push_str(lines.next().unwrap().trim());
            }
            open = cmd.starts_with("retool-audit --db demo-reports/");
            if open {
                shown.push((cmd, Vec::new(), 0));
            }
        } else if line.starts_with("```") {
            open = false;
        } else if let (true, Some((_, shown_lines, _))) = (open, shown.last_mut()) {
            shown_lines.push(line.to_string());
        }
    }
    let commands: Vec<&str> = shown
        .iter()
        .map(|(c, _, _)| c.split_whitespace().nth(3).unwrap_or(""))
        .collect();
    assert_eq!(commands, ["snapshots", "verify", "report", "verify-report"]);
    let short = Regex::new(r"\b[0-9a-f]{16}\b").unwrap();
    let spaces = Regex::new(r" +").unwrap();
    let norm = |l: &str| {
        let l = normalize(l, tmp.path());
        let l = short.replace_all(&l, "<HASH>");
        spaces.replace_all(&l, " ").into_owned()
    };
    for (cmd, expected, code) in &shown {
        let args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
        let run = crate::common::run(
            std::process::Command::new(env!("CARGO_BIN_EXE_retool-audit"))
                .current_dir(tmp.path())
                .env_remove("RETOOL_AUDIT_DB")
                .args(&args),
        );
        assert_eq!(run.code, *code, "`{cmd}`: {}", run.stderr);
        let got: Vec<String> = run
            .stdout
            .lines()
            .chain(run.stderr.lines())
            .map(norm)
            .collect();
        // Each shown line in order; `...` skips any number of lines.
        let mut at = 0;
        let mut skipping = false;
        for want in expected.iter().map(|l| norm(l)) {
            if want == "..." {
                skipping = true;
                continue;
            }
            let found = if skipping {
                got[at..].iter().position(|g| *g == want).map(|i| at + i)
            } else {
                (got.get(at) == Some(&want)).then_some(at)
            };
            let Some(i) = found else {
                panic!(
                    "README shows for `{cmd}`:\n{want}\nbut it prints:\n{}",
                    got.join("\n")
                );
            };
            at = i + 1;
            skipping = false;
        }
        assert_eq!(
            at,
            got.len(),
            "`{cmd}` prints more than the README shows:\n{}",
            got.join("\n")
        );
    }
}
