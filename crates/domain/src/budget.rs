//! How often a POS with a monthly call quota (Hiboutik) may be polled so that the month's budget
//! lasts until the month ends: what is left, less the calls the web sales will need and a
//! reserve for webhook reads and retries, shared over the time left. Between polls, webhooks
//! bring the changes.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};

/// Calls one web sale costs on Hiboutik (look up its reference, create, reference, add the
/// line, close).
pub const CALLS_PER_SALE: i64 = 5;
/// The share of the monthly quota kept for webhook reads, retries and reconciliations.
pub const RESERVE_PERCENT: i64 = 10;

/// Where an account's month stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthlyBudget {
    /// Calls allowed in the month.
    pub limit: i64,
    /// Calls made so far this month.
    pub used: i64,
    /// Calls one poll costs (pages of the stock read), as measured on the last one.
    pub calls_per_poll: i64,
    /// Web sales sent to this account so far this month.
    pub sales_this_month: i64,
    pub now: DateTime<Utc>,
}

/// How far apart polls must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollSpacing {
    /// The least time between two polls.
    pub gap: Duration,
    /// Polls the budget still allows this month.
    pub polls_left: i64,
    /// When the month (and its budget) ends.
    pub month_end: DateTime<Utc>,
}

/// The calendar month (UTC) around `now`: its first instant and the first of the next.
pub fn month_bounds(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let first = |year, month| {
        Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
            .single()
            .unwrap_or(now)
    };
    let start = first(now.year(), now.month());
    let end = if now.month() == 12 {
        first(now.year() + 1, 1)
    } else {
        first(now.year(), now.month() + 1)
    };
    (start, end)
}

/// The spacing that makes `budget` last the month.
pub fn poll_spacing(budget: MonthlyBudget) -> PollSpacing {
    let (start, end) = month_bounds(budget.now);
    let left = (end - budget.now).max(Duration::seconds(1));
    // Sales go on at the pace seen so far (over at least a day, so that a month's first sale
    // does not look like a flood).
    let elapsed = (budget.now - start).max(Duration::days(1));
    let expected_sales = budget.sales_this_month * left.num_seconds() / elapsed.num_seconds();
    let reserve = budget.limit * RESERVE_PERCENT / 100;
    let available = budget.limit - budget.used - reserve - expected_sales * CALLS_PER_SALE;
    let polls_left = (available / budget.calls_per_poll.max(1)).max(0);
    let gap = if polls_left == 0 {
        left
    } else {
        Duration::seconds(left.num_seconds() / polls_left)
    };
    PollSpacing {
        gap,
        polls_left,
        month_end: end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
    }

    fn budget(used: i64, calls_per_poll: i64, sales: i64, now: DateTime<Utc>) -> MonthlyBudget {
        MonthlyBudget {
            limit: 10_000,
            used,
            calls_per_poll,
            sales_this_month: sales,
            now,
        }
    }

    #[test]
    fn months_end_on_the_first_of_the_next() {
        assert_eq!(
            month_bounds(at(29, 11)),
            (
                at(1, 0),
                Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
            )
        );
        let december = Utc.with_ymd_and_hms(2026, 12, 31, 23, 0, 0).unwrap();
        assert_eq!(
            month_bounds(december).1,
            Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn a_fresh_budget_shares_what_is_left_over_the_month() {
        // 1 Nov 00:00, 30 days left, 9 000 calls after the reserve, 40 calls a poll: 225 polls,
        // one every 3.2 hours.
        let spacing = poll_spacing(budget(0, 40, 0, at(1, 0)));
        assert_eq!(spacing.polls_left, 225);
        assert_eq!(spacing.gap, Duration::seconds(30 * 86_400 / 225));
    }

    #[test]
    fn expected_sales_and_bigger_reads_widen_the_gap() {
        let quiet = poll_spacing(budget(2_000, 4, 0, at(15, 0)));
        let busy = poll_spacing(budget(2_000, 4, 700, at(15, 0)));
        let big = poll_spacing(budget(2_000, 40, 0, at(15, 0)));
        assert!(busy.gap > quiet.gap, "{busy:?} vs {quiet:?}");
        assert!(big.gap > quiet.gap);
        // 700 sales in 14 days: 800 more in the 16 days left, 4 000 calls kept for them.
        assert_eq!(busy.polls_left, (10_000 - 2_000 - 1_000 - 4_000) / 4);
    }

    #[test]
    fn a_spent_budget_waits_for_the_next_month() {
        let spacing = poll_spacing(budget(9_500, 4, 0, at(20, 12)));
        assert_eq!(spacing.polls_left, 0);
        assert_eq!(at(20, 12) + spacing.gap, spacing.month_end);
    }
}
