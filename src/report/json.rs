//! The JSON writer: the whole [`Report`] as compact `serde_json` (no
//! indentation: at scale the whitespace was a third of the file; `jq .`
//! pretty-prints it), with a trailing newline. Field order follows the report
//! types and every collection is a `Vec`, so the same report always gives the
//! same bytes. The per-user expansion is left out when it is kept to CSV and
//! JSON Lines ([`Expansion`](super::Expansion)); [`write_jsonl`] writes those.

use std::io::Write;

use serde::Serialize;

use super::Report;

/// Streams the JSON of `report` (as [`render_json`]) to `out`; produced rows
/// (see [`Rows`](super::Rows)) are written as they come, never all held.
pub fn write_json<R: Serialize, W: Write>(
    report: &Report<R>,
    mut out: W,
) -> Result<(), serde_json::Error> {
    /// The shape of `report.json`, declared only here ([`Report`] itself is
    /// not `Serialize`): the report's fields in order, with the tables the
    /// JSON file holds.
    #[derive(Serialize)]
    struct Json<'a, R> {
        org: &'a str,
        title: &'a str,
        snapshot_date: &'a str,
        generated_at: String,
        summary: &'a [super::SummaryItem],
        evidence: &'a [super::EvidenceItem],
        charts: &'a [super::Chart],
        tables: Vec<&'a super::Table<R>>,
    }
    let json = Json {
        org: &report.org,
        title: &report.title,
        snapshot_date: &report.snapshot_date,
        generated_at: super::format_time(&report.generated_at),
        summary: &report.summary,
        evidence: &report.evidence,
        charts: &report.charts,
        tables: report.tables_beyond_csv().collect(),
    };
    serde_json::to_writer(&mut out, &json)?;
    out.write_all(b"\n").map_err(serde_json::Error::io)
}

/// Writes `table` as JSON Lines: one object per row, `{"column": value, ...}`
/// in column order, values typed as in `report.json`; rows streamed.
pub fn write_jsonl<R: super::RowSource, W: Write>(
    table: &super::Table<R>,
    out: &mut W,
) -> std::io::Result<()> {
    let keys: Vec<String> = table
        .columns
        .iter()
        .map(|c| serde_json::to_string(c).map_err(std::io::Error::other))
        .collect::<Result<_, _>>()?;
    table.try_for_each(0..table.rows.len(), |row| {
        out.write_all(b"{")?;
        for (i, key) in keys.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(key.as_bytes())?;
            out.write_all(b":")?;
            let cell = row.get(i).unwrap_or(&super::Cell::Empty);
            serde_json::to_writer(&mut *out, cell).map_err(std::io::Error::other)?;
        }
        out.write_all(b"}\n")
    })
}

/// The JSON bytes of `report`. Non-finite chart values (NaN, infinity) become
/// `null`, as JSON has no spelling for them.
pub fn render_json<R: Serialize>(report: &Report<R>) -> Result<Vec<u8>, serde_json::Error> {
    let mut bytes = Vec::new();
    write_json(report, &mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::write::tests::{LONG_LEN, sample_report};

    #[test]
    fn times_are_spelled_to_the_second_like_every_other_format() {
        use chrono::TimeZone;
        let t = chrono::Utc
            .timestamp_opt(1_780_000_000, 413_599_943)
            .single()
            .unwrap_or_default();
        let cell = serde_json::to_value(crate::report::Cell::Time(t)).unwrap_or_default();
        assert_eq!(cell, serde_json::json!(crate::report::format_time(&t)));
        assert!(!cell.as_str().unwrap_or_default().contains('.'));
    }

    #[test]
    fn round_trips_as_json_with_typed_cells() {
        let report = sample_report();
        let bytes = render_json(&report).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["org"], "acme <corp>");
        assert_eq!(v["generated_at"], "2026-11-23T09:00:00Z");
        let users = &v["tables"][0];
        assert_eq!(users["name"], "users");
        assert_eq!(users["rows"][0][1], "<script>alert(1)</script>");
        assert_eq!(users["rows"][0][2], -5);
        assert_eq!(users["rows"][0][3], true);
        assert_eq!(users["rows"][0][5], serde_json::Value::Null);
        assert_eq!(
            users["rows"][12][1].as_str().map(|s| s.chars().count()),
            Some(LONG_LEN)
        );
        assert_eq!(v["charts"][0]["kind"], "line");
        assert_eq!(
            v["charts"][0]["series"][1]["values"][1],
            serde_json::Value::Null
        );
        assert_eq!(render_json(&report).unwrap(), bytes);
        // Rows produced while writing give the same bytes as held rows.
        let streamed = report
            .clone()
            .map_rows(|rows| crate::report::Rows::Streamed(Box::new(rows)));
        assert_eq!(render_json(&streamed).unwrap(), bytes);
    }
}
