//! Typed errors of the Retool client: bad configuration ([`ConfigError`]) and
//! failed API calls ([`ApiError`]). Every message names what failed and what to
//! do; none ever contains the API token, a header or a query string.

use thiserror::Error;

/// The client cannot be configured as asked (exit code 2 material).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error(
        "no Retool URL given: pass the instance root (for example --base-url https://acme.retool.com) or the API root (--api-root)"
    )]
    MissingUrl,
    #[error(
        "both a base URL and an API root were given: pass only one (--base-url for the instance root, --api-root for a proxy or mock serving the API at its root)"
    )]
    BothUrls,
    #[error(
        "`{url}` is not a valid URL ({detail}); expected something like https://acme.retool.com"
    )]
    InvalidUrl { url: String, detail: String },
    #[error("`{url}` uses the scheme `{scheme}`; only https (or http on loopback) is supported")]
    UnsupportedScheme { url: String, scheme: String },
    #[error(
        "refusing to send the API token over plain http to `{host}`: use https, or allow it explicitly (--allow-insecure-http) if this is a trusted network"
    )]
    InsecureHttp { host: String },
    #[error("`{url}` must not contain a user name, password, query string or fragment")]
    UnexpectedUrlParts { url: String },
    #[error("the HTTP client could not be built: {detail}")]
    HttpClient { detail: String },
}

/// One API call failed. `endpoint` is a method and path template such as
/// `GET /users` — never a full URL, a query string or the token.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ApiError {
    #[error(
        "{endpoint}: the API token was rejected (401); check RETOOL_API_TOKEN / --token-file and that the token has not been revoked"
    )]
    Unauthorized { endpoint: String },
    #[error("{endpoint}: the API token lacks a required scope{} (403): {message}; add the scope to the token in Retool settings", scope.as_deref().map(|s| format!(" `{s}`")).unwrap_or_default())]
    MissingScope {
        endpoint: String,
        scope: Option<String>,
        message: String,
    },
    #[error("{endpoint}: not available on this Retool version (404)")]
    NotFound { endpoint: String },
    #[error(
        "{endpoint}: still rate limited (429) after {attempts} attempts; lower --concurrency or set a request rate limit and try again"
    )]
    RateLimited { endpoint: String, attempts: u32 },
    #[error("{endpoint}: Retool answered HTTP {status} after {attempts} attempt(s): {message}")]
    Server {
        endpoint: String,
        status: u16,
        attempts: u32,
        message: String,
    },
    #[error("{endpoint}: network error: {detail}; check the URL, DNS, proxy and TLS settings")]
    Network { endpoint: String, detail: String },
    #[error(
        "{endpoint}: no response within the request timeout after {attempts} attempt(s); the server may be overloaded, try a longer timeout or lower concurrency"
    )]
    Timeout { endpoint: String, attempts: u32 },
    #[error("{endpoint}: unexpected response at `{path}`: {detail}")]
    Decode {
        endpoint: String,
        path: String,
        detail: String,
    },
    #[error("{endpoint}: pagination failed: {detail}")]
    Pagination { endpoint: String, detail: String },
    #[error("{endpoint}: not available in the {dialect} API")]
    Unsupported { endpoint: String, dialect: String },
    #[error(
        "the API token contains characters that cannot be sent in an HTTP header (a stray newline or space?); check RETOOL_API_TOKEN / --token-file"
    )]
    InvalidToken,
    /// The host cannot be reached in a way retrying does not fix: its name does
    /// not resolve, nothing accepts the connection, or its TLS certificate is
    /// not accepted. Never retried.
    #[error(
        "cannot reach {host}: {detail}; check the address (--base-url or --api-root), DNS, the proxy and TLS settings"
    )]
    Unreachable { host: String, detail: String },
}

impl ApiError {
    /// The endpoint (method and path template) the error is about.
    pub fn endpoint(&self) -> &str {
        match self {
            ApiError::Unauthorized { endpoint }
            | ApiError::MissingScope { endpoint, .. }
            | ApiError::NotFound { endpoint }
            | ApiError::RateLimited { endpoint, .. }
            | ApiError::Server { endpoint, .. }
            | ApiError::Network { endpoint, .. }
            | ApiError::Timeout { endpoint, .. }
            | ApiError::Decode { endpoint, .. }
            | ApiError::Pagination { endpoint, .. }
            | ApiError::Unsupported { endpoint, .. } => endpoint,
            ApiError::InvalidToken => "client setup",
            ApiError::Unreachable { .. } => "connection",
        }
    }

    /// For an optional endpoint, the reason to record as "not collected" when the
    /// error means "you may not / cannot read this here" (403, 404, unsupported
    /// dialect); `None` for errors that must fail the run.
    pub fn is_optional_skip(&self) -> Option<String> {
        match self {
            ApiError::MissingScope { scope: Some(s), .. } => Some(format!("missing scope {s}")),
            ApiError::MissingScope { scope: None, .. } => {
                Some("missing scope (403 forbidden)".to_string())
            }
            ApiError::NotFound { .. } => {
                Some("not available on this Retool version (404)".to_string())
            }
            ApiError::Unsupported { dialect, .. } => {
                Some(format!("not available in the {dialect} API"))
            }
            _ => None,
        }
    }
}

/// A URL or setting the user gave that cannot work is theirs to fix (2); an
/// HTTP client that cannot be built is a failed run (1).
impl crate::exit::Classify for ConfigError {
    fn exit(&self) -> crate::exit::Exit {
        use crate::exit::Exit::{Failed, Usage};
        match self {
            ConfigError::MissingUrl
            | ConfigError::BothUrls
            | ConfigError::InvalidUrl { .. }
            | ConfigError::UnsupportedScheme { .. }
            | ConfigError::InsecureHttp { .. }
            | ConfigError::UnexpectedUrlParts { .. } => Usage,
            ConfigError::HttpClient { .. } => Failed,
        }
    }
}

/// Every failed API call is a failed run (1): the command was right, tonight's
/// collection did not work (a rejected token or a missing scope included —
/// the error says which to fix; `doctor` checks them before the first night).
impl crate::exit::Classify for ApiError {
    fn exit(&self) -> crate::exit::Exit {
        use crate::exit::Exit::Failed;
        match self {
            ApiError::Unauthorized { .. }
            | ApiError::MissingScope { .. }
            | ApiError::NotFound { .. }
            | ApiError::RateLimited { .. }
            | ApiError::Server { .. }
            | ApiError::Network { .. }
            | ApiError::Timeout { .. }
            | ApiError::Decode { .. }
            | ApiError::Pagination { .. }
            | ApiError::Unsupported { .. }
            | ApiError::InvalidToken
            | ApiError::Unreachable { .. } => Failed,
        }
    }
}
