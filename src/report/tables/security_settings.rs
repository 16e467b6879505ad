//! `security_settings`: the organization's and the SSO settings, with findings.

use super::{Column, Context, held, t};
use crate::analyze::settings::{SettingRow, security_settings};
use crate::model::EntityKind;
use crate::report::table::{Cell, Rows, Table};

const COLUMNS: &[Column<SettingRow>] = &[
    ("setting", |_, r| t(r.setting.name.clone())),
    ("value", |_, r| t(r.setting.value.clone())),
    ("source", |_, r| t(r.setting.source.clone())),
    ("finding", |_, r| Cell::opt(r.finding, t)),
];

pub(super) fn table<'a>(cx: &Context<'_, 'a>) -> Table<Rows<'a>> {
    held(
        cx,
        (
            "security_settings",
            "Security settings",
            "The organization's security settings (`GET /organization/`) and its single sign-on \
             settings (`GET /sso/config`), allow-listed: no client id, secret or identity \
             provider URL is ever read. finding names what is weak: two_factor_not_required, \
             password_login_allowed_with_sso, jit_without_restricted_domain, \
             app_owners_manage_permissions."
                .to_string(),
        ),
        COLUMNS,
        &security_settings(cx.state),
        cx.not_collected_notice(&[(
            EntityKind::Settings,
            "the settings below are incomplete or missing",
        )]),
    )
}
