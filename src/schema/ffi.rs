//! XSD compilation and validation over the shared libxml2 wrapper (`crate::libxml2`):
//! validation errors carrying the offending node, identity-constraint errors given the
//! path of the element they name.
//!
//! Validation contexts are single-threaded and `!Send` by construction (raw pointers); a
//! compiled schema is read-only once parsed and shared between threads ([`Compiled`]). The
//! lifetime rules are in `docs/SECURITY.md`, "libxml2 lifetimes".

use std::ffi::{c_char, c_int, c_void, CString};

use libxml::bindings as x;

use crate::libxml2::{self, collect, cstr, node_path, ns_href, Collector, Diagnostic, Document};

/// A compiled schema, shared by every thread: libxml2 only reads an `xmlSchema` once
/// `xmlSchemaParse` has returned it (validation state lives in the validation context), so
/// one compile at load serves all workers. See `docs/SECURITY.md`, "libxml2 lifetimes".
pub struct Compiled {
    /// Owned; freed in `drop`, after every [`ValidCtxt`] borrowing it (they live for one
    /// call of a `&self` method).
    schema: x::xmlSchemaPtr,
}

// SAFETY: the schema is immutable after `xmlSchemaParse` (libxml2 writes validation state
// into the `xmlSchemaValidCtxt`, never into the schema, when the context is given a schema:
// `xsiAssemble` stays off, so `xsi:schemaLocation` in a message adds nothing to it). Each
// validation makes its own context; the schema is freed only in `drop`, when no other
// reference exists. The valgrind test (`tests/hardening/memory.rs`) validates from many
// threads at once to check this.
unsafe impl Send for Compiled {}
// SAFETY: as for `Send`: every `&self` method only reads the schema.
unsafe impl Sync for Compiled {}

/// A validation context for one validation of one message, never reused: libxml2's
/// `xmlSchemaValidateStream` leaves the context pointing at the parser context it freed
/// (`parserCtxt`, the stream flag), and a later `xmlSchemaValidateDoc` on the same context
/// reads that freed memory while reporting an error. A fresh context per pass has no such
/// history; it costs one allocation and a dictionary.
struct ValidCtxt(x::xmlSchemaValidCtxtPtr);

impl ValidCtxt {
    fn new(schema: x::xmlSchemaPtr) -> Option<ValidCtxt> {
        // SAFETY: `schema` is a live compiled schema owned by a `Compiled` that outlives
        // this context (both are confined to one `&self` call of `Compiled`).
        let v = unsafe { x::xmlSchemaNewValidCtxt(schema) };
        (!v.is_null()).then_some(ValidCtxt(v))
    }
}

impl Drop for ValidCtxt {
    fn drop(&mut self) {
        // SAFETY: owned, non-null, freed once; no parser context refers to it any more.
        unsafe { x::xmlSchemaFreeValidCtxt(self.0) }
    }
}

impl Compiled {
    /// Compiles the schema document at `uri` (served by the loader or a local path).
    pub fn compile(uri: &str) -> Result<Compiled, Vec<Diagnostic>> {
        libxml2::init();
        let c =
            CString::new(uri).map_err(|_| vec![Diagnostic::internal("schema URI contains NUL")])?;
        let collector = Collector::new();
        // SAFETY: `c` outlives the parser context; the context is freed before returning
        // and the schema it produced does not refer to it (libxml2 `xmlSchemaParse`
        // copies what it keeps into the schema's own dictionary).
        let schema = unsafe {
            let pctxt = x::xmlSchemaNewParserCtxt(c.as_ptr());
            if pctxt.is_null() {
                std::ptr::null_mut()
            } else {
                x::xmlSchemaSetParserStructuredErrors(pctxt, Some(collect), collector.ptr());
                let s = x::xmlSchemaParse(pctxt);
                x::xmlSchemaFreeParserCtxt(pctxt);
                s
            }
        };
        let diags = collector.take();
        if schema.is_null() {
            return Err(diags);
        }
        Ok(Compiled { schema })
    }

    /// Validates a parsed document; every violation is returned.
    pub fn validate(&self, doc: &Document) -> Vec<Diagnostic> {
        let mut diags: Vec<Diagnostic> = Vec::new();
        let Some(vctxt) = ValidCtxt::new(self.schema) else {
            return vec![Diagnostic::internal(
                "libxml2 could not make a validation context",
            )];
        };
        // SAFETY: `diags` outlives the call that may write to it; the handler is removed
        // with the context when `vctxt` drops at the end of this function. `doc.as_ptr()` is a
        // live document owned by `doc`.
        let rc = unsafe {
            x::xmlSchemaSetValidStructuredErrors(
                vctxt.0,
                Some(collect),
                &mut diags as *mut Vec<Diagnostic> as *mut c_void,
            );
            x::xmlSchemaValidateDoc(vctxt.0, doc.as_ptr())
        };
        drop(vctxt);
        diags.retain(|d| !d.warning);
        for d in diags.iter_mut().filter(|d| d.path.is_none()) {
            d.path = path_of_reported_element(doc, d);
        }
        if rc != 0 && diags.is_empty() {
            diags.push(Diagnostic::internal(&format!(
                "schema validation failed (status {rc})"
            )));
        }
        diags
    }

    /// True when `bytes` is valid, checked while libxml2 parses it with no tree built (its
    /// SAX-plugged validator, the same compiled schema as [`Compiled::validate`]). Says
    /// nothing of why: a caller parses an invalid message into a [`Document`] for the
    /// violations and their paths. Refuses anything declaring a DTD, as
    /// [`libxml2::Options::PAYLOAD`] does.
    pub fn stream_valid(&self, bytes: &[u8]) -> bool {
        libxml2::init();
        let Ok(len) = c_int::try_from(bytes.len()) else {
            return false;
        };
        if crate::xml::dtd::declares_dtd(bytes) {
            return false;
        }
        let Some(vctxt) = ValidCtxt::new(self.schema) else {
            return false;
        };
        // Parser and validity errors land here and are dropped: the tree path reports them.
        let quiet = Collector::new();
        // SAFETY: `bytes` outlives the input buffer, which `xmlSchemaValidateStream` hands
        // to the parser context it makes and frees before returning. `vctxt` is used for
        // this one stream and then freed, never given to `xmlSchemaValidateDoc` (see
        // `ValidCtxt`). `quiet` outlives the call and is unhooked when it drops.
        let rc = unsafe {
            let input = x::xmlParserInputBufferCreateMem(
                bytes.as_ptr() as *const c_char,
                len,
                x::xmlCharEncoding_XML_CHAR_ENCODING_NONE,
            );
            if input.is_null() {
                return false;
            }
            x::xmlSchemaSetValidStructuredErrors(vctxt.0, Some(collect), quiet.ptr());
            // A null SAX handler: the validator's own callbacks only, no tree.
            x::xmlSchemaValidateStream(
                vctxt.0,
                input,
                x::xmlCharEncoding_XML_CHAR_ENCODING_NONE,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        drop(vctxt);
        drop(quiet.take());
        rc == 0
    }
}

impl Drop for Compiled {
    fn drop(&mut self) {
        // SAFETY: owned, non-null, freed once; no validation context outlives a `&self`
        // call, so none refers to it now.
        unsafe { x::xmlSchemaFree(self.schema) }
    }
}

/// The path of the element a diagnostic names without pointing at it: libxml2 reports
/// identity-constraint (keyref, unique) violations found when a scope closes with no
/// node, only `Element '{ns}local': ... key-sequence ['v', ...] ...` and the element's
/// line. The element is found again by name and line; where several share both (a
/// message on one line), by holding the key's values; if that still leaves a doubt,
/// no path is given rather than a wrong one.
fn path_of_reported_element(doc: &Document, d: &Diagnostic) -> Option<String> {
    let line = d.line?;
    let named = d.message.strip_prefix("Element '")?;
    let named = &named[..named.find("': ")?];
    let (ns, local) = match named.strip_prefix('{') {
        Some(rest) => rest.split_once('}')?,
        None => ("", named),
    };
    let candidates = elements_named_on_line(doc, ns, local, line);
    let chosen = match candidates.as_slice() {
        [one] => Some(*one),
        [] => None,
        many => {
            let values = key_sequence(&d.message);
            let holding: Vec<_> = many
                .iter()
                .filter(|&&n| {
                    // SAFETY: every candidate is an element of the live tree `doc` owns.
                    !values.is_empty() && values.iter().all(|v| unsafe { holds(n, v) })
                })
                .collect();
            match holding.as_slice() {
                [one] => Some(**one),
                _ => None,
            }
        }
    };
    // SAFETY: `chosen` is a node of the live tree `doc` owns.
    chosen.map(|n| unsafe { node_path(n) })
}

/// Elements `{ns}local` that start on `line`, in document order.
fn elements_named_on_line(
    doc: &Document,
    ns: &str,
    local: &str,
    line: usize,
) -> Vec<*const x::xmlNode> {
    let mut found = Vec::new();
    let Some(root) = doc.root() else {
        return found;
    };
    let root = root.node();
    let mut cur = root;
    // SAFETY: a read-only walk of the live tree `doc` owns, inside its root; the nodes
    // returned are used only while `doc` is borrowed (by the caller, for one validation).
    unsafe {
        while !cur.is_null() {
            if (*cur).type_ == x::xmlElementType_XML_ELEMENT_NODE
                && usize::try_from(x::xmlGetLineNo(cur)).ok() == Some(line)
                && cstr((*cur).name) == local
                && ns_href((*cur).ns).unwrap_or("") == ns
            {
                found.push(cur as *const x::xmlNode);
            }
            cur = libxml2::next_in_order(cur, root);
        }
    }
    found
}

/// The values of `key-sequence ['a', 'b']` in a libxml2 identity-constraint message.
fn key_sequence(message: &str) -> Vec<String> {
    let Some(start) = message.find("key-sequence [") else {
        return Vec::new();
    };
    let rest = &message[start + "key-sequence [".len()..];
    let Some(end) = rest.find("] ") else {
        return Vec::new();
    };
    rest[..end]
        .split(", ")
        .filter_map(|v| v.strip_prefix('\'')?.strip_suffix('\'').map(str::to_string))
        .collect()
}

/// True when `value` is one of the element's attribute values or the text of one of its
/// children (where a key's fields point).
///
/// # Safety
/// `node` is a live element node.
unsafe fn holds(node: *const x::xmlNode, value: &str) -> bool {
    // SAFETY: per the contract above; attribute and child lists are walked read-only.
    unsafe {
        let mut a = (*node).properties;
        while !a.is_null() {
            if libxml2::node_content(a as *const x::xmlNode) == value {
                return true;
            }
            a = (*a).next;
        }
        let mut c = (*node).children;
        while !c.is_null() {
            if (*c).type_ == x::xmlElementType_XML_ELEMENT_NODE && libxml2::node_content(c) == value
            {
                return true;
            }
            c = (*c).next;
        }
        false
    }
}
