//! `resource_environment_access`: which group may use which resource in which
//! environment (groups' grants on resource configurations).

use super::{Column, Context, held, t};
use crate::analyze::environments::{EnvironmentAccess, environment_access};
use crate::model::EntityKind;
use crate::report::table::{Cell, Rows, Table};

/// The columns, for rows borrowing from the state for `'r`.
fn columns<'r>() -> [Column<EnvironmentAccess<'r>>; 7] {
    [
        ("group_id", |_, r| Cell::Int(r.group_id.0)),
        ("group_name", |cx, r| t(cx.label(r.group_id))),
        ("resource_id", |_, r| t(r.resource_id)),
        ("resource_name", |_, r| t(r.resource_name)),
        ("environment", |_, r| t(r.environment.clone())),
        ("access_level", |_, r| t(r.access_level.as_str())),
        ("configuration_id", |_, r| t(r.configuration_id)),
    ]
}

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    let rows = environment_access(cx.state);
    held(
        cx,
        (
            "resource_environment_access",
            "Resource access per environment",
            "Every group's grant on one environment's configuration of a resource (for \
             example production but not staging; `listObjects` with \
             `resource_configuration`). Retool applies these on top of the resource grants in \
             effective_access, which are per resource across environments. A \
             configuration's connection options are never read."
                .to_string(),
        ),
        &columns(),
        &rows,
        cx.not_collected_notice(&[
            (
                EntityKind::ConfigurationGrants,
                "per-environment access is not shown",
            ),
            (
                EntityKind::ResourceConfigurations,
                "grants cannot be placed on a resource",
            ),
            (EntityKind::Environments, "environments are shown by id"),
        ]),
    )
}
