//! Retool's own access list as a cross-check of the computed effective access.

use serde::{Deserialize, Serialize};

use super::{AccessLevel, ObjectRef};

/// At most this many disagreements are kept per snapshot (the rest counted):
/// a systematic difference on a large org must not make the evidence huge.
pub const MAX_DISAGREEMENTS: usize = 10_000;

/// What one cross-check found: how many objects and (user, object) pairs were
/// compared, how many agreed, and every disagreement (up to
/// [`MAX_DISAGREEMENTS`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrossCheck {
    /// Objects asked about, in the order they were picked.
    pub objects: Vec<ObjectRef>,
    /// Objects whose access list could not be read, with why (an older
    /// Retool answers 404 for some object types): not checked, not a
    /// disagreement.
    pub not_checked: Vec<(ObjectRef, String)>,
    /// (user, object) pairs compared: every user Retool listed and every
    /// active user it did not.
    pub pairs: u64,
    pub agreements: u64,
    pub disagreements: Vec<Disagreement>,
    /// Disagreements beyond [`MAX_DISAGREEMENTS`], counted only.
    pub disagreements_not_kept: u64,
}

impl CrossCheck {
    /// Every disagreement, kept or only counted.
    pub fn disagreement_count(&self) -> u64 {
        self.disagreements.len() as u64 + self.disagreements_not_kept
    }
}

/// One user on one object where Retool's level differs from ours.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Disagreement {
    pub object: ObjectRef,
    /// The user id Retool or the snapshot names.
    pub user_id: String,
    /// Retool's level (`none` when it did not list the user).
    pub retool_level: AccessLevel,
    /// Retool's sources, spelled `direct`, `universal`, `groups:<id>,<id>`,
    /// `inherited:<type>:<id>`, joined by `;`.
    pub retool_sources: String,
    pub computed_level: AccessLevel,
    /// Our `via` for the user on the object.
    pub computed_via: String,
}
