//! Reload: SIGHUP (or `lienthong reload`, which sends it) rebuilds the catalogue — WSDLs,
//! schemas and mappings, from the configuration file as it is now on disk — and swaps it
//! in atomically. A catalogue that fails any check is refused with every reason logged,
//! and the one in service stays. Exchanges in flight keep the service they started with.
//!
//! Only the catalogue is reloaded: listen address, limits, audit store and keys need a
//! restart (logged when they differ).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cli::Common;
use crate::config::Config;
use crate::problem::{Problem, Problems};
use crate::registry::{Catalogue, Gateway};

/// Name of the pid file in the data directory.
pub const PID_FILE: &str = "lienthong.pid";

/// Rebuilds the catalogue and swaps it in; returns the number of services now served.
/// Blocking (compiles schemas): call it off the async reactor.
pub fn reload(gw: &Gateway) -> Result<usize, Problems> {
    let config = Config::load(&gw.config.path)?;
    if config.gateway.listen != gw.config.gateway.listen
        || config.audit.database != gw.config.audit.database
    {
        log::warn!("reload: listen address or audit store changed; they take effect on restart");
    }
    let catalogue = Catalogue::load(&config)?;
    let n = catalogue.services.len();
    gw.replace_catalogue(catalogue);
    Ok(n)
}

/// Reloads on every SIGHUP until the process ends. Spawn it next to the server.
#[cfg(unix)]
pub async fn on_sighup(gw: Arc<Gateway>) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            log::error!("cannot listen for SIGHUP, reload disabled: {e}");
            return;
        }
    };
    while hup.recv().await.is_some() {
        log::info!("SIGHUP: reloading schemas and mappings");
        let g = gw.clone();
        match tokio::task::spawn_blocking(move || reload(&g)).await {
            Ok(Ok(n)) => log::info!("reload done: {n} services in service"),
            Ok(Err(problems)) => {
                for p in &problems.0 {
                    log::error!("reload refused: {p}");
                }
                log::error!(
                    "reload refused ({} problems); the previous catalogue stays in service",
                    problems.0.len()
                );
            }
            Err(e) => log::error!("reload failed: {e}; the previous catalogue stays in service"),
        }
    }
}

/// The pid file of a running gateway; removed when dropped.
pub struct PidFile(PathBuf);

impl PidFile {
    pub fn create(data_dir: &Path) -> std::io::Result<PidFile> {
        let path = data_dir.join(PID_FILE);
        std::fs::write(&path, format!("{}\n", std::process::id()))?;
        Ok(PidFile(path))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let ours = std::fs::read_to_string(&self.0)
            .map(|s| s.trim() == std::process::id().to_string())
            .unwrap_or(false);
        if ours {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// `lienthong reload`: checks the catalogue first (so the operator sees the problems
/// here, not only in the gateway's log), then signals the running gateway.
pub fn signal_running(common: &Common) -> anyhow::Result<i32> {
    let config = match Config::load(&common.config) {
        Ok(c) => c,
        Err(p) => {
            eprintln!("{p}");
            return Ok(1);
        }
    };
    if let Err(p) = Catalogue::load(&config) {
        eprintln!("{p}");
        eprintln!(
            "not reloading: {} problem(s); the gateway keeps its catalogue",
            p.0.len()
        );
        return Ok(1);
    }
    let pid_path = common.data_dir(&config).join(PID_FILE);
    let pid: i32 = match std::fs::read_to_string(&pid_path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
    {
        Some(p) if p > 0 => p,
        _ => {
            eprintln!(
                "{}",
                Problem::file(
                    &pid_path,
                    "no running gateway (pid file missing or unreadable)"
                )
            );
            return Ok(1);
        }
    };
    signal_hup(pid)?;
    println!("sent SIGHUP to lienthong (pid {pid}); see its log for the outcome");
    Ok(0)
}

#[cfg(unix)]
fn signal_hup(pid: i32) -> anyhow::Result<()> {
    // SAFETY: kill(2) with a positive pid and a valid signal number has no memory effects.
    let rc = unsafe { libc::kill(pid, libc::SIGHUP) };
    if rc != 0 {
        anyhow::bail!(
            "cannot signal pid {pid}: {}",
            std::io::Error::last_os_error()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn signal_hup(_pid: i32) -> anyhow::Result<()> {
    anyhow::bail!("reload by signal needs a Unix system")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_file_holds_our_pid_and_goes_away() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PID_FILE);
        {
            let _pid = PidFile::create(dir.path()).unwrap();
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(text.trim(), std::process::id().to_string());
        }
        assert!(!path.exists());
        // Someone else's pid file is left alone.
        std::fs::write(&path, "1\n").unwrap();
        drop(PidFile(path.clone()));
        assert!(path.exists());
    }
}
