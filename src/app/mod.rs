//! Boot: from a configuration file and the operator's paths to a loaded [`Gateway`], with
//! every problem of every layer (configuration, contracts, schemas, mappings, keys, trust,
//! audit store) reported at once as `file:line: reason`. `serve`, `demo`, `check` and
//! reload all load through here, so a start-up refused and a `check` that fails name the
//! same problems the same way.
//!
//! The command line only parses, calls this module and prints; nothing here prints.

mod boot;
mod check;
mod demo;
mod run;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use boot::{build, catalogue};
pub use check::{check, Inspection};
pub use demo::{first_start_pki, start_example_providers};
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn paths(data_dir: Option<&str>, audit_db: Option<&str>) -> Paths {
        Paths {
            config: PathBuf::from("gateway.toml"),
            data_dir: data_dir.map(PathBuf::from),
            audit_db: audit_db.map(String::from),
        }
    }

    #[test]
    fn the_operator_s_paths_win_then_the_configuration_then_the_defaults() {
        let plain = Config::parse(Path::new("gateway.toml"), "").unwrap();
        assert_eq!(paths(None, None).data_dir(&plain), PathBuf::from("data"));
        assert_eq!(
            paths(None, None).audit_url(&plain),
            Path::new("data").join("audit.db").display().to_string()
        );
        let set = Config::parse(
            Path::new("gateway.toml"),
            "[gateway]\ndata_dir = \"state\"\n[audit]\ndatabase = \"postgres://db/lt\"\n",
        )
        .unwrap();
        assert_eq!(paths(None, None).data_dir(&set), PathBuf::from("state"));
        assert_eq!(paths(None, None).audit_url(&set), "postgres://db/lt");
        let given = paths(Some("here"), Some("there.db"));
        assert_eq!(given.data_dir(&set), PathBuf::from("here"));
        assert_eq!(given.audit_url(&set), "there.db");
        assert_eq!(
            paths(Some("here"), None).audit_url(&plain),
            Path::new("here").join("audit.db").display().to_string()
        );
    }
}
