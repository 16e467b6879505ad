//! Test fixtures for the store: temp files, raw SQL for tampering, and small
//! hand-built organization states covering every kind.

use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::Store;
use crate::model::*;

pub(crate) fn tmp() -> tempfile::TempDir {
    match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("cannot create a temp dir: {e}"),
    }
}

/// Runs SQL on the file directly, as a person with the `sqlite3` shell would
/// (foreign keys off, the shell's default).
pub(crate) fn raw_sql(path: &Path, sql: &str) {
    let conn = match rusqlite::Connection::open(path) {
        Ok(c) => c,
        Err(e) => panic!("open {}: {e}", path.display()),
    };
    if let Err(e) = conn.execute_batch(&format!("PRAGMA foreign_keys = OFF; {sql}")) {
        panic!("{sql}: {e}");
    }
}

pub(crate) fn raw_count(path: &Path, sql: &str) -> i64 {
    let conn = match rusqlite::Connection::open(path) {
        Ok(c) => c,
        Err(e) => panic!("open {}: {e}", path.display()),
    };
    match conn.query_row(sql, [], |r| r.get(0)) {
        Ok(n) => n,
        Err(e) => panic!("{sql}: {e}"),
    }
}

pub(crate) fn open(path: &Path) -> Store {
    match Store::open(path) {
        Ok(s) => s,
        Err(e) => panic!("open {}: {e}", path.display()),
    }
}

pub(crate) fn t(day: u32, nanos: i64) -> DateTime<Utc> {
    match Utc.with_ymd_and_hms(2026, 11, day, 2, 0, 0).single() {
        Some(d) => d + Duration::nanoseconds(nanos),
        None => panic!("bad test day {day}"),
    }
}

pub(crate) fn user(id: &str, email: &str, active: bool) -> User {
    User {
        id: UserId(id.into()),
        legacy_id: None,
        email: email.into(),
        first_name: None,
        last_name: None,
        active,
        is_admin: false,
        user_type: "default".into(),
        two_factor_enabled: None,
        created_at: None,
        last_active: None,
        raw: format!(r#"{{"id":"{id}","email":"{email}"}}"#),
    }
}

pub(crate) fn group(id: i64, name: &str) -> Group {
    Group {
        id: GroupId(id),
        legacy_id: None,
        name: name.into(),
        universal_app_access: AccessLevel::None,
        universal_resource_access: AccessLevel::Use,
        universal_workflow_access: AccessLevel::None,
        universal_query_library_access: AccessLevel::Edit,
        flags: GroupFlags::default(),
        landing_page_app_id: None,
        created_at: None,
        updated_at: None,
        raw: format!(r#"{{"id":{id}}}"#),
    }
}

pub(crate) fn member(g: i64, u: &str, admin: bool) -> Membership {
    Membership {
        group_id: GroupId(g),
        user_id: UserId(u.into()),
        is_group_admin: admin,
    }
}

pub(crate) fn grant(subject: Subject, ty: ObjectType, id: &str, level: AccessLevel) -> Grant {
    Grant {
        subject,
        object: ObjectRef {
            object_type: ty,
            id: ObjectId(id.into()),
        },
        level,
    }
}

/// A small org with every kind, both `None` and `Some` in optional fields,
/// sub-second times, unicode and hostile text.
pub(crate) fn sample_state() -> OrgState {
    let hostile =
        "=HYPERLINK(\"http://x\")\t<script>alert('x')</script>\r\n\"; DROP TABLE users; --";
    let mut admin = user("u1", "ada@example.com", true);
    admin.legacy_id = Some(101);
    admin.first_name = Some("Ada 🚀 Łukasiewicz".into());
    admin.last_name = Some(hostile.into());
    admin.is_admin = true;
    admin.two_factor_enabled = Some(true);
    admin.created_at = Some(t(1, 123_456_789));
    admin.last_active = Some(t(2, 120_000_000));
    admin.raw = r#"{"id":"u1","extra":{"nested":[1,2,"ü"]}}"#.into();
    let mut off = user("u2", "bob@example.com", false);
    off.two_factor_enabled = Some(false);
    off.last_active = Some(t(1, 0));
    let mobile = User {
        user_type: "mobile".into(),
        ..user("u3", "\u{0}zero@example.com", true)
    };

    let mut g1 = group(1, "All Users");
    g1.flags.audit_log_access = true;
    g1.flags.theme_access = true;
    g1.created_at = Some(t(1, 1));
    let mut g2 = group(2, hostile);
    g2.universal_app_access = AccessLevel::Own;
    g2.landing_page_app_id = Some("app-1".into());
    g2.updated_at = Some(t(3, 999_999_999));

    let folder_root = Folder {
        id: ObjectId("f1".into()),
        name: "Root".into(),
        parent_id: None,
        is_system_folder: true,
        folder_type: "app".into(),
        created_at: None,
        updated_at: Some(t(1, 5_000)),
        raw: "{}".into(),
    };
    let folder_child = Folder {
        id: ObjectId("f2".into()),
        name: "Финансы".into(),
        parent_id: Some(ObjectId("f1".into())),
        is_system_folder: false,
        folder_type: "app".into(),
        created_at: Some(t(2, 0)),
        updated_at: None,
        raw: r#"{"id":"f2"}"#.into(),
    };
    let app = App {
        id: ObjectId("a1".into()),
        name: "Payroll".into(),
        description: Some(hostile.into()),
        folder_id: Some(ObjectId("f2".into())),
        protected: true,
        is_module: false,
        is_mobile_app: true,
        created_at: Some(t(1, 10)),
        updated_at: Some(t(2, 20)),
        raw: r#"{"uuid":"a1"}"#.into(),
    };
    let app2 = App {
        id: ObjectId("a2".into()),
        is_module: true,
        ..App::default()
    };
    let resource = Resource {
        id: ObjectId("r1".into()),
        name: "prod db".into(),
        resource_type: "postgresql".into(),
        folder_id: None,
        protected: true,
        created_at: None,
        updated_at: Some(t(4, 4)),
        raw: "{}".into(),
    };
    let workflow = Workflow {
        id: ObjectId("w1".into()),
        name: "nightly".into(),
        description: None,
        folder_id: Some(ObjectId("f1".into())),
        is_enabled: true,
        protected: false,
        created_at: Some(t(1, 0)),
        updated_at: None,
        raw: "{}".into(),
    };
    let invite = UserInvite {
        id: 9,
        email: "new@example.com".into(),
        invited_by: Some("ada@example.com".into()),
        user_type: None,
        group_ids: vec![GroupId(1), GroupId(2)],
        expires_at: Some(t(9, 1_000_000)),
        claimed_by: None,
        claimed_at: None,
        created_at: Some(t(1, 0)),
        raw: r#"{"id":9}"#.into(),
    };
    let token = AccessToken {
        id: "tok1".into(),
        label: "ci".into(),
        description: None,
        last4: "abcd".into(),
        owner_legacy_id: Some(101),
        scopes: vec!["users:read".into(), "groups:read".into()],
        created_at: Some(t(1, 0)),
        updated_at: None,
        raw: "{}".into(),
    };

    let mut s = OrgState {
        users: vec![admin, off, mobile],
        groups: vec![g1, g2],
        memberships: vec![
            member(1, "u1", false),
            member(1, "u2", false),
            member(1, "u3", false),
            member(2, "u1", true),
        ],
        folders: vec![folder_root, folder_child],
        apps: vec![app, app2],
        resources: vec![resource],
        workflows: vec![workflow],
        grants: vec![
            grant(
                Subject::Group(GroupId(2)),
                ObjectType::App,
                "a1",
                AccessLevel::Edit,
            ),
            grant(
                Subject::Group(GroupId(2)),
                ObjectType::App,
                "a1",
                AccessLevel::Use,
            ),
            grant(
                Subject::User(UserId("u3".into())),
                ObjectType::Folder,
                "f2",
                AccessLevel::Own,
            ),
        ],
        user_invites: vec![invite],
        access_tokens: vec![token],
        roles: vec![Role {
            id: "role-1".into(),
            name: "User Manager".into(),
            description: None,
            is_default_role: false,
            is_legacy_role: false,
            object_scopes: vec![],
            organization_scopes: vec!["user_list:view".into(), "users:manage".into()],
            created_at: Some(t(1, 0)),
            updated_at: None,
            raw: "{}".into(),
        }],
        role_grants: vec![
            RoleGrant {
                role_id: "role-1".into(),
                subject_type: "user".into(),
                subject_id: "u3".into(),
                ..RoleGrant::default()
            },
            RoleGrant {
                role_id: "role-1".into(),
                subject_type: "group".into(),
                subject_id: "2".into(),
                object_type: "app".into(),
                object_id: "a1".into(),
            },
        ],
        access_requests: vec![AccessRequest {
            id: 70,
            legacy_id: Some(70),
            status: "APPROVED".into(),
            requesting_email: "mobile@example.com".into(),
            updated_by_id: Some("u1".into()),
            created_at: Some(t(1, 0)),
            updated_at: Some(t(2, 0)),
            raw: "{}".into(),
        }],
        settings: vec![
            Setting {
                source: "organization".into(),
                name: "two_factor_auth_required".into(),
                value: "false".into(),
            },
            Setting {
                source: "sso".into(),
                name: "config_type".into(),
                value: "oidc".into(),
            },
        ],
        usage: vec![UserUsage {
            user_id: "u1".into(),
            email: "ada@example.com".into(),
            app_views: 40,
            app_saves: 2,
            unique_apps: 3,
            last_active: Some(t(2, 0)),
        }],
        environments: vec![Environment {
            id: "env-prod".into(),
            name: "production".into(),
            description: None,
            is_default: true,
            created_at: Some(t(1, 0)),
            updated_at: Some(t(1, 0)),
        }],
        resource_configurations: vec![ResourceConfiguration {
            id: "conf-1".into(),
            resource_id: "r1".into(),
            resource_name: "Payments DB".into(),
            resource_type: "postgresql".into(),
            environment_id: "env-prod".into(),
        }],
        configuration_grants: vec![ConfigurationGrant {
            group_id: GroupId(2),
            configuration_id: "conf-1".into(),
            access_level: AccessLevel::Use,
        }],
        app_usage: vec![AppUsage {
            app_id: "a1".into(),
            user_id: "u1".into(),
            email: "ada@example.com".into(),
            views: 12,
            saves: 1,
        }],
        not_collected: Default::default(),
    };
    s.not_collected.insert(
        EntityKind::UserInvites,
        "partly: 403 scope missing — \"user_invites:read\"".into(),
    );
    s.normalize();
    s
}

pub(crate) fn collected(state: OrgState, day: u32) -> Collected {
    Collected {
        state,
        info: CollectionInfo {
            source_url: "https://acme.retool.com/api/v2".into(),
            dialect: Dialect::V2,
            api_version: Some("3.114.0".into()),
            started_at: t(day, 0),
            finished_at: t(day, 1_500_000),
            endpoints: vec![EndpointStats {
                endpoint: "GET /users".into(),
                requests: 2,
                retries: 1,
                pages: 2,
                records: 3,
                duration_ms: 40,
                duplicates_dropped: 0,
            }],
            expected_totals: [(EntityKind::Users, 3)].into_iter().collect(),
            notes: vec!["a note".into()],
            tool_version: crate::VERSION.into(),
            usage_window: None,
            cross_check: None,
        },
    }
}

pub(crate) fn write(store: &mut Store, org: &str, state: OrgState, day: u32) -> SnapshotMeta {
    match store.write_snapshot(org, &collected(state, day)) {
        Ok(m) => m,
        Err(e) => panic!("write_snapshot: {e}"),
    }
}

pub(crate) fn state_at(store: &Store, id: i64) -> OrgState {
    match store.state_at(id) {
        Ok(s) => s,
        Err(e) => panic!("state_at({id}): {e}"),
    }
}
