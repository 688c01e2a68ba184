//! `lienthong call`: the integrator's test client (X-Road's "test client" job). Wraps a
//! Body payload in a SOAP envelope, signs it as an agency with its development key,
//! sends it to the gateway, verifies the gateway's signed answer and prints it.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::cli::Common;
use crate::config::Config;
use crate::model::{AgencyCode, ServiceName, SoapVersion};
use crate::net::forward::{Forwarder, ProviderTls};
use crate::soap::envelope;
use crate::wssec::{pki, Engine, Expect, Signer};

#[derive(Debug, Args)]
pub struct CallArgs {
    /// Gateway base URL (default: the configuration's public URL).
    #[arg(long)]
    pub url: Option<String>,
    #[arg(long, value_parser = ServiceName::parse)]
    pub service: ServiceName,
    /// The operation; checked against the payload's root element.
    #[arg(long)]
    pub operation: String,
    /// The calling agency; signs with DATA_DIR/pki/agencies/CODE.key.
    #[arg(long = "as", value_parser = AgencyCode::parse)]
    pub agency: AgencyCode,
    /// Send SOAP 1.2 (default SOAP 1.1).
    #[arg(long)]
    pub soap12: bool,
    /// SOAPAction / action parameter (default empty: the gateway routes on the Body).
    #[arg(long)]
    pub action: Option<String>,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// The Body's payload (one XML element).
    pub file: PathBuf,
}

pub fn run(common: &Common, args: &CallArgs) -> anyhow::Result<i32> {
    let config = Config::load(&common.config).map_err(|p| anyhow::anyhow!("{p}"))?;
    let data_dir = common.data_dir(&config);
    let payload =
        std::fs::read(&args.file).map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let version = if args.soap12 {
        SoapVersion::V12
    } else {
        SoapVersion::V11
    };
    let request = envelope::build(version, &[], &payload);
    let parsed = envelope::parse(request.clone().into(), version, &Default::default())
        .map_err(|e| anyhow::anyhow!("{}: not a usable payload: {e}", args.file.display()))?;
    if parsed.payload.name.local != args.operation {
        eprintln!(
            "note: the payload's root element is {} (operation {} given)",
            parsed.payload.name, args.operation
        );
    }
    let signer = Signer::load(
        &pki::agency_key(&data_dir, args.agency.as_str()),
        &pki::agency_cert(&data_dir, args.agency.as_str()),
        None,
        None,
    )
    .map_err(|e| anyhow::anyhow!("{e} (run `lienthong pki init` for development keys)"))?;
    let signed = signer.sign(
        &request,
        &Default::default(),
        chrono::Duration::seconds(config.security.timestamp_ttl_secs as i64),
    )?;
    // To check the answer: the gateway's certificate and trust store.
    let engine = Engine::load(&config, &data_dir).map_err(|p| anyhow::anyhow!("{p}"))?;

    let base = args
        .url
        .clone()
        .unwrap_or_else(|| config.public_url())
        .trim_end_matches('/')
        .to_string();
    let url = format!("{base}/services/{}", args.service);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let answer = rt.block_on(async {
        Forwarder::new(config.limits.max_response_bytes, &ProviderTls::default())?
            .send(
                &url,
                version,
                args.action.as_deref(),
                signed,
                Duration::from_secs(args.timeout),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{url}: {}", e.detail()))
    })?;
    let env = match envelope::parse(answer.body.clone(), version, &Default::default()) {
        Ok(env) => env,
        Err(e) => {
            eprintln!(
                "HTTP {}: the answer is not a SOAP envelope: {e}",
                answer.status
            );
            println!("{}", String::from_utf8_lossy(&answer.body));
            return Ok(2);
        }
    };
    let verified = engine.verify_answer(&env, Expect::Certificate(engine.certificate()));
    println!("{}", String::from_utf8_lossy(&answer.body));
    match verified {
        Ok(who) => eprintln!(
            "HTTP {}: answer signed by the gateway ({})",
            answer.status, who.subject
        ),
        Err(e) => {
            eprintln!(
                "HTTP {}: the answer's signature was refused: {}",
                answer.status,
                e.audit_reason()
            );
            return Ok(3);
        }
    }
    Ok(if env.is_fault() { 1 } else { 0 })
}
