//! A count of the calls made to each POS, by account, endpoint and HTTP status. It feeds the
//! status page, the metrics and the benchmarks.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Which calls are counted together.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallKey {
    pub account: String,
    /// A stable name for the endpoint, without ids (`GET /v2/locations`).
    pub endpoint: &'static str,
    /// The HTTP status, or 0 when no answer came (timeout, refused connection).
    pub status: u16,
}

/// Shared by every client of a process; cloning shares the counts.
#[derive(Clone, Default, Debug)]
pub struct CallLog {
    counts: Arc<Mutex<BTreeMap<CallKey, u64>>>,
}

impl CallLog {
    pub fn record(&self, account: &str, endpoint: &'static str, status: u16) {
        let key = CallKey {
            account: account.to_owned(),
            endpoint,
            status,
        };
        *self
            .counts
            .lock()
            .expect("call log")
            .entry(key)
            .or_default() += 1;
    }

    /// Every count so far.
    pub fn snapshot(&self) -> Vec<(CallKey, u64)> {
        let counts = self.counts.lock().expect("call log");
        counts.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// Calls made for one account, all endpoints and statuses.
    pub fn total(&self, account: &str) -> u64 {
        let counts = self.counts.lock().expect("call log");
        counts
            .iter()
            .filter(|(k, _)| k.account == account)
            .map(|(_, v)| v)
            .sum()
    }

    /// Calls made for one account and endpoint, all statuses.
    pub fn count(&self, account: &str, endpoint: &str) -> u64 {
        let counts = self.counts.lock().expect("call log");
        counts
            .iter()
            .filter(|(k, _)| k.account == account && k.endpoint == endpoint)
            .map(|(_, v)| v)
            .sum()
    }

    /// Calls that got this status, for one account.
    pub fn with_status(&self, account: &str, status: u16) -> u64 {
        let counts = self.counts.lock().expect("call log");
        counts
            .iter()
            .filter(|(k, _)| k.account == account && k.status == status)
            .map(|(_, v)| v)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_account_endpoint_and_status() {
        let log = CallLog::default();
        log.record("a", "GET /x", 200);
        log.record("a", "GET /x", 200);
        log.record("a", "GET /x", 429);
        log.record("b", "POST /y", 0);
        assert_eq!(log.total("a"), 3);
        assert_eq!(log.count("a", "GET /x"), 3);
        assert_eq!(log.with_status("a", 429), 1);
        assert_eq!(log.total("b"), 1);
        assert_eq!(log.snapshot().len(), 3);
    }
}
