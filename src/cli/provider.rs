//! `lienthong provider`: only the example provider agencies, for tests and load scripts.

use std::net::SocketAddr;

pub fn run(listen: SocketAddr) -> anyhow::Result<i32> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        println!("example providers on http://{}", listener.local_addr()?);
        crate::providers::serve(listener, crate::cli::serve::shutdown_signal()).await;
        Ok(0)
    })
}
