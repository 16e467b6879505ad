//! `retool-audit review plan`: the Retool API calls that would carry out a
//! campaign's pending revoke and modify decisions, as a script and as JSON. The
//! tool never runs them and never writes to Retool.

use std::path::Path;

use anyhow::anyhow;
use chrono::Utc;

use super::status::pick_campaign;
use crate::cli::{PlanFormat, ReviewPlanArgs};
use crate::commands::{CmdResult, CommandError, Output};
use crate::output::write_files;
use crate::review::plan::{PlanContext, plan, render_json, render_script};
use crate::review::status;
use crate::store::Store;

pub(super) fn run(db: &Path, args: &ReviewPlanArgs, out: Output) -> CmdResult {
    let store = Store::open_existing(db)?;
    let campaign = pick_campaign(
        &store,
        args.pick.campaign.as_deref(),
        args.pick.org.as_deref(),
    )?;
    let data = status::load(&store, campaign)?;
    let rows = status::evaluate(&data);
    let entries = plan(&data.items, &rows);
    let ctx = PlanContext {
        campaign: &data.campaign,
        latest: data.latest_snapshot(),
        dialect: data.campaign_snapshot.info.dialect,
        generated_at: Utc::now(),
    };
    let script = render_script(&entries, &ctx);
    let json = render_json(&entries)
        .map_err(|e| CommandError::failed(anyhow!(e).context("could not render plan.json")))?;
    let Some(dir) = &args.out else {
        // The plan is the output: printed even under --quiet.
        match args.format {
            PlanFormat::Sh => print!("{script}"),
            PlanFormat::Json => print!("{json}"),
        }
        return Ok(());
    };
    let files = write_files(dir, &[("plan.sh", &script), ("plan.json", &json)]).map_err(|e| {
        CommandError::from(e).context(format!(
            "could not write the plan to {}; nothing was left half-written",
            dir.display()
        ))
    })?;
    let calls = entries.iter().filter(|e| e.method.is_some()).count();
    out.line(format!(
        "plan for campaign {}: {calls} API call(s), {} manual step(s); judged on snapshot {}. \
         retool-audit never runs it: read it, then run it with RETOOL_BASE_URL and RETOOL_API_TOKEN set",
        data.campaign.name,
        entries.len() - calls,
        ctx.latest.id
    ));
    for f in &files {
        out.line(format!("  {}", f.display()));
    }
    Ok(())
}
