//! Build script: the `--version` text, `RETOOL_AUDIT_LONG_VERSION` =
//! `0.1.0 (git 1a2b3c4)`, or `0.1.0 (git 1a2b3c4-dirty)` when tracked files
//! differ from that commit. A build outside a git checkout of this crate (a
//! crates.io or release tarball, or no `git` installed) gets the plain version.
//! Packagers without git can set `RETOOL_AUDIT_GIT_REV` themselves.
//! `RETOOL_AUDIT_GIT_REVISION` is the revision alone (empty without one), for
//! report manifests.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-env-changed=RETOOL_AUDIT_GIT_REV");
    for path in ["build.rs", "Cargo.toml", "Cargo.lock", "src", "templates"] {
        println!("cargo::rerun-if-changed={path}");
    }
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let rev = std::env::var("RETOOL_AUDIT_GIT_REV")
        .ok()
        .filter(|r| !r.trim().is_empty())
        .or_else(git_revision);
    let rev = rev.map(|r| r.trim().to_string());
    let long = match &rev {
        Some(rev) => format!("{version} (git {rev})"),
        None => version,
    };
    println!("cargo::rustc-env=RETOOL_AUDIT_LONG_VERSION={long}");
    println!(
        "cargo::rustc-env=RETOOL_AUDIT_GIT_REVISION={}",
        rev.unwrap_or_default()
    );
}

/// `git` output, trimmed, when it ran and succeeded.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn git_revision() -> Option<String> {
    // Only a checkout of this crate counts, not some enclosing repository (a
    // home directory under git, say) that happens to contain an unpacked tarball.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let top = git(&["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != Path::new(&manifest_dir).canonicalize().ok()? {
        return None;
    }
    let rev = git(&["rev-parse", "--short", "HEAD"])?;
    // A new commit or checkout moves HEAD (and its reflog); staging changes the index.
    for name in ["HEAD", "logs/HEAD", "index"] {
        if let Some(path) = git(&["rev-parse", "--git-path", name]) {
            if Path::new(&path).exists() {
                println!("cargo::rerun-if-changed={path}");
            }
        }
    }
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{rev}-dirty") } else { rev })
}
