//! The history in PostgreSQL (issue 16, in progress): where the server is and
//! how to reach it (`postgres://…`, TLS, the password's sources, a display
//! form without the password), connecting with clear errors, and the schema:
//! numbered migrations embedded beside SQLite's, applied at open under an
//! advisory lock, recorded in `schema_version`; a newer schema is refused
//! untouched, as with SQLite.
//!
//! The store's commands do not run on PostgreSQL yet: `--db postgres://…` is
//! refused with a message saying so (see [`is_postgres_url`]).

mod tls;

use std::path::{Path, PathBuf};
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, Config, NoTls};

/// The PostgreSQL migrations, applied in order; migration `n` (1-based)
/// brings the schema to version `n`. A shipped migration is never edited.
const MIGRATIONS: &[&str] = &[include_str!("migrations/0001_schema.sql")];

/// The schema version this build writes and reads on PostgreSQL.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The oldest server this build supports (`server_version_num`).
const MIN_SERVER: i64 = 130_000;

/// The advisory lock key that serializes migrations ("RtAu" + 1).
const MIGRATION_LOCK: i64 = 0x5274_4175_0001;

/// Whether `db` names a PostgreSQL server rather than a SQLite file.
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// How the connection is encrypted (libpq's `sslmode` values that make sense
/// here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// TLS, the server's certificate not checked.
    Require,
    /// TLS, the certificate checked against the roots and the host name.
    VerifyFull,
}

impl SslMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Require => "require",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Where the password came from (never the password itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    None,
    /// Inside the URL: accepted, with a warning.
    Url,
    Env,
    File(PathBuf),
    Passfile(PathBuf),
}

/// A PostgreSQL server and database to hold the history.
#[derive(Clone)]
pub struct PgTarget {
    host: String,
    port: u16,
    user: String,
    dbname: String,
    password: Option<String>,
    pub password_source: PasswordSource,
    pub sslmode: SslMode,
    /// `sslrootcert`: the roots to verify the server against (else the
    /// system's).
    pub root_cert: Option<PathBuf>,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgTarget({self}, sslmode={})", self.sslmode.as_str())
    }
}

/// `postgres://user@host:port/db`: never the password.
impl std::fmt::Display for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(
            f,
            "postgres://{}@{host}:{}/{}",
            self.user, self.port, self.dbname
        )
    }
}

/// What went wrong reaching or preparing the database. Every message names
/// the server as [`PgTarget`] displays it (no password) and what to do.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("{0}")]
    Url(String),
    #[error(
        "cannot reach the PostgreSQL server {target}: {detail}; check the host and port, and that the server accepts TCP connections"
    )]
    Unreachable { target: String, detail: String },
    #[error(
        "the PostgreSQL server {target} refused the password for {user}; set it with PGPASSWORD, a PGPASSFILE or db_password_file"
    )]
    Password { target: String, user: String },
    #[error("the PostgreSQL server {target} refused the connection: {detail}")]
    Refused { target: String, detail: String },
    #[error(
        "the database of {target} does not exist; create it first (createdb -O {user} {dbname})"
    )]
    MissingDatabase {
        target: String,
        user: String,
        dbname: String,
    },
    #[error("TLS to the PostgreSQL server {target} failed ({sslmode}): {detail}")]
    Tls {
        target: String,
        sslmode: &'static str,
        detail: String,
    },
    #[error(
        "the PostgreSQL server {target} is version {found}; retool-audit needs PostgreSQL 13 or later"
    )]
    TooOld { target: String, found: String },
    #[error(
        "{target} holds a retool-audit history of schema version {found}, newer than this version supports ({supported}); upgrade retool-audit (nothing was changed)"
    )]
    NewerSchema {
        target: String,
        found: i64,
        supported: i64,
    },
    #[error(
        "the role {user} may not create the history's tables in {target}: {detail}; run the first open as a role that owns the database (see the collector role in docs)"
    )]
    NoRights {
        target: String,
        user: String,
        detail: String,
    },
    #[error("{context} on {target}: {detail}")]
    Sql {
        target: String,
        context: &'static str,
        detail: String,
    },
}

/// The password's sources, read from the environment once.
#[derive(Debug, Clone, Default)]
pub struct PasswordSources {
    /// `PGPASSWORD`.
    pub env: Option<String>,
    /// The config's `db_password_file`.
    pub file: Option<PathBuf>,
    /// `PGPASSFILE`, else `~/.pgpass` when it exists.
    pub passfile: Option<PathBuf>,
}

/// The config file's `db_password_file`, set once by the command line
/// before the history is opened.
static PASSWORD_FILE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Uses `file` as the `db_password_file` of every later open.
pub fn use_password_file(file: &Path) {
    let _ = PASSWORD_FILE.set(file.to_path_buf());
}

impl PasswordSources {
    /// From the process environment (and `db_password_file`, else the one
    /// set by [`use_password_file`]).
    pub fn from_env(db_password_file: Option<&Path>) -> Self {
        let db_password_file = db_password_file.or(PASSWORD_FILE.get().map(PathBuf::as_path));
        let passfile = std::env::var_os("PGPASSFILE")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .map(|h| Path::new(&h).join(".pgpass"))
                    .filter(|p| p.is_file())
            });
        PasswordSources {
            env: std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty()),
            file: db_password_file.map(Path::to_path_buf),
            passfile,
        }
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.starts_with('/')
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl PgTarget {
    /// Parses `postgres://[user[:password]@]host[:port]/db[?sslmode=…&sslrootcert=…]`.
    /// `sslmode` defaults to `verify-full`, and to `disable` for a loopback
    /// host. The password: in the URL (a warning), else `PGPASSWORD`, else
    /// `db_password_file`, else the first matching `PGPASSFILE` line.
    pub fn parse(url: &str, sources: &PasswordSources) -> Result<PgTarget, PgError> {
        let bad = |why: String| PgError::Url(format!("--db {}: {why}", redact(url)));
        let parsed = url::Url::parse(url).map_err(|e| bad(e.to_string()))?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(bad("not a postgres:// URL".into()));
        }
        let host = match parsed.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            Some(h) => h.to_string(),
            None => return Err(bad("no host".into())),
        };
        let port = parsed.port().unwrap_or(5432);
        let user = match parsed.username() {
            "" => std::env::var("PGUSER").unwrap_or_else(|_| "retool_audit".into()),
            u => decode(u),
        };
        let dbname = match parsed.path().trim_start_matches('/') {
            "" => user.clone(),
            d => decode(d),
        };
        let mut sslmode = if is_loopback(&host) {
            SslMode::Disable
        } else {
            SslMode::VerifyFull
        };
        let mut root_cert = None;
        for (k, v) in parsed.query_pairs() {
            match k.as_ref() {
                "sslmode" => {
                    sslmode = match v.as_ref() {
                        "disable" => SslMode::Disable,
                        "require" => SslMode::Require,
                        "verify-full" => SslMode::VerifyFull,
                        other => {
                            return Err(bad(format!(
                                "sslmode {other:?} is not supported; use disable, require or verify-full"
                            )));
                        }
                    }
                }
                "sslrootcert" => root_cert = Some(PathBuf::from(v.as_ref())),
                "application_name" | "connect_timeout" => {}
                other => return Err(bad(format!("unknown parameter {other:?}"))),
            }
        }
        let mut target = PgTarget {
            host,
            port,
            user,
            dbname,
            password: None,
            password_source: PasswordSource::None,
            sslmode,
            root_cert,
        };
        if let Some(p) = parsed.password() {
            tracing::warn!(
                "the --db URL holds a password: it may end up in shell history and process \
                 listings; use PGPASSWORD, a PGPASSFILE or db_password_file instead"
            );
            target.password = Some(decode(p));
            target.password_source = PasswordSource::Url;
        } else if let Some(p) = &sources.env {
            target.password = Some(p.clone());
            target.password_source = PasswordSource::Env;
        } else if let Some(f) = &sources.file {
            let text = std::fs::read_to_string(f).map_err(|e| {
                PgError::Url(format!("cannot read db_password_file {}: {e}", f.display()))
            })?;
            target.password = Some(text.trim_end_matches(['\r', '\n']).to_string());
            target.password_source = PasswordSource::File(f.clone());
        } else if let Some(f) = &sources.passfile
            && let Ok(text) = std::fs::read_to_string(f)
            && let Some(p) = passfile_password(&text, &target)
        {
            target.password = Some(p);
            target.password_source = PasswordSource::Passfile(f.clone());
        }
        Ok(target)
    }

    /// Connects (10 s timeout), with TLS as `sslmode` says, and checks the
    /// server's version.
    pub fn connect(&self) -> Result<Client, PgError> {
        let mut config = Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(&self.dbname)
            .application_name(&application_name())
            .connect_timeout(Duration::from_secs(10));
        if let Some(p) = &self.password {
            config.password(p);
        }
        let client = match self.sslmode {
            SslMode::Disable => config.connect(NoTls),
            mode => {
                config.ssl_mode(postgres::config::SslMode::Require);
                let tls = tls::connector(mode, self.root_cert.as_deref()).map_err(|detail| {
                    PgError::Tls {
                        target: self.to_string(),
                        sslmode: mode.as_str(),
                        detail,
                    }
                })?;
                config.connect(tls)
            }
        }
        .map_err(|e| self.connect_error(&e))?;
        let mut client = client;
        let version: String = client
            .query_one("SHOW server_version_num", &[])
            .and_then(|r| r.try_get(0))
            .map_err(|e| self.sql("reading the server's version", &e))?;
        if version.parse::<i64>().unwrap_or(0) < MIN_SERVER {
            return Err(PgError::TooOld {
                target: self.to_string(),
                found: version,
            });
        }
        Ok(client)
    }

    /// Connects and brings the schema to [`SCHEMA_VERSION`]; a newer schema
    /// is refused untouched.
    pub fn open(&self) -> Result<Client, PgError> {
        let mut client = self.connect()?;
        self.migrate(&mut client)?;
        Ok(client)
    }

    /// Applies the missing migrations in one transaction, under an advisory
    /// lock so that two first opens do not both create the tables.
    fn migrate(&self, client: &mut Client) -> Result<(), PgError> {
        let ctx = "preparing the history's schema";
        let mut tx = client.transaction().map_err(|e| self.sql(ctx, &e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(|e| self.sql(ctx, &e))?;
        let exists: bool = tx
            .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
            .and_then(|r| r.try_get(0))
            .map_err(|e| self.sql(ctx, &e))?;
        let found: i64 = if exists {
            tx.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
                .and_then(|r| r.try_get(0))
                .map_err(|e| self.sql(ctx, &e))?
        } else {
            0
        };
        if found > SCHEMA_VERSION {
            return Err(PgError::NewerSchema {
                target: self.to_string(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found == SCHEMA_VERSION {
            return Ok(());
        }
        let rights = |e: postgres::Error| match e.code() {
            Some(&SqlState::INSUFFICIENT_PRIVILEGE) => PgError::NoRights {
                target: self.to_string(),
                user: self.user.clone(),
                detail: detail(&e),
            },
            _ => self.sql(ctx, &e),
        };
        if !exists {
            tx.batch_execute(
                "CREATE TABLE schema_version (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL, \
                 tool_version TEXT NOT NULL)",
            )
            .map_err(rights)?;
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let version = i as i64 + 1;
            tx.batch_execute(sql).map_err(rights)?;
            tx.execute(
                "INSERT INTO schema_version (version, applied_at, tool_version) VALUES ($1, $2, $3)",
                &[
                    &version,
                    &crate::report::format_time(&chrono::Utc::now()),
                    &crate::VERSION,
                ],
            )
            .map_err(|e| self.sql(ctx, &e))?;
        }
        tx.commit().map_err(|e| self.sql(ctx, &e))
    }

    fn sql(&self, context: &'static str, e: &postgres::Error) -> PgError {
        PgError::Sql {
            target: self.to_string(),
            context,
            detail: detail(e),
        }
    }

    fn connect_error(&self, e: &postgres::Error) -> PgError {
        let target = self.to_string();
        match e.code() {
            Some(&SqlState::INVALID_PASSWORD) => PgError::Password {
                target,
                user: self.user.clone(),
            },
            Some(&SqlState::INVALID_CATALOG_NAME) => PgError::MissingDatabase {
                target,
                user: self.user.clone(),
                dbname: self.dbname.clone(),
            },
            Some(_) => PgError::Refused {
                target,
                detail: detail(e),
            },
            None => {
                let text = detail(e);
                if text.contains("tls") || text.contains("certificate") || text.contains("TLS") {
                    PgError::Tls {
                        target,
                        sslmode: self.sslmode.as_str(),
                        detail: text,
                    }
                } else if text.contains("password missing") {
                    PgError::Password {
                        target,
                        user: self.user.clone(),
                    }
                } else {
                    PgError::Unreachable {
                        target,
                        detail: text,
                    }
                }
            }
        }
    }
}

/// How this process shows in `pg_stat_activity` (and in the message of a
/// run that waits for its lock): `retool-audit <host> pid <pid>`.
fn application_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string());
    format!("retool-audit {host} pid {}", std::process::id())
}

/// A postgres error as one line: the server's message, or the chain of
/// causes (never a password: the client does not put it in errors).
fn detail(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db.message().to_string();
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

/// `url` with any password replaced by `***`, for messages about a URL that
/// did not parse.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => match url.rsplit_once('@') {
            Some((_, rest)) => format!("postgres://***@{rest}"),
            None => url.to_string(),
        },
    }
}

/// The password of the first `host:port:database:user:password` line that
/// matches `target` (`*` matches anything; `\:` and `\\` escaped).
fn passfile_password(text: &str, target: &PgTarget) -> Option<String> {
    let port = target.port.to_string();
    let wanted = [
        target.host.as_str(),
        port.as_str(),
        target.dbname.as_str(),
        target.user.as_str(),
    ];
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => field.extend(chars.next()),
                ':' if fields.len() < 4 => fields.push(std::mem::take(&mut field)),
                c => field.push(c),
            }
        }
        fields.push(field);
        if fields.len() == 5
            && fields[..4]
                .iter()
                .zip(wanted)
                .all(|(f, w)| f == "*" || f == w)
        {
            return fields.pop();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> PgTarget {
        match PgTarget::parse(url, &PasswordSources::default()) {
            Ok(t) => t,
            Err(e) => panic!("{url}: {e}"),
        }
    }

    #[test]
    fn a_url_is_shown_without_its_password_and_tls_defaults_by_host() {
        let t = parse("postgres://audit:s3cr%40t@db.example.com:6432/history");
        assert_eq!(
            t.to_string(),
            "postgres://audit@db.example.com:6432/history"
        );
        assert!(!format!("{t:?}").contains("s3cr"));
        assert_eq!(t.password.as_deref(), Some("s3cr@t"));
        assert_eq!(t.password_source, PasswordSource::Url);
        assert_eq!(t.sslmode, SslMode::VerifyFull);
        let local = parse("postgresql://audit@127.0.0.1/history");
        assert_eq!((local.port, local.sslmode), (5432, SslMode::Disable));
        let required =
            parse("postgres://a@db.example.com/h?sslmode=require&sslrootcert=/etc/ca.pem");
        assert_eq!(required.sslmode, SslMode::Require);
        assert_eq!(required.root_cert, Some(PathBuf::from("/etc/ca.pem")));
        for bad in [
            "postgres://a@db/h?sslmode=prefer",
            "postgres://a@db/h?options=x",
            "postgres:///h",
            "mysql://a@db/h",
        ] {
            let err = PgTarget::parse(bad, &PasswordSources::default()).err();
            assert!(matches!(err, Some(PgError::Url(_))), "{bad}: {err:?}");
        }
        let err = PgTarget::parse(
            "postgres://a:hunter2@db/h?sslmode=x",
            &PasswordSources::default(),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("sslmode") && !err.contains("hunter2"), "{err}");
        assert!(is_postgres_url("postgresql://x") && !is_postgres_url("history.db"));
    }

    #[test]
    fn the_password_comes_from_env_then_the_file_then_the_passfile() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "from-file\n").unwrap();
        let passfile = dir.path().join("pgpass");
        std::fs::write(
            &passfile,
            "# comment\nother:5432:*:*:nope\ndb.example.com:*:hist:audit:pa\\:ss\n",
        )
        .unwrap();
        let url = "postgres://audit@db.example.com/hist";
        let mut sources = PasswordSources {
            env: Some("from-env".into()),
            file: Some(file.clone()),
            passfile: Some(passfile.clone()),
        };
        let pick = |s: &PasswordSources| {
            let t = PgTarget::parse(url, s).unwrap();
            (t.password.clone(), t.password_source.clone())
        };
        assert_eq!(
            pick(&sources),
            (Some("from-env".into()), PasswordSource::Env)
        );
        sources.env = None;
        assert_eq!(
            pick(&sources),
            (Some("from-file".into()), PasswordSource::File(file))
        );
        sources.file = None;
        assert_eq!(
            pick(&sources),
            (Some("pa:ss".into()), PasswordSource::Passfile(passfile))
        );
        sources.passfile = None;
        assert_eq!(pick(&sources), (None, PasswordSource::None));
    }
}
