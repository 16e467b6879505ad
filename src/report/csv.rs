//! The CSV writer: one RFC 4180 file per [`Table`] (header row = the table's
//! columns exactly, CRLF line ends, no BOM), cells spelled by [`Cell::to_plain`]
//! and text cells neutralized against formula injection. Output depends only on
//! the table, so the same report gives byte-identical files.
//!
//! A table's `notice` is not written here (it would break the header contract);
//! the summary, HTML and XLSX show it.

use std::io::Write;

use super::{Cell, RowSource, Table, format_time};
use crate::output::neutralize_formula;

/// Writes `table` as CSV to `out`, held or produced rows alike ([`RowSource`]).
/// Rows shorter than the header are padded with empty fields; longer rows are
/// written as they are (never silently cut).
pub fn write_table<R: RowSource, W: Write>(table: &Table<R>, out: W) -> Result<(), csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .flexible(true)
        .from_writer(out);
    // Header names come from the report builder, but neutralize them as well:
    // a column named `=x` must not become a formula either.
    for c in &table.columns {
        w.write_field(neutralize_formula(c).as_bytes())?;
    }
    w.write_record(None::<&[u8]>)?;
    let width = table.columns.len();
    table.try_for_each(0..table.rows.len(), |row| {
        for cell in row {
            match cell {
                Cell::Empty => w.write_field([])?,
                Cell::Text(s) => w.write_field(neutralize_formula(s).as_bytes())?,
                Cell::Int(i) => w.write_field(i.to_string())?,
                Cell::Bool(b) => w.write_field(if *b { "true" } else { "false" })?,
                Cell::Time(t) => w.write_field(format_time(t))?,
            }
        }
        for _ in row.len()..width {
            w.write_field([])?;
        }
        w.write_record(None::<&[u8]>)
    })?;
    w.flush()?;
    Ok(())
}

/// Writes rows of text under `header`, the same way as a table (CRLF, text
/// neutralized): the summary and the evidence, so a CSV set stands on its own.
pub fn write_rows<'s, W: Write>(
    header: &[&str],
    rows: impl IntoIterator<Item = [&'s str; 3]>,
    out: W,
) -> Result<(), csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(header)?;
    for row in rows {
        w.write_record(row.iter().map(|s| neutralize_formula(s).into_owned()))?;
    }
    w.flush()?;
    Ok(())
}

/// The CSV bytes of `table` (see [`write_table`]).
pub fn table_to_csv(table: &Table) -> Result<Vec<u8>, csv::Error> {
    let mut buf = Vec::new();
    write_table(table, &mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::write::tests::{hostile_texts, sample_report};

    fn strip_neutralizing(s: &str) -> &str {
        match s.strip_prefix('\'') {
            Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
            _ => s,
        }
    }

    #[test]
    fn hostile_text_round_trips_through_a_csv_reader() {
        let report = sample_report();
        let table = &report.tables[0];
        let bytes = table_to_csv(table).unwrap();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(bytes.as_slice());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect();
        assert_eq!(header, table.columns);
        let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(records.len(), hostile_texts().len());
        for (i, (rec, text)) in records.iter().zip(hostile_texts()).enumerate() {
            assert_eq!(rec.len(), 6);
            assert_eq!(&rec[0], format!("u{i}"));
            assert_eq!(strip_neutralizing(&rec[1]), text);
            if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                assert!(rec[1].starts_with('\''), "not neutralized: {:?}", &rec[1]);
            } else {
                assert_eq!(&rec[1], text);
            }
            // Numbers are numbers, negative ones too: never given a quote.
            assert_eq!(&rec[2], (i as i64 - 5).to_string());
            assert_eq!(&rec[3], if i % 2 == 0 { "true" } else { "false" });
            assert!(rec[4].starts_with("2026-11-23T") && rec[4].ends_with('Z'));
            assert_eq!(&rec[5], "");
        }
        assert_eq!(&records[0][4], "2026-11-23T09:00:00Z");
    }

    #[test]
    fn table_with_notice_and_no_rows_still_has_its_header() {
        let report = sample_report();
        let bytes = table_to_csv(&report.tables[2]).unwrap();
        assert_eq!(bytes, b"kind,what\r\n");
    }

    #[test]
    fn short_rows_are_padded_to_the_header() {
        let mut report = sample_report();
        report.tables[1].rows.push(vec![Cell::Int(3)]);
        let bytes = table_to_csv(&report.tables[1]).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.ends_with("3,\r\n"), "{text}");
        assert!(text.contains("2,'@admins\r\n"), "{text}");
    }
}
