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
