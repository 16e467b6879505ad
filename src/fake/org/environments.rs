//! Environments, resource configurations (with credentials in their options,
//! which a correct collector never keeps), groups' access to them, and who
//! viewed and saved each app: generation, wire records, the oracle's part and
//! the scripted day's change.

use serde_json::{Value, json};

use super::wire::wire_time;
use super::{
    FakeAppUsage, FakeConfiguration, FakeConfigurationGrant, FakeEnvironment, FakeOrg,
    RESOURCE_HOST, RESOURCE_PASSWORD, ScriptedChanges, days,
};
use crate::fake::rng::SplitMix64;
use crate::model::{
    AccessLevel, AppUsage, ConfigurationGrant, Environment, GroupId, OrgState,
    ResourceConfiguration,
};

impl FakeOrg {
    /// Two environments (production, the default, and staging), one
    /// configuration of every resource in each, each resource's
    /// configurations granted to one or two custom groups (staging more
    /// freely than production), and each user with usage spread over up to
    /// three apps.
    pub(super) fn gen_environments(&mut self, rng: &mut SplitMix64) {
        let t = self.now - days(400);
        let env = |rng: &mut SplitMix64, name: &str, color: &str, default: bool| FakeEnvironment {
            id: rng.uuid(),
            name: name.to_string(),
            description: Some(format!("The {name} environment")),
            color: color.to_string(),
            default,
            created_at: t,
            updated_at: t,
        };
        let production = env(rng, "production", "#3C92DC", true);
        let staging = env(rng, "staging", "#E9AB11", false);
        let custom: Vec<i64> = self
            .groups
            .iter()
            .map(|g| g.id)
            .filter(|g| *g >= 3)
            .collect();
        for (i, r) in self.resources.iter().enumerate() {
            for e in [&production, &staging] {
                self.configurations.push(FakeConfiguration {
                    id: rng.uuid(),
                    resource_id: r.id.clone(),
                    environment_id: e.id.clone(),
                    options: json!({"database_options": {
                        "host": RESOURCE_HOST,
                        "port": "5432",
                        "name": "app",
                        "username": format!("svc_{i}"),
                        "password": RESOURCE_PASSWORD,
                    }}),
                });
            }
            let Some(&group) = rng.pick(&custom) else {
                continue;
            };
            let n = self.configurations.len();
            let (prod, stage) = (
                self.configurations[n - 2].id.clone(),
                self.configurations[n - 1].id.clone(),
            );
            self.configuration_grants.push(FakeConfigurationGrant {
                group_id: group,
                configuration_id: stage,
                level: AccessLevel::Edit,
            });
            if i % 2 == 0 {
                self.configuration_grants.push(FakeConfigurationGrant {
                    group_id: group,
                    configuration_id: prod,
                    level: AccessLevel::Use,
                });
            }
        }
        self.environments = vec![production, staging];

        // Per-app usage: each user's views over up to three apps, saves on
        // the first.
        let mut app_usage = Vec::new();
        for u in &self.usage {
            let k = (u.unique_apps.max(1) as usize).min(3).min(self.apps.len());
            let first = rng.below(self.apps.len().max(1) as u64) as usize;
            for j in 0..k {
                let app = &self.apps[(first + j * 7) % self.apps.len()];
                let views = if j == 0 {
                    (u.app_views - (k as i64 - 1)).max(1)
                } else {
                    1
                };
                app_usage.push(FakeAppUsage {
                    app_id: app.id.clone(),
                    user_id: u.user_id.clone(),
                    email: u.email.clone(),
                    views,
                    saves: if j == 0 { u.app_saves } else { 0 },
                });
            }
        }
        app_usage.sort_by(|a, b| (&a.app_id, &a.user_id).cmp(&(&b.app_id, &b.user_id)));
        app_usage.dedup_by(|a, b| a.app_id == b.app_id && a.user_id == b.user_id);
        self.app_usage = app_usage;
    }

    /// The v2 `GET /environments` record.
    pub fn environment_v2(e: &FakeEnvironment) -> Value {
        json!({
            "id": e.id,
            "name": e.name,
            "description": e.description,
            "color": e.color,
            "default": e.default,
            "created_at": wire_time(e.created_at),
            "updated_at": wire_time(e.updated_at),
        })
    }

    /// The v2 `GET /resource_configurations` record: the resource and the
    /// environment in full, and the options with their password.
    pub fn configuration_v2(&self, c: &FakeConfiguration) -> Value {
        let resource = self
            .resources
            .iter()
            .find(|r| r.id == c.resource_id)
            .map(Self::resource_v2)
            .unwrap_or_else(|| json!({"id": c.resource_id, "type": "postgresql", "display_name": c.resource_id}));
        let environment = self
            .environments
            .iter()
            .find(|e| e.id == c.environment_id)
            .map(Self::environment_v2)
            .unwrap_or_else(|| json!({"id": c.environment_id}));
        json!({
            "id": c.id,
            "resource": resource,
            "environment": environment,
            "options": c.options,
        })
    }

    /// `listObjects` items of a group for `resource_configuration`.
    pub fn configuration_objects(&self, group: GroupId) -> Vec<Value> {
        self.configuration_grants
            .iter()
            .filter(|g| g.group_id == group.0)
            .map(|g| json!({"type": "resource_configuration", "id": g.configuration_id, "access_level": g.level.as_str()}))
            .collect()
    }

    /// The v2 `GET /usage/app_details` data for every app named `name`
    /// (Retool asks by name: apps sharing it are summed).
    pub fn app_details_v2(&self, name: &str) -> Value {
        let ids: Vec<&str> = self
            .apps
            .iter()
            .filter(|a| a.name == name)
            .map(|a| a.id.as_str())
            .collect();
        let person = |u: &FakeAppUsage, count: i64| {
            json!({"email": u.email, "count": count, "user_id": u.user_id,
                   "org_id": "org_fake", "host": "fake.retool.example"})
        };
        let rows: Vec<&FakeAppUsage> = self
            .app_usage
            .iter()
            .filter(|u| ids.contains(&u.app_id.as_str()))
            .collect();
        let views: i64 = rows.iter().map(|u| u.views).sum();
        let saves: i64 = rows.iter().map(|u| u.saves).sum();
        json!({
            "overall_summary": [{"org_id": "org_fake", "app_name": name,
                                 "count_app_saves": saves, "count_app_views": views,
                                 "host": "fake.retool.example"}],
            "weekly_summary": [],
            "viewer_summary": rows.iter().filter(|u| u.views > 0).map(|u| person(u, u.views)).collect::<Vec<_>>(),
            "editor_summary": rows.iter().filter(|u| u.saves > 0).map(|u| person(u, u.saves)).collect::<Vec<_>>(),
        })
    }

    /// The oracle's part: environments, configurations (never options),
    /// configuration grants; per-app usage is left to
    /// [`FakeOrg::expected_app_usage`] (a run reads it only when asked).
    pub(super) fn expected_environments(&self, s: &mut OrgState) {
        s.environments = self
            .environments
            .iter()
            .map(|e| Environment {
                id: e.id.clone(),
                name: e.name.clone(),
                description: e.description.clone(),
                is_default: e.default,
                created_at: Some(e.created_at),
                updated_at: Some(e.updated_at),
            })
            .collect();
        s.resource_configurations = self
            .configurations
            .iter()
            .map(|c| {
                let r = self.resources.iter().find(|r| r.id == c.resource_id);
                ResourceConfiguration {
                    id: c.id.clone(),
                    resource_id: c.resource_id.clone(),
                    resource_name: r
                        .map(|r| r.display_name.clone())
                        .unwrap_or_else(|| c.resource_id.clone()),
                    resource_type: r
                        .map(|r| r.resource_type.clone())
                        .unwrap_or_else(|| "postgresql".into()),
                    environment_id: c.environment_id.clone(),
                }
            })
            .collect();
        s.configuration_grants = self
            .configuration_grants
            .iter()
            .map(|g| ConfigurationGrant {
                group_id: GroupId(g.group_id),
                configuration_id: g.configuration_id.clone(),
                access_level: g.level,
            })
            .collect();
        s.not_collected.insert(
            crate::model::EntityKind::AppUsage,
            crate::model::access_model::APP_USAGE_NOT_REQUESTED.to_string(),
        );
    }

    /// The per-app usage a run with `--usage-details` reads (apps that share
    /// a name with another app are not attributed), normalized.
    pub fn expected_app_usage(&self) -> Vec<AppUsage> {
        let mut out: Vec<AppUsage> = self
            .app_usage
            .iter()
            .filter(|u| {
                let name = self.apps.iter().find(|a| a.id == u.app_id).map(|a| &a.name);
                name.is_some_and(|n| self.apps.iter().filter(|a| &a.name == n).count() == 1)
            })
            .map(|u| AppUsage {
                app_id: u.app_id.clone(),
                user_id: u.user_id.clone(),
                email: u.email.clone(),
                views: u.views,
                saves: u.saves,
            })
            .collect();
        out.sort();
        out
    }

    /// The day's change: the first custom group gains `own` on the
    /// production configuration of the first resource, and configurations
    /// of a removed resource go with it.
    pub(super) fn change_environments(&mut self, ch: &mut ScriptedChanges) {
        let resources: std::collections::HashSet<&str> =
            self.resources.iter().map(|r| r.id.as_str()).collect();
        self.configurations
            .retain(|c| resources.contains(c.resource_id.as_str()));
        let kept: std::collections::HashSet<&str> =
            self.configurations.iter().map(|c| c.id.as_str()).collect();
        self.configuration_grants
            .retain(|g| kept.contains(g.configuration_id.as_str()));
        let production = self
            .environments
            .iter()
            .find(|e| e.default)
            .map(|e| e.id.clone());
        let group = self.groups.iter().map(|g| g.id).find(|g| *g >= 3);
        let config = self
            .resources
            .first()
            .zip(production)
            .and_then(|(r, env)| {
                self.configurations
                    .iter()
                    .find(|c| c.resource_id == r.id && c.environment_id == env)
            })
            .map(|c| c.id.clone());
        if let Some(staging) = self.environments.iter_mut().find(|e| !e.default) {
            staging.description = Some(format!("Staging, changed in round {}", self.change_rounds));
            staging.updated_at = self.now;
        }
        // A day of app use on a few apps.
        for u in self.app_usage.iter_mut().take(4) {
            u.views += 3;
        }
        if let (Some(group), Some(config)) = (group, config) {
            match self
                .configuration_grants
                .iter_mut()
                .find(|g| g.group_id == group && g.configuration_id == config)
            {
                Some(g) => g.level = AccessLevel::Own,
                None => self.configuration_grants.push(FakeConfigurationGrant {
                    group_id: group,
                    configuration_id: config.clone(),
                    level: AccessLevel::Own,
                }),
            }
            ch.configuration_grants_changed
                .push((GroupId(group), config, AccessLevel::Own));
        }
    }
}
