//! The simulated Retool: deterministic generated organizations of any size,
//! served over real HTTP on loopback in both wire dialects (API v2 and the v1
//! Management API shape), with scripted changes between snapshots and injectable
//! faults. Tests, `retool-audit demo`, `retool-audit fake-server` and the
//! benchmarks run the real collector against it.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use retool_audit::fake::{FakeConfig, FakeOrg, FakeServer, OrgSpec};
//! let org = FakeOrg::generate(&OrgSpec::demo(chrono::Utc::now()));
//! let expected = org.expected_state();
//! let server = FakeServer::start(org, FakeConfig::default()).await?;
//! // ... collect from server.base_url() with token "fake-token" ...
//! # drop(expected);
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The server is an independent implementation of Retool's side of the wire: it
//! builds JSON with `serde_json` values and shares no DTO with `retool/`.

mod faults;
mod org;
mod rng;
mod server;
mod writes;

pub use faults::{Fault, RetryAfter, parse_faults};
pub use org::{
    ADMIN_GROUP, ALL_USERS_GROUP, FakeAccessRequest, FakeApp, FakeConfigurationGrant, FakeFolder,
    FakeGroup, FakeInvite, FakeMember, FakeOrg, FakeResource, FakeRole, FakeRoleGrant,
    FakeSettings, FakeSpace, FakeToken, FakeUsage, FakeUser, FakeWorkflow, HOSTILE_CMD,
    HOSTILE_EMOJI, HOSTILE_GREEK, HOSTILE_HYPERLINK, HOSTILE_JAPANESE, HOSTILE_NEWLINE,
    HOSTILE_QUOTES, HOSTILE_RTL, HOSTILE_SCRIPT, HOSTILE_SUM, LONG_NAME_LEN, NOT_IN_V1, OrgSpec,
    RESOURCE_HOST, RESOURCE_PASSWORD, SSO_CLIENT_SECRET, ScriptedChanges, wire_time,
};
pub use server::{FakeConfig, FakeServer, RequestRecord};

#[cfg(test)]
mod tests;
