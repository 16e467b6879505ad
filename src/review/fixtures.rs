//! Test-only builders for review campaigns over a real store: population rows,
//! decisions, and a three-snapshot scenario with every remediation outcome.

use chrono::{TimeZone, Utc};

use super::status::{self, Remediation, StatusData};
use super::{Campaign, Decision, DecisionInput, ItemKind, NewCampaign, ReviewItem, ReviewerBy};
use crate::analyze::fixtures::{org, user_grant};
use crate::model::{
    AccessLevel, GroupId, ObjectId, ObjectRef, ObjectType, OrgState, SnapshotMeta, UserId,
};
use crate::store::Store;
use crate::store::fixtures::{open, tmp, write};

pub fn membership(group: i64, user: &str, admin: bool) -> ReviewItem {
    item(
        ReviewItem::membership_key(GroupId(group), &UserId(user.into())),
        ItemKind::Membership,
        user,
        |i| {
            i.group_id = Some(GroupId(group));
            i.is_group_admin = Some(admin);
        },
    )
}

pub fn grant(user: &str, object_type: ObjectType, id: &str, level: AccessLevel) -> ReviewItem {
    let object = ObjectRef {
        object_type,
        id: ObjectId(id.into()),
    };
    item(
        ReviewItem::direct_grant_key(&UserId(user.into()), &object),
        ItemKind::DirectGrant,
        user,
        |i| {
            i.object = Some(object.clone());
            i.access_level = Some(level);
        },
    )
}

pub fn account(user: &str) -> ReviewItem {
    item(
        ReviewItem::account_key(&UserId(user.into())),
        ItemKind::Account,
        user,
        |_| {},
    )
}

fn item(key: String, kind: ItemKind, user: &str, f: impl FnOnce(&mut ReviewItem)) -> ReviewItem {
    let email = format!("{}@example.com", user.trim_start_matches("u-"));
    let mut i = ReviewItem {
        key,
        kind,
        user_id: UserId(user.into()),
        email: email.clone(),
        group_id: None,
        is_group_admin: None,
        object: None,
        access_level: None,
        workbook: "all".into(),
        context: vec![("email".into(), email)],
        suggested: None,
        suggested_reason: None,
    };
    f(&mut i);
    i
}

pub fn campaign(store: &mut Store, snapshot: &SnapshotMeta, items: &[ReviewItem]) -> Campaign {
    let new = NewCampaign {
        org: snapshot.org.clone(),
        name: "2026-Q4".into(),
        snapshot_id: snapshot.id,
        snapshot_sha256: snapshot.sha256.clone(),
        created_at: Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap(),
        reviewer_by: ReviewerBy::Single,
        settings: serde_json::json!({"inactive_days": 90}),
    };
    store.create_campaign(&new, items).unwrap()
}

/// Stores `decisions` (key, decision, reason, reviewer) as one import.
pub fn decide(store: &mut Store, c: &Campaign, decisions: &[(&str, Decision, &str, &str)]) {
    let inputs: Vec<DecisionInput> = decisions
        .iter()
        .map(|(key, decision, reason, reviewer)| DecisionInput {
            key: key.to_string(),
            decision: *decision,
            reason: (!reason.is_empty()).then(|| reason.to_string()),
            reviewer: Some(reviewer.to_string()),
            reviewed_at: Some("2026-11-21".into()),
            source_file: "review_all.xlsx".into(),
            source_sha256: "f00d".into(),
        })
        .collect();
    store
        .import_decisions(
            c.id,
            &inputs,
            Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap(),
        )
        .unwrap();
}

/// The campaign snapshot's org (see `analyze::fixtures::org`) with bob a group
/// admin of All Users and direct grants: alice edit and carol own on `a-top`,
/// frank edit on workflow `w-1`.
pub fn campaign_state() -> OrgState {
    let mut s = org();
    for m in &mut s.memberships {
        if m.group_id == GroupId(1) && m.user_id.0 == "u-bob" {
            m.is_group_admin = true;
        }
    }
    s.grants.push(user_grant(
        "u-alice",
        ObjectType::App,
        "a-top",
        AccessLevel::Edit,
    ));
    s.grants.push(user_grant(
        "u-carol",
        ObjectType::App,
        "a-top",
        AccessLevel::Own,
    ));
    s.grants.push(user_grant(
        "u-bob",
        ObjectType::Workflow,
        "w-1",
        AccessLevel::Edit,
    ));
    s.normalize();
    s
}

pub struct Scenario {
    pub _dir: tempfile::TempDir,
    pub store: Store,
    pub campaign: Campaign,
    pub snapshots: Vec<SnapshotMeta>,
}

impl Scenario {
    pub fn data(&self) -> StatusData {
        status::load(&self.store, self.campaign.clone()).unwrap()
    }

    pub fn status(&self) -> Vec<Remediation> {
        status::evaluate(&self.data())
    }
}

/// Campaign on snapshot 1 of `campaign_state()`; snapshot 2 and 3 carry out
/// some decisions (see the comments); `later` = false stops after snapshot 1.
pub fn scenario(later: bool) -> Scenario {
    let dir = tmp();
    let mut store = open(&dir.path().join("h.db"));
    let s1 = campaign_state();
    let m1 = write(&mut store, "default", s1.clone(), 1);
    let items = vec![
        membership(2, "u-alice", false),
        membership(2, "u-bob", false),
        membership(3, "u-carol", false),
        membership(2, "u-erin", false),
        membership(1, "u-bob", true),
        membership(1, "u-alice", false),
        membership(1, "u-carol", false),
        grant("u-alice", ObjectType::App, "a-top", AccessLevel::Edit),
        grant("u-carol", ObjectType::App, "a-top", AccessLevel::Own),
        grant("u-bob", ObjectType::Workflow, "w-1", AccessLevel::Edit),
        account("u-dave"),
    ];
    let campaign = campaign(&mut store, &m1, &items);
    decide(
        &mut store,
        &campaign,
        &[
            ("m:2:u-alice", Decision::Revoke, "moved to sales", "rita"),
            ("m:2:u-bob", Decision::Revoke, "left the team", "rita"),
            ("m:3:u-carol", Decision::Revoke, "no longer a DBA", "sam"),
            ("m:2:u-erin", Decision::Revoke, "terminated", "rita"),
            ("m:1:u-bob", Decision::Modify, "no admin needed", "sam"),
            ("m:1:u-alice", Decision::Keep, "", "rita"),
            (
                "g:u-alice:app:a-top",
                Decision::Revoke,
                "read only is enough",
                "rita",
            ),
            ("g:u-carol:app:a-top", Decision::Revoke, "not needed", "sam"),
            (
                "g:u-bob:workflow:w-1",
                Decision::Revoke,
                "not needed",
                "sam",
            ),
            ("a:u-dave", Decision::Revoke, "contractor ended", "sam"),
        ],
    );
    let mut snapshots = vec![m1];
    if later {
        // Snapshot 2: alice and bob leave Eng, but bob gets a direct edit grant
        // on a-ops (which Eng's folder grant brought); alice's grant on a-top
        // is lowered to use; carol's grant on a-top is removed.
        let mut s2 = s1.clone();
        s2.memberships.retain(|m| {
            !(m.group_id == GroupId(2) && ["u-alice", "u-bob"].contains(&m.user_id.0.as_str()))
        });
        s2.grants
            .retain(|g| !(g.object.id.0 == "a-top" && g.subject.to_string() == "user:u-carol"));
        for g in &mut s2.grants {
            if g.object.id.0 == "a-top" && g.subject.to_string() == "user:u-alice" {
                g.level = AccessLevel::Use;
            }
        }
        s2.grants.push(user_grant(
            "u-bob",
            ObjectType::App,
            "a-ops",
            AccessLevel::Edit,
        ));
        s2.normalize();
        snapshots.push(write(&mut store, "default", s2.clone(), 2));
        // Snapshot 3: carol's grant is back; dave is disabled; bob is no
        // longer group admin of All Users.
        let mut s3 = s2;
        s3.grants.push(user_grant(
            "u-carol",
            ObjectType::App,
            "a-top",
            AccessLevel::Own,
        ));
        for u in &mut s3.users {
            if u.id.0 == "u-dave" {
                u.active = false;
            }
        }
        for m in &mut s3.memberships {
            if m.group_id == GroupId(1) && m.user_id.0 == "u-bob" {
                m.is_group_admin = false;
            }
        }
        s3.normalize();
        snapshots.push(write(&mut store, "default", s3, 3));
    }
    Scenario {
        _dir: dir,
        store,
        campaign,
        snapshots,
    }
}
