//! Injectable faults for the simulated Retool and the `--faults` grammar.
//!
//! # Grammar (`parse_faults`)
//!
//! A comma-separated list of items; whitespace anywhere is ignored. Each item is
//! `KIND` followed by optional `:OPTION`s.
//!
//! | item                 | fault                                                        |
//! |----------------------|--------------------------------------------------------------|
//! | `429[xN]`            | [`Fault::RateLimit`] N times (default 1), no `Retry-After`    |
//! | `5NN[xN]`            | [`Fault::ServerError`] with status 5NN (500–599) N times      |
//! | `slow=DUR[xN]`       | [`Fault::Slow`]: delay `DUR` (`250ms`, `2s`) N times          |
//! | `truncate[xN]`       | [`Fault::Truncate`]: the JSON body cut in half, status 200    |
//! | `non-json[xN]`       | [`Fault::NonJson`]: a 502 HTML proxy error page               |
//! | `wrong-total`        | [`Fault::WrongTotal`]: users' `total_count`/`total` one too high |
//! | `dup-items`          | [`Fault::DuplicateItems`]: last user of page 1 repeated on page 2 |
//! | `loop-token`         | [`Fault::LoopingNextToken`]: users' `next_token` never advances |
//! | `stall@N`            | [`Fault::Stall`]: the Nth request (1-based) never answers     |
//! | `reset[xN]`          | [`Fault::Reset`]: status 200, half the body, then the connection drops |
//! | `garbage[xN]`        | [`Fault::Garbage`]: status 200 with a body that is not JSON   |
//! | `extra-fields`       | [`Fault::ExtraFields`]: unknown fields in every record and envelope |
//! | `drop-nulls`         | [`Fault::DropNulls`]: fields whose value is `null` are left out |
//! | `wrong-type`         | [`Fault::WrongType`]: the first record's booleans sent as strings |
//! | `missing-items`      | [`Fault::MissingItems`]: the first user of page 2 left out    |
//! | `empty-token`        | [`Fault::EmptyNextToken`]: users' `next_token` is `""` with `has_more` |
//! | `bad-utf8`           | [`Fault::InvalidUtf8`]: bytes that are not UTF-8 in a first name |
//! | `lone-surrogate`     | [`Fault::LoneSurrogate`]: a lone `\ud83d` escape in a first name |
//! | `odd-shape`          | [`Fault::OddShape`]: every record wrapped as `{"entry": <record>}` |
//!
//! Options: `:retry-after=SECS` or `:retry-after=date` (429 only: `Retry-After`
//! as delta seconds or as an HTTP date one second ahead), and `:path=TEXT` to
//! limit the fault to requests whose path contains `TEXT` (for example
//! `429x3:path=/users`). Without `path` a counted fault applies to every request
//! until used up, and a permanent one to every request it fits. Example:
//! `429x3,429x2:retry-after=1,500x2,slow=2000msx1,truncate x1,non-json x1,
//! wrong-total,dup-items,loop-token,stall@5`.

use std::time::Duration;

/// How a 429 tells the client to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: <seconds>`.
    Seconds(u64),
    /// `Retry-After: <HTTP date>` one second after the response is made.
    HttpDate,
}

/// One misbehaviour of the simulated server. Counted faults (`times`) apply to
/// the first `times` matching requests, then the endpoint recovers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 429 `{success:false,message}`, optionally with `Retry-After`.
    RateLimit {
        times: u32,
        retry_after: Option<RetryAfter>,
    },
    /// A burst of 5xx `{success:false,message}` answers.
    ServerError { times: u32, status: u16 },
    /// The answer is delayed by `delay` (on top of the configured latency).
    Slow { times: u32, delay: Duration },
    /// Status 200, `application/json`, but only the first half of the body.
    Truncate { times: u32 },
    /// Status 502 with an HTML page, as a proxy in front of Retool would send.
    NonJson { times: u32 },
    /// `total_count` (v2) / `total` (v1) on users is one more than the real count.
    WrongTotal,
    /// On paginated users, the last item of page 1 is repeated first on page 2.
    DuplicateItems,
    /// Users' `next_token` is the same value on every page, with `has_more: true`.
    LoopingNextToken,
    /// The `at_request`-th request (1-based, all paths) never gets an answer
    /// (until the server shuts down).
    Stall { at_request: u64 },
    /// Status 200 and the first half of the body, then the connection is
    /// dropped without finishing the response (a reset mid-body).
    Reset { times: u32 },
    /// Status 200, `text/plain`, a body that is not JSON at all.
    Garbage { times: u32 },
    /// Every record of a list (and the envelope, and any single-record answer)
    /// carries fields the API does not document, nested ones included.
    ExtraFields,
    /// Fields whose value is `null` are left out of every record (an API that
    /// omits optional fields instead of sending `null`).
    DropNulls,
    /// The first record of a list sends its booleans as strings (`"true"`).
    WrongType,
    /// On paginated users, the first user of page 2 is left out while the
    /// total still counts it.
    MissingItems,
    /// Users' `next_token` is the empty string while `has_more` is true.
    EmptyNextToken,
    /// The first `first_name` of a response starts with bytes that are not UTF-8.
    InvalidUtf8,
    /// The first `first_name` of a response starts with a lone UTF-16 surrogate
    /// escape (`\ud83d`), as JavaScript emits for a string cut inside an emoji.
    LoneSurrogate,
    /// Every record of the answer (a list's items, or its single `data`
    /// object) is sent as `{"entry": <record>}`: valid JSON in a shape the
    /// client does not know (an undocumented answer that changed).
    OddShape,
    /// `fault` applies only to requests whose path contains `path_contains`.
    OnPath {
        path_contains: String,
        fault: Box<Fault>,
    },
}

impl Fault {
    /// Restricts this fault to requests whose path contains `path_contains`.
    pub fn on_path(self, path_contains: impl Into<String>) -> Fault {
        Fault::OnPath {
            path_contains: path_contains.into(),
            fault: Box::new(self),
        }
    }

    /// The fault without its path filter, and the filter (empty = every path).
    pub fn unwrap_path(&self) -> (&Fault, &str) {
        match self {
            Fault::OnPath {
                path_contains,
                fault,
            } => {
                let (inner, inner_path) = fault.unwrap_path();
                if inner_path.is_empty() {
                    (inner, path_contains.as_str())
                } else {
                    (inner, inner_path)
                }
            }
            other => (other, ""),
        }
    }

    /// How many requests a counted fault applies to (`None` = permanent).
    pub fn times(&self) -> Option<u32> {
        match self.unwrap_path().0 {
            Fault::RateLimit { times, .. }
            | Fault::ServerError { times, .. }
            | Fault::Slow { times, .. }
            | Fault::Truncate { times }
            | Fault::NonJson { times }
            | Fault::Reset { times }
            | Fault::Garbage { times } => Some(*times),
            _ => None,
        }
    }
}

/// Parses the `--faults` grammar described in the module docs.
pub fn parse_faults(spec: &str) -> Result<Vec<Fault>, String> {
    let compact: String = spec.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = Vec::new();
    for item in compact.split(',').filter(|s| !s.is_empty()) {
        out.push(parse_item(item)?);
    }
    Ok(out)
}

fn parse_item(item: &str) -> Result<Fault, String> {
    let mut parts = item.split(':');
    let head = parts.next().unwrap_or_default();
    let mut retry_after = None;
    let mut path = None;
    for opt in parts {
        let (k, v) = opt
            .split_once('=')
            .ok_or_else(|| format!("fault option `{opt}` in `{item}` must be KEY=VALUE"))?;
        match k {
            "retry-after" => {
                retry_after = Some(if v == "date" {
                    RetryAfter::HttpDate
                } else {
                    RetryAfter::Seconds(v.parse().map_err(|_| {
                        format!("retry-after in `{item}` must be seconds or `date`, not `{v}`")
                    })?)
                })
            }
            "path" if !v.is_empty() => path = Some(v.to_string()),
            _ => return Err(format!("unknown fault option `{k}` in `{item}`")),
        }
    }
    let fault = parse_head(head, item)?;
    if retry_after.is_some() {
        match fault {
            Fault::RateLimit { times, .. } => {
                return Ok(wrap(Fault::RateLimit { times, retry_after }, path));
            }
            _ => return Err(format!("retry-after only applies to 429, not `{item}`")),
        }
    }
    Ok(wrap(fault, path))
}

fn wrap(fault: Fault, path: Option<String>) -> Fault {
    match path {
        Some(p) => fault.on_path(p),
        None => fault,
    }
}

/// Splits `name` and an optional `xN` suffix; `N` defaults to 1.
fn split_times<'a>(head: &'a str, item: &str) -> Result<(&'a str, u32), String> {
    if let Some(pos) = head.rfind('x') {
        let digits = &head[pos + 1..];
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            let n = digits
                .parse::<u32>()
                .map_err(|_| format!("repeat count in `{item}` is too large"))?;
            return Ok((&head[..pos], n));
        }
    }
    Ok((head, 1))
}

fn parse_duration(s: &str, item: &str) -> Result<Duration, String> {
    let bad = || format!("duration in `{item}` must look like `250ms` or `2s`, not `{s}`");
    if let Some(ms) = s.strip_suffix("ms") {
        ms.parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| bad())
    } else if let Some(secs) = s.strip_suffix('s') {
        secs.parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| bad())
    } else {
        Err(bad())
    }
}

fn parse_head(head: &str, item: &str) -> Result<Fault, String> {
    let lower = head.to_ascii_lowercase();
    match lower.as_str() {
        "wrong-total" => return Ok(Fault::WrongTotal),
        "dup-items" => return Ok(Fault::DuplicateItems),
        "loop-token" => return Ok(Fault::LoopingNextToken),
        "extra-fields" => return Ok(Fault::ExtraFields),
        "drop-nulls" => return Ok(Fault::DropNulls),
        "wrong-type" => return Ok(Fault::WrongType),
        "missing-items" => return Ok(Fault::MissingItems),
        "empty-token" => return Ok(Fault::EmptyNextToken),
        "bad-utf8" => return Ok(Fault::InvalidUtf8),
        "lone-surrogate" => return Ok(Fault::LoneSurrogate),
        "odd-shape" => return Ok(Fault::OddShape),
        _ => {}
    }
    if let Some(n) = lower.strip_prefix("stall@") {
        let at_request = n
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| format!("`{item}`: stall@N needs a request number N >= 1"))?;
        return Ok(Fault::Stall { at_request });
    }
    if let Some(rest) = lower.strip_prefix("slow=") {
        let (dur, times) = split_times(rest, item)?;
        return Ok(Fault::Slow {
            times,
            delay: parse_duration(dur, item)?,
        });
    }
    let (name, times) = split_times(&lower, item)?;
    match name {
        "429" => Ok(Fault::RateLimit {
            times,
            retry_after: None,
        }),
        "truncate" => Ok(Fault::Truncate { times }),
        "non-json" => Ok(Fault::NonJson { times }),
        "reset" => Ok(Fault::Reset { times }),
        "garbage" => Ok(Fault::Garbage { times }),
        code if code.len() == 3 && code.starts_with('5') => {
            let status = code
                .parse::<u16>()
                .map_err(|_| format!("unknown fault `{item}`"))?;
            Ok(Fault::ServerError { times, status })
        }
        _ => Err(format!(
            "unknown fault `{item}`; expected one of 429[xN], 5NN[xN], slow=DUR[xN], \
             truncate[xN], non-json[xN], reset[xN], garbage[xN], wrong-total, dup-items, \
             loop-token, stall@N, extra-fields, drop-nulls, wrong-type, missing-items, \
             empty-token, bad-utf8, lone-surrogate"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let faults = parse_faults(
            "429x3,429x2:retry-after=1,500x2,slow=2000msx1,truncate x1,non-json x1,\
             wrong-total,dup-items,loop-token,stall@5",
        )
        .unwrap();
        assert_eq!(
            faults,
            vec![
                Fault::RateLimit {
                    times: 3,
                    retry_after: None
                },
                Fault::RateLimit {
                    times: 2,
                    retry_after: Some(RetryAfter::Seconds(1))
                },
                Fault::ServerError {
                    times: 2,
                    status: 500
                },
                Fault::Slow {
                    times: 1,
                    delay: Duration::from_millis(2000)
                },
                Fault::Truncate { times: 1 },
                Fault::NonJson { times: 1 },
                Fault::WrongTotal,
                Fault::DuplicateItems,
                Fault::LoopingNextToken,
                Fault::Stall { at_request: 5 },
            ]
        );
    }

    #[test]
    fn parses_the_wire_shape_faults() {
        let faults = parse_faults(
            "reset x2, garbage, extra-fields, drop-nulls, wrong-type, missing-items, \
             empty-token, bad-utf8, odd-shape, lone-surrogate:path=/users",
        )
        .unwrap();
        assert_eq!(
            faults,
            vec![
                Fault::Reset { times: 2 },
                Fault::Garbage { times: 1 },
                Fault::ExtraFields,
                Fault::DropNulls,
                Fault::WrongType,
                Fault::MissingItems,
                Fault::EmptyNextToken,
                Fault::InvalidUtf8,
                Fault::OddShape,
                Fault::LoneSurrogate.on_path("/users"),
            ]
        );
        assert_eq!(faults[0].times(), Some(2));
        assert_eq!(faults[2].times(), None);
    }

    #[test]
    fn path_filter_and_http_date_and_defaults() {
        let f = parse_faults("503:path=/groups, 429:retry-after=date, slow=2s").unwrap();
        assert_eq!(
            f[0],
            Fault::ServerError {
                times: 1,
                status: 503
            }
            .on_path("/groups")
        );
        assert_eq!(f[0].unwrap_path().1, "/groups");
        assert_eq!(
            f[1],
            Fault::RateLimit {
                times: 1,
                retry_after: Some(RetryAfter::HttpDate)
            }
        );
        assert_eq!(
            f[2],
            Fault::Slow {
                times: 1,
                delay: Duration::from_secs(2)
            }
        );
        assert_eq!(parse_faults("").unwrap(), vec![]);
    }

    #[test]
    fn bad_specs_are_errors_naming_the_item() {
        for bad in [
            "418",
            "429x",
            "slow=fast",
            "stall@0",
            "500:retry-after=1",
            "429:retry-after=soon",
            "429:colour=red",
        ] {
            let err = parse_faults(bad).unwrap_err();
            assert!(err.contains('`'), "{bad}: {err}");
        }
    }
}
