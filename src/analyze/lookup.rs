//! One subject at one snapshot: finding the user or object a person named
//! (with the closest names when nothing matches), a user's effective access,
//! and every active user of one object with how they reach it. Used by
//! `access-at` and `timeline`.

use std::fmt;

use super::access::{ACCESS_OBJECT_TYPES, AccessIndex, Via, join_via};
use crate::model::{AccessLevel, GroupId, ObjectId, ObjectRef, ObjectType, OrgState, User};

/// How many close names a "not found" message suggests.
const SUGGESTIONS: usize = 3;

/// A name that matched nothing, or more than one thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// Nothing is called that; the closest names known, best first.
    NotFound {
        what: &'static str,
        query: String,
        closest: Vec<String>,
    },
    /// Several objects share the name: each as `type:id (name)`.
    Ambiguous { query: String, matches: Vec<String> },
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupError::NotFound {
                what,
                query,
                closest,
            } => {
                write!(f, "no {what} {query:?}")?;
                if !closest.is_empty() {
                    write!(f, "; did you mean {}?", closest.join(", "))?;
                }
                Ok(())
            }
            LookupError::Ambiguous { query, matches } => write!(
                f,
                "{query:?} names {} objects: {}; give one as TYPE:ID",
                matches.len(),
                matches.join(", ")
            ),
        }
    }
}

impl std::error::Error for LookupError {}

/// The names closest to `query` (normalized Levenshtein, case-insensitive),
/// best first, at most [`SUGGESTIONS`], only reasonably close ones.
fn closest<'a>(query: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let q = query.to_lowercase();
    let mut scored: Vec<(f64, &str)> = names
        .map(|n| (strsim::normalized_levenshtein(&q, &n.to_lowercase()), n))
        .filter(|(s, _)| *s >= 0.5)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(SUGGESTIONS)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// The user `query` names: a user id, or an e-mail in any case.
pub fn find_user<'s>(state: &'s OrgState, query: &str) -> Result<&'s User, LookupError> {
    let q = query.trim();
    state
        .users
        .iter()
        .find(|u| u.id.0 == q)
        .or_else(|| state.users.iter().find(|u| u.email.eq_ignore_ascii_case(q)))
        .ok_or_else(|| LookupError::NotFound {
            what: "user",
            query: q.to_string(),
            closest: closest(q, state.users.iter().map(|u| u.email.as_str())),
        })
}

/// The group `query` names: its id, or its name in any case.
pub fn find_group(state: &OrgState, query: &str) -> Result<GroupId, LookupError> {
    let q = query.trim();
    let by_id = q
        .parse::<i64>()
        .ok()
        .and_then(|id| state.group(GroupId(id)).map(|g| g.id));
    let by_name = || {
        state
            .groups
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(q))
            .map(|g| g.id)
    };
    by_id.or_else(by_name).ok_or_else(|| LookupError::NotFound {
        what: "group",
        query: q.to_string(),
        closest: closest(q, state.groups.iter().map(|g| g.name.as_str())),
    })
}

/// An app, resource or workflow of a state: its reference and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedObject {
    pub object: ObjectRef,
    pub name: String,
}

impl NamedObject {
    /// `app:<id> (<name>)`.
    pub fn label(&self) -> String {
        format!(
            "{}:{} ({})",
            self.object.object_type, self.object.id, self.name
        )
    }
}

/// Every app, resource and workflow of `state` with its name.
pub fn objects(state: &OrgState) -> Vec<NamedObject> {
    let named = |t: ObjectType, id: &ObjectId, name: &str| NamedObject {
        object: ObjectRef {
            object_type: t,
            id: id.clone(),
        },
        name: name.to_string(),
    };
    let apps = state
        .apps
        .iter()
        .map(|a| named(ObjectType::App, &a.id, &a.name));
    let resources = state
        .resources
        .iter()
        .map(|r| named(ObjectType::Resource, &r.id, &r.name));
    let workflows = state
        .workflows
        .iter()
        .map(|w| named(ObjectType::Workflow, &w.id, &w.name));
    apps.chain(resources).chain(workflows).collect()
}

/// The object `query` names: `TYPE:ID`, `TYPE:NAME` (type `app`, `resource` or
/// `workflow`), or a bare id or name of any of the three; names in any case.
pub fn find_object(state: &OrgState, query: &str) -> Result<NamedObject, LookupError> {
    let q = query.trim();
    let (types, key): (Vec<ObjectType>, &str) = match q.split_once(':') {
        Some((t, rest)) => match ObjectType::parse(t) {
            Some(t) if ACCESS_OBJECT_TYPES.contains(&t) => (vec![t], rest.trim()),
            _ => (ACCESS_OBJECT_TYPES.to_vec(), q),
        },
        None => (ACCESS_OBJECT_TYPES.to_vec(), q),
    };
    let candidates: Vec<NamedObject> = objects(state)
        .into_iter()
        .filter(|o| types.contains(&o.object.object_type))
        .collect();
    if let Some(o) = candidates.iter().find(|o| o.object.id.0 == key) {
        return Ok(o.clone());
    }
    let matches: Vec<&NamedObject> = candidates
        .iter()
        .filter(|o| o.name.eq_ignore_ascii_case(key))
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(LookupError::NotFound {
            what: "app, resource or workflow",
            query: q.to_string(),
            closest: closest(key, candidates.iter().map(|o| o.name.as_str())),
        }),
        many => Err(LookupError::Ambiguous {
            query: q.to_string(),
            matches: many.iter().map(|o| o.label()).collect(),
        }),
    }
}

/// One row of a user's effective access (the `effective_access` table's row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAccess {
    pub object_type: ObjectType,
    /// `None` for the row covering every object of the type.
    pub object_id: Option<ObjectId>,
    pub object_name: String,
    pub level: AccessLevel,
    /// The source that sets the level.
    pub determining_source: String,
    /// Every source granting anything, highest first, `;`-joined.
    pub via: String,
}

/// `user`'s effective access in `state`, as the `effective_access` table
/// lists it: per type the level on every object, then the objects where
/// grants give more. Computed from grants alone, whether or not the account
/// is active (the caller says whether it could sign in).
pub fn user_access(index: &AccessIndex<'_>, user: &User) -> Vec<UserAccess> {
    let mut rows = Vec::new();
    index.for_each_row(user, |row| {
        let mut determining_source = String::new();
        row.write_determining_source(&mut determining_source);
        let mut via = String::new();
        row.write_via(&mut via);
        rows.push(UserAccess {
            object_type: row.object_type,
            object_id: row.object_id.cloned(),
            object_name: row.object_name.to_string(),
            level: row.level,
            determining_source,
            via,
        });
    });
    rows
}

/// One active user who reaches an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectUser<'s> {
    pub user: &'s User,
    pub level: AccessLevel,
    pub via: Vec<Via>,
}

impl ObjectUser<'_> {
    /// The source that sets the level.
    pub fn determining_source(&self) -> String {
        self.via
            .first()
            .map(|v| v.source.to_string())
            .unwrap_or_default()
    }

    /// Every source, `;`-joined.
    pub fn via_text(&self) -> String {
        join_via(&self.via)
    }
}

/// Every active user of `state` who reaches `object` at `use` or above,
/// highest level first, then by e-mail.
pub fn object_users<'s>(
    index: &AccessIndex<'s>,
    state: &'s OrgState,
    object: &ObjectRef,
) -> Vec<ObjectUser<'s>> {
    let mut out: Vec<ObjectUser<'s>> = state
        .users
        .iter()
        .filter(|u| u.active)
        .filter_map(|u| {
            let (level, via) = index.level(&u.id, object);
            (level > AccessLevel::None).then_some(ObjectUser {
                user: u,
                level,
                via,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then_with(|| a.user.email.cmp(&b.user.email))
            .then_with(|| a.user.id.cmp(&b.user.id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::fixtures::*;

    #[test]
    fn users_groups_and_objects_are_found_by_id_or_name_with_suggestions() {
        let s = org();
        let alice = &s.users[0];
        assert_eq!(
            find_user(&s, &alice.email.to_uppercase()).unwrap().id,
            alice.id
        );
        assert_eq!(find_user(&s, &alice.id.0).unwrap().id, alice.id);
        let typo = alice.email.replacen('a', "e", 1);
        match find_user(&s, &typo) {
            Err(LookupError::NotFound { closest, .. }) => {
                assert_eq!(closest.first(), Some(&alice.email), "{closest:?}")
            }
            other => panic!("{other:?}"),
        }
        let g = &s.groups[1];
        assert_eq!(find_group(&s, &g.name.to_lowercase()).unwrap(), g.id);
        assert_eq!(find_group(&s, &g.id.0.to_string()).unwrap(), g.id);

        let app = &s.apps[0];
        let by_name = find_object(&s, &format!("app:{}", app.name.to_uppercase())).unwrap();
        assert_eq!(by_name.object.id, app.id);
        assert_eq!(find_object(&s, &app.id.0).unwrap().object.id, app.id);
        let err = find_object(&s, "resource:nothing like it").unwrap_err();
        assert!(
            err.to_string().starts_with("no app, resource or workflow"),
            "{err}"
        );
    }

    #[test]
    fn a_shared_name_is_ambiguous_and_lists_each_object() {
        let mut s = org();
        let name = s.apps[0].name.clone();
        s.apps[1].name = name.clone();
        match find_object(&s, &name) {
            Err(LookupError::Ambiguous { matches, .. }) => assert_eq!(matches.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn object_users_agree_with_the_effective_access_table() {
        let s = org();
        let index = AccessIndex::new(&s);
        let table = crate::analyze::effective_access(&s);
        for o in objects(&s) {
            for u in object_users(&index, &s, &o.object) {
                let (level, _) = index.level(&u.user.id, &o.object);
                assert_eq!(u.level, level);
                // The table lists the object itself when it gives more than the
                // type's baseline, otherwise the baseline row carries the level.
                let row = table
                    .iter()
                    .filter(|r| r.user_id == u.user.id && r.object_type == o.object.object_type)
                    .find(|r| r.object_id.as_ref() == Some(&o.object.id))
                    .or_else(|| {
                        table.iter().find(|r| {
                            r.user_id == u.user.id
                                && r.object_type == o.object.object_type
                                && r.object_id.is_none()
                        })
                    })
                    .unwrap_or_else(|| panic!("no row for {} on {}", u.user.email, o.label()));
                assert_eq!(row.level, u.level, "{} on {}", u.user.email, o.label());
            }
        }
        let alice = &s.users[0];
        let rows = user_access(&index, alice);
        let expected: Vec<_> = table.iter().filter(|r| r.user_id == alice.id).collect();
        assert_eq!(rows.len(), expected.len());
        for (r, e) in rows.iter().zip(expected) {
            assert_eq!(
                (r.object_type, &r.object_id, r.level),
                (e.object_type, &e.object_id, e.level)
            );
            assert_eq!(r.via, join_via(&e.via));
        }
    }
}
