//! The deprovisioning test (SOC 2 CC6.2/CC6.3): for each leaver of an HR
//! terminations file, when Retool access was removed, whether that was within
//! the SLA, and whether the account was used after the last day — judged
//! only from what the snapshots prove.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use thiserror::Error;

use crate::model::{AccountHistory, SnapshotRef, UserId};

/// Why a terminations file could not be read (lines count the header as 1).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TerminationsError {
    #[error("the terminations file is not UTF-8 CSV: {0}")]
    Unreadable(String),
    #[error(
        "the terminations file has no `{missing}` column (found columns: {found}); it needs \
         `email` and `termination_date`"
    )]
    MissingColumn {
        missing: &'static str,
        found: String,
    },
    #[error("the terminations file has no rows")]
    NoRows,
    #[error("line {line} of the terminations file: {reason}")]
    BadRow { line: u64, reason: String },
}

impl crate::exit::Classify for TerminationsError {
    fn exit(&self) -> crate::exit::Exit {
        crate::exit::Exit::Usage
    }
}

/// One leaver: an e-mail and the moment employment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaver {
    pub email: String,
    /// As written in the file.
    pub termination_date: String,
    /// A date is the end of that day (UTC); a time is itself.
    pub terminated_at: DateTime<Utc>,
}

/// Parses `YYYY-MM-DD` (the end of that day, UTC) or an RFC 3339 time.
pub fn parse_termination(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(23, 59, 59).map(|t| t.and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Reads a terminations CSV: columns `email` and `termination_date` (any
/// case, other columns ignored), `,` or `;` as the header line has more of,
/// UTF-8 with or without a BOM, blank rows skipped. Every row must have both.
pub fn parse_terminations(bytes: &[u8]) -> Result<Vec<Leaver>, TerminationsError> {
    let table = super::roster::read_table(bytes)
        .map_err(|e| TerminationsError::Unreadable(e.to_string()))?;
    let column = |name: &'static str| {
        table
            .header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| TerminationsError::MissingColumn {
                missing: name,
                found: table.header.join(", "),
            })
    };
    let (email, date) = (column("email")?, column("termination_date")?);
    let mut out = Vec::new();
    for (line, row) in &table.rows {
        let cell = |i: usize| row.get(i).map_or("", |c| c.trim());
        let bad = |reason: String| TerminationsError::BadRow {
            line: *line,
            reason,
        };
        if cell(email).is_empty() {
            return Err(bad("no email".into()));
        }
        let terminated_at = parse_termination(cell(date)).ok_or_else(|| {
            bad(format!(
                "termination_date {:?} is not YYYY-MM-DD or an RFC 3339 time",
                cell(date)
            ))
        })?;
        out.push(Leaver {
            email: cell(email).to_string(),
            termination_date: cell(date).to_string(),
            terminated_at,
        });
    }
    if out.is_empty() {
        return Err(TerminationsError::NoRows);
    }
    Ok(out)
}

/// Whether the SLA was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaMet {
    Yes,
    No,
    Unknown,
}

impl SlaMet {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaMet::Yes => "true",
            SlaMet::No => "false",
            SlaMet::Unknown => "unknown",
        }
    }
}

/// One row of `deprovisioning`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deprovisioning {
    pub leaver: Leaver,
    pub user_id: Option<UserId>,
    pub last_seen_with_access: Option<SnapshotRef>,
    pub access_removed: Option<SnapshotRef>,
    /// From the termination to `access_removed` (negative: removed before).
    pub hours_to_remove: Option<i64>,
    pub sla_hours: u32,
    pub sla_met: SlaMet,
    /// Why, in words.
    pub note: String,
    pub retool_last_active: Option<DateTime<Utc>>,
    pub active_after_termination: Option<bool>,
    /// The SHA-256 of the snapshot the verdict rests on.
    pub evidence_sha256: String,
}

impl Deprovisioning {
    /// `sla_missed`, `active_after_termination`, both (`; `) or empty.
    pub fn finding(&self) -> String {
        let mut f = Vec::new();
        if self.sla_met == SlaMet::No {
            f.push("sla_missed");
        }
        if self.active_after_termination == Some(true) {
            f.push("active_after_termination");
        }
        f.join("; ")
    }
}

fn time(r: &SnapshotRef) -> String {
    r.taken_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Judges one leaver against the account's history (`None`: no account with
/// that e-mail in any snapshot).
pub fn judge(leaver: &Leaver, account: Option<&AccountHistory>, sla_hours: u32) -> Deprovisioning {
    let deadline = leaver.terminated_at + Duration::hours(i64::from(sla_hours));
    let mut row = Deprovisioning {
        leaver: leaver.clone(),
        user_id: None,
        last_seen_with_access: None,
        access_removed: None,
        hours_to_remove: None,
        sla_hours,
        sla_met: SlaMet::Yes,
        note: "no account with this e-mail in the history".into(),
        retool_last_active: None,
        active_after_termination: None,
        evidence_sha256: String::new(),
    };
    let Some(account) = account else {
        return row;
    };
    row.user_id = Some(account.user_id.clone());
    row.retool_last_active = account.last_active;
    row.active_after_termination = Some(
        account
            .last_active
            .is_some_and(|t| t > leaver.terminated_at),
    );
    let last = account
        .access
        .iter()
        .rposition(|(_, _, a)| *a == Some(true));
    let Some(last) = last else {
        // Never seen with access.
        let Some((first, sha, _)) = account.access.first() else {
            return row;
        };
        row.evidence_sha256 = sha.clone();
        if first.taken_at <= deadline {
            row.note = format!(
                "no access in any snapshot, the first (#{}) taken before the deadline",
                first.id
            );
        } else {
            row.sla_met = SlaMet::Unknown;
            row.note = format!(
                "no access in any snapshot, but the first (#{}, {}) is after the deadline",
                first.id,
                time(first)
            );
        }
        return row;
    };
    let (seen, seen_sha, _) = &account.access[last];
    row.last_seen_with_access = Some(*seen);
    match account.access.get(last + 1) {
        None => {
            row.evidence_sha256 = seen_sha.clone();
            if seen.taken_at > deadline {
                row.sla_met = SlaMet::No;
                row.note = format!("still has access in snapshot #{} ({})", seen.id, time(seen));
            } else {
                row.sla_met = SlaMet::Unknown;
                row.note = format!(
                    "still has access in snapshot #{}, taken before the deadline",
                    seen.id
                );
            }
        }
        Some((removed, sha, _)) => {
            row.access_removed = Some(*removed);
            row.evidence_sha256 = sha.clone();
            row.hours_to_remove = Some((removed.taken_at - leaver.terminated_at).num_hours());
            if removed.taken_at <= deadline {
                row.note = format!(
                    "access gone by snapshot #{} ({})",
                    removed.id,
                    time(removed)
                );
            } else if seen.taken_at > deadline {
                row.sla_met = SlaMet::No;
                row.note = format!(
                    "access still there in snapshot #{} ({}), after the deadline",
                    seen.id,
                    time(seen)
                );
            } else {
                row.sla_met = SlaMet::Unknown;
                row.note = format!(
                    "removed between snapshot #{} ({}) and #{} ({}); no snapshot in between \
                     brackets the deadline",
                    seen.id,
                    time(seen),
                    removed.id,
                    time(removed)
                );
            }
        }
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn snap(id: i64, hour: u32) -> SnapshotRef {
        SnapshotRef {
            id,
            taken_at: Utc.with_ymd_and_hms(2026, 3, 10, hour, 0, 0).unwrap(),
        }
    }

    #[test]
    fn dates_are_the_end_of_the_day_and_times_are_themselves() {
        assert_eq!(
            parse_termination("2026-03-09"),
            Some(Utc.with_ymd_and_hms(2026, 3, 9, 23, 59, 59).unwrap())
        );
        assert_eq!(
            parse_termination(" 2026-03-09T10:00:00+02:00 "),
            Some(Utc.with_ymd_and_hms(2026, 3, 9, 8, 0, 0).unwrap())
        );
        assert_eq!(parse_termination("09/03/2026"), None);
        let err = parse_terminations(b"Email;Termination_Date\nx@y;soon\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2 of the terminations file: termination_date \"soon\" is not YYYY-MM-DD or an RFC 3339 time"
        );
        let ok = parse_terminations(b"\xEF\xBB\xBFemail,termination_date,x\n\na@b,2026-03-09,1\n")
            .unwrap();
        assert_eq!(ok.len(), 1);
    }

    #[test]
    fn an_account_never_seen_with_access_meets_the_sla_only_if_seen_in_time() {
        let leaver = Leaver {
            email: "a@b".into(),
            termination_date: "2026-03-09".into(),
            terminated_at: parse_termination("2026-03-09").unwrap(),
        };
        let account = |first: SnapshotRef| AccountHistory {
            user_id: UserId("u".into()),
            access: vec![
                (first, "h1".into(), Some(false)),
                (snap(9, 20), "h2".into(), None),
            ],
            last_active: None,
        };
        // Seen without access at 01:00 the next day: before the 24 h deadline.
        let row = judge(&leaver, Some(&account(snap(1, 1))), 24);
        assert_eq!(
            (row.sla_met, row.evidence_sha256.as_str()),
            (SlaMet::Yes, "h1")
        );
        // With a 0-hour SLA the first snapshot comes after the deadline.
        let row = judge(&leaver, Some(&account(snap(1, 1))), 0);
        assert_eq!(row.sla_met, SlaMet::Unknown);
        assert_eq!(row.active_after_termination, Some(false));
        assert_eq!(row.finding(), "");
    }
}
