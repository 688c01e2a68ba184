//! Translation between agencies' schemas: rule-based mappings (TOML) or XSLT 1.0,
//! checked against both XSDs when loaded.

use std::path::Path;

use serde::Deserialize;

use crate::fault::{Fault, Subcode};

/// `[[services.mappings]]`: which mapping applies to which operation and direction.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    pub operation: String,
    /// Consumer request -> provider request.
    pub request: Option<std::path::PathBuf>,
    /// Provider answer -> consumer answer.
    pub response: Option<std::path::PathBuf>,
}

impl Binding {
    pub fn resolve_paths(&mut self, base: &Path) {
        for p in [&mut self.request, &mut self.response]
            .into_iter()
            .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("cannot map {path}: {problem}")]
    Value { path: String, problem: String },
}

pub fn fault_for(e: &MappingError) -> Fault {
    Fault::sender(e.to_string()).with_subcode(Subcode::lienthong("MappingFailed"))
}
