//! `lienthong audit ...`: the auditor's commands.

use clap::Subcommand;

use crate::cli::Common;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List recent exchanges, newest first.
    List {
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

pub fn run(_common: &Common, cmd: AuditCommand) -> anyhow::Result<i32> {
    match cmd {
        AuditCommand::List { limit: _ } => anyhow::bail!("audit list is not built yet"),
    }
}
