//! The Retool targets of `snapshot` and `doctor`: which ones the flags and the
//! config file select, checking every one of them (settings, address, token)
//! before the first request, and looking up child spaces.

use std::time::Duration;

use anyhow::anyhow;
use url::Url;

use super::{CmdResult, CommandError};
use crate::cli::TargetArgs;
use crate::collect::{CollectOptions, DEFAULT_USER_GRANTS_MAX_USERS};
use crate::config::{Address, Config, Target, Tuning, check_label};
use crate::model::Dialect;
use crate::retool::{Client, ClientConfig, Secret, resolve_api_root};

/// The targets a command runs on: the one the flags describe, or those the
/// config file's `--org NAME` / `--all` pick (tuning flags override the
/// file's `[defaults]`).
pub(super) fn select(config: Option<&Config>, args: &TargetArgs) -> CmdResult<Vec<Target>> {
    let Some(config) = config else {
        if args.all {
            return Err(CommandError::usage(anyhow!(
                "--all needs a config file listing the orgs: pass --config FILE, set \
                 RETOOL_AUDIT_CONFIG, or create ./retool-audit.toml (see docs/operations.md, \"Configuration file\")"
            )));
        }
        return Ok(vec![args.target()]);
    };
    let flags: Vec<&str> = [
        (args.base_url.is_some(), "--base-url (or RETOOL_BASE_URL)"),
        (args.api_root.is_some(), "--api-root"),
        (args.api.is_some(), "--api"),
        (args.token_file.is_some(), "--token-file"),
    ]
    .into_iter()
    .filter_map(|(given, name)| given.then_some(name))
    .collect();
    if !flags.is_empty() {
        return Err(CommandError::usage(anyhow!(
            "{} cannot be combined with the config file {}: the file says where each org is and \
             where its token comes from; pick a configured org with --org NAME, or drop the file \
             (--config elsewhere, or run where ./retool-audit.toml does not exist)",
            flags.join(", "),
            config.path.display()
        )));
    }
    let picked = config
        .select(args.org.as_deref(), args.all)
        .map_err(CommandError::usage)?;
    let flags = args.tuning();
    Ok(picked
        .into_iter()
        .map(|t| Target {
            tuning: t.tuning.overridden_by(&flags),
            ..t.clone()
        })
        .collect())
}

/// A target whose settings and token were checked; the API address of a
/// space is looked up when it is used.
pub(super) struct Checked {
    pub name: String,
    api: Api,
    pub options: CollectOptions,
}

enum Api {
    Ready(ClientConfig),
    Space {
        parent: ClientConfig,
        space: String,
        token: Secret,
        tuning: Tuning,
    },
}

impl Checked {
    /// Where the target is (a space: its parent's API root), for messages and the `runs` log.
    pub fn source(&self) -> String {
        match &self.api {
            Api::Ready(c) => c.api_root.to_string(),
            Api::Space { parent, space, .. } => format!("{} (space {space:?})", parent.api_root),
        }
    }

    /// The client settings; for a space, looked up in its parent's `GET /spaces`
    /// (with a line saying what was found).
    pub async fn client_config(&self) -> CmdResult<(ClientConfig, Option<String>)> {
        let (parent, space, token, tuning) = match &self.api {
            Api::Ready(config) => return Ok((config.clone(), None)),
            Api::Space {
                parent,
                space,
                token,
                tuning,
            } => (parent, space, token, tuning),
        };
        let client = Client::new(parent.clone()).map_err(CommandError::failed)?;
        let spaces = client.spaces().await.map_err(|e| {
            CommandError::failed(anyhow!(e).context(format!(
                "could not list the child spaces of {} to find space {space:?} \
                 (the parent org's token needs the spaces:read scope)",
                parent.api_root
            )))
        })?;
        let found = spaces
            .items
            .iter()
            .find(|s| s.name == *space || s.domain == *space || s.id == *space)
            .ok_or_else(|| {
                let names: Vec<String> = spaces
                    .items
                    .iter()
                    .map(|s| format!("{:?} ({})", s.name, s.domain))
                    .collect();
                CommandError::usage(anyhow!(
                    "{} has no child space named {space:?}; it has: {}; correct `space` of {} in the config file",
                    parent.api_root,
                    if names.is_empty() { "none".to_string() } else { names.join(", ") },
                    self.name
                ))
            })?;
        let base = if found.domain.contains("://") {
            found.domain.clone()
        } else {
            format!("{}://{}", parent.api_root.scheme(), found.domain)
        };
        let allow_insecure = tuning.allow_insecure_http.unwrap_or(false);
        let api_root =
            resolve_api_root(Some(&base), None, Dialect::V2, allow_insecure).map_err(|e| {
                CommandError::failed(anyhow!(e).context(format!(
                    "space {space:?} has the domain {:?}, which gives no usable API address",
                    found.domain
                )))
            })?;
        let config = tuned(
            ClientConfig::new(api_root, Dialect::V2, token.clone()),
            tuning,
        )?;
        let note = format!(
            "{space:?} is the child space {} at {}",
            found.id, found.domain
        );
        Ok((config, Some(note)))
    }
}

/// Checks what can be checked without the network: address, settings, token.
pub(super) fn check(target: &Target) -> CmdResult<Checked> {
    let in_file = |e: CommandError| match &target.origin {
        Some((path, line)) => e.context(format!(
            "org {} (config file {}, line {line})",
            target.name,
            path.display()
        )),
        None => e,
    };
    let api = match &target.address {
        Address::Space { parent, space } => {
            let parent_config = ClientConfig::new(
                api_root(parent, &target.tuning).map_err(in_file)?,
                parent.dialect,
                parent.load_token().map_err(usage_msg)?,
            );
            Api::Space {
                parent: tuned(parent_config, &target.tuning).map_err(in_file)?,
                space: space.clone(),
                token: target.load_token().map_err(usage_msg)?,
                tuning: target.tuning.clone(),
            }
        }
        _ => {
            let root = api_root(target, &target.tuning).map_err(in_file)?;
            validate_rps(&target.tuning).map_err(in_file)?;
            if target.origin.is_none() {
                check_label(&target.name).map_err(|_| {
                    CommandError::usage(anyhow!(
                        "--org {:?} is not a valid label: use 1-64 letters, digits, '-', '_' or '.'",
                        target.name
                    ))
                })?;
            }
            let token = target.load_token().map_err(usage_msg)?;
            Api::Ready(tuned(
                ClientConfig::new(root, target.dialect, token),
                &target.tuning,
            )?)
        }
    };
    let t = &target.tuning;
    let max_users = t
        .user_grants_max_users
        .unwrap_or(DEFAULT_USER_GRANTS_MAX_USERS);
    Ok(Checked {
        name: target.name.clone(),
        api,
        options: CollectOptions {
            user_grants: t.user_grants.unwrap_or(true),
            user_grants_max_users: (max_users > 0).then_some(max_users),
            usage_days: t.usage_days.unwrap_or(crate::collect::DEFAULT_USAGE_DAYS),
            cross_check: t
                .cross_check
                .map_or(crate::collect::DEFAULT_CROSS_CHECK, |c| c.0),
            usage_details: t.usage_details.unwrap_or(false),
        },
    })
}

fn usage_msg(message: String) -> CommandError {
    CommandError::usage(anyhow!(message))
}

fn api_root(target: &Target, tuning: &Tuning) -> CmdResult<Url> {
    let insecure = tuning.allow_insecure_http.unwrap_or(false);
    let (base, root) = match &target.address {
        Address::BaseUrl(b) if b.is_empty() => {
            return Err(CommandError::usage(anyhow!(
                "no Retool address: pass --base-url https://<your-instance> (or set RETOOL_BASE_URL), \
                 or --api-root URL for a proxy serving the API at its root"
            )));
        }
        Address::BaseUrl(b) => (Some(b.as_str()), None),
        Address::ApiRoot(a) => (None, Some(a.as_str())),
        Address::Space { .. } => {
            return Err(CommandError::usage(anyhow!(
                "{}: a space cannot be the parent of another space",
                target.name
            )));
        }
    };
    Ok(resolve_api_root(base, root, target.dialect, insecure)?)
}

fn validate_rps(tuning: &Tuning) -> CmdResult {
    match tuning.max_rps {
        Some(rps) if !(rps.is_finite() && rps > 0.0) => Err(CommandError::usage(anyhow!(
            "--max-rps (max_rps) must be a positive number of requests per second, got {rps}"
        ))),
        _ => Ok(()),
    }
}

/// The client settings with the tuning applied (built-in defaults where unset).
fn tuned(mut config: ClientConfig, t: &Tuning) -> CmdResult<ClientConfig> {
    validate_rps(t)?;
    if let Some(c) = t.concurrency {
        if !(1..=64).contains(&c) {
            return Err(CommandError::usage(anyhow!(
                "concurrency must be from 1 to 64, got {c}"
            )));
        }
        config.concurrency = usize::from(c);
    }
    config.max_rps = t.max_rps;
    if let Some(n) = t.page_size {
        if !(1..=100).contains(&n) {
            return Err(CommandError::usage(anyhow!(
                "page_size must be from 1 to 100 (the API's limit), got {n}"
            )));
        }
        config.page_size = Some(n);
    }
    if let Some(s) = t.connect_timeout_secs {
        config.connect_timeout = Duration::from_secs(s.max(1));
    }
    if let Some(s) = t.timeout_secs {
        config.request_timeout = Duration::from_secs(s.max(1));
    }
    if let Some(r) = t.max_retries {
        config.max_retries = r;
    }
    Ok(config)
}
