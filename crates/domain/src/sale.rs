//! Web sales: the validated request, and the states a sale goes through on its way to the POS.

use crate::bounds::{Cents, Units};
use crate::{EcommerceId, SaleId};
use chrono::{DateTime, Utc};
use std::fmt;

/// A web-shop sale that passed validation: a known shape, a quantity and an amount within their
/// bounds (`crate::bounds`). Whether the item exists and has stock is decided by the store, atomically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaleRequest {
    pub ecommerce_id: EcommerceId,
    /// Units sold (1 to `MAX_UNITS`), or, for a return, units given back as a negative number.
    pub delta: i64,
    /// Amount paid by the customer, in cents (0 to `MAX_CENTS`).
    pub balance_cents: i64,
    /// Makes a retried request harmless: the same key answers the first result.
    pub idempotency_key: Option<String>,
}

/// Why a sale request was refused before touching the database.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SaleRequestError {
    #[error("item_ecommerce_id must not be empty")]
    EmptyItem,
    #[error("the idempotency key must be 1 to 128 characters (got {0})")]
    BadIdempotencyKey(usize),
}

impl SaleRequest {
    /// Checks a sale's fields (its numbers were bounded when they were read); the idempotency key
    /// comes from the `Idempotency-Key` header or the `order_id` field.
    pub fn parse(
        ecommerce_id: &str,
        delta: Units,
        balance: Cents,
        idempotency_key: Option<&str>,
    ) -> Result<Self, SaleRequestError> {
        let ecommerce_id = ecommerce_id.trim();
        if ecommerce_id.is_empty() {
            return Err(SaleRequestError::EmptyItem);
        }
        let idempotency_key = match idempotency_key.map(str::trim) {
            Some(key) if key.is_empty() || key.chars().count() > 128 => {
                return Err(SaleRequestError::BadIdempotencyKey(key.chars().count()));
            }
            other => other.map(str::to_owned),
        };
        Ok(Self {
            ecommerce_id: EcommerceId::new(ecommerce_id),
            delta: delta.get(),
            balance_cents: balance.get(),
            idempotency_key,
        })
    }

    /// Checks a web return (`delta` units given back, `balance_cents` refunded): the same rules
    /// as a sale; the movement is stored with a negative delta.
    pub fn parse_return(
        ecommerce_id: &str,
        delta: Units,
        balance: Cents,
        idempotency_key: Option<&str>,
    ) -> Result<Self, SaleRequestError> {
        let mut request = Self::parse(ecommerce_id, delta, balance, idempotency_key)?;
        // Bounded to MAX_UNITS, so negating cannot overflow.
        request.delta = -request.delta;
        Ok(request)
    }

    /// Whether units come back into stock (a return) rather than leave it.
    pub fn is_return(&self) -> bool {
        self.delta < 0
    }
}

/// Where a sale is on its way to the POS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaleState {
    /// Accepted and durable; the shop quantity is already decremented; not yet on the POS.
    Accepted,
    /// Recorded on the POS.
    Confirmed,
    /// Given up after repeated or permanent failures; kept with its error for a retry.
    Dead,
}

named_enum!(SaleState {
    Accepted => "accepted",
    Confirmed => "confirmed",
    Dead => "dead",
});

impl fmt::Display for SaleState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored sale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sale {
    pub id: SaleId,
    pub request: SaleRequest,
    /// The link whose quantity was decremented, and the POS product it stood for (kept here
    /// because the link may be removed while the sale is still on its way).
    pub link_id: crate::LinkId,
    pub account_id: crate::AccountId,
    pub pos_ref: crate::PosRef,
    pub state: SaleState,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// The POS's own id for the sale once it is recorded there.
    pub pos_reference: Option<String>,
    /// When the outbox may try again (`None`: at once).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the POS answered that it recorded the sale.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The units went back to the shop because the POS refused the sale for good.
    pub restored: bool,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounds::MAX_UNITS;

    fn units(n: i64) -> Units {
        Units::try_from(n).unwrap()
    }

    fn cents(n: i64) -> Cents {
        Cents::try_from(n).unwrap()
    }

    #[test]
    fn accepts_a_plain_sale_and_trims_the_item() {
        let sale = SaleRequest::parse(" 42 ", units(2), cents(1990), None).unwrap();
        assert_eq!(sale.ecommerce_id.as_str(), "42");
        assert_eq!(sale.delta, 2);
        assert_eq!(sale.idempotency_key, None);
    }

    #[test]
    fn refuses_an_empty_item_and_bad_keys() {
        assert_eq!(
            SaleRequest::parse("  ", units(1), cents(0), None),
            Err(SaleRequestError::EmptyItem)
        );
        let long = "k".repeat(129);
        assert_eq!(
            SaleRequest::parse("1", units(1), cents(0), Some(&long)),
            Err(SaleRequestError::BadIdempotencyKey(129))
        );
        assert_eq!(
            SaleRequest::parse("1", units(1), cents(0), Some(" ")),
            Err(SaleRequestError::BadIdempotencyKey(0))
        );
    }

    #[test]
    fn returns_follow_the_sale_rules_with_a_negative_delta() {
        let back = SaleRequest::parse_return("42", units(2), cents(500), Some("r-1")).unwrap();
        assert_eq!(back.delta, -2);
        assert!(back.is_return());
        let most = SaleRequest::parse_return("42", units(MAX_UNITS), cents(0), None).unwrap();
        assert_eq!(most.delta, -MAX_UNITS);
    }

    #[test]
    fn sale_states_round_trip_through_their_names() {
        for state in [SaleState::Accepted, SaleState::Confirmed, SaleState::Dead] {
            assert_eq!(SaleState::parse(state.as_str()), Some(state));
        }
        assert_eq!(SaleState::parse("lost"), None);
    }
}
