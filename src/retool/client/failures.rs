//! How a failed request becomes an [`ApiError`]: a status with Retool's
//! message (and the scope a 403 names), a retry budget used up, a transport
//! failure described (and told apart from one retrying cannot fix), every text
//! redacted so the token never appears.

use reqwest::StatusCode;
use serde_json::Value;
use url::Url;

use super::{Client, Retryable};
use crate::retool::decode::truncate;
use crate::retool::error::ApiError;

impl Client {
    pub(super) fn give_up(&self, endpoint: &str, why: Retryable, attempts: u32) -> ApiError {
        let endpoint = endpoint.to_string();
        match why {
            Retryable::RateLimited => ApiError::RateLimited { endpoint, attempts },
            Retryable::Status(status, message) => ApiError::Server {
                endpoint,
                status,
                attempts,
                message,
            },
            Retryable::Timeout => ApiError::Timeout { endpoint, attempts },
            Retryable::Network(detail) => ApiError::Network {
                endpoint,
                detail: format!("{detail} (after {attempts} attempts)"),
            },
            Retryable::Truncated(len) => ApiError::Decode {
                endpoint,
                path: ".".to_string(),
                detail: format!(
                    "the response body was cut short ({len} bytes, truncated JSON) on all {attempts} attempts"
                ),
            },
        }
    }

    /// The one place a non-success, non-retried response becomes a typed error.
    pub(super) fn error_for_status(
        &self,
        endpoint: &str,
        status: StatusCode,
        body: &[u8],
        attempts: u32,
    ) -> ApiError {
        let endpoint = endpoint.to_string();
        match status {
            StatusCode::UNAUTHORIZED => ApiError::Unauthorized { endpoint },
            StatusCode::FORBIDDEN => {
                let message = self.error_message(body);
                ApiError::MissingScope {
                    endpoint,
                    scope: scope_in(&message),
                    message,
                }
            }
            StatusCode::NOT_FOUND => ApiError::NotFound { endpoint },
            StatusCode::TOO_MANY_REQUESTS => ApiError::RateLimited { endpoint, attempts },
            other => ApiError::Server {
                endpoint,
                status: other.as_u16(),
                attempts,
                message: self.error_message(body),
            },
        }
    }

    /// Retool's `{message}` from an error body, or the start of the text; never
    /// the token, shortened and stripped of control characters (untrusted).
    pub(super) fn error_message(&self, body: &[u8]) -> String {
        let text = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| {
                let s = String::from_utf8_lossy(&body[..body.len().min(400)]).to_string();
                if s.trim_start().starts_with('<') {
                    "an HTML page instead of a JSON error (proxy or gateway?)".to_string()
                } else if s.trim().is_empty() {
                    "no message".to_string()
                } else {
                    s
                }
            });
        self.redact(&truncate(&text, 200))
    }

    pub(super) fn redact(&self, text: &str) -> String {
        let token = self.inner.config.token.expose();
        if token.len() >= 4 && text.contains(token) {
            text.replace(token, "[redacted]")
        } else {
            text.to_string()
        }
    }

    /// Why `e` means the host cannot be reached at all (see
    /// [`ApiError::Unreachable`]), or `None` for a failure worth retrying.
    pub(super) fn unreachable(&self, e: &reqwest::Error) -> Option<String> {
        let mut chain = Vec::new();
        let mut refused = false;
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                refused |= io.kind() == std::io::ErrorKind::ConnectionRefused;
            }
            chain.push(s.to_string());
            source = s.source();
        }
        let chain = chain.join(": ");
        let what = if refused {
            "the connection was refused (nothing listens there)"
        } else {
            permanent_transport_failure(&chain)?
        };
        Some(self.redact(&format!("{what} ({})", truncate(&chain, 300))))
    }

    pub(super) fn describe_transport(&self, e: &reqwest::Error) -> String {
        let mut causes = Vec::new();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            let text = s.to_string();
            if !causes.iter().any(|c: &String| c.contains(&text)) {
                causes.push(text);
            }
            source = s.source();
        }
        let chain = causes.join(": ");
        let lower = chain.to_ascii_lowercase();
        let what = if lower.contains("certificate") || lower.contains("tls") {
            "TLS handshake failed"
        } else if e.is_connect() {
            "could not connect"
        } else if e.is_body() || e.is_decode() {
            "the connection dropped while reading the response"
        } else if lower.contains("reset") {
            "the connection was reset"
        } else {
            "the request failed"
        };
        let detail = if chain.is_empty() {
            what.to_string()
        } else {
            format!("{what} ({})", truncate(&chain, 300))
        };
        self.redact(&detail)
    }
}

/// A scope name such as `workflows:read` in Retool's 403 message, if it names one.
pub(super) fn scope_in(message: &str) -> Option<String> {
    message
        .split(|c: char| {
            c.is_whitespace() || matches!(c, ',' | '"' | '\'' | '`' | '(' | ')' | '[' | ']')
        })
        .map(|w| w.trim_end_matches(['.', ';', '!']))
        .find(|w| {
            let mut parts = w.split(':');
            let first = parts.next().unwrap_or("");
            let rest: Vec<&str> = parts.collect();
            !first.is_empty()
                && !rest.is_empty()
                && std::iter::once(first)
                    .chain(rest.iter().copied())
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        })
        .map(str::to_string)
}

/// What a transport error's cause chain says, when it is a failure retrying
/// cannot fix: a name that does not resolve, a refused connection, a TLS
/// certificate that is not accepted.
pub(super) fn permanent_transport_failure(chain: &str) -> Option<&'static str> {
    let lower = chain.to_ascii_lowercase();
    if [
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "no such host",
    ]
    .iter()
    .any(|m| lower.contains(m))
    {
        Some("the host name does not resolve (DNS)")
    } else if lower.contains("connection refused") {
        Some("the connection was refused (nothing listens there)")
    } else if [
        "invalid peer certificate",
        "certificate verify failed",
        "unknownissuer",
        "notvalidforname",
        "expired certificate",
    ]
    .iter()
    .any(|m| lower.contains(m))
    {
        Some("the server's TLS certificate is not accepted")
    } else {
        None
    }
}

/// `host` or `host:port` of a URL, for messages.
pub(super) fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        (None, _) => url.as_str().to_string(),
    }
}
