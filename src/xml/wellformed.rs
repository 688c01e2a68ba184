//! Well-formedness rules quick-xml leaves to its caller: which characters a document may
//! hold (XML 1.0 §2.2, literally or by reference) and which namespace declarations are
//! allowed (Namespaces in XML 1.0 §3). libxml2, which validates and signs what the gateway
//! accepted, refuses both; the envelope scan must refuse them first, or the gateway would
//! dispatch on one reading of a message and forward another.

use super::ns;

/// The namespace `xmlns` attributes live in; nothing may be bound to it.
const XMLNS: &str = "http://www.w3.org/2000/xmlns/";

/// XML 1.0 `Char`: tab, newline, carriage return and everything from U+0020 on, except
/// surrogates (which a `char` cannot hold) and U+FFFE / U+FFFF.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The first character of `text` that XML does not allow, with its byte offset.
pub fn first_illegal_char(text: &str) -> Option<(usize, char)> {
    let bytes = text.as_bytes();
    // One branch-free pass the compiler vectorises: a control byte, or the lead byte of
    // U+F000..U+FFFF (where U+FFFE/U+FFFF live). Almost every message clears it.
    let suspect = bytes.iter().fold(false, |seen, &b| {
        seen | (b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r') | (b == 0xEF)
    });
    if !suspect {
        return None;
    }
    text.char_indices().find(|&(_, c)| !is_xml_char(c))
}

/// The character a reference body names (`#38`, `#x26`, without `&` and `;`), when it is
/// a well-formed character reference to a character XML allows.
pub fn char_ref(body: &str) -> Option<char> {
    let digits = body.strip_prefix('#')?;
    let code = match digits.strip_prefix('x') {
        Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            u32::from_str_radix(hex, 16).ok()?
        }
        Some(_) => return None,
        None if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            digits.parse().ok()?
        }
        None => return None,
    };
    char::from_u32(code).filter(|&c| is_xml_char(c))
}

/// Checks one namespace declaration: `prefix` is `None` for `xmlns="…"`.
pub fn namespace_declaration(prefix: Option<&str>, uri: &str) -> Result<(), String> {
    match prefix {
        Some("") => Err("`xmlns:` declares no prefix".into()),
        Some("xmlns") => Err("the prefix `xmlns` cannot be declared".into()),
        Some("xml") if uri != ns::XML => {
            Err("the prefix `xml` can only be bound to the XML namespace".into())
        }
        Some(p) if p != "xml" && uri == ns::XML => Err(format!(
            "prefix `{p}` bound to the XML namespace, which belongs to `xml`"
        )),
        Some(p) if uri.is_empty() => Err(format!(
            "prefix `{p}` declared with an empty namespace name"
        )),
        None if uri == ns::XML => Err("the XML namespace cannot be the default".into()),
        _ if uri == XMLNS => Err("nothing may be bound to the xmlns namespace".into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters() {
        assert_eq!(first_illegal_char("<a>Tiếng Việt \t\r\n</a>"), None);
        assert_eq!(first_illegal_char("\u{FEFF}<a/>"), None);
        assert_eq!(first_illegal_char("<a>\u{1c}</a>"), Some((3, '\u{1c}')));
        assert_eq!(first_illegal_char("<a>\0</a>"), Some((3, '\0')));
        assert_eq!(first_illegal_char("<a>\u{FFFE}</a>"), Some((3, '\u{FFFE}')));
        assert_eq!(first_illegal_char("<a>\u{FFFF}</a>"), Some((3, '\u{FFFF}')));
        assert_eq!(first_illegal_char("<a>\u{F8FF}\u{FFFD}</a>"), None);
    }

    #[test]
    fn character_references() {
        assert_eq!(char_ref("#38"), Some('&'));
        assert_eq!(char_ref("#x26"), Some('&'));
        assert_eq!(char_ref("#x1EA0"), Some('Ạ'));
        for bad in [
            "#",
            "#x",
            "#x1c",
            "#28",
            "#0",
            "#xD800",
            "#xFFFE",
            "#x110000",
            "#99999999999",
            "#-1",
            "#x+1",
            "#1a",
            "lt",
        ] {
            assert_eq!(char_ref(bad), None, "{bad}");
        }
    }

    #[test]
    fn namespace_declarations() {
        assert!(namespace_declaration(None, "urn:a").is_ok());
        assert!(namespace_declaration(None, "").is_ok());
        assert!(namespace_declaration(Some("a"), "urn:a").is_ok());
        assert!(namespace_declaration(Some("xml"), ns::XML).is_ok());
        assert!(namespace_declaration(Some(""), "urn:a").is_err());
        assert!(namespace_declaration(Some("a"), "").is_err());
        assert!(namespace_declaration(Some("xmlns"), "urn:a").is_err());
        assert!(namespace_declaration(Some("xml"), "urn:a").is_err());
        assert!(namespace_declaration(Some("a"), ns::XML).is_err());
        assert!(namespace_declaration(None, ns::XML).is_err());
        assert!(namespace_declaration(Some("a"), XMLNS).is_err());
        assert!(namespace_declaration(None, XMLNS).is_err());
    }
}
