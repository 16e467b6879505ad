//! Progress bars on a terminal: one line per endpoint with pages and records
//! read (and the total when the API reports one), and the wait before a retry
//! after a 429 or a server error. Only used when stderr is a terminal and
//! `--quiet` is not given; under cron the summary line is all there is.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::retool::Progress;

/// Bars for one collection, keyed by endpoint.
pub struct TerminalProgress {
    org: String,
    multi: MultiProgress,
    bars: Mutex<HashMap<String, Bar>>,
}

struct Bar {
    bar: ProgressBar,
    pages: u64,
}

impl TerminalProgress {
    /// Bars drawn on stderr for the collection of `org`.
    pub fn stderr(org: &str) -> TerminalProgress {
        TerminalProgress::new(org, ProgressDrawTarget::stderr())
    }

    fn new(org: &str, target: ProgressDrawTarget) -> TerminalProgress {
        TerminalProgress {
            org: org.to_string(),
            multi: MultiProgress::with_draw_target(target),
            bars: Mutex::new(HashMap::new()),
        }
    }

    /// Removes the bars (before the summary line is printed).
    pub fn finish(&self) {
        let bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        for b in bars.values() {
            b.bar.finish_and_clear();
        }
        let _ = self.multi.clear();
    }

    fn with_bar(&self, endpoint: &str, f: impl FnOnce(&mut Bar)) {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        let entry = bars.entry(endpoint.to_string()).or_insert_with(|| {
            let bar = self.multi.add(ProgressBar::no_length());
            bar.set_style(
                ProgressStyle::with_template("{prefix:.bold} {wide_msg} {pos}/{len} records")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_prefix(format!("{} {endpoint}", self.org));
            bar.enable_steady_tick(Duration::from_millis(250));
            Bar { bar, pages: 0 }
        });
        f(entry);
    }

    /// Pages and records seen for `endpoint` so far.
    #[cfg(test)]
    fn seen(&self, endpoint: &str) -> Option<(u64, u64, Option<u64>)> {
        let bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        bars.get(endpoint)
            .map(|b| (b.pages, b.bar.position(), b.bar.length()))
    }
}

impl Progress for TerminalProgress {
    fn page(&self, endpoint: &str, records: u64, reported_total: Option<u64>) {
        self.with_bar(endpoint, |b| {
            b.pages += 1;
            b.bar.inc(records);
            // Without a reported total the count so far is all there is to show.
            b.bar
                .set_length(reported_total.unwrap_or_else(|| b.bar.position()));
            b.bar.set_message(format!("{} page(s)", b.pages));
        });
    }

    fn retry_wait(&self, endpoint: &str, wait: Duration, reason: &str) {
        self.with_bar(endpoint, |b| {
            b.bar.set_message(format!(
                "{} page(s), {reason}: waiting {:.1}s before retrying",
                b.pages,
                wait.as_secs_f64()
            ));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_records_add_up_per_endpoint() {
        let p = TerminalProgress::new("acme", ProgressDrawTarget::hidden());
        p.page("GET /users", 100, Some(250));
        p.page("GET /users", 100, Some(250));
        p.retry_wait("GET /users", Duration::from_secs(2), "rate limited (429)");
        p.page("GET /users", 50, Some(250));
        p.page("POST /permissions/listObjects", 3, None);
        p.page("POST /permissions/listObjects", 4, None);
        assert_eq!(p.seen("GET /users"), Some((3, 250, Some(250))));
        assert_eq!(
            p.seen("POST /permissions/listObjects"),
            Some((2, 7, Some(7)))
        );
        p.finish();
    }
}
