//! The pieces of a running gateway that `serve` and `demo` share: the SOAP listener bound,
//! the auditor's listener started, shutdown awaited, the audit chain sealed at the end.

use std::net::SocketAddr;

use crate::config::Config;
use crate::registry::Gateway;

use super::Paths;

/// A listener that could not be started.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the example providers on {addr}: {source}")]
    Providers {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    AuditorSettings(String),
    #[error("auditor's API on {addr}: {source}")]
    AuditorApi {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Binds the SOAP listener; with port 0 the bound address becomes the published one.
pub async fn bind(mut config: Config) -> Result<(tokio::net::TcpListener, Config), RunError> {
    let addr = config.gateway.listen;
    let listen = |source| RunError::Listen { addr, source };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(listen)?;
    config.gateway.listen = listener.local_addr().map_err(listen)?;
    Ok((listener, config))
}

/// Starts the auditor's API and page on their own listener (`[audit] api_listen`, or
/// `fallback` when the configuration names none). Without configured auditors a token for
/// this run only is generated and printed, so `demo` is usable out of the box.
pub async fn start_auditor_api(
    paths: &Paths,
    config: &Config,
    fallback: Option<SocketAddr>,
) -> Result<(), RunError> {
    let Some(addr) = config.audit.api_listen.or(fallback) else {
        return Ok(());
    };
    let settings = crate::web::Settings::from_config(config).map_err(RunError::AuditorSettings)?;
    let server = crate::web::start(
        addr,
        settings,
        &paths.audit_url(config),
        std::future::pending(),
    )
    .await
    .map_err(|source| RunError::AuditorApi { addr, source })?;
    tokio::spawn(async move {
        if let Err(e) = server.await {
            log::error!("auditor's API stopped: {e}");
        }
    });
    Ok(())
}

/// After the listener has drained: seal the audit chain so its head is signed.
pub async fn finish(gw: &Gateway) {
    match gw.audit.shutdown().await {
        Ok(Some(seal)) => log::info!("audit chain sealed at shutdown: {seal:?}"),
        Ok(None) => {}
        Err(e) => log::error!("could not seal the audit chain at shutdown: {e}"),
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
