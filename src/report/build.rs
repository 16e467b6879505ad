//! Builds the format-neutral [`Report`] from snapshots: runs the analyses once
//! (`tables::Context`) and assembles the public tables (`tables::ALL`), the
//! summary, the evidence and the charts. Renders nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::table::{Expansion, Report, StreamedReport};
use super::tables::{self, Context};
use super::{charts, drilldown, evidence, summary};
use crate::analyze::approvals::ReviewKeep;
use crate::analyze::changes::SeenChange;
use crate::analyze::deprovisioning::Deprovisioning;
use crate::analyze::exceptions::{Exception, Severity};
use crate::analyze::roster::Roster;
use crate::model::{
    DisabledWindow, OrgState, RunRecord, SnapshotCounts, SnapshotMeta, TransientAccess, UserId,
};

/// How to build a report.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Users last active more than this many days before the snapshot are
    /// `inactive`.
    pub inactive_days: u32,
    /// The built-in group every user is in (`All Users`).
    pub default_group: String,
    /// The HR roster; without one `not_in_roster` is not checked.
    pub roster: Option<Roster>,
    pub generated_at: DateTime<Utc>,
    /// The command line that produced the report (for the evidence; never
    /// contains the token, which comes from the environment or a file).
    pub command_line: String,
    /// At most this many group columns in `access_matrix` (the groups with the
    /// most members); all memberships are always in `group_members`.
    pub matrix_max_groups: usize,
    /// `--full-effective-access`: write the per-user expansion whatever the
    /// organization's size (see [`Expansion`]).
    pub full_effective_access: bool,
}

impl ReportOptions {
    /// Defaults: 90 inactive days, `All Users`, no roster, 200 matrix groups.
    pub fn new(generated_at: DateTime<Utc>, command_line: impl Into<String>) -> Self {
        ReportOptions {
            inactive_days: 90,
            default_group: "All Users".to_string(),
            roster: None,
            generated_at,
            command_line: command_line.into(),
            matrix_max_groups: 200,
            full_effective_access: false,
        }
    }
}

/// What a report is built from: snapshots read from the store, never the API.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    pub org: &'a str,
    pub current: &'a SnapshotMeta,
    pub current_state: &'a OrgState,
    /// The snapshot to compare with (changes), when there is one.
    pub previous: Option<(&'a SnapshotMeta, &'a OrgState)>,
    /// The changes found walking every snapshot from `previous` to `current`
    /// (`None`: the two states are compared).
    pub walked: Option<&'a [SeenChange]>,
    /// The org's snapshots up to `current`, oldest first, for charts.
    pub history: &'a [SnapshotMeta],
    /// Failed collection attempts since the previous snapshot.
    pub failed_runs: &'a [RunRecord],
    /// For each currently disabled user: the last snapshot that saw them
    /// active and the first that saw them disabled.
    pub disabled_since: &'a BTreeMap<UserId, DisabledWindow>,
    /// The org's history for the trend charts (empty: no trend charts).
    pub trend: &'a Trend,
    /// Access that came and went between the previous snapshot and this one.
    pub transient: &'a [TransientAccess],
    /// The current `keep` decisions of the org's review campaigns, evidence
    /// of approval for access added in the period.
    pub review_keeps: &'a [ReviewKeep],
    /// The deprovisioning test of `--terminations` (`None`: no file given).
    pub deprovisioning: Option<&'a [Deprovisioning]>,
}

/// What the trend charts plot, read from the history by the caller.
#[derive(Debug, Clone, Default)]
pub struct Trend {
    /// Every snapshot up to the reported one, oldest first.
    pub counts: Vec<SnapshotCounts>,
    /// Exceptions by severity (critical, high, medium, low) of the snapshots
    /// before the reported one that were analysed, oldest first; the
    /// reported snapshot's own come from the report.
    pub exceptions: Vec<(i64, [usize; 4])>,
    /// How many earlier snapshots were not analysed for exceptions (see
    /// [`Trend::BUDGET`]).
    pub exceptions_left_out: usize,
}

impl Trend {
    /// The exceptions trend analyses earlier snapshots, newest first, while
    /// the users they hold add up to at most this many: each costs a whole
    /// analysis (about 2 s for 50 000 users), the other trends cost a scan.
    pub const BUDGET: u64 = 60_000;
}

/// The exceptions of the snapshot `input` reports, by severity (critical,
/// high, medium, low): what the trend needs of an earlier snapshot.
pub fn exceptions_by_severity(input: &ReportInput<'_>, options: &ReportOptions) -> [usize; 4] {
    let cx = Context::new(input, options);
    severity_counts(&cx.exceptions)
}

pub(crate) fn severity_counts(exceptions: &[Exception]) -> [usize; 4] {
    let mut counts = [0; 4];
    for e in exceptions {
        let i = Severity::ALL
            .iter()
            .position(|s| *s == e.severity())
            .unwrap_or(3);
        counts[i] += 1;
    }
    counts
}

/// Builds the whole report with every row held in memory. Pure: the same input
/// gives the same report. For large organizations prefer [`build_streamed`].
pub fn build(input: &ReportInput, options: &ReportOptions) -> Report {
    build_streamed(input, options).into_report()
}

/// Builds the report with its two largest tables, `access_matrix` and
/// `effective_access`, streamed: their rows are produced per user while a writer
/// reads them (`report::write::write_report(&streamed, ...)`), so memory stays
/// flat however many users × objects there are. Pure, like [`build`].
pub fn build_streamed<'a>(input: &ReportInput<'a>, options: &ReportOptions) -> StreamedReport<'a> {
    let cx = Context::new(input, options);
    let expansion = cx.expansion;
    let mut tables: Vec<_> = tables::ALL.iter().map(|table| table(&cx)).collect();
    if let Expansion::Omitted { .. } = expansion {
        tables.retain(|t| !Expansion::TABLES.contains(&t.name.as_str()));
    }
    let provenance = evidence::provenance(&cx);
    let drilldown = drilldown::drilldown(&cx);
    Report {
        org: input.org.to_string(),
        title: "Retool access review".to_string(),
        snapshot_date: cx.as_of.format("%Y-%m-%d").to_string(),
        generated_at: options.generated_at,
        summary: summary::summary(&cx, &tables, expansion),
        evidence: evidence::evidence(&cx, &provenance, expansion),
        charts: charts::charts(&cx),
        tables,
        provenance,
        drilldown,
        expansion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::fixtures::{group_grant, member, org, t};
    use crate::model::{AccessLevel, CollectionInfo, EntityKind, Membership, ObjectType};
    use crate::report::Cell;

    fn meta(id: i64, state: &OrgState, day: u32) -> SnapshotMeta {
        SnapshotMeta {
            id,
            org: "acme".into(),
            info: CollectionInfo {
                source_url: "https://acme.retool.com/api/v2".into(),
                started_at: t(2026, 11, day),
                finished_at: t(2026, 11, day),
                tool_version: "0.1.0".into(),
                ..Default::default()
            },
            counts: state.counts(),
            not_collected: state.not_collected.clone(),
            sha256: format!("sha{id}"),
            prev_sha256: (id > 1).then(|| format!("sha{}", id - 1)),
        }
    }

    fn header(report: &Report, name: &str) -> Vec<String> {
        report
            .table(name)
            .map(|t| t.columns.clone())
            .unwrap_or_default()
    }

    fn run(
        state: &OrgState,
        previous: Option<(&SnapshotMeta, &OrgState)>,
        options: &ReportOptions,
    ) -> Report {
        let current = meta(2, state, 23);
        let since = BTreeMap::new();
        let history = vec![meta(1, state, 22), current.clone()];
        build(
            &ReportInput {
                org: "acme",
                current: &current,
                current_state: state,
                previous,
                walked: None,
                history: &history,
                failed_runs: &[],
                disabled_since: &since,
                trend: &Trend::default(),
                transient: &[],
                review_keeps: &[],
                deprovisioning: None,
            },
            options,
        )
    }

    fn options() -> ReportOptions {
        ReportOptions::new(t(2026, 11, 24), "retool-audit report")
    }

    #[test]
    fn partly_collected_kinds_are_called_partial_in_the_findings() {
        let mut s = org();
        s.not_collected.insert(
            EntityKind::Grants,
            "partial: direct user grants not collected (too many users); group grants are complete"
                .into(),
        );
        s.not_collected
            .insert(EntityKind::Workflows, "missing scope workflows:read".into());
        let r = run(&s, None, &options());
        let item = r
            .summary
            .iter()
            .find(|i| i.label == "Kinds not collected")
            .map(|i| i.value.to_plain());
        assert_eq!(
            item.as_deref(),
            Some("workflows, grants (partial), app_usage (not requested)")
        );
    }

    #[test]
    fn a_large_organization_gets_the_per_user_expansion_only_on_request() {
        use crate::analyze::fixtures::user;
        use crate::report::write::{Format, write_report};
        let mut s = org();
        for i in 0..Expansion::INLINE_MAX_USERS {
            let id = format!("u-{i:05}");
            s.users.push(user(&id, &format!("p{i:05}@example.com")));
            s.memberships.push(member(1, &id));
        }
        // Dave, the admin, never signed in: never_active_with_edit.
        s.users[3].last_active = None;
        let active = s.users.iter().filter(|u| u.active).count();
        assert!(active > Expansion::INLINE_MAX_USERS);
        let current = meta(2, &s, 23);
        let since = BTreeMap::new();
        let history = vec![current.clone()];
        let input = ReportInput {
            org: "acme",
            current: &current,
            current_state: &s,
            previous: None,
            walked: None,
            history: &history,
            failed_runs: &[],
            disabled_since: &since,
            trend: &Trend::default(),
            transient: &[],
            review_keeps: &[],
            deprovisioning: None,
        };
        let formats = [Format::Csv, Format::Json, Format::Html];
        let read_json = |dir: &std::path::Path| -> serde_json::Value {
            serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap()
        };
        let json_tables = |v: &serde_json::Value| -> Vec<String> {
            v["tables"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_string())
                .collect()
        };

        // By default: not written, and said so.
        let report = build_streamed(&input, &options());
        assert_eq!(
            report.expansion,
            Expansion::Omitted {
                active_users: active
            }
        );
        let dir = tempfile::tempdir().unwrap();
        write_report(&report, dir.path(), &formats, None).unwrap();
        for name in Expansion::TABLES {
            assert!(
                !dir.path().join(format!("csv/{name}.csv")).exists(),
                "{name}"
            );
            assert!(
                report
                    .summary
                    .iter()
                    .any(|i| i.label == name && i.value.to_plain().starts_with("not written"))
            );
        }
        assert!(!dir.path().join("jsonl").exists());
        let json = read_json(dir.path());
        assert!(!json_tables(&json).contains(&"effective_access".to_string()));
        assert!(json_tables(&json).contains(&"object_access".to_string()));
        let said = report
            .evidence
            .iter()
            .find(|e| e.key.starts_with("Effective access"))
            .map(|e| e.value.clone())
            .unwrap_or_default();
        assert!(
            said.starts_with("not written") && said.contains("--full-effective-access"),
            "{said}"
        );
        // The exceptions no longer point at the table that is not written.
        let evidence: Vec<String> = report
            .table("exceptions")
            .map(|t| {
                let col = t.columns.iter().position(|c| c == "evidence").unwrap();
                let mut out = Vec::new();
                let _: Result<(), ()> = t.try_for_each(0..usize::MAX, |row| {
                    out.push(row[col].to_plain());
                    Ok(())
                });
                out
            })
            .unwrap_or_default();
        assert!(
            evidence
                .iter()
                .any(|e| e.contains("the sources in subject")),
            "{evidence:?}"
        );
        assert!(
            !evidence.iter().any(|e| e.starts_with("effective_access:")),
            "{evidence:?}"
        );

        // On request: CSV and JSON Lines, still not in report.json or the HTML.
        let mut full = options();
        full.full_effective_access = true;
        let report = build_streamed(&input, &full);
        assert_eq!(report.expansion, Expansion::Full { everywhere: false });
        let dir = tempfile::tempdir().unwrap();
        write_report(&report, dir.path(), &formats, None).unwrap();
        let csv = std::fs::read_to_string(dir.path().join("csv/effective_access.csv")).unwrap();
        let jsonl =
            std::fs::read_to_string(dir.path().join("jsonl/effective_access.jsonl")).unwrap();
        let csv_rows = csv.lines().count() - 1;
        assert!(csv_rows > active, "{csv_rows}");
        assert_eq!(jsonl.lines().count(), csv_rows);
        let first: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
        let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        let keys: Vec<&str> = first
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted_header = header.clone();
        sorted_header.sort_unstable();
        assert_eq!(keys, sorted_header, "every column, by name");
        assert!(dir.path().join("jsonl/access_matrix.jsonl").exists());
        assert!(!json_tables(&read_json(dir.path())).contains(&"effective_access".to_string()));
        let html = std::fs::read_to_string(
            std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.extension().is_some_and(|x| x == "html"))
                .unwrap(),
        )
        .unwrap();
        assert!(!html.contains("id=\"t-effective_access\""));
        let manifest = std::fs::read_to_string(dir.path().join("manifest.json")).unwrap();
        assert!(manifest.contains("\"jsonl/effective_access.jsonl\""));

        // A small organization keeps it in every format, as before.
        assert_eq!(
            Expansion::plan(Expansion::INLINE_MAX_USERS, false),
            Expansion::Inline
        );
        assert_eq!(
            Expansion::plan(Expansion::INLINE_MAX_USERS, true),
            Expansion::Full { everywhere: true }
        );
    }

    #[test]
    fn every_user_gets_a_card_most_urgent_first_with_what_the_tables_say() {
        let mut s = org();
        s.memberships.push(Membership {
            is_group_admin: true,
            ..member(3, "u-bob")
        });
        let r = run(&s, None, &options());
        let cards = &r.drilldown.cards;
        assert_eq!(r.drilldown.users, s.users.len());
        assert_eq!(cards.len(), s.users.len(), "a small org: everyone");
        // The first card is a user with the most severe exception of the table.
        let exceptions = r.table("exceptions").unwrap();
        let (sev, uid) = (
            exceptions
                .columns
                .iter()
                .position(|c| c == "severity")
                .unwrap(),
            exceptions
                .columns
                .iter()
                .position(|c| c == "user_id")
                .unwrap(),
        );
        let worst = exceptions.rows[0][sev].to_plain();
        let worst_users: Vec<String> = exceptions
            .rows
            .iter()
            .filter(|row| row[sev].to_plain() == worst)
            .map(|row| row[uid].to_plain())
            .collect();
        assert!(
            worst_users.contains(&cards[0].user_id),
            "{worst_users:?} {}",
            cards[0].user_id
        );
        assert_eq!(cards[0].findings[0].0.as_str(), worst);
        let card = |id: &str| cards.iter().find(|c| c.user_id == id).unwrap();
        let dave = card("u-dave");
        assert!(
            dave.access
                .iter()
                .any(|a| a.starts_with("own app") && a.contains("admin")),
            "{:?}",
            dave.access
        );
        assert!(
            dave.account
                .contains(&("admin".to_string(), "true".to_string()))
        );
        let bob = card("u-bob");
        assert!(
            bob.groups.contains(&"DBA (group admin)".to_string()),
            "{:?}",
            bob.groups
        );
        let erin = card("u-erin");
        assert!(
            erin.account
                .contains(&("status".to_string(), "disabled".to_string()))
        );
        assert!(
            erin.access.is_empty(),
            "a disabled user holds no effective access"
        );
        assert!(erin.groups.iter().any(|g| g == "Eng"), "{:?}", erin.groups);
    }

    #[test]
    fn every_table_has_its_exact_name_and_header_in_order() {
        let s = org();
        let r = run(&s, None, &options());
        let names: Vec<&str> = r.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "exceptions",
                "users",
                "groups",
                "group_members",
                "access_matrix",
                "group_permissions",
                "user_grants",
                "effective_access",
                "object_access",
                "orphaned_accounts",
                "disabled_accounts",
                "deprovisioning",
                "privileged_access",
                "roles",
                "role_grants",
                "resource_environment_access",
                "security_settings",
                "access_requests",
                "usage",
                "app_usage",
                "cross_check",
                "folders",
                "apps",
                "resources",
                "workflows",
                "resource_configurations",
                "access_tokens",
                "user_invites",
                "changes",
                "transient_access",
                "access_added",
            ]
        );
        let expect: [(&str, &[&str]); 30] = [
            (
                "users",
                &[
                    "user_id",
                    "email",
                    "first_name",
                    "last_name",
                    "user_type",
                    "is_admin",
                    "status",
                    "two_factor_enabled",
                    "created_at",
                    "last_active",
                    "groups",
                ],
            ),
            (
                "group_members",
                &[
                    "group_id",
                    "group_name",
                    "user_id",
                    "email",
                    "is_group_admin",
                    "user_status",
                ],
            ),
            (
                "access_matrix",
                &["email", "status", "is_admin", "All Users", "DBA", "Eng"],
            ),
            (
                "group_permissions",
                &[
                    "group_id",
                    "group_name",
                    "object_type",
                    "object_id",
                    "object_name",
                    "access_level",
                    "scope",
                ],
            ),
            (
                "effective_access",
                &[
                    "user_id",
                    "email",
                    "object_type",
                    "object_id",
                    "object_name",
                    "access_level",
                    "determining_source",
                    "via",
                ],
            ),
            (
                "orphaned_accounts",
                &[
                    "user_id",
                    "email",
                    "status",
                    "is_admin",
                    "last_active",
                    "reasons",
                ],
            ),
            (
                "disabled_accounts",
                &[
                    "user_id",
                    "email",
                    "is_admin",
                    "groups",
                    "last_seen_active",
                    "disabled_since",
                    "findings",
                ],
            ),
            (
                "deprovisioning",
                &[
                    "email",
                    "user_id",
                    "termination_date",
                    "last_seen_with_access_snapshot",
                    "last_seen_with_access_at",
                    "access_removed_snapshot",
                    "access_removed_at",
                    "hours_to_remove",
                    "sla_hours",
                    "sla_met",
                    "note",
                    "retool_last_active",
                    "active_after_termination",
                    "finding",
                    "evidence_snapshot_sha256",
                ],
            ),
            (
                "changes",
                &[
                    "from_snapshot",
                    "to_snapshot",
                    "seen_in_snapshot",
                    "seen_at",
                    "entity_type",
                    "change",
                    "entity_id",
                    "entity_name",
                    "field",
                    "old_value",
                    "new_value",
                    "risk",
                ],
            ),
            (
                "transient_access",
                &[
                    "user_id",
                    "email",
                    "kind",
                    "subject",
                    "access_level",
                    "first_seen_snapshot",
                    "first_seen_at",
                    "last_seen_snapshot",
                    "last_seen_at",
                    "duration_hours",
                    "risk",
                ],
            ),
            (
                "access_added",
                &[
                    "seen_in_snapshot",
                    "seen_at",
                    "kind",
                    "change",
                    "entity_id",
                    "entity_name",
                    "access",
                    "user_id",
                    "email",
                    "held_now",
                    "risk",
                    "approval",
                    "approval_ref",
                    "approved_by",
                    "approved_at",
                ],
            ),
            (
                "roles",
                &[
                    "role_id",
                    "name",
                    "description",
                    "is_default_role",
                    "is_legacy_role",
                    "organization_scopes",
                    "object_scopes",
                    "updated_at",
                ],
            ),
            (
                "role_grants",
                &[
                    "role_id",
                    "role_name",
                    "subject_type",
                    "subject_id",
                    "subject_name",
                    "object_type",
                    "object_id",
                    "object_name",
                ],
            ),
            (
                "resource_environment_access",
                &[
                    "group_id",
                    "group_name",
                    "resource_id",
                    "resource_name",
                    "environment",
                    "access_level",
                    "configuration_id",
                ],
            ),
            (
                "security_settings",
                &["setting", "value", "source", "finding"],
            ),
            (
                "groups",
                &[
                    "group_id",
                    "name",
                    "members",
                    "group_admins",
                    "universal_app_access",
                    "universal_resource_access",
                    "universal_workflow_access",
                    "universal_query_library_access",
                    "created_at",
                    "updated_at",
                ],
            ),
            (
                "user_grants",
                &[
                    "user_id",
                    "email",
                    "object_type",
                    "object_id",
                    "object_name",
                    "access_level",
                ],
            ),
            (
                "folders",
                &[
                    "folder_id",
                    "name",
                    "folder_type",
                    "parent_id",
                    "path",
                    "is_system_folder",
                    "items",
                ],
            ),
            (
                "apps",
                &[
                    "app_id",
                    "name",
                    "folder_id",
                    "folder_path",
                    "is_module",
                    "protected",
                    "created_at",
                    "updated_at",
                ],
            ),
            (
                "resources",
                &[
                    "resource_id",
                    "name",
                    "resource_type",
                    "folder_id",
                    "folder_path",
                    "protected",
                    "created_at",
                    "updated_at",
                ],
            ),
            (
                "workflows",
                &[
                    "workflow_id",
                    "name",
                    "folder_id",
                    "folder_path",
                    "is_enabled",
                    "protected",
                    "created_at",
                    "updated_at",
                ],
            ),
            (
                "resource_configurations",
                &[
                    "configuration_id",
                    "resource_id",
                    "resource_name",
                    "resource_type",
                    "environment_id",
                    "environment",
                    "is_default_environment",
                ],
            ),
            (
                "access_tokens",
                &[
                    "token_id",
                    "label",
                    "last4",
                    "owner_user_id",
                    "owner_email",
                    "owner_status",
                    "scopes",
                    "write_scopes",
                    "created_at",
                    "updated_at",
                ],
            ),
            (
                "user_invites",
                &[
                    "invite_id",
                    "email",
                    "status",
                    "groups",
                    "invited_by",
                    "user_type",
                    "created_at",
                    "expires_at",
                    "claimed_by",
                    "claimed_at",
                ],
            ),
            (
                "object_access",
                &[
                    "object_type",
                    "object_id",
                    "object_name",
                    "subject_type",
                    "subject_id",
                    "subject_name",
                    "access_level",
                    "through",
                    "active_users_reached",
                ],
            ),
            (
                "exceptions",
                &[
                    "severity",
                    "finding",
                    "user_id",
                    "email",
                    "subject",
                    "detail",
                    "evidence",
                    "recommended_action",
                ],
            ),
            (
                "access_requests",
                &[
                    "request_id",
                    "requesting_email",
                    "status",
                    "created_at",
                    "updated_at",
                    "decided_by_id",
                    "decided_by_email",
                    "user_id",
                ],
            ),
            (
                "usage",
                &[
                    "user_id",
                    "email",
                    "status",
                    "app_views",
                    "app_saves",
                    "unique_apps",
                    "usage_last_active",
                    "window_start",
                    "window_end",
                ],
            ),
            (
                "app_usage",
                &[
                    "user_id",
                    "email",
                    "app_id",
                    "app_name",
                    "views",
                    "saves",
                    "access_level",
                ],
            ),
            (
                "cross_check",
                &[
                    "object_type",
                    "object_id",
                    "object_name",
                    "subject_type",
                    "subject_id",
                    "subject_name",
                    "retool_level",
                    "retool_sources",
                    "computed_level",
                    "computed_via",
                ],
            ),
        ];
        for (name, cols) in expect {
            assert_eq!(header(&r, name), cols.to_vec(), "{name}");
        }
        assert_eq!(
            header(&r, "privileged_access"),
            vec!["user_id", "email", "kind", "group_id", "detail"]
        );
        for tb in &r.tables {
            for row in &tb.rows {
                assert_eq!(row.len(), tb.columns.len(), "{}", tb.name);
            }
        }
        assert_eq!(r.title, "Retool access review");
        assert_eq!(r.org, "acme");
        assert_eq!(r.snapshot_date, "2026-11-23");
    }

    #[test]
    fn rows_are_typed_and_sorted() {
        let s = org();
        let r = run(&s, None, &options());
        let users = r.table("users").map(|t| t.rows.clone()).unwrap_or_default();
        assert_eq!(users.len(), 5);
        assert_eq!(users[0][1], Cell::text("alice@example.com"));
        assert_eq!(users[0][5], Cell::Bool(false));
        assert_eq!(users[0][6], Cell::text("active"));
        assert_eq!(users[0][9], Cell::Time(t(2026, 11, 20)));
        assert_eq!(users[0][10], Cell::text("All Users;Eng"));
        assert_eq!(users[4][6], Cell::text("disabled"));

        let matrix = r
            .table("access_matrix")
            .map(|t| t.rows.clone())
            .unwrap_or_default();
        assert_eq!(
            matrix[0],
            vec![
                Cell::text("alice@example.com"),
                Cell::text("active"),
                Cell::Bool(false),
                Cell::text("member"),
                Cell::Empty,
                Cell::text("member")
            ]
        );

        let perms = r
            .table("group_permissions")
            .map(|t| t.rows.clone())
            .unwrap_or_default();
        assert_eq!(
            perms[0],
            vec![
                Cell::Int(1),
                Cell::text("All Users"),
                Cell::text("app"),
                Cell::text("*"),
                Cell::text("(all apps)"),
                Cell::text("use"),
                Cell::text("universal")
            ]
        );
        assert_eq!(perms.len(), 3);

        let eff = r
            .table("effective_access")
            .map(|t| t.rows.clone())
            .unwrap_or_default();
        assert_eq!(eff[1][3], Cell::text("a-ops"));
        assert_eq!(eff[1][6], Cell::text("folder:Ops via group:Eng"));
        assert_eq!(
            eff[1][7],
            Cell::text("folder:Ops via group:Eng;universal:All Users")
        );
        assert!(
            r.table("effective_access")
                .is_some_and(|t| t.description.contains("`*`"))
        );
    }

    #[test]
    fn notices_for_one_snapshot_no_roster_and_missing_grants() {
        let mut s = org();
        s.not_collected
            .insert(EntityKind::Grants, "missing scope permissions:read".into());
        let r = run(&s, None, &options());
        let notice = |n: &str| {
            r.table(n)
                .and_then(|t| t.notice.clone())
                .unwrap_or_default()
        };
        assert_eq!(
            notice("changes"),
            "Only one snapshot (id 2): no earlier snapshot to compare with; take another snapshot to see changes."
        );
        assert!(r.table("changes").is_some_and(|t| t.rows.is_empty()));
        assert!(notice("effective_access").starts_with(
            "Permission grants were not collected: missing scope permissions:read — effective access below omits"
        ));
        assert!(notice("group_permissions").contains("permissions:read"));
        assert!(notice("orphaned_accounts").contains("No HR roster"));
        assert_eq!(notice("users"), "");
        let high = r
            .summary
            .iter()
            .find(|i| i.label == "High-risk change events")
            .map(|i| i.value.clone());
        assert_eq!(high, Some(Cell::text("n/a (one snapshot)")));
    }

    #[test]
    fn changes_summary_and_evidence_with_a_previous_snapshot() {
        let old = org();
        let mut new = org();
        new.users[0].is_admin = true;
        new.grants
            .push(group_grant(1, ObjectType::App, "a-top", AccessLevel::Use));
        new.normalize();
        let prev = meta(1, &old, 22);
        let mut opts = options();
        opts.roster = Roster::parse(b"email\nalice@example.com\n").ok();
        let r = run(&new, Some((&prev, &old)), &opts);
        let ch = r.table("changes").cloned();
        assert_eq!(ch.as_ref().and_then(|t| t.notice.clone()), None);
        let rows = ch.map(|t| t.rows).unwrap_or_default();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][..3], [Cell::Int(1), Cell::Int(2), Cell::Int(2)]);
        assert_eq!(rows[0][4..6], [Cell::text("user"), Cell::text("modified")]);
        assert_eq!(rows[0][11], Cell::text("high"));
        let value = |label: &str| {
            r.summary
                .iter()
                .find(|i| i.label == label)
                .map(|i| i.value.clone())
        };
        assert_eq!(value("High-risk change events"), Some(Cell::Int(1)));
        assert_eq!(value("Users"), Some(Cell::Int(5)));
        assert_eq!(value("Active users"), Some(Cell::Int(4)));
        assert_eq!(value("Active admins"), Some(Cell::Int(2)));
        // bob, carol and the admin dave are not on the roster; erin is disabled.
        assert_eq!(
            value("Orphaned accounts: not_in_roster"),
            Some(Cell::Int(3))
        );
        assert_eq!(
            value("Disabled accounts still in groups"),
            Some(Cell::Int(1))
        );
        assert_eq!(value("changes"), Some(Cell::Int(2)));
        let ev = |section: &str, key: &str| {
            r.evidence
                .iter()
                .find(|e| e.section == section && e.key == key)
                .map(|e| e.value.clone())
        };
        assert_eq!(ev("Snapshot 2", "Content SHA-256").as_deref(), Some("sha2"));
        assert_eq!(
            ev("Snapshot 2", "Previous SHA-256").as_deref(),
            Some("sha1")
        );
        assert_eq!(
            ev("Previous snapshot 1", "Content SHA-256").as_deref(),
            Some("sha1")
        );
        assert_eq!(ev("Snapshot 2", "Records: users").as_deref(), Some("5"));
        assert_eq!(
            ev("Report", "Tool version").as_deref(),
            Some(crate::VERSION)
        );
        assert_eq!(r.charts.len(), 2);
        assert_eq!(r.charts[0].x_labels, vec!["2026-11-22", "2026-11-23"]);
        assert_eq!(r.charts[1].x_labels, vec!["All Users", "DBA", "Eng"]);
    }

    #[test]
    fn matrix_is_capped_to_the_largest_groups_with_a_notice() {
        let s = org();
        let mut opts = options();
        opts.matrix_max_groups = 2;
        let r = run(&s, None, &opts);
        // All Users has 5 members, Eng 3, DBA 1.
        assert_eq!(
            header(&r, "access_matrix")[3..],
            ["All Users".to_string(), "Eng".to_string()]
        );
        assert!(
            r.table("access_matrix")
                .and_then(|t| t.notice.clone())
                .is_some_and(|n| n.contains("3 groups"))
        );
    }
}
