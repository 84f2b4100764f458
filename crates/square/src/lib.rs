//! The square client and simulator (being written).
