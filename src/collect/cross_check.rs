//! The cross-check: Retool's own access list (`GET
//! /permissions/accessList/{type}/{id}`) for a reproducible sample of objects,
//! compared user by user with the effective access computed from the
//! snapshot ([`AccessIndex`]).
//!
//! The sample is seeded by the API root and the collection's start time (both
//! in the snapshot's evidence, so it can be re-derived): objects that carry an
//! edit or own grant (or an object role) come first, then a spread over apps,
//! resources, workflows and folders, each ordered by SHA-256 of the seed and
//! the object. For each object every user Retool lists, and every active user
//! it does not list (Retool's level `none`), is one pair. An object whose list
//! cannot be read (an older Retool answers 404 for resources and workflows)
//! is "not checked", never a disagreement; a 403 means the token lacks
//! `permissions:read` and the cross-check does not run.

use std::collections::{BTreeSet, HashMap, HashSet};

use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

use crate::analyze::access::{AccessIndex, join_via};
use crate::analyze::roles::role_level;
use crate::model::cross_check::MAX_DISAGREEMENTS;
use crate::model::{
    AccessLevel, CrossCheck, Disagreement, ObjectId, ObjectRef, ObjectType, OrgState, UserId,
};
use crate::retool::{ApiError, Client, ListedUser};

/// How many objects to check: `usize::MAX` means all of them.
pub const ALL_OBJECTS: usize = usize::MAX;

/// The objects a cross-check of `n` objects asks about, in order.
pub fn sample(state: &OrgState, n: usize, seed: &str) -> Vec<ObjectRef> {
    let rank = |o: &ObjectRef| -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(seed.as_bytes());
        h.update([0]);
        h.update(o.object_type.as_str().as_bytes());
        h.update([0]);
        h.update(o.id.0.as_bytes());
        h.finalize().into()
    };
    let object = |object_type, id: &ObjectId| ObjectRef {
        object_type,
        id: id.clone(),
    };
    let per_type: [Vec<ObjectRef>; 4] = [
        state
            .apps
            .iter()
            .map(|a| object(ObjectType::App, &a.id))
            .collect(),
        state
            .resources
            .iter()
            .map(|r| object(ObjectType::Resource, &r.id))
            .collect(),
        state
            .workflows
            .iter()
            .map(|w| object(ObjectType::Workflow, &w.id))
            .collect(),
        state
            .folders
            .iter()
            .map(|f| object(ObjectType::Folder, &f.id))
            .collect(),
    ];
    let known: HashSet<&ObjectRef> = per_type.iter().flatten().collect();
    // Objects with edit or own through a grant or an object role first.
    let roles: HashMap<&str, &crate::model::Role> =
        state.roles.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut powerful: BTreeSet<([u8; 32], ObjectRef)> = BTreeSet::new();
    for g in state.grants.iter().filter(|g| g.level >= AccessLevel::Edit) {
        if known.contains(&g.object) {
            powerful.insert((rank(&g.object), g.object.clone()));
        }
    }
    for rg in &state.role_grants {
        let (Some(o), Some(role)) = (rg.object(), roles.get(rg.role_id.as_str())) else {
            continue;
        };
        if known.contains(&o) && role_level(role, o.object_type) >= AccessLevel::Edit {
            powerful.insert((rank(&o), o));
        }
    }
    let mut out: Vec<ObjectRef> = powerful.into_iter().map(|(_, o)| o).collect();
    let mut chosen: HashSet<ObjectRef> = out.iter().cloned().collect();
    let mut queues: Vec<std::vec::IntoIter<ObjectRef>> = per_type
        .into_iter()
        .map(|mut objects| {
            objects.sort_by_cached_key(|o| rank(o));
            objects.into_iter()
        })
        .collect();
    // Round robin over the types until every queue is empty.
    loop {
        let mut any = false;
        for q in &mut queues {
            for o in q.by_ref() {
                if chosen.insert(o.clone()) {
                    out.push(o);
                    any = true;
                    break;
                }
            }
        }
        if !any {
            break;
        }
    }
    out.truncate(n);
    out
}

/// Runs the cross-check of `n` objects (see the module docs). `Err` when it
/// cannot run at all (the reason).
pub async fn cross_check(
    client: &Client,
    state: &OrgState,
    n: usize,
    seed: &str,
) -> Result<CrossCheck, String> {
    let objects = sample(state, n, seed);
    let mut tasks = JoinSet::new();
    for (i, object) in objects.iter().enumerate() {
        let client = client.clone();
        let object = object.clone();
        tasks.spawn(async move { (i, client.access_list(&object).await) });
    }
    let mut lists: Vec<Option<Result<Vec<ListedUser>, ApiError>>> = vec![None; objects.len()];
    while let Some(joined) = tasks.join_next().await {
        let (i, result) = joined.map_err(|e| format!("a cross-check task stopped: {e}"))?;
        if let Err(ApiError::MissingScope { .. } | ApiError::Unauthorized { .. }) = &result {
            tasks.abort_all();
            return Err("missing scope permissions:read (403)".to_string());
        }
        if let Err(ApiError::Unsupported { dialect, .. }) = &result {
            tasks.abort_all();
            return Err(format!("not available in the {dialect} API"));
        }
        if let Some(slot) = lists.get_mut(i) {
            *slot = Some(result);
        }
    }
    let index = AccessIndex::new(state);
    let active: Vec<&crate::model::User> = state.users.iter().filter(|u| u.active).collect();
    let mut out = CrossCheck::default();
    for (object, list) in objects.into_iter().zip(lists) {
        let listed = match list {
            Some(Ok(listed)) => listed,
            Some(Err(e)) => {
                let why = match &e {
                    ApiError::NotFound { .. } => {
                        "not available for this object type on this Retool version (404)"
                            .to_string()
                    }
                    other => other.to_string(),
                };
                out.not_checked.push((object.clone(), why));
                out.objects.push(object);
                continue;
            }
            None => continue,
        };
        compare(&index, &active, &object, &listed, &mut out);
        out.objects.push(object);
    }
    out.disagreements.sort();
    Ok(out)
}

/// Compares one object's list with the computed levels, adding to `out`.
fn compare(
    index: &AccessIndex<'_>,
    active: &[&crate::model::User],
    object: &ObjectRef,
    listed: &[ListedUser],
    out: &mut CrossCheck,
) {
    let mut seen: HashSet<&str> = HashSet::with_capacity(listed.len());
    let pair = |user_id: &str, retool: AccessLevel, sources: &str, out: &mut CrossCheck| {
        let (level, via) = index.level(&UserId(user_id.to_string()), object);
        out.pairs += 1;
        if level == retool {
            out.agreements += 1;
        } else if out.disagreements.len() < MAX_DISAGREEMENTS {
            out.disagreements.push(Disagreement {
                object: object.clone(),
                user_id: user_id.to_string(),
                retool_level: retool,
                retool_sources: sources.to_string(),
                computed_level: level,
                computed_via: join_via(&via),
            });
        } else {
            out.disagreements_not_kept += 1;
        }
    };
    for u in listed {
        if seen.insert(u.user_id.as_str()) {
            pair(&u.user_id, u.level, &u.sources, out);
        }
    }
    for u in active {
        if !seen.contains(u.id.0.as_str()) {
            pair(&u.id.0, AccessLevel::None, "", out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_reproducible_puts_powerful_objects_first_and_spreads_the_rest() {
        let org = crate::fake::FakeOrg::generate(&crate::fake::OrgSpec::demo(
            chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 20, 12, 0, 0)
                .single()
                .unwrap_or_default(),
        ));
        let s = org.expected_state();
        let a = sample(&s, 20, "seed-1");
        assert_eq!(a, sample(&s, 20, "seed-1"));
        assert_ne!(a, sample(&s, 20, "seed-2"));
        assert_eq!(a.len(), 20);
        let powerful = s
            .grants
            .iter()
            .filter(|g| g.level >= AccessLevel::Edit)
            .map(|g| &g.object)
            .collect::<HashSet<_>>();
        assert!(powerful.contains(&a[0]));
        let all = sample(&s, ALL_OBJECTS, "seed-1");
        let total = s.apps.len() + s.resources.len() + s.workflows.len() + s.folders.len();
        assert_eq!(all.len(), total);
        assert_eq!(
            all.iter().collect::<HashSet<_>>().len(),
            total,
            "no object twice"
        );
        // The powerful objects (edit/own grants and object roles) come first;
        // then the types take turns.
        let mut first: HashSet<&ObjectRef> = powerful;
        first.extend(
            s.role_grants
                .iter()
                .filter_map(|g| g.object())
                .filter_map(|o| all.iter().find(|x| **x == o)),
        );
        let prefix = all.iter().take_while(|o| first.contains(o)).count();
        assert_eq!(prefix, first.len(), "every powerful object first");
        let turn: HashSet<ObjectType> = all[prefix..prefix + 4]
            .iter()
            .map(|o| o.object_type)
            .collect();
        assert_eq!(turn.len(), 4, "one of each type in turn");
        assert_eq!(sample(&s, 0, "seed-1"), Vec::new());
    }
}
