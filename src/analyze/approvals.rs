//! Approval evidence for access added in a period: every user, membership,
//! grant and role grant the changes show added (and every grant raised), who
//! holds it now, and what approved it — an approved access request for the
//! holder's e-mail, decided by the time the access was first seen, or a
//! `keep` decision in a review campaign that saw it — or nothing.

use chrono::{DateTime, Utc};

use super::changes::{ChangeEntity, ChangeKind, SeenChange, role_grant_id};
use crate::model::review::ReviewItem;
use crate::model::{
    AccessLevel, GroupId, ObjectId, ObjectRef, ObjectType, OrgState, Subject, UserId,
};

/// A `keep` decision of a review campaign, current (not superseded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewKeep {
    pub campaign: String,
    /// The snapshot the campaign froze: it saw the access held there.
    pub snapshot_id: i64,
    /// The row: `m:<group>:<user>`, `g:<user>:<type>:<id>` or `a:<user>`.
    pub key: String,
    pub reviewer: Option<String>,
    pub reviewed_at: Option<String>,
}

/// What approved an added access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approval {
    /// An approved access request for the holder's e-mail: its id, who
    /// decided it (e-mail when the snapshot holds them, else the id) and when.
    AccessRequest {
        id: i64,
        approver: Option<String>,
        at: Option<DateTime<Utc>>,
    },
    /// A `keep` decision of a campaign taken at or after the access appeared.
    ReviewKeep(ReviewKeep),
    /// None found.
    None,
}

impl Approval {
    pub fn as_str(&self) -> &'static str {
        match self {
            Approval::AccessRequest { .. } => "access_request",
            Approval::ReviewKeep(_) => "review_keep",
            Approval::None => "none",
        }
    }
}

/// The kinds of added access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AddedKind {
    User,
    Membership,
    Grant,
    RoleGrant,
}

impl AddedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AddedKind::User => "user",
            AddedKind::Membership => "membership",
            AddedKind::Grant => "grant",
            AddedKind::RoleGrant => "role_grant",
        }
    }
}

/// One access added in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessAdded {
    pub seen: SeenChange,
    pub kind: AddedKind,
    /// `added`, or `raised` for a grant whose level went up.
    pub how: &'static str,
    /// The user who holds it (empty for a group's grant or role).
    pub user_id: Option<UserId>,
    pub email: String,
    /// Who holds it now: `yes`, `no` (gone by the reported snapshot), and
    /// for a group's grant or role the group's members now.
    pub held_now: String,
    pub approval: Approval,
}

/// The access `changes` show added or raised, with the approval found for
/// each, in the order of `changes`.
pub fn access_added(
    changes: &[SeenChange],
    state: &OrgState,
    keeps: &[ReviewKeep],
) -> Vec<AccessAdded> {
    changes
        .iter()
        .filter_map(|seen| added(seen, state, keeps))
        .collect()
}

/// The user a subject column pair names (`user`, id) or the group.
fn subject(kind: &str, id: &str) -> Option<Subject> {
    match kind {
        "user" => Some(Subject::User(UserId(id.to_string()))),
        "group" => id.parse().ok().map(|g| Subject::Group(GroupId(g))),
        _ => None,
    }
}

fn added(seen: &SeenChange, state: &OrgState, keeps: &[ReviewKeep]) -> Option<AccessAdded> {
    let c = &seen.change;
    let raised = c.change == ChangeKind::Modified
        && c.entity_type == ChangeEntity::Permission
        && AccessLevel::parse(&c.new_value) > AccessLevel::parse(&c.old_value);
    if c.change != ChangeKind::Added && !raised {
        return None;
    }
    let id = c.entity_id.as_str();
    // What is held, by whom, and the review row that would cover it.
    let (kind, holder, key, held): (AddedKind, Subject, Option<String>, bool) = match c.entity_type
    {
        ChangeEntity::User => {
            let user = UserId(id.to_string());
            let held = state.user(&user).is_some_and(|u| u.active);
            (
                AddedKind::User,
                Subject::User(user.clone()),
                Some(ReviewItem::account_key(&user)),
                held,
            )
        }
        ChangeEntity::Membership => {
            let (group, user) = id.split_once(':')?;
            let group = GroupId(group.parse().ok()?);
            let user = UserId(user.to_string());
            let held = state
                .memberships
                .iter()
                .any(|m| m.group_id == group && m.user_id == user);
            let key = ReviewItem::membership_key(group, &user);
            (AddedKind::Membership, Subject::User(user), Some(key), held)
        }
        ChangeEntity::Permission => {
            let (holder, rest) = match id.strip_prefix("user:") {
                Some(rest) => {
                    let (user, rest) = rest.split_once(':')?;
                    (Subject::User(UserId(user.to_string())), rest)
                }
                None => {
                    let (group, rest) = id.split_once(':')?;
                    (Subject::Group(GroupId(group.parse().ok()?)), rest)
                }
            };
            let (object_type, object_id) = rest.split_once(':')?;
            let object = ObjectRef {
                object_type: ObjectType::parse(object_type)?,
                id: ObjectId(object_id.to_string()),
            };
            let level = AccessLevel::parse(&c.new_value).unwrap_or(AccessLevel::Use);
            let held = state
                .grants
                .iter()
                .any(|g| g.subject == holder && g.object == object && g.level >= level);
            let key = match &holder {
                Subject::User(u) => Some(ReviewItem::direct_grant_key(u, &object)),
                Subject::Group(_) => None,
            };
            (AddedKind::Grant, holder, key, held)
        }
        ChangeEntity::RoleGrant => {
            let grant = state.role_grants.iter().find(|g| role_grant_id(g) == id);
            // `<role>:<subject_type>:<subject_id>[:…]`: the subject from
            // the right of the role id (role ids hold no `:` in Retool, but
            // the grant still held is the better source).
            let holder = match grant {
                Some(g) => subject(&g.subject_type, &g.subject_id)?,
                None => {
                    let mut parts = id.splitn(4, ':');
                    let (_, st, sid) = (parts.next()?, parts.next()?, parts.next()?);
                    subject(st, sid)?
                }
            };
            (AddedKind::RoleGrant, holder, None, grant.is_some())
        }
        _ => return None,
    };
    let (user_id, email, held_now) = match &holder {
        Subject::User(u) => {
            let email = state
                .user(u)
                .map(|u| u.email.clone())
                .or_else(|| email_from_name(c.entity_type, &c.entity_name))
                .unwrap_or_default();
            (Some(u.clone()), email, yes_no(held))
        }
        Subject::Group(g) => {
            let members = state
                .memberships
                .iter()
                .filter(|m| m.group_id == *g)
                .count();
            let now = if held {
                format!("yes: the group's {members} members")
            } else {
                "no".to_string()
            };
            (None, String::new(), now)
        }
    };
    let approval = approval(seen, state, &email, key.as_deref(), keeps);
    Some(AccessAdded {
        seen: seen.clone(),
        kind,
        how: if raised { "raised" } else { "added" },
        user_id,
        email,
        held_now,
        approval,
    })
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

/// A user's e-mail as a change names them (`email`, `email in group`), for a
/// user the reported snapshot no longer holds.
fn email_from_name(entity: ChangeEntity, name: &str) -> Option<String> {
    match entity {
        ChangeEntity::User => Some(name.to_string()),
        ChangeEntity::Membership => name.split_once(" in ").map(|(e, _)| e.to_string()),
        ChangeEntity::Permission => name.split_once(" → ").map(|(e, _)| e.to_string()),
        _ => None,
    }
}

/// The approval of one added access: an approved access request for the
/// e-mail decided by the time the access was seen (the latest), else a
/// current `keep` decision on its review row in a campaign whose snapshot
/// held it (the earliest), else none.
fn approval(
    seen: &SeenChange,
    state: &OrgState,
    email: &str,
    key: Option<&str>,
    keeps: &[ReviewKeep],
) -> Approval {
    if !email.is_empty() {
        let request = state
            .access_requests
            .iter()
            .filter(|r| {
                r.status.eq_ignore_ascii_case("approved")
                    && r.requesting_email.eq_ignore_ascii_case(email)
                    && r.updated_at
                        .or(r.created_at)
                        .is_none_or(|at| at <= seen.seen_at)
            })
            .max_by_key(|r| (r.updated_at.or(r.created_at), r.id));
        if let Some(r) = request {
            let approver = r.updated_by_id.as_ref().map(|id| {
                state
                    .user(&UserId(id.clone()))
                    .map_or_else(|| id.clone(), |u| u.email.clone())
            });
            return Approval::AccessRequest {
                id: r.id,
                approver,
                at: r.updated_at.or(r.created_at),
            };
        }
    }
    key.and_then(|key| {
        keeps
            .iter()
            .filter(|k| k.key == key && k.snapshot_id >= seen.seen_in)
            .min_by_key(|k| k.snapshot_id)
    })
    .map_or(Approval::None, |k| Approval::ReviewKeep(k.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::changes::{Change, changes};
    use crate::analyze::fixtures::*;
    use crate::model::{AccessRequest, Grant, Membership};

    fn seen(list: Vec<Change>, at: DateTime<Utc>) -> Vec<SeenChange> {
        list.into_iter()
            .map(|change| SeenChange {
                previous: 1,
                seen_in: 2,
                seen_at: at,
                change,
            })
            .collect()
    }

    #[test]
    fn each_added_access_is_matched_with_its_approval() {
        let old = org();
        let mut new = old.clone();
        let alice = new.users[0].clone();
        let bob = new.users[1].clone();
        // Alice joins a group (an approved request for her e-mail), Bob gets
        // a direct grant (kept in a later review) and a second membership
        // (nothing approves it), a group's grant appears.
        let group = new.groups[2].id;
        let other = new.groups[0].id;
        new.memberships.push(Membership {
            group_id: group,
            user_id: alice.id.clone(),
            is_group_admin: false,
        });
        new.memberships.push(Membership {
            group_id: group,
            user_id: bob.id.clone(),
            is_group_admin: false,
        });
        let object = ObjectRef {
            object_type: ObjectType::App,
            id: ObjectId("a-top".into()),
        };
        new.grants.push(Grant {
            subject: Subject::User(bob.id.clone()),
            object: object.clone(),
            level: AccessLevel::Edit,
        });
        new.grants.push(Grant {
            subject: Subject::Group(other),
            object: object.clone(),
            level: AccessLevel::Own,
        });
        let at = t(2026, 11, 23);
        let request = |id, status: &str, email: &str, days: i64| AccessRequest {
            id,
            legacy_id: None,
            status: status.into(),
            requesting_email: email.into(),
            updated_by_id: Some(bob.id.0.clone()),
            created_at: None,
            updated_at: Some(at - chrono::Duration::days(days)),
            raw: "{}".into(),
        };
        new.access_requests = vec![
            request(1, "APPROVED", &alice.email.to_uppercase(), 2),
            // Denied, or decided after the access appeared: not evidence.
            request(2, "DENIED", &bob.email, 2),
            request(3, "APPROVED", &bob.email, -1),
        ];
        new.normalize();
        let list = seen(changes(&old, &new), at);
        let keeps = vec![
            ReviewKeep {
                campaign: "q4".into(),
                snapshot_id: 3,
                key: ReviewItem::direct_grant_key(&bob.id, &object),
                reviewer: Some("carol@example.com".into()),
                reviewed_at: Some("2026-12-01".into()),
            },
            // A campaign frozen before the access existed did not see it.
            ReviewKeep {
                campaign: "q3".into(),
                snapshot_id: 1,
                key: ReviewItem::membership_key(group, &bob.id),
                reviewer: None,
                reviewed_at: None,
            },
        ];
        let rows = access_added(&list, &new, &keeps);
        let got: Vec<(&str, String, &str, String)> = rows
            .iter()
            .map(|r| {
                (
                    r.kind.as_str(),
                    r.email.clone(),
                    r.approval.as_str(),
                    r.held_now.clone(),
                )
            })
            .collect();
        let members = new
            .memberships
            .iter()
            .filter(|m| m.group_id == other)
            .count();
        assert_eq!(
            got,
            vec![
                (
                    "membership",
                    alice.email.clone(),
                    "access_request",
                    "yes".into()
                ),
                ("membership", bob.email.clone(), "none", "yes".into()),
                (
                    "grant",
                    String::new(),
                    "none",
                    format!("yes: the group's {members} members")
                ),
                ("grant", bob.email.clone(), "review_keep", "yes".into()),
            ]
        );
        assert_eq!(
            rows[0].approval,
            Approval::AccessRequest {
                id: 1,
                approver: Some(bob.email.clone()),
                at: Some(at - chrono::Duration::days(2)),
            }
        );
        // A grant raised is listed as `raised`; one lowered is not access added.
        let mut before = old.clone();
        before.grants.push(Grant {
            subject: Subject::Group(other),
            object: ObjectRef {
                object_type: ObjectType::App,
                id: ObjectId("a-raised".into()),
            },
            level: AccessLevel::Use,
        });
        before.grants.push(Grant {
            subject: Subject::Group(other),
            object: ObjectRef {
                object_type: ObjectType::App,
                id: ObjectId("a-lowered".into()),
            },
            level: AccessLevel::Own,
        });
        before.normalize();
        let mut after = before.clone();
        for g in &mut after.grants {
            match g.object.id.0.as_str() {
                "a-raised" => g.level = AccessLevel::Edit,
                "a-lowered" => g.level = AccessLevel::Use,
                _ => {}
            }
        }
        after.normalize();
        let moved = seen(changes(&before, &after), at);
        let rows = access_added(&moved, &after, &[]);
        let got: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|r| {
                (
                    r.how,
                    r.seen.change.entity_id.as_str(),
                    r.seen.change.new_value.as_str(),
                )
            })
            .collect();
        assert_eq!(got, vec![("raised", "1:app:a-raised", "edit")]);

        // Gone by the reported snapshot: still listed, not held now.
        let mut later = new.clone();
        later
            .memberships
            .retain(|m| m.user_id != alice.id || m.group_id != group);
        let rows = access_added(&list, &later, &keeps);
        assert_eq!(rows[0].held_now, "no");
        assert_eq!(rows[0].email, alice.email);
    }
}
