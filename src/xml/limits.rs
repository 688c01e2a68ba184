//! Bounds every parser of peer-supplied XML enforces (docs/SECURITY.md, R5 "Everything
//! bounded, nothing recursive").

/// Structural limits for one message. Defaults suit agency payloads of up to a few MB;
/// each is configurable under `[limits]` in `gateway.toml` (see `config::Limits`).
#[derive(Debug, Clone)]
pub struct XmlLimits {
    /// Element nesting depth (Envelope counts as 1).
    pub max_depth: usize,
    /// Elements in the whole document.
    pub max_elements: usize,
    /// Attributes (namespace declarations included) on one element.
    pub max_attributes: usize,
    /// Bytes in one attribute value or one text node.
    pub max_value_bytes: usize,
}

impl Default for XmlLimits {
    fn default() -> Self {
        Self {
            max_depth: 64,
            max_elements: 200_000,
            max_attributes: 64,
            max_value_bytes: 4 * 1024 * 1024,
        }
    }
}

/// Which of the bounds a message ran into, for a fault that names it and its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Depth,
    Elements,
    Attributes,
    AttributeBytes,
    TextBytes,
}

impl Bound {
    /// The `[limits]` key that sets it.
    pub fn key(self) -> &'static str {
        match self {
            Bound::Depth => "max_depth",
            Bound::Elements => "max_elements",
            Bound::Attributes => "max_attributes",
            Bound::AttributeBytes | Bound::TextBytes => "max_value_bytes",
        }
    }
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Bound::Depth => "nesting depth",
            Bound::Elements => "the number of elements",
            Bound::Attributes => "the attributes of one element",
            Bound::AttributeBytes => "the size of one attribute value",
            Bound::TextBytes => "the size of one text node",
        })
    }
}
