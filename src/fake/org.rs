//! The simulated organization: deterministic generation from an [`OrgSpec`], the
//! wire records both dialects send, the exact [`OrgState`] a correct collector
//! must produce, and scripted changes between snapshots.
//!
//! # Mapping rules (what a correct collector produces; the client agrees)
//!
//! - Timestamps are sent as RFC 3339 UTC with milliseconds and `Z`
//!   (`2024-05-01T12:00:00.000Z`) and parse back to `DateTime<Utc>`; generated
//!   times are whole seconds so the round trip is exact.
//! - Ids: users `user_<hex>` (both dialects), groups integers (`legacy_id` equals
//!   `id`, numeric), apps/resources/workflows UUID-shaped strings, folders
//!   `<folder_type>_<n>` (`app_3`, the shape `listObjects` uses; `legacy_id` is
//!   the same string). `folder_id` → `Some(ObjectId)`, `null` → `None`.
//! - v2 `resources.display_name` → `Resource.name`, `type` → `resource_type`.
//! - v2 invite `invited_email` → `email`, `groups[].id` → `group_ids`.
//! - `raw` = `serde_json::to_string` of the record exactly as sent (keys sorted,
//!   since serde_json without `preserve_order` sorts them), except: groups'
//!   `raw` drops `members` and `user_invites` (both dialects), invites' `raw`
//!   drops `invite_link`.
//! - Grants are every `listObjects` answer: per group and per user (direct
//!   grants), object types `folder`, `app`, `resource`. No workflow grants.
//! - v1: `active = !isDisabled`, `two_factor_enabled = None`, `last_active =
//!   None`, `legacy_id = None`; group universal levels `none`, flags all false,
//!   memberships with `is_group_admin = false`; apps `protected`, `is_module`,
//!   `is_mobile_app` false; resources `name` (not `displayName`, which is the
//!   resource type's display name), `folder_id = None`; folders
//!   `is_system_folder = false`, `updated_at = None`; absent optional strings
//!   (`firstName`, `description`, `parentFolderId`) are omitted, not `null`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration as ChronoDuration, SecondsFormat, Timelike, Utc};
use serde_json::{Value, json};

use super::rng::SplitMix64;
use crate::model::{
    AccessLevel, AccessToken, App, EntityKind, Folder, Grant, Group, GroupFlags, GroupId,
    Membership, ObjectId, ObjectRef, ObjectType, OrgState, Resource, Subject, User, UserId,
    UserInvite, Workflow,
};

/// The built-in group every user belongs to.
pub const ALL_USERS_GROUP: GroupId = GroupId(1);
/// The built-in admin group; its members are the organization's admins.
pub const ADMIN_GROUP: GroupId = GroupId(2);
/// Why v1 lacks some kinds, as recorded in `OrgState::not_collected`.
pub const NOT_IN_V1: &str = "not available in the v1 API";

/// The hostile strings a `hostile_names` org carries (report escaping tests).
pub const HOSTILE_SCRIPT: &str = "<script>alert(1)</script>";
pub const HOSTILE_HYPERLINK: &str = "=HYPERLINK(\"http://evil.example\",\"click\")";
pub const HOSTILE_CMD: &str = "+cmd|' /C calc'!A0";
pub const HOSTILE_SUM: &str = "@SUM(1+1)";
pub const HOSTILE_QUOTES: &str = "O'Brien \"The Hammer\"";
pub const HOSTILE_NEWLINE: &str = "Line one\nLine two";
pub const HOSTILE_RTL: &str = "Mallory\u{200F}gpj.exe";
pub const HOSTILE_EMOJI: &str = "Ferris 🦀🎉";
pub const HOSTILE_JAPANESE: &str = "日本語";
pub const HOSTILE_GREEK: &str = "Ελληνικά";
/// Length of the one very long app name.
pub const LONG_NAME_LEN: usize = 10_000;

/// What organization to generate. Same spec → same organization.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgSpec {
    pub seed: u64,
    pub users: usize,
    pub groups: usize,
    pub folders: usize,
    pub apps: usize,
    pub resources: usize,
    pub workflows: usize,
    /// Average groups per user, counting `All Users`.
    pub memberships_per_user: f64,
    /// Group grants (folder, app and resource level); direct user grants come on top.
    pub grants: usize,
    pub hostile_names: bool,
    /// Every generated timestamp is relative to this (truncated to whole seconds).
    pub now: DateTime<Utc>,
}

impl OrgSpec {
    /// The demo org: 60 users, 8 groups, 6 nested folders, 25 apps, 8 resources,
    /// 4 workflows, hostile names on, seed 42.
    pub fn demo(now: DateTime<Utc>) -> OrgSpec {
        OrgSpec {
            seed: 42,
            users: 60,
            groups: 8,
            folders: 6,
            apps: 25,
            resources: 8,
            workflows: 4,
            memberships_per_user: 2.5,
            grants: 30,
            hostile_names: true,
            now,
        }
    }

    /// An org of `users` users with other sizes proportional (groups n/30 min 5,
    /// apps n/5, folders n/50 min 4, resources n/30, workflows n/100,
    /// 5 memberships a user, grants 2n/5). No hostile names.
    pub fn with_users(users: usize, seed: u64, now: DateTime<Utc>) -> OrgSpec {
        OrgSpec {
            seed,
            users,
            groups: (users / 30).max(5),
            folders: (users / 50).max(4),
            apps: (users / 5).max(1),
            resources: (users / 30).max(1),
            workflows: (users / 100).max(1),
            memberships_per_user: 5.0,
            grants: 2 * users / 5,
            hostile_names: false,
            now,
        }
    }

    /// Benchmark size M: 10 000 users.
    pub fn m(now: DateTime<Utc>) -> OrgSpec {
        OrgSpec {
            seed: 1001,
            users: 10_000,
            groups: 300,
            folders: 200,
            apps: 2_000,
            resources: 300,
            workflows: 100,
            memberships_per_user: 5.0,
            grants: 4_000,
            hostile_names: false,
            now,
        }
    }

    /// Benchmark size L: 50 000 users.
    pub fn l(now: DateTime<Utc>) -> OrgSpec {
        OrgSpec {
            seed: 1002,
            users: 50_000,
            groups: 1_000,
            folders: 500,
            apps: 5_000,
            resources: 1_000,
            workflows: 500,
            memberships_per_user: 5.0,
            grants: 20_000,
            hostile_names: false,
            now,
        }
    }

    /// Benchmark size XL: 100 000 users (L's other sizes, doubled grants).
    pub fn xl(now: DateTime<Utc>) -> OrgSpec {
        OrgSpec {
            seed: 1003,
            users: 100_000,
            grants: 40_000,
            ..OrgSpec::l(now)
        }
    }
}

/// A user as the fake holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeUser {
    pub id: String,
    pub legacy_id: i64,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub active: bool,
    pub is_admin: bool,
    /// `default`, `mobile` or `embed` (v1 shows `mobile`/`embed` as `endUser`).
    pub user_type: String,
    pub two_factor: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_active: Option<DateTime<Utc>>,
}

/// A group member.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeMember {
    pub user_id: String,
    pub is_group_admin: bool,
}

/// A permission group with its members.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeGroup {
    pub id: i64,
    pub name: String,
    pub universal_app: AccessLevel,
    pub universal_resource: AccessLevel,
    pub universal_workflow: AccessLevel,
    pub universal_query_library: AccessLevel,
    pub flags: GroupFlags,
    pub landing_page_app_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub members: Vec<FakeMember>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeFolder {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub is_system: bool,
    pub folder_type: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeApp {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub folder_id: String,
    pub protected: bool,
    pub is_module: bool,
    pub is_mobile_app: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeResource {
    pub id: String,
    pub display_name: String,
    pub resource_type: String,
    pub folder_id: Option<String>,
    pub protected: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeWorkflow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub folder_id: String,
    pub is_enabled: bool,
    pub protected: bool,
    pub crontab: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeInvite {
    pub id: i64,
    pub email: String,
    pub invited_by: String,
    pub user_type: Option<String>,
    pub group_ids: Vec<i64>,
    pub expires_at: DateTime<Utc>,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// A credential in real Retool; the collector must never keep it.
    pub invite_link: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeToken {
    pub id: String,
    pub label: String,
    pub description: Option<String>,
    pub last4: String,
    pub owner_legacy_id: i64,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeSpace {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The simulated organization. Lists are kept in the order the server sends them.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeOrg {
    pub now: DateTime<Utc>,
    pub users: Vec<FakeUser>,
    pub groups: Vec<FakeGroup>,
    pub folders: Vec<FakeFolder>,
    pub apps: Vec<FakeApp>,
    pub resources: Vec<FakeResource>,
    pub workflows: Vec<FakeWorkflow>,
    /// Group and direct user grants on folders, apps and resources.
    pub grants: Vec<Grant>,
    pub invites: Vec<FakeInvite>,
    pub tokens: Vec<FakeToken>,
    pub spaces: Vec<FakeSpace>,
    seed: u64,
    change_rounds: u64,
    next_legacy_id: i64,
}

/// What [`FakeOrg::apply_scripted_changes`] did, with model ids, so tests can
/// assert diffs and reports. Membership lists include every membership that
/// appeared or vanished, also those implied by added, removed or promoted users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptedChanges {
    pub added_users: Vec<UserId>,
    pub removed_users: Vec<UserId>,
    pub disabled_users: Vec<UserId>,
    pub re_enabled_users: Vec<UserId>,
    pub promoted_admins: Vec<UserId>,
    pub memberships_added: Vec<(GroupId, UserId)>,
    pub memberships_removed: Vec<(GroupId, UserId)>,
    /// (group, object, old level, new level).
    pub grants_raised: Vec<(GroupId, ObjectRef, AccessLevel, AccessLevel)>,
    pub grants_added: Vec<(GroupId, ObjectRef, AccessLevel)>,
    /// Group grants that vanished (also those on a removed resource).
    pub grants_removed: Vec<(GroupId, ObjectRef, AccessLevel)>,
    /// (group, object type, old level, new level).
    pub universal_raised: Vec<(GroupId, ObjectType, AccessLevel, AccessLevel)>,
    /// (app, old name, new name).
    pub apps_renamed: Vec<(ObjectId, String, String)>,
    pub apps_added: Vec<ObjectId>,
    pub resources_removed: Vec<ObjectId>,
}

const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Ken",
    "Barbara",
    "Dennis",
    "Frances",
    "John",
    "Radia",
    "Edsger",
    "Hedy",
    "Tim",
    "Katherine",
    "Donald",
    "Sophie",
    "Bjarne",
    "Anita",
    "Guido",
];
const LAST_NAMES: &[&str] = &[
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Allen",
    "Backus",
    "Perlman",
    "Dijkstra",
    "Lamarr",
    "Berners-Lee",
    "Johnson",
    "Knuth",
    "Wilson",
    "Stroustrup",
    "Borg",
    "Rossum",
];
const TEAMS: &[&str] = &[
    "Engineering",
    "Support",
    "Finance",
    "Sales",
    "Operations",
    "Data Engineering",
    "Marketing",
    "Security",
    "Legal",
    "People",
    "Growth",
    "Platform",
    "Customer Success",
    "Analytics",
];
const APP_WORDS: &[&str] = &[
    "Refunds",
    "Orders",
    "Customer",
    "Invoices",
    "Inventory",
    "Payouts",
    "Onboarding",
    "Fraud",
    "Shipping",
    "Billing",
    "Accounts",
    "Tickets",
    "Metrics",
    "Admin",
    "Catalog",
    "Returns",
];
const APP_KINDS: &[&str] = &["Dashboard", "Console", "Tool", "Portal", "Editor", "Viewer"];
const RESOURCE_TYPES: &[&str] = &[
    "postgresql",
    "restapi",
    "mysql",
    "snowflake",
    "googlesheets",
    "s3",
    "graphql",
    "retoolDb",
    "stripe",
    "bigquery",
    "redis",
    "salesforce",
];
const TOKEN_SCOPES: &[&str] = &[
    "users:read",
    "groups:read",
    "apps:read",
    "folders:read",
    "resources:read",
    "workflows:read",
    "permissions:read",
    "user_invites:read",
    "access_tokens:read",
];

/// Formats a timestamp the way the fake sends it (RFC 3339, milliseconds, `Z`).
pub fn wire_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn opt_time(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(wire_time(t)))
}

fn days(n: i64) -> ChronoDuration {
    ChronoDuration::days(n)
}

fn secs(n: i64) -> ChronoDuration {
    ChronoDuration::seconds(n)
}

fn level_for(rng: &mut SplitMix64) -> AccessLevel {
    match rng.below(10) {
        0..=5 => AccessLevel::Use,
        6..=8 => AccessLevel::Edit,
        _ => AccessLevel::Own,
    }
}

fn resource_type_display(t: &str) -> &'static str {
    match t {
        "postgresql" => "PostgreSQL",
        "restapi" => "REST API",
        "mysql" => "MySQL",
        "snowflake" => "Snowflake",
        "googlesheets" => "Google Sheets",
        "s3" => "Amazon S3",
        "graphql" => "GraphQL",
        "retoolDb" => "Retool Database",
        "stripe" => "Stripe",
        "bigquery" => "BigQuery",
        "redis" => "Redis",
        "salesforce" => "Salesforce",
        _ => "Resource",
    }
}

impl FakeOrg {
    /// Generates the organization `spec` describes. Deterministic; linear in size.
    pub fn generate(spec: &OrgSpec) -> FakeOrg {
        let now = spec
            .now
            .with_nanosecond(0)
            .unwrap_or(spec.now - ChronoDuration::nanoseconds(i64::from(spec.now.nanosecond())));
        let mut rng = SplitMix64::new(spec.seed);
        let mut org = FakeOrg {
            now,
            users: Vec::with_capacity(spec.users),
            groups: Vec::new(),
            folders: Vec::new(),
            apps: Vec::with_capacity(spec.apps),
            resources: Vec::new(),
            workflows: Vec::new(),
            grants: Vec::new(),
            invites: Vec::new(),
            tokens: Vec::new(),
            spaces: Vec::new(),
            seed: spec.seed,
            change_rounds: 0,
            next_legacy_id: 1000 + spec.users as i64,
        };
        org.gen_users(spec, &mut rng);
        org.gen_folders(spec, &mut rng);
        org.gen_apps(spec, &mut rng);
        org.gen_resources(spec, &mut rng);
        org.gen_workflows(spec, &mut rng);
        org.gen_groups(spec, &mut rng);
        org.gen_grants(spec, &mut rng);
        org.gen_invites_tokens_spaces(spec, &mut rng);
        org
    }

    fn new_user(&mut self, rng: &mut SplitMix64, i: usize, legacy_id: i64) -> FakeUser {
        let first = rng.pick(FIRST_NAMES).copied().unwrap_or("Ada");
        let last = rng.pick(LAST_NAMES).copied().unwrap_or("Lovelace");
        let created_at =
            self.now - days(100 + rng.below(900) as i64) - secs(rng.below(86_400) as i64);
        let user_type = match i % 50 {
            7 => "mobile",
            13 => "embed",
            _ => "default",
        };
        FakeUser {
            id: format!(
                "user_{:012x}{:06x}",
                rng.next_u64() & 0xffff_ffff_ffff,
                legacy_id
            ),
            legacy_id,
            email: format!(
                "{}.{}.{}@example.com",
                first.to_ascii_lowercase(),
                last.to_ascii_lowercase(),
                legacy_id
            ),
            first_name: Some(first.to_string()),
            last_name: Some(last.to_string()),
            active: true,
            is_admin: false,
            user_type: user_type.to_string(),
            two_factor: rng.chance(0.7),
            created_at,
            updated_at: created_at + days(rng.below(90) as i64),
            last_active: Some(self.now - secs(rng.below(20 * 86_400) as i64)),
        }
    }

    fn gen_users(&mut self, spec: &OrgSpec, rng: &mut SplitMix64) {
        let admins = (spec.users / 1000).max(3);
        for i in 0..spec.users {
            let mut u = self.new_user(rng, i, 1000 + i as i64);
            if i < admins || i == 3 {
                u.is_admin = true;
            }
            // Index 3: a disabled admin; 4: disabled, kept in a group (see groups);
            // 14: disabled (re-enabled by the first scripted change).
            if i == 3 || i == 4 || i == 14 || (i > 20 && rng.chance(0.03)) {
                u.active = false;
            }
            // Never logged in; or inactive for more than 90 days.
            if i == 15 || (i > 20 && rng.chance(0.05)) {
                u.last_active = None;
            } else if i == 16 || (i > 20 && rng.chance(0.10)) {
                u.last_active = Some(self.now - days(91 + rng.below(400) as i64));
            }
            if i == 17 {
                u.first_name = None;
                u.last_name = None;
            }
            if spec.hostile_names {
                match i {
                    5 => u.first_name = Some(HOSTILE_SCRIPT.into()),
                    6 => {
                        u.first_name = Some(HOSTILE_HYPERLINK.into());
                        u.email = format!("=1+1.{}@example.com", u.legacy_id);
                    }
                    7 => {
                        u.last_name = Some(HOSTILE_CMD.into());
                        u.email = format!("+cmd.{}@example.com", u.legacy_id);
                    }
                    8 => u.first_name = Some(HOSTILE_SUM.into()),
                    9 => u.last_name = Some(HOSTILE_QUOTES.into()),
                    10 => u.first_name = Some(HOSTILE_NEWLINE.into()),
                    11 => u.last_name = Some(HOSTILE_RTL.into()),
                    12 => u.first_name = Some(HOSTILE_EMOJI.into()),
                    13 => {
                        u.first_name = Some(HOSTILE_JAPANESE.into());
                        u.last_name = Some(HOSTILE_GREEK.into());
                    }
                    _ => {}
                }
            }
            self.users.push(u);
        }
    }

    fn gen_folders(&mut self, spec: &OrgSpec, rng: &mut SplitMix64) {
        let n = spec.folders.max(4);
        let base = self.now - days(800);
        let mk =
            |id: String, name: String, parent: Option<String>, ty: &str, sys: bool| FakeFolder {
                id,
                name,
                parent_id: parent,
                is_system: sys,
                folder_type: ty.to_string(),
                created_at: base,
                updated_at: base,
            };
        self.folders
            .push(mk("app_1".into(), "root".into(), None, "app", true));
        self.folders.push(mk(
            "workflow_2".into(),
            "Workflows".into(),
            None,
            "workflow",
            false,
        ));
        let mut counter = 3;
        if n >= 6 {
            self.folders.push(mk(
                "resource_3".into(),
                "Shared resources".into(),
                None,
                "resource",
                false,
            ));
            counter = 4;
        }
        while self.folders.len() < n {
            let app_folders: Vec<String> = self
                .folders
                .iter()
                .filter(|f| f.folder_type == "app")
                .map(|f| f.id.clone())
                .collect();
            // The first app folder sits under root, the second nests in the first,
            // later ones pick any app folder as parent.
            let parent = match counter {
                c if c <= 4 => "app_1".to_string(),
                _ => rng
                    .pick(&app_folders)
                    .cloned()
                    .unwrap_or_else(|| "app_1".into()),
            };
            let parent = if self.folders.len() == n - 1 && n >= 4 {
                // Guarantee nesting: the last folder is a child of a non-root folder.
                app_folders
                    .iter()
                    .find(|f| f.as_str() != "app_1")
                    .cloned()
                    .unwrap_or(parent)
            } else {
                parent
            };
            let team = TEAMS[counter as usize % TEAMS.len()];
            let mut name = format!("{team} apps {counter}");
            if spec.hostile_names && counter == 5 {
                name = HOSTILE_SUM.to_string();
            }
            let created = self.now - days(100 + rng.below(600) as i64);
            self.folders.push(FakeFolder {
                id: format!("app_{counter}"),
                name,
                parent_id: Some(parent),
                is_system: false,
                folder_type: "app".into(),
                created_at: created,
                updated_at: created + days(rng.below(50) as i64),
            });
            counter += 1;
        }
    }

    fn app_folder_ids(&self) -> Vec<String> {
        self.folders
            .iter()
            .filter(|f| f.folder_type == "app")
            .map(|f| f.id.clone())
            .collect()
    }

    fn new_app(&self, rng: &mut SplitMix64, i: usize, folders: &[String]) -> FakeApp {
        let word = rng.pick(APP_WORDS).copied().unwrap_or("Orders");
        let kind = rng.pick(APP_KINDS).copied().unwrap_or("Tool");
        let created = self.now - days(30 + rng.below(700) as i64);
        let creator = self
            .users
            .get(rng.index(self.users.len()))
            .map(|u| u.email.clone())
            .unwrap_or_else(|| "admin@example.com".into());
        FakeApp {
            id: rng.uuid(),
            name: format!("{word} {kind} {i}"),
            description: if rng.chance(0.6) {
                Some(format!("{kind} for {} work", word.to_lowercase()))
            } else {
                None
            },
            folder_id: rng.pick(folders).cloned().unwrap_or_else(|| "app_1".into()),
            protected: rng.chance(0.1),
            is_module: rng.chance(0.1),
            is_mobile_app: rng.chance(0.05),
            created_by: creator,
            created_at: created,
            updated_at: created + days(rng.below(30) as i64),
        }
    }

    fn gen_apps(&mut self, spec: &OrgSpec, rng: &mut SplitMix64) {
        let folders = self.app_folder_ids();
        for i in 0..spec.apps {
            let mut app = self.new_app(rng, i, &folders);
            if spec.hostile_names {
                match i {
                    0 => {
                        let mut long = String::from("Long name ");
                        while long.len() < LONG_NAME_LEN {
                            long.push_str("very long ");
                        }
                        long.truncate(LONG_NAME_LEN);
                        app.name = long;
                    }
                    1 => app.name = HOSTILE_SCRIPT.into(),
                    2 => app.description = Some(HOSTILE_HYPERLINK.into()),
                    _ => {}
                }
            }
            self.apps.push(app);
        }
    }

    fn gen_resources(&mut self, spec: &OrgSpec, rng: &mut SplitMix64) {
        let res_folder = self
            .folders
            .iter()
            .find(|f| f.folder_type == "resource")
            .map(|f| f.id.clone());
        for i in 0..spec.resources {
            let ty = rng.pick(RESOURCE_TYPES).copied().unwrap_or("postgresql");
            let created = self.now - days(60 + rng.below(700) as i64);
            let mut display_name = format!(
                "{} {} {i}",
                TEAMS[i % TEAMS.len()],
                resource_type_display(ty)
            );
            if spec.hostile_names && i == 1 {
                display_name = HOSTILE_CMD.into();
            }
            self.resources.push(FakeResource {
                id: rng.uuid(),
                display_name,
                resource_type: ty.into(),
                folder_id: if rng.chance(0.3) {
                    res_folder.clone()
                } else {
                    None
                },
                protected: rng.chance(0.1),
                created_at: created,
                updated_at: created + days(rng.below(60) as i64),
            });
        }
    }

    fn gen_workflows(&mut self, spec: &OrgSpec, rng: &mut SplitMix64) {
        for i in 0..spec.workflows {
            let created = self.now - days(10 + rng.below(300) as i64);
            let word = rng.pick(APP_WORDS).copied().unwrap_or("Orders");
            self.workflows.push(FakeWorkflow {
                id: rng.uuid(),
                name: format!("Nightly {word} sync {i}"),
                description: if i % 2 == 0 {
                    Some(format!("Syncs {word}"))
                } else {
                    None
                },
                folder_id: "workflow_2".into(),
                is_enabled: i % 4 != 3,
                protected: rng.chance(0.1),
                crontab: if i % 3 == 0 {
                    Some("0 3 * * *".into())
                } else {
                    None
                },
                created_by: self.users.first().map(|u| u.legacy_id),
                created_at: created,
                updated_at: created + days(rng.below(10) as i64),
            });
        }
    }

    fn gen_groups(&mut self, spec: &OrgSpec, rng: &mut SplitMix64) {
        let n = spec.groups.max(3);
        let base = self.now - days(900);
        let all_flags = GroupFlags {
            user_list_access: true,
            audit_log_access: true,
            unpublished_release_access: true,
            usage_analytics_access: true,
            theme_access: true,
            account_details_access: true,
        };
        self.groups.push(FakeGroup {
            id: ALL_USERS_GROUP.0,
            name: "All Users".into(),
            universal_app: AccessLevel::Use,
            universal_resource: AccessLevel::Use,
            universal_workflow: AccessLevel::None,
            universal_query_library: AccessLevel::Use,
            flags: GroupFlags {
                user_list_access: true,
                ..GroupFlags::default()
            },
            landing_page_app_id: None,
            created_at: base,
            updated_at: base,
            members: self
                .users
                .iter()
                .map(|u| FakeMember {
                    user_id: u.id.clone(),
                    is_group_admin: false,
                })
                .collect(),
        });
        self.groups.push(FakeGroup {
            id: ADMIN_GROUP.0,
            name: "admin".into(),
            universal_app: AccessLevel::Own,
            universal_resource: AccessLevel::Own,
            universal_workflow: AccessLevel::Own,
            universal_query_library: AccessLevel::Edit,
            flags: all_flags,
            landing_page_app_id: None,
            created_at: base,
            updated_at: base,
            members: self
                .users
                .iter()
                .filter(|u| u.is_admin)
                .map(|u| FakeMember {
                    user_id: u.id.clone(),
                    is_group_admin: false,
                })
                .collect(),
        });
        for gi in 3..=n as i64 {
            let idx = gi as usize - 3;
            let team = TEAMS[idx % TEAMS.len()];
            let mut name = if idx < TEAMS.len() {
                team.to_string()
            } else {
                format!("{team} {gi}")
            };
            if spec.hostile_names && gi == 4 {
                name = HOSTILE_HYPERLINK.into();
            }
            let created = self.now - days(50 + rng.below(800) as i64);
            self.groups.push(FakeGroup {
                id: gi,
                name,
                universal_app: AccessLevel::None,
                // Group 3 holds universal `edit` on resources.
                universal_resource: if gi == 3 {
                    AccessLevel::Edit
                } else {
                    AccessLevel::None
                },
                universal_workflow: if gi == 3 {
                    AccessLevel::Use
                } else {
                    AccessLevel::None
                },
                universal_query_library: AccessLevel::None,
                flags: GroupFlags {
                    audit_log_access: gi == 3,
                    unpublished_release_access: rng.chance(0.3),
                    ..GroupFlags::default()
                },
                landing_page_app_id: if rng.chance(0.2) {
                    self.apps
                        .get(rng.index(self.apps.len()))
                        .map(|a| a.id.clone())
                } else {
                    None
                },
                created_at: created,
                updated_at: created + days(rng.below(40) as i64),
                members: Vec::new(),
            });
        }
        // Memberships in team groups (index 2.. in self.groups).
        let team_groups = self.groups.len() - 2;
        if team_groups == 0 {
            return;
        }
        let extra_mean = (spec.memberships_per_user - 1.0).max(0.0);
        for ui in 0..self.users.len() {
            // Users 18 and 19 (and ~10% of the rest) belong to no group but All Users.
            let lonely = ui == 18 || ui == 19 || (ui > 20 && rng.chance(0.1));
            let mut k = if lonely {
                0
            } else {
                // Mean over non-lonely users is extra_mean / 0.9.
                let target = extra_mean / 0.9;
                let whole = target.floor() as usize;
                whole + usize::from(rng.chance(target - whole as f64))
            };
            if ui == 4 {
                k = k.max(1); // the disabled user still in a non-default group
            }
            k = k.min(team_groups);
            let mut chosen: Vec<usize> = Vec::with_capacity(k);
            if ui == 4 {
                chosen.push(2);
            }
            while chosen.len() < k {
                let g = 2 + rng.index(team_groups);
                if !chosen.contains(&g) {
                    chosen.push(g);
                }
            }
            let uid = self.users[ui].id.clone();
            for g in chosen {
                let is_group_admin = self.groups[g].members.is_empty() || rng.chance(0.02);
                self.groups[g].members.push(FakeMember {
                    user_id: uid.clone(),
                    is_group_admin,
                });
            }
        }
    }

    fn gen_grants(&mut self, spec: &OrgSpec, rng: &mut SplitMix64) {
        let team_groups: Vec<i64> = self
            .groups
            .iter()
            .map(|g| g.id)
            .filter(|id| *id >= 3)
            .collect();
        if team_groups.is_empty() {
            return;
        }
        let folders: Vec<String> = self
            .folders
            .iter()
            .filter(|f| !f.is_system)
            .map(|f| f.id.clone())
            .collect();
        let mut seen: HashSet<(Subject, ObjectRef)> = HashSet::new();
        let mut push =
            |org: &mut FakeOrg, subject: Subject, object: ObjectRef, level: AccessLevel| {
                if seen.insert((subject.clone(), object.clone())) {
                    org.grants.push(Grant {
                        subject,
                        object,
                        level,
                    });
                }
            };
        let obj = |t: ObjectType, id: &str| ObjectRef {
            object_type: t,
            id: ObjectId(id.to_string()),
        };
        // A fixed head so small orgs have every kind and level.
        let g0 = team_groups[0];
        let g1 = team_groups[1 % team_groups.len()];
        if let Some(f) = self
            .folders
            .iter()
            .find(|f| f.folder_type == "app" && !f.is_system)
        {
            let o = obj(ObjectType::Folder, &f.id.clone());
            push(self, Subject::Group(GroupId(g0)), o, AccessLevel::Edit);
        }
        if let Some(a) = self.apps.first() {
            let o = obj(ObjectType::App, &a.id.clone());
            push(self, Subject::Group(GroupId(g1)), o, AccessLevel::Use);
        }
        if let Some(a) = self.apps.get(1) {
            let o = obj(ObjectType::App, &a.id.clone());
            push(self, Subject::Group(GroupId(g0)), o, AccessLevel::Own);
        }
        if let Some(r) = self.resources.first() {
            let o = obj(ObjectType::Resource, &r.id.clone());
            push(self, Subject::Group(GroupId(g1)), o, AccessLevel::Edit);
        }
        let mut attempts = 0usize;
        while self.grants.len() < spec.grants && attempts < spec.grants * 4 + 16 {
            attempts += 1;
            let g = team_groups[rng.index(team_groups.len())];
            let kind = rng.below(10);
            let object = if kind < 2 && !folders.is_empty() {
                obj(ObjectType::Folder, &folders[rng.index(folders.len())])
            } else if kind < 8 && !self.apps.is_empty() {
                let i = rng.index(self.apps.len());
                obj(ObjectType::App, &self.apps[i].id.clone())
            } else if !self.resources.is_empty() {
                let i = rng.index(self.resources.len());
                obj(ObjectType::Resource, &self.resources[i].id.clone())
            } else {
                continue;
            };
            let level = level_for(rng);
            push(self, Subject::Group(GroupId(g)), object, level);
        }
        // A few direct user grants on apps (API 2.7+).
        let direct = (self.users.len() / 1000).max(3).min(self.users.len());
        for k in 0..direct {
            if self.apps.is_empty() {
                break;
            }
            let ui = 20 + k * 7;
            let Some(u) = self.users.get(ui % self.users.len().max(1)) else {
                break;
            };
            let uid = u.id.clone();
            let i = rng.index(self.apps.len());
            let o = obj(ObjectType::App, &self.apps[i].id.clone());
            let level = if k == 0 {
                AccessLevel::Edit
            } else {
                level_for(rng)
            };
            push(self, Subject::User(UserId(uid)), o, level);
        }
    }

    fn gen_invites_tokens_spaces(&mut self, spec: &OrgSpec, rng: &mut SplitMix64) {
        let admin_email = self
            .users
            .first()
            .map(|u| u.email.clone())
            .unwrap_or_else(|| "admin@example.com".into());
        let group_ids: Vec<i64> = self
            .groups
            .iter()
            .map(|g| g.id)
            .filter(|g| *g >= 3)
            .collect();
        let invites = (spec.users / 200).max(3);
        for i in 0..invites {
            let created = self.now - days(rng.below(20) as i64 + 1);
            let claimed = i % 3 == 2;
            let mut gids = vec![ALL_USERS_GROUP.0];
            if let Some(g) = rng.pick(&group_ids) {
                gids.push(*g);
            }
            let id = 500 + i as i64;
            self.invites.push(FakeInvite {
                id,
                email: format!("invitee.{id}@example.com"),
                invited_by: admin_email.clone(),
                user_type: Some(if i % 4 == 1 { "mobile" } else { "default" }.into()),
                group_ids: gids,
                expires_at: created + days(7),
                claimed_by: claimed.then(|| format!("invitee.{id}@example.com")),
                claimed_at: claimed.then_some(created + days(1)),
                created_at: created,
                invite_link: format!("https://fake.retool.example/invite/{:016x}", rng.next_u64()),
            });
        }
        let tokens = 3 + spec.users / 5000;
        for i in 0..tokens {
            let created = self.now - days(10 + rng.below(300) as i64);
            let scopes: Vec<String> = if i == 0 {
                TOKEN_SCOPES.iter().map(|s| s.to_string()).collect()
            } else {
                TOKEN_SCOPES
                    .iter()
                    .filter(|_| rng.chance(0.4))
                    .map(|s| s.to_string())
                    .collect()
            };
            let owner = self
                .users
                .get(i % self.users.len().max(1))
                .map_or(1000, |u| u.legacy_id);
            self.tokens.push(FakeToken {
                id: rng.uuid(),
                label: if i == 0 {
                    "retool-audit".into()
                } else {
                    format!("automation-{i}")
                },
                description: if i % 2 == 0 {
                    Some("Read-only audit export".into())
                } else {
                    None
                },
                last4: format!("{:04x}", rng.below(0x10000)),
                owner_legacy_id: owner,
                scopes,
                created_at: created,
                updated_at: created,
            });
        }
        let created = self.now - days(400);
        self.spaces.push(FakeSpace {
            id: rng.uuid(),
            name: "Production".into(),
            domain: "fake.retool.example".into(),
            created_at: created,
            updated_at: created,
        });
    }

    /// Gives user `old` the id `new` everywhere the organization refers to it
    /// (the user, group members, direct grants), as a Retool whose user ids
    /// have an unexpected format would send them.
    pub fn rename_user_id(&mut self, old: &str, new: &str) {
        for u in self.users.iter_mut().filter(|u| u.id == old) {
            u.id = new.to_string();
        }
        for m in self.groups.iter_mut().flat_map(|g| g.members.iter_mut()) {
            if m.user_id == old {
                m.user_id = new.to_string();
            }
        }
        for g in &mut self.grants {
            if matches!(&g.subject, Subject::User(u) if u.0 == old) {
                g.subject = Subject::User(UserId(new.to_string()));
            }
        }
        self.grants.sort();
    }

    // ---------------------------------------------------------------- wire records

    /// The v2 `GET /users` record.
    pub fn user_v2(u: &FakeUser) -> Value {
        json!({
            "id": u.id,
            "legacy_id": u.legacy_id,
            "email": u.email,
            "active": u.active,
            "created_at": wire_time(u.created_at),
            "last_active": opt_time(u.last_active),
            "first_name": u.first_name,
            "last_name": u.last_name,
            "metadata": {},
            "is_admin": u.is_admin,
            "user_type": u.user_type,
            "two_factor_auth_enabled": u.two_factor,
        })
    }

    /// The v1 `GET /users` record (camelCase, `isDisabled`, `groups`).
    pub fn user_v1(&self, u: &FakeUser) -> Value {
        let groups: Vec<Value> = self
            .groups
            .iter()
            .filter(|g| g.members.iter().any(|m| m.user_id == u.id))
            .map(|g| json!({"id": g.id, "name": g.name}))
            .collect();
        self.user_v1_with_groups(u, groups)
    }

    pub(crate) fn user_v1_with_groups(&self, u: &FakeUser, groups: Vec<Value>) -> Value {
        let mut v = json!({
            "id": u.id,
            "email": u.email,
            "isAdmin": u.is_admin,
            "isDisabled": !u.active,
            "userType": if u.user_type == "default" { "default" } else { "endUser" },
            "groups": groups,
            "createdAt": wire_time(u.created_at),
            "updatedAt": wire_time(u.updated_at),
        });
        if let Some(obj) = v.as_object_mut() {
            if let Some(f) = &u.first_name {
                obj.insert("firstName".into(), json!(f));
            }
            if let Some(l) = &u.last_name {
                obj.insert("lastName".into(), json!(l));
            }
        }
        v
    }

    /// Groups each user belongs to, as v1 `groups` refs, keyed by user id.
    pub(crate) fn v1_user_groups(&self) -> HashMap<&str, Vec<Value>> {
        let mut map: HashMap<&str, Vec<Value>> = HashMap::new();
        for g in &self.groups {
            for m in &g.members {
                map.entry(m.user_id.as_str())
                    .or_default()
                    .push(json!({"id": g.id, "name": g.name}));
            }
        }
        map
    }

    fn invite_v2(&self, i: &FakeInvite) -> Value {
        let groups: Vec<Value> = i
            .group_ids
            .iter()
            .map(|gid| {
                let name = self
                    .groups
                    .iter()
                    .find(|g| g.id == *gid)
                    .map(|g| g.name.clone())
                    .unwrap_or_default();
                json!({"id": gid, "legacy_id": gid, "name": name})
            })
            .collect();
        json!({
            "id": i.id,
            "legacy_id": i.id,
            "invited_by": i.invited_by,
            "invited_email": i.email,
            "expires_at": wire_time(i.expires_at),
            "claimed_by": i.claimed_by,
            "claimed_at": opt_time(i.claimed_at),
            "user_type": i.user_type,
            "metadata": null,
            "created_at": wire_time(i.created_at),
            "invite_link": i.invite_link,
            "groups": groups,
        })
    }

    /// The v2 group record without `members`/`user_invites` (what `raw` keeps).
    fn group_v2_base(g: &FakeGroup) -> Value {
        json!({
            "id": g.id,
            "legacy_id": g.id,
            "name": g.name,
            "universal_app_access": g.universal_app.as_str(),
            "universal_resource_access": g.universal_resource.as_str(),
            "universal_workflow_access": g.universal_workflow.as_str(),
            "universal_query_library_access": g.universal_query_library.as_str(),
            "user_list_access": g.flags.user_list_access,
            "audit_log_access": g.flags.audit_log_access,
            "unpublished_release_access": g.flags.unpublished_release_access,
            "usage_analytics_access": g.flags.usage_analytics_access,
            "theme_access": g.flags.theme_access,
            "account_details_access": g.flags.account_details_access,
            "landing_page_app_id": g.landing_page_app_id,
            "created_at": wire_time(g.created_at),
            "updated_at": wire_time(g.updated_at),
        })
    }

    /// Emails by user id, for rendering group members.
    pub(crate) fn emails(&self) -> HashMap<&str, &str> {
        self.users
            .iter()
            .map(|u| (u.id.as_str(), u.email.as_str()))
            .collect()
    }

    /// The full v2 group record with `members` and `user_invites`.
    pub fn group_v2(&self, g: &FakeGroup, emails: &HashMap<&str, &str>) -> Value {
        let mut v = Self::group_v2_base(g);
        let members: Vec<Value> = g
            .members
            .iter()
            .map(|m| {
                json!({
                    "id": m.user_id,
                    "email": emails.get(m.user_id.as_str()).copied().unwrap_or_default(),
                    "is_group_admin": m.is_group_admin,
                })
            })
            .collect();
        let invites: Vec<Value> = self
            .invites
            .iter()
            .filter(|i| i.group_ids.contains(&g.id))
            .map(|i| self.invite_v2(i))
            .collect();
        if let Some(o) = v.as_object_mut() {
            o.insert("members".into(), Value::Array(members));
            o.insert("user_invites".into(), Value::Array(invites));
        }
        v
    }

    fn group_v1_base(g: &FakeGroup) -> Value {
        json!({
            "id": g.id,
            "name": g.name,
            "createdAt": wire_time(g.created_at),
            "updatedAt": wire_time(g.updated_at),
        })
    }

    /// The v1 group record with `members: [{id, email}]`.
    pub fn group_v1(g: &FakeGroup, emails: &HashMap<&str, &str>) -> Value {
        let mut v = Self::group_v1_base(g);
        let members: Vec<Value> = g
            .members
            .iter()
            .map(|m| json!({"id": m.user_id, "email": emails.get(m.user_id.as_str()).copied().unwrap_or_default()}))
            .collect();
        if let Some(o) = v.as_object_mut() {
            o.insert("members".into(), Value::Array(members));
        }
        v
    }

    pub fn folder_v2(f: &FakeFolder) -> Value {
        json!({
            "id": f.id,
            "legacy_id": f.id,
            "name": f.name,
            "parent_folder_id": f.parent_id,
            "is_system_folder": f.is_system,
            "folder_type": f.folder_type,
            "created_at": wire_time(f.created_at),
            "updated_at": wire_time(f.updated_at),
        })
    }

    pub fn folder_v1(f: &FakeFolder) -> Value {
        let mut v = json!({
            "id": f.id,
            "name": f.name,
            "folderType": f.folder_type,
            "createdAt": wire_time(f.created_at),
        });
        if let (Some(p), Some(o)) = (&f.parent_id, v.as_object_mut()) {
            o.insert("parentFolderId".into(), json!(p));
        }
        v
    }

    pub fn app_v2(a: &FakeApp) -> Value {
        json!({
            "id": a.id,
            "name": a.name,
            "description": a.description,
            "folder_id": a.folder_id,
            "protected": a.protected,
            "synced": false,
            "shortlink": null,
            "is_module": a.is_module,
            "is_mobile_app": a.is_mobile_app,
            "created_at": wire_time(a.created_at),
            "updated_at": wire_time(a.updated_at),
            "release_version": "latest",
        })
    }

    pub fn app_v1(a: &FakeApp) -> Value {
        let mut v = json!({
            "id": a.id,
            "name": a.name,
            "folderId": a.folder_id,
            "createdBy": a.created_by,
            "createdAt": wire_time(a.created_at),
            "updatedAt": wire_time(a.updated_at),
        });
        if let (Some(d), Some(o)) = (&a.description, v.as_object_mut()) {
            o.insert("description".into(), json!(d));
        }
        v
    }

    pub fn resource_v2(r: &FakeResource) -> Value {
        json!({
            "id": r.id,
            "type": r.resource_type,
            "display_name": r.display_name,
            "folder_id": r.folder_id,
            "protected": r.protected,
            "created_at": wire_time(r.created_at),
            "updated_at": wire_time(r.updated_at),
        })
    }

    pub fn resource_v1(r: &FakeResource) -> Value {
        json!({
            "id": r.id,
            "name": r.display_name,
            "type": r.resource_type,
            "displayName": resource_type_display(&r.resource_type),
            "createdAt": wire_time(r.created_at),
            "updatedAt": wire_time(r.updated_at),
        })
    }

    pub fn workflow_v2(w: &FakeWorkflow) -> Value {
        json!({
            "id": w.id,
            "name": w.name,
            "description": w.description,
            "crontab": w.crontab,
            "timezone": w.crontab.as_ref().map(|_| "UTC"),
            "is_enabled": w.is_enabled,
            "folder_id": w.folder_id,
            "protected": w.protected,
            "created_by": w.created_by,
            "created_at": wire_time(w.created_at),
            "updated_at": wire_time(w.updated_at),
        })
    }

    /// The v2 `GET /user_invites` record (with `invite_link`, as Retool sends it).
    pub fn invite_record_v2(&self, i: &FakeInvite) -> Value {
        self.invite_v2(i)
    }

    pub fn token_v2(t: &FakeToken) -> Value {
        json!({
            "id": t.id,
            "label": t.label,
            "description": t.description,
            "last4": t.last4,
            "owner_legacy_id": t.owner_legacy_id,
            "scopes": t.scopes,
            "created_at": wire_time(t.created_at),
            "updated_at": wire_time(t.updated_at),
        })
    }

    pub fn space_v2(s: &FakeSpace) -> Value {
        json!({
            "id": s.id,
            "name": s.name,
            "domain": s.domain,
            "created_at": wire_time(s.created_at),
            "updated_at": wire_time(s.updated_at),
        })
    }

    /// `listObjects` answer for one subject and object type: `[{type,id,access_level}]`.
    pub fn list_objects(&self, subject: &Subject, object_type: ObjectType) -> Vec<Value> {
        self.grants
            .iter()
            .filter(|g| &g.subject == subject && g.object.object_type == object_type)
            .map(|g| {
                json!({
                    "type": object_type.as_str(),
                    "id": g.object.id.0,
                    "access_level": g.level.as_str(),
                })
            })
            .collect()
    }

    /// Best-effort `accessList` for one object: groups with a grant on it, on its
    /// folder, or universal access to its type; users with a direct grant.
    pub fn access_list(&self, object_type: ObjectType, id: &str) -> Value {
        let folder_of: Option<String> = match object_type {
            ObjectType::App => self
                .apps
                .iter()
                .find(|a| a.id == id)
                .map(|a| a.folder_id.clone()),
            ObjectType::Resource => self
                .resources
                .iter()
                .find(|r| r.id == id)
                .and_then(|r| r.folder_id.clone()),
            ObjectType::Workflow => self
                .workflows
                .iter()
                .find(|w| w.id == id)
                .map(|w| w.folder_id.clone()),
            ObjectType::Folder => None,
        };
        let relevant: Vec<&Grant> = self
            .grants
            .iter()
            .filter(|gr| {
                (gr.object.object_type == object_type && gr.object.id.0 == id)
                    || (gr.object.object_type == ObjectType::Folder
                        && folder_of.as_deref() == Some(gr.object.id.0.as_str()))
            })
            .collect();
        let mut groups = Vec::new();
        for g in &self.groups {
            let gid = GroupId(g.id);
            let subject = Subject::Group(gid);
            let direct = relevant
                .iter()
                .find(|gr| {
                    gr.subject == subject
                        && gr.object.object_type == object_type
                        && gr.object.id.0 == id
                })
                .map(|gr| gr.level);
            let inherited = folder_of.as_ref().and_then(|f| {
                relevant
                    .iter()
                    .find(|gr| {
                        gr.subject == subject
                            && gr.object.object_type == ObjectType::Folder
                            && &gr.object.id.0 == f
                    })
                    .map(|gr| gr.level)
            });
            let universal = match object_type {
                ObjectType::App => g.universal_app,
                ObjectType::Resource => g.universal_resource,
                ObjectType::Workflow => g.universal_workflow,
                ObjectType::Folder => AccessLevel::None,
            };
            let level = direct
                .unwrap_or(AccessLevel::None)
                .max(inherited.unwrap_or(AccessLevel::None))
                .max(universal);
            if level == AccessLevel::None {
                continue;
            }
            let mut sources = json!({
                "direct": direct.is_some(),
                "universal": universal > AccessLevel::None,
            });
            if let (Some(f), Some(_), Some(o)) = (&folder_of, inherited, sources.as_object_mut()) {
                o.insert("inherited".into(), json!({"id": f, "type": "folder"}));
            }
            groups.push(json!({
                "subject": {"id": g.id.to_string(), "type": "group"},
                "sources": sources,
                "accessLevel": level.as_str(),
            }));
        }
        let users: Vec<Value> = self
            .grants
            .iter()
            .filter(|gr| {
                matches!(gr.subject, Subject::User(_))
                    && gr.object.object_type == object_type
                    && gr.object.id.0 == id
            })
            .filter_map(|gr| match &gr.subject {
                Subject::User(u) => Some(json!({
                    "subject": {"id": u.0, "type": "user"},
                    "sources": {"direct": true, "universal": false},
                    "accessLevel": gr.level.as_str(),
                })),
                Subject::Group(_) => None,
            })
            .collect();
        json!({"group": groups, "user": users, "userInvite": []})
    }

    // ------------------------------------------------------------- expected states

    /// Exactly the `OrgState` a correct v2 collector produces from this org
    /// (normalized). See the module docs for the mapping rules.
    pub fn expected_state(&self) -> OrgState {
        let raw = |v: &Value| serde_json::to_string(v).unwrap_or_default();
        let users = self
            .users
            .iter()
            .map(|u| User {
                id: UserId(u.id.clone()),
                legacy_id: Some(u.legacy_id),
                email: u.email.clone(),
                first_name: u.first_name.clone(),
                last_name: u.last_name.clone(),
                active: u.active,
                is_admin: u.is_admin,
                user_type: u.user_type.clone(),
                two_factor_enabled: Some(u.two_factor),
                created_at: Some(u.created_at),
                last_active: u.last_active,
                raw: raw(&Self::user_v2(u)),
            })
            .collect();
        let mut s = OrgState {
            users,
            ..OrgState::default()
        };
        for g in &self.groups {
            s.groups.push(Group {
                id: GroupId(g.id),
                legacy_id: Some(g.id),
                name: g.name.clone(),
                universal_app_access: g.universal_app,
                universal_resource_access: g.universal_resource,
                universal_workflow_access: g.universal_workflow,
                universal_query_library_access: g.universal_query_library,
                flags: g.flags.clone(),
                landing_page_app_id: g.landing_page_app_id.clone(),
                created_at: Some(g.created_at),
                updated_at: Some(g.updated_at),
                raw: raw(&Self::group_v2_base(g)),
            });
            s.memberships.extend(g.members.iter().map(|m| Membership {
                group_id: GroupId(g.id),
                user_id: UserId(m.user_id.clone()),
                is_group_admin: m.is_group_admin,
            }));
        }
        s.folders = self
            .folders
            .iter()
            .map(|f| Folder {
                id: ObjectId(f.id.clone()),
                name: f.name.clone(),
                parent_id: f.parent_id.clone().map(ObjectId),
                is_system_folder: f.is_system,
                folder_type: f.folder_type.clone(),
                created_at: Some(f.created_at),
                updated_at: Some(f.updated_at),
                raw: raw(&Self::folder_v2(f)),
            })
            .collect();
        s.apps = self
            .apps
            .iter()
            .map(|a| App {
                id: ObjectId(a.id.clone()),
                name: a.name.clone(),
                description: a.description.clone(),
                folder_id: Some(ObjectId(a.folder_id.clone())),
                protected: a.protected,
                is_module: a.is_module,
                is_mobile_app: a.is_mobile_app,
                created_at: Some(a.created_at),
                updated_at: Some(a.updated_at),
                raw: raw(&Self::app_v2(a)),
            })
            .collect();
        s.resources = self
            .resources
            .iter()
            .map(|r| Resource {
                id: ObjectId(r.id.clone()),
                name: r.display_name.clone(),
                resource_type: r.resource_type.clone(),
                folder_id: r.folder_id.clone().map(ObjectId),
                protected: r.protected,
                created_at: Some(r.created_at),
                updated_at: Some(r.updated_at),
                raw: raw(&Self::resource_v2(r)),
            })
            .collect();
        s.workflows = self
            .workflows
            .iter()
            .map(|w| Workflow {
                id: ObjectId(w.id.clone()),
                name: w.name.clone(),
                description: w.description.clone(),
                folder_id: Some(ObjectId(w.folder_id.clone())),
                is_enabled: w.is_enabled,
                protected: w.protected,
                created_at: Some(w.created_at),
                updated_at: Some(w.updated_at),
                raw: raw(&Self::workflow_v2(w)),
            })
            .collect();
        s.grants = self.grants.clone();
        s.user_invites = self
            .invites
            .iter()
            .map(|i| {
                let mut v = self.invite_v2(i);
                if let Some(o) = v.as_object_mut() {
                    o.remove("invite_link");
                }
                UserInvite {
                    id: i.id,
                    email: i.email.clone(),
                    invited_by: Some(i.invited_by.clone()),
                    user_type: i.user_type.clone(),
                    group_ids: i.group_ids.iter().map(|g| GroupId(*g)).collect(),
                    expires_at: Some(i.expires_at),
                    claimed_by: i.claimed_by.clone(),
                    claimed_at: i.claimed_at,
                    created_at: Some(i.created_at),
                    raw: raw(&v),
                }
            })
            .collect();
        s.access_tokens = self
            .tokens
            .iter()
            .map(|t| AccessToken {
                id: t.id.clone(),
                label: t.label.clone(),
                description: t.description.clone(),
                last4: t.last4.clone(),
                owner_legacy_id: Some(t.owner_legacy_id),
                scopes: t.scopes.clone(),
                created_at: Some(t.created_at),
                updated_at: Some(t.updated_at),
                raw: raw(&Self::token_v2(t)),
            })
            .collect();
        s.normalize();
        s
    }

    /// Exactly the `OrgState` a correct v1 collector produces (normalized): users,
    /// groups, memberships, apps, resources, folders; the rest `not_collected`.
    pub fn expected_state_v1(&self) -> OrgState {
        let raw = |v: &Value| serde_json::to_string(v).unwrap_or_default();
        let user_groups = self.v1_user_groups();
        let users = self
            .users
            .iter()
            .map(|u| {
                let groups = user_groups.get(u.id.as_str()).cloned().unwrap_or_default();
                User {
                    id: UserId(u.id.clone()),
                    legacy_id: None,
                    email: u.email.clone(),
                    first_name: u.first_name.clone(),
                    last_name: u.last_name.clone(),
                    active: u.active,
                    is_admin: u.is_admin,
                    user_type: if u.user_type == "default" {
                        "default"
                    } else {
                        "endUser"
                    }
                    .into(),
                    two_factor_enabled: None,
                    created_at: Some(u.created_at),
                    last_active: None,
                    raw: raw(&self.user_v1_with_groups(u, groups)),
                }
            })
            .collect();
        let mut s = OrgState {
            users,
            ..OrgState::default()
        };
        for g in &self.groups {
            s.groups.push(Group {
                id: GroupId(g.id),
                legacy_id: None,
                name: g.name.clone(),
                universal_app_access: AccessLevel::None,
                universal_resource_access: AccessLevel::None,
                universal_workflow_access: AccessLevel::None,
                universal_query_library_access: AccessLevel::None,
                flags: GroupFlags::default(),
                landing_page_app_id: None,
                created_at: Some(g.created_at),
                updated_at: Some(g.updated_at),
                raw: raw(&Self::group_v1_base(g)),
            });
            s.memberships.extend(g.members.iter().map(|m| Membership {
                group_id: GroupId(g.id),
                user_id: UserId(m.user_id.clone()),
                is_group_admin: false,
            }));
        }
        s.folders = self
            .folders
            .iter()
            .map(|f| Folder {
                id: ObjectId(f.id.clone()),
                name: f.name.clone(),
                parent_id: f.parent_id.clone().map(ObjectId),
                is_system_folder: false,
                folder_type: f.folder_type.clone(),
                created_at: Some(f.created_at),
                updated_at: None,
                raw: raw(&Self::folder_v1(f)),
            })
            .collect();
        s.apps = self
            .apps
            .iter()
            .map(|a| App {
                id: ObjectId(a.id.clone()),
                name: a.name.clone(),
                description: a.description.clone(),
                folder_id: Some(ObjectId(a.folder_id.clone())),
                protected: false,
                is_module: false,
                is_mobile_app: false,
                created_at: Some(a.created_at),
                updated_at: Some(a.updated_at),
                raw: raw(&Self::app_v1(a)),
            })
            .collect();
        s.resources = self
            .resources
            .iter()
            .map(|r| Resource {
                id: ObjectId(r.id.clone()),
                name: r.display_name.clone(),
                resource_type: r.resource_type.clone(),
                folder_id: None,
                protected: false,
                created_at: Some(r.created_at),
                updated_at: Some(r.updated_at),
                raw: raw(&Self::resource_v1(r)),
            })
            .collect();
        for k in [
            EntityKind::Workflows,
            EntityKind::Grants,
            EntityKind::UserInvites,
            EntityKind::AccessTokens,
        ] {
            s.not_collected.insert(k, NOT_IN_V1.to_string());
        }
        s.normalize();
        s
    }

    /// Record counts per kind (as the v2 expected state has them).
    pub fn counts(&self) -> BTreeMap<EntityKind, u64> {
        let memberships: usize = self.groups.iter().map(|g| g.members.len()).sum();
        let mut c = BTreeMap::new();
        c.insert(EntityKind::Users, self.users.len() as u64);
        c.insert(EntityKind::Groups, self.groups.len() as u64);
        c.insert(EntityKind::Memberships, memberships as u64);
        c.insert(EntityKind::Folders, self.folders.len() as u64);
        c.insert(EntityKind::Apps, self.apps.len() as u64);
        c.insert(EntityKind::Resources, self.resources.len() as u64);
        c.insert(EntityKind::Workflows, self.workflows.len() as u64);
        c.insert(EntityKind::Grants, self.grants.len() as u64);
        c.insert(EntityKind::UserInvites, self.invites.len() as u64);
        c.insert(EntityKind::AccessTokens, self.tokens.len() as u64);
        c
    }

    /// One line for a startup banner: `60 users, 8 groups, ...`.
    pub fn describe(&self) -> String {
        self.counts()
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    // ------------------------------------------------------------------- mutations

    /// Removes `user` from `group`. `false` when there was no such membership.
    pub fn revoke_membership(&mut self, group: GroupId, user: &UserId) -> bool {
        let Some(g) = self.groups.iter_mut().find(|g| g.id == group.0) else {
            return false;
        };
        let before = g.members.len();
        g.members.retain(|m| m.user_id != user.0);
        before != g.members.len()
    }

    /// Enables or disables `user`. `false` when there is no such user.
    pub fn set_user_active(&mut self, user: &UserId, active: bool) -> bool {
        let now = self.now;
        match self.users.iter_mut().find(|u| u.id == user.0) {
            Some(u) => {
                u.active = active;
                u.updated_at = now;
                true
            }
            None => false,
        }
    }

    /// Adds `user` to `group`, or sets an existing member's group admin flag
    /// (Retool's `POST /groups/{id}/members`). `false` when there is no such group.
    pub fn set_member(&mut self, group: GroupId, user: &UserId, is_group_admin: bool) -> bool {
        let Some(g) = self.groups.iter_mut().find(|g| g.id == group.0) else {
            return false;
        };
        match g.members.iter_mut().find(|m| m.user_id == user.0) {
            Some(m) => m.is_group_admin = is_group_admin,
            None => g.members.push(FakeMember {
                user_id: user.0.clone(),
                is_group_admin,
            }),
        }
        true
    }

    /// Removes `subject`'s grant on `object`; on a folder also its grants on
    /// the objects directly in that folder, as Retool's `POST
    /// /permissions/revoke` does. Returns how many grants were removed.
    pub fn revoke_grant(&mut self, subject: &Subject, object: &ObjectRef) -> usize {
        let in_folder: HashSet<ObjectRef> = if object.object_type == ObjectType::Folder {
            let folder = object.id.0.as_str();
            let item = |t: ObjectType, id: &str| ObjectRef {
                object_type: t,
                id: ObjectId(id.to_string()),
            };
            self.apps
                .iter()
                .filter(|a| a.folder_id == folder)
                .map(|a| item(ObjectType::App, &a.id))
                .chain(
                    self.resources
                        .iter()
                        .filter(|r| r.folder_id.as_deref() == Some(folder))
                        .map(|r| item(ObjectType::Resource, &r.id)),
                )
                .chain(
                    self.workflows
                        .iter()
                        .filter(|w| w.folder_id == folder)
                        .map(|w| item(ObjectType::Workflow, &w.id)),
                )
                .collect()
        } else {
            HashSet::new()
        };
        let before = self.grants.len();
        self.grants.retain(|g| {
            !(&g.subject == subject && (&g.object == object || in_folder.contains(&g.object)))
        });
        before - self.grants.len()
    }

    fn user_groups(&self, uid: &str) -> Vec<i64> {
        self.groups
            .iter()
            .filter(|g| g.members.iter().any(|m| m.user_id == uid))
            .map(|g| g.id)
            .collect()
    }

    fn add_member(&mut self, group: i64, uid: &str) -> bool {
        match self.groups.iter_mut().find(|g| g.id == group) {
            Some(g) if !g.members.iter().any(|m| m.user_id == uid) => {
                g.members.push(FakeMember {
                    user_id: uid.to_string(),
                    is_group_admin: false,
                });
                true
            }
            _ => false,
        }
    }

    /// Applies a deterministic set of changes (a day passes) and says what changed.
    /// Can be called repeatedly; each round picks new targets.
    pub fn apply_scripted_changes(&mut self) -> ScriptedChanges {
        self.change_rounds += 1;
        self.now += days(1);
        let now = self.now;
        let mut rng = SplitMix64::new(self.seed ^ 0xC4A9_6E5D_0000_0000 ^ self.change_rounds);
        let mut ch = ScriptedChanges::default();
        let direct_grant_users: HashSet<String> = self
            .grants
            .iter()
            .filter_map(|g| match &g.subject {
                Subject::User(u) => Some(u.0.clone()),
                Subject::Group(_) => None,
            })
            .collect();
        let team_group_ids: Vec<i64> = self
            .groups
            .iter()
            .map(|g| g.id)
            .filter(|g| *g >= 3)
            .collect();

        // Users added (2), the first also joins a team group.
        for k in 0..2 {
            let legacy = self.next_legacy_id;
            self.next_legacy_id += 1;
            let mut u = self.new_user(&mut rng, self.users.len() + k, legacy);
            u.created_at = now - secs(3600);
            u.updated_at = u.created_at;
            u.last_active = None;
            let uid = u.id.clone();
            self.users.push(u);
            self.add_member(ALL_USERS_GROUP.0, &uid);
            ch.memberships_added
                .push((ALL_USERS_GROUP, UserId(uid.clone())));
            if k == 0 {
                if let Some(g) = team_group_ids.first() {
                    self.add_member(*g, &uid);
                    ch.memberships_added
                        .push((GroupId(*g), UserId(uid.clone())));
                }
            }
            ch.added_users.push(UserId(uid));
        }
        let added: HashSet<String> = ch.added_users.iter().map(|u| u.0.clone()).collect();
        let candidates = |org: &FakeOrg,
                          taken: &HashSet<String>,
                          f: &dyn Fn(&FakeUser) -> bool|
         -> Option<String> {
            org.users
                .iter()
                .skip(21)
                .find(|u| {
                    !taken.contains(&u.id)
                        && !added.contains(&u.id)
                        && !direct_grant_users.contains(&u.id)
                        && f(u)
                })
                .map(|u| u.id.clone())
        };
        let mut taken: HashSet<String> = HashSet::new();

        // One user removed (with every membership).
        if let Some(uid) = candidates(self, &taken, &|u| u.active && !u.is_admin) {
            for gid in self.user_groups(&uid) {
                ch.memberships_removed
                    .push((GroupId(gid), UserId(uid.clone())));
            }
            for g in &mut self.groups {
                g.members.retain(|m| m.user_id != uid);
            }
            self.users.retain(|u| u.id != uid);
            taken.insert(uid.clone());
            ch.removed_users.push(UserId(uid));
        }
        // Two users disabled; the first is kept in a team group.
        let in_team = |org: &FakeOrg, uid: &str| org.user_groups(uid).iter().any(|g| *g >= 3);
        let first = self
            .users
            .iter()
            .skip(21)
            .find(|u| {
                u.active
                    && !u.is_admin
                    && !taken.contains(&u.id)
                    && !added.contains(&u.id)
                    && in_team(self, &u.id)
            })
            .map(|u| u.id.clone());
        if let Some(uid) = first {
            taken.insert(uid.clone());
            ch.disabled_users.push(UserId(uid));
        }
        if let Some(uid) = candidates(self, &taken, &|u| u.active && !u.is_admin) {
            taken.insert(uid.clone());
            ch.disabled_users.push(UserId(uid));
        }
        for uid in ch.disabled_users.clone() {
            self.set_user_active(&uid, false);
        }
        // One disabled (non-admin) user re-enabled.
        let re_enable = self
            .users
            .iter()
            .skip(14)
            .find(|u| {
                !u.active
                    && !u.is_admin
                    && !taken.contains(&u.id)
                    && !direct_grant_users.contains(&u.id)
            })
            .map(|u| u.id.clone());
        if let Some(uid) = re_enable {
            self.set_user_active(&UserId(uid.clone()), true);
            taken.insert(uid.clone());
            ch.re_enabled_users.push(UserId(uid));
        }
        // One user promoted to admin (joins the admin group).
        if let Some(uid) = candidates(self, &taken, &|u| u.active && !u.is_admin) {
            if let Some(u) = self.users.iter_mut().find(|u| u.id == uid) {
                u.is_admin = true;
                u.updated_at = now;
            }
            if self.add_member(ADMIN_GROUP.0, &uid) {
                ch.memberships_added
                    .push((ADMIN_GROUP, UserId(uid.clone())));
            }
            taken.insert(uid.clone());
            ch.promoted_admins.push(UserId(uid));
        }
        // One membership added, one removed (team groups).
        if let Some(uid) = candidates(self, &taken, &|u| u.active) {
            let current = self.user_groups(&uid);
            if let Some(g) = team_group_ids.iter().find(|g| !current.contains(g)) {
                if self.add_member(*g, &uid) {
                    ch.memberships_added
                        .push((GroupId(*g), UserId(uid.clone())));
                }
            }
            taken.insert(uid);
        }
        let removal = self
            .groups
            .iter()
            .filter(|g| g.id >= 3)
            .flat_map(|g| g.members.iter().map(move |m| (g.id, m)))
            .find(|(_, m)| {
                !m.is_group_admin && !taken.contains(&m.user_id) && !added.contains(&m.user_id)
            })
            .map(|(g, m)| (g, m.user_id.clone()));
        if let Some((g, uid)) = removal {
            if self.revoke_membership(GroupId(g), &UserId(uid.clone())) {
                ch.memberships_removed.push((GroupId(g), UserId(uid)));
            }
        }

        // Grants: one raised to own, one removed, one new edit grant.
        let group_grant_idx: Vec<usize> = self
            .grants
            .iter()
            .enumerate()
            .filter(|(_, g)| matches!(g.subject, Subject::Group(_)))
            .map(|(i, _)| i)
            .collect();
        let raise = group_grant_idx
            .iter()
            .copied()
            .find(|i| self.grants[*i].level < AccessLevel::Own);
        if let Some(i) = raise {
            let g = &mut self.grants[i];
            if let Subject::Group(gid) = g.subject {
                ch.grants_raised
                    .push((gid, g.object.clone(), g.level, AccessLevel::Own));
                g.level = AccessLevel::Own;
            }
        }
        let remove = group_grant_idx
            .iter()
            .copied()
            .rev()
            .find(|i| Some(*i) != raise);
        if let Some(i) = remove {
            let g = self.grants.remove(i);
            if let Subject::Group(gid) = g.subject {
                ch.grants_removed.push((gid, g.object, g.level));
            }
        }
        if let Some(gid) = team_group_ids.get(rng.index(team_group_ids.len())).copied() {
            let target = self.apps.iter().find(|a| {
                !self.grants.iter().any(|g| {
                    g.subject == Subject::Group(GroupId(gid))
                        && g.object.object_type == ObjectType::App
                        && g.object.id.0 == a.id
                })
            });
            if let Some(a) = target {
                let object = ObjectRef {
                    object_type: ObjectType::App,
                    id: ObjectId(a.id.clone()),
                };
                self.grants.push(Grant {
                    subject: Subject::Group(GroupId(gid)),
                    object: object.clone(),
                    level: AccessLevel::Edit,
                });
                ch.grants_added
                    .push((GroupId(gid), object, AccessLevel::Edit));
            }
        }
        // One group's universal resource access raised.
        if let Some(g) = self
            .groups
            .iter_mut()
            .filter(|g| g.id >= 3)
            .find(|g| g.universal_resource < AccessLevel::Own)
        {
            let old = g.universal_resource;
            let new = match old {
                AccessLevel::None => AccessLevel::Use,
                AccessLevel::Use => AccessLevel::Edit,
                _ => AccessLevel::Own,
            };
            g.universal_resource = new;
            g.updated_at = now;
            ch.universal_raised
                .push((GroupId(g.id), ObjectType::Resource, old, new));
        }
        // An app renamed, an app added.
        if let Some(a) = self.apps.iter_mut().rev().find(|a| a.name.len() < 200) {
            let old = a.name.clone();
            a.name = format!("{old} (renamed {})", self.change_rounds);
            a.updated_at = now;
            ch.apps_renamed
                .push((ObjectId(a.id.clone()), old, a.name.clone()));
        }
        let folders = self.app_folder_ids();
        let mut app = self.new_app(&mut rng, self.apps.len(), &folders);
        app.created_at = now - secs(600);
        app.updated_at = app.created_at;
        ch.apps_added.push(ObjectId(app.id.clone()));
        self.apps.push(app);
        // A resource removed (with its grants).
        if !self.resources.is_empty() {
            let r = self.resources.remove(self.resources.len() - 1);
            let mut kept = Vec::with_capacity(self.grants.len());
            for g in std::mem::take(&mut self.grants) {
                if g.object.object_type == ObjectType::Resource && g.object.id.0 == r.id {
                    if let Subject::Group(gid) = g.subject {
                        ch.grants_removed.push((gid, g.object, g.level));
                    }
                } else {
                    kept.push(g);
                }
            }
            self.grants = kept;
            ch.resources_removed.push(ObjectId(r.id));
        }
        ch
    }
}
