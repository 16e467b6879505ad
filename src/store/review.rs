//! Review campaigns in the history: a frozen population per campaign and every
//! decision ever imported for it (schema in `migrations/0002_review.sql`).

use super::db::{Begin, Db, DbResult, OptionalExtension, Row, params};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::error::SqlContext;
use super::rows::{parse_time, time_text};
use super::{Store, StoreError};
use crate::model::review::{
    Campaign, Decision, DecisionInput, ImportOutcome, ItemKind, NewCampaign, ReviewItem,
    ReviewerBy, StoredDecision, Suggestion,
};
use crate::model::{AccessLevel, GroupId, ObjectId, ObjectRef, ObjectType, UserId};

/// SHA-256 over a population: each item's key and context, in key order. The
/// campaign records it so evidence reports can show the population is the one
/// that was frozen.
pub fn population_hash(items: &[ReviewItem]) -> String {
    let mut sorted: Vec<&ReviewItem> = items.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut h = Sha256::new();
    for item in sorted {
        h.update(item.key.as_bytes());
        h.update([0]);
        for (column, value) in &item.context {
            h.update(column.as_bytes());
            h.update([0x1f]);
            h.update(value.as_bytes());
            h.update([0x1e]);
        }
        h.update([0]);
    }
    hex::encode(h.finalize())
}

const CAMPAIGN_COLUMNS: &str = "c.id, c.org, c.name, c.snapshot_id, c.snapshot_sha256, c.created_at, \
     c.reviewer_by, c.settings_json, c.population_sha256, \
     (SELECT count(*) FROM review_items i WHERE i.campaign_id = c.id)";

impl Store {
    /// Creates a campaign with its frozen population, in one transaction.
    /// Fails with [`StoreError::CampaignExists`] when the org already has a
    /// campaign of that name, and [`StoreError::DuplicateRecord`] when two
    /// items share a key; nothing is written then.
    pub fn create_campaign(
        &mut self,
        new: &NewCampaign,
        items: &[ReviewItem],
    ) -> Result<Campaign, StoreError> {
        self.create_campaign_then(new, items, |_| Ok::<(), StoreError>(()))
            .map(|(campaign, ())| campaign)
    }

    /// Like [`Store::create_campaign`], but runs `before_commit` with the
    /// campaign (its id included) inside the transaction: an error from it
    /// rolls the campaign back. `review start` writes its workbooks there, so
    /// a campaign is never stored without its files, nor files written for a
    /// campaign that could not be stored.
    pub fn create_campaign_then<T, E: From<StoreError>>(
        &mut self,
        new: &NewCampaign,
        items: &[ReviewItem],
        before_commit: impl FnOnce(&Campaign) -> Result<T, E>,
    ) -> Result<(Campaign, T), E> {
        let p = self.path.clone();
        let p = p.as_path();
        let tx = self
            .conn
            .begin(Begin::Write)
            .ctx(p, "starting the campaign transaction")?;
        let exists: Option<i64> = tx
            .query_row(
                "SELECT id FROM review_campaigns WHERE org = ?1 AND name = ?2",
                params![new.org, new.name],
                |r| r.get(0),
            )
            .optional()
            .ctx(p, "looking up the campaign name")?;
        if exists.is_some() {
            return Err(StoreError::CampaignExists {
                org: new.org.clone(),
                name: new.name.clone(),
            }
            .into());
        }
        let population_sha256 = population_hash(items);
        let id: i64 = tx.query_row(
            "INSERT INTO review_campaigns (org, name, snapshot_id, snapshot_sha256, created_at, \
             reviewer_by, settings_json, population_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             RETURNING id",
            params![
                new.org,
                new.name,
                new.snapshot_id,
                new.snapshot_sha256,
                time_text(&new.created_at),
                new.reviewer_by.as_str(),
                new.settings.to_string(),
                population_sha256,
            ],
            |r| r.get(0),
        )
        .ctx(p, "storing the campaign")?;
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO review_items (campaign_id, row_key, kind, user_id, email, group_id, \
                     is_group_admin, object_type, object_id, access_level, workbook, context_json, \
                     suggested, suggested_reason) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                )
                .ctx(p, "preparing the population insert")?;
            for item in items {
                let context = serde_json::to_string(&item.context).unwrap_or_default();
                let result = insert.execute(params![
                    id,
                    item.key,
                    item.kind.as_str(),
                    item.user_id.0,
                    item.email,
                    item.group_id.map(|g| g.0),
                    item.is_group_admin,
                    item.object.as_ref().map(|o| o.object_type.as_str()),
                    item.object.as_ref().map(|o| o.id.0.as_str()),
                    item.access_level.map(AccessLevel::as_str),
                    item.workbook,
                    context,
                    item.suggested.map(Suggestion::as_str),
                    item.suggested_reason,
                ]);
                if let Err(e) = &result
                    && e.is_constraint_violation()
                {
                    return Err(StoreError::DuplicateRecord {
                        kind: "review item",
                        key: item.key.clone(),
                    }
                    .into());
                }
                result.ctx(p, "storing the review population")?;
            }
        }
        let campaign = campaign_on(&tx, p, id)?;
        let value = before_commit(&campaign)?;
        tx.commit().ctx(p, "committing the campaign")?;
        Ok((campaign, value))
    }

    /// Every campaign, oldest first, optionally of one org.
    pub fn campaigns(&self, org: Option<&str>) -> Result<Vec<Campaign>, StoreError> {
        let sql = format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM review_campaigns c \
             WHERE CAST(?1 AS TEXT) IS NULL OR c.org = ?1 ORDER BY c.id"
        );
        let mut stmt = self
            .conn
            .prepare(&sql)
            .ctx(&self.path, "listing campaigns")?;
        let rows = stmt
            .query_map(params![org], campaign_row)
            .ctx(&self.path, "listing campaigns")?;
        rows.map(|r| r.ctx(&self.path, "reading a campaign").and_then(|c| c))
            .collect()
    }

    /// The campaign called `name` (of `org` when given). When no org is given
    /// and several orgs have a campaign of that name, the error says so.
    pub fn campaign(&self, name: &str, org: Option<&str>) -> Result<Campaign, StoreError> {
        let all = self.campaigns(org)?;
        let mut matching: Vec<Campaign> = all.iter().filter(|c| c.name == name).cloned().collect();
        match matching.len() {
            1 => Ok(matching.remove(0)),
            0 => Err(StoreError::CampaignNotFound {
                name: name.to_string(),
                known: all.iter().map(|c| c.name.clone()).collect(),
            }),
            _ => Err(StoreError::CampaignAmbiguous {
                name: name.to_string(),
                orgs: matching.into_iter().map(|c| c.org).collect(),
            }),
        }
    }

    /// The campaign with this id.
    pub fn campaign_by_id(&self, id: i64) -> Result<Campaign, StoreError> {
        campaign_on(&self.conn, &self.path, id)
    }

    /// A campaign's frozen population, in key order.
    pub fn campaign_items(&self, campaign_id: i64) -> Result<Vec<ReviewItem>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT row_key, kind, user_id, email, group_id, is_group_admin, object_type, \
                 object_id, access_level, workbook, context_json, suggested, suggested_reason \
                 FROM review_items WHERE campaign_id = ?1 ORDER BY row_key",
            )
            .ctx(&self.path, "reading the review population")?;
        let rows = stmt
            .query_map(params![campaign_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, Option<bool>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, String>(9)?,
                    r.get::<_, String>(10)?,
                    r.get::<_, Option<String>>(11)?,
                    r.get::<_, Option<String>>(12)?,
                ))
            })
            .ctx(&self.path, "reading the review population")?;
        let mut items = Vec::new();
        for row in rows {
            let (key, kind, user, email, group, admin, otype, oid, level, workbook, ctx, sug, why) =
                row.ctx(&self.path, "reading a review item")?;
            let corrupt = |what: &str| StoreError::Corrupt {
                detail: format!("review item {key} has {what}"),
            };
            let object = match (otype, oid) {
                (Some(t), Some(id)) => Some(ObjectRef {
                    object_type: ObjectType::parse(&t)
                        .ok_or_else(|| corrupt(&format!("object type {t:?}")))?,
                    id: ObjectId(id),
                }),
                _ => None,
            };
            items.push(ReviewItem {
                kind: ItemKind::parse(&kind).ok_or_else(|| corrupt(&format!("kind {kind:?}")))?,
                user_id: UserId(user),
                email,
                group_id: group.map(GroupId),
                is_group_admin: admin,
                object,
                access_level: match level {
                    Some(l) => Some(
                        AccessLevel::parse(&l)
                            .ok_or_else(|| corrupt(&format!("access level {l:?}")))?,
                    ),
                    None => None,
                },
                workbook,
                context: serde_json::from_str(&ctx).map_err(|_| corrupt("unreadable context"))?,
                suggested: match sug {
                    Some(s) => Some(
                        Suggestion::parse(&s)
                            .ok_or_else(|| corrupt(&format!("suggestion {s:?}")))?,
                    ),
                    None => None,
                },
                suggested_reason: why,
                key,
            });
        }
        Ok(items)
    }

    /// Imports decisions into a campaign in one transaction: a row without a
    /// decision gets one, a row whose current decision differs gets the new one
    /// (the old one is kept, marked superseded), and a row whose current decision
    /// is the same is left alone, so importing a workbook twice changes nothing.
    /// Every key must belong to the campaign's population; otherwise nothing is
    /// imported ([`StoreError::UnknownReviewRow`]).
    pub fn import_decisions(
        &mut self,
        campaign_id: i64,
        decisions: &[DecisionInput],
        imported_at: DateTime<Utc>,
    ) -> Result<ImportOutcome, StoreError> {
        let p = self.path.clone();
        let p = p.as_path();
        let tx = self
            .conn
            .begin(Begin::Write)
            .ctx(p, "starting the import transaction")?;
        let mut outcome = ImportOutcome::default();
        {
            let mut known = tx
                .prepare("SELECT 1 FROM review_items WHERE campaign_id = ?1 AND row_key = ?2")
                .ctx(p, "preparing the import")?;
            let mut current = tx
                .prepare(&format!(
                    "SELECT {DECISION_COLUMNS} FROM review_decisions \
                     WHERE campaign_id = ?1 AND row_key = ?2 AND superseded_by IS NULL \
                     ORDER BY id DESC LIMIT 1"
                ))
                .ctx(p, "preparing the import")?;
            let mut insert = tx
                .prepare(
                    "INSERT INTO review_decisions (campaign_id, row_key, decision, reason, reviewer, \
                     reviewed_at, imported_at, source_file, source_sha256) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
                )
                .ctx(p, "preparing the import")?;
            let mut supersede = tx
                .prepare("UPDATE review_decisions SET superseded_by = ?1 WHERE id = ?2")
                .ctx(p, "preparing the import")?;
            for d in decisions {
                let exists = known
                    .exists(params![campaign_id, d.key])
                    .ctx(p, "checking a review row")?;
                if !exists {
                    return Err(StoreError::UnknownReviewRow { key: d.key.clone() });
                }
                let previous = current
                    .query_row(params![campaign_id, d.key], decision_row)
                    .optional()
                    .ctx(p, "reading the current decision")?
                    .transpose()?;
                if previous.as_ref().is_some_and(|prev| prev.same_as(d)) {
                    outcome.unchanged += 1;
                    continue;
                }
                let new_id: i64 = insert
                    .query_row(
                        params![
                            campaign_id,
                            d.key,
                            d.decision.as_str(),
                            d.reason,
                            d.reviewer,
                            d.reviewed_at,
                            time_text(&imported_at),
                            d.source_file,
                            d.source_sha256,
                        ],
                        |r| r.get(0),
                    )
                    .ctx(p, "storing a decision")?;
                match previous {
                    Some(prev) => {
                        supersede
                            .execute(params![new_id, prev.id])
                            .ctx(p, "superseding a decision")?;
                        outcome.replaced += 1;
                    }
                    None => outcome.added += 1,
                }
            }
        }
        tx.commit().ctx(p, "committing the import")?;
        Ok(outcome)
    }

    /// A campaign's decisions in import order; with `include_superseded` false
    /// only each row's current one.
    pub fn decisions(
        &self,
        campaign_id: i64,
        include_superseded: bool,
    ) -> Result<Vec<StoredDecision>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {DECISION_COLUMNS} FROM review_decisions WHERE campaign_id = ?1 \
                 AND (?2 OR superseded_by IS NULL) ORDER BY id"
            ))
            .ctx(&self.path, "reading decisions")?;
        let rows = stmt
            .query_map(params![campaign_id, include_superseded], decision_row)
            .ctx(&self.path, "reading decisions")?;
        rows.map(|r| r.ctx(&self.path, "reading a decision").and_then(|d| d))
            .collect()
    }
}

const DECISION_COLUMNS: &str = "id, row_key, decision, reason, reviewer, reviewed_at, imported_at, \
     source_file, source_sha256, superseded_by";

type RowResult<T> = DbResult<Result<T, StoreError>>;

/// The campaign with this id, read through `conn` (the store's connection or
/// an open transaction).
fn campaign_on(conn: &Db, path: &std::path::Path, id: i64) -> Result<Campaign, StoreError> {
    let sql = format!("SELECT {CAMPAIGN_COLUMNS} FROM review_campaigns c WHERE c.id = ?1");
    conn.query_row(&sql, params![id], campaign_row)
        .optional()
        .ctx(path, "reading a campaign")?
        .unwrap_or_else(|| {
            Err(StoreError::CampaignNotFound {
                name: format!("#{id}"),
                known: Vec::new(),
            })
        })
}

fn campaign_row(r: &Row<'_>) -> RowResult<Campaign> {
    let id: i64 = r.get(0)?;
    let (org, name, snapshot_id, snapshot_sha256) = (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
    let created: String = r.get(5)?;
    let reviewer_by: String = r.get(6)?;
    let settings: String = r.get(7)?;
    let population_sha256 = r.get(8)?;
    let items: i64 = r.get(9)?;
    let corrupt = |what: String| StoreError::Corrupt {
        detail: format!("review campaign {id} has {what}"),
    };
    Ok((|| {
        Ok(Campaign {
            id,
            org,
            name,
            snapshot_id,
            snapshot_sha256,
            created_at: parse_time(&created)
                .ok_or_else(|| corrupt(format!("creation time {created:?}")))?,
            reviewer_by: ReviewerBy::parse(&reviewer_by)
                .ok_or_else(|| corrupt(format!("reviewer mode {reviewer_by:?}")))?,
            settings: serde_json::from_str(&settings)
                .map_err(|_| corrupt("unreadable settings".into()))?,
            population_sha256,
            items: usize::try_from(items).unwrap_or(0),
        })
    })())
}

fn decision_row(r: &Row<'_>) -> RowResult<StoredDecision> {
    let id: i64 = r.get(0)?;
    let decision: String = r.get(2)?;
    let imported: String = r.get(6)?;
    let corrupt = |what: String| StoreError::Corrupt {
        detail: format!("review decision {id} has {what}"),
    };
    let Some(decision) = Decision::parse(&decision) else {
        return Ok(Err(corrupt(format!("decision {decision:?}"))));
    };
    let Some(imported_at) = parse_time(&imported) else {
        return Ok(Err(corrupt(format!("import time {imported:?}"))));
    };
    Ok(Ok(StoredDecision {
        id,
        key: r.get(1)?,
        decision,
        reason: r.get(3)?,
        reviewer: r.get(4)?,
        reviewed_at: r.get(5)?,
        imported_at,
        source_file: r.get(7)?,
        source_sha256: r.get(8)?,
        superseded_by: r.get(9)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::{open, sample_state, t, tmp, write};

    fn item(key: &str, user: &str, group: Option<i64>) -> ReviewItem {
        ReviewItem {
            key: key.to_string(),
            kind: if group.is_some() {
                ItemKind::Membership
            } else {
                ItemKind::DirectGrant
            },
            user_id: UserId(user.into()),
            email: format!("{user}@example.com"),
            group_id: group.map(GroupId),
            is_group_admin: group.map(|_| false),
            object: group.is_none().then(|| ObjectRef {
                object_type: ObjectType::App,
                id: ObjectId("app-1".into()),
            }),
            access_level: group.is_none().then_some(AccessLevel::Edit),
            workbook: "all".into(),
            context: vec![("email".into(), format!("{user}@example.com"))],
            suggested: Some(Suggestion::Review),
            suggested_reason: Some("inactive 120 days".into()),
        }
    }

    fn new_campaign(name: &str, snapshot_id: i64) -> NewCampaign {
        NewCampaign {
            org: "default".into(),
            name: name.into(),
            snapshot_id,
            snapshot_sha256: "ab".into(),
            created_at: t(3, 0),
            reviewer_by: ReviewerBy::Single,
            settings: serde_json::json!({"inactive_days": 90}),
        }
    }

    fn input(key: &str, decision: Decision, reason: Option<&str>) -> DecisionInput {
        DecisionInput {
            key: key.into(),
            decision,
            reason: reason.map(String::from),
            reviewer: Some("rita@example.com".into()),
            reviewed_at: Some("2026-11-20".into()),
            source_file: "review.xlsx".into(),
            source_sha256: "cd".into(),
        }
    }

    #[test]
    fn a_campaign_and_its_population_read_back_exactly() {
        let dir = tmp();
        let mut store = open(&dir.path().join("h.db"));
        let snap = write(&mut store, "default", sample_state(), 1);
        let items = vec![
            item("m:1:u1", "u1", Some(1)),
            item("g:u2:app:app-1", "u2", None),
        ];
        let c = store
            .create_campaign(&new_campaign("2026-Q4", snap.id), &items)
            .unwrap();
        assert_eq!(
            (c.name.as_str(), c.snapshot_id, c.items),
            ("2026-Q4", snap.id, 2)
        );
        assert_eq!(c.population_sha256, population_hash(&items));
        assert_eq!(c.settings["inactive_days"], 90);
        let mut want = items.clone();
        want.sort_by(|a, b| a.key.cmp(&b.key));
        assert_eq!(store.campaign_items(c.id).unwrap(), want);
        assert_eq!(store.campaign("2026-Q4", None).unwrap(), c);
        assert_eq!(store.campaigns(Some("other")).unwrap(), vec![]);
    }

    #[test]
    fn work_done_before_commit_sees_the_campaign_and_its_failure_stores_nothing() {
        let dir = tmp();
        let mut store = open(&dir.path().join("h.db"));
        let snap = write(&mut store, "default", sample_state(), 1);
        let items = [item("m:1:u1", "u1", Some(1))];
        let failed = store.create_campaign_then(&new_campaign("Q4", snap.id), &items, |c| {
            assert_eq!((c.name.as_str(), c.items), ("Q4", 1));
            Err::<(), _>(StoreError::Corrupt {
                detail: "files could not be written".into(),
            })
        });
        assert!(failed.is_err());
        assert!(store.campaigns(None).unwrap().is_empty(), "rolled back");
        let (c, id_seen) = store
            .create_campaign_then(&new_campaign("Q4", snap.id), &items, |c| {
                Ok::<_, StoreError>(c.id)
            })
            .unwrap();
        assert_eq!(c.id, id_seen);
        assert_eq!(store.campaign("Q4", None).unwrap(), c);
    }

    #[test]
    fn names_are_unique_per_org_and_lookups_say_what_exists() {
        let dir = tmp();
        let mut store = open(&dir.path().join("h.db"));
        let snap = write(&mut store, "default", sample_state(), 1);
        let items = [item("m:1:u1", "u1", Some(1))];
        store
            .create_campaign(&new_campaign("Q4", snap.id), &items)
            .unwrap();
        let again = store.create_campaign(&new_campaign("Q4", snap.id), &items);
        assert!(matches!(again, Err(StoreError::CampaignExists { .. })));
        let missing = store.campaign("Q3", None).unwrap_err().to_string();
        assert!(
            missing.contains("Q3") && missing.contains("campaigns: Q4"),
            "{missing}"
        );
        let dup = [item("m:1:u1", "u1", Some(1)), item("m:1:u1", "u1", Some(1))];
        let err = store.create_campaign(&new_campaign("Q1", snap.id), &dup);
        assert!(
            matches!(err, Err(StoreError::DuplicateRecord { .. })),
            "{err:?}"
        );
        assert_eq!(
            store.campaigns(None).unwrap().len(),
            1,
            "nothing of Q1 was kept"
        );
    }

    #[test]
    fn importing_twice_changes_nothing_and_a_new_decision_supersedes_the_old() {
        let dir = tmp();
        let mut store = open(&dir.path().join("h.db"));
        let snap = write(&mut store, "default", sample_state(), 1);
        let items = [item("m:1:u1", "u1", Some(1)), item("m:1:u2", "u2", Some(1))];
        let c = store
            .create_campaign(&new_campaign("Q4", snap.id), &items)
            .unwrap();
        let first = [
            input("m:1:u1", Decision::Keep, None),
            input("m:1:u2", Decision::Revoke, Some("left the team")),
        ];
        let o = store.import_decisions(c.id, &first, t(4, 0)).unwrap();
        assert_eq!((o.added, o.replaced, o.unchanged), (2, 0, 0));
        let o = store.import_decisions(c.id, &first, t(5, 0)).unwrap();
        assert_eq!((o.added, o.replaced, o.unchanged), (0, 0, 2));
        let change = [input("m:1:u1", Decision::Revoke, Some("no longer needed"))];
        let o = store.import_decisions(c.id, &change, t(6, 0)).unwrap();
        assert_eq!((o.added, o.replaced, o.unchanged), (0, 1, 0));

        let current = store.decisions(c.id, false).unwrap();
        assert_eq!(current.len(), 2);
        assert!(current.iter().all(|d| d.decision == Decision::Revoke));
        let all = store.decisions(c.id, true).unwrap();
        assert_eq!(all.len(), 3, "the replaced decision is kept");
        let old = all.iter().find(|d| d.decision == Decision::Keep).unwrap();
        assert_eq!(old.superseded_by, Some(all[2].id));
        assert_eq!(all[2].imported_at, t(6, 0));
    }

    #[test]
    fn a_decision_outside_the_population_imports_nothing() {
        let dir = tmp();
        let mut store = open(&dir.path().join("h.db"));
        let snap = write(&mut store, "default", sample_state(), 1);
        let c = store
            .create_campaign(
                &new_campaign("Q4", snap.id),
                &[item("m:1:u1", "u1", Some(1))],
            )
            .unwrap();
        let batch = [
            input("m:1:u1", Decision::Keep, None),
            input("m:9:nobody", Decision::Revoke, Some("x")),
        ];
        let err = store.import_decisions(c.id, &batch, t(4, 0)).unwrap_err();
        assert!(err.to_string().contains("m:9:nobody"), "{err}");
        assert!(store.decisions(c.id, true).unwrap().is_empty());
    }
}
