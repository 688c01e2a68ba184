//! XML vocabulary shared by every layer: namespace URIs, qualified names, the limits a
//! message parser enforces, the well-formedness rules it checks itself, and escaping for
//! text written into XML we produce.

pub mod dtd;
pub mod escape;
pub mod limits;
pub mod ns;
pub mod wellformed;

use std::fmt;

/// A namespace-qualified name. Elements are always matched by namespace URI plus local
/// name, never by prefix (clients bind prefixes as they like).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QName {
    /// Namespace URI; empty for no namespace.
    pub ns: String,
    pub local: String,
}

impl QName {
    pub fn new(ns: impl Into<String>, local: impl Into<String>) -> Self {
        Self {
            ns: ns.into(),
            local: local.into(),
        }
    }

    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }
}

impl fmt::Display for QName {
    /// Clark notation, `{ns}local`, as used in logs and fault details.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ns.is_empty() {
            f.write_str(&self.local)
        } else {
            write!(f, "{{{}}}{}", self.ns, self.local)
        }
    }
}

/// 1-based line number of a byte offset, for `file:line: reason` messages.
pub fn line_of(text: &[u8], offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text[..end].iter().filter(|&&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based() {
        assert_eq!(line_of(b"a\nb\nc", 0), 1);
        assert_eq!(line_of(b"a\nb\nc", 2), 2);
        assert_eq!(line_of(b"a\nb\nc", 99), 3);
    }
}
