//! `lienthong provider`: only the example provider agencies, for tests and load scripts;
//! over HTTPS with `--tls-cert` and `--tls-key`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct ProviderArgs {
    #[arg(long, default_value = "127.0.0.1:9100")]
    pub listen: SocketAddr,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require client certificates (mutual TLS) issued by these CAs (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
}

pub fn run(args: &ProviderArgs) -> anyhow::Result<i32> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(Arc::new(crate::providers::tls::acceptor(
            cert,
            key,
            args.tls_client_ca.as_deref(),
        )?)),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen).await?;
        println!("example providers on {scheme}://{}", listener.local_addr()?);
        crate::providers::serve(listener, tls, crate::app::shutdown_signal()).await;
        Ok(0)
    })
}
