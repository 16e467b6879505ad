//! Per-environment resource access: which group may use which resource in
//! which environment, from the groups' grants on resource configurations.

use std::collections::HashMap;

use crate::model::{AccessLevel, GroupId, OrgState};

/// One group's access to one resource in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentAccess<'a> {
    pub group_id: GroupId,
    /// Empty when the configuration is not among those listed.
    pub resource_id: &'a str,
    pub resource_name: &'a str,
    /// The environment's name, `environment <id>` when environments were not
    /// read, or `configuration <id> (not listed)`.
    pub environment: String,
    pub configuration_id: &'a str,
    pub access_level: AccessLevel,
}

/// Every grant on a resource configuration, named, sorted by resource name,
/// environment and group.
pub fn environment_access(state: &OrgState) -> Vec<EnvironmentAccess<'_>> {
    let environments: HashMap<&str, &str> = state
        .environments
        .iter()
        .map(|e| (e.id.as_str(), e.name.as_str()))
        .collect();
    let resources: HashMap<&str, &str> = state
        .resources
        .iter()
        .map(|r| (r.id.0.as_str(), r.name.as_str()))
        .collect();
    let configurations: HashMap<&str, _> = state
        .resource_configurations
        .iter()
        .map(|c| (c.id.as_str(), c))
        .collect();
    let mut rows: Vec<EnvironmentAccess<'_>> = state
        .configuration_grants
        .iter()
        .map(|g| {
            let id = g.configuration_id.as_str();
            let (resource_id, resource_name, environment) = match configurations.get(id) {
                Some(c) => (
                    c.resource_id.as_str(),
                    // The resource list's name is current; the
                    // configuration's copy stands in when it is missing.
                    resources
                        .get(c.resource_id.as_str())
                        .copied()
                        .unwrap_or(c.resource_name.as_str()),
                    environments.get(c.environment_id.as_str()).map_or_else(
                        || format!("environment {}", c.environment_id),
                        |n| n.to_string(),
                    ),
                ),
                None => ("", "", format!("configuration {id} (not listed)")),
            };
            EnvironmentAccess {
                group_id: g.group_id,
                resource_id,
                resource_name,
                environment,
                configuration_id: id,
                access_level: g.access_level,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (
            a.resource_name,
            &a.environment,
            a.group_id,
            a.configuration_id,
        )
            .cmp(&(
                b.resource_name,
                &b.environment,
                b.group_id,
                b.configuration_id,
            ))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ConfigurationGrant, Environment, ResourceConfiguration};

    #[test]
    fn grants_are_named_by_resource_and_environment() {
        let mut s = OrgState::default();
        s.environments.push(Environment {
            id: "e1".into(),
            name: "production".into(),
            ..Environment::default()
        });
        s.resource_configurations.push(ResourceConfiguration {
            id: "c1".into(),
            resource_id: "r1".into(),
            resource_name: "Old name".into(),
            resource_type: "postgresql".into(),
            environment_id: "e1".into(),
        });
        s.resource_configurations.push(ResourceConfiguration {
            id: "c2".into(),
            resource_id: "r1".into(),
            resource_name: "Old name".into(),
            resource_type: "postgresql".into(),
            environment_id: "e9".into(),
        });
        for (g, c) in [(3, "c1"), (4, "c2"), (5, "c404")] {
            s.configuration_grants.push(ConfigurationGrant {
                group_id: GroupId(g),
                configuration_id: c.into(),
                access_level: AccessLevel::Use,
            });
        }
        let rows = environment_access(&s);
        let got: Vec<(i64, &str, &str)> = rows
            .iter()
            .map(|r| (r.group_id.0, r.resource_name, r.environment.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (5, "", "configuration c404 (not listed)"),
                (4, "Old name", "environment e9"),
                (3, "Old name", "production"),
            ]
        );
    }
}
