//! The simulator's quantities: integers of hundred-thousandths of a unit, written and read as
//! Square's decimal strings (`"53"`, `"2.5"`, at most five decimals). Written apart from the
//! client's parser on purpose: the contract tests check one against the other.

/// Hundred-thousandths in a unit.
pub const SCALE: i64 = 100_000;

/// `"53"`, `"-2.5"`, `"0.00001"`: no trailing zeros, no exponent.
pub fn format(units: i64) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let magnitude = units.unsigned_abs();
    let whole = magnitude / SCALE as u64;
    let fraction = magnitude % SCALE as u64;
    if fraction == 0 {
        return format!("{sign}{whole}");
    }
    let digits = format!("{fraction:05}");
    format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
}

/// A decimal string with at most five decimals, or `None`.
pub fn parse(text: &str) -> Option<i64> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut parts = rest.split('.');
    let whole = parts.next()?;
    let fraction = parts.next().unwrap_or("");
    let valid = |s: &str, max: usize| s.len() <= max && s.chars().all(|c| c.is_ascii_digit());
    if parts.next().is_some()
        || whole.is_empty()
        || !valid(whole, 12)
        || !valid(fraction, 5)
        || (rest.ends_with('.'))
    {
        return None;
    }
    let mut value = whole.parse::<i64>().ok()? * SCALE;
    for (i, digit) in fraction.chars().enumerate() {
        value += i64::from(digit.to_digit(10)?) * 10_i64.pow(4 - i as u32);
    }
    Some(if negative { -value } else { value })
}

/// Whole units, rounded down (the stock a shop can promise).
pub fn whole(units: i64) -> i64 {
    units.div_euclid(SCALE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_like_square() {
        assert_eq!(format(53 * SCALE), "53");
        assert_eq!(format(0), "0");
        assert_eq!(format(250_000), "2.5");
        assert_eq!(format(-75_000), "-0.75");
        assert_eq!(format(1), "0.00001");
    }

    #[test]
    fn read_back_and_refused() {
        for units in [0, 1, 250_000, -75_000, 53 * SCALE] {
            assert_eq!(parse(&format(units)), Some(units));
        }
        for bad in ["", "1.", "1.123456", "1e2", "+-1", "1.2.3", "abc"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn whole_units_round_down() {
        assert_eq!(whole(325_000), 3);
        assert_eq!(whole(-50_000), -1);
    }
}
