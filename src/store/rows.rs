//! SQL rows of the versioned entity tables: how each model record is bound to,
//! fingerprinted for, and read back from its table.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Row, Statement};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::{
    AccessLevel, AccessToken, App, Folder, Grant, Group, GroupFlags, GroupId, Membership, ObjectId,
    ObjectRef, ObjectType, Resource, Subject, User, UserId, UserInvite, Workflow,
};

/// A model record stored as versions in one table.
pub(crate) trait Versioned: Sized + Serialize {
    /// The table name (also the [`crate::model::EntityKind`] spelling).
    const TABLE: &'static str;
    /// The key columns, in key order.
    const KEY_COLUMNS: &'static [&'static str];
    /// Every data column in bind/read order, key columns first.
    const COLUMNS: &'static [&'static str];

    type Key: Eq + std::fmt::Debug;

    fn key(&self) -> Self::Key;

    /// Binds [`Self::COLUMNS`] to parameters `first..`.
    fn bind(&self, stmt: &mut Statement<'_>, first: usize) -> rusqlite::Result<()>;

    /// Reads [`Self::COLUMNS`] from `row`, starting at column `start`. A value
    /// that does not parse is reported as the text of a `Corrupt` error.
    fn from_row(row: &Row<'_>, start: usize) -> Result<Self, RowError>;
}

/// Why a stored row could not be turned back into a model record.
#[derive(Debug)]
pub(crate) enum RowError {
    Sql(rusqlite::Error),
    Bad {
        column: &'static str,
        detail: String,
    },
}

impl From<rusqlite::Error> for RowError {
    fn from(e: rusqlite::Error) -> Self {
        RowError::Sql(e)
    }
}

/// A 16-byte fingerprint of a record's canonical JSON (SHA-256, truncated):
/// equal fingerprints mean an unchanged record.
pub(crate) fn fingerprint(json: &[u8]) -> [u8; 16] {
    let full = Sha256::digest(json);
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// [`fingerprint`] of one record.
#[cfg(test)]
pub(crate) fn row_hash<T: Serialize>(record: &T) -> [u8; 16] {
    fingerprint(&serde_json::to_vec(record).unwrap_or_default())
}

/// RFC 3339 UTC with exactly the sub-second digits needed (lossless).
pub(crate) fn time_text(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn opt_time_text(t: &Option<DateTime<Utc>>) -> Option<String> {
    t.as_ref().map(time_text)
}

fn get_time(
    row: &Row<'_>,
    i: usize,
    column: &'static str,
) -> Result<Option<DateTime<Utc>>, RowError> {
    match row.get::<_, Option<String>>(i)? {
        None => Ok(None),
        Some(s) => parse_time(&s).map(Some).ok_or_else(|| RowError::Bad {
            column,
            detail: format!("`{}` is not an RFC 3339 time", truncate(&s)),
        }),
    }
}

fn get_level(row: &Row<'_>, i: usize, column: &'static str) -> Result<AccessLevel, RowError> {
    let s: String = row.get(i)?;
    AccessLevel::parse(&s).ok_or_else(|| RowError::Bad {
        column,
        detail: format!("`{}` is not an access level", truncate(&s)),
    })
}

fn get_json<T: serde::de::DeserializeOwned>(
    row: &Row<'_>,
    i: usize,
    column: &'static str,
) -> Result<T, RowError> {
    let s: String = row.get(i)?;
    serde_json::from_str(&s).map_err(|e| RowError::Bad {
        column,
        detail: format!("not the expected JSON: {e}"),
    })
}

/// Keeps error messages short when a stored value is huge or hostile.
pub(crate) fn truncate(s: &str) -> String {
    const MAX: usize = 80;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn json_text<T: Serialize>(v: &T) -> rusqlite::Result<String> {
    serde_json::to_string(v).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

impl Versioned for User {
    const TABLE: &'static str = "users";
    const KEY_COLUMNS: &'static [&'static str] = &["user_id"];
    const COLUMNS: &'static [&'static str] = &[
        "user_id",
        "legacy_id",
        "email",
        "first_name",
        "last_name",
        "active",
        "is_admin",
        "user_type",
        "two_factor_enabled",
        "created_at",
        "last_active",
        "raw",
    ];
    type Key = String;

    fn key(&self) -> String {
        self.id.0.clone()
    }
    fn bind(&self, s: &mut Statement<'_>, f: usize) -> rusqlite::Result<()> {
        s.raw_bind_parameter(f, &self.id.0)?;
        s.raw_bind_parameter(f + 1, self.legacy_id)?;
        s.raw_bind_parameter(f + 2, &self.email)?;
        s.raw_bind_parameter(f + 3, &self.first_name)?;
        s.raw_bind_parameter(f + 4, &self.last_name)?;
        s.raw_bind_parameter(f + 5, self.active)?;
        s.raw_bind_parameter(f + 6, self.is_admin)?;
        s.raw_bind_parameter(f + 7, &self.user_type)?;
        s.raw_bind_parameter(f + 8, self.two_factor_enabled)?;
        s.raw_bind_parameter(f + 9, opt_time_text(&self.created_at))?;
        s.raw_bind_parameter(f + 10, opt_time_text(&self.last_active))?;
        s.raw_bind_parameter(f + 11, &self.raw)
    }
    fn from_row(r: &Row<'_>, i: usize) -> Result<Self, RowError> {
        Ok(User {
            id: UserId(r.get(i)?),
            legacy_id: r.get(i + 1)?,
            email: r.get(i + 2)?,
            first_name: r.get(i + 3)?,
            last_name: r.get(i + 4)?,
            active: r.get(i + 5)?,
            is_admin: r.get(i + 6)?,
            user_type: r.get(i + 7)?,
            two_factor_enabled: r.get(i + 8)?,
            created_at: get_time(r, i + 9, "created_at")?,
            last_active: get_time(r, i + 10, "last_active")?,
            raw: r.get(i + 11)?,
        })
    }
}

impl Versioned for Group {
    const TABLE: &'static str = "groups";
    const KEY_COLUMNS: &'static [&'static str] = &["group_id"];
    const COLUMNS: &'static [&'static str] = &[
        "group_id",
        "legacy_id",
        "name",
        "universal_app_access",
        "universal_resource_access",
        "universal_workflow_access",
        "universal_query_library_access",
        "user_list_access",
        "audit_log_access",
        "unpublished_release_access",
        "usage_analytics_access",
        "theme_access",
        "account_details_access",
        "landing_page_app_id",
        "created_at",
        "updated_at",
        "raw",
    ];
    type Key = i64;

    fn key(&self) -> i64 {
        self.id.0
    }
    fn bind(&self, s: &mut Statement<'_>, f: usize) -> rusqlite::Result<()> {
        s.raw_bind_parameter(f, self.id.0)?;
        s.raw_bind_parameter(f + 1, self.legacy_id)?;
        s.raw_bind_parameter(f + 2, &self.name)?;
        s.raw_bind_parameter(f + 3, self.universal_app_access.as_str())?;
        s.raw_bind_parameter(f + 4, self.universal_resource_access.as_str())?;
        s.raw_bind_parameter(f + 5, self.universal_workflow_access.as_str())?;
        s.raw_bind_parameter(f + 6, self.universal_query_library_access.as_str())?;
        s.raw_bind_parameter(f + 7, self.flags.user_list_access)?;
        s.raw_bind_parameter(f + 8, self.flags.audit_log_access)?;
        s.raw_bind_parameter(f + 9, self.flags.unpublished_release_access)?;
        s.raw_bind_parameter(f + 10, self.flags.usage_analytics_access)?;
        s.raw_bind_parameter(f + 11, self.flags.theme_access)?;
        s.raw_bind_parameter(f + 12, self.flags.account_details_access)?;
        s.raw_bind_parameter(f + 13, &self.landing_page_app_id)?;
        s.raw_bind_parameter(f + 14, opt_time_text(&self.created_at))?;
        s.raw_bind_parameter(f + 15, opt_time_text(&self.updated_at))?;
        s.raw_bind_parameter(f + 16, &self.raw)
    }
    fn from_row(r: &Row<'_>, i: usize) -> Result<Self, RowError> {
        Ok(Group {
            id: GroupId(r.get(i)?),
            legacy_id: r.get(i + 1)?,
            name: r.get(i + 2)?,
            universal_app_access: get_level(r, i + 3, "universal_app_access")?,
            universal_resource_access: get_level(r, i + 4, "universal_resource_access")?,
            universal_workflow_access: get_level(r, i + 5, "universal_workflow_access")?,
            universal_query_library_access: get_level(r, i + 6, "universal_query_library_access")?,
            flags: GroupFlags {
                user_list_access: r.get(i + 7)?,
                audit_log_access: r.get(i + 8)?,
                unpublished_release_access: r.get(i + 9)?,
                usage_analytics_access: r.get(i + 10)?,
                theme_access: r.get(i + 11)?,
                account_details_access: r.get(i + 12)?,
            },
            landing_page_app_id: r.get(i + 13)?,
            created_at: get_time(r, i + 14, "created_at")?,
            updated_at: get_time(r, i + 15, "updated_at")?,
            raw: r.get(i + 16)?,
        })
    }
}

impl Versioned for Membership {
    const TABLE: &'static str = "memberships";
    const KEY_COLUMNS: &'static [&'static str] = &["group_id", "user_id"];
    const COLUMNS: &'static [&'static str] = &["group_id", "user_id", "is_group_admin"];
    type Key = (i64, String);

    fn key(&self) -> (i64, String) {
        (self.group_id.0, self.user_id.0.clone())
    }
    fn bind(&self, s: &mut Statement<'_>, f: usize) -> rusqlite::Result<()> {
        s.raw_bind_parameter(f, self.group_id.0)?;
        s.raw_bind_parameter(f + 1, &self.user_id.0)?;
        s.raw_bind_parameter(f + 2, self.is_group_admin)
    }
    fn from_row(r: &Row<'_>, i: usize) -> Result<Self, RowError> {
        Ok(Membership {
            group_id: GroupId(r.get(i)?),
            user_id: UserId(r.get(i + 1)?),
            is_group_admin: r.get(i + 2)?,
        })
    }
}

impl Versioned for Folder {
    const TABLE: &'static str = "folders";
    const KEY_COLUMNS: &'static [&'static str] = &["folder_id"];
    const COLUMNS: &'static [&'static str] = &[
        "folder_id",
        "name",
        "parent_id",
        "is_system_folder",
        "folder_type",
        "created_at",
        "updated_at",
        "raw",
    ];
    type Key = String;

    fn key(&self) -> String {
        self.id.0.clone()
    }
    fn bind(&self, s: &mut Statement<'_>, f: usize) -> rusqlite::Result<()> {
        s.raw_bind_parameter(f, &self.id.0)?;
        s.raw_bind_parameter(f + 1, &self.name)?;
        s.raw_bind_parameter(f + 2, self.parent_id.as_ref().map(|p| &p.0))?;
        s.raw_bind_parameter(f + 3, self.is_system_folder)?;
        s.raw_bind_parameter(f + 4, &self.folder_type)?;
        s.raw_bind_parameter(f + 5, opt_time_text(&self.created_at))?;
        s.raw_bind_parameter(f + 6, opt_time_text(&self.updated_at))?;
        s.raw_bind_parameter(f + 7, &self.raw)
    }
    fn from_row(r: &Row<'_>, i: usize) -> Result<Self, RowError> {
        Ok(Folder {
            id: ObjectId(r.get(i)?),
            name: r.get(i + 1)?,
            parent_id: r.get::<_, Option<String>>(i + 2)?.map(ObjectId),
            is_system_folder: r.get(i + 3)?,
            folder_type: r.get(i + 4)?,
            created_at: get_time(r, i + 5, "created_at")?,
            updated_at: get_time(r, i + 6, "updated_at")?,
            raw: r.get(i + 7)?,
        })
    }
}

impl Versioned for App {
    const TABLE: &'static str = "apps";
    const KEY_COLUMNS: &'static [&'static str] = &["app_id"];
    const COLUMNS: &'static [&'static str] = &[
        "app_id",
        "name",
        "description",
        "folder_id",
        "protected",
        "is_module",
        "is_mobile_app",
        "created_at",
        "updated_at",
        "raw",
    ];
    type Key = String;

    fn key(&self) -> String {
        self.id.0.clone()
    }
    fn bind(&self, s: &mut Statement<'_>, f: usize) -> rusqlite::Result<()> {
        s.raw_bind_parameter(f, &self.id.0)?;
        s.raw_bind_parameter(f + 1, &self.name)?;
        s.raw_bind_parameter(f + 2, &self.description)?;
        s.raw_bind_parameter(f + 3, self.folder_id.as_ref().map(|p| &p.0))?;
        s.raw_bind_parameter(f + 4, self.protected)?;
        s.raw_bind_parameter(f + 5, self.is_module)?;
        s.raw_bind_parameter(f + 6, self.is_mobile_app)?;
        s.raw_bind_parameter(f + 7, opt_time_text(&self.created_at))?;
        s.raw_bind_parameter(f + 8, opt_time_text(&self.updated_at))?;
        s.raw_bind_parameter(f + 9, &self.raw)
    }
    fn from_row(r: &Row<'_>, i: usize) -> Result<Self, RowError> {
        Ok(App {
            id: ObjectId(r.get(i)?),
            name: r.get(i + 1)?,
            description: r.get(i + 2)?,
            folder_id: r.get::<_, Option<String>>(i + 3)?.map(ObjectId),
            protected: r.get(i + 4)?,
            is_module: r.get(i + 5)?,
            is_mobile_app: r.get(i + 6)?,
            created_at: get_time(r, i + 7, "created_at")?,
            updated_at: get_time(r, i + 8, "updated_at")?,
            raw: r.get(i + 9)?,
        })
    }
}

impl Versioned for Resource {
    const TABLE: &'static str = "resources";
    const KEY_COLUMNS: &'static [&'static str] = &["resource_id"];
    const COLUMNS: &'static [&'static str] = &[
        "resource_id",
        "name",
        "resource_type",
        "folder_id",
        "protected",
        "created_at",
        "updated_at",
        "raw",
    ];
    type Key = String;

    fn key(&self) -> String {
        self.id.0.clone()
    }
    fn bind(&self, s: &mut Statement<'_>, f: usize) -> rusqlite::Result<()> {
        s.raw_bind_parameter(f, &self.id.0)?;
        s.raw_bind_parameter(f + 1, &self.name)?;
        s.raw_bind_parameter(f + 2, &self.resource_type)?;
        s.raw_bind_parameter(f + 3, self.folder_id.as_ref().map(|p| &p.0))?;
        s.raw_bind_parameter(f + 4, self.protected)?;
        s.raw_bind_parameter(f + 5, opt_time_text(&self.created_at))?;
        s.raw_bind_parameter(f + 6, opt_time_text(&self.updated_at))?;
        s.raw_bind_parameter(f + 7, &self.raw)
    }
    fn from_row(r: &Row<'_>, i: usize) -> Result<Self, RowError> {
        Ok(Resource {
            id: ObjectId(r.get(i)?),
            name: r.get(i + 1)?,
            resource_type: r.get(i + 2)?,
            folder_id: r.get::<_, Option<String>>(i + 3)?.map(ObjectId),
            protected: r.get(i + 4)?,
            created_at: get_time(r, i + 5, "created_at")?,
            updated_at: get_time(r, i + 6, "updated_at")?,
            raw: r.get(i + 7)?,
        })
    }
}

impl Versioned for Workflow {
    const TABLE: &'static str = "workflows";
    const KEY_COLUMNS: &'static [&'static str] = &["workflow_id"];
    const COLUMNS: &'static [&'static str] = &[
        "workflow_id",
        "name",
        "description",
        "folder_id",
        "is_enabled",
        "protected",
        "created_at",
        "updated_at",
        "raw",
    ];
    type Key = String;

    fn key(&self) -> String {
        self.id.0.clone()
    }
    fn bind(&self, s: &mut Statement<'_>, f: usize) -> rusqlite::Result<()> {
        s.raw_bind_parameter(f, &self.id.0)?;
        s.raw_bind_parameter(f + 1, &self.name)?;
        s.raw_bind_parameter(f + 2, &self.description)?;
        s.raw_bind_parameter(f + 3, self.folder_id.as_ref().map(|p| &p.0))?;
        s.raw_bind_parameter(f + 4, self.is_enabled)?;
        s.raw_bind_parameter(f + 5, self.protected)?;
        s.raw_bind_parameter(f + 6, opt_time_text(&self.created_at))?;
        s.raw_bind_parameter(f + 7, opt_time_text(&self.updated_at))?;
        s.raw_bind_parameter(f + 8, &self.raw)
    }
    fn from_row(r: &Row<'_>, i: usize) -> Result<Self, RowError> {
        Ok(Workflow {
            id: ObjectId(r.get(i)?),
            name: r.get(i + 1)?,
            description: r.get(i + 2)?,
            folder_id: r.get::<_, Option<String>>(i + 3)?.map(ObjectId),
            is_enabled: r.get(i + 4)?,
            protected: r.get(i + 5)?,
            created_at: get_time(r, i + 6, "created_at")?,
            updated_at: get_time(r, i + 7, "updated_at")?,
            raw: r.get(i + 8)?,
        })
    }
}

/// A grant's subject as stored: (`group`|`user`, id text).
fn subject_columns(s: &Subject) -> (&'static str, String) {
    match s {
        Subject::Group(g) => ("group", g.0.to_string()),
        Subject::User(u) => ("user", u.0.clone()),
    }
}

impl Versioned for Grant {
    const TABLE: &'static str = "grants";
    const KEY_COLUMNS: &'static [&'static str] = &[
        "subject_type",
        "subject_id",
        "object_type",
        "object_id",
        "access_level",
    ];
    const COLUMNS: &'static [&'static str] = Self::KEY_COLUMNS;
    type Key = (&'static str, String, &'static str, String, &'static str);

    fn key(&self) -> Self::Key {
        let (st, sid) = subject_columns(&self.subject);
        (
            st,
            sid,
            self.object.object_type.as_str(),
            self.object.id.0.clone(),
            self.level.as_str(),
        )
    }
    fn bind(&self, s: &mut Statement<'_>, f: usize) -> rusqlite::Result<()> {
        let (st, sid) = subject_columns(&self.subject);
        s.raw_bind_parameter(f, st)?;
        s.raw_bind_parameter(f + 1, sid)?;
        s.raw_bind_parameter(f + 2, self.object.object_type.as_str())?;
        s.raw_bind_parameter(f + 3, &self.object.id.0)?;
        s.raw_bind_parameter(f + 4, self.level.as_str())
    }
    fn from_row(r: &Row<'_>, i: usize) -> Result<Self, RowError> {
        let st: String = r.get(i)?;
        let sid: String = r.get(i + 1)?;
        let subject = match st.as_str() {
            "group" => match sid.parse::<i64>() {
                Ok(g) if g.to_string() == sid => Subject::Group(GroupId(g)),
                _ => {
                    return Err(RowError::Bad {
                        column: "subject_id",
                        detail: format!("`{}` is not a group id", truncate(&sid)),
                    });
                }
            },
            "user" => Subject::User(UserId(sid)),
            other => {
                return Err(RowError::Bad {
                    column: "subject_type",
                    detail: format!("`{}` is not `group` or `user`", truncate(other)),
                });
            }
        };
        let ot: String = r.get(i + 2)?;
        let object_type = ObjectType::parse(&ot).ok_or_else(|| RowError::Bad {
            column: "object_type",
            detail: format!("`{}` is not an object type", truncate(&ot)),
        })?;
        Ok(Grant {
            subject,
            object: ObjectRef {
                object_type,
                id: ObjectId(r.get(i + 3)?),
            },
            level: get_level(r, i + 4, "access_level")?,
        })
    }
}

impl Versioned for UserInvite {
    const TABLE: &'static str = "user_invites";
    const KEY_COLUMNS: &'static [&'static str] = &["invite_id"];
    const COLUMNS: &'static [&'static str] = &[
        "invite_id",
        "email",
        "invited_by",
        "user_type",
        "group_ids_json",
        "expires_at",
        "claimed_by",
        "claimed_at",
        "created_at",
        "raw",
    ];
    type Key = i64;

    fn key(&self) -> i64 {
        self.id
    }
    fn bind(&self, s: &mut Statement<'_>, f: usize) -> rusqlite::Result<()> {
        s.raw_bind_parameter(f, self.id)?;
        s.raw_bind_parameter(f + 1, &self.email)?;
        s.raw_bind_parameter(f + 2, &self.invited_by)?;
        s.raw_bind_parameter(f + 3, &self.user_type)?;
        s.raw_bind_parameter(f + 4, json_text(&self.group_ids)?)?;
        s.raw_bind_parameter(f + 5, opt_time_text(&self.expires_at))?;
        s.raw_bind_parameter(f + 6, &self.claimed_by)?;
        s.raw_bind_parameter(f + 7, opt_time_text(&self.claimed_at))?;
        s.raw_bind_parameter(f + 8, opt_time_text(&self.created_at))?;
        s.raw_bind_parameter(f + 9, &self.raw)
    }
    fn from_row(r: &Row<'_>, i: usize) -> Result<Self, RowError> {
        Ok(UserInvite {
            id: r.get(i)?,
            email: r.get(i + 1)?,
            invited_by: r.get(i + 2)?,
            user_type: r.get(i + 3)?,
            group_ids: get_json(r, i + 4, "group_ids_json")?,
            expires_at: get_time(r, i + 5, "expires_at")?,
            claimed_by: r.get(i + 6)?,
            claimed_at: get_time(r, i + 7, "claimed_at")?,
            created_at: get_time(r, i + 8, "created_at")?,
            raw: r.get(i + 9)?,
        })
    }
}

impl Versioned for AccessToken {
    const TABLE: &'static str = "access_tokens";
    const KEY_COLUMNS: &'static [&'static str] = &["token_id"];
    const COLUMNS: &'static [&'static str] = &[
        "token_id",
        "label",
        "description",
        "last4",
        "owner_legacy_id",
        "scopes_json",
        "created_at",
        "updated_at",
        "raw",
    ];
    type Key = String;

    fn key(&self) -> String {
        self.id.clone()
    }
    fn bind(&self, s: &mut Statement<'_>, f: usize) -> rusqlite::Result<()> {
        s.raw_bind_parameter(f, &self.id)?;
        s.raw_bind_parameter(f + 1, &self.label)?;
        s.raw_bind_parameter(f + 2, &self.description)?;
        s.raw_bind_parameter(f + 3, &self.last4)?;
        s.raw_bind_parameter(f + 4, self.owner_legacy_id)?;
        s.raw_bind_parameter(f + 5, json_text(&self.scopes)?)?;
        s.raw_bind_parameter(f + 6, opt_time_text(&self.created_at))?;
        s.raw_bind_parameter(f + 7, opt_time_text(&self.updated_at))?;
        s.raw_bind_parameter(f + 8, &self.raw)
    }
    fn from_row(r: &Row<'_>, i: usize) -> Result<Self, RowError> {
        Ok(AccessToken {
            id: r.get(i)?,
            label: r.get(i + 1)?,
            description: r.get(i + 2)?,
            last4: r.get(i + 3)?,
            owner_legacy_id: r.get(i + 4)?,
            scopes: get_json(r, i + 5, "scopes_json")?,
            created_at: get_time(r, i + 6, "created_at")?,
            updated_at: get_time(r, i + 7, "updated_at")?,
            raw: r.get(i + 8)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_keep_their_sub_second_precision() {
        let base = Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).single();
        let Some(base) = base else {
            panic!("valid test date")
        };
        for nanos in [0u32, 1, 120_000_000, 123_456_000, 999_999_999] {
            let t = base + chrono::Duration::nanoseconds(i64::from(nanos));
            let text = time_text(&t);
            assert!(text.ends_with('Z'), "{text}");
            assert_eq!(parse_time(&text), Some(t), "{text}");
        }
        assert_eq!(time_text(&base), "2026-03-04T05:06:07Z");
    }

    #[test]
    fn different_records_have_different_fingerprints() {
        let m = |admin| Membership {
            group_id: GroupId(1),
            user_id: UserId("u".into()),
            is_group_admin: admin,
        };
        assert_eq!(row_hash(&m(false)), row_hash(&m(false)));
        assert_ne!(row_hash(&m(false)), row_hash(&m(true)));
    }
}
