//! The stages: collection over loopback HTTP, the snapshot write, a year of
//! nightly history, and the reports.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, TimeZone, Utc};
use retool_audit::analyze;
use retool_audit::collect::{CollectOptions, collect};
use retool_audit::fake::{FakeConfig, FakeOrg, FakeServer};
use retool_audit::model::{
    Collected, CollectionInfo, Dialect, GroupId, Membership, ObjectRef, ObjectType, OrgState,
    SnapshotMeta, Subject,
};
use retool_audit::report::build::{ReportInput, ReportOptions, Trend, build_streamed};
use retool_audit::report::write::{Format, write_report};
use retool_audit::report::{Cell, Report, RowSource, Rows};
use retool_audit::retool::{Client, ClientConfig, Secret, resolve_api_root};
use retool_audit::store::{Scope, Store};

use super::measure::*;
use super::*;

/// Stage 1: collection over loopback with 20 ms latency a response, with
/// `options` (`label` names them when they are not the defaults).
#[allow(clippy::too_many_arguments)]
pub(crate) fn stage_collect(
    rt: &tokio::runtime::Runtime,
    size: Size,
    org: FakeOrg,
    concurrency: usize,
    page_size: Option<u64>,
    prerendered: bool,
    sequential: Option<Duration>,
    (options, label): (&CollectOptions, &str),
) -> Result<(Collected, Duration)> {
    let config = FakeConfig {
        latency: LATENCY,
        prerendered,
        ..FakeConfig::default()
    };
    let server = rt.block_on(FakeServer::start(org, config))?;
    let api_root = resolve_api_root(Some(&server.base_url()), None, Dialect::V2, false)?;
    let mut client_config =
        ClientConfig::new(api_root, Dialect::V2, Secret::new("fake-token".into()));
    client_config.concurrency = concurrency;
    client_config.page_size = page_size;
    let client = Client::new(client_config)?;
    let m = Measure::start();
    let collected = rt
        .block_on(collect(&client, options))
        .map_err(|e| anyhow!("collection failed: {e}"))?;
    let fig = m.stop();
    rt.block_on(server.shutdown());

    let total = collected.info.total_requests();
    let requests_of = |path: &str| {
        collected
            .info
            .endpoints
            .iter()
            .filter(|e| e.endpoint.ends_with(path))
            .map(|e| e.requests)
            .sum::<u64>()
    };
    // The longest chain of requests that wait for each other: the pages of a
    // paged list (users, resources, resource configurations), or `GET
    // /groups` then one `listObjects` (2).
    let chain = requests_of("/users")
        .max(requests_of("/resources"))
        .max(requests_of("/resource_configurations"))
        .max(2);
    let lat = LATENCY.as_secs_f64();
    let bound = (chain as f64).max(total as f64 / concurrency as f64) * lat;
    let wall = fig.wall.as_secs_f64();
    let speedup = match sequential {
        Some(seq) => format!(
            "; {:.1}× faster than the measured sequential run ({:.2} s)",
            seq.as_secs_f64() / wall,
            seq.as_secs_f64()
        ),
        None => String::new(),
    };
    let pages = match page_size {
        Some(n) => format!("pages of {n}"),
        None => "whole lists".to_string(),
    } + if prerendered { ", prerendered" } else { "" };
    line(
        size.name(),
        "collect",
        &format!("collect c={concurrency} (20 ms){label}"),
        &fig,
        &format!(
            "{pages}; requests {total}, chain {chain}; bound {bound:.2} s → {:.2}× bound{speedup}",
            wall / bound,
        ),
    );
    for e in &collected.info.endpoints {
        println!(
            "      endpoint {:<40} requests {:>6} records {:>7} summed {:>8} ms",
            e.endpoint, e.requests, e.records, e.duration_ms
        );
    }
    let c = collected.state.counts();
    println!("      counts {c:?}");
    Ok((collected, fig.wall))
}

/// A collection result made straight from the fake org, for the stages that do
/// not need HTTP.
pub(crate) fn offline(org: &FakeOrg, taken: DateTime<Utc>) -> Collected {
    let state = org.expected_state();
    Collected {
        state,
        info: info_at(taken),
    }
}

pub(crate) fn info_at(taken: DateTime<Utc>) -> CollectionInfo {
    CollectionInfo {
        source_url: "http://127.0.0.1:1/api/v2".to_string(),
        dialect: Dialect::V2,
        api_version: None,
        started_at: taken - chrono::Duration::seconds(60),
        finished_at: taken,
        endpoints: Vec::new(),
        expected_totals: Default::default(),
        notes: Vec::new(),
        tool_version: "bench".to_string(),
        usage_window: None,
        cross_check: None,
    }
}

pub(crate) fn rows_of(state: &OrgState) -> usize {
    state.users.len()
        + state.groups.len()
        + state.memberships.len()
        + state.folders.len()
        + state.apps.len()
        + state.resources.len()
        + state.workflows.len()
        + state.grants.len()
        + state.user_invites.len()
        + state.access_tokens.len()
}

/// The reference for stage 2: the same rows in one prepared-statement
/// transaction per table with bare rusqlite (WAL, no history logic).
pub(crate) fn bare_insert(path: &Path, s: &OrgState) -> Result<()> {
    let mut conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL;
         CREATE TABLE users (id TEXT PRIMARY KEY, email, first_name, last_name, active, is_admin, user_type, two_factor, created_at, last_active, raw);
         CREATE TABLE groups (id INTEGER PRIMARY KEY, name, raw);
         CREATE TABLE memberships (group_id, user_id, is_group_admin, PRIMARY KEY (group_id, user_id));
         CREATE TABLE objects (kind, id, name, folder_id, raw, PRIMARY KEY (kind, id));
         CREATE TABLE grants (subject_kind, subject_id, object_type, object_id, level, PRIMARY KEY (subject_kind, subject_id, object_type, object_id));
         CREATE TABLE others (kind, id, raw);",
    )?;
    let tx = conn.transaction()?;
    {
        let mut st = tx.prepare("INSERT INTO users VALUES (?,?,?,?,?,?,?,?,?,?,?)")?;
        for u in &s.users {
            st.execute(rusqlite::params![
                u.id.0,
                u.email,
                u.first_name,
                u.last_name,
                u.active,
                u.is_admin,
                u.user_type,
                u.two_factor_enabled,
                u.created_at.map(|t| t.to_rfc3339()),
                u.last_active.map(|t| t.to_rfc3339()),
                u.raw
            ])?;
        }
        let mut st = tx.prepare("INSERT INTO groups VALUES (?,?,?)")?;
        for g in &s.groups {
            st.execute(rusqlite::params![g.id.0, g.name, g.raw])?;
        }
        let mut st = tx.prepare("INSERT INTO memberships VALUES (?,?,?)")?;
        for m in &s.memberships {
            st.execute(rusqlite::params![
                m.group_id.0,
                m.user_id.0,
                m.is_group_admin
            ])?;
        }
        let mut st = tx.prepare("INSERT INTO objects VALUES (?,?,?,?,?)")?;
        for f in &s.folders {
            st.execute(rusqlite::params![
                "folder",
                f.id.0,
                f.name,
                f.parent_id.as_ref().map(|p| &p.0),
                f.raw
            ])?;
        }
        for a in &s.apps {
            st.execute(rusqlite::params![
                "app",
                a.id.0,
                a.name,
                a.folder_id.as_ref().map(|p| &p.0),
                a.raw
            ])?;
        }
        for r in &s.resources {
            st.execute(rusqlite::params![
                "resource",
                r.id.0,
                r.name,
                r.folder_id.as_ref().map(|p| &p.0),
                r.raw
            ])?;
        }
        for w in &s.workflows {
            st.execute(rusqlite::params![
                "workflow",
                w.id.0,
                w.name,
                w.folder_id.as_ref().map(|p| &p.0),
                w.raw
            ])?;
        }
        let mut st = tx.prepare("INSERT INTO grants VALUES (?,?,?,?,?)")?;
        for g in &s.grants {
            let (kind, id) = match &g.subject {
                Subject::Group(gid) => ("group", gid.0.to_string()),
                Subject::User(uid) => ("user", uid.0.clone()),
            };
            st.execute(rusqlite::params![
                kind,
                id,
                g.object.object_type.as_str(),
                g.object.id.0,
                g.level.as_str()
            ])?;
        }
        let mut st = tx.prepare("INSERT INTO others VALUES (?,?,?)")?;
        for i in &s.user_invites {
            st.execute(rusqlite::params!["invite", i.id.to_string(), i.raw])?;
        }
        for t in &s.access_tokens {
            st.execute(rusqlite::params!["token", t.id, t.raw])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Stage 2: one snapshot into a fresh file vs bare insert; then an unchanged one.
pub(crate) fn stage_write(size: Size, collected: &Collected, dir: &Path) -> Result<()> {
    let db = dir.join(format!("write-{}.db", size.name()));
    let bare = dir.join(format!("bare-{}.db", size.name()));
    let rows = rows_of(&collected.state);

    let m = Measure::start();
    bare_insert(&bare, &collected.state)?;
    let bare_fig = m.stop();
    let bare_bytes = db_bytes(&bare);

    let mut store = Store::open(&db)?;
    let m = Measure::start();
    store.write_snapshot("default", collected)?;
    let fig = m.stop();
    let one_raw = db_bytes(&db);
    let one = checkpointed_bytes(&db)?;
    line(
        size.name(),
        "write",
        &format!("bare rusqlite insert ({rows} rows)"),
        &bare_fig,
        &format!("db+wal {:.1} MiB", mib(bare_bytes)),
    );
    line(
        size.name(),
        "write",
        "Store::write_snapshot (fresh file)",
        &fig,
        &format!(
            "{:.2}× bare insert; db+wal {:.1} MiB as written, {:.1} MiB checkpointed",
            fig.wall.as_secs_f64() / bare_fig.wall.as_secs_f64(),
            mib(one_raw),
            mib(one)
        ),
    );

    let mut again = collected.clone();
    again.info = info_at(collected.info.finished_at + chrono::Duration::days(1));
    let m = Measure::start();
    store.write_snapshot("default", &again)?;
    let fig = m.stop();
    let two_raw = db_bytes(&db);
    let two = checkpointed_bytes(&db)?;
    line(
        size.name(),
        "write",
        "unchanged 2nd snapshot",
        &fig,
        &format!(
            "growth {} bytes checkpointed (db+wal as written: {} → {} bytes)",
            two as i64 - one as i64,
            one as i64,
            two_raw as i64
        ),
    );
    // A night on which every user's usage figures changed (the realistic
    // worst case for usage: anyone active in the window moves every night).
    let mut moved = again.clone();
    moved.info = info_at(again.info.finished_at + chrono::Duration::days(1));
    for u in &mut moved.state.usage {
        u.app_views += 1;
    }
    let m = Measure::start();
    store.write_snapshot("default", &moved)?;
    let fig = m.stop();
    let three = checkpointed_bytes(&db)?;
    line(
        size.name(),
        "write",
        "3rd snapshot, every usage figure changed",
        &fig,
        &format!(
            "growth {} bytes checkpointed for {} usage rows",
            three as i64 - two as i64,
            moved.state.usage.len()
        ),
    );
    // The same growth after the connection is closed (SQLite checkpoints the WAL
    // into the db and removes it when the last connection closes).
    drop(store);
    let closed = db_bytes(&db);
    println!(
        "      after close: db {} bytes, wal+shm {} bytes (1st snapshot alone, checkpointed: {} bytes)",
        file_size(&db),
        closed - file_size(&db),
        one
    );
    Ok(())
}

/// A tiny deterministic generator for the nightly changes.
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One night of churn: ~0.2 % of users change (half flip `active`, half change
/// a name) and ~0.2 % of memberships change (half removed, half added).
pub(crate) fn mutate(state: &mut OrgState, rng: &mut Lcg, night: usize) {
    let users = (state.users.len() / 500).max(1);
    for k in 0..users {
        let i = rng.below(state.users.len());
        let u = &mut state.users[i];
        if k % 2 == 0 {
            let (from, to) = if u.active {
                ("\"active\":true", "\"active\":false")
            } else {
                ("\"active\":false", "\"active\":true")
            };
            u.active = !u.active;
            u.raw = u.raw.replace(from, to);
        } else {
            let new = format!("Renamed{night}x{k}");
            if let Some(old) = u.first_name.replace(new.clone()) {
                u.raw = u.raw.replace(&old, &new);
            }
        }
    }
    let changes = (state.memberships.len() / 500).max(2);
    for _ in 0..changes / 2 {
        let i = rng.below(state.memberships.len());
        state.memberships.swap_remove(i);
    }
    let groups: Vec<GroupId> = state.groups.iter().map(|g| g.id).collect();
    for _ in 0..changes / 2 {
        let user = state.users[rng.below(state.users.len())].id.clone();
        let group_id = groups[rng.below(groups.len())];
        state.memberships.push(Membership {
            group_id,
            user_id: user,
            is_group_admin: false,
        });
    }
    state.memberships.sort();
    state
        .memberships
        .dedup_by(|a, b| a.group_id == b.group_id && a.user_id == b.user_id);
}

/// Stage 3: nightly snapshots with churn; size, state_at and changes.
pub(crate) fn stage_year(
    size: Size,
    org: &FakeOrg,
    dir: &Path,
    nights: usize,
    budget: Duration,
) -> Result<()> {
    let db = dir.join(format!("year-{}.db", size.name()));
    let mut store = Store::open(&db)?;
    let start = Utc
        .with_ymd_and_hms(2026, 1, 1, 2, 0, 0)
        .single()
        .context("start date")?;
    let mut collected = offline(org, start);
    let mut rng = Lcg(0x5eed);
    let mut metas: Vec<SnapshotMeta> = Vec::new();
    let mut single = 0;
    let m = Measure::start();
    let mut write_time = Duration::ZERO;
    let mut slowest = Duration::ZERO;
    for night in 0..nights {
        if night > 0 {
            mutate(&mut collected.state, &mut rng, night);
            collected.info = info_at(start + chrono::Duration::days(night as i64));
        }
        let t = Instant::now();
        metas.push(store.write_snapshot("default", &collected)?);
        let took = t.elapsed();
        write_time += took;
        slowest = slowest.max(took);
        if night == 0 {
            single = checkpointed_bytes(&db)?;
        }
        if night > 0 && night % 30 == 0 {
            println!(
                "      night {night}: db+wal {:.1} MiB, last write {:.3} s",
                mib(db_bytes(&db)),
                took.as_secs_f64()
            );
        }
        if m.wall.elapsed() > budget && night + 1 < nights {
            println!(
                "      stopping after {} nights: the {} s budget is spent",
                night + 1,
                budget.as_secs()
            );
            break;
        }
    }
    let fig = m.stop();
    let done = metas.len();
    let final_bytes = checkpointed_bytes(&db)?;
    drop(store);
    let store = Store::open_existing(&db)?;
    let per_night = (final_bytes.saturating_sub(single)) as f64 / (done.max(2) - 1) as f64;
    let extrapolated = single as f64 + per_night * (nights.max(1) - 1) as f64;
    line(
        size.name(),
        "year",
        &format!("{done} nightly snapshots"),
        &fig,
        &format!(
            "mean write {:.3} s, slowest {:.3} s; db {:.1} MiB = {:.2}× one snapshot ({:.1} MiB)",
            write_time.as_secs_f64() / done.max(1) as f64,
            slowest.as_secs_f64(),
            mib(final_bytes),
            final_bytes as f64 / single.max(1) as f64,
            mib(single)
        ),
    );
    if done < nights {
        println!(
            "      extrapolated to {nights} nights (linear, {:.0} KiB a night): {:.1} MiB = {:.2}× one snapshot",
            per_night / 1024.0,
            extrapolated / (1024.0 * 1024.0),
            extrapolated / single.max(1) as f64
        );
    }
    if done < 2 {
        return Ok(());
    }
    let picks = [0, done / 2, done - 1];
    let mut states = Vec::new();
    for &i in &picks {
        let id = metas[i].id;
        let m = Measure::start();
        let s = store.state_at(id)?;
        let fig = m.stop();
        line(
            size.name(),
            "year",
            &format!("state_at(snapshot #{})", i + 1),
            &fig,
            &format!(
                "{} users, {} memberships",
                s.users.len(),
                s.memberships.len()
            ),
        );
        states.push(s);
    }
    let pairs = [
        (done - 2, done - 1, "consecutive nights"),
        (0, done - 1, "first vs last"),
    ];
    for (a, b, what) in pairs {
        let (sa, sb) = (store.state_at(metas[a].id)?, store.state_at(metas[b].id)?);
        let m = Measure::start();
        let ch = analyze::changes(&sa, &sb);
        let fig = m.stop();
        line(
            size.name(),
            "year",
            &format!("changes ({what})"),
            &fig,
            &format!("{} changes", ch.len()),
        );
    }
    // The history's questions: access-at (one snapshot, one subject) and
    // timeline (every snapshot, one subject), as the commands run them.
    let last = store.state_at(metas[done - 1].id)?;
    let user = last
        .users
        .iter()
        .find(|u| u.active)
        .context("a user")?
        .id
        .clone();
    let app = last.apps.first().context("an app")?;
    let app = ObjectRef {
        object_type: ObjectType::App,
        id: app.id.clone(),
    };
    let team = last
        .groups
        .iter()
        .find(|g| g.id.0 >= 3)
        .context("a team group")?
        .id;
    drop(last);
    let mid = metas[done / 2].id;
    let m = Measure::start();
    let state = store.state_at(mid)?;
    let index = analyze::AccessIndex::new(&state);
    let rows = state
        .user(&user)
        .map(|u| analyze::lookup::user_access(&index, u).len())
        .unwrap_or(0);
    let fig = m.stop();
    line(
        size.name(),
        "year",
        "access-at --user",
        &fig,
        &format!("{rows} rows"),
    );
    let m = Measure::start();
    let users = analyze::lookup::object_users(&index, &state, &app).len();
    let fig = m.stop();
    line(
        size.name(),
        "year",
        "access-at --object (index built)",
        &fig,
        &format!("{users} users"),
    );
    drop(index);
    drop(state);
    let scopes = [
        ("timeline --user", Scope::User(user)),
        ("timeline --object", Scope::Object(app)),
        ("timeline --group (a team)", Scope::Group(team)),
        ("timeline --group (All Users)", Scope::Group(GroupId(1))),
    ];
    for (what, scope) in scopes {
        let m = Measure::start();
        let w = store.window("default", &scope, metas[0].id, metas[done - 1].id)?;
        let points = w.change_points().len();
        let changes = retool_audit::commands::subject_changes(&w, &scope).len();
        let fig = m.stop();
        line(
            size.name(),
            "year",
            what,
            &fig,
            &format!("{done} snapshots, {points} change points, {changes} changes"),
        );
    }

    // A period report over the whole year walks every snapshot for access
    // that came and went.
    let m = Measure::start();
    let transient = store.transient_access("default", metas[0].id, metas[done - 1].id)?;
    let fig = m.stop();
    line(
        size.name(),
        "year",
        "transient_access (first → last)",
        &fig,
        &format!("{} runs came and went", transient.len()),
    );

    // `changes` over the whole year, snapshot by snapshot, from the versions
    // that begin or end at each; against rebuilding and diffing the full
    // states of ten nights (the year would cost 36.5 times that).
    let m = Measure::start();
    let (mut steps, mut rows) = (0usize, 0usize);
    store.walk_period::<anyhow::Error>("default", metas[0].id, metas[done - 1].id, |step| {
        steps += 1;
        rows += retool_audit::analyze::changes::changes(&step.old, &step.new).len();
        Ok(())
    })?;
    let fig = m.stop();
    line(
        size.name(),
        "year",
        "changes walked (first → last)",
        &fig,
        &format!("{steps} steps, {rows} change rows"),
    );
    let m = Measure::start();
    let mut naive = 0usize;
    for pair in metas[..done].windows(2).take(10) {
        let (a, b) = (store.state_at(pair[0].id)?, store.state_at(pair[1].id)?);
        naive += retool_audit::analyze::changes::changes(&a, &b).len();
    }
    let fig = m.stop();
    line(
        size.name(),
        "year",
        "changes by full states (10 nights)",
        &fig,
        &format!("{naive} change rows"),
    );

    // The report's trend charts read every snapshot's counts from the versions.
    let m = Measure::start();
    let counts = store.snapshot_counts("default", metas[done - 1].id)?;
    let fig = m.stop();
    let changed: usize = counts.iter().filter_map(|c| c.access_changes).sum();
    line(
        size.name(),
        "year",
        "snapshot_counts (trend charts)",
        &fig,
        &format!("{} snapshots, {changed} records changed", counts.len()),
    );

    // The whole period report through the binary, in its own process (so
    // its peak RSS is its own): `changes` walked over the year, transient
    // access, access added, the trend charts, every format.
    drop(store);
    let out = dir.join("year-report");
    let timing = dir.join("year-report.time");
    let m = Measure::start();
    let status = std::process::Command::new("/usr/bin/time")
        .args(["-f", "%e %U %S %M", "-o"])
        .arg(&timing)
        .arg(env!("CARGO_BIN_EXE_retool-audit"))
        .args(["--quiet", "--db"])
        .arg(&db)
        .args(["report", "--since"])
        .arg(metas[0].id.to_string())
        .arg("--snapshot")
        .arg(metas[done - 1].id.to_string())
        .args(["--format", "csv,xlsx,html,json", "--out"])
        .arg(&out)
        .status()
        .context("running /usr/bin/time retool-audit report")?;
    let wall = m.wall.elapsed();
    if !status.success() {
        return Err(anyhow!("report over the year failed: {status}"));
    }
    let figures = std::fs::read_to_string(&timing)?;
    let f: Vec<f64> = figures
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let changes = std::fs::read_to_string(out.join("csv/changes.csv"))?
        .lines()
        .count()
        - 1;
    let fig = Figures {
        wall,
        cpu: Duration::from_secs_f64(
            f.get(1).copied().unwrap_or(0.0) + f.get(2).copied().unwrap_or(0.0),
        ),
        peak_mib: f.get(3).copied().unwrap_or(0.0) / 1024.0,
    };
    line(
        size.name(),
        "year",
        "report --since first (binary, all formats)",
        &fig,
        &format!(
            "{changes} change rows, {:.1} MiB written",
            mib(dir_bytes(&out))
        ),
    );
    Ok(())
}

/// The reference for stage 4: every table's rows, held in memory, with the bare
/// `csv` crate (no formula neutralizing, no temporary file and rename).
pub(crate) fn bare_csv(report: &Report, dir: &Path) -> Result<u64> {
    std::fs::create_dir_all(dir)?;
    for (i, t) in report.tables.iter().enumerate() {
        let path = dir.join(format!("{i}.csv"));
        let mut w = csv::Writer::from_path(&path)?;
        w.write_record(&t.columns)?;
        for row in &t.rows {
            w.write_record(row.iter().map(Cell::to_plain))?;
        }
        w.flush()?;
    }
    Ok(dir_bytes(dir))
}

/// Stage 4: every report format from a two-snapshot history (so `changes` has
/// something to show), as `retool-audit report` builds it.
pub(crate) fn stage_report(size: Size, org: &FakeOrg, dir: &Path) -> Result<()> {
    let db = dir.join(format!("report-{}.db", size.name()));
    let mut store = Store::open(&db)?;
    let start = Utc
        .with_ymd_and_hms(2026, 6, 1, 2, 0, 0)
        .single()
        .context("start date")?;
    let mut collected = offline(org, start);
    store.write_snapshot("default", &collected)?;
    mutate(&mut collected.state, &mut Lcg(7), 1);
    collected.info = info_at(start + chrono::Duration::days(1));
    let current = store.write_snapshot("default", &collected)?;
    drop(collected);

    let total = Measure::start();
    let m = Measure::start();
    let state = store.state_at(current.id)?;
    let previous = store.previous(&current)?.context("previous snapshot")?;
    let previous_state = store.state_at(previous.id)?;
    let history: Vec<SnapshotMeta> = store.snapshots(Some("default"))?;
    let failed_runs: Vec<_> = Vec::new();
    let disabled_since = store.disabled_since(current.id)?;
    let read_fig = m.stop();
    let mut peak = read_fig.peak_mib;
    line(size.name(), "report", "read 2 snapshots", &read_fig, "");

    let m = Measure::start();
    let input = ReportInput {
        org: "bench",
        current: &current,
        current_state: &state,
        previous: Some((&previous, &previous_state)),
        walked: None,
        history: &history,
        failed_runs: &failed_runs,
        disabled_since: &disabled_since,
        trend: &Trend::default(),
        transient: &[],
        review_keeps: &[],
        deprovisioning: None,
    };
    let options = ReportOptions::new(Utc::now(), "retool-audit report (bench)");
    let report = build_streamed(&input, &options);
    let build_fig = m.stop();
    peak = peak.max(build_fig.peak_mib);
    let rows: usize = report.tables.iter().map(|t| t.rows.len()).sum();
    line(
        size.name(),
        "report",
        "report::build::build_streamed",
        &build_fig,
        &format!("{} tables, {rows} rows", report.tables.len()),
    );
    for t in &report.tables {
        println!(
            "      table {:<28} {:>9} rows{}",
            t.name,
            t.rows.len(),
            if matches!(t.rows, Rows::Streamed(_)) {
                " (streamed)"
            } else {
                ""
            }
        );
    }

    let mut csv_wall = Duration::ZERO;
    for format in Format::ALL {
        let out = dir.join(format!("report-{}-{}", size.name(), format.as_str()));
        let m = Measure::start();
        write_report(&report, &out, &[format], None)?;
        let fig = m.stop();
        peak = peak.max(fig.peak_mib);
        if format == Format::Csv {
            csv_wall = fig.wall;
        }
        line(
            size.name(),
            "report",
            &format!("write {format}"),
            &fig,
            &format!("output {:.1} MiB", mib(dir_bytes(&out))),
        );
    }
    let mut total_fig = total.stop();
    total_fig.peak_mib = peak;
    line(
        size.name(),
        "report",
        "total (read+build+each format)",
        &total_fig,
        "one format after another; peak RSS = highest of the steps above",
    );

    // What `retool-audit report` does: read, build, then every format in one
    // `write_report` call (XLSX on its own thread beside the others).
    let m = Measure::start();
    let state = store.state_at(current.id)?;
    let previous_state = store.state_at(previous.id)?;
    let disabled_since = store.disabled_since(current.id)?;
    let input = ReportInput {
        current_state: &state,
        previous: Some((&previous, &previous_state)),
        walked: None,
        disabled_since: &disabled_since,
        ..input
    };
    let report = build_streamed(&input, &options);
    let out = dir.join(format!("report-{}-all", size.name()));
    write_report(&report, &out, &Format::ALL, None)?;
    let fig = m.stop();
    line(
        size.name(),
        "report",
        "read+build+all formats at once",
        &fig,
        &format!(
            "as `retool-audit report` runs; output {:.1} MiB",
            mib(dir_bytes(&out))
        ),
    );

    // The full per-user expansion on request (`--full-effective-access`): CSV,
    // and the JSON Lines that come with it.
    let m = Measure::start();
    let mut full_options = ReportOptions::new(Utc::now(), "retool-audit report (bench, full)");
    full_options.full_effective_access = true;
    let full = build_streamed(&input, &full_options);
    let full_out = dir.join(format!("report-{}-full", size.name()));
    write_report(&full, &full_out, &[Format::Csv], None)?;
    let fig = m.stop();
    line(
        size.name(),
        "report",
        "build+csv --full-effective-access",
        &fig,
        &format!(
            "with jsonl/; output {:.1} MiB ({:.1} MiB of it jsonl/)",
            mib(dir_bytes(&full_out)),
            mib(dir_bytes(&full_out.join("jsonl")))
        ),
    );
    drop(full);
    std::fs::remove_dir_all(&full_out)?;

    // The reference needs every row in memory: materialize them first, outside
    // the measurement.
    let held = report.into_report();
    let bare_dir = dir.join(format!("bare-csv-{}", size.name()));
    let m = Measure::start();
    let bytes = bare_csv(&held, &bare_dir)?;
    let fig = m.stop();
    line(
        size.name(),
        "report",
        "bare csv crate, same rows",
        &fig,
        &format!(
            "output {:.1} MiB; report CSV = {:.2}× bare",
            mib(bytes),
            csv_wall.as_secs_f64() / fig.wall.as_secs_f64()
        ),
    );
    Ok(())
}
