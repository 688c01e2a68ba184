//! `lienthong reload`: checks the catalogue first (so the operator sees the problems here,
//! not only in the gateway's log), then signals the running gateway.

use crate::cli::Common;
use crate::reload::SignalError;

pub fn run(common: &Common) -> anyhow::Result<i32> {
    let paths = common.paths();
    let config = match paths.load_config(None) {
        Ok(c) => c,
        Err(p) => {
            eprintln!("{p}");
            return Ok(1);
        }
    };
    if let Err(p) = crate::app::catalogue(&config) {
        eprintln!("{p}");
        eprintln!(
            "not reloading: {} problem(s); the gateway keeps its catalogue",
            p.0.len()
        );
        return Ok(1);
    }
    match crate::reload::signal_running(&paths.data_dir(&config)) {
        Ok(pid) => {
            println!("sent SIGHUP to lienthong (pid {pid}); see its log for the outcome");
            Ok(0)
        }
        Err(SignalError::NoGateway(p)) => {
            eprintln!("{p}");
            Ok(1)
        }
        Err(e) => Err(e.into()),
    }
}
