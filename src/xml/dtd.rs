//! The document type declaration, scanned for in text the crate reads itself: whether a
//! message declares one at all ([`declares_dtd`], refused before libxml2 reads it), and
//! the general entities one declares ([`entity_declarations`], for trusted schema and WSDL
//! files whose internal subset is expanded away: `schema::dtd`, `wsdl::parse`).

use std::collections::HashMap;

/// The DTD scan on bytes: `<!DOCTYPE` or `<!ENTITY` anywhere (markup only: in text `<`
/// is always escaped), refused before libxml2 reads a declaration (docs/SECURITY.md, R4
/// "Nothing declared, nothing fetched").
pub fn declares_dtd(bytes: &[u8]) -> bool {
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

/// The general entities a DOCTYPE declares (the declaration's text, internal subset
/// included, or the subset alone): name -> literal value, `None` for an external one
/// (`SYSTEM`/`PUBLIC`). Comments are skipped, parameter entities ignored (they mean
/// something only inside the DTD).
pub fn entity_declarations(doctype: &str) -> HashMap<String, Option<String>> {
    let mut out = HashMap::new();
    let mut rest = doctype;
    while let Some(i) = rest.find("<!") {
        rest = &rest[i..];
        if rest.starts_with("<!--") {
            rest = rest.find("-->").map_or("", |j| &rest[j + 3..]);
            continue;
        }
        let Some(decl) = rest.strip_prefix("<!ENTITY") else {
            rest = &rest[2..];
            continue;
        };
        rest = decl;
        let words = decl.trim_start();
        if words.starts_with('%') {
            continue; // parameter entity: only meaningful inside the DTD
        }
        let name_end = words
            .find(|c: char| c.is_whitespace())
            .unwrap_or(words.len());
        let name = words[..name_end].to_string();
        let value_part = words[name_end..].trim_start();
        let value = match value_part.chars().next() {
            Some(q @ ('"' | '\'')) => value_part[1..]
                .find(q)
                .map(|j| value_part[1..1 + j].to_string()),
            _ => None,
        };
        // XML 1.0 §4.2: the first declaration of an entity is binding.
        out.entry(name).or_insert(value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declaration_anywhere_in_markup_is_found() {
        assert!(declares_dtd(b"<!DOCTYPE a><a/>"));
        assert!(declares_dtd(b"<a><!ENTITY x 'y'></a>"));
        assert!(!declares_dtd(b"<a>&lt;!DOCTYPE</a>"));
    }

    #[test]
    fn entities_first_binding_internal_external_and_comments() {
        let d = entity_declarations(
            "<!DOCTYPE s [<!-- <!ENTITY c 'no'> --><!ENTITY % p 'q'>\n\
             <!ENTITY a \"1\"><!ENTITY a '2'><!ENTITY x SYSTEM \"file:///etc/passwd\">]>",
        );
        assert_eq!(d.get("a"), Some(&Some("1".to_string())));
        assert_eq!(d.get("x"), Some(&None));
        assert!(!d.contains_key("c") && !d.contains_key("%") && !d.contains_key("p"));
    }
}
