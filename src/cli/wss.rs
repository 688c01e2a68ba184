//! `lienthong wss sign|verify FILE`: WS-Security offline, with the gateway's keys and
//! trust store (or an agency's development key), for integrators checking messages.

use std::path::PathBuf;

use clap::Subcommand;

use crate::cli::Common;
use crate::config::Config;
use crate::model::AgencyCode;
use crate::pipeline::fault_map;
use crate::wssec::{pki, Engine, Signer};

#[derive(Debug, Subcommand)]
pub enum WssCommand {
    /// Sign a SOAP envelope (Body + Timestamp) and print it.
    Sign {
        /// Sign as this agency with DATA_DIR/pki/agencies/CODE.key (default: the gateway).
        #[arg(long = "as", value_parser = AgencyCode::parse)]
        agency: Option<AgencyCode>,
        file: PathBuf,
    },
    /// Verify a signed SOAP envelope against the gateway's trust store.
    Verify { file: PathBuf },
}

pub fn run(common: &Common, cmd: WssCommand) -> anyhow::Result<i32> {
    let config = Config::load(&common.config).map_err(|p| anyhow::anyhow!("{p}"))?;
    let data_dir = common.data_dir(&config);
    match cmd {
        WssCommand::Sign { agency, file } => {
            let bytes =
                std::fs::read(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let signed = match agency {
                Some(code) => {
                    let signer = Signer::load(
                        &pki::agency_key(&data_dir, code.as_str()),
                        &pki::agency_cert(&data_dir, code.as_str()),
                        None,
                        None,
                    )
                    .map_err(|e| anyhow::anyhow!(e))?;
                    signer.sign(
                        &bytes,
                        &Default::default(),
                        chrono::Duration::seconds(config.security.timestamp_ttl_secs as i64),
                    )?
                }
                None => {
                    let engine =
                        Engine::load(&config, &data_dir).map_err(|p| anyhow::anyhow!("{p}"))?;
                    engine.sign(bytes)?
                }
            };
            use std::io::Write;
            std::io::stdout().write_all(&signed)?;
            Ok(0)
        }
        WssCommand::Verify { file } => {
            let engine = Engine::load(&config, &data_dir).map_err(|p| anyhow::anyhow!("{p}"))?;
            let bytes =
                std::fs::read(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            if let Err(e) = crate::wssec::sign::parse_any(&bytes, &config.limits.xml()) {
                eprintln!("{}: refused: {e}", file.display());
                return Ok(1);
            }
            match engine.verify_document(&bytes) {
                Ok((who, _)) => {
                    println!("{}: signature valid", file.display());
                    match &who.agency {
                        Some(code) => {
                            let name = config.agency(code).map(|a| a.name.as_str()).unwrap_or("");
                            println!("  agency:      {code} {name}");
                        }
                        None => println!("  agency:      (none: not an agency certificate)"),
                    }
                    println!("  subject:     {}", who.subject);
                    println!("  fingerprint: {}", who.fingerprint);
                    Ok(0)
                }
                Err(e) => {
                    // The operator's tool: the libraries' detail too, not only the fault's.
                    let fault = fault_map::security(&e);
                    let why = e.audit_reason();
                    eprintln!("{}: {}: {why}", file.display(), fault.code_label());
                    Ok(1)
                }
            }
        }
    }
}
