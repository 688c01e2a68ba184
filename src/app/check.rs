//! What `lienthong check` loads: everything start-up would, without serving and without
//! writing anything (no audit store opened, no replay horizon kept).

use std::path::PathBuf;

use crate::config::Config;
use crate::problem::{Problem, Problems};
use crate::registry::Catalogue;

use super::boot::{catalogue, forwarder, Found};
use super::Paths;

/// The outcome of a check whose configuration file loaded.
pub struct Inspection {
    pub config: Config,
    /// Every problem found; the check fails when there is any.
    pub problems: Vec<Problem>,
    /// The data directory, when it holds no gateway key yet and the configuration names
    /// none (keys and trust are then not checked).
    pub no_key_in: Option<PathBuf>,
    /// The catalogue, when it loaded.
    pub catalogue: Option<Catalogue>,
}

/// Loads the configuration (its problems are the `Err`, since nothing else can be checked
/// without it), then every layer start-up loads, keeping all their problems.
pub fn check(paths: &Paths) -> Result<Inspection, Problems> {
    let config = Config::load(&paths.config)?;
    let mut found = Found::default();
    found.keep_one(forwarder(&config));
    // The auditors' credentials and the auditor listener's TLS files, as `serve` loads them.
    found.keep_one(
        crate::web::Settings::from_config(&config).map_err(|e| Problem::file(&config.path, e)),
    );
    // The gateway's key, certificate and trust anchors, once there are any to load.
    let data_dir = paths.data_dir(&config);
    let no_key_in =
        if config.security.key.is_some() || crate::wssec::default_key(&data_dir).exists() {
            found.keep(crate::wssec::Engine::load(&config, &data_dir));
            None
        } else {
            Some(data_dir)
        };
    let catalogue = found.keep(catalogue(&config));
    Ok(Inspection {
        config,
        problems: found.0,
        no_key_in,
        catalogue,
    })
}
