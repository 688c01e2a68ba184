//! Regression tests of the hardening issue, end to end through the real binary: each module
//! is one area (parsing and transport, WS-Security, faults, memory), sharing the helpers of
//! `tests/common`. One test binary, so the crate is linked once for all of them.

mod boot;
#[path = "../common/mod.rs"]
mod common;
mod faults;
mod memory;
mod parsing;
mod schema;
mod stress;
mod traffic;
mod wssec;
