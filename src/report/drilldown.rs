//! The per-user drill-down of the HTML report: one card per user with the
//! account, groups, roles, edit/own access, changes and findings on one view,
//! so a reviewer who clicks an e-mail in any table sees everything about that
//! user without joining tables. Built from the same analysis as the tables.
//!
//! At most [`MAX_CARDS`] users get a card, the ones that need a look first:
//! users with exceptions (most severe first), then privileged users, then users
//! a change touched, then everyone else by e-mail.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, HashSet};

use super::table::format_time;
use super::tables::Context;
use crate::analyze::exceptions::Severity;
use crate::model::{AccessLevel, User, UserId, account_status};

/// Users with a card, at most.
pub const MAX_CARDS: usize = 500;
/// Lines per part of a card, at most (the tables hold the rest).
const MAX_LINES: usize = 25;

/// One user's view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCard {
    pub user_id: String,
    pub email: String,
    pub name: String,
    /// (label, value) pairs: status, admin, type, 2FA, created, last active.
    pub account: Vec<(String, String)>,
    /// Group names, `(group admin)` marked.
    pub groups: Vec<String>,
    /// Roles held, with how (directly, through a group, on which object).
    pub roles: Vec<String>,
    /// Edit and own access: level, object type, object, determining source.
    pub access: Vec<String>,
    /// Changes since the previous snapshot touching the user.
    pub changes: Vec<String>,
    /// Exceptions concerning the user: severity, finding, subject.
    pub findings: Vec<(Severity, String)>,
    /// Parts cut at `MAX_LINES` lines, with their full count.
    pub truncated: Vec<(String, usize)>,
}

/// The cards of a report, and how many users the snapshot holds (more than
/// the cards when [`MAX_CARDS`] cut them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drilldown {
    pub cards: Vec<UserCard>,
    pub users: usize,
}

/// The cards, most urgent users first (see the module docs).
pub(crate) fn drilldown(cx: &Context<'_, '_>) -> Drilldown {
    let exceptions = &cx.exceptions;
    // Lower ranks first: (group, most severe finding first).
    let mut rank: HashMap<&UserId, (u8, Reverse<Severity>)> = HashMap::new();
    for e in exceptions {
        if let Some(id) = &e.user_id {
            let entry = rank.entry(id).or_insert((0, Reverse(e.severity())));
            entry.1 = entry.1.min(Reverse(e.severity()));
        }
    }
    for p in &cx.privileged {
        if let Some(id) = &p.user_id {
            rank.entry(id).or_insert((1, Reverse(Severity::Low)));
        }
    }
    let changes = cx.changes.as_ref().map(|(_, _, c)| &c[..]).unwrap_or(&[]);
    let mut changed: HashMap<&str, Vec<String>> = HashMap::new();
    let user_ids: HashSet<&str> = cx.state.users.iter().map(|u| u.id.0.as_str()).collect();
    for seen in changes {
        let c = &seen.change;
        let line = if c.field.is_empty() {
            format!(
                "{} {} {} ({})",
                c.entity_type.as_str(),
                c.change.as_str(),
                c.entity_name,
                c.risk.as_str()
            )
        } else {
            format!(
                "{} {}: {} {} → {} ({})",
                c.entity_type.as_str(),
                c.entity_name,
                c.field,
                c.old_value,
                c.new_value,
                c.risk.as_str()
            )
        };
        for part in c.entity_id.split(':') {
            if let Some(id) = user_ids.get(part) {
                changed.entry(id).or_default().push(line.clone());
            }
        }
    }
    for u in &cx.users_sorted {
        if changed.contains_key(u.id.0.as_str()) {
            rank.entry(&u.id).or_insert((2, Reverse(Severity::Low)));
        }
    }
    let mut order: Vec<&User> = cx.users_sorted.clone();
    // Stable: ties keep the e-mail order.
    order.sort_by_key(|u| {
        rank.get(&u.id)
            .copied()
            .unwrap_or((3, Reverse(Severity::Low)))
    });
    order.truncate(MAX_CARDS);

    let mut findings: HashMap<&UserId, Vec<(Severity, String)>> = HashMap::new();
    for e in exceptions {
        if let Some(id) = &e.user_id {
            findings.entry(id).or_default().push((
                e.severity(),
                format!("{}: {}", e.finding.as_str(), e.subject),
            ));
        }
    }
    for list in findings.values_mut() {
        list.sort_by_key(|(severity, _)| Reverse(*severity));
    }
    let cards = order
        .into_iter()
        .map(|u| {
            card(
                cx,
                u,
                findings.remove(&u.id).unwrap_or_default(),
                changed.remove(u.id.0.as_str()).unwrap_or_default(),
            )
        })
        .collect();
    Drilldown {
        cards,
        users: cx.state.users.len(),
    }
}

fn card(
    cx: &Context<'_, '_>,
    u: &User,
    findings: Vec<(Severity, String)>,
    changes: Vec<String>,
) -> UserCard {
    let opt_time = |t: &Option<chrono::DateTime<chrono::Utc>>| {
        t.as_ref().map_or_else(|| "never".to_string(), format_time)
    };
    let account = vec![
        ("status".to_string(), account_status(u.active).to_string()),
        ("admin".to_string(), u.is_admin.to_string()),
        ("user type".to_string(), u.user_type.clone()),
        (
            "2FA".to_string(),
            u.two_factor_enabled
                .map_or("not reported".to_string(), |b| b.to_string()),
        ),
        ("created".to_string(), opt_time(&u.created_at)),
        ("last active".to_string(), opt_time(&u.last_active)),
    ];
    let memberships = cx.user_groups.get(&u.id).map(Vec::as_slice).unwrap_or(&[]);
    let mut groups: Vec<String> = memberships
        .iter()
        .map(|(g, admin)| {
            let label = cx.labels.get(g).cloned().unwrap_or_else(|| g.to_string());
            if *admin {
                format!("{label} (group admin)")
            } else {
                label
            }
        })
        .collect();
    groups.sort();
    let group_ids: HashMap<String, String> = memberships
        .iter()
        .map(|(g, _)| {
            (
                g.to_string(),
                cx.labels.get(g).cloned().unwrap_or_else(|| g.to_string()),
            )
        })
        .collect();
    let role_names: BTreeMap<&str, &str> = cx
        .state
        .roles
        .iter()
        .map(|r| (r.id.as_str(), r.name.as_str()))
        .collect();
    let mut roles: Vec<String> = cx
        .state
        .role_grants
        .iter()
        .filter_map(|g| {
            let how = if g.user().as_ref() == Some(&u.id) {
                "directly".to_string()
            } else if g.subject_type == "group" {
                format!("through group {}", group_ids.get(&g.subject_id)?)
            } else {
                return None;
            };
            let on = if g.object_type.is_empty() {
                "the organization".to_string()
            } else {
                format!("{} {}", g.object_type, g.object_id)
            };
            let name = role_names
                .get(g.role_id.as_str())
                .copied()
                .unwrap_or(&g.role_id);
            Some(format!("{name} on {on}, {how}"))
        })
        .collect();
    roles.sort();
    let mut access = Vec::new();
    if u.active {
        cx.index.for_each_row(u, |row| {
            if matches!(row.level, AccessLevel::Edit | AccessLevel::Own) {
                let mut source = String::new();
                row.write_determining_source(&mut source);
                access.push(format!(
                    "{} {} {} (by {source})",
                    row.level.as_str(),
                    row.object_type.as_str(),
                    row.object_name,
                ));
            }
        });
    }
    let mut card = UserCard {
        user_id: u.id.0.clone(),
        email: u.email.clone(),
        name: [u.first_name.as_deref(), u.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
        account,
        groups,
        roles,
        access,
        changes,
        findings,
        truncated: Vec::new(),
    };
    for (part, lines) in [
        ("groups", &mut card.groups),
        ("roles", &mut card.roles),
        ("edit and own access", &mut card.access),
        ("changes", &mut card.changes),
    ] {
        if lines.len() > MAX_LINES {
            card.truncated.push((part.to_string(), lines.len()));
            lines.truncate(MAX_LINES);
        }
    }
    if card.findings.len() > MAX_LINES {
        card.truncated
            .push(("findings".to_string(), card.findings.len()));
        card.findings.truncate(MAX_LINES);
    }
    card
}
