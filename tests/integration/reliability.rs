//! Reliability: a snapshot killed at any point leaves a sound history, runs on
//! one database at once end well, storage faults fail cleanly without touching
//! the history, and the token and the files stay private.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use retool_audit::fake::{FakeConfig, Fault, OrgSpec};
use retool_audit::model::{EntityKind, OrgState, Subject};

use crate::common::{Run, TOKEN, World, fixed_now};

/// The binary writing a snapshot of the org at `base_url` into `db`.
fn snapshot_cmd(db: &Path, base_url: &str, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_retool-audit"));
    c.arg("--db").arg(db);
    c.args(["snapshot", "--base-url", base_url, "--no-user-grants"]);
    c.args(extra);
    c.env("RETOOL_API_TOKEN", TOKEN);
    c.env_remove("RUST_LOG");
    c.env_remove("RETOOL_AUDIT_DB");
    c.env_remove("RETOOL_BASE_URL");
    c
}

fn spawn(mut cmd: Command) -> Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn retool-audit")
}

fn finish(child: Child) -> Run {
    let out = child.wait_with_output().expect("wait for retool-audit");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn kill(mut child: Child) {
    // The child may have finished on its own just before: that is fine too.
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits (bounded, so a broken setup fails instead of hanging) until `done`.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn integrity(db: &Path) -> String {
    let conn = rusqlite::Connection::open(db).expect("open db");
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check")
}

/// What a `--no-user-grants` snapshot of the world's org collects: everything
/// but direct user grants, which are recorded as not collected.
fn collected(w: &World) -> OrgState {
    let mut state = w.expected();
    state
        .grants
        .retain(|g| matches!(g.subject, Subject::Group(_)));
    state.not_collected.insert(
        EntityKind::Grants,
        "partial: direct user grants not collected (disabled for this run); \
         group grants are complete"
            .to_string(),
    );
    state
}

/// The history is sound: SQLite says so, every snapshot listed reads back as
/// exactly what was collected (the org never changes in these tests), the
/// chain links, and `verify` passes. Returns the number of snapshots.
#[track_caller]
fn assert_sound(w: &World, db: &Path, context: &str) -> usize {
    assert_eq!(integrity(db), "ok", "{context}: integrity_check");
    let store = retool_audit::store::Store::open_existing(db).expect("open history");
    let metas = store.snapshots(None).expect("list snapshots");
    let expected = collected(w);
    let mut prev: Option<String> = None;
    for meta in &metas {
        let state = store.state_at(meta.id).expect("state_at");
        assert!(
            state == expected,
            "{context}: snapshot {} does not hold what was collected",
            meta.id
        );
        assert_eq!(meta.prev_sha256, prev, "{context}: chain at {}", meta.id);
        prev = Some(meta.sha256.clone());
    }
    drop(store);
    let verify = crate::common::run(
        Command::new(env!("CARGO_BIN_EXE_retool-audit"))
            .arg("--db")
            .arg(db)
            .arg("verify"),
    );
    assert_eq!(verify.code, 0, "{context}: verify\n{}", verify.stderr);
    metas.len()
}

fn big_world() -> World {
    World::new(6_000)
}

// ---------------------------------------------------------------- crash safety

#[test]
fn a_snapshot_killed_while_collecting_leaves_the_history_as_it_was() {
    let w = World::new(120);
    w.snapshot(&["--no-user-grants"]).ok();
    // The same org behind a server whose 4th request never answers.
    let stalling = World::with_org(
        OrgSpec::with_users(120, 7, fixed_now()),
        FakeConfig {
            faults: vec![Fault::Stall { at_request: 4 }],
            ..FakeConfig::default()
        },
    );
    let before = std::fs::read(&w.db).expect("read db");
    let child = spawn(snapshot_cmd(&w.db, &stalling.base_url(), &[]));
    wait_until("the stalled request", || {
        stalling.server().request_count() >= 4
    });
    kill(child);
    assert_eq!(assert_sound(&w, &w.db, "killed while collecting"), 1);
    assert_eq!(
        std::fs::read(&w.db).expect("read db"),
        before,
        "the database file is untouched"
    );
    // The next night works and continues the chain.
    w.snapshot(&["--no-user-grants"]).ok();
    assert_eq!(assert_sound(&w, &w.db, "after the next run"), 2);
}

#[test]
fn a_snapshot_killed_while_writing_leaves_only_complete_snapshots() {
    let w = big_world();
    // One clean run into a scratch file tells how many requests a collection
    // takes and roughly how long the first (largest) write after it lasts on
    // this machine; kill points are spread over that write. Nothing is asserted
    // about time: whatever point each run died at, the history must be sound.
    let scratch = w.path("scratch.db");
    let started = Instant::now();
    let requests_before = w.server().request_count();
    let mut child = spawn(snapshot_cmd(&scratch, &w.base_url(), &[]));
    let mut last_request: Option<(Instant, u64)> = None;
    while child.try_wait().expect("poll child").is_none() {
        let n = w.server().request_count();
        if last_request.is_none_or(|(_, last)| n != last) {
            last_request = Some((Instant::now(), n));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    finish(child).ok();
    let total = started.elapsed();
    let per_run = w.server().request_count() - requests_before;
    let write_time = last_request
        .map(|(t, _)| t.elapsed())
        .unwrap_or(total / 2)
        .max(Duration::from_millis(20));

    // The first kills land in the first write of a new database (every record
    // inserted); once one completes (likely at 2.0), later kills land in
    // incremental writes.
    for f in [0.5, 0.1, 0.9, 2.0, 0.0] {
        let base = w.server().request_count();
        let child = spawn(snapshot_cmd(&w.db, &w.base_url(), &[]));
        wait_until("the collection to finish", || {
            w.server().request_count() >= base + per_run
        });
        std::thread::sleep(write_time.mul_f64(f));
        kill(child);
        let n = assert_sound(&w, &w.db, &format!("killed {f} into the write"));
        eprintln!("killed {f:.2} into a write of ~{write_time:?}: {n} complete snapshots");
    }
    // And once more in the middle of collecting.
    let child = spawn(snapshot_cmd(&w.db, &w.base_url(), &[]));
    std::thread::sleep(total / 4);
    kill(child);
    let n = assert_sound(&w, &w.db, "killed while collecting");
    // The next run succeeds and extends the chain by one.
    crate::common::run(&mut snapshot_cmd(&w.db, &w.base_url(), &[])).ok();
    assert_eq!(assert_sound(&w, &w.db, "after the next run"), n + 1);
}

// ----------------------------------------------------------------- concurrency

/// Either ran, or refused clearly because another run held the run lock.
#[track_caller]
fn ended_well(run: &Run) -> bool {
    if run.code == 0 {
        return true;
    }
    assert_eq!(
        run.code, 1,
        "a concurrent run fails with exit 1 or not at all\nstderr:\n{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("another retool-audit run holds the lock on"),
        "a concurrent run names the lock\nstderr:\n{}",
        run.stderr
    );
    false
}

#[test]
fn concurrent_snapshots_on_one_database_one_runs_the_others_name_the_lock() {
    let w = World::new(600);
    let mut expected = 0;
    // Round 1 races on a database that does not exist yet; round 2 on an
    // existing one; three at once in round 3.
    for (round, runners) in [(1, 2), (2, 2), (3, 3)] {
        let children: Vec<Child> = (0..runners)
            .map(|_| spawn(snapshot_cmd(&w.db, &w.base_url(), &[])))
            .collect();
        let runs: Vec<Run> = children.into_iter().map(finish).collect();
        let ok = runs.iter().filter(|r| ended_well(r)).count();
        eprintln!("round {round}: {ok} of {runners} concurrent runs wrote a snapshot");
        assert!(ok >= 1, "round {round}: at least one run succeeds");
        expected += ok;
        assert_eq!(
            assert_sound(&w, &w.db, &format!("round {round}")),
            expected,
            "round {round}: one snapshot per successful run"
        );
    }
}

#[test]
fn a_second_snapshot_names_the_running_one_and_can_wait_for_it() {
    let w = World::new(60);
    w.snapshot(&["--no-user-grants"]).ok();
    // The first run holds the lock while its third request never answers.
    let stalling = World::with_org(
        OrgSpec::with_users(60, 7, fixed_now()),
        FakeConfig {
            faults: vec![Fault::Stall { at_request: 3 }],
            ..FakeConfig::default()
        },
    );
    let holder = spawn(snapshot_cmd(&w.db, &stalling.base_url(), &[]));
    let holder_pid = holder.id();
    wait_until("the first run to stall", || {
        stalling.server().request_count() >= 3
    });
    let requests = w.server().request_count();
    let refused = crate::common::run(&mut snapshot_cmd(&w.db, &w.base_url(), &[]));
    refused.fails_with(1).stderr_has(&format!(
        "another retool-audit run holds the lock on {} (pid {holder_pid})",
        w.db.display()
    ));
    assert_eq!(
        w.server().request_count(),
        requests,
        "the refused run asked the API nothing"
    );
    // A run allowed to wait gets the lock when the first one ends (killed here).
    let waiter = spawn(snapshot_cmd(
        &w.db,
        &w.base_url(),
        &["--lock-timeout", "600"],
    ));
    std::thread::sleep(Duration::from_millis(300));
    kill(holder);
    finish(waiter).ok();
    assert_eq!(assert_sound(&w, &w.db, "after waiting for the lock"), 2);
    assert!(
        retool_audit::store::lock_path(&w.db).exists(),
        "the lock file stays beside the database"
    );
}

#[test]
fn a_snapshot_blocked_by_another_writer_says_so_and_changes_nothing() {
    let w = World::new(30);
    w.snapshot(&["--no-user-grants"]).ok();
    // Another program holds the write lock for longer than the busy timeout.
    let conn = rusqlite::Connection::open(&w.db).expect("open");
    conn.execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    let run = w.snapshot(&["--no-user-grants"]);
    run.fails_with(1)
        .stderr_has("locked by another process")
        .stderr_has("the history is unchanged");
    conn.execute_batch("ROLLBACK").expect("release the lock");
    drop(conn);
    assert_eq!(assert_sound(&w, &w.db, "after a locked run"), 1);
    w.snapshot(&["--no-user-grants"]).ok();
    assert_eq!(assert_sound(&w, &w.db, "after the lock was released"), 2);
}

/// The `Users` headline of a JSON report written to `out`.
fn reported_users(db: &Path, out: &Path) -> Run {
    crate::common::run(
        Command::new(env!("CARGO_BIN_EXE_retool-audit"))
            .arg("--db")
            .arg(db)
            .args(["report", "--format", "json", "--out"])
            .arg(out),
    )
}

fn users_headline(out: &Path) -> u64 {
    let text = std::fs::read_to_string(out.join("report.json")).expect("report.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["summary"]
        .as_array()
        .and_then(|rows| {
            rows.iter()
                .find(|r| r["section"] == "Headline" && r["label"] == "Users")
        })
        .and_then(|r| r["value"].as_u64())
        .expect("Users headline")
}

#[test]
fn a_report_during_a_snapshot_sees_the_last_complete_snapshot() {
    let small = World::new(50);
    small.snapshot(&["--no-user-grants"]).ok();
    let big = big_world();
    let mut child = spawn(snapshot_cmd(&small.db, &big.base_url(), &[]));
    let mut reports = 0;
    let mut seen = Vec::new();
    while child.try_wait().expect("poll child").is_none() || reports == 0 {
        let out = small.path(&format!("report-{reports}"));
        let run = reported_users(&small.db, &out);
        run.ok();
        seen.push(users_headline(&out));
        reports += 1;
    }
    let run = finish(child);
    run.ok();
    for users in &seen {
        assert!(
            *users == 50 || *users == 6_000,
            "a report shows a complete snapshot, not {users} users"
        );
    }
    assert_eq!(seen.first(), Some(&50), "the first report saw snapshot 1");
    assert_eq!(integrity(&small.db), "ok");
}

// -------------------------------------------------------------- storage faults

/// Tests run as root in CI, where file modes do not stop writes. The child then
/// runs as `nobody` in a directory it owns, so permissions apply to it.
struct Unprivileged {
    root: bool,
}

const NOBODY: u32 = 65534;

impl Unprivileged {
    fn detect(dir: &Path) -> Unprivileged {
        use std::os::unix::fs::MetadataExt;
        let uid = std::fs::metadata(dir).map(|m| m.uid()).unwrap_or(1);
        Unprivileged { root: uid == 0 }
    }

    /// Gives `paths` to the user the child runs as.
    fn own(&self, paths: &[&Path]) {
        if self.root {
            for p in paths {
                if p.exists() {
                    std::os::unix::fs::chown(p, Some(NOBODY), Some(NOBODY)).expect("chown");
                }
            }
        }
    }

    /// Whether the child can run at all: as `nobody`, the binary must be
    /// reachable (a checkout under `/root` is not). `Err` says why not.
    fn usable(&self) -> Result<(), String> {
        if !self.root {
            return Ok(());
        }
        let probe = self
            .cmd(Command::new(env!("CARGO_BIN_EXE_retool-audit")))
            .arg("--version")
            .output();
        match probe {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => Err(format!(
                "uid {NOBODY} cannot run the binary (exit {:?})",
                out.status.code()
            )),
            Err(e) => Err(format!("uid {NOBODY} cannot run the binary: {e}")),
        }
    }

    fn cmd(&self, mut cmd: Command) -> Command {
        use std::os::unix::process::CommandExt;
        if self.root {
            cmd.uid(NOBODY).gid(NOBODY);
        }
        cmd
    }
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn wal_files(db: &Path) -> [PathBuf; 2] {
    [
        PathBuf::from(format!("{}-wal", db.display())),
        PathBuf::from(format!("{}-shm", db.display())),
    ]
}

#[test]
fn a_read_only_database_or_directory_fails_clearly_and_changes_nothing() {
    let w = World::new(40);
    let user = Unprivileged::detect(w.dir.path());
    if let Err(why) = user.usable() {
        crate::common::skip_or_fail(
            "a_read_only_database_or_directory_fails_clearly_and_changes_nothing",
            &why,
            "run the tests as root (they then run the binary as uid 65534) or as an unprivileged user",
        );
        return;
    }
    let dir = w.path("history");
    std::fs::create_dir(&dir).expect("mkdir");
    let db = dir.join("h.db");
    crate::common::run(&mut snapshot_cmd(&db, &w.base_url(), &[])).ok();
    let [wal, shm] = wal_files(&db);
    user.own(&[w.dir.path(), &dir, &db, &wal, &shm]);
    let before = std::fs::read(&db).expect("read db");

    // The file is read-only.
    chmod(&db, 0o400);
    let requests = w.server().request_count();
    let run = crate::common::run(&mut user.cmd(snapshot_cmd(&db, &w.base_url(), &[])));
    run.fails_with(1).stderr_has("read-only");
    assert_eq!(
        w.server().request_count(),
        requests,
        "a read-only history is refused before collecting"
    );
    assert_eq!(std::fs::read(&db).expect("read db"), before);
    chmod(&db, 0o600);

    // The directory is read-only: a new database cannot be created there...
    chmod(&dir, 0o500);
    let fresh = dir.join("new.db");
    let run = crate::common::run(&mut user.cmd(snapshot_cmd(&fresh, &w.base_url(), &[])));
    run.fails_with(1).stderr_has("read-only");
    assert!(!fresh.exists(), "no file was created");
    // ...and the existing one cannot get its write-ahead log.
    let run = crate::common::run(&mut user.cmd(snapshot_cmd(&db, &w.base_url(), &[])));
    assert_ne!(run.code, 0, "a snapshot cannot be written: {}", run.stdout);
    assert!(
        run.stderr.contains("read-only") || run.stderr.contains("permission"),
        "names the cause: {}",
        run.stderr
    );
    chmod(&dir, 0o700);
    assert_eq!(std::fs::read(&db).expect("read db"), before);
    assert_eq!(assert_sound(&w, &db, "after read-only attempts"), 1);
    crate::common::run(&mut snapshot_cmd(&db, &w.base_url(), &[])).ok();
}

#[test]
fn foreign_files_and_newer_schemas_are_refused_and_left_alone() {
    let w = World::new(20);
    // Not SQLite at all.
    let notes = w.path("notes.db");
    let text = "meeting notes, definitely not a database\n".repeat(300);
    std::fs::write(&notes, &text).expect("write notes");
    for args in [&["verify"][..], &["snapshots"][..]] {
        crate::common::run(
            Command::new(env!("CARGO_BIN_EXE_retool-audit"))
                .arg("--db")
                .arg(&notes)
                .args(args),
        )
        .fails_with(2)
        .stderr_has("not a retool-audit database");
    }
    crate::common::run(&mut snapshot_cmd(&notes, &w.base_url(), &[]))
        .fails_with(2)
        .stderr_has("not a retool-audit database");
    assert_eq!(std::fs::read_to_string(&notes).expect("read"), text);

    // SQLite, but another program's database: every command that opens the
    // history refuses it with exit 2 (the user must pass another --db), and
    // the file is left byte for byte as it was.
    let other = w.path("other-app.sqlite");
    {
        let conn = rusqlite::Connection::open(&other).expect("create other-app.sqlite");
        conn.execute_batch(
            "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL);
             INSERT INTO invoices (total) VALUES (12.5), (99.0);",
        )
        .expect("fill other-app.sqlite");
    }
    let theirs = std::fs::read(&other).expect("read other-app.sqlite");
    let out = w.path("never");
    let out = out.to_str().expect("utf-8 path");
    for args in [
        &["snapshots"][..],
        &["verify"][..],
        &["report", "--out", out][..],
        &["prune", "--keep-days", "30"][..],
        &["review", "status"][..],
        &["review", "start", "--out", out][..],
    ] {
        crate::common::run(
            Command::new(env!("CARGO_BIN_EXE_retool-audit"))
                .arg("--db")
                .arg(&other)
                .args(args),
        )
        .fails_with(2)
        .stderr_has("belongs to another program");
        assert!(
            std::fs::read(&other).expect("read other-app.sqlite") == theirs,
            "`{}` modified another program's database",
            args.join(" ")
        );
    }
    crate::common::run(&mut snapshot_cmd(&other, &w.base_url(), &[]))
        .fails_with(2)
        .stderr_has("belongs to another program");
    assert!(
        std::fs::read(&other).expect("read other-app.sqlite") == theirs,
        "`snapshot` modified another program's database"
    );
    assert!(!Path::new(out).exists(), "no report was written");

    // Written by a newer retool-audit.
    w.snapshot(&["--no-user-grants"]).ok();
    {
        let conn = rusqlite::Connection::open(&w.db).expect("open");
        conn.pragma_update(None, "user_version", 99)
            .expect("set user_version");
    }
    let before = std::fs::read(&w.db).expect("read db");
    w.snapshot(&["--no-user-grants"])
        .fails_with(2)
        .stderr_has("upgrade retool-audit");
    w.run(&["verify"]).fails_with(2).stderr_has("upgrade");
    assert_eq!(std::fs::read(&w.db).expect("read db"), before);
}

/// A 1 MiB tmpfs mounted for the test's lifetime, unmounted on drop.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(dir: PathBuf) -> Result<SmallDisk, String> {
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs"])
            .arg(&dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() {
            Ok(SmallDisk { dir })
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

#[test]
fn a_full_disk_fails_cleanly_and_keeps_the_previous_snapshot() {
    let small = World::new(30);
    let disk = match SmallDisk::mount(small.path("disk")) {
        Ok(d) => d,
        Err(why) => {
            crate::common::skip_or_fail(
                "a_full_disk_fails_cleanly_and_keeps_the_previous_snapshot",
                &format!("cannot mount a small tmpfs ({why})"),
                "run the tests as root where mount is allowed (.ci/run runs as root)",
            );
            return;
        }
    };
    let db = disk.dir.join("h.db");
    crate::common::run(&mut snapshot_cmd(&db, &small.base_url(), &[])).ok();
    let big = World::new(4_000);
    let run = crate::common::run(&mut snapshot_cmd(&db, &big.base_url(), &[]));
    run.fails_with(1).stderr_has("is full; free some space");
    assert!(
        run.stderr.contains("unchanged") || run.stderr.contains("nothing was written"),
        "says the history is unchanged: {}",
        run.stderr
    );
    assert_eq!(assert_sound(&small, &db, "after a full disk"), 1);
    drop(disk);
}

// ------------------------------------------------------- secrets and permissions

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            all_files(&path, out);
        }
        out.push(path);
    }
}

#[test]
fn the_token_stays_secret_and_every_file_is_private() {
    let w = World::demo();
    let token_file = w.path("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).expect("write token");
    chmod(&token_file, 0o644);
    let run = crate::common::run(
        w.cmd()
            .env_remove("RETOOL_API_TOKEN")
            .args([
                "-vvv",
                "snapshot",
                "--base-url",
                &w.base_url(),
                "--token-file",
            ])
            .arg(&token_file),
    );
    run.ok().stderr_has("chmod 600");
    let out = w.path("reports");
    let report = w.run(&[
        "-vvv",
        "report",
        "--format",
        "csv,xlsx,html,json",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    report.ok();
    for (name, text) in [
        ("snapshot stdout", &run.stdout),
        ("snapshot stderr", &run.stderr),
        ("report stdout", &report.stdout),
        ("report stderr", &report.stderr),
    ] {
        assert!(!text.contains(TOKEN), "token leaked in {name}");
    }
    assert_eq!(mode(&w.db), 0o600, "the database is private");
    let mut files = Vec::new();
    all_files(w.dir.path(), &mut files);
    for path in files {
        if path == token_file {
            continue;
        }
        if path.is_dir() {
            if path.starts_with(&out) {
                assert_eq!(mode(&path), 0o700, "{}", path.display());
            }
            continue;
        }
        let bytes = std::fs::read(&path).expect("read");
        assert!(
            !bytes
                .windows(TOKEN.len())
                .any(|win| win == TOKEN.as_bytes()),
            "token found in {}",
            path.display()
        );
        if path.starts_with(&out) || path.starts_with(&w.db) {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
    assert_eq!(mode(&out), 0o700, "the report directory is private");
}
