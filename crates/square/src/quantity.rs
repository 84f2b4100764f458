//! Square's stock quantities: decimal strings with up to five fractional digits (`"53"`,
//! `"2.5"`, `"-0.75"`), read exactly (never through a float) and turned into whole units only
//! once summed. Knows nothing of HTTP or of the wire shapes around it.

use std::fmt;
use std::ops::Add;
use std::str::FromStr;

/// How many fractional digits Square allows.
const DECIMALS: u32 = 5;
const SCALE: i128 = 10i128.pow(DECIMALS);

/// An exact quantity, in hundred-thousandths of a unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(i128);

impl Quantity {
    /// Whole units, rounded down (towards minus infinity): 3.25 is 3, -0.5 is -1. Rounding
    /// down never promises a unit the shop does not fully have.
    pub fn whole_units(self) -> i64 {
        let units = self.0.div_euclid(SCALE);
        i64::try_from(units).unwrap_or(if units < 0 { i64::MIN } else { i64::MAX })
    }
}

impl Add for Quantity {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0))
    }
}

impl std::iter::Sum for Quantity {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::default(), Add::add)
    }
}

/// Why a quantity string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadQuantity(String);

impl fmt::Display for BadQuantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "'{}' is not a decimal quantity with at most {DECIMALS} decimals",
            self.0
        )
    }
}

impl std::error::Error for BadQuantity {}

impl FromStr for Quantity {
    type Err = BadQuantity;

    /// `[-+]digits[.digits]`, at most five fractional digits, nothing else (no exponent,
    /// no spaces inside, no empty parts).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadQuantity(text.chars().take(40).collect());
        let trimmed = text.trim();
        let (negative, unsigned) = match trimmed.as_bytes().first() {
            Some(b'-') => (true, &trimmed[1..]),
            Some(b'+') => (false, &trimmed[1..]),
            _ => (false, trimmed),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || whole.len() > 20
            || !digits(whole)
            || !digits(fraction)
            || fraction.len() > DECIMALS as usize
            || (unsigned.contains('.') && fraction.is_empty())
        {
            return Err(bad());
        }
        let whole: i128 = whole.parse().map_err(|_| bad())?;
        let padded = format!("{fraction:0<width$}", width = DECIMALS as usize);
        let fraction: i128 = padded.parse().map_err(|_| bad())?;
        let magnitude = whole * SCALE + fraction;
        Ok(Self(if negative { -magnitude } else { magnitude }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Quantity {
        text.parse().unwrap()
    }

    #[test]
    fn whole_and_fractional_strings_are_read_exactly() {
        assert_eq!(q("53").whole_units(), 53);
        assert_eq!(q("0").whole_units(), 0);
        assert_eq!(q("+7").whole_units(), 7);
        assert_eq!(q("2.5") + q("0.75"), q("3.25"));
        assert_eq!((q("2.5") + q("0.75")).whole_units(), 3);
        assert_eq!(
            (q("0.1") + q("0.2") + q("0.7")).whole_units(),
            1,
            "no float drift"
        );
        assert_eq!(q("0.00001") + q("0.99999"), q("1"));
    }

    #[test]
    fn whole_units_round_down_even_below_zero() {
        assert_eq!(q("3.99999").whole_units(), 3);
        assert_eq!(q("-0.5").whole_units(), -1);
        assert_eq!(q("-2").whole_units(), -2);
        assert_eq!(q("-2.00000").whole_units(), -2);
    }

    #[test]
    fn sums_of_many_rows_stay_exact() {
        let total: Quantity = std::iter::repeat_n(q("0.00001"), 100_000).sum();
        assert_eq!(total.whole_units(), 1);
    }

    #[test]
    fn anything_else_is_refused_with_the_text() {
        for text in [
            "", "-", "1.", ".5", "1.234567", "1e3", "12a", "1,5", "--1", "NaN", " 1 2",
        ] {
            assert!(text.parse::<Quantity>().is_err(), "{text:?} was accepted");
        }
        let err = "lots".parse::<Quantity>().unwrap_err().to_string();
        assert!(err.contains("'lots'"), "{err}");
    }
}
