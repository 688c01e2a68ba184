//! What `lienthong demo` adds to a start: the development PKI on a fresh machine and the
//! example provider agencies, so the README's first command works offline.

use std::net::SocketAddr;

use crate::config::Config;
use crate::wssec::pki;

use super::{Paths, RunError};

/// Makes the development PKI when the data directory holds no gateway key yet (existing
/// keys are kept); `None` when there was one already.
pub fn first_start_pki(paths: &Paths, config: &Config) -> Result<Option<pki::Report>, String> {
    let data_dir = paths.data_dir(config);
    if crate::wssec::default_key(&data_dir).exists() {
        return Ok(None);
    }
    pki::init(
        &data_dir,
        &config.gateway.node_id,
        &config.agencies,
        false,
        Default::default(),
    )
    .map(Some)
    .map_err(|e| format!("cannot create the development PKI: {e}"))
}

/// Starts the example providers on the addresses the configuration's endpoints name; they
/// stop when the returned sender sends `true` (or is dropped).
pub async fn start_example_providers(
    config: &Config,
) -> Result<(Vec<SocketAddr>, tokio::sync::watch::Sender<bool>), RunError> {
    let addrs = crate::providers::listen_addresses(config);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    for &addr in &addrs {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| RunError::Providers { addr, source })?;
        let mut rx = stop_rx.clone();
        tokio::spawn(crate::providers::serve(listener, None, async move {
            let _ = rx.changed().await;
        }));
    }
    Ok((addrs, stop_tx))
}
