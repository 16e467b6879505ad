//! Where everything the tool writes for people lands: text from Retool made
//! safe for spreadsheets ([`neutralize_formula`]) and for file names
//! ([`safe_file_name`]), private directories, and atomic staging (a file is
//! written in full beside its destination and renamed into place only when
//! every file of the set is written). Reports and review files both use it; it
//! uses nothing else of the crate but [`crate::exit`].

use std::borrow::Cow;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// Why a report or review file could not be written. Nothing is left
/// half-written in any case.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Creating, writing or renaming a file or directory failed.
    #[error(
        "could not write `{}`: {source}; check that the output directory is a directory you can write to (and that the disk is not full)",
        path.display()
    )]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The XLSX workbook could not be assembled or saved.
    #[error("could not write the XLSX workbook `{}`: {detail}", path.display())]
    Xlsx { path: PathBuf, detail: String },
    /// The HTML template failed to render (a bug in retool-audit: please report it).
    #[error(
        "could not render the HTML report: {detail}; this is a bug in retool-audit, please report it"
    )]
    Template { detail: String },
}

/// An output directory that cannot be written (or a disk without room for
/// the files) is the user's to fix (2); a template that fails to render is a
/// bug, and the run failed (1).
impl crate::exit::Classify for WriteError {
    fn exit(&self) -> crate::exit::Exit {
        use crate::exit::Exit::{Failed, Usage};
        match self {
            WriteError::Io { .. } | WriteError::Xlsx { .. } => Usage,
            WriteError::Template { .. } => Failed,
        }
    }
}

impl WriteError {
    pub fn io(path: &Path, source: io::Error) -> WriteError {
        WriteError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// A leading character that makes a spreadsheet treat text as a formula.
pub fn starts_like_formula(s: &str) -> bool {
    matches!(s.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r'))
}

/// Neutralizes spreadsheet formula injection in one text cell: text starting
/// with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`, so Excel,
/// LibreOffice and Sheets show it as text instead of evaluating it. Apply it to
/// text cells only; numbers, booleans and times are written as themselves.
pub fn neutralize_formula(s: &str) -> Cow<'_, str> {
    if starts_like_formula(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// A file name from untrusted text: anything but `[A-Za-z0-9._-]` becomes `_`,
/// never empty and never starting with a dot.
pub fn safe_file_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with('.') {
        out.replace_range(0..1, "_");
    }
    if out.is_empty() {
        out.push_str("table");
    }
    out
}

/// Creates `dir` and any missing parents, new ones `0700` on unix. An existing
/// directory is left as it is.
pub fn create_private_dir(dir: &Path) -> Result<(), WriteError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| WriteError::io(dir, e))?;
    // `create` succeeds on an existing path only if it is a directory.
    Ok(())
}

/// Creates a new file (never an existing one) readable by its owner only.
pub fn create_private_file(path: &Path) -> Result<File, WriteError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|e| WriteError::io(path, e))
}

/// A fully written temporary file waiting to be renamed onto `dest`, with the
/// size and SHA-256 of what it holds (for a manifest).
pub(crate) struct Staged {
    tmp: NamedTempFile,
    dest: PathBuf,
    size: u64,
    sha256: String,
}

impl Staged {
    /// Where the file goes.
    pub(crate) fn dest(&self) -> &Path {
        &self.dest
    }

    /// Its size in bytes.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// The SHA-256 of its bytes, lowercase hex.
    pub(crate) fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// The size and SHA-256 (lowercase hex) of everything `reader` yields.
pub fn hash_reader(mut reader: impl io::Read) -> io::Result<(u64, String)> {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// Creates a temporary file in `dest`'s directory (`0600` on unix) and lets
/// `fill` write it completely.
pub(crate) fn stage(
    dest: PathBuf,
    fill: impl FnOnce(&mut File) -> Result<(), WriteError>,
) -> Result<Staged, WriteError> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let mut tmp = NamedTempFile::new_in(dir).map_err(|e| WriteError::io(&dest, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o600))
            .map_err(|e| WriteError::io(&dest, e))?;
    }
    fill(tmp.as_file_mut())?;
    let file = tmp.as_file_mut();
    let (size, sha256) = file
        .sync_all()
        .and_then(|()| io::Seek::rewind(file))
        .and_then(|()| hash_reader(&mut *file))
        .map_err(|e| WriteError::io(&dest, e))?;
    Ok(Staged {
        tmp,
        dest,
        size,
        sha256,
    })
}

/// Stages a file written through a buffered writer.
pub(crate) fn stage_buffered(
    dest: PathBuf,
    fill: impl FnOnce(&mut BufWriter<&mut File>) -> io::Result<()>,
) -> Result<Staged, WriteError> {
    let path = dest.clone();
    stage(dest, |file| {
        let mut w = BufWriter::new(file);
        fill(&mut w)
            .and_then(|()| w.flush())
            .map_err(|e| WriteError::io(&path, e))
    })
}

/// Renames every staged file onto its destination, in order; returns the paths.
pub(crate) fn persist_all(staged: Vec<Staged>) -> Result<Vec<PathBuf>, WriteError> {
    let mut written = Vec::with_capacity(staged.len());
    for Staged { tmp, dest, .. } in staged {
        tmp.persist(&dest)
            .map_err(|e| WriteError::io(&dest, e.error))?;
        written.push(dest);
    }
    Ok(written)
}

/// Writes small text files (`name`, content) into `out_dir` the way reports are
/// written: the directory created private, each file staged in full (`0600`)
/// and renamed into place only when all are written.
pub fn write_files(out_dir: &Path, files: &[(&str, &str)]) -> Result<Vec<PathBuf>, WriteError> {
    create_private_dir(out_dir)?;
    let mut staged = Vec::with_capacity(files.len());
    for (name, content) in files {
        staged.push(stage_buffered(out_dir.join(name), |w| {
            w.write_all(content.as_bytes())
        })?);
    }
    persist_all(staged)
}
