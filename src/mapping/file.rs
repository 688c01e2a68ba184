//! The mapping file as written (TOML), before checking. The format is documented in
//! `docs/MAPPINGS.md`; every table refuses unknown keys.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMapping {
    pub mapping: Spanned<Header>,
    pub source: Spanned<Side>,
    pub target: Spanned<Side>,
    /// prefix -> namespace URI, used in every path and root of the file.
    #[serde(default)]
    pub namespaces: BTreeMap<String, String>,
    /// Code lists for `lookup(NAME)`.
    #[serde(default)]
    pub tables: BTreeMap<String, Spanned<RawTable>>,
    #[serde(default)]
    pub rules: Vec<Spanned<RawRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// An XSLT 1.0 stylesheet used instead of `[[rules]]`.
    #[serde(default)]
    pub xslt: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Side {
    /// The XSD (or several) describing this side; relative to the mapping file.
    pub schema: OneOrMany<PathBuf>,
    /// `prefix:Name` of the document element.
    pub root: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: Clone> OneOrMany<T> {
    pub fn to_vec(&self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTable {
    /// Inline `code = "target code"` pairs.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// A CSV file beside the mapping: header line, then `source,target` per line.
    #[serde(default)]
    pub csv: Option<PathBuf>,
    /// Value for codes not in the list; without it an unknown code fails the mapping.
    #[serde(default)]
    pub default: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Missing {
    /// Fail the whole mapping.
    Error,
    /// Leave the target out.
    Skip,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// Source path(s), relative to the current source element; several are joined.
    #[serde(default)]
    pub from: Option<OneOrMany<String>>,
    /// Target path, relative to the current target element.
    #[serde(default)]
    pub to: Option<String>,
    /// A constant written to `to` (no `from`).
    #[serde(default, rename = "const")]
    pub constant: Option<String>,
    /// Written when the source is absent or empty.
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub transform: Vec<String>,
    /// Between the values of several `from` paths (default: one space).
    #[serde(default)]
    pub separator: Option<String>,
    /// When the source is absent and there is no default. Default: `error` if the target
    /// is required by its schema, `skip` otherwise.
    #[serde(default)]
    pub missing: Option<Missing>,
    /// A repeated source element: `to` is created once per occurrence and the nested
    /// `rules` run relative to both.
    #[serde(default)]
    pub for_each: Option<String>,
    #[serde(default)]
    pub rules: Vec<Spanned<RawRule>>,
}
