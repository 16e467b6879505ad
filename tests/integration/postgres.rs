//! The PostgreSQL backend's foundation (issue 16) against a real server: the
//! one `.ci/run` starts (`.ci/postgres.sh`; its URL in
//! `RETOOL_AUDIT_TEST_POSTGRES`, the password in
//! `RETOOL_AUDIT_TEST_POSTGRES_PASSWORD`). Under CI a missing server fails;
//! locally these tests skip with a line saying how to start one.

use std::collections::BTreeMap;

use retool_audit::store::postgres::{PasswordSources, PgError, PgTarget, SCHEMA_VERSION};

/// The test server's URL and password, or `None` (skipped) outside CI.
fn server() -> Option<(String, String)> {
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
struct Database {
    admin: String,
    password: String,
    name: String,
    url: String,
}

impl Database {
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

/// The commands do not run on PostgreSQL yet: the URL is refused (exit 2,
/// nothing created, the password not echoed) rather than taken for a file.
#[test]
fn the_commands_refuse_a_postgres_url_for_now() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["snapshots"],
        vec!["verify"],
        vec!["report", "--out", "r"],
        vec!["verify-report", "r"],
    ] {
        let run = crate::common::run(
            std::process::Command::new(env!("CARGO_BIN_EXE_retool-audit"))
                .current_dir(dir.path())
                .args(["--db", "postgres://audit:hunter2@db.example.com/history"])
                .args(&args),
        );
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("PostgreSQL backend is not finished"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
