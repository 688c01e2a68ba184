//! `lienthong check`: everything start-up would load, checked without serving; each
//! problem printed as `file:line: reason`, exit status 1 if there is any.

use crate::cli::Common;

pub fn run(common: &Common) -> anyhow::Result<i32> {
    let found = match crate::app::check(&common.paths()) {
        Ok(found) => found,
        Err(problems) => {
            eprintln!("{problems}");
            return Ok(1);
        }
    };
    if let Some(data_dir) = &found.no_key_in {
        println!(
            "note: no gateway key yet in {}: run `lienthong pki init` (development) or set [security] key",
            data_dir.display()
        );
    }
    match &found.catalogue {
        Some(cat) if found.problems.is_empty() => {
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
                found.config.agencies.len(),
                cat.services.len(),
                ops
            );
            Ok(0)
        }
        _ => {
            for p in &found.problems {
                eprintln!("{p}");
            }
            eprintln!("{} problem(s) found", found.problems.len());
            Ok(1)
        }
    }
}
