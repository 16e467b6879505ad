//! SQL rows of the versioned entity tables: how each model record is bound to,
//! fingerprinted for, and read back from its table. The columns of every record
//! but grants come from their declaration in [`crate::model::fields`].

use super::db::{Binder, DbError, DbResult, Row};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::fields::{Access, Fields};
use crate::model::{
    AccessLevel, AccessRequest, AccessToken, App, AppUsage, ConfigurationGrant, Environment,
    Folder, Grant, Group, GroupId, Membership, ObjectId, ObjectRef, ObjectType, Resource,
    ResourceConfiguration, Role, RoleGrant, Setting, Subject, User, UserId, UserInvite, UserUsage,
    Workflow,
};

/// A model record stored as versions in one table.
pub(crate) trait Versioned: Sized + Serialize {
    /// The table name (also the [`crate::model::EntityKind`] spelling).
    const TABLE: &'static str;

    type Key: Ord + std::fmt::Debug;

    fn key(&self) -> Self::Key;

    /// Every data column in bind/read order, key columns first.
    fn columns() -> Vec<&'static str>;

    /// Binds [`Self::columns`] to parameters `first..`.
    fn bind<B: Binder>(&self, stmt: &mut B, first: usize) -> DbResult<()>;

    /// Reads [`Self::columns`] from `row`, starting at column `start`. A value
    /// that does not parse is reported as the text of a `Corrupt` error.
    fn from_row(row: &Row<'_>, start: usize) -> Result<Self, RowError>;
}

/// A record whose fields are declared in [`crate::model::fields`]: its columns,
/// binding and reading all come from that declaration.
macro_rules! declared {
    ($t:ty, $table:literal, $key:ty, $keyfn:expr) => {
        impl Versioned for $t {
            const TABLE: &'static str = $table;
            type Key = $key;

            fn key(&self) -> $key {
                $keyfn(self)
            }
            fn columns() -> Vec<&'static str> {
                <$t as Fields>::FIELDS.iter().map(|f| f.column).collect()
            }
            fn bind<B: Binder>(&self, s: &mut B, first: usize) -> DbResult<()> {
                bind_fields(self, s, first)
            }
            fn from_row(r: &Row<'_>, start: usize) -> Result<Self, RowError> {
                read_fields(r, start)
            }
        }
    };
}

declared!(User, "users", String, |u: &User| u.id.0.clone());
declared!(Group, "groups", i64, |g: &Group| g.id.0);
declared!(
    Membership,
    "memberships",
    (i64, String),
    |m: &Membership| (m.group_id.0, m.user_id.0.clone())
);
declared!(Folder, "folders", String, |f: &Folder| f.id.0.clone());
declared!(App, "apps", String, |a: &App| a.id.0.clone());
declared!(Resource, "resources", String, |r: &Resource| r.id.0.clone());
declared!(Workflow, "workflows", String, |w: &Workflow| w.id.0.clone());
declared!(UserInvite, "user_invites", i64, |i: &UserInvite| i.id);
declared!(AccessToken, "access_tokens", String, |t: &AccessToken| t
    .id
    .clone());

declared!(Role, "roles", String, |r: &Role| r.id.clone());
declared!(RoleGrant, "role_grants", RoleGrant, |g: &RoleGrant| g
    .clone());
declared!(
    AccessRequest,
    "access_requests",
    i64,
    |r: &AccessRequest| r.id
);
declared!(UserUsage, "usage", String, |u: &UserUsage| u
    .user_id
    .clone());
declared!(Setting, "settings", (String, String), |s: &Setting| (
    s.source.clone(),
    s.name.clone()
));
declared!(Environment, "environments", String, |e: &Environment| e
    .id
    .clone());
declared!(
    ResourceConfiguration,
    "resource_configurations",
    String,
    |c: &ResourceConfiguration| c.id.clone()
);
declared!(
    ConfigurationGrant,
    "configuration_grants",
    (i64, String),
    |g: &ConfigurationGrant| (g.group_id.0, g.configuration_id.clone())
);
declared!(AppUsage, "app_usage", (String, String), |u: &AppUsage| (
    u.app_id.clone(),
    u.user_id.clone()
));

/// Binds every declared field of `record` to parameters `first..`.
fn bind_fields<T: Fields, B: Binder>(record: &T, s: &mut B, first: usize) -> DbResult<()> {
    for (i, f) in T::FIELDS.iter().enumerate() {
        let at = first + i;
        match &f.access {
            Access::Text(get, _) => s.raw_bind_parameter(at, get(record))?,
            Access::OptText(get, _) => s.raw_bind_parameter(at, get(record))?,
            Access::Int(get, _) => s.raw_bind_parameter(at, get(record))?,
            Access::OptInt(get, _) => s.raw_bind_parameter(at, get(record))?,
            Access::Bool(get, _) => s.raw_bind_parameter(at, get(record))?,
            Access::OptBool(get, _) => s.raw_bind_parameter(at, get(record))?,
            Access::Time(get, _) => s.raw_bind_parameter(at, opt_time_text(&get(record)))?,
            Access::Level(get, _) => s.raw_bind_parameter(at, get(record).as_str())?,
            Access::GroupIds(get, _) => s.raw_bind_parameter(at, json_text(&get(record))?)?,
            Access::Strings(get, _) => s.raw_bind_parameter(at, json_text(&get(record))?)?,
        }
    }
    Ok(())
}

/// Reads every declared field from `row`, starting at column `start`.
fn read_fields<T: Fields>(r: &Row<'_>, start: usize) -> Result<T, RowError> {
    let mut record = T::default();
    for (i, f) in T::FIELDS.iter().enumerate() {
        let at = start + i;
        match &f.access {
            Access::Text(_, set) => set(&mut record, r.get(at)?),
            Access::OptText(_, set) => set(&mut record, r.get(at)?),
            Access::Int(_, set) => set(&mut record, r.get(at)?),
            Access::OptInt(_, set) => set(&mut record, r.get(at)?),
            Access::Bool(_, set) => set(&mut record, r.get(at)?),
            Access::OptBool(_, set) => set(&mut record, r.get(at)?),
            Access::Time(_, set) => set(&mut record, get_time(r, at, f.column)?),
            Access::Level(_, set) => set(&mut record, get_level(r, at, f.column)?),
            Access::GroupIds(_, set) => set(&mut record, get_json(r, at, f.column)?),
            Access::Strings(_, set) => set(&mut record, get_json(r, at, f.column)?),
        }
    }
    Ok(record)
}

/// Why a stored row could not be turned back into a model record.
#[derive(Debug)]
pub(crate) enum RowError {
    Sql(DbError),
    Bad {
        column: &'static str,
        detail: String,
    },
}

impl RowError {
    /// The store error for row `rowid` (column 0 of `row`) of `table` that
    /// did not read back.
    pub(crate) fn corrupt(self, table: &str, row: &Row<'_>) -> super::StoreError {
        let rowid: Option<i64> = row.get(0).ok();
        let detail = match self {
            RowError::Sql(e) => format!("{table} row {rowid:?}: {e}"),
            RowError::Bad { column, detail } => {
                format!("{table} row {rowid:?}, column {column}: {detail}")
            }
        };
        super::StoreError::Corrupt { detail }
    }
}

impl From<DbError> for RowError {
    fn from(e: DbError) -> Self {
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

fn json_text<T: Serialize>(v: &T) -> DbResult<String> {
    serde_json::to_string(v).map_err(|e| DbError::Conversion(e.to_string()))
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
    type Key = (&'static str, String, &'static str, String, &'static str);

    fn columns() -> Vec<&'static str> {
        // Every column is part of the key.
        vec![
            "subject_type",
            "subject_id",
            "object_type",
            "object_id",
            "access_level",
        ]
    }
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
    fn bind<B: Binder>(&self, s: &mut B, f: usize) -> DbResult<()> {
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
