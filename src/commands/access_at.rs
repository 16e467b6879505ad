//! `retool-audit access-at`: one user's effective access, or one object's
//! users, in the last snapshot taken at or before a moment — printed with that
//! snapshot's id, time and SHA-256, the proof the answer rests on.

use std::path::Path;

use anyhow::anyhow;

use super::answer::{Answer, resolve_at, subject_not_found, write_answer, write_answer_report};
use super::common::pick_org;
use super::{CmdResult, Output};
use crate::analyze::AccessIndex;
use crate::analyze::lookup::{find_object, find_user, object_users, user_access};
use crate::cli::AccessAtArgs;
use crate::report::format_time;
use crate::store::Store;

pub(super) fn run(db: &Path, args: &AccessAtArgs, out: Output) -> CmdResult {
    let store = Store::open_existing(db)?;
    let org = pick_org(&store, args.org.as_deref())?;
    let meta = resolve_at(&store, &org, &args.at, "--at")?;
    let state = store.state_at(meta.id)?;
    let index = AccessIndex::new(&state);
    let mut answer = Answer::new(&meta);
    if let Some(query) = &args.user {
        let user = find_user(&state, query)
            .map_err(|e| subject_not_found(&store, &org, &meta, query, e))?;
        let status = if user.active { "active" } else { "disabled" };
        answer.subject(
            "user",
            serde_json::json!({
                "user_id": user.id.0,
                "email": user.email,
                "status": status,
                "is_admin": user.is_admin,
            }),
            format!(
                "user {} ({}): {status}{}{}",
                user.email,
                user.id,
                if user.is_admin { ", admin" } else { "" },
                if user.active {
                    ""
                } else {
                    " — could not sign in; the access below is what its grants give"
                }
            ),
        );
        answer.columns(&[
            "object_type",
            "object_id",
            "object_name",
            "access_level",
            "determining_source",
            "via",
        ]);
        for r in user_access(&index, user) {
            answer.row(vec![
                r.object_type.as_str().to_string(),
                r.object_id.map_or_else(|| "*".to_string(), |id| id.0),
                r.object_name,
                r.level.as_str().to_string(),
                r.determining_source,
                r.via,
            ]);
        }
        answer.rows_name("access");
    } else if let Some(query) = &args.object {
        let object = find_object(&state, query)
            .map_err(|e| subject_not_found(&store, &org, &meta, query, e))?;
        answer.subject(
            "object",
            serde_json::json!({
                "object_type": object.object.object_type.as_str(),
                "object_id": object.object.id.0,
                "object_name": object.name,
            }),
            format!("{}: every active user who reaches it", object.label()),
        );
        answer.columns(&[
            "user_id",
            "email",
            "access_level",
            "determining_source",
            "via",
        ]);
        for u in object_users(&index, &state, &object.object) {
            answer.row(vec![
                u.user.id.0.clone(),
                u.user.email.clone(),
                u.level.as_str().to_string(),
                u.determining_source(),
                u.via_text(),
            ]);
        }
        answer.rows_name("users");
    } else {
        return Err(super::CommandError::usage(anyhow!(
            "give --user or --object (at {})",
            format_time(&meta.taken_at())
        )));
    }
    match &args.out {
        Some(dir) => write_answer_report(&answer, dir, "access_at", "Access at a moment", out),
        None => write_answer(&answer, args.format),
    }
}
