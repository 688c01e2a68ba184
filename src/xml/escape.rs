//! Escaping for text and attribute values the gateway writes into XML. Peer-derived text
//! always goes through here, never into a document verbatim.

use std::borrow::Cow;

/// Escapes `&`, `<`, `>`, `"` and `'`, and drops characters XML 1.0 cannot carry
/// (control characters other than tab, LF, CR), so the output is always well-formed.
pub fn text(s: &str) -> Cow<'_, str> {
    let needs = s
        .chars()
        .any(|c| matches!(c, '&' | '<' | '>' | '"' | '\'') || !is_xml_char(c));
    if !needs {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    Cow::Owned(out)
}

/// For an attribute value written between double quotes: [`text`], plus tab, LF and CR
/// as character references, which attribute-value normalisation (XML 1.0 §3.3.3) would
/// otherwise turn into spaces when the document is read back.
pub fn attr(s: &str) -> Cow<'_, str> {
    if !s.contains(['\t', '\n', '\r']) {
        return text(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push_str(&text(c.encode_utf8(&mut [0; 4]))),
        }
    }
    Cow::Owned(out)
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_drops_controls() {
        assert_eq!(super::text("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(super::text("x\u{1}y"), "x\u{FFFD}y");
        assert!(matches!(
            super::text("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn attribute_values_keep_their_white_space() {
        assert_eq!(super::attr("a\"<&'b"), "a&quot;&lt;&amp;&apos;b");
        assert_eq!(super::attr("a\tb\nc\rd\u{1}"), "a&#9;b&#10;c&#13;d\u{FFFD}");
        assert!(matches!(
            super::attr("urn:x"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
