//! CRON schedules (the original's 5-field syntax) and the time zone they are read in.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use std::fmt;

/// A five-field CRON expression (minute hour day-of-month month day-of-week, with `0`/`7` for
/// Sunday, names such as `MON`, lists, ranges and steps) and its parsed form.
#[derive(Clone)]
pub struct Schedule {
    pub expression: String,
    cron: Cron,
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({})", self.expression)
    }
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.expression == other.expression
    }
}

impl Schedule {
    /// Parses the 5-field syntax; the error says why an expression is refused.
    pub fn parse(expression: &str) -> Result<Self, String> {
        let expression = expression.trim();
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .build()
            .parse(expression)
            .map_err(|e| format!("'{expression}' is not a valid 5-field CRON expression: {e}"))?;
        Ok(Self {
            expression: expression.to_owned(),
            cron,
        })
    }

    /// The first time the schedule fires after `time`, read in `zone`.
    pub fn next_after(&self, time: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&time.with_timezone(&zone), false)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The last time the schedule fired at or before `time`, read in `zone`.
    pub fn last_at_or_before(&self, time: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        self.cron
            .find_previous_occurrence(&time.with_timezone(&zone), true)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// Reads an IANA time zone name (`Europe/Paris`, `UTC`); the error says what was expected.
pub fn parse_time_zone(name: &str) -> Result<Tz, String> {
    name.trim().parse::<Tz>().map_err(|_| {
        format!(
            "'{}' is not a time zone name such as UTC or Europe/Paris",
            name.trim()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn reads_the_original_syntax() {
        for ok in [
            "* * * * *",
            "*/5 9-17 * * MON-FRI",
            "0 3 * * 0",
            "0 3 * * 7",
            "15,45 * 1 JAN *",
        ] {
            assert!(Schedule::parse(ok).is_ok(), "{ok}");
        }
        let refused = Schedule::parse("61 * * * *").unwrap_err();
        assert!(refused.contains("'61 * * * *' is not a valid"), "{refused}");
        assert!(Schedule::parse("* * * *").is_err());
        assert!(
            Schedule::parse("0 * * * * *").is_err(),
            "seconds are not the original syntax"
        );
    }

    #[test]
    fn sunday_is_0_and_7() {
        let saturday = utc(2026, 11, 28, 12, 0);
        let sunday_3am = Some(utc(2026, 11, 29, 3, 0));
        for expression in ["0 3 * * 0", "0 3 * * 7", "0 3 * * SUN"] {
            let schedule = Schedule::parse(expression).unwrap();
            assert_eq!(
                schedule.next_after(saturday, Tz::UTC),
                sunday_3am,
                "{expression}"
            );
        }
    }

    #[test]
    fn fires_in_its_time_zone_across_daylight_saving() {
        let nightly = Schedule::parse("0 3 * * *").unwrap();
        let paris = parse_time_zone("Europe/Paris").unwrap();
        // Winter: Paris is UTC+1, so 03:00 there is 02:00 UTC.
        assert_eq!(
            nightly.next_after(utc(2026, 1, 10, 12, 0), paris),
            Some(utc(2026, 1, 11, 2, 0))
        );
        // Summer: UTC+2.
        assert_eq!(
            nightly.next_after(utc(2026, 7, 10, 12, 0), paris),
            Some(utc(2026, 7, 11, 1, 0))
        );
        assert_eq!(
            nightly.last_at_or_before(utc(2026, 7, 11, 1, 0), paris),
            Some(utc(2026, 7, 11, 1, 0))
        );
        let refused = parse_time_zone("Mars/Olympus").unwrap_err();
        assert!(refused.contains("Mars/Olympus"), "{refused}");
    }
}
