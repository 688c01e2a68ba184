//! A small namespace-resolved element tree (arena) read with quick-xml: the input side of
//! mappings, and the reader of XSD files for the mapping checker.
//!
//! Only elements, attributes and text are kept (payloads are data, not mixed content);
//! comments and processing instructions are dropped. DOCTYPE is refused unless the caller
//! says the file is a trusted schema on disk (W3C's own `xml.xsd` carries one).

use std::rc::Rc;

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// Deepest nesting accepted; payloads have passed the envelope limits already, this is a
/// second fence for files and CLI input.
const MAX_DEPTH: usize = 256;

#[derive(Debug, Clone)]
pub struct El {
    /// Interned: one allocation per distinct namespace, not per element.
    pub ns: Rc<str>,
    pub local: String,
    /// `(namespace, local name, value)`; namespace declarations are not attributes.
    pub attrs: Vec<(Rc<str>, String, String)>,
    /// Concatenated character data directly inside this element.
    pub text: String,
    pub children: Vec<usize>,
    pub parent: Option<usize>,
    /// 1-based line of the start tag.
    pub line: usize,
    /// `(prefix, uri)` declared on this element; `""` is the default namespace.
    pub ns_decls: Vec<(String, String)>,
}

impl El {
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(ns, l, _)| ns.is_empty() && l == local)
            .map(|(_, _, v)| v.as_str())
    }

    pub fn attr_ns(&self, ns: &str, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, l, _)| &**n == ns && l == local)
            .map(|(_, _, v)| v.as_str())
    }

    pub fn is(&self, ns: &str, local: &str) -> bool {
        &*self.ns == ns && self.local == local
    }
}

#[derive(Debug, Clone, Default)]
pub struct Tree {
    /// Index 0 is the root element once parsed.
    pub nodes: Vec<El>,
}

impl Tree {
    pub fn parse(text: &str, allow_doctype: bool) -> Result<Tree, String> {
        let mut reader = NsReader::from_str(text);
        reader.config_mut().trim_text(false);
        reader.config_mut().expand_empty_elements = true;
        let mut tree = Tree::default();
        let mut stack: Vec<usize> = Vec::new();
        let (mut line, mut counted) = (1usize, 0usize);
        let bytes = text.as_bytes();
        let mut interned: Vec<Rc<str>> = Vec::new();
        let mut intern = |s: &str| -> Rc<str> {
            match interned.iter().find(|i| &***i == s) {
                Some(i) => i.clone(),
                None => {
                    let r: Rc<str> = Rc::from(s);
                    interned.push(r.clone());
                    r
                }
            }
        };
        loop {
            let pos = reader.buffer_position() as usize;
            let (res, ev) = reader.read_resolved_event().map_err(|e| {
                format!("line {}: {e}", advance(bytes, &mut line, &mut counted, pos))
            })?;
            match ev {
                Event::Start(e) => {
                    let at = advance(bytes, &mut line, &mut counted, pos);
                    if stack.len() >= MAX_DEPTH {
                        return Err(format!("line {at}: nesting deeper than {MAX_DEPTH}"));
                    }
                    if stack.is_empty() && !tree.nodes.is_empty() {
                        return Err(format!("line {at}: content after the root element"));
                    }
                    let ns = intern(resolved(&res, at)?);
                    let local = e.local_name().as_ref().to_string();
                    let mut attrs = Vec::new();
                    let mut ns_decls = Vec::new();
                    for a in e.attributes() {
                        let a = a.map_err(|e| format!("line {at}: {e}"))?;
                        let key = a.key;
                        let value = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|e| format!("line {at}: {e}"))?
                            .into_owned();
                        let raw = key.as_ref();
                        if raw == "xmlns" {
                            ns_decls.push((String::new(), value));
                            continue;
                        }
                        if let Some(p) = raw.strip_prefix("xmlns:") {
                            ns_decls.push((p.to_string(), value));
                            continue;
                        }
                        let (ares, alocal) = reader.resolver().resolve_attribute(key);
                        let ans = intern(resolved(&ares, at)?);
                        attrs.push((ans, alocal.as_ref().to_string(), value));
                    }
                    let idx = tree.nodes.len();
                    tree.nodes.push(El {
                        ns,
                        local,
                        attrs,
                        text: String::new(),
                        children: Vec::new(),
                        parent: stack.last().copied(),
                        line: at,
                        ns_decls,
                    });
                    if let Some(&p) = stack.last() {
                        let parent = &mut tree.nodes[p];
                        parent.children.push(idx);
                        // Indentation before the first child is not content.
                        if parent.children.len() == 1 && parent.text.trim().is_empty() {
                            parent.text.clear();
                        }
                    }
                    stack.push(idx);
                }
                Event::End(_) => {
                    stack.pop();
                }
                Event::Text(t) => {
                    if let Some(&cur) = stack.last() {
                        let el = &mut tree.nodes[cur];
                        // Whitespace between child elements is not content (payloads
                        // are data, not mixed content); skipping it saves allocations.
                        if !el.children.is_empty() && t.chars().all(char::is_whitespace) {
                            continue;
                        }
                        // Entity references arrive as their own events (GeneralRef).
                        el.text.push_str(&t.xml10_content());
                    } else if t.chars().any(|c| !c.is_whitespace()) {
                        return Err("text outside the root element".into());
                    }
                }
                Event::GeneralRef(r) => {
                    let at = advance(bytes, &mut line, &mut counted, pos);
                    let name = r.xml10_content();
                    let ch = match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => s.to_string(),
                            // A trusted schema file's internal subset may declare entities;
                            // their text does not matter for reading its structure.
                            None if allow_doctype => String::new(),
                            None => return Err(format!("line {at}: unknown entity &{name};")),
                        },
                    };
                    if let Some(&cur) = stack.last() {
                        tree.nodes[cur].text.push_str(&ch);
                    }
                }
                Event::CData(c) => {
                    if let Some(&cur) = stack.last() {
                        tree.nodes[cur].text.push_str(&c.xml10_content());
                    }
                }
                Event::DocType(_) if !allow_doctype => {
                    return Err("DOCTYPE is not accepted".into());
                }
                Event::Eof => break,
                Event::Empty(_) => unreachable!("expand_empty_elements is set"),
                _ => {}
            }
        }
        if tree.nodes.is_empty() {
            return Err("no root element".into());
        }
        if !stack.is_empty() {
            return Err("unexpected end of document".into());
        }
        Ok(tree)
    }

    pub fn root(&self) -> &El {
        &self.nodes[0]
    }

    pub fn children(&self, idx: usize) -> impl Iterator<Item = (usize, &El)> {
        self.nodes[idx]
            .children
            .iter()
            .map(|&c| (c, &self.nodes[c]))
    }

    /// Resolves a `prefix:local` QName written in an attribute value (XSD `type=`, `ref=`,
    /// `base=`) against the declarations in scope at `idx`.
    pub fn resolve_qname(&self, idx: usize, value: &str) -> Option<(String, String)> {
        let (prefix, local) = match value.split_once(':') {
            Some((p, l)) => (p, l),
            None => ("", value),
        };
        let mut cur = Some(idx);
        while let Some(i) = cur {
            if let Some((_, uri)) = self.nodes[i].ns_decls.iter().find(|(p, _)| p == prefix) {
                return Some((uri.clone(), local.to_string()));
            }
            cur = self.nodes[i].parent;
        }
        match prefix {
            "" => Some((String::new(), local.to_string())),
            "xml" => Some((crate::xml::ns::XML.to_string(), local.to_string())),
            _ => None,
        }
    }

    /// Every namespace declaration in scope at `idx`, innermost first wins.
    pub fn in_scope(&self, idx: usize) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut cur = Some(idx);
        while let Some(i) = cur {
            for (p, u) in &self.nodes[i].ns_decls {
                if !out.iter().any(|(q, _)| q == p) {
                    out.push((p.clone(), u.clone()));
                }
            }
            cur = self.nodes[i].parent;
        }
        out
    }
}

fn resolved<'r>(res: &'r ResolveResult<'_>, line: usize) -> Result<&'r str, String> {
    match res {
        ResolveResult::Bound(ns) => Ok(ns.as_ref()),
        ResolveResult::Unbound => Ok(""),
        ResolveResult::Unknown(p) => Err(format!("line {line}: undeclared prefix `{p}`")),
    }
}

/// Line of byte offset `pos`, counting incrementally from the last call.
fn advance(bytes: &[u8], line: &mut usize, counted: &mut usize, pos: usize) -> usize {
    let pos = pos.min(bytes.len());
    if pos > *counted {
        *line += bytes[*counted..pos].iter().filter(|&&b| b == b'\n').count();
        *counted = pos;
    }
    // The event starts after leading whitespace that belongs to the previous text event.
    *line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_namespaces_attributes_text_and_lines() {
        let t = Tree::parse(
            "<a:r xmlns:a=\"urn:a\" x=\"1\">\n  <a:c>t &amp; u</a:c>\n  <d xmlns=\"urn:d\" a:y=\"2\"/>\n</a:r>",
            false,
        )
        .unwrap();
        let r = t.root();
        assert!(r.is("urn:a", "r"));
        assert_eq!(r.attr("x"), Some("1"));
        let kids: Vec<_> = t.children(0).collect();
        assert_eq!(kids[0].1.text, "t & u");
        assert!(kids[1].1.is("urn:d", "d"));
        assert_eq!(kids[1].1.attr_ns("urn:a", "y"), Some("2"));
        assert_eq!(kids[1].1.line, 3);
        assert_eq!(
            t.resolve_qname(kids[1].0, "a:T"),
            Some(("urn:a".into(), "T".into()))
        );
    }

    #[test]
    fn refuses_doctype_and_unknown_entities() {
        assert!(Tree::parse("<!DOCTYPE r [<!ENTITY e \"x\">]><r>&e;</r>", false).is_err());
        assert!(Tree::parse("<r>&e;</r>", false).is_err());
        assert!(Tree::parse("<r/><r/>", false).is_err());
    }
}
