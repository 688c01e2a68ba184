//! The SOAP vocabulary every layer above may speak: the envelope as received
//! ([`envelope`]: the hardened scan, full recognition, and the envelope the gateway builds)
//! and the fault as sent ([`fault`]: its value and its SOAP 1.1 / 1.2 rendering).
//!
//! It imports only `xml` and `model` (docs/DESIGN.md, "Module map"): `wssec` and `schema`
//! read envelopes without knowing the pipeline, and which error becomes which fault is
//! decided above, in `pipeline::fault_map`.

pub mod envelope;
pub mod fault;
