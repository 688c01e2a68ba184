//! The `lienthong` command line: one file per subcommand.

pub mod audit;
pub mod call;
pub mod check;
pub mod demo;
pub mod mapping;
pub mod pki;
pub mod provider;
pub mod reload;
pub mod serve;
pub mod wss;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "lienthong",
    version,
    about = "SOAP/XML interoperability gateway for agencies (LGSP)"
)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Gateway configuration file.
    #[arg(
        long,
        global = true,
        default_value = "conf/gateway.toml",
        env = "LIENTHONG_CONFIG"
    )]
    pub config: PathBuf,
    /// State directory: the SQLite audit store, generated keys.
    #[arg(long, global = true, env = "LIENTHONG_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Audit store URL (overrides the configuration): a SQLite path or postgres://...
    #[arg(long, global = true, env = "LIENTHONG_AUDIT_DB")]
    pub audit_db: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway.
    Serve(serve::ServeArgs),
    /// Run the gateway together with the example provider agencies (one command, offline).
    Demo(serve::ServeArgs),
    /// Load and check the configuration, every WSDL, XSD and mapping; list each problem.
    Check,
    /// Check, apply and test schema mappings (offline).
    #[command(subcommand)]
    Mapping(mapping::MappingCommand),
    /// Ask the running gateway to reload its schemas and mappings (SIGHUP to the pid in
    /// DATA_DIR/lienthong.pid).
    Reload,
    /// Query the audit store.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Development PKI (CA, gateway and agency keys) under DATA_DIR/pki/.
    #[command(subcommand)]
    Pki(pki::PkiCommand),
    /// Sign a payload as an agency, call a service through the gateway, verify the answer.
    Call(call::CallArgs),
    /// Sign or verify a SOAP message offline (WS-Security).
    #[command(subcommand)]
    Wss(wss::WssCommand),
    /// Run only the example provider agencies (used by tests and load scripts).
    Provider(provider::ProviderArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Serve(args) => serve::run(&cli.common, &args, false),
        Command::Demo(args) => demo::run(&cli.common, &args),
        Command::Check => check::run(&cli.common),
        Command::Audit(cmd) => audit::run(&cli.common, cmd),
        Command::Pki(cmd) => pki::run(&cli.common, cmd),
        Command::Call(args) => call::run(&cli.common, &args),
        Command::Wss(cmd) => wss::run(&cli.common, cmd),
        Command::Mapping(cmd) => mapping::run(&cli.common, cmd),
        Command::Reload => reload::run(&cli.common),
        Command::Provider(args) => provider::run(&args),
    }
}

impl Common {
    /// The paths as [`crate::app`] takes them.
    pub fn paths(&self) -> crate::app::Paths {
        crate::app::Paths {
            config: self.config.clone(),
            data_dir: self.data_dir.clone(),
            audit_db: self.audit_db.clone(),
        }
    }

    /// `--data-dir`, else `[gateway] data_dir`, else `data/`.
    pub fn data_dir(&self, config: &crate::config::Config) -> PathBuf {
        self.paths().data_dir(config)
    }

    /// `--audit-db`, else `[audit] database`, else SQLite at `DATA_DIR/audit.db`.
    pub fn audit_url(&self, config: &crate::config::Config) -> String {
        self.paths().audit_url(config)
    }
}
