//! What organization to generate: the demo org, any size, and the benchmark
//! sizes of BENCHMARKS.md.

use chrono::{DateTime, Utc};

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
