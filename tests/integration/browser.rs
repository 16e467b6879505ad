//! The HTML report in a real browser: headless Chromium driven by chromedriver
//! over the W3C WebDriver protocol. The page must load without console errors
//! (its Content-Security-Policy forbids everything but inline styles and its one
//! inline script), sorting a table by clicking a header must reorder its rows,
//! typing into the filter box must hide the rows that do not match, and a
//! screenshot is saved.
//!
//! The WebDriver client is the few endpoints below, over `reqwest` (already a
//! dependency); a skip line is printed only where Chromium or chromedriver is
//! not installed (`.ci/run` installs both when it can).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::common::{World, run};

/// The W3C key under which an element reference travels.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_program(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.is_file())
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROME_BIN").map(PathBuf::from) {
        return p.is_file().then_some(p);
    }
    find_program(&[
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ])
}

fn chromedriver() -> Option<PathBuf> {
    find_program(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"])
}

/// chromedriver on a free loopback port, killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start(program: &Path, log: &Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One WebDriver session.
struct Session {
    http: reqwest::Client,
    base: String,
}

impl Session {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method.clone(), &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status();
        let v: Value = resp
            .json()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: not JSON: {e}"));
        assert!(status.is_success(), "{method} {url}: {status} {v}");
        v["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn find_all(&self, css: &str) -> Vec<String> {
        let v = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await;
        v.as_array()
            .expect("elements")
            .iter()
            .map(|e| e[ELEMENT].as_str().expect("element id").to_string())
            .collect()
    }

    async fn find(&self, css: &str) -> String {
        let all = self.find_all(css).await;
        assert_eq!(all.len(), 1, "exactly one {css}");
        all[0].clone()
    }

    async fn text(&self, element: &str) -> String {
        self.get(&format!("/element/{element}/text"))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.find_all(css).await {
            out.push(self.text(&e).await);
        }
        out
    }

    /// Browser console entries since the last call (chromedriver's log endpoint).
    async fn get_script(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
            .await
    }

    async fn console(&self) -> Vec<Value> {
        self.post("/se/log", json!({"type": "browser"}))
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

async fn open_session(
    driver: &Driver,
    chrome: &Path,
    profile: &Path,
    extra_args: &[&str],
) -> Session {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("http client");
    // chromedriver answers /status once it listens; wait for that (bounded).
    let mut ready = false;
    for _ in 0..100 {
        let status = http.get(format!("{}/status", driver.url)).send().await;
        if status.is_ok_and(|r| r.status().is_success()) {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(ready, "chromedriver did not start on {}", driver.url);
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
    ]
    .iter()
    .chain(extra_args)
    .map(|a| a.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chrome.to_string_lossy(),
            "args": args,
        },
        "goog:loggingPrefs": {"browser": "ALL"},
    }}});
    let resp = http
        .post(format!("{}/session", driver.url))
        .json(&caps)
        .send()
        .await
        .expect("new session");
    let status = resp.status();
    let v: Value = resp.json().await.expect("session JSON");
    assert!(status.is_success(), "new session: {status} {v}");
    let id = v["value"]["sessionId"].as_str().expect("sessionId");
    Session {
        http,
        base: format!("{}/session/{id}", driver.url),
    }
}

fn html_report(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir)
        .expect("report dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "html"))
        .expect("an .html report")
}

/// Severe console entries, other than the probe this test logs itself.
fn errors(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn the_html_report_works_in_headless_chromium() {
    let (Some(chrome), Some(driver_bin)) = (chromium(), chromedriver()) else {
        crate::common::skip_or_fail(
            "the_html_report_works_in_headless_chromium",
            "Chromium and chromedriver are not installed",
            "install them (Debian: apt-get install chromium chromium-driver; .ci/run does this as root)",
        );
        return;
    };
    // A report of the simulated org with changes between two snapshots.
    let w = World::demo();
    w.snapshot(&[]).ok();
    w.server().update_org(|o| o.apply_scripted_changes());
    w.snapshot(&[]).ok();
    let out = w.path("report");
    run(w
        .cmd()
        .args(["report", "--format", "html", "--out"])
        .arg(&out))
    .ok();
    let page = html_report(&out);

    let driver = Driver::start(&driver_bin, &w.path("chromedriver.log"));
    let profile = w.path("chromium-profile");
    std::fs::create_dir_all(&profile).expect("profile dir");
    let rt = &w.rt;
    let s = rt.block_on(open_session(&driver, &chrome, &profile, &[]));
    let checks = rt.block_on(async {
        s.post("/url", json!({"url": format!("file://{}", page.display())}))
            .await;
        let title = s.get("/title").await;
        assert!(
            title
                .as_str()
                .unwrap_or_default()
                .contains("Retool access review"),
            "{title}"
        );
        let load_errors = errors(&s.console().await);
        assert!(
            load_errors.is_empty(),
            "console errors while loading the report: {load_errors:#?}"
        );

        // The first screen is what needs action; an e-mail opens that user's
        // drill-down (hidden until then) with no console error.
        let first = s
            .get_script("return document.querySelector('main > section').id")
            .await;
        assert_eq!(first, json!("action"));
        let link = s.find_all("#t-users tbody a[href^='#u-']").await[0].clone();
        let href = s.get(&format!("/element/{link}/attribute/href")).await;
        let email = s.text(&link).await;
        let card_id = href.as_str().unwrap_or_default().trim_start_matches('#').to_string();
        let card = s.find(&format!("article#{card_id}")).await;
        assert_eq!(s.get(&format!("/element/{card}/displayed")).await, json!(false));
        s.post(&format!("/element/{link}/click"), json!({})).await;
        assert_eq!(
            s.get(&format!("/element/{card}/displayed")).await,
            json!(true),
            "clicking {email} did not open its drill-down"
        );
        let card_text = s.text(&card).await;
        for part in [email.as_str(), "Groups", "Edit and own access", "status"] {
            assert!(card_text.contains(part), "{part} missing from the card: {card_text}");
        }
        let drill_errors = errors(&s.console().await);
        assert!(drill_errors.is_empty(), "console errors: {drill_errors:#?}");
        s.post("/url", json!({"url": format!("file://{}", page.display())}))
            .await;

        // The script ran: it reveals the filter boxes it drives.
        let filter = s.find("#t-users input.filter").await;
        let shown = s.get(&format!("/element/{filter}/displayed")).await;
        assert_eq!(shown, json!(true), "the inline script did not run");

        // Sort users by status: the rows (sorted by email in the file) regroup.
        let headers = s.texts("#t-users thead th").await;
        let col = headers
            .iter()
            .position(|h| h == "status")
            .expect("a status column")
            + 1;
        let emails_col = headers.iter().position(|h| h == "email").expect("email") + 1;
        let status_css = format!("#t-users tbody tr td:nth-child({col})");
        let email_css = format!("#t-users tbody tr td:nth-child({emails_col})");
        let status_before = s.texts(&status_css).await;
        let emails_before = s.texts(&email_css).await;
        assert!(
            status_before.iter().any(|v| v == "disabled")
                && !status_before.is_sorted()
                && !status_before.iter().rev().is_sorted(),
            "the demo org should interleave active and disabled users: {status_before:?}"
        );
        let header = s.find_all("#t-users thead th").await[col - 1].clone();
        s.post(&format!("/element/{header}/click"), json!({})).await;
        let ascending = s.texts(&status_css).await;
        assert!(ascending.is_sorted(), "{ascending:?}");
        assert_eq!(ascending.len(), status_before.len());
        let aria = s
            .get(&format!("/element/{header}/attribute/aria-sort"))
            .await;
        assert_eq!(aria, json!("ascending"));
        s.post(&format!("/element/{header}/click"), json!({})).await;
        let descending = s.texts(&status_css).await;
        assert!(descending.iter().rev().is_sorted(), "{descending:?}");
        let mut emails_after = s.texts(&email_css).await;
        let mut emails_sorted = emails_before.clone();
        emails_after.sort();
        emails_sorted.sort();
        assert_eq!(emails_after, emails_sorted, "sorting keeps every row");

        // Filter: type one user's address; only matching rows stay visible.
        let needle = emails_before[emails_before.len() / 2].clone();
        let expected = emails_before.iter().filter(|e| e.contains(&needle)).count();
        s.post(&format!("/element/{filter}/value"), json!({"text": needle}))
            .await;
        let visible = s
            .texts(&format!(
                "#t-users tbody tr:not([hidden]) td:nth-child({emails_col})"
            ))
            .await;
        assert_eq!(visible.len(), expected, "{visible:?}");
        assert!(visible.iter().all(|e| e.contains(&needle)), "{visible:?}");
        assert!(visible.len() < emails_before.len());

        // Screenshot of the page scrolled to the filtered users table.
        s.post(
            "/execute/sync",
            json!({"script": "document.getElementById('t-users').scrollIntoView(); return 1;", "args": []}),
        )
        .await;
        let png = s.get("/screenshot").await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .expect("screenshot is base64");

        // The console log is really collected: a probe error shows up.
        s.post(
            "/execute/sync",
            json!({"script": "console.error('retool-audit console probe'); return 1;", "args": []}),
        )
        .await;
        let probe = errors(&s.console().await);
        let _ = s.call(reqwest::Method::DELETE, "", None).await;
        (bytes, probe)
    });
    // With scripts off, the drill-down still opens from its link (CSS :target).
    let no_script_profile = w.path("chromium-profile-noscript");
    std::fs::create_dir_all(&no_script_profile).expect("profile dir");
    let quiet = rt.block_on(open_session(
        &driver,
        &chrome,
        &no_script_profile,
        &["--blink-settings=scriptEnabled=false"],
    ));
    rt.block_on(async {
        quiet
            .post("/url", json!({"url": format!("file://{}", page.display())}))
            .await;
        let filter = quiet.find("#t-users input.filter").await;
        assert_eq!(
            quiet.get(&format!("/element/{filter}/displayed")).await,
            json!(false),
            "scripts were meant to be off"
        );
        let links = quiet.find_all("#t-users tbody a[href^='#u-']").await;
        assert!(links.len() > 10, "{} e-mail links", links.len());
        let link = links[links.len() / 2].clone();
        let href = quiet.get(&format!("/element/{link}/attribute/href")).await;
        let card_id = href
            .as_str()
            .unwrap_or_default()
            .trim_start_matches('#')
            .to_string();
        let card = quiet.find(&format!("article#{card_id}")).await;
        assert_eq!(
            quiet.get(&format!("/element/{card}/displayed")).await,
            json!(false)
        );
        quiet
            .post(&format!("/element/{link}/click"), json!({}))
            .await;
        assert_eq!(
            quiet.get(&format!("/element/{card}/displayed")).await,
            json!(true),
            "without scripts the drill-down did not open"
        );
        let _ = quiet.call(reqwest::Method::DELETE, "", None).await;
    });
    let (png, probe) = checks;
    assert!(
        probe
            .iter()
            .any(|m| m.contains("retool-audit console probe")),
        "console entries are not being collected: {probe:?}"
    );
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // RETOOL_AUDIT_SCREENSHOT=FILE keeps a copy to look at after the run.
    let shot = std::env::var_os("RETOOL_AUDIT_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| w.path("users-filtered.png"));
    std::fs::write(&shot, &png).expect("write screenshot");
    eprintln!(
        "browser: screenshot of the report at the filtered users table saved to {} ({} bytes)",
        shot.display(),
        png.len()
    );
    assert!(
        png.len() > 10_000,
        "a blank screenshot? {} bytes",
        png.len()
    );
}

/// Chromium's own print to PDF of the demo's report: at most 20 pages, and the
/// first page opens with what needs action (read back with pdftotext).
#[test]
fn the_printed_demo_report_fits_twenty_pages_and_opens_with_the_exceptions() {
    let test = "the_printed_demo_report_fits_twenty_pages_and_opens_with_the_exceptions";
    let Some(chrome) = chromium() else {
        crate::common::skip_or_fail(
            test,
            "Chromium is not installed",
            "apt-get install chromium (.ci/run does this as root)",
        );
        return;
    };
    let (Some(pdfinfo), Some(pdftotext)) = (
        find_program(&["/usr/bin/pdfinfo", "/usr/local/bin/pdfinfo"]),
        find_program(&["/usr/bin/pdftotext", "/usr/local/bin/pdftotext"]),
    ) else {
        crate::common::skip_or_fail(
            test,
            "pdfinfo/pdftotext are not installed",
            "apt-get install poppler-utils",
        );
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("demo");
    run(
        std::process::Command::new(env!("CARGO_BIN_EXE_retool-audit"))
            .args(["--quiet", "demo", "--out"])
            .arg(&out),
    )
    .ok();
    let page = html_report(&out);
    let pdf = dir.path().join("report.pdf");
    let status = std::process::Command::new(&chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--no-pdf-header-footer",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run chromium");
    assert!(
        status.success() && pdf.exists(),
        "chromium did not print: {status}"
    );
    let info = std::process::Command::new(&pdfinfo)
        .arg(&pdf)
        .output()
        .expect("pdfinfo");
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count in pdfinfo's output: {info}"));
    eprintln!("browser: the demo report prints on {pages} pages");
    assert!((1..=20).contains(&pages), "{pages} pages");
    // Landscape: wider than high.
    let size = info
        .lines()
        .find(|l| l.starts_with("Page size:"))
        .unwrap_or_default();
    let dims: Vec<f64> = size
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert!(
        dims.len() >= 2 && dims[0] > dims[1],
        "not landscape: {size}"
    );
    let first = std::process::Command::new(&pdftotext)
        .args(["-f", "1", "-l", "1", "-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(text.contains("What needs action"), "{text}");
    for word in [
        "critical",
        "high",
        "medium",
        "low",
        "privileged_not_on_roster",
        "Recommended action",
    ] {
        assert!(text.contains(word), "page 1 lacks {word}: {text}");
    }
    assert!(
        text.contains("the full tables are in the XLSX and CSV")
            || text.contains("The full tables are in the XLSX and CSV"),
        "{text}"
    );
    // E-mail addresses are not broken one character per line: every address of
    // the users table's first rows appears whole somewhere in the printout.
    let all = std::process::Command::new(&pdftotext)
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext");
    let all = String::from_utf8_lossy(&all.stdout);
    let users = crate::common::csv_maps(&out, "users");
    let whole = users
        .iter()
        .take(10)
        .filter(|u| all.contains(u["email"].trim_start_matches('\'')))
        .count();
    assert!(
        whole >= 8,
        "only {whole} of the first 10 e-mails print whole"
    );
}
