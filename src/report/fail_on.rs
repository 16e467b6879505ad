//! `report --fail-on`: which findings make a report run exit with code 3, and
//! how many of each a built [`Report`] holds. Counted from the public tables, so
//! the numbers are exactly the rows a reader of the report sees.

use std::fmt;
use std::str::FromStr;

use super::table::{Report, RowSource};
use crate::analyze::exceptions::Severity;

/// A kind of finding that `--fail-on` can alert on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailOn {
    /// Rows of `changes` with risk `high` (admin grants, new edit/own access,
    /// re-enabled users, raised universal access).
    HighRiskChanges,
    /// Rows of `orphaned_accounts` (any reason).
    Orphans,
    /// Rows of `disabled_accounts` with a finding (`still_admin`,
    /// `still_in_groups`): disabled accounts that would regain access if
    /// re-enabled.
    DisabledWithAccess,
    /// Rows of `security_settings` with a finding (2FA not required, password
    /// login beside SSO, JIT without a restricted domain, app owners managing
    /// permissions).
    SecuritySettings,
    /// Rows of `cross_check`: users on whose access Retool's own access list
    /// and the computed effective access disagree.
    CrossCheck,
    /// Rows of `deprovisioning` with a finding: access not removed within the
    /// SLA, or Retool used after the termination.
    Deprovisioning,
    /// Rows of `exceptions` at this severity or above (`severity>=high`).
    Severity(crate::analyze::exceptions::Severity),
}

impl FailOn {
    pub const ALL: [FailOn; 10] = [
        FailOn::HighRiskChanges,
        FailOn::Orphans,
        FailOn::DisabledWithAccess,
        FailOn::SecuritySettings,
        FailOn::CrossCheck,
        FailOn::Deprovisioning,
        FailOn::Severity(Severity::Critical),
        FailOn::Severity(Severity::High),
        FailOn::Severity(Severity::Medium),
        FailOn::Severity(Severity::Low),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::HighRiskChanges => "high-risk-changes",
            FailOn::Orphans => "orphans",
            FailOn::DisabledWithAccess => "disabled-with-access",
            FailOn::SecuritySettings => "security-settings",
            FailOn::CrossCheck => "cross-check",
            FailOn::Deprovisioning => "deprovisioning",
            FailOn::Severity(Severity::Critical) => "severity>=critical",
            FailOn::Severity(Severity::High) => "severity>=high",
            FailOn::Severity(Severity::Medium) => "severity>=medium",
            FailOn::Severity(Severity::Low) => "severity>=low",
        }
    }

    /// How many findings of this kind `report` holds. A table or column it
    /// counts that is missing is an error, never a count of 0.
    pub fn count<R: RowSource>(self, report: &Report<R>) -> Result<usize, NotCountable> {
        let (table, column, keep): (&str, Option<&str>, fn(&str) -> bool) = match self {
            FailOn::HighRiskChanges => ("changes", Some("risk"), |v| v == "high"),
            FailOn::Orphans => ("orphaned_accounts", None, |_| true),
            FailOn::DisabledWithAccess => {
                ("disabled_accounts", Some("findings"), |v| !v.is_empty())
            }
            FailOn::SecuritySettings => ("security_settings", Some("finding"), |v| !v.is_empty()),
            FailOn::CrossCheck => ("cross_check", None, |_| true),
            FailOn::Deprovisioning => ("deprovisioning", Some("finding"), |v| !v.is_empty()),
            FailOn::Severity(Severity::Critical) => {
                ("exceptions", Some("severity"), |v| v == "critical")
            }
            FailOn::Severity(Severity::High) => ("exceptions", Some("severity"), |v| {
                matches!(v, "critical" | "high")
            }),
            FailOn::Severity(Severity::Medium) => ("exceptions", Some("severity"), |v| {
                matches!(v, "critical" | "high" | "medium")
            }),
            FailOn::Severity(Severity::Low) => ("exceptions", None, |_| true),
        };
        let missing = |column: Option<&str>| NotCountable {
            fail_on: self,
            table: table.to_string(),
            column: column.map(str::to_string),
        };
        let t = report.table(table).ok_or_else(|| missing(None))?;
        let Some(column) = column else {
            return Ok(t.rows.len());
        };
        let i = t
            .columns
            .iter()
            .position(|c| c == column)
            .ok_or_else(|| missing(Some(column)))?;
        let mut n = 0;
        let counted: Result<(), std::convert::Infallible> =
            t.try_for_each(0..t.rows.len(), |row| {
                if row.get(i).is_some_and(|c| keep(&c.to_plain())) {
                    n += 1;
                }
                Ok(())
            });
        let Ok(()) = counted;
        Ok(n)
    }
}

/// A finding `--fail-on` cannot count because the report lacks the table or
/// column it is counted from (a bug: every built report has them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--fail-on {fail_on}: the report has no {} to count from; this is a bug in retool-audit, please report it",
    match column {
        Some(c) => format!("column `{c}` in table `{table}`"),
        None => format!("table `{table}`"),
    }
)]
pub struct NotCountable {
    pub fail_on: FailOn,
    pub table: String,
    pub column: Option<String>,
}

/// A report without the table or column a finding is counted in is a failed
/// run (1): the findings cannot be vouched for.
impl crate::exit::Classify for NotCountable {
    fn exit(&self) -> crate::exit::Exit {
        crate::exit::Exit::Failed
    }
}

impl fmt::Display for FailOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The valid words, for messages.
fn valid_words() -> String {
    FailOn::ALL.map(FailOn::as_str).join(", ")
}

impl FromStr for FailOn {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // `severity >= high` reads the same as `severity>=high`.
        let word: String = s.split_whitespace().collect();
        let word = word.as_str();
        FailOn::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(word))
            .ok_or_else(|| {
                format!(
                    "unknown --fail-on finding `{word}`: expected a comma-separated list of {}",
                    valid_words()
                )
            })
    }
}

/// Parses `high-risk-changes,orphans`: each word once, in the order given. An
/// empty list or an unknown word is an error naming the valid words.
pub fn parse_fail_on(s: &str) -> Result<Vec<FailOn>, String> {
    let mut out = Vec::new();
    for word in s.split(',').filter(|w| !w.trim().is_empty()) {
        let f: FailOn = word.parse()?;
        if !out.contains(&f) {
            out.push(f);
        }
    }
    if out.is_empty() {
        return Err(format!("--fail-on needs at least one of {}", valid_words()));
    }
    Ok(out)
}

/// The listed findings that `report` holds, with their counts (only non-zero).
pub fn triggered<R: RowSource>(
    report: &Report<R>,
    fail_on: &[FailOn],
) -> Result<Vec<(FailOn, usize)>, NotCountable> {
    let mut found = Vec::new();
    for &f in fail_on {
        let n = f.count(report)?;
        if n > 0 {
            found.push((f, n));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::table::{Cell, Table};

    fn table(name: &str, columns: &[&str], rows: Vec<Vec<Cell>>) -> Table {
        Table {
            name: name.to_string(),
            title: name.to_string(),
            description: String::new(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
            notice: None,
        }
    }

    fn text(s: &str) -> Cell {
        Cell::text(s)
    }

    fn report(tables: Vec<Table>) -> Report {
        Report {
            org: "acme".into(),
            title: "t".into(),
            snapshot_date: "2026-11-20".into(),
            generated_at: chrono::DateTime::UNIX_EPOCH,
            summary: Vec::new(),
            evidence: Vec::new(),
            charts: Vec::new(),
            tables,
            provenance: Default::default(),
            drilldown: Default::default(),
            expansion: Default::default(),
        }
    }

    #[test]
    fn words_parse_case_insensitively_once_each_and_unknown_words_name_the_valid_ones() {
        assert_eq!(
            parse_fail_on(" Orphans ,high-risk-changes,orphans,"),
            Ok(vec![FailOn::Orphans, FailOn::HighRiskChanges])
        );
        let err = parse_fail_on("orphans,privileged").unwrap_err();
        assert!(err.contains("`privileged`"), "{err}");
        assert!(
            err.contains("high-risk-changes, orphans, disabled-with-access"),
            "{err}"
        );
        assert!(parse_fail_on(" , ").is_err());
    }

    #[test]
    fn counts_come_from_the_rows_a_reader_sees() {
        let r = report(vec![
            table(
                "changes",
                &["entity_id", "risk"],
                vec![
                    vec![text("u1"), text("high")],
                    vec![text("u2"), text("low")],
                    vec![text("u3"), text("high")],
                ],
            ),
            table(
                "orphaned_accounts",
                &["user_id", "reasons"],
                vec![vec![text("u4"), text("inactive")]],
            ),
            table(
                "disabled_accounts",
                &["user_id", "findings"],
                vec![
                    vec![text("u5"), text("still_admin;still_in_groups")],
                    vec![text("u6"), Cell::Empty],
                    vec![text("u7"), text("")],
                ],
            ),
            table(
                "security_settings",
                &["setting", "finding"],
                vec![
                    vec![
                        text("two_factor_auth_required"),
                        text("two_factor_not_required"),
                    ],
                    vec![text("jit_enabled"), Cell::Empty],
                ],
            ),
        ]);
        assert_eq!(FailOn::HighRiskChanges.count(&r), Ok(2));
        assert_eq!(FailOn::SecuritySettings.count(&r), Ok(1));
        assert_eq!(FailOn::Orphans.count(&r), Ok(1));
        assert_eq!(FailOn::DisabledWithAccess.count(&r), Ok(1));
        assert_eq!(
            triggered(&r, &[FailOn::DisabledWithAccess, FailOn::Orphans]),
            Ok(vec![(FailOn::DisabledWithAccess, 1), (FailOn::Orphans, 1)])
        );

        let quiet = report(vec![
            table("changes", &["risk"], vec![vec![text("low")]]),
            table("orphaned_accounts", &["user_id"], Vec::new()),
            table("disabled_accounts", &["findings"], vec![vec![Cell::Empty]]),
            table("security_settings", &["finding"], vec![vec![Cell::Empty]]),
            table("cross_check", &["object_id"], Vec::new()),
            table("deprovisioning", &["finding"], vec![vec![text("")]]),
            table("exceptions", &["severity"], Vec::new()),
        ]);
        assert_eq!(triggered(&quiet, &FailOn::ALL), Ok(Vec::new()));
        let missed = report(vec![table(
            "deprovisioning",
            &["email", "finding"],
            vec![
                vec![text("a@x"), text("sla_missed; active_after_termination")],
                vec![text("b@x"), text("")],
                vec![text("c@x"), text("active_after_termination")],
            ],
        )]);
        assert_eq!(FailOn::Deprovisioning.count(&missed), Ok(2));
    }

    #[test]
    fn a_severity_threshold_counts_that_severity_and_above() {
        let r = report(vec![table(
            "exceptions",
            &["severity", "finding"],
            ["critical", "high", "high", "medium", "low", "low"]
                .iter()
                .map(|s| vec![text(s), text("x")])
                .collect(),
        )]);
        let count = |s: &str| {
            s.parse::<FailOn>()
                .and_then(|f| f.count(&r).map_err(|e| e.to_string()))
        };
        assert_eq!(count("severity>=critical"), Ok(1));
        assert_eq!(count("severity>=high"), Ok(3));
        assert_eq!(count(" severity >= medium"), Ok(4));
        assert_eq!(count("SEVERITY>=LOW"), Ok(6));
        let err = count("severity>=urgent").unwrap_err();
        assert!(err.contains("severity>=high"), "{err}");
    }

    #[test]
    fn a_missing_table_or_column_is_an_error_never_zero() {
        let r = report(vec![table("changes", &["entity_id"], Vec::new())]);
        let err = FailOn::HighRiskChanges.count(&r).unwrap_err();
        assert_eq!(err.column.as_deref(), Some("risk"));
        assert!(
            err.to_string()
                .contains("no column `risk` in table `changes`"),
            "{err}"
        );
        let err = triggered(&r, &[FailOn::Orphans]).unwrap_err();
        assert!(
            err.to_string()
                .contains("--fail-on orphans: the report has no table `orphaned_accounts`"),
            "{err}"
        );
    }
}
