//! `roles`: every role, default and custom, with its scopes.

use super::{Column, Context, held, list, t, time};
use crate::analyze::roles::unmapped_object_scopes;
use crate::model::{EntityKind, Role};
use crate::report::table::{Cell, Rows, Table};

const COLUMNS: &[Column<Role>] = &[
    ("role_id", |_, r| t(r.id.clone())),
    ("name", |_, r| t(r.name.clone())),
    ("description", |_, r| {
        Cell::opt(r.description.clone(), Cell::Text)
    }),
    ("is_default_role", |_, r| Cell::Bool(r.is_default_role)),
    ("is_legacy_role", |_, r| Cell::Bool(r.is_legacy_role)),
    ("organization_scopes", |_, r| list(&r.organization_scopes)),
    ("object_scopes", |_, r| list(&r.object_scopes)),
    ("updated_at", |_, r| time(r.updated_at)),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    let mut roles: Vec<&Role> = cx.state.roles.iter().collect();
    roles.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    let mut unmapped: Vec<String> = roles
        .iter()
        .filter_map(|r| {
            let scopes = unmapped_object_scopes(r);
            (!scopes.is_empty()).then(|| format!("{} ({})", r.name, scopes.join(", ")))
        })
        .collect();
    unmapped.dedup();
    let notice = cx
        .not_collected_notice(&[(
            EntityKind::Roles,
            "roles and the access they give are not shown",
        )])
        .or_else(|| {
            (!unmapped.is_empty()).then(|| {
                format!(
                    "Object scopes this version does not map to an access level (their grants \
                     are not in effective_access): {}",
                    unmapped.join("; ")
                )
            })
        });
    held(
        cx,
        (
            "roles",
            "Roles",
            "Every role (API 2.9+), by name: default roles mirror the built-in groups; custom \
             roles carry organization scopes (settings their holders manage) and object scopes \
             (what they may do with an object a grant names). Scopes are `;`-separated; see \
             docs/reports.md for how scopes map to access levels and privilege."
                .to_string(),
        ),
        COLUMNS,
        roles,
        notice,
    )
}
