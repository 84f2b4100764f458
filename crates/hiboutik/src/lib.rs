//! The hiboutik client and simulator (being written).
