//! Analyses: pure functions over `OrgState`s (no I/O) — effective access
//! ([`access`]), orphaned, disabled and privileged accounts ([`accounts`]),
//! changes between two states ([`mod@changes`]), the HR roster ([`roster`]),
//! what roles give ([`roles`]), the security settings' findings
//! ([`settings`]), app usage per user and per app ([`usage`]) and
//! per-environment resource access ([`environments`]), and one user's or
//! one object's access at one snapshot ([`lookup`]) and across snapshots
//! ([`timeline`]).

pub mod access;
pub mod accounts;
pub mod approvals;
pub mod changes;
pub mod deprovisioning;
pub mod environments;
pub mod exceptions;
pub mod inventory;
pub mod lookup;
pub mod object_access;
pub mod roles;
pub mod roster;
pub mod settings;
pub mod timeline;
pub mod usage;

#[cfg(test)]
pub(crate) mod fixtures;

pub use access::{
    AccessIndex, EffectiveAccess, Source, Via, effective_access, effective_level, join_via,
};
pub use accounts::{
    AccountOptions, DisabledAccount, DisabledFinding, OrphanReason, OrphanedAccount, PrivilegeKind,
    PrivilegedEntry, disabled_accounts, orphaned_accounts, privileged_access,
};
pub use changes::{Change, ChangeEntity, ChangeKind, Risk, changes};
pub use roster::{Roster, RosterError};
