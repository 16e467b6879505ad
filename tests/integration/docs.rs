//! The documentation's links resolve: every relative link and `#anchor` in
//! README.md and docs/*.md names a file that exists and, for a Markdown file, a
//! heading it holds (GitHub's anchor rules). Links to other sites are not
//! fetched. Code blocks and code spans are not links.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

#[test]
fn every_relative_link_and_anchor_in_the_docs_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    let docs = root.join("docs");
    let mut in_docs: Vec<PathBuf> = fs::read_dir(&docs)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", docs.display()))
        .map(|entry| entry.expect("a docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    in_docs.sort();
    assert!(
        in_docs.len() >= 2,
        "docs/ should hold the reference pages, found {in_docs:?}"
    );
    pages.extend(in_docs);

    let problems = broken_links(root, &pages);
    assert!(
        problems.is_empty(),
        "{} broken link(s) in the documentation:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn a_missing_file_or_heading_is_reported() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let root = dir.path();
    fs::create_dir(root.join("docs")).unwrap();
    fs::write(
        root.join("README.md"),
        "# Top\n\nSee [the guide](docs/guide.md#setting-up), [gone](docs/gone.md),\n\
         [a heading that moved](docs/guide.md#old-name) and [here](#top).\n\n\
         ```sh\n# not a heading; [not a link](nowhere.md)\n```\n\n`[code](nowhere.md)`\n",
    )
    .unwrap();
    fs::write(
        root.join("docs/guide.md"),
        "# Guide\n\n## Setting up\n\nBack to [the README](../README.md#top) and [self](#nope).\n",
    )
    .unwrap();
    let pages = [root.join("README.md"), root.join("docs/guide.md")];
    let problems = broken_links(root, &pages);
    assert_eq!(
        problems,
        [
            "README.md:3: docs/gone.md: no such file",
            "README.md:4: docs/guide.md#old-name: docs/guide.md has no heading with anchor #old-name",
            "docs/guide.md:5: #nope: this page has no heading with anchor #nope",
        ],
        "{problems:#?}"
    );
}

#[test]
fn anchors_follow_githubs_rules() {
    let text = "# `snapshot`: collect into the history\n## Progress, logs and `--json`\n\
                ## Crashes, concurrency, storage (`reliability.rs`)\n## Exit codes\n## Exit codes\n\
                ```\n# a shell comment\n```\n";
    let anchors = anchors(text);
    for a in [
        "snapshot-collect-into-the-history",
        "progress-logs-and---json",
        "crashes-concurrency-storage-reliabilityrs",
        "exit-codes",
        "exit-codes-1",
    ] {
        assert!(anchors.contains(a), "{a} missing from {anchors:?}");
    }
    assert!(!anchors.contains("a-shell-comment"));
}

/// Every broken relative link in `pages`, as `file:line: target: why`.
fn broken_links(root: &Path, pages: &[PathBuf]) -> Vec<String> {
    let mut anchors_of: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for page in pages {
        let text = fs::read_to_string(page)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", page.display()));
        let shown = page
            .strip_prefix(root)
            .unwrap_or(page)
            .display()
            .to_string();
        for (line, target) in links(&text) {
            if let Err(why) = resolve(page, &target, &mut anchors_of) {
                problems.push(format!("{shown}:{line}: {target}: {why}"));
            }
        }
    }
    problems
}

/// Checks one link target from `page`: the file exists and, for a Markdown
/// file, the anchor names one of its headings.
fn resolve(
    page: &Path,
    target: &str,
    anchors_of: &mut BTreeMap<PathBuf, BTreeSet<String>>,
) -> Result<(), String> {
    if is_external(target) {
        return Ok(());
    }
    let (path, anchor) = match target.split_once('#') {
        Some((p, a)) => (p, Some(a)),
        None => (target, None),
    };
    let dir = page.parent().expect("a page lives in a directory");
    let file = if path.is_empty() {
        page.to_path_buf()
    } else {
        dir.join(path)
    };
    if !file.exists() {
        return Err("no such file".to_string());
    }
    let Some(anchor) = anchor else {
        return Ok(());
    };
    if file.extension().is_none_or(|x| x != "md") {
        return Err(format!("#{anchor} points into a file that is not Markdown"));
    }
    let known = anchors_of.entry(file.clone()).or_insert_with(|| {
        let text = fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        anchors(&text)
    });
    if known.contains(anchor) {
        Ok(())
    } else {
        let name = if path.is_empty() { "this page" } else { path };
        Err(format!("{name} has no heading with anchor #{anchor}"))
    }
}

fn is_external(target: &str) -> bool {
    let scheme = target.split_once(':').map(|(s, _)| s);
    scheme.is_some_and(|s| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    })
}

/// The link targets of a Markdown text with their line numbers: inline links
/// and images `[text](target "title")` and reference definitions
/// `[label]: target`, outside fenced code blocks and code spans.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in prose_lines(text) {
        let line = without_code_spans(line);
        if let Some(target) = reference_definition(&line) {
            found.push((n, clean_target(target)));
            continue;
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = matching_paren(after).unwrap_or(after.len());
            let inside = after[..end].trim();
            if let Some(target) = inside.split_whitespace().next() {
                found.push((n, clean_target(target)));
            }
            rest = &after[end..];
        }
    }
    found
}

/// The target of a reference definition line, `[label]: target "title"`.
fn reference_definition(line: &str) -> Option<&str> {
    let label = line.trim_start().strip_prefix('[')?;
    let close = label.find(']')?;
    label[close + 1..]
        .strip_prefix(':')?
        .split_whitespace()
        .next()
}

fn clean_target(target: &str) -> String {
    target
        .trim_start_matches('<')
        .trim_end_matches('>')
        .replace("%20", " ")
}

/// The index of the `)` closing a link target (nested parentheses allowed).
fn matching_paren(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return Some(i),
            ')' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The lines outside fenced code blocks, numbered from 1.
fn prose_lines(text: &str) -> Vec<(usize, &str)> {
    let mut fence: Option<(char, usize)> = None;
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        let marker = t.chars().next().filter(|c| *c == '`' || *c == '~');
        if let Some(c) = marker {
            let run = t.chars().take_while(|x| *x == c).count();
            if run >= 3 {
                match fence {
                    None => fence = Some((c, run)),
                    Some((open, len)) if open == c && run >= len && t[run..].trim().is_empty() => {
                        fence = None
                    }
                    Some(_) => {}
                }
                continue;
            }
        }
        if fence.is_none() {
            lines.push((i + 1, line));
        }
    }
    lines
}

/// `line` with every code span (`` `...` ``, ``` ``...`` ```) removed.
fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|c| *c == '`').count();
        let after = &rest[start + ticks..];
        let closing = "`".repeat(ticks);
        match after.find(&closing) {
            Some(end) => rest = &after[end + ticks..],
            None => {
                out.push_str(&rest[start..]);
                return out;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The anchors GitHub gives a Markdown text's ATX headings: lowercase, only
/// letters, digits, `-`, `_` and spaces kept, spaces turned into `-`, a repeated
/// anchor numbered `-1`, `-2`, ...
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut anchors = BTreeSet::new();
    for (_, line) in prose_lines(text) {
        let t = line.trim_start();
        if line.len() - t.len() > 3 {
            continue;
        }
        let level = t.chars().take_while(|c| *c == '#').count();
        if !(1..=6).contains(&level) {
            continue;
        }
        let rest = &t[level..];
        if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')) {
            continue;
        }
        let title = rest.trim().trim_end_matches('#').trim_end();
        let title = link_texts(title);
        let slug: String = title
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let count = seen.entry(slug.clone()).or_insert(0);
        let anchor = if *count == 0 {
            slug.clone()
        } else {
            format!("{slug}-{count}")
        };
        *count += 1;
        anchors.insert(anchor);
    }
    anchors
}

/// A heading's text with `[text](target)` links reduced to their text.
fn link_texts(title: &str) -> String {
    let mut out = String::new();
    let mut rest = title;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        match matching_paren(after) {
            Some(end) => {
                let before = &rest[..at];
                match before.rfind('[') {
                    Some(open) => {
                        out.push_str(&before[..open]);
                        out.push_str(&before[open + 1..]);
                    }
                    None => out.push_str(before),
                }
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}

/// The scope table of docs/collection.md lists exactly the client's endpoint
/// catalogue, in its order, with the same scope, mandatory flag and consequence.
#[test]
fn the_scope_table_is_the_endpoint_catalogue() {
    use retool_audit::retool::endpoints::CATALOGUE;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/collection.md");
    let text = fs::read_to_string(&path).expect("read docs/collection.md");
    let section = text
        .split("### Minimal token scopes")
        .nth(1)
        .expect("a \"Minimal token scopes\" section");
    let rows: Vec<Vec<String>> = section
        .lines()
        .skip_while(|l| !l.starts_with("| endpoint |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().trim_matches('`').to_string())
                .collect()
        })
        .collect();
    let expected: Vec<Vec<String>> = CATALOGUE
        .iter()
        .map(|e| {
            vec![
                e.name.to_string(),
                e.scope.to_string(),
                if e.mandatory { "yes" } else { "no" }.to_string(),
                e.missing.to_string(),
            ]
        })
        .collect();
    assert_eq!(
        rows, expected,
        "docs/collection.md's scope table must list the catalogue (src/retool/endpoints.rs)"
    );
}

/// docs/reports.md's table of report tables lists every table the report
/// writes (sample-reports/report.json, kept fresh by the samples test), each
/// with its columns in order (`access_matrix`: the fixed ones before its one
/// column per group).
#[test]
fn the_report_tables_reference_lists_every_table_and_column() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = fs::read_to_string(root.join("docs/reports.md")).expect("read docs/reports.md");
    let documented: Vec<(String, Vec<String>)> = text
        .lines()
        .skip_while(|l| !l.starts_with("| table | columns |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").collect();
            let name = cells[0].trim().trim_matches('`').to_string();
            let columns = cells[1]
                .split(", then ")
                .next()
                .unwrap_or_default()
                .split(", ")
                .map(|c| c.trim().to_string())
                .collect();
            (name, columns)
        })
        .collect();
    let report: serde_json::Value = serde_json::from_slice(
        &fs::read(root.join("sample-reports/report.json")).expect("read the sample report"),
    )
    .expect("sample report JSON");
    let written: Vec<(String, Vec<String>)> = report["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .map(|t| {
            let name = t["name"].as_str().unwrap_or_default().to_string();
            let mut columns: Vec<String> = t["columns"]
                .as_array()
                .expect("columns")
                .iter()
                .map(|c| c.as_str().unwrap_or_default().to_string())
                .collect();
            if name == "access_matrix" {
                columns.truncate(3);
            }
            (name, columns)
        })
        .collect();
    let names = |v: &[(String, Vec<String>)]| -> BTreeSet<String> {
        v.iter().map(|(n, _)| n.clone()).collect()
    };
    assert_eq!(
        names(&documented),
        names(&written),
        "docs/reports.md must list exactly the tables a report writes"
    );
    for (name, columns) in &written {
        let doc = documented.iter().find(|(n, _)| n == name).map(|(_, c)| c);
        assert_eq!(doc, Some(columns), "docs/reports.md: columns of `{name}`");
    }
}

/// The README's catalogue of exceptions is the tool's: every finding once,
/// with the severity the report gives it.
#[test]
fn the_readme_exception_catalogue_is_the_tool_s() {
    use retool_audit::analyze::exceptions::Finding;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = fs::read_to_string(root.join("README.md")).expect("read README.md");
    let section = text
        .split("## What counts as an exception")
        .nth(1)
        .expect("a \"What counts as an exception\" section");
    let mut documented: BTreeMap<String, String> = BTreeMap::new();
    for line in section
        .lines()
        .skip_while(|l| !l.starts_with("| finding |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
    {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
        for name in cells[0].split(", ") {
            let name = name.trim().trim_matches('`').to_string();
            assert!(
                documented
                    .insert(name.clone(), cells[1].trim().to_string())
                    .is_none(),
                "{name} listed twice"
            );
        }
    }
    let tool: BTreeMap<String, String> = Finding::all()
        .into_iter()
        .map(|f| (f.as_str().to_string(), f.severity().as_str().to_string()))
        .collect();
    assert_eq!(documented, tool, "README.md's exception catalogue");
}
