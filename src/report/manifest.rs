//! The evidence that travels with a report directory, so that any file separated
//! from the rest still proves where it came from:
//!
//! - `manifest.json`: what produced the files (tool version and git revision,
//!   command line, generation time), about what (organization, source URL, the
//!   snapshots read with their SHA-256), with which parameters (roster file and
//!   its SHA-256, inactivity threshold, default group, usage window,
//!   cross-check), and every file written with its size and SHA-256;
//! - `SHA256SUMS`: every file and the manifest, in the format `sha256sum -c`
//!   reads;
//! - `SHA256SUMS.minisig` with `--sign-key`: a minisign signature of
//!   `SHA256SUMS`, which `minisign -Vm SHA256SUMS -p KEY.pub` verifies.
//!
//! `seal` stages the three after the report's own files; [`verify_dir`]
//! (`retool-audit verify-report`) checks a directory against them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{Cursor, Write as _};
use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::table::format_time;
use crate::output::{Staged, WriteError, hash_reader, stage_buffered};

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// The checksum list's file name.
pub const SUMS: &str = "SHA256SUMS";
/// The signature's file name.
pub const SIGNATURE: &str = "SHA256SUMS.minisig";
/// What `format` says in every manifest this version writes.
pub const FORMAT: &str = "retool-audit manifest 1";

/// What a set of files is evidence of: filled by whoever builds the report, and
/// written into the manifest (and, for the parameters, the Evidence).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// `report` or `review evidence`.
    pub kind: String,
    /// The command line that produced the files (never holds a secret).
    pub command_line: String,
    /// The organization label the report shows.
    pub org: String,
    /// The API root the reported snapshot was read from.
    pub source_url: String,
    /// The snapshots the files were computed from.
    pub snapshots: Vec<SourceSnapshot>,
    /// Every parameter that changes what the files say, by name.
    pub parameters: BTreeMap<String, serde_json::Value>,
}

/// One snapshot a report was computed from, as the history holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSnapshot {
    /// `reported`, `since`, `campaign`, `judged_on`.
    pub role: String,
    pub id: i64,
    /// The organization as the history names it.
    pub org: String,
    pub taken_at: String,
    pub sha256: String,
}

impl SourceSnapshot {
    pub fn new(role: &str, meta: &crate::model::SnapshotMeta) -> SourceSnapshot {
        SourceSnapshot {
            role: role.to_string(),
            id: meta.id,
            org: meta.org.clone(),
            taken_at: format_time(&meta.taken_at()),
            sha256: meta.sha256.clone(),
        }
    }
}

/// The tool that wrote a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
    /// The git revision it was built from (`-dirty` when the tracked files
    /// differed), when it was built from a git checkout.
    pub git_revision: Option<String>,
}

/// One file the manifest vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the report directory, `/`-separated.
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub tool: Tool,
    pub generated_at: String,
    #[serde(flatten)]
    pub provenance: Provenance,
    pub files: Vec<FileEntry>,
}

/// A loaded minisign secret key, ready to sign.
pub struct Signer {
    sk: minisign::SecretKey,
    pk: minisign::PublicKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(..)")
    }
}

/// Why a signing key could not be used. Never holds the key or its password.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("cannot read the signing key {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{} is not a minisign secret key ({detail}); create one with `minisign -G -s FILE` (add -W for a key without a password)",
        path.display()
    )]
    NotAKey { path: PathBuf, detail: String },
    #[error(
        "the signing key {} is protected by a password and none was given; put it in a file named by --sign-password-file, or in the environment variable RETOOL_AUDIT_SIGN_PASSWORD",
        path.display()
    )]
    NeedsPassword { path: PathBuf },
    #[error("the signing key {} could not be opened: {detail}", path.display())]
    Unlock { path: PathBuf, detail: String },
}

impl crate::exit::Classify for SignError {
    fn exit(&self) -> crate::exit::Exit {
        crate::exit::Exit::Usage
    }
}

impl Signer {
    /// Reads a minisign secret key file; `password` unlocks an encrypted one.
    /// Never prompts.
    pub fn load(path: &Path, password: Option<String>) -> Result<Signer, SignError> {
        let text = std::fs::read_to_string(path).map_err(|source| SignError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let not_a_key = |detail: String| SignError::NotAKey {
            path: path.to_path_buf(),
            detail,
        };
        // The second line is the key: two bytes of signature algorithm, two of
        // key derivation (`Sc` scrypt, or zeros for a key without password).
        let encoded = text
            .lines()
            .nth(1)
            .ok_or_else(|| not_a_key("no key line after the comment".into()))?;
        let bytes =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded.trim())
                .map_err(|e| not_a_key(e.to_string()))?;
        let sk = match bytes.get(2..4) {
            // Unencrypted (`minisign -G -W`). Read as bytes: minisign 0.11 writes
            // such keys with a zero checksum, which the crate's box reader
            // rejects as corrupted while the minisign tool signs with them.
            Some([0, 0]) => {
                minisign::SecretKey::from_bytes(&bytes).map_err(|e| not_a_key(e.to_string()))?
            }
            Some(b"Sc") => {
                let Some(pw) = password else {
                    return Err(SignError::NeedsPassword {
                        path: path.to_path_buf(),
                    });
                };
                minisign::SecretKeyBox::from_string(&text)
                    .and_then(|b| b.into_secret_key(Some(pw)))
                    .map_err(|e| SignError::Unlock {
                        path: path.to_path_buf(),
                        detail: e.to_string(),
                    })?
            }
            _ => return Err(not_a_key("unknown key derivation".into())),
        };
        let pk = minisign::PublicKey::from_secret_key(&sk).map_err(|e| not_a_key(e.to_string()))?;
        Ok(Signer { sk, pk })
    }

    /// The key id, as `minisign` prints it.
    pub fn key_id(&self) -> String {
        key_id(self.pk.keynum())
    }
}

fn key_id(keynum: &[u8]) -> String {
    keynum.iter().rev().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02X}");
        s
    })
}

/// The path of a staged file relative to `out_dir`, `/`-separated.
fn relative(out_dir: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(out_dir).unwrap_or(file);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// One line of `SHA256SUMS` (text mode, as `sha256sum` writes it).
fn sums_line(sha256: &str, path: &str) -> String {
    format!("{sha256}  {path}\n")
}

/// `SHA256SUMS`: a line per file, then the manifest's.
fn sums_text(files: &[FileEntry], manifest_sha256: &str) -> String {
    let mut text: String = files
        .iter()
        .map(|f| sums_line(&f.sha256, &f.path))
        .collect();
    text.push_str(&sums_line(manifest_sha256, MANIFEST));
    text
}

/// A single line, at most 200 characters, safe for minisign's trusted comment.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect()
}

/// Stages `manifest.json`, `SHA256SUMS` and (with `signer`) the signature for
/// the files already staged in `out_dir`; they are renamed into place after
/// those files. The manifest lists `files` in their order.
pub(crate) fn seal(
    out_dir: &Path,
    files: &[Staged],
    provenance: &Provenance,
    generated_at: DateTime<Utc>,
    signer: Option<&Signer>,
) -> Result<Vec<Staged>, WriteError> {
    let manifest = Manifest {
        format: FORMAT.to_string(),
        tool: Tool {
            name: "retool-audit".to_string(),
            version: crate::VERSION.to_string(),
            git_revision: crate::GIT_REVISION.map(str::to_string),
        },
        generated_at: format_time(&generated_at),
        provenance: provenance.clone(),
        files: files
            .iter()
            .map(|f| FileEntry {
                path: relative(out_dir, f.dest()),
                size: f.size(),
                sha256: f.sha256().to_string(),
            })
            .collect(),
    };
    let mut sealed = vec![stage_buffered(out_dir.join(MANIFEST), |w| {
        serde_json::to_writer_pretty(&mut *w, &manifest)?;
        w.write_all(b"\n")
    })?];
    let sums = sums_text(&manifest.files, sealed[0].sha256());
    sealed.push(stage_buffered(out_dir.join(SUMS), |w| {
        w.write_all(sums.as_bytes())
    })?);
    if let Some(signer) = signer {
        let reported = provenance
            .snapshots
            .first()
            .map(|s| format!(", snapshot {} sha256 {}", s.id, s.sha256))
            .unwrap_or_default();
        let trusted = one_line(&format!(
            "retool-audit {} of {}{reported}, generated {}",
            provenance.kind, provenance.org, manifest.generated_at
        ));
        let path = out_dir.join(SIGNATURE);
        let signature = minisign::sign(
            Some(&signer.pk),
            &signer.sk,
            Cursor::new(sums.as_bytes()),
            Some(&trusted),
            Some("signature of SHA256SUMS by retool-audit"),
        )
        .map_err(|e| WriteError::io(&path, std::io::Error::other(e.to_string())))?;
        sealed.push(stage_buffered(path, |w| {
            w.write_all(signature.to_string().as_bytes())
        })?);
    }
    Ok(sealed)
}

/// What `verify-report` found in a directory.
#[derive(Debug, Default)]
pub struct DirCheck {
    /// The manifest, when it could be read.
    pub manifest: Option<Manifest>,
    /// Files checked against the manifest and found equal.
    pub files_ok: usize,
    /// `Some(key id)` when the signature was checked and is good.
    pub signature: Option<String>,
    /// What differs, the first one first; empty when everything holds.
    pub problems: Vec<String>,
    /// What is worth knowing but proves nothing wrong (files the manifest does
    /// not cover, a signature not checked).
    pub notes: Vec<String>,
}

/// A relative, `/`-separated path that stays inside the directory.
pub(crate) fn safe_relative(path: &str) -> bool {
    !path.is_empty()
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// Every regular file under `dir`, relative and `/`-separated.
fn files_under(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let kind = entry.file_type()?;
        if kind.is_dir() {
            files_under(&entry.path(), &rel, out)?;
        } else {
            out.insert(rel);
        }
    }
    Ok(())
}

/// Checks `dir` against its manifest, `SHA256SUMS` and, with `pubkey`, the
/// signature. Reads every listed file in full.
pub fn verify_dir(dir: &Path, pubkey: Option<&minisign::PublicKey>) -> DirCheck {
    let mut check = DirCheck::default();
    let manifest_path = dir.join(MANIFEST);
    let manifest_bytes = match std::fs::read(&manifest_path) {
        Ok(b) => b,
        Err(e) => {
            check.problems.push(format!(
                "{MANIFEST}: cannot be read ({e}); a directory written by `retool-audit report` or `review status --out` holds one"
            ));
            return check;
        }
    };
    let manifest: Manifest = match serde_json::from_slice(&manifest_bytes) {
        Ok(m) => m,
        Err(e) => {
            check
                .problems
                .push(format!("{MANIFEST}: not a retool-audit manifest ({e})"));
            return check;
        }
    };
    if manifest.format != FORMAT {
        check.problems.push(format!(
            "{MANIFEST}: format `{}` is not `{FORMAT}`; verify it with the retool-audit version that wrote it ({})",
            manifest.format, manifest.tool.version
        ));
        return check;
    }

    // SHA256SUMS must list exactly the manifest's files and the manifest.
    let (_, manifest_sha) = hash_reader(&manifest_bytes[..]).unwrap_or_default();
    let expected_sums = sums_text(&manifest.files, &manifest_sha);
    let sums = std::fs::read(dir.join(SUMS));
    match &sums {
        Ok(bytes) if bytes == expected_sums.as_bytes() => {}
        Ok(bytes) => {
            let listed: BTreeMap<&str, &str> = std::str::from_utf8(bytes)
                .unwrap_or("")
                .lines()
                .filter_map(|l| l.split_once("  ").map(|(h, p)| (p, h)))
                .collect();
            let differing = std::iter::once((MANIFEST, manifest_sha.as_str()))
                .chain(
                    manifest
                        .files
                        .iter()
                        .map(|f| (f.path.as_str(), f.sha256.as_str())),
                )
                .find(|(p, h)| listed.get(p) != Some(h))
                .map(|(p, _)| p.to_string());
            check.problems.push(match differing {
                Some(p) => format!("{SUMS}: its line for {p} does not match the manifest"),
                None => format!("{SUMS}: lists files the manifest does not"),
            });
        }
        Err(e) => check.problems.push(format!("{SUMS}: cannot be read ({e})")),
    }

    // Each file: present, same size, same SHA-256.
    for f in &manifest.files {
        if !safe_relative(&f.path) || f.path.contains('\\') {
            check.problems.push(format!(
                "{}: the manifest names a path outside the directory",
                f.path
            ));
            continue;
        }
        let path = dir.join(&f.path);
        match std::fs::File::open(&path).and_then(hash_reader) {
            Ok((size, sha)) if size == f.size && sha == f.sha256 => check.files_ok += 1,
            Ok((size, sha)) => check.problems.push(format!(
                "{}: differs from the manifest (size {size}, SHA-256 {sha}; the manifest says size {}, SHA-256 {})",
                f.path, f.size, f.sha256
            )),
            Err(e) => check
                .problems
                .push(format!("{}: listed in the manifest but cannot be read ({e})", f.path)),
        }
    }

    // The signature.
    let signature_path = dir.join(SIGNATURE);
    match (pubkey, signature_path.exists()) {
        (Some(pk), true) => {
            let result = minisign::SignatureBox::from_file(&signature_path).and_then(|sig| {
                minisign::verify(
                    pk,
                    &sig,
                    Cursor::new(sums.as_deref().unwrap_or(&[])),
                    true,
                    false,
                    false,
                )
            });
            match result {
                Ok(()) => check.signature = Some(key_id(pk.keynum())),
                Err(e) => check.problems.push(format!(
                    "{SIGNATURE}: does not verify with the public key given ({e})"
                )),
            }
        }
        (Some(_), false) => check.problems.push(format!(
            "{SIGNATURE}: missing, but a public key was given; the report was not signed (write it with `--sign-key`)"
        )),
        (None, true) => check.notes.push(format!(
            "{SIGNATURE} is present but was not checked: give the signer's public key with --pubkey"
        )),
        (None, false) => check
            .notes
            .push("the report is not signed (no SHA256SUMS.minisig)".to_string()),
    }

    // Files the manifest does not cover.
    let mut present = BTreeSet::new();
    if files_under(dir, "", &mut present).is_ok() {
        let covered: BTreeSet<&str> = manifest
            .files
            .iter()
            .map(|f| f.path.as_str())
            .chain([MANIFEST, SUMS, SIGNATURE])
            .collect();
        let extra: Vec<&String> = present
            .iter()
            .filter(|p| !covered.contains(p.as_str()))
            .collect();
        if !extra.is_empty() {
            let shown: Vec<&str> = extra.iter().take(10).map(|s| s.as_str()).collect();
            check.notes.push(format!(
                "{} file(s) in the directory are not in the manifest and are not covered by it: {}{}",
                extra.len(),
                shown.join(", "),
                if extra.len() > shown.len() { ", ..." } else { "" }
            ));
        }
    }
    check.manifest = Some(manifest);
    check
}

/// Reads a minisign public key file (`minisign -G` writes `minisign.pub`).
pub fn read_public_key(path: &Path) -> Result<minisign::PublicKey, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the public key {}: {e}", path.display()))?;
    let parsed = minisign::PublicKeyBox::from_string(&text)
        .and_then(|b| b.into_public_key())
        .or_else(|_| minisign::PublicKey::from_base64(text.trim()));
    parsed.map_err(|e| {
        format!(
            "{} is not a minisign public key ({e}); give the .pub file `minisign -G` wrote, or its base64 line",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_key(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn keys_open_without_a_password_refuse_garbage_and_ask_for_a_missing_password() {
        let dir = tempfile::tempdir().unwrap();
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let sk_text = kp.sk.to_box(None).unwrap().to_string();
        let path = write_key(dir.path(), "open.key", &sk_text);
        let signer = Signer::load(&path, None).unwrap();
        assert_eq!(signer.key_id(), key_id(kp.pk.keynum()));

        let garbage = write_key(
            dir.path(),
            "garbage.key",
            "untrusted comment: x\nnot base64!\n",
        );
        assert!(matches!(
            Signer::load(&garbage, None),
            Err(SignError::NotAKey { .. })
        ));
        let public = write_key(dir.path(), "pub.key", &kp.pk.to_box().unwrap().to_string());
        assert!(matches!(
            Signer::load(&public, None),
            Err(SignError::NotAKey { .. })
        ));
        // An `Sc` key (scrypt) asks for its password before deriving anything.
        let mut bytes = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            sk_text.lines().nth(1).unwrap(),
        )
        .unwrap();
        bytes[2..4].copy_from_slice(b"Sc");
        let locked = format!(
            "untrusted comment: locked\n{}\n",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bytes)
        );
        let locked = write_key(dir.path(), "locked.key", &locked);
        let err = Signer::load(&locked, None).unwrap_err();
        assert!(matches!(err, SignError::NeedsPassword { .. }));
        assert!(err.to_string().contains("RETOOL_AUDIT_SIGN_PASSWORD"));
    }

    #[test]
    fn a_manifest_naming_a_path_outside_the_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = Manifest {
            format: FORMAT.into(),
            tool: Tool {
                name: "retool-audit".into(),
                version: "0".into(),
                git_revision: None,
            },
            generated_at: "2026-12-04T00:00:00Z".into(),
            provenance: Provenance::default(),
            files: vec![FileEntry {
                path: "../outside".into(),
                size: 0,
                sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"")),
            }],
        };
        std::fs::write(dir.path().join("outside"), b"").unwrap();
        let sub = dir.path().join("report");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join(MANIFEST), serde_json::to_vec(&manifest).unwrap()).unwrap();
        let check = verify_dir(&sub, None);
        assert!(
            check
                .problems
                .iter()
                .any(|p| p.contains("a path outside the directory")),
            "{:?}",
            check.problems
        );
        assert_eq!(check.files_ok, 0);
    }

    #[test]
    fn paths_in_the_manifest_are_relative_and_slash_separated() {
        let out = Path::new("/tmp/r");
        assert_eq!(
            relative(out, &out.join("csv").join("users.csv")),
            "csv/users.csv"
        );
        assert!(safe_relative("csv/users.csv"));
        for bad in ["", "/etc/passwd", "../x", "csv/../../x", "./x"] {
            assert!(!safe_relative(bad), "{bad}");
        }
    }
}
