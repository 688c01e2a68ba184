//! lienthong: a SOAP/XML interoperability gateway for a ministry or a province (an LGSP).
//!
//! # The request pipeline
//!
//! Every exchange runs the stages of [`pipeline`] in this order, each a module of its own:
//!
//! ```text
//! receive -> envelope -> dispatch -> verify -> replay -> authorise -> validate -> map
//!         -> headers -> sign -> forward -> (validate, map, sign the answer) -> audit -> respond
//! ```
//!
//! `docs/DESIGN.md` draws it with what each stage checks, and gives the module map and
//! the layer rule (imports point down) the layout below follows.
//!
//! A stage returns `Result<_, PipelineError>`; [`pipeline::fault_map`] turns any error into
//! the SOAP 1.1 or 1.2 fault the caller receives, and the audit record is written before
//! any answer leaves the gateway (fail closed).
//!
//! # Layout
//!
//! - [`config`]: `conf/gateway.toml` parsed into a typed [`config::Config`] in one step.
//! - [`model`]: the small shared vocabulary (agency codes, service names, SOAP versions).
//! - [`xml`]: namespaces, QNames, the hardened parser limits, an escaping writer.
//! - [`soap`]: the SOAP vocabulary: the envelope scan and recognition, the `Fault` value and
//!   its rendering (which error becomes which fault: `pipeline::fault_map`).
//! - [`wsdl`]: WSDL 1.1 / XSD loading with an XML catalog, operation dispatch tables, and
//!   publishing (`?wsdl`, `?xsd=`) with the gateway's own address.
//! - [`wssec`]: WS-Security through libxmlsec1: verify callers, sign what the gateway sends.
//! - [`schema`]: XSD validation through libxml2.
//! - [`mapping`]: translation between agencies' schemas (rules or XSLT).
//! - [`net`]: transport: the forwarder to providers (pooled hyper client, TLS).
//! - [`audit`]: the tamper-evident exchange log (SQLite or PostgreSQL through diesel).
//! - [`server`]: listener, limits, graceful shutdown; [`target`]: what a request target
//!   (method, path, query) asks for, a pure function; [`percent`]: the one percent decoder.
//! - [`web`]: the auditor's HTTP API and page.
//! - [`providers`]: example provider agencies used by `lienthong demo` and the tests.
//! - [`app`]: boot: a configuration and the operator's paths to a loaded
//!   [`registry::Gateway`], every layer's problems reported at once; used by `serve`,
//!   `demo`, `check` and reload.
//! - [`reload`]: SIGHUP / `lienthong reload` rebuilds the catalogue through [`app`] and
//!   swaps it in.
//! - [`cli`]: one file per subcommand: parse the arguments, call [`app`], print.

// Every unsafe block says why it is sound (docs/SECURITY.md, "libxml2 lifetimes").
#![warn(clippy::undocumented_unsafe_blocks)]
// Every `unsafe fn` says in a `# Safety` section what its caller must uphold (clippy checks
// the public ones; the crate-private ones keep the same rule).
#![warn(clippy::missing_safety_doc)]

pub mod app;
pub mod audit;
pub mod cli;
pub mod config;
pub mod libxml2;
pub mod mapping;
pub mod model;
pub mod net;
pub mod percent;
pub mod pipeline;
pub mod problem;
pub mod providers;
pub mod registry;
pub mod reload;
pub mod schema;
pub mod server;
pub mod soap;
pub mod target;
pub mod web;
pub mod wsdl;
pub mod wssec;
pub mod xml;
