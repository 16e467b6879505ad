//! The PostgreSQL backend's foundation (issue 16) against a real server: the
//! one `.ci/run` starts (`.ci/postgres.sh`; its URL in
//! `RETOOL_AUDIT_TEST_POSTGRES`, the password in
//! `RETOOL_AUDIT_TEST_POSTGRES_PASSWORD`). Under CI a missing server fails;
//! locally these tests skip with a line saying how to start one.

use std::collections::BTreeMap;

use std::path::Path;

use retool_audit::store::Store;
use retool_audit::store::postgres::{PasswordSources, PgError, PgTarget, SCHEMA_VERSION};

use crate::common::{Run, World, retool_audit};

/// The test server's URL and password, or `None` (skipped) outside CI.
pub fn server() -> Option<(String, String)> {
    match (
        std::env::var("RETOOL_AUDIT_TEST_POSTGRES"),
        std::env::var("RETOOL_AUDIT_TEST_POSTGRES_PASSWORD"),
    ) {
        (Ok(url), Ok(password)) => Some((url, password)),
        _ if std::env::var_os("CI").is_some() => panic!(
            "RETOOL_AUDIT_TEST_POSTGRES is not set: under CI the PostgreSQL test server must run \
             (.ci/run starts it with .ci/postgres.sh)"
        ),
        _ => {
            eprintln!(
                "SKIP: no PostgreSQL test server; run `source .ci/postgres.sh && \
                 retool_audit_pg_start` first to run these tests"
            );
            None
        }
    }
}

fn with_password(password: &str) -> PasswordSources {
    PasswordSources {
        env: Some(password.to_string()),
        ..PasswordSources::default()
    }
}

/// A fresh database on the test server, dropped when the guard goes.
pub struct Database {
    admin: String,
    password: String,
    name: String,
    pub url: String,
}

impl Database {
    /// A fresh database on the test server, or `None` (skipped) outside CI.
    pub fn fresh() -> Option<Database> {
        server().map(|(admin, password)| Database::new(&admin, &password))
    }

    fn new(admin: &str, password: &str) -> Database {
        let name = format!(
            "t_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let target = PgTarget::parse(admin, &with_password(password)).unwrap();
        let mut client = target.connect().unwrap();
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
        Database {
            admin: admin.to_string(),
            password: password.to_string(),
            name,
            url,
        }
    }

    fn target(&self) -> PgTarget {
        PgTarget::parse(&self.url, &with_password(&self.password)).unwrap()
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut c) = PgTarget::parse(&self.admin, &with_password(&self.password))
            .unwrap()
            .connect()
        {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Every table and view of a fresh SQLite history, with its columns in order.
fn sqlite_schema() -> BTreeMap<String, Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    drop(retool_audit::store::Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let names: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') \
             AND name NOT LIKE 'sqlite_%'",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    names
        .into_iter()
        .map(|t| {
            let columns = conn
                .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            (t, columns)
        })
        .collect()
}

#[test]
fn the_schema_has_sqlite_s_tables_views_and_columns() {
    let Some((url, password)) = server() else {
        return;
    };
    let db = Database::new(&url, &password);
    let mut client = db.target().open().unwrap();
    let mut pg: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in client
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
            &[],
        )
        .unwrap()
    {
        let (table, column): (String, String) = (row.get(0), row.get(1));
        // SQLite's rowid is implicit; PostgreSQL's is a column.
        if column != "rowid" {
            pg.entry(table).or_default().push(column);
        }
    }
    assert_eq!(
        pg.remove("schema_version"),
        Some(vec![
            "version".into(),
            "applied_at".into(),
            "tool_version".into()
        ])
    );
    let sqlite = sqlite_schema();
    assert!(sqlite.len() > 40, "{}", sqlite.len());
    assert_eq!(pg, sqlite);

    // Opening again changes nothing; the version is recorded once.
    drop(client);
    let mut client = db.target().open().unwrap();
    let versions: Vec<i64> = client
        .query("SELECT version FROM schema_version", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, [SCHEMA_VERSION]);
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    let Some((url, password)) = server() else {
        return;
    };
    let db = Database::new(&url, &password);
    let mut client = db.target().open().unwrap();
    client
        .batch_execute(
            "INSERT INTO schema_version VALUES (99, '2030-01-01T00:00:00Z', '9.9.9'); \
             CREATE TABLE from_the_future (x BIGINT)",
        )
        .unwrap();
    drop(client);
    let err = db
        .target()
        .open()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("schema version 99") && err.contains(&format!("supports ({SCHEMA_VERSION})")),
        "{err}"
    );
    assert!(err.contains(&db.name) && !err.contains(&password), "{err}");
    let mut client = db.target().connect().unwrap();
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'from_the_future'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 1);
}

#[test]
fn connection_errors_name_the_server_and_never_the_password() {
    let Some((url, password)) = server() else {
        return;
    };
    let shown = url.clone();
    // A refused password.
    let wrong = "not-the-password-42";
    let err = PgTarget::parse(&url, &with_password(wrong))
        .unwrap()
        .connect()
        .err();
    let text = err.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(matches!(err, Some(PgError::Password { .. })), "{text}");
    assert!(text.contains(&shown) && !text.contains(wrong), "{text}");
    // A database that does not exist.
    let missing = format!("{}/no_such_db", url.rsplit_once('/').unwrap().0);
    let err = PgTarget::parse(&missing, &with_password(&password))
        .unwrap()
        .connect()
        .err();
    let text = err.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(
        matches!(err, Some(PgError::MissingDatabase { .. })),
        "{text}"
    );
    assert!(
        text.contains("createdb") && !text.contains(&password),
        "{text}"
    );
    // Nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nowhere = format!("postgres://retool_audit@127.0.0.1:{port}/postgres");
    let err = PgTarget::parse(&nowhere, &with_password(&password))
        .unwrap()
        .connect()
        .err();
    assert!(matches!(err, Some(PgError::Unreachable { .. })), "{err:?}");
    // TLS asked of a server that offers none.
    let tls = format!("{url}?sslmode=require");
    let err = PgTarget::parse(&tls, &with_password(&password))
        .unwrap()
        .connect()
        .err();
    let text = err.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(matches!(err, Some(PgError::Tls { .. })), "{text}");
    assert!(text.contains("require"), "{text}");
}

/// A URL with a password is never echoed: a server that cannot be reached
/// is named without it (exit 1), and nothing is created where the command ran.
#[test]
fn a_password_in_the_url_is_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["snapshots"],
        vec!["verify"],
        vec!["report", "--out", "r"],
    ] {
        let run = crate::common::run(
            std::process::Command::new(env!("CARGO_BIN_EXE_retool-audit"))
                .current_dir(dir.path())
                .env_remove("PGPASSWORD")
                .args(["--db", "postgres://audit:hunter2@127.0.0.1:1/history"])
                .args(&args),
        );
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(
                "cannot reach the PostgreSQL server postgres://audit@127.0.0.1:1/history"
            ),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("hunter2") && !run.stdout.contains("hunter2"));
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

impl Database {
    /// The URL with the password in it, for this test process's own store.
    fn url_with_password(&self) -> String {
        self.url.replacen(
            "retool_audit@",
            &format!("retool_audit:{}@", self.password),
            1,
        )
    }

    /// The binary with `--db` this database and its password in `PGPASSWORD`.
    fn cmd(&self) -> std::process::Command {
        let mut c = retool_audit(Path::new(&self.url));
        c.env("PGPASSWORD", &self.password);
        c
    }

    fn run(&self, args: &[&str]) -> Run {
        let run = crate::common::run(self.cmd().args(args));
        assert!(
            !run.stdout.contains(&self.password) && !run.stderr.contains(&self.password),
            "the password was printed"
        );
        run
    }

    fn store(&self) -> Store {
        Store::open_existing(Path::new(&self.url_with_password())).unwrap()
    }

    /// Runs SQL on the database, as someone with `psql` would.
    fn sql(&self, sql: &str) {
        let target = PgTarget::parse(&self.url, &with_password(&self.password)).unwrap();
        target.connect().unwrap().batch_execute(sql).unwrap();
    }
}

/// Every CSV of a report directory, by name.
fn csvs(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir.join("csv"))
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// The same collections into a SQLite file and into PostgreSQL give the same
/// history: the same states, the same report tables (but for the times of
/// the collections), `verify` clean on both; `snapshots` lists them alike.
#[test]
fn the_commands_give_the_same_answers_on_postgres_as_on_sqlite() {
    let Some(db) = Database::fresh() else {
        return;
    };
    let world = World::demo();
    let base = world.base_url();
    let snapshot = ["snapshot", "--base-url", base.as_str()];
    world.run(&snapshot).ok();
    db.run(&snapshot).ok();
    world.server().update_org(|o| o.apply_scripted_changes());
    world.run(&snapshot).ok();
    db.run(&snapshot).ok();
    // A third state, so that the period report walks a snapshot in between.
    let promoted = world.promote_someone();
    world.run(&snapshot).ok();
    db.run(&snapshot).ok();

    let (file, pg) = (world.store(), db.store());
    assert!(pg.is_postgres() && !file.is_postgres());
    let (file_snaps, pg_snaps) = (file.snapshots(None).unwrap(), pg.snapshots(None).unwrap());
    assert_eq!(pg_snaps.len(), 3);
    assert_eq!(
        pg_snaps.iter().map(|m| m.id).collect::<Vec<_>>(),
        file_snaps.iter().map(|m| m.id).collect::<Vec<_>>()
    );
    for (f, p) in file_snaps.iter().zip(&pg_snaps) {
        assert_eq!(pg.state_at(p.id).unwrap(), file.state_at(f.id).unwrap());
        assert_eq!(p.counts, f.counts);
        // The chain's hash is computed from what was read back.
        assert_eq!(
            p.sha256,
            retool_audit::store::content_hash(
                p.prev_sha256.as_deref(),
                &p.info,
                &pg.state_at(p.id).unwrap()
            )
        );
    }
    db.run(&["verify"]).ok();
    world.run(&["verify"]).ok();
    let listed = db.run(&["snapshots"]);
    listed.ok();
    assert_eq!(
        listed.stdout.lines().count(),
        world.run(&["snapshots"]).stdout.lines().count()
    );

    let (out_file, out_pg) = (world.path("r-file"), world.path("r-pg"));
    let since = ["--since", "1", "--format", "csv,json"];
    world
        .run(
            &[
                &["report", "--out", out_file.to_str().unwrap()][..],
                &since[..],
            ]
            .concat(),
        )
        .ok();
    // The password in the URL this time: accepted, and shown nowhere.
    let url_with_password = db.url_with_password();
    let report = crate::common::run(
        retool_audit(Path::new(&url_with_password))
            .env_remove("PGPASSWORD")
            .args(["report", "--out", out_pg.to_str().unwrap()])
            .args(since),
    );
    report.ok();
    // verify-report checks the directory against the history in PostgreSQL.
    db.run(&["verify-report", out_pg.to_str().unwrap()]).ok();
    crate::common::assert_nowhere(
        &[db.password.as_str()],
        &crate::common::every_file(&out_pg),
        &format!("{}{}", report.stdout, report.stderr),
    );
    let (mut a, mut b) = (csvs(&out_file), csvs(&out_pg));
    // The evidence names the history and the command line: the URL without
    // its password.
    let evidence = b.remove("evidence.csv").unwrap();
    a.remove("evidence.csv");
    assert!(
        evidence.contains(&format!(
            "--db {} report",
            db.url.replacen("retool_audit@", "retool_audit:***@", 1)
        )),
        "{evidence}"
    );
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    // The collections' own times (and so the snapshots' hashes) differ
    // between the two runs: each run's are replaced by placeholders (the ids
    // and order still compare).
    let times = |t: &str, snaps: &[retool_audit::model::SnapshotMeta]| {
        let mut out = t.to_string();
        for m in snaps {
            for at in [&m.info.started_at, &m.info.finished_at] {
                out = out.replace(&retool_audit::report::format_time(at), "<collected>");
            }
            // A snapshot's hash covers its collection's times.
            out = out.replace(&m.sha256, &format!("<sha256 of {}>", m.id));
        }
        out
    };
    let mut same = 0;
    for (name, text) in &a {
        let (x, y) = (times(text, &file_snaps), times(&b[name], &pg_snaps));
        let first = x.lines().zip(y.lines()).find(|(x, y)| x != y);
        assert!(x == y, "{name} differs: {first:?}");
        same += 1;
    }
    assert!(same >= 25, "{same} tables compared");
    // The PostgreSQL report walked the snapshot in between (store::period).
    assert!(
        evidence.contains("changes_compared,\"every snapshot in between, each with the next\""),
        "{evidence}"
    );

    // The documented example queries (docs/schema.md) run on both, with the
    // same number of rows (snapshot 42 read as the latest).
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema.md"))
        .unwrap();
    let block = doc
        .split("```sql")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let latest = pg_snaps[2].id.to_string();
    let sqlite = rusqlite::Connection::open(&world.db).unwrap();
    let mut client = PgTarget::parse(&db.url, &with_password(&db.password))
        .unwrap()
        .connect()
        .unwrap();
    let mut nonzero = 0;
    for statement in block
        .split(';')
        .map(str::trim)
        .filter(|q| q.contains("SELECT"))
    {
        let query = statement
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n")
            .replace("42", &latest);
        let count = format!("SELECT count(*) FROM ({query}) AS q");
        let on_file: i64 = sqlite.query_row(&count, [], |r| r.get(0)).unwrap();
        let on_pg: i64 = client.query_one(&count, &[]).unwrap().get(0);
        assert_eq!(on_pg, on_file, "{query}");
        nonzero += usize::from(on_pg > 0);
    }
    assert!(nonzero >= 3, "the examples should find rows in the demo");

    // The history's questions: the same answers from both.
    let now = retool_audit::report::format_time(&chrono::Utc::now());
    let group = pg.state_at(pg_snaps[2].id).unwrap().groups[0].name.clone();
    for question in [
        vec!["timeline", "--user", promoted.as_str(), "--format", "csv"],
        vec!["timeline", "--group", group.as_str(), "--format", "csv"],
        vec![
            "access-at",
            "--at",
            now.as_str(),
            "--user",
            promoted.as_str(),
            "--format",
            "csv",
        ],
    ] {
        let (x, y) = (world.run(&question), db.run(&question));
        x.ok();
        y.ok();
        let (x, y) = (times(&x.stdout, &file_snaps), times(&y.stdout, &pg_snaps));
        assert!(x.lines().count() > 1, "{question:?}: {x}");
        assert_eq!(x, y, "{question:?}");
    }
}

/// A row edited by SQL is caught by `verify` (exit 1, naming the row), as on
/// SQLite; and a row deleted with foreign keys switched off too.
#[test]
fn verify_catches_a_row_edited_by_sql_on_postgres() {
    let Some(db) = Database::fresh() else {
        return;
    };
    let world = World::new(30);
    db.run(&["snapshot", "--base-url", &world.base_url()]).ok();
    db.run(&["verify"]).ok();
    db.sql("UPDATE users SET email = 'mallory@evil.example' WHERE user_id = (SELECT min(user_id) FROM users)");
    let run = db.run(&["verify"]);
    run.fails_with(1);
    assert!(
        run.stdout.contains("users row") || run.stderr.contains("users row"),
        "{run:?}"
    );
}

/// Eight `snapshot` processes for eight orgs at once, and three for one org:
/// every run succeeds, the one org's runs are serialized by its advisory
/// lock (a chain of three, not a fork), and `verify` passes.
#[test]
fn concurrent_snapshots_of_many_orgs_and_of_one_org() {
    let Some(db) = Database::fresh() else {
        return;
    };
    let world = World::new(300);
    let base = world.base_url();
    let spawn = |org: &str| {
        db.cmd()
            .args([
                "snapshot",
                "--base-url",
                &base,
                "--org",
                org,
                "--lock-timeout",
                "300",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut children: Vec<_> = (0..8).map(|i| spawn(&format!("org{i}"))).collect();
    children.extend((0..3).map(|_| spawn("shared")));
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let store = db.store();
    let all = store.snapshots(None).unwrap();
    assert_eq!(all.len(), 11);
    for i in 0..8 {
        let org = format!("org{i}");
        let snaps = store.snapshots(Some(&org)).unwrap();
        assert_eq!(snaps.len(), 1, "{org}");
        assert_eq!(snaps[0].prev_sha256, None);
        assert_eq!(store.state_at(snaps[0].id).unwrap(), world.expected());
    }
    let shared = store.snapshots(Some("shared")).unwrap();
    assert_eq!(shared.len(), 3);
    assert_eq!(shared[0].prev_sha256, None);
    assert_eq!(
        shared[1].prev_sha256.as_deref(),
        Some(shared[0].sha256.as_str())
    );
    assert_eq!(
        shared[2].prev_sha256.as_deref(),
        Some(shared[1].sha256.as_str())
    );
    let verify = db.run(&["verify"]);
    verify.ok();
    assert!(
        verify.stdout.contains("verified 11 snapshot(s)"),
        "{}",
        verify.stdout
    );
}

/// A run that finds the org's lock held waits `--lock-timeout`, then fails
/// (exit 1) naming the holder, having collected and written nothing; once the
/// holder is gone the next run goes ahead.
#[test]
fn a_held_org_lock_names_its_holder_and_writes_nothing() {
    let Some(db) = Database::fresh() else {
        return;
    };
    let world = World::new(20);
    let holder = db.store();
    holder.lock_org("acme", std::time::Duration::ZERO).unwrap();
    let run = db.run(&[
        "snapshot",
        "--base-url",
        &world.base_url(),
        "--org",
        "acme",
        "--lock-timeout",
        "1",
    ]);
    run.fails_with(1);
    let me = format!("pid {}", std::process::id());
    assert!(
        run.stderr
            .contains("another retool-audit run (retool-audit ")
            && run.stderr.contains(&me)
            && run.stderr.contains("is writing organization `acme`")
            && run.stderr.contains("--lock-timeout"),
        "{}",
        run.stderr
    );
    assert!(db.store().snapshots(None).unwrap().is_empty());
    // Another org is not held up: `--all` stores beta and fails acme only.
    let config = world.path("two-orgs.toml");
    std::fs::write(
        &config,
        format!(
            "[[org]]\nname = \"acme\"\nbase_url = \"{base}\"\ntoken_env = \"RETOOL_API_TOKEN\"\n\n\
             [[org]]\nname = \"beta\"\nbase_url = \"{base}\"\ntoken_env = \"RETOOL_API_TOKEN\"\n",
            base = world.base_url()
        ),
    )
    .unwrap();
    let all = db.run(&["--config", config.to_str().unwrap(), "snapshot", "--all"]);
    all.fails_with(1)
        .stderr_has("is writing organization `acme`")
        .stderr_has("1 of 2 targets failed: acme");
    assert_eq!(db.store().snapshots(Some("beta")).unwrap().len(), 1);
    assert!(db.store().snapshots(Some("acme")).unwrap().is_empty());
    drop(holder);
    db.run(&["snapshot", "--base-url", &world.base_url(), "--org", "acme"])
        .ok();
    assert_eq!(db.store().snapshots(Some("acme")).unwrap().len(), 1);
}

/// A `snapshot` killed with SIGKILL in the middle of its write leaves no
/// partial snapshot (the server rolls the transaction back when the
/// connection drops) and no held lock: the next run succeeds and verifies.
#[cfg(unix)]
#[test]
fn a_snapshot_killed_mid_write_leaves_nothing_behind() {
    let Some(db) = Database::fresh() else {
        return;
    };
    let world = World::new(20_000);
    let base = world.base_url();
    db.run(&["snapshot", "--base-url", &base, "--org", "small"])
        .ok();
    let mut child = db
        .cmd()
        .args(["snapshot", "--base-url", &base])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut watcher = PgTarget::parse(&db.url, &with_password(&db.password))
        .unwrap()
        .connect()
        .unwrap();
    let name = format!("%pid {}", child.id());
    // Killed once its write transaction has written something.
    let started = std::time::Instant::now();
    loop {
        let writing: i64 = watcher
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE $1 \
                 AND backend_xid IS NOT NULL",
                &[&name],
            )
            .unwrap()
            .get(0);
        if writing > 0 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the snapshot finished before it could be killed mid-write"
        );
        assert!(started.elapsed().as_secs() < 120, "no write began");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // The server notices the dropped connection and rolls back.
    while watcher
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE $1",
            &[&name],
        )
        .unwrap()
        .get::<_, i64>(0)
        > 0
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut count = |sql: &str| -> i64 { watcher.query_one(sql, &[]).unwrap().get(0) };
    assert_eq!(
        count("SELECT count(*) FROM snapshots"),
        1,
        "only the first snapshot"
    );
    assert_eq!(count("SELECT count(*) FROM runs"), 1);
    assert_eq!(
        count("SELECT count(*) FROM users WHERE org <> 'small'"),
        0,
        "no version of the killed snapshot"
    );
    db.run(&["snapshot", "--base-url", &base, "--lock-timeout", "0"])
        .ok();
    db.run(&["verify"]).ok();
}

/// Every snapshot's state, as JSON, by id.
fn states(store: &Store) -> BTreeMap<i64, String> {
    store
        .snapshots(None)
        .unwrap()
        .iter()
        .map(|m| {
            (
                m.id,
                serde_json::to_string(&store.state_at(m.id).unwrap()).unwrap(),
            )
        })
        .collect()
}

/// `copy-history` from a SQLite file into PostgreSQL and back: every snapshot
/// (with its id, hash and state), run, pruned-snapshot record and review
/// campaign arrives; `verify` passes on every copy; a copy that fails half
/// way holds whole snapshots only and a rerun finishes it; a target holding
/// another history is refused untouched.
#[test]
fn copy_history_both_ways_keeps_every_snapshot_identical() {
    let Some(pg) = Database::fresh() else {
        return;
    };
    let world = World::demo();
    world.snapshot(&[]).ok();
    world.server().update_org(|o| o.apply_scripted_changes());
    world.snapshot(&[]).ok();
    let review = world.path("review");
    world
        .run(&[
            "review",
            "start",
            "--out",
            review.to_str().unwrap(),
            "--name",
            "2026-Q4",
        ])
        .ok();
    // A failed attempt and a prune leave their records too.
    world
        .run(&["snapshot", "--base-url", "http://127.0.0.1:1"])
        .fails_with(1);
    world.snapshot(&[]).ok();
    world.snapshot(&[]).ok();
    world.run(&["prune", "--keep-days", "0"]).ok();
    let file = world.store();
    let original = states(&file);
    assert_eq!(original.len(), 2, "the campaign's snapshot and the latest");

    // The copy fails on the last snapshot's run row: whole snapshots only.
    let last = *original.keys().last().unwrap();
    pg.cmd().args(["snapshots"]).output().unwrap(); // creates the schema
    pg.sql(&format!(
        "CREATE FUNCTION stop() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN IF NEW.snapshot_id = {last} THEN RAISE EXCEPTION 'disk on fire'; END IF; \
         RETURN NEW; END $$; \
         CREATE TRIGGER stop BEFORE INSERT ON runs FOR EACH ROW EXECUTE FUNCTION stop();"
    ));
    let copy = |from: &Path, to: &Path| {
        crate::common::run(
            retool_audit(Path::new("unused.db"))
                .env("PGPASSWORD", &pg.password)
                .args(["copy-history", "--from"])
                .arg(from)
                .arg("--to")
                .arg(to),
        )
    };
    let to_pg = Path::new(&pg.url);
    copy(&world.db, to_pg)
        .fails_with(1)
        .stderr_has("disk on fire");
    let partial = pg.store();
    let got = states(&partial);
    assert_eq!(got.len(), original.len() - 1);
    for (id, state) in &got {
        assert_eq!(state, &original[id], "snapshot {id}");
    }
    pg.sql("DROP TRIGGER stop ON runs");
    let rerun = copy(&world.db, to_pg);
    rerun.ok();
    assert!(
        rerun.stdout.contains(&format!(
            "copied 1 snapshot(s) of 1 organization(s) from {} to {} ({} were already there)",
            world.db.display(),
            pg.url,
            original.len() - 1
        )),
        "{}",
        rerun.stdout
    );
    assert!(
        rerun.stdout.contains("1 review campaign(s)"),
        "{}",
        rerun.stdout
    );
    let on_pg = pg.store();
    assert_eq!(states(&on_pg), original);
    assert_eq!(
        on_pg.snapshots(None).unwrap(),
        file.snapshots(None).unwrap()
    );
    assert_eq!(on_pg.runs(None).unwrap(), file.runs(None).unwrap());
    assert_eq!(
        on_pg.campaign("2026-Q4", None).unwrap(),
        file.campaign("2026-Q4", None).unwrap()
    );
    pg.run(&["verify"]).ok();
    // The copy goes on like the original: the next snapshot chains on.
    pg.run(&["snapshot", "--base-url", &world.base_url()]).ok();
    pg.run(&["verify"]).ok();

    // Back into a new file: the same again.
    let back = world.path("back.db");
    copy(to_pg, &back).ok();
    let restored = Store::open_existing(&back).unwrap();
    let pg_states = states(&pg.store());
    assert_eq!(states(&restored), pg_states);
    crate::common::run(retool_audit(&back).arg("verify")).ok();

    // A target with another history is refused, untouched.
    let before = states(&restored);
    let refused = copy(&world.db, &back);
    refused.fails_with(2).stderr_has("cannot copy into");
    assert_eq!(states(&Store::open_existing(&back).unwrap()), before);
}

/// The roles docs/schema.md documents, run as written against a real server:
/// the collector snapshots, reports, verifies, reviews and prunes with rows
/// only; the BI role reads the tables and views and can change nothing.
#[test]
fn the_documented_roles_do_what_the_docs_say() {
    let Some(db) = Database::fresh() else {
        return;
    };
    let world = World::demo();
    let base = world.base_url();
    db.run(&["snapshots"]).ok(); // the owner's first open creates the tables
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema.md"))
        .unwrap();
    let section = doc.split("### Roles").nth(1).unwrap();
    let sql = section
        .split("```sql")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let suffix = db.name.trim_start_matches("t_");
    let (collector, bi) = (format!("c_{suffix}"), format!("b_{suffix}"));
    db.sql(
        &sql.replace("audit_collector", &collector)
            .replace("audit_bi", &bi)
            .replace("DATABASE audit", &format!("DATABASE {}", db.name))
            .replace("change-me", "role-password"),
    );
    let as_role = |role: &str| {
        let url = db.url.replacen("retool_audit@", &format!("{role}@"), 1);
        move |args: &[&str]| {
            crate::common::run(
                retool_audit(Path::new(&url))
                    .env("PGPASSWORD", "role-password")
                    .args(args),
            )
        }
    };
    let run = as_role(&collector);
    run(&["snapshot", "--base-url", &base]).ok();
    world.server().update_org(|o| o.apply_scripted_changes());
    run(&["snapshot", "--base-url", &base]).ok();
    run(&["verify"]).ok();
    let out = world.path("q4");
    run(&[
        "report",
        "--out",
        out.to_str().unwrap(),
        "--since",
        "1",
        "--format",
        "csv",
    ])
    .ok();
    let review = world.path("review");
    run(&[
        "review",
        "start",
        "--out",
        review.to_str().unwrap(),
        "--name",
        "Q4",
    ])
    .ok();
    run(&["prune", "--keep-days", "0"]).ok();

    let bi_url = db.url.replacen("retool_audit@", &format!("{bi}@"), 1);
    let mut reader = PgTarget::parse(&bi_url, &with_password("role-password"))
        .unwrap()
        .connect()
        .unwrap();
    let admins: i64 = reader
        .query_one("SELECT count(*) FROM current_users WHERE is_admin = 1", &[])
        .unwrap()
        .get(0);
    assert!(admins > 0);
    let denied = reader.batch_execute("DELETE FROM snapshots").unwrap_err();
    assert_eq!(
        denied.code(),
        Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
        "{denied}"
    );
    // The BI role cannot snapshot either (its open finds the schema, its
    // write is refused) and the history is unchanged.
    let bi_run = as_role(&bi);
    bi_run(&["snapshot", "--base-url", &base]).fails_with(1);
    db.run(&["verify"]).ok();
}

/// The config file's `db` may be the URL and `db_password_file` its
/// password; `RETOOL_AUDIT_DB` may be the URL too.
#[test]
fn the_config_file_and_the_environment_name_the_database() {
    let Some(db) = Database::fresh() else {
        return;
    };
    let world = World::new(10);
    let secret = world.path("db-password");
    std::fs::write(&secret, format!("{}\n", db.password)).unwrap();
    let config = world.path("retool-audit.toml");
    std::fs::write(
        &config,
        format!(
            "db = \"{}\"\ndb_password_file = \"{}\"\n\n[[org]]\nname = \"acme\"\nbase_url = \"{}\"\ntoken_env = \"RETOOL_API_TOKEN\"\n",
            db.url,
            secret.display(),
            world.base_url()
        ),
    )
    .unwrap();
    let bare = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_retool-audit"));
        c.env("RETOOL_API_TOKEN", crate::common::TOKEN)
            .env_remove("PGPASSWORD")
            .env_remove("RETOOL_AUDIT_DB")
            .env_remove("PGPASSFILE")
            .env("HOME", world.path(""));
        c
    };
    crate::common::run(bare().args(["--config", config.to_str().unwrap(), "snapshot"])).ok();
    let listed = crate::common::run(
        bare()
            .env("RETOOL_AUDIT_DB", &db.url)
            .env("PGPASSWORD", &db.password)
            .args(["snapshots"]),
    );
    listed.ok();
    assert!(listed.stdout.contains("acme"), "{}", listed.stdout);
    assert_eq!(db.store().snapshots(Some("acme")).unwrap().len(), 1);
}

/// A role that may not create tables, opening an empty database first: one
/// message naming the role, the server and what to do (exit 2), nothing made.
#[test]
fn a_role_without_the_rights_to_migrate_is_told_what_to_do() {
    let Some(db) = Database::fresh() else {
        return;
    };
    let role = format!("n_{}", db.name.trim_start_matches("t_"));
    db.sql(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD 'role-password'; \
         GRANT CONNECT ON DATABASE {} TO {role}; REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
        db.name
    ));
    let url = db.url.replacen("retool_audit@", &format!("{role}@"), 1);
    let run = crate::common::run(
        retool_audit(Path::new(&url))
            .env("PGPASSWORD", "role-password")
            .arg("snapshots"),
    );
    run.fails_with(2)
        .stderr_has(&format!(
            "the role {role} may not create the history's tables in postgres://{role}@"
        ))
        .stderr_has("run the first open as a role that owns the database");
    assert!(!run.stderr.contains("role-password"));
    let mut admin = PgTarget::parse(&db.url, &with_password(&db.password))
        .unwrap()
        .connect()
        .unwrap();
    let tables: i64 = admin
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 0, "nothing was created");
}
