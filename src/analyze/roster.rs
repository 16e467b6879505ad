//! The HR roster: a CSV of the people who should have accounts, read from its
//! `email` column, to find active accounts of people who are not on it.

use std::collections::HashSet;

use thiserror::Error;

/// Why a roster file could not be read. Line numbers are 1-based and count the
/// header as line 1.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RosterError {
    #[error("the roster is empty: expected a header row with an `email` column")]
    Empty,
    #[error(
        "the roster has no `email` column (found columns: {found}); add a header named `email`"
    )]
    NoEmailColumn { found: String },
    #[error("the roster has an `email` column but no emails: check that it is the right file")]
    NoEmails,
    #[error("the roster is not UTF-8 text at line {line}: save it as UTF-8 and try again")]
    NotUtf8 { line: u64 },
    #[error("the roster row at line {line} is malformed: {reason}")]
    Malformed { line: u64, reason: String },
}

/// A roster that cannot be read is the user's to fix (2).
impl crate::exit::Classify for RosterError {
    fn exit(&self) -> crate::exit::Exit {
        match self {
            RosterError::Empty
            | RosterError::NoEmailColumn { .. }
            | RosterError::NoEmails
            | RosterError::NotUtf8 { .. }
            | RosterError::Malformed { .. } => crate::exit::Exit::Usage,
        }
    }
}

/// The set of emails on the HR roster (trimmed, compared case-insensitively).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    emails: HashSet<String>,
    /// Rows that carried an email (duplicates included).
    rows: usize,
    /// The file it was read from, when it came from one.
    pub source: Option<RosterSource>,
}

/// Where a roster came from, for the evidence and the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterSource {
    /// The file's name (without its directory).
    pub file: String,
    /// SHA-256 of the very bytes that were parsed, lowercase hex.
    pub sha256: String,
}

/// A CSV file an HR system exports: its header and its non-blank rows with
/// their line numbers (the header is line 1).
pub(crate) struct CsvTable {
    pub header: Vec<String>,
    pub rows: Vec<(u64, Vec<String>)>,
}

/// Why a CSV could not be read (lines count the header as 1).
#[derive(Debug, Error, PartialEq, Eq)]
pub(crate) enum TableError {
    #[error("the file is empty")]
    Empty,
    #[error("line {line} is not UTF-8: save the file as UTF-8")]
    NotUtf8 { line: u64 },
    #[error("line {line} is malformed: {reason}")]
    Malformed { line: u64, reason: String },
}

impl From<TableError> for RosterError {
    fn from(e: TableError) -> Self {
        match e {
            TableError::Empty => RosterError::Empty,
            TableError::NotUtf8 { line } => RosterError::NotUtf8 { line },
            TableError::Malformed { line, reason } => RosterError::Malformed { line, reason },
        }
    }
}

/// Reads a CSV an HR system exports: `,` or `;` (whichever the header line
/// has more of), UTF-8 with or without a BOM, cells trimmed, blank rows
/// skipped. The roster and the terminations file are read with it.
pub(crate) fn read_table(bytes: &[u8]) -> Result<CsvTable, TableError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let header_line = bytes
        .split(|b| *b == b'\n')
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))
        .ok_or(TableError::Empty)?;
    let count = |c: u8| header_line.iter().filter(|b| **b == c).count();
    let delimiter = if count(b';') > count(b',') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut header: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    for record in reader.byte_records() {
        let record = record.map_err(|e| TableError::Malformed {
            line: e.position().map(|p| p.line()).unwrap_or(0),
            reason: e.to_string(),
        })?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let fields: Vec<String> = record
            .iter()
            .map(|f| std::str::from_utf8(f).map(|s| s.trim().to_string()))
            .collect::<Result<_, _>>()
            .map_err(|_| TableError::NotUtf8 { line })?;
        if fields.iter().all(String::is_empty) {
            continue;
        }
        match header {
            None => header = Some(fields),
            Some(_) => rows.push((line, fields)),
        }
    }
    Ok(CsvTable {
        header: header.ok_or(TableError::Empty)?,
        rows,
    })
}

fn normalize(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Roster {
    /// Parses a roster CSV: a header row with an `email` column (matched
    /// case-insensitively, trimmed; other columns ignored), delimiter `,` or `;`
    /// (whichever the header line has more of), UTF-8 with or without a BOM.
    /// Blank rows are skipped; a row without an email, or a roster without any
    /// email, is an error.
    pub fn parse(bytes: &[u8]) -> Result<Roster, RosterError> {
        let table = read_table(bytes)?;
        let col = table
            .header
            .iter()
            .position(|f| f.eq_ignore_ascii_case("email"))
            .ok_or_else(|| RosterError::NoEmailColumn {
                found: table.header.join(", "),
            })?;
        let mut emails = HashSet::new();
        for (line, fields) in &table.rows {
            match fields.get(col) {
                Some(e) if !e.is_empty() => {
                    emails.insert(normalize(e));
                }
                _ => {
                    return Err(RosterError::Malformed {
                        line: *line,
                        reason: format!(
                            "no email in column {} (fill it in or remove the row)",
                            col + 1
                        ),
                    });
                }
            }
        }
        if emails.is_empty() {
            // An empty roster would flag every active account as not_in_roster.
            return Err(RosterError::NoEmails);
        }
        Ok(Roster {
            emails,
            rows: table.rows.len(),
            source: None,
        })
    }

    /// Rows that carried an email, duplicates included.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Whether the email is on the roster (trimmed, case-insensitive).
    pub fn contains(&self, email: &str) -> bool {
        self.emails.contains(&normalize(email))
    }

    /// How many distinct emails the roster holds.
    pub fn len(&self) -> usize {
        self.emails.len()
    }

    pub fn is_empty(&self) -> bool {
        self.emails.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_email_column_case_insensitively_with_bom_and_semicolons() {
        let r = Roster::parse(b"\xEF\xBB\xBFName; E-Mail Alias ; EMAIL \nAnn;x; Ann@Example.com \n\n;;\nBob;y;bob@example.com\n")
            .unwrap_or_default();
        assert_eq!(r.len(), 2);
        assert!(r.contains("ann@example.com"));
        assert!(r.contains("  BOB@example.COM"));
        assert!(!r.contains("carol@example.com"));
    }

    #[test]
    fn comma_delimiter_and_crlf() {
        let r =
            Roster::parse(b"id,email,dept\r\n1,a@x.io,IT\r\n2,b@x.io,Ops\r\n").unwrap_or_default();
        assert_eq!(r.len(), 2);
        assert!(r.contains("b@x.io"));
    }

    #[test]
    fn missing_email_column_names_the_columns_found() {
        let err = Roster::parse(b"name,mail\nann,a@x.io\n").err();
        assert_eq!(
            err,
            Some(RosterError::NoEmailColumn {
                found: "name, mail".into()
            })
        );
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("name, mail"), "{msg}");
    }

    #[test]
    fn non_utf8_and_malformed_rows_name_the_line() {
        assert_eq!(
            Roster::parse(b"email\na@x.io\nb\xFF@x.io\n"),
            Err(RosterError::NotUtf8 { line: 3 })
        );
        assert!(matches!(
            Roster::parse(b"name,email\nann,a@x.io\nbob\n"),
            Err(RosterError::Malformed { line: 3, .. })
        ));
        assert_eq!(Roster::parse(b"  \n\n"), Err(RosterError::Empty));
        assert_eq!(Roster::parse(b"Email\n\n"), Err(RosterError::NoEmails));
    }
}

/// Property tests (issue 5, item 8): any bytes are a roster or a clear error,
/// never a panic; a roster written by a CSV library in any of the accepted
/// shapes reads back as exactly its emails.
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn config() -> ProptestConfig {
        ProptestConfig {
            cases: std::env::var("PROPTEST_CASES")
                .ok()
                .and_then(|c| c.parse().ok())
                .unwrap_or(512),
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    /// Bytes that look like a roster more often than pure noise does.
    fn roster_like_bytes() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"email".to_vec()),
            Just(b"EMAIL ".to_vec()),
            Just(b",".to_vec()),
            Just(b";".to_vec()),
            Just(b"\"".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\xEF\xBB\xBF".to_vec()),
            Just(b"a@x.io".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..8),
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|p| p.concat())
    }

    #[derive(Debug, Clone)]
    struct Sheet {
        delimiter: u8,
        bom: bool,
        crlf: bool,
        email_at: usize,
        other_columns: Vec<String>,
        rows: Vec<(String, Vec<String>)>,
    }

    fn sheet() -> impl Strategy<Value = Sheet> {
        let email = "[a-z0-9._%+-]{1,12}@[a-z0-9-]{1,10}\\.[a-z]{2,4}";
        let other = "(\\PC|[,;\"\n\r\t ]){0,12}";
        (
            prop_oneof![Just(b','), Just(b';')],
            any::<bool>(),
            any::<bool>(),
            proptest::collection::vec("[a-z]{1,8}", 0..4),
            any::<prop::sample::Index>(),
            proptest::collection::vec(
                (email, any::<bool>(), proptest::collection::vec(other, 4)),
                1..30,
            ),
        )
            .prop_map(|(delimiter, bom, crlf, others, at, rows)| {
                let others: Vec<String> = others.into_iter().filter(|c| c != "email").collect();
                Sheet {
                    delimiter,
                    bom,
                    crlf,
                    email_at: at.index(others.len() + 1),
                    rows: rows
                        .into_iter()
                        .map(|(e, upper, cells)| {
                            let e = if upper { e.to_uppercase() } else { e };
                            (e, cells[..others.len()].to_vec())
                        })
                        .collect(),
                    other_columns: others,
                }
            })
    }

    fn write(sheet: &Sheet) -> Vec<u8> {
        let mut out = if sheet.bom {
            b"\xEF\xBB\xBF".to_vec()
        } else {
            Vec::new()
        };
        let mut w = csv::WriterBuilder::new()
            .delimiter(sheet.delimiter)
            .terminator(if sheet.crlf {
                csv::Terminator::CRLF
            } else {
                csv::Terminator::Any(b'\n')
            })
            .from_writer(Vec::new());
        let with_email = |cells: &[String], email: &str| {
            let mut row = cells.to_vec();
            row.insert(sheet.email_at, email.to_string());
            row
        };
        let _ = w.write_record(with_email(&sheet.other_columns, "Email"));
        for (email, cells) in &sheet.rows {
            let _ = w.write_record(with_email(cells, email));
        }
        out.extend(w.into_inner().unwrap_or_default());
        out
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = Roster::parse(&bytes);
        }

        #[test]
        fn roster_like_bytes_never_panic_and_errors_say_where(bytes in roster_like_bytes()) {
            match Roster::parse(&bytes) {
                Ok(r) => prop_assert!(!r.is_empty()),
                Err(RosterError::Malformed { line, .. } | RosterError::NotUtf8 { line }) => {
                    prop_assert!(line >= 1, "a line number for {bytes:?}");
                }
                Err(_) => {}
            }
        }

        #[test]
        fn a_generated_roster_reads_back_as_its_emails(sheet in sheet()) {
            let bytes = write(&sheet);
            let roster = Roster::parse(&bytes);
            prop_assert!(roster.is_ok(), "{:?}\n{}", roster, String::from_utf8_lossy(&bytes));
            let roster = roster.unwrap_or_default();
            let distinct: HashSet<String> =
                sheet.rows.iter().map(|(e, _)| e.to_lowercase()).collect();
            prop_assert_eq!(roster.len(), distinct.len());
            for (email, _) in &sheet.rows {
                let padded_upper = format!("  {}  ", email.to_uppercase());
                prop_assert!(roster.contains(&email.to_lowercase()));
                prop_assert!(roster.contains(&padded_upper));
            }
        }
    }
}
