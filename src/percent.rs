//! Percent-coding (RFC 3986 §2.1), in one place for the whole crate, on top of the
//! `percent-encoding` crate: request targets, the auditor API's query strings and WSDL/XSD
//! import locations all decode here.
//!
//! Two decoders, for two kinds of input:
//! - [`decode_strict`] for what a peer sends (request targets, query parameters): a `%` not
//!   followed by two hex digits, or bytes that are not UTF-8, are refused, since a lenient
//!   reading is one an attacker can make mean two things;
//! - [`decode_lenient`] for locations written in the operator's own contract files: a stray
//!   `%` stays as written, as libxml2 and most WSDL tools read it.

use percent_encoding::{percent_decode_str, AsciiSet, NON_ALPHANUMERIC};

/// Why a peer-supplied percent-encoded string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PercentError {
    #[error("`%` not followed by two hexadecimal digits")]
    BadEscape,
    #[error("the decoded text is not UTF-8")]
    NotUtf8,
}

/// Decodes `%XX` escapes, refusing malformed escapes and non-UTF-8 results.
pub fn decode_strict(s: &str) -> Result<String, PercentError> {
    let b = s.as_bytes();
    // RFC 3986 §2.1: `pct-encoded = "%" HEXDIG HEXDIG`; anything else is not a URI.
    for (i, _) in s.match_indices('%') {
        let hex = |j: usize| b.get(j).is_some_and(u8::is_ascii_hexdigit);
        if !(hex(i + 1) && hex(i + 2)) {
            return Err(PercentError::BadEscape);
        }
    }
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| PercentError::NotUtf8)
}

/// `application/x-www-form-urlencoded` value (WHATWG URL §5.1): `+` is a space, then
/// [`decode_strict`]. The `+` goes first so that `%2B` stays a plus.
pub fn decode_form(s: &str) -> Result<String, PercentError> {
    if s.contains('+') {
        decode_strict(&s.replace('+', " "))
    } else {
        decode_strict(s)
    }
}

/// Decodes `%XX` escapes; a malformed escape stays as written and bytes that are not UTF-8
/// become U+FFFD. For the operator's own files only (see the module doc).
pub fn decode_lenient(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Everything but RFC 3986 unreserved characters and `/` is escaped: a path travels as one
/// query parameter value (`+` and `&` included).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// Percent-encodes `s` as one query parameter value.
pub fn encode_query_value(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict() {
        assert_eq!(decode_strict("a%2Fb%20c").unwrap(), "a/b c");
        assert_eq!(decode_strict("Vi%E1%BB%87t").unwrap(), "Việt");
        assert_eq!(decode_strict("é").unwrap(), "é");
        assert_eq!(decode_strict("a+b").unwrap(), "a+b");
        for bad in ["%", "%a", "%aé", "a%zz", "%4", "%+1", "%-1", "% 1", "x%"] {
            assert_eq!(decode_strict(bad), Err(PercentError::BadEscape), "{bad}");
        }
        assert_eq!(decode_strict("%FF"), Err(PercentError::NotUtf8));
        assert_eq!(decode_strict("%C3"), Err(PercentError::NotUtf8));
    }

    #[test]
    fn form() {
        assert_eq!(decode_form("a+b%2Bc").unwrap(), "a b+c");
        assert_eq!(decode_form("%"), Err(PercentError::BadEscape));
    }

    #[test]
    fn lenient() {
        assert_eq!(decode_lenient("a%2Fb%zz%4"), "a/b%zz%4");
        assert_eq!(decode_lenient("%aé"), "%aé");
        assert_eq!(decode_lenient("%FF"), "\u{FFFD}");
    }

    #[test]
    fn encode() {
        assert_eq!(encode_query_value("../a b+c&d.xsd"), "../a%20b%2Bc%26d.xsd");
        assert_eq!(
            decode_strict(&encode_query_value("Tệp 1.xsd")).unwrap(),
            "Tệp 1.xsd"
        );
    }
}
