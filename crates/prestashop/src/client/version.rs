//! The shop's PrestaShop version, learnt from the `PSWS-Version` header of the Webservice's
//! answers (shop-apis.md §3.1), and the decision it drives: how a stock row is written (§3.4).
//! On 8.0 and later one PATCH of `id` and `quantity`; on 1.7, while the version is unknown, or
//! once the shop refused a PATCH (a key without the permission), a read of the whole row and
//! a PUT of it back. Pure: the client keeps what it learnt (`Learnt`) and asks here.

use super::PrestaError;
use std::fmt;

/// A PrestaShop version, as far as the client needs it: its first two numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PrestaVersion {
    pub major: u32,
    pub minor: u32,
}

impl PrestaVersion {
    /// The version a `PSWS-Version` header says ("1.7.8.11", "8.1.2", "9.0.0"); `None` (an
    /// unknown version) unless it starts with two whole numbers.
    pub fn parse(header: &str) -> Option<Self> {
        let mut parts = header.trim().split('.');
        let mut number = || parts.next()?.parse::<u32>().ok();
        Some(Self {
            major: number()?,
            minor: number()?,
        })
    }

    /// Whether the Webservice takes PATCH (8.0 and later).
    pub fn has_patch(self) -> bool {
        self.major >= 8
    }
}

impl fmt::Display for PrestaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// What a client learnt of its shop from the answers so far; shared by its clones.
#[derive(Debug, Default)]
pub(super) struct Learnt {
    /// From the last answer that had a `PSWS-Version` header (`None`: unreadable, or none yet).
    pub version: Option<PrestaVersion>,
    /// The shop refused a PATCH: stock is written by read and PUT from then on.
    pub patch_refused: bool,
}

/// How a stock row is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum StockWrite {
    /// One PATCH of `id` and `quantity`; what it leaves out keeps its value.
    Patch,
    /// A GET of the whole row, then a PUT of it with the new quantity.
    ReadAndPut,
}

impl Learnt {
    pub fn stock_write(&self) -> StockWrite {
        match self.version {
            Some(version) if version.has_patch() && !self.patch_refused => StockWrite::Patch,
            _ => StockWrite::ReadAndPut,
        }
    }
}

/// Whether a PATCH's error says the shop does not take PATCH from this key: 405 (1.7's
/// "method not valid", code 23, or a key without the PATCH permission, code 25) or a 401/403
/// refusal. Writing by read and PUT is then the way; a wrong key fails there as well.
pub(super) fn refuses_patch(error: &PrestaError) -> bool {
    matches!(
        error,
        PrestaError::MethodNotAllowed(_) | PrestaError::Auth(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(major: u32, minor: u32) -> Option<PrestaVersion> {
        Some(PrestaVersion { major, minor })
    }

    #[test]
    fn the_header_reads_as_its_first_two_numbers_or_as_unknown() {
        assert_eq!(PrestaVersion::parse("1.7.8.11"), version(1, 7));
        assert_eq!(PrestaVersion::parse("8.1.2"), version(8, 1));
        assert_eq!(PrestaVersion::parse(" 9.0.0 "), version(9, 0));
        assert_eq!(PrestaVersion::parse("9.0.0-beta.1"), version(9, 0));
        for garbage in ["", "8", "eight.one", "8.x", "-1.7", "v8.1.2", "8,1"] {
            assert_eq!(PrestaVersion::parse(garbage), None, "{garbage:?}");
        }
        assert_eq!(version(8, 1).unwrap().to_string(), "8.1");
    }

    #[test]
    fn stock_is_patched_from_8_0_until_the_shop_refuses() {
        let write = |version, patch_refused| {
            Learnt {
                version,
                patch_refused,
            }
            .stock_write()
        };
        assert_eq!(write(version(8, 0), false), StockWrite::Patch);
        assert_eq!(write(version(9, 0), false), StockWrite::Patch);
        assert_eq!(write(version(1, 7), false), StockWrite::ReadAndPut);
        assert_eq!(write(None, false), StockWrite::ReadAndPut);
        assert_eq!(write(version(8, 1), true), StockWrite::ReadAndPut);
    }

    #[test]
    fn only_a_refusal_of_the_method_or_the_key_means_no_patch() {
        let what = || "x".to_owned();
        assert!(refuses_patch(&PrestaError::MethodNotAllowed(what())));
        assert!(refuses_patch(&PrestaError::Auth(what())));
        assert!(!refuses_patch(&PrestaError::Rejected(what())));
        assert!(!refuses_patch(&PrestaError::NotFound(what())));
        assert!(!refuses_patch(&PrestaError::Unavailable(what())));
    }
}
