//! Remediation proof: for each row whose current decision is revoke or modify,
//! the org's snapshots taken after the campaign's say whether the access is
//! gone (`done`), partly gone (`partially done`) or still there (`pending`),
//! and which snapshot proves it.
//!
//! [`load`] reads what is needed from the history (states of the campaign's and
//! the latest snapshot, and each row's record versions); [`evaluate`] is a pure
//! function of that.
//!
//! Rules, per snapshot after the campaign's:
//! - revoke membership: gone when the membership is gone or the user is
//!   deleted or disabled; when the membership is gone at the latest snapshot
//!   but the (active) user still reaches, at edit or own, objects the group
//!   brought (through another group, a folder or a direct grant), the row is
//!   `partially done` and names them;
//! - revoke direct grant: gone when the grant is gone; lowered (but not none)
//!   is `partially done`;
//! - revoke account: gone when the user is disabled or deleted;
//! - modify membership: done when `is_group_admin` changed or the membership
//!   is gone; modify direct grant: done when the level changed or it is gone;
//!   modify account cannot be proven from the history (always `pending`).
//!
//! The latest snapshot decides the status. The proof of a `done` (or `partially
//! done`) row is the first snapshot of the unbroken run, ending at the latest,
//! in which it was so; of a `pending` row the latest snapshot. Access that was
//! gone in an intermediate snapshot and came back is `pending` with "re-granted
//! in snapshot N". Without any snapshot since the campaign's every row is
//! `pending` ("no snapshot since the campaign").

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Campaign, Decision, ItemKind, ReviewItem, StoredDecision};
use crate::analyze::{AccessIndex, join_via};
use crate::model::{AccessLevel, GroupId, ObjectRef, OrgState, SnapshotMeta};
use crate::store::{Store, StoreError, Version};

/// At most this many objects are named in a `partially done` detail.
const MAX_NAMED: usize = 5;

/// Whether a decision was carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum RemediationStatus {
    #[serde(rename = "done")]
    Done,
    #[serde(rename = "partially done")]
    PartiallyDone,
    #[serde(rename = "pending")]
    Pending,
}

impl RemediationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RemediationStatus::Done => "done",
            RemediationStatus::PartiallyDone => "partially done",
            RemediationStatus::Pending => "pending",
        }
    }
}

impl fmt::Display for RemediationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The snapshot that proves a row's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProofSnapshot {
    pub id: i64,
    pub taken_at: DateTime<Utc>,
    pub sha256: String,
}

impl From<&SnapshotMeta> for ProofSnapshot {
    fn from(m: &SnapshotMeta) -> Self {
        ProofSnapshot {
            id: m.id,
            taken_at: m.taken_at(),
            sha256: m.sha256.clone(),
        }
    }
}

/// One row's record versions after the campaign's snapshot (only the ones its
/// kind needs are filled).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowHistory {
    /// Memberships: `is_group_admin` per version.
    pub membership: Vec<Version<bool>>,
    /// Direct grants: the level per version.
    pub grant: Vec<Version<AccessLevel>>,
    /// Memberships and accounts: the user's `active` per version.
    pub user: Vec<Version<bool>>,
}

/// The remediation status of one revoke or modify decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Remediation {
    pub key: String,
    pub kind: ItemKind,
    pub user_id: String,
    pub email: String,
    /// What the row is about: `group "Finance" (12)`, `app "Payroll" (app-1) at edit`, `account`.
    pub target: String,
    pub decision: Decision,
    pub reviewer: Option<String>,
    pub reason: Option<String>,
    pub status: RemediationStatus,
    pub proof: ProofSnapshot,
    /// What the proof snapshot shows, in words.
    pub detail: String,
}

/// Everything `review status` and `review plan` read from the history.
#[derive(Debug, Clone)]
pub struct StatusData {
    pub campaign: Campaign,
    pub campaign_snapshot: SnapshotMeta,
    /// The frozen population, in key order.
    pub items: Vec<ReviewItem>,
    /// Every decision ever imported, in import order (superseded ones too).
    pub decisions: Vec<StoredDecision>,
    /// The org's snapshots after the campaign's, oldest first.
    pub later: Vec<SnapshotMeta>,
    /// Per row key whose current decision is revoke or modify.
    pub histories: BTreeMap<String, RowHistory>,
    pub campaign_state: OrgState,
    /// The state of the last of `later`, when there is one.
    pub latest_state: Option<OrgState>,
}

impl StatusData {
    /// Each row's current decision (the one not superseded), by key.
    pub fn current_decisions(&self) -> BTreeMap<&str, &StoredDecision> {
        self.decisions
            .iter()
            .filter(|d| d.superseded_by.is_none())
            .map(|d| (d.key.as_str(), d))
            .collect()
    }

    /// The newest snapshot the status is judged on (the campaign's when there
    /// is none since).
    pub fn latest_snapshot(&self) -> &SnapshotMeta {
        self.later.last().unwrap_or(&self.campaign_snapshot)
    }
}

/// Reads a campaign's population, decisions, later snapshots, the two states
/// and each remediation row's record versions.
pub fn load(store: &Store, campaign: Campaign) -> Result<StatusData, StoreError> {
    let items = store.campaign_items(campaign.id)?;
    let decisions = store.decisions(campaign.id, true)?;
    let campaign_snapshot = store.snapshot(campaign.snapshot_id)?;
    let later: Vec<SnapshotMeta> = store
        .snapshots(Some(&campaign.org))?
        .into_iter()
        .filter(|s| s.id > campaign.snapshot_id)
        .collect();
    let after = campaign.snapshot_id;
    let org = campaign.org.as_str();
    let mut histories = BTreeMap::new();
    let by_key: BTreeMap<&str, &ReviewItem> = items.iter().map(|i| (i.key.as_str(), i)).collect();
    for d in decisions.iter().filter(|d| d.superseded_by.is_none()) {
        let Some(item) = by_key.get(d.key.as_str()) else {
            continue;
        };
        if !d.decision.needs_remediation() {
            continue;
        }
        let mut h = RowHistory::default();
        match item.kind {
            ItemKind::Membership => {
                if let Some(g) = item.group_id {
                    h.membership = store.membership_versions(org, g, &item.user_id, after)?;
                }
                h.user = store.user_versions(org, &item.user_id, after)?;
            }
            ItemKind::DirectGrant => {
                if let Some(o) = &item.object {
                    h.grant = store.direct_grant_versions(org, &item.user_id, o, after)?;
                }
            }
            ItemKind::Account => h.user = store.user_versions(org, &item.user_id, after)?,
        }
        histories.insert(d.key.clone(), h);
    }
    let campaign_state = store.state_at(campaign.snapshot_id)?;
    let latest_state = match later.last() {
        Some(s) => Some(store.state_at(s.id)?),
        None => None,
    };
    Ok(StatusData {
        campaign,
        campaign_snapshot,
        items,
        decisions,
        later,
        histories,
        campaign_state,
        latest_state,
    })
}

/// What one snapshot shows for one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Done,
    Partial,
    Pending,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    UserDeleted,
    UserDisabled,
    MembershipRemoved,
    StillMember,
    AdminChanged(bool),
    AdminUnchanged,
    GrantRemoved,
    Lowered(AccessLevel),
    Changed(AccessLevel),
    StillHeld(AccessLevel),
    StillActive,
    NotProvable,
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seen::UserDeleted => f.write_str("user deleted"),
            Seen::UserDisabled => f.write_str("user disabled"),
            Seen::MembershipRemoved => f.write_str("membership removed"),
            Seen::StillMember => f.write_str("still a member"),
            Seen::AdminChanged(true) => f.write_str("made group admin"),
            Seen::AdminChanged(false) => f.write_str("no longer group admin"),
            Seen::AdminUnchanged => f.write_str("still a member, group admin unchanged"),
            Seen::GrantRemoved => f.write_str("grant removed"),
            Seen::Lowered(l) => write!(f, "lowered to {l}"),
            Seen::Changed(l) => write!(f, "changed to {l}"),
            Seen::StillHeld(l) => write!(f, "still held at {l}"),
            Seen::StillActive => f.write_str("still active"),
            Seen::NotProvable => f.write_str(
                "a modify decision on an account cannot be proven from the history: check by hand",
            ),
        }
    }
}

impl Seen {
    fn class(self) -> Class {
        match self {
            Seen::UserDeleted
            | Seen::UserDisabled
            | Seen::MembershipRemoved
            | Seen::AdminChanged(_)
            | Seen::GrantRemoved
            | Seen::Changed(_) => Class::Done,
            Seen::Lowered(_) => Class::Partial,
            Seen::StillMember
            | Seen::AdminUnchanged
            | Seen::StillHeld(_)
            | Seen::StillActive
            | Seen::NotProvable => Class::Pending,
        }
    }
}

fn at<T: Copy>(versions: &[Version<T>], snapshot: i64) -> Option<T> {
    versions
        .iter()
        .find(|v| v.covers(snapshot))
        .map(|v| v.value)
}

/// What snapshot `s` shows for `item` under `decision` (revoke or modify).
fn observe(item: &ReviewItem, decision: Decision, h: &RowHistory, s: i64) -> Seen {
    let user = || match at(&h.user, s) {
        None => Some(Seen::UserDeleted),
        Some(false) => Some(Seen::UserDisabled),
        Some(true) => None,
    };
    let level = || {
        h.grant
            .iter()
            .filter(|v| v.covers(s))
            .map(|v| v.value)
            .max()
    };
    let original = item.access_level.unwrap_or(AccessLevel::None);
    let modify = decision == Decision::Modify;
    match (item.kind, modify) {
        (ItemKind::Membership, false) => user().unwrap_or_else(|| match at(&h.membership, s) {
            None => Seen::MembershipRemoved,
            Some(_) => Seen::StillMember,
        }),
        (ItemKind::Membership, true) => match at(&h.membership, s) {
            None => Seen::MembershipRemoved,
            Some(admin) if Some(admin) != item.is_group_admin => Seen::AdminChanged(admin),
            Some(_) => Seen::AdminUnchanged,
        },
        (ItemKind::DirectGrant, false) => match level() {
            None | Some(AccessLevel::None) => Seen::GrantRemoved,
            Some(l) if l < original => Seen::Lowered(l),
            Some(l) => Seen::StillHeld(l),
        },
        (ItemKind::DirectGrant, true) => match level() {
            None | Some(AccessLevel::None) => Seen::GrantRemoved,
            Some(l) if l != original => Seen::Changed(l),
            Some(l) => Seen::StillHeld(l),
        },
        (ItemKind::Account, false) => user().unwrap_or(Seen::StillActive),
        (ItemKind::Account, true) => Seen::NotProvable,
    }
}

/// The status of every row whose current decision is revoke or modify, in
/// population (key) order.
pub fn evaluate(data: &StatusData) -> Vec<Remediation> {
    let current = data.current_decisions();
    let campaign_index = AccessIndex::new(&data.campaign_state);
    let latest_index = data.latest_state.as_ref().map(AccessIndex::new);
    let empty = RowHistory::default();
    let mut out = Vec::new();
    for item in &data.items {
        let Some(d) = current.get(item.key.as_str()) else {
            continue;
        };
        if !d.decision.needs_remediation() {
            continue;
        }
        let h = data.histories.get(&item.key).unwrap_or(&empty);
        let seen: Vec<(&SnapshotMeta, Seen)> = data
            .later
            .iter()
            .map(|s| (s, observe(item, d.decision, h, s.id)))
            .collect();
        let (mut status, proof, mut detail) = judge(&seen).unwrap_or_else(|| {
            (
                RemediationStatus::Pending,
                &data.campaign_snapshot,
                "no snapshot since the campaign".to_string(),
            )
        });
        let last = seen.last().map(|(_, x)| *x);
        if let (Some(Seen::MembershipRemoved), Some(index), Some(group), Decision::Revoke) =
            (last, &latest_index, item.group_id, d.decision)
        {
            let residual = still_reached(&campaign_index, index, item, group);
            if !residual.is_empty() {
                status = RemediationStatus::PartiallyDone;
                detail.push_str(&format!(
                    "; but the user still reaches at edit or own what the group brought: {}",
                    name_some(&residual)
                ));
            }
        }
        out.push(Remediation {
            key: item.key.clone(),
            kind: item.kind,
            user_id: item.user_id.0.clone(),
            email: item.email.clone(),
            target: target(&campaign_index, &data.campaign_state, item),
            decision: d.decision,
            reviewer: d.reviewer.clone(),
            reason: d.reason.clone(),
            status,
            proof: ProofSnapshot::from(proof),
            detail,
        });
    }
    out
}

/// Status, proof snapshot and detail from what each later snapshot showed
/// (oldest first); `None` when there is no later snapshot.
fn judge<'a>(
    seen: &[(&'a SnapshotMeta, Seen)],
) -> Option<(RemediationStatus, &'a SnapshotMeta, String)> {
    let &(latest, last) = seen.last()?;
    let class = last.class();
    // The start of the unbroken run, ending at the latest, of the same class.
    let start = seen
        .iter()
        .rposition(|(_, x)| x.class() != class)
        .map_or(0, |i| i + 1);
    let came_back = (class != Class::Done)
        .then(|| {
            seen[..start]
                .iter()
                .rposition(|(_, x)| x.class() == Class::Done)
        })
        .flatten()
        .map(|i| (seen[i].0.id, seen[i + 1].0.id));
    let mut detail = match class {
        Class::Pending => format!("{last} in snapshot {} (the latest)", latest.id),
        _ if seen[start].0.id == latest.id => {
            format!("{last} in snapshot {} (the latest)", latest.id)
        }
        _ => format!(
            "{last} since snapshot {} (still so in snapshot {}, the latest)",
            seen[start].0.id, latest.id
        ),
    };
    if let Some((gone, back)) = came_back {
        detail.push_str(&format!(
            "; it was gone in snapshot {gone} but re-granted in snapshot {back}"
        ));
    }
    Some(match class {
        Class::Done => (RemediationStatus::Done, seen[start].0, detail),
        Class::Partial => (RemediationStatus::PartiallyDone, seen[start].0, detail),
        Class::Pending => (RemediationStatus::Pending, latest, detail),
    })
}

/// The objects `group` brought `item`'s user at edit or own in the campaign's
/// snapshot that the user still reaches at edit or own in the latest one, with
/// the level and sources.
fn still_reached(
    campaign: &AccessIndex<'_>,
    latest: &AccessIndex<'_>,
    item: &ReviewItem,
    group: GroupId,
) -> Vec<String> {
    campaign
        .objects_of_group(group, AccessLevel::Edit)
        .into_iter()
        .filter(|(o, _)| latest.knows(o))
        .filter_map(|(o, _)| {
            let (level, mut via) = latest.level(&item.user_id, &o);
            // Only the sources that keep it at edit or own.
            via.retain(|v| v.level >= AccessLevel::Edit);
            (level >= AccessLevel::Edit).then(|| {
                format!(
                    "{} \"{}\" ({level} via {})",
                    o.object_type,
                    latest.object_name(o.object_type, &o.id),
                    join_via(&via)
                )
            })
        })
        .collect()
}

/// The first few names, then how many more.
fn name_some(names: &[String]) -> String {
    let mut s = names
        .iter()
        .take(MAX_NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > MAX_NAMED {
        s.push_str(&format!(" and {} more", names.len() - MAX_NAMED));
    }
    s
}

/// What a row is about, in words, with names from the campaign's snapshot.
pub fn target(index: &AccessIndex<'_>, state: &OrgState, item: &ReviewItem) -> String {
    match item.kind {
        ItemKind::Membership => {
            let Some(g) = item.group_id else {
                return "membership".to_string();
            };
            let name = state
                .group(g)
                .map_or_else(|| "(not in snapshot)".to_string(), |g| g.name.clone());
            let admin = if item.is_group_admin == Some(true) {
                " as group admin"
            } else {
                ""
            };
            format!("group \"{name}\" ({g}){admin}")
        }
        ItemKind::DirectGrant => match &item.object {
            Some(o) => object_words(index, o, item.access_level),
            None => "direct grant".to_string(),
        },
        ItemKind::Account => "account".to_string(),
    }
}

fn object_words(index: &AccessIndex<'_>, o: &ObjectRef, level: Option<AccessLevel>) -> String {
    let mut s = format!(
        "{} \"{}\" ({})",
        o.object_type,
        index.object_name(o.object_type, &o.id),
        o.id
    );
    if let Some(l) = level {
        s.push_str(&format!(" at {l}"));
    }
    s
}

/// Counts of a status list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    pub done: usize,
    pub partially_done: usize,
    pub pending: usize,
}

impl StatusCounts {
    pub fn add(&mut self, status: RemediationStatus) {
        match status {
            RemediationStatus::Done => self.done += 1,
            RemediationStatus::PartiallyDone => self.partially_done += 1,
            RemediationStatus::Pending => self.pending += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::fixtures::{Scenario, scenario};

    fn by_key<'a>(rows: &'a [Remediation], key: &str) -> &'a Remediation {
        rows.iter()
            .find(|r| r.key == key)
            .unwrap_or_else(|| panic!("no remediation row {key}: {rows:#?}"))
    }

    fn status_and_proof(s: &Scenario, rows: &[Remediation], key: &str) -> (RemediationStatus, i64) {
        let r = by_key(rows, key);
        let index = s.snapshots.iter().position(|m| m.id == r.proof.id);
        (r.status, index.map_or(-1, |i| i as i64 + 1))
    }

    #[test]
    fn each_decision_is_proven_by_the_right_snapshot() {
        let s = scenario(true);
        let rows = s.status();
        use RemediationStatus::*;
        let expect = [
            ("m:2:u-alice", Done, 2),
            ("m:2:u-bob", PartiallyDone, 2),
            ("m:3:u-carol", Pending, 3),
            ("m:2:u-erin", Done, 2),
            ("m:1:u-bob", Done, 3),
            ("g:u-alice:app:a-top", PartiallyDone, 2),
            ("g:u-carol:app:a-top", Pending, 3),
            ("g:u-bob:workflow:w-1", Pending, 3),
            ("a:u-dave", Done, 3),
        ];
        for (key, status, snapshot) in expect {
            assert_eq!(
                status_and_proof(&s, &rows, key),
                (status, snapshot),
                "{key}: {:?}",
                by_key(&rows, key).detail
            );
        }
        assert_eq!(
            rows.len(),
            expect.len(),
            "keep and undecided rows have no status"
        );
        let proof = &by_key(&rows, "m:2:u-alice").proof;
        assert_eq!(proof.sha256, s.snapshots[1].sha256);
        assert_eq!(proof.taken_at, s.snapshots[1].taken_at());
    }

    #[test]
    fn details_say_what_the_proof_shows() {
        let s = scenario(true);
        let rows = s.status();
        let detail = |k: &str| by_key(&rows, k).detail.clone();
        let (s2, s3) = (s.snapshots[1].id, s.snapshots[2].id);
        assert_eq!(
            detail("m:2:u-alice"),
            format!(
                "membership removed since snapshot {s2} (still so in snapshot {s3}, the latest)"
            )
        );
        let bob = detail("m:2:u-bob");
        assert!(
            bob.contains("still reaches at edit or own")
                && bob.contains("app \"Ops console\" (edit via direct)"),
            "{bob}"
        );
        assert!(detail("m:2:u-erin").starts_with("user disabled since"));
        assert_eq!(
            detail("m:1:u-bob"),
            format!("no longer group admin in snapshot {s3} (the latest)")
        );
        assert!(detail("g:u-alice:app:a-top").starts_with("lowered to use since"));
        assert_eq!(
            detail("g:u-carol:app:a-top"),
            format!(
                "still held at own in snapshot {s3} (the latest); it was gone in snapshot {s2} \
                 but re-granted in snapshot {s3}"
            )
        );
        assert_eq!(
            detail("a:u-dave"),
            format!("user disabled in snapshot {s3} (the latest)")
        );
        assert_eq!(
            by_key(&rows, "m:2:u-bob").target,
            "group \"Eng\" (2)",
            "names come from the campaign's snapshot"
        );
        assert_eq!(
            by_key(&rows, "g:u-carol:app:a-top").target,
            "app \"Top app\" (a-top) at own"
        );
        assert_eq!(
            by_key(&rows, "m:1:u-bob").target,
            "group \"All Users\" (1) as group admin"
        );
    }

    #[test]
    fn without_a_later_snapshot_everything_is_pending_on_the_campaign_snapshot() {
        let s = scenario(false);
        let rows = s.status();
        assert_eq!(rows.len(), 9);
        for r in &rows {
            assert_eq!(r.status, RemediationStatus::Pending, "{}", r.key);
            assert_eq!(r.proof.id, s.campaign.snapshot_id);
            assert_eq!(r.detail, "no snapshot since the campaign");
        }
    }

    #[test]
    fn a_newer_decision_replaces_the_older_one() {
        let mut s = scenario(true);
        let c = s.campaign.clone();
        crate::review::fixtures::decide(
            &mut s.store,
            &c,
            &[(
                "m:3:u-carol",
                Decision::Keep,
                "still a DBA after all",
                "sam",
            )],
        );
        let rows = s.status();
        assert!(
            rows.iter().all(|r| r.key != "m:3:u-carol"),
            "kept rows need no remediation"
        );
        assert_eq!(rows.len(), 8);
    }

    fn meta(id: i64) -> SnapshotMeta {
        SnapshotMeta {
            id,
            org: "o".into(),
            info: Default::default(),
            counts: Default::default(),
            not_collected: Default::default(),
            sha256: format!("sha{id}"),
            prev_sha256: None,
        }
    }

    #[test]
    fn judge_uses_the_unbroken_run_at_the_end() {
        let metas: Vec<SnapshotMeta> = (2..=6).map(meta).collect();
        let seen = |xs: &[Seen]| -> Vec<(&SnapshotMeta, Seen)> {
            metas.iter().zip(xs.iter().copied()).collect()
        };
        use Seen::*;
        // Gone, back, gone again: done since the last removal, not the first.
        let (status, proof, detail) = judge(&seen(&[
            MembershipRemoved,
            StillMember,
            MembershipRemoved,
            MembershipRemoved,
        ]))
        .unwrap();
        assert_eq!((status, proof.id), (RemediationStatus::Done, 4));
        assert!(
            detail.contains("since snapshot 4 (still so in snapshot 5"),
            "{detail}"
        );
        // Gone, then back at a lower level: partially done, with the re-grant noted.
        let (status, proof, detail) =
            judge(&seen(&[GrantRemoved, Lowered(AccessLevel::Use)])).unwrap();
        assert_eq!((status, proof.id), (RemediationStatus::PartiallyDone, 3));
        assert!(
            detail.ends_with("gone in snapshot 2 but re-granted in snapshot 3"),
            "{detail}"
        );
        assert!(judge(&[]).is_none());
    }
}
