//! `resource_configurations`: each resource's configuration per environment
//! (never its connection options), and the environments themselves.

use std::collections::HashMap;

use super::{Column, Context, held, t};
use crate::model::{EntityKind, ResourceConfiguration};
use crate::report::table::{Cell, Rows, Table};

/// A configuration and its environment's name and default flag, when known.
type Row<'r> = (&'r ResourceConfiguration, Option<(&'r str, bool)>);

fn columns<'r>() -> [Column<Row<'r>>; 7] {
    [
        ("configuration_id", |_, (c, _)| t(c.id.clone())),
        ("resource_id", |_, (c, _)| t(c.resource_id.clone())),
        ("resource_name", |_, (c, _)| t(c.resource_name.clone())),
        ("resource_type", |_, (c, _)| t(c.resource_type.clone())),
        ("environment_id", |_, (c, _)| t(c.environment_id.clone())),
        ("environment", |_, (_, e)| {
            Cell::opt(*e, |(name, _)| t(name))
        }),
        ("is_default_environment", |_, (_, e)| {
            Cell::opt(*e, |(_, default)| Cell::Bool(default))
        }),
    ]
}

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    let environments: HashMap<&str, (&str, bool)> = cx
        .state
        .environments
        .iter()
        .map(|e| (e.id.as_str(), (e.name.as_str(), e.is_default)))
        .collect();
    let rows: Vec<Row<'_>> = cx
        .state
        .resource_configurations
        .iter()
        .map(|c| (c, environments.get(c.environment_id.as_str()).copied()))
        .collect();
    held(
        cx,
        (
            "resource_configurations",
            "Resource configurations",
            "Each resource's configuration in each environment, with the environment's name \
             (the environments are listed by the configurations that use them). A \
             configuration's connection options hold credentials and are never read."
                .to_string(),
        ),
        &columns(),
        &rows,
        cx.not_collected_notice(&[
            (EntityKind::ResourceConfigurations, "the inventory is empty"),
            (EntityKind::Environments, "environment names are empty"),
        ]),
    )
}
