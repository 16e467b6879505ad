//! The JSON writer: the whole [`Report`] as pretty-printed `serde_json`, with a
//! trailing newline. Field order follows the report types and every collection is
//! a `Vec`, so the same report always gives the same bytes.

use std::io::Write;

use serde::Serialize;

use super::Report;

/// Streams the JSON of `report` (as [`render_json`]) to `out`; produced rows
/// (see [`Rows`](super::Rows)) are written as they come, never all held.
pub fn write_json<R: Serialize, W: Write>(
    report: &Report<R>,
    mut out: W,
) -> Result<(), serde_json::Error> {
    serde_json::to_writer_pretty(&mut out, report)?;
    out.write_all(b"\n").map_err(serde_json::Error::io)
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
