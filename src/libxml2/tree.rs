//! Read-only access to a parsed tree: [`Elem`], an element borrowed from a [`Document`],
//! and the raw primitives the thin layers above (`schema::ffi`, `wssec::dom`) walk with.
//!
//! The invariant every `unsafe` block of this module relies on ("the tree invariant"): an
//! `Elem<'d>` points to a live element node of a document borrowed for `'d`, and nothing
//! frees nodes of a `Document` while it is borrowed (the gateway never removes nodes;
//! xmlsec only writes digest and signature text into a template's own elements, outside
//! any walk). So each node reached from it through `children`, `next`, `parent` and
//! `properties`, after a null check, is live too, and its strings (names, hrefs, content)
//! are NUL-terminated and live as long as the document.

use std::ffi::CStr;
use std::marker::PhantomData;

use libxml::bindings as lx;

use super::Document;

/// An element of a [`Document`]; `!Send`, like the document.
#[derive(Clone, Copy)]
pub struct Elem<'d> {
    ptr: lx::xmlNodePtr,
    _doc: PhantomData<&'d Document>,
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

/// `p` as a string, `""` for null (or for bytes that are not UTF-8, which the parser never
/// leaves in a tree it built).
///
/// # Safety
/// `p` is null or a NUL-terminated string that lives for `'a`.
pub(crate) unsafe fn cstr<'a>(p: *const u8) -> &'a str {
    if p.is_null() {
        ""
    } else {
        // SAFETY: per the contract; libxml2 names are NUL-terminated UTF-8 (the parser
        // checked the input).
        unsafe { CStr::from_ptr(p as *const _) }
            .to_str()
            .unwrap_or("")
    }
}

/// The namespace URI of `ns`, `None` for no namespace.
///
/// # Safety
/// `ns` is null or a live namespace of a document that lives for `'a`.
pub(crate) unsafe fn ns_href<'a>(ns: *mut lx::xmlNs) -> Option<&'a str> {
    if ns.is_null() {
        None
    } else {
        // SAFETY: per the contract; a namespace's href is NUL-terminated.
        Some(unsafe { cstr((*ns).href) })
    }
}

/// The text content of a node (an attribute's value, all descendant text of an element),
/// copied out of the fresh string libxml2 returns, which is freed.
///
/// # Safety
/// `node` is a live element or attribute node (an `xmlAttr` cast to `xmlNode` is what
/// libxml2's own API takes).
pub(crate) unsafe fn node_content(node: *const lx::xmlNode) -> String {
    // SAFETY: per the contract; the content is a fresh copy, copied again and freed once.
    unsafe {
        let v = lx::xmlNodeGetContent(node);
        if v.is_null() {
            return String::new();
        }
        let s = cstr(v).to_string();
        super::xml_free(v as *mut _);
        s
    }
}

/// The node after `node` in document order within `top`'s subtree: its first child if it
/// is an element with children, else the next sibling of it or of its nearest ancestor
/// below `top`; null when the walk is back at `top`. Iterative, so attacker depth costs no
/// stack. Only element children are entered (no other node in a tree without a DTD has
/// children of its own).
///
/// # Safety
/// `node` is `top` or inside it, both live nodes of one tree that nothing changes during
/// the walk.
pub(crate) unsafe fn next_in_order(node: lx::xmlNodePtr, top: lx::xmlNodePtr) -> lx::xmlNodePtr {
    // SAFETY: per the contract; every link is null-checked before it is followed.
    unsafe {
        if (*node).type_ == lx::xmlElementType_XML_ELEMENT_NODE && !(*node).children.is_null() {
            return (*node).children;
        }
        let mut cur = node;
        while !cur.is_null() && cur != top {
            if !(*cur).next.is_null() {
                return (*cur).next;
            }
            cur = (*cur).parent;
        }
        std::ptr::null_mut()
    }
}

impl<'d> Elem<'d> {
    /// An element of `doc` from a raw node found by a walk of it.
    ///
    /// # Safety
    /// `ptr` is a live element node of `doc`.
    pub(crate) unsafe fn from_raw(_doc: &'d Document, ptr: lx::xmlNodePtr) -> Elem<'d> {
        Elem {
            ptr,
            _doc: PhantomData,
        }
    }

    /// The raw node, for the thin layers above (libxmlsec1 takes a node pointer); valid
    /// while the document is borrowed for `'d`.
    pub fn ptr(&self) -> *mut std::ffi::c_void {
        self.ptr as *mut _
    }

    pub(crate) fn node(&self) -> lx::xmlNodePtr {
        self.ptr
    }

    pub fn local(&self) -> &'d str {
        // SAFETY: the tree invariant (see the module).
        unsafe { cstr((*self.ptr).name) }
    }

    /// Namespace URI, `""` for none.
    pub fn ns(&self) -> &'d str {
        // SAFETY: the tree invariant (see the module).
        unsafe { ns_href((*self.ptr).ns).unwrap_or("") }
    }

    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local() == local && self.ns() == ns
    }

    pub fn parent(&self) -> Option<Elem<'d>> {
        // SAFETY: the tree invariant (see the module); only an element parent is returned.
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
        // SAFETY: the tree invariant (see the module).
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
        // SAFETY: the tree invariant (see the module).
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
        // SAFETY: the tree invariant (see the module).
        unsafe {
            let mut a = (*self.ptr).properties;
            while !a.is_null() {
                if cstr((*a).name) == local && ns_href((*a).ns) == attr_ns {
                    return Some(node_content(a as *const lx::xmlNode));
                }
                a = (*a).next;
            }
        }
        None
    }

    /// Every attribute as (namespace, local name).
    pub fn attr_names(&self) -> Vec<(Option<&'d str>, &'d str)> {
        let mut out = Vec::new();
        // SAFETY: the tree invariant (see the module); the names live as long as the
        // document.
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
        // SAFETY: the tree invariant (see the module): a live element.
        unsafe { node_content(self.ptr) }
    }

    /// True when a comment is anywhere inside the element. Exclusive C14N drops comments,
    /// so a comment inside signed content could be added after signing and still be
    /// forwarded (docs/SECURITY.md, R4).
    pub fn contains_comment(&self) -> bool {
        let top = self.ptr;
        // SAFETY: the tree invariant (see the module); the walk stays inside `top`.
        unsafe {
            let mut node = next_in_order(top, top);
            while !node.is_null() {
                if (*node).type_ == lx::xmlElementType_XML_COMMENT_NODE {
                    return true;
                }
                node = next_in_order(node, top);
            }
        }
        false
    }

    /// True when `self` is `other` or inside it.
    pub fn is_within(&self, other: Elem<'_>) -> bool {
        let mut cur = self.ptr;
        // SAFETY: the tree invariant (see the module).
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
