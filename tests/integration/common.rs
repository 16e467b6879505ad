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
        Store::open_existing(&self.db).expect("open history")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

/// The binary with `--db db`, the test token in the environment, and no
/// inherited configuration.
pub fn retool_audit(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_retool-audit"));
    c.arg("--db").arg(db);
    c.env("RETOOL_API_TOKEN", TOKEN);
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
