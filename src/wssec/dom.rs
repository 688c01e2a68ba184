//! The message as a libxml2 tree, for libxmlsec1: parsed without recovery, network or DTD
//! (docs/LIBRARIES.md, "libxml2 recovers unless told not to"), with every ID-like attribute
//! collected and the accepted ones registered.
//!
//! `Doc` owns the tree; `Elem<'d>` borrows an element of it. Neither is `Send` (raw
//! pointers), which keeps a tree on the thread that parsed it (docs/LIBRARIES.md, "Library
//! objects stay on one thread").

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::marker::PhantomData;
use std::ptr;

use libxml::bindings as lx;

use crate::xml::ns;

#[derive(Debug, thiserror::Error)]
pub enum DomError {
    #[error("the message is not well-formed XML")]
    Malformed,
    #[error("DOCTYPE is not allowed in SOAP messages")]
    Doctype,
    #[error("the ID `{0}` is used by more than one element")]
    DuplicateId(String),
    #[error("entity references and processing instructions are not allowed")]
    Forbidden,
    /// WSU schema: `wsu:Id` is an `xsd:ID`, so an NCName (XML Schema 1.0 Part 2 §3.3.8).
    #[error("the wsu:Id `{0}` is not an XML NCName")]
    NotAnId(String),
}

pub struct Doc {
    ptr: lx::xmlDocPtr,
}

impl Drop for Doc {
    fn drop(&mut self) {
        // SAFETY: we own the document.
        unsafe { lx::xmlFreeDoc(self.ptr) }
    }
}

/// An element of a [`Doc`].
///
/// The invariant every `unsafe` block of this module relies on ("the tree invariant"): an
/// `Elem<'d>` points to a live element node of a document borrowed for `'d`, and nothing
/// frees nodes of a `Doc` while it is borrowed (the gateway never removes nodes; xmlsec
/// only writes digest and signature text into a template's own elements, outside any
/// walk). So each node reached from it through `children`, `next`, `parent` and
/// `properties`, after a null check, is live too, and its strings (names, hrefs, content)
/// are NUL-terminated and live as long as the document.
#[derive(Clone, Copy)]
pub struct Elem<'d> {
    ptr: lx::xmlNodePtr,
    _doc: PhantomData<&'d Doc>,
}

impl PartialEq for Elem<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.ptr == other.ptr
    }
}

impl std::fmt::Debug for Elem<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{{{}}}{}", self.ns(), self.local())
    }
}

/// Parses a message. The caller has already refused DOCTYPE in the byte scan; the tree is
/// checked again so that no path reaches libxmlsec1 with a DTD.
pub fn parse(bytes: &[u8]) -> Result<Doc, DomError> {
    super::ffi::init();
    if bytes.len() > i32::MAX as usize {
        return Err(DomError::Malformed);
    }
    // No RECOVER, no NOENT (entities are never substituted), no DTDLOAD, no XINCLUDE;
    // NONET so that nothing is fetched; errors are not printed. HUGE lifts libxml2's own
    // 10 MB ceilings (one text node, lookahead): without it a signed message past 10 MB was
    // "not well-formed". The envelope scan has held the message to the gateway's `[limits]`
    // by then, and config load keeps those within what HUGE allows (`config::libxml2_caps`).
    let options = lx::xmlParserOption_XML_PARSE_NONET
        | lx::xmlParserOption_XML_PARSE_NOERROR
        | lx::xmlParserOption_XML_PARSE_NOWARNING
        | lx::xmlParserOption_XML_PARSE_HUGE;
    // SAFETY: `bytes` outlives the call and its length fits in an i32 (checked above); the
    // URL and encoding are static C strings.
    let ptr = unsafe {
        lx::xmlReadMemory(
            bytes.as_ptr() as *const _,
            bytes.len() as i32,
            c"urn:lienthong:message".as_ptr(),
            c"UTF-8".as_ptr(),
            options as i32,
        )
    };
    if ptr.is_null() {
        return Err(DomError::Malformed);
    }
    let doc = Doc { ptr };
    // SAFETY: `ptr` is the live, non-null document `doc` now owns.
    unsafe {
        if !(*ptr).intSubset.is_null() || !(*ptr).extSubset.is_null() {
            return Err(DomError::Doctype);
        }
    }
    Ok(doc)
}

/// Every ID-like attribute of the document, by value.
pub struct Ids<'d> {
    by_value: HashMap<String, Elem<'d>>,
}

impl<'d> Ids<'d> {
    pub fn element(&self, id: &str) -> Option<Elem<'d>> {
        self.by_value.get(id).copied()
    }
}

/// Attributes that name an element for a same-document reference.
///
/// docs/SECURITY.md R9: `wsu:Id` is the norm and some clients sign with a plain `Id`; those
/// two are registered as XML IDs (docs/LIBRARIES.md, "libxml2 does not know wsu:Id"). `ID`,
/// `id` and `xml:id` are collected too, so that no two elements of a message share an ID
/// value whichever attribute carries it; `xml:id` is registered by libxml2 itself.
fn id_kind(attr_ns: Option<&str>, local: &str) -> Option<bool> {
    match (attr_ns, local) {
        (Some(ns::WSU), "Id") | (None, "Id") => Some(true),
        (None, "ID") | (None, "id") | (Some(ns::XML), "id") => Some(false),
        _ => None,
    }
}

impl Doc {
    pub fn root(&self) -> Option<Elem<'_>> {
        // SAFETY: `self` owns a live document.
        let p = unsafe { lx::xmlDocGetRootElement(self.ptr) };
        (!p.is_null()).then(|| self.elem(p))
    }

    fn elem(&self, ptr: lx::xmlNodePtr) -> Elem<'_> {
        Elem {
            ptr,
            _doc: PhantomData,
        }
    }

    /// Walks the whole tree once (iteratively: attacker depth costs no stack), refusing
    /// entity references and processing instructions, collecting ID-like attributes,
    /// refusing duplicate values and registering `wsu:Id` / `Id` with libxml2.
    pub fn index_ids(&self) -> Result<Ids<'_>, DomError> {
        let mut by_value: HashMap<String, Elem<'_>> = HashMap::new();
        let Some(root) = self.root() else {
            return Err(DomError::Malformed);
        };
        let mut node = root.ptr;
        // SAFETY: the tree invariant (see `Elem`): the walk follows null-checked links of
        // the live tree; `xmlAddID` only records an attribute of this document in its ID
        // table (the CString is copied by libxml2), which frees no node.
        unsafe {
            loop {
                let t = (*node).type_;
                if t == lx::xmlElementType_XML_ENTITY_REF_NODE
                    || t == lx::xmlElementType_XML_PI_NODE
                {
                    return Err(DomError::Forbidden);
                }
                if t == lx::xmlElementType_XML_ELEMENT_NODE {
                    let mut a = (*node).properties;
                    while !a.is_null() {
                        let ans = ns_href((*a).ns);
                        let local = cstr((*a).name);
                        if let Some(register) = id_kind(ans, local) {
                            let value = attr_value(a);
                            if ans == Some(ns::WSU) && !crate::xml::wellformed::is_ncname(&value) {
                                return Err(DomError::NotAnId(truncate(&value)));
                            }
                            if by_value.contains_key(&value) {
                                return Err(DomError::DuplicateId(truncate(&value)));
                            }
                            if register {
                                let c =
                                    CString::new(value.clone()).map_err(|_| DomError::Malformed)?;
                                let existing = lx::xmlGetID(self.ptr, c.as_ptr() as *const u8);
                                if existing.is_null() {
                                    lx::xmlAddID(
                                        ptr::null_mut(),
                                        self.ptr,
                                        c.as_ptr() as *const u8,
                                        a,
                                    );
                                } else if existing != a {
                                    return Err(DomError::DuplicateId(truncate(&value)));
                                }
                            }
                            by_value.insert(value, self.elem(node));
                        }
                        a = (*a).next;
                    }
                    if !(*node).children.is_null() {
                        node = (*node).children;
                        continue;
                    }
                }
                // Next node in document order, climbing back up as needed.
                loop {
                    if node == root.ptr {
                        return Ok(Ids { by_value });
                    }
                    if !(*node).next.is_null() {
                        node = (*node).next;
                        break;
                    }
                    node = (*node).parent;
                }
            }
        }
    }

    /// Registers the `wsu:Id` of one element (documents the gateway builds itself).
    pub fn register_id(&self, e: Elem<'_>) -> Result<(), DomError> {
        // SAFETY: as in `index_ids`; `e` is an element of this document.
        unsafe {
            let mut a = (*e.ptr).properties;
            while !a.is_null() {
                if ns_href((*a).ns) == Some(ns::WSU) && cstr((*a).name) == "Id" {
                    let c = CString::new(attr_value(a)).map_err(|_| DomError::Malformed)?;
                    if !lx::xmlGetID(self.ptr, c.as_ptr() as *const u8).is_null() {
                        return Err(DomError::DuplicateId(c.to_string_lossy().into_owned()));
                    }
                    lx::xmlAddID(ptr::null_mut(), self.ptr, c.as_ptr() as *const u8, a);
                    return Ok(());
                }
                a = (*a).next;
            }
        }
        Ok(())
    }

    /// Serialises the document as UTF-8 with an XML declaration.
    pub fn to_bytes(&self) -> Vec<u8> {
        // SAFETY: `self` owns a live document; libxml2 allocates `mem` (`size` bytes), which
        // is copied and then freed once.
        unsafe {
            let mut mem: *mut lx::xmlChar = ptr::null_mut();
            let mut size: i32 = 0;
            // The tree came from UTF-8 input: libxml2 writes it back as UTF-8 without an
            // encoding conversion step.
            lx::xmlDocDumpMemory(self.ptr, &mut mem, &mut size);
            if mem.is_null() {
                return Vec::new();
            }
            let out = std::slice::from_raw_parts(mem, size.max(0) as usize).to_vec();
            crate::schema::ffi::xml_free(mem as *mut _);
            out
        }
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

/// # Safety
/// `p` is null or a NUL-terminated string that lives for `'a`.
unsafe fn cstr<'a>(p: *const u8) -> &'a str {
    if p.is_null() {
        ""
    } else {
        // SAFETY: libxml2 names are NUL-terminated UTF-8 (the parser checked the input).
        unsafe { CStr::from_ptr(p as *const _) }
            .to_str()
            .unwrap_or("")
    }
}

/// # Safety
/// `ns` is null or a live namespace of a document that lives for `'a`.
unsafe fn ns_href<'a>(ns: *mut lx::xmlNs) -> Option<&'a str> {
    if ns.is_null() {
        None
    } else {
        // SAFETY: per the contract; a namespace's href is NUL-terminated.
        Some(unsafe { cstr((*ns).href) })
    }
}

/// # Safety
/// `a` is a live attribute node.
unsafe fn attr_value(a: *mut lx::xmlAttr) -> String {
    // SAFETY: per the contract; the content is a fresh copy, copied again and freed once.
    unsafe {
        let v = lx::xmlNodeGetContent(a as lx::xmlNodePtr);
        if v.is_null() {
            return String::new();
        }
        let s = cstr(v).to_string();
        crate::schema::ffi::xml_free(v as *mut _);
        s
    }
}

impl<'d> Elem<'d> {
    pub fn ptr(&self) -> *mut std::ffi::c_void {
        self.ptr as *mut _
    }

    pub fn local(&self) -> &'d str {
        // SAFETY: the tree invariant (see `Elem`).
        unsafe { cstr((*self.ptr).name) }
    }

    /// Namespace URI, `""` for none.
    pub fn ns(&self) -> &'d str {
        // SAFETY: the tree invariant (see `Elem`).
        unsafe { ns_href((*self.ptr).ns).unwrap_or("") }
    }

    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local() == local && self.ns() == ns
    }

    pub fn parent(&self) -> Option<Elem<'d>> {
        // SAFETY: the tree invariant (see `Elem`); only an element parent is returned.
        unsafe {
            let p = (*self.ptr).parent;
            (!p.is_null() && (*p).type_ == lx::xmlElementType_XML_ELEMENT_NODE).then_some(Elem {
                ptr: p,
                _doc: PhantomData,
            })
        }
    }

    /// Child elements in document order.
    pub fn children(&self) -> impl Iterator<Item = Elem<'d>> {
        // SAFETY: the tree invariant (see `Elem`).
        let mut cur = unsafe { (*self.ptr).children };
        // SAFETY: the tree invariant: the iterator borrows the document for 'd, and each
        // sibling is null-checked before it is read.
        std::iter::from_fn(move || unsafe {
            while !cur.is_null() {
                let n = cur;
                cur = (*cur).next;
                if (*n).type_ == lx::xmlElementType_XML_ELEMENT_NODE {
                    return Some(Elem {
                        ptr: n,
                        _doc: PhantomData,
                    });
                }
            }
            None
        })
    }

    /// True when the element has non-whitespace text or CDATA as a direct child.
    pub fn has_text(&self) -> bool {
        // SAFETY: the tree invariant (see `Elem`).
        unsafe {
            let mut cur = (*self.ptr).children;
            while !cur.is_null() {
                let t = (*cur).type_;
                if (t == lx::xmlElementType_XML_TEXT_NODE
                    || t == lx::xmlElementType_XML_CDATA_SECTION_NODE)
                    && !cstr((*cur).content).trim().is_empty()
                {
                    return true;
                }
                cur = (*cur).next;
            }
        }
        false
    }

    /// An attribute by namespace (`None` for an unqualified attribute) and local name.
    pub fn attr(&self, attr_ns: Option<&str>, local: &str) -> Option<String> {
        // SAFETY: the tree invariant (see `Elem`).
        unsafe {
            let mut a = (*self.ptr).properties;
            while !a.is_null() {
                if cstr((*a).name) == local && ns_href((*a).ns) == attr_ns {
                    return Some(attr_value(a));
                }
                a = (*a).next;
            }
        }
        None
    }

    /// Every attribute as (namespace, local name).
    pub fn attr_names(&self) -> Vec<(Option<&'d str>, &'d str)> {
        let mut out = Vec::new();
        // SAFETY: the tree invariant (see `Elem`); the names live as long as the document.
        unsafe {
            let mut a = (*self.ptr).properties;
            while !a.is_null() {
                out.push((ns_href((*a).ns), cstr((*a).name)));
                a = (*a).next;
            }
        }
        out
    }

    /// The element's text content (all descendant text).
    pub fn text(&self) -> String {
        // SAFETY: the tree invariant (see `Elem`); the content is a fresh copy, copied
        // again and freed once.
        unsafe {
            let v = lx::xmlNodeGetContent(self.ptr);
            if v.is_null() {
                return String::new();
            }
            let s = cstr(v).to_string();
            crate::schema::ffi::xml_free(v as *mut _);
            s
        }
    }

    /// True when a comment is anywhere inside the element. Exclusive C14N drops comments,
    /// so a comment inside signed content could be added after signing and still be
    /// forwarded (docs/SECURITY.md, R4).
    pub fn contains_comment(&self) -> bool {
        // SAFETY: the tree invariant (see `Elem`); the walk never climbs above `top`.
        unsafe {
            let top = self.ptr;
            let mut node = (*top).children;
            if node.is_null() {
                return false;
            }
            loop {
                if (*node).type_ == lx::xmlElementType_XML_COMMENT_NODE {
                    return true;
                }
                if (*node).type_ == lx::xmlElementType_XML_ELEMENT_NODE
                    && !(*node).children.is_null()
                {
                    node = (*node).children;
                    continue;
                }
                loop {
                    if !(*node).next.is_null() {
                        node = (*node).next;
                        break;
                    }
                    node = (*node).parent;
                    if node == top {
                        return false;
                    }
                }
            }
        }
    }

    /// True when `self` is `other` or inside it.
    pub fn is_within(&self, other: Elem<'_>) -> bool {
        let mut cur = self.ptr;
        // SAFETY: the tree invariant (see `Elem`).
        unsafe {
            while !cur.is_null() {
                if cur == other.ptr {
                    return true;
                }
                cur = (*cur).parent;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_registered_and_duplicates_refused() {
        let doc = parse(
            format!(
                r#"<a xmlns:wsu="{}"><b wsu:Id="x"/><c Id="y"><!-- c --></c></a>"#,
                ns::WSU
            )
            .as_bytes(),
        )
        .unwrap();
        let ids = doc.index_ids().unwrap();
        assert_eq!(ids.element("x").unwrap().local(), "b");
        assert_eq!(ids.element("y").unwrap().local(), "c");
        assert!(ids.element("y").unwrap().contains_comment());
        assert!(!ids.element("x").unwrap().contains_comment());

        let doc = parse(
            format!(
                r#"<a xmlns:wsu="{}"><b wsu:Id="x"/><c ID="x"/></a>"#,
                ns::WSU
            )
            .as_bytes(),
        )
        .unwrap();
        assert!(matches!(doc.index_ids(), Err(DomError::DuplicateId(_))));
    }

    #[test]
    fn a_wsu_id_must_be_an_ncname() {
        for bad in ["a&quot;b", "1x", "a:b", "a&lt;b", "a b", ""] {
            let text = format!(r#"<a xmlns:wsu="{}"><b wsu:Id="{bad}"/></a>"#, ns::WSU);
            let doc = parse(text.as_bytes()).unwrap();
            assert!(
                matches!(doc.index_ids(), Err(DomError::NotAnId(_))),
                "{bad}"
            );
        }
        // Plain `Id` and `ID` in a payload keep their own rules (numbers are common there).
        let text = format!(r#"<a xmlns:wsu="{}"><b Id="1"/><c ID="2"/></a>"#, ns::WSU);
        parse(text.as_bytes()).unwrap().index_ids().unwrap();
    }

    #[test]
    fn doctype_and_broken_xml_are_refused() {
        assert!(matches!(
            parse(b"<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>"),
            Err(DomError::Doctype)
        ));
        assert!(matches!(parse(b"<a><b></a>"), Err(DomError::Malformed)));
    }
}
