//! `retool-audit demo`: the whole pipeline on a simulated Retool served on
//! loopback — two snapshots with scripted changes between them, then every
//! report in every format.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::anyhow;
use chrono::Utc;

use super::common::{headline, read_roster, summary_line};
use super::report::{Rendered, ReportRequest, read_terminations, render_report};
use super::snapshot::{SnapshotJob, take_snapshot};
use super::{CmdResult, CommandError, Output};
use crate::cli::DemoArgs;
use crate::collect::CollectOptions;
use crate::fake::{FakeConfig, FakeOrg, FakeServer, OrgSpec};
use crate::model::Dialect;
use crate::report::write::Format;
use crate::retool::{ClientConfig, Secret, resolve_api_root};
use crate::store::{SnapshotSelector, Store};

/// The simulated organization of `demo` and `fake-server`: the small demo org, or
/// one of `users` users; times are relative to now. Plain names: the hostile
/// ones (formula prefixes, markup, a 10 000-character app name) are test
/// fixtures (`OrgSpec::demo` in the test suite), not what a new user reads.
pub(super) fn simulated_org(users: Option<usize>, seed: u64) -> OrgSpec {
    let now = Utc::now();
    let mut spec = match users {
        Some(n) => OrgSpec::with_users(n, seed, now),
        None => OrgSpec::demo(now),
    };
    spec.seed = seed;
    spec.hostile_names = false;
    spec
}

pub(super) async fn run(args: &DemoArgs, out: Output) -> CmdResult {
    let mut org = FakeOrg::generate(&simulated_org(args.users, args.seed));
    // App owners start without the right to manage permissions; the scripted
    // changes turn it on, so the second snapshot shows the setting's finding
    // and the change that caused it.
    if let Some(settings) = org.settings.organization.as_object_mut() {
        settings.insert("app_owners_permissions_management".into(), false.into());
    }
    let roster_rows: Vec<String> = org
        .expected_state()
        .users
        .iter()
        .enumerate()
        .filter(|(i, u)| u.active && i % 9 != 4)
        .map(|(_, u)| u.email.clone())
        .collect();
    let token = "demo-token".to_string();
    let config = FakeConfig {
        port: 0,
        token: token.clone(),
        version: Some("3.148.0 (simulated)".to_string()),
        ..FakeConfig::default()
    };
    let server = FakeServer::start(org, config).await.map_err(|e| {
        CommandError::failed(anyhow!(e).context("could not start the simulated Retool on loopback"))
    })?;

    std::fs::create_dir_all(&args.out).map_err(|e| {
        CommandError::usage(anyhow!(
            "cannot create the output directory {}: {e}",
            args.out.display()
        ))
    })?;
    let db = args.out.join("retool-audit-demo.db");
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        if p.exists() {
            std::fs::remove_file(&p).map_err(|e| {
                CommandError::failed(anyhow!(
                    "cannot replace the old demo database {}: {e}",
                    p.display()
                ))
            })?;
        }
    }
    let roster_path = args.out.join("demo-roster.csv");
    let mut roster_csv = String::from("email,department\n");
    for email in &roster_rows {
        let _ = writeln!(
            roster_csv,
            "{},staff",
            email.replace([',', '\n', '\r', '"'], " ")
        );
    }
    std::fs::write(&roster_path, roster_csv).map_err(|e| {
        CommandError::failed(anyhow!("cannot write {}: {e}", roster_path.display()))
    })?;

    let mut store = Store::open(&db)?;
    let api_root = resolve_api_root(Some(&server.base_url()), None, Dialect::V2, false)
        .map_err(CommandError::failed)?;
    let client = ClientConfig::new(api_root, Dialect::V2, Secret::new(token));
    let job = SnapshotJob {
        org: "demo".to_string(),
        client,
        // Every object: the demo org is small, and its evidence (records per
        // endpoint) stays the same from run to run.
        options: CollectOptions {
            cross_check: crate::collect::cross_check::ALL_OBJECTS,
            usage_details: true,
            ..CollectOptions::default()
        },
    };
    let t0 = Instant::now();
    let first = take_snapshot(&mut store, &job, None).await?;
    out.line(summary_line(&first));
    let changes = server.update_org(|o| o.apply_scripted_changes());
    tracing::info!("applied scripted changes: {changes:?}");
    let promoted: Option<String> = server.update_org(|o| {
        let id = changes.promoted_admins.first()?;
        o.users
            .iter()
            .find(|u| u.id == id.0)
            .map(|u| u.email.clone())
    });
    // HR's leavers: the users the scripted changes disable left two hours
    // ago; one who still has access left ten days ago; one never had an account.
    let terminations = server.update_org(|o| {
        let day = |n: i64| {
            (Utc::now() - chrono::Duration::days(n))
                .format("%Y-%m-%d")
                .to_string()
        };
        let hours_ago = (Utc::now() - chrono::Duration::hours(2))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut csv = String::from("email,termination_date,manager\n");
        for id in &changes.disabled_users {
            if let Some(u) = o.users.iter().find(|u| u.id == id.0) {
                csv.push_str(&format!("{},{hours_ago},people-ops\n", u.email));
            }
        }
        let still = o.users.iter().find(|u| {
            u.active
                && !u.is_admin
                && o.groups
                    .iter()
                    .any(|g| g.id >= 3 && g.members.iter().any(|m| m.user_id == u.id))
        });
        if let Some(u) = still {
            csv.push_str(&format!("{},{},people-ops\n", u.email, day(10)));
        }
        csv.push_str(&format!(
            "former.contractor@example.com,{},people-ops\n",
            day(40)
        ));
        csv
    });
    let terminations_path = args.out.join("demo-terminations.csv");
    std::fs::write(&terminations_path, terminations).map_err(|e| {
        CommandError::failed(anyhow!("cannot write {}: {e}", terminations_path.display()))
    })?;
    let second = take_snapshot(&mut store, &job, None).await?;
    out.line(summary_line(&second));
    server.shutdown().await;

    let request = ReportRequest {
        out: args.out.clone(),
        formats: vec![Format::Csv, Format::Xlsx, Format::Html, Format::Json],
        org: Some("demo".to_string()),
        snapshot: SnapshotSelector::Latest,
        since: None,
        every_snapshot: None,
        roster: Some(read_roster(&roster_path)?),
        inactive_days: 90,
        default_group: "All Users".to_string(),
        label: Some("demo".to_string()),
        signer: None,
        full_effective_access: false,
        terminations: Some(read_terminations(&terminations_path)?),
        sla_hours: 24,
    };
    let Rendered { report, files, .. } = render_report(&store, request)?;
    out.line(format!(
        "demo finished in {:.1}s; reports in {}:",
        t0.elapsed().as_secs_f64(),
        args.out.display()
    ));
    for f in &files {
        out.line(format!("  {}", f.display()));
    }
    out.line(headline(&report));
    if let Some(email) = promoted {
        out.line("questions the history answers (the demo's database is kept):");
        out.line(format!(
            "  retool-audit --db {} access-at --at {} --user {email}",
            db.display(),
            first.id
        ));
        out.line(format!(
            "  retool-audit --db {} timeline --user {email}",
            db.display()
        ));
    }
    Ok(())
}
