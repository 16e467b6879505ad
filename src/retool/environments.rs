//! Decoders of per-environment resource access (`GET /environments`,
//! `GET /resource_configurations`, API 2.4+) and of one app's usage detail
//! (`GET /usage/app_details`).
//!
//! A resource configuration's `options` hold hosts, user names, passwords and
//! keys: its decoder names the fields it reads (the configuration's id, its
//! resource's id, name and type, its environment's id) and nothing else of the
//! record is kept, not even as `raw`.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::decode::{DecodeFailure, IdText, decode_record, opt_ts};
use crate::model::{AppUsage, Environment, ResourceConfiguration};

#[derive(Debug, Deserialize)]
struct EnvironmentDto {
    id: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    default: bool,
    #[serde(default, deserialize_with = "opt_ts")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_ts")]
    updated_at: Option<DateTime<Utc>>,
}

pub(crate) fn environment(value: &Value, index: usize) -> Result<Environment, DecodeFailure> {
    let d: EnvironmentDto = decode_record(value, index)?;
    Ok(Environment {
        id: d.id,
        name: d.name,
        description: d.description.filter(|s| !s.is_empty()),
        is_default: d.default,
        created_at: d.created_at,
        updated_at: d.updated_at,
    })
}

/// The only fields of a configuration ever read: no `options`.
#[derive(Debug, Deserialize)]
struct ConfigurationDto {
    id: String,
    resource: ConfigurationResourceDto,
    environment: IdOnly,
}

#[derive(Debug, Deserialize)]
struct ConfigurationResourceDto {
    id: String,
    #[serde(default)]
    display_name: String,
    #[serde(default, rename = "type")]
    resource_type: String,
}

#[derive(Debug, Deserialize)]
struct IdOnly {
    id: String,
}

pub(crate) fn resource_configuration(
    value: &Value,
    index: usize,
) -> Result<ResourceConfiguration, DecodeFailure> {
    let d: ConfigurationDto = decode_record(value, index)?;
    Ok(ResourceConfiguration {
        id: d.id,
        resource_id: d.resource.id,
        resource_name: d.resource.display_name,
        resource_type: d.resource.resource_type,
        environment_id: d.environment.id,
    })
}

#[derive(Debug, Deserialize)]
struct PersonCountDto {
    user_id: IdText,
    #[serde(default)]
    email: String,
    #[serde(default)]
    count: f64,
}

#[derive(Debug, Deserialize)]
struct AppDetailsDto {
    #[serde(default)]
    viewer_summary: Vec<PersonCountDto>,
    #[serde(default)]
    editor_summary: Vec<PersonCountDto>,
}

/// One app's usage detail: every user who viewed or saved it, views from
/// `viewer_summary` and saves from `editor_summary`, keyed by user id (a
/// user named twice in one list has the counts added up).
pub(crate) fn app_details(data: &Value, app_id: &str) -> Result<Vec<AppUsage>, DecodeFailure> {
    let d: AppDetailsDto = serde_path_to_error::deserialize(data).map_err(|e| {
        DecodeFailure::new(format!("data.{}", e.path()), e.into_inner().to_string())
    })?;
    let mut by_user: std::collections::BTreeMap<String, AppUsage> = Default::default();
    let mut add = |p: PersonCountDto, view: bool| {
        let user_id = p.user_id.text();
        let row = by_user.entry(user_id.clone()).or_insert_with(|| AppUsage {
            app_id: app_id.to_string(),
            user_id,
            email: p.email.clone(),
            ..AppUsage::default()
        });
        let n = if p.count.is_finite() && p.count > 0.0 {
            p.count.round() as i64
        } else {
            0
        };
        if view {
            row.views += n;
        } else {
            row.saves += n;
        }
        if row.email.is_empty() {
            row.email = p.email;
        }
    };
    for p in d.viewer_summary {
        add(p, true);
    }
    for p in d.editor_summary {
        add(p, false);
    }
    Ok(by_user.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_configuration_keeps_nothing_of_its_options() {
        let v = json!({
            "id": "c1",
            "resource": {"id": "r1", "type": "postgresql", "display_name": "Payments",
                         "folder_id": null, "protected": false,
                         "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"},
            "environment": {"id": "e1", "name": "production", "description": null,
                            "color": "#FFFFFF", "default": true,
                            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"},
            "options": {"database_options": {"host": "db.internal", "port": "5432",
                                             "username": "svc", "password": "hunter2"}}
        });
        let c = resource_configuration(&v, 0).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            (
                c.id.as_str(),
                c.resource_id.as_str(),
                c.environment_id.as_str()
            ),
            ("c1", "r1", "e1")
        );
        let kept = format!("{c:?}");
        assert!(
            !kept.contains("hunter2") && !kept.contains("db.internal") && !kept.contains("svc")
        );
        let bad = resource_configuration(
            &json!({"id": "c2", "resource": {"id": "r"}, "environment": "prod"}),
            3,
        )
        .err()
        .map(|e| e.path);
        assert_eq!(bad.as_deref(), Some("data[3].environment"));
    }

    #[test]
    fn app_details_join_viewers_and_editors_by_user() {
        let data = json!({
            "overall_summary": [], "weekly_summary": [],
            "viewer_summary": [
                {"email": "a@x.io", "count": 7, "user_id": "u1", "org_id": "o", "host": "h"},
                {"email": "b@x.io", "count": 2.0, "user_id": 9, "org_id": "o", "host": "h"}
            ],
            "editor_summary": [
                {"email": "a@x.io", "count": 3, "user_id": "u1", "org_id": "o", "host": "h"},
                {"email": "c@x.io", "count": 1, "user_id": "u3", "org_id": "o", "host": "h"}
            ]
        });
        let rows = app_details(&data, "app1").unwrap_or_default();
        let got: Vec<(&str, i64, i64)> = rows
            .iter()
            .map(|r| (r.user_id.as_str(), r.views, r.saves))
            .collect();
        assert_eq!(got, [("9", 2, 0), ("u1", 7, 3), ("u3", 0, 1)]);
        assert!(rows.iter().all(|r| r.app_id == "app1"));
        let bad = app_details(&json!({"viewer_summary": [{"count": 1}]}), "a")
            .err()
            .map(|e| e.path);
        assert_eq!(bad.as_deref(), Some("data.viewer_summary[0]"));
    }
}
