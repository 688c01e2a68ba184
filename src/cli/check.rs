//! `lienthong check`: everything start-up would load, checked without serving; each
//! problem printed as `file:line: reason`, exit status 1 if there is any.

use crate::cli::Common;
use crate::config::Config;
use crate::registry::Catalogue;

pub fn run(common: &Common) -> anyhow::Result<i32> {
    let config = match Config::load(&common.config) {
        Ok(c) => c,
        Err(problems) => {
            eprintln!("{problems}");
            return Ok(1);
        }
    };
    match Catalogue::load(&config) {
        Ok(cat) => {
            // Warnings do not fail the check: the contract loads, but may not dispatch as
            // its author expects.
            for w in cat.services.values().flat_map(|s| &s.contract.warnings) {
                match w.line {
                    Some(l) => eprintln!("{}:{l}: warning: {}", w.file.display(), w.reason),
                    None => eprintln!("{}: warning: {}", w.file.display(), w.reason),
                }
            }
            let ops: usize = cat
                .services
                .values()
                .map(|s| s.contract.operations.len())
                .sum();
            println!(
                "{}: ok ({} agencies, {} services, {} operations)",
                common.config.display(),
                config.agencies.len(),
                cat.services.len(),
                ops
            );
            Ok(0)
        }
        Err(problems) => {
            eprintln!("{problems}");
            eprintln!("{} problem(s) found", problems.0.len());
            Ok(1)
        }
    }
}
