//! The Retool API v2 calls that would carry out a campaign's pending revoke and
//! modify decisions (`review plan`), as a shell script and as JSON. The tool
//! never runs them: an operator reads them and applies them knowingly.
//!
//! Calls (paths relative to the instance root, as in Retool's API v2 spec):
//! - revoke membership: `DELETE /api/v2/groups/{groupId}/members/{userId}`;
//! - revoke direct grant on a folder, app or resource: `POST
//!   /api/v2/permissions/revoke` with `{subject: {type: "user", id}, object:
//!   {type, id}}` (the endpoint takes no level; it does not take workflows);
//! - revoke account: `PATCH /api/v2/users/{userId}` with `{operations: [{op:
//!   "replace", path: "/active", value: false}]}` (disables the user);
//! - modify a group admin's membership: `POST /api/v2/groups/{groupId}/members`
//!   with `{members: [{id, is_group_admin: false}]}` (the spec: "if existing
//!   members are passed in, group admin status will be updated", so the user
//!   stays a member throughout);
//! - anything else (modify of a plain membership, of a grant, of an account; a
//!   direct grant on a workflow; a membership already removed while the user
//!   still reaches what the group brought) cannot be derived from the decision
//!   and is a `manual` entry with the reason, never a guess.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::status::{Remediation, RemediationStatus};
use super::{Campaign, Decision, ItemKind, ReviewItem};
use crate::model::{Dialect, ObjectType, SnapshotMeta};
use crate::report::format_time;

/// One step of a plan: an API call, or (`method` `None`) something a person
/// must do by hand, with `manual` saying why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanEntry {
    pub row_key: String,
    /// `DELETE`, `POST`, `PATCH`; `None` for a manual step.
    pub method: Option<String>,
    /// Relative to the instance root, e.g. `/api/v2/groups/12/members/user_ab12`.
    pub path: Option<String>,
    pub body: Option<Value>,
    pub reviewer: Option<String>,
    pub reason: Option<String>,
    pub email: String,
    pub target: String,
    pub decision: Decision,
    pub status: RemediationStatus,
    /// What the latest snapshot showed.
    pub detail: String,
    /// Why this step is not an API call.
    pub manual: Option<String>,
    /// What else the call does, when it is more than the row.
    pub note: Option<String>,
}

/// The plan's calls, in population order: one entry per revoke or modify
/// decision whose status is not `done`.
pub fn plan(items: &[ReviewItem], remediation: &[Remediation]) -> Vec<PlanEntry> {
    let by_key: BTreeMap<&str, &ReviewItem> = items.iter().map(|i| (i.key.as_str(), i)).collect();
    remediation
        .iter()
        .filter(|r| r.status != RemediationStatus::Done)
        .filter_map(|r| by_key.get(r.key.as_str()).map(|item| entry(item, r)))
        .collect()
}

/// What one row needs.
enum Step {
    Call {
        method: &'static str,
        path: String,
        body: Option<Value>,
        note: Option<String>,
    },
    Manual(String),
}

fn step(item: &ReviewItem, r: &Remediation) -> Step {
    let user = segment(&item.user_id.0);
    match (item.kind, r.decision, item.group_id, &item.object) {
        (ItemKind::Membership, Decision::Revoke, Some(g), _) => {
            if r.status == RemediationStatus::PartiallyDone {
                Step::Manual(format!(
                    "the membership is already removed, but: {}; remove that access by hand if \
                     the decision covers it",
                    r.detail
                ))
            } else {
                Step::Call {
                    method: "DELETE",
                    path: format!("/api/v2/groups/{g}/members/{user}"),
                    body: None,
                    note: None,
                }
            }
        }
        (ItemKind::Membership, Decision::Modify, Some(g), _) => {
            if item.is_group_admin == Some(true) {
                Step::Call {
                    method: "POST",
                    path: format!("/api/v2/groups/{g}/members"),
                    body: Some(json!({
                        "members": [{"id": item.user_id.0, "is_group_admin": false}]
                    })),
                    note: Some("demotes the group admin to a plain member".into()),
                }
            } else {
                Step::Manual(
                    "a modify of a plain membership does not say what to change: do it by hand"
                        .into(),
                )
            }
        }
        (ItemKind::DirectGrant, Decision::Revoke, _, Some(o)) => match o.object_type {
            ObjectType::Workflow => Step::Manual(
                "API v2's permissions/revoke does not take workflows: remove the grant in Retool"
                    .into(),
            ),
            t => Step::Call {
                method: "POST",
                path: "/api/v2/permissions/revoke".into(),
                body: Some(json!({
                    "subject": {"type": "user", "id": item.user_id.0},
                    "object": {"type": t.as_str(), "id": o.id.0},
                })),
                note: (t == ObjectType::Folder).then(|| {
                    "Retool also revokes the user's access to the objects directly in the folder"
                        .to_string()
                }),
            },
        },
        (ItemKind::DirectGrant, Decision::Modify, _, Some(_)) => Step::Manual(
            "a modify of a direct grant does not say which level to set: do it by hand".into(),
        ),
        (ItemKind::Account, Decision::Revoke, _, _) => Step::Call {
            method: "PATCH",
            path: format!("/api/v2/users/{user}"),
            body: Some(json!({
                "operations": [{"op": "replace", "path": "/active", "value": false}]
            })),
            note: Some("disables the user (no login, no access; the account is kept)".into()),
        },
        (ItemKind::Account, Decision::Modify, _, _) => {
            Step::Manual("a modify of an account does not say what to change: do it by hand".into())
        }
        _ => Step::Manual(
            "the population row lacks the group or object it is about: do it by hand".into(),
        ),
    }
}

fn entry(item: &ReviewItem, r: &Remediation) -> PlanEntry {
    let mut e = PlanEntry {
        row_key: r.key.clone(),
        method: None,
        path: None,
        body: None,
        reviewer: r.reviewer.clone(),
        reason: r.reason.clone(),
        email: r.email.clone(),
        target: r.target.clone(),
        decision: r.decision,
        status: r.status,
        detail: r.detail.clone(),
        manual: None,
        note: None,
    };
    match step(item, r) {
        Step::Call {
            method,
            path,
            body,
            note,
        } => {
            e.method = Some(method.to_string());
            e.path = Some(path);
            e.body = body;
            e.note = note;
        }
        Step::Manual(why) => e.manual = Some(why),
    }
    e
}

/// A URL path segment: everything but unreserved characters percent-encoded,
/// so an id from Retool can never add a segment or a query.
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `s` as one shell word in single quotes (a `'` becomes `'\''`).
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `s` on one line without control characters (which become spaces): safe
/// inside a `#` comment (a newline would end it and start a command) and on
/// a terminal (no escape sequences).
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Where a plan comes from, for its header.
#[derive(Debug, Clone, Copy)]
pub struct PlanContext<'a> {
    pub campaign: &'a Campaign,
    /// The snapshot the statuses were judged on.
    pub latest: &'a SnapshotMeta,
    /// The dialect the campaign's snapshot was collected with.
    pub dialect: Dialect,
    pub generated_at: DateTime<Utc>,
}

/// The plan as a bash script: `set -euo pipefail`, base URL and token from the
/// environment when it runs (never embedded), one curl per call with
/// `--fail-with-body`, every value single-quoted.
pub fn render_script(entries: &[PlanEntry], ctx: &PlanContext<'_>) -> String {
    let c = ctx.campaign;
    let calls = entries.iter().filter(|e| e.method.is_some()).count();
    let mut s = String::new();
    let line = |s: &mut String, text: &str| {
        s.push_str(text);
        s.push('\n');
    };
    line(&mut s, "#!/usr/bin/env bash");
    line(
        &mut s,
        &one_line(&format!(
            "# retool-audit review plan: campaign {} (id {}, org {}), judged on snapshot {} ({}).",
            c.name,
            c.id,
            c.org,
            ctx.latest.id,
            format_time(&ctx.latest.taken_at())
        )),
    );
    line(
        &mut s,
        &format!(
            "# Generated {} by retool-audit {}: {calls} API call(s), {} manual step(s).",
            format_time(&ctx.generated_at),
            crate::VERSION,
            entries.len() - calls
        ),
    );
    s.push_str(
        "#\n\
         # retool-audit never runs this script. It CHANGES your Retool organization: read every\n\
         # call first. It stops at the first failing call; after running it, take a snapshot and\n\
         # make a new plan (review status shows what is done) rather than running it again.\n\
         # Needs bash and curl 7.76+, and in the environment:\n\
         #   RETOOL_BASE_URL   the instance root, e.g. https://acme.retool.com\n\
         #   RETOOL_API_TOKEN  an API v2 token with the write scopes the calls need\n\
         #                     (Groups > Write, Permissions > Write, Users > Write)\n\
         # The token is read when the script runs and passed to curl on a file descriptor,\n\
         # so it is not in the script, its output, or the process list.\n",
    );
    if ctx.dialect == Dialect::V1 {
        s.push_str(
            "# NOTE: this history was collected with the v1 Management API; these calls use\n\
             # API v2 paths and ids. Check that the ids match your instance before running.\n",
        );
    }
    s.push_str(
        "\nset -euo pipefail\n\
         : \"${RETOOL_BASE_URL:?set RETOOL_BASE_URL to the Retool instance root, e.g. https://acme.retool.com}\"\n\
         : \"${RETOOL_API_TOKEN:?set RETOOL_API_TOKEN to an API token with the write scopes listed above}\"\n\
         base=\"${RETOOL_BASE_URL%/}\"\n\
         base=\"${base%/api/v2}\"\n\
         auth_header() { printf 'Authorization: Bearer %s\\n' \"$RETOOL_API_TOKEN\"; }\n",
    );
    let total = entries.len();
    for (i, e) in entries.iter().enumerate() {
        let n = i + 1;
        s.push('\n');
        let what = format!(
            "# [{n}/{total}] {} {} {}: {} {}",
            e.decision, e.status, e.row_key, e.email, e.target
        );
        line(&mut s, &one_line(&what));
        line(
            &mut s,
            &one_line(&format!(
                "#   reviewer: {}; reason: {}",
                e.reviewer.as_deref().unwrap_or("(not named)"),
                e.reason.as_deref().unwrap_or("(none given)")
            )),
        );
        line(&mut s, &one_line(&format!("#   status: {}", e.detail)));
        if let Some(note) = &e.note {
            line(&mut s, &one_line(&format!("#   note: {note}")));
        }
        match (&e.method, &e.path, &e.manual) {
            (Some(method), Some(path), _) => {
                let progress = format!("[{n}/{total}] {method} {path}");
                line(&mut s, &format!("echo {} >&2", sh_quote(&progress)));
                let mut curl = format!(
                    "curl --silent --show-error --fail-with-body -X {method} -H @<(auth_header)"
                );
                if let Some(body) = &e.body {
                    let _ = write!(
                        curl,
                        " -H 'Content-Type: application/json' --data-binary {}",
                        sh_quote(&body.to_string())
                    );
                }
                let _ = write!(curl, " \"$base\"{}", sh_quote(path));
                line(&mut s, &curl);
                line(&mut s, "echo");
            }
            (_, _, manual) => {
                let why = manual.as_deref().unwrap_or("not derivable");
                line(&mut s, &one_line(&format!("# manual: {why}")));
            }
        }
    }
    s.push_str("\necho 'retool-audit plan: every call succeeded' >&2\n");
    s
}

/// The plan as pretty JSON: an array of entries (see [`PlanEntry`]).
pub fn render_json(entries: &[PlanEntry]) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(entries).map(|s| s + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::fixtures::scenario;

    fn entries() -> (Vec<PlanEntry>, String) {
        let s = scenario(true);
        let data = s.data();
        let rows = crate::review::status::evaluate(&data);
        let entries = plan(&data.items, &rows);
        let ctx = PlanContext {
            campaign: &data.campaign,
            latest: data.latest_snapshot(),
            dialect: Dialect::V2,
            generated_at: data.campaign.created_at,
        };
        let script = render_script(&entries, &ctx);
        (entries, script)
    }

    fn find<'a>(entries: &'a [PlanEntry], key: &str) -> &'a PlanEntry {
        entries
            .iter()
            .find(|e| e.row_key == key)
            .unwrap_or_else(|| panic!("no plan entry {key}"))
    }

    #[test]
    fn each_pending_decision_gets_its_call_and_done_rows_none() {
        let (entries, _) = entries();
        let keys: Vec<&str> = entries.iter().map(|e| e.row_key.as_str()).collect();
        // Done rows (m:2:u-alice, m:2:u-erin, m:1:u-bob, a:u-dave) need nothing.
        assert_eq!(
            keys,
            vec![
                "g:u-alice:app:a-top",
                "g:u-bob:workflow:w-1",
                "g:u-carol:app:a-top",
                "m:2:u-bob",
                "m:3:u-carol"
            ]
        );
        let carol = find(&entries, "m:3:u-carol");
        assert_eq!(
            (carol.method.as_deref(), carol.path.as_deref(), &carol.body),
            (
                Some("DELETE"),
                Some("/api/v2/groups/3/members/u-carol"),
                &None
            )
        );
        assert_eq!(carol.reviewer.as_deref(), Some("sam"));
        assert_eq!(carol.reason.as_deref(), Some("no longer a DBA"));
        let grant = find(&entries, "g:u-carol:app:a-top");
        assert_eq!(grant.method.as_deref(), Some("POST"));
        assert_eq!(grant.path.as_deref(), Some("/api/v2/permissions/revoke"));
        assert_eq!(
            grant.body,
            Some(json!({"subject": {"type": "user", "id": "u-carol"},
                        "object": {"type": "app", "id": "a-top"}}))
        );
        // Lowered but not gone: revoke what is left.
        assert_eq!(
            find(&entries, "g:u-alice:app:a-top").method.as_deref(),
            Some("POST")
        );
        // Workflows cannot be revoked through the API; a partially done
        // membership needs a person: both manual, never a guessed call.
        for key in ["g:u-bob:workflow:w-1", "m:2:u-bob"] {
            let e = find(&entries, key);
            assert!(e.method.is_none() && e.path.is_none(), "{key}");
            assert!(e.manual.is_some(), "{key}");
        }
        assert!(
            find(&entries, "m:2:u-bob")
                .manual
                .as_deref()
                .unwrap_or("")
                .contains("Ops console")
        );
    }

    fn item_with(kind: ItemKind, decision: Decision, admin: Option<bool>) -> PlanEntry {
        let mut item = match kind {
            ItemKind::Membership => crate::review::fixtures::membership(12, "user_ab12", false),
            ItemKind::Account => crate::review::fixtures::account("user_ab12"),
            ItemKind::DirectGrant => crate::review::fixtures::grant(
                "user_ab12",
                ObjectType::Folder,
                "app_3",
                crate::model::AccessLevel::Edit,
            ),
        };
        item.is_group_admin = admin.or(item.is_group_admin);
        let r = Remediation {
            key: item.key.clone(),
            kind,
            user_id: item.user_id.0.clone(),
            email: item.email.clone(),
            target: "t".into(),
            decision,
            reviewer: None,
            reason: None,
            status: RemediationStatus::Pending,
            proof: crate::review::status::ProofSnapshot {
                id: 1,
                taken_at: chrono::Utc::now(),
                sha256: "x".into(),
            },
            detail: "d".into(),
        };
        entry(&item, &r)
    }

    #[test]
    fn modify_demotes_group_admins_and_accounts_are_disabled() {
        let demote = item_with(ItemKind::Membership, Decision::Modify, Some(true));
        assert_eq!(demote.method.as_deref(), Some("POST"));
        assert_eq!(demote.path.as_deref(), Some("/api/v2/groups/12/members"));
        assert_eq!(
            demote.body,
            Some(json!({"members": [{"id": "user_ab12", "is_group_admin": false}]}))
        );
        let plain = item_with(ItemKind::Membership, Decision::Modify, Some(false));
        assert!(plain.method.is_none() && plain.manual.is_some());
        let disable = item_with(ItemKind::Account, Decision::Revoke, None);
        assert_eq!(disable.method.as_deref(), Some("PATCH"));
        assert_eq!(disable.path.as_deref(), Some("/api/v2/users/user_ab12"));
        assert_eq!(
            disable.body,
            Some(json!({"operations": [{"op": "replace", "path": "/active", "value": false}]}))
        );
        assert!(
            item_with(ItemKind::Account, Decision::Modify, None)
                .manual
                .is_some()
        );
        assert!(
            item_with(ItemKind::DirectGrant, Decision::Modify, None)
                .manual
                .is_some()
        );
        let folder = item_with(ItemKind::DirectGrant, Decision::Revoke, None);
        assert!(
            folder
                .note
                .as_deref()
                .unwrap_or("")
                .contains("directly in the folder")
        );
    }

    #[test]
    fn ids_are_path_segments_and_nothing_more() {
        assert_eq!(segment("user_ab12"), "user_ab12");
        assert_eq!(segment("../x?y=1#z"), "..%2Fx%3Fy%3D1%23z");
        assert_eq!(segment("é'"), "%C3%A9%27");
    }

    #[test]
    fn quoted_values_reach_bash_unchanged_and_comments_stay_comments() {
        let hostile = [
            "'; rm -rf / #",
            "$(touch pwned) `touch pwned` ${HOME}",
            "line one\nrm -rf ~\n",
            "\\'\"\t",
            "",
        ];
        for h in hostile {
            let out = std::process::Command::new("bash")
                .arg("-c")
                .arg(format!("printf %s {}", sh_quote(h)))
                .output();
            match out {
                Ok(out) => assert_eq!(String::from_utf8_lossy(&out.stdout), h),
                Err(e) => eprintln!("SKIP shell round trip: cannot run bash: {e}"),
            }
            assert!(!one_line(h).contains('\n'));
        }
    }

    #[test]
    fn the_script_reads_the_token_at_run_time_and_parses() {
        let (entries, script) = entries();
        assert!(script.starts_with("#!/usr/bin/env bash\n"));
        assert!(script.contains("set -euo pipefail"));
        assert!(script.contains("-H @<(auth_header)"));
        assert_eq!(
            script
                .matches("curl --silent --show-error --fail-with-body")
                .count(),
            entries.iter().filter(|e| e.method.is_some()).count()
        );
        assert_eq!(script.matches("# manual: ").count(), 2);
        match std::process::Command::new("bash")
            .arg("-n")
            .arg("-c")
            .arg(&script)
            .output()
        {
            Ok(out) => assert!(
                out.status.success(),
                "bash -n: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => eprintln!("SKIP bash -n: cannot run bash: {e}"),
        }
        let json: Value = serde_json::from_str(&render_json(&entries).unwrap()).unwrap();
        assert_eq!(json.as_array().map(Vec::len), Some(entries.len()));
        assert_eq!(json[0]["row_key"], "g:u-alice:app:a-top");
        assert_eq!(json[0]["method"], "POST");
    }
}
