//! `lienthong pki init`: a development PKI under `DATA_DIR/pki/` (CA, gateway, one
//! certificate per agency of the configuration). Loudly not for production.

use clap::Subcommand;

use crate::cli::Common;
use crate::config::Config;
use crate::wssec::pki;

#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Create the development CA, gateway and agency keys (missing ones only).
    Init {
        /// Replace existing keys and certificates.
        #[arg(long)]
        force: bool,
        /// Type of the new gateway and agency keys (the CA is RSA-2048).
        #[arg(long, value_enum, default_value_t = KeyArg::Rsa2048)]
        key_type: KeyArg,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum KeyArg {
    #[value(name = "rsa2048")]
    Rsa2048,
    #[value(name = "p256")]
    P256,
}

pub fn run(common: &Common, cmd: PkiCommand) -> anyhow::Result<i32> {
    let PkiCommand::Init { force, key_type } = cmd;
    let keys = match key_type {
        KeyArg::Rsa2048 => pki::KeyType::Rsa2048,
        KeyArg::P256 => pki::KeyType::P256,
    };
    let config = Config::load(&common.config).map_err(|p| anyhow::anyhow!("{p}"))?;
    let data_dir = common.data_dir(&config);
    let report = pki::init(
        &data_dir,
        &config.gateway.node_id,
        &config.agencies,
        force,
        keys,
    )
    .map_err(|e| anyhow::anyhow!("cannot create the development PKI: {e}"))?;
    eprintln!("!!! {} !!!", pki::WARNING);
    for p in &report.created {
        println!("created {}", p.display());
    }
    for p in &report.kept {
        println!("kept    {}", p.display());
    }
    println!(
        "agencies sign with {}/agencies/CODE.key; the gateway trusts {}/ca.crt while [security] trust_ca is unset",
        pki::pki_dir(&data_dir).display(),
        pki::pki_dir(&data_dir).display()
    );
    Ok(0)
}
