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

/// Set (to `postgres`) in the child run of
/// `the_store_suite_passes_on_postgres`: every fixture history is then a
/// fresh database on the PostgreSQL test server, named after its path.
pub(crate) const SUITE_BACKEND: &str = "RETOOL_AUDIT_STORE_SUITE";

/// The PostgreSQL test server's URL and password (`.ci/postgres.sh`), or
/// `None` with a SKIP line outside CI; under CI a missing server fails.
pub(crate) fn test_server() -> Option<(String, String)> {
    match (
        std::env::var("RETOOL_AUDIT_TEST_POSTGRES"),
        std::env::var("RETOOL_AUDIT_TEST_POSTGRES_PASSWORD"),
    ) {
        (Ok(url), Ok(password)) => Some((url, password)),
        _ if std::env::var_os("CI").is_some() => panic!(
            "RETOOL_AUDIT_TEST_POSTGRES is not set: under CI the PostgreSQL test server must run \
             (.ci/run starts it with .ci/postgres.sh)"
        ),
        _ => {
            eprintln!(
                "SKIP: no PostgreSQL test server; run `source .ci/postgres.sh && \
                 retool_audit_pg_start` first to run the store suite on PostgreSQL"
            );
            None
        }
    }
}

/// Whether this run of the store suite is on PostgreSQL.
pub(crate) fn on_postgres() -> bool {
    std::env::var(SUITE_BACKEND).is_ok_and(|b| b == "postgres")
}

/// The PostgreSQL database standing in for history file `path` (created on
/// first use), as a URL; the password is in `PGPASSWORD`.
fn pg_url(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    static CREATED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let base = std::env::var("RETOOL_AUDIT_TEST_POSTGRES")
        .unwrap_or_else(|_| panic!("{SUITE_BACKEND}=postgres needs RETOOL_AUDIT_TEST_POSTGRES"));
    let digest = Sha256::digest(path.as_os_str().as_encoded_bytes());
    let name = format!("s_{}", hex::encode(&digest[..10]));
    let url = format!(
        "{}/{name}",
        base.rsplit_once('/').map_or(base.as_str(), |(b, _)| b)
    );
    let mut created = CREATED.lock().unwrap_or_else(|e| e.into_inner());
    if !created.contains(&name) {
        let mut admin = pg_client(&base);
        // One statement each: CREATE DATABASE cannot run in a transaction.
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            if let Err(e) = admin.batch_execute(&sql) {
                panic!("{sql}: {}", super::db::pg_detail(&e));
            }
        }
        created.push(name);
    }
    url
}

fn pg_client(url: &str) -> ::postgres::Client {
    let sources = super::postgres::PasswordSources::from_env(None);
    match super::postgres::PgTarget::parse(url, &sources).map(|t| t.connect()) {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => panic!("{e}"),
        Err(e) => panic!("{e}"),
    }
}

/// The history at `path` for tests: the file, or on PostgreSQL its database.
pub(crate) fn history(path: &Path) -> std::path::PathBuf {
    if on_postgres() {
        std::path::PathBuf::from(pg_url(path))
    } else {
        path.to_path_buf()
    }
}

/// A raw connection to the history at `path` (as [`history`] places it).
fn raw_db(path: &Path) -> super::db::Db {
    if on_postgres() {
        let client = pg_client(&pg_url(path));
        let db = super::db::Db::postgres(client);
        // Foreign keys off, as in the sqlite3 shell (the test user is the
        // throwaway cluster's superuser).
        if let Err(e) = db.execute_batch("SET session_replication_role = replica") {
            panic!("{e}");
        }
        return db;
    }
    match rusqlite::Connection::open(path) {
        Ok(c) => super::db::Db::Sqlite(c),
        Err(e) => panic!("open {}: {e}", path.display()),
    }
}

/// Runs SQL on the history directly, as a person with the `sqlite3` shell
/// (or `psql`) would (foreign keys off, the shell's default).
pub(crate) fn raw_sql(path: &Path, sql: &str) {
    let db = raw_db(path);
    let sql = if db.is_sqlite() {
        format!("PRAGMA foreign_keys = OFF; {sql}")
    } else {
        pg_blob_literals(sql)
    };
    if let Err(e) = db.execute_batch(&sql) {
        panic!("{sql}: {e}");
    }
}

/// SQLite's blob literals (`x'00'`) in PostgreSQL's spelling.
fn pg_blob_literals(sql: &str) -> String {
    let mut out = String::new();
    let mut rest = sql;
    while let Some(at) = rest.find(" x'").or_else(|| rest.find("(x'")) {
        let (before, lit) = rest.split_at(at + 1);
        out.push_str(before);
        let end = lit[2..].find('\'').map_or(lit.len(), |e| e + 3);
        out.push_str(&format!("'\\x{}'::bytea", &lit[2..end - 1]));
        rest = &lit[end..];
    }
    out.push_str(rest);
    out
}

/// The history file's size once its WAL is checkpointed; `None` on
/// PostgreSQL, where there is no file to weigh.
pub(crate) fn file_size(path: &Path) -> Option<u64> {
    if on_postgres() {
        return None;
    }
    raw_sql(path, "PRAGMA wal_checkpoint(TRUNCATE)");
    std::fs::metadata(path).map(|m| m.len()).ok()
}

/// The first column of every row of `sql`, as text, sorted.
pub(crate) fn raw_texts(path: &Path, sql: &str) -> Vec<String> {
    let db = raw_db(path);
    let rows = db.prepare(sql).and_then(|mut st| {
        st.query_map((), |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()
    });
    let mut rows = rows.unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.sort();
    rows
}

pub(crate) fn raw_count(path: &Path, sql: &str) -> i64 {
    match raw_db(path).query_row(sql, (), |r| r.get(0)) {
        Ok(n) => n,
        Err(e) => panic!("{sql}: {e}"),
    }
}

pub(crate) fn open(path: &Path) -> Store {
    match Store::open(&history(path)) {
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
