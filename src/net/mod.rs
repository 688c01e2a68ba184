//! Transport: what the gateway sends over the network. Today the forwarder (the pooled
//! hyper client to providers, with its TLS); the listeners' accept loop and one TLS module
//! for both sides join it under issue #12, item 4 (docs/DESIGN.md, "Current state").

pub mod forward;
