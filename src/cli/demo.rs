//! `lienthong demo`: the gateway plus the example provider agencies, so the README's first
//! command works on a fresh, offline machine.

use crate::app;
use crate::cli::serve::{build_gateway, load_config, print_services, watch_for_reload, ServeArgs};
use crate::cli::Common;

pub fn run(common: &Common, args: &ServeArgs) -> anyhow::Result<i32> {
    let config = load_config(common, args)?;
    if let Some(report) =
        app::first_start_pki(&common.paths(), &config).map_err(anyhow::Error::msg)?
    {
        eprintln!("lienthong demo: {}", crate::wssec::pki::WARNING);
        eprintln!(
            "  created {} certificate(s) under {}",
            report.created.len(),
            crate::wssec::pki::pki_dir(&common.data_dir(&config)).display()
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let (provider_addrs, stop_tx) = app::start_example_providers(&config).await?;
        let (listener, config) = app::bind(config).await?;
        let addr = listener.local_addr()?;
        let gw = build_gateway(common, config)?;
        let _pid = watch_for_reload(common, &gw)?;
        println!(
            "lienthong demo: gateway on http://{addr}, example providers on {}",
            provider_addrs
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        print_services(&gw);
        let auditor_fallback = std::net::SocketAddr::new(addr.ip(), 8081);
        app::start_auditor_api(&common.paths(), &gw.config, Some(auditor_fallback)).await?;
        println!(
            "  try: lienthong call --url http://{addr} --service ho-tich --operation TraCuuKhaiSinh --as 000.00.00.H38 conf/examples/ho-tich-TraCuuKhaiSinh.xml"
        );
        crate::server::serve(gw.clone(), listener, app::shutdown_signal()).await?;
        app::finish(&gw).await;
        let _ = stop_tx.send(true);
        Ok(0)
    })
}
