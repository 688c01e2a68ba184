//! XSLT 1.0 mappings through libxslt, by the `libxslt` crate's typed C bindings
//! (`libxslt::bindings`, generated from libxslt's headers over `libxml::bindings`, so a
//! document pointer is the same type on both sides). The crate's safe wrappers are not used:
//! `parser::parse_bytes` ignores a failed parse (a null stylesheet comes back as `Ok`) and
//! reads without `XML_PARSE_NONET`, and `Stylesheet::transform` sets no security
//! preferences (docs/LIBRARIES.md, "The libxslt crate hides a failed parse"). Every function
//! called here has a binding in the crate, so nothing is declared by hand; the crate's build
//! script links libxslt (and libexslt, unused here: EXSLT is never registered, as before).
//!
//! At run time the stylesheet may read nothing and write nothing: `document()`, file and
//! network reads, file writes and directory creation are all forbidden through
//! `xsltSetCtxtSecurityPrefs` (libxslt `security.h`). The stylesheet itself, a trusted file
//! in `conf/`, may `xsl:import`/`xsl:include` local files at load time; the entity loader
//! never fetches over the network.
//!
//! Compiled stylesheets are not `Send`: compiled per thread on first use, like schemas.

use std::cell::RefCell;
use std::ffi::{c_int, c_void, CString};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Weak};

use libxslt::bindings as x;

use super::Failure;
use crate::libxml2::{self, Document, Options, ParseError};
use crate::problem::{Problem, Problems};

/// The accesses a mapping's stylesheet is refused (`xsltSecurityOption`, `security.h`):
/// all of them.
const FORBIDDEN: [x::xsltSecurityOption; 5] = [
    x::xsltSecurityOption_XSLT_SECPREF_READ_FILE,
    x::xsltSecurityOption_XSLT_SECPREF_WRITE_FILE,
    x::xsltSecurityOption_XSLT_SECPREF_CREATE_DIRECTORY,
    x::xsltSecurityOption_XSLT_SECPREF_READ_NETWORK,
    x::xsltSecurityOption_XSLT_SECPREF_WRITE_NETWORK,
];

pub struct Stylesheet {
    inner: Arc<Source>,
}

struct Source {
    path: PathBuf,
    text: Vec<u8>,
}

struct Compiled(x::xsltStylesheetPtr);

impl Drop for Compiled {
    fn drop(&mut self) {
        // SAFETY: made by xsltParseStylesheetDoc, which owns its document; freed once
        // when the last Rc on this thread goes.
        unsafe { x::xsltFreeStylesheet(self.0) }
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
        let src = &self.inner;
        let url = CString::new(libxml2::location(&src.path)).map_err(|_| "bad path".to_string())?;
        let doc = match Document::parse_at(&src.text, &url, &Options::TRUSTED_FILE) {
            Ok(doc) => doc.into_raw(),
            Err(ParseError::TooLarge) => return Err("stylesheet too large".into()),
            Err(_) => return Err("the stylesheet is not well-formed XML".into()),
        };
        // SAFETY: `doc` is a live document; on success the stylesheet owns it.
        let style = unsafe { x::xsltParseStylesheetDoc(doc) };
        if style.is_null() {
            // SAFETY: on failure libxslt leaves the document with us, to free once.
            drop(unsafe { Document::from_raw(doc) });
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
        let doc =
            Document::parse(input, &Options::PAYLOAD).map_err(|e| Failure::Input(e.to_string()))?;
        // Declared in this order so that the context is freed first, then the prefs.
        let sec = SecurityPrefs::forbid_all()?;
        let ctxt = TransformContext::new(&style, &doc)?;
        // SAFETY: both pointers are live (owned by the guards above, dropped after this
        // call); the prefs outlive the context's use of them, which ends with the transform.
        if unsafe { x::xsltSetCtxtSecurityPrefs(sec.0, ctxt.0) } != 0 {
            // Running without the restrictions would let a mapping read local files.
            return Err(Failure::Input("cannot restrict the XSLT context".into()));
        }
        // SAFETY: `style`, `doc` and `ctxt` are live; `ctxt` was made for this stylesheet
        // and this document; null params/output/profile are allowed by libxslt.
        let result = unsafe {
            x::xsltApplyStylesheetUser(
                style.0,
                doc.as_ptr(),
                std::ptr::null_mut(),
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
        let result = unsafe { Document::from_raw(result) };
        let mut out: *mut x::xmlChar = std::ptr::null_mut();
        let mut len: c_int = 0;
        // SAFETY: `result` and `style` are live; libxslt allocates `out` with xmlMalloc.
        let rc = unsafe { x::xsltSaveResultToString(&mut out, &mut len, result.as_ptr(), style.0) };
        if rc != 0 || out.is_null() {
            return Err(Failure::Input("cannot serialise the XSLT result".into()));
        }
        // SAFETY: libxslt wrote `len` bytes at `out`; copied before it is freed below.
        let bytes = unsafe { std::slice::from_raw_parts(out, len.max(0) as usize) }.to_vec();
        // SAFETY: `out` came from xmlMalloc and is freed once.
        unsafe { libxml2::xml_free(out as *mut c_void) };
        Ok(bytes)
    }
}

/// One transformation's context; freed before the security preferences it points to
/// (declared after them at each use, so dropped first).
struct TransformContext(x::xsltTransformContextPtr);

impl TransformContext {
    fn new(style: &Compiled, doc: &Document) -> Result<Self, Failure> {
        // SAFETY: both are live for the context's whole life (the caller holds them past
        // the guard's drop); libxslt returns null on allocation failure.
        let ctxt = unsafe { x::xsltNewTransformContext(style.0, doc.as_ptr()) };
        if ctxt.is_null() {
            return Err(Failure::Input("cannot create an XSLT context".into()));
        }
        Ok(Self(ctxt))
    }
}

impl Drop for TransformContext {
    fn drop(&mut self) {
        // SAFETY: made by xsltNewTransformContext, freed once.
        unsafe { x::xsltFreeTransformContext(self.0) }
    }
}

/// Preferences that forbid every file and network access (`security.h`).
struct SecurityPrefs(x::xsltSecurityPrefsPtr);

impl SecurityPrefs {
    fn forbid_all() -> Result<Self, Failure> {
        // SAFETY: no arguments; null on allocation failure, checked below.
        let sec = unsafe { x::xsltNewSecurityPrefs() };
        if sec.is_null() {
            return Err(Failure::Input(
                "cannot create XSLT security preferences".into(),
            ));
        }
        let prefs = Self(sec);
        for opt in FORBIDDEN {
            // SAFETY: `prefs` is live; the option is one of security.h's values and
            // xsltSecurityForbid is libxslt's own check function.
            if unsafe { x::xsltSetSecurityPrefs(prefs.0, opt, Some(x::xsltSecurityForbid)) } != 0 {
                return Err(Failure::Input("cannot restrict the XSLT context".into()));
            }
        }
        Ok(prefs)
    }
}

impl Drop for SecurityPrefs {
    fn drop(&mut self) {
        // SAFETY: made by xsltNewSecurityPrefs, freed once, after every context using it.
        unsafe { x::xsltFreeSecurityPrefs(self.0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stylesheet in `dir` whose one template writes `body` inside `<out>`.
    fn sheet(dir: &Path, body: &str) -> Stylesheet {
        let path = dir.join("map.xsl");
        let text = format!(
            r#"<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:template match="/"><out>{body}</out></xsl:template></xsl:stylesheet>"#
        );
        std::fs::write(&path, text).unwrap();
        Stylesheet::load(&path).unwrap()
    }

    #[test]
    fn a_stylesheet_reads_no_file_at_run_time() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret.xml");
        std::fs::write(&secret, "<s>do-not-leak</s>").unwrap();
        let body = format!(
            r#"<xsl:copy-of select="document('{}')"/>"#,
            libxml2::location(&secret)
        );
        // Refused by the security preferences: the transform stops, nothing is read.
        match sheet(dir.path(), &body).transform(b"<a/>") {
            Err(Failure::Value { .. }) => {}
            Ok(out) => panic!("read at run time: {}", String::from_utf8_lossy(&out)),
            Err(other) => panic!("{other:?}"),
        }
    }
}
