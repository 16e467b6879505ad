//! Stage `postgres` (issue 16): the same work on PostgreSQL and on SQLite,
//! measured in the same run — the first and an unchanged snapshot write,
//! `state_at`, the report in every format through the binary, and 8 orgs
//! collected at once into one database against one after another.
//!
//! Needs the PostgreSQL test server (`source .ci/postgres.sh &&
//! retool_audit_pg_start`); without it the stage says so and is skipped.
//! The CPU figures are this process's: the server's work is not in them.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use chrono::{TimeZone, Utc};
use retool_audit::fake::{FakeConfig, FakeOrg, FakeServer, OrgSpec};
use retool_audit::store::Store;
use retool_audit::store::postgres::{PasswordSources, PgTarget};

use super::measure::*;
use super::stages::{Lcg, info_at, mutate, offline};
use super::*;

/// A fresh database on the test server, dropped again by [`Server::drop_all`].
struct Server {
    admin: String,
    password: String,
    made: Vec<String>,
}

impl Server {
    fn from_env() -> Option<Server> {
        Some(Server {
            admin: std::env::var("RETOOL_AUDIT_TEST_POSTGRES").ok()?,
            password: std::env::var("RETOOL_AUDIT_TEST_POSTGRES_PASSWORD").ok()?,
            made: Vec::new(),
        })
    }

    fn client(&self) -> Result<::postgres::Client> {
        let sources = PasswordSources {
            env: Some(self.password.clone()),
            ..PasswordSources::default()
        };
        Ok(PgTarget::parse(&self.admin, &sources)?.connect()?)
    }

    /// A new database; its URL (without the password) and with it.
    fn database(&mut self, name: &str) -> Result<(String, String)> {
        let name = format!("bench_{name}_{}", std::process::id());
        let mut c = self.client()?;
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))?;
        c.batch_execute(&format!("CREATE DATABASE {name}"))?;
        self.made.push(name.clone());
        let base = self
            .admin
            .rsplit_once('/')
            .map(|(b, _)| b)
            .context("admin URL")?;
        let url = format!("{base}/{name}");
        let with = url.replacen(
            "retool_audit@",
            &format!("retool_audit:{}@", self.password),
            1,
        );
        Ok((url, with))
    }

    fn drop_all(&mut self) {
        if let Ok(mut c) = self.client() {
            for name in self.made.drain(..) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

pub(crate) fn stage_postgres(
    rt: &tokio::runtime::Runtime,
    size: Size,
    org: &FakeOrg,
    dir: &Path,
) -> Result<()> {
    let Some(mut server) = Server::from_env() else {
        println!(
            "{:<3} postgres skipped: no PostgreSQL server (source .ci/postgres.sh && retool_audit_pg_start)",
            size.name()
        );
        return Ok(());
    };
    let result = run(rt, size, org, dir, &mut server);
    server.drop_all();
    result
}

fn run(
    rt: &tokio::runtime::Runtime,
    size: Size,
    org: &FakeOrg,
    dir: &Path,
    server: &mut Server,
) -> Result<()> {
    let name = size.name();
    let start = Utc
        .with_ymd_and_hms(2026, 6, 1, 2, 0, 0)
        .single()
        .context("start date")?;
    let file = dir.join(format!("pg-compare-{name}.db"));
    let (url, url_with) = server.database(&format!("write_{}", name.to_lowercase()))?;

    // Writes: the first snapshot, an unchanged one, a changed one.
    let mut collected = offline(org, start);
    let mut seconds = Vec::new();
    for (label, path) in [
        ("SQLite", file.as_path()),
        ("PostgreSQL", Path::new(&url_with)),
    ] {
        let mut store = Store::open(path)?;
        let m = Measure::start();
        store.write_snapshot("default", &collected)?;
        let first = m.stop();
        let mut unchanged = collected.clone();
        unchanged.info = info_at(start + chrono::Duration::days(1));
        let m = Measure::start();
        store.write_snapshot("default", &unchanged)?;
        let second = m.stop();
        line(
            name,
            "postgres",
            &format!("first write, {label}"),
            &first,
            "",
        );
        line(
            name,
            "postgres",
            &format!("unchanged write, {label}"),
            &second,
            "",
        );
        seconds.push((first.wall, second.wall));
    }
    let (sqlite, pg) = (seconds[0], seconds[1]);
    println!(
        "      first write: PostgreSQL {:.2}× SQLite; unchanged write: {:.2}×",
        pg.0.as_secs_f64() / sqlite.0.as_secs_f64(),
        pg.1.as_secs_f64() / sqlite.1.as_secs_f64()
    );

    // A changed night, then state_at and the report on both.
    mutate(&mut collected.state, &mut Lcg(7), 1);
    collected.info = info_at(start + chrono::Duration::days(2));
    let mut reads = Vec::new();
    for (label, path) in [
        ("SQLite", file.as_path()),
        ("PostgreSQL", Path::new(&url_with)),
    ] {
        let mut store = Store::open(path)?;
        let meta = store.write_snapshot("default", &collected)?;
        let m = Measure::start();
        let state = store.state_at(meta.id)?;
        let fig = m.stop();
        if state.users.len() != collected.state.users.len() {
            return Err(anyhow!("{label}: state_at read back a different state"));
        }
        line(name, "postgres", &format!("state_at, {label}"), &fig, "");
        reads.push(fig.wall);
    }
    println!(
        "      state_at: PostgreSQL {:.2}× SQLite",
        reads[1].as_secs_f64() / reads[0].as_secs_f64()
    );
    let mut reports = Vec::new();
    for (label, db) in [
        ("SQLite", file.to_string_lossy().into_owned()),
        ("PostgreSQL", url.clone()),
    ] {
        let out = dir.join(format!("pg-report-{name}-{}", label.to_lowercase()));
        let timing = dir.join("pg-report.time");
        let m = Instant::now();
        let status = std::process::Command::new("/usr/bin/time")
            .args(["-f", "%e %U %S %M", "-o"])
            .arg(&timing)
            .arg(env!("CARGO_BIN_EXE_retool-audit"))
            .args(["--quiet", "--db", &db, "report", "--since", "1"])
            .args(["--format", "csv,xlsx,html,json", "--out"])
            .arg(&out)
            .env("PGPASSWORD", &server.password)
            .status()
            .context("running /usr/bin/time retool-audit report")?;
        let wall = m.elapsed();
        if !status.success() {
            return Err(anyhow!("report on {label} failed: {status}"));
        }
        let f: Vec<f64> = std::fs::read_to_string(&timing)?
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        let peak = f.get(3).copied().unwrap_or(0.0) / 1024.0;
        println!(
            "{name:<3} postgres report, every format, {label:<10} wall {:>8.3} s  cpu {:>8.2} s  peak RSS {peak:>7.0} MiB  (the binary)",
            wall.as_secs_f64(),
            f.get(1).copied().unwrap_or(0.0) + f.get(2).copied().unwrap_or(0.0),
        );
        reports.push(wall);
    }
    println!(
        "      report in every format: PostgreSQL {:.2}× SQLite",
        reports[1].as_secs_f64() / reports[0].as_secs_f64()
    );

    concurrent_orgs(rt, server, dir)
}

/// 8 orgs of size M collected by 8 `snapshot` processes at once into one
/// database, against the same 8 one after another into another.
fn concurrent_orgs(rt: &tokio::runtime::Runtime, server: &mut Server, dir: &Path) -> Result<()> {
    let now = Utc
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .context("now")?;
    let org = FakeOrg::generate(&OrgSpec::m(now));
    let config = FakeConfig {
        latency: LATENCY,
        ..FakeConfig::default()
    };
    let fake = rt.block_on(FakeServer::start(org, config))?;
    let base = fake.base_url();
    let (together, _) = server.database("together")?;
    let (apart, _) = server.database("apart")?;
    let password = server.password.clone();
    let snapshot = |url: &str, org: usize| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_retool-audit"));
        c.args(["--quiet", "--db", url, "snapshot", "--base-url", &base])
            .args(["--org", &format!("org{org}")])
            .env("PGPASSWORD", &password)
            .env("RETOOL_API_TOKEN", "fake-token")
            .current_dir(dir);
        c
    };
    let m = Measure::start();
    let children = (0..8)
        .map(|i| snapshot(&together, i).spawn())
        .collect::<std::io::Result<Vec<_>>>()?;
    for mut c in children {
        let status = c.wait()?;
        if !status.success() {
            return Err(anyhow!("a concurrent snapshot failed: {status}"));
        }
    }
    let at_once = m.stop().wall;
    let m = Measure::start();
    for i in 0..8 {
        let status = snapshot(&apart, i).status()?;
        if !status.success() {
            return Err(anyhow!("a sequential snapshot failed: {status}"));
        }
    }
    let in_turn = m.stop().wall;
    rt.block_on(fake.shutdown());
    println!(
        "M   postgres 8 orgs at once: {:.2} s; one after another: {:.2} s ({:.2}× faster)",
        at_once.as_secs_f64(),
        in_turn.as_secs_f64(),
        in_turn.as_secs_f64() / at_once.as_secs_f64().max(f64::EPSILON)
    );
    Ok(())
}
