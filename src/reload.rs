//! Reload: SIGHUP (or `lienthong reload`, which sends it) rebuilds the catalogue — WSDLs,
//! schemas and mappings, from the configuration file as it is now on disk — and swaps it
//! in atomically. A catalogue that fails any check is refused with every reason logged,
//! and the one in service stays. Exchanges in flight keep the service they started with.
//!
//! Only the catalogue is reloaded: listen address, limits, audit store and keys need a
//! restart (logged when they differ).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::Config;
use crate::problem::{Problem, Problems};
use crate::registry::Gateway;

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
    let catalogue = crate::app::catalogue(&config)?;
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

/// Writes `DATA_DIR/lienthong.pid` (for `lienthong reload`) and reloads schemas and
/// mappings on SIGHUP; the pid file is removed when the returned guard drops.
pub fn watch(data_dir: &Path, gw: &Arc<Gateway>) -> std::io::Result<PidFile> {
    let pid = PidFile::create(data_dir)?;
    #[cfg(unix)]
    tokio::spawn(on_sighup(gw.clone()));
    #[cfg(not(unix))]
    let _ = gw;
    Ok(pid)
}

/// Why the running gateway could not be told to reload.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    /// No pid file, or one that names no process: as `file: reason`.
    #[error("{0}")]
    NoGateway(Problem),
    #[error("cannot signal pid {pid}: {source}")]
    Kill { pid: i32, source: std::io::Error },
    #[error("reload by signal needs a Unix system")]
    Unsupported,
}

/// Sends SIGHUP to the gateway whose pid file is in `data_dir`; returns its pid.
pub fn signal_running(data_dir: &Path) -> Result<i32, SignalError> {
    let pid_path = data_dir.join(PID_FILE);
    match std::fs::read_to_string(&pid_path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
    {
        Some(pid) if pid > 0 => signal_hup(pid).map(|()| pid),
        _ => Err(SignalError::NoGateway(Problem::file(
            &pid_path,
            "no running gateway (pid file missing or unreadable)",
        ))),
    }
}

#[cfg(unix)]
fn signal_hup(pid: i32) -> Result<(), SignalError> {
    // SAFETY: kill(2) with a positive pid and a valid signal number has no memory effects.
    let rc = unsafe { libc::kill(pid, libc::SIGHUP) };
    if rc != 0 {
        return Err(SignalError::Kill {
            pid,
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn signal_hup(_pid: i32) -> Result<(), SignalError> {
    Err(SignalError::Unsupported)
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
