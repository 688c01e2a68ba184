//! Bounds every parser of peer-supplied XML enforces (DOMAIN.md, receiving rule 5).

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
