//! Counters the service keeps in memory for `GET /metrics` (sync cycles and their duration,
//! reconciliation drift, webhook events). What the database or the call log already knows
//! (sales by state, outbox age, POS calls, budgets) is read at scrape time, not counted twice.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

/// A metric's name and its labels, in a fixed order.
type Series = (&'static str, Vec<(&'static str, String)>);

#[derive(Clone, Default)]
pub struct Metrics {
    values: Arc<Mutex<BTreeMap<Series, f64>>>,
}

impl Metrics {
    /// Adds `by` to a counter.
    pub fn add(&self, name: &'static str, labels: &[(&'static str, &str)], by: f64) {
        let key = (
            name,
            labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        );
        *self.values.lock().expect("metrics").entry(key).or_default() += by;
    }

    /// Every counter, in the Prometheus text format (without `# TYPE` lines; the caller writes
    /// those once per name).
    pub fn render_counters(&self, out: &mut String) {
        for ((name, labels), value) in self.values.lock().expect("metrics").iter() {
            sample(out, name, labels, *value);
        }
    }

    /// The names counted so far.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self
            .values
            .lock()
            .expect("metrics")
            .keys()
            .map(|(name, _)| *name)
            .collect();
        names.dedup();
        names
    }
}

/// One sample line: `name{label="value",…} value`, label values escaped.
pub fn sample(out: &mut String, name: &str, labels: &[(&'static str, String)], value: f64) {
    let _ = write!(out, "{name}");
    if !labels.is_empty() {
        let labels: Vec<String> = labels
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}=\"{}\"",
                    v.replace('\\', "\\\\")
                        .replace('"', "\\\"")
                        .replace('\n', "\\n")
                )
            })
            .collect();
        let _ = write!(out, "{{{}}}", labels.join(","));
    }
    let _ = writeln!(out, " {value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_as_prometheus_samples() {
        let metrics = Metrics::default();
        metrics.add(
            "stocksync_webhook_events_total",
            &[("source", "square"), ("outcome", "accepted")],
            1.0,
        );
        metrics.add(
            "stocksync_webhook_events_total",
            &[("source", "square"), ("outcome", "accepted")],
            1.0,
        );
        metrics.add(
            "stocksync_sync_cycles_total",
            &[("account", "a\"b"), ("outcome", "ok")],
            1.0,
        );
        let mut out = String::new();
        metrics.render_counters(&mut out);
        assert!(
            out.contains(
                "stocksync_webhook_events_total{source=\"square\",outcome=\"accepted\"} 2\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("stocksync_sync_cycles_total{account=\"a\\\"b\",outcome=\"ok\"} 1\n"),
            "{out}"
        );
        assert_eq!(
            metrics.names(),
            [
                "stocksync_sync_cycles_total",
                "stocksync_webhook_events_total"
            ]
        );
    }
}
