//! The review loop's shared records: a campaign, the rows of its frozen
//! population, the decisions imported for them. Plain data; the store persists
//! them and `review` builds, writes and reads them.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{AccessLevel, GroupId, ObjectRef, UserId};

/// What one row of a review population is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// The user's membership of one group (including the built-in All Users).
    Membership,
    /// A permission granted to the user directly (not through a group).
    DirectGrant,
    /// A user with no membership and no direct grant: the account itself.
    Account,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Membership => "membership",
            ItemKind::DirectGrant => "direct_grant",
            ItemKind::Account => "account",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ItemKind::Membership,
            ItemKind::DirectGrant,
            ItemKind::Account,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reviewer's decision on one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Keep,
    Revoke,
    Modify,
}

impl Decision {
    pub const ALL: [Decision; 3] = [Decision::Keep, Decision::Revoke, Decision::Modify];

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Keep => "keep",
            Decision::Revoke => "revoke",
            Decision::Modify => "modify",
        }
    }

    /// Parses the workbook's spelling; surrounding space and case are forgiven.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Decision::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(s))
    }

    /// Revoke and modify need a reason and remediation; keep needs neither.
    pub fn needs_remediation(self) -> bool {
        self != Decision::Keep
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who reviews which rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReviewerBy {
    /// One workbook for the whole population.
    Single,
    /// One workbook per group, reviewed by that group's group admins, plus one
    /// for admins and users outside any group but All Users.
    GroupAdmin,
}

impl ReviewerBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewerBy::Single => "single",
            ReviewerBy::GroupAdmin => "group-admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ReviewerBy::Single, ReviewerBy::GroupAdmin]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

impl fmt::Display for ReviewerBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The tool's suggestion for a row, shown beside (never instead of) the
/// reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Suggestion {
    /// Terminated (not in the roster), or disabled but still in groups.
    Revoke,
    /// Edit or own on apps the user saved none of in the usage window
    /// (with per-app usage): lower the level.
    Modify,
    /// Inactive, never active, or privileged: look closely.
    Review,
}

impl Suggestion {
    pub fn as_str(self) -> &'static str {
        match self {
            Suggestion::Revoke => "revoke",
            Suggestion::Modify => "modify",
            Suggestion::Review => "review",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "revoke" => Some(Suggestion::Revoke),
            "modify" => Some(Suggestion::Modify),
            "review" => Some(Suggestion::Review),
            _ => None,
        }
    }
}

/// One row of a frozen review population.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewItem {
    /// Stable key, also written (hidden and locked) into the workbook row:
    /// `m:<group_id>:<user_id>`, `g:<user_id>:<object_type>:<object_id>` or
    /// `a:<user_id>`. See [`ReviewItem::membership_key`] and friends.
    pub key: String,
    pub kind: ItemKind,
    pub user_id: UserId,
    pub email: String,
    /// Memberships: the group.
    pub group_id: Option<GroupId>,
    /// Memberships: whether the user administers the group.
    pub is_group_admin: Option<bool>,
    /// Direct grants: the object granted.
    pub object: Option<ObjectRef>,
    /// Direct grants: the level granted.
    pub access_level: Option<AccessLevel>,
    /// The workbook (reviewer set) the row was sent to, e.g. `all`,
    /// `group-12-finance`, `admins-and-ungrouped`.
    pub workbook: String,
    /// The locked context cells exactly as written, in column order; import
    /// compares the returned workbook against these.
    pub context: Vec<(String, String)>,
    pub suggested: Option<Suggestion>,
    pub suggested_reason: Option<String>,
}

impl ReviewItem {
    pub fn membership_key(group: GroupId, user: &UserId) -> String {
        format!("m:{group}:{user}")
    }

    pub fn direct_grant_key(user: &UserId, object: &ObjectRef) -> String {
        format!("g:{user}:{}:{}", object.object_type, object.id)
    }

    pub fn account_key(user: &UserId) -> String {
        format!("a:{user}")
    }
}

/// A campaign to be created (see `Store::create_campaign`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaign {
    pub org: String,
    pub name: String,
    pub snapshot_id: i64,
    pub snapshot_sha256: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub reviewer_by: ReviewerBy,
    /// Free-form settings recorded as evidence (inactive days, roster file and
    /// its SHA-256, tool version), as a JSON object.
    pub settings: serde_json::Value,
}

/// A stored campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Campaign {
    pub id: i64,
    pub org: String,
    pub name: String,
    pub snapshot_id: i64,
    pub snapshot_sha256: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub reviewer_by: ReviewerBy,
    pub settings: serde_json::Value,
    /// SHA-256 over the population (keys and context, in key order).
    pub population_sha256: String,
    /// Rows in the population.
    pub items: usize,
}

/// One decision read from a workbook, ready to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionInput {
    pub key: String,
    pub decision: Decision,
    pub reason: Option<String>,
    pub reviewer: Option<String>,
    /// As entered: `YYYY-MM-DD` or RFC 3339.
    pub reviewed_at: Option<String>,
    /// The workbook's file name (no directories) and its SHA-256.
    pub source_file: String,
    pub source_sha256: String,
}

/// One stored decision; `superseded_by` is set once a newer one replaced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredDecision {
    pub id: i64,
    pub key: String,
    pub decision: Decision,
    pub reason: Option<String>,
    pub reviewer: Option<String>,
    pub reviewed_at: Option<String>,
    pub imported_at: chrono::DateTime<chrono::Utc>,
    pub source_file: String,
    pub source_sha256: String,
    pub superseded_by: Option<i64>,
}

impl StoredDecision {
    /// The same decision as `input` (importing it again changes nothing).
    pub fn same_as(&self, input: &DecisionInput) -> bool {
        self.decision == input.decision
            && self.reason == input.reason
            && self.reviewer == input.reviewer
            && self.reviewed_at == input.reviewed_at
    }
}

/// What one import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    /// Rows that had no decision before.
    pub added: usize,
    /// Rows whose decision changed (the older one is kept as superseded).
    pub replaced: usize,
    /// Rows whose decision was already exactly this one.
    pub unchanged: usize,
}
