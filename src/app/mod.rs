//! Boot: from a configuration file and the operator's paths to a loaded [`Gateway`], with
//! every problem of every layer (configuration, contracts, schemas, mappings, keys, trust,
//! audit store) reported at once as `file:line: reason`. `serve`, `demo`, `check` and
//! reload all load through here, so a start-up refused and a `check` that fails name the
//! same problems the same way.
//!
//! The command line only parses, calls this module and prints; nothing here prints.

mod boot;
mod check;
mod run;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use boot::{build, catalogue};
pub use check::{check, Inspection};
pub use run::{bind, finish, shutdown_signal, start_auditor_api, RunError};

use crate::config::Config;
use crate::problem::Problems;

/// Where the gateway's files are, as the operator gave them (flags or environment);
/// each `None` falls back to the configuration, then to a default.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The gateway configuration file.
    pub config: PathBuf,
    /// State directory: the SQLite audit store, generated keys, the pid file.
    pub data_dir: Option<PathBuf>,
    /// Audit store URL: a SQLite path or `postgres://...`.
    pub audit_db: Option<String>,
}

impl Paths {
    /// The given data directory, else `[gateway] data_dir`, else `data/`.
    pub fn data_dir(&self, config: &Config) -> PathBuf {
        self.data_dir
            .clone()
            .or_else(|| config.gateway.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from("data"))
    }

    /// The given audit store, else `[audit] database`, else SQLite at `DATA_DIR/audit.db`.
    pub fn audit_url(&self, config: &Config) -> String {
        self.audit_db
            .clone()
            .or_else(|| config.audit.database.clone())
            .unwrap_or_else(|| self.data_dir(config).join("audit.db").display().to_string())
    }

    /// Loads the configuration with the operator's overrides applied: the listen address
    /// (`serve --listen`) and the data directory, so later layers see one `Config`.
    pub fn load_config(&self, listen: Option<SocketAddr>) -> Result<Config, Problems> {
        let mut config = Config::load(&self.config)?;
        if let Some(listen) = listen {
            config.gateway.listen = listen;
        }
        config.gateway.data_dir = Some(self.data_dir(&config));
        Ok(config)
    }
}
