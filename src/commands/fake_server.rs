//! `retool-audit fake-server`: serve a simulated Retool organization on
//! loopback until Ctrl-C (for trying the tool, tests and curl).

use std::time::Duration;

use anyhow::{Context, anyhow};
use chrono::Utc;

use super::demo::simulated_org;
use super::{CmdResult, CommandError, Output};
use crate::cli::{BenchSize, FakeServerArgs};
use crate::fake::{FakeConfig, FakeOrg, FakeServer, OrgSpec, parse_faults};

pub(super) async fn run(args: &FakeServerArgs, out: Output) -> CmdResult {
    let spec = match args.size {
        Some(BenchSize::M) => OrgSpec::m(Utc::now()),
        Some(BenchSize::L) => OrgSpec::l(Utc::now()),
        Some(BenchSize::Xl) => OrgSpec::xl(Utc::now()),
        None => simulated_org(args.users, args.seed),
    };
    let mut org = FakeOrg::generate(&spec);
    if args.changed {
        org.apply_scripted_changes();
    }
    let faults = match &args.faults {
        Some(s) => {
            parse_faults(s).map_err(|e| CommandError::usage(anyhow!("--faults {s:?}: {e}")))?
        }
        None => Vec::new(),
    };
    let users = spec.users;
    let config = FakeConfig {
        port: args.port,
        token: args.token.clone(),
        latency: Duration::from_millis(args.latency_ms),
        faults,
        version: Some("3.148.0 (simulated)".to_string()),
        scopes: (!args.without_scope.is_empty()).then(|| {
            crate::retool::endpoints::CATALOGUE
                .iter()
                .map(|e| e.scope.to_string())
                .filter(|s| !args.without_scope.contains(s))
                .collect()
        }),
        missing_endpoints: args.missing_endpoint.clone(),
        ..FakeConfig::default()
    };
    let server = FakeServer::start(org, config).await.map_err(|e| {
        CommandError::failed(anyhow!(e).context(format!(
            "could not listen on 127.0.0.1:{}; is the port in use?",
            args.port
        )))
    })?;
    out.line(format!(
        "simulated Retool with {users} users on {} (API v2 at /api/v2, v1 at /api/v1); \
         accepts the bearer token given by --token; Ctrl-C stops it",
        server.base_url()
    ));
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")
        .map_err(CommandError::failed)?;
    server.shutdown().await;
    Ok(())
}
