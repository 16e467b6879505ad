//! The organization's security settings and what is wrong with them.
//!
//! Findings (each on the setting row it is about):
//! - `two_factor_not_required`: `two_factor_auth_required` is `false` (the
//!   summary adds how many active users have no second factor);
//! - `password_login_allowed_with_sso`: SSO is configured but
//!   `disable_email_password_login` is `false`, so a password login bypasses
//!   the identity provider (and its offboarding);
//! - `jit_without_restricted_domain`: just-in-time provisioning is on and no
//!   domain restricts who the identity provider may create;
//! - `app_owners_manage_permissions`: app owners can change who may use their
//!   apps, outside the permission groups a review looks at.

use crate::model::{OrgState, Setting};

/// Every finding [`security_settings`] can make.
pub const FINDINGS: [&str; 4] = [
    "two_factor_not_required",
    "password_login_allowed_with_sso",
    "jit_without_restricted_domain",
    "app_owners_manage_permissions",
];

/// One setting with its finding, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingRow {
    pub setting: Setting,
    /// A short finding name, or `None`.
    pub finding: Option<&'static str>,
}

/// Every collected setting (sorted by source, then name) with its finding.
pub fn security_settings(state: &OrgState) -> Vec<SettingRow> {
    let get = |source: &str, name: &str| {
        state
            .settings
            .iter()
            .find(|s| s.source == source && s.name == name)
            .map(|s| s.value.as_str())
    };
    let sso_on = get("sso", "config_type").is_some_and(|t| t != "none");
    let finding = |s: &Setting| -> Option<&'static str> {
        match (s.source.as_str(), s.name.as_str(), s.value.as_str()) {
            ("organization", "two_factor_auth_required", "false") => {
                Some("two_factor_not_required")
            }
            ("organization", "app_owners_permissions_management", "true") => {
                Some("app_owners_manage_permissions")
            }
            ("sso", "disable_email_password_login", "false") if sso_on => {
                Some("password_login_allowed_with_sso")
            }
            ("sso", "jit_enabled", "true")
                if sso_on && get("sso", "restricted_domain").is_none_or(str::is_empty) =>
            {
                Some("jit_without_restricted_domain")
            }
            _ => None,
        }
    };
    let mut rows: Vec<SettingRow> = state
        .settings
        .iter()
        .map(|s| SettingRow {
            setting: s.clone(),
            finding: finding(s),
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.setting.source, &a.setting.name).cmp(&(&b.setting.source, &b.setting.name))
    });
    rows
}

/// Active users without a second factor, when the API says (v2).
pub fn active_without_two_factor(state: &OrgState) -> usize {
    state
        .users
        .iter()
        .filter(|u| u.active && u.two_factor_enabled == Some(false))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(source: &str, name: &str, value: &str) -> Setting {
        Setting {
            source: source.into(),
            name: name.into(),
            value: value.into(),
        }
    }

    fn findings(settings: Vec<Setting>) -> Vec<&'static str> {
        let state = OrgState {
            settings,
            ..OrgState::default()
        };
        security_settings(&state)
            .iter()
            .filter_map(|r| r.finding)
            .collect()
    }

    #[test]
    fn each_finding_needs_its_condition() {
        let risky = vec![
            setting("organization", "two_factor_auth_required", "false"),
            setting("organization", "app_owners_permissions_management", "true"),
            setting("sso", "config_type", "oidc"),
            setting("sso", "disable_email_password_login", "false"),
            setting("sso", "jit_enabled", "true"),
            setting("sso", "restricted_domain", ""),
        ];
        assert_eq!(
            findings(risky),
            [
                "app_owners_manage_permissions",
                "two_factor_not_required",
                "password_login_allowed_with_sso",
                "jit_without_restricted_domain"
            ]
        );
        let safe = vec![
            setting("organization", "two_factor_auth_required", "true"),
            setting("organization", "app_owners_permissions_management", "false"),
            setting("sso", "config_type", "oidc"),
            setting("sso", "disable_email_password_login", "true"),
            setting("sso", "jit_enabled", "true"),
            setting("sso", "restricted_domain", "acme.com"),
        ];
        assert!(findings(safe).is_empty());
        // Without SSO, password login and JIT are not findings.
        let no_sso = vec![
            setting("sso", "config_type", "none"),
            setting("sso", "disable_email_password_login", "false"),
            setting("sso", "jit_enabled", "true"),
        ];
        assert!(findings(no_sso).is_empty());
    }
}
