//! The webhook deliveries this process has already handled, by the platform's delivery id
//! (Shopify's `X-Shopify-Webhook-Id`, the same on every retry of one delivery): a retry is
//! answered at once without reading the shop again. A bounded memory of the latest ids; a
//! delivery it has forgotten (or one another process handled) is handled again, which the
//! order lines' keys make harmless.

use std::collections::{HashSet, VecDeque};

/// How many delivery ids are remembered.
pub const REMEMBERED: usize = 10_000;

/// The latest handled delivery ids, oldest forgotten first.
#[derive(Debug)]
pub struct RecentDeliveries {
    order: VecDeque<String>,
    ids: HashSet<String>,
    capacity: usize,
}

impl Default for RecentDeliveries {
    fn default() -> Self {
        Self::with_capacity(REMEMBERED)
    }
}

impl RecentDeliveries {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            order: VecDeque::new(),
            ids: HashSet::new(),
            capacity: capacity.max(1),
        }
    }

    /// Whether `id` was handled (and remembered) already.
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
        let mut recent = RecentDeliveries::with_capacity(2);
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
