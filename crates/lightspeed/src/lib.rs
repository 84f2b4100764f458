//! The lightspeed client and simulator (being written).
