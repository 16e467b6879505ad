//! The report's evidence: where the numbers come from (tool, command line,
//! snapshots with their hashes, collection statistics, what was not collected,
//! failed runs). The review's evidence starts with the same provenance rows.

use chrono::{DateTime, Utc};

use serde_json::json;

use super::manifest::{Provenance, SourceSnapshot};
use super::table::{EvidenceItem, Expansion, format_time};
use super::tables::Context;
use crate::model::RunRecord;

/// The rows every evidence sheet starts with (section `Report`): the tool's
/// version, when and by which command line the file was generated.
pub fn report_provenance(generated_at: DateTime<Utc>, command_line: &str) -> Vec<EvidenceItem> {
    vec![
        EvidenceItem::new("Report", "Tool version", crate::VERSION),
        EvidenceItem::new("Report", "Generated at", format_time(&generated_at)),
        EvidenceItem::new("Report", "Command line", command_line),
    ]
}

/// What a report built from `cx` is evidence of: the organization, the
/// snapshots read and every parameter that changes what it says (for
/// `manifest.json` and the Evidence's `Parameters` section).
pub(crate) fn provenance(cx: &Context<'_, '_>) -> Provenance {
    let (input, options) = (cx.input, cx.options);
    let mut snapshots = vec![SourceSnapshot::new("reported", input.current)];
    if let Some((prev, _)) = input.previous {
        snapshots.push(SourceSnapshot::new("since", prev));
    }
    let roster = options.roster.as_ref().map(|r| {
        let source = r.source.as_ref();
        json!({
            "file": source.map(|s| s.file.as_str()),
            "sha256": source.map(|s| s.sha256.as_str()),
            "rows": r.rows(),
            "emails": r.len(),
        })
    });
    let info = &input.current.info;
    let usage_window = info.usage_window.map(
        |(first, last)| json!({ "first_day": first.to_string(), "last_day": last.to_string() }),
    );
    let parameters = [
        ("inactive_days", json!(options.inactive_days)),
        ("default_group", json!(options.default_group)),
        ("roster", json!(roster)),
        ("usage_window", json!(usage_window)),
        (
            "cross_check",
            json!(super::tables::cross_check::outcome(cx)),
        ),
        (
            "changes_compared",
            json!(match (input.previous, input.walked) {
                (None, _) => None,
                (Some(_), Some(_)) => Some("every snapshot in between, each with the next"),
                (Some(_), None) => Some("the two snapshots"),
            }),
        ),
        ("matrix_max_groups", json!(options.matrix_max_groups)),
        (
            "full_effective_access",
            json!(options.full_effective_access),
        ),
    ];
    Provenance {
        kind: "report".to_string(),
        command_line: options.command_line.clone(),
        org: input.org.to_string(),
        source_url: info.source_url.clone(),
        snapshots,
        parameters: parameters
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    }
}

/// A parameter's value as the Evidence shows it: `none` for null, an object
/// as `key: value` pairs.
fn parameter_text(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "none".to_string(),
        Value::String(s) => s.clone(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", parameter_text(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// The Evidence rows of section `Parameters`, one per parameter.
pub fn parameter_items(provenance: &Provenance) -> Vec<EvidenceItem> {
    provenance
        .parameters
        .iter()
        .map(|(k, v)| EvidenceItem::new("Parameters", k, parameter_text(v)))
        .collect()
}

/// The evidence of a report built from `cx` (`provenance` is its
/// [`provenance`]).
pub(crate) fn evidence(
    cx: &Context<'_, '_>,
    provenance: &Provenance,
    expansion: Expansion,
) -> Vec<EvidenceItem> {
    let (input, options, nc) = (cx.input, cx.options, &cx.not_collected);
    let mut ev = report_provenance(options.generated_at, &options.command_line);
    ev.push(EvidenceItem::new("Report", "Organization", input.org));
    ev.push(EvidenceItem::new(
        "Report",
        "Effective access and access matrix (per-user expansion)",
        expansion.describe(),
    ));
    ev.extend(parameter_items(provenance));
    let mut add =
        |section: &str, key: &str, value: String| ev.push(EvidenceItem::new(section, key, value));

    let cur = input.current;
    let info = &cur.info;
    let sec = format!("Snapshot {}", cur.id);
    add(&sec, "Snapshot id", cur.id.to_string());
    add(&sec, "Organization", cur.org.clone());
    add(&sec, "Source URL", info.source_url.clone());
    add(&sec, "Dialect", info.dialect.as_str().to_string());
    add(
        &sec,
        "API version",
        info.api_version
            .clone()
            .unwrap_or_else(|| "not reported".into()),
    );
    add(&sec, "Collection started", format_time(&info.started_at));
    add(&sec, "Collection finished", format_time(&info.finished_at));
    add(&sec, "Collected by", info.tool_version.clone());
    add(&sec, "Content SHA-256", cur.sha256.clone());
    add(
        &sec,
        "Previous SHA-256",
        cur.prev_sha256
            .clone()
            .unwrap_or_else(|| "none (first snapshot in the chain)".into()),
    );
    for (k, n) in &cx.recorded_counts() {
        let value = match (nc.get(k), info.expected_totals.get(k)) {
            (Some(_), _) => format!("{n} (not collected)"),
            (None, Some(expected)) => format!("{n} (API reported {expected})"),
            (None, None) => n.to_string(),
        };
        add(&sec, &format!("Records: {}", k.as_str()), value);
    }
    add(&sec, "Requests", info.total_requests().to_string());
    add(&sec, "Retries", info.total_retries().to_string());
    for e in &info.endpoints {
        add(
            &sec,
            &format!("Endpoint {}", e.endpoint),
            format!(
                "{} requests, {} retries, {} pages, {} records, {} ms",
                e.requests, e.retries, e.pages, e.records, e.duration_ms
            ),
        );
    }
    if nc.is_empty() {
        add(
            &sec,
            "Not collected",
            "nothing: every kind was collected".into(),
        );
    }
    for (k, why) in nc {
        add(&sec, &format!("Not collected: {}", k.as_str()), why.clone());
    }
    for (i, note) in info.notes.iter().enumerate() {
        add(&sec, &format!("Collector note {}", i + 1), note.clone());
    }
    add(
        &sec,
        "Cross-check with Retool's access lists",
        super::tables::cross_check::outcome(cx),
    );
    if cx.dangling_references > 0 {
        add(
            &sec,
            "Dangling references",
            format!(
                "{} references to records the snapshot does not hold (kept, not dropped)",
                cx.dangling_references
            ),
        );
    }

    if let Some((prev, _)) = input.previous {
        let sec = format!("Previous snapshot {}", prev.id);
        add(&sec, "Snapshot id", prev.id.to_string());
        add(&sec, "Taken at", format_time(&prev.taken_at()));
        add(&sec, "Content SHA-256", prev.sha256.clone());
    }

    let failed: Vec<&RunRecord> = input
        .failed_runs
        .iter()
        .filter(|r| r.status != "ok")
        .collect();
    if failed.is_empty() {
        add(
            "Failed runs",
            "Failed runs since the previous snapshot",
            "none".into(),
        );
    }
    for r in failed {
        add(
            "Failed runs",
            &format!("Run {} at {}", r.id, format_time(&r.started_at)),
            format!(
                "{}: {}",
                r.source_url,
                r.error
                    .clone()
                    .unwrap_or_else(|| "no error recorded".into())
            ),
        );
    }
    ev
}
