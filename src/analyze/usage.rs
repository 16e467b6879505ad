//! App usage per user: the usage API's figures matched to the snapshot's users.

use std::collections::{HashMap, HashSet};

use crate::model::{OrgState, User, UserUsage};

/// One user's usage over the window, or zeros when Retool listed no activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    pub user_id: String,
    pub email: String,
    /// The account's state; `None` for figures of a user the snapshot does
    /// not hold.
    pub active: Option<bool>,
    /// Retool's figures; `None`: no activity in the window.
    pub usage: Option<UserUsage>,
}

impl UsageRow {
    pub fn app_views(&self) -> i64 {
        self.usage.as_ref().map_or(0, |u| u.app_views)
    }
    pub fn app_saves(&self) -> i64 {
        self.usage.as_ref().map_or(0, |u| u.app_saves)
    }
}

/// Figures by the keys a user is matched on: the usage API's user id, and
/// the lower-cased e-mail.
pub struct UsageIndex<'a> {
    by_key: HashMap<String, &'a UserUsage>,
}

impl<'a> UsageIndex<'a> {
    pub fn new(state: &'a OrgState) -> Self {
        let mut by_key = HashMap::new();
        for u in &state.usage {
            by_key.entry(u.user_id.clone()).or_insert(u);
            by_key.entry(u.email.to_lowercase()).or_insert(u);
        }
        UsageIndex { by_key }
    }

    /// A user's figures: matched by id, then legacy id, then e-mail
    /// (case-insensitively).
    pub fn of(&self, user: &User) -> Option<&'a UserUsage> {
        self.by_key
            .get(&user.id.0)
            .or_else(|| user.legacy_id.and_then(|l| self.by_key.get(&l.to_string())))
            .or_else(|| self.by_key.get(&user.email.to_lowercase()))
            .copied()
    }
}

/// Every user of the state with their figures, sorted by e-mail; then the
/// figures that match no user.
pub fn usage_rows(state: &OrgState) -> Vec<UsageRow> {
    let index = UsageIndex::new(state);
    let mut used = HashSet::new();
    let mut users: Vec<&User> = state.users.iter().collect();
    users.sort_by(|a, b| (&a.email, &a.id).cmp(&(&b.email, &b.id)));
    let mut out: Vec<UsageRow> = users
        .into_iter()
        .map(|user| {
            let usage = index.of(user);
            if let Some(u) = usage {
                used.insert(&u.user_id);
            }
            UsageRow {
                user_id: user.id.0.clone(),
                email: user.email.clone(),
                active: Some(user.active),
                usage: usage.cloned(),
            }
        })
        .collect();
    out.extend(
        state
            .usage
            .iter()
            .filter(|u| !used.contains(&u.user_id))
            .map(|u| UsageRow {
                user_id: u.user_id.clone(),
                email: u.email.clone(),
                active: None,
                usage: Some(u.clone()),
            }),
    );
    out
}

/// The snapshot's users by the keys the usage API may name them with: id,
/// legacy id and lower-cased e-mail (the first user wins a shared key).
pub struct UserMatcher<'a> {
    by_key: HashMap<String, &'a User>,
}

impl<'a> UserMatcher<'a> {
    pub fn new(state: &'a OrgState) -> Self {
        let mut by_key = HashMap::new();
        for u in &state.users {
            by_key.entry(u.id.0.clone()).or_insert(u);
        }
        for u in &state.users {
            if let Some(l) = u.legacy_id {
                by_key.entry(l.to_string()).or_insert(u);
            }
        }
        for u in &state.users {
            by_key.entry(u.email.to_lowercase()).or_insert(u);
        }
        UserMatcher { by_key }
    }

    /// The user the usage API means by `user_id` (then by `email`).
    pub fn find(&self, user_id: &str, email: &str) -> Option<&'a User> {
        self.by_key
            .get(user_id)
            .or_else(|| self.by_key.get(&email.to_lowercase()))
            .copied()
    }
}

/// One user's views and saves of one app, with the snapshot's names for both
/// and the user's effective level on the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppUsageRow<'a> {
    pub usage: &'a crate::model::AppUsage,
    /// The snapshot's user; `None` for figures of a user it does not hold.
    pub user: Option<&'a User>,
    /// The app's name; `None` for an app the snapshot does not hold.
    pub app_name: Option<&'a str>,
    /// The user's effective level on the app (`None` when either is unknown).
    pub access_level: Option<crate::model::AccessLevel>,
}

/// Every per-app usage figure, sorted by app name, then e-mail.
pub fn app_usage_rows<'a>(
    state: &'a OrgState,
    index: &crate::analyze::AccessIndex<'_>,
) -> Vec<AppUsageRow<'a>> {
    let users = UserMatcher::new(state);
    let apps: HashMap<&str, &str> = state
        .apps
        .iter()
        .map(|a| (a.id.0.as_str(), a.name.as_str()))
        .collect();
    let mut rows: Vec<AppUsageRow<'a>> = state
        .app_usage
        .iter()
        .map(|u| {
            let user = users.find(&u.user_id, &u.email);
            let app_name = apps.get(u.app_id.as_str()).copied();
            let access_level = match (user, app_name) {
                (Some(user), Some(_)) => Some(
                    index
                        .level(
                            &user.id,
                            &crate::model::ObjectRef {
                                object_type: crate::model::ObjectType::App,
                                id: crate::model::ObjectId(u.app_id.clone()),
                            },
                        )
                        .0,
                ),
                _ => None,
            };
            AppUsageRow {
                usage: u,
                user,
                app_name,
                access_level,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.app_name, &a.usage.email, &a.usage.user_id).cmp(&(
            b.app_name,
            &b.usage.email,
            &b.usage.user_id,
        ))
    });
    rows
}

/// Each user's saves per app over the window, by the snapshot's user id and
/// app id (figures of users the snapshot does not hold are left out).
pub fn saves_by_user_and_app(
    state: &OrgState,
) -> HashMap<(crate::model::UserId, crate::model::ObjectId), i64> {
    let users = UserMatcher::new(state);
    let mut out = HashMap::new();
    for u in &state.app_usage {
        if let Some(user) = users.find(&u.user_id, &u.email) {
            *out.entry((user.id.clone(), crate::model::ObjectId(u.app_id.clone())))
                .or_default() += u.saves;
        }
    }
    out
}
