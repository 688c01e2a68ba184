//! The one wrapper over libxml2 the crate has: the process-wide initialisation and entity
//! loader, the owned [`Document`] with its named parse options, the structured-error
//! [`Collector`], [`xml_free`], and the read-only tree primitives ([`Elem`]) that schema
//! validation and WS-Security both walk. libxmlsec1 (`wssec::ffi`), XSD compilation
//! (`schema::ffi`) and libxslt (`mapping::xslt`) build on it and call [`init`] first.
//!
//! The lifetime rules are in `docs/SECURITY.md`, "libxml2 lifetimes": documents and
//! elements are `!Send` (raw pointers) and stay on the thread that parsed them.

mod diag;
mod document;
mod loader;
mod tree;

use std::ffi::c_void;
use std::sync::Once;

use libxml::bindings as x;

pub use diag::{Collector, Diagnostic};
pub use document::{Document, Options, ParseError};
pub use loader::{forget, location, path_of, serve_file, serve_memory};
pub use tree::Elem;

pub(crate) use diag::{collect, node_path};
pub(crate) use tree::{cstr, next_in_order, node_content, ns_href};

static INIT: Once = Once::new();

/// Initialises libxml2 once per process and installs the entity loader. Idempotent;
/// every entry point calls it first, and `wssec::ffi::init` calls it before libxmlsec1's
/// own initialisation (xmlsec's documented order: libxml2 first).
pub fn init() {
    // SAFETY: runs once (`Once`), before any other libxml2 use of this process (every
    // entry point calls `init` first); xmlInitParser is the documented first call, and the
    // loader is installed before any parse can call it.
    INIT.call_once(|| unsafe {
        x::xmlInitParser();
        x::xmlSchemaInitTypes();
        loader::install();
    });
}

/// Frees memory libxml2 or a library built on it allocated (strings, buffers).
///
/// # Safety
/// `p` is null or came from libxml2's allocator and is freed once.
pub(crate) unsafe fn xml_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: `xmlFree` is the allocator's function pointer, set by libxml2 itself at load
    // and never replaced in this process (nothing calls xmlMemSetup), so the read races
    // with no write; the caller vouches for `p`.
    if let Some(free) = unsafe { x::xmlFree } {
        // SAFETY: as above; `p` is non-null and libxml2's.
        unsafe { free(p) }
    }
}
