//! The internal DTD subset of a trusted schema file (W3C's `xml.xsd` carries one; issue 2
//! requires accepting them): the DOCTYPE is removed and references to its internal
//! general entities with literal values are expanded (XML 1.0 §4.4.2, "included"), so the
//! document needs no DTD processing afterwards. External entities are never expanded (a
//! reference to one is an error) and nothing is read.
//!
//! Lines are kept: the DOCTYPE is replaced by as many line breaks as it spanned, so
//! compile errors still point at the right line of the file.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::xml::dtd::entity_declarations;

/// Nesting of entity references inside entity values; beyond this is a loop or a bomb.
const MAX_DEPTH: usize = 8;
/// Most bytes expansion may produce (entity "billion laughs" stops here).
const MAX_EXPANDED: usize = 16 << 20;

/// `text` without its DOCTYPE, internal entities expanded; `text` itself when it has none.
pub fn expand_internal(text: &str) -> Result<Cow<'_, str>, String> {
    let Some(start) = doctype_start(text) else {
        return Ok(Cow::Borrowed(text));
    };
    let end = doctype_end(text, start).ok_or("unterminated DOCTYPE")?;
    let entities = entity_declarations(&text[start..end]);
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..start]);
    out.extend(std::iter::repeat_n(
        '\n',
        text[start..end].matches('\n').count(),
    ));
    expand(&text[end..], &entities, 0, &mut out)?;
    Ok(Cow::Owned(out))
}

/// How many line breaks the DOCTYPE of `text` spans (0 without one): a copy with the
/// DOCTYPE removed is that many lines shorter at its start.
pub fn doctype_line_breaks(text: &str) -> usize {
    doctype_start(text)
        .and_then(|s| Some(text[s..doctype_end(text, s)?].matches('\n').count()))
        .unwrap_or(0)
}

/// Where `<!DOCTYPE` starts, if the prolog (XML declaration, comments, processing
/// instructions, white space) is followed by one.
fn doctype_start(text: &str) -> Option<usize> {
    let mut i = 0;
    loop {
        let rest = &text[i..];
        let trimmed = rest.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
        i += rest.len() - trimmed.len();
        if trimmed.starts_with("<!DOCTYPE") {
            return Some(i);
        }
        let close = if trimmed.starts_with("<?") {
            "?>"
        } else if trimmed.starts_with("<!--") {
            "-->"
        } else {
            return None;
        };
        i += trimmed.find(close)? + close.len();
    }
}

/// The byte after the DOCTYPE's closing `>` (quotes, comments and the `[...]` subset
/// skipped).
fn doctype_end(text: &str, start: usize) -> Option<usize> {
    let b = text.as_bytes();
    let (mut i, mut depth, mut quote) = (start + 2, 0usize, None::<u8>);
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if text[i..].starts_with("<!--") => {
                i += text[i..].find("-->")? + 3;
                continue;
            }
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if c == b'[' => depth += 1,
            None if c == b']' => depth = depth.saturating_sub(1),
            None if c == b'>' && depth == 0 => return Some(i + 1),
            None => {}
        }
        i += 1;
    }
    None
}

/// Copies `text`, expanding internal entity references outside comments and CDATA.
fn expand(
    text: &str,
    entities: &HashMap<String, Option<String>>,
    depth: usize,
    out: &mut String,
) -> Result<(), String> {
    let mut rest = text;
    while let Some(i) = rest.find(['&', '<']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        for (open, close) in [("<!--", "-->"), ("<![CDATA[", "]]>")] {
            if rest.starts_with(open) {
                let end = rest.find(close).map_or(rest.len(), |j| j + close.len());
                out.push_str(&rest[..end]);
                rest = &rest[end..];
            }
        }
        if !rest.starts_with('&') {
            if let Some(c) = rest.chars().next() {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
            continue;
        }
        let Some(semi) = rest.find(';').filter(|&j| j > 1) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..semi];
        match entities.get(name) {
            Some(Some(value)) => {
                if depth >= MAX_DEPTH {
                    return Err(format!("entity `&{name};` nests deeper than {MAX_DEPTH}"));
                }
                expand(value, entities, depth + 1, out)?;
                if out.len() > MAX_EXPANDED {
                    return Err("entity expansion exceeds 16 MiB".into());
                }
            }
            Some(None) => {
                return Err(format!(
                    "entity `&{name};` is external; external entities are never expanded"
                ))
            }
            // Character references, predefined and undeclared entities: left to the parser.
            None => out.push_str(&rest[..=semi]),
        }
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_entities_expand_and_lines_are_kept() {
        let text = "<?xml version=\"1.0\"?>\n<!-- c -->\n<!DOCTYPE xs:schema [\n<!-- <!ENTITY no \"x\"> -->\n\
                    <!ENTITY % p \"q\">\n<!ENTITY ns 'urn:&sub;'>\n<!ENTITY sub \"a\">\n]>\n\
                    <s t=\"&ns;\" u=\"&amp;&#65;&undeclared;\"><!-- &ns; --><![CDATA[&ns;]]>&ns;</s>";
        let out = expand_internal(text).unwrap();
        assert_eq!(
            out,
            "<?xml version=\"1.0\"?>\n<!-- c -->\n\n\n\n\n\n\n\
             <s t=\"urn:a\" u=\"&amp;&#65;&undeclared;\"><!-- &ns; --><![CDATA[&ns;]]>urn:a</s>"
        );
        assert_eq!(text.lines().count(), out.lines().count());
        assert_eq!(doctype_line_breaks(text), 5);
        assert_eq!(doctype_line_breaks("<s/>"), 0);
        assert!(matches!(
            expand_internal("<s>&amp;</s>").unwrap(),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn external_entities_loops_and_bombs_are_refused() {
        let ext = "<!DOCTYPE s [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><s>&x;</s>";
        assert!(expand_internal(ext).unwrap_err().contains("external"));
        // Declared but unused: harmless, nothing is read.
        let unused = "<!DOCTYPE s [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><s/>";
        assert_eq!(expand_internal(unused).unwrap(), "<s/>");
        let looped = "<!DOCTYPE s [<!ENTITY a \"&b;\"><!ENTITY b \"&a;\">]><s>&a;</s>";
        assert!(expand_internal(looped).is_err());
        let mut bomb = String::from("<!DOCTYPE s [<!ENTITY l0 \"lollollollollol\">");
        for i in 1..8 {
            let p = format!("&l{};", i - 1);
            bomb.push_str(&format!("<!ENTITY l{i} \"{}\">", p.repeat(12)));
        }
        bomb.push_str("]><s>&l7;</s>");
        assert!(expand_internal(&bomb).is_err());
    }
}
