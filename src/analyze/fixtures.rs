//! Test-only builders for small hand-made `OrgState`s (analysis and report tests).

use chrono::{DateTime, TimeZone, Utc};

use crate::model::*;

pub fn t(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

pub fn user(id: &str, email: &str) -> User {
    User {
        id: UserId(id.into()),
        legacy_id: None,
        email: email.into(),
        first_name: Some("First".into()),
        last_name: Some("Last".into()),
        active: true,
        is_admin: false,
        user_type: "default".into(),
        two_factor_enabled: Some(true),
        created_at: Some(t(2025, 1, 1)),
        last_active: Some(t(2026, 11, 20)),
        raw: "{}".into(),
    }
}

pub fn group(id: i64, name: &str) -> Group {
    Group {
        id: GroupId(id),
        legacy_id: None,
        name: name.into(),
        universal_app_access: AccessLevel::None,
        universal_resource_access: AccessLevel::None,
        universal_workflow_access: AccessLevel::None,
        universal_query_library_access: AccessLevel::None,
        flags: GroupFlags::default(),
        landing_page_app_id: None,
        created_at: None,
        updated_at: None,
        raw: "{}".into(),
    }
}

pub fn member(group: i64, user: &str) -> Membership {
    Membership {
        group_id: GroupId(group),
        user_id: UserId(user.into()),
        is_group_admin: false,
    }
}

pub fn folder(id: &str, name: &str, parent: Option<&str>) -> Folder {
    Folder {
        id: ObjectId(id.into()),
        name: name.into(),
        parent_id: parent.map(|p| ObjectId(p.into())),
        is_system_folder: false,
        folder_type: "app".into(),
        created_at: None,
        updated_at: None,
        raw: "{}".into(),
    }
}

pub fn app(id: &str, name: &str, folder: Option<&str>) -> App {
    App {
        id: ObjectId(id.into()),
        name: name.into(),
        folder_id: folder.map(|f| ObjectId(f.into())),
        raw: "{}".into(),
        ..App::default()
    }
}

pub fn resource(id: &str, name: &str) -> Resource {
    Resource {
        id: ObjectId(id.into()),
        name: name.into(),
        resource_type: "postgresql".into(),
        folder_id: None,
        protected: false,
        created_at: None,
        updated_at: None,
        raw: "{}".into(),
    }
}

pub fn workflow(id: &str, name: &str) -> Workflow {
    Workflow {
        id: ObjectId(id.into()),
        name: name.into(),
        description: None,
        folder_id: None,
        is_enabled: true,
        protected: false,
        created_at: None,
        updated_at: None,
        raw: "{}".into(),
    }
}

pub fn obj(object_type: ObjectType, id: &str) -> ObjectRef {
    ObjectRef {
        object_type,
        id: ObjectId(id.into()),
    }
}

pub fn group_grant(group: i64, object_type: ObjectType, id: &str, level: AccessLevel) -> Grant {
    Grant {
        subject: Subject::Group(GroupId(group)),
        object: obj(object_type, id),
        level,
    }
}

pub fn user_grant(user: &str, object_type: ObjectType, id: &str, level: AccessLevel) -> Grant {
    Grant {
        subject: Subject::User(UserId(user.into())),
        object: obj(object_type, id),
        level,
    }
}

/// A small org: `All Users` (1, universal app use) with everyone; `Eng` (2) with
/// alice and bob, edit on folder `f-ops` (which holds `a-ops`; subfolder
/// `f-sub` holds `a-deep`); `DBA` (3) with carol, own on resource `r-db`.
/// dave is an admin; erin is disabled.
pub fn org() -> OrgState {
    let mut s = OrgState::default();
    let mut dave = user("u-dave", "dave@example.com");
    dave.is_admin = true;
    let mut erin = user("u-erin", "erin@example.com");
    erin.active = false;
    s.users = vec![
        user("u-alice", "alice@example.com"),
        user("u-bob", "bob@example.com"),
        user("u-carol", "carol@example.com"),
        dave,
        erin,
    ];
    let mut all = group(1, "All Users");
    all.universal_app_access = AccessLevel::Use;
    s.groups = vec![all, group(2, "Eng"), group(3, "DBA")];
    for u in ["u-alice", "u-bob", "u-carol", "u-dave", "u-erin"] {
        s.memberships.push(member(1, u));
    }
    s.memberships.push(member(2, "u-alice"));
    s.memberships.push(member(2, "u-bob"));
    s.memberships.push(member(3, "u-carol"));
    s.memberships.push(member(2, "u-erin"));
    s.folders = vec![
        folder("f-ops", "Ops", None),
        folder("f-sub", "Ops/Sub", Some("f-ops")),
    ];
    s.apps = vec![
        app("a-ops", "Ops console", Some("f-ops")),
        app("a-deep", "Deep app", Some("f-sub")),
        app("a-top", "Top app", None),
    ];
    s.resources = vec![resource("r-db", "Prod DB")];
    s.workflows = vec![workflow("w-1", "Nightly")];
    s.grants = vec![
        group_grant(2, ObjectType::Folder, "f-ops", AccessLevel::Edit),
        group_grant(3, ObjectType::Resource, "r-db", AccessLevel::Own),
    ];
    // Everyone viewed apps in the usage window.
    s.usage = s
        .users
        .iter()
        .map(|u| crate::model::UserUsage {
            user_id: u.id.0.clone(),
            email: u.email.clone(),
            app_views: 5,
            app_saves: 1,
            unique_apps: 2,
            last_active: None,
        })
        .collect();
    // As a run without --usage-details.
    s.not_collected.insert(
        crate::model::EntityKind::AppUsage,
        crate::model::access_model::APP_USAGE_NOT_REQUESTED.into(),
    );
    s.normalize();
    s
}
