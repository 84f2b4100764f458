//! What this process has already handled, by key, in a bounded memory of the latest keys: the
//! webhook deliveries (Shopify's `X-Shopify-Webhook-Id`, the same on every retry of one
//! delivery: a retry is answered at once without reading the shop again), and the versions of
//! orders placed before stocksync was connected (read again by every poll's overlap: their
//! items' shop quantities are forgotten once per change, not at every poll). A key it has
//! forgotten (or one another process handled) is handled again, which is harmless: the order
//! lines' keys make a delivery idempotent, and a forgotten quantity is only read again.

use std::collections::{HashSet, VecDeque};

/// How many keys are remembered.
pub const REMEMBERED: usize = 10_000;

/// The latest handled keys, oldest forgotten first.
#[derive(Debug)]
pub struct RecentKeys {
    order: VecDeque<String>,
    ids: HashSet<String>,
    capacity: usize,
}

impl Default for RecentKeys {
    fn default() -> Self {
        Self::with_capacity(REMEMBERED)
    }
}

impl RecentKeys {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            order: VecDeque::new(),
            ids: HashSet::new(),
            capacity: capacity.max(1),
        }
    }

    /// Whether `id` was handled (and is remembered) already.
    pub fn seen(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// Remembers `id` as handled, forgetting the oldest beyond the capacity.
    pub fn handled(&mut self, id: &str) {
        if !self.ids.insert(id.to_owned()) {
            return;
        }
        self.order.push_back(id.to_owned());
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handled_delivery_is_seen_until_newer_ones_push_it_out() {
        let mut recent = RecentKeys::with_capacity(2);
        assert!(!recent.seen("a"));
        recent.handled("a");
        recent.handled("a");
        recent.handled("b");
        assert!(recent.seen("a") && recent.seen("b"));
        recent.handled("c");
        assert!(!recent.seen("a"), "the oldest is forgotten");
        assert!(recent.seen("b") && recent.seen("c"));
    }
}
