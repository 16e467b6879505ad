//! `retool-audit timeline`: every change to one user's, group's or object's
//! access across a range of snapshots, each in the first snapshot that shows
//! it, with the snapshot before it (the window in which it happened).

use std::path::Path;

use anyhow::anyhow;

use super::answer::{Answer, resolve_at, subject_not_found, write_answer, write_answer_report};
use super::common::pick_org;
use super::{CmdResult, CommandError, Output};
use crate::analyze::lookup::{find_group, find_object, find_user};
use crate::analyze::timeline::{
    TimelineChange, View, diff, group_view, object_view, replace_users, user_view,
};
use crate::cli::TimelineArgs;
use crate::model::{OrgState, SnapshotMeta};
use crate::report::format_time;
use crate::store::{Scope, Store, Touched, Window};

pub(super) fn run(db: &Path, args: &TimelineArgs, out: Output) -> CmdResult {
    let store = Store::open_existing(db)?;
    let org = pick_org(&store, args.org.as_deref())?;
    let to = resolve_at(&store, &org, &args.to, "--to")?;
    let from = match &args.from {
        Some(sel) => resolve_at(&store, &org, sel, "--from")?,
        None => store
            .snapshots(Some(&org))?
            .into_iter()
            .next()
            .ok_or_else(|| CommandError::usage(anyhow!("no snapshots of {org}")))?,
    };
    if from.id > to.id {
        return Err(CommandError::usage(anyhow!(
            "--from picks snapshot #{} ({}), after --to's #{} ({}); swap them",
            from.id,
            format_time(&from.taken_at()),
            to.id,
            format_time(&to.taken_at())
        )));
    }
    let (scope, heading, subject_json) = subject(&store, &org, args, &from, &to)?;
    let window = store.window(&org, &scope, from.id, to.id)?;

    let mut answer = Answer::between(&from, &to);
    answer.subject(subject_json.0, subject_json.1, heading);
    answer.columns(&[
        "seen_in_snapshot",
        "seen_at",
        "snapshot_sha256",
        "previous_snapshot",
        "previous_at",
        "kind",
        "entity",
        "field",
        "old_value",
        "new_value",
        "risk",
    ]);
    answer.rows_name("changes");
    let snaps = &window.snapshots;
    for (i, c) in subject_changes(&window, &scope) {
        let (seen, prev) = (&snaps[i], &snaps[i - 1]);
        answer.row(vec![
            seen.id.to_string(),
            format_time(&seen.taken_at()),
            seen.sha256.clone(),
            prev.id.to_string(),
            format_time(&prev.taken_at()),
            c.kind.to_string(),
            c.entity,
            c.field.to_string(),
            c.old_value,
            c.new_value,
            c.risk.as_str().to_string(),
        ]);
    }
    match &args.out {
        Some(dir) => write_answer_report(&answer, dir, "timeline", "Access timeline", out),
        None => write_answer(&answer, args.format),
    }
}

/// Every change of `scope`'s view across `window`, with the index (into
/// `window.snapshots`) of the snapshot that first shows it. Where only some
/// users' records changed, a group's or an object's view recomputes only
/// their entries.
pub fn subject_changes(window: &Window, scope: &Scope) -> Vec<(usize, TimelineChange)> {
    let view = |state: &OrgState| -> View {
        match scope {
            Scope::User(u) => user_view(state, u),
            Scope::Group(g) => group_view(state, *g),
            Scope::Object(o) => object_view(state, o),
        }
    };
    let mut out = Vec::new();
    let mut current = view(&window.state_at(0));
    // The state without people as of the last change point that changed
    // more than users: reused while only users change.
    let mut fixed: Option<OrgState> = None;
    for (i, touched) in window.change_points() {
        match (scope, touched) {
            (Scope::Group(_) | Scope::Object(_), Touched::Users(users)) => {
                let state = fixed.get_or_insert_with(|| window.state_without_people(i));
                (state.users, state.memberships) = window.people_at(i, &users);
                let partial = view(state);
                (state.users, state.memberships) = (Vec::new(), Vec::new());
                let changes = replace_users(&mut current, &partial, &users);
                out.extend(changes.into_iter().map(|c| (i, c)));
            }
            _ => {
                fixed = None;
                let now = view(&window.state_at(i));
                out.extend(diff(&current, &now).into_iter().map(|c| (i, c)));
                current = now;
            }
        }
    }
    out
}

type Subject = (Scope, String, (&'static str, serde_json::Value));

/// The subject the flags name, looked up in the `--to` snapshot (a user gone
/// by then in the last snapshot that held them; a group or object in `--from`).
fn subject(
    store: &Store,
    org: &str,
    args: &TimelineArgs,
    from: &SnapshotMeta,
    to: &SnapshotMeta,
) -> CmdResult<Subject> {
    let state = store.state_at(to.id)?;
    if let Some(query) = &args.user {
        let found = match find_user(&state, query) {
            Ok(u) => Ok((u.id.clone(), u.email.clone())),
            Err(e) => {
                // Deleted from Retool: look where the history last held them.
                let last = match store.user_span(org, query)? {
                    Some((_, Some(gone))) if gone > from.id => store
                        .snapshots(Some(org))?
                        .into_iter()
                        .rfind(|m| m.id < gone),
                    _ => None,
                };
                let held = last.map(|m| store.state_at(m.id)).transpose()?;
                match held.as_ref().and_then(|s| find_user(s, query).ok()) {
                    Some(u) => Ok((u.id.clone(), u.email.clone())),
                    None => Err(subject_not_found(store, org, to, query, e)),
                }
            }
        }?;
        let (id, email) = found;
        return Ok((
            Scope::User(id.clone()),
            format!("user {email} ({id}): changes after snapshot #{}", from.id),
            ("user", serde_json::json!({"user_id": id.0, "email": email})),
        ));
    }
    let from_state = || store.state_at(from.id);
    if let Some(query) = &args.group {
        let id = match find_group(&state, query) {
            Ok(id) => id,
            Err(e) => find_group(&from_state()?, query)
                .map_err(|_| subject_not_found(store, org, to, query, e))?,
        };
        let name = state
            .group(id)
            .map_or_else(|| id.to_string(), |g| g.name.clone());
        return Ok((
            Scope::Group(id),
            format!("group {name} ({id}): changes after snapshot #{}", from.id),
            ("group", serde_json::json!({"group_id": id.0, "name": name})),
        ));
    }
    let query = args.object.as_deref().unwrap_or_default();
    let object = match find_object(&state, query) {
        Ok(o) => o,
        Err(e) => find_object(&from_state()?, query)
            .map_err(|_| subject_not_found(store, org, to, query, e))?,
    };
    Ok((
        Scope::Object(object.object.clone()),
        format!("{}: changes after snapshot #{}", object.label(), from.id),
        (
            "object",
            serde_json::json!({
                "object_type": object.object.object_type.as_str(),
                "object_id": object.object.id.0,
                "object_name": object.name,
            }),
        ),
    ))
}
