//! The configuration file (`retool-audit.toml`) and the one shape both it and
//! the command-line flags are turned into: a list of [`Target`]s, each an org or
//! a child space to collect or check, with where it is, how its token is found
//! and how hard to drive its API.
//!
//! The file never holds a token, only where to find one (`token_env` or
//! `token_file`); a `token` key is refused with the reason. Unknown keys,
//! duplicate names and TOML syntax errors are refused with the file and line.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::model::Dialect;
use crate::retool::Secret;

/// Looked for in the working directory when neither `--config` nor
/// `RETOOL_AUDIT_CONFIG` names a file.
pub const DEFAULT_FILE: &str = "retool-audit.toml";

/// The environment variable holding the token when flags configure the org.
pub const TOKEN_ENV: &str = "RETOOL_API_TOKEN";

/// A configuration file that cannot be used: which file, which line, what is
/// wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigFileError {
    pub path: PathBuf,
    /// 1-based; `None` when the problem is not on one line (an unreadable file).
    pub line: Option<usize>,
    pub message: String,
    pub fix: String,
}

/// A configuration file that cannot be used is the user's to fix (2).
impl crate::exit::Classify for ConfigFileError {
    fn exit(&self) -> crate::exit::Exit {
        crate::exit::Exit::Usage
    }
}

impl fmt::Display for ConfigFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config file {}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        write!(f, ": {}; {}", self.message, self.fix)
    }
}

/// Tuning settings: `[defaults]` in the file, overridden by flags. `None`
/// means the built-in default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tuning {
    pub concurrency: Option<u16>,
    pub max_rps: Option<f64>,
    pub page_size: Option<u64>,
    pub connect_timeout_secs: Option<u64>,
    pub timeout_secs: Option<u64>,
    pub max_retries: Option<u32>,
    pub allow_insecure_http: Option<bool>,
    pub user_grants: Option<bool>,
    pub user_grants_max_users: Option<usize>,
    pub usage_days: Option<u32>,
    pub usage_details: Option<bool>,
    pub cross_check: Option<CrossCheckObjects>,
}

/// How many objects the cross-check asks Retool about: a number (`0` turns it
/// off) or `all`. In the config file an integer or the string `"all"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrossCheckObjects(pub usize);

impl std::str::FromStr for CrossCheckObjects {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("all") {
            return Ok(CrossCheckObjects(crate::collect::cross_check::ALL_OBJECTS));
        }
        s.parse::<usize>()
            .map(CrossCheckObjects)
            .map_err(|_| format!("`{s}` is not a number of objects or `all`"))
    }
}

impl<'de> Deserialize<'de> for CrossCheckObjects {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Count(usize),
            Word(String),
        }
        match Raw::deserialize(d)? {
            Raw::Count(n) => Ok(CrossCheckObjects(n)),
            Raw::Word(w) => w.parse().map_err(serde::de::Error::custom),
        }
    }
}

impl Tuning {
    /// `self` with every setting `over` gives replacing it.
    pub fn overridden_by(&self, over: &Tuning) -> Tuning {
        Tuning {
            concurrency: over.concurrency.or(self.concurrency),
            max_rps: over.max_rps.or(self.max_rps),
            page_size: over.page_size.or(self.page_size),
            connect_timeout_secs: over.connect_timeout_secs.or(self.connect_timeout_secs),
            timeout_secs: over.timeout_secs.or(self.timeout_secs),
            max_retries: over.max_retries.or(self.max_retries),
            allow_insecure_http: over.allow_insecure_http.or(self.allow_insecure_http),
            user_grants: over.user_grants.or(self.user_grants),
            user_grants_max_users: over.user_grants_max_users.or(self.user_grants_max_users),
            usage_days: over.usage_days.or(self.usage_days),
            usage_details: over.usage_details.or(self.usage_details),
            cross_check: over.cross_check.or(self.cross_check),
        }
    }
}

/// Where a target's token comes from. The token itself is read only when the
/// target is used, and never printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Env(String),
    File(PathBuf),
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::Env(name) => write!(f, "${name}"),
            TokenSource::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// How a target's API is reached.
#[derive(Debug, Clone, PartialEq)]
pub enum Address {
    /// The instance root; `/api/v2` (or `/api/v1`) is appended.
    BaseUrl(String),
    /// The API root, used verbatim.
    ApiRoot(String),
    /// A child space of `parent`: its domain is looked up by `space` (a name,
    /// domain or id) in the parent's `GET /spaces`, and its API is
    /// `https://<domain>/api/v2` (the parent's scheme, so loopback tests work).
    Space { parent: Box<Target>, space: String },
}

/// One org or space to collect or check: what the flags describe, or one entry
/// of the config file.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The org label snapshots are stored under (`acme-prod`, `acme-prod/sales`).
    pub name: String,
    pub address: Address,
    pub dialect: Dialect,
    pub token: TokenSource,
    pub tuning: Tuning,
    /// Where the target is defined, for error messages: the file and line.
    pub origin: Option<(PathBuf, usize)>,
}

impl Target {
    /// Reads the token. A token file readable by group or others is warned
    /// about; a missing variable or file, or an empty token, is an error whose
    /// message says what to do.
    pub fn load_token(&self) -> Result<Secret, String> {
        let whose = match &self.origin {
            Some((path, line)) => format!(
                " (org {}, config file {} line {line})",
                self.name,
                path.display()
            ),
            None => String::new(),
        };
        let token = match &self.token {
            TokenSource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    format!(
                        "cannot read the token file {}{whose}: {e}; check the path and its permissions",
                        path.display()
                    )
                })?;
                warn_if_token_file_is_shared(path);
                text.trim().to_string()
            }
            TokenSource::Env(var) => std::env::var(var).unwrap_or_default().trim().to_string(),
        };
        if token.is_empty() {
            return Err(match (&self.token, &self.origin) {
                (TokenSource::Env(_), None) => {
                    "no API token: set RETOOL_API_TOKEN or pass --token-file PATH \
                     (create a read-only token in Retool under Settings > API)"
                        .to_string()
                }
                (TokenSource::Env(var), Some(_)) => format!(
                    "no API token: the environment variable {var} named by token_env{whose} is not set or empty; \
                     export it (for example from a systemd EnvironmentFile) or use token_file"
                ),
                (TokenSource::File(path), _) => format!(
                    "the token file {}{whose} is empty; put the read-only API token from Retool Settings > API in it",
                    path.display()
                ),
            });
        }
        Ok(Secret::new(token))
    }
}

#[cfg(unix)]
fn warn_if_token_file_is_shared(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                "token file {} is readable by group or others (mode {:o}); run: chmod 600 {}",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_token_file_is_shared(_path: &Path) {}

/// A loaded, validated configuration file.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub path: PathBuf,
    /// The history file, unless `--db` or `RETOOL_AUDIT_DB` names another.
    pub db: Option<PathBuf>,
    /// A file holding the PostgreSQL password (when `db` is a `postgres://`
    /// URL and neither `PGPASSWORD` nor the URL has one).
    pub db_password_file: Option<PathBuf>,
    /// Every org, then its spaces, in file order.
    pub targets: Vec<Target>,
}

/// The file to use: the one named, else `./retool-audit.toml` if it exists.
pub fn locate(named: Option<&Path>) -> Option<PathBuf> {
    match named {
        Some(p) => Some(p.to_path_buf()),
        None => {
            let here = PathBuf::from(DEFAULT_FILE);
            here.is_file().then_some(here)
        }
    }
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigFileError {
            path: path.to_path_buf(),
            line: None,
            message: format!("cannot be read: {e}"),
            fix: "check --config / RETOOL_AUDIT_CONFIG and the file's permissions".to_string(),
        })?;
        Config::parse(path, &text)
    }

    /// Validates the text of a configuration file read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigFileError> {
        let at = |span: std::ops::Range<usize>, message: String, fix: &str| ConfigFileError {
            path: path.to_path_buf(),
            line: Some(line_of(text, span.start)),
            message,
            fix: fix.to_string(),
        };
        let file: FileDto = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            ConfigFileError {
                path: path.to_path_buf(),
                line,
                message: e.message().trim().to_string(),
                fix: "correct it; docs/operations.md, section \"Configuration file\", shows every key"
                    .to_string(),
            }
        })?;
        let mut targets = Vec::new();
        let mut names = BTreeSet::new();
        for org in file.org {
            let name_span = org.name.span();
            let org_line = line_of(text, name_span.start);
            refuse_token(&org.token, &at)?;
            check_label(org.name.get_ref()).map_err(|m| at(name_span.clone(), m, LABEL_FIX))?;
            let address = match (org.base_url, org.api_root) {
                (Some(b), None) => Address::BaseUrl(b),
                (None, Some(a)) => Address::ApiRoot(a),
                (None, None) => {
                    return Err(at(
                        name_span,
                        format!("org {:?} has no base_url or api_root", org.name.get_ref()),
                        "add base_url = \"https://<your-instance>\"",
                    ));
                }
                (Some(_), Some(_)) => {
                    return Err(at(
                        name_span,
                        format!(
                            "org {:?} has both base_url and api_root",
                            org.name.get_ref()
                        ),
                        "keep one: base_url for the instance root, api_root for a proxy serving the API at its root",
                    ));
                }
            };
            let parent = Target {
                name: org.name.get_ref().clone(),
                address,
                dialect: org.api.unwrap_or_default(),
                token: token_source(org.name.get_ref(), org.token_env, org.token_file)
                    .map_err(|m| at(name_span.clone(), m, TOKEN_FIX))?,
                tuning: file.defaults.clone(),
                origin: Some((path.to_path_buf(), org_line)),
            };
            if !names.insert(parent.name.clone()) {
                return Err(at(
                    name_span,
                    format!("the org name {:?} is used twice", parent.name),
                    "give every org a unique name: it is the label its snapshots are stored under",
                ));
            }
            if !org.space.is_empty() && parent.dialect == Dialect::V1 {
                return Err(at(
                    name_span,
                    format!("org {:?} lists spaces but speaks the v1 API", parent.name),
                    "spaces are listed by the v2 API only (GET /spaces); remove api = \"v1\" or the spaces",
                ));
            }
            let mut spaces = Vec::new();
            for space in org.space {
                let span = space.name.span();
                refuse_token(&space.token, &at)?;
                check_label(space.name.get_ref()).map_err(|m| at(span.clone(), m, LABEL_FIX))?;
                let name = format!("{}/{}", parent.name, space.name.get_ref());
                if !names.insert(name.clone()) {
                    return Err(at(
                        span,
                        format!("the space name {name:?} is used twice"),
                        "give every space of an org a unique name",
                    ));
                }
                spaces.push(Target {
                    token: token_source(&name, space.token_env, space.token_file)
                        .map_err(|m| at(span.clone(), m, TOKEN_FIX))?,
                    address: Address::Space {
                        parent: Box::new(parent.clone()),
                        space: space.space.unwrap_or_else(|| space.name.get_ref().clone()),
                    },
                    name,
                    dialect: Dialect::V2,
                    tuning: file.defaults.clone(),
                    origin: Some((path.to_path_buf(), line_of(text, span.start))),
                });
            }
            targets.push(parent);
            targets.extend(spaces);
        }
        if targets.is_empty() {
            return Err(ConfigFileError {
                path: path.to_path_buf(),
                line: None,
                message: "no [[org]] is configured".to_string(),
                fix: "add an [[org]] table with name, base_url and token_env or token_file"
                    .to_string(),
            });
        }
        Ok(Config {
            path: path.to_path_buf(),
            db: file.db,
            db_password_file: file.db_password_file,
            targets,
        })
    }

    pub fn names(&self) -> Vec<&str> {
        self.targets.iter().map(|t| t.name.as_str()).collect()
    }

    /// The targets `--org NAME` or `--all` pick; with neither, the only one.
    pub fn select(&self, org: Option<&str>, all: bool) -> Result<Vec<&Target>, ConfigFileError> {
        let problem = |message: String, fix: String| ConfigFileError {
            path: self.path.clone(),
            line: None,
            message,
            fix,
        };
        if all {
            return Ok(self.targets.iter().collect());
        }
        match org {
            Some(name) => self
                .targets
                .iter()
                .find(|t| t.name == name)
                .map(|t| vec![t])
                .ok_or_else(|| {
                    problem(
                        format!("no org or space named {name:?} is configured"),
                        format!(
                            "use one of: {} (or --all), or add it to the file",
                            self.names().join(", ")
                        ),
                    )
                }),
            None => match self.targets.as_slice() {
                [one] => Ok(vec![one]),
                _ => Err(problem(
                    format!("{} orgs and spaces are configured", self.targets.len()),
                    format!(
                        "pick one with --org NAME ({}) or use --all",
                        self.names().join(", ")
                    ),
                )),
            },
        }
    }
}

const LABEL_FIX: &str = "use 1-64 letters, digits, '-', '_' or '.'";
const TOKEN_FIX: &str =
    "set exactly one of token_env = \"VARIABLE\" or token_file = \"/path/to/token\"";

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).unwrap_or(text).matches('\n').count() + 1
}

/// Org and space names are labels: short, safe in file names and logs.
pub fn check_label(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?} is not a valid name"))
    }
}

fn refuse_token(
    token: &Option<Spanned<toml::Value>>,
    at: &impl Fn(std::ops::Range<usize>, String, &str) -> ConfigFileError,
) -> Result<(), ConfigFileError> {
    match token {
        Some(t) => Err(at(
            t.span(),
            "a `token` key is not allowed: a token in a config file ends up in backups, \
             version control and support bundles"
                .to_string(),
            "remove it, and point token_env at an environment variable or token_file at a \
             chmod 600 file holding the token",
        )),
        None => Ok(()),
    }
}

fn token_source(
    name: &str,
    env: Option<String>,
    file: Option<PathBuf>,
) -> Result<TokenSource, String> {
    match (env, file) {
        (Some(e), None) if !e.trim().is_empty() => Ok(TokenSource::Env(e)),
        (None, Some(f)) => Ok(TokenSource::File(f)),
        (None, None) => Err(format!("{name:?} has no token source")),
        (Some(_), Some(_)) => Err(format!("{name:?} has both token_env and token_file")),
        (Some(_), None) => Err(format!("{name:?} has an empty token_env")),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDto {
    db: Option<PathBuf>,
    db_password_file: Option<PathBuf>,
    #[serde(default)]
    defaults: Tuning,
    #[serde(default)]
    org: Vec<OrgDto>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgDto {
    name: Spanned<String>,
    base_url: Option<String>,
    api_root: Option<String>,
    api: Option<Dialect>,
    token_env: Option<String>,
    token_file: Option<PathBuf>,
    /// Only to refuse it with the reason.
    token: Option<Spanned<toml::Value>>,
    #[serde(default)]
    space: Vec<SpaceDto>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpaceDto {
    name: Spanned<String>,
    /// The space's name, domain or id in `GET /spaces` (default: `name`).
    space: Option<String>,
    token_env: Option<String>,
    token_file: Option<PathBuf>,
    token: Option<Spanned<toml::Value>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
db = "/var/lib/retool-audit/history.db"

[defaults]
concurrency = 2
max_rps = 4.0

[[org]]
name = "acme-prod"
base_url = "https://acme.retool.com"
token_env = "RETOOL_TOKEN_ACME"

[[org.space]]
name = "sales"
space = "Sales Team"
token_file = "/etc/retool-audit/sales.token"

[[org]]
name = "legacy"
api_root = "https://retool.internal/api/v1"
api = "v1"
token_file = "/etc/retool-audit/legacy.token"
"#;

    fn parse(text: &str) -> Result<Config, ConfigFileError> {
        Config::parse(Path::new("retool-audit.toml"), text)
    }

    #[test]
    fn a_full_file_gives_one_target_per_org_and_space() {
        let c = parse(FULL).unwrap();
        assert_eq!(c.names(), ["acme-prod", "acme-prod/sales", "legacy"]);
        assert_eq!(
            c.db.as_deref(),
            Some(Path::new("/var/lib/retool-audit/history.db"))
        );
        let sales = &c.targets[1];
        match &sales.address {
            Address::Space { parent, space } => {
                assert_eq!(parent.name, "acme-prod");
                assert_eq!(space, "Sales Team");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            sales.token,
            TokenSource::File("/etc/retool-audit/sales.token".into())
        );
        assert_eq!(sales.tuning.concurrency, Some(2));
        assert_eq!(sales.origin.as_ref().map(|o| o.1), Some(14));
        assert_eq!(c.targets[2].dialect, Dialect::V1);
    }

    #[test]
    fn bad_files_name_the_line_and_the_fix() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "[[org]]\nname = \"a\"\nbase_url = \"https://a\"\ntokn_env = \"X\"\n",
                4,
                "unknown field `tokn_env`",
            ),
            (
                "[[org]]\nname = \"a\"\nbase_url = \"https://a\"\ntoken = \"secret\"\n",
                4,
                "`token` key is not allowed",
            ),
            (
                "[[org]]\nname = \"a\"\nbase_url = \"https://a\"\ntoken_env = \"X\"\n\n[[org]]\nname = \"a\"\nbase_url = \"https://b\"\ntoken_env = \"Y\"\n",
                7,
                "used twice",
            ),
            (
                "[[org]]\nname = \"a\"\nbase_url = \"https://a\"\n",
                2,
                "no token source",
            ),
            ("[[org]\nname = \"a\"\n", 1, ""),
            (
                "[[org]]\nname = \"a b\"\nbase_url = \"https://a\"\ntoken_env = \"X\"\n",
                2,
                "not a valid name",
            ),
        ];
        for (text, line, needle) in cases {
            let e = parse(text).expect_err(text);
            assert_eq!(e.line, Some(*line), "{text}: {e}");
            let msg = e.to_string();
            assert!(msg.contains(needle), "{msg}");
            assert!(msg.starts_with("config file retool-audit.toml"), "{msg}");
            assert!(!msg.contains("secret"), "{msg}");
        }
    }

    #[test]
    fn select_picks_by_name_all_or_the_only_one() {
        let c = parse(FULL).unwrap();
        assert_eq!(c.select(None, true).unwrap().len(), 3);
        assert_eq!(
            c.select(Some("acme-prod/sales"), false).unwrap()[0].name,
            "acme-prod/sales"
        );
        let e = c.select(Some("nope"), false).unwrap_err().to_string();
        assert!(
            e.contains("\"nope\"") && e.contains("acme-prod, acme-prod/sales, legacy"),
            "{e}"
        );
        assert!(c.select(None, false).is_err());
        let one =
            parse("[[org]]\nname = \"a\"\nbase_url = \"https://a\"\ntoken_env = \"X\"\n").unwrap();
        assert_eq!(one.select(None, false).unwrap()[0].name, "a");
    }

    #[test]
    fn flags_override_the_files_defaults() {
        let file = Tuning {
            concurrency: Some(2),
            max_rps: Some(4.0),
            ..Tuning::default()
        };
        let flags = Tuning {
            concurrency: Some(8),
            ..Tuning::default()
        };
        let t = file.overridden_by(&flags);
        assert_eq!((t.concurrency, t.max_rps), (Some(8), Some(4.0)));
    }
}
