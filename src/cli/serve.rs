//! `lienthong serve`: load everything (refusing a bad configuration with every problem
//! listed), open the audit store, listen, and shut down gracefully on SIGTERM / Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;

use crate::audit::{AuditLog, SealKey};
use crate::cli::Common;
use crate::config::Config;
use crate::pipeline::forward::{Forwarder, ProviderTls};
use crate::registry::{Catalogue, Gateway};

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides `[gateway] listen`).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

/// Loads the configuration with the CLI's overrides applied.
pub fn load_config(common: &Common, args: &ServeArgs) -> anyhow::Result<Config> {
    let mut config = Config::load(&common.config).map_err(|p| anyhow::anyhow!("{p}"))?;
    if let Some(listen) = args.listen {
        config.gateway.listen = listen;
    }
    config.gateway.data_dir = Some(common.data_dir(&config));
    Ok(config)
}

/// Builds the gateway from a loaded configuration.
pub fn build_gateway(common: &Common, config: Config) -> anyhow::Result<Gateway> {
    let data_dir = common.data_dir(&config);
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let catalogue = Catalogue::load(&config).map_err(|p| anyhow::anyhow!("{p}"))?;
    let audit_url = common.audit_url(&config);
    let key_path = config.audit.seal_key_path(&data_dir);
    let (seal_key, generated) = SealKey::load_or_generate(&key_path)?;
    if generated {
        log::warn!(
            "generated a new audit seal key at {} (keep it; `audit verify` checks seals against it)",
            key_path.display()
        );
    }
    let audit = AuditLog::open(&audit_url, &config.gateway.node_id, &config.audit, seal_key)
        .with_context(|| format!("cannot open the audit store {audit_url}"))?;
    let mut security =
        crate::wssec::Engine::load(&config, &data_dir).map_err(|p| anyhow::anyhow!("{p}"))?;
    security
        .guard_restarts(&data_dir)
        .map_err(|e| anyhow::anyhow!("replay horizon: {e}"))?;
    let forwarder = Forwarder::new(
        config.limits.max_response_bytes,
        &ProviderTls::from_config(&config.gateway),
    )
    .context("cannot set up TLS to providers")?;
    Ok(Gateway::new(config, catalogue, security, forwarder, audit))
}

pub fn run(common: &Common, args: &ServeArgs, quiet: bool) -> anyhow::Result<i32> {
    let config = load_config(common, args)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let (listener, config) = bind(config).await?;
        let addr = listener.local_addr()?;
        let gw = Arc::new(build_gateway(common, config)?);
        let _pid = watch_for_reload(common, &gw)?;
        announce(&gw, addr, quiet);
        start_auditor_api(common, &gw.config, None).await?;
        crate::server::serve(gw.clone(), listener, shutdown_signal()).await?;
        finish(&gw).await;
        Ok(0)
    })
}

/// Binds the SOAP listener; with port 0 the bound address becomes the published one.
pub async fn bind(mut config: Config) -> anyhow::Result<(tokio::net::TcpListener, Config)> {
    let listener = tokio::net::TcpListener::bind(config.gateway.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.gateway.listen))?;
    config.gateway.listen = listener.local_addr()?;
    Ok((listener, config))
}

/// Starts the auditor's API and page on their own listener (`[audit] api_listen`, or
/// `fallback` when the configuration names none). Without configured auditors a token for
/// this run only is generated and printed, so `demo` is usable out of the box.
pub async fn start_auditor_api(
    common: &Common,
    config: &Config,
    fallback: Option<SocketAddr>,
) -> anyhow::Result<()> {
    let Some(addr) = config.audit.api_listen.or(fallback) else {
        return Ok(());
    };
    let settings = crate::web::Settings::from_config(config).map_err(|e| anyhow::anyhow!(e))?;
    let server = crate::web::start(
        addr,
        settings,
        &common.audit_url(config),
        std::future::pending(),
    )
    .await?;
    tokio::spawn(async move {
        if let Err(e) = server.await {
            log::error!("auditor's API stopped: {e}");
        }
    });
    Ok(())
}

/// Writes `DATA_DIR/lienthong.pid` (for `lienthong reload`) and reloads schemas and
/// mappings on SIGHUP; the pid file is removed when the returned guard drops.
pub fn watch_for_reload(
    common: &Common,
    gw: &Arc<Gateway>,
) -> anyhow::Result<crate::reload::PidFile> {
    let pid = crate::reload::PidFile::create(&common.data_dir(&gw.config))
        .context("cannot write the pid file")?;
    #[cfg(unix)]
    tokio::spawn(crate::reload::on_sighup(gw.clone()));
    Ok(pid)
}

/// After the listener has drained: seal the audit chain so its head is signed.
pub async fn finish(gw: &Gateway) {
    match gw.audit.shutdown().await {
        Ok(Some(seal)) => log::info!("audit chain sealed at shutdown: {seal:?}"),
        Ok(None) => {}
        Err(e) => log::error!("could not seal the audit chain at shutdown: {e}"),
    }
}

fn announce(gw: &Gateway, addr: SocketAddr, quiet: bool) {
    log::info!("listening on {addr}");
    if quiet {
        return;
    }
    println!("lienthong listening on http://{addr}");
    println!("  service catalogue: {}/services", gw.config.public_url());
    for name in gw.catalogue().services.keys() {
        println!("  {name}: {}?wsdl", gw.service_url(name));
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    log::info!("shutdown requested");
}
