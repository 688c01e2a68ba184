//! Thin, audited FFI over libxml2 for what the `libxml` crate does not expose: an external
//! entity loader that never touches the network and serves generated schema documents from
//! memory, validation errors carrying the offending node, and a hardened payload parser.
//!
//! Documents and validation contexts are single-threaded and `!Send` by construction (raw
//! pointers); a compiled schema is read-only once parsed and shared between threads
//! ([`Compiled`]). The lifetime rules are in `docs/SECURITY.md`, "libxml2 lifetimes".

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Once, OnceLock};

use libxml::bindings as x;

/// Where the loader finds a document named by a URI.
#[derive(Clone)]
enum Source {
    Memory(Arc<CString>),
    File(CString),
}

fn registry() -> &'static Mutex<HashMap<String, Source>> {
    static REG: OnceLock<Mutex<HashMap<String, Source>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The loader libxml2 had before ours, for local files nobody registered.
static PREVIOUS_LOADER: OnceLock<x::xmlExternalEntityLoader> = OnceLock::new();
static INIT: Once = Once::new();

/// Initialises libxml2 once (on whichever thread comes first, before any other use) and
/// installs the loader. Idempotent.
pub fn init() {
    // SAFETY: runs once, before any other libxml2 use of this process (every entry point
    // calls `init` first); xmlInitParser is the documented first call, and the loader is
    // installed before any parse can call it.
    INIT.call_once(|| unsafe {
        x::xmlInitParser();
        x::xmlSchemaInitTypes();
        PREVIOUS_LOADER.get_or_init(|| x::xmlGetExternalEntityLoader());
        x::xmlSetExternalEntityLoader(Some(loader));
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

/// Serves `uri` from memory until [`forget`] is called.
pub fn serve_memory(uri: &str, text: &str) {
    let c = CString::new(text.replace('\0', "")).expect("no NUL");
    registry()
        .lock()
        .expect("loader registry")
        .insert(uri.to_string(), Source::Memory(Arc::new(c)));
}

/// Serves `uri` (an absolute URL named by an import) from a local file: the XML catalog.
pub fn serve_file(uri: &str, path: &std::path::Path) {
    if let Ok(c) = CString::new(path.display().to_string()) {
        registry()
            .lock()
            .expect("loader registry")
            .insert(uri.to_string(), Source::File(c));
    }
}

pub fn forget(uris: &[String]) {
    let mut reg = registry().lock().expect("loader registry");
    for u in uris {
        reg.remove(u);
    }
}

/// The one entity loader of the process. Generated documents come from memory, catalog
/// entries from their local file; any other URL with a network scheme is refused, which
/// holds even where a caller forgot `XML_PARSE_NONET` (libxml2 calls loaders for DTDs,
/// schema imports/includes and `document()` alike).
unsafe extern "C" fn loader(
    url: *const c_char,
    id: *const c_char,
    ctxt: x::xmlParserCtxtPtr,
) -> x::xmlParserInputPtr {
    if url.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: libxml2 passes a NUL-terminated string valid for the call.
    let u = unsafe { CStr::from_ptr(url) }
        .to_string_lossy()
        .into_owned();
    let found = registry().lock().ok().and_then(|r| r.get(&u).cloned());
    match found {
        // SAFETY: `ctxt` is the parser libxml2 called us for; `text` (an Arc clone held
        // by the registry) outlives the input stream, which only borrows it while the
        // parse that asked runs, and `forget` only runs once that set's loading is done;
        // the filename is a copy libxml2 frees with the input.
        Some(Source::Memory(text)) => unsafe {
            let input = x::xmlNewStringInputStream(ctxt, text.as_ptr() as *const x::xmlChar);
            if !input.is_null() {
                (*input).filename = x::xmlStrdup(url as *const x::xmlChar) as *const c_char;
            }
            input
        },
        // SAFETY: `path` is a NUL-terminated copy valid for the call; libxml2 opens it.
        Some(Source::File(path)) => unsafe { x::xmlNewInputFromFile(ctxt, path.as_ptr()) },
        None => {
            let lower = u.to_ascii_lowercase();
            let local = !lower.contains("://") || lower.starts_with("file://");
            if !local {
                log::warn!("refused to fetch {u}: nothing is fetched over the network");
                return std::ptr::null_mut();
            }
            match PREVIOUS_LOADER.get().copied().flatten() {
                // SAFETY: libxml2's own loader, called with the arguments it gave us.
                Some(prev) => unsafe { prev(url, id, ctxt) },
                // SAFETY: `url` is NUL-terminated and valid for the call.
                None => unsafe { x::xmlNewInputFromFile(ctxt, url) },
            }
        }
    }
}

/// One diagnostic from libxml2, with the node path when the error is about a node.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub message: String,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub path: Option<String>,
    pub warning: bool,
}

impl Diagnostic {
    /// A problem of the library itself, not of the document.
    fn internal(message: &str) -> Diagnostic {
        Diagnostic {
            message: message.to_string(),
            file: None,
            line: None,
            path: None,
            warning: false,
        }
    }

    /// `/a/b: reason (line N)`, libxml2's `Element '{ns}b': ` prefix dropped since the path
    /// says it better.
    pub fn violation(&self) -> String {
        self.violation_at(1)
    }

    /// As [`violation`](Self::violation), for a document that starts on line `first_line`
    /// of the message the caller sent (a payload cut out of its envelope): the line given
    /// is the caller's, not the cut-out's.
    pub fn violation_at(&self, first_line: usize) -> String {
        let mut msg = self.message.trim().trim_end_matches('.').to_string();
        if self.path.is_some() && msg.starts_with("Element '") {
            if let Some(i) = msg.find("': ") {
                msg = msg[i + 3..].to_string();
            }
        }
        let mut out = match &self.path {
            Some(p) => format!("{p}: {msg}"),
            None => msg,
        };
        if let Some(l) = self.line.filter(|&l| l > 0) {
            out.push_str(&format!(" (line {})", l + first_line - 1));
        }
        out
    }
}

unsafe extern "C" fn collect(ctx: *mut c_void, error: x::xmlErrorPtr) {
    if ctx.is_null() || error.is_null() {
        return;
    }
    // SAFETY: `ctx` is the `Vec<Diagnostic>` installed by `Collector` for this call only.
    let out = unsafe { &mut *(ctx as *mut Vec<Diagnostic>) };
    // SAFETY: non-null (checked), libxml2's error record, valid for this call only; no
    // field is kept past it (strings are copied out).
    let e = unsafe { &*error };
    let text = |p: *const c_char| {
        // SAFETY: the record's strings are NUL-terminated and live as long as it.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    };
    let path = if e.node.is_null() {
        None
    } else {
        let node = e.node as *const x::xmlNode;
        // Only element/attribute nodes have a meaningful path.
        // SAFETY: the node of a live error is in the document being parsed or validated,
        // which outlives the callback.
        let t = unsafe { (*node).type_ };
        if t == x::xmlElementType_XML_ELEMENT_NODE || t == x::xmlElementType_XML_ATTRIBUTE_NODE {
            // SAFETY: as above: an element or attribute of a live tree.
            Some(unsafe { node_path(node) })
        } else {
            None
        }
    };
    out.push(Diagnostic {
        message: text(e.message).unwrap_or_else(|| "unknown libxml2 error".into()),
        file: text(e.file),
        line: (e.line > 0).then_some(e.line as usize),
        path,
        warning: e.level == x::xmlErrorLevel_XML_ERR_WARNING,
    });
}

/// `/h:HoSo/h:GiayTo[2]/h:SoBan`: names as the document writes them (prefix if it used
/// one), with a 1-based index only where same-named siblings make it ambiguous.
/// (libxml2's `xmlGetNodePath` writes `*` for default-namespace elements.)
///
/// # Safety
/// `node` is an element or attribute of a live tree, not modified during the call.
unsafe fn node_path(node: *const x::xmlNode) -> String {
    /// # Safety
    /// `n` is a live element or attribute node.
    unsafe fn name(n: *const x::xmlNode) -> String {
        // SAFETY: a live element's or attribute's name is a non-null NUL-terminated string.
        let local = unsafe { CStr::from_ptr((*n).name as *const c_char) }.to_string_lossy();
        // SAFETY: reading a field of a live node.
        let ns = unsafe { (*n).ns };
        // SAFETY: a non-null `ns` is a live namespace of the same tree.
        if !ns.is_null() && !unsafe { (*ns).prefix }.is_null() {
            // SAFETY: checked non-null just above; NUL-terminated.
            let p = unsafe { CStr::from_ptr((*ns).prefix as *const c_char) }.to_string_lossy();
            format!("{p}:{local}")
        } else {
            local.into_owned()
        }
    }
    /// # Safety
    /// `a` and `b` are live nodes of one tree.
    unsafe fn same(a: *const x::xmlNode, b: *const x::xmlNode) -> bool {
        // SAFETY: fields of live nodes; names and hrefs are NUL-terminated.
        unsafe {
            (*b).type_ == x::xmlElementType_XML_ELEMENT_NODE
                && x::xmlStrEqual((*a).name, (*b).name) != 0
                && {
                    let (na, nb) = ((*a).ns, (*b).ns);
                    (na.is_null() && nb.is_null())
                        || (!na.is_null()
                            && !nb.is_null()
                            && x::xmlStrEqual((*na).href, (*nb).href) != 0)
                }
        }
    }
    let mut parts = Vec::new();
    let mut cur = node;
    let mut depth = 0;
    while !cur.is_null() && depth < 1024 {
        // SAFETY: `cur` walks from a live node up through `parent` links, and `p`/`n`
        // below across `prev`/`next` sibling links, of the same live tree; each is checked
        // for null before use, and nothing changes the tree meanwhile ("see above").
        let t = unsafe { (*cur).type_ };
        if t == x::xmlElementType_XML_ATTRIBUTE_NODE {
            // SAFETY: see above; an attribute node.
            parts.push(format!("@{}", unsafe { name(cur) }));
        } else if t == x::xmlElementType_XML_ELEMENT_NODE {
            let (mut before, mut after) = (0, 0);
            // SAFETY: see above.
            let mut p = unsafe { (*cur).prev } as *const x::xmlNode;
            while !p.is_null() {
                // SAFETY: see above; siblings of one tree.
                if unsafe { same(cur, p) } {
                    before += 1;
                }
                // SAFETY: see above.
                p = unsafe { (*p).prev };
            }
            // SAFETY: see above.
            let mut n = unsafe { (*cur).next } as *const x::xmlNode;
            while !n.is_null() {
                // SAFETY: see above; siblings of one tree.
                if unsafe { same(cur, n) } {
                    after += 1;
                }
                // SAFETY: see above.
                n = unsafe { (*n).next };
            }
            // SAFETY: see above; an element node.
            let nm = unsafe { name(cur) };
            parts.push(if before + after > 0 {
                format!("{nm}[{}]", before + 1)
            } else {
                nm
            });
        } else {
            break;
        }
        // SAFETY: see above.
        cur = unsafe { (*cur).parent };
        depth += 1;
    }
    parts.reverse();
    format!("/{}", parts.join("/"))
}

/// Routes this thread's libxml2 errors into a vector for its lifetime.
/// The handler in place before is restored on drop (other layers, e.g. WS-Security, may
/// route libxml2 errors to the log on the same thread).
struct Collector {
    /// Owned (from `Box::into_raw`); freed in `drop`.
    diags: *mut Vec<Diagnostic>,
    previous: (x::xmlStructuredErrorFunc, *mut c_void),
}

impl Collector {
    fn new() -> Self {
        let diags = Box::into_raw(Box::new(Vec::new()));
        // SAFETY: the accessors return this thread's slots of libxml2's global state.
        let previous = unsafe {
            (
                *x::__xmlStructuredError(),
                *x::__xmlStructuredErrorContext(),
            )
        };
        // SAFETY: `diags` stays valid until `drop` restores the previous handler, and the
        // handler is per thread, so no other thread's errors reach this vector.
        unsafe { x::xmlSetStructuredErrorFunc(diags as *mut c_void, Some(collect)) };
        Self { diags, previous }
    }

    fn ptr(&self) -> *mut c_void {
        self.diags as *mut c_void
    }

    fn take(self) -> Vec<Diagnostic> {
        // SAFETY: owned pointer, no callback runs concurrently on this thread.
        unsafe { std::mem::take(&mut *self.diags) }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        // SAFETY: the previous handler is put back first, so no callback can reach the
        // vector, which is then freed once (it came from `Box::into_raw`).
        unsafe {
            x::xmlSetStructuredErrorFunc(self.previous.1, self.previous.0);
            drop(Box::from_raw(self.diags));
        }
    }
}

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
        init();
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
    pub fn validate(&self, doc: &Doc) -> Vec<Diagnostic> {
        let mut diags: Vec<Diagnostic> = Vec::new();
        let Some(vctxt) = ValidCtxt::new(self.schema) else {
            return vec![Diagnostic::internal(
                "libxml2 could not make a validation context",
            )];
        };
        // SAFETY: `diags` outlives the call that may write to it; the handler is removed
        // with the context when `vctxt` drops at the end of this function. `doc.0` is a
        // live document owned by `doc`.
        let rc = unsafe {
            x::xmlSchemaSetValidStructuredErrors(
                vctxt.0,
                Some(collect),
                &mut diags as *mut Vec<Diagnostic> as *mut c_void,
            );
            x::xmlSchemaValidateDoc(vctxt.0, doc.0)
        };
        drop(vctxt);
        diags.retain(|d| !d.warning);
        for d in diags.iter_mut().filter(|d| d.path.is_none()) {
            d.path = doc.path_of_reported_element(d);
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
    /// nothing of why: a caller parses an invalid message into a [`Doc`] for the violations
    /// and their paths. Refuses anything declaring a DTD, as [`Doc::parse`] does.
    pub fn stream_valid(&self, bytes: &[u8]) -> bool {
        init();
        let Ok(len) = c_int::try_from(bytes.len()) else {
            return false;
        };
        if declares_dtd(bytes) {
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

/// A parsed message document.
pub struct Doc(x::xmlDocPtr);

impl Doc {
    /// Parses a message: no network, no recovery, DOCTYPE (and so entities) refused
    /// outright (docs/SECURITY.md, R4 "Nothing declared, nothing fetched";
    /// docs/LIBRARIES.md, "libxml2 recovers unless told not to").
    pub fn parse(bytes: &[u8]) -> Result<Doc, String> {
        init();
        if declares_dtd(bytes) {
            return Err("DOCTYPE and entity declarations are not accepted".into());
        }
        let len = c_int::try_from(bytes.len()).map_err(|_| "document too large".to_string())?;
        let collector = Collector::new();
        // XML_PARSE_HUGE lifts libxml2's own 10 MB text-node ceiling: the envelope scan has
        // already held the message to the gateway's `[limits]` (size, depth, element count,
        // value sizes), which are the limits a caller is told about.
        let opts = x::xmlParserOption_XML_PARSE_NONET as c_int
            | x::xmlParserOption_XML_PARSE_NOCDATA as c_int
            | x::xmlParserOption_XML_PARSE_HUGE as c_int;
        // SAFETY: `bytes` outlives the call and `len` is its length; the errors go to
        // `collector`, alive until after the call.
        let doc = unsafe {
            x::xmlReadMemory(
                bytes.as_ptr() as *const c_char,
                len,
                c"payload.xml".as_ptr(),
                std::ptr::null(),
                opts,
            )
        };
        let diags = collector.take();
        if doc.is_null() {
            let first = diags
                .iter()
                .find(|d| !d.warning)
                .map(|d| d.violation())
                .unwrap_or_else(|| "not well-formed".into());
            return Err(format!("not well-formed XML: {first}"));
        }
        let doc = Doc(doc);
        // SAFETY: `doc` owns a live, non-null document.
        if unsafe { !x::xmlGetIntSubset(doc.0).is_null() } {
            return Err("DOCTYPE is not accepted".into());
        }
        Ok(doc)
    }

    /// The raw document, for other thin layers (XSLT); owned by `self`.
    pub(crate) fn as_ptr(&self) -> x::xmlDocPtr {
        self.0
    }

    /// Takes ownership of a document libxml2/libxslt returned.
    ///
    /// # Safety
    /// `doc` is non-null, owned by nobody else and not freed elsewhere: the `Doc` frees it.
    pub(crate) unsafe fn from_raw(doc: x::xmlDocPtr) -> Doc {
        Doc(doc)
    }

    /// The path of the element a diagnostic names without pointing at it: libxml2 reports
    /// identity-constraint (keyref, unique) violations found when a scope closes with no
    /// node, only `Element '{ns}local': ... key-sequence ['v', ...] ...` and the element's
    /// line. The element is found again by name and line; where several share both (a
    /// message on one line), by holding the key's values; if that still leaves a doubt,
    /// no path is given rather than a wrong one.
    fn path_of_reported_element(&self, d: &Diagnostic) -> Option<String> {
        let line = d.line?;
        let named = d.message.strip_prefix("Element '")?;
        let named = &named[..named.find("': ")?];
        let (ns, local) = match named.strip_prefix('{') {
            Some(rest) => rest.split_once('}')?,
            None => ("", named),
        };
        let candidates = self.elements_named_on_line(ns, local, line);
        let chosen = match candidates.as_slice() {
            [one] => Some(*one),
            [] => None,
            many => {
                let values = key_sequence(&d.message);
                let holding: Vec<_> = many
                    .iter()
                    .filter(|&&n| {
                        // SAFETY: every candidate is an element of the live tree `self` owns.
                        !values.is_empty() && values.iter().all(|v| unsafe { holds(n, v) })
                    })
                    .collect();
                match holding.as_slice() {
                    [one] => Some(**one),
                    _ => None,
                }
            }
        };
        // SAFETY: `chosen` is a node of the live tree `self` owns.
        chosen.map(|n| unsafe { node_path(n) })
    }

    /// Elements `{ns}local` that start on `line`, in document order.
    fn elements_named_on_line(&self, ns: &str, local: &str, line: usize) -> Vec<*const x::xmlNode> {
        let mut found = Vec::new();
        // SAFETY: a read-only, iterative walk of the live tree `self` owns (child, next and
        // parent links); the nodes returned are used only while `self` lives.
        unsafe {
            let root = x::xmlDocGetRootElement(self.0);
            let mut cur = root;
            while !cur.is_null() {
                if (*cur).type_ == x::xmlElementType_XML_ELEMENT_NODE
                    && usize::try_from(x::xmlGetLineNo(cur)).ok() == Some(line)
                    && CStr::from_ptr((*cur).name as *const c_char).to_bytes() == local.as_bytes()
                    && ns.as_bytes() == namespace_of(cur)
                {
                    found.push(cur as *const x::xmlNode);
                }
                // Next node in document order: first child, else next sibling, else the
                // next sibling of the nearest ancestor that has one.
                if !(*cur).children.is_null() {
                    cur = (*cur).children;
                    continue;
                }
                while !cur.is_null() && cur != root && (*cur).next.is_null() {
                    cur = (*cur).parent;
                }
                if cur.is_null() || cur == root {
                    break;
                }
                cur = (*cur).next;
            }
        }
        found
    }

    /// The root element's `(namespace, local name)`.
    pub fn root(&self) -> Option<(String, String)> {
        // SAFETY: `self` owns a live document; the root and its namespace are read and
        // their strings copied out, null-checked first.
        unsafe {
            let root = x::xmlDocGetRootElement(self.0);
            if root.is_null() {
                return None;
            }
            let name = CStr::from_ptr((*root).name as *const c_char)
                .to_string_lossy()
                .into_owned();
            let ns = if (*root).ns.is_null() || (*(*root).ns).href.is_null() {
                String::new()
            } else {
                CStr::from_ptr((*(*root).ns).href as *const c_char)
                    .to_string_lossy()
                    .into_owned()
            };
            Some((ns, name))
        }
    }
}

impl Drop for Doc {
    fn drop(&mut self) {
        // SAFETY: owned since `parse`/`from_raw`, freed once; no node pointer taken from it
        // outlives a `&self` borrow.
        unsafe { x::xmlFreeDoc(self.0) }
    }
}

/// The namespace URI of an element (empty for none).
///
/// # Safety
/// `node` is a live element node; the bytes returned live as long as its document.
unsafe fn namespace_of<'a>(node: *const x::xmlNode) -> &'a [u8] {
    // SAFETY: per the contract above; `ns` and `href` are null or valid for the document.
    unsafe {
        if (*node).ns.is_null() || (*(*node).ns).href.is_null() {
            b""
        } else {
            CStr::from_ptr((*(*node).ns).href as *const c_char).to_bytes()
        }
    }
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
    // SAFETY: per the contract above; attribute and child lists are walked read-only, and
    // each string libxml2 returns is freed after use.
    unsafe {
        let equal = |p: *mut x::xmlChar| {
            if p.is_null() {
                return false;
            }
            let same = CStr::from_ptr(p as *const c_char).to_bytes() == value.as_bytes();
            xml_free(p as *mut c_void);
            same
        };
        let mut a = (*node).properties;
        while !a.is_null() {
            if equal(x::xmlNodeGetContent(a as *const x::xmlNode)) {
                return true;
            }
            a = (*a).next;
        }
        let mut c = (*node).children;
        while !c.is_null() {
            if (*c).type_ == x::xmlElementType_XML_ELEMENT_NODE && equal(x::xmlNodeGetContent(c)) {
                return true;
            }
            c = (*c).next;
        }
        false
    }
}

/// `<!DOCTYPE` or `<!ENTITY` anywhere (markup only: in text `<` is always escaped).
fn declares_dtd(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    while let Some(i) = rest.iter().position(|&b| b == b'<') {
        let tail = &rest[i + 1..];
        if tail.starts_with(b"!DOCTYPE") || tail.starts_with(b"!ENTITY") {
            return true;
        }
        rest = tail;
    }
    false
}

/// The canonical `file://` URI of a schema file. A URI, not a bare path: generated
/// documents live under `lienthong-mem:/`, and a bare absolute path in them would resolve
/// against that scheme.
pub fn location(path: &std::path::Path) -> String {
    let p: PathBuf = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::from("file://");
    for b in p.display().to_string().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The path named by a `file://` URI (or a bare path), for `file:line` messages.
pub fn path_of(uri: &str) -> PathBuf {
    let Some(rest) = uri.strip_prefix("file://") else {
        return PathBuf::from(uri);
    };
    let b = rest.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&rest[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    PathBuf::from(String::from_utf8_lossy(&out).into_owned())
}
