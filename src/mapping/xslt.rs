//! XSLT 1.0 mappings through libxslt, by thin FFI (the `libxslt` crate neither reports a
//! failed parse nor exposes the security preferences; docs/LIBRARIES.md, "The libxslt
//! crate hides a failed parse").
//!
//! At run time the stylesheet may read nothing and write nothing: `document()`, file and
//! network reads, file writes and directory creation are all forbidden through
//! `xsltSetCtxtSecurityPrefs` (libxslt `security.h`). The stylesheet itself, a trusted file
//! in `conf/`, may `xsl:import`/`xsl:include` local files at load time; the entity loader
//! never fetches over the network.
//!
//! Compiled stylesheets are not `Send`: compiled per thread on first use, like schemas.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CString};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Weak};

use libxml::bindings as x;

use super::Failure;
use crate::problem::{Problem, Problems};
use crate::schema::ffi::{self, Doc};

type SecurityCheck = unsafe extern "C" fn(*mut c_void, *mut c_void, *const c_char) -> c_int;

#[link(name = "xslt")]
unsafe extern "C" {
    fn xsltParseStylesheetDoc(doc: x::xmlDocPtr) -> *mut c_void;
    fn xsltFreeStylesheet(style: *mut c_void);
    fn xsltNewTransformContext(style: *mut c_void, doc: x::xmlDocPtr) -> *mut c_void;
    fn xsltFreeTransformContext(ctxt: *mut c_void);
    fn xsltNewSecurityPrefs() -> *mut c_void;
    fn xsltFreeSecurityPrefs(sec: *mut c_void);
    fn xsltSetSecurityPrefs(sec: *mut c_void, option: c_int, func: SecurityCheck) -> c_int;
    fn xsltSetCtxtSecurityPrefs(sec: *mut c_void, ctxt: *mut c_void) -> c_int;
    fn xsltSecurityForbid(sec: *mut c_void, ctxt: *mut c_void, value: *const c_char) -> c_int;
    fn xsltApplyStylesheetUser(
        style: *mut c_void,
        doc: x::xmlDocPtr,
        params: *const *const c_char,
        output: *const c_char,
        profile: *mut c_void,
        user: *mut c_void,
    ) -> x::xmlDocPtr;
    fn xsltSaveResultToString(
        out: *mut *mut u8,
        len: *mut c_int,
        result: x::xmlDocPtr,
        style: *mut c_void,
    ) -> c_int;
}

/// `xsltSecurityOption` values (libxslt `security.h`).
const SECPREF_READ_FILE: c_int = 1;
const SECPREF_WRITE_FILE: c_int = 2;
const SECPREF_CREATE_DIRECTORY: c_int = 3;
const SECPREF_READ_NETWORK: c_int = 4;
const SECPREF_WRITE_NETWORK: c_int = 5;

pub struct Stylesheet {
    inner: Arc<Source>,
}

struct Source {
    path: PathBuf,
    text: Vec<u8>,
}

struct Compiled(*mut c_void);

impl Drop for Compiled {
    fn drop(&mut self) {
        // SAFETY: made by xsltParseStylesheetDoc, which owns its document; freed once
        // when the last Rc on this thread goes.
        unsafe { xsltFreeStylesheet(self.0) }
    }
}

thread_local! {
    static SHEETS: RefCell<Vec<(Weak<Source>, Rc<Compiled>)>> = const { RefCell::new(Vec::new()) };
}

impl Stylesheet {
    /// Reads and compiles the stylesheet once (on this thread) to report problems now.
    pub fn load(path: &Path) -> Result<Stylesheet, Problems> {
        let text = std::fs::read(path)
            .map_err(|e| Problems(vec![Problem::file(path, format!("cannot read: {e}"))]))?;
        let s = Stylesheet {
            inner: Arc::new(Source {
                path: path.to_path_buf(),
                text,
            }),
        };
        s.compiled()
            .map_err(|e| Problems(vec![Problem::file(path, e)]))?;
        Ok(s)
    }

    fn compiled(&self) -> Result<Rc<Compiled>, String> {
        let me = Arc::as_ptr(&self.inner);
        if let Some(c) = SHEETS.with(|s| {
            s.borrow()
                .iter()
                .find(|(w, _)| Weak::as_ptr(w) == me)
                .map(|(_, c)| c.clone())
        }) {
            return Ok(c);
        }
        ffi::init();
        let src = &self.inner;
        let url = CString::new(ffi::location(&src.path)).map_err(|_| "bad path".to_string())?;
        let len = c_int::try_from(src.text.len()).map_err(|_| "stylesheet too large")?;
        // Trusted file: entities allowed, network never (the loader refuses it too).
        // SAFETY: `text` and `url` outlive the call; the length is the buffer's.
        let doc = unsafe {
            x::xmlReadMemory(
                src.text.as_ptr() as *const c_char,
                len,
                url.as_ptr(),
                std::ptr::null(),
                x::xmlParserOption_XML_PARSE_NONET as c_int,
            )
        };
        if doc.is_null() {
            return Err("the stylesheet is not well-formed XML".into());
        }
        // SAFETY: `doc` is a live document; on success the stylesheet owns it.
        let style = unsafe { xsltParseStylesheetDoc(doc) };
        if style.is_null() {
            // SAFETY: on failure libxslt leaves the document with us, to free once.
            drop(unsafe { Doc::from_raw(doc) });
            return Err(
                "not a valid XSLT 1.0 stylesheet (see the log for libxslt's reason)".into(),
            );
        }
        let c = Rc::new(Compiled(style));
        SHEETS.with(|s| {
            let mut s = s.borrow_mut();
            s.retain(|(w, _)| w.strong_count() > 0);
            s.push((Arc::downgrade(&self.inner), c.clone()));
        });
        Ok(c)
    }

    /// Transforms a standalone document; the result is serialised as the stylesheet's
    /// `xsl:output` says.
    pub fn transform(&self, input: &[u8]) -> Result<Vec<u8>, Failure> {
        let style = self.compiled().map_err(Failure::Input)?;
        let doc = Doc::parse(input).map_err(Failure::Input)?;
        // Declared in this order so that the context is freed first, then the prefs.
        let sec = SecurityPrefs::forbid_all()?;
        let ctxt = TransformContext::new(&style, &doc)?;
        // SAFETY: both pointers are live (owned by the guards above, dropped after this
        // call); the prefs outlive the context's use of them, which ends with the transform.
        if unsafe { xsltSetCtxtSecurityPrefs(sec.0, ctxt.0) } != 0 {
            // Running without the restrictions would let a mapping read local files.
            return Err(Failure::Input("cannot restrict the XSLT context".into()));
        }
        // SAFETY: `style`, `doc` and `ctxt` are live; `ctxt` was made for this stylesheet
        // and this document; null params/output/profile are allowed by libxslt.
        let result = unsafe {
            xsltApplyStylesheetUser(
                style.0,
                doc.as_ptr(),
                std::ptr::null(),
                std::ptr::null(),
                std::ptr::null_mut(),
                ctxt.0,
            )
        };
        if result.is_null() {
            return Err(Failure::Value {
                path: "/".into(),
                problem: "the stylesheet stopped (xsl:message terminate, or a forbidden document() access)".into(),
            });
        }
        // SAFETY: a non-null result document is the caller's to free.
        let result = unsafe { Doc::from_raw(result) };
        let mut out: *mut u8 = std::ptr::null_mut();
        let mut len: c_int = 0;
        // SAFETY: `result` and `style` are live; libxslt allocates `out` with xmlMalloc.
        let rc = unsafe { xsltSaveResultToString(&mut out, &mut len, result.as_ptr(), style.0) };
        if rc != 0 || out.is_null() {
            return Err(Failure::Input("cannot serialise the XSLT result".into()));
        }
        // SAFETY: libxslt wrote `len` bytes at `out`; copied before it is freed below.
        let bytes = unsafe { std::slice::from_raw_parts(out, len.max(0) as usize) }.to_vec();
        // SAFETY: `out` came from xmlMalloc and is freed once.
        unsafe { ffi::xml_free(out as *mut c_void) };
        Ok(bytes)
    }
}

/// One transformation's context; freed before the security preferences it points to
/// (declared after them at each use, so dropped first).
struct TransformContext(*mut c_void);

impl TransformContext {
    fn new(style: &Compiled, doc: &Doc) -> Result<Self, Failure> {
        // SAFETY: both are live for the context's whole life (the caller holds them past
        // the guard's drop); libxslt returns null on allocation failure.
        let ctxt = unsafe { xsltNewTransformContext(style.0, doc.as_ptr()) };
        if ctxt.is_null() {
            return Err(Failure::Input("cannot create an XSLT context".into()));
        }
        Ok(Self(ctxt))
    }
}

impl Drop for TransformContext {
    fn drop(&mut self) {
        // SAFETY: made by xsltNewTransformContext, freed once.
        unsafe { xsltFreeTransformContext(self.0) }
    }
}

/// Preferences that forbid every file and network access (`security.h`).
struct SecurityPrefs(*mut c_void);

impl SecurityPrefs {
    fn forbid_all() -> Result<Self, Failure> {
        // SAFETY: no arguments; null on allocation failure, checked below.
        let sec = unsafe { xsltNewSecurityPrefs() };
        if sec.is_null() {
            return Err(Failure::Input(
                "cannot create XSLT security preferences".into(),
            ));
        }
        let prefs = Self(sec);
        for opt in [
            SECPREF_READ_FILE,
            SECPREF_WRITE_FILE,
            SECPREF_CREATE_DIRECTORY,
            SECPREF_READ_NETWORK,
            SECPREF_WRITE_NETWORK,
        ] {
            // SAFETY: `prefs` is live; the option is one of security.h's values and
            // xsltSecurityForbid is libxslt's own check function.
            if unsafe { xsltSetSecurityPrefs(prefs.0, opt, xsltSecurityForbid) } != 0 {
                return Err(Failure::Input("cannot restrict the XSLT context".into()));
            }
        }
        Ok(prefs)
    }
}

impl Drop for SecurityPrefs {
    fn drop(&mut self) {
        // SAFETY: made by xsltNewSecurityPrefs, freed once, after every context using it.
        unsafe { xsltFreeSecurityPrefs(self.0) }
    }
}
