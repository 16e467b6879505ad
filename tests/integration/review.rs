//! `review start` and `review import`: the workbooks read back with calamine
//! (and their XML checked for validation and protection), decisions filled in
//! as a reviewer would and imported, every kind of bad workbook refused with
//! its sheet and row and nothing imported, and the workbook opened, converted
//! and re-saved by LibreOffice.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use calamine::{Data, Reader, Xlsx, open_workbook};
use retool_audit::model::{OrgState, Subject};
use retool_audit::review::Decision;

use crate::common::{
    CellValue, World, decision_cells, delete_review_row, duplicate_review_row, fill_review,
    review_layout, zip_entries, zip_text,
};

/// The demo org, one snapshot, and a roster that leaves out two active users.
fn world() -> (World, OrgState, Vec<String>) {
    world_on(None)
}

fn world_on(db: Option<&crate::postgres::Database>) -> (World, OrgState, Vec<String>) {
    let mut w = World::demo();
    if let Some(db) = db {
        w = w.on_postgres(db);
    }
    w.snapshot(&[]).ok();
    let state = w.expected();
    let active: Vec<&str> = state
        .users
        .iter()
        .filter(|u| u.active)
        .map(|u| u.email.as_str())
        .collect();
    let left_out: Vec<String> = active.iter().take(2).map(|s| s.to_string()).collect();
    let mut roster = String::from("email,department\n");
    for e in active.iter().skip(2) {
        roster.push_str(&format!("{e},staff\n"));
    }
    std::fs::write(w.path("roster.csv"), roster).unwrap();
    (w, state, left_out)
}

fn start(w: &World, out: &str, extra: &[&str]) -> (PathBuf, crate::common::Run) {
    let dir = w.path(out);
    let roster = w.path("roster.csv");
    let mut args = vec![
        "review",
        "start",
        "--out",
        dir.to_str().unwrap(),
        "--roster",
        roster.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = w.run(&args);
    (dir, run)
}

fn import(w: &World, files: &[&Path], extra: &[&str]) -> crate::common::Run {
    let mut args: Vec<String> = vec!["review".into(), "import".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(files.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    w.run(&args)
}

/// The population the issue asks for: one row per membership of a known user,
/// per direct user grant, and per user with neither.
fn expected_keys(state: &OrgState) -> BTreeSet<String> {
    let users: BTreeSet<&str> = state.users.iter().map(|u| u.id.0.as_str()).collect();
    let mut keys = BTreeSet::new();
    let mut covered = BTreeSet::new();
    for m in &state.memberships {
        if users.contains(m.user_id.0.as_str()) {
            keys.insert(format!("m:{}:{}", m.group_id, m.user_id));
            covered.insert(m.user_id.0.clone());
        }
    }
    for g in &state.grants {
        if let Subject::User(u) = &g.subject {
            keys.insert(format!("g:{u}:{}:{}", g.object.object_type, g.object.id));
            covered.insert(u.0.clone());
        }
    }
    for u in &state.users {
        if !covered.contains(&u.id.0) {
            keys.insert(format!("a:{}", u.id));
        }
    }
    keys
}

fn sheet(path: &Path, name: &str) -> Vec<Vec<Data>> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let range = wb.worksheet_range(name).unwrap();
    range.rows().map(|r| r.to_vec()).collect()
}

/// The 0-based row of the Review sheet's first row (its header).
fn range_start(book: &Path) -> u32 {
    let mut wb: Xlsx<_> = open_workbook(book).unwrap();
    let range = wb.worksheet_range("Review").unwrap();
    range.start().map_or(0, |(r, _)| r)
}

fn text(d: &Data) -> String {
    d.to_string()
}

/// The Campaign sheet as key → value.
fn campaign_sheet(path: &Path) -> BTreeMap<String, String> {
    sheet(path, "Campaign")
        .into_iter()
        .filter(|r| r.len() >= 2)
        .map(|r| (text(&r[0]), text(&r[1])))
        .collect()
}

fn xlsx_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xlsx"))
        .collect();
    files.sort();
    files
}

#[test]
fn start_writes_a_locked_validated_workbook_of_the_whole_population() {
    let (w, state, left_out) = world();
    let (dir, run) = start(&w, "q4", &["--name", "2026-Q4"]);
    run.ok();
    let book = dir.join("review-2026-Q4-all.xlsx");
    let html = dir.join("review-2026-Q4.html");
    assert!(
        run.stdout.contains(&format!("wrote {}", book.display())),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(&format!("wrote {}", html.display())));
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "no staging leftovers: {names:?}");

    // The sheets, the header and one row per population item.
    let wb: Xlsx<_> = open_workbook(&book).unwrap();
    assert_eq!(wb.sheet_names(), vec!["Review", "Privileged", "Campaign"]);
    let rows = sheet(&book, "Review");
    let header: Vec<String> = rows[0].iter().map(text).collect();
    assert_eq!(
        header,
        [
            "row_key",
            "email",
            "name",
            "status",
            "is_admin",
            "user_type",
            "two_factor_enabled",
            "last_active",
            "days_inactive",
            "app_views",
            "app_saves",
            "roster_match",
            "row_type",
            "group_or_grant",
            "is_group_admin",
            "access_at_edit_or_own",
            "flags",
            "suggested_decision",
            "suggestion_reason",
            "decision",
            "reason",
            "reviewer",
            "reviewed_at",
        ]
    );
    let keys: BTreeSet<String> = rows[1..].iter().map(|r| text(&r[0])).collect();
    assert_eq!(keys.len(), rows.len() - 1, "row keys are unique");
    assert_eq!(keys, expected_keys(&state));
    let store = w.store();
    let campaign = store.campaign("2026-Q4", None).unwrap();
    assert_eq!(campaign.items, keys.len());

    // Context as the store froze it, and flags a user would act on.
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for left in &left_out {
        let theirs: Vec<&Vec<Data>> = rows
            .iter()
            .filter(|r| text(&r[col("email")]) == *left)
            .collect();
        assert!(!theirs.is_empty());
        for r in theirs {
            assert!(text(&r[col("flags")]).contains("terminated"), "{r:?}");
            assert_eq!(text(&r[col("roster_match")]), "no");
            assert_eq!(text(&r[col("suggested_decision")]), "revoke");
        }
    }
    // Formula-like text is held as text by the quote-prefix style, its value
    // unchanged; no other context cell has the style.
    let quoted = crate::common::quote_prefixed_cells(&book, 1);
    let start = range_start(&book);
    let mut formula_like = BTreeSet::new();
    for (i, r) in rows.iter().enumerate().skip(1) {
        for (j, cell) in r.iter().enumerate().take(15).skip(1) {
            if text(cell).starts_with(['=', '+', '-', '@']) {
                formula_like.insert((start + i as u32, j as u32));
            }
        }
        assert!(
            r[col("decision")..].iter().all(|d| *d == Data::Empty),
            "decision columns start empty"
        );
    }
    assert!(
        !formula_like.is_empty(),
        "the test org holds formula-like names"
    );
    assert!(
        formula_like.is_subset(&quoted),
        "formula-like cells without the quote prefix: {:?}",
        formula_like.difference(&quoted).collect::<Vec<_>>()
    );
    assert!(
        rows.iter()
            .any(|r| text(&r[col("name")]).starts_with("=HYPERLINK")),
        "the hostile name is there, unchanged"
    );

    // Validation and protection, as the sheet XML carries them.
    let xml = zip_text(&book, "xl/worksheets/sheet1.xml");
    assert!(
        xml.contains("<dataValidation type=\"list\""),
        "{}",
        &xml[..500]
    );
    assert!(xml.contains("<formula1>\"keep,revoke,modify\"</formula1>"));
    assert!(xml.contains("type=\"date\""), "reviewed_at takes dates");
    assert!(xml.contains("promptTitle=\"Reason\""));
    assert!(xml.contains("<sheetProtection"));
    assert!(
        xml.contains("autoFilter=\"0\"") && xml.contains("sort=\"0\""),
        "filter and sort allowed"
    );
    assert!(xml.contains("hidden=\"1\""), "row_key column hidden");
    assert!(!xml.contains("password="), "no password");
    let styles = zip_text(&book, "xl/styles.xml");
    assert!(styles.contains("locked=\"0\""), "decision cells unlocked");
    for s in ["xl/worksheets/sheet2.xml", "xl/worksheets/sheet3.xml"] {
        assert!(zip_text(&book, s).contains("<sheetProtection"), "{s}");
    }

    // The Campaign sheet identifies the campaign and the frozen snapshot.
    let c = campaign_sheet(&book);
    let snap = store.snapshot(campaign.snapshot_id).unwrap();
    assert_eq!(c["campaign"], "2026-Q4");
    assert_eq!(c["campaign_id"], campaign.id.to_string());
    assert_eq!(c["workbook"], "all");
    assert_eq!(c["workbook_rows"], keys.len().to_string());
    assert_eq!(c["snapshot_id"], snap.id.to_string());
    assert_eq!(c["snapshot_sha256"], snap.sha256);
    assert_eq!(c["population_sha256"], campaign.population_sha256);
    assert!(c["roster"].starts_with("roster.csv ("), "{}", c["roster"]);
    assert_eq!(campaign.settings["inactive_days"], 90);
    assert_eq!(campaign.settings["roster"]["file"], "roster.csv");

    // The Privileged sheet lists the org's admins.
    let privileged = sheet(&book, "Privileged");
    let admins: BTreeSet<String> = state
        .users
        .iter()
        .filter(|u| u.active && u.is_admin)
        .map(|u| u.email.clone())
        .collect();
    assert!(!admins.is_empty());
    let listed: BTreeSet<String> = privileged
        .iter()
        .filter(|r| text(&r[0]) == "admin")
        .map(|r| text(&r[1]))
        .collect();
    assert_eq!(listed, admins);

    // The HTML companion: escaped, with the population and the evidence.
    let page = std::fs::read_to_string(&html).unwrap();
    let doc = scraper::Html::parse_document(&page);
    let script = scraper::Selector::parse("script").unwrap();
    for s in doc.select(&script) {
        assert!(
            !s.inner_html().contains("alert(1)"),
            "hostile text ran as script"
        );
    }
    assert!(!page.contains("<script>alert"), "never raw markup");
    let td = scraper::Selector::parse("td").unwrap();
    assert!(
        doc.select(&td).any(|e| e
            .text()
            .collect::<String>()
            .contains("<script>alert(1)</script>")),
        "the hostile name is shown as text"
    );
    assert!(page.contains(&campaign.population_sha256));
    assert!(page.contains(&snap.sha256));
    let cells: BTreeSet<String> = doc.select(&td).map(|e| e.text().collect()).collect();
    assert!(
        keys.iter().take(20).all(|k| cells.contains(k)),
        "rows in the page"
    );

    // The summary names the counts.
    assert!(
        run.stdout
            .contains(&format!("{} rows in 1 workbook(s)", keys.len()))
    );
    assert!(
        run.stdout.contains("flagged rows: terminated "),
        "{}",
        run.stdout
    );
}

#[test]
fn group_admin_mode_sends_each_group_to_its_admins() {
    let (w, state, _) = world();
    let (dir, run) = start(&w, "q4", &["--reviewer-by", "group-admin"]);
    run.ok();
    let files = xlsx_files(&dir);
    assert!(files.len() > 2, "{files:?}");
    let mut all_keys = BTreeSet::new();
    let mut saw_admins_book = false;
    for f in &files {
        let c = campaign_sheet(f);
        let workbook = c["workbook"].clone();
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        // Default name: the quarter of the snapshot (fixed clock: 2026-11-20).
        assert!(name.starts_with("review-2026-Q4-"), "{name}");
        let keys: Vec<String> = sheet(f, "Review")[1..]
            .iter()
            .map(|r| text(&r[0]))
            .collect();
        assert_eq!(c["workbook_rows"], keys.len().to_string());
        if workbook == "admins-and-ungrouped" {
            saw_admins_book = true;
            continue;
        }
        // group-<id>-<name>: every membership row is of that group, and the
        // reviewers are its active group admins.
        let id: i64 = workbook.split('-').nth(1).unwrap().parse().unwrap();
        assert!(
            keys.iter().all(|k| k.starts_with(&format!("m:{id}:"))),
            "{workbook}"
        );
        let mut admins: Vec<String> = state
            .memberships
            .iter()
            .filter(|m| m.group_id.0 == id && m.is_group_admin)
            .filter_map(|m| state.user(&m.user_id))
            .filter(|u| u.active)
            .map(|u| u.email.clone())
            .collect();
        admins.sort();
        assert_eq!(c["reviewers"], admins.join(", "), "{workbook}");
        if admins.is_empty() {
            assert_eq!(c["reviewer_note"], "no group admin: assign a reviewer");
        }
        all_keys.extend(keys.iter().cloned());
    }
    assert!(saw_admins_book);
    for f in &files {
        all_keys.extend(sheet(f, "Review")[1..].iter().map(|r| text(&r[0])));
    }
    assert_eq!(
        all_keys,
        expected_keys(&state),
        "every row in exactly one workbook"
    );
    let campaign = w.store().campaign("2026-Q4", None).unwrap();
    assert_eq!(campaign.items, all_keys.len());
}

#[test]
fn start_refuses_an_existing_name_a_broken_roster_and_bad_names() {
    let (w, _, _) = world();
    let (dir, run) = start(&w, "first", &["--name", "Q4"]);
    run.ok();
    let (again, run) = start(&w, "second", &["--name", "Q4"]);
    run.fails_with(2)
        .stderr_has("already has a review campaign named `Q4`");
    assert!(
        !again.exists() || std::fs::read_dir(&again).unwrap().next().is_none(),
        "nothing written for a refused campaign"
    );
    std::fs::write(w.path("roster.csv"), "name\nann\n").unwrap();
    let (_, run) = start(&w, "third", &["--name", "Q1"]);
    run.fails_with(2).stderr_has("no `email` column");
    let (_, run) = start(&w, "fourth", &["--name", "../evil"]);
    run.fails_with(2).stderr_has("not a valid campaign name");
    assert_eq!(w.store().campaigns(None).unwrap().len(), 1);
    assert_eq!(xlsx_files(&dir).len(), 1);
}

#[test]
fn an_unwritable_out_dir_stores_no_campaign() {
    let (w, _, _) = world();
    std::fs::write(w.path("blocker"), "a file").unwrap();
    let out = w.path("blocker").join("out");
    let roster = w.path("roster.csv");
    let run = w.run(&[
        "review",
        "start",
        "--out",
        out.to_str().unwrap(),
        "--roster",
        roster.to_str().unwrap(),
    ]);
    run.fails_with(2).stderr_has("the campaign was not stored");
    assert!(w.store().campaigns(None).unwrap().is_empty());
}

/// Three decided rows of the demo workbook: (key, decision).
fn fill_three(book: &Path) -> Vec<(String, Decision)> {
    let layout = review_layout(book);
    let keys: Vec<String> = layout.rows.keys().take(3).cloned().collect();
    fill_review(
        book,
        &[
            (
                &keys[0],
                decision_cells("keep", "", "rita@example.com", CellValue::Number(46346.0)),
            ),
            (
                &keys[1],
                decision_cells(
                    " Revoke ",
                    "left the company",
                    "rita@example.com",
                    CellValue::Text("2026-11-21".into()),
                ),
            ),
            (
                &keys[2],
                decision_cells(
                    "modify",
                    "=HYPERLINK(\"http://evil.example\",\"x\") use instead of edit",
                    "sam@example.com",
                    CellValue::Text(String::new()),
                ),
            ),
        ],
    );
    vec![
        (keys[0].clone(), Decision::Keep),
        (keys[1].clone(), Decision::Revoke),
        (keys[2].clone(), Decision::Modify),
    ]
}

#[test]
fn decisions_filled_in_are_imported_idempotently_and_newer_ones_supersede() {
    let (w, _, _) = world();
    decisions_round_trip(&w);
}

/// The review loop again with the history in PostgreSQL.
#[test]
fn the_review_loop_runs_on_postgres() {
    let Some(db) = crate::postgres::Database::fresh() else {
        return;
    };
    let (w, _, _) = world_on(Some(&db));
    decisions_round_trip(&w);
}

fn decisions_round_trip(w: &World) {
    let (dir, run) = start(w, "q4", &["--name", "2026-Q4"]);
    run.ok();
    let book = dir.join("review-2026-Q4-all.xlsx");
    let population = w.store().campaign("2026-Q4", None).unwrap().items;
    let filled = fill_three(&book);

    let run = import(w, &[&book], &["--dry-run"]);
    run.ok();
    assert!(
        run.stdout
            .contains("dry run, nothing imported; would import: 3 new"),
        "{}",
        run.stdout
    );
    let store = w.store();
    let campaign = store.campaign("2026-Q4", None).unwrap();
    assert!(store.decisions(campaign.id, true).unwrap().is_empty());

    let run = import(w, &[&book], &[]);
    run.ok();
    assert!(
        run.stdout
            .contains("imported: 3 new, 0 replaced, 0 unchanged"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("progress: 3 of {population} rows decided")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("keep 1, revoke 1, modify 1"));
    assert!(
        run.stdout
            .contains(&format!("workbook all: 3 of {population} decided"))
    );
    assert!(run.stdout.contains("reviewer rita@example.com: 2 decided"));
    assert!(run.stdout.contains("reviewer sam@example.com: 1 decided"));

    let stored = store.decisions(campaign.id, false).unwrap();
    let got: BTreeMap<String, Decision> =
        stored.iter().map(|d| (d.key.clone(), d.decision)).collect();
    assert_eq!(got, filled.iter().cloned().collect());
    let by_key = |k: &str| stored.iter().find(|d| d.key == k).unwrap();
    assert_eq!(
        by_key(&filled[0].0).reviewed_at.as_deref(),
        Some("2026-11-20"),
        "Excel date"
    );
    assert_eq!(
        by_key(&filled[1].0).reviewed_at.as_deref(),
        Some("2026-11-21"),
        "text date"
    );
    assert_eq!(
        by_key(&filled[1].0).reason.as_deref(),
        Some("left the company")
    );
    assert_eq!(by_key(&filled[2].0).reviewed_at, None);
    assert_eq!(
        by_key(&filled[2].0).reason.as_deref(),
        Some("=HYPERLINK(\"http://evil.example\",\"x\") use instead of edit"),
        "stored as entered; writers neutralize it"
    );
    assert_eq!(by_key(&filled[0].0).source_file, "review-2026-Q4-all.xlsx");
    assert_eq!(by_key(&filled[0].0).source_sha256.len(), 64);

    // The same workbook again changes nothing.
    let run = import(w, &[&book], &[]);
    run.ok();
    assert!(
        run.stdout
            .contains("imported: 0 new, 0 replaced, 3 unchanged"),
        "{}",
        run.stdout
    );
    assert_eq!(store.decisions(campaign.id, true).unwrap().len(), 3);

    // A changed decision replaces the old one, which is kept as superseded.
    fill_review(
        &book,
        &[(
            &filled[0].0,
            decision_cells(
                "revoke",
                "no longer needed",
                "rita@example.com",
                CellValue::Text("2026-11-22".into()),
            ),
        )],
    );
    let run = import(w, &[&book], &[]);
    run.ok();
    assert!(
        run.stdout
            .contains("imported: 0 new, 1 replaced, 2 unchanged"),
        "{}",
        run.stdout
    );
    let all = store.decisions(campaign.id, true).unwrap();
    assert_eq!(all.len(), 4);
    let old = all.iter().find(|d| d.decision == Decision::Keep).unwrap();
    assert!(old.superseded_by.is_some());
    assert_eq!(
        store
            .decisions(campaign.id, false)
            .unwrap()
            .iter()
            .filter(|d| d.decision == Decision::Revoke)
            .count(),
        2
    );

    // A deleted row is simply undecided.
    let layout = review_layout(&book);
    let undecided = layout.rows.keys().nth(10).unwrap().clone();
    delete_review_row(&book, &undecided);
    import(w, &[&book], &[]).ok();
}

/// A fresh campaign's workbook and the world it lives in.
fn fresh(name: &str) -> (World, PathBuf) {
    let (w, _, _) = world();
    let (dir, run) = start(&w, "q", &["--name", name]);
    run.ok();
    let book = dir.join(format!("review-{name}-all.xlsx"));
    (w, book)
}

#[test]
fn every_problem_is_listed_with_sheet_and_row_and_nothing_is_imported() {
    let (w, book) = fresh("Q4");
    let layout = review_layout(&book);
    let keys: Vec<String> = layout.rows.keys().cloned().collect();
    let row = |k: &str| layout.rows[k];
    fill_review(
        &book,
        &[
            (
                &keys[0],
                decision_cells("keep", "", "a@example.com", CellValue::Text(String::new())),
            ),
            (
                &keys[1],
                decision_cells(
                    "approve",
                    "",
                    "a@example.com",
                    CellValue::Text(String::new()),
                ),
            ),
            (
                &keys[2],
                decision_cells(
                    "revoke",
                    "  ",
                    "a@example.com",
                    CellValue::Text(String::new()),
                ),
            ),
            (
                &keys[3],
                decision_cells(
                    "keep",
                    "",
                    "a@example.com",
                    CellValue::Text("20/11/2026".into()),
                ),
            ),
            (
                &keys[4],
                vec![("email", CellValue::Text("someone-else@example.com".into()))],
            ),
        ],
    );
    duplicate_review_row(&book, &keys[5]);
    let run = import(&w, &[&book], &[]);
    run.fails_with(2);
    let err = &run.stderr;
    assert!(
        err.contains("problem(s) in the workbooks; nothing was imported"),
        "{err}"
    );
    let at = |k: &str| format!("review-Q4-all.xlsx: sheet Review row {}: ", row(k));
    assert!(
        err.contains(&format!(
            "{}decision `approve` is not one of keep, revoke, modify",
            at(&keys[1])
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}decision `revoke` needs a reason", at(&keys[2]))),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}reviewed_at `20/11/2026` is not a date",
            at(&keys[3])
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}context column `email` was edited: it was `",
            at(&keys[4])
        )) && err.contains("it is now `someone-else@example.com`"),
        "{err}"
    );
    let last = layout.rows.values().max().unwrap() + 1;
    assert!(
        err.contains(&format!(
            "sheet Review row {last}: row_key `{}` appears twice: also in review-Q4-all.xlsx row {}",
            keys[5],
            row(&keys[5])
        )),
        "{err}"
    );
    assert!(
        !err.contains(&format!("row {}:", row(&keys[0]))),
        "the good row is fine: {err}"
    );
    let store = w.store();
    let c = store.campaign("Q4", None).unwrap();
    assert!(
        store.decisions(c.id, true).unwrap().is_empty(),
        "nothing imported"
    );
}

#[test]
fn another_campaigns_workbook_a_renamed_sheet_and_a_non_xlsx_are_refused() {
    let (w, book) = fresh("Q4");
    let (other_dir, run) = start(&w, "other", &["--name", "Q1"]);
    run.ok();
    let other = other_dir.join("review-Q1-all.xlsx");
    let layout = review_layout(&book);
    let key = layout.rows.keys().next().unwrap().clone();
    fill_review(
        &book,
        &[(
            &key,
            decision_cells("keep", "", "a@x.io", CellValue::Text(String::new())),
        )],
    );
    fill_review(
        &other,
        &[(
            &key,
            decision_cells("keep", "", "a@x.io", CellValue::Text(String::new())),
        )],
    );

    // Two campaigns' workbooks at once: the second names both.
    let run = import(&w, &[&book, &other], &[]);
    run.fails_with(2)
        .stderr_has("review-Q1-all.xlsx: sheet Campaign: this workbook belongs to campaign `Q1`")
        .stderr_has("not to campaign `Q4`");
    // --campaign names the campaign expected.
    let run = import(&w, &[&other], &["--campaign", "Q4"]);
    run.fails_with(2)
        .stderr_has("belongs to campaign `Q1`")
        .stderr_has("not to campaign `Q4`");

    // A renamed sheet.
    let renamed = w.path("renamed.xlsx");
    std::fs::copy(&book, &renamed).unwrap();
    let mut entries = zip_entries(&renamed);
    for (name, bytes) in &mut entries {
        if name == "xl/workbook.xml" {
            let xml = String::from_utf8(bytes.clone()).unwrap();
            *bytes = xml
                .replace("name=\"Review\"", "name=\"My review\"")
                .into_bytes();
        }
    }
    crate::common::write_zip(&renamed, &entries);
    let run = import(&w, &[&renamed], &[]);
    run.fails_with(2)
        .stderr_has("renamed.xlsx: sheet Review: is missing (the workbook has: My review, Privileged, Campaign)");

    // Not an XLSX at all.
    let fake = w.path("notes.xlsx");
    std::fs::write(&fake, "decision,reason\nkeep,\n").unwrap();
    let run = import(&w, &[&fake], &[]);
    run.fails_with(2)
        .stderr_has("notes.xlsx: not an XLSX workbook");

    // A row copied from another workbook of the same campaign is refused too,
    // and a good workbook given with a bad one imports nothing.
    let run = import(&w, &[&book, &fake], &[]);
    run.fails_with(2)
        .stderr_has("notes.xlsx: not an XLSX workbook");
    let store = w.store();
    for c in store.campaigns(None).unwrap() {
        assert!(
            store.decisions(c.id, true).unwrap().is_empty(),
            "{}",
            c.name
        );
    }

    // A workbook of a campaign that is not in this history.
    let (elsewhere, _, _) = world();
    let run = import(&elsewhere, &[&book], &[]);
    run.fails_with(2)
        .stderr_has("which is not in the history")
        .stderr_has("pass the --db the campaign was started with");
}

#[test]
fn rows_of_another_workbook_and_added_rows_are_refused() {
    let (w, _, _) = world();
    let (dir, run) = start(&w, "q4", &["--reviewer-by", "group-admin", "--name", "G"]);
    run.ok();
    let files = xlsx_files(&dir);
    let (a, b) = (&files[0], &files[1]);
    let b_key = review_layout(b).rows.keys().next().unwrap().clone();
    // Write b's row key over a row of a (the hidden row_key cell).
    let a_key = review_layout(a).rows.keys().next().unwrap().clone();
    fill_review(
        a,
        &[(&a_key, vec![("row_key", CellValue::Text(b_key.clone()))])],
    );
    let run = import(&w, &[a], &[]);
    run.fails_with(2)
        .stderr_has(&format!("row_key `{b_key}` belongs to workbook `"));
    // A row typed below the generated ones, without a row key: the copy of a
    // row (review_layout maps the key to the later, copied row) loses its key.
    let (_, run) = start(&w, "q4b", &["--name", "H"]);
    run.ok();
    let book = w.path("q4b").join("review-H-all.xlsx");
    let key = review_layout(&book).rows.keys().next().unwrap().clone();
    duplicate_review_row(&book, &key);
    let added = review_layout(&book).rows[&key];
    fill_review(
        &book,
        &[(
            &key,
            vec![
                ("row_key", CellValue::Text(String::new())),
                ("decision", CellValue::Text("keep".into())),
            ],
        )],
    );
    let run = import(&w, &[&book], &[]);
    run.fails_with(2).stderr_has(&format!(
        "sheet Review row {added}: has no row_key: rows cannot be added"
    ));
}

// ---- LibreOffice ---------------------------------------------------------

fn soffice() -> Option<&'static str> {
    ["libreoffice", "soffice"].into_iter().find(|bin| {
        Command::new(bin)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Converts `file` with LibreOffice headless into `out_dir` (`pdf`, `xlsx`),
/// with a private profile so parallel runs do not clash.
fn convert(bin: &str, file: &Path, to: &str, out_dir: &Path) -> PathBuf {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(bin)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.path().display()
        ))
        .args(["--headless", "--norestore", "--convert-to", to, "--outdir"])
        .arg(out_dir)
        .arg(file)
        .output()
        .expect("run libreoffice");
    assert!(
        output.status.success(),
        "libreoffice --convert-to {to} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
    let ext = to.split(':').next().unwrap();
    let converted = out_dir.join(format!("{stem}.{ext}"));
    assert!(converted.is_file(), "no {}", converted.display());
    converted
}

#[test]
fn the_workbook_opens_in_libreoffice_keeps_its_validation_and_imports_after_saving() {
    let Some(bin) = soffice() else {
        crate::common::skip_or_fail(
            "the_workbook_opens_in_libreoffice",
            "LibreOffice (libreoffice/soffice) is not installed",
            "install libreoffice-calc-nogui (.ci/run does this as root)",
        );
        return;
    };
    let (w, book) = fresh("LO");
    let layout = review_layout(&book);
    let keys: Vec<String> = layout.rows.keys().take(2).cloned().collect();
    fill_review(
        &book,
        &[
            (
                &keys[0],
                decision_cells(
                    "revoke",
                    "left",
                    "lo@example.com",
                    CellValue::Number(46346.0),
                ),
            ),
            (
                &keys[1],
                decision_cells(
                    "keep",
                    "",
                    "lo@example.com",
                    CellValue::Text("2026-11-20".into()),
                ),
            ),
        ],
    );

    // PDF: LibreOffice renders every sheet; the text shows the campaign and users.
    let pdf_dir = w.path("pdf");
    std::fs::create_dir(&pdf_dir).unwrap();
    let pdf = convert(bin, &book, "pdf", &pdf_dir);
    match Command::new("pdftotext").arg(&pdf).arg("-").output() {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            assert!(
                text.contains("population_sha256"),
                "Campaign sheet in the PDF"
            );
            assert!(text.contains("LO"), "campaign name in the PDF");
            let email = sheet(&book, "Review")[1][1].to_string();
            assert!(text.contains(&email), "a user's email in the PDF");
        }
        _ => crate::common::skip_or_fail(
            "the_workbook_opens_in_libreoffice (PDF text)",
            "pdftotext is not installed (the PDF was still produced)",
            "install poppler-utils (.ci/run does this as root)",
        ),
    }

    // Re-saved by LibreOffice as XLSX: the decision list, the protection and
    // the decisions survive, and the workbook still imports cleanly (every
    // context cell read back exactly as written).
    let saved_dir = w.path("saved");
    std::fs::create_dir(&saved_dir).unwrap();
    let saved = convert(bin, &book, "xlsx:Calc MS Excel 2007 XML", &saved_dir);
    let sheet_xml = zip_entries(&saved)
        .into_iter()
        .find(|(n, _)| n == "xl/worksheets/sheet1.xml")
        .map(|(_, b)| String::from_utf8(b).unwrap())
        .unwrap();
    assert!(sheet_xml.contains("<dataValidation") && sheet_xml.contains("type=\"list\""));
    assert!(
        sheet_xml.contains("keep,revoke,modify"),
        "the list survives LibreOffice"
    );
    assert!(sheet_xml.contains("<sheetProtection"));
    let run = import(&w, &[&saved], &[]);
    run.ok();
    assert!(run.stdout.contains("imported: 2 new"), "{}", run.stdout);
    let store = w.store();
    let c = store.campaign("LO", None).unwrap();
    let decisions = store.decisions(c.id, false).unwrap();
    let revoked = decisions.iter().find(|d| d.key == keys[0]).unwrap();
    assert_eq!(revoked.decision, Decision::Revoke);
    assert_eq!(revoked.reviewed_at.as_deref(), Some("2026-11-20"));
}
