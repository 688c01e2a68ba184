//! `lienthong serve`: load everything through [`crate::app`] (refusing a bad configuration
//! with every problem listed), listen, and shut down gracefully on SIGTERM / Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;

use crate::app;
use crate::cli::Common;
use crate::config::Config;
use crate::registry::Gateway;

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides `[gateway] listen`).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

/// The configuration with `--listen` and the data directory applied.
pub fn load_config(common: &Common, args: &ServeArgs) -> anyhow::Result<Config> {
    common
        .paths()
        .load_config(args.listen)
        .map_err(|p| anyhow::anyhow!("{p}"))
}

/// The gateway, or every problem that keeps it from starting.
pub fn build_gateway(common: &Common, config: Config) -> anyhow::Result<Arc<Gateway>> {
    let gw = app::build(&common.paths(), config).map_err(|p| anyhow::anyhow!("{p}"))?;
    Ok(Arc::new(gw))
}

/// The pid file for `lienthong reload`, and reload on SIGHUP.
pub fn watch_for_reload(
    common: &Common,
    gw: &Arc<Gateway>,
) -> anyhow::Result<crate::reload::PidFile> {
    crate::reload::watch(&common.data_dir(&gw.config), gw).context("cannot write the pid file")
}

pub fn run(common: &Common, args: &ServeArgs, quiet: bool) -> anyhow::Result<i32> {
    let config = load_config(common, args)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let (listener, config) = app::bind(config).await?;
        let addr = listener.local_addr()?;
        let gw = build_gateway(common, config)?;
        let _pid = watch_for_reload(common, &gw)?;
        announce(&gw, addr, quiet);
        app::start_auditor_api(&common.paths(), &gw.config, None).await?;
        crate::server::serve(gw.clone(), listener, app::shutdown_signal()).await?;
        app::finish(&gw).await;
        Ok(0)
    })
}

fn announce(gw: &Gateway, addr: SocketAddr, quiet: bool) {
    log::info!("listening on {addr}");
    if quiet {
        return;
    }
    println!("lienthong listening on http://{addr}");
    print_services(gw);
}

/// The catalogue's address and each service's `?wsdl`, as `serve` and `demo` print them.
pub fn print_services(gw: &Gateway) {
    println!("  service catalogue: {}/services", gw.config.public_url());
    for name in gw.catalogue().services.keys() {
        println!("  {name}: {}?wsdl", gw.service_url(name));
    }
}
