//! The owned libxml2 document and the option sets it is parsed with.

use std::ffi::{c_char, c_int, CStr};

use libxml::bindings as x;

use super::{Collector, Diagnostic, Elem};
use crate::xml::dtd::declares_dtd;

/// What a parse does about a document type declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dtd {
    /// Refused on the bytes before libxml2 sees them (`xml::dtd::declares_dtd`), and again
    /// on the tree: libxml2 then never even reads an entity declaration.
    RefusedBeforeParse,
    /// Refused on the tree only: the caller's byte scan (quick-xml, `[limits]`) has
    /// already refused DOCTYPE, and a byte scan here would also refuse `<!DOCTYPE` written
    /// inside a comment or CDATA section, which that scan accepts.
    RefusedInTree,
    /// Allowed: a trusted file of the operator's, entities and all (never fetched over
    /// the network: `NONET`, and the loader refuses network URLs anyway).
    Allowed,
}

/// A named set of parse options. None of them has `XML_PARSE_RECOVER` (a broken document
/// is refused, not repaired: docs/LIBRARIES.md, "libxml2 recovers unless told not to"),
/// `NOENT` (entities are never substituted), `DTDLOAD`/`DTDATTR`/`DTDVALID` (no external
/// subset is read) or `XINCLUDE`.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    flags: c_int,
    dtd: Dtd,
    /// The document's base URL as libxml2 reports it in errors.
    url: &'static CStr,
    /// Forced input encoding; `None` reads the XML declaration.
    encoding: Option<&'static CStr>,
}

/// `NONET`: nothing is fetched over the network by the parser (libxmlsec1 is locked down
/// separately: docs/LIBRARIES.md, "libxmlsec1 fetches any Reference URI").
const NONET: c_int = x::xmlParserOption_XML_PARSE_NONET as c_int;
/// `HUGE` lifts libxml2's own 10 MB ceilings (one text node, lookahead; docs/LIBRARIES.md,
/// "libxml2 has its own 10 MB ceilings"): the envelope scan has already held a message to
/// the gateway's `[limits]`, and config load keeps those within what HUGE allows
/// (`config::libxml2_caps`).
const HUGE: c_int = x::xmlParserOption_XML_PARSE_HUGE as c_int;

impl Options {
    /// A payload for XSD validation or an XSLT mapping. `NOCDATA` merges CDATA sections
    /// into text: the validator and the stylesheet see character data either way, and the
    /// document is never serialised back as the message. Errors are collected and the
    /// first one is the reason given (`ParseError::Malformed`).
    pub const PAYLOAD: Options = Options {
        flags: NONET | x::xmlParserOption_XML_PARSE_NOCDATA as c_int | HUGE,
        dtd: Dtd::RefusedBeforeParse,
        url: c"payload.xml",
        encoding: None,
    };

    /// A whole SOAP message for WS-Security (verify, sign). CDATA sections are kept as
    /// written (the tree is the signed message, and may be serialised back); `NOERROR` and
    /// `NOWARNING` keep libxml2 quiet, since the refusal's reason is ours (docs/SECURITY.md,
    /// "The reason is ours, never a library's"). The envelope scan demanded UTF-8, so the
    /// encoding is fixed.
    pub const MESSAGE: Options = Options {
        flags: NONET
            | x::xmlParserOption_XML_PARSE_NOERROR as c_int
            | x::xmlParserOption_XML_PARSE_NOWARNING as c_int
            | HUGE,
        dtd: Dtd::RefusedInTree,
        url: c"urn:lienthong:message",
        encoding: Some(c"UTF-8"),
    };

    /// A trusted file of the operator's (an XSLT stylesheet): its DTD and entities are
    /// allowed, nothing is fetched over the network; no HUGE (such files are small).
    pub const TRUSTED_FILE: Options = Options {
        flags: NONET,
        dtd: Dtd::Allowed,
        url: c"trusted.xml",
        encoding: None,
    };
}

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Longer than the `int` libxml2 takes as a length.
    #[error("document too large")]
    TooLarge,
    /// `<!DOCTYPE` or `<!ENTITY` in the bytes ([`Options::PAYLOAD`]).
    #[error("DOCTYPE and entity declarations are not accepted")]
    DtdDeclared,
    /// The tree has a document type declaration.
    #[error("DOCTYPE is not accepted")]
    Doctype,
    /// libxml2 refused the document; its diagnostics, first error first.
    #[error("not well-formed XML: {}", first_error(.0))]
    Malformed(Vec<Diagnostic>),
}

fn first_error(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .find(|d| !d.warning)
        .map(|d| d.violation())
        .unwrap_or_else(|| "not well-formed".into())
}

/// A parsed document, owned: freed once on drop. `!Send` (raw pointer), so it stays on the
/// thread that parsed it; every [`Elem`] and `wssec::ffi::DsigCtx` borrows it.
pub struct Document(x::xmlDocPtr);

impl Document {
    /// Parses `bytes` with `options`, named by the option set's URL.
    pub fn parse(bytes: &[u8], options: &Options) -> Result<Document, ParseError> {
        Self::parse_at(bytes, options.url, options)
    }

    /// Parses `bytes` with `options`; `url` is its base (relative references, errors).
    pub fn parse_at(bytes: &[u8], url: &CStr, options: &Options) -> Result<Document, ParseError> {
        super::init();
        if options.dtd == Dtd::RefusedBeforeParse && declares_dtd(bytes) {
            return Err(ParseError::DtdDeclared);
        }
        let len = c_int::try_from(bytes.len()).map_err(|_| ParseError::TooLarge)?;
        let collector = Collector::new();
        // SAFETY: `bytes` outlives the call and `len` is its length; `url` and the
        // encoding are NUL-terminated and outlive it; the errors go to `collector`, alive
        // until after the call.
        let doc = unsafe {
            x::xmlReadMemory(
                bytes.as_ptr() as *const c_char,
                len,
                url.as_ptr(),
                options.encoding.map_or(std::ptr::null(), CStr::as_ptr),
                options.flags,
            )
        };
        let diags = collector.take();
        if doc.is_null() {
            return Err(ParseError::Malformed(diags));
        }
        let doc = Document(doc);
        // SAFETY: `doc` owns a live, non-null document; the subsets are only compared
        // with null.
        let has_dtd = unsafe { !(*doc.0).intSubset.is_null() || !(*doc.0).extSubset.is_null() };
        if has_dtd && options.dtd != Dtd::Allowed {
            return Err(ParseError::Doctype);
        }
        Ok(doc)
    }

    /// The raw document, for the thin layers above (XSD validation, libxslt,
    /// libxmlsec1); owned by `self` and valid while it is borrowed.
    pub(crate) fn as_ptr(&self) -> x::xmlDocPtr {
        self.0
    }

    /// Takes ownership of a document libxml2/libxslt returned.
    ///
    /// # Safety
    /// `doc` is non-null, owned by nobody else and not freed elsewhere: the `Document`
    /// frees it.
    pub(crate) unsafe fn from_raw(doc: x::xmlDocPtr) -> Document {
        Document(doc)
    }

    /// Gives the document up to a new owner (libxslt's `xsltParseStylesheetDoc` takes the
    /// document on success); the caller frees it, or takes it back with
    /// [`from_raw`](Self::from_raw).
    pub(crate) fn into_raw(self) -> x::xmlDocPtr {
        let doc = self.0;
        std::mem::forget(self);
        doc
    }

    /// The root element.
    pub fn root(&self) -> Option<Elem<'_>> {
        // SAFETY: `self` owns a live document.
        let p = unsafe { x::xmlDocGetRootElement(self.0) };
        // SAFETY: a non-null root is a live element of `self`.
        (!p.is_null()).then(|| unsafe { Elem::from_raw(self, p) })
    }

    /// Serialises the document as libxml2 writes it (UTF-8 for a tree read from UTF-8,
    /// with an XML declaration).
    pub fn to_bytes(&self) -> Vec<u8> {
        // SAFETY: `self` owns a live document; libxml2 allocates `mem` (`size` bytes), which
        // is copied and then freed once.
        unsafe {
            let mut mem: *mut x::xmlChar = std::ptr::null_mut();
            let mut size: c_int = 0;
            x::xmlDocDumpMemory(self.0, &mut mem, &mut size);
            if mem.is_null() {
                return Vec::new();
            }
            let out = std::slice::from_raw_parts(mem, size.max(0) as usize).to_vec();
            super::xml_free(mem as *mut _);
            out
        }
    }
}

impl Drop for Document {
    fn drop(&mut self) {
        // SAFETY: owned since `parse`/`from_raw`, freed once; no node pointer taken from it
        // outlives a borrow of `self` (`Elem<'d>`, `DsigCtx<'d>`).
        unsafe { x::xmlFreeDoc(self.0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_option_set_keeps_its_dtd_rule() {
        let xxe = b"<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>";
        assert!(matches!(
            Document::parse(xxe, &Options::PAYLOAD),
            Err(ParseError::DtdDeclared)
        ));
        assert!(matches!(
            Document::parse(xxe, &Options::MESSAGE),
            Err(ParseError::Doctype)
        ));
        assert!(Document::parse(xxe, &Options::TRUSTED_FILE).is_ok());
        // Only the payload set refuses the bytes, so a message may mention one in a comment.
        let quoted = b"<a><!-- <!DOCTYPE x> --></a>";
        assert!(Document::parse(quoted, &Options::MESSAGE).is_ok());
        assert!(Document::parse(quoted, &Options::PAYLOAD).is_err());
    }

    #[test]
    fn broken_xml_is_refused_with_the_first_reason() {
        let Err(e) = Document::parse(b"<a><b></a>", &Options::PAYLOAD) else {
            panic!("accepted");
        };
        assert!(e.to_string().starts_with("not well-formed XML: "), "{e}");
        assert!(matches!(
            Document::parse(b"<a><b></a>", &Options::MESSAGE),
            Err(ParseError::Malformed(_))
        ));
    }

    #[test]
    fn cdata_is_merged_for_payloads_only() {
        let text = b"<a><![CDATA[x]]></a>";
        let kept = Document::parse(text, &Options::MESSAGE).unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&kept).contains("CDATA"));
        let merged = Document::parse(text, &Options::PAYLOAD).unwrap().to_bytes();
        assert!(!String::from_utf8_lossy(&merged).contains("CDATA"));
    }
}
