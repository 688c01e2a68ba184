//! libxml2's structured errors as [`Diagnostic`]s: the [`Collector`] that routes one
//! call's errors into a vector, and the node path an error about a node is given.

use std::ffi::{c_char, c_void, CStr};

use libxml::bindings as x;

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
    pub(crate) fn internal(message: &str) -> Diagnostic {
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

/// The structured-error callback: appends libxml2's error to the `Vec<Diagnostic>` given
/// as its context (by [`Collector`], or by a validation context's error setter).
///
/// # Safety
/// Called by libxml2 only: `ctx` is null or a `Vec<Diagnostic>` no one else touches during
/// the call, `error` null or libxml2's record for this call.
pub(crate) unsafe extern "C" fn collect(ctx: *mut c_void, error: x::xmlErrorPtr) {
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
pub(crate) unsafe fn node_path(node: *const x::xmlNode) -> String {
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
pub struct Collector {
    /// Owned (from `Box::into_raw`); freed in `drop`.
    diags: *mut Vec<Diagnostic>,
    previous: (x::xmlStructuredErrorFunc, *mut c_void),
}

impl Collector {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
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

    /// The vector as a callback context, for libxml2 setters that take one.
    pub(crate) fn ptr(&self) -> *mut c_void {
        self.diags as *mut c_void
    }

    pub fn take(self) -> Vec<Diagnostic> {
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
