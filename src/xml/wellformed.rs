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

/// Namespaces in XML `QName`: an NCName, or two joined by one colon. quick-xml reads any
/// run of bytes up to `=`, `>` or space as a name.
pub fn is_qname(name: &str) -> bool {
    match name.split_once(':') {
        None => is_ncname(name),
        Some((prefix, local)) => is_ncname(prefix) && is_ncname(local),
    }
}

/// Namespaces in XML `NCName`: an XML name without a colon. What an `xsd:ID` (so a
/// `wsu:Id`) and a same-document reference `#id` must be.
pub fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(is_name_start) && chars.all(is_name_char)
}

/// XML 1.0 (fifth edition) `NameStartChar`, without the colon.
fn is_name_start(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
        | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}'
        | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}'
        | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 (fifth edition) `NameChar`, without the colon.
fn is_name_char(c: char) -> bool {
    is_name_start(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// Whether every attribute value in a start tag's attribute text is followed by white
/// space or the end of the tag (XML 1.0 §3.1 requires the space; quick-xml reads
/// `a="1"b="2"` as two attributes, libxml2 refuses it).
pub fn attributes_separated(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let mut quote = None;
    for (i, &b) in bytes.iter().enumerate() {
        match quote {
            Some(q) if b == q => {
                quote = None;
                if bytes
                    .get(i + 1)
                    .is_some_and(|n| !matches!(n, b' ' | b'\t' | b'\n' | b'\r' | b'/'))
                {
                    return false;
                }
            }
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None => {}
        }
    }
    true
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
        _ if !is_uri_reference(uri) => {
            let shown: String = uri.chars().take(64).collect();
            Err(format!(
                "the namespace name `{shown}` is not a URI reference (RFC 3986)"
            ))
        }
        _ => Ok(()),
    }
}

/// True when `uri` is an RFC 3986 URI reference (§4.1), as libxml2 requires of a namespace
/// name: it refuses the document otherwise, so a scan that let one through would hand the
/// validator and the signer a message they cannot read (found by the envelope fuzz
/// target). Stricter than RFC 3986 in one way: IP-literal hosts (`[…]`) are refused, as no
/// namespace name uses them. The empty name (`xmlns=""`, undeclaring) is allowed.
pub fn is_uri_reference(uri: &str) -> bool {
    let (rest, fragment) = match uri.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (uri, None),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    fn extra_ok(extra: &'static [u8]) -> impl Fn(u8) -> bool {
        move |b| is_pchar(b) || extra.contains(&b)
    }
    if !fragment.is_none_or(|f| pct_encoded_and(f, extra_ok(b"/?")))
        || !query.is_none_or(|q| pct_encoded_and(q, extra_ok(b"/?")))
    {
        return false;
    }
    // A scheme is what comes before a `:` in the first segment; a relative reference may
    // not have a `:` there (RFC 3986 §4.2, segment-nz-nc).
    let first_segment = rest.split('/').next().unwrap_or("");
    let hier = match first_segment.split_once(':') {
        Some((scheme, _)) => {
            let mut b = scheme.bytes();
            if !b.next().is_some_and(|c| c.is_ascii_alphabetic())
                || !b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
            {
                return false;
            }
            &rest[scheme.len() + 1..]
        }
        None => rest,
    };
    let path = match hier.strip_prefix("//") {
        Some(after) => {
            let end = after.find('/').unwrap_or(after.len());
            let (authority, path) = after.split_at(end);
            let host_port = match authority.rsplit_once('@') {
                Some((user, hp))
                    if pct_encoded_and(user, |b| is_unreserved_or_sub_delim(b) || b == b':') =>
                {
                    hp
                }
                Some(_) => return false,
                None => authority,
            };
            let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, ""));
            if !port.bytes().all(|b| b.is_ascii_digit())
                || !pct_encoded_and(host, is_unreserved_or_sub_delim)
            {
                return false;
            }
            path
        }
        None => hier,
    };
    pct_encoded_and(path, extra_ok(b"/"))
}

/// RFC 3986 `pchar` less `pct-encoded` (checked by [`pct_encoded_and`]).
fn is_pchar(b: u8) -> bool {
    is_unreserved_or_sub_delim(b) || matches!(b, b':' | b'@')
}

fn is_unreserved_or_sub_delim(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
        )
}

/// Every byte passes `allowed`, or starts a `%` followed by two hex digits.
fn pct_encoded_and(s: &str, allowed: impl Fn(u8) -> bool) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if !(i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit()) {
                return false;
            }
            i += 3;
        } else if allowed(b[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_names_are_uri_references_as_libxml2_reads_them() {
        for ok in [
            "",
            "urn:lgsp:h38:hotich:1.0",
            "http://schemas.xmlsoap.org/soap/envelope/",
            "http://www.w3.org/2000/09/xmldsig#",
            "https://user:pw@host.example:8443/a/b?x=1&y=2#frag",
            "urn:a%41",
            "relative/path",
            "java:com.example.Service",
        ] {
            assert!(is_uri_reference(ok), "{ok}");
        }
        // Each of these is refused by libxml2 ("is not a valid URI"), checked with xmllint.
        for bad in [
            "urn:\u{e9}",
            "urn:a b",
            "urn:a`b",
            "urn:a%zz",
            "urn:a%4",
            "urn:a[b]",
            "urn:a{b}",
            "urn:a|b",
            "urn:a\\b",
            "urn:a^b",
            "http://h/a#b#c",
            "a b",
            "1a:b",
            "http://h:8x/",
        ] {
            assert!(!is_uri_reference(bad), "{bad}");
        }
    }

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
    fn names() {
        for ok in [
            "a",
            "soap:Envelope",
            "_x",
            "x-1.2",
            "ht:TraCuuKhaiSinh",
            "Tên",
            "xmlns:ds",
        ] {
            assert!(is_qname(ok), "{ok}");
        }
        for bad in [
            "", ":a", "a:", "a:b:c", "1a", "-a", "a'b", "a b", "a\"", "soa'a:h", "a=b", "<a",
        ] {
            assert!(!is_qname(bad), "{bad}");
        }
    }

    #[test]
    fn attribute_separation() {
        assert!(attributes_separated(r#" a="1" b='2'"#));
        assert!(attributes_separated(r#" a="x'y"	b="2"/"#));
        assert!(attributes_separated(""));
        assert!(!attributes_separated(r#" a="1"b="2""#));
        assert!(!attributes_separated(r#" a='1'b='2'"#));
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
