//! The Retool API client: URLs, auth, retries, rate limits, pagination and the
//! wire formats of both dialects (v2 at `/api/v2`, the older v1 at `/api/v1`).
//!
//! Nothing outside this module sees a DTO or a URL path: callers get
//! [`crate::model`] types from [`Client`]'s listing functions and typed
//! [`ApiError`]s / [`ConfigError`]s.

mod access_list;
mod client;
mod decode;
pub mod endpoints;
pub(crate) mod environments;
mod error;
mod rbac;
mod usage;
mod v1;
mod v2;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;
#[cfg(test)]
mod props;
#[cfg(test)]
pub(crate) mod test_server;

use std::fmt;
use std::net::IpAddr;

use url::Url;

use crate::model::Dialect;

pub use access_list::ListedUser;
pub use client::{Client, ClientConfig, Listed, Progress};
pub use error::{ApiError, ConfigError};

/// The API token. `Debug` and `Display` print `[redacted]`; the value is only
/// read when the `Authorization` header is built.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(token: String) -> Secret {
        Secret(token)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A child space, as `GET /spaces` lists it. A space is reached at its own
/// domain, with a token created in that space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    pub id: String,
    pub name: String,
    pub domain: String,
}

fn api_suffix(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::V2 => "/api/v2",
        Dialect::V1 => "/api/v1",
    }
}

/// Works out the API root to call.
///
/// `base_url` is the instance root (`https://acme.retool.com`, or a self-hosted
/// root under a sub-path like `https://tools.acme.com/retool`); `/api/v2` (or
/// `/api/v1`) is appended unless the path already ends in it. `api_root` is used
/// verbatim (for proxies and mocks serving the spec at `/`). Exactly one of the
/// two must be given. Plain `http://` is refused unless the host is a loopback
/// address or `allow_insecure_http` is set, because the token would travel in
/// clear text.
pub fn resolve_api_root(
    base_url: Option<&str>,
    api_root: Option<&str>,
    dialect: Dialect,
    allow_insecure_http: bool,
) -> Result<Url, ConfigError> {
    let (raw, verbatim) = match (base_url, api_root) {
        (None, None) => return Err(ConfigError::MissingUrl),
        (Some(_), Some(_)) => return Err(ConfigError::BothUrls),
        (Some(b), None) => (b.trim(), false),
        (None, Some(a)) => (a.trim(), true),
    };
    let mut url = Url::parse(raw).map_err(|e| ConfigError::InvalidUrl {
        url: raw.to_string(),
        detail: e.to_string(),
    })?;
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        // Do not echo the URL: a password or token in it would be printed.
        return Err(ConfigError::UnexpectedUrlParts {
            url: format!(
                "{}://{}",
                url.scheme(),
                url.host_str().unwrap_or("(no host)")
            ),
        });
    }
    let host = match url.host_str() {
        Some(h) if !h.is_empty() => h.to_string(),
        _ => {
            return Err(ConfigError::InvalidUrl {
                url: raw.to_string(),
                detail: "no host".to_string(),
            });
        }
    };
    match url.scheme() {
        "https" => {}
        "http" => {
            if !allow_insecure_http && !is_loopback_host(&host) {
                return Err(ConfigError::InsecureHttp { host });
            }
        }
        other => {
            return Err(ConfigError::UnsupportedScheme {
                url: raw.to_string(),
                scheme: other.to_string(),
            });
        }
    }
    let path = url.path().trim_end_matches('/').to_string();
    let suffix = api_suffix(dialect);
    let new_path = if verbatim || path.ends_with(suffix) {
        path
    } else {
        format!("{path}{suffix}")
    };
    url.set_path(&new_path);
    Ok(url)
}

/// The instance root of an API root ending in `/api/v2` (or `/api/v1`): where
/// `GET /api/checkHealth` lives. `None` when the API root does not end that way
/// (a proxy or mock serving the API at another path).
pub fn instance_root(api_root: &Url, dialect: Dialect) -> Option<Url> {
    let path = api_root.path().trim_end_matches('/');
    let stripped = path.strip_suffix(api_suffix(dialect))?;
    let mut url = api_root.clone();
    url.set_path(stripped);
    Some(url)
}

fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(
        base: Option<&str>,
        root: Option<&str>,
        insecure: bool,
    ) -> Result<String, ConfigError> {
        resolve_api_root(base, root, Dialect::V2, insecure).map(|u| u.to_string())
    }

    #[test]
    fn base_urls_resolve_to_the_api_root() {
        let table: &[(&str, &str)] = &[
            ("https://acme.retool.com", "https://acme.retool.com/api/v2"),
            ("https://acme.retool.com/", "https://acme.retool.com/api/v2"),
            (
                "https://tools.acme.com/retool",
                "https://tools.acme.com/retool/api/v2",
            ),
            (
                "https://tools.acme.com/retool/",
                "https://tools.acme.com/retool/api/v2",
            ),
            (
                "https://acme.retool.com/api/v2",
                "https://acme.retool.com/api/v2",
            ),
            (
                "https://acme.retool.com/api/v2/",
                "https://acme.retool.com/api/v2",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/api/v2"),
            ("http://127.9.9.9:8080", "http://127.9.9.9:8080/api/v2"),
            ("http://localhost:3000", "http://localhost:3000/api/v2"),
            ("http://[::1]:3000", "http://[::1]:3000/api/v2"),
        ];
        for (input, want) in table {
            assert_eq!(
                resolve(Some(input), None, false).as_deref(),
                Ok(*want),
                "{input}"
            );
        }
        let v1 = resolve_api_root(Some("https://acme.retool.com"), None, Dialect::V1, false);
        assert_eq!(
            v1.map(|u| u.to_string()).as_deref(),
            Ok("https://acme.retool.com/api/v1")
        );
    }

    #[test]
    fn api_root_is_used_verbatim() {
        assert_eq!(
            resolve(None, Some("http://127.0.0.1:9000"), false).as_deref(),
            Ok("http://127.0.0.1:9000/")
        );
        assert_eq!(
            resolve(None, Some("https://proxy.acme.com/retool-api"), false).as_deref(),
            Ok("https://proxy.acme.com/retool-api")
        );
    }

    #[test]
    fn plain_http_is_refused_off_loopback_unless_allowed() {
        assert!(matches!(
            resolve(Some("http://acme.example.com"), None, false),
            Err(ConfigError::InsecureHttp { .. })
        ));
        assert!(matches!(
            resolve(None, Some("http://10.0.0.5/api"), false),
            Err(ConfigError::InsecureHttp { .. })
        ));
        assert_eq!(
            resolve(Some("http://acme.example.com"), None, true).as_deref(),
            Ok("http://acme.example.com/api/v2")
        );
        let msg = resolve(Some("http://acme.example.com"), None, false)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("--allow-insecure-http"), "{msg}");
    }

    #[test]
    fn exactly_one_url_and_a_sane_one_is_required() {
        assert_eq!(resolve(None, None, false), Err(ConfigError::MissingUrl));
        assert_eq!(
            resolve(Some("https://a.com"), Some("https://b.com"), false),
            Err(ConfigError::BothUrls)
        );
        assert!(matches!(
            resolve(Some("acme.retool.com"), None, false),
            Err(ConfigError::InvalidUrl { .. })
        ));
        assert!(matches!(
            resolve(Some("ftp://acme.retool.com"), None, false),
            Err(ConfigError::UnsupportedScheme { .. })
        ));
        let err = resolve(Some("https://me:hunter2@acme.retool.com"), None, false);
        assert!(matches!(err, Err(ConfigError::UnexpectedUrlParts { .. })));
        assert!(!format!("{err:?}").contains("hunter2"));
    }

    #[test]
    fn instance_root_is_the_api_root_without_its_suffix() {
        let api = resolve_api_root(
            Some("https://tools.acme.com/retool"),
            None,
            Dialect::V2,
            false,
        );
        let inst = api.ok().and_then(|u| instance_root(&u, Dialect::V2));
        assert_eq!(
            inst.map(|u| u.to_string()).as_deref(),
            Some("https://tools.acme.com/retool")
        );
        let verbatim = Url::parse("http://127.0.0.1:9/mock").ok();
        assert_eq!(verbatim.and_then(|u| instance_root(&u, Dialect::V2)), None);
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("retool_01hsecret".to_string());
        assert_eq!(format!("{s}"), "[redacted]");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(s.expose(), "retool_01hsecret");
    }
}
